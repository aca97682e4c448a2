// cli/cmd_tucker.cpp: `facto tucker`: Tucker decomposition (HOSVD, ST-HOSVD, HOOI) into core and factor .npy files.
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
#include "facto/decomp/tucker.hpp"
#include "facto/io/npy.hpp"
#include "help.hpp"
#include "lowrank.hpp"
#include "progress.hpp"

namespace facto::cli {

namespace {

using json = nlohmann::ordered_json;

struct tucker_args {
    std::string input;
    std::string out = "facto-tucker-out";
    std::string ranks;
    double tol = 0;
    std::string method = "sthosvd";
    int iters = 50;
    double iter_tol = 1e-10;
    std::uint64_t seed = 0;
    int threads = 0;
    std::string progress = "auto";
    read_options read;
};

manual tucker_manual() {
    manual m;
    m.synopsis = {"facto tucker INPUT (--ranks R1,R2,... | --tol EPS) [--method hosvd|sthosvd|hooi] [--iters N]",
                  "             [--iter-tol T] [--seed S] [--threads K] [--progress auto|bar|lines|none] [--out DIR]"};
    m.description =
        "Fits a Tucker model X ~= core x_0 U_0 x_1 U_1 ... x_{N-1} U_{N-1} (factors with orthonormal columns) "
        "to the tensor in INPUT. --ranks fixes the multilinear ranks, one per mode; --tol EPS chooses them so "
        "that ||X - model||_F <= EPS ||X||_F is guaranteed (the truncation bound is reported as error_bound; "
        "the guarantee rests on singular values resolved to ~1e-7 relative, so EPS below that sits at that "
        "floor). Exactly one of the two is required.\n"
        "\n"
        "Methods: hosvd (every factor from the input's unfoldings), sthosvd (sequentially truncated, faster; "
        "the default), hooi (higher-order orthogonal iteration from the ST-HOSVD start, at most --iters "
        "sweeps; never worse than its start). A sparse input with --method hooi and --ranks runs sparse HOOI, "
        "which never makes the tensor dense (random orthonormal start from --seed); any other sparse run "
        "makes the tensor dense first.\n"
        "\n"
        "HOOI shows each sweep on stderr (a bar on a terminal, lines otherwise; see --progress) with its fit "
        "= 1 - relative error and the change from the previous sweep, and stops once the error improves by "
        "less than --iter-tol (1e-10). Ctrl-C stops it after the current sweep: the model of that sweep and report.json "
        "(with \"interrupted\": true) are still written, and facto exits with status 130.\n"
        "\n"
        "The model is written into DIR (created if needed): core.npy (R_0 x ... x R_{N-1}), factor_0.npy ... "
        "factor_{N-1}.npy (I_n x R_n), float64, and report.json (\"model\": \"tucker\", parameters, input "
        "summary, ranks, relative error, error bound, compression ratio = entries of X / "
        "numbers in core and factors (> 1: the model is smaller), iterations, timings, and for HOOI the relative error and seconds of every sweep under "
        "\"history\"). Every file is written atomically. `facto reconstruct DIR OUT` "
        "rebuilds the tensor.";
    m.sections = {
        {"Formats", formats_section()},
        {"Examples",
         " facto tucker X.npy --ranks 5,5,3 --out tk\n"
         " facto tucker X.npy --tol 1e-2 --method hooi --iters 20\n"
         " facto tucker data.tns --ranks 10,10,10 --method hooi   # sparse HOOI\n"},
        {"Exit status", exit_status_section(false)},
    };
    return m;
}

}  // namespace

command add_tucker_command(CLI::App& parent) {
    auto a = std::make_shared<tucker_args>();
    CLI::App* app = parent.add_subcommand("tucker", "Tucker decomposition (HOSVD, ST-HOSVD, HOOI) of a tensor file");
    app->add_option("INPUT", a->input, "The tensor to decompose: a file in one of the formats below.")
        ->required()
        ->option_text("FILE");
    CLI::Option* ranks = app->add_option("-r,--ranks", a->ranks,
                                         "Multilinear ranks, one per mode, 1 <= R_n <= I_n, comma-separated.")
                             ->option_text("R1,R2,...")
                             ->default_str("");
    CLI::Option* tol = app->add_option("-t,--tol", a->tol,
                                       "Relative error target EPS > 0: ranks chosen so that the error is at most EPS.")
                           ->option_text("EPS")
                           ->check(number_at_least(0))
                           ->default_str("");
    app->add_option("-m,--method", a->method, "hosvd, sthosvd or hooi (see DESCRIPTION).")
        ->option_text("hosvd|sthosvd|hooi")
        ->check(one_of({"hosvd", "sthosvd", "hooi"}));
    app->add_option("-n,--iters", a->iters, "hooi: maximum number of sweeps.")
        ->option_text("N")
        ->check(integer_at_least(1));
    app->add_option("--iter-tol", a->iter_tol,
                    "hooi: stop when a sweep improves the relative error by less than T (a negative T runs all "
                    "--iters sweeps).")
        ->option_text("T");
    app->add_option("-s,--seed", a->seed, "Sparse hooi: seed of the random orthonormal start.")
        ->option_text("S")
        ->check(integer_at_least(0));
    app->add_option("-j,--threads", a->threads,
                    "OpenMP and OpenBLAS threads; 0 keeps the defaults (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, else one per core).")
        ->option_text("K")
        ->check(integer_at_least(0));
    app->add_option("-o,--out", a->out, "Folder for core.npy, factor_k.npy and report.json; created if needed.")
        ->option_text("DIR");
    app->add_option("--progress", a->progress,
                    "How HOOI sweeps are shown on stderr: auto (a bar on a terminal, lines otherwise), bar, "
                    "lines, or none.")
        ->option_text("auto|bar|lines|none")
        ->check(one_of({"auto", "bar", "lines", "none"}));
    add_read_options(app, a->read);
    set_manual(app, tucker_manual());

    return {app, [a, ranks, tol]() -> int {
                const auto t0 = std::chrono::steady_clock::now();
                if (ranks->count() > 0 && tol->count() > 0)
                    throw usage_error("--ranks and --tol: give one of them, not both");
                if (ranks->count() == 0 && tol->count() == 0)
                    throw usage_error("--ranks or --tol: one of them is required");
                if (tol->count() > 0 && !(a->tol > 0))
                    throw usage_error(fmt::format("--tol: expected a number > 0, found {}", a->tol));
                tucker_options o;
                if (ranks->count() > 0) o.ranks = parse_positive_list(a->ranks, "--ranks");
                o.tol = a->tol;
                o.max_iters = a->iters;
                o.iter_tol = a->iter_tol;
                o.seed = a->seed;
                checked_format(a->input, a->read, "INPUT");
                prepare_out_dir(a->out);
                set_threads(a->threads);

                const loaded_input in = load_input(a->input, a->read);
                const shape_t& shape = in.shape();
                if (!o.ranks.empty() && o.ranks.size() != shape.size())
                    throw usage_error(fmt::format("--ranks: {} ranks given for the {}-way input of shape {}; expected {}",
                                                  o.ranks.size(), shape.size(), shape_text(shape), shape.size()));
                for (std::size_t n = 0; n < o.ranks.size(); ++n)
                    if (o.ranks[n] > shape[n])
                        throw usage_error(fmt::format("--ranks: rank {} of mode {} exceeds its size {} (shape {})",
                                                      o.ranks[n], n, shape[n], shape_text(shape)));
                const json summary = input_summary(in);
                std::fprintf(stderr, "%s: %s %s tensor %s, read in %s\n", in.path.c_str(), in.format.c_str(),
                             in.sparse() ? "sparse" : "dense", shape_text(shape).c_str(),
                             human_seconds(in.read_seconds).c_str());

                const bool sparse_hooi = in.sparse() && a->method == "hooi" && !o.ranks.empty();
                // HOOI sweeps go through the progress display that facto cp uses: "fit" is
                // 1 - relative error there as here, and Ctrl-C stops after the current sweep.
                const bool hooi = a->method == "hooi";
                progress_display show(o.max_iters, parse_progress_mode(a->progress));
                json history = json::array();
                if (hooi) {
                    install_interrupt_handler();
                    o.on_iteration = [&show, &history](const tucker_iteration& it) {
                        history.push_back({{"iter", it.iter},
                                           {"rel_error", it.rel_error},
                                           {"change", it.change},
                                           {"seconds", it.seconds}});
                        return show(cp_iteration{it.iter, 1 - it.rel_error, it.change, it.seconds});
                    };
                }
                o.check_error = false;  // measured below, timed apart
                double check_seconds = 0;
                tucker_result r;
                if (sparse_hooi) {
                    r = tucker_hooi(std::get<coo_tensor>(in.tensor), o);
                } else {
                    if (in.sparse()) check_densify(shape, "use --method hooi --ranks R1,R2,... (sparse HOOI)");
                    const tensor dense = in.sparse() ? to_dense(std::get<coo_tensor>(in.tensor)) : tensor();
                    const tensor_view X = (in.sparse() ? dense : std::get<tensor>(in.tensor)).view();
                    r = a->method == "hosvd"   ? tucker_hosvd(X, o)
                        : a->method == "hooi" ? tucker_hooi(X, o)
                                              : tucker_sthosvd(X, o);
                    const auto t2 = std::chrono::steady_clock::now();
                    r.rel_error = r.model.relative_error(X);
                    check_seconds = seconds_since(t2);
                }
                if (hooi) {
                    cp_result shown;  // what the display's closing line reads
                    shown.iters = r.iters;
                    shown.converged = r.converged;
                    shown.interrupted = r.interrupted;
                    show.finish(shown, o.iter_tol);
                }

                const std::filesystem::path dir(a->out);
                write_npy<double>((dir / "core.npy").string(), r.model.core.view());
                json factors = json::array();
                double stored = static_cast<double>(r.model.core.size());
                for (int n = 0; n < r.model.order(); ++n) {
                    const auto& U = r.model.factors[static_cast<std::size_t>(n)];
                    factors.push_back(fmt::format("factor_{}.npy", n));
                    write_npy((dir / factors.back().get<std::string>()).string(), U);
                    stored += static_cast<double>(U.size());
                }
                double entries = 1;
                for (index_t d : shape) entries *= static_cast<double>(d);
                const shape_t model_ranks = r.model.ranks();

                json rep;
                rep["facto_version"] = FACTO_VERSION;
                rep["command"] = "tucker";
                rep["model"] = "tucker";
                rep["date"] = iso_date_utc();
                rep["threads"] = effective_threads(a->threads);
                rep["parameters"] = {{"method", a->method},
                                     {"sparse", sparse_hooi},
                                     {"ranks", o.ranks.empty() ? json(nullptr) : json(o.ranks)},
                                     {"tol", a->tol > 0 ? json(a->tol) : json(nullptr)},
                                     {"max_iters", a->iters},
                                     {"iter_tol", a->iter_tol},
                                     {"seed", a->seed}};
                rep["input"] = summary;
                double sweep_seconds = 0;
                for (const auto& h : history) sweep_seconds += h["seconds"].get<double>();
                rep["timings"] = {{"read", in.read_seconds},
                                  {"setup", r.setup_seconds},
                                  {"iterations", hooi ? json(sweep_seconds) : json(nullptr)},
                                  {"decomposition", r.seconds},
                                  {"error_check", sparse_hooi ? json(nullptr) : json(check_seconds)},
                                  {"total", seconds_since(t0)}};
                rep["history"] = hooi ? history : json(nullptr);
                rep["result"] = {{"ranks", model_ranks},
                                 {"rel_error", r.rel_error},
                                 {"rel_error_estimate", r.rel_error_estimate},
                                 {"error_bound", sparse_hooi ? json(nullptr) : json(r.error_bound)},
                                 {"tol_met", a->tol > 0 ? json(r.rel_error <= a->tol) : json(nullptr)},
                                 {"iters", r.iters},
                                 {"converged", r.converged},
                                 {"interrupted", r.interrupted},
                                 {"stored_numbers", stored},
                                 {"compression_ratio", compression_ratio(entries, stored)}};
                rep["files"] = {{"core", "core.npy"}, {"factors", factors}};
                write_report(a->out, rep);

                std::printf("ranks %s, relative error %.3e (bound %s), compression ratio %.4g (entries / stored numbers), %s in all\n",
                            shape_text(model_ranks).c_str(), r.rel_error,
                            sparse_hooi ? "n/a for sparse hooi" : fmt::format("{:.3e}", r.error_bound).c_str(),
                            compression_ratio(entries, stored), human_seconds(seconds_since(t0)).c_str());
                std::printf("wrote %s/: core.npy, factor_0.npy ... factor_%d.npy, report.json\n", a->out.c_str(),
                            r.model.order() - 1);
                return r.interrupted ? exit_interrupted : exit_ok;
            }};
}

}  // namespace facto::cli
