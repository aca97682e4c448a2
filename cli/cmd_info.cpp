// cli/cmd_info.cpp: `facto info`: what a tensor file holds and the memory facto needs for it.
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "cp_run.hpp"
#include "help.hpp"

namespace facto::cli {

namespace {

using json = nlohmann::ordered_json;

struct info_args {
    std::string input;
    bool json_output = false;
    read_options read;
};

/// Adds the memory facts: dense values, or for sparse the COO and both CSF policies, and the
/// nonempty slices per mode (the root level of the CSF rooted at that mode).
void add_memory(const loaded_input& in, json& j) {
    if (!in.sparse()) {
        const auto& X = std::get<tensor>(in.tensor);
        j["memory"] = {{"dense_bytes", static_cast<double>(X.size()) * sizeof(double)}};
        return;
    }
    const auto& X = std::get<coo_tensor>(in.tensor);
    const double coo_bytes = static_cast<double>(X.nnz()) * (X.order() * sizeof(index_t) + sizeof(double));
    json slices = json::array();
    double all_bytes = 0;
    {
        const csf_set all = make_csf_set(X, csf_policy::all);
        all_bytes = static_cast<double>(all.bytes());
        std::vector<index_t> per_mode(static_cast<std::size_t>(X.order()), 0);
        for (const auto& csf : all.csfs) per_mode[static_cast<std::size_t>(csf.mode_order[0])] = csf.nodes(0);
        for (int m = 0; m < X.order(); ++m)
            slices.push_back({{"mode", m},
                              {"nonempty", per_mode[static_cast<std::size_t>(m)]},
                              {"size", X.dim(m)}});
    }
    const csf_set one = make_csf_set(X, csf_policy::one);
    j["memory"] = {{"coo_bytes", coo_bytes},
                   {"csf_one_bytes", static_cast<double>(one.bytes())},
                   {"csf_all_bytes", all_bytes},
                   {"csf_one_root_mode", one.csfs.empty() ? json(nullptr) : json(one.csfs.front().mode_order[0])}};
    j["nonempty_slices"] = slices;
}

std::string g(double v) { return fmt::format("{:.6g}", v); }

void print_text(const json& j) {
    auto row = [](const char* key, const std::string& value) { std::printf("%-16s %s\n", key, value.c_str()); };
    std::string file = j["path"].get<std::string>() + " (" + j["format"].get<std::string>();
    if (!j["compression"].is_null()) file += ", " + j["compression"].get<std::string>() + "-compressed";
    row("file", file + ")");
    row("kind", j["kind"].get<std::string>());
    row("order", std::to_string(j["order"].get<int>()));
    row("dimensions", shape_text(j["shape"].get<shape_t>()));
    const double entries = j["entries"].get<double>();
    row("nonzeros", fmt::format("{} of {}", count_text(static_cast<double>(j["nnz"].get<index_t>())),
                                count_text(entries)));
    row("density", fmt::format("{:.4g} ({:.4g}%)", j["density"].get<double>(), 100 * j["density"].get<double>()));
    row("norm", fmt::format("{:.6g} (Frobenius)", j["norm"].get<double>()));
    if (j["min"].is_null())
        row("values", "none stored");
    else
        row("values", fmt::format("min {}, max {}", g(j["min"].get<double>()), g(j["max"].get<double>())));
    const json& mem = j["memory"];
    if (mem.contains("dense_bytes")) {
        row("memory", human_bytes(mem["dense_bytes"].get<double>()) + " as float64");
    } else {
        row("memory", human_bytes(mem["coo_bytes"].get<double>()) + " as COO");
        std::string root = mem["csf_one_root_mode"].is_null()
                               ? std::string()
                               : fmt::format(", rooted at mode {}", mem["csf_one_root_mode"].get<int>());
        row("CSF --csf one", human_bytes(mem["csf_one_bytes"].get<double>()) + " (one tree" + root + ")");
        row("CSF --csf all", human_bytes(mem["csf_all_bytes"].get<double>()) + " (one tree per mode)");
        for (const json& s : j["nonempty_slices"]) {
            const auto n = s["nonempty"].get<index_t>();
            const auto d = s["size"].get<index_t>();
            row(fmt::format("slices mode {}", s["mode"].get<int>()).c_str(),
                fmt::format("{} of {} nonempty ({:.1f}%)", count_text(static_cast<double>(n)),
                            count_text(static_cast<double>(d)), d ? 100.0 * n / d : 0.0));
        }
    }
    row("read in", human_seconds(j["read_seconds"].get<double>()));
}

}  // namespace

command add_info_command(CLI::App& parent) {
    auto a = std::make_shared<info_args>();
    CLI::App* app = parent.add_subcommand("info", "describe a tensor file: shape, nonzeros, norm, memory");
    app->add_option("INPUT", a->input, "The tensor file to describe.")->required()->option_text("FILE");
    app->add_flag("--json", a->json_output, "Print the same facts as one JSON object on stdout.");
    add_read_options(app, a->read);

    manual m;
    m.synopsis = {"facto info INPUT [--json]"};
    m.description =
        "Reads INPUT and prints its format, order, dimensions, number of nonzeros, density, Frobenius "
        "norm and value range (min, max). For a dense tensor it gives the memory of its float64 values; "
        "for a sparse tensor the memory of the COO form and of the CSF trees `facto cp` builds with "
        "--csf one and --csf all, and for each mode how many of its slices hold at least one nonzero.";
    m.sections = {{"Formats", formats_section()},
                  {"Examples", " facto info data.tns.xz\n facto info X.npy --json | python3 -m json.tool\n"},
                  {"Exit status", exit_status_section(false)}};
    set_manual(app, std::move(m));

    return {app, [a]() -> int {
                const loaded_input in = load_input(a->input, a->read);
                json j = input_summary(in);
                add_memory(in, j);
                j["read_seconds"] = in.read_seconds;
                if (a->json_output)
                    std::printf("%s\n", j.dump(2).c_str());
                else
                    print_text(j);
                return exit_ok;
            }};
}

}  // namespace facto::cli
