// blas_lapack.hpp: float/double overloads of the BLAS/LAPACKE calls behind the kernels, SVD,
// Tucker and TT, so templates call one name for both precisions.
#pragma once
#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "facto/core/error.hpp"
#include "facto/core/matrix.hpp"

namespace facto::detail {

// BLAS and LAPACK want leading dimensions >= 1 even for empty matrices.
inline blasint ld(index_t n) { return static_cast<blasint>(std::max<index_t>(n, 1)); }

/// C = alpha op(A) op(B) + beta C, row-major.
inline void gemm(bool ta, bool tb, index_t m, index_t n, index_t k, double alpha, const double* A, index_t lda,
                 const double* B, index_t ldb, double beta, double* C, index_t ldc) {
    if (m == 0 || n == 0) return;
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
                static_cast<blasint>(n), static_cast<blasint>(k), alpha, A, ld(lda), B, ld(ldb), beta, C, ld(ldc));
}
inline void gemm(bool ta, bool tb, index_t m, index_t n, index_t k, float alpha, const float* A, index_t lda,
                 const float* B, index_t ldb, float beta, float* C, index_t ldc) {
    if (m == 0 || n == 0) return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
                static_cast<blasint>(n), static_cast<blasint>(k), alpha, A, ld(lda), B, ld(ldb), beta, C, ld(ldc));
}

/// C (n x n, upper triangle) = alpha A A^T + beta C for A n x k row-major with leading dimension lda.
inline void syrk_aat(index_t n, index_t k, const double* A, index_t lda, double beta, double* C) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, static_cast<blasint>(n), static_cast<blasint>(k), 1.0, A,
                ld(lda), beta, C, ld(n));
}
inline void syrk_aat(index_t n, index_t k, const float* A, index_t lda, float beta, float* C) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, A,
                ld(lda), beta, C, ld(n));
}
/// C (n x n, upper triangle) = A^T A for A k x n row-major.
inline void syrk_ata(index_t n, index_t k, const double* A, double* C) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<blasint>(n), static_cast<blasint>(k), 1.0, A, ld(n),
                0.0, C, ld(n));
}
inline void syrk_ata(index_t n, index_t k, const float* A, float* C) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, A, ld(n),
                0.0f, C, ld(n));
}

/// Thin SVD of a row-major m x n matrix (overwritten): U m x k, s k, Vt k x n, k = min(m, n).
inline lapack_int gesdd(index_t m, index_t n, double* a, double* s, double* u, double* vt) {
    const index_t k = std::min(m, n);
    return LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', static_cast<lapack_int>(m), static_cast<lapack_int>(n), a, ld(n), s,
                          u, ld(k), vt, ld(n));
}
inline lapack_int gesdd(index_t m, index_t n, float* a, float* s, float* u, float* vt) {
    const index_t k = std::min(m, n);
    return LAPACKE_sgesdd(LAPACK_ROW_MAJOR, 'S', static_cast<lapack_int>(m), static_cast<lapack_int>(n), a, ld(n), s,
                          u, ld(k), vt, ld(n));
}

inline lapack_int geqrf(index_t m, index_t n, double* a, double* tau) {
    return LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, static_cast<lapack_int>(m), static_cast<lapack_int>(n), a, ld(n), tau);
}
inline lapack_int geqrf(index_t m, index_t n, float* a, float* tau) {
    return LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, static_cast<lapack_int>(m), static_cast<lapack_int>(n), a, ld(n), tau);
}
inline lapack_int orgqr(index_t m, index_t n, double* a, const double* tau) {
    return LAPACKE_dorgqr(LAPACK_ROW_MAJOR, static_cast<lapack_int>(m), static_cast<lapack_int>(n),
                          static_cast<lapack_int>(n), a, ld(n), tau);
}
inline lapack_int orgqr(index_t m, index_t n, float* a, const float* tau) {
    return LAPACKE_sorgqr(LAPACK_ROW_MAJOR, static_cast<lapack_int>(m), static_cast<lapack_int>(n),
                          static_cast<lapack_int>(n), a, ld(n), tau);
}

/// Cholesky G = R^T R of a row-major symmetric positive definite n x n matrix (upper triangle
/// used and overwritten by R); nonzero when G is not numerically positive definite.
inline lapack_int potrf_upper(index_t n, double* g) {
    return LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', static_cast<lapack_int>(n), g, ld(n));
}
inline lapack_int potrf_upper(index_t n, float* g) {
    return LAPACKE_spotrf(LAPACK_ROW_MAJOR, 'U', static_cast<lapack_int>(n), g, ld(n));
}
/// Y (m x n, row-major) = Y R^{-1} for an upper triangular row-major R.
inline void trsm_right_upper(index_t m, index_t n, const double* R, double* Y) {
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, static_cast<blasint>(m),
                static_cast<blasint>(n), 1.0, R, ld(n), Y, ld(n));
}
inline void trsm_right_upper(index_t m, index_t n, const float* R, float* Y) {
    cblas_strsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, static_cast<blasint>(m),
                static_cast<blasint>(n), 1.0f, R, ld(n), Y, ld(n));
}

/// Replaces the m x n (m >= n) row-major matrix by an orthonormal basis of its columns (thin Q).
/// Cholesky QR twice (all BLAS-3: syrk, potrf, trsm), accepted when the final Q^T Q is the
/// identity to ~n eps; otherwise (rank-deficient or ill-conditioned input, where Cholesky QR
/// loses orthogonality) Householder QR.
template <class T>
void orthonormalize(basic_matrix<T>& A, const char* who) {
    const index_t m = A.rows(), n = A.cols();
    if (n == 0 || m == 0) return;
    if (n > m) throw invalid_argument(std::string(who) + ": cannot orthonormalize " + std::to_string(n) +
                                      " columns of length " + std::to_string(m));
    basic_matrix<T> G(n, n);
    bool ok = true;
    for (int pass = 0; pass < 2 && ok; ++pass) {
        syrk_ata(n, m, A.data(), G.data());
        ok = potrf_upper(n, G.data()) == 0;
        if (ok) trsm_right_upper(m, n, G.data(), A.data());
    }
    if (ok) {
        syrk_ata(n, m, A.data(), G.data());
        const double tol = 10.0 * static_cast<double>(n) * std::numeric_limits<T>::epsilon();
        for (index_t i = 0; i < n && ok; ++i)
            for (index_t j = i; j < n && ok; ++j)
                ok = std::abs(static_cast<double>(G(i, j)) - (i == j ? 1.0 : 0.0)) <= tol;
    }
    if (ok) return;
    // A is now A R^{-1} for the passes that succeeded: the same span, so Householder QR of it
    // serves (no copy of a possibly huge A kept for this rare path).
    std::vector<T> tau(static_cast<std::size_t>(n));
    if (geqrf(m, n, A.data(), tau.data()) != 0 || orgqr(m, n, A.data(), tau.data()) != 0)
        throw invalid_argument(std::string(who) + ": QR factorization failed (non-finite entries?)");
}

/// Orthonormal basis of the numerical range of the m x n (m >= n) row-major matrix A:
/// Householder QR (BLAS-3, unpivoted) A = Q R, then the SVD R = W S Z^T reveals the rank:
/// the basis is Q W_k for the singular values above rel * scale. A is replaced by the m x k
/// basis (k may be 0).
template <class T>
void range_basis(basic_matrix<T>& A, double scale, double rel, const char* who) {
    const index_t m = A.rows(), n = A.cols();
    if (n == 0 || m == 0) return;
    if (n > m) throw invalid_argument(std::string(who) + ": range basis of " + std::to_string(n) +
                                      " columns of length " + std::to_string(m));
    std::vector<T> tau(static_cast<std::size_t>(n));
    if (geqrf(m, n, A.data(), tau.data()) != 0)
        throw invalid_argument(std::string(who) + ": QR factorization failed (non-finite entries?)");
    basic_matrix<T> R(n, n);
    for (index_t i = 0; i < n; ++i)
        for (index_t j = i; j < n; ++j) R(i, j) = A(i, j);
    if (orgqr(m, n, A.data(), tau.data()) != 0)
        throw invalid_argument(std::string(who) + ": QR factorization failed (non-finite entries?)");
    std::vector<T> s(static_cast<std::size_t>(n));
    basic_matrix<T> W(n, n), Zt(n, n);
    if (gesdd(n, n, R.data(), s.data(), W.data(), Zt.data()) != 0)
        throw invalid_argument(std::string(who) + ": LAPACK gesdd did not converge");
    index_t k = 0;
    while (k < n && static_cast<double>(s[static_cast<std::size_t>(k)]) > rel * scale) ++k;
    basic_matrix<T> B(m, k);
    gemm(false, false, m, k, n, T(1), A.data(), n, W.data(), n, T(0), B.data(), k);
    A = std::move(B);
}

}  // namespace facto::detail
