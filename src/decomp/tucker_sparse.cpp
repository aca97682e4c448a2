// tucker_sparse.cpp: HOOI on sparse tensors by CSF-based TTM chains, never densifying.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <string>

#include "ops/blas_lapack.hpp"
#include "facto/decomp/svd.hpp"
#include "facto/decomp/tucker.hpp"

namespace facto {

namespace {

// Y (I_n x P, P = prod_{m != n} R_m, columns over the other modes in increasing mode order,
// the last fastest) = X_(n) (U_0 kron ... kron U_{N-1} without U_n). The CSF is rooted at n
// with the other modes in increasing order, so a node's subtree sum is a row-major Kronecker
// block: node f at level l contributes U_{m_l}(id_f, :) kron (sum over its children).
class ttm_chain {
public:
    ttm_chain(const coo_tensor& X, int n) : n_(n) {
        order_.push_back(n);
        for (int m = 0; m < X.order(); ++m)
            if (m != n) order_.push_back(m);
        csf_ = make_csf(X, std::span<const int>(order_));
    }

    matrix operator()(const std::vector<matrix>& U) const {
        const int N = csf_.order();
        // width[l]: length of the subtree sum at level l (product of the ranks of levels >= l).
        std::vector<index_t> width(static_cast<std::size_t>(N + 1), 1);
        for (int l = N - 1; l >= 1; --l)
            width[static_cast<std::size_t>(l)] =
                width[static_cast<std::size_t>(l + 1)] * U[static_cast<std::size_t>(order_[static_cast<std::size_t>(l)])].cols();
        const index_t P = width[1];
        matrix Y(csf_.shape[static_cast<std::size_t>(n_)], P);
        const index_t roots = csf_.nodes(0);
        // A thread team costs more than it saves on a small chain.
        const index_t work = csf_.nnz() * std::max<index_t>(P, 1);
#pragma omp parallel if (work >= (index_t{1} << 18))
        {
            // Per thread: one accumulator per level (the sum of the children's blocks).
            std::vector<std::vector<double>> acc(static_cast<std::size_t>(N + 1));
            for (int l = 1; l <= N; ++l) acc[static_cast<std::size_t>(l)].resize(static_cast<std::size_t>(width[static_cast<std::size_t>(l)]));
#pragma omp for schedule(dynamic, 16)
            for (index_t f = 0; f < roots; ++f) {
                std::vector<double>& sum = acc[1];
                std::fill(sum.begin(), sum.end(), 0.0);
                for (index_t c = csf_.ptr[0][static_cast<std::size_t>(f)]; c < csf_.ptr[0][static_cast<std::size_t>(f + 1)]; ++c)
                    add_node(U, 1, c, width, acc, sum);
                double* y = Y.data() + csf_.ids[0][static_cast<std::size_t>(f)] * P;
                std::copy(sum.begin(), sum.end(), y);
            }
        }
        return Y;
    }

private:
    // out += U_{m_l}(id, :) kron (sum of the children of node f at level l)  [leaf: value * U row].
    void add_node(const std::vector<matrix>& U, int l, index_t f, const std::vector<index_t>& width,
                  std::vector<std::vector<double>>& acc, std::vector<double>& out) const {
        const int N = csf_.order();
        const matrix& F = U[static_cast<std::size_t>(order_[static_cast<std::size_t>(l)])];
        const index_t R = F.cols();
        const double* u = F.data() + csf_.ids[static_cast<std::size_t>(l)][static_cast<std::size_t>(f)] * R;
        if (l == N - 1) {
            const double v = csf_.values[static_cast<std::size_t>(f)];
            for (index_t r = 0; r < R; ++r) out[static_cast<std::size_t>(r)] += v * u[r];
            return;
        }
        std::vector<double>& sub = acc[static_cast<std::size_t>(l + 1)];
        std::fill(sub.begin(), sub.end(), 0.0);
        for (index_t c = csf_.ptr[static_cast<std::size_t>(l)][static_cast<std::size_t>(f)];
             c < csf_.ptr[static_cast<std::size_t>(l)][static_cast<std::size_t>(f + 1)]; ++c)
            add_node(U, l + 1, c, width, acc, sub);
        const index_t w = width[static_cast<std::size_t>(l + 1)];
        for (index_t r = 0; r < R; ++r) {
            double* o = out.data() + r * w;
            for (index_t j = 0; j < w; ++j) o[j] += u[r] * sub[static_cast<std::size_t>(j)];
        }
    }

    int n_;
    std::vector<int> order_;
    csf_tensor csf_;
};

// Leading k left singular vectors of Y (exact thin SVD).
matrix leading_left(const matrix& Y, index_t k) {
    if (Y.cols() >= k) return svd_truncated(Y, {.rank = k}).U;
    // Fewer columns than the rank: the SVD gives Y.cols() vectors; complete the basis with
    // the leading left vectors of a random-free deterministic extension (unit vectors projected).
    matrix U0 = svd_truncated(Y).U;
    matrix U(Y.rows(), k);
    for (index_t i = 0; i < Y.rows(); ++i) std::copy_n(U0.data() + i * U0.cols(), U0.cols(), U.data() + i * k);
    index_t filled = U0.cols();
    for (index_t e = 0; e < Y.rows() && filled < k; ++e) {
        std::vector<double> v(static_cast<std::size_t>(Y.rows()), 0.0);
        v[static_cast<std::size_t>(e)] = 1;
        for (int pass = 0; pass < 2; ++pass)
            for (index_t c = 0; c < filled; ++c) {
                double d = 0;
                for (index_t i = 0; i < Y.rows(); ++i) d += U(i, c) * v[static_cast<std::size_t>(i)];
                for (index_t i = 0; i < Y.rows(); ++i) v[static_cast<std::size_t>(i)] -= d * U(i, c);
            }
        double nv = 0;
        for (double x : v) nv += x * x;
        if (nv < 0.25) continue;  // e lies mostly in the span already
        for (index_t i = 0; i < Y.rows(); ++i) U(i, filled) = v[static_cast<std::size_t>(i)] / std::sqrt(nv);
        ++filled;
    }
    return U;
}

}  // namespace

tucker_result tucker_hooi(const coo_tensor& X, const tucker_options& o) {
    const auto t0 = std::chrono::steady_clock::now();
    auto since = [](auto t) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count(); };
    const std::string w = "tucker_hooi";
    X.validate("tucker_hooi");
    const int N = X.order();
    if (N < 2) throw invalid_argument(w + ": a sparse tensor needs at least 2 modes, got " + std::to_string(N));
    for (int n = 0; n < N; ++n)
        if (X.dim(n) == 0) throw invalid_argument(w + ": mode " + std::to_string(n) + " has size 0");
    if (static_cast<int>(o.ranks.size()) != N)
        throw invalid_argument(w + ": a sparse tensor needs ranks, one per mode; got " + std::to_string(o.ranks.size()) +
                               " for order " + std::to_string(N) + " (tol alone is not supported)");
    for (int n = 0; n < N; ++n) {
        const index_t r = o.ranks[static_cast<std::size_t>(n)];
        if (r < 1 || r > X.dim(n))
            throw invalid_argument(w + ": rank " + std::to_string(r) + " for mode " + std::to_string(n) +
                                   " outside [1, " + std::to_string(X.dim(n)) + "]");
    }
    if (o.max_iters < 1) throw invalid_argument(w + ": max_iters must be >= 1, got " + std::to_string(o.max_iters));
    for (double v : X.values)
        if (!std::isfinite(v)) throw invalid_argument(w + ": the tensor has a non-finite value");
    coo_tensor C = X;
    C.canonicalize();
    const double nx = norm(C);
    const double x2 = nx * nx;

    tucker_result r;
    auto& U = r.model.factors;
    // Random orthonormal start: the first sweep's update of mode 0 is then a randomized range
    // finder for X_(0) with a Kronecker-structured Gaussian test matrix, and so on; unlike an
    // HOSVD start it never forms the long (prod of the other dimensions) side of an unfolding.
    std::mt19937_64 rng(o.seed);
    std::normal_distribution<double> gauss;
    for (int n = 0; n < N; ++n) {
        matrix G(X.dim(n), o.ranks[static_cast<std::size_t>(n)]);
        for (auto& v : G.values()) v = gauss(rng);
        detail::orthonormalize(G, "tucker_hooi");
        U.push_back(std::move(G));
    }
    std::vector<ttm_chain> chains;
    for (int n = 0; n < N; ++n) chains.emplace_back(C, n);
    r.setup_seconds = since(t0);
    double err = 1.0;
    r.converged = false;
    matrix Y;
    for (int it = 1; it <= o.max_iters; ++it) {
        const auto sweep_start = std::chrono::steady_clock::now();
        for (int n = 0; n < N; ++n) {
            Y = chains[static_cast<std::size_t>(n)](U);
            U[static_cast<std::size_t>(n)] = leading_left(Y, o.ranks[static_cast<std::size_t>(n)]);
        }
        // core (row-major R_0 x ... x R_{N-1}) = Y^T U_{N-1}, Y being the last mode's projection.
        const matrix& Ul = U.back();
        matrix G(Y.cols(), Ul.cols());
        detail::gemm(true, false, Y.cols(), Ul.cols(), Y.rows(), 1.0, Y.data(), Y.cols(), Ul.data(), Ul.cols(), 0.0,
                     G.data(), Ul.cols());
        r.model.core = tensor(r.model.ranks(), std::move(G.values()));
        const double c = norm(r.model.core.view());
        const double e = nx > 0 ? std::sqrt(std::max(0.0, x2 - c * c)) / nx : 0.0;
        r.iters = it;
        r.history.push_back(e);
        const double change = err - e;
        err = e;
        if (it > 1 && change < o.iter_tol) r.converged = true;
        if (o.on_iteration && !o.on_iteration({it, e, change, since(sweep_start)}) && !r.converged) {
            r.interrupted = true;
            break;
        }
        if (r.converged) break;
    }
    r.rel_error = r.rel_error_estimate = err;
    r.seconds = since(t0);
    return r;
}

}  // namespace facto
