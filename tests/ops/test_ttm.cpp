// test_ttm.cpp: mode-n products against a naive loop nest, every mode, both precisions.
#include "facto/ops/ttm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace facto {
namespace {

template <class T>
basic_tensor<T> random_tensor(const shape_t& shape, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g;
    basic_tensor<T> X(shape);
    for (auto& v : X.values()) v = static_cast<T>(g(rng));
    return X;
}

template <class T>
basic_matrix<T> random_matrix(index_t r, index_t c, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g;
    basic_matrix<T> A(r, c);
    for (auto& v : A.values()) v = static_cast<T>(g(rng));
    return A;
}

// Y(i_0..j..i_{N-1}) = sum_i op(U)(j, i) X(i_0..i..i_{N-1}), by explicit coordinates.
template <class T>
basic_tensor<T> naive_ttm(const basic_tensor<T>& X, const basic_matrix<T>& U, int mode, bool transpose) {
    const index_t J = transpose ? U.cols() : U.rows();
    shape_t ys = X.shape();
    ys[static_cast<std::size_t>(mode)] = J;
    basic_tensor<T> Y(ys);
    std::vector<index_t> c(ys.size(), 0);
    for (index_t lin = 0; lin < Y.size(); ++lin) {
        index_t rem = lin;
        for (int m = static_cast<int>(ys.size()) - 1; m >= 0; --m) {
            c[static_cast<std::size_t>(m)] = rem % ys[static_cast<std::size_t>(m)];
            rem /= ys[static_cast<std::size_t>(m)];
        }
        const index_t j = c[static_cast<std::size_t>(mode)];
        double s = 0;
        std::vector<index_t> xc = c;
        for (index_t i = 0; i < X.dim(mode); ++i) {
            xc[static_cast<std::size_t>(mode)] = i;
            const double u = transpose ? U(i, j) : U(j, i);
            s += u * static_cast<double>(X[xc]);
        }
        Y.values()[static_cast<std::size_t>(lin)] = static_cast<T>(s);
    }
    return Y;
}

template <class T>
class Ttm : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Ttm, Types);

}  // namespace

TYPED_TEST(Ttm, MatchesNaiveEveryModeBothOrientations) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const std::vector<shape_t> shapes = {{7}, {5, 3}, {4, 1, 6}, {3, 5, 2, 4}, {1, 9, 1}};
    unsigned seed = 1;
    for (const auto& shape : shapes) {
        const auto X = random_tensor<T>(shape, seed++);
        for (int mode = 0; mode < static_cast<int>(shape.size()); ++mode) {
            const index_t I = shape[static_cast<std::size_t>(mode)];
            for (index_t J : {index_t{1}, index_t{3}, I + 2}) {
                for (bool tr : {false, true}) {
                    const auto U = tr ? random_matrix<T>(I, J, seed++) : random_matrix<T>(J, I, seed++);
                    const auto Y = ttm<T>(X.view(), U, mode, tr);
                    const auto Yr = naive_ttm(X, U, mode, tr);
                    ASSERT_EQ(Y.shape(), Yr.shape());
                    // Entries are sums of I products of N(0,1) values: error ~ I * eps * sqrt(I).
                    const double tol = 10.0 * static_cast<double>(I + 1) * eps * std::sqrt(static_cast<double>(I + 1));
                    for (index_t k = 0; k < Y.size(); ++k)
                        ASSERT_NEAR(Y.values()[static_cast<std::size_t>(k)], Yr.values()[static_cast<std::size_t>(k)],
                                    tol)
                            << "shape " << shape_string(shape) << " mode " << mode << " J " << J << " tr " << tr;
                }
            }
        }
    }
}

TYPED_TEST(Ttm, LargerTensorMatchesNaive) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    // Blocks of tens of thousands of entries, thin and wide outputs, every mode.
    const auto X = random_tensor<T>({48, 40, 36}, 4);
    unsigned seed = 50;
    for (int mode = 0; mode < 3; ++mode) {
        const index_t I = X.dim(mode);
        for (index_t J : {index_t{1}, index_t{10}, index_t{33}}) {
            for (bool tr : {false, true}) {
                const auto U = tr ? random_matrix<T>(I, J, seed++) : random_matrix<T>(J, I, seed++);
                const auto Y = ttm<T>(X.view(), U, mode, tr);
                const auto Yr = naive_ttm(X, U, mode, tr);
                const double tol = 10.0 * static_cast<double>(I) * eps * std::sqrt(static_cast<double>(I));
                for (index_t k = 0; k < Y.size(); ++k)
                    ASSERT_NEAR(Y.values()[static_cast<std::size_t>(k)], Yr.values()[static_cast<std::size_t>(k)], tol)
                        << "mode " << mode << " J " << J << " tr " << tr;
            }
        }
    }
}

TYPED_TEST(Ttm, MiddleModeBlockPathsMatchNaive) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    // Middle-mode products take one GEMM per block when blocks are large ({3, 64, 16384}), else
    // gather blocks into chunked GEMMs: one chunk ({400, 40, 10}, the HOOI shape) or several
    // ({600, 8, 1000}: more blocks than one chunk of about 4M entries holds, and a partial last one).
    struct Case {
        shape_t shape;
        index_t J;
    };
    const std::vector<Case> cases = {{{3, 64, 16384}, 1}, {{400, 40, 10}, 3}, {{600, 8, 1000}, 2}};
    unsigned seed = 90;
    for (const auto& c : cases) {
        const auto X = random_tensor<T>(c.shape, seed++);
        const index_t I = X.dim(1);
        for (bool tr : {false, true}) {
            const auto U = tr ? random_matrix<T>(I, c.J, seed++) : random_matrix<T>(c.J, I, seed++);
            const auto Y = ttm<T>(X.view(), U, 1, tr);
            const auto Yr = naive_ttm(X, U, 1, tr);
            ASSERT_EQ(Y.shape(), Yr.shape());
            const double tol = 10.0 * static_cast<double>(I) * eps * std::sqrt(static_cast<double>(I));
            for (index_t k = 0; k < Y.size(); ++k)
                ASSERT_NEAR(Y.values()[static_cast<std::size_t>(k)], Yr.values()[static_cast<std::size_t>(k)], tol)
                    << "shape " << shape_string(c.shape) << " tr " << tr << " at " << k;
        }
    }
}

TYPED_TEST(Ttm, EmptyModesGiveZerosOrEmpty) {
    using T = TypeParam;
    basic_tensor<T> X({3, 0, 2});
    const auto U = random_matrix<T>(4, 0, 9);
    const auto Y = ttm<T>(X.view(), U, 1);
    EXPECT_EQ(Y.shape(), (shape_t{3, 4, 2}));
    for (T v : Y.values()) EXPECT_EQ(v, T(0));
    const auto Z = ttm<T>(X.view(), random_matrix<T>(3, 5, 2), 0, true);
    EXPECT_EQ(Z.shape(), (shape_t{5, 0, 2}));
}

TYPED_TEST(Ttm, IntoReusedTensorOverwritesEveryEntry) {
    using T = TypeParam;
    // One output tensor through every path (last mode, end-mode blocks, chunked middle mode,
    // empty sum) and shapes that shrink and grow: stale values must never leak through.
    basic_tensor<T> Y({7, 7, 7}, std::numeric_limits<T>::quiet_NaN());
    const auto X = random_tensor<T>({400, 40, 10}, 11);
    unsigned seed = 120;
    for (int mode : {2, 0, 1, 1, 0}) {
        const index_t I = X.dim(mode);
        for (index_t J : {index_t{3}, index_t{12}}) {
            const auto U = random_matrix<T>(I, J, seed++);
            ttm<T>(X.view(), U, mode, true, Y);
            EXPECT_EQ(Y.values(), ttm<T>(X.view(), U, mode, true).values()) << "mode " << mode << " J " << J;
            std::fill(Y.values().begin(), Y.values().end(), std::numeric_limits<T>::quiet_NaN());
        }
    }
    basic_tensor<T> E({2, 0, 3});
    ttm<T>(E.view(), random_matrix<T>(4, 0, 3), 1, false, Y);
    EXPECT_EQ(Y.shape(), (shape_t{2, 4, 3}));
    for (T v : Y.values()) EXPECT_EQ(v, T(0));
}

TEST(Ttm, IdentityReproducesInput) {
    const auto X = random_tensor<double>({4, 5, 6}, 3);
    for (int mode = 0; mode < 3; ++mode) {
        basic_matrix<double> I(X.dim(mode), X.dim(mode));
        for (index_t i = 0; i < I.rows(); ++i) I(i, i) = 1;
        EXPECT_EQ(ttm<double>(X.view(), I, mode).values(), X.values());
    }
}

TEST(Ttm, RejectsBadModeAndShape) {
    const auto X = random_tensor<double>({4, 5}, 3);
    const auto U = random_matrix<double>(2, 4, 1);
    EXPECT_THROW((void)ttm<double>(X.view(), U, 2), invalid_argument);
    EXPECT_THROW((void)ttm<double>(X.view(), U, -1), invalid_argument);
    try {
        (void)ttm<double>(X.view(), U, 1);
        FAIL() << "expected invalid_argument";
    } catch (const invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("ttm: matrix U is 2x4"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("has size 5"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)ttm<double>(X.view(), U, 0, true), invalid_argument);
}

}  // namespace facto
