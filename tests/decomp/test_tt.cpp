// test_tt.cpp: TT format (entries, norm, reconstruction), TT-SVD rank recovery and error bounds,
// TT rounding of over-parameterized trains.
#include "facto/decomp/tt.hpp"
#include "facto/io/npy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <string>

namespace facto {
namespace {

constexpr double eps = std::numeric_limits<double>::epsilon();

// Random TT with the given shape and internal ranks (r_1, ..., r_{d-1}), Gaussian cores.
template <class T = double>
basic_tt_tensor<T> random_tt(const shape_t& shape, const std::vector<index_t>& inner, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g;
    std::vector<basic_tensor<T>> cores;
    for (std::size_t k = 0; k < shape.size(); ++k) {
        const index_t r0 = k == 0 ? 1 : inner[k - 1], r1 = k + 1 == shape.size() ? 1 : inner[k];
        basic_tensor<T> G(shape_t{r0, shape[k], r1});
        for (index_t i = 0; i < G.size(); ++i) G.data()[i] = static_cast<T>(g(rng));
        cores.push_back(std::move(G));
    }
    return basic_tt_tensor<T>(std::move(cores));
}

tensor random_tensor(const shape_t& shape, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g;
    tensor X(shape);
    for (index_t i = 0; i < X.size(); ++i) X.data()[i] = g(rng);
    return X;
}

// Naive oracle: the entry as an explicit sum over all rank indices.
double naive_entry(const tt_tensor& tt, const shape_t& c) {
    const auto r = tt.ranks();
    std::vector<double> v{1.0};
    for (int k = 0; k < tt.order(); ++k) {
        const auto& G = tt.core(k);
        std::vector<double> next(static_cast<std::size_t>(r[k + 1]), 0.0);
        for (index_t b = 0; b < r[k + 1]; ++b)
            for (index_t a = 0; a < r[k]; ++a) next[b] += v[a] * G(a, c[k], b);
        v = next;
    }
    return v[0];
}

double diff_norm(const tensor& A, const tensor& B) {
    double s = 0;
    for (index_t i = 0; i < A.size(); ++i) s += (A.data()[i] - B.data()[i]) * (A.data()[i] - B.data()[i]);
    return std::sqrt(s);
}

double fro(const tensor& A) {
    double s = 0;
    for (index_t i = 0; i < A.size(); ++i) s += A.data()[i] * A.data()[i];
    return std::sqrt(s);
}

// The sum a + b as a TT with ranks r_a + r_b: block-diagonal inner cores, concatenated ends.
tt_tensor tt_sum(const tt_tensor& a, const tt_tensor& b) {
    const int d = a.order();
    std::vector<tensor> cores;
    for (int k = 0; k < d; ++k) {
        const auto &A = a.core(k), &B = b.core(k);
        const index_t n = A.dim(1);
        const index_t r0 = k == 0 ? 1 : A.dim(0) + B.dim(0), r1 = k == d - 1 ? 1 : A.dim(2) + B.dim(2);
        const index_t oa0 = 0, ob0 = k == 0 ? 0 : A.dim(0), oa1 = 0, ob1 = k == d - 1 ? 0 : A.dim(2);
        tensor G(shape_t{r0, n, r1});
        for (index_t i = 0; i < n; ++i) {
            for (index_t x = 0; x < A.dim(0); ++x)
                for (index_t y = 0; y < A.dim(2); ++y) G(oa0 + x, i, oa1 + y) += A(x, i, y);
            for (index_t x = 0; x < B.dim(0); ++x)
                for (index_t y = 0; y < B.dim(2); ++y) G(ob0 + x, i, ob1 + y) += B(x, i, y);
        }
        cores.push_back(std::move(G));
    }
    return tt_tensor(std::move(cores));
}

TEST(TtTensor, EntriesNormAndFullAgreeWithOracle) {
    const shape_t shape{3, 4, 2, 5};
    const auto tt = random_tt(shape, {2, 3, 2}, 1);
    EXPECT_EQ(tt.shape(), shape);
    EXPECT_EQ(tt.ranks(), (std::vector<index_t>{1, 2, 3, 2, 1}));
    EXPECT_EQ(tt.storage_size(), 1 * 3 * 2 + 2 * 4 * 3 + 3 * 2 * 2 + 2 * 5 * 1);
    EXPECT_DOUBLE_EQ(tt.compression_ratio(), 120.0 / static_cast<double>(tt.storage_size()));
    const tensor X = tt.full();
    ASSERT_EQ(X.shape(), shape);
    const double scale = fro(X);
    for (index_t i = 0; i < 3; ++i)
        for (index_t j = 0; j < 4; ++j)
            for (index_t k = 0; k < 2; ++k)
                for (index_t l = 0; l < 5; ++l) {
                    const shape_t c{i, j, k, l};
                    const double ref = naive_entry(tt, c);
                    EXPECT_NEAR(X(i, j, k, l), ref, 100 * eps * scale);
                    EXPECT_NEAR(tt(c), ref, 100 * eps * scale);
                }
    EXPECT_NEAR(tt.norm(), scale, 100 * eps * scale);
}

TEST(TtTensor, RelativeErrorMatchesTheExplicitResidual) {
    // Mode 0 of 5000 rows of 300 entries spans two slabs (3495 rows each); orders 1 to 4.
    for (const auto& [shape, inner] : std::vector<std::pair<shape_t, std::vector<index_t>>>{
             {{5000, 15, 20}, {3, 4}}, {{7}, {}}, {{6, 5}, {2}}, {{4, 3, 5, 2}, {2, 3, 2}}}) {
        const auto tt = random_tt(shape, inner, 4);
        const tensor full = tt.full();
        tensor X = random_tensor(shape, 5);
        for (index_t i = 0; i < X.size(); ++i) X.data()[i] = full.data()[i] + 0.1 * X.data()[i];
        double diff = 0, ref = 0;
        for (index_t i = 0; i < X.size(); ++i) {
            diff += (X.data()[i] - full.data()[i]) * (X.data()[i] - full.data()[i]);
            ref += X.data()[i] * X.data()[i];
        }
        EXPECT_NEAR(tt.relative_error(X.view()), std::sqrt(diff / ref), 1e3 * eps) << shape_string(shape);
        EXPECT_NEAR(tt.relative_error(tensor(shape).view()), tt.norm(), 1e3 * eps * tt.norm());
    }
    EXPECT_THROW((void)random_tt({2, 3}, {2}, 1).relative_error(tensor({3, 2}).view()), invalid_argument);
}

TEST(TtTensor, OrderOneIsAVector) {
    const tt_tensor tt(std::vector<tensor>{tensor(shape_t{1, 3, 1}, std::vector<double>{3, 0, 4})});
    EXPECT_EQ(tt.full().shape(), (shape_t{3}));
    EXPECT_DOUBLE_EQ(tt(shape_t{2}), 4.0);
    EXPECT_DOUBLE_EQ(tt.norm(), 5.0);
}

TEST(TtTensor, BadCoresAndCoordinatesThrow) {
    EXPECT_THROW(tt_tensor(std::vector<tensor>{}), invalid_argument);
    EXPECT_THROW(tt_tensor(std::vector<tensor>{tensor(shape_t{1, 3})}), invalid_argument);
    EXPECT_THROW(tt_tensor(std::vector<tensor>{tensor(shape_t{2, 3, 1})}), invalid_argument);
    EXPECT_THROW(tt_tensor(std::vector<tensor>{tensor(shape_t{1, 3, 2})}), invalid_argument);
    EXPECT_THROW(tt_tensor(std::vector<tensor>{tensor(shape_t{1, 3, 2}), tensor(shape_t{3, 2, 1})}),
                 invalid_argument);
    try {
        (void)tt_tensor(std::vector<tensor>{tensor(shape_t{1, 3, 2}), tensor(shape_t{3, 2, 1})});
    } catch (const invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("core 1"), std::string::npos) << e.what();
    }
    const auto tt = random_tt({2, 3}, {2}, 2);
    EXPECT_THROW((void)tt(shape_t{0, 3}), out_of_range);
    EXPECT_THROW((void)tt(shape_t{0}), out_of_range);
}

TEST(TtSvd, RecoversPlantedRanksExactly) {
    const shape_t shape{4, 5, 6, 3, 4};
    const std::vector<index_t> inner{3, 4, 3, 2};
    const tensor X = random_tt(shape, inner, 3).full();
    const auto res = tt_svd(X, {.tol = 1e-10, .check_error = true});
    EXPECT_EQ(res.tt.ranks(), (std::vector<index_t>{1, 3, 4, 3, 2, 1}));
    EXPECT_LE(res.rel_error, 100 * eps * static_cast<double>(X.size()));
    EXPECT_LE(res.rel_error_bound, 1e-10);
    EXPECT_NEAR(res.tt.norm(), fro(X), 100 * eps * fro(X));
}

TEST(TtSvd, ErrorBoundHoldsOnNoisyInputs) {
    const shape_t shape{5, 4, 6, 5};
    tensor X = random_tt(shape, {3, 4, 3}, 4).full();
    const tensor N = random_tensor(shape, 5);
    const double s = 0.05 * fro(X) / fro(N);
    for (index_t i = 0; i < X.size(); ++i) X.data()[i] += s * N.data()[i];
    const double xn = fro(X);
    index_t prev_storage = std::numeric_limits<index_t>::max();
    for (double tol : {0.01, 0.05, 0.1, 0.3, 0.6}) {
        const auto res = tt_svd(X, {.tol = tol, .check_error = true});
        const double err = diff_norm(X, res.tt.full());
        EXPECT_LE(err, tol * xn * (1 + 1e-10)) << "tol " << tol;
        EXPECT_NEAR(res.rel_error, err / xn, 1e-12);
        // The bound is the exact discarded energy for TT-SVD.
        EXPECT_NEAR(res.rel_error_bound, err / xn, 1e-8) << "tol " << tol;
        EXPECT_LE(res.tt.storage_size(), prev_storage);
        prev_storage = res.tt.storage_size();
    }
}

TEST(TtSvd, CoresAreLeftOrthonormalOnWideAndTallUnfoldings) {
    // 3 x 2000 first unfolding (wide: QR of its transpose), then 150 x 40 (tall).
    const tensor X = random_tensor({3, 50, 40}, 9);
    for (const tt_options& o : {tt_options{.check_error = true}, tt_options{.max_ranks = {2, 7}, .check_error = true}}) {
        const auto res = tt_svd(X, o);
        for (int k = 0; k + 1 < res.tt.order(); ++k) {
            const auto& G = res.tt.core(k);
            const index_t rows = G.dim(0) * G.dim(1), r = G.dim(2);
            for (index_t a = 0; a < r; ++a)
                for (index_t b = 0; b < r; ++b) {
                    double dot = 0;
                    for (index_t i = 0; i < rows; ++i) dot += G.data()[i * r + a] * G.data()[i * r + b];
                    ASSERT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-12) << "core " << k << " columns " << a << "," << b;
                }
        }
        const double err = diff_norm(X, res.tt.full()) / fro(X);
        EXPECT_NEAR(res.rel_error_bound, err, 1e-10);
        if (o.max_ranks.empty()) EXPECT_LE(err, 1e-13);
    }
}

TEST(TtSvd, BrainEpiVolume) {
    const std::string path = std::string(FACTO_SHARED_DATA) + "/brain-epi-example4d/example4d_int16.npy";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent: " << path;
    const tensor X = read_npy<double>(path);  // 2 x 24 x 96 x 128
    for (double tol : {0.3, 0.1}) {
        const auto res = tt_svd(X, {.tol = tol, .check_error = true});
        EXPECT_LE(res.rel_error, tol);
        EXPECT_LE(res.rel_error_bound, tol);
        EXPECT_NEAR(res.rel_error, res.rel_error_bound, 1e-8);  // the bound is the exact error of TT-SVD
        EXPECT_GT(res.tt.compression_ratio(), 1.0);
    }
}

TEST(TtSvd, FullRanksReproduceTheInput) {
    const tensor X = random_tensor({3, 4, 5, 2}, 6);
    const auto res = tt_svd(X);
    // Full TT ranks: min of the left and right unfolding sizes.
    EXPECT_EQ(res.tt.ranks(), (std::vector<index_t>{1, 3, 10, 2, 1}));
    EXPECT_LE(diff_norm(X, res.tt.full()), 100 * eps * static_cast<double>(X.size()) * fro(X));
    // Unit modes, first and in the middle.
    const tensor Y = random_tensor({1, 4, 1, 3}, 16);
    const auto r2 = tt_svd(Y);
    EXPECT_EQ(r2.tt.ranks(), (std::vector<index_t>{1, 1, 3, 3, 1}));
    EXPECT_LE(diff_norm(Y, r2.tt.full()), 100 * eps * static_cast<double>(Y.size()) * fro(Y));
    const auto r3 = tt_round(r2.tt, {.tol = 1e-12, .check_error = true});
    EXPECT_EQ(r3.tt.ranks(), r2.tt.ranks());
    EXPECT_LE(r3.rel_error, 1000 * eps);
}

TEST(TtSvd, MaxRanksCapRanks) {
    const tensor X = random_tensor({4, 4, 4, 4}, 7);
    const auto res = tt_svd(X, {.max_ranks = {2}, .check_error = true});
    EXPECT_EQ(res.tt.ranks(), (std::vector<index_t>{1, 2, 2, 2, 1}));
    EXPECT_NEAR(res.rel_error, res.rel_error_bound, 1e-10);
    const auto res2 = tt_svd(X, {.max_ranks = {3, 1, 2}});
    EXPECT_EQ(res2.tt.ranks(), (std::vector<index_t>{1, 3, 1, 2, 1}));
}

TEST(TtSvd, ZeroTensorAndLooseTolGiveRankOne) {
    const auto zero = tt_svd(tensor(shape_t{3, 4, 2}), {.check_error = true});
    EXPECT_EQ(zero.tt.ranks(), (std::vector<index_t>{1, 1, 1, 1}));
    EXPECT_EQ(zero.rel_error_bound, 0.0);
    EXPECT_EQ(zero.tt.norm(), 0.0);
    const tensor X = random_tensor({3, 4, 2}, 14);
    const auto loose = tt_svd(X, {.tol = 2.0});
    EXPECT_EQ(loose.tt.ranks(), (std::vector<index_t>{1, 1, 1, 1}));
    EXPECT_LT(loose.rel_error_bound, 1.0);
    // Order one: nothing to truncate.
    const auto vec = tt_svd(tensor(shape_t{5}, std::vector<double>{1, 2, 3, 4, 5}), {.tol = 0.5});
    EXPECT_EQ(vec.tt.ranks(), (std::vector<index_t>{1, 1}));
    EXPECT_DOUBLE_EQ(vec.tt(shape_t{3}), 4.0);
}

TEST(TtSvd, FloatWorks) {
    const auto ttd = random_tt<float>({4, 3, 5}, {2, 3}, 8);
    const auto res = tt_svd(ttd.full(), {.tol = 1e-4, .check_error = true});
    EXPECT_EQ(res.tt.ranks(), (std::vector<index_t>{1, 2, 3, 1}));
    EXPECT_LE(res.rel_error, 100 * std::numeric_limits<float>::epsilon() * 60);
}

TEST(TtSvd, BadArgumentsThrow) {
    const tensor X = random_tensor({3, 3, 3}, 9);
    EXPECT_THROW((void)tt_svd(X, {.tol = -1}), invalid_argument);
    EXPECT_THROW((void)tt_svd(X, {.tol = std::nan("")}), invalid_argument);
    EXPECT_THROW((void)tt_svd(X, {.max_ranks = {0}}), invalid_argument);
    EXPECT_THROW((void)tt_svd(X, {.max_ranks = {1, 2, 3}}), invalid_argument);
    EXPECT_THROW((void)tt_svd(tensor(shape_t{3, 0, 2})), invalid_argument);
    tensor Y = X;
    Y.data()[4] = std::numeric_limits<double>::infinity();
    EXPECT_THROW((void)tt_svd(Y), invalid_argument);
    try {
        (void)tt_svd(X, {.max_ranks = {1, 2, 3}});
    } catch (const invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("tt_svd: max_ranks"), std::string::npos) << e.what();
    }
}

TEST(TtRound, SumWithItselfRecoversMinimalRanks) {
    const shape_t shape{4, 5, 3, 4};
    const auto a = random_tt(shape, {3, 4, 2}, 10);
    const auto doubled = tt_sum(a, a);
    EXPECT_EQ(doubled.ranks(), (std::vector<index_t>{1, 6, 8, 4, 1}));
    const auto res = tt_round(doubled, {.tol = 1e-10, .check_error = true});
    EXPECT_EQ(res.tt.ranks(), (std::vector<index_t>{1, 3, 4, 2, 1}));
    tensor twice = a.full();
    for (index_t i = 0; i < twice.size(); ++i) twice.data()[i] *= 2;
    EXPECT_LE(diff_norm(twice, res.tt.full()), 1000 * eps * fro(twice));
    EXPECT_NEAR(res.tt.norm(), 2 * a.norm(), 100 * eps * a.norm());
    EXPECT_LE(res.rel_error, 1000 * eps);
}

TEST(TtRound, SumOfDifferentTrainsAndTruncation) {
    const shape_t shape{3, 4, 5, 3};
    const auto a = random_tt(shape, {2, 3, 2}, 11), b = random_tt(shape, {2, 2, 3}, 12);
    const auto s = tt_sum(a, b);
    const tensor ref = s.full();
    const auto exact = tt_round(s, {.tol = 1e-12});
    EXPECT_LE(diff_norm(ref, exact.tt.full()), 1000 * eps * fro(ref));
    // Exact ranks of a + b: those of tt_svd of the dense sum.
    EXPECT_EQ(exact.tt.ranks(), tt_svd(ref, {.tol = 1e-12}).tt.ranks());
    for (double tol : {0.05, 0.2, 0.5}) {
        const auto res = tt_round(s, {.tol = tol, .check_error = true});
        EXPECT_LE(res.rel_error, tol * (1 + 1e-10)) << "tol " << tol;
        EXPECT_NEAR(res.rel_error, res.rel_error_bound, 1e-8) << "tol " << tol;
    }
    const auto capped = tt_round(s, {.max_ranks = {1}});
    EXPECT_EQ(capped.tt.ranks(), (std::vector<index_t>{1, 1, 1, 1, 1}));
}

TEST(TtRound, FloatRoundsAScaledCopy) {
    // 3a as a TT of doubled ranks: core 0 of the sum holds [a_0, 2 a_0], the rest block-diagonal.
    const auto a = random_tt<float>({3, 4, 3}, {2, 3}, 15);
    std::vector<tensor_f> cores;
    for (int k = 0; k < 3; ++k) {
        const auto& A = a.core(k);
        const index_t r0 = k == 0 ? 1 : 2 * A.dim(0), r1 = k == 2 ? 1 : 2 * A.dim(2);
        tensor_f G(shape_t{r0, A.dim(1), r1});
        for (int copy = 0; copy < 2; ++copy)
            for (index_t x = 0; x < A.dim(0); ++x)
                for (index_t i = 0; i < A.dim(1); ++i)
                    for (index_t y = 0; y < A.dim(2); ++y)
                        G(k == 0 ? x : copy * A.dim(0) + x, i, k == 2 ? y : copy * A.dim(2) + y) =
                            (k == 0 && copy == 1 ? 2.0f : 1.0f) * A(x, i, y);
        cores.push_back(std::move(G));
    }
    const tt_tensor_f triple(std::move(cores));
    const auto res = tt_round(triple, {.tol = 1e-4, .check_error = true});
    EXPECT_EQ(res.tt.ranks(), (std::vector<index_t>{1, 2, 3, 1}));
    EXPECT_LE(res.rel_error, 100 * std::numeric_limits<float>::epsilon() * 36);
    EXPECT_NEAR(res.tt.norm(), 3 * a.norm(), 1e-4 * a.norm());
}

TEST(TtRound, BadArgumentsThrow) {
    EXPECT_THROW((void)tt_round(tt_tensor{}), invalid_argument);
    const auto a = random_tt({3, 3}, {2}, 13);
    EXPECT_THROW((void)tt_round(a, {.tol = -0.5}), invalid_argument);
    EXPECT_THROW((void)tt_round(a, {.max_ranks = {2, 2}}), invalid_argument);
    std::vector<tensor> cores = a.cores();
    cores[1].data()[0] = std::numeric_limits<double>::quiet_NaN();
    EXPECT_THROW((void)tt_round(tt_tensor(std::move(cores))), invalid_argument);
}

}  // namespace
}  // namespace facto
