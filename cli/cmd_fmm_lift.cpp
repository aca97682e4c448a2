// cli/cmd_fmm_lift.cpp: `facto fmm lift` (a GF(2) scheme to Z or Q by Hensel and sign lifting,
// verified exactly) and the Z/Q side of `facto fmm verify`.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "common.hpp"
#include "facto/fmm/lift.hpp"
#include "help.hpp"

namespace facto::cli {

namespace {

struct fmm_lift_args {
    std::string file, out, out_npy, method = "auto";
    int precision = 40, orders = 8;
    std::uint64_t sign_limit = 2000000;
    bool c_ik = false, quiet = false;
};

std::string scheme_name(int n, int m, int p) { return fmt::format("<{},{},{}>", n, m, p); }

std::string coefficients_text(const fmm::exact_scheme& s) {
    if (fmm::is_signed_unit(s)) return "coefficients in {-1, 0, 1}";
    if (s.integral()) return fmt::format("integer coefficients, max |c| = {}", fmm::max_abs_coefficient(s));
    return fmt::format("rational coefficients, max |c| <= {}", fmm::max_abs_coefficient(s));
}

int run_lift(const fmm_lift_args& a) {
    // The GF(2) scheme to lift: a GF(2) file, or the image of a Z/Q text file.
    fmm::scheme s;
    const fmm::scheme_field field = fmm::read_scheme_field(a.file);
    if (field != fmm::scheme_field::gf2 && !std::filesystem::is_directory(a.file)) {
        const fmm::exact_scheme e = fmm::read_exact_scheme(a.file, a.c_ik);
        s = fmm::mod2(e);
        if (!a.quiet)
            std::fprintf(stderr, "%s: a valid scheme over %s already; lifting its GF(2) image again\n", a.file.c_str(),
                         fmm::field_name(field));
    } else {
        s = fmm::read_scheme(a.file, a.c_ik);  // .npy folders are read mod 2
    }
    fmm::lift_options o;
    o.precision = a.precision;
    o.hensel = a.method != "signs";
    o.signs = a.method != "hensel";
    o.sign_search_limit = a.sign_limit;
    o.hensel_orders = a.orders;
    const fmm::lift_result r = fmm::lift(s, o);
    if (!a.quiet)
        for (const std::string& m : r.messages) std::fprintf(stderr, "  %s\n", m.c_str());
    const std::string name = scheme_name(s.n, s.m, s.p);
    if (!r.lifted) {
        std::string why;
        for (const std::string& m : r.messages) why += (why.empty() ? "" : "; ") + m;
        if (!a.quiet) why = "each method's outcome is above";
        std::fprintf(stderr, "facto fmm lift: %s: the %s scheme of rank %d did not lift (%s)\n", a.file.c_str(),
                     name.c_str(), s.rank(), why.c_str());
        return exit_failure;
    }
    const fmm::exact_scheme& e = r.lifted_scheme;
    if (!a.out.empty()) fmm::write_exact_scheme_text(a.out, e);
    if (!a.out_npy.empty()) fmm::write_exact_scheme_npy(a.out_npy, e);
    std::printf("%s: %s rank %d lifted to %s with %s, verified exactly over Q (%s%s, %s)%s%s\n", a.file.c_str(),
                name.c_str(), e.rank(), r.integral ? "Z" : "Q", coefficients_text(e).c_str(), r.method.c_str(),
                r.precision ? fmt::format(", 2-adic precision 2^{}", r.precision).c_str() : "",
                human_seconds(r.seconds).c_str(), a.out.empty() ? "" : fmt::format("; wrote {}", a.out).c_str(),
                a.out_npy.empty() ? "" : fmt::format("; wrote {}/U.npy, V.npy, W.npy", a.out_npy).c_str());
    if (a.out.empty() && a.out_npy.empty()) std::fputs(fmm::to_exact_text(e).c_str(), stdout);
    return exit_ok;
}

}  // namespace

/// `facto fmm verify FILE`: GF(2) text files by their field line; Z/Q text files exactly over Q;
/// .npy folders over Z/Q when their entries verify exactly, else over GF(2) (their image).
int run_fmm_verify(const std::string& file, bool c_ik) {
    const fmm::scheme_field field = fmm::read_scheme_field(file);
    if (field == fmm::scheme_field::gf2) {
        const fmm::scheme s = fmm::read_scheme(file, c_ik);  // throws, naming the failing equation
        const std::string product =
            s.product == fmm::product_kind::general ? "" : std::string(" ") + fmm::product_name(s.product);
        std::printf("%s: valid %s%s scheme of rank %d over GF(2)\n", file.c_str(), scheme_name(s.n, s.m, s.p).c_str(),
                    product.c_str(), s.rank());
        return exit_ok;
    }
    try {
        const fmm::exact_scheme e = fmm::read_exact_scheme(file, c_ik);
        std::printf("%s: valid %s scheme of rank %d over %s (every Brent equation checked exactly; %s)\n", file.c_str(),
                    scheme_name(e.n, e.m, e.p).c_str(), e.rank(), e.integral() ? "Z" : "Q", coefficients_text(e).c_str());
        return exit_ok;
    } catch (const facto::invalid_argument& exact_failure) {
        if (!std::filesystem::is_directory(file)) throw;
        // A folder of integers may be a GF(2) scheme (0/1 entries, or any integers mod 2).
        fmm::scheme s;
        try {
            s = fmm::read_scheme(file, c_ik);
        } catch (const std::exception&) {
            throw exact_failure;
        }
        std::printf("%s: valid %s scheme of rank %d over GF(2), not over Z (%s)\n", file.c_str(),
                    scheme_name(s.n, s.m, s.p).c_str(), s.rank(), exact_failure.what());
        return exit_ok;
    }
}

command add_fmm_lift_command(CLI::App& fmm) {
    auto a = std::make_shared<fmm_lift_args>();
    CLI::App* app = fmm.add_subcommand("lift", "lift a GF(2) scheme to the integers or rationals");
    app->add_option("FILE", a->file,
                    "The scheme: a text file (GF(2), or Z/Q to lift its image again) or a folder with U.npy, "
                    "V.npy, W.npy (read mod 2).")
        ->required();
    app->add_flag("--c-ik", a->c_ik, "The file's W holds c_ik rather than c_ki.");
    app->add_option("-o,--out", a->out, "Write the lifted scheme here (text, 'field Z' or 'field Q'); default: stdout.")
        ->option_text("FILE");
    app->add_option("--out-npy", a->out_npy,
                    "Also write FOLDER/U.npy, V.npy, W.npy (float64; needs integers or power-of-two denominators).")
        ->option_text("FOLDER");
    app->add_option("-K,--precision", a->precision,
                    "Hensel lifting to 2^K, 2 <= K <= 64; rational reconstruction finds p/q with |p|, q up to "
                    "sqrt(2^(K-1)).")
        ->option_text("K")
        ->check(CLI::Range(2, 64));
    app->add_option("--method", a->method,
                    "auto: Hensel lifting, then sign lifting unless the result is already in {-1, 0, 1}; hensel "
                    "or signs: only that one.")
        ->option_text("M")
        ->check(one_of({"auto", "hensel", "signs"}));
    app->add_option("--orders", a->orders,
                    "Pivot orders tried per Hensel mode until a lift has integer coefficients (another order "
                    "keeps other entries at their GF(2) values).")
        ->option_text("N")
        ->check(integer_at_least(1));
    app->add_option("--sign-limit", a->sign_limit, "Nodes of the sign search before it gives up.")
        ->option_text("N")
        ->check(integer_at_least(1));
    app->add_flag("-q,--quiet", a->quiet, "No lines on stderr about each attempt.");

    manual m;
    m.synopsis = {"facto fmm lift FILE [--c-ik] [-o OUT] [--out-npy DIR] [--precision K] [--method auto|hensel|signs]"};
    m.description =
        "Finds a scheme over the integers or rationals whose image mod 2 is the GF(2) scheme in FILE (from "
        "`facto fmm search`), and verifies it exactly: every Brent equation is checked in 64-bit rationals with "
        "overflow checks.\n"
        "\n"
        "Hensel lifting solves the Brent equations F(x) = T over the 2-adic integers from the 0/1 solution: the "
        "Jacobian at the GF(2) scheme is factored once over GF(2), then each step adds 2^k d with "
        "J d = (T - F(x)) / 2^k mod 2 (free variables 0), up to 2^K; each coefficient is then reconstructed as "
        "the fraction p/q with |p|, q <= sqrt(2^(K-1)) that it equals mod 2^K. It is tried with only the "
        "scheme's 1-entries as unknowns (the result keeps the support), then with every entry.\n"
        "\n"
        "Sign lifting looks for coefficients +-1 on the same support: the equations mod 4 are linear in the "
        "signs over GF(2); the remaining freedom is searched against the equations with three or more terms.\n"
        "\n"
        "Prints how the scheme lifted (Z or Q, coefficients in {-1, 0, 1} or the largest |coefficient|), and "
        "writes the scheme to --out (or stdout) and --out-npy. Exit status 1 when it does not lift, with what "
        "each method found.";
    m.sections = {{"Formats",
                   "Text files of schemes over Z or Q say 'field Z' or 'field Q' and write each term as three groups "
                   "of comma-separated coefficients (integers or p/q), u (N x M over A, row-major), v (M x P over B) "
                   "and w (P x N over C transposed; N x P over C with 'convention cik' or --c-ik), such as "
                   "'1,0,0,1 1,0,0,1 1,0,0,1'. NumPy folders hold U (R x N x M), V (R x M x P), W (R x P x N) as "
                   "float64. Dense formats count entries from 0 (no index base). See docs/fmm.md."},
                  {"Examples",
                   " facto fmm search 3,3,3 --target 23 -o s333.txt\n"
                   " facto fmm lift s333.txt -o s333z.txt\n"
                   " facto fmm lift s333.txt --method hensel --precision 60 --out-npy s333z\n"
                   " facto fmm verify s333z.txt\n"},
                  {"Exit status", exit_status_section(false)}};
    set_manual(app, m);
    return {app, [a]() -> int { return run_lift(*a); }};
}

}  // namespace facto::cli
