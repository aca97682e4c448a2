// cli/cmd_cp.cpp: `facto cp`: CP decomposition of a tensor file into .npy factors and report.json.
#include <chrono>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "common.hpp"
#include "cp_run.hpp"
#include "help.hpp"
#include "progress.hpp"

namespace facto::cli {

namespace {

struct cp_args {
    std::string input;
    std::string out = "facto-cp-out";
    std::string progress = "auto";
    read_options read;
    cp_settings cp;
};

manual cp_manual() {
    manual m;
    m.synopsis = {"facto cp INPUT --rank R [--method als|hals] [--iters N] [--tol T] [--seed S]",
                  "         [--init random|svd|FILE.npz] [--threads K] [--out DIR] [--csf one|all]"};
    m.description =
        "Fits a CP (CANDECOMP/PARAFAC) model, a sum of R rank-one tensors weights[r] * a0_r o a1_r o ... , "
        "to the tensor in INPUT, dense or sparse, in any supported format. The method is alternating least "
        "squares (als) or, for a nonnegative model, hierarchical ALS (hals). Iterations stop when the change "
        "in fit, 1 - ||X - M|| / ||X||, falls below --tol or after --iters sweeps.\n"
        "\n"
        "The model is written into DIR (created if needed): factor_0.npy ... factor_{N-1}.npy (dim x R, "
        "float64, columns of unit norm), weights.npy (R, sorted decreasing) and report.json (parameters, "
        "input summary, fit, change and seconds per iteration, timings, result, facto version, threads, "
        "date). Every file is written atomically, so a failed or interrupted run never leaves a half-written "
        "file.\n"
        "\n"
        "Ctrl-C stops the run after the current iteration: the model so far and report.json (with "
        "\"interrupted\": true) are still written, and facto exits with status 130.";
    m.sections = {
        {"Formats", formats_section()},
        {"Examples",
         " facto cp data.tns --rank 16\n"
         " facto cp data.tns.xz --rank 16 --iters 50 --tol 1e-8 --threads 2 --out model\n"
         " facto cp spectra.npy --rank 3 --method hals --init svd\n"
         " facto cp X.npy --init start.npz     # rank and initial factors U0, U1, ... from start.npz\n"
         " python3 -c \"import numpy as np; print(np.load('model/factor_0.npy').shape)\"\n"},
        {"Exit status", exit_status_section(true)},
    };
    return m;
}

}  // namespace

command add_cp_command(CLI::App& parent) {
    auto a = std::make_shared<cp_args>();
    CLI::App* app = parent.add_subcommand("cp", "CP decomposition (ALS or nonnegative HALS) of a tensor file");
    app->add_option("INPUT", a->input, "The tensor to decompose: a file in one of the formats below.")
        ->required()
        ->option_text("FILE");
    app->add_option("-r,--rank", a->cp.rank,
                    "Number of components R, at least 1. Required unless --init names a file, which then "
                    "gives the rank.")
        ->option_text("R")
        ->check(integer_at_least(1))
        ->default_str("");
    app->add_option("-m,--method", a->cp.method,
                    "als: alternating least squares (any signs). hals: hierarchical ALS, a nonnegative "
                    "model (every factor entry >= 0).")
        ->option_text("als|hals")
        ->check(one_of({"als", "hals"}));
    app->add_option("-n,--iters", a->cp.max_iters, "Maximum number of iterations (sweeps over all modes).")
        ->option_text("N")
        ->check(integer_at_least(1));
    app->add_option("-t,--tol", a->cp.tol, "Stop when the change in fit between two iterations falls below T.")
        ->option_text("T")
        ->check(number_at_least(0));
    app->add_option("-s,--seed", a->cp.seed,
                    "Seed of the random initialization: the same seed and thread count give the same result.")
        ->option_text("S")
        ->check(integer_at_least(0));
    app->add_option("-i,--init", a->cp.init,
                    "Initial factors. random: uniform [0, 1) entries from --seed. svd: leading singular "
                    "vectors of each unfolding. FILE.npz: factors read from a NumPy archive with members "
                    "U0, U1, ... (or factor_0, factor_1, ...) in mode order, each dim x R, the way runs are "
                    "compared with other tools from the same start.")
        ->option_text("random|svd|FILE.npz");
    app->add_option("-j,--threads", a->cp.threads,
                    "OpenMP threads; 0 keeps the default (OMP_NUM_THREADS, else one per core).")
        ->option_text("K")
        ->check(integer_at_least(0));
    app->add_option("-o,--out", a->out, "Folder for the model files and report.json; created if needed.")
        ->option_text("DIR");
    app->add_option("--csf", a->cp.csf,
                    "Sparse input only: keep one CSF copy of the tensor (less memory) or one per mode "
                    "(faster).")
        ->option_text("one|all")
        ->check(one_of({"one", "all"}));
    app->add_option("--progress", a->progress,
                    "How iterations are shown on stderr: auto (a bar on a terminal, lines otherwise), bar, "
                    "lines, or none.")
        ->option_text("auto|bar|lines|none")
        ->check(one_of({"auto", "bar", "lines", "none"}));
    add_read_options(app, a->read);
    set_manual(app, cp_manual());

    return {app, [a]() -> int {
                const auto t0 = std::chrono::steady_clock::now();
                check_init_argument(a->cp.init);
                if (a->cp.rank == 0 && (a->cp.init == "random" || a->cp.init == "svd"))
                    throw usage_error("--rank: required (or give --init FILE.npz to take the rank from it)");
                a->cp.progress = parse_progress_mode(a->progress);
                checked_format(a->input, a->read, "INPUT");
                prepare_out_dir(a->out);

                const loaded_input in = load_input(a->input, a->read);
                const auto summary = input_summary(in);
                std::fprintf(stderr, "%s: %s %s tensor %s, %s nonzeros, read in %s\n", in.path.c_str(),
                             in.format.c_str(), in.sparse() ? "sparse" : "dense", shape_text(in.shape()).c_str(),
                             count_text(static_cast<double>(summary["nnz"].get<index_t>())).c_str(),
                             human_seconds(in.read_seconds).c_str());

                install_interrupt_handler();
                const cp_run run = run_cp(in, a->cp);
                const auto files = write_model(a->out, run.result.model);
                const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                write_report(a->out, cp_report("cp", a->cp, in, summary, run, total, files));
                std::fputs(result_summary(run, a->out, files).c_str(), stdout);
                return run.result.interrupted ? exit_interrupted : exit_ok;
            }};
}

}  // namespace facto::cli
