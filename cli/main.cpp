// cli/main.cpp: the facto program: parses the command line, runs one subcommand, and maps
// every error to a message on stderr and an exit status (2 usage, 1 failure, 130 Ctrl-C).
#include <cblas.h>
#include <malloc.h>
#include <omp.h>

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common.hpp"
#include "help.hpp"

namespace facto::cli {
command add_fmm_command(CLI::App& parent);  // cli/cmd_fmm.cpp
command add_svd_command(CLI::App& parent);          // cli/cmd_svd.cpp
command add_tucker_command(CLI::App& parent);       // cli/cmd_tucker.cpp
command add_reconstruct_command(CLI::App& parent);  // cli/cmd_reconstruct.cpp
command add_tt_command(CLI::App& parent);           // cli/cmd_tt.cpp
command add_nmf_command(CLI::App& parent);          // cli/cmd_nmf.cpp
command add_recommend_command(CLI::App& parent);    // cli/cmd_recommend.cpp
}

namespace {

using namespace facto::cli;

std::string version_text() {
    return fmt::format("facto {}\nOpenBLAS {}\nOpenMP: {} threads by default (OMP_NUM_THREADS, or --threads)",
                       FACTO_VERSION, openblas_get_config(), omp_get_max_threads());
}

manual root_manual() {
    manual m;
    m.synopsis = {"facto COMMAND [OPTIONS] [ARGUMENTS]", "facto --help | --version"};
    m.description =
        "facto factorizes dense and sparse tensors. It reads the formats data comes in (FROSTT .tns, "
        "NumPy .npy/.npz, MatrixMarket .mtx, CSV/TSV, any of them gzip- or xz-compressed), fits CP "
        "models by alternating least squares (ALS) or nonnegative hierarchical ALS (HALS), and writes "
        "each model as NumPy .npy files with a report.json that records the parameters, the fit per "
        "iteration, timings and the input.\n"
        "\n"
        "Progress goes to stderr (a bar on a terminal, one line per iteration otherwise), results to "
        "stdout.";
    m.sections = {
        {"Formats", formats_section()},
        {"Examples",
         " facto demo                                  # nonnegative CP of handwritten digits\n"
         " facto info data.tns.xz                      # order, shape, nonzeros, norm, memory\n"
         " facto check data.tns                        # every problem in the file, by line\n"
         " facto cp data.tns --rank 16 --out model     # CP-ALS into model/\n"
         " facto cp spectra.npy --rank 3 --method hals # nonnegative CP\n"
         " facto svd A.mtx --rank 10 --out svd10       # truncated SVD of a matrix\n"
         " facto tucker X.npy --tol 1e-2 --out tk      # Tucker model within 1% error\n"
         " facto reconstruct tk Xhat.npy               # full tensor of a model\n"
         " facto convert data.tns data.npy             # change format\n"
         " facto fmm search 3,3,3 --target 23          # a 23-multiplication scheme over GF(2)\n"},
        {"Exit status", exit_status_section(true)},
    };
    return m;
}

constexpr const char* command_list = "cp, svd, tucker, tt, reconstruct, nmf, recommend, info, check, convert, fmm or demo";

/// Prints a command-line error the way every facto error reads, with where to find help.
int usage_failure(const CLI::App& app, const std::string& message) {
    std::string help_for = "facto";
    for (const CLI::App* sub : app.get_subcommands()) help_for += " " + sub->get_name();
    std::fprintf(stderr, "facto: error: %s\nRun '%s --help' for the options.\n", message.c_str(), help_for.c_str());
    return exit_usage;
}

/// CLI11's message, reworded where it does not say what was expected.
std::string parse_error_text(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
    const std::string what = e.what();
    const auto subs = app.get_subcommands();
    if (subs.empty() && argc > 1 && argv[1][0] != '-')
        return fmt::format("unknown command '{}'; expected {}", argv[1], command_list);
    if (subs.empty() && std::string(e.get_name()) == "RequiredError")
        return fmt::format("a command is required: {}", command_list);
    if (std::string(e.get_name()) == "ArgumentMismatch") {
        // "--rank: 1 required INT missing": say which value the option takes instead.
        const std::string name = what.substr(0, what.find(':'));
        const CLI::App* sub = subs.empty() ? &app : subs.back();
        if (const CLI::Option* opt = sub->get_option_no_throw(name))
            return fmt::format("{}: expected a value ({}), found none", name,
                               opt->get_option_text().empty() ? opt->get_type_name() : opt->get_option_text());
    }
    return what;
}

// Freed blocks go back to the system (large ones are mmapped, the heap top is trimmed), so
// every new buffer of an iterative method is page-faulted in again. On virtual machines a
// fault costs ~4 us per 4 KiB page (about 1 GB/s, slower than the arithmetic), which made
// page faults half of a HOOI sweep. Keep freed memory for reuse instead: blocks below 32 MiB
// (the largest threshold glibc accepts) stay in the heap, and the heap is not trimmed.
void keep_freed_memory() {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace

int main(int argc, char** argv) {
    keep_freed_memory();
    CLI::App app("factorize dense and sparse tensors (CP-ALS, nonnegative CP-HALS)", "facto");
    try {
        app.formatter(make_man_formatter());
        app.option_defaults()->always_capture_default();
        app.set_version_flag("--version", version_text(), "Print the version, the BLAS and the thread count, then exit.");
        app.set_help_flag("-h,--help", "Print this page and exit.");
        app.require_subcommand(1);
        set_manual(&app, root_manual());

        std::vector<command> commands = {add_cp_command(app), add_info_command(app), add_check_command(app),
                                         add_convert_command(app), add_demo_command(app), add_fmm_command(app),
                                         add_svd_command(app), add_tucker_command(app),
                                         add_tt_command(app), add_reconstruct_command(app),
                                         add_nmf_command(app), add_recommend_command(app)};
        if (argc < 2)
            return usage_failure(app, fmt::format("a command is required: {}", command_list));
        try {
            app.parse(argc, argv);
        } catch (const CLI::CallForHelp& e) {
            return app.exit(e);
        } catch (const CLI::CallForVersion& e) {
            return app.exit(e);
        } catch (const CLI::ParseError& e) {
            return usage_failure(app, parse_error_text(app, e, argc, argv));
        }
        for (const command& c : commands)
            if (c.app->parsed()) return c.run();
        return usage_failure(app, fmt::format("a command is required: {}", command_list));
    } catch (const usage_error& e) {
        return usage_failure(app, e.what());
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "facto: error: out of memory\n");
        return exit_failure;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "facto: error: %s\n", e.what());
        return exit_failure;
    }
}
