// nmf_bpp.cpp: nonnegative least squares for many right-hand sides by block principal pivoting
// (J. Kim and H. Park, "Fast nonnegative matrix factorization: an active-set-like method and
// comparisons", SIAM J. Sci. Comput. 33(6), 2011), the inner solver of ANLS.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "core/parallel.hpp"
#include "decomp/nmf_detail.hpp"

namespace facto::detail {

namespace {

/// Solves G_PP x_P = b_P for every row of a group sharing the passive set P (x = 0 elsewhere):
/// one Cholesky factorization of G_PP, in double. A pivot that is not safely positive (a
/// singular block: a zero or repeated column in the other factor) gets a tiny ridge.
template <class T>
void solve_group(const std::vector<double>& G, index_t k, const std::uint8_t* passive, const index_t* rows,
                 index_t count, const basic_matrix<T>& B, basic_matrix<T>& X) {
    std::vector<index_t> P;
    for (index_t r = 0; r < k; ++r)
        if (passive[r]) P.push_back(r);
    const index_t p = static_cast<index_t>(P.size());
    if (p == 0) {
        for (index_t t = 0; t < count; ++t) std::fill(X.data() + rows[t] * k, X.data() + (rows[t] + 1) * k, T(0));
        return;
    }
    std::vector<double> L(static_cast<std::size_t>(p * p), 0.0);
    double dmax = 0;
    for (index_t a = 0; a < p; ++a) dmax = std::max(dmax, G[static_cast<std::size_t>(P[a] * k + P[a])]);
    const double floor = std::max(dmax, 1e-300) * 1e-13;
    for (index_t j = 0; j < p; ++j) {
        for (index_t i = j; i < p; ++i) {
            double s = G[static_cast<std::size_t>(P[i] * k + P[j])];
            for (index_t t = 0; t < j; ++t) s -= L[static_cast<std::size_t>(i * p + t)] * L[static_cast<std::size_t>(j * p + t)];
            if (i == j) L[static_cast<std::size_t>(j * p + j)] = std::sqrt(std::max(s, floor));
            else L[static_cast<std::size_t>(i * p + j)] = s / L[static_cast<std::size_t>(j * p + j)];
        }
    }
    std::vector<double> y(static_cast<std::size_t>(p));
    for (index_t t = 0; t < count; ++t) {
        const T* b = B.data() + rows[t] * k;
        T* x = X.data() + rows[t] * k;
        for (index_t i = 0; i < p; ++i) {  // L y = b_P
            double s = static_cast<double>(b[P[i]]);
            for (index_t j = 0; j < i; ++j) s -= L[static_cast<std::size_t>(i * p + j)] * y[static_cast<std::size_t>(j)];
            y[static_cast<std::size_t>(i)] = s / L[static_cast<std::size_t>(i * p + i)];
        }
        for (index_t i = p - 1; i >= 0; --i) {  // L^T x_P = y
            double s = y[static_cast<std::size_t>(i)];
            for (index_t j = i + 1; j < p; ++j) s -= L[static_cast<std::size_t>(j * p + i)] * y[static_cast<std::size_t>(j)];
            y[static_cast<std::size_t>(i)] = s / L[static_cast<std::size_t>(i * p + i)];
        }
        std::fill(x, x + k, T(0));
        for (index_t i = 0; i < p; ++i) x[P[i]] = static_cast<T>(y[static_cast<std::size_t>(i)]);
    }
}

/// Solves the listed rows, grouped by passive set (sorted, so the grouping and so the result do
/// not depend on the thread count).
template <class T>
void solve_rows(const std::vector<double>& G, index_t k, const std::vector<std::uint8_t>& passive,
                std::vector<index_t>& rows, const basic_matrix<T>& B, basic_matrix<T>& X) {
    const std::uint8_t* pass = passive.data();
    std::sort(rows.begin(), rows.end(), [&](index_t a, index_t b) {
        const int c = std::memcmp(pass + a * k, pass + b * k, static_cast<std::size_t>(k));
        return c != 0 ? c < 0 : a < b;
    });
    std::vector<index_t> starts;
    for (std::size_t t = 0; t < rows.size(); ++t)
        if (t == 0 || std::memcmp(pass + rows[t] * k, pass + rows[t - 1] * k, static_cast<std::size_t>(k)) != 0)
            starts.push_back(static_cast<index_t>(t));
    starts.push_back(static_cast<index_t>(rows.size()));
    const index_t groups = static_cast<index_t>(starts.size()) - 1;
#pragma omp parallel for schedule(dynamic, 1) if (detail::worth_parallel(static_cast<index_t>(rows.size()) * k * k))
    for (index_t g = 0; g < groups; ++g) {
        const index_t s = starts[static_cast<std::size_t>(g)], e = starts[static_cast<std::size_t>(g + 1)];
        solve_group(G, k, pass + rows[static_cast<std::size_t>(s)] * k, rows.data() + s, e - s, B, X);
    }
}

}  // namespace

template <class T>
void nnls_bpp(const basic_matrix<T>& Gt, const basic_matrix<T>& B, basic_matrix<T>& X) {
    const index_t N = B.rows(), k = B.cols();
    std::vector<double> G(static_cast<std::size_t>(k * k));
    for (index_t p = 0; p < k * k; ++p) G[static_cast<std::size_t>(p)] = static_cast<double>(Gt.data()[p]);
    std::vector<std::uint8_t> passive(static_cast<std::size_t>(N * k));
    for (index_t p = 0; p < N * k; ++p) passive[static_cast<std::size_t>(p)] = X.data()[p] > 0;
    std::vector<int> alpha(static_cast<std::size_t>(N), 3);
    std::vector<index_t> beta(static_cast<std::size_t>(N), k + 1);
    std::vector<index_t> todo(static_cast<std::size_t>(N));
    std::iota(todo.begin(), todo.end(), index_t{0});
    solve_rows(G, k, passive, todo, B, X);

    // Rounding makes a variable that should be exactly 0 come out as -1e-17: infeasibility is
    // judged against a tolerance of a few ulps of the row's scale, so such rows stop at once.
    const double eps = 32 * std::numeric_limits<T>::epsilon();
    double gmax = 0;
    for (index_t r = 0; r < k; ++r) gmax = std::max(gmax, G[static_cast<std::size_t>(r * k + r)]);
    std::vector<std::uint8_t> again(static_cast<std::size_t>(N), 0);
    // The backup rule guarantees termination; the cap only guards against rounding loops.
    for (int round = 0; round < 10 * static_cast<int>(k) + 20 && !todo.empty(); ++round) {
        const index_t count = static_cast<index_t>(todo.size());
#pragma omp parallel for schedule(static) if (detail::worth_parallel(count * k * k))
        for (index_t t = 0; t < count; ++t) {
            const index_t i = todo[static_cast<std::size_t>(t)];
            const T* x = X.data() + i * k;
            const T* b = B.data() + i * k;
            std::uint8_t* pass = passive.data() + i * k;
            double xmax = 0, bmax = 0;
            for (index_t r = 0; r < k; ++r) {
                xmax = std::max(xmax, std::abs(static_cast<double>(x[r])));
                bmax = std::max(bmax, std::abs(static_cast<double>(b[r])));
            }
            const double tol_x = eps * xmax, tol_y = eps * (bmax + gmax * xmax * static_cast<double>(k));
            index_t infeasible = 0, last = -1;
            std::uint8_t flip[512];
            std::vector<std::uint8_t> flip_big;
            std::uint8_t* fl = flip;
            if (k > 512) {
                flip_big.assign(static_cast<std::size_t>(k), 0);
                fl = flip_big.data();
            }
            for (index_t r = 0; r < k; ++r) {
                bool bad;
                if (pass[r]) {
                    bad = static_cast<double>(x[r]) < -tol_x;
                } else {
                    double y = -static_cast<double>(b[r]);
                    const double* g = G.data() + r * k;
                    for (index_t s = 0; s < k; ++s) y += g[s] * static_cast<double>(x[s]);
                    bad = y < -tol_y;
                }
                fl[r] = bad;
                if (bad) {
                    ++infeasible;
                    last = r;
                }
            }
            again[static_cast<std::size_t>(i)] = infeasible > 0;
            if (infeasible == 0) continue;
            int& a = alpha[static_cast<std::size_t>(i)];
            index_t& be = beta[static_cast<std::size_t>(i)];
            if (infeasible < be) {  // progress: exchange every infeasible variable
                be = infeasible;
                a = 3;
            } else if (a >= 1) {  // no progress, still allowed full exchanges
                --a;
            } else {  // backup rule: exchange only the last infeasible variable
                pass[last] ^= 1;
                continue;
            }
            for (index_t r = 0; r < k; ++r)
                if (fl[r]) pass[r] ^= 1;
        }
        std::vector<index_t> next;
        for (index_t i : todo)
            if (again[static_cast<std::size_t>(i)]) next.push_back(i);
        todo = std::move(next);
        if (!todo.empty()) solve_rows(G, k, passive, todo, B, X);
    }
    for (T& v : X.values()) v = std::max(v, T(0));
}

template void nnls_bpp(const basic_matrix<double>&, const basic_matrix<double>&, basic_matrix<double>&);
template void nnls_bpp(const basic_matrix<float>&, const basic_matrix<float>&, basic_matrix<float>&);

}  // namespace facto::detail
