// svd.cpp: exact truncated SVD (gesdd) and the randomized range finder, fixed rank or accuracy.
#include "facto/decomp/svd.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "facto/core/csr.hpp"
#include "facto/ops/linalg.hpp"
#include "ops/blas_lapack.hpp"

namespace facto {

namespace {

template <class T>
double frob2(const T* a, index_t n) {
    // Scaled accumulation is unnecessary here: entries are finite and squared sums of
    // double-converted values only overflow past 1e154.
    double s = 0;
    for (index_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * static_cast<double>(a[i]);
    return s;
}

template <class T>
void check_finite(const basic_matrix<T>& A, const char* who) {
    for (T v : A.values())
        if (!std::isfinite(static_cast<double>(v)))
            throw invalid_argument(std::string(who) + ": the matrix has a non-finite entry");
}

// Thin SVD of a copy of M (m x n): returns U (m x k), s, V (n x k) with k = min(m, n).
template <class T>
void thin_svd(basic_matrix<T> M, basic_matrix<T>& U, std::vector<T>& s, basic_matrix<T>& V, const char* who) {
    const index_t m = M.rows(), n = M.cols(), k = std::min(m, n);
    U.resize(m, k);
    s.assign(static_cast<std::size_t>(k), T(0));
    basic_matrix<T> Vt(k, n);
    if (k > 0 && detail::gesdd(m, n, M.data(), s.data(), U.data(), Vt.data()) != 0)
        throw invalid_argument(std::string(who) + ": LAPACK gesdd did not converge");
    V.resize(n, k);
    for (index_t i = 0; i < k; ++i)
        for (index_t j = 0; j < n; ++j) V(j, i) = Vt(i, j);
}

// Keeps the first k columns of a row-major matrix.
template <class T>
basic_matrix<T> first_columns(const basic_matrix<T>& A, index_t k) {
    basic_matrix<T> B(A.rows(), k);
    for (index_t i = 0; i < A.rows(); ++i) std::copy_n(A.data() + i * A.cols(), k, B.data() + i * k);
    return B;
}

// Smallest k <= cap with base2 + sum_{i >= k} s_i^2 <= target2 (cap when none is).
template <class T>
index_t rank_for(const std::vector<T>& s, index_t cap, double base2, double target2) {
    double tail = base2;
    for (index_t i = static_cast<index_t>(s.size()) - 1; i >= cap; --i)
        tail += static_cast<double>(s[static_cast<std::size_t>(i)]) * s[static_cast<std::size_t>(i)];
    index_t k = cap;
    while (k > 0) {
        const double si = s[static_cast<std::size_t>(k - 1)];
        if (tail + si * si > target2) break;
        tail += si * si;
        --k;
    }
    return k;
}

template <class T>
void truncate(basic_svd_result<T>& r, index_t k) {
    r.U = first_columns(r.U, k);
    r.V = first_columns(r.V, k);
    r.s.resize(static_cast<std::size_t>(k));
    r.rank = k;
}

template <class T>
basic_matrix<T> gaussian(index_t rows, index_t cols, std::mt19937_64& rng) {
    std::normal_distribution<double> g;
    basic_matrix<T> M(rows, cols);
    for (auto& v : M.values()) v = static_cast<T>(g(rng));
    return M;
}

// Dense operator: the products the range finder needs.
template <class T>
struct dense_op {
    const basic_matrix<T>& A;
    index_t rows() const { return A.rows(); }
    index_t cols() const { return A.cols(); }
    basic_matrix<T> mul(const basic_matrix<T>& X) const {  // A X
        basic_matrix<T> Y(A.rows(), X.cols());
        detail::gemm(false, false, A.rows(), X.cols(), A.cols(), T(1), A.data(), A.cols(), X.data(), X.cols(), T(0),
                     Y.data(), X.cols());
        return Y;
    }
    basic_matrix<T> mul_t(const basic_matrix<T>& Y) const {  // A^T Y
        basic_matrix<T> X(A.cols(), Y.cols());
        detail::gemm(true, false, A.cols(), Y.cols(), A.rows(), T(1), A.data(), A.cols(), Y.data(), Y.cols(), T(0),
                     X.data(), Y.cols());
        return X;
    }
    // ||A - U diag(s) V^T||_F^2, from the explicit residual, a block of rows at a time so
    // that no copy of A is made (page faults on a fresh m x n buffer cost more than the GEMM).
    double residual2(const basic_svd_result<T>& r) const {
        const index_t m = A.rows(), n = A.cols(), k = r.rank;
        basic_matrix<T> US = r.U;
        for (index_t i = 0; i < m; ++i)
            for (index_t j = 0; j < k; ++j) US(i, j) *= r.s[static_cast<std::size_t>(j)];
        const index_t rows = std::max<index_t>(1, std::min<index_t>(m, (index_t{1} << 18) / std::max<index_t>(n, 1)));
        basic_matrix<T> E(rows, n);
        double e2 = 0;
        for (index_t i0 = 0; i0 < m; i0 += rows) {
            const index_t b = std::min(rows, m - i0);
            std::copy_n(A.data() + i0 * n, b * n, E.data());
            detail::gemm(false, true, b, n, k, T(-1), US.data() + i0 * k, k, r.V.data(), k, T(1), E.data(), n);
            e2 += frob2(E.data(), b * n);
        }
        return e2;
    }
};

// Sparse operator: A in CSR for A X, and A^T in CSR (built once) for A^T Y.
template <class T>
struct sparse_op {
    basic_csr_matrix<T> a, at;
    explicit sparse_op(basic_csr_matrix<T> rows) : a(std::move(rows)), at(transpose(a)) {}
    index_t rows() const { return a.rows; }
    index_t cols() const { return a.cols; }
    basic_matrix<T> mul(const basic_matrix<T>& X) const { return spmm(a, X); }
    basic_matrix<T> mul_t(const basic_matrix<T>& Y) const { return spmm(at, Y); }
    // ||A - U S V^T||^2 = ||A||^2 - 2 <A, U S V^T> + sum s^2 (U, V orthonormal), over nonzeros.
    double residual2(const basic_svd_result<T>& r) const {
        double a2 = 0, cross = 0, s2 = 0;
        const index_t k = r.rank;
        for (index_t i = 0; i < a.rows; ++i) {
            const T* u = r.U.data() + i * k;
            for (index_t p = a.row_ptr[static_cast<std::size_t>(i)]; p < a.row_ptr[static_cast<std::size_t>(i + 1)]; ++p) {
                const double v = a.values[static_cast<std::size_t>(p)];
                const T* w = r.V.data() + a.col_idx[static_cast<std::size_t>(p)] * k;
                double m = 0;
                for (index_t j = 0; j < k; ++j) m += static_cast<double>(u[j]) * r.s[static_cast<std::size_t>(j)] * w[j];
                a2 += v * v;
                cross += v * m;
            }
        }
        for (T v : r.s) s2 += static_cast<double>(v) * v;
        return std::max(0.0, a2 - 2 * cross + s2);
    }
};

// Y -= Q (Q^T Y), twice ("twice is enough" for orthogonality against Q).
template <class T>
void project_out(const basic_matrix<T>& Q, basic_matrix<T>& Y) {
    if (Q.cols() == 0) return;
    for (int pass = 0; pass < 2; ++pass) {
        basic_matrix<T> C(Q.cols(), Y.cols());
        detail::gemm(true, false, Q.cols(), Y.cols(), Q.rows(), T(1), Q.data(), Q.cols(), Y.data(), Y.cols(), T(0),
                     C.data(), Y.cols());
        detail::gemm(false, false, Q.rows(), Y.cols(), Q.cols(), T(-1), Q.data(), Q.cols(), C.data(), C.cols(), T(1),
                     Y.data(), Y.cols());
    }
}

// Largest column norm of a row-major matrix.
template <class T>
double max_column_norm(const basic_matrix<T>& Y) {
    std::vector<double> c(static_cast<std::size_t>(Y.cols()), 0.0);
    for (index_t i = 0; i < Y.rows(); ++i)
        for (index_t j = 0; j < Y.cols(); ++j) c[static_cast<std::size_t>(j)] += static_cast<double>(Y(i, j)) * Y(i, j);
    double mx = 0;
    for (double v : c) mx = std::max(mx, v);
    return std::sqrt(mx);
}

// Y projected off Q, reduced to an orthonormal basis of what is left above rounding: columns
// that the projection cancelled to noise are dropped rather than normalized (normalized noise
// would not be orthogonal to Q). May return fewer columns than Y has, or none.
template <class T>
void reduce_to_new_range(const basic_matrix<T>& Q, basic_matrix<T>& Y, const char* who) {
    const double scale = max_column_norm(Y);
    project_out(Q, Y);
    const double eps = std::numeric_limits<T>::epsilon();
    const double rel = 100.0 * static_cast<double>(std::max(Y.rows(), Y.cols())) * eps;
    // Fast path, all BLAS-3: one Cholesky QR step when Y is clearly of full rank (its R well
    // conditioned and above the noise level); pivoted Householder QR otherwise.
    const index_t b = Y.cols();
    bool fast = b > 0 && b <= Y.rows();
    if (fast) {
        basic_matrix<T> R(b, b);
        detail::syrk_ata(b, Y.rows(), Y.data(), R.data());
        fast = detail::potrf_upper(b, R.data()) == 0;
        double lo = std::numeric_limits<double>::infinity(), hi = 0;
        for (index_t k = 0; k < b && fast; ++k) {
            lo = std::min(lo, std::abs(static_cast<double>(R(k, k))));
            hi = std::max(hi, std::abs(static_cast<double>(R(k, k))));
        }
        fast = fast && lo > rel * scale && lo > 1e3 * std::sqrt(eps) * hi;
        if (fast) detail::trsm_right_upper(Y.rows(), b, R.data(), Y.data());
    }
    if (!fast) detail::range_basis(Y, scale, rel, who);
    if (Y.cols() == 0) return;
    project_out(Q, Y);  // once more against Q (no-op when Q is empty), then polish
    detail::orthonormalize(Y, who);
}

// Orthonormal basis of the range of (A A^T)^q A Omega, orthogonal to Q (which may be empty).
// Intermediate power-iteration bases are only orthonormalized; the final one is reduced to
// A's numerical range, so it has fewer than `cols` columns once that range is exhausted.
template <class T, class Op>
basic_matrix<T> sketch_basis(const Op& op, const basic_matrix<T>& Q, index_t cols, int power_iters,
                             std::mt19937_64& rng, const char* who) {
    basic_matrix<T> Y = op.mul(gaussian<T>(op.cols(), cols, rng));
    for (int it = 0; it < power_iters; ++it) {
        project_out(Q, Y);
        detail::orthonormalize(Y, who);
        basic_matrix<T> Z = op.mul_t(Y);
        detail::orthonormalize(Z, who);
        Y = op.mul(Z);
    }
    reduce_to_new_range(Q, Y, who);
    return Y;
}

// Appends the columns of B to A (same row count).
template <class T>
basic_matrix<T> hcat(const basic_matrix<T>& A, const basic_matrix<T>& B) {
    basic_matrix<T> C(A.rows(), A.cols() + B.cols());
    for (index_t i = 0; i < A.rows(); ++i) {
        std::copy_n(A.data() + i * A.cols(), A.cols(), C.data() + i * C.cols());
        std::copy_n(B.data() + i * B.cols(), B.cols(), C.data() + i * C.cols() + A.cols());
    }
    return C;
}

template <class T, class Op>
basic_svd_result<T> randomized(const Op& op, double norm2, const svd_randomized_options& o) {
    constexpr const char* who = "svd_randomized";
    const index_t m = op.rows(), n = op.cols(), kmax = std::min(m, n);
    if (o.rank < 0) throw invalid_argument("svd_randomized: rank must be >= 0, got " + std::to_string(o.rank));
    if (o.rank > kmax)
        throw invalid_argument("svd_randomized: rank " + std::to_string(o.rank) + " exceeds min(m, n) = " +
                               std::to_string(kmax));
    if (o.rank == 0 && !(o.tol > 0 && std::isfinite(o.tol)))
        throw invalid_argument("svd_randomized: with rank 0 (fixed accuracy) tol must be finite and > 0, got " +
                               std::to_string(o.tol));
    if (o.oversample < 0)
        throw invalid_argument("svd_randomized: oversample must be >= 0, got " + std::to_string(o.oversample));
    if (o.power_iters < 0)
        throw invalid_argument("svd_randomized: power_iters must be >= 0, got " + std::to_string(o.power_iters));
    if (o.block < 1) throw invalid_argument("svd_randomized: block must be >= 1, got " + std::to_string(o.block));
    if (o.max_rank < 0)
        throw invalid_argument("svd_randomized: max_rank must be >= 0, got " + std::to_string(o.max_rank));

    std::mt19937_64 rng(o.seed);
    basic_matrix<T> Q(m, 0);
    basic_matrix<T> Bt(n, 0);  // (Q^T A)^T, grown with Q
    double captured2 = 0;      // ||Q^T A||_F^2
    const double target2 = o.tol * o.tol * norm2;
    bool reached = true;
    if (o.rank > 0) {
        Q = sketch_basis(op, Q, std::min(o.rank + o.oversample, kmax), o.power_iters, rng, who);
        Bt = op.mul_t(Q);
        captured2 = frob2(Bt.data(), Bt.size());
    } else {
        const index_t cap = o.max_rank > 0 ? std::min(o.max_rank, kmax) : kmax;
        reached = norm2 <= target2;
        while (!reached && Q.cols() < cap) {
            const basic_matrix<T> Qi =
                sketch_basis(op, Q, std::min(o.block, cap - Q.cols()), o.power_iters, rng, who);
            if (Qi.cols() == 0) break;  // the numerical range of A is exhausted
            const basic_matrix<T> Bi = op.mul_t(Qi);
            captured2 += frob2(Bi.data(), Bi.size());
            Q = hcat(Q, Qi);
            Bt = hcat(Bt, Bi);
            reached = norm2 - captured2 <= target2;
        }
    }
    // Q^T A = (Bt)^T = Z S W^T from the SVD Bt = W S Z^T: A ~= (Q Z) S W^T.
    basic_svd_result<T> r;
    basic_matrix<T> Z;
    thin_svd(Bt, r.V, r.s, Z, who);
    const index_t l = static_cast<index_t>(r.s.size());
    r.U = basic_matrix<T>(m, l);
    detail::gemm(false, false, m, l, Q.cols(), T(1), Q.data(), Q.cols(), Z.data(), Z.cols(), T(0), r.U.data(), l);
    r.rank = l;
    const double missed2 = std::max(0.0, norm2 - captured2);
    const index_t k = o.rank > 0 ? std::min(o.rank, l) : rank_for(r.s, l, missed2, target2);
    truncate(r, k);
    double kept2 = 0;
    for (T v : r.s) kept2 += static_cast<double>(v) * v;
    const double nrm = std::sqrt(norm2);
    r.rel_error_estimate = nrm > 0 ? std::sqrt(std::max(0.0, norm2 - kept2)) / nrm : 0.0;
    r.rel_error = !o.check_error ? r.rel_error_estimate : nrm > 0 ? std::sqrt(op.residual2(r)) / nrm : 0.0;
    r.converged = o.rank > 0 || reached;
    return r;
}

}  // namespace

template <class T>
basic_svd_result<T> svd_truncated(const basic_matrix<T>& A, const svd_options& opts) {
    const index_t kmax = std::min(A.rows(), A.cols());
    if (opts.rank < 0) throw invalid_argument("svd_truncated: rank must be >= 0, got " + std::to_string(opts.rank));
    if (!(opts.tol >= 0 && std::isfinite(opts.tol)))
        throw invalid_argument("svd_truncated: tol must be finite and >= 0, got " + std::to_string(opts.tol));
    check_finite(A, "svd_truncated");
    const index_t cap = opts.rank > 0 ? std::min(opts.rank, kmax) : kmax;
    basic_svd_result<T> r;
    thin_svd(A, r.U, r.s, r.V, "svd_truncated");
    r.rank = kmax;
    double total2 = 0;  // ||A||_F^2 from the singular values, so the error has no cancellation
    for (T v : r.s) total2 += static_cast<double>(v) * v;
    const index_t k = opts.tol > 0 ? rank_for(r.s, cap, 0.0, opts.tol * opts.tol * total2) : cap;
    double tail2 = 0;
    for (index_t i = k; i < kmax; ++i) tail2 += static_cast<double>(r.s[static_cast<std::size_t>(i)]) * r.s[static_cast<std::size_t>(i)];
    truncate(r, k);
    r.rel_error = total2 > 0 ? std::sqrt(tail2 / total2) : 0.0;
    return r;
}

template <class T>
basic_svd_result<T> svd_randomized(const basic_matrix<T>& A, const svd_randomized_options& opts) {
    // One pass for both the norm and the finiteness check: a non-finite sum is either a
    // non-finite entry or entries so large that squared norms overflow.
    const double a2 = frob2(A.data(), A.size());
    if (!std::isfinite(a2)) {
        check_finite(A, "svd_randomized");
        throw invalid_argument("svd_randomized: ||A||_F^2 overflows double; scale the matrix down");
    }
    return randomized<T>(dense_op<T>{A}, a2, opts);
}

template <class T>
basic_svd_result<T> svd_randomized(const basic_coo_tensor<T>& A, const svd_randomized_options& opts) {
    if (A.order() != 2)
        throw invalid_argument("svd_randomized: a sparse matrix is a COO tensor of order 2, got order " +
                               std::to_string(A.order()));
    A.validate("svd_randomized");
    for (T v : A.values)
        if (!std::isfinite(static_cast<double>(v)))
            throw invalid_argument("svd_randomized: the matrix has a non-finite entry");
    const sparse_op<T> op(to_csr(A));  // duplicates summed
    return randomized<T>(op, frob2(op.a.values.data(), op.a.nnz()), opts);
}

template basic_svd_result<double> svd_truncated(const basic_matrix<double>&, const svd_options&);
template basic_svd_result<float> svd_truncated(const basic_matrix<float>&, const svd_options&);
template basic_svd_result<double> svd_randomized(const basic_matrix<double>&, const svd_randomized_options&);
template basic_svd_result<float> svd_randomized(const basic_matrix<float>&, const svd_randomized_options&);
template basic_svd_result<double> svd_randomized(const basic_coo_tensor<double>&, const svd_randomized_options&);
template basic_svd_result<float> svd_randomized(const basic_coo_tensor<float>&, const svd_randomized_options&);

}  // namespace facto
