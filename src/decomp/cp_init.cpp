// cp_init.cpp: initial CP factors: seeded random, and leading singular vectors of unfoldings.
#include "decomp/cp_init.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <numeric>
#include <string>

#include "facto/core/error.hpp"
#include "facto/ops/linalg.hpp"

namespace facto::detail {

namespace {

// Range finder settings: oversampling and power iterations as Halko et al. recommend for
// spectra that decay slowly (counts, ratings).
constexpr index_t oversample = 10;
constexpr int power_iters = 2;

// Upper triangle of C += A A^T (A is n x k), or C += A^T A when trans (A is k x n).
void syrk_upper(index_t n, index_t k, const double* A, index_t lda, double* C, index_t ldc, bool trans = false) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans, static_cast<int>(n),
                static_cast<int>(k), 1.0, A, static_cast<int>(lda), 1.0, C, static_cast<int>(ldc));
}
void syrk_upper(index_t n, index_t k, const float* A, index_t lda, float* C, index_t ldc, bool trans = false) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans, static_cast<int>(n),
                static_cast<int>(k), 1.0f, A, static_cast<int>(lda), 1.0f, C, static_cast<int>(ldc));
}

template <class T>
void mirror_upper(basic_matrix<T>& S) {
    for (index_t i = 0; i < S.rows(); ++i)
        for (index_t j = 0; j < i; ++j) S(i, j) = S(j, i);
}

lapack_int geqrf(index_t m, index_t n, double* a, std::vector<double>& tau) {
    return LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, n, a, n, tau.data());
}
lapack_int orgqr(index_t m, index_t n, double* a, std::vector<double>& tau) {
    return LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, n, n, a, n, tau.data());
}

/// Replaces the tall matrix Y (rows >= cols) by an orthonormal basis of its range (Householder QR).
template <class T>
void orthonormalize(basic_matrix<T>& Y) {
    std::vector<T> tau(static_cast<std::size_t>(Y.cols()));
    lapack_int info = geqrf(Y.rows(), Y.cols(), Y.data(), tau);
    if (info == 0) info = orgqr(Y.rows(), Y.cols(), Y.data(), tau);
    if (info != 0)
        throw invalid_argument("cp_init: QR of a " + std::to_string(Y.rows()) + "x" + std::to_string(Y.cols()) +
                               " matrix failed (LAPACK info " + std::to_string(info) + ")");
}

/// dim x rank: the first U.cols() columns from U, the rest uniform [0, 1) (rank > dim).
template <class T>
basic_matrix<T> pad_random(const basic_matrix<T>& U, index_t rank, std::mt19937_64& rng) {
    basic_matrix<T> F(U.rows(), rank);
    for (index_t i = 0; i < U.rows(); ++i)
        for (index_t r = 0; r < rank; ++r) F(i, r) = r < U.cols() ? U(i, r) : static_cast<T>(uniform01(rng));
    return F;
}

/// X_(n) X_(n)^T. Row-major X is L blocks (the modes before n) of dim x Rr matrices (the modes
/// after n), and the Gram is the sum of the blocks' Grams. Narrow blocks are packed side by side
/// first so each syrk call gets a long inner dimension.
template <class T>
basic_matrix<T> unfolding_gram(basic_tensor_view<const T> X, int n) {
    const shape_t& s = X.shape();
    const index_t dim = s[n];
    index_t L = 1, Rr = 1;
    for (int m = 0; m < n; ++m) L *= s[m];
    for (int m = n + 1; m < X.order(); ++m) Rr *= s[m];
    basic_matrix<T> G(dim, dim);
    const T* x = X.data();
    constexpr index_t wide = 512;
    if (Rr >= wide) {
        for (index_t l = 0; l < L; ++l) syrk_upper(dim, Rr, x + l * dim * Rr, Rr, G.data(), dim);
    } else {
        const index_t group = std::max<index_t>(1, 4 * wide / Rr);
        const index_t ld = group * Rr;
        std::vector<T> buf(static_cast<std::size_t>(dim * ld));
        for (index_t l0 = 0; l0 < L; l0 += group) {
            const index_t nb = std::min(group, L - l0);
            for (index_t b = 0; b < nb; ++b) {
                const T* blk = x + (l0 + b) * dim * Rr;
                for (index_t i = 0; i < dim; ++i)
                    std::copy(blk + i * Rr, blk + (i + 1) * Rr, buf.data() + i * ld + b * Rr);
            }
            syrk_upper(dim, nb * Rr, buf.data(), ld, G.data(), dim);
        }
    }
    mirror_upper(G);
    return G;
}

/// Leading k left singular vectors of the mode-n unfolding of a sparse tensor, dim x k.
template <class T>
basic_matrix<T> sparse_leading_left(const basic_coo_tensor<T>& X, int n, index_t k, std::mt19937_64& rng) {
    const index_t dim = X.dim(n), nnz = X.nnz();
    const index_t l = std::min(dim, k + oversample);
    const int N = X.order();

    // Group the nonzeros by unfolding column (their coordinates in the other modes); the
    // nonzero number breaks ties so the order does not depend on the sort algorithm.
    std::vector<index_t> perm(static_cast<std::size_t>(nnz));
    std::iota(perm.begin(), perm.end(), index_t(0));
    auto same_column = [&](index_t a, index_t b) {
        for (int m = 0; m < N; ++m)
            if (m != n && X.indices[m][a] != X.indices[m][b]) return false;
        return true;
    };
    std::sort(perm.begin(), perm.end(), [&](index_t a, index_t b) {
        for (int m = 0; m < N; ++m) {
            if (m == n) continue;
            const index_t ia = X.indices[m][a], ib = X.indices[m][b];
            if (ia != ib) return ia < ib;
        }
        return a < b;
    });
    std::vector<index_t> start{0};
    for (index_t p = 1; p < nnz; ++p)
        if (!same_column(perm[p - 1], perm[p])) start.push_back(p);
    start.push_back(nnz);
    const index_t ncols = static_cast<index_t>(start.size()) - 1;

    const std::vector<index_t>& rows = X.indices[n];
    const std::vector<T>& vals = X.values;
    std::vector<T> z(static_cast<std::size_t>(l));
    // Y += x_c z^T for the nonzeros x_c of column c.
    auto scatter = [&](index_t c, basic_matrix<T>& Y) {
        for (index_t p = start[c]; p < start[c + 1]; ++p) {
            const index_t e = perm[p];
            T* y = Y.data() + rows[e] * l;
            for (index_t j = 0; j < l; ++j) y[j] += vals[e] * z[j];
        }
    };
    // z = Q^T x_c: column c of X_(n), projected.
    auto gather = [&](index_t c, const basic_matrix<T>& Q) {
        std::fill(z.begin(), z.end(), T(0));
        for (index_t p = start[c]; p < start[c + 1]; ++p) {
            const index_t e = perm[p];
            const T* q = Q.data() + rows[e] * l;
            for (index_t j = 0; j < l; ++j) z[j] += vals[e] * q[j];
        }
    };

    basic_matrix<T> Y(dim, l);
    for (index_t c = 0; c < ncols; ++c) {  // Y = X_(n) Omega, one random row of Omega per column
        for (auto& v : z) v = static_cast<T>(2 * uniform01(rng) - 1);
        scatter(c, Y);
    }
    for (int q = 0; q < power_iters; ++q) {  // Y = X_(n) X_(n)^T Q
        orthonormalize(Y);
        const basic_matrix<T> Q = Y;
        Y.fill(T(0));
        for (index_t c = 0; c < ncols; ++c) {
            gather(c, Q);
            scatter(c, Y);
        }
    }
    orthonormalize(Y);
    // S = Z^T Z with Z = X_(n)^T Q, so S = Q^T X_(n) X_(n)^T Q; its eigenvectors rotate Q onto
    // the singular vectors. Rows of Z are batched through syrk and never all stored.
    basic_matrix<T> S(l, l);
    constexpr index_t batch = 256;
    std::vector<T> zb(static_cast<std::size_t>(batch * l));
    index_t filled = 0;
    for (index_t c = 0; c < ncols; ++c) {
        gather(c, Y);
        std::copy(z.begin(), z.end(), zb.begin() + filled * l);
        if (++filled == batch || c + 1 == ncols) {
            syrk_upper(l, filled, zb.data(), l, S.data(), l, /*trans=*/true);
            filled = 0;
        }
    }
    mirror_upper(S);
    const basic_matrix<T> W = leading_eigenvectors(S, k);
    return matmul(Y, W);
}

}  // namespace

template <class T>
std::vector<basic_matrix<T>> random_factors(const shape_t& shape, index_t rank, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<basic_matrix<T>> F;
    F.reserve(shape.size());
    for (index_t dim : shape) {
        basic_matrix<T> A(dim, rank);
        for (auto& v : A.values()) v = static_cast<T>(uniform01(rng));
        F.push_back(std::move(A));
    }
    return F;
}

template <class T>
std::vector<basic_matrix<T>> nvecs_factors(basic_tensor_view<const T> X, index_t rank, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<basic_matrix<T>> F;
    for (int n = 0; n < X.order(); ++n) {
        const index_t k = std::min(rank, X.dim(n));
        F.push_back(pad_random(leading_eigenvectors(unfolding_gram(X, n), k), rank, rng));
    }
    return F;
}

template <class T>
std::vector<basic_matrix<T>> nvecs_factors(const basic_coo_tensor<T>& X, index_t rank, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<basic_matrix<T>> F;
    for (int n = 0; n < X.order(); ++n) {
        const index_t k = std::min(rank, X.dim(n));
        F.push_back(pad_random(sparse_leading_left(X, n, k, rng), rank, rng));
    }
    return F;
}

template std::vector<matrix> random_factors<double>(const shape_t&, index_t, std::uint64_t);
template std::vector<matrix_f> random_factors<float>(const shape_t&, index_t, std::uint64_t);
template std::vector<matrix> nvecs_factors<double>(basic_tensor_view<const double>, index_t, std::uint64_t);
template std::vector<matrix_f> nvecs_factors<float>(basic_tensor_view<const float>, index_t, std::uint64_t);
template std::vector<matrix> nvecs_factors<double>(const coo_tensor&, index_t, std::uint64_t);

}  // namespace facto::detail
