// cli/cmd_svd.cpp: `facto svd`: truncated SVD (exact or randomized) of a matrix file into U, S, V .npy files.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "cp_run.hpp"
#include "facto/decomp/svd.hpp"
#include "facto/io/npy.hpp"
#include "help.hpp"
#include "lowrank.hpp"

namespace facto::cli {

namespace {

using json = nlohmann::ordered_json;

struct svd_args {
    std::string input;
    std::string out = "facto-svd-out";
    long long rank = 0;
    double tol = 0;
    bool randomized = false;
    long long oversample = 10;
    int power_iters = 2;
    long long krylov_block = 0;
    std::uint64_t seed = 0;
    int threads = 0;
    read_options read;
};

manual svd_manual() {
    manual m;
    m.synopsis = {"facto svd INPUT (--rank K | --tol EPS) [--randomized] [--oversample P] [--power-iters Q]",
                  "          [--krylov-block B] [--seed S] [--threads K] [--out DIR]"};
    m.description =
        "Computes a truncated singular value decomposition A ~= U diag(S) V^T of the matrix in INPUT (a "
        "2-way tensor, dense or sparse, in any supported format). --rank K keeps the K largest singular "
        "triplets; --tol EPS keeps the fewest triplets with ||A - U diag(S) V^T||_F <= EPS ||A||_F. Exactly one "
        "of the two is required.\n"
        "\n"
        "Without --randomized the SVD is exact (LAPACK gesdd); a sparse input is then made dense first. With "
        "--randomized a randomized range finder (Gaussian sketch, --power-iters passes of A A^T) is used and "
        "a sparse input is never made dense; the relative error is then measured from the residual, and the "
        "a-posteriori estimate that chose the rank is reported beside it. With --rank, --krylov-block B keeps "
        "every power iterate (block Krylov): a basis of B (Q + 1) columns, more accurate than the last "
        "iterate alone for the same columns of products with A (B = K/2, Q = 3 beats the default Q = 2 with "
        "about half of them), which helps most on decaying spectra.\n"
        "\n"
        "The model is written into DIR (created if needed): U.npy (m x k), S.npy (k, decreasing) and V.npy "
        "(n x k, NOT transposed: A ~= U @ diag(S) @ V.T), all float64, and report.json (\"model\": \"svd\", "
        "parameters, input summary, rank, relative error, compression ratio = m n / numbers "
        "stored in U, S and V (> 1: the model is smaller), timings). Every file is written atomically. `facto reconstruct DIR OUT` rebuilds the matrix.";
    m.sections = {
        {"Formats", formats_section()},
        {"Examples",
         " facto svd A.npy --rank 10 --out svd10\n"
         " facto svd A.mtx --tol 1e-3 --randomized --seed 1\n"
         " python3 -c \"import numpy as np; d='svd10'; U,S,V=[np.load(f'{d}/{n}.npy') for n in 'USV']; "
         "print((U*S)@V.T)\"\n"},
        {"Exit status", exit_status_section(false)},
    };
    return m;
}

}  // namespace

command add_svd_command(CLI::App& parent) {
    auto a = std::make_shared<svd_args>();
    CLI::App* app = parent.add_subcommand("svd", "truncated SVD (exact or randomized) of a matrix file");
    app->add_option("INPUT", a->input, "The matrix: a 2-way tensor file, dense or sparse.")
        ->required()
        ->option_text("FILE");
    CLI::Option* rank = app->add_option("-r,--rank", a->rank, "Number of singular triplets kept, 1 <= K <= min(m, n).")
                            ->option_text("K")
                            ->check(integer_at_least(1))
                            ->default_str("");
    CLI::Option* tol = app->add_option("-t,--tol", a->tol,
                                       "Relative error target: keep the fewest triplets with "
                                       "||A - U S V^T||_F <= EPS ||A||_F (EPS > 0).")
                           ->option_text("EPS")
                           ->check(number_at_least(0))
                           ->default_str("");
    app->add_flag("--randomized", a->randomized,
                  "Randomized SVD (Halko, Martinsson, Tropp): faster for a small rank, sparse input kept sparse.");
    app->add_option("--oversample", a->oversample, "--randomized with --rank: extra sketch columns.")
        ->option_text("P")
        ->check(integer_at_least(0));
    app->add_option("--power-iters", a->power_iters, "--randomized: passes of A A^T applied to the sketch.")
        ->option_text("Q")
        ->check(integer_at_least(0));
    app->add_option("--krylov-block", a->krylov_block,
                    "--randomized with --rank: block Krylov with B sketch columns, B (Q + 1) >= K; 0: subspace "
                    "iteration with K + P columns.")
        ->option_text("B")
        ->check(integer_at_least(0));
    app->add_option("-s,--seed", a->seed, "--randomized: seed of the Gaussian sketch (same seed, same result).")
        ->option_text("S")
        ->check(integer_at_least(0));
    app->add_option("-j,--threads", a->threads,
                    "OpenMP and OpenBLAS threads; 0 keeps the defaults (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, else one per core).")
        ->option_text("K")
        ->check(integer_at_least(0));
    app->add_option("-o,--out", a->out, "Folder for U.npy, S.npy, V.npy and report.json; created if needed.")
        ->option_text("DIR");
    add_read_options(app, a->read);
    set_manual(app, svd_manual());

    return {app, [a, rank, tol]() -> int {
                const auto t0 = std::chrono::steady_clock::now();
                if (rank->count() > 0 && tol->count() > 0)
                    throw usage_error("--rank and --tol: give one of them, not both");
                if (rank->count() == 0 && tol->count() == 0)
                    throw usage_error("--rank or --tol: one of them is required");
                if (tol->count() > 0 && !(a->tol > 0))
                    throw usage_error(fmt::format("--tol: expected a number > 0, found {}", a->tol));
                if (a->krylov_block > 0 && tol->count() > 0)
                    throw usage_error("--krylov-block: applies with --rank; --tol grows a subspace-iteration basis");
                if (a->krylov_block > 0 && a->krylov_block * (a->power_iters + 1) < a->rank)
                    throw usage_error(fmt::format("--krylov-block: the Krylov basis has B (Q + 1) = {} columns, fewer "
                                                  "than --rank {}; expected B >= {}",
                                                  a->krylov_block * (a->power_iters + 1), a->rank,
                                                  (a->rank + a->power_iters) / (a->power_iters + 1)));
                if (!a->randomized && (a->seed != 0 || a->oversample != 10 || a->power_iters != 2 || a->krylov_block != 0))
                    std::fprintf(stderr, "facto: note: --seed, --oversample, --power-iters and --krylov-block apply to --randomized only\n");
                checked_format(a->input, a->read, "INPUT");
                prepare_out_dir(a->out);
                set_threads(a->threads);

                loaded_input in = load_input(a->input, a->read);  // not const: a dense input is moved into the matrix
                const shape_t& shape = in.shape();
                if (shape.size() != 2)
                    throw usage_error(fmt::format("INPUT: {} is a {}-way tensor of shape {}; expected a matrix (2-way)",
                                                  in.path, shape.size(), shape_text(shape)));
                const index_t m = shape[0], n = shape[1];
                if (a->rank > std::min(m, n))
                    throw usage_error(fmt::format("--rank: {} exceeds min(m, n) = {} for the {} matrix", a->rank,
                                                  std::min(m, n), shape_text(shape)));
                const json summary = input_summary(in);
                std::fprintf(stderr, "%s: %s %s matrix %s, read in %s\n", in.path.c_str(), in.format.c_str(),
                             in.sparse() ? "sparse" : "dense", shape_text(shape).c_str(),
                             human_seconds(in.read_seconds).c_str());

                const auto t1 = std::chrono::steady_clock::now();
                svd_result r;
                if (a->randomized) {
                    svd_randomized_options o;
                    o.rank = static_cast<index_t>(a->rank);
                    o.tol = a->tol;
                    o.oversample = static_cast<index_t>(a->oversample);
                    o.power_iters = a->power_iters;
                    o.krylov_block = static_cast<index_t>(a->krylov_block);
                    o.seed = a->seed;
                    r = in.sparse() ? svd_randomized(std::get<coo_tensor>(in.tensor), o)
                                    : svd_randomized(basic_matrix<double>(m, n, std::move(std::get<tensor>(in.tensor).values())), o);
                } else {
                    svd_options o;
                    o.rank = static_cast<index_t>(a->rank);
                    o.tol = a->tol;
                    if (in.sparse()) check_densify(shape, "use --randomized, which keeps it sparse");
                    tensor dense = in.sparse() ? to_dense(std::get<coo_tensor>(in.tensor)) : tensor();
                    std::vector<double>& values = (in.sparse() ? dense : std::get<tensor>(in.tensor)).values();
                    r = svd_truncated(basic_matrix<double>(m, n, std::move(values)), o);
                }
                const double svd_seconds = seconds_since(t1);

                const std::filesystem::path dir(a->out);
                write_npy((dir / "U.npy").string(), r.U);
                write_npy((dir / "S.npy").string(), r.s);
                write_npy((dir / "V.npy").string(), r.V);
                const double k = static_cast<double>(r.rank);
                const double stored = k * static_cast<double>(m + n + 1);
                const double entries = static_cast<double>(m) * static_cast<double>(n);

                json rep;
                rep["facto_version"] = FACTO_VERSION;
                rep["command"] = "svd";
                rep["model"] = "svd";
                rep["date"] = iso_date_utc();
                rep["threads"] = effective_threads(a->threads);
                rep["parameters"] = {{"method", a->randomized ? "randomized" : "exact"},
                                     {"rank", a->rank > 0 ? json(a->rank) : json(nullptr)},
                                     {"tol", a->tol > 0 ? json(a->tol) : json(nullptr)},
                                     {"oversample", a->randomized ? json(a->oversample) : json(nullptr)},
                                     {"power_iters", a->randomized ? json(a->power_iters) : json(nullptr)},
                                     {"krylov_block", a->randomized ? json(a->krylov_block) : json(nullptr)},
                                     {"seed", a->randomized ? json(a->seed) : json(nullptr)}};
                rep["input"] = summary;
                rep["timings"] = {{"read", in.read_seconds}, {"svd", svd_seconds}, {"total", seconds_since(t0)}};
                rep["result"] = {
                    {"rank", r.rank},
                    {"rel_error", r.rel_error},
                    // Exact SVD: from the discarded singular values; randomized: ||A - U S V^T|| evaluated
                    // (see svd_randomized_options::check_error).
                    {"rel_error_source", a->randomized ? "residual" : "discarded singular values"},
                    {"rel_error_estimate", a->randomized ? json(r.rel_error_estimate) : json(nullptr)},
                    {"tol_met", a->tol > 0 ? json(r.rel_error <= a->tol) : json(nullptr)},
                    {"converged", r.converged},
                    {"stored_numbers", stored},
                    {"compression_ratio", compression_ratio(entries, stored)},
                    {"singular_values", r.s}};
                rep["files"] = {{"U", "U.npy"}, {"S", "S.npy"}, {"V", "V.npy"}};
                write_report(a->out, rep);

                std::printf("rank %lld, relative error %.3e%s, compression ratio %.4g (entries / stored numbers), %s in all\n",
                            static_cast<long long>(r.rank), r.rel_error,
                            a->randomized ? fmt::format(" (estimate {:.3e})", r.rel_error_estimate).c_str() : "",
                            compression_ratio(entries, stored), human_seconds(seconds_since(t0)).c_str());
                std::printf("wrote %s/: U.npy (%lldx%lld), S.npy (%lld), V.npy (%lldx%lld), report.json\n",
                            a->out.c_str(), static_cast<long long>(r.U.rows()), static_cast<long long>(r.U.cols()),
                            static_cast<long long>(r.s.size()), static_cast<long long>(r.V.rows()),
                            static_cast<long long>(r.V.cols()));
                if (a->tol > 0 && !r.converged)
                    std::fprintf(stderr, "facto: warning: the error estimate did not reach --tol %g\n", a->tol);
                return exit_ok;
            }};
}

}  // namespace facto::cli
