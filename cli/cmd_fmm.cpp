// cli/cmd_fmm.cpp: `facto fmm search` (flip-graph search for low-rank matrix multiplication
// schemes over GF(2)) and `facto fmm verify`.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "common.hpp"
#include "facto/fmm/flip_graph.hpp"
#include "help.hpp"
#include "progress.hpp"

namespace facto::cli {

command add_fmm_lift_command(CLI::App& fmm);                 // cli/cmd_fmm_lift.cpp: lift
int run_fmm_verify(const std::string& file, bool c_ik);       // cli/cmd_fmm_lift.cpp: GF(2), Z or Q
std::vector<command> add_fmm_kernel_commands(CLI::App& fmm);  // cli/cmd_fmm_kernels.cpp: codegen, bench

namespace {

struct fmm_search_args {
    std::string format_text, field = "gf2", start = "standard", from, out, out_npy, keep_all, product,
        strategy = "levels";
    int target = 0, threads = 0;
    double time_limit = 0;
    std::uint64_t seed = 1, path_limit = 300000, max_flips = 0, plus_after = 0;
    int pool = 20, plateau = 20, restart = 20;
    fmm::search_options opts;  // the hover settings bind here directly, with the library's defaults
    double bottom_effort = 0;
    bool c_ik = false, quiet = false, linear = false;
};

struct fmm_verify_args {
    std::string file;
    bool c_ik = false;
};

// " 48:1 49:3 50:10" for the lowest `ranks` ranks that ended runs (all: 0), and the total.
std::pair<std::string, std::uint64_t> runs_text(const std::vector<std::uint64_t>& run_lowest, std::size_t ranks) {
    std::string text;
    std::uint64_t total = 0;
    std::size_t shown = 0;
    for (std::size_t k = 0; k < run_lowest.size(); ++k) {
        if (!run_lowest[k]) continue;
        if (ranks == 0 || shown++ < ranks) text += fmt::format(" {}:{}", k, run_lowest[k]);
        total += run_lowest[k];
    }
    return {text, total};
}

std::array<int, 3> parse_format(const std::string& text) {
    std::array<int, 3> d{};
    char c1 = 0, c2 = 0;
    int used = 0;
    if (std::sscanf(text.c_str(), "%d%c%d%c%d%n", &d[0], &c1, &d[1], &c2, &d[2], &used) != 5 ||
        used != static_cast<int>(text.size()) || (c1 != ',' && c1 != 'x') || c2 != c1)
        throw usage_error(fmt::format("FORMAT: expected N,M,P (such as 3,3,3), found '{}'", text));
    try {
        fmm::check_format(d[0], d[1], d[2]);
    } catch (const facto::invalid_argument& e) {
        throw usage_error(fmt::format("FORMAT '{}': {}", text, e.what()));
    }
    return d;
}

std::string scheme_name(const fmm::scheme& s) {
    if (s.product == fmm::product_kind::general) return fmt::format("<{},{},{}>", s.n, s.m, s.p);
    return fmt::format("<{},{},{}> {}", s.n, s.m, s.p, fmm::product_name(s.product));
}

int run_search(const fmm_search_args& a) {
    const auto d = parse_format(a.format_text);
    const fmm::product_kind kind = a.product.empty() ? fmm::product_kind::general : fmm::parse_product(a.product);
    try {
        fmm::check_format(d[0], d[1], d[2], kind);
    } catch (const facto::invalid_argument& e) {
        throw usage_error(fmt::format("FORMAT '{}' with --product {}: {}", a.format_text, a.product, e.what()));
    }
    if (kind != fmm::product_kind::general && !a.out_npy.empty())
        throw usage_error(fmt::format("--out-npy: the .npy folder format holds general products only, not --product {}; "
                                      "use --out (text)",
                                      a.product));
    fmm::scheme start;
    if (a.from.empty() && a.start == "strassen") {
        if (kind != fmm::product_kind::general)
            throw usage_error(fmt::format("--start strassen: a general product, not --product {}", a.product));
        // Kronecker powers of Strassen's scheme: <2^k,2^k,2^k> in 7^k.
        if (d[0] != d[1] || d[1] != d[2] || (d[0] != 2 && d[0] != 4 && d[0] != 8))
            throw usage_error(fmt::format("--start strassen: format {} is not <2,2,2>, <4,4,4> or <8,8,8>", a.format_text));
        start = fmm::strassen_scheme();
        while (start.n < d[0]) start = fmm::product_scheme(start, fmm::strassen_scheme());
    } else if (a.from.empty()) {
        start = fmm::standard_scheme(d[0], d[1], d[2], kind);
    } else {
        start = fmm::read_scheme(a.from, a.c_ik);
        if (!a.product.empty() && start.product != kind)
            throw usage_error(fmt::format("--from: '{}' holds a scheme of the product {}, not --product {}", a.from,
                                          fmm::product_name(start.product), a.product));
        if (start.n != d[0] || start.m != d[1] || start.p != d[2])
            throw usage_error(fmt::format("--from: '{}' holds a {} scheme, expected <{},{},{}> as FORMAT says", a.from,
                                          scheme_name(start), d[0], d[1], d[2]));
    }
    fmm::search_options o = a.opts;
    o.target_rank = a.target;
    o.threads = effective_threads(a.threads);
    o.seed = a.seed;
    o.time_limit = a.time_limit;
    o.max_flips = a.max_flips;
    o.path_limit = a.path_limit;
    o.pool_size = a.pool;
    o.plateau_walks = a.plateau;
    o.plus_after = a.plus_after;
    o.restart_walks = a.restart;
    o.bottom_effort = a.bottom_effort;
    o.strategy = a.strategy == "levels" ? fmm::search_strategy::levels
                 : a.strategy == "hover" ? fmm::search_strategy::hover
                                         : fmm::search_strategy::runs;
    o.linear_reductions = a.linear;
    install_interrupt_handler();
    o.stop = [] { return interrupt_requested(); };
    if (!a.quiet)
        o.progress = [](const fmm::search_progress& p) {
            // The periodic line also says how deep the runs so far got (the three lowest ranks).
            const auto [runs, total] = runs_text(p.run_lowest, 3);
            std::fprintf(stderr, "%s rank %d (from %d)  %s flips  %.2f Mflips/s  %s%s\n", p.improved ? "best" : "    ",
                         p.best_rank, p.start_rank, count_text(static_cast<double>(p.flips)).c_str(),
                         p.flips_per_second / 1e6, human_seconds(p.seconds).c_str(),
                         total ? fmt::format("  runs so far {}, by lowest rank{}", total, runs).c_str() : "");
        };
    if (!a.quiet)
        std::fprintf(stderr, "searching %s from rank %d over GF(2) with %d thread%s, seed %llu%s\n",
                     scheme_name(start).c_str(), start.rank(), o.threads, o.threads == 1 ? "" : "s",
                     static_cast<unsigned long long>(a.seed),
                     a.target ? fmt::format(", target rank {}", a.target).c_str() : "");
    const fmm::search_result r = fmm::search(start, o);
    if (!a.quiet) {
        // Where runs from the start scheme ended: how often a run gets how far.
        const auto [runs, total] = runs_text(r.run_lowest, 0);
        if (total) std::fprintf(stderr, "runs by lowest rank (rank:runs):%s; %llu runs\n", runs.c_str(),
                                static_cast<unsigned long long>(total));
    }

    if (!a.out.empty()) fmm::write_scheme_text(a.out, r.best);
    if (!a.out_npy.empty()) fmm::write_scheme_npy(a.out_npy, r.best);
    if (!a.keep_all.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(a.keep_all, ec);
        if (ec) throw io_error(fmt::format("--keep-all: cannot create folder '{}': {}", a.keep_all, ec.message()));
        for (std::size_t i = 0; i < r.best_pool.size(); ++i)
            fmm::write_scheme_text(fmt::format("{}/rank{}_{:04d}.txt", a.keep_all, r.best.rank(), i + 1),
                                   r.best_pool[i]);
    }
    const char* how = r.reached_target ? "target reached"
                      : r.stopped      ? "interrupted"
                      : r.timed_out    ? "time limit"
                                       : "flip limit";
    std::printf("%s: rank %d (from %d) after %s flips in %s (%.2f Mflips/s), %zu scheme%s at that rank%s%s\n",
                scheme_name(r.best).c_str(), r.best.rank(), r.start_rank, count_text(static_cast<double>(r.flips)).c_str(),
                human_seconds(r.seconds).c_str(), r.seconds > 0 ? r.flips / r.seconds / 1e6 : 0.0, r.best_pool.size(),
                r.best_pool.size() == 1 ? "" : "s", a.target ? fmt::format(", {}", how).c_str() : "",
                a.out.empty() ? "" : fmt::format("; wrote {}", a.out).c_str());
    if (a.out.empty() && a.out_npy.empty() && a.keep_all.empty()) std::fputs(fmm::to_text(r.best).c_str(), stdout);
    return r.stopped ? exit_interrupted : exit_ok;
}

int run_verify(const fmm_verify_args& a) { return run_fmm_verify(a.file, a.c_ik); }

}  // namespace

command add_fmm_command(CLI::App& parent) {
    auto sa = std::make_shared<fmm_search_args>();
    auto va = std::make_shared<fmm_verify_args>();
    CLI::App* app = parent.add_subcommand("fmm", "fast matrix multiplication schemes by flip-graph search");
    app->require_subcommand(1);

    CLI::App* search = app->add_subcommand("search", "search for a low-rank scheme over GF(2)");
    search->add_option("FORMAT", sa->format_text, "The product: N,M,P multiplies N x M by M x P matrices.")
        ->required()
        ->option_text("N,M,P");
    search->add_option("--field", sa->field, "The field: gf2 (the only one so far).")->check(one_of({"gf2"}));
    search->add_option("-r,--target", sa->target, "Stop once a scheme of rank R is found (0: no target).")
        ->option_text("R")
        ->check(integer_at_least(0));
    search->add_option("--from", sa->from,
                       "Start from this scheme (text file or folder of U/V/W.npy) instead of the standard "
                       "algorithm; it is verified first.")
        ->option_text("FILE");
    search->add_option("--start", sa->start,
                       "Without --from, start from the standard algorithm or from Strassen's scheme and its "
                       "Kronecker powers (<4,4,4> in 49, <8,8,8> in 343).")
        ->check(one_of({"standard", "strassen"}));
    search->add_flag("--c-ik", sa->c_ik, "The --from file's W holds c_ik rather than c_ki (see FORMATS).");
    search->add_option("--product", sa->product,
                       "A structured product (see STRUCTURED PRODUCTS): aat (C = A A^T, lower triangle; P = N), "
                       "triu (A upper triangular; M = N), sym (A symmetric; M = N), or general (default; with "
                       "--from, the file's product).")
        ->option_text("KIND")
        ->check(one_of({"general", "aat", "triu", "sym"}));
    search->add_flag("--linear", sa->linear,
                     "Also linear-dependence reductions (a term whose factor is a sum of those of terms sharing "
                     "another factor with it goes); off by default, slower to targets in our measurements.");
    search->add_option("-j,--threads", sa->threads,
                       "Independent walkers with seeds S, S+1, ...; 0: OMP_NUM_THREADS or every core.")
        ->option_text("K")
        ->check(integer_at_least(0));
    search->add_option("-T,--time-limit", sa->time_limit, "Stop after S seconds (0: no limit).")
        ->option_text("S")
        ->check(number_at_least(0));
    search->add_option("-s,--seed", sa->seed, "Seed of the first walker.")->option_text("S");
    search->add_option("--max-flips", sa->max_flips, "Stop after F flips per thread (0: no limit).")->option_text("F");
    search->add_option("--path-limit", sa->path_limit, "Flips without a reduction before a walk restarts.")
        ->option_text("L")
        ->check(integer_at_least(1));
    search->add_option("--pool", sa->pool, "Schemes kept per rank (levels) or at the best rank (runs), per thread.")
        ->option_text("P")
        ->check(integer_at_least(1));
    search->add_option("--plateau", sa->plateau, "Failed walks in a row before walks start with a plus-transition.")
        ->option_text("W")
        ->check(integer_at_least(0));
    search->add_option("-o,--out", sa->out, "Write the best scheme here (text format); default: stdout.")
        ->option_text("FILE");
    search->add_option("--out-npy", sa->out_npy, "Also write the best scheme as FOLDER/U.npy, V.npy, W.npy.")
        ->option_text("FOLDER");
    search->add_option("--keep-all", sa->keep_all, "Write every distinct scheme found at the best rank into FOLDER.")
        ->option_text("FOLDER");
    search->add_option("--plus-after", sa->plus_after,
                       "Within a walk at the best rank, a plus-transition after F flips without a rank change "
                       "(0: never).")
        ->option_text("F");
    search->add_option("--restart", sa->restart,
                       "After W failed walks in a row: levels: go on from the next non-empty pool below, or "
                       "start over from the start scheme when there is none; runs: start a new run from the "
                       "start scheme, keeping the best schemes (use 2 with runs). 0: never.")
        ->option_text("W")
        ->check(integer_at_least(0));
    search->add_option("--bottom-effort", sa->bottom_effort,
                       "levels: when walks keep failing at a run's lowest rank with nothing below, go on there "
                       "until the flips spent at that rank are X times those the run took to reach it, before "
                       "starting over (0: start over after --restart failed walks).")
        ->option_text("X")
        ->check(number_at_least(0));
    search->add_option("--strategy", sa->strategy,
                       "levels: a pool of schemes per rank, filled by walks from the pool above that stop at "
                       "their first reduction (--pool schemes per rank; the search moves down when the pool "
                       "below is full or after --restart failed walks); runs: independent runs from the start "
                       "scheme, each following every reduction it finds (faster only on the smallest formats); "
                       "hover: one long walk per run that takes a plus-transition after --plus-min to --plus-max "
                       "flips without a reduction while within --plus-band of its lowest rank.")
        ->option_text("KIND")
        ->check(CLI::IsMember({"runs", "levels", "hover"}))
        ->default_str("levels");
    search->add_option("--plus-min", sa->opts.plus_min, "hover: fewest flips without a reduction before a plus-transition.")
        ->option_text("F")
        ->check(integer_at_least(1));
    search->add_option("--plus-max", sa->opts.plus_max, "hover: most flips without a reduction before a plus-transition.")
        ->option_text("F")
        ->check(integer_at_least(1));
    search->add_option("--plus-band", sa->opts.plus_band,
                       "hover: plus-transitions only while the rank is below the run's lowest + B.")
        ->option_text("B")
        ->check(integer_at_least(1));
    search->add_option("--reset-after", sa->opts.reset_after,
                       "hover: after F flips without a new lowest rank, start a new run from one of the "
                       "thread's best schemes (0: never).")
        ->option_text("F");
    search->add_flag("-q,--quiet", sa->quiet, "No progress lines on stderr.");

    CLI::App* verify = app->add_subcommand("verify", "check a scheme exactly (Brent equations over GF(2), Z or Q)");
    verify->add_option("FILE", va->file, "A scheme: text file or folder with U.npy, V.npy, W.npy.")->required();
    verify->add_flag("--c-ik", va->c_ik, "The file's W holds c_ik rather than c_ki.");

    const std::string formats =
        "A scheme for N,M,P has R terms u (x) v (x) w with sum u (x) v (x) w = sum_{i,j,k} a_ij (x) b_jk (x) "
        "c_ki over GF(2): u is an N x M mask over A, v an M x P mask over B, w a P x N mask over C transposed "
        "(c_ki; --c-ik, or a 'convention cik' line, reads N x P masks over C). Text: a line 'fmm N M P', "
        "optional lines 'field gf2', 'convention cki|cik' and 'rank R', then one term per line as three 0/1 "
        "strings in row-major order; '#' starts a comment. NumPy: a folder with U.npy (R x N x M), V.npy "
        "(R x M x P) and W.npy (R x P x N); integer entries are read mod 2. Every scheme read is verified. "
        "A line 'product aat|triu|sym' marks a structured product (text format only). See docs/fmm.md.";
    const std::string structured =
        "--product searches schemes for the tensor of a structured product, whose inputs are the independent "
        "entries: aat: C = A A^T with A N x M (FORMAT N,M,N); v masks are over A too (bit k*M+j is a_kj = b_jk) and "
        "only the lower triangle of C is computed (w bits k*N+i with i >= k). The standard algorithm has "
        "N(N+1)/2 M products. triu: A upper triangular (FORMAT N,N,P), u masks only over a_ij with i <= j; "
        "N(N+1)/2 P products. sym: A symmetric, given by a_ij with i <= j (FORMAT N,N,P); N N P products. "
        "Schemes are exact as tensors (valid for matrices of blocks too, where products do not commute).";
    manual m;
    m.synopsis = {"facto fmm search N,M,P [--product aat|triu|sym] [--target R] [--from FILE] [--threads K] "
                  "[--time-limit S] [--seed S] [--out FILE]",
                  "facto fmm verify FILE",
                  "facto fmm lift FILE [-o OUT]",
                  "facto fmm codegen FILE --levels L [-o OUT.cpp]",
                  "facto fmm bench FILE [--levels 1,2] [--sizes 1024,2048]"};
    m.description =
        "Searches for matrix multiplication schemes of low rank by random walks on the flip graph over GF(2) "
        "(Kauers and Moosbauer): flips keep the rank, reductions lower it, plus-transitions raise it by one to "
        "leave a plateau. Each thread makes runs from the start scheme, keeping a pool of schemes at its best "
        "rank, or (--strategy levels) keeps a pool for every rank and fills each from the one above. Progress goes to stderr; the best scheme to --out or stdout. Ctrl-C stops the search and still "
        "writes the best scheme (exit status 130). 'lift' turns a GF(2) scheme into one over the integers "
        "(Hensel lifting, then signs in {-1,0,1} where possible), 'verify' checks any scheme exactly, "
        "'codegen' writes C++ for its recursive multiplication and 'bench' times that against BLAS.";
    m.sections = {{"Formats", formats},
                  {"Structured products", structured},
                  {"Examples",
                   " facto fmm search 2,2,2 --target 7              # Strassen's rank\n"
                   " facto fmm search 3,3,3 --target 23 -o s333.txt\n"
                   " facto fmm search 4,4,4 --target 49 --threads 2 --time-limit 600 -o s444.txt\n"
                   " facto fmm search 4,4,4 --start strassen --target 47  # below Strassen squared\n"
                   " facto fmm search 3,4,5 --target 48 -j2           # a minute or two\n"
                   " facto fmm search 3,2,3 --product aat --target 11  # lower triangle of A A^T, A 3x2\n"
                   " facto fmm verify s333.txt\n"
                   " facto fmm lift s333.txt -o s333z.txt           # integer coefficients, verified\n"
                   " facto fmm codegen s333z.txt --levels 2 -o mm333.cpp\n"
                   " facto fmm bench s333z.txt --sizes 2048,4096\n"},
                  {"Exit status", exit_status_section(true)}};
    set_manual(app, m);
    manual ms = m;
    ms.synopsis = {m.synopsis[0]};
    set_manual(search, ms);
    manual mv;
    mv.synopsis = {m.synopsis[1]};
    mv.description =
        "Reads a scheme and checks every Brent equation exactly: over GF(2) for a GF(2) file, over Q (in "
        "overflow-checked 64-bit rationals) for a 'field Z' or 'field Q' file (see `facto fmm lift --help`) and "
        "for a .npy folder whose entries verify there (otherwise its image mod 2 is checked over GF(2)); it "
        "says which. Exit status 0 when it is a valid scheme, 1 (with the first failing equation) when it is "
        "not or the file cannot be read.";
    mv.sections = {{"Formats", formats}, {"Exit status", exit_status_section(false)}};
    set_manual(verify, mv);

    std::vector<command> more = add_fmm_kernel_commands(*app);
    more.push_back(add_fmm_lift_command(*app));
    return {app, [sa, va, search, verify, more]() -> int {
                if (search->parsed()) return run_search(*sa);
                if (verify->parsed()) return run_verify(*va);
                for (const command& c : more)
                    if (c.app->parsed()) return c.run();
                throw usage_error("fmm: a subcommand is required: search, verify, lift, codegen or bench");
            }};
}

}  // namespace facto::cli
