// src/fmm/lift.cpp: lifting GF(2) schemes to Z or Q: Hensel lifting with one GF(2)
// factorization of the Jacobian, rational reconstruction, and sign lifting to {-1, 0, 1}.
#include "facto/fmm/lift.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "facto/core/error.hpp"

namespace facto::fmm {

namespace {

using i128 = __int128;
using u128 = unsigned __int128;

// Gauss-Jordan elimination over GF(2) of a rows x cols matrix, bit-packed, with the row
// operations recorded (an identity block carried along), so that A x = b is solved for many
// right-hand sides b at the cost of one matrix-vector product each.
class gf2_solver {
public:
    gf2_solver(int rows, int cols)
        : rows_(rows), cols_(cols), cw_((cols + 63) / 64), ew_((rows + 63) / 64), stride_(cw_ + ew_) {
        const double bytes = double(rows) * stride_ * 8;
        if (bytes > 2e9)
            throw invalid_argument("fmm::lift: the linear system (" + std::to_string(rows) + " x " +
                                   std::to_string(cols) + " over GF(2)) needs " +
                                   std::to_string(static_cast<long long>(bytes / 1e6)) +
                                   " MB; at most 2000 MB is allowed");
        a_.assign(static_cast<std::size_t>(rows) * stride_, 0);
        for (int r = 0; r < rows; ++r) row(r)[cw_ + r / 64] |= std::uint64_t{1} << (r % 64);
    }
    void flip(int r, int c) { row(r)[c / 64] ^= std::uint64_t{1} << (c % 64); }

    void factor() {
        rank_ = 0;
        for (int c = 0; c < cols_ && rank_ < rows_; ++c) {
            const int w = c / 64;
            const std::uint64_t b = std::uint64_t{1} << (c % 64);
            int pr = rank_;
            while (pr < rows_ && !(row(pr)[w] & b)) ++pr;
            if (pr == rows_) continue;
            if (pr != rank_) std::swap_ranges(row(pr), row(pr) + stride_, row(rank_));
            const std::uint64_t* piv = row(rank_);
            for (int i = 0; i < rows_; ++i) {
                if (i == rank_ || !(row(i)[w] & b)) continue;
                std::uint64_t* dst = row(i);
                for (int q = w; q < stride_; ++q) dst[q] ^= piv[q];
            }
            pivots_.push_back(c);
            ++rank_;
        }
    }
    int rank() const noexcept { return rank_; }
    const std::vector<int>& pivots() const noexcept { return pivots_; }
    // Coefficient of column c in echelon row i (after factor()).
    bool at(int i, int c) const { return (row(i)[c / 64] >> (c % 64)) & 1; }

    // b: rows bits packed in words. On success x (cols entries) is the solution with every free
    // variable 0; false when the system is inconsistent.
    bool solve(const std::vector<std::uint64_t>& b, std::vector<std::uint8_t>& x) const {
        x.assign(cols_, 0);
        for (int i = 0; i < rows_; ++i) {
            const std::uint64_t* L = row(i) + cw_;
            int parity = 0;
            for (int q = 0; q < ew_; ++q) parity ^= std::popcount(L[q] & b[q]) & 1;
            if (i < rank_) x[pivots_[i]] = static_cast<std::uint8_t>(parity);
            else if (parity) return false;
        }
        return true;
    }
    int words_for_rhs() const noexcept { return ew_; }

private:
    std::uint64_t* row(int r) { return a_.data() + static_cast<std::size_t>(r) * stride_; }
    const std::uint64_t* row(int r) const { return a_.data() + static_cast<std::size_t>(r) * stride_; }
    int rows_, cols_, cw_, ew_, stride_;
    int rank_ = 0;
    std::vector<int> pivots_;
    std::vector<std::uint64_t> a_;
};

// Lifting solves the Brent equations of the general product only.
void require_general(const scheme& s, const char* what) {
    if (s.product != product_kind::general)
        throw invalid_argument(std::string(what) + ": the scheme is for the structured product '" +
                               product_name(s.product) + "'; only general products are lifted");
}

// The Brent system's layout: variable (t, position, entry) at t*L + offset, equation (x, y, z)
// at (x*nv + y)*nw + z.
struct brent_layout {
    int n, m, p, nu, nv, nw, L, R;
    std::size_t E;
    explicit brent_layout(const scheme& s)
        : n(s.n), m(s.m), p(s.p), nu(s.n * s.m), nv(s.m * s.p), nw(s.p * s.n), L(nu + nv + nw), R(s.rank()),
          E(static_cast<std::size_t>(nu) * nv * nw) {}
    std::size_t eq(int x, int y, int z) const { return (static_cast<std::size_t>(x) * nv + y) * nw + z; }
    int target(int x, int y, int z) const {
        return (x % m == y / p && z == (y % p) * n + x / m) ? 1 : 0;
    }
};

std::vector<std::uint64_t> zero_one_values(const scheme& s, const brent_layout& g) {
    std::vector<std::uint64_t> x(static_cast<std::size_t>(g.R) * g.L, 0);
    for (int t = 0; t < g.R; ++t) {
        const term& e = s.terms[t];
        for (int q = 0; q < g.nu; ++q) x[t * g.L + q] = (e.u >> q) & 1;
        for (int q = 0; q < g.nv; ++q) x[t * g.L + g.nu + q] = (e.v >> q) & 1;
        for (int q = 0; q < g.nw; ++q) x[t * g.L + g.nu + g.nv + q] = (e.w >> q) & 1;
    }
    return x;
}

// T - F(x) mod 2^64 for every equation.
std::vector<std::uint64_t> residual(const std::vector<std::uint64_t>& x, const brent_layout& g) {
    std::vector<std::uint64_t> res(g.E, 0);
    std::vector<int> xs, ys, zs;
    for (int t = 0; t < g.R; ++t) {
        const std::uint64_t* u = &x[t * g.L];
        const std::uint64_t* v = u + g.nu;
        const std::uint64_t* w = v + g.nv;
        xs.clear(), ys.clear(), zs.clear();
        for (int q = 0; q < g.nu; ++q)
            if (u[q]) xs.push_back(q);
        for (int q = 0; q < g.nv; ++q)
            if (v[q]) ys.push_back(q);
        for (int q = 0; q < g.nw; ++q)
            if (w[q]) zs.push_back(q);
        for (int a : xs)
            for (int b : ys) {
                const std::uint64_t uv = u[a] * v[b];
                for (int c : zs) res[g.eq(a, b, c)] -= uv * w[c];
            }
    }
    for (int a = 0; a < g.nu; ++a)
        for (int b = 0; b < g.nv; ++b)
            for (int c = 0; c < g.nw; ++c) res[g.eq(a, b, c)] += static_cast<std::uint64_t>(g.target(a, b, c));
    return res;
}

exact_scheme build_exact(const std::vector<rational>& c, const brent_layout& g) {
    exact_scheme s{g.n, g.m, g.p, {}};
    for (int t = 0; t < g.R; ++t) {
        const rational* base = &c[static_cast<std::size_t>(t) * g.L];
        s.terms.push_back({std::vector<rational>(base, base + g.nu),
                           std::vector<rational>(base + g.nu, base + g.nu + g.nv),
                           std::vector<rational>(base + g.nu + g.nv, base + g.L)});
    }
    return s;
}

u128 isqrt(u128 x) {
    u128 r = static_cast<u128>(std::sqrt(static_cast<long double>(x)));
    while (r * r > x) --r;
    while ((r + 1) * (r + 1) <= x) ++r;
    return r;
}

}  // namespace

std::optional<rational> rational_reconstruct(std::uint64_t a, int K) {
    if (K < 1 || K > 64) throw invalid_argument("fmm::rational_reconstruct: K = " + std::to_string(K) + ", expected 1..64");
    const u128 M = u128{1} << K;
    const u128 bound = isqrt(M / 2);
    // Extended Euclid on (M, a), stopped at the first remainder <= bound: r_i = t_i a (mod M).
    i128 r0 = static_cast<i128>(M), r1 = static_cast<i128>(static_cast<u128>(a) & (M - 1));
    i128 t0 = 0, t1 = 1;
    while (static_cast<u128>(r1) > bound) {
        const i128 q = r0 / r1;
        const i128 r2 = r0 - q * r1, t2 = t0 - q * t1;
        r0 = r1, r1 = r2, t0 = t1, t1 = t2;
    }
    i128 num = r1, den = t1;
    if (den < 0) num = -num, den = -den;
    if (den == 0 || static_cast<u128>(den) > bound || den % 2 == 0) return std::nullopt;
    i128 x = num, y = den;  // gcd(num, den) must be 1 for the unique reconstruction
    if (x < 0) x = -x;
    while (y) {
        const i128 t = x % y;
        x = y;
        y = t;
    }
    if (x != 1) return std::nullopt;
    return make_rational(static_cast<std::int64_t>(num), static_cast<std::int64_t>(den));
}

namespace {

// One Hensel lifting; failed_step is the step whose linear system was inconsistent (0: none).
std::optional<exact_scheme> hensel_attempt(const scheme& s, int K, bool support_only, std::uint64_t column_order,
                                           std::string& why, int& failed_step) {
    failed_step = 0;
    const brent_layout g(s);
    std::vector<std::uint64_t> x = zero_one_values(s, g);
    // Unknowns: the support (x0 = 1) or every entry, the 1-entries first so that elimination
    // prefers pivots there and the zeros of the scheme stay zero where they can.
    std::vector<int> var_of_col;
    for (std::size_t i = 0; i < x.size(); ++i)
        if (x[i]) var_of_col.push_back(static_cast<int>(i));
    const std::size_t ones = var_of_col.size();
    if (!support_only)
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!x[i]) var_of_col.push_back(static_cast<int>(i));
    if (column_order) {  // another choice of pivots, hence of the free variables kept at x0
        std::mt19937_64 rng(column_order);
        std::shuffle(var_of_col.begin(), var_of_col.begin() + static_cast<std::ptrdiff_t>(ones), rng);
        std::shuffle(var_of_col.begin() + static_cast<std::ptrdiff_t>(ones), var_of_col.end(), rng);
    }
    std::vector<int> col_of_var(x.size(), -1);
    for (std::size_t c = 0; c < var_of_col.size(); ++c) col_of_var[var_of_col[c]] = static_cast<int>(c);

    // Jacobian at x0 over GF(2): d/du_t[a] of equation (a, b, c) is v_t[b] w_t[c], and so on.
    gf2_solver J(static_cast<int>(g.E), static_cast<int>(var_of_col.size()));
    for (int t = 0; t < g.R; ++t) {
        const term& e = s.terms[t];
        for (int a = 0; a < g.nu; ++a)
            for (int b = 0; b < g.nv; ++b)
                for (int c = 0; c < g.nw; ++c) {
                    const bool ua = (e.u >> a) & 1, vb = (e.v >> b) & 1, wc = (e.w >> c) & 1;
                    const int eq = static_cast<int>(g.eq(a, b, c));
                    if (vb && wc && col_of_var[t * g.L + a] >= 0) J.flip(eq, col_of_var[t * g.L + a]);
                    if (ua && wc && col_of_var[t * g.L + g.nu + b] >= 0) J.flip(eq, col_of_var[t * g.L + g.nu + b]);
                    if (ua && vb && col_of_var[t * g.L + g.nu + g.nv + c] >= 0)
                        J.flip(eq, col_of_var[t * g.L + g.nu + g.nv + c]);
                }
    }
    J.factor();

    std::vector<std::uint64_t> rhs(J.words_for_rhs());
    std::vector<std::uint8_t> d;
    for (int k = 1; k < K; ++k) {
        const std::vector<std::uint64_t> res = residual(x, g);  // divisible by 2^k
        std::fill(rhs.begin(), rhs.end(), 0);
        bool any = false;
        for (std::size_t e = 0; e < g.E; ++e)
            if ((res[e] >> k) & 1) rhs[e / 64] |= std::uint64_t{1} << (e % 64), any = true;
        if (!any) continue;
        if (!J.solve(rhs, d)) {
            failed_step = k;
            why = "the linear system J d = (T - F(x)) / 2^" + std::to_string(k) +
                  " (mod 2) is inconsistent at step " + std::to_string(k) + " (J: " + std::to_string(g.E) + " x " +
                  std::to_string(var_of_col.size()) + ", rank " + std::to_string(J.rank()) + " over GF(2)); ";
            // Step 1 involves no choice: every lift is x0 + 2 d1 + ... with J d1 = b1 (mod 2).
            if (k == 1)
                why += support_only ? "so no lift keeps the support of the GF(2) scheme (entries that are 0 mod 2 "
                                      "must become nonzero even numbers)"
                                    : "so nothing lifts it even mod 4: no scheme over Z, or over Q with odd "
                                      "denominators, reduces to it";
            else
                why += "with these free variables kept at their GF(2) values the lifting stops";
            return std::nullopt;
        }
        for (std::size_t c = 0; c < d.size(); ++c)
            if (d[c]) x[var_of_col[c]] += std::uint64_t{1} << k;
    }
    std::vector<rational> coeffs(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const std::optional<rational> r = rational_reconstruct(x[i], K);
        if (!r) {
            why = "coefficient " + std::to_string(i % g.L + 1) + " of term " + std::to_string(i / g.L + 1) +
                  " has no rational reconstruction with numerator and denominator below sqrt(2^" +
                  std::to_string(K - 1) + ") (the 2-adic solution is not a small rational; try a higher precision)";
            return std::nullopt;
        }
        coeffs[i] = *r;
    }
    exact_scheme out = build_exact(coeffs, g);
    const verify_result v = verify_exact(out);
    if (!v.ok) {
        why = "the reconstructed rational scheme does not verify: " + v.message;
        return std::nullopt;
    }
    return out;
}

}  // namespace

std::optional<exact_scheme> hensel_lift(const scheme& s, int K, bool support_only, std::string& why,
                                        std::uint64_t column_order) {
    require_general(s, "fmm::hensel_lift");
    require_valid(s, "fmm::hensel_lift");
    if (K < 2 || K > 64) throw invalid_argument("fmm::hensel_lift: precision K = " + std::to_string(K) + ", expected 2..64");
    int failed_step = 0;
    return hensel_attempt(s, K, support_only, column_order, why, failed_step);
}

std::optional<exact_scheme> sign_lift(const scheme& s, std::uint64_t node_limit, std::string& why) {
    require_general(s, "fmm::sign_lift");
    require_valid(s, "fmm::sign_lift");
    const brent_layout g(s);
    const std::vector<std::uint64_t> x0 = zero_one_values(s, g);
    std::vector<int> col_of_var(x0.size(), -1), var_of_col;
    for (std::size_t i = 0; i < x0.size(); ++i)
        if (x0[i]) col_of_var[i] = static_cast<int>(var_of_col.size()), var_of_col.push_back(static_cast<int>(i));
    const int S = static_cast<int>(var_of_col.size());

    // For every equation the terms whose support covers it, as their three sign variables.
    struct contribution {
        int cu, cv, cw;
    };
    std::vector<std::vector<contribution>> by_eq(g.E);
    for (int t = 0; t < g.R; ++t) {
        const term& e = s.terms[t];
        for (int a = 0; a < g.nu; ++a) {
            if (!((e.u >> a) & 1)) continue;
            for (int b = 0; b < g.nv; ++b) {
                if (!((e.v >> b) & 1)) continue;
                for (int c = 0; c < g.nw; ++c)
                    if ((e.w >> c) & 1)
                        by_eq[g.eq(a, b, c)].push_back({col_of_var[t * g.L + a], col_of_var[t * g.L + g.nu + b],
                                                         col_of_var[t * g.L + g.nu + g.nv + c]});
            }
        }
    }
    // Mod 4, (-1)^s = 1 - 2s, so sum over the c covering terms of (-1)^(su+sv+sw) = T requires
    // sum (su+sv+sw) = (c - T)/2 (mod 2): linear, and exact for c <= 2.
    std::vector<std::size_t> rows_eq;
    for (std::size_t e = 0; e < g.E; ++e)
        if (!by_eq[e].empty()) rows_eq.push_back(e);
    const int gauge_rows = 2 * g.R;
    gf2_solver A(static_cast<int>(rows_eq.size()) + gauge_rows, S);
    std::vector<std::uint64_t> rhs(A.words_for_rhs(), 0);
    for (std::size_t r = 0; r < rows_eq.size(); ++r) {
        const std::size_t e = rows_eq[r];
        const int a = static_cast<int>(e / (static_cast<std::size_t>(g.nv) * g.nw));
        const int b = static_cast<int>(e / g.nw % g.nv), c = static_cast<int>(e % g.nw);
        for (const contribution& k : by_eq[e])
            for (int col : {k.cu, k.cv, k.cw}) A.flip(static_cast<int>(r), col);
        const int count = static_cast<int>(by_eq[e].size());
        if (((count - g.target(a, b, c)) / 2) & 1) rhs[r / 64] |= std::uint64_t{1} << (r % 64);
    }
    // Scaling symmetry (u, v, w) -> (-u, -v, w), (-u, v, -w): fix the first sign of u and of v.
    for (int t = 0; t < g.R; ++t) {
        const term& e = s.terms[t];
        const int r = static_cast<int>(rows_eq.size()) + 2 * t;
        if (e.u) A.flip(r, col_of_var[t * g.L + std::countr_zero(e.u)]);
        if (e.v) A.flip(r + 1, col_of_var[t * g.L + g.nu + std::countr_zero(e.v)]);
    }
    A.factor();
    std::vector<std::uint8_t> sigma0;
    if (!A.solve(rhs, sigma0)) {
        why = "the Brent equations mod 4 have no solution in signs on this support, so no scheme with "
              "coefficients in {-1, 0, 1} has this GF(2) image";
        return std::nullopt;
    }
    // Every sign as an affine function of the free variables lambda: pivot i = sigma0 + sum of
    // its row's free columns; a free column is its own lambda.
    std::vector<int> free_index(S, -1), free_cols;
    {
        std::vector<char> is_pivot(S, 0);
        for (int c : A.pivots()) is_pivot[c] = 1;
        for (int c = 0; c < S; ++c)
            if (!is_pivot[c]) free_index[c] = static_cast<int>(free_cols.size()), free_cols.push_back(c);
    }
    const int f = static_cast<int>(free_cols.size());
    const int fw = std::max(1, (f + 63) / 64);
    std::vector<std::uint64_t> form(static_cast<std::size_t>(S) * fw, 0);
    std::vector<std::uint8_t> form_const(S, 0);
    for (int i = 0; i < A.rank(); ++i) {
        const int pc = A.pivots()[i];
        form_const[pc] = sigma0[pc];
        for (int j = 0; j < f; ++j)
            if (A.at(i, free_cols[j])) form[static_cast<std::size_t>(pc) * fw + j / 64] |= std::uint64_t{1} << (j % 64);
    }
    for (int j = 0; j < f; ++j) form[static_cast<std::size_t>(free_cols[j]) * fw + j / 64] |= std::uint64_t{1} << (j % 64);

    // The equations with three or more terms, each term's sign as an affine form.
    struct nonlinear {
        int target;
        int level = -1;  // position in the search order of its last free variable
        std::vector<std::uint64_t> forms;  // count x fw
        std::vector<std::uint8_t> consts;
    };
    std::vector<nonlinear> eqs;
    for (std::size_t e : rows_eq) {
        if (by_eq[e].size() < 3) continue;
        const int a = static_cast<int>(e / (static_cast<std::size_t>(g.nv) * g.nw));
        const int b = static_cast<int>(e / g.nw % g.nv), c = static_cast<int>(e % g.nw);
        nonlinear q;
        q.target = g.target(a, b, c);
        for (const contribution& k : by_eq[e]) {
            std::uint8_t cst = 0;
            for (int w = 0; w < fw; ++w) q.forms.push_back(0);
            std::uint64_t* dst = &q.forms[q.forms.size() - fw];
            for (int col : {k.cu, k.cv, k.cw}) {
                for (int w = 0; w < fw; ++w) dst[w] ^= form[static_cast<std::size_t>(col) * fw + w];
                cst ^= form_const[col];
            }
            q.consts.push_back(cst);
        }
        eqs.push_back(std::move(q));
    }
    // Search order: equations by how many free variables they involve, their variables first.
    auto vars_of = [&](const nonlinear& q) {
        std::vector<std::uint64_t> any(fw, 0);
        for (std::size_t k = 0; k < q.consts.size(); ++k)
            for (int w = 0; w < fw; ++w) any[w] |= q.forms[k * fw + w];
        return any;
    };
    std::vector<int> order_of_eq(eqs.size());
    std::iota(order_of_eq.begin(), order_of_eq.end(), 0);
    std::vector<int> eq_vars(eqs.size());
    for (std::size_t q = 0; q < eqs.size(); ++q) {
        int cnt = 0;
        for (std::uint64_t w : vars_of(eqs[q])) cnt += std::popcount(w);
        eq_vars[q] = cnt;
    }
    std::stable_sort(order_of_eq.begin(), order_of_eq.end(), [&](int a, int b) { return eq_vars[a] < eq_vars[b]; });
    std::vector<int> position(f, -1), order;  // order[d] = free variable assigned at depth d
    for (int q : order_of_eq) {
        const std::vector<std::uint64_t> any = vars_of(eqs[q]);
        for (int j = 0; j < f; ++j)
            if (((any[j / 64] >> (j % 64)) & 1) && position[j] < 0)
                position[j] = static_cast<int>(order.size()), order.push_back(j);
    }
    const int depth = static_cast<int>(order.size());
    std::vector<std::vector<int>> at_level(depth + 1);  // index 0: no free variable at all
    for (std::size_t q = 0; q < eqs.size(); ++q) {
        const std::vector<std::uint64_t> any = vars_of(eqs[q]);
        int level = -1;
        for (int j = 0; j < f; ++j)
            if ((any[j / 64] >> (j % 64)) & 1) level = std::max(level, position[j]);
        at_level[level + 1].push_back(static_cast<int>(q));
    }
    std::vector<std::uint64_t> lambda(fw, 0);
    auto holds = [&](int q) {
        const nonlinear& e = eqs[q];
        int sum = 0;
        for (std::size_t k = 0; k < e.consts.size(); ++k) {
            int parity = e.consts[k];
            for (int w = 0; w < fw; ++w) parity ^= std::popcount(e.forms[k * fw + w] & lambda[w]) & 1;
            sum += parity ? -1 : 1;
        }
        return sum == e.target;
    };
    auto level_holds = [&](int level) {
        for (int q : at_level[level])
            if (!holds(q)) return false;
        return true;
    };
    bool found = false;
    std::uint64_t nodes = 0;
    if (level_holds(0)) {
        // Depth-first over order[0..depth): choice[d] is 0, then 1, then exhausted.
        std::vector<int> choice(depth, -1);
        int d = 0;
        if (depth == 0) found = true;
        while (d >= 0 && !found) {
            const int j = order[d];
            if (++choice[d] > 1) {
                lambda[j / 64] &= ~(std::uint64_t{1} << (j % 64));
                choice[d] = -1;
                --d;
                continue;
            }
            if (choice[d]) lambda[j / 64] |= std::uint64_t{1} << (j % 64);
            else lambda[j / 64] &= ~(std::uint64_t{1} << (j % 64));
            if (++nodes > node_limit) break;
            if (!level_holds(d + 1)) continue;
            if (d + 1 == depth) found = true;
            else ++d;
        }
    }
    if (!found) {
        why = nodes > node_limit
                  ? "the sign search gave up after " + std::to_string(node_limit) + " nodes (" + std::to_string(depth) +
                        " free signs, " + std::to_string(eqs.size()) + " equations with three or more terms)"
                  : "no signs satisfy the equations with three or more terms (" + std::to_string(depth) +
                        " free signs searched exhaustively): no scheme with coefficients in {-1, 0, 1} has this "
                        "GF(2) image";
        return std::nullopt;
    }
    std::vector<rational> coeffs(x0.size(), rational{0, 1});
    for (int c = 0; c < S; ++c) {
        int parity = form_const[c];
        for (int w = 0; w < fw; ++w) parity ^= std::popcount(form[static_cast<std::size_t>(c) * fw + w] & lambda[w]) & 1;
        coeffs[var_of_col[c]] = {parity ? -1 : 1, 1};
    }
    exact_scheme out = build_exact(coeffs, g);
    const verify_result v = verify_exact(out);
    if (!v.ok) {  // cannot happen when the equations above are right; kept as a guard
        why = "the signed scheme does not verify: " + v.message;
        return std::nullopt;
    }
    return out;
}

lift_result lift(const scheme& s, const lift_options& opts) {
    const auto start = std::chrono::steady_clock::now();
    require_general(s, "fmm::lift");
    require_valid(s, "fmm::lift");
    if (opts.precision < 2 || opts.precision > 64)
        throw invalid_argument("fmm::lift: precision " + std::to_string(opts.precision) + ", expected 2..64");
    if (opts.hensel_orders < 1)
        throw invalid_argument("fmm::lift: hensel_orders " + std::to_string(opts.hensel_orders) + ", expected >= 1");
    lift_result res;
    auto describe = [](const exact_scheme& e) {
        if (is_signed_unit(e)) return std::string("coefficients in {-1, 0, 1}");
        if (e.integral()) return "integer coefficients up to " + std::to_string(max_abs_coefficient(e)) + " in absolute value";
        return "rational coefficients up to " + std::to_string(max_abs_coefficient(e)) + " in absolute value";
    };
    // Lower is better: +-1, then integers, then rationals; then the smaller largest coefficient.
    auto score = [](const exact_scheme& e) {
        return std::pair<int, std::int64_t>(is_signed_unit(e) ? 0 : e.integral() ? 1 : 2, max_abs_coefficient(e));
    };
    std::optional<exact_scheme> found;
    if (opts.hensel) {
        for (const bool support : {true, false}) {
            const std::string what = std::string("Hensel lifting to 2^") + std::to_string(opts.precision) + " (" +
                                     (support ? "support entries" : "all entries") + ")";
            std::string first_failure;
            int failures = 0, tried = 0, kept_order = -1;
            for (int order = 0; order < opts.hensel_orders; ++order) {
                std::string why;
                int failed_step = 0;
                ++tried;
                std::optional<exact_scheme> e =
                    hensel_attempt(s, opts.precision, support, static_cast<std::uint64_t>(order), why, failed_step);
                if (!e) {
                    if (!failures++) first_failure = why;
                    if (failed_step == 1) break;  // step 1 does not depend on the free variables
                    continue;
                }
                if (!found || score(*e) < score(*found)) {
                    found = std::move(e);
                    kept_order = order;
                    res.method = support ? "hensel (support)" : "hensel (all entries)";
                    res.precision = opts.precision;
                }
                if (found->integral()) break;
            }
            if (kept_order >= 0)
                res.messages.push_back(what + ": verified exactly, " + describe(*found) + " (pivot order " +
                                       std::to_string(kept_order + 1) + " of " + std::to_string(tried) + " tried" +
                                       (failures ? ", " + std::to_string(failures) + " failed: " + first_failure : "") +
                                       ")");
            else
                res.messages.push_back(what + (tried > 1 ? ", " + std::to_string(tried) + " pivot orders" : "") + ": " +
                                       first_failure);
            if (found && found->integral()) break;
        }
    }
    if (opts.signs && (!found || !is_signed_unit(*found))) {
        std::string why;
        std::optional<exact_scheme> signed_scheme = sign_lift(s, opts.sign_search_limit, why);
        if (signed_scheme) {
            res.messages.push_back("sign lifting: verified exactly, coefficients in {-1, 0, 1}");
            found = std::move(signed_scheme);
            res.method = "signs";
            res.precision = 0;
        } else {
            res.messages.push_back("sign lifting: " + why);
        }
    }
    if (found) {
        res.lifted = true;
        res.lifted_scheme = std::move(*found);
        res.integral = res.lifted_scheme.integral();
        res.signed_pm1 = is_signed_unit(res.lifted_scheme);
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
}

}  // namespace facto::fmm
