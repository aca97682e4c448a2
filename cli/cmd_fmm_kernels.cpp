// cli/cmd_fmm_kernels.cpp: `facto fmm codegen` (C++ source of a scheme's recursive
// multiplication) and `facto fmm bench` (the library's executor against BLAS gemm).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <random>

#include <fmt/format.h>

#include "common.hpp"
#include "facto/fmm/kernels.hpp"
#include "facto/fmm/lift.hpp"
#include "facto/io/file.hpp"
#include "help.hpp"
#include "progress.hpp"

namespace facto::cli {

namespace {

std::string format_name(const fmm::exact_scheme& s) { return fmt::format("<{},{},{}>", s.n, s.m, s.p); }

// A scheme over Z or Q from any scheme file; a GF(2) scheme is lifted first (as `facto fmm
// lift` would), and it is an error when it does not lift.
fmm::exact_scheme load_exact(const std::string& file, bool c_ik, bool quiet) {
    const fmm::scheme_field field = fmm::read_scheme_field(file);
    if (field != fmm::scheme_field::gf2) {
        try {
            return fmm::read_exact_scheme(file, c_ik);
        } catch (const facto::invalid_argument&) {
            if (!std::filesystem::is_directory(file)) throw;
            // A folder of integers that is only a GF(2) scheme: lift its image below.
        }
    }
    const fmm::scheme s = fmm::read_scheme(file, c_ik);
    const fmm::lift_result r = fmm::lift(s);
    if (!r.lifted)
        throw facto::invalid_argument(fmt::format(
            "{}: the GF(2) scheme {} of rank {} did not lift to Z or Q ({}); kernels need a scheme over Z or Q: "
            "run `facto fmm lift {}` for the details and its options",
            file, fmt::format("<{},{},{}>", s.n, s.m, s.p), s.rank(),
            r.messages.empty() ? "no method succeeded" : r.messages.back(), file));
    if (!quiet)
        std::fprintf(stderr, "%s: GF(2) scheme lifted to %s (%s) in %s\n", file.c_str(), r.integral ? "Z" : "Q",
                     r.method.c_str(), human_seconds(r.seconds).c_str());
    return r.lifted_scheme;
}

struct codegen_args {
    std::string file, out, name = "fmm", type = "both";
    int levels = 1;
    bool c_ik = false, no_cse = false, quiet = false;
};

int run_codegen(const codegen_args& a) {
    const fmm::exact_scheme s = load_exact(a.file, a.c_ik, a.quiet);
    fmm::codegen_options o;
    o.levels = a.levels;
    o.name = a.name;
    o.double_type = a.type != "float";
    o.float_type = a.type != "double";
    o.eliminate_common = !a.no_cse;
    fmm::codegen_stats st;
    std::string src;
    try {
        src = fmm::generate_cpp(s, o, &st);
    } catch (const facto::invalid_argument& e) {
        throw usage_error(e.what());  // a bad --name
    }
    if (a.out.empty())
        std::fputs(src.c_str(), stdout);
    else
        write_file_atomic(a.out, src);
    if (!a.quiet || !a.out.empty())
        std::fprintf(a.out.empty() ? stderr : stdout,
                     "%s: %s rank %d, %d level%s: %d products and %d additions per level (%d before common "
                     "subexpression elimination, %d temporaries)%s\n",
                     a.file.c_str(), format_name(s).c_str(), s.rank(), a.levels, a.levels == 1 ? "" : "s",
                     st.products, st.additions, st.additions_before, st.temporaries,
                     a.out.empty() ? "" : fmt::format("; wrote {}", a.out).c_str());
    return exit_ok;
}

struct bench_args {
    std::string file, levels = "1,2", sizes = "1024,2048", type = "double";
    int repeats = 3, threads = 0;
    std::uint64_t seed = 1;
    bool c_ik = false, no_cse = false, quiet = false;
};

void blas_gemm(index_t n, const double* A, const double* B, double* C) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(n),
                static_cast<int>(n), 1.0, A, static_cast<int>(n), B, static_cast<int>(n), 0.0, C, static_cast<int>(n));
}
void blas_gemm(index_t n, const float* A, const float* B, float* C) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(n),
                static_cast<int>(n), 1.0f, A, static_cast<int>(n), B, static_cast<int>(n), 0.0f, C, static_cast<int>(n));
}

// ||C - ref||_F / ||ref||_F in double.
template <class T>
double relative_error(const std::vector<T>& C, const std::vector<double>& ref) {
    double num = 0, den = 0;
    for (std::size_t x = 0; x < ref.size(); ++x) {
        const double d = static_cast<double>(C[x]) - ref[x];
        num += d * d;
        den += ref[x] * ref[x];
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// Wall and processor seconds (of every thread of the process) of one call.
struct timing {
    double wall = 1e300, cpu = 1e300;
    void keep_best(const timing& t) { wall = std::min(wall, t.wall), cpu = std::min(cpu, t.cpu); }
};
template <class F>
timing time_of(F&& f) {
    const std::clock_t c0 = std::clock();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return {seconds_since(t0), static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC};
}

// Per size: one untimed call of each method (warms caches and workspaces), then `repeats`
// rounds that time BLAS and every level in turn, so that the load of a shared machine hits all
// of them alike; the best time of each counts.
template <class T>
bool bench_type(const bench_args& a, fmm::fast_multiplier& f, const shape_t& sizes, const shape_t& levels,
                const char* type) {
    std::mt19937_64 rng(a.seed);
    std::uniform_real_distribution<double> dist(-1, 1);
    const bool is_double = sizeof(T) == sizeof(double);
    for (const index_t n : sizes) {
        const std::size_t nn = static_cast<std::size_t>(n * n);
        std::vector<T> A(nn), B(nn), C(nn);
        for (T& x : A) x = static_cast<T>(dist(rng));
        for (T& x : B) x = static_cast<T>(dist(rng));
        // The reference: classical multiplication in double of the same (rounded) inputs.
        std::vector<double> ref(nn);
        {
            std::vector<double> Ad(A.begin(), A.end()), Bd(B.begin(), B.end());
            blas_gemm(n, Ad.data(), Bd.data(), ref.data());
        }
        const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
        auto blas = [&] { blas_gemm(n, A.data(), B.data(), C.data()); };
        auto fast = [&](index_t L) { f.multiply(n, n, n, A.data(), n, B.data(), n, C.data(), n, static_cast<int>(L)); };
        blas();
        const std::string blas_error = is_double ? "(reference)" : fmt::format("{:.2e}", relative_error(C, ref));
        std::vector<double> errors;
        for (const index_t L : levels) {
            fast(L);
            errors.push_back(relative_error(C, ref));
        }
        timing blas_best;
        std::vector<timing> best(levels.size());
        for (int r = 0; r < a.repeats; ++r) {
            if (interrupt_requested()) return false;
            blas_best.keep_best(time_of(blas));
            for (std::size_t l = 0; l < levels.size(); ++l) best[l].keep_best(time_of([&] { fast(levels[l]); }));
        }
        std::printf("%-6s %6lld  %-6s %9.4f %9.1f %8.3f %9.4f %8.3f  %s\n", type, static_cast<long long>(n),
                    is_double ? "dgemm" : "sgemm", blas_best.wall, flops / blas_best.wall / 1e9, 1.0, blas_best.cpu,
                    1.0, blas_error.c_str());
        for (std::size_t l = 0; l < levels.size(); ++l)
            std::printf("%-6s %6lld  %-6s %9.4f %9.1f %8.3f %9.4f %8.3f  %.2e\n", type, static_cast<long long>(n),
                        fmt::format("L={}", levels[l]).c_str(), best[l].wall, flops / best[l].wall / 1e9,
                        blas_best.wall / best[l].wall, best[l].cpu, blas_best.cpu / best[l].cpu, errors[l]);
        std::fflush(stdout);
    }
    return !interrupt_requested();
}

int run_bench(const bench_args& a) {
    const shape_t sizes = parse_positive_list(a.sizes, "--sizes");
    shape_t levels;
    for (const index_t L : parse_positive_list(a.levels, "--levels")) {
        if (L > 4) throw usage_error(fmt::format("--levels: expected levels from 1 to 4, found {}", L));
        levels.push_back(L);
    }
    const fmm::exact_scheme s = load_exact(a.file, a.c_ik, a.quiet);
    fmm::fast_multiplier f(s, !a.no_cse);
    if (a.threads > 0) {
        omp_set_num_threads(a.threads);
        openblas_set_num_threads(a.threads);
    }
    install_interrupt_handler();
    const fmm::addition_plan& plan = f.plan();
    std::printf("# %s: %s rank %d, %d additions per level (%d before elimination); %d thread%s; best of %d rounds\n",
                a.file.c_str(), format_name(s).c_str(), s.rank(), plan.additions(), plan.additions_before,
                effective_threads(a.threads), effective_threads(a.threads) == 1 ? "" : "s", a.repeats);
    std::printf("# GFLOP/s = 2 n^3 / seconds; speed-up = BLAS seconds / seconds; cpu = processor seconds of all "
                "threads; error = ||C - C_ref||_F / ||C_ref||_F with C_ref the classical product in double (dgemm) of "
                "the same inputs\n");
    std::printf("%-6s %6s  %-6s %9s %9s %8s %9s %8s  %s\n", "type", "n", "method", "seconds", "GFLOP/s", "speed-up",
                "cpu s", "cpu s-up", "rel. error");
    bool done = true;
    if (a.type == "double" || a.type == "both") done = bench_type<double>(a, f, sizes, levels, "double");
    if (done && (a.type == "float" || a.type == "both")) done = bench_type<float>(a, f, sizes, levels, "float");
    return done ? exit_ok : exit_interrupted;
}

}  // namespace

std::vector<command> add_fmm_kernel_commands(CLI::App& fmm) {
    const std::string scheme_files =
        "FILE is any scheme file `facto fmm verify` reads: a text file with 'field Z' or 'field Q' (from `facto fmm "
        "lift`), a folder with U.npy, V.npy, W.npy, or a GF(2) scheme (from `facto fmm search`), which is lifted to "
        "Z or Q first as `facto fmm lift` does (an error when it does not lift). The scheme is verified exactly.";
    const std::string algorithm =
        "One level splits A into N x M blocks and B into M x P blocks, forms S_t = sum u_t[ij] A_ij and T_t = sum "
        "v_t[jk] B_jk, multiplies M_t = S_t T_t (recursively, with BLAS gemm at the last level), and sums C_ik = sum "
        "w_t[ki] M_t. Common subexpressions of the sums are eliminated greedily: the pair of operands (with the same "
        "coefficient ratio) that occurs in most sums becomes a temporary, until no pair repeats. Sizes that do not "
        "divide by N, M, P are peeled: the leading part that does is split into blocks and the leftover rows, "
        "columns and inner strip are done by gemm (no padding). A sum that is a single block uses it in place.";

    auto ca = std::make_shared<codegen_args>();
    CLI::App* codegen = fmm.add_subcommand("codegen", "C++ source of a scheme's recursive multiplication");
    codegen->add_option("FILE", ca->file, "The scheme (Z, Q or GF(2), see FILES).")->required();
    codegen->add_option("-L,--levels", ca->levels, "Recursion levels of the entry points: 1 or 2.")
        ->option_text("L")
        ->check(CLI::Range(1, 2));
    codegen->add_option("-o,--out", ca->out, "Write the source here (atomically); default: stdout.")
        ->option_text("OUT.cpp");
    codegen->add_option("--name", ca->name, "Namespace of the generated functions (a C++ identifier).")
        ->option_text("NAME");
    codegen->add_option("--type", ca->type, "Element types of the entry points.")
        ->check(one_of({"double", "float", "both"}));
    codegen->add_flag("--no-cse", ca->no_cse, "Do not eliminate common subexpressions.");
    codegen->add_flag("--c-ik", ca->c_ik, "The file's W holds c_ik rather than c_ki.");
    codegen->add_flag("-q,--quiet", ca->quiet, "No summary line on stderr when writing to stdout.");
    manual mc;
    mc.synopsis = {"facto fmm codegen FILE [--levels 1|2] [-o OUT.cpp] [--name NAME] [--type double|float|both]"};
    mc.description =
        "Writes a self-contained C++20 source that multiplies row-major matrices, C = A B, with L levels of the "
        "scheme in FILE. It needs only <cblas.h>: the leaves call cblas_dgemm or cblas_sgemm. It compiles with "
        "`g++ -O3 -std=c++20 -c OUT.cpp` (add -fopenmp to run the additions on several threads) and links with "
        "OpenBLAS (-lopenblas). Entry points, in namespace NAME:\n"
        "\n"
        "  std::size_t workspace_elements(rows, inner, cols)\n"
        "  void multiply(rows, inner, cols, const T* A, lda, const T* B, ldb, T* C, ldc, T* work)\n"
        "\n"
        "with std::ptrdiff_t sizes, T double and/or float, and work either nullptr (allocated per call) or "
        "workspace_elements(...) elements reused across calls. The source starts with a comment giving these "
        "declarations.\n"
        "\n" +
        algorithm +
        " In the generated code each side's sums are one loop over the block rows, with the temporaries as scalars "
        "(read each input block once, write each sum once).\n"
        "\n"
        "Prints the products and additions per level (before and after elimination).";
    mc.sections = {{"Files", scheme_files},
                   {"Examples",
                    " facto fmm search 2,2,2 --target 7 -o s222.txt\n"
                    " facto fmm lift s222.txt -o strassen.txt\n"
                    " facto fmm codegen strassen.txt --levels 2 --name strassen2 -o strassen2.cpp\n"
                    " g++ -O3 -std=c++20 -fopenmp -c strassen2.cpp\n"},
                   {"Exit status", exit_status_section(false)}};
    set_manual(codegen, mc);

    auto ba = std::make_shared<bench_args>();
    CLI::App* bench = fmm.add_subcommand("bench", "time a scheme's recursive multiplication against BLAS gemm");
    bench->add_option("FILE", ba->file, "The scheme (Z, Q or GF(2), see FILES).")->required();
    bench->add_option("--levels", ba->levels, "Recursion levels to time, comma-separated (1 to 4).")
        ->option_text("L,...");
    bench->add_option("--sizes", ba->sizes, "Square sizes n to time, comma-separated.")->option_text("N,...");
    bench->add_option("--type", ba->type, "Element type.")->check(one_of({"double", "float", "both"}));
    bench->add_option("--repeats", ba->repeats,
                      "Timed rounds per size (after one warm-up run of each method); each round times BLAS and "
                      "every level in turn, and the best time of each counts.")
        ->option_text("K")
        ->check(integer_at_least(1));
    bench->add_option("-j,--threads", ba->threads, "OpenMP and OpenBLAS threads; 0: their defaults.")
        ->option_text("K")
        ->check(integer_at_least(0));
    bench->add_option("-s,--seed", ba->seed, "Seed of the random matrices (uniform in [-1, 1]).")->option_text("S");
    bench->add_flag("--no-cse", ba->no_cse, "Do not eliminate common subexpressions.");
    bench->add_flag("--c-ik", ba->c_ik, "The file's W holds c_ik rather than c_ki.");
    bench->add_flag("-q,--quiet", ba->quiet, "No line on stderr when a GF(2) scheme is lifted.");
    manual mb;
    mb.synopsis = {"facto fmm bench FILE [--levels 1,2] [--sizes 1024,2048] [--type double|float|both] [--repeats K] "
                   "[--threads K]"};
    mb.description =
        "Times the library's recursive multiplication with the scheme in FILE (the executor behind "
        "facto::fmm::fast_multiplier) against BLAS dgemm or sgemm on random n x n matrices, in the same process, "
        "and prints a table: type, n, method (dgemm/sgemm or L=levels), best seconds, effective GFLOP/s "
        "(2 n^3 / seconds, whatever the scheme's multiplication count), speed-up over BLAS, the same two for "
        "processor time (of all threads: with --threads 1 the fairer comparison on a loaded machine, where wall "
        "time includes waiting for a core), and the relative "
        "error ||C - C_ref||_F / ||C_ref||_F against the classical product computed in double by dgemm from the "
        "same inputs (for float, the sgemm row shows BLAS's own error for comparison).\n"
        "\n" +
        algorithm +
        " The executor evaluates the sums row by row with the temporaries in a row buffer; workspaces are allocated "
        "once and reused.\n"
        "\n"
        "Ctrl-C stops after the current measurement (exit status 130).";
    mb.sections = {{"Files", scheme_files},
                   {"Examples",
                    " facto fmm bench strassen.txt --sizes 1024,2048,4096 --levels 1,2\n"
                    " facto fmm bench strassen.txt --type float --sizes 4096 --threads 1\n"},
                   {"Exit status", exit_status_section(true)}};
    set_manual(bench, mb);

    return {{codegen, [ca]() -> int { return run_codegen(*ca); }}, {bench, [ba]() -> int { return run_bench(*ba); }}};
}

}  // namespace facto::cli
