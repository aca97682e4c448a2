// svd.cpp: exact truncated SVD (gesdd) and the randomized range finder, fixed rank or accuracy.
#include "facto/decomp/svd.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>

#include "facto/core/csr.hpp"
#include "facto/ops/linalg.hpp"
#include "core/huge_pages.hpp"
#include "core/parallel.hpp"
#include "ops/blas_lapack.hpp"
#include "ops/skinny_gemm.hpp"

namespace facto {

namespace {

// Sum of squares, in blocks of a fixed size whose partial sums are added in order: the result
// does not depend on the thread count, and the rounding error grows with the block size plus
// the number of blocks rather than with n. Squared sums of finite doubles overflow only past
// 1e154, which the callers check.
template <class T>
double frob2(const T* a, index_t n) {
    constexpr index_t block = 4096;
    const index_t blocks = (n + block - 1) / block;
    std::vector<double> part(static_cast<std::size_t>(blocks));
#pragma omp parallel for schedule(static) if (detail::worth_parallel(n))
    for (index_t b = 0; b < blocks; ++b) {
        const index_t lo = b * block, hi = std::min(n, lo + block);
        double acc[4] = {0, 0, 0, 0};  // independent lanes, so the loop vectorizes
        index_t i = lo;
        for (; i + 4 <= hi; i += 4)
            for (int j = 0; j < 4; ++j) acc[j] += static_cast<double>(a[i + j]) * static_cast<double>(a[i + j]);
        for (; i < hi; ++i) acc[0] += static_cast<double>(a[i]) * static_cast<double>(a[i]);
        part[static_cast<std::size_t>(b)] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
    double s = 0;
    for (double v : part) s += v;
    return s;
}

template <class T>
void check_finite(const basic_matrix<T>& A, const char* who) {
    for (T v : A.values())
        if (!std::isfinite(static_cast<double>(v)))
            throw invalid_argument(std::string(who) + ": the matrix has a non-finite entry");
}

// Thin SVD of M (m x n, row-major): U (m x k), s, V (n x k) with k = min(m, n). The row-major
// buffer is the column-major M^T = W S Z^T, so M = Z S W^T: LAPACK's column-major Z^T (k x m)
// is U row-major as it stands, and only the small W needs transposing into V. LAPACKE's
// row-major path would instead transpose the whole input and both outputs.
template <class T>
void thin_svd(const basic_matrix<T>& M, basic_matrix<T>& U, std::vector<T>& s, basic_matrix<T>& V, const char* who) {
    const index_t m = M.rows(), n = M.cols(), k = std::min(m, n);
    U.resize(m, k);
    V.resize(n, k);
    s.assign(static_cast<std::size_t>(k), T(0));
    if (k == 0) return;
    std::vector<T> a, w(static_cast<std::size_t>(n * k));
    detail::reserve_huge(a, static_cast<std::size_t>(m * n));  // gesdd overwrites its input
    a.assign(M.data(), M.data() + m * n);
    lapack_int info;
    if constexpr (std::is_same_v<T, double>)
        info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', detail::ld(n), detail::ld(m), a.data(), detail::ld(n), s.data(),
                              w.data(), detail::ld(n), U.data(), detail::ld(k));
    else
        info = LAPACKE_sgesdd(LAPACK_COL_MAJOR, 'S', detail::ld(n), detail::ld(m), a.data(), detail::ld(n), s.data(),
                              w.data(), detail::ld(n), U.data(), detail::ld(k));
    if (info != 0)
        throw invalid_argument(std::string(who) + ": LAPACK gesdd did not converge (info " + std::to_string(info) +
                               ")");
    for (index_t j = 0; j < n; ++j)
        for (index_t i = 0; i < k; ++i) V(j, i) = w[static_cast<std::size_t>(i * n + j)];
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

// Standard normal test matrix (Marsaglia's polar method on 53-bit uniforms from the seeded
// generator: about twice as fast as std::normal_distribution, and the same on every platform).
template <class T>
basic_matrix<T> gaussian(index_t rows, index_t cols, std::mt19937_64& rng) {
    basic_matrix<T> M(rows, cols);
    T* out = M.data();
    const index_t count = M.size();
    auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0; };
    for (index_t i = 0; i < count; i += 2) {
        double x, y, r2;
        do {
            x = uniform();
            y = uniform();
            r2 = x * x + y * y;
        } while (r2 >= 1.0 || r2 == 0.0);
        const double f = std::sqrt(-2.0 * std::log(r2) / r2);
        out[i] = static_cast<T>(x * f);
        if (i + 1 < count) out[i + 1] = static_cast<T>(y * f);
    }
    return M;
}

// Dense operator: the products the range finder needs.
template <class T>
struct dense_op {
    const basic_matrix<T>& A;
    index_t rows() const { return A.rows(); }
    index_t cols() const { return A.cols(); }
    // Y = A X and X = A^T Y into buffers reused across the power iterations (a fresh
    // multi-megabyte block per product costs page faults on every call).
    // A X for a sketch of up to two thin panels runs the register-tiled thin kernel per panel
    // (one pass over A each, 2-3x BLAS's speed on such shapes); wider sketches use BLAS.
    void mul(const basic_matrix<T>& X, basic_matrix<T>& Y) const {
        const index_t m = A.rows(), n = A.cols(), c = X.cols();
        Y.reshape_for_overwrite(m, c);
        constexpr index_t panel = detail::skinny_max_cols<T>;
        if (c == 0) return;
        if (c > 2 * panel) {
            detail::gemm(false, false, m, c, n, T(1), A.data(), n, X.data(), c, T(0), Y.data(), c);
            return;
        }
        for (index_t j0 = 0; j0 < c; j0 += panel)
            detail::skinny_gemm(false, m, std::min(panel, c - j0), n, A.data(), n, X.data() + j0, c, Y.data() + j0, c);
    }
    void mul_t(const basic_matrix<T>& Y, basic_matrix<T>& X) const {
        X.reshape_for_overwrite(A.cols(), Y.cols());
        detail::gemm(true, false, A.cols(), Y.cols(), A.rows(), T(1), A.data(), A.cols(), Y.data(), Y.cols(), T(0),
                     X.data(), Y.cols());
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
    void mul(const basic_matrix<T>& X, basic_matrix<T>& Y) const { Y = spmm(a, X); }
    void mul_t(const basic_matrix<T>& Y, basic_matrix<T>& X) const { X = spmm(at, Y); }
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

// A well-conditioned basis of the span of Y, in place, for the intermediate power-iteration
// steps, where only the span matters: one Cholesky QR pass (BLAS-3, Y's columns to within
// ~eps cond(Y)^2 of orthonormal) when R is clearly well conditioned, the full
// orthonormalization (Householder when needed) otherwise.
template <class T>
void condition_basis(basic_matrix<T>& Y, const char* who) {
    const index_t b = Y.cols();
    if (b == 0 || b > Y.rows()) return detail::orthonormalize(Y, who);
    basic_matrix<T> R(b, b);
    detail::syrk_ata(b, Y.rows(), Y.data(), R.data());
    bool ok = detail::potrf_upper(b, R.data()) == 0;
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (index_t k = 0; k < b && ok; ++k) {
        lo = std::min(lo, std::abs(static_cast<double>(R(k, k))));
        hi = std::max(hi, std::abs(static_cast<double>(R(k, k))));
    }
    // cond(R) below ~1e-3 / sqrt(eps): the pass leaves an orthogonality error below ~1e-6.
    if (ok && lo > 1e3 * std::sqrt(static_cast<double>(std::numeric_limits<T>::epsilon())) * hi)
        detail::trsm_right_upper(Y.rows(), b, R.data(), Y.data());
    else
        detail::orthonormalize(Y, who);
}

// Orthonormal basis of the range of (A A^T)^q A Omega, orthogonal to Q (which may be empty).
// Intermediate power-iteration bases are only conditioned; the final one is orthonormalized
// and reduced to A's numerical range, so it has fewer than `cols` columns once that range is
// exhausted.
template <class T, class Op>
basic_matrix<T> sketch_basis(const Op& op, const basic_matrix<T>& Q, index_t cols, int power_iters,
                             std::mt19937_64& rng, const char* who) {
    basic_matrix<T> Y, Z;
    op.mul(gaussian<T>(op.cols(), cols, rng), Y);
    for (int it = 0; it < power_iters; ++it) {
        project_out(Q, Y);
        condition_basis(Y, who);
        op.mul_t(Y, Z);
        condition_basis(Z, who);
        op.mul(Z, Y);
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

// Block Krylov basis Q of [A Omega, (A A^T) A Omega, ..., (A A^T)^q A Omega] (Omega: b Gaussian
// columns), each block orthonormalized against the previous ones, and Bt = A^T Q. Every
// A^T Q_i is both a block of Bt and the start of the next block, so the basis costs q + 1
// products with A and with A^T of b columns each, none more. Blocks lose columns once A's
// numerical range is exhausted (reduce_to_new_range drops the noise).
template <class T, class Op>
void krylov_basis(const Op& op, index_t b, int q, std::mt19937_64& rng, basic_matrix<T>& Q, basic_matrix<T>& Bt,
                  const char* who) {
    basic_matrix<T> Y, Z;
    op.mul(gaussian<T>(op.cols(), b, rng), Y);
    for (int i = 0;; ++i) {
        reduce_to_new_range(Q, Y, who);
        if (Y.cols() == 0) break;
        op.mul_t(Y, Z);
        Q = hcat(Q, Y);
        Bt = hcat(Bt, Z);
        if (i == q) break;
        condition_basis(Z, who);  // only its span matters for the next block
        op.mul(Z, Y);
    }
}

// ||A - U S V^T||_F^2 without touching A: ||A||^2 - 2 tr(S V^T A^T U) + ||U S V^T||^2, where
// A^T U = A^T Q W_k = Bt W_k comes from the product Bt = A^T Q already computed, and
// ||U S V^T||^2 = sum_ij s_i s_j (U^T U)_ij (V^T V)_ij. Nothing assumes U or V orthonormal or
// the small SVD exact: the one approximation is Bt's rounding, so the value is the residual up
// to ~eps (m + n) l ||A||^2 (O((m + n) l k) work instead of a pass over A).
template <class T>
double expanded_residual2(const basic_svd_result<T>& r, const basic_matrix<T>& Bt, const basic_matrix<T>& Wt,
                          double norm2) {
    const index_t n = Bt.rows(), l = Bt.cols(), k = r.rank;
    if (k == 0) return norm2;
    basic_matrix<T> AtU(n, k);  // Bt W_k
    detail::gemm(false, true, n, k, l, T(1), Bt.data(), l, Wt.data(), l, T(0), AtU.data(), k);
    double cross = 0;  // tr(S V^T A^T U)
    for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < k; ++j)
            cross += static_cast<double>(r.s[static_cast<std::size_t>(j)]) * static_cast<double>(r.V(i, j)) *
                     static_cast<double>(AtU(i, j));
    basic_matrix<T> Gu(k, k), Gv(k, k);  // upper triangles
    detail::syrk_ata(k, r.U.rows(), r.U.data(), Gu.data());
    detail::syrk_ata(k, n, r.V.data(), Gv.data());
    double model2 = 0;
    for (index_t i = 0; i < k; ++i)
        for (index_t j = i; j < k; ++j) {
            const double t = static_cast<double>(r.s[static_cast<std::size_t>(i)]) * r.s[static_cast<std::size_t>(j)] *
                             static_cast<double>(Gu(i, j)) * static_cast<double>(Gv(i, j));
            model2 += i == j ? t : 2 * t;
        }
    return norm2 - 2 * cross + model2;
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
    if (o.krylov_block < 0)
        throw invalid_argument("svd_randomized: krylov_block must be >= 0, got " + std::to_string(o.krylov_block));
    if (o.krylov_block > 0 && o.rank == 0)
        throw invalid_argument("svd_randomized: krylov_block applies to a fixed rank; the fixed-accuracy mode (rank 0) "
                               "grows a subspace-iteration basis");
    if (o.krylov_block > 0 && o.krylov_block * (o.power_iters + 1) < o.rank)
        throw invalid_argument("svd_randomized: the Krylov basis has krylov_block * (power_iters + 1) = " +
                               std::to_string(o.krylov_block * (o.power_iters + 1)) + " columns, fewer than rank " +
                               std::to_string(o.rank));

    std::mt19937_64 rng(o.seed);
    basic_matrix<T> Q(m, 0);
    basic_matrix<T> Bt(n, 0);  // (Q^T A)^T, grown with Q
    double captured2 = 0;      // ||Q^T A||_F^2
    const double target2 = o.tol * o.tol * norm2;
    bool reached = true;
    if (o.krylov_block > 0) {
        krylov_basis(op, std::min(o.krylov_block, kmax), o.power_iters, rng, Q, Bt, who);
        captured2 = frob2(Bt.data(), Bt.size());
    } else if (o.rank > 0) {
        Q = sketch_basis(op, Q, std::min(o.rank + o.oversample, kmax), o.power_iters, rng, who);
        op.mul_t(Q, Bt);
        captured2 = frob2(Bt.data(), Bt.size());
    } else {
        const index_t cap = o.max_rank > 0 ? std::min(o.max_rank, kmax) : kmax;
        reached = norm2 <= target2;
        while (!reached && Q.cols() < cap) {
            const basic_matrix<T> Qi =
                sketch_basis(op, Q, std::min(o.block, cap - Q.cols()), o.power_iters, rng, who);
            if (Qi.cols() == 0) break;  // the numerical range of A is exhausted
            basic_matrix<T> Bi;
            op.mul_t(Qi, Bi);
            captured2 += frob2(Bi.data(), Bi.size());
            Q = hcat(Q, Qi);
            Bt = hcat(Bt, Bi);
            reached = norm2 - captured2 <= target2;
        }
    }
    // Q^T A = W S V^T (l x n), read from Bt's row-major buffer as a column-major l x n matrix,
    // so LAPACK needs no transposed copies: its V^T (column-major) is V (row-major), and W
    // (column-major l x l) is W^T row-major. A ~= (Q W) S V^T.
    basic_svd_result<T> r;
    const index_t l = Q.cols();
    basic_matrix<T> Wt(l, l);
    r.V.resize(n, l);
    r.s.assign(static_cast<std::size_t>(l), T(0));
    if (l > 0) {
        std::vector<T> work = Bt.values(), superb(static_cast<std::size_t>(l));
        lapack_int info;
        if constexpr (std::is_same_v<T, double>)
            info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'S', 'S', detail::ld(l), detail::ld(n), work.data(), detail::ld(l),
                                  r.s.data(), Wt.data(), detail::ld(l), r.V.data(), detail::ld(l), superb.data());
        else
            info = LAPACKE_sgesvd(LAPACK_COL_MAJOR, 'S', 'S', detail::ld(l), detail::ld(n), work.data(), detail::ld(l),
                                  r.s.data(), Wt.data(), detail::ld(l), r.V.data(), detail::ld(l), superb.data());
        if (info != 0)
            throw invalid_argument(std::string(who) + ": LAPACK gesvd did not converge (info " + std::to_string(info) +
                                   ")");
    }
    const double missed2 = std::max(0.0, norm2 - captured2);
    const index_t k = o.rank > 0 ? std::min(o.rank, l) : rank_for(r.s, l, missed2, target2);
    // U = Q W_k: the first k columns of W are the first k rows of Wt.
    r.U = basic_matrix<T>(m, k);
    detail::gemm(false, true, m, k, l, T(1), Q.data(), l, Wt.data(), l, T(0), r.U.data(), k);
    r.V = first_columns(r.V, k);
    r.s.resize(static_cast<std::size_t>(k));
    r.rank = k;
    double kept2 = 0;
    for (T v : r.s) kept2 += static_cast<double>(v) * v;
    const double nrm = std::sqrt(norm2);
    r.rel_error_estimate = nrm > 0 ? std::sqrt(std::max(0.0, norm2 - kept2)) / nrm : 0.0;
    r.rel_error = r.rel_error_estimate;
    if (o.check_error && nrm > 0) {
        double e2 = expanded_residual2(r, Bt, Wt, norm2);
        // Below the expansion's rounding floor (with a 1000x margin), pay for the direct pass.
        const double floor2 = std::numeric_limits<T>::epsilon() * static_cast<double>(m + n) *
                              static_cast<double>(l + 16) * norm2;
        if (e2 <= 1e3 * floor2) e2 = op.residual2(r);
        r.rel_error = std::sqrt(std::max(0.0, e2)) / nrm;
    }
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
