// tt.cpp: tensor train format, TT-SVD and TT rounding.
#include "facto/decomp/tt.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "facto/decomp/svd.hpp"
#include "core/huge_pages.hpp"
#include "decomp/slab_residual.hpp"
#include "ops/blas_lapack.hpp"

namespace facto {
namespace {

// Per-mode caps from the options: d - 1 entries, each huge when uncapped.
std::vector<index_t> rank_caps(const tt_options& opts, int d, const char* who) {
    if (!(opts.tol >= 0) || !std::isfinite(opts.tol))
        throw invalid_argument(std::string(who) + ": tol must be finite and >= 0, got " + std::to_string(opts.tol));
    const auto internal = static_cast<std::size_t>(d - 1);
    const std::size_t given = opts.max_ranks.size();
    if (given != 0 && given != 1 && given != internal)
        throw invalid_argument(std::string(who) + ": max_ranks has " + std::to_string(given) +
                               " entries; expected 0, 1 or d - 1 = " + std::to_string(internal));
    std::vector<index_t> caps(internal, std::numeric_limits<index_t>::max());
    for (std::size_t k = 0; k < internal && given; ++k) caps[k] = opts.max_ranks[given == 1 ? 0 : k];
    for (index_t c : opts.max_ranks)
        if (c < 1) throw invalid_argument(std::string(who) + ": max_ranks entries must be >= 1, got " + std::to_string(c));
    return caps;
}

// The smallest rank >= 1 whose discarded tail of s (decreasing) has 2-norm <= delta, lowered to
// cap if above it; adds the discarded tail's squared norm to err2.
template <class T>
index_t choose_rank(const std::vector<T>& s, double delta, index_t cap, double& err2) {
    const auto n = static_cast<index_t>(s.size());
    index_t r = n;
    double tail = 0;
    while (r > 1) {
        const double v = static_cast<double>(s[static_cast<std::size_t>(r - 1)]);
        if (tail + v * v > delta * delta) break;
        tail += v * v;
        --r;
    }
    while (r > cap) {
        const double v = static_cast<double>(s[static_cast<std::size_t>(r - 1)]);
        tail += v * v;
        --r;
    }
    err2 += tail;
    return r;
}

template <class T>
double frobenius(const T* a, index_t n) {
    double s = 0;
    for (index_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * static_cast<double>(a[i]);
    return std::sqrt(s);
}

// Left singular vectors and values of a wide m x n (m < n) row-major matrix without its right
// ones. The row-major buffer is the column-major n x m matrix M^T, tall, so LAPACK factors it
// in place of a copy with no transposition: M^T = Q R (blocked Householder geqrf, BLAS-3), then
// M = R^T Q^T and the SVD R^T = W S Z^T of the small m x m factor gives U = W. Backward stable
// like an SVD of M itself (singular values to ~eps ||M||, not sqrt(eps) as a Gram matrix would
// give), and about five times faster than gesvd on TT-SVD's first, widest unfolding, which
// LAPACKE would transpose and reduce with level-2 LQ panels.
// A read-only row-major matrix in someone else's storage (the input tensor, for the first split).
template <class T>
struct matrix_ref {
    const T* data;
    index_t rows, cols;
};

template <class T>
void left_svd(matrix_ref<T> M, basic_matrix<T>& U, std::vector<T>& s, const char* who) {
    const index_t m = M.rows, n = M.cols;
    // geqrf overwrites its input, so it works on a copy; huge pages, since first-touch page
    // faults on a fresh multi-megabyte buffer cost more than the copy itself on a VM.
    std::vector<T> a, tau(static_cast<std::size_t>(m));
    detail::reserve_huge(a, static_cast<std::size_t>(m * n));
    a.assign(M.data, M.data + m * n);
    lapack_int info;
    if constexpr (std::is_same_v<T, double>)
        info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, detail::ld(n), detail::ld(m), a.data(), detail::ld(n), tau.data());
    else
        info = LAPACKE_sgeqrf(LAPACK_COL_MAJOR, detail::ld(n), detail::ld(m), a.data(), detail::ld(n), tau.data());
    if (info != 0)
        throw invalid_argument(std::string(who) + ": LAPACK geqrf failed (info " + std::to_string(info) + ") on a " +
                               std::to_string(m) + "x" + std::to_string(n) + " unfolding");
    // R (m x m, upper) sits column-major in the top of a with leading dimension n; its
    // row-major copy is R^T column-major, which is what the SVD below reads.
    std::vector<T> rt(static_cast<std::size_t>(m * m), T(0));
    for (index_t j = 0; j < m; ++j)
        for (index_t i = 0; i <= j; ++i) rt[static_cast<std::size_t>(i * m + j)] = a[static_cast<std::size_t>(j * n + i)];
    a = {};
    std::vector<T> w(static_cast<std::size_t>(m * m)), zt(static_cast<std::size_t>(m * m));
    s.assign(static_cast<std::size_t>(m), T(0));
    if constexpr (std::is_same_v<T, double>)
        info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'A', detail::ld(m), detail::ld(m), rt.data(), detail::ld(m), s.data(),
                              w.data(), detail::ld(m), zt.data(), detail::ld(m));
    else
        info = LAPACKE_sgesdd(LAPACK_COL_MAJOR, 'A', detail::ld(m), detail::ld(m), rt.data(), detail::ld(m), s.data(),
                              w.data(), detail::ld(m), zt.data(), detail::ld(m));
    if (info != 0)
        throw invalid_argument(std::string(who) + ": LAPACK gesdd failed (info " + std::to_string(info) + ") on a " +
                               std::to_string(m) + "x" + std::to_string(n) + " unfolding");
    U.resize(m, m);  // W column-major -> row-major
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < m; ++j) U(i, j) = w[static_cast<std::size_t>(j * m + i)];
}

// Splits the m x n matrix M by SVD with the rank chosen by choose_rank: returns U_r (m x r)
// and stores diag(s_r) V_r^T = U_r^T M (r x n) in rest.
template <class T>
basic_matrix<T> split(matrix_ref<T> M, double delta, index_t cap, double& err2, basic_matrix<T>& rest,
                      const char* who) {
    const index_t m = M.rows, n = M.cols;
    if (m < n) {
        basic_matrix<T> Uf;
        std::vector<T> s;
        left_svd(M, Uf, s, who);
        const index_t r = choose_rank(s, delta, cap, err2);
        basic_matrix<T> U(m, r);
        for (index_t i = 0; i < m; ++i)
            for (index_t j = 0; j < r; ++j) U(i, j) = Uf(i, j);
        rest.resize(r, n);
        detail::gemm(true, false, r, n, m, T(1), U.data(), r, M.data, n, T(0), rest.data(), n);
        return U;
    }
    // Tall: the row-major buffer is the wide column-major M^T = W S Z^T, so M = Z S W^T, and
    // LAPACK's column-major Z^T (n x m) is Z row-major: no transposed copies.
    std::vector<T> a(M.data, M.data + m * n), s(static_cast<std::size_t>(n)), w(static_cast<std::size_t>(n * n));
    basic_matrix<T> Z(m, n);
    lapack_int info;
    if constexpr (std::is_same_v<T, double>)
        info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', detail::ld(n), detail::ld(m), a.data(), detail::ld(n), s.data(),
                              w.data(), detail::ld(n), Z.data(), detail::ld(n));
    else
        info = LAPACKE_sgesdd(LAPACK_COL_MAJOR, 'S', detail::ld(n), detail::ld(m), a.data(), detail::ld(n), s.data(),
                              w.data(), detail::ld(n), Z.data(), detail::ld(n));
    if (info != 0)
        throw invalid_argument(std::string(who) + ": LAPACK gesdd failed (info " + std::to_string(info) + ") on a " +
                               std::to_string(m) + "x" + std::to_string(n) + " unfolding");
    const index_t r = choose_rank(s, delta, cap, err2);
    basic_matrix<T> U(m, r);
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < r; ++j) U(i, j) = Z(i, j);
    rest.resize(r, n);  // diag(s_r) W_r^T; W column-major: W(c, j) at w[j * n + c]
    for (index_t j = 0; j < r; ++j)
        for (index_t c = 0; c < n; ++c)
            rest(j, c) = s[static_cast<std::size_t>(j)] * w[static_cast<std::size_t>(j * n + c)];
    return U;
}

// Thin QR of the m x n row-major matrix A (overwritten by Q, m x min(m, n)); returns R
// (min(m, n) x n, upper trapezoidal).
template <class T>
basic_matrix<T> thin_qr(basic_matrix<T>& A, const char* who) {
    const index_t m = A.rows(), n = A.cols(), k = std::min(m, n);
    std::vector<T> tau(static_cast<std::size_t>(k));
    if (detail::geqrf(m, n, A.data(), tau.data()) != 0)
        throw invalid_argument(std::string(who) + ": QR factorization failed (non-finite core entries?)");
    basic_matrix<T> R(k, n);
    for (index_t i = 0; i < k; ++i)
        for (index_t j = i; j < n; ++j) R(i, j) = A(i, j);
    lapack_int info;
    if constexpr (std::is_same_v<T, double>)
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, static_cast<lapack_int>(m), static_cast<lapack_int>(k),
                              static_cast<lapack_int>(k), A.data(), detail::ld(n), tau.data());
    else
        info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, static_cast<lapack_int>(m), static_cast<lapack_int>(k),
                              static_cast<lapack_int>(k), A.data(), detail::ld(n), tau.data());
    if (info != 0) throw invalid_argument(std::string(who) + ": LAPACK orgqr failed");
    basic_matrix<T> Q(m, k);
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < k; ++j) Q(i, j) = A(i, j);
    A = std::move(Q);
    return R;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// basic_tt_tensor

template <class T>
basic_tt_tensor<T>::basic_tt_tensor(std::vector<basic_tensor<T>> cores) : cores_(std::move(cores)) {
    if (cores_.empty()) throw invalid_argument("tt_tensor: no cores given; expected at least one");
    index_t prev = 1;
    for (std::size_t k = 0; k < cores_.size(); ++k) {
        const auto& G = cores_[k];
        if (G.order() != 3)
            throw invalid_argument("tt_tensor: core " + std::to_string(k) + " has order " + std::to_string(G.order()) +
                                   "; expected 3 (r_k x n_k x r_k+1)");
        if (G.dim(0) != prev)
            throw invalid_argument("tt_tensor: core " + std::to_string(k) + " has shape " + shape_string(G.shape()) +
                                   "; expected first dimension " + std::to_string(prev) +
                                   (k == 0 ? " (r_0 = 1)" : " (the previous core's last dimension)"));
        if (G.dim(1) < 1 || G.dim(2) < 1)
            throw invalid_argument("tt_tensor: core " + std::to_string(k) + " has shape " + shape_string(G.shape()) +
                                   "; expected every dimension >= 1");
        prev = G.dim(2);
    }
    if (prev != 1)
        throw invalid_argument("tt_tensor: last core has shape " + shape_string(cores_.back().shape()) +
                               "; expected last dimension 1 (r_d = 1)");
}

template <class T>
shape_t basic_tt_tensor<T>::shape() const {
    shape_t s;
    for (const auto& G : cores_) s.push_back(G.dim(1));
    return s;
}

template <class T>
std::vector<index_t> basic_tt_tensor<T>::ranks() const {
    std::vector<index_t> r;
    for (const auto& G : cores_) r.push_back(G.dim(0));
    r.push_back(cores_.empty() ? 1 : cores_.back().dim(2));
    return r;
}

namespace {

// W (rows x r_k, row-major) times cores k, k + 1, ...: the row-major (rows n_k ... n_{d-1}) x r_d
// product, which keeps the dense tensor's layout.
template <class T>
std::vector<T> contract_from(const std::vector<basic_tensor<T>>& cores, std::size_t k, std::vector<T> W,
                             index_t rows) {
    for (; k < cores.size(); ++k) {
        const auto& G = cores[k];
        const index_t r = G.dim(0), cols = G.dim(1) * G.dim(2);
        std::vector<T> next(static_cast<std::size_t>(rows * cols));
        detail::gemm(false, false, rows, cols, r, T(1), W.data(), r, G.data(), cols, T(0), next.data(), cols);
        W = std::move(next);
        rows *= G.dim(1);
    }
    return W;
}

}  // namespace

template <class T>
basic_tensor<T> basic_tt_tensor<T>::full() const {
    if (cores_.empty()) throw invalid_argument("tt_tensor::full: empty TT (no cores)");
    const auto& G0 = cores_[0];
    return basic_tensor<T>(shape(), contract_from(cores_, 1, std::vector<T>(G0.data(), G0.data() + G0.size()), G0.dim(1)));
}

template <class T>
double basic_tt_tensor<T>::relative_error(basic_tensor_view<const T> X) const {
    if (cores_.empty()) throw invalid_argument("tt_tensor::relative_error: empty TT (no cores)");
    if (X.shape() != shape())
        throw invalid_argument("tt_tensor::relative_error: the tensor has shape " + shape_string(X.shape()) +
                               ", the TT " + shape_string(shape()));
    // The mode-0 unfolding is the first core (n_0 x r_1) times the others contracted, which
    // is r_1 x (n_1 ... n_{d-1}) row-major (1 x 1 for d = 1).
    std::vector<T> W{T(1)};
    if (cores_.size() > 1) {
        const auto& G1 = cores_[1];
        W = contract_from(cores_, 2, std::vector<T>(G1.data(), G1.data() + G1.size()), G1.dim(0) * G1.dim(1));
    }
    const index_t n0 = X.dim(0);
    return detail::slab_relative_residual(X.data(), n0, X.size() / n0, cores_[0].data(), cores_[0].dim(2), W.data());
}

template <class T>
T basic_tt_tensor<T>::operator()(const shape_t& coord) const {
    if (coord.size() != cores_.size())
        throw out_of_range("tt_tensor: coordinate of order " + std::to_string(coord.size()) +
                           " for a TT of order " + std::to_string(cores_.size()));
    std::vector<T> v{T(1)}, next;
    for (std::size_t k = 0; k < cores_.size(); ++k) {
        const auto& G = cores_[k];
        const index_t r0 = G.dim(0), n = G.dim(1), r1 = G.dim(2), i = coord[k];
        if (i < 0 || i >= n)
            throw out_of_range("tt_tensor: index " + std::to_string(i) + " in mode " + std::to_string(k) +
                               " outside [0, " + std::to_string(n) + ")");
        next.assign(static_cast<std::size_t>(r1), T(0));
        for (index_t a = 0; a < r0; ++a) {
            const T* slice = G.data() + (a * n + i) * r1;
            const T va = v[static_cast<std::size_t>(a)];
            for (index_t b = 0; b < r1; ++b) next[static_cast<std::size_t>(b)] += va * slice[b];
        }
        std::swap(v, next);
    }
    return v[0];
}

template <class T>
double basic_tt_tensor<T>::norm() const {
    // M_{k+1} = sum_i G_k[i]^T M_k G_k[i], M_0 = [1]; ||X||^2 = M_d. Accumulated in double.
    std::vector<double> M{1.0};
    for (const auto& G : cores_) {
        const index_t r0 = G.dim(0), nr1 = G.dim(1) * G.dim(2), r1 = G.dim(2);
        std::vector<double> Gd(G.data(), G.data() + G.size());
        std::vector<double> P(static_cast<std::size_t>(r0 * nr1));  // M G as r0 x (n r1)
        detail::gemm(false, false, r0, nr1, r0, 1.0, M.data(), r0, Gd.data(), nr1, 0.0, P.data(), nr1);
        std::vector<double> Mn(static_cast<std::size_t>(r1 * r1));  // G^T P over (r0 n) x r1
        detail::gemm(true, false, r1, r1, r0 * G.dim(1), 1.0, Gd.data(), r1, P.data(), r1, 0.0, Mn.data(), r1);
        M = std::move(Mn);
    }
    return std::sqrt(std::max(M[0], 0.0));
}

template <class T>
index_t basic_tt_tensor<T>::storage_size() const {
    index_t s = 0;
    for (const auto& G : cores_) s += G.size();
    return s;
}

template <class T>
double basic_tt_tensor<T>::compression_ratio() const {
    double full = 1;
    for (const auto& G : cores_) full *= static_cast<double>(G.dim(1));
    return full / static_cast<double>(storage_size());
}

// ---------------------------------------------------------------------------------------------
// TT-SVD and rounding

template <class T>
basic_tt_result<T> tt_svd(const basic_tensor<T>& X, const tt_options& opts) {
    const int d = X.order();
    if (d == 0 || X.size() == 0)
        throw invalid_argument("tt_svd: empty tensor of shape " + shape_string(X.shape()) +
                               "; expected order >= 1 and every dimension >= 1");
    const auto caps = rank_caps(opts, d, "tt_svd");
    const double xnorm = frobenius(X.data(), X.size());
    if (!std::isfinite(xnorm)) throw invalid_argument("tt_svd: the tensor has non-finite entries");
    const double delta = d > 1 ? opts.tol * xnorm / std::sqrt(static_cast<double>(d - 1)) : 0;

    std::vector<basic_tensor<T>> cores;
    basic_matrix<T> C;  // the remainder r_k x (n_k ... n_{d-1}); X itself before the first split
    double err2 = 0;
    index_t r = 1;
    for (int k = 0; k + 1 < d; ++k) {
        const index_t n = X.dim(k);
        const index_t left = k == 0 ? X.size() : C.size();
        const matrix_ref<T> M{k == 0 ? X.data() : C.data(), r * n, left / (r * n)};
        basic_matrix<T> rest;
        basic_matrix<T> U = split(M, delta, caps[static_cast<std::size_t>(k)], err2, rest, "tt_svd");
        const index_t rk = U.cols();
        cores.emplace_back(shape_t{r, n, rk}, std::move(U.values()));
        C = std::move(rest);
        r = rk;
    }
    if (d == 1)
        cores.emplace_back(shape_t{1, X.dim(0), 1}, std::vector<T>(X.data(), X.data() + X.size()));
    else
        cores.emplace_back(shape_t{r, X.dim(d - 1), 1}, std::move(C.values()));

    basic_tt_result<T> res;
    res.tt = basic_tt_tensor<T>(std::move(cores));
    res.rel_error_bound = xnorm > 0 ? std::sqrt(err2) / xnorm : 0;
    if (opts.check_error) res.rel_error = res.tt.relative_error(X);
    return res;
}

template <class T>
basic_tt_result<T> tt_round(const basic_tt_tensor<T>& tt, const tt_options& opts) {
    const int d = tt.order();
    if (d == 0) throw invalid_argument("tt_round: empty TT (no cores); expected at least one core");
    const auto caps = rank_caps(opts, d, "tt_round");
    std::vector<basic_tensor<T>> cores = tt.cores();
    for (const auto& G : cores)
        if (!std::isfinite(frobenius(G.data(), G.size())))
            throw invalid_argument("tt_round: a core has non-finite entries");

    // Right-to-left: core k = L Q with Q row-orthonormal (QR of its transpose); L moves left.
    for (int k = d - 1; k > 0; --k) {
        auto& G = cores[static_cast<std::size_t>(k)];
        const index_t r0 = G.dim(0), n = G.dim(1), r1 = G.dim(2), cols = n * r1;
        basic_matrix<T> At(cols, r0);
        for (index_t a = 0; a < r0; ++a)
            for (index_t c = 0; c < cols; ++c) At(c, a) = G.data()[a * cols + c];
        basic_matrix<T> R = thin_qr(At, "tt_round");  // At = Q R, so G = R^T Q^T
        const index_t rn = R.rows();
        std::vector<T> Qt(static_cast<std::size_t>(rn * cols));
        for (index_t j = 0; j < rn; ++j)
            for (index_t c = 0; c < cols; ++c) Qt[static_cast<std::size_t>(j * cols + c)] = At(c, j);
        G = basic_tensor<T>(shape_t{rn, n, r1}, std::move(Qt));
        auto& P = cores[static_cast<std::size_t>(k - 1)];
        const index_t prow = P.dim(0) * P.dim(1);
        std::vector<T> Pn(static_cast<std::size_t>(prow * rn));
        detail::gemm(false, true, prow, rn, r0, T(1), P.data(), r0, R.data(), r0, T(0), Pn.data(), rn);
        P = basic_tensor<T>(shape_t{P.dim(0), P.dim(1), rn}, std::move(Pn));
    }

    // The rest is right-orthonormal, so ||tt|| = ||core 0|| and each SVD truncation error is exact.
    const double tnorm = frobenius(cores[0].data(), cores[0].size());
    const double delta = d > 1 ? opts.tol * tnorm / std::sqrt(static_cast<double>(d - 1)) : 0;
    double err2 = 0;
    for (int k = 0; k + 1 < d; ++k) {
        auto& G = cores[static_cast<std::size_t>(k)];
        const index_t r0 = G.dim(0), n = G.dim(1), r1 = G.dim(2);
        basic_matrix<T> SV;
        basic_matrix<T> U = split(matrix_ref<T>{G.data(), r0 * n, r1}, delta, caps[static_cast<std::size_t>(k)], err2, SV, "tt_round");
        const index_t rk = U.cols();
        G = basic_tensor<T>(shape_t{r0, n, rk}, std::move(U.values()));
        auto& N = cores[static_cast<std::size_t>(k + 1)];
        const index_t cols = N.dim(1) * N.dim(2);
        std::vector<T> Nn(static_cast<std::size_t>(rk * cols));
        detail::gemm(false, false, rk, cols, r1, T(1), SV.data(), r1, N.data(), cols, T(0), Nn.data(), cols);
        N = basic_tensor<T>(shape_t{rk, N.dim(1), N.dim(2)}, std::move(Nn));
    }

    basic_tt_result<T> res;
    res.tt = basic_tt_tensor<T>(std::move(cores));
    res.rel_error_bound = tnorm > 0 ? std::sqrt(err2) / tnorm : 0;
    if (opts.check_error) res.rel_error = res.tt.relative_error(tt.full());
    return res;
}

template class basic_tt_tensor<double>;
template class basic_tt_tensor<float>;
template basic_tt_result<double> tt_svd(const basic_tensor<double>&, const tt_options&);
template basic_tt_result<float> tt_svd(const basic_tensor<float>&, const tt_options&);
template basic_tt_result<double> tt_round(const basic_tt_tensor<double>&, const tt_options&);
template basic_tt_result<float> tt_round(const basic_tt_tensor<float>&, const tt_options&);

}  // namespace facto
