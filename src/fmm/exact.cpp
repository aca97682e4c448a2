// src/fmm/exact.cpp: schemes over Z and Q: overflow-checked rational arithmetic, exact
// verification of the Brent equations, the GF(2) image, and the text and .npy formats.
#include "facto/fmm/exact.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "facto/io/npy.hpp"
#include "fmm/text_header.hpp"

namespace facto::fmm {

namespace {

using i128 = __int128;
using u128 = unsigned __int128;
constexpr i128 int64_limit = std::numeric_limits<std::int64_t>::max();

u128 abs128(i128 x) { return x < 0 ? static_cast<u128>(-x) : static_cast<u128>(x); }

u128 gcd128(u128 a, u128 b) {
    while (b) {
        const u128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

// Reduces num/den (den != 0, both within about 2^126) to a 64-bit rational.
rational reduce(i128 num, i128 den, const char* op) {
    if (den == 0) throw invalid_argument(std::string("fmm::rational: division by zero in ") + op);
    if (den < 0) num = -num, den = -den;
    const u128 g = gcd128(abs128(num), static_cast<u128>(den));
    if (g > 1) num /= static_cast<i128>(g), den /= static_cast<i128>(g);
    if (num > int64_limit || num < -int64_limit || den > int64_limit)
        throw invalid_argument(std::string("fmm::rational: overflow in ") + op +
                               ": the result does not fit in 64-bit numerator and denominator");
    if (num == 0) den = 1;
    return {static_cast<std::int64_t>(num), static_cast<std::int64_t>(den)};
}

using detail::format_name;

std::string entry_name(char matrix, int row, int col) {
    return std::string(1, matrix) + std::to_string(row + 1) + std::to_string(col + 1);
}

bool lowest_terms(const rational& r) {
    return r.den > 0 && r.num != std::numeric_limits<std::int64_t>::min() &&
           gcd128(abs128(r.num), static_cast<u128>(r.den)) == 1 && (r.num != 0 || r.den == 1);
}

}  // namespace

rational make_rational(std::int64_t num, std::int64_t den) { return reduce(num, den, "make_rational"); }

rational operator+(const rational& a, const rational& b) {
    if (a.den == b.den) return reduce(i128(a.num) + b.num, a.den, "a + b");
    return reduce(i128(a.num) * b.den + i128(b.num) * a.den, i128(a.den) * b.den, "a + b");
}
rational operator-(const rational& a, const rational& b) { return a + (-b); }
rational operator-(const rational& a) { return {-a.num, a.den}; }
rational operator*(const rational& a, const rational& b) {
    return reduce(i128(a.num) * b.num, i128(a.den) * b.den, "a * b");
}
rational operator/(const rational& a, const rational& b) {
    if (b.num == 0) throw invalid_argument("fmm::rational: division by zero in a / b");
    return reduce(i128(a.num) * b.den, i128(a.den) * b.num, "a / b");
}

std::string to_string(const rational& r) {
    return r.den == 1 ? std::to_string(r.num) : std::to_string(r.num) + "/" + std::to_string(r.den);
}

// ---------------------------------------------------------------------------------------
// Verification

verify_result verify_exact(const exact_scheme& s) {
    check_format(s.n, s.m, s.p);
    const int nu = s.n * s.m, nv = s.m * s.p, nw = s.p * s.n;
    verify_result res;
    auto fail = [&](std::string message) {
        res.ok = false;
        res.failures = 1;
        res.message = std::move(message);
        return res;
    };
    for (std::size_t t = 0; t < s.terms.size(); ++t) {
        const exact_term& e = s.terms[t];
        if (static_cast<int>(e.u.size()) != nu || static_cast<int>(e.v.size()) != nv ||
            static_cast<int>(e.w.size()) != nw)
            return fail("term " + std::to_string(t + 1) + " has factors of " + std::to_string(e.u.size()) + ", " +
                        std::to_string(e.v.size()) + " and " + std::to_string(e.w.size()) + " coefficients, expected " +
                        std::to_string(nu) + ", " + std::to_string(nv) + " and " + std::to_string(nw) + " for " +
                        format_name(s.n, s.m, s.p));
        for (const auto* f : {&e.u, &e.v, &e.w})
            for (const rational& c : *f)
                if (!lowest_terms(c))
                    return fail("term " + std::to_string(t + 1) + " has coefficient " + std::to_string(c.num) + "/" +
                                std::to_string(c.den) + ", expected a fraction in lowest terms with a positive denominator");
    }
    // Sum the products of the nonzero coefficients of each term into the equation table.
    std::vector<rational> sum(static_cast<std::size_t>(nu) * nv * nw);
    std::vector<int> xs, ys, zs;
    for (const exact_term& e : s.terms) {
        xs.clear(), ys.clear(), zs.clear();
        for (int x = 0; x < nu; ++x)
            if (e.u[x].num) xs.push_back(x);
        for (int y = 0; y < nv; ++y)
            if (e.v[y].num) ys.push_back(y);
        for (int z = 0; z < nw; ++z)
            if (e.w[z].num) zs.push_back(z);
        for (int x : xs)
            for (int y : ys) {
                const rational uv = e.u[x] * e.v[y];
                for (int z : zs) {
                    rational& acc = sum[(static_cast<std::size_t>(x) * nv + y) * nw + z];
                    acc = acc + uv * e.w[z];
                }
            }
    }
    std::string first_found;
    for (int x = 0; x < nu; ++x) {
        const int i = x / s.m, j = x % s.m;
        for (int y = 0; y < nv; ++y) {
            const int j2 = y / s.p, k = y % s.p;
            for (int z = 0; z < nw; ++z) {
                const int expected = (j == j2 && z == k * s.n + i) ? 1 : 0;
                const rational& got = sum[(static_cast<std::size_t>(x) * nv + y) * nw + z];
                if (got.num == expected && got.den == 1) continue;
                if (res.ok) {
                    res.ok = false;
                    res.x = x, res.y = y, res.z = z;
                    first_found = to_string(got) + ", expected " + std::to_string(expected);
                }
                ++res.failures;
            }
        }
    }
    if (!res.ok)
        res.message = std::to_string(res.failures) + " Brent equations fail over Q for " + format_name(s.n, s.m, s.p) +
                      ", the first at (" + entry_name('a', res.x / s.m, res.x % s.m) + ", " +
                      entry_name('b', res.y / s.p, res.y % s.p) + ", " + entry_name('c', res.z / s.n, res.z % s.n) +
                      " in c_ki order): the sum over terms of u v w is " + first_found;
    return res;
}

void require_valid_exact(const exact_scheme& s, const std::string& what) {
    const verify_result r = verify_exact(s);
    if (!r.ok) throw invalid_argument(what + ": the scheme is not a valid multiplication scheme: " + r.message);
}

scheme mod2(const exact_scheme& s) {
    check_format(s.n, s.m, s.p);
    scheme out{s.n, s.m, s.p, {}};
    const int sizes[3] = {s.n * s.m, s.m * s.p, s.p * s.n};
    const char* names[3] = {"u", "v", "w"};
    for (std::size_t t = 0; t < s.terms.size(); ++t) {
        const exact_term& e = s.terms[t];
        const std::vector<rational>* f[3] = {&e.u, &e.v, &e.w};
        factor_t bits[3] = {0, 0, 0};
        for (int q = 0; q < 3; ++q) {
            if (static_cast<int>(f[q]->size()) != sizes[q])
                throw invalid_argument("fmm::mod2: term " + std::to_string(t + 1) + " factor " + names[q] + " has " +
                                       std::to_string(f[q]->size()) + " coefficients, expected " +
                                       std::to_string(sizes[q]));
            for (int e2 = 0; e2 < sizes[q]; ++e2) {
                const rational& c = (*f[q])[e2];
                if (c.den % 2 == 0)
                    throw invalid_argument("fmm::mod2: term " + std::to_string(t + 1) + " factor " + names[q] +
                                           " has coefficient " + to_string(c) +
                                           " with an even denominator: it has no image in GF(2)");
                if (c.num % 2 != 0) bits[q] |= factor_t{1} << e2;
            }
        }
        out.terms.push_back({bits[0], bits[1], bits[2]});
    }
    return out;
}

exact_scheme from_gf2(const scheme& s) {
    check_format(s.n, s.m, s.p);
    if (s.product != product_kind::general)
        throw invalid_argument(std::string("fmm::from_gf2: the scheme is for the structured product '") +
                               product_name(s.product) + "'; exact schemes are general products");
    exact_scheme out{s.n, s.m, s.p, {}};
    auto expand = [](factor_t f, int count) {
        std::vector<rational> c(count);
        for (int e = 0; e < count; ++e) c[e] = {static_cast<std::int64_t>((f >> e) & 1), 1};
        return c;
    };
    for (const term& t : s.terms)
        out.terms.push_back({expand(t.u, s.n * s.m), expand(t.v, s.m * s.p), expand(t.w, s.p * s.n)});
    return out;
}

std::int64_t max_abs_coefficient(const exact_scheme& s) {
    std::int64_t best = 0;
    for (const auto& t : s.terms)
        for (const auto* f : {&t.u, &t.v, &t.w})
            for (const rational& c : *f) {
                const std::int64_t a = c.num < 0 ? -c.num : c.num;
                best = std::max(best, a / c.den + (a % c.den != 0));
            }
    return best;
}

bool is_signed_unit(const exact_scheme& s) {
    for (const auto& t : s.terms)
        for (const auto* f : {&t.u, &t.v, &t.w})
            for (const rational& c : *f)
                if (c.den != 1 || c.num < -1 || c.num > 1) return false;
    return true;
}

// ---------------------------------------------------------------------------------------
// Text format

const char* field_name(scheme_field f) {
    switch (f) {
        case scheme_field::gf2: return "GF(2)";
        case scheme_field::integers: return "Z";
        case scheme_field::rationals: return "Q";
    }
    return "?";
}

std::string to_exact_text(const exact_scheme& s) {
    check_format(s.n, s.m, s.p);
    std::ostringstream o;
    o << "# facto fmm scheme: terms u v w as comma-separated coefficients, u[i*m+j] of a_ij, v[j*p+k] of "
         "b_jk, w[k*n+i] of c_ki\n";
    o << "fmm " << s.n << " " << s.m << " " << s.p << "\nfield " << (s.integral() ? "Z" : "Q")
      << "\nconvention cki\nrank " << s.rank() << "\n";
    auto group = [&](const std::vector<rational>& f) {
        std::string out;
        for (std::size_t e = 0; e < f.size(); ++e) {
            if (e) out += ',';
            out += to_string(f[e]);
        }
        return out;
    };
    for (const exact_term& t : s.terms) o << group(t.u) << " " << group(t.v) << " " << group(t.w) << "\n";
    return o.str();
}

namespace {

// Strict int64 parse of the whole token.
bool parse_int64(std::string_view text, std::int64_t& out) {
    if (!text.empty() && text[0] == '+') text.remove_prefix(1);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// w in the c_ik order (entry i*p+k) to the c_ki order (entry k*n+i).
std::vector<rational> cik_to_cki(const std::vector<rational>& w, int n, int p) {
    std::vector<rational> out(w.size());
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < p; ++k) out[k * n + i] = w[i * p + k];
    return out;
}

}  // namespace

exact_scheme parse_exact_text(const std::string& text, const std::string& name, bool transpose_c) {
    std::istringstream in(text);
    std::string line;
    std::size_t lineno = 0;
    exact_scheme s;
    detail::text_header head(transpose_c);
    bool have_field = false, integers_only = false;
    auto parse_group = [&](const std::string& word, int count, const char* which) {
        std::vector<rational> out;
        std::size_t start = 0;
        while (true) {
            const std::size_t comma = word.find(',', start);
            const std::string tok = word.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            std::int64_t num = 0, den = 1;
            const std::size_t slash = tok.find('/');
            const bool ok = slash == std::string::npos
                                ? parse_int64(tok, num)
                                : parse_int64(std::string_view(tok).substr(0, slash), num) &&
                                      parse_int64(std::string_view(tok).substr(slash + 1), den) && den != 0;
            if (!ok || num == std::numeric_limits<std::int64_t>::min())
                throw parse_error(name, lineno,
                                  std::string("factor ") + which + " has coefficient '" + tok +
                                      "', expected an integer or p/q (64-bit, q nonzero)");
            if (integers_only && slash != std::string::npos && den != 1 && num % den != 0)
                throw parse_error(name, lineno,
                                  std::string("factor ") + which + " has coefficient '" + tok +
                                      "' in a 'field Z' scheme: expected integers (say 'field Q')");
            try {
                out.push_back(make_rational(num, den));
            } catch (const invalid_argument& e) {
                throw parse_error(name, lineno, e.what());
            }
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        if (static_cast<int>(out.size()) != count)
            throw parse_error(name, lineno,
                              std::string("factor ") + which + " has " + std::to_string(out.size()) +
                                  " coefficients, expected " + std::to_string(count) + " (comma-separated)");
        return out;
    };
    while (std::getline(in, line)) {
        ++lineno;
        const std::vector<std::string> words = detail::scheme_words(line);
        if (words.empty() || head.take(words, line, name, lineno)) continue;
        if (words[0] == "field") {
            if (words.size() == 2 && (words[1] == "gf2" || words[1] == "GF2"))
                throw parse_error(name, lineno,
                                  "'field gf2': a GF(2) scheme (0/1 strings); expected 'field Z' or 'field Q' here");
            if (words.size() != 2 || (words[1] != "Z" && words[1] != "Q" && words[1] != "z" && words[1] != "q"))
                throw parse_error(name, lineno, "expected 'field Z' or 'field Q', found '" + line + "'");
            integers_only = words[1] == "Z" || words[1] == "z";
            have_field = true;
        } else if (words[0] == "product") {
            if (words.size() != 2 || words[1] != "general")
                throw parse_error(name, lineno,
                                  "'" + line + "': schemes over Z or Q are of the general product only (expected "
                                  "'product general' or no product line)");
        } else {
            if (!head.have_format) throw parse_error(name, lineno, "found a term before the 'fmm N M P' line");
            if (!have_field)
                throw parse_error(name, lineno, "found a term before a 'field Z' or 'field Q' line");
            if (words.size() != 3)
                throw parse_error(name, lineno,
                                  "expected a term of three comma-separated coefficient groups (u v w), found " +
                                      std::to_string(words.size()) + " words");
            s.n = head.n, s.m = head.m, s.p = head.p;
            exact_term t;
            t.u = parse_group(words[0], s.n * s.m, "u");
            t.v = parse_group(words[1], s.m * s.p, "v");
            t.w = parse_group(words[2], s.n * s.p, "w");
            if (head.cik) t.w = cik_to_cki(t.w, s.n, s.p);
            s.terms.push_back(std::move(t));
        }
    }
    head.finish(s.rank(), name);
    if (!have_field) throw parse_error(name, 0, "no 'field Z' or 'field Q' line");
    s.n = head.n, s.m = head.m, s.p = head.p;
    require_valid_exact(s, "fmm::parse_exact_text(" + name + ")");
    return s;
}

// ---------------------------------------------------------------------------------------
// Files

namespace {

constexpr int max_npy_denominator_log2 = 30;

// A float64 entry as a rational: an integer, or a fraction with denominator 2^k, k <= 30.
bool double_to_rational(double x, rational& out) {
    if (!std::isfinite(x)) return false;
    for (int k = 0; k <= max_npy_denominator_log2; ++k) {
        const double scaled = std::ldexp(x, k);
        if (scaled != std::floor(scaled)) continue;
        if (std::fabs(scaled) >= 9.2e18) return false;
        out = make_rational(static_cast<std::int64_t>(scaled), std::int64_t{1} << k);
        return true;
    }
    return false;
}

bool rational_to_double(const rational& r, double& out) {
    const bool power_of_two = (r.den & (r.den - 1)) == 0 && r.den <= (std::int64_t{1} << max_npy_denominator_log2);
    const std::int64_t a = r.num < 0 ? -r.num : r.num;
    if (!power_of_two || a > (std::int64_t{1} << 53)) return false;
    out = static_cast<double>(r.num) / static_cast<double>(r.den);
    return true;
}

struct npy_factors {
    tensor U, V, W;
};

npy_factors read_npy_factors(const std::string& folder, bool transpose_c, int& n, int& m, int& p) {
    npy_factors f{read_npy<double>(folder + "/U.npy"), read_npy<double>(folder + "/V.npy"),
                  read_npy<double>(folder + "/W.npy")};
    if (f.U.order() != 3 || f.V.order() != 3 || f.W.order() != 3)
        throw parse_error(folder, 0, "expected U, V, W of order 3 (R x n x m, R x m x p, R x p x n)");
    const index_t R = f.U.shape()[0];
    n = static_cast<int>(f.U.shape()[1]), m = static_cast<int>(f.U.shape()[2]);
    p = static_cast<int>(f.V.shape()[2]);
    const shape_t wshape = transpose_c ? shape_t{R, n, p} : shape_t{R, p, n};
    if (f.V.shape() != shape_t{R, m, p} || f.W.shape() != wshape)
        throw parse_error(folder, 0,
                          "shapes of U, V, W do not match: expected R x n x m, R x m x p and " +
                              std::string(transpose_c ? "R x n x p (c_ik)" : "R x p x n (c_ki)"));
    try {
        check_format(n, m, p);
    } catch (const invalid_argument& e) {
        throw parse_error(folder, 0, e.what());
    }
    return f;
}

}  // namespace

scheme_field read_scheme_field(const std::string& path) {
    if (std::filesystem::is_directory(path)) {
        int n = 0, m = 0, p = 0;
        const npy_factors f = read_npy_factors(path, false, n, m, p);
        for (const tensor* X : {&f.U, &f.V, &f.W})
            for (index_t e = 0; e < X->size(); ++e)
                if (X->data()[e] != std::floor(X->data()[e])) return scheme_field::rationals;
        return scheme_field::integers;
    }
    std::istringstream in(read_file(path));
    std::string line;
    while (std::getline(in, line)) {
        if (const auto h = line.find('#'); h != std::string::npos) line.erase(h);
        std::istringstream ls(line);
        std::string key, value;
        if (!(ls >> key)) continue;
        if (key == "field" && ls >> value) {
            if (value == "Z" || value == "z") return scheme_field::integers;
            if (value == "Q" || value == "q") return scheme_field::rationals;
            return scheme_field::gf2;  // gf2 or a bad value: the GF(2) parser says which
        }
        if (key != "fmm" && key != "convention" && key != "rank" && key != "product") break;  // terms began
    }
    return scheme_field::gf2;
}

exact_scheme read_exact_scheme(const std::string& path, bool transpose_c) {
    if (!std::filesystem::is_directory(path)) return parse_exact_text(read_file(path), path, transpose_c);
    int n = 0, m = 0, p = 0;
    const npy_factors f = read_npy_factors(path, transpose_c, n, m, p);
    const index_t R = f.U.shape()[0];
    exact_scheme s{n, m, p, std::vector<exact_term>(R)};
    auto get = [&](const tensor& X, const char* which, index_t r, int count) {
        std::vector<rational> out(count);
        for (int e = 0; e < count; ++e) {
            const double x = X.data()[r * count + e];
            if (!double_to_rational(x, out[e]))
                throw parse_error(path, 0,
                                  std::string(which) + ".npy entry " + std::to_string(r * count + e) + " is " +
                                      std::to_string(x) +
                                      ": expected an integer or a fraction with a power-of-two denominator "
                                      "(other rationals need the text format)");
        }
        return out;
    };
    for (index_t r = 0; r < R; ++r) {
        exact_term& t = s.terms[r];
        t.u = get(f.U, "U", r, n * m);
        t.v = get(f.V, "V", r, m * p);
        t.w = get(f.W, "W", r, p * n);
        if (transpose_c) t.w = cik_to_cki(t.w, n, p);
    }
    require_valid_exact(s, "fmm::read_exact_scheme(" + path + ")");
    return s;
}

void write_exact_scheme_text(const std::string& path, const exact_scheme& s) {
    write_file_atomic(path, to_exact_text(s));
}

void write_exact_scheme_npy(const std::string& folder, const exact_scheme& s) {
    check_format(s.n, s.m, s.p);
    const index_t R = s.rank();
    tensor U({R, s.n, s.m}), V({R, s.m, s.p}), W({R, s.p, s.n});
    auto put = [&](tensor& X, const std::vector<rational>& f, index_t r, int count, const char* which) {
        if (static_cast<int>(f.size()) != count)
            throw invalid_argument("fmm::write_exact_scheme_npy: term " + std::to_string(r + 1) + " factor " + which +
                                   " has " + std::to_string(f.size()) + " coefficients, expected " +
                                   std::to_string(count));
        for (int e = 0; e < count; ++e)
            if (!rational_to_double(f[e], X.data()[r * count + e]))
                throw invalid_argument("fmm::write_exact_scheme_npy: coefficient " + to_string(f[e]) + " of term " +
                                       std::to_string(r + 1) +
                                       " is not exactly a float64 with a small power-of-two denominator; "
                                       "write the text format instead");
    };
    for (index_t r = 0; r < R; ++r) {
        put(U, s.terms[r].u, r, s.n * s.m, "u");
        put(V, s.terms[r].v, r, s.m * s.p, "v");
        put(W, s.terms[r].w, r, s.p * s.n, "w");
    }
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec) throw io_error("fmm::write_exact_scheme_npy: cannot create folder '" + folder + "': " + ec.message());
    write_npy<double>(folder + "/U.npy", U.view());
    write_npy<double>(folder + "/V.npy", V.view());
    write_npy<double>(folder + "/W.npy", W.view());
}

}  // namespace facto::fmm
