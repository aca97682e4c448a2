// cli/cmd_convert.cpp: `facto convert`: read a tensor in one format, write it in another.
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "common.hpp"
#include "help.hpp"

namespace facto::cli {

namespace {

struct convert_args {
    std::string input, output;
    read_options read;
};

}  // namespace

command add_convert_command(CLI::App& parent) {
    auto a = std::make_shared<convert_args>();
    CLI::App* app = parent.add_subcommand("convert", "convert a tensor file to another format");
    app->add_option("INPUT", a->input, "The tensor file to read.")->required()->option_text("FILE");
    app->add_option("OUTPUT", a->output,
                    "The file to write; its extension picks the format: .tns, .npy, .mtx (2-way), .csv or .tsv "
                    "(coordinates).")
        ->required()
        ->option_text("FILE");
    add_read_options(app, a->read);

    manual m;
    m.synopsis = {"facto convert INPUT OUTPUT"};
    m.description =
        "Reads INPUT (any supported format, compressed or not) and writes it to OUTPUT in the format its "
        "extension names. A dense tensor written as .tns, .mtx or .csv keeps its nonzeros; a sparse tensor "
        "written as .npy is made dense. The write is atomic: an existing OUTPUT is replaced only once the "
        "new file is complete.";
    m.sections = {{"Formats", formats_section()},
                  {"Examples",
                   " facto convert data.tns.xz data.npy\n"
                   " facto convert matrix.mtx matrix.tns\n"
                   " facto convert table.csv table.npy --dense-csv\n"},
                  {"Exit status", exit_status_section(false)}};
    set_manual(app, std::move(m));

    return {app, [a]() -> int {
                const std::string out_format = checked_format(a->output, {}, "OUTPUT");
                if (out_format == "npz")
                    throw usage_error(fmt::format("OUTPUT: cannot write '{}': expected .tns, .npy, .mtx, .csv or "
                                                  ".tsv (.npz is read only)",
                                                  a->output));
                const loaded_input in = load_input(a->input, a->read);
                write_tensor(a->output, in.tensor);
                std::printf("wrote %s (%s) from %s (%s, %s %s)\n", a->output.c_str(), out_format.c_str(),
                            a->input.c_str(), in.format.c_str(), in.sparse() ? "sparse" : "dense",
                            shape_text(in.shape()).c_str());
                return exit_ok;
            }};
}

}  // namespace facto::cli
