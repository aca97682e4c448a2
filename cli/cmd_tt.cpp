// cli/cmd_tt.cpp: `facto tt`: tensor-train decomposition (TT-SVD) into core_k .npy files.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "cp_run.hpp"
#include "facto/decomp/tt.hpp"
#include "facto/io/npy.hpp"
#include "help.hpp"
#include "lowrank.hpp"

namespace facto::cli {

namespace {

using json = nlohmann::ordered_json;

struct tt_args {
    std::string input;
    std::string out = "facto-tt-out";
    std::string max_ranks;
    double tol = 0;
    int threads = 0;
    read_options read;
};

manual tt_manual() {
    manual m;
    m.synopsis = {"facto tt INPUT (--tol EPS | --max-ranks R | --max-ranks R1,...,R{d-1}) [--threads K] [--out DIR]"};
    m.description =
        "Fits a tensor train (TT, matrix product state) X(i_0, ..., i_{d-1}) ~= G_0[i_0] G_1[i_1] ... "
        "G_{d-1}[i_{d-1}] to the tensor in INPUT by TT-SVD (a left-to-right sweep of truncated SVDs). --tol "
        "EPS chooses the TT ranks so that ||X - TT||_F <= EPS ||X||_F; --max-ranks caps them (one value for "
        "every internal rank, or d - 1 values). At least one is required; with both, a binding cap may make "
        "the error exceed EPS (compare error_bound with EPS in the report). A sparse input is made dense "
        "first.\n"
        "\n"
        "The model is written into DIR (created if needed): core_0.npy ... core_{d-1}.npy, core k of shape "
        "r_k x n_k x r_{k+1} with r_0 = r_d = 1, float64, and report.json (\"model\": \"tt\", parameters, input "
        "summary, TT ranks, relative error measured on the dense tensors, error bound, compression ratio = "
        "entries of X / numbers in the cores (> 1: the model is smaller), timings). Every file is written atomically. `facto reconstruct "
        "DIR OUT` rebuilds the tensor.";
    m.sections = {
        {"Formats", formats_section()},
        {"Examples",
         " facto tt X.npy --tol 1e-3 --out tt\n"
         " facto tt X.npy --max-ranks 4 --out tt4 && facto reconstruct tt4 X4.npy\n"},
        {"Exit status", exit_status_section(false)},
    };
    return m;
}


}  // namespace

command add_tt_command(CLI::App& parent) {
    auto a = std::make_shared<tt_args>();
    CLI::App* app = parent.add_subcommand("tt", "tensor-train decomposition (TT-SVD) of a tensor file");
    app->add_option("INPUT", a->input, "The tensor to decompose: a file in one of the formats below.")
        ->required()
        ->option_text("FILE");
    CLI::Option* tol = app->add_option("-t,--tol", a->tol, "Relative error target EPS > 0.")
                           ->option_text("EPS")
                           ->check(number_at_least(0))
                           ->default_str("");
    CLI::Option* caps = app->add_option("-r,--max-ranks", a->max_ranks,
                                        "Caps on the TT ranks: one value for all, or d - 1 comma-separated values.")
                            ->option_text("R|R1,...")
                            ->default_str("");
    app->add_option("-j,--threads", a->threads,
                    "OpenMP and OpenBLAS threads; 0 keeps the defaults (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, else one per core).")
        ->option_text("K")
        ->check(integer_at_least(0));
    app->add_option("-o,--out", a->out, "Folder for core_k.npy and report.json; created if needed.")
        ->option_text("DIR");
    add_read_options(app, a->read);
    set_manual(app, tt_manual());

    return {app, [a, tol, caps]() -> int {
                const auto t0 = std::chrono::steady_clock::now();
                if (tol->count() == 0 && caps->count() == 0)
                    throw usage_error("--tol or --max-ranks: at least one of them is required");
                if (tol->count() > 0 && !(a->tol > 0))
                    throw usage_error(fmt::format("--tol: expected a number > 0, found {}", a->tol));
                tt_options o;
                o.tol = a->tol;
                if (caps->count() > 0) o.max_ranks = parse_positive_list(a->max_ranks, "--max-ranks");
                o.check_error = false;  // measured below, timed apart
                checked_format(a->input, a->read, "INPUT");
                prepare_out_dir(a->out);
                set_threads(a->threads);

                const loaded_input in = load_input(a->input, a->read);
                const shape_t& shape = in.shape();
                if (o.max_ranks.size() > 1 && o.max_ranks.size() + 1 != shape.size())
                    throw usage_error(fmt::format("--max-ranks: {} values given for the {}-way input of shape {}; "
                                                  "expected 1 or {}",
                                                  o.max_ranks.size(), shape.size(), shape_text(shape),
                                                  shape.size() - 1));
                const json summary = input_summary(in);
                std::fprintf(stderr, "%s: %s %s tensor %s, read in %s\n", in.path.c_str(), in.format.c_str(),
                             in.sparse() ? "sparse" : "dense", shape_text(shape).c_str(),
                             human_seconds(in.read_seconds).c_str());

                if (in.sparse()) check_densify(shape, "TT-SVD needs the dense tensor");
                const tensor dense = in.sparse() ? to_dense(std::get<coo_tensor>(in.tensor)) : tensor();
                const tensor& X = in.sparse() ? dense : std::get<tensor>(in.tensor);
                const auto t1 = std::chrono::steady_clock::now();
                tt_result r = tt_svd(X, o);
                const double tt_seconds = seconds_since(t1);
                const auto t2 = std::chrono::steady_clock::now();
                r.rel_error = r.tt.relative_error(X.view());
                const double check_seconds = seconds_since(t2);

                const std::filesystem::path dir(a->out);
                json files = json::array();
                for (int k = 0; k < r.tt.order(); ++k) {
                    files.push_back(fmt::format("core_{}.npy", k));
                    write_npy<double>((dir / files.back().get<std::string>()).string(), r.tt.core(k).view());
                }
                const double stored = static_cast<double>(r.tt.storage_size());
                double entries = 1;
                for (index_t d : shape) entries *= static_cast<double>(d);
                const std::vector<index_t> ranks = r.tt.ranks();

                json rep;
                rep["facto_version"] = FACTO_VERSION;
                rep["command"] = "tt";
                rep["model"] = "tt";
                rep["date"] = iso_date_utc();
                rep["threads"] = effective_threads(a->threads);
                rep["parameters"] = {{"method", "tt_svd"},
                                     {"tol", a->tol > 0 ? json(a->tol) : json(nullptr)},
                                     {"max_ranks", o.max_ranks.empty() ? json(nullptr) : json(o.max_ranks)}};
                rep["input"] = summary;
                rep["timings"] = {{"read", in.read_seconds}, {"tt_svd", tt_seconds}, {"error_check", check_seconds},
                                  {"total", seconds_since(t0)}};
                rep["result"] = {{"ranks", ranks},
                                 {"rel_error", r.rel_error},
                                 {"error_bound", r.rel_error_bound},
                                 {"tol_met", a->tol > 0 ? json(r.rel_error <= a->tol) : json(nullptr)},
                                 {"stored_numbers", stored},
                                 {"compression_ratio", compression_ratio(entries, stored)}};
                rep["files"] = {{"cores", files}};
                write_report(a->out, rep);

                std::string rank_text;
                for (std::size_t k = 0; k < ranks.size(); ++k) rank_text += (k ? "," : "") + std::to_string(ranks[k]);
                std::printf("TT ranks %s, relative error %.3e (bound %.3e), compression ratio %.4g (entries / stored numbers), %s in all\n",
                            rank_text.c_str(), r.rel_error, r.rel_error_bound, compression_ratio(entries, stored),
                            human_seconds(seconds_since(t0)).c_str());
                std::printf("wrote %s/: core_0.npy ... core_%d.npy, report.json\n", a->out.c_str(), r.tt.order() - 1);
                return exit_ok;
            }};
}

}  // namespace facto::cli
