// src/fmm/scheme.cpp: GF(2) schemes: the standard algorithm, Strassen, Brent-equation
// verification by popcount parity, and the text and .npy formats.
#include "facto/fmm/scheme.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "facto/io/npy.hpp"
#include "fmm/text_header.hpp"

namespace facto::fmm {

namespace {

factor_t bit(int i) { return factor_t{1} << i; }

factor_t low_mask(int bits) { return bits >= 64 ? ~factor_t{0} : bit(bits) - 1; }


// w in the c_ik convention (bit i*p+k) <-> the c_ki convention (bit k*n+i).
factor_t cik_to_cki(factor_t w, int n, int p) {
    factor_t out = 0;
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < p; ++k)
            if (w & bit(i * p + k)) out |= bit(k * n + i);
    return out;
}

}  // namespace

const char* product_name(product_kind kind) noexcept {
    switch (kind) {
        case product_kind::a_at: return "aat";
        case product_kind::upper_triangular: return "triu";
        case product_kind::symmetric: return "sym";
        case product_kind::general: break;
    }
    return "general";
}

product_kind parse_product(const std::string& name) {
    for (product_kind k : {product_kind::general, product_kind::a_at, product_kind::upper_triangular,
                           product_kind::symmetric})
        if (name == product_name(k)) return k;
    throw invalid_argument("fmm::parse_product: product '" + name + "': expected general, aat, triu or sym");
}

void check_format(int n, int m, int p, product_kind kind) {
    if (n < 1 || m < 1 || p < 1 || n * m > 64 || m * p > 64 || p * n > 64)
        throw invalid_argument("fmm::check_format: format " + detail::format_name(n, m, p) +
                               ": expected dimensions >= 1 with n*m, m*p and p*n at most 64 (one word per factor)");
    if (kind == product_kind::a_at && p != n)
        throw invalid_argument("fmm::check_format: product aat (C = A A^T) of format " + detail::format_name(n, m, p) +
                               ": expected P = N (A is N x M, A^T is M x N)");
    if ((kind == product_kind::upper_triangular || kind == product_kind::symmetric) && m != n)
        throw invalid_argument("fmm::check_format: product " + std::string(product_name(kind)) + " of format " +
                               detail::format_name(n, m, p) + ": expected M = N (A is square)");
}

factor_t allowed_bits(int n, int m, int p, product_kind kind, int position) {
    check_format(n, m, p, kind);
    // Upper triangle (i <= j) of an N x N mask, row-major.
    auto upper = [](int size) {
        factor_t f = 0;
        for (int i = 0; i < size; ++i)
            for (int j = i; j < size; ++j) f |= bit(i * size + j);
        return f;
    };
    switch (position) {
        case 0:
            return kind == product_kind::upper_triangular || kind == product_kind::symmetric ? upper(n) : low_mask(n * m);
        case 1: return low_mask(m * p);
        case 2:
            // a_at: c_ik for i >= k, which is bit k*n+i of the C^T mask: its upper triangle.
            return kind == product_kind::a_at ? upper(n) : low_mask(p * n);
        default: throw invalid_argument("fmm::allowed_bits: position " + std::to_string(position) + ", expected 0, 1 or 2");
    }
}

namespace {

// T[x, y, z] of the product's tensor, for bits x of u, y of v and z of w in the scheme's layout.
bool tensor_entry(int n, int m, int p, product_kind kind, int x, int y, int z) {
    const int zk = z / n, zi = z % n;  // w bit k*n+i is c_ki
    switch (kind) {
        case product_kind::general:
        case product_kind::upper_triangular: {
            const int i = x / m, j = x % m, j2 = y / p, k = y % p;
            return j == j2 && zk == k && zi == i && (kind == product_kind::general || i <= j);
        }
        case product_kind::a_at: {
            const int i = x / m, j = x % m, k = y / m, j2 = y % m;  // v bit k*m+j is a_kj = b_jk
            return j == j2 && zk == k && zi == i && i >= k;
        }
        case product_kind::symmetric: {
            const int r = x / n, s = x % n, j = y / p, k = y % p;  // a_rs = a_sr, r <= s
            return r <= s && zk == k && ((zi == r && j == s) || (zi == s && j == r));
        }
    }
    return false;
}

}  // namespace

scheme standard_scheme(int n, int m, int p, product_kind kind) {
    check_format(n, m, p, kind);
    scheme s{n, m, p, {}, kind};
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < m; ++j)
            for (int k = 0; k < p; ++k) {
                const factor_t c = bit(k * n + i);
                switch (kind) {
                    case product_kind::general: s.terms.push_back({bit(i * m + j), bit(j * p + k), c}); break;
                    case product_kind::a_at:
                        if (i >= k) s.terms.push_back({bit(i * m + j), bit(k * m + j), c});
                        break;
                    case product_kind::upper_triangular:
                        if (i <= j) s.terms.push_back({bit(i * m + j), bit(j * p + k), c});
                        break;
                    case product_kind::symmetric:
                        s.terms.push_back({bit(std::min(i, j) * n + std::max(i, j)), bit(j * p + k), c});
                        break;
                }
            }
    return s;
}

scheme strassen_scheme() {
    // Entries of 2x2 matrices as bits: a11=0, a12=1, a21=2, a22=3 (row-major); the same for B,
    // and W lists c_ki at bit k*2+i, so c11=0, c21=1, c12=2, c22=3.
    auto A = [](std::initializer_list<int> ij) {
        factor_t f = 0;
        for (int e : ij) f |= bit(e);
        return f;
    };
    const int a11 = 0, a12 = 1, a21 = 2, a22 = 3;
    const int b11 = 0, b12 = 1, b21 = 2, b22 = 3;
    const int c11 = 0, c21 = 1, c12 = 2, c22 = 3;
    scheme s{2, 2, 2, {}};
    s.terms = {
        {A({a11, a22}), A({b11, b22}), A({c11, c22})},  // M1 = (a11+a22)(b11+b22)
        {A({a21, a22}), A({b11}), A({c21, c22})},        // M2 = (a21+a22) b11
        {A({a11}), A({b12, b22}), A({c12, c22})},        // M3 = a11 (b12-b22)
        {A({a22}), A({b21, b11}), A({c11, c21})},        // M4 = a22 (b21-b11)
        {A({a11, a12}), A({b22}), A({c11, c12})},        // M5 = (a11+a12) b22
        {A({a21, a11}), A({b11, b12}), A({c22})},        // M6 = (a21-a11)(b11+b12)
        {A({a12, a22}), A({b21, b22}), A({c11})},        // M7 = (a12-a22)(b21+b22)
    };
    return s;
}

scheme product_scheme(const scheme& a, const scheme& b) {
    if (a.product != product_kind::general || b.product != product_kind::general)
        throw invalid_argument("fmm::product_scheme: expected schemes of general products, found " +
                               std::string(product_name(a.product != product_kind::general ? a.product : b.product)));
    check_format(a.n, a.m, a.p);
    check_format(b.n, b.m, b.p);
    scheme s{a.n * b.n, a.m * b.m, a.p * b.p, {}};
    check_format(s.n, s.m, s.p);
    // Entry (r1 r, c1 c) of a factor of shape (R1 R2) x (C1 C2) from entries (r1, c1) and (r, c).
    auto kron = [](factor_t x, int R1, int C1, factor_t y, int R2, int C2) {
        factor_t out = 0;
        for (int r1 = 0; r1 < R1; ++r1)
            for (int c1 = 0; c1 < C1; ++c1) {
                if (!(x & bit(r1 * C1 + c1))) continue;
                for (int r2 = 0; r2 < R2; ++r2)
                    for (int c2 = 0; c2 < C2; ++c2)
                        if (y & bit(r2 * C2 + c2)) out |= bit((r1 * R2 + r2) * (C1 * C2) + c1 * C2 + c2);
            }
        return out;
    };
    for (const term& x : a.terms)
        for (const term& y : b.terms)
            s.terms.push_back({kron(x.u, a.n, a.m, y.u, b.n, b.m), kron(x.v, a.m, a.p, y.v, b.m, b.p),
                               kron(x.w, a.p, a.n, y.w, b.p, b.n)});
    return s;
}

verify_result verify(const scheme& s) {
    check_format(s.n, s.m, s.p, s.product);
    const int nu = s.n * s.m, nv = s.m * s.p, nw = s.p * s.n;
    const std::size_t R = s.terms.size(), words = (R + 63) / 64;
    verify_result res;
    const factor_t ok_u = allowed_bits(s.n, s.m, s.p, s.product, 0), ok_v = allowed_bits(s.n, s.m, s.p, s.product, 1),
                   ok_w = allowed_bits(s.n, s.m, s.p, s.product, 2);
    for (std::size_t r = 0; r < R; ++r) {
        const term& t = s.terms[r];
        if ((t.u & ~ok_u) || (t.v & ~ok_v) || (t.w & ~ok_w)) {
            res.ok = false;
            res.message = "term " + std::to_string(r + 1) + " has bits outside the format " + detail::format_name(s.n, s.m, s.p) +
                          (s.product == product_kind::general ? std::string()
                                                              : std::string(" (product ") + product_name(s.product) +
                                                                    ": only its independent entries)");
            return res;
        }
    }
    // Bit-sliced: sets[x] is the set of terms with bit x of the factor set, one bit per term.
    auto slice = [&](auto get, int bits) {
        std::vector<std::uint64_t> sets(static_cast<std::size_t>(bits) * words, 0);
        for (std::size_t r = 0; r < R; ++r)
            for (int x = 0; x < bits; ++x)
                if (get(s.terms[r]) & bit(x)) sets[x * words + r / 64] |= std::uint64_t{1} << (r % 64);
        return sets;
    };
    const auto U = slice([](const term& t) { return t.u; }, nu);
    const auto V = slice([](const term& t) { return t.v; }, nv);
    const auto W = slice([](const term& t) { return t.w; }, nw);
    std::vector<std::uint64_t> uv(words);
    for (int x = 0; x < nu; ++x) {
        for (int y = 0; y < nv; ++y) {
            for (std::size_t q = 0; q < words; ++q) uv[q] = U[x * words + q] & V[y * words + q];
            for (int z = 0; z < nw; ++z) {
                int count = 0;
                for (std::size_t q = 0; q < words; ++q) count += std::popcount(uv[q] & W[z * words + q]);
                const int expected = tensor_entry(s.n, s.m, s.p, s.product, x, y, z) ? 1 : 0;
                if ((count & 1) != expected) {
                    if (res.ok) {
                        res.ok = false;
                        res.x = x, res.y = y, res.z = z;
                    }
                    ++res.failures;
                }
            }
        }
    }
    if (!res.ok) {
        // The second factor is over A for A A^T (bit k*m+j is a_kj), over B otherwise.
        const bool aat = s.product == product_kind::a_at;
        const int vcols = aat ? s.m : s.p;
        res.message = std::to_string(res.failures) + " Brent equations fail for " + detail::format_name(s.n, s.m, s.p) +
                      (s.product == product_kind::general ? "" : std::string(" product ") + product_name(s.product)) +
                      ", the first at (a" + std::to_string(res.x / s.m + 1) + std::to_string(res.x % s.m + 1) +
                      (aat ? ", a" : ", b") + std::to_string(res.y / vcols + 1) + std::to_string(res.y % vcols + 1) +
                      ", c" + std::to_string(res.z / s.n + 1) + std::to_string(res.z % s.n + 1) +
                      " in c_ki order): expected the parity of the multiplication tensor";
    }
    return res;
}

void require_valid(const scheme& s, const std::string& what) {
    const verify_result r = verify(s);
    if (!r.ok) throw invalid_argument(what + ": the scheme is not a valid multiplication scheme: " + r.message);
}

// ---------------------------------------------------------------------------------------
// Text format

std::string to_text(const scheme& s) {
    check_format(s.n, s.m, s.p);
    std::ostringstream o;
    o << "# facto fmm scheme: terms u v w, u bit i*m+j = a_ij, v bit j*p+k = b_jk, w bit k*n+i = c_ki\n";
    o << "fmm " << s.n << " " << s.m << " " << s.p << "\nfield gf2\nconvention cki\n";
    if (s.product != product_kind::general) o << "product " << product_name(s.product) << "\n";
    o << "rank " << s.rank() << "\n";
    auto bits = [&](factor_t f, int count) {
        std::string str(count, '0');
        for (int i = 0; i < count; ++i)
            if (f & bit(i)) str[i] = '1';
        return str;
    };
    for (const term& t : s.terms)
        o << bits(t.u, s.n * s.m) << " " << bits(t.v, s.m * s.p) << " " << bits(t.w, s.p * s.n) << "\n";
    return o.str();
}

scheme parse_text(const std::string& text, const std::string& name, bool transpose_c) {
    std::istringstream in(text);
    std::string line;
    std::size_t lineno = 0;
    scheme s;
    detail::text_header head(transpose_c);
    auto parse_bits = [&](const std::string& word, int count, const char* which) {
        if (static_cast<int>(word.size()) != count)
            throw parse_error(name, lineno,
                              std::string("factor ") + which + " '" + word + "' has " + std::to_string(word.size()) +
                                  " characters, expected " + std::to_string(count) + " (0 or 1)");
        factor_t f = 0;
        for (int i = 0; i < count; ++i) {
            if (word[i] == '1') f |= bit(i);
            else if (word[i] != '0')
                throw parse_error(name, lineno,
                                  std::string("factor ") + which + " has '" + word[i] + "', expected 0 or 1");
        }
        return f;
    };
    while (std::getline(in, line)) {
        ++lineno;
        const std::vector<std::string> words = detail::scheme_words(line);
        if (words.empty() || head.take(words, line, name, lineno)) continue;
        if (words[0] == "field") {
            if (words.size() != 2 || words[1] != "gf2")
                throw parse_error(name, lineno, "expected 'field gf2', found '" + line + "'");
        } else if (words[0] == "product") {
            if (words.size() != 2) throw parse_error(name, lineno, "expected 'product general|aat|triu|sym'");
            try {
                s.product = parse_product(words[1]);
            } catch (const invalid_argument&) {
                throw parse_error(name, lineno, "product '" + words[1] + "': expected general, aat, triu or sym");
            }
            if (!s.terms.empty()) throw parse_error(name, lineno, "the 'product' line must come before the terms");
        } else {
            if (!head.have_format) throw parse_error(name, lineno, "found a term before the 'fmm N M P' line");
            if (words.size() != 3)
                throw parse_error(name, lineno,
                                  "expected a term of three 0/1 strings (u v w), found " + std::to_string(words.size()) +
                                      " words");
            s.n = head.n, s.m = head.m, s.p = head.p;
            term t;
            t.u = parse_bits(words[0], s.n * s.m, "u");
            t.v = parse_bits(words[1], s.m * s.p, "v");
            t.w = parse_bits(words[2], s.n * s.p, "w");
            if (head.cik) t.w = cik_to_cki(t.w, s.n, s.p);
            s.terms.push_back(t);
        }
    }
    head.finish(s.rank(), name);
    s.n = head.n, s.m = head.m, s.p = head.p;
    try {
        check_format(s.n, s.m, s.p, s.product);
    } catch (const invalid_argument& e) {
        throw parse_error(name, 0, e.what());
    }
    require_valid(s, "fmm::parse_text(" + name + ")");
    return s;
}

// ---------------------------------------------------------------------------------------
// Files

void write_scheme_text(const std::string& path, const scheme& s) { write_file_atomic(path, to_text(s)); }

void write_scheme_npy(const std::string& folder, const scheme& s) {
    check_format(s.n, s.m, s.p);
    if (s.product != product_kind::general)
        throw invalid_argument("fmm::write_scheme_npy(" + folder + "): a scheme of the structured product " +
                               product_name(s.product) +
                               ": the .npy folder format holds general products only; use the text format");
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec) throw io_error("fmm::write_scheme_npy: cannot create folder '" + folder + "': " + ec.message());
    const index_t R = s.rank();
    tensor U({R, s.n, s.m}), V({R, s.m, s.p}), W({R, s.p, s.n});
    for (index_t r = 0; r < R; ++r) {
        const term& t = s.terms[r];
        for (int e = 0; e < s.n * s.m; ++e) U.data()[r * s.n * s.m + e] = (t.u >> e) & 1;
        for (int e = 0; e < s.m * s.p; ++e) V.data()[r * s.m * s.p + e] = (t.v >> e) & 1;
        for (int e = 0; e < s.p * s.n; ++e) W.data()[r * s.p * s.n + e] = (t.w >> e) & 1;
    }
    write_npy<double>(folder + "/U.npy", U.view());
    write_npy<double>(folder + "/V.npy", V.view());
    write_npy<double>(folder + "/W.npy", W.view());
}

namespace {

scheme read_scheme_npy(const std::string& folder, bool transpose_c) {
    const tensor U = read_npy<double>(folder + "/U.npy");
    const tensor V = read_npy<double>(folder + "/V.npy");
    const tensor W = read_npy<double>(folder + "/W.npy");
    const std::string what = "fmm::read_scheme(" + folder + ")";
    if (U.order() != 3 || V.order() != 3 || W.order() != 3)
        throw parse_error(folder, 0, "expected U, V, W of order 3 (R x n x m, R x m x p, R x p x n)");
    const index_t R = U.shape()[0];
    const int n = static_cast<int>(U.shape()[1]), m = static_cast<int>(U.shape()[2]);
    const int p = static_cast<int>(V.shape()[2]);
    const shape_t wshape = transpose_c ? shape_t{R, n, p} : shape_t{R, p, n};
    if (V.shape() != shape_t{R, m, p} || W.shape() != wshape)
        throw parse_error(folder, 0,
                          "shapes of U, V, W do not match: expected R x n x m, R x m x p and " +
                              std::string(transpose_c ? "R x n x p (c_ik)" : "R x p x n (c_ki)"));
    try {
        check_format(n, m, p);
    } catch (const invalid_argument& e) {
        throw parse_error(folder, 0, e.what());
    }
    auto to_bit = [&](double x, const char* which) -> factor_t {
        if (!std::isfinite(x) || x != std::round(x))
            throw parse_error(folder, 0,
                              std::string(which) + ".npy holds " + std::to_string(x) + ", expected integers (mod 2)");
        return static_cast<factor_t>(std::fmod(std::fabs(x), 2.0) != 0.0);
    };
    scheme s{n, m, p, std::vector<term>(R)};
    for (index_t r = 0; r < R; ++r) {
        term& t = s.terms[r];
        for (int e = 0; e < n * m; ++e) t.u |= to_bit(U.data()[r * n * m + e], "U") << e;
        for (int e = 0; e < m * p; ++e) t.v |= to_bit(V.data()[r * m * p + e], "V") << e;
        for (int e = 0; e < p * n; ++e) t.w |= to_bit(W.data()[r * p * n + e], "W") << e;
        if (transpose_c) t.w = cik_to_cki(t.w, n, p);
    }
    require_valid(s, what);
    return s;
}

}  // namespace

scheme read_scheme(const std::string& path, bool transpose_c) {
    if (std::filesystem::is_directory(path)) return read_scheme_npy(path, transpose_c);
    return parse_text(read_file(path), path, transpose_c);
}

}  // namespace facto::fmm
