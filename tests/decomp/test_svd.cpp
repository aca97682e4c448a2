// test_svd.cpp: exact and randomized truncated SVD on planted spectra, tolerances and real data.
#include "facto/io/any.hpp"
#include "facto/io/npy.hpp"
#include "facto/decomp/svd.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <utility>

namespace facto {
namespace {

template <class T>
basic_matrix<T> naive_mul(const basic_matrix<T>& A, const basic_matrix<T>& B, bool ta = false) {
    const index_t m = ta ? A.cols() : A.rows(), k = ta ? A.rows() : A.cols();
    basic_matrix<T> C(m, B.cols());
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < B.cols(); ++j) {
            double s = 0;
            for (index_t l = 0; l < k; ++l) s += static_cast<double>(ta ? A(l, i) : A(i, l)) * B(l, j);
            C(i, j) = static_cast<T>(s);
        }
    return C;
}

// Random m x k matrix with orthonormal columns (Gram-Schmidt twice, in double).
template <class T>
basic_matrix<T> random_orthonormal(index_t m, index_t k, std::mt19937_64& rng) {
    std::normal_distribution<double> g;
    std::vector<std::vector<double>> cols(static_cast<std::size_t>(k), std::vector<double>(static_cast<std::size_t>(m)));
    for (auto& c : cols) {
        for (auto& v : c) v = g(rng);
    }
    for (std::size_t j = 0; j < cols.size(); ++j)
        for (int pass = 0; pass < 2; ++pass) {
            for (std::size_t p = 0; p < j; ++p) {
                double d = 0;
                for (std::size_t i = 0; i < cols[j].size(); ++i) d += cols[j][i] * cols[p][i];
                for (std::size_t i = 0; i < cols[j].size(); ++i) cols[j][i] -= d * cols[p][i];
            }
            double n = 0;
            for (double v : cols[j]) n += v * v;
            for (double& v : cols[j]) v /= std::sqrt(n);
        }
    basic_matrix<T> Q(m, k);
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < k; ++j) Q(i, j) = static_cast<T>(cols[static_cast<std::size_t>(j)][static_cast<std::size_t>(i)]);
    return Q;
}

// A = U diag(s) V^T with random orthonormal U, V.
template <class T>
basic_matrix<T> planted(index_t m, index_t n, const std::vector<double>& s, unsigned seed) {
    std::mt19937_64 rng(seed);
    const index_t k = static_cast<index_t>(s.size());
    auto U = random_orthonormal<T>(m, k, rng);
    auto V = random_orthonormal<T>(n, k, rng);
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < k; ++j) U(i, j) = static_cast<T>(U(i, j) * s[static_cast<std::size_t>(j)]);
    basic_matrix<T> A(m, n);
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j) {
            double v = 0;
            for (index_t l = 0; l < k; ++l) v += static_cast<double>(U(i, l)) * V(j, l);
            A(i, j) = static_cast<T>(v);
        }
    return A;
}

template <class T>
double norm_f(const basic_matrix<T>& A) {
    double s = 0;
    for (T v : A.values()) s += static_cast<double>(v) * v;
    return std::sqrt(s);
}

// ||A - U diag(s) V^T||_F / ||A||_F by naive loops.
template <class T>
double residual(const basic_matrix<T>& A, const basic_svd_result<T>& r) {
    double e = 0;
    for (index_t i = 0; i < A.rows(); ++i)
        for (index_t j = 0; j < A.cols(); ++j) {
            double v = A(i, j);
            for (index_t l = 0; l < r.rank; ++l)
                v -= static_cast<double>(r.U(i, l)) * r.s[static_cast<std::size_t>(l)] * r.V(j, l);
            e += v * v;
        }
    return std::sqrt(e) / norm_f(A);
}

template <class T>
void expect_orthonormal(const basic_matrix<T>& Q, double tol) {
    const auto G = naive_mul(Q, Q, true);
    for (index_t i = 0; i < G.rows(); ++i)
        for (index_t j = 0; j < G.cols(); ++j) ASSERT_NEAR(G(i, j), i == j ? 1.0 : 0.0, tol) << i << "," << j;
}

// Geometric spectrum 1, q, q^2, ...
std::vector<double> geometric(index_t k, double q) {
    std::vector<double> s(static_cast<std::size_t>(k));
    for (index_t i = 0; i < k; ++i) s[static_cast<std::size_t>(i)] = std::pow(q, static_cast<double>(i));
    return s;
}

template <class T>
class Svd : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Svd, Types);

}  // namespace

TYPED_TEST(Svd, TruncatedFullRankReproducesInput) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    for (auto [m, n] : {std::pair<index_t, index_t>{9, 5}, {5, 9}, {1, 4}, {6, 6}}) {
        std::mt19937_64 rng(m * 10 + n);
        std::normal_distribution<double> g;
        basic_matrix<T> A(m, n);
        for (auto& v : A.values()) v = static_cast<T>(g(rng));
        const auto r = svd_truncated(A);
        EXPECT_EQ(r.rank, std::min(m, n));
        EXPECT_LE(residual(A, r), 100 * static_cast<double>(m + n) * eps);
        EXPECT_LE(r.rel_error, 100 * static_cast<double>(m + n) * eps);
        expect_orthonormal(r.U, 100 * static_cast<double>(m) * eps);
        expect_orthonormal(r.V, 100 * static_cast<double>(n) * eps);
        for (std::size_t i = 1; i < r.s.size(); ++i) EXPECT_GE(r.s[i - 1], r.s[i]);
    }
}

TYPED_TEST(Svd, TruncatedRecoversPlantedSpectrumAndTolRank) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const auto s = geometric(12, 0.5);
    const auto A = planted<T>(40, 30, s, 7);
    const auto full = svd_truncated(A);
    for (std::size_t i = 0; i < s.size(); ++i) EXPECT_NEAR(full.s[i], s[i], 200 * 40 * eps);
    for (double tol : {0.3, 0.05, 1e-2, 1e-3}) {
        const auto r = svd_truncated(A, {.tol = tol});
        // The smallest k with sqrt(sum_{i>=k} s_i^2) <= tol * ||s||.
        double total = 0;
        for (double v : s) total += v * v;
        index_t expect = static_cast<index_t>(s.size());
        for (index_t k = 0; k <= static_cast<index_t>(s.size()); ++k) {
            double tail = 0;
            for (std::size_t i = static_cast<std::size_t>(k); i < s.size(); ++i) tail += s[i] * s[i];
            if (std::sqrt(tail / total) <= tol) {
                expect = k;
                break;
            }
        }
        EXPECT_EQ(r.rank, expect) << "tol " << tol;
        EXPECT_LE(r.rel_error, tol);
        EXPECT_NEAR(residual(A, r), r.rel_error, 100 * 40 * eps);
    }
    const auto capped = svd_truncated(A, {.rank = 3, .tol = 1e-6});
    EXPECT_EQ(capped.rank, 3);
    EXPECT_EQ(capped.U.cols(), 3);
    EXPECT_EQ(capped.V.rows(), 30);
}

TYPED_TEST(Svd, RandomizedFixedRankRecoversPlantedLowRank) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const auto A = planted<T>(120, 80, geometric(6, 0.7), 3);
    const auto r = svd_randomized(A, {.rank = 6, .seed = 5});
    EXPECT_EQ(r.rank, 6);
    EXPECT_LE(residual(A, r), 1000 * eps);
    EXPECT_NEAR(r.rel_error, residual(A, r), 1000 * eps);
    expect_orthonormal(r.U, 1000 * eps);
    expect_orthonormal(r.V, 1000 * eps);
    const auto again = svd_randomized(A, {.rank = 6, .seed = 5});
    EXPECT_EQ(again.U, r.U);
    EXPECT_EQ(again.s, r.s);
    const auto unchecked = svd_randomized(A, {.rank = 6, .seed = 5, .check_error = false});
    EXPECT_EQ(unchecked.s, r.s);
    EXPECT_EQ(unchecked.rel_error, unchecked.rel_error_estimate);
}

TYPED_TEST(Svd, WideSketchesMatchTheExactSvd) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    // Sketches of 50 and 70 columns: one or two thin-kernel panels or BLAS, by type.
    const auto A = planted<T>(220, 160, geometric(50, 0.9), 21);
    for (const index_t rank : {30, 50}) {
        const auto r = svd_randomized(A, {.rank = rank, .oversample = 20, .seed = 3});
        const auto best = svd_truncated(A, {.rank = rank});
        EXPECT_LE(r.rel_error, best.rel_error + 1e3 * eps) << rank;
        EXPECT_NEAR(r.rel_error, residual(A, r), 100 * std::sqrt(eps)) << rank;
        expect_orthonormal(r.U, 1000 * eps);
    }
}

TYPED_TEST(Svd, RandomizedNearOptimalOnDecayingSpectrum) {
    using T = TypeParam;
    const auto A = planted<T>(150, 100, geometric(60, 0.85), 11);
    const auto exact = svd_truncated(A, {.rank = 10});
    const auto r = svd_randomized(A, {.rank = 10, .power_iters = 2, .seed = 1});
    EXPECT_LE(r.rel_error, 1.01 * exact.rel_error);
    for (std::size_t i = 0; i < 10; ++i) EXPECT_NEAR(r.s[i], exact.s[i], 1e-3 * exact.s[0]);
}

TYPED_TEST(Svd, BlockKrylovRecoversPlantedRankAndBeatsSubspaceIterationAtEqualCost) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    // Exact rank 6 from blocks of 3: the basis [A W, A A^T A W] spans the range.
    const auto low = planted<T>(120, 80, geometric(6, 0.7), 3);
    const auto exact_low = svd_randomized(low, {.rank = 6, .power_iters = 1, .krylov_block = 3, .seed = 4});
    EXPECT_EQ(exact_low.rank, 6);
    EXPECT_LE(residual(low, exact_low), 1000 * eps);
    expect_orthonormal(exact_low.U, 1000 * eps);
    expect_orthonormal(exact_low.V, 1000 * eps);
    // Slowly decaying spectrum: 40 columns of products each way, the same for both methods.
    const auto A = planted<T>(300, 200, geometric(150, 0.97), 11);
    const auto best = svd_truncated(A, {.rank = 10});
    const auto krylov = svd_randomized(A, {.rank = 10, .power_iters = 3, .krylov_block = 5, .seed = 1});
    const auto subspace = svd_randomized(A, {.rank = 10, .oversample = 0, .power_iters = 1, .seed = 1});
    EXPECT_EQ(krylov.rank, 10);
    EXPECT_NEAR(krylov.rel_error, residual(A, krylov), 100 * std::sqrt(eps));
    EXPECT_GE(krylov.rel_error, best.rel_error * (1 - 100 * std::sqrt(eps)));  // nothing beats the SVD
    EXPECT_LT(krylov.rel_error - best.rel_error, 0.6 * (subspace.rel_error - best.rel_error));  // 0.51 measured
    const auto again = svd_randomized(A, {.rank = 10, .power_iters = 3, .krylov_block = 5, .seed = 1});
    EXPECT_EQ(again.U, krylov.U);
    EXPECT_EQ(again.s, krylov.s);
}

TYPED_TEST(Svd, RandomizedFixedAccuracyMeetsTolerance) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const auto A = planted<T>(200, 90, geometric(80, 0.9), 13);
    for (double tol : {0.2, 0.05, 0.01}) {
        const auto r = svd_randomized(A, {.tol = tol, .block = 8, .seed = 2});
        const auto best = svd_truncated(A, {.tol = tol});
        EXPECT_TRUE(r.converged);
        EXPECT_LE(r.rel_error, tol * (1 + 1e-6) + 100 * std::sqrt(eps)) << "tol " << tol;
        EXPECT_NEAR(r.rel_error, residual(A, r), 100 * std::sqrt(eps));
        EXPECT_NEAR(r.rel_error_estimate, r.rel_error, 100 * std::sqrt(eps));
        EXPECT_GE(r.rank, best.rank);     // nothing beats the exact SVD
        EXPECT_LE(r.rank, best.rank + 2);  // and the range finder is close to it
    }
    // An unreachable basis cap is reported, not thrown.
    const auto capped = svd_randomized(A, {.tol = 1e-3, .block = 4, .max_rank = 8});
    EXPECT_FALSE(capped.converged);
    EXPECT_LE(capped.rank, 8);
}

TEST(Svd, CheckedErrorMatchesResidualAboveAndBelowTheRoundingFloor) {
    // rel_error comes from an expansion that never touches A when the error is large, and
    // from a pass over A when it is near the expansion's rounding floor: both must be the
    // residual's value to many digits.
    for (double tail : {0.1, 1e-9}) {
        const auto A = planted<double>(300, 200, {1.0, 0.6, 0.3, 0.2, tail, tail, 0.5 * tail}, 21);
        const auto r = svd_randomized(A, {.rank = 4, .oversample = 3, .seed = 6});
        const double truth = residual(A, r);
        ASSERT_GT(truth, 0.5 * tail);
        EXPECT_NEAR(r.rel_error, truth, 1e-6 * truth) << "tail " << tail;
        const auto unchecked = svd_randomized(A, {.rank = 4, .oversample = 3, .seed = 6, .check_error = false});
        EXPECT_EQ(unchecked.s, r.s);
    }
}

TEST(Svd, ExactlyLowRankStopsAtRank) {
    const auto A = planted<double>(60, 50, {3.0, 2.0, 1.0}, 4);
    const auto r = svd_randomized(A, {.tol = 1e-6, .block = 2});
    EXPECT_EQ(r.rank, 3);
    EXPECT_LE(r.rel_error, 1e-12);
}

TEST(Svd, RejectsBadOptions) {
    const basic_matrix<double> A(4, 3, 1.0);
    EXPECT_THROW((void)svd_truncated(A, {.rank = -1}), invalid_argument);
    EXPECT_THROW((void)svd_truncated(A, {.tol = -0.1}), invalid_argument);
    EXPECT_THROW((void)svd_randomized(A, {.rank = 4}), invalid_argument);
    EXPECT_THROW((void)svd_randomized(A, {.rank = 0, .tol = 0}), invalid_argument);
    EXPECT_THROW((void)svd_randomized(A, {.rank = 2, .oversample = -1}), invalid_argument);
    EXPECT_THROW((void)svd_randomized(A, {.rank = 2, .power_iters = -1}), invalid_argument);
    EXPECT_THROW((void)svd_randomized(A, {.tol = 0.1, .block = 0}), invalid_argument);
    EXPECT_THROW((void)svd_randomized(A, {.rank = 2, .krylov_block = -1}), invalid_argument);
    EXPECT_THROW((void)svd_randomized(A, {.tol = 0.1, .krylov_block = 1}), invalid_argument);
    EXPECT_THROW((void)svd_randomized(A, {.rank = 3, .power_iters = 0, .krylov_block = 2}), invalid_argument);
    basic_matrix<double> B(2, 2, 1.0);
    B(0, 1) = std::numeric_limits<double>::quiet_NaN();
    EXPECT_THROW((void)svd_randomized(B, {.rank = 1}), invalid_argument);
    try {
        (void)svd_truncated(B);
        FAIL() << "expected invalid_argument";
    } catch (const invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("svd_truncated: the matrix has a non-finite entry"), std::string::npos);
    }
}

// Random sparse matrix: each entry present with probability `density`, N(0,1) values.
template <class T>
basic_coo_tensor<T> random_sparse(index_t m, index_t n, double density, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u;
    std::normal_distribution<double> g;
    basic_coo_tensor<T> A(shape_t{m, n});
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j)
            if (u(rng) < density) {
                const index_t c[] = {i, j};
                A.push_back(c, static_cast<T>(g(rng)));
            }
    return A;
}

TYPED_TEST(Svd, SparseAgreesWithDense) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const auto S = random_sparse<T>(150, 90, 0.05, 8);
    const auto D = to_dense<T>(S);
    const basic_matrix<T> A(150, 90, D.values());
    for (const svd_randomized_options o : {svd_randomized_options{.rank = 8, .seed = 4},
                                           svd_randomized_options{.tol = 0.5, .block = 8, .seed = 4},
                                           svd_randomized_options{.rank = 8, .power_iters = 2, .krylov_block = 4, .seed = 4}}) {
        const auto rs = svd_randomized(S, o);
        const auto rd = svd_randomized(A, o);
        ASSERT_EQ(rs.rank, rd.rank);
        for (std::size_t i = 0; i < rs.s.size(); ++i) EXPECT_NEAR(rs.s[i], rd.s[i], 1e3 * eps * rd.s[0]);
        // Checked error: the sparse expansion against the dense residual of the sparse result.
        EXPECT_NEAR(rs.rel_error, residual(A, rs), 10 * std::sqrt(eps));
        EXPECT_NEAR(rs.rel_error, rd.rel_error, 10 * std::sqrt(eps));
        if (o.tol > 0) EXPECT_LE(rs.rel_error, o.tol + 10 * std::sqrt(eps));
        expect_orthonormal(rs.U, 1000 * eps);
        expect_orthonormal(rs.V, 1000 * eps);
    }
}

TEST(Svd, SparseDuplicatesAreSummedAndLowRankIsExact) {
    // Three disjoint constant blocks: rank 3. Every entry is given as two halves.
    coo_tensor A(shape_t{40, 30});
    const index_t rb[] = {0, 10, 25, 40}, cb[] = {0, 8, 20, 30};
    for (int b = 0; b < 3; ++b)
        for (index_t i = rb[b]; i < rb[b + 1]; ++i)
            for (index_t j = cb[b]; j < cb[b + 1]; ++j) {
                const index_t c[] = {i, j};
                A.push_back(c, 0.5 * (b + 1));
                A.push_back(c, 0.5 * (b + 1));
            }
    const auto r = svd_randomized(A, {.tol = 1e-6, .block = 2, .seed = 1});
    EXPECT_EQ(r.rank, 3);
    EXPECT_LE(r.rel_error, 1e-6);
    // The largest singular value of a constant block c (p x q) is c sqrt(p q).
    EXPECT_NEAR(r.s[0], 3.0 * std::sqrt(15.0 * 10.0), 1e-10 * r.s[0]);
    EXPECT_THROW((void)svd_randomized(coo_tensor(shape_t{3, 4, 5}), {.rank = 1}), invalid_argument);
}

TEST(Svd, CameraImage) {
    const std::string path = std::string(FACTO_SHARED_DATA) + "/camera-image/camera.npy";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent: " << path;
    tensor img = read_npy<double>(path);
    ASSERT_EQ(img.order(), 2) << path;
    const basic_matrix<double> A(img.dim(0), img.dim(1), std::move(img.values()));
    const auto exact = svd_truncated(A, {.tol = 0.05});
    EXPECT_LE(exact.rel_error, 0.05);
    EXPECT_NEAR(residual(A, exact), exact.rel_error, 1e-10);
    const auto r = svd_randomized(A, {.tol = 0.05, .block = 16, .seed = 3});
    EXPECT_TRUE(r.converged);
    EXPECT_LE(r.rel_error, 0.05 + 1e-7);
    EXPECT_GE(r.rank, exact.rank);
    EXPECT_LE(r.rank, exact.rank + exact.rank / 10 + 2);
}

// Randomized SVD of a real matrix against LAPACK's full SVD of the same matrix: the leading
// singular values, the error no better than the optimum and close to it, orthonormal factors,
// and the fixed-accuracy mode within its tolerance at a rank close to the optimal one.
void expect_matches_full_svd(const basic_matrix<double>& A, index_t k, const svd_randomized_options& fixed,
                             const basic_svd_result<double>* sparse_r = nullptr) {
    const auto full = svd_truncated(A);  // every singular triplet (gesdd)
    double total2 = 0, tail2 = 0;
    for (std::size_t i = 0; i < full.s.size(); ++i) {
        total2 += full.s[i] * full.s[i];
        if (static_cast<index_t>(i) >= k) tail2 += full.s[i] * full.s[i];
    }
    const double best = std::sqrt(tail2 / total2);  // Eckart-Young: no rank-k model does better
    const auto r = sparse_r ? *sparse_r : svd_randomized(A, fixed);
    ASSERT_EQ(r.rank, k);
    EXPECT_NEAR(r.rel_error, residual(A, r), 1e-9);
    EXPECT_GE(r.rel_error, best * (1 - 1e-9));
    EXPECT_LE(r.rel_error, best * 1.02);
    for (index_t i = 0; i < std::min<index_t>(k, 5); ++i)
        EXPECT_NEAR(r.s[static_cast<std::size_t>(i)], full.s[static_cast<std::size_t>(i)], 1e-6 * full.s[0]) << i;
    expect_orthonormal(r.U, 1e-12);
    expect_orthonormal(r.V, 1e-12);
}

// The real matrices of ../shared/data, each skipped with a message when absent.
std::string shared(const std::string& rel) { return std::string(FACTO_SHARED_DATA) + "/" + rel; }

TEST(Svd, DigitsAgainstLapackFullSvd) {
    const std::string path = shared("digits/digits.csv.gz");
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent: " << path;
    read_options ro;
    ro.dense_csv = true;
    const tensor table = std::get<tensor>(read_tensor(path, ro));  // 1797 x 65: pixels, then the label
    ASSERT_EQ(table.dim(1), 65) << path;
    basic_matrix<double> A(table.dim(0), 64);
    for (index_t i = 0; i < A.rows(); ++i)
        for (index_t j = 0; j < 64; ++j) A(i, j) = table(i, j);
    expect_matches_full_svd(A, 10, {.rank = 10, .power_iters = 4, .seed = 1});
    const auto exact = svd_truncated(A, {.tol = 0.2});
    const auto r = svd_randomized(A, {.tol = 0.2, .block = 4, .seed = 2});
    EXPECT_LE(r.rel_error, 0.2);
    EXPECT_GE(r.rank, exact.rank);
    EXPECT_LE(r.rank, exact.rank + 4);
}

TEST(Svd, OlivettiFacesAgainstLapackFullSvd) {
    const std::string path = shared("olivetti-faces/olivetti_faces_u8.npy.xz");
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent: " << path;
    tensor faces = std::get<tensor>(read_tensor(path));  // 400 x 4096
    ASSERT_EQ(faces.order(), 2) << path;
    basic_matrix<double> A(faces.dim(0), faces.dim(1), std::move(faces.values()));
    for (auto& v : A.values()) v /= 242.0;  // the README's scaling to [0, 1]
    expect_matches_full_svd(A, 20, {.rank = 20, .power_iters = 3, .seed = 3});
}

TEST(Svd, SuiteSparseSparseAgainstLapackFullSvd) {
    const std::string path = shared("suitesparse/lp_e226.mtx");
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent: " << path;
    const coo_tensor S = std::get<coo_tensor>(read_tensor(path));  // 223 x 472, sparse
    ASSERT_EQ(S.order(), 2) << path;
    const tensor D = to_dense(S);
    const basic_matrix<double> A(D.dim(0), D.dim(1), D.values());
    const auto r = svd_randomized(S, {.rank = 15, .oversample = 15, .power_iters = 3, .seed = 4});
    expect_matches_full_svd(A, 15, {}, &r);
}

}  // namespace facto
