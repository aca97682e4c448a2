// test_nmf.cpp: NMF by HALS, MU (Frobenius, KL) and ANLS: planted-model recovery, invariants
// (nonnegativity, monotone error, KKT of the ANLS solves), dense/sparse agreement, masks,
// determinism, initialization, errors, and rank-20 runs on real data when present.
#include "facto/decomp/nmf.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "facto/core/error.hpp"
#include "facto/io/mtx.hpp"

namespace {

using facto::csr_matrix;
using facto::csr_matrix_f;
using facto::index_t;
using facto::matrix;
using facto::matrix_f;
using facto::nmf_init;
using facto::nmf_loss;
using facto::nmf_method;
using facto::nmf_options;
using facto::nmf_result;

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// Nonnegative factor with about `zeros` of its entries zero (at least one nonzero per column),
/// so that the planted NMF is essentially unique.
matrix planted_factor(index_t rows, index_t k, double zeros, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    matrix A(rows, k);
    for (index_t i = 0; i < rows; ++i)
        for (index_t r = 0; r < k; ++r) A(i, r) = uniform01(rng) < zeros ? 0.0 : 0.2 + uniform01(rng);
    for (index_t r = 0; r < k; ++r) A(r % rows, r) = 1.0;
    return A;
}

/// Naive W H (no BLAS).
matrix product(const matrix& W, const matrix& H) {
    matrix X(W.rows(), H.cols());
    for (index_t i = 0; i < W.rows(); ++i)
        for (index_t j = 0; j < H.cols(); ++j) {
            double s = 0;
            for (index_t r = 0; r < W.cols(); ++r) s += W(i, r) * H(r, j);
            X(i, j) = s;
        }
    return X;
}

template <class T>
matrix to_double(const facto::basic_matrix<T>& A) {
    matrix D(A.rows(), A.cols());
    for (index_t p = 0; p < A.size(); ++p) D.data()[p] = static_cast<double>(A.data()[p]);
    return D;
}

/// ||M .* (X - W H)|| / ||M .* X||, computed directly (mask null: every entry).
double direct_rel_error(const matrix& X, const matrix& W, const matrix& H, const matrix* mask = nullptr) {
    const matrix M = product(W, H);
    double r2 = 0, x2 = 0;
    for (index_t p = 0; p < X.size(); ++p) {
        if (mask && mask->data()[p] == 0) continue;
        r2 += (X.data()[p] - M.data()[p]) * (X.data()[p] - M.data()[p]);
        x2 += X.data()[p] * X.data()[p];
    }
    return std::sqrt(r2 / x2);
}

csr_matrix csr_of(const matrix& X) {
    csr_matrix S;
    S.rows = X.rows();
    S.cols = X.cols();
    for (index_t i = 0; i < X.rows(); ++i) {
        for (index_t j = 0; j < X.cols(); ++j)
            if (X(i, j) != 0) {
                S.col_idx.push_back(j);
                S.values.push_back(X(i, j));
            }
        S.row_ptr.push_back(S.nnz());
    }
    return S;
}

bool nonnegative(const matrix& A) {
    return std::all_of(A.values().begin(), A.values().end(), [](double v) { return v >= 0 && std::isfinite(v); });
}

struct planted_case {
    matrix W0, H0, X;
};

planted_case planted(index_t m, index_t n, index_t k, std::uint64_t seed, double zeros = 0.4) {
    planted_case c;
    c.W0 = planted_factor(m, k, zeros, seed);
    const matrix Ht = planted_factor(n, k, zeros, seed + 1000);
    c.H0 = matrix(k, n);
    for (index_t j = 0; j < n; ++j)
        for (index_t r = 0; r < k; ++r) c.H0(r, j) = Ht(j, r);
    c.X = product(c.W0, c.H0);
    return c;
}

/// A nonnegative matrix that is not low rank: exact planted part plus uniform noise.
matrix noisy(index_t m, index_t n, index_t k, std::uint64_t seed, double level) {
    matrix X = planted(m, n, k, seed).X;
    std::mt19937_64 rng(seed + 7);
    for (double& v : X.values()) v += level * uniform01(rng);
    return X;
}

nmf_options opts_for(nmf_method method, index_t k, int iters) {
    nmf_options o;
    o.method = method;
    o.rank = k;
    o.max_iters = iters;
    o.tol = 0;
    return o;
}

// ------------------------------------------------------------------ planted recovery

TEST(Nmf, HalsRecoversPlantedExactly) {
    const planted_case c = planted(60, 50, 4, 1);
    for (nmf_init init : {nmf_init::nndsvd, nmf_init::nndsvda, nmf_init::random}) {
        nmf_options o = opts_for(nmf_method::hals, 4, 3000);
        o.init = init;
        o.tol = 1e-13;
        const nmf_result r = facto::nmf(c.X, o);
        EXPECT_LT(r.rel_error, 1e-6) << "init " << static_cast<int>(init);
        EXPECT_LT(direct_rel_error(c.X, r.W, r.H), 1e-6);
        EXPECT_NEAR(r.rel_error, direct_rel_error(c.X, r.W, r.H), 1e-7);
        EXPECT_TRUE(nonnegative(r.W) && nonnegative(r.H));
    }
}

TEST(Nmf, AnlsRecoversPlantedExactly) {
    const planted_case c = planted(60, 50, 4, 2);
    const nmf_result r = facto::nmf_anls(c.X, opts_for(nmf_method::anls, 4, 500));
    EXPECT_LT(r.rel_error, 1e-6);
    EXPECT_LT(direct_rel_error(c.X, r.W, r.H), 1e-6);
    EXPECT_TRUE(nonnegative(r.W) && nonnegative(r.H));
}

TEST(Nmf, MuApproachesPlanted) {
    const planted_case c = planted(60, 50, 4, 3);
    const nmf_result r = facto::nmf_mu(c.X, opts_for(nmf_method::mu, 4, 2000));
    EXPECT_LT(r.rel_error, 2e-2);
    EXPECT_NEAR(r.rel_error, direct_rel_error(c.X, r.W, r.H), 1e-9);
    EXPECT_TRUE(nonnegative(r.W) && nonnegative(r.H));
}

TEST(Nmf, KullbackLeiblerApproachesPlanted) {
    const planted_case c = planted(40, 30, 3, 4);
    nmf_options o = opts_for(nmf_method::mu, 3, 2000);
    o.loss = nmf_loss::kullback_leibler;
    const nmf_result r = facto::nmf(c.X, o);
    EXPECT_LT(r.rel_error, 2e-2);
    EXPECT_NEAR(r.rel_error, direct_rel_error(c.X, r.W, r.H), 1e-9);
    // The divergence, recomputed directly.
    const matrix M = product(r.W, r.H);
    double div = 0;
    for (index_t p = 0; p < c.X.size(); ++p) {
        const double x = c.X.data()[p], v = M.data()[p];
        div += (x > 0 ? x * std::log(x / v) : 0.0) - x + v;
    }
    EXPECT_NEAR(r.divergence, div, 1e-8 * std::abs(div) + 1e-9);
    double sx = 0;
    for (double v : c.X.values()) sx += v;
    EXPECT_LT(r.divergence, 1e-3 * sx);
}

TEST(Nmf, FloatRecoversPlanted) {
    const planted_case c = planted(50, 40, 3, 5);
    matrix_f Xf(c.X.rows(), c.X.cols());
    for (index_t p = 0; p < c.X.size(); ++p) Xf.data()[p] = static_cast<float>(c.X.data()[p]);
    for (nmf_method m : {nmf_method::hals, nmf_method::anls}) {
        const facto::nmf_result_f r = facto::nmf(Xf, opts_for(m, 3, 1000));
        EXPECT_LT(r.rel_error, 1e-3) << static_cast<int>(m);
        EXPECT_LT(direct_rel_error(c.X, to_double(r.W), to_double(r.H)), 1e-3);
    }
    const csr_matrix S = csr_of(c.X);
    csr_matrix_f Sf;
    Sf.rows = S.rows;
    Sf.cols = S.cols;
    Sf.row_ptr = S.row_ptr;
    Sf.col_idx = S.col_idx;
    for (double v : S.values) Sf.values.push_back(static_cast<float>(v));
    const facto::nmf_result_f r = facto::nmf_hals(Sf, opts_for(nmf_method::hals, 3, 1000));
    EXPECT_LT(r.rel_error, 1e-3);
}

// ------------------------------------------------------------------ invariants

TEST(Nmf, ErrorNeverIncreases) {
    const matrix X = noisy(70, 45, 5, 6, 0.3);
    for (nmf_method m : {nmf_method::hals, nmf_method::mu, nmf_method::anls})
        for (nmf_init init : {nmf_init::nndsvd, nmf_init::random}) {
            nmf_options o = opts_for(m, 5, 60);
            o.init = init;
            o.seed = 3;
            const nmf_result r = facto::nmf(X, o);
            ASSERT_EQ(r.history.size(), 60u);
            for (std::size_t t = 1; t < r.history.size(); ++t)
                EXPECT_LE(r.history[t].rel_error, r.history[t - 1].rel_error * (1 + 1e-12))
                    << "method " << static_cast<int>(m) << " iteration " << t + 1;
            EXPECT_TRUE(nonnegative(r.W) && nonnegative(r.H));
            EXPECT_NEAR(r.rel_error, direct_rel_error(X, r.W, r.H), 1e-10);
        }
    nmf_options o = opts_for(nmf_method::mu, 5, 60);
    o.loss = nmf_loss::kullback_leibler;
    const nmf_result r = facto::nmf(X, o);
    for (std::size_t t = 1; t < r.history.size(); ++t)
        EXPECT_LE(r.history[t].divergence, r.history[t - 1].divergence * (1 + 1e-12)) << t + 1;
}

TEST(Nmf, AnlsSolvesEachHalfStepExactly) {
    // After an ANLS iteration, H is the nonnegative least squares solution for the final W:
    // KKT conditions H >= 0, gradient W^T (W H - X) >= 0, and H .* gradient = 0.
    const matrix X = noisy(40, 35, 6, 7, 0.5);
    nmf_options o = opts_for(nmf_method::anls, 6, 5);
    o.init = nmf_init::random;
    const nmf_result r = facto::nmf(X, o);
    const matrix R = product(r.W, r.H);
    double scale = 0;
    for (double v : X.values()) scale = std::max(scale, v);
    for (index_t j = 0; j < X.cols(); ++j)
        for (index_t s = 0; s < 6; ++s) {
            double g = 0;
            for (index_t i = 0; i < X.rows(); ++i) g += r.W(i, s) * (R(i, j) - X(i, j));
            const double tol = 1e-9 * scale * static_cast<double>(X.rows());
            EXPECT_GE(g, -tol) << "column " << j << " component " << s;
            if (r.H(s, j) > 1e-12) EXPECT_NEAR(g, 0.0, tol);
        }
}

TEST(Nmf, DenseAndSparseAgree) {
    matrix X = noisy(50, 40, 4, 8, 0.2);
    std::mt19937_64 rng(9);
    for (double& v : X.values())
        if (uniform01(rng) < 0.5) v = 0;  // a real sparse matrix
    const csr_matrix S = csr_of(X);
    for (nmf_method m : {nmf_method::hals, nmf_method::mu, nmf_method::anls}) {
        nmf_options o = opts_for(m, 4, 25);
        o.init = nmf_init::random;
        o.inner_iters = 3;  // the automatic sweep budget follows the stored entries, which differ
        const nmf_result d = facto::nmf(X, o), s = facto::nmf(S, o);
        for (index_t p = 0; p < d.W.size(); ++p) EXPECT_NEAR(d.W.data()[p], s.W.data()[p], 1e-8);
        for (index_t p = 0; p < d.H.size(); ++p) EXPECT_NEAR(d.H.data()[p], s.H.data()[p], 1e-8);
        EXPECT_NEAR(d.rel_error, s.rel_error, 1e-10);
    }
    for (index_t k : {11, 36}) {  // padded sparse-product widths and the generic one
        nmf_options o = opts_for(nmf_method::hals, k, 5);
        o.init = nmf_init::random;
        o.inner_iters = 2;
        const nmf_result d = facto::nmf(X, o), s = facto::nmf(S, o);
        for (index_t p = 0; p < d.H.size(); ++p) EXPECT_NEAR(d.H.data()[p], s.H.data()[p], 1e-8) << "rank " << k;
    }
    nmf_options o = opts_for(nmf_method::mu, 4, 25);
    o.loss = nmf_loss::kullback_leibler;
    o.init = nmf_init::random;
    const nmf_result d = facto::nmf(X, o), s = facto::nmf(S, o);
    for (index_t p = 0; p < d.W.size(); ++p) EXPECT_NEAR(d.W.data()[p], s.W.data()[p], 1e-8);
    EXPECT_NEAR(d.divergence, s.divergence, 1e-8 * d.divergence);
}

// ------------------------------------------------------------------ masks

TEST(Nmf, MaskedRecoversMissingEntries) {
    const planted_case c = planted(60, 50, 3, 10, 0.2);
    matrix mask(60, 50), Xg = c.X;
    std::mt19937_64 rng(11);
    for (index_t p = 0; p < mask.size(); ++p) {
        mask.data()[p] = uniform01(rng) < 0.7 ? 1.0 : 0.0;
        if (mask.data()[p] == 0) Xg.data()[p] = p % 2 ? 1e6 : std::numeric_limits<double>::quiet_NaN();
    }
    matrix unobserved(60, 50);
    for (index_t p = 0; p < mask.size(); ++p) unobserved.data()[p] = 1 - mask.data()[p];
    struct want {
        nmf_method method;
        int iters;
        double observed, missing;
    };
    for (const want w : {want{nmf_method::hals, 3000, 1e-6, 1e-4}, want{nmf_method::mu, 3000, 3e-2, 6e-2},
                         want{nmf_method::anls, 300, 1e-6, 1e-4}}) {
        nmf_options o = opts_for(w.method, 3, w.iters);
        o.init = nmf_init::random;
        o.seed = 1;
        const nmf_result r = facto::nmf(Xg, mask, o);
        EXPECT_LT(r.rel_error, w.observed) << static_cast<int>(w.method);
        EXPECT_NEAR(r.rel_error, direct_rel_error(c.X, r.W, r.H, &mask), 1e-9);
        EXPECT_LT(direct_rel_error(c.X, r.W, r.H, &unobserved), w.missing) << static_cast<int>(w.method);
        EXPECT_TRUE(nonnegative(r.W) && nonnegative(r.H));
        for (std::size_t t = 1; t < r.history.size(); ++t)
            ASSERT_LE(r.history[t].rel_error, r.history[t - 1].rel_error * (1 + 1e-9) + 1e-13) << t + 1;
    }
}

TEST(Nmf, SparseObservedEntriesMatchDenseMask) {
    // The stored entries of a sparse matrix as the observed ones (zeros included) = a dense mask.
    const planted_case c = planted(30, 25, 2, 12);
    matrix mask(30, 25);
    csr_matrix S;
    S.rows = 30;
    S.cols = 25;
    std::mt19937_64 rng(13);
    for (index_t i = 0; i < 30; ++i) {
        for (index_t j = 0; j < 25; ++j)
            if (uniform01(rng) < 0.6) {
                mask(i, j) = 1;
                S.col_idx.push_back(j);
                S.values.push_back(c.X(i, j));
            }
        S.row_ptr.push_back(S.nnz());
    }
    for (nmf_method m : {nmf_method::hals, nmf_method::mu, nmf_method::anls}) {
        nmf_options o = opts_for(m, 2, 40);
        const nmf_result d = facto::nmf(c.X, mask, o);
        o.unstored_missing = true;
        const nmf_result s = facto::nmf(S, o);
        EXPECT_EQ(d.W, s.W);
        EXPECT_EQ(d.H, s.H);
        // A sparse mask gives the same observed set again.
        csr_matrix Smask = S;
        std::fill(Smask.values.begin(), Smask.values.end(), 1.0);
        o.unstored_missing = false;
        const nmf_result sm = facto::nmf(csr_of(c.X), Smask, o);
        EXPECT_EQ(d.W, sm.W);
    }
}

// ------------------------------------------------------------------ options

TEST(Nmf, SameSeedSameResult) {
    const matrix X = noisy(80, 60, 5, 14, 0.3);
    const csr_matrix S = csr_of(X);
    for (nmf_method m : {nmf_method::hals, nmf_method::mu, nmf_method::anls})
        for (nmf_init init : {nmf_init::random, nmf_init::nndsvd}) {
            nmf_options o = opts_for(m, 5, 15);
            o.init = init;
            o.seed = 42;
            const nmf_result a = facto::nmf(X, o), b = facto::nmf(X, o);
            EXPECT_EQ(a.W, b.W);
            EXPECT_EQ(a.H, b.H);
            const nmf_result sa = facto::nmf(S, o), sb = facto::nmf(S, o);
            EXPECT_EQ(sa.W, sb.W);
            o.seed = 43;
            const nmf_result c = facto::nmf(X, o);
            if (init == nmf_init::random) EXPECT_NE(a.W, c.W);
        }
}

TEST(Nmf, NndsvdIsANonnegativeSvdApproximation) {
    // A nonnegative rank-1 matrix is reproduced exactly by the first NNDSVD pair.
    matrix u(20, 1), v(1, 15);
    for (index_t i = 0; i < 20; ++i) u(i, 0) = 1 + static_cast<double>(i % 7);
    for (index_t j = 0; j < 15; ++j) v(0, j) = 0.5 + static_cast<double>(j % 4);
    const matrix X1 = product(u, v);
    nmf_options o;
    o.rank = 1;
    o.init = nmf_init::nndsvd;
    const auto f1 = facto::nmf_initialize(X1, o);
    EXPECT_LT(direct_rel_error(X1, f1.W, f1.H), 1e-10);

    const matrix X = noisy(40, 30, 4, 15, 0.2);
    o.rank = 4;
    const auto f = facto::nmf_initialize(X, o);
    ASSERT_EQ(f.W.rows(), 40);
    ASSERT_EQ(f.W.cols(), 4);
    ASSERT_EQ(f.H.rows(), 4);
    ASSERT_EQ(f.H.cols(), 30);
    EXPECT_TRUE(nonnegative(f.W) && nonnegative(f.H));
    // Better than nothing, no better than the best rank-4 approximation would allow.
    const double e = direct_rel_error(X, f.W, f.H);
    EXPECT_LT(e, 0.6);
    EXPECT_GT(e, 0.0);
    // NNDSVD keeps exact zeros (the negative parts of the singular vectors); nndsvda fills them
    // with the mean of X.
    const long zeros = std::count(f.W.values().begin(), f.W.values().end(), 0.0) +
                       std::count(f.H.values().begin(), f.H.values().end(), 0.0);
    EXPECT_GT(zeros, 0);
    o.init = nmf_init::nndsvda;
    const auto fa = facto::nmf_initialize(X, o);
    double mean = 0;
    for (double x : X.values()) mean += x / static_cast<double>(X.size());
    for (index_t p = 0; p < f.W.size(); ++p)
        EXPECT_NEAR(fa.W.data()[p], f.W.data()[p] == 0 ? mean : f.W.data()[p], 1e-13 * mean);
    // The first pair is |u1| sqrt(s1), |v1| sqrt(s1): its outer product has X's leading
    // singular value as norm, which is at least ||X|| / sqrt(rank X).
    double n1w = 0, n1h = 0, nx = 0;
    for (index_t i = 0; i < 40; ++i) n1w += f.W(i, 0) * f.W(i, 0);
    for (index_t j = 0; j < 30; ++j) n1h += f.H(0, j) * f.H(0, j);
    for (double x : X.values()) nx += x * x;
    EXPECT_LE(std::sqrt(n1w * n1h), std::sqrt(nx) * (1 + 1e-12));
    EXPECT_GE(std::sqrt(n1w * n1h), std::sqrt(nx / 30.0));

    o.init = nmf_init::random;
    o.seed = 5;
    const auto fr = facto::nmf_initialize(X, o);
    EXPECT_TRUE(nonnegative(fr.W) && nonnegative(fr.H));
    // scikit-learn's scaling: mean of W H ~ mean of X (the |N(0,1)| mean is sqrt(2/pi)).
    const matrix M = product(fr.W, fr.H);
    double mm = 0;
    for (double x : M.values()) mm += x / static_cast<double>(M.size());
    EXPECT_NEAR(mm / mean, 2 / 3.141592653589793, 0.15);
}

TEST(Nmf, GivenInitIsUsed) {
    const planted_case c = planted(20, 15, 2, 16);
    nmf_options o = opts_for(nmf_method::hals, 2, 1);
    o.init = nmf_init::given;
    o.initial_W = c.W0;
    o.initial_H = c.H0;
    const nmf_result r = facto::nmf(c.X, o);
    EXPECT_LT(r.rel_error, 1e-12);  // already optimal: HALS keeps it
}

TEST(Nmf, PenaltiesShrinkAndSparsify) {
    const matrix X = noisy(50, 40, 4, 17, 0.3);
    nmf_options o = opts_for(nmf_method::hals, 4, 100);
    const nmf_result plain = facto::nmf(X, o);
    o.l1_H = 2.0;
    const nmf_result l1 = facto::nmf(X, o);
    const auto zeros = [](const matrix& A) { return std::count(A.values().begin(), A.values().end(), 0.0); };
    EXPECT_GT(zeros(l1.H), zeros(plain.H));
    o.l1_H = 0;
    o.l2_W = o.l2_H = 50.0;
    const nmf_result l2 = facto::nmf(X, o);
    double np = 0, n2 = 0;
    for (double v : plain.W.values()) np += v * v;
    for (double v : plain.H.values()) np += v * v;
    for (double v : l2.W.values()) n2 += v * v;
    for (double v : l2.H.values()) n2 += v * v;
    EXPECT_LT(n2, np);
    EXPECT_GT(l2.rel_error, plain.rel_error);
    for (nmf_method m : {nmf_method::mu, nmf_method::anls}) {  // the other methods honour them too
        nmf_options q = opts_for(m, 4, 100);
        const nmf_result a = facto::nmf(X, q);
        q.l1_H = 2.0;
        const nmf_result b = facto::nmf(X, q);
        double sa = 0, sb = 0;
        for (double v : a.H.values()) sa += v;
        for (double v : b.H.values()) sb += v;
        EXPECT_LT(sb, sa) << static_cast<int>(m);
        EXPECT_GT(b.rel_error, a.rel_error);
    }
}

TEST(Nmf, CallbackStopsAndErrorEvery) {
    const matrix X = noisy(30, 20, 3, 18, 0.3);
    nmf_options o = opts_for(nmf_method::hals, 3, 50);
    o.on_iteration = [](const facto::nmf_iteration& it) { return it.iter < 3; };
    const nmf_result r = facto::nmf(X, o);
    EXPECT_EQ(r.iters, 3);
    EXPECT_TRUE(r.interrupted);
    EXPECT_FALSE(r.converged);
    o.on_iteration = nullptr;
    o.compute_error_every = 4;
    o.max_iters = 10;
    matrix mask(30, 20, 1.0);
    mask(0, 0) = 0;
    for (int variant = 0; variant < 2; ++variant) {
        const nmf_result e = variant == 0 ? facto::nmf(X, o) : facto::nmf(X, mask, o);
        ASSERT_EQ(e.history.size(), 10u);
        for (int t = 0; t < 10; ++t)
            EXPECT_EQ(std::isnan(e.history[static_cast<std::size_t>(t)].rel_error), (t + 1) % 4 != 0 && t != 9) << t;
        EXPECT_NEAR(e.rel_error, direct_rel_error(X, e.W, e.H, variant ? &mask : nullptr), 1e-9);
    }
    o.compute_error_every = 1;
    o.tol = 1e-3;
    o.max_iters = 1000;
    const nmf_result c = facto::nmf(X, o);
    EXPECT_TRUE(c.converged);
    EXPECT_LT(c.iters, 1000);
    EXPECT_LT(c.history.back().change, 1e-3);
}

TEST(Nmf, BadArgumentsAreNamed) {
    const matrix X = noisy(10, 8, 2, 19, 0.1);
    auto throws_with = [&](const nmf_options& o, const std::string& text, const matrix* Xp = nullptr) {
        try {
            (void)facto::nmf(Xp ? *Xp : X, o);
            ADD_FAILURE() << "no exception, expected one mentioning '" << text << "'";
        } catch (const facto::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
        }
    };
    nmf_options o;
    o.rank = 0;
    throws_with(o, "rank");
    o = {};
    o.rank = 9;
    throws_with(o, "min(m, n)");
    o = {};
    o.rank = 2;
    o.max_iters = 0;
    throws_with(o, "max_iters");
    o = {};
    o.rank = 2;
    o.l1_W = -1;
    throws_with(o, "l1_W");
    o = {};
    o.rank = 2;
    o.tol = std::numeric_limits<double>::quiet_NaN();
    throws_with(o, "tol");
    o = {};
    o.rank = 2;
    o.loss = nmf_loss::kullback_leibler;
    throws_with(o, "mu");
    o = {};
    o.rank = 2;
    o.init = nmf_init::given;
    throws_with(o, "initial_W");
    o.initial_W = matrix(10, 3);
    o.initial_H = matrix(2, 8);
    throws_with(o, "initial_W is 10x3");
    o = {};
    o.rank = 2;
    matrix bad = X;
    bad(3, 4) = -1;
    throws_with(o, "X holds -1.000000 at row 3, column 4 (0-based); NMF needs finite entries >= 0", &bad);
    try {
        (void)facto::nmf(csr_of(bad), o);
        ADD_FAILURE() << "a negative stored entry was accepted";
    } catch (const facto::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("X holds -1.000000 at row 3, column 4"), std::string::npos) << e.what();
    }
    bad(3, 4) = std::numeric_limits<double>::infinity();
    throws_with(o, "NMF needs finite entries >= 0", &bad);
    const matrix zero(10, 8);
    throws_with(o, "all zero", &zero);
    EXPECT_THROW((void)facto::nmf(X, matrix(10, 7, 1.0), o), facto::invalid_argument);
    csr_matrix S = csr_of(X);
    S.col_idx[0] = 99;
    EXPECT_THROW((void)facto::nmf(S, o), facto::invalid_argument);
}

// ------------------------------------------------------------------ real data

csr_matrix read_csr(const std::string& path) {
    const facto::coo_tensor C = facto::read_mtx(path);
    return facto::to_csr(C);
}

/// Columns (words, genes) with the largest loadings in row r of H.
std::vector<index_t> top_columns(const matrix& H, index_t r, index_t count) {
    std::vector<index_t> idx(static_cast<std::size_t>(H.cols()));
    for (index_t j = 0; j < H.cols(); ++j) idx[static_cast<std::size_t>(j)] = j;
    std::partial_sort(idx.begin(), idx.begin() + count, idx.end(),
                      [&](index_t a, index_t b) { return H(r, a) > H(r, b); });
    idx.resize(static_cast<std::size_t>(count));
    return idx;
}

void check_real_run(const csr_matrix& X, const nmf_result& r, double max_error) {
    EXPECT_EQ(r.W.rows(), X.rows);
    EXPECT_EQ(r.H.cols(), X.cols);
    EXPECT_TRUE(nonnegative(r.W) && nonnegative(r.H));
    EXPECT_LT(r.rel_error, max_error);
    EXPECT_LT(r.rel_error, r.history.front().rel_error);
    for (std::size_t t = 1; t < r.history.size(); ++t)
        EXPECT_LE(r.history[t].rel_error, r.history[t - 1].rel_error * (1 + 1e-9));
    // Twenty distinct components: no two share their ten top columns.
    std::set<std::vector<index_t>> tops;
    for (index_t c = 0; c < r.H.rows(); ++c) {
        auto t = top_columns(r.H, c, 10);
        std::sort(t.begin(), t.end());
        tops.insert(t);
    }
    EXPECT_EQ(tops.size(), static_cast<std::size_t>(r.H.rows()));
}

TEST(NmfRealData, StateOfTheUnionRank20) {
    const std::string path = std::string(FACTO_SHARED_DATA) + "/sotu-dtm/sotu_counts.mtx.xz";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data set absent: " << path;
    const csr_matrix X = read_csr(path);
    ASSERT_EQ(X.rows, 233);
    ASSERT_EQ(X.cols, 23705);
    nmf_options o = opts_for(nmf_method::hals, 20, 20);
    const nmf_result r = facto::nmf(X, o);
    check_real_run(X, r, 0.5);
    o.method = nmf_method::anls;
    o.max_iters = 4;
    check_real_run(X, facto::nmf(X, o), 0.5);
}

TEST(NmfRealData, Pbmc3kRank20) {
    const std::string path = std::string(FACTO_SHARED_DATA) + "/pbmc3k-scrna/pbmc3k_counts.mtx.xz";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data set absent: " << path;
    const csr_matrix X = read_csr(path);
    ASSERT_EQ(X.rows, 13714);
    ASSERT_EQ(X.cols, 2638);
    const nmf_result r = facto::nmf(X, opts_for(nmf_method::hals, 20, 8));
    check_real_run(X, r, 0.8);
}

}  // namespace
