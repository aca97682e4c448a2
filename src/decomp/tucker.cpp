// tucker.cpp: HOSVD, ST-HOSVD (Gram route, tolerance or fixed ranks) and HOOI on dense tensors.
#include "facto/decomp/tucker.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "decomp/slab_residual.hpp"
#include "ops/blas_lapack.hpp"
#include "facto/ops/linalg.hpp"
#include "facto/ops/ttm.hpp"

namespace facto {

namespace {

using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

template <class T>
double norm2_of(const basic_tensor<T>& X) {
    const double n = norm(X.view());
    return n * n;
}

// G = X_(n) X_(n)^T (I_n x I_n). Row-major X is L blocks of I_n x R (L, R: products of the
// dimensions before and after n), so the Gram is the sum of the blocks' B B^T: one syrk each.
template <class T>
basic_matrix<T> mode_gram(basic_tensor_view<const T> X, int n) {
    const index_t J = X.dim(n);
    index_t L = 1, R = 1;
    for (int m = 0; m < n; ++m) L *= X.dim(m);
    for (int m = n + 1; m < X.order(); ++m) R *= X.dim(m);
    basic_matrix<T> G(J, J);
    if (R == 1) {
        detail::syrk_ata(J, L, X.data(), G.data());  // X is L x J: G = X^T X in one call
    } else {
        for (index_t l = 0; l < L; ++l)
            detail::syrk_aat(J, R, X.data() + l * J * R, R, l == 0 ? T(0) : T(1), G.data());
    }
    for (index_t i = 0; i < J; ++i)  // syrk fills the upper triangle only
        for (index_t j = 0; j < i; ++j) G(i, j) = G(j, i);
    return G;
}

// Leading k left singular vectors of the unfolding X_(n) (I x J, J the product of the other
// dimensions) and all I squared singular values (decreasing, zeros past J). I <= J: eigenvectors
// of the I x I Gram. I > J (a long mode, e.g. digits 1797 x 8 x 8): the I^3 eigensolver would cost
// seconds, so take the J x J Gram X_(n)^T X_(n) = V S^2 V^T, form X_(n) V S^{-1}, and re-orthonormalize
// by Householder QR; columns without a numerically nonzero singular value (k > numerical rank)
// come from seeded random vectors, which the QR turns into an orthonormal complement.
template <class T>
basic_matrix<T> left_singular(basic_tensor_view<const T> X, int n, index_t k, std::vector<T>& w) {
    const index_t I = X.dim(n);
    const index_t J = X.size() / I;
    if (I <= J) return leading_eigenvectors(mode_gram(X, n), k, &w);
    index_t L = 1, R = 1;
    for (int m = 0; m < n; ++m) L *= X.dim(m);
    for (int m = n + 1; m < X.order(); ++m) R *= X.dim(m);
    basic_matrix<T> M(I, J);  // M(i, l*R + r) = X(l, i, r)
    const T* x = X.data();
    for (index_t l = 0; l < L; ++l)
        for (index_t i = 0; i < I; ++i) std::copy_n(x + (l * I + i) * R, R, M.data() + i * J + l * R);
    basic_matrix<T> G(J, J);
    detail::syrk_ata(J, I, M.data(), G.data());
    for (index_t i = 0; i < J; ++i)
        for (index_t j = 0; j < i; ++j) G(i, j) = G(j, i);
    std::vector<T> wj;
    const basic_matrix<T> V = leading_eigenvectors(G, J, &wj);
    w.assign(static_cast<std::size_t>(I), T(0));
    std::copy(wj.begin(), wj.end(), w.begin());
    const index_t kv = std::min(k, J);
    basic_matrix<T> Vk(J, kv);
    for (index_t i = 0; i < J; ++i) std::copy_n(V.data() + i * J, kv, Vk.data() + i * kv);
    basic_matrix<T> B(I, k);
    basic_matrix<T> MV(I, kv);
    detail::gemm(false, false, I, kv, J, T(1), M.data(), J, Vk.data(), kv, T(0), MV.data(), kv);
    const double top = std::max(0.0, static_cast<double>(wj.empty() ? T(0) : wj[0]));
    const double floor = top * static_cast<double>(J) * std::numeric_limits<T>::epsilon();
    std::mt19937_64 rng(12345);
    std::normal_distribution<double> g;
    for (index_t j = 0; j < k; ++j) {
        const double lam = j < kv ? static_cast<double>(wj[static_cast<std::size_t>(j)]) : 0.0;
        if (lam > floor && lam > 0) {
            const double inv = 1.0 / std::sqrt(lam);
            for (index_t i = 0; i < I; ++i) B(i, j) = static_cast<T>(MV(i, j) * inv);
        } else {
            for (index_t i = 0; i < I; ++i) B(i, j) = static_cast<T>(g(rng));
        }
    }
    std::vector<T> tau(static_cast<std::size_t>(k));
    if (detail::geqrf(I, k, B.data(), tau.data()) != 0 || detail::orgqr(I, k, B.data(), tau.data()) != 0)
        throw invalid_argument("tucker: QR of the mode-" + std::to_string(n) + " factor failed (non-finite entries?)");
    // QR may flip signs; restore each column's sign to match X_(n) v_j (harmless, keeps the
    // factor the same as the Gram route up to the eigenvector sign convention).
    for (index_t j = 0; j < kv; ++j) {
        double d = 0;
        for (index_t i = 0; i < I; ++i) d += static_cast<double>(B(i, j)) * static_cast<double>(MV(i, j));
        if (d < 0)
            for (index_t i = 0; i < I; ++i) B(i, j) = -B(i, j);
    }
    return B;
}

struct truncation {
    index_t rank = 0;
    double discarded = 0;  // sum of the dropped eigenvalues (squared singular values)
};

// Rank for one mode from the eigenvalues (decreasing) of its Gram: fixed, or the smallest
// keeping the discarded sum within `budget`, capped by `cap`.
template <class T>
truncation choose_rank(const std::vector<T>& w, index_t fixed, index_t cap, double budget) {
    const index_t I = static_cast<index_t>(w.size());
    auto lam = [&](index_t i) { return std::max(0.0, static_cast<double>(w[static_cast<std::size_t>(i)])); };
    truncation t;
    if (fixed > 0) {
        t.rank = fixed;
    } else {
        t.rank = I;
        double tail = 0;
        while (t.rank > 1 && tail + lam(t.rank - 1) <= budget) tail += lam(--t.rank);
        t.rank = std::min(t.rank, cap);
    }
    for (index_t i = t.rank; i < I; ++i) t.discarded += lam(i);
    return t;
}

// Validated settings shared by the three methods.
template <class T>
void check_input(basic_tensor_view<const T> X, const tucker_options& o, const char* who) {
    const std::string w(who);
    if (X.order() < 1) throw invalid_argument(w + ": the tensor has no modes");
    for (int n = 0; n < X.order(); ++n)
        if (X.dim(n) == 0)
            throw invalid_argument(w + ": mode " + std::to_string(n) + " of shape " + shape_string(X.shape()) +
                                   " has size 0");
    if (!(o.tol >= 0 && std::isfinite(o.tol)))
        throw invalid_argument(w + ": tol must be finite and >= 0, got " + std::to_string(o.tol));
    if (o.ranks.empty() && o.tol == 0)
        throw invalid_argument(w + ": give either ranks (one per mode) or tol > 0");
    if (!o.ranks.empty()) {
        if (static_cast<int>(o.ranks.size()) != X.order())
            throw invalid_argument(w + ": " + std::to_string(o.ranks.size()) + " ranks given for a tensor of order " +
                                   std::to_string(X.order()) + " (shape " + shape_string(X.shape()) + ")");
        for (int n = 0; n < X.order(); ++n) {
            const index_t r = o.ranks[static_cast<std::size_t>(n)];
            if (r < 1 || r > X.dim(n))
                throw invalid_argument(w + ": rank " + std::to_string(r) + " for mode " + std::to_string(n) +
                                       " outside [1, " + std::to_string(X.dim(n)) + "]");
        }
    }
    if (o.max_iters < 1)
        throw invalid_argument(w + ": max_iters must be >= 1, got " + std::to_string(o.max_iters));
    const T* x = X.data();
    for (index_t i = 0; i < X.size(); ++i)
        if (!std::isfinite(static_cast<double>(x[i])))
            throw invalid_argument(w + ": the tensor has a non-finite entry at linear index " + std::to_string(i));
}

// Factor for mode n from the Gram of Y: rank fixed (opts.ranks) or from the per-mode budget.
template <class T>
basic_matrix<T> factor_from(basic_tensor_view<const T> Y, int n, const tucker_options& o, double budget,
                            double& discarded) {
    std::vector<T> w;
    const index_t I = Y.dim(n);
    const bool tol_mode = o.tol > 0;
    const index_t fixed = tol_mode ? 0 : o.ranks[static_cast<std::size_t>(n)];
    const index_t cap = o.ranks.empty() ? I : o.ranks[static_cast<std::size_t>(n)];
    // All eigenvalues are needed for the discarded sum either way.
    if (I > Y.size() / I) {  // long mode: the small Gram route
        (void)left_singular(Y, n, 1, w);
        const truncation t = choose_rank(w, fixed, cap, budget);
        discarded += t.discarded;
        return left_singular(Y, n, t.rank, w);
    }
    const basic_matrix<T> G = mode_gram(Y, n);
    basic_matrix<T> V = leading_eigenvectors(G, I, &w);
    const truncation t = choose_rank(w, fixed, cap, budget);
    discarded += t.discarded;
    basic_matrix<T> U(I, t.rank);
    for (index_t i = 0; i < I; ++i) std::copy_n(V.data() + i * I, t.rank, U.data() + i * t.rank);
    return U;
}

// X x_m U_m^T for every mode m in `modes`, in that order; steps[i] keeps the i-th product
// between calls, so HOOI, which repeats the same chains every sweep, reuses their storage.
template <class T>
const basic_tensor<T>& project(basic_tensor_view<const T> X, const std::vector<basic_matrix<T>>& U,
                               const std::vector<int>& modes, std::vector<basic_tensor<T>>& steps) {
    steps.resize(std::max<std::size_t>(1, modes.size()));
    if (modes.empty()) {
        steps[0].reshape_for_overwrite(X.shape());
        std::copy_n(X.data(), X.size(), steps[0].data());
        return steps[0];
    }
    for (std::size_t i = 0; i < modes.size(); ++i) {
        const basic_tensor_view<const T> in = i == 0 ? X : basic_tensor_view<const T>(steps[i - 1].view());
        ttm(in, U[static_cast<std::size_t>(modes[i])], modes[i], true, steps[i]);
    }
    return steps[modes.size() - 1];
}

template <class T>
basic_tensor<T> project(basic_tensor_view<const T> X, const std::vector<basic_matrix<T>>& U,
                        const std::vector<int>& modes) {
    std::vector<basic_tensor<T>> steps;
    project(X, U, modes, steps);
    return std::move(steps.back());
}

template <class T>
void finish(basic_tensor_view<const T> X, double x2, const tucker_options& o, basic_tucker_result<T>& r) {
    const double nx = std::sqrt(x2);
    const double c2 = norm2_of(r.model.core);
    r.rel_error_estimate = nx > 0 ? std::sqrt(std::max(0.0, x2 - c2)) / nx : 0.0;
    r.rel_error = r.rel_error_estimate;
    if (o.check_error && nx > 0) r.rel_error = r.model.relative_error(X);
}

template <class T>
basic_tucker_result<T> hosvd(basic_tensor_view<const T> X, const tucker_options& o, bool sequential,
                             const char* who) {
    const auto t0 = clock_type::now();
    check_input(X, o, who);
    const int N = X.order();
    const double nx = norm(X);
    const double x2 = nx * nx;
    const double budget = o.tol * o.tol * x2 / N;
    basic_tucker_result<T> r;
    double discarded = 0;
    r.model.factors.resize(static_cast<std::size_t>(N));
    if (sequential) {
        basic_tensor<T> Y;
        for (int n = 0; n < N; ++n) {
            const basic_tensor_view<const T> cur = n == 0 ? X : basic_tensor_view<const T>(Y.view());
            auto& U = r.model.factors[static_cast<std::size_t>(n)];
            U = factor_from(cur, n, o, budget, discarded);
            Y = ttm(cur, U, n, true);
        }
        r.model.core = std::move(Y);
    } else {
        std::vector<int> modes;
        for (int n = 0; n < N; ++n) {
            r.model.factors[static_cast<std::size_t>(n)] = factor_from(X, n, o, budget, discarded);
            modes.push_back(n);
        }
        r.model.core = project(X, r.model.factors, modes);
    }
    r.error_bound = nx > 0 ? std::sqrt(discarded) / nx : 0.0;
    finish(X, x2, o, r);
    r.seconds = since(t0);
    return r;
}

template <class T>
basic_tucker_result<T> hooi(basic_tensor_view<const T> X, const tucker_options& o) {
    const auto t0 = clock_type::now();
    tucker_options start = o;
    start.check_error = false;
    basic_tucker_result<T> r = hosvd(X, start, true, "tucker_hooi");
    r.setup_seconds = since(t0);
    const int N = X.order();
    const double nx = norm(X);
    const double x2 = nx * nx;
    auto& U = r.model.factors;
    const shape_t ranks = r.model.ranks();
    double err = r.rel_error_estimate;
    r.converged = false;
    // Each sweep reads X twice, not N times: modes 0..h-1 take their projections from
    // P = X x_{m >= h} U_m^T (those factors are not updated yet), modes h..N-1 from
    // Q = X x_{m < h} U_m^T (with the factors just updated). Contracting an end mode of X first
    // makes that TTM one large GEMM.
    const int h = N / 2;
    std::vector<int> right, left;
    for (int m = N - 1; m >= h; --m) right.push_back(m);
    for (int m = 0; m < h; ++m) left.push_back(m);
    // Products kept across sweeps (see project): the half projections and, per mode, its chain.
    std::vector<basic_tensor<T>> half;
    std::vector<std::vector<basic_tensor<T>>> chains(static_cast<std::size_t>(N));
    const basic_tensor<T>* last = nullptr;  // the final mode's projection, for the core
    auto update = [&](const basic_tensor<T>& P, int lo, int hi) {
        for (int n = lo; n < hi; ++n) {
            std::vector<int> modes;
            for (int m = lo; m < hi; ++m)
                if (m != n) modes.push_back(m);
            last = &project(basic_tensor_view<const T>(P.view()), U, modes, chains[static_cast<std::size_t>(n)]);
            std::vector<T> w;
            U[static_cast<std::size_t>(n)] =
                left_singular(basic_tensor_view<const T>(last->view()), n, ranks[static_cast<std::size_t>(n)], w);
        }
    };
    for (int it = 1; it <= o.max_iters; ++it) {
        const auto sweep_start = clock_type::now();
        update(project(X, U, right, half), 0, h);
        update(project(X, U, left, half), h, N);
        ttm(basic_tensor_view<const T>(last->view()), U[static_cast<std::size_t>(N - 1)], N - 1, true, r.model.core);
        const double c2 = norm2_of(r.model.core);
        const double e = nx > 0 ? std::sqrt(std::max(0.0, x2 - c2)) / nx : 0.0;
        r.iters = it;
        r.history.push_back(e);
        const double change = err - e;
        err = e;
        if (change < o.iter_tol) r.converged = true;
        if (o.on_iteration && !o.on_iteration({it, e, change, since(sweep_start)}) && !r.converged) {
            r.interrupted = true;
            break;
        }
        if (r.converged) break;
    }
    finish(X, x2, o, r);
    r.seconds = since(t0);
    return r;
}

}  // namespace

template <class T>
shape_t basic_tucker_tensor<T>::shape() const {
    shape_t s;
    for (const auto& U : factors) s.push_back(U.rows());
    return s;
}

template <class T>
shape_t basic_tucker_tensor<T>::ranks() const {
    shape_t s;
    for (const auto& U : factors) s.push_back(U.cols());
    return s;
}

template <class T>
basic_tensor<T> basic_tucker_tensor<T>::full() const {
    if (core.order() != order() || factors.empty())
        throw invalid_argument("tucker_tensor::full: core of order " + std::to_string(core.order()) + " with " +
                               std::to_string(factors.size()) + " factors");
    for (int n = 0; n < order(); ++n)
        if (factors[static_cast<std::size_t>(n)].cols() != core.dim(n))
            throw invalid_argument("tucker_tensor::full: factor " + std::to_string(n) + " has " +
                                   std::to_string(factors[static_cast<std::size_t>(n)].cols()) +
                                   " columns but mode " + std::to_string(n) + " of the core has size " +
                                   std::to_string(core.dim(n)));
    basic_tensor<T> Y = core;
    for (int n = 0; n < order(); ++n)
        Y = ttm(basic_tensor_view<const T>(Y.view()), factors[static_cast<std::size_t>(n)], n, false);
    return Y;
}

template <class T>
double basic_tucker_tensor<T>::relative_error(basic_tensor_view<const T> X) const {
    if (X.shape() != shape())
        throw invalid_argument("tucker_tensor::relative_error: the tensor has shape " + shape_string(X.shape()) +
                               ", the model " + shape_string(shape()));
    // The mode-0 unfolding of the model is U_0 times that of core x_1 U_1 ... x_{N-1} U_{N-1}.
    basic_tensor<T> C = core;
    for (int n = 1; n < order(); ++n)
        C = ttm(basic_tensor_view<const T>(C.view()), factors[static_cast<std::size_t>(n)], n, false);
    const index_t rows = X.dim(0);
    return detail::slab_relative_residual(X.data(), rows, rows > 0 ? X.size() / rows : 0, factors[0].data(),
                                          core.dim(0), C.data());
}

template struct basic_tucker_tensor<double>;
template struct basic_tucker_tensor<float>;

tucker_result tucker_hosvd(basic_tensor_view<const double> X, const tucker_options& opts) {
    return hosvd(X, opts, false, "tucker_hosvd");
}
tucker_result_f tucker_hosvd(basic_tensor_view<const float> X, const tucker_options& opts) {
    return hosvd(X, opts, false, "tucker_hosvd");
}
tucker_result tucker_sthosvd(basic_tensor_view<const double> X, const tucker_options& opts) {
    return hosvd(X, opts, true, "tucker_sthosvd");
}
tucker_result_f tucker_sthosvd(basic_tensor_view<const float> X, const tucker_options& opts) {
    return hosvd(X, opts, true, "tucker_sthosvd");
}
tucker_result tucker_hooi(basic_tensor_view<const double> X, const tucker_options& opts) { return hooi(X, opts); }
tucker_result_f tucker_hooi(basic_tensor_view<const float> X, const tucker_options& opts) { return hooi(X, opts); }

}  // namespace facto
