// cp.cpp: CP-ALS and CP-HALS, written once for dense and sparse tensors in float and double.
#include "core/parallel.hpp"
#include "facto/decomp/cp.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

#include "decomp/cp_init.hpp"
#include "facto/core/error.hpp"
#include "facto/ops/linalg.hpp"
#include "facto/ops/mttkrp.hpp"

namespace facto {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

enum class method { als, hals };

using detail::thread_scope;

void check_options(const char* who, const cp_options& opts, const shape_t& shape) {
    const std::string w = who;
    if (opts.rank < 1) throw invalid_argument(w + ": rank must be >= 1, got " + std::to_string(opts.rank));
    if (shape.size() < 2)
        throw invalid_argument(w + ": the tensor has " + std::to_string(shape.size()) +
                               " mode(s), CP needs at least 2");
    if (opts.max_iters < 1)
        throw invalid_argument(w + ": max_iters must be >= 1, got " + std::to_string(opts.max_iters));
    if (!(opts.tol >= 0))  // also rejects NaN
        throw invalid_argument(w + ": tol must be >= 0, got " + std::to_string(opts.tol));
    if (opts.threads < 0)
        throw invalid_argument(w + ": threads must be >= 0 (0 keeps the current setting), got " +
                               std::to_string(opts.threads));
    if (opts.init == cp_init::given) {
        if (!opts.initial)
            throw invalid_argument(w + ": init is cp_init::given but opts.initial holds no model");
        const kruskal_tensor& K = *opts.initial;
        if (K.order() != static_cast<int>(shape.size()))
            throw invalid_argument(w + ": the initial model has " + std::to_string(K.order()) +
                                   " factors but the tensor has " + std::to_string(shape.size()) + " modes");
        for (int n = 0; n < K.order(); ++n) {
            const matrix& A = K.factors[static_cast<std::size_t>(n)];
            if (A.rows() != shape[n] || A.cols() != opts.rank)
                throw invalid_argument(w + ": initial factor " + std::to_string(n) + " is " +
                                       std::to_string(A.rows()) + "x" + std::to_string(A.cols()) + " but mode " +
                                       std::to_string(n) + " has size " + std::to_string(shape[n]) +
                                       " and rank is " + std::to_string(opts.rank));
            for (double v : A.values())
                if (!std::isfinite(v))
                    throw invalid_argument(w + ": initial factor " + std::to_string(n) +
                                           " holds a NaN or infinite value");
        }
    }
}

void check_norm(const char* who, double norm_sq) {
    if (!std::isfinite(norm_sq))
        throw invalid_argument(std::string(who) + ": the tensor holds NaN or infinite values");
    if (norm_sq == 0)
        throw invalid_argument(std::string(who) + ": the tensor is all zero, so the fit (relative to its norm) "
                                                  "is undefined");
}

/// Initial factors in T. `nvecs` computes the SVD initialization for this kind of tensor.
/// HALS needs a nonnegative start, so it takes absolute values of SVD or given factors.
template <class T, class Nvecs>
std::vector<basic_matrix<T>> initial_factors(method m, const cp_options& opts, const shape_t& shape,
                                             Nvecs nvecs) {
    std::vector<basic_matrix<T>> F;
    switch (opts.init) {
        case cp_init::random: return detail::random_factors<T>(shape, opts.rank, opts.seed);
        case cp_init::svd: F = nvecs(); break;
        case cp_init::given:
            for (const matrix& A : opts.initial->factors) {
                basic_matrix<T> B(A.rows(), A.cols());
                std::transform(A.values().begin(), A.values().end(), B.values().begin(),
                               [](double v) { return static_cast<T>(v); });
                F.push_back(std::move(B));
            }
            break;
    }
    if (m == method::hals)
        for (auto& A : F)
            for (auto& v : A.values()) v = std::abs(v);
    return F;
}

/// Hadamard product of the Gram matrices of every mode except `skip`.
template <class T>
basic_matrix<T> gram_product(const std::vector<basic_matrix<T>>& G, int skip) {
    basic_matrix<T> V;
    for (int m = 0; m < static_cast<int>(G.size()); ++m) {
        if (m == skip) continue;
        if (V.empty()) V = G[static_cast<std::size_t>(m)];
        else hadamard_inplace(V, G[static_cast<std::size_t>(m)]);
    }
    return V;
}

/// Scales the columns of A to unit 2-norm (two_norm) or by max(1, max |a|) (Tensor Toolbox's
/// choice after the first iteration, which keeps weights from drifting); returns the scales.
/// Under the 2-norm an all-zero column keeps scale 0 and stays zero.
template <class T>
std::vector<double> normalize_columns(basic_matrix<T>& A, bool two_norm) {
    const index_t R = A.cols();
    std::vector<double> s(static_cast<std::size_t>(R), 0.0);
    for (index_t i = 0; i < A.rows(); ++i)
        for (index_t r = 0; r < R; ++r) {
            const double v = A(i, r);
            s[r] = two_norm ? s[r] + v * v : std::max(s[r], std::abs(v));
        }
    for (index_t r = 0; r < R; ++r) s[r] = two_norm ? std::sqrt(s[r]) : std::max(1.0, s[r]);
    for (index_t i = 0; i < A.rows(); ++i)
        for (index_t r = 0; r < R; ++r)
            if (s[r] > 0) A(i, r) = static_cast<T>(A(i, r) / s[r]);
    return s;
}

/// One HALS pass over the columns of A: a_r <- max(floor, a_r + (M_r - A V_r) / V_rr).
/// Row i of the new a_r depends only on row i of A, so rows run in parallel with the same
/// result as the column-by-column sweep.
template <class T>
void hals_update(basic_matrix<T>& A, const basic_matrix<T>& M, const basic_matrix<T>& V) {
    const index_t I = A.rows(), R = A.cols();
    // A tiny positive floor, relative to the factor's scale (max |M| / max V_rr), keeps columns
    // from dying (a zero column makes V singular for the other modes). Float needs a larger
    // one: products of squares of the floor over the modes must stay above float's underflow.
    const double rel = std::is_same_v<T, float> ? 1e-8 : 1e-16;
    double mmax = 0, vmax = 0;
    for (T v : M.values()) mmax = std::max(mmax, static_cast<double>(std::abs(v)));
    for (index_t r = 0; r < R; ++r) vmax = std::max(vmax, static_cast<double>(V(r, r)));
    double f = vmax > 0 ? rel * mmax / vmax : 0;
    if (!(f >= static_cast<double>(std::numeric_limits<T>::min()))) f = std::numeric_limits<T>::min();
    const T floor = static_cast<T>(f);
#pragma omp parallel for schedule(static) if (detail::worth_parallel(I * R * R))
    for (index_t i = 0; i < I; ++i) {
        T* a = A.data() + i * R;
        const T* mi = M.data() + i * R;
        for (index_t r = 0; r < R; ++r) {
            const T vrr = V(r, r);
            if (!(vrr > 0)) {  // the other factors' column r is zero: no information on a_r
                a[r] = floor;
                continue;
            }
            const T* vr = V.data() + r * R;  // V is symmetric: row r is column r
            T av = 0;
            for (index_t s = 0; s < R; ++s) av += a[s] * vr[s];
            a[r] = std::max(floor, a[r] + (mi[r] - av) / vrr);
        }
    }
}

/// ||X - K||^2 from the explicit residual, for the rare runs whose fit formula cancelled; a
/// sparse tensor has no affordable explicit residual (the model is dense), hence nullopt.
template <class T>
std::optional<double> explicit_residual_sq(basic_tensor_view<const T> X, const kruskal_tensor& K) {
    const tensor M = K.full();
    double s = 0;
    const T* x = X.data();
    for (index_t i = 0; i < M.size(); ++i) {
        const double d = static_cast<double>(x[i]) - M.data()[i];
        s += d * d;
    }
    return s;
}
std::optional<double> explicit_residual_sq(const csf_set&, const kruskal_tensor&) { return std::nullopt; }

/// The ALS / HALS iterations. Tensor is a dense view or a CSF set: the MTTKRP call is the only
/// line that differs. norm_x_sq = ||X||^2; start is when the call began (for setup_seconds).
template <class T, class Tensor>
cp_result iterate(method meth, const Tensor& X, double norm_x_sq, std::vector<basic_matrix<T>> A,
                  const cp_options& opts, clock_type::time_point start) {
    cp_result res;
    res.setup_seconds = seconds_since(start);
    const int N = static_cast<int>(A.size());
    const index_t R = opts.rank;
    const double norm_x = std::sqrt(norm_x_sq);

    // HALS keeps modes 0..N-2 at unit column norm and the scale in the last factor, so its
    // weights stay 1.
    if (meth == method::hals)
        for (int n = 0; n + 1 < N; ++n) {
            const std::vector<double> s = normalize_columns(A[n], true);
            for (index_t i = 0; i < A[N - 1].rows(); ++i)
                for (index_t r = 0; r < R; ++r) A[N - 1](i, r) = static_cast<T>(A[N - 1](i, r) * s[r]);
        }
    std::vector<basic_matrix<T>> G;
    for (const auto& F : A) G.push_back(gram(F));
    std::vector<double> w(static_cast<std::size_t>(R), 1.0);
    basic_matrix<T> M, V;
    double prev_fit = 0;

    for (int iter = 1; iter <= opts.max_iters; ++iter) {
        const auto t_iter = clock_type::now();
        for (int n = 0; n < N; ++n) {
            mttkrp(X, std::span<const basic_matrix<T>>(A), n, M);
            V = gram_product(G, n);
            if (meth == method::als) {
                A[n] = M;
                if (solve_spd_right(V, A[n])) ++res.pinv_fallbacks;
                w = normalize_columns(A[n], iter == 1);
            } else {
                hals_update(A[n], M, V);
                if (n + 1 < N) {
                    // Move the column scale into the next factor; the model is unchanged. Its
                    // Gram goes stale, but nothing reads it before mode n+1 recomputes it.
                    const std::vector<double> s = normalize_columns(A[n], true);
                    for (index_t i = 0; i < A[n + 1].rows(); ++i)
                        for (index_t r = 0; r < R; ++r)
                            A[n + 1](i, r) = static_cast<T>(A[n + 1](i, r) * s[r]);
                }
            }
            G[n] = gram(A[n]);
        }
        // Fit from the last MTTKRP: <X, model> = sum_r w_r sum_i A_N(i, r) M(i, r) (M used the
        // final other factors, A_N is normalized and w holds its scale), and
        // ||model||^2 = w^T (Hadamard of all Grams) w. Accumulated in double for float too.
        // The magnitudes of the summands bound the rounding error of the result: components
        // that cancel each other with huge weights make it exceed the residual itself.
        const basic_matrix<T>& AN = A[N - 1];
        double inner = 0, magnitude = 0;
        for (index_t r = 0; r < R; ++r) {
            double col = 0, col_abs = 0;
            for (index_t i = 0; i < AN.rows(); ++i) {
                const double t = static_cast<double>(AN(i, r)) * static_cast<double>(M(i, r));
                col += t;
                col_abs += std::abs(t);
            }
            inner += w[r] * col;
            magnitude += 2 * std::abs(w[r]) * col_abs;
        }
        hadamard_inplace(V, G[N - 1]);
        double norm_m_sq = 0;
        for (index_t r = 0; r < R; ++r)
            for (index_t s = 0; s < R; ++s) {
                const double t = w[r] * w[s] * static_cast<double>(V(r, s));
                norm_m_sq += t;
                magnitude += std::abs(t);
            }
        const double resid_sq = norm_x_sq + norm_m_sq - 2 * inner;
        const double fit = 1 - std::sqrt(std::max(0.0, resid_sq)) / norm_x;
        // Rounding of the products in T and of every sum: a few units of T's epsilon per
        // summand magnitude, propagated through the square root.
        const double rounding = 4.0 * static_cast<double>(R + N) * std::numeric_limits<T>::epsilon() * magnitude;
        res.fit_uncertainty =
            (std::sqrt(std::max(0.0, resid_sq + rounding)) - std::sqrt(std::max(0.0, resid_sq - rounding))) / norm_x;

        cp_iteration it{iter, fit, std::abs(fit - prev_fit), seconds_since(t_iter)};
        prev_fit = fit;
        res.history.push_back(it);
        res.iters = iter;
        res.fit = fit;
        res.converged = iter > 1 && it.change < opts.tol;
        if (opts.on_iteration && !opts.on_iteration(it)) {
            res.interrupted = true;
            break;
        }
        if (res.converged) break;
    }

    kruskal_tensor& K = res.model;
    K.weights = w;
    for (const auto& F : A) {
        matrix D(F.rows(), F.cols());
        std::transform(F.values().begin(), F.values().end(), D.values().begin(),
                       [](T v) { return static_cast<double>(v); });
        K.factors.push_back(std::move(D));
    }
    K.normalize();
    K.arrange();
    if (res.fit_uncertainty > 1e-6 && !res.history.empty())
        if (const auto r2 = explicit_residual_sq(X, K)) {
            res.fit = 1 - std::sqrt(*r2) / norm_x;
            res.history.back().fit = res.fit;
            res.fit_uncertainty = 0;
        }
    res.seconds = seconds_since(start);
    return res;
}

template <class T>
cp_result run_dense(const char* who, method m, basic_tensor_view<const T> X, const cp_options& opts) {
    const auto start = clock_type::now();
    check_options(who, opts, X.shape());
    thread_scope threads(opts.threads);
    const double nx = norm(X);
    check_norm(who, nx * nx);
    auto A = initial_factors<T>(m, opts, X.shape(), [&] { return detail::nvecs_factors(X, opts.rank, opts.seed); });
    return iterate<T>(m, X, nx * nx, std::move(A), opts, start);
}

cp_result run_coo(const char* who, method m, const coo_tensor& X, const cp_options& opts) {
    const auto start = clock_type::now();
    X.validate(who);
    check_options(who, opts, X.shape);
    if (X.nnz() == 0) check_norm(who, 0);
    thread_scope threads(opts.threads);
    const csf_set S = make_csf_set(X, opts.csf);
    check_norm(who, S.norm_sq);
    auto A = initial_factors<double>(m, opts, X.shape, [&] { return detail::nvecs_factors(X, opts.rank, opts.seed); });
    return iterate<double>(m, S, S.norm_sq, std::move(A), opts, start);
}

cp_result run_csf(const char* who, method m, const csf_set& X, const cp_options& opts) {
    const auto start = clock_type::now();
    check_options(who, opts, X.shape);
    const std::size_t copies = X.csfs.size();
    if (copies != 1 && copies != X.shape.size())
        throw invalid_argument(std::string(who) + ": the csf_set holds " + std::to_string(copies) +
                               " CSF copies, expected 1 or " + std::to_string(X.shape.size()) +
                               " (build it with make_csf_set)");
    for (const auto& c : X.csfs)
        if (c.shape != X.shape)
            throw invalid_argument(std::string(who) + ": a CSF of shape " + shape_string(c.shape) +
                                   " in a csf_set of shape " + shape_string(X.shape));
    thread_scope threads(opts.threads);
    check_norm(who, X.norm_sq);
    // The SVD initialization walks the nonzeros in coordinate form: rebuild it for the set-up only.
    auto A = initial_factors<double>(m, opts, X.shape, [&] {
        return detail::nvecs_factors(to_coo(X.csfs.front()), opts.rank, opts.seed);
    });
    return iterate<double>(m, X, X.norm_sq, std::move(A), opts, start);
}

}  // namespace

cp_result cp_als(basic_tensor_view<const double> X, const cp_options& opts) {
    return run_dense<double>("cp_als", method::als, X, opts);
}
cp_result cp_als(basic_tensor_view<const float> X, const cp_options& opts) {
    return run_dense<float>("cp_als", method::als, X, opts);
}
cp_result cp_als(const coo_tensor& X, const cp_options& opts) { return run_coo("cp_als", method::als, X, opts); }
cp_result cp_als(const csf_set& X, const cp_options& opts) { return run_csf("cp_als", method::als, X, opts); }

cp_result cp_hals(basic_tensor_view<const double> X, const cp_options& opts) {
    return run_dense<double>("cp_hals", method::hals, X, opts);
}
cp_result cp_hals(basic_tensor_view<const float> X, const cp_options& opts) {
    return run_dense<float>("cp_hals", method::hals, X, opts);
}
cp_result cp_hals(const coo_tensor& X, const cp_options& opts) { return run_coo("cp_hals", method::hals, X, opts); }
cp_result cp_hals(const csf_set& X, const cp_options& opts) { return run_csf("cp_hals", method::hals, X, opts); }

}  // namespace facto
