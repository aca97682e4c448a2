// cp_init.cpp: initial CP factors: seeded random, and leading singular vectors of unfoldings.
#include "decomp/cp_init.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <string>

#include "facto/core/error.hpp"
#include "facto/ops/linalg.hpp"

namespace facto::detail {

namespace {

// Range finder settings: oversampling and power iterations as Halko et al. recommend for
// spectra that decay slowly (counts, ratings).
constexpr index_t oversample = 10;
constexpr int power_iters = 2;
// Dense modes up to this size use the exact Gram (dim^2 values, 128 MB at the limit); longer
// ones the range finder.
constexpr index_t max_gram_dim = 4000;

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
lapack_int geqrf(index_t m, index_t n, float* a, std::vector<float>& tau) {
    return LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, m, n, a, n, tau.data());
}
lapack_int orgqr(index_t m, index_t n, double* a, std::vector<double>& tau) {
    return LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, n, n, a, n, tau.data());
}
lapack_int orgqr(index_t m, index_t n, float* a, std::vector<float>& tau) {
    return LAPACKE_sorgqr(LAPACK_ROW_MAJOR, m, n, n, a, n, tau.data());
}

// C = op(A) op(B) + beta C, row-major.
void gemm(bool ta, bool tb, index_t m, index_t n, index_t k, const double* A, index_t lda, const double* B,
          index_t ldb, double beta, double* C, index_t ldc) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), 1.0, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta,
                C, static_cast<int>(ldc));
}
void gemm(bool ta, bool tb, index_t m, index_t n, index_t k, const float* A, index_t lda, const float* B,
          index_t ldb, float beta, float* C, index_t ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), 1.0f, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta,
                C, static_cast<int>(ldc));
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

/// Leading k left singular vectors of an unfolding X_(n) (dim rows) by a randomized range
/// finder. Op supplies the products with the unfolding:
///   sketch(Y, rng)     Y = X_(n) Omega for a uniform [-1, 1) test matrix Omega (dim x l)
///   power(Q, Y)        Y = X_(n) X_(n)^T Q
///   projected_gram(Q)  Q^T X_(n) X_(n)^T Q (l x l), whose eigenvectors rotate Q onto the
///                      singular vectors
template <class T, class Op>
basic_matrix<T> leading_left_randomized(index_t dim, index_t k, Op& op, std::mt19937_64& rng) {
    const index_t l = std::min(dim, k + oversample);
    basic_matrix<T> Y(dim, l);
    op.sketch(Y, rng);
    for (int q = 0; q < power_iters; ++q) {
        orthonormalize(Y);
        const basic_matrix<T> Q = Y;
        op.power(Q, Y);
    }
    orthonormalize(Y);
    const basic_matrix<T> W = leading_eigenvectors(op.projected_gram(Y), k);
    return matmul(Y, W);
}

/// Products with the mode-n unfolding of a sparse tensor. A CSF with mode n as its leaf level
/// groups the nonzeros by unfolding column (each node of the level above is one column), so
/// X_(n)^T Q is formed one column at a time and never stored whole.
template <class T>
class sparse_unfolding {
public:
    sparse_unfolding(const basic_coo_tensor<T>& X, int n) {
        std::vector<int> order;
        for (int m = 0; m < X.order(); ++m)
            if (m != n) order.push_back(m);
        // Short modes on top compress best; mode n last, so the leaves are the column entries.
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return X.dim(a) < X.dim(b); });
        order.push_back(n);
        csf_ = make_csf(X, order);
    }

    void sketch(basic_matrix<T>& Y, std::mt19937_64& rng) {
        z_.resize(static_cast<std::size_t>(Y.cols()));
        for (index_t c = 0; c < columns(); ++c) {  // one random row of Omega per column
            for (auto& v : z_) v = static_cast<T>(2 * uniform01(rng) - 1);
            scatter(c, Y);
        }
    }
    void power(const basic_matrix<T>& Q, basic_matrix<T>& Y) {
        Y.fill(T(0));
        for (index_t c = 0; c < columns(); ++c) {
            gather(c, Q);
            scatter(c, Y);
        }
    }
    basic_matrix<T> projected_gram(const basic_matrix<T>& Q) {
        // Rows z_c = Q^T x_c of Z are batched through syrk.
        const index_t l = Q.cols();
        basic_matrix<T> S(l, l);
        constexpr index_t batch = 256;
        std::vector<T> zb(static_cast<std::size_t>(batch * l));
        index_t filled = 0;
        for (index_t c = 0; c < columns(); ++c) {
            gather(c, Q);
            std::copy(z_.begin(), z_.end(), zb.begin() + filled * l);
            if (++filled == batch || c + 1 == columns()) {
                syrk_upper(l, filled, zb.data(), l, S.data(), l, /*trans=*/true);
                filled = 0;
            }
        }
        mirror_upper(S);
        return S;
    }

private:
    index_t columns() const { return csf_.nodes(csf_.order() - 2); }
    // Nonzeros of column c: leaves ptr[N-2][c] .. ptr[N-2][c+1]-1.
    index_t first(index_t c) const { return csf_.ptr[csf_.order() - 2][c]; }
    index_t last(index_t c) const { return csf_.ptr[csf_.order() - 2][c + 1]; }
    // Y += x_c z^T for the nonzeros x_c of column c.
    void scatter(index_t c, basic_matrix<T>& Y) const {
        const index_t l = Y.cols();
        const std::vector<index_t>& rows = csf_.ids.back();
        for (index_t k = first(c); k < last(c); ++k) {
            T* y = Y.data() + rows[k] * l;
            const T v = csf_.values[k];
            for (index_t j = 0; j < l; ++j) y[j] += v * z_[j];
        }
    }
    // z = Q^T x_c.
    void gather(index_t c, const basic_matrix<T>& Q) {
        const index_t l = Q.cols();
        const std::vector<index_t>& rows = csf_.ids.back();
        z_.assign(static_cast<std::size_t>(l), T(0));
        for (index_t k = first(c); k < last(c); ++k) {
            const T* q = Q.data() + rows[k] * l;
            const T v = csf_.values[k];
            for (index_t j = 0; j < l; ++j) z_[j] += v * q[j];
        }
    }

    basic_csf_tensor<T> csf_;
    std::vector<T> z_;
};

/// Products with the mode-n unfolding of a dense tensor, through GEMMs on its natural blocks:
/// X_(n) = [B_0 ... B_{L-1}] with B_l the dim x Rr matrix at offset l * dim * Rr. When Rr is 1
/// (the last mode) X_(n) is the transpose of the L x dim row-major tensor: one GEMM.
/// Z = X_(n)^T Q (one row per unfolding column) is stored: for the long modes that take this
/// path it is smaller than the tensor by dim / l.
template <class T>
class dense_unfolding {
public:
    dense_unfolding(basic_tensor_view<const T> X, int n) : x_(X.data()), dim_(X.dim(n)) {
        for (int m = 0; m < n; ++m) L_ *= X.dim(m);
        for (int m = n + 1; m < X.order(); ++m) Rr_ *= X.dim(m);
    }

    void sketch(basic_matrix<T>& Y, std::mt19937_64& rng) {
        Z_.resize(L_ * Rr_, Y.cols());
        for (auto& v : Z_.values()) v = static_cast<T>(2 * uniform01(rng) - 1);
        times_z(Y);
    }
    void power(const basic_matrix<T>& Q, basic_matrix<T>& Y) {
        transpose_times(Q);
        times_z(Y);
    }
    basic_matrix<T> projected_gram(const basic_matrix<T>& Q) {
        transpose_times(Q);
        const index_t l = Q.cols();
        basic_matrix<T> S(l, l);
        syrk_upper(l, Z_.rows(), Z_.data(), l, S.data(), l, /*trans=*/true);
        mirror_upper(S);
        return S;
    }

private:
    // Y = X_(n) Z.
    void times_z(basic_matrix<T>& Y) const {
        const index_t l = Y.cols();
        if (Rr_ == 1) {
            gemm(true, false, dim_, l, L_, x_, dim_, Z_.data(), l, T(0), Y.data(), l);
            return;
        }
        Y.fill(T(0));
        for (index_t b = 0; b < L_; ++b)
            gemm(false, false, dim_, l, Rr_, x_ + b * dim_ * Rr_, Rr_, Z_.data() + b * Rr_ * l, l, T(1), Y.data(), l);
    }
    // Z = X_(n)^T Q.
    void transpose_times(const basic_matrix<T>& Q) {
        const index_t l = Q.cols();
        Z_.resize(L_ * Rr_, l);
        if (Rr_ == 1) {
            gemm(false, false, L_, l, dim_, x_, dim_, Q.data(), l, T(0), Z_.data(), l);
            return;
        }
        for (index_t b = 0; b < L_; ++b)
            gemm(true, false, Rr_, l, dim_, x_ + b * dim_ * Rr_, Rr_, Q.data(), l, T(0), Z_.data() + b * Rr_ * l, l);
    }

    const T* x_;
    index_t dim_, L_ = 1, Rr_ = 1;
    basic_matrix<T> Z_;
};

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
        const index_t dim = X.dim(n), k = std::min(rank, dim);
        if (dim <= max_gram_dim) {
            F.push_back(pad_random(leading_eigenvectors(unfolding_gram(X, n), k), rank, rng));
        } else {
            dense_unfolding<T> op(X, n);
            F.push_back(pad_random(leading_left_randomized<T>(dim, k, op, rng), rank, rng));
        }
    }
    return F;
}

template <class T>
std::vector<basic_matrix<T>> nvecs_factors(const basic_coo_tensor<T>& X, index_t rank, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<basic_matrix<T>> F;
    for (int n = 0; n < X.order(); ++n) {
        const index_t k = std::min(rank, X.dim(n));
        sparse_unfolding<T> op(X, n);
        F.push_back(pad_random(leading_left_randomized<T>(X.dim(n), k, op, rng), rank, rng));
    }
    return F;
}

template std::vector<matrix> random_factors<double>(const shape_t&, index_t, std::uint64_t);
template std::vector<matrix_f> random_factors<float>(const shape_t&, index_t, std::uint64_t);
template std::vector<matrix> nvecs_factors<double>(basic_tensor_view<const double>, index_t, std::uint64_t);
template std::vector<matrix_f> nvecs_factors<float>(basic_tensor_view<const float>, index_t, std::uint64_t);
template std::vector<matrix> nvecs_factors<double>(const coo_tensor&, index_t, std::uint64_t);

}  // namespace facto::detail
