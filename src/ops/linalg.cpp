// linalg.cpp: Gram, Hadamard, Khatri-Rao, GEMM and the R x R solves of CP, on BLAS/LAPACKE.
#include "facto/ops/linalg.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/parallel.hpp"
#include "ops/blas_lapack.hpp"

namespace facto {

namespace {

std::string dims(index_t r, index_t c) { return std::to_string(r) + "x" + std::to_string(c); }

using detail::ld;

// Precision dispatch: one overload per element type.
void syrk_upper_ata(index_t n, index_t k, const double* A, double* G) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<blasint>(n), static_cast<blasint>(k), 1.0, A,
                ld(n), 0.0, G, ld(n));
}
void syrk_upper_ata(index_t n, index_t k, const float* A, float* G) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, A,
                ld(n), 0.0f, G, ld(n));
}
// Column-major LAPACK on symmetric matrices: the row-major memory of a symmetric matrix is the
// same, with 'U' and 'L' swapped; we always fill both triangles, so either works.
double one_norm(index_t n, const double* a) { return LAPACKE_dlansy(LAPACK_COL_MAJOR, '1', 'U', static_cast<lapack_int>(n), a, ld(n)); }
float one_norm(index_t n, const float* a) { return LAPACKE_slansy(LAPACK_COL_MAJOR, '1', 'U', static_cast<lapack_int>(n), a, ld(n)); }
lapack_int potrf(index_t n, double* a) { return LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', static_cast<lapack_int>(n), a, ld(n)); }
lapack_int potrf(index_t n, float* a) { return LAPACKE_spotrf(LAPACK_COL_MAJOR, 'U', static_cast<lapack_int>(n), a, ld(n)); }
lapack_int pocon(index_t n, const double* a, double anorm, double* rcond) {
    return LAPACKE_dpocon(LAPACK_COL_MAJOR, 'U', static_cast<lapack_int>(n), a, ld(n), anorm, rcond);
}
lapack_int pocon(index_t n, const float* a, float anorm, float* rcond) {
    return LAPACKE_spocon(LAPACK_COL_MAJOR, 'U', static_cast<lapack_int>(n), a, ld(n), anorm, rcond);
}
lapack_int potrs(index_t n, index_t nrhs, const double* a, double* b) {
    return LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', static_cast<lapack_int>(n), static_cast<lapack_int>(nrhs), a, ld(n), b,
                          ld(n));
}
lapack_int potrs(index_t n, index_t nrhs, const float* a, float* b) {
    return LAPACKE_spotrs(LAPACK_COL_MAJOR, 'U', static_cast<lapack_int>(n), static_cast<lapack_int>(nrhs), a, ld(n), b,
                          ld(n));
}
lapack_int syevd(index_t n, double* a, double* w) {
    return LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', static_cast<lapack_int>(n), a, ld(n), w);
}
lapack_int syevd(index_t n, float* a, float* w) {
    return LAPACKE_ssyevd(LAPACK_COL_MAJOR, 'V', 'U', static_cast<lapack_int>(n), a, ld(n), w);
}
// Eigenpairs il..iu (1-based, ascending) of a row-major symmetric matrix; z is n x (iu-il+1) row-major.
lapack_int syevr(index_t n, double* a, index_t il, index_t iu, double* w, double* z, lapack_int* isuppz) {
    lapack_int m = 0;
    return LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', static_cast<lapack_int>(n), a, ld(n), 0.0, 0.0,
                          static_cast<lapack_int>(il), static_cast<lapack_int>(iu), 0.0, &m, w, z, ld(iu - il + 1),
                          isuppz);
}
lapack_int syevr(index_t n, float* a, index_t il, index_t iu, float* w, float* z, lapack_int* isuppz) {
    lapack_int m = 0;
    return LAPACKE_ssyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', static_cast<lapack_int>(n), a, ld(n), 0.0f, 0.0f,
                          static_cast<lapack_int>(il), static_cast<lapack_int>(iu), 0.0f, &m, w, z, ld(iu - il + 1),
                          isuppz);
}

}  // namespace

template <class T>
basic_matrix<T> gram(const basic_matrix<T>& A) {
    const index_t n = A.cols();
    basic_matrix<T> G(n, n);
    if (n == 0) return G;
    syrk_upper_ata(n, A.rows(), A.data(), G.data());
    for (index_t i = 0; i < n; ++i)  // syrk fills the upper triangle only
        for (index_t j = 0; j < i; ++j) G(i, j) = G(j, i);
    return G;
}

template <class T>
void hadamard_inplace(basic_matrix<T>& A, const basic_matrix<T>& B) {
    if (A.rows() != B.rows() || A.cols() != B.cols())
        throw invalid_argument("hadamard_inplace: shapes differ: " + dims(A.rows(), A.cols()) + " and " +
                               dims(B.rows(), B.cols()));
    T* a = A.data();
    const T* b = B.data();
    const index_t n = A.size();
#pragma omp simd
    for (index_t i = 0; i < n; ++i) a[i] *= b[i];
}

template <class T>
basic_matrix<T> khatri_rao(std::span<const basic_matrix<T>> mats) {
    if (mats.empty()) throw invalid_argument("khatri_rao: no matrices given");
    const index_t R = mats[0].cols();
    for (std::size_t m = 1; m < mats.size(); ++m)
        if (mats[m].cols() != R)
            throw invalid_argument("khatri_rao: matrix " + std::to_string(m) + " has " + std::to_string(mats[m].cols()) +
                                   " columns but matrix 0 has " + std::to_string(R));
    basic_matrix<T> K = mats[0];
    for (std::size_t m = 1; m < mats.size(); ++m) {
        const basic_matrix<T>& B = mats[m];
        basic_matrix<T> N(K.rows() * B.rows(), R);
        for (index_t i = 0; i < K.rows(); ++i)
            for (index_t j = 0; j < B.rows(); ++j) {
                const T* k = K.data() + i * R;
                const T* b = B.data() + j * R;
                T* o = N.data() + (i * B.rows() + j) * R;
#pragma omp simd
                for (index_t r = 0; r < R; ++r) o[r] = k[r] * b[r];
            }
        K = std::move(N);
    }
    return K;
}

template <class T>
basic_matrix<T> matmul(const basic_matrix<T>& A, const basic_matrix<T>& B, bool trans_a, bool trans_b) {
    const index_t m = trans_a ? A.cols() : A.rows(), ka = trans_a ? A.rows() : A.cols();
    const index_t kb = trans_b ? B.cols() : B.rows(), n = trans_b ? B.rows() : B.cols();
    if (ka != kb)
        throw invalid_argument("matmul: inner dimensions differ: " + dims(A.rows(), A.cols()) + (trans_a ? "^T" : "") +
                               " times " + dims(B.rows(), B.cols()) + (trans_b ? "^T" : ""));
    basic_matrix<T> C(m, n);
    if (m == 0 || n == 0) return C;
    if (ka == 0) return C;  // an empty sum: zeros
    detail::gemm(trans_a, trans_b, m, n, ka, T(1), A.data(), A.cols(), B.data(), B.cols(), T(0), C.data(), n);
    return C;
}

template <class T>
bool solve_spd_right(const basic_matrix<T>& G, basic_matrix<T>& B) {
    const index_t r = G.rows();
    if (G.cols() != r) throw invalid_argument("solve_spd_right: G is " + dims(G.rows(), G.cols()) + ", not square");
    if (B.cols() != r)
        throw invalid_argument("solve_spd_right: B has " + std::to_string(B.cols()) + " columns but G is " + dims(r, r));
    if (r == 0 || B.rows() == 0) return false;
    constexpr T eps = std::numeric_limits<T>::epsilon();
    const T tol = static_cast<T>(r) * eps;
    // X G = B  <=>  G X^T = B^T, and row-major B (n x r) is column-major B^T (r x n).
    basic_matrix<T> L = G;
    const T anorm = one_norm(r, L.data());
    bool ok = std::isfinite(static_cast<double>(anorm)) && potrf(r, L.data()) == 0;
    if (ok) {
        T rcond = 0;
        ok = pocon(r, L.data(), anorm, &rcond) == 0 && rcond >= tol;
    }
    if (ok) {
        if (potrs(r, B.rows(), L.data(), B.data()) != 0)
            throw invalid_argument("solve_spd_right: LAPACK potrs rejected its arguments");
        return false;
    }
    // Pseudo-inverse from the eigendecomposition G = V diag(l) V^T, dropping |l| below
    // r * eps * max|l|: X = B V diag(1/l) V^T.
    basic_matrix<T> V = G;
    std::vector<T> w(static_cast<std::size_t>(r));
    if (syevd(r, V.data(), w.data()) != 0)
        throw invalid_argument("solve_spd_right: the eigendecomposition of G did not converge (G has non-finite entries?)");
    // V is column-major: column i of the eigenvectors is row i of the row-major V.
    T lmax = 0;
    for (T l : w) lmax = std::max(lmax, std::abs(l));
    const T cut = tol * lmax;
    basic_matrix<T> P(r, r);  // P = V_c diag(1/l) V_c^T (V_c: eigenvectors as columns)
    for (index_t i = 0; i < r; ++i) {
        const T l = w[static_cast<std::size_t>(i)];
        if (!(l > cut)) continue;  // drops tiny and negative eigenvalues (G is semidefinite)
        const T* v = V.data() + i * r;
        for (index_t a = 0; a < r; ++a)
            for (index_t b = 0; b < r; ++b) P(a, b) += v[a] * v[b] / l;
    }
    B = matmul(B, P);
    return true;
}

template <class T>
basic_matrix<T> leading_eigenvectors(const basic_matrix<T>& S, index_t k, std::vector<T>* values) {
    const index_t n = S.rows();
    if (S.cols() != n) throw invalid_argument("leading_eigenvectors: matrix is " + dims(S.rows(), S.cols()) + ", not square");
    if (k < 0 || k > n)
        throw invalid_argument("leading_eigenvectors: asked for " + std::to_string(k) + " eigenvectors of a " + dims(n, n) +
                               " matrix");
    basic_matrix<T> U(n, k);
    if (values) values->assign(static_cast<std::size_t>(k), T(0));
    if (k == 0) return U;
    basic_matrix<T> A = S;
    basic_matrix<T> Z(n, k);
    std::vector<T> w(static_cast<std::size_t>(n));
    std::vector<lapack_int> isuppz(static_cast<std::size_t>(2 * std::max<index_t>(k, 1)));
    if (syevr(n, A.data(), n - k + 1, n, w.data(), Z.data(), isuppz.data()) != 0)
        throw invalid_argument("leading_eigenvectors: the eigensolver did not converge (non-finite entries?)");
    // syevr returns them ascending: reverse to decreasing.
    for (index_t j = 0; j < k; ++j) {
        for (index_t i = 0; i < n; ++i) U(i, j) = Z(i, k - 1 - j);
        if (values) (*values)[static_cast<std::size_t>(j)] = w[static_cast<std::size_t>(k - 1 - j)];
    }
    return U;
}

template <class T>
basic_matrix<T> spmm(const basic_csr_matrix<T>& A, const basic_matrix<T>& X) {
    A.validate("spmm");
    if (X.rows() != A.cols)
        throw invalid_argument("spmm: sparse " + dims(A.rows, A.cols) + " times dense " + dims(X.rows(), X.cols()) +
                               ": inner dimensions differ");
    const index_t l = X.cols();
    basic_matrix<T> Y(A.rows, l);
    const index_t work = A.nnz() * l;
#pragma omp parallel for schedule(dynamic, 64) if (detail::worth_parallel(work))
    for (index_t i = 0; i < A.rows; ++i) {
        T* y = Y.data() + i * l;
        for (index_t p = A.row_ptr[static_cast<std::size_t>(i)]; p < A.row_ptr[static_cast<std::size_t>(i + 1)]; ++p) {
            const T a = A.values[static_cast<std::size_t>(p)];
            const T* x = X.data() + A.col_idx[static_cast<std::size_t>(p)] * l;
            for (index_t j = 0; j < l; ++j) y[j] += a * x[j];
        }
    }
    return Y;
}

#define FACTO_INSTANTIATE_LINALG(T)                                                                   \
    template basic_matrix<T> gram(const basic_matrix<T>&);                                            \
    template void hadamard_inplace(basic_matrix<T>&, const basic_matrix<T>&);                         \
    template basic_matrix<T> khatri_rao(std::span<const basic_matrix<T>>);                            \
    template basic_matrix<T> matmul(const basic_matrix<T>&, const basic_matrix<T>&, bool, bool);      \
    template bool solve_spd_right(const basic_matrix<T>&, basic_matrix<T>&);                          \
    template basic_matrix<T> leading_eigenvectors(const basic_matrix<T>&, index_t, std::vector<T>*);  \
    template basic_matrix<T> spmm(const basic_csr_matrix<T>&, const basic_matrix<T>&);

FACTO_INSTANTIATE_LINALG(double)
FACTO_INSTANTIATE_LINALG(float)

}  // namespace facto
