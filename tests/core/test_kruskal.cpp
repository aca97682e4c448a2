// test_kruskal.cpp: the CP model: shape, normalize, arrange, full, entries, factor match score.
#include "facto/core/kruskal.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace facto {
namespace {

template <class T>
basic_kruskal_tensor<T> random_model(const shape_t& s, index_t R, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g;
    basic_kruskal_tensor<T> K;
    for (index_t r = 0; r < R; ++r) K.weights.push_back(static_cast<T>(1 + r));
    for (auto d : s) {
        basic_matrix<T> A(d, R);
        for (auto& v : A.values()) v = static_cast<T>(g(rng));
        K.factors.push_back(A);
    }
    return K;
}

}  // namespace

TEST(Kruskal, ShapeAndValidate) {
    auto K = random_model<double>({3, 4, 5}, 2, 1);
    EXPECT_EQ(K.shape(), (shape_t{3, 4, 5}));
    EXPECT_EQ(K.order(), 3);
    EXPECT_EQ(K.rank(), 2);
    K.validate("t");
    K.factors[1] = matrix(4, 3);
    EXPECT_THROW(K.validate("t"), invalid_argument);
    EXPECT_THROW(kruskal_tensor().validate("t"), invalid_argument);
}

TEST(Kruskal, FullMatchesEntries) {
    const auto K = random_model<double>({3, 1, 4, 2}, 3, 2);
    const tensor X = K.full();
    for (index_t i = 0; i < 3; ++i)
        for (index_t k = 0; k < 4; ++k)
            for (index_t l = 0; l < 2; ++l) {
                double v = 0;
                for (index_t r = 0; r < 3; ++r)
                    v += K.weights[static_cast<std::size_t>(r)] * K.factors[0](i, r) * K.factors[1](0, r) *
                         K.factors[2](k, r) * K.factors[3](l, r);
                const index_t c[] = {i, 0, k, l};
                EXPECT_NEAR(X(i, 0, k, l), v, 1e-14 * 20);
                EXPECT_NEAR(K(c), v, 1e-14 * 20);
            }
    const index_t bad[] = {3, 0, 0, 0};
    EXPECT_THROW(K(bad), out_of_range);
}

TEST(Kruskal, NormalizeKeepsTheTensor) {
    auto K = random_model<double>({4, 5, 6}, 3, 3);
    const tensor before = K.full();
    K.normalize();
    for (const auto& A : K.factors)
        for (index_t r = 0; r < 3; ++r) {
            double s = 0;
            for (index_t i = 0; i < A.rows(); ++i) s += A(i, r) * A(i, r);
            EXPECT_NEAR(s, 1.0, 1e-14);
        }
    const tensor after = K.full();
    for (index_t e = 0; e < before.size(); ++e) EXPECT_NEAR(after.data()[e], before.data()[e], 1e-12);
}

TEST(Kruskal, ArrangeSortsAndFlips) {
    auto K = random_model<float>({4, 5}, 3, 4);
    K.weights = {1.0f, -3.0f, 2.0f};
    const tensor_f before = K.full();
    K.arrange();
    EXPECT_EQ(K.weights, (std::vector<float>{3.0f, 2.0f, 1.0f}));
    const tensor_f after = K.full();
    for (index_t e = 0; e < before.size(); ++e) EXPECT_NEAR(after.data()[e], before.data()[e], 1e-5f);
}

TEST(Kruskal, FactorMatchScore) {
    const auto K = random_model<double>({10, 8, 6}, 4, 5);
    EXPECT_NEAR(factor_match_score(K, K), 1.0, 1e-12);
    // Permuted, rescaled, sign-flipped copy: the same model.
    kruskal_tensor P = K;
    const index_t perm[] = {2, 0, 3, 1};
    for (index_t r = 0; r < 4; ++r) {
        P.weights[static_cast<std::size_t>(r)] = K.weights[static_cast<std::size_t>(perm[r])];
        for (int n = 0; n < 3; ++n)
            for (index_t i = 0; i < K.factors[static_cast<std::size_t>(n)].rows(); ++i)
                P.factors[static_cast<std::size_t>(n)](i, r) =
                    (n == 0 ? -2.0 : n == 1 ? -0.5 : 1.0) * K.factors[static_cast<std::size_t>(n)](i, perm[r]);
    }
    EXPECT_NEAR(factor_match_score(P, K), 1.0, 1e-12);
    const auto other = random_model<double>({10, 8, 6}, 4, 6);
    const double s = factor_match_score(other, K);
    EXPECT_LT(s, 0.5);
    EXPECT_GE(s, 0.0);
    // Weight penalty: the same directions, different weights.
    kruskal_tensor W = K;
    for (auto& w : W.weights) w *= 2;
    EXPECT_NEAR(factor_match_score(W, K, true), 0.5, 1e-12);
    EXPECT_NEAR(factor_match_score(W, K, false), 1.0, 1e-12);
    // A model with an extra component still matches every true one; one with fewer does not.
    const auto big = random_model<double>({10, 8, 6}, 5, 7);
    kruskal_tensor E = K;
    E.weights.push_back(big.weights[4]);
    for (int n = 0; n < 3; ++n) {
        matrix A(K.factors[static_cast<std::size_t>(n)].rows(), 5);
        for (index_t i = 0; i < A.rows(); ++i)
            for (index_t r = 0; r < 5; ++r)
                A(i, r) = r < 4 ? K.factors[static_cast<std::size_t>(n)](i, r) : big.factors[static_cast<std::size_t>(n)](i, 4);
        E.factors[static_cast<std::size_t>(n)] = A;
    }
    EXPECT_NEAR(factor_match_score(E, K), 1.0, 1e-12);
    EXPECT_NEAR(factor_match_score(K, E), 0.8 * 1.0 + 0.2 * 0.0, 0.2);
    EXPECT_LT(factor_match_score(K, E), 1.0);
    EXPECT_THROW(factor_match_score(random_model<double>({10, 8, 7}, 4, 8), K), invalid_argument);
}

TEST(Kruskal, FactorMatchScoreIsOptimalNotGreedy) {
    // Unit model columns whose cosines with the true e1, e2 are [[0.9, 0.8], [0.43, 0.1]]
    // (truth by model): best-pair-first takes 0.9 + 0.1, the optimal matching 0.8 + 0.43.
    kruskal_tensor T, M;
    T.weights = {1, 1};
    M.weights = {1, 1};
    matrix At(4, 2), Am(4, 2);
    At(0, 0) = 1;
    At(1, 1) = 1;
    Am(0, 0) = 0.9;
    Am(1, 0) = 0.43;
    Am(2, 0) = std::sqrt(1 - 0.81 - 0.43 * 0.43);
    Am(0, 1) = 0.8;
    Am(1, 1) = 0.1;
    Am(3, 1) = std::sqrt(1 - 0.64 - 0.01);
    T.factors = {At, matrix(1, 2, 1.0)};
    M.factors = {Am, matrix(1, 2, 1.0)};
    EXPECT_NEAR(factor_match_score(M, T, false), (0.8 + 0.43) / 2, 1e-12);
}

}  // namespace facto
