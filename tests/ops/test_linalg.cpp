// test_linalg.cpp: Gram, Hadamard, Khatri-Rao, matmul, SPD solves and eigenvectors against naive code.
#include "facto/ops/linalg.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace facto {
namespace {

template <class T>
basic_matrix<T> random_matrix(index_t r, index_t c, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g;
    basic_matrix<T> A(r, c);
    for (auto& v : A.values()) v = static_cast<T>(g(rng));
    return A;
}

template <class T>
basic_matrix<T> naive_mul(const basic_matrix<T>& A, const basic_matrix<T>& B) {
    basic_matrix<T> C(A.rows(), B.cols());
    for (index_t i = 0; i < A.rows(); ++i)
        for (index_t j = 0; j < B.cols(); ++j) {
            double s = 0;
            for (index_t k = 0; k < A.cols(); ++k) s += static_cast<double>(A(i, k)) * B(k, j);
            C(i, j) = static_cast<T>(s);
        }
    return C;
}

template <class T>
basic_matrix<T> transpose(const basic_matrix<T>& A) {
    basic_matrix<T> B(A.cols(), A.rows());
    for (index_t i = 0; i < A.rows(); ++i)
        for (index_t j = 0; j < A.cols(); ++j) B(j, i) = A(i, j);
    return B;
}

template <class T>
void expect_close(const basic_matrix<T>& A, const basic_matrix<T>& B, double tol) {
    ASSERT_EQ(A.rows(), B.rows());
    ASSERT_EQ(A.cols(), B.cols());
    for (index_t i = 0; i < A.rows(); ++i)
        for (index_t j = 0; j < A.cols(); ++j) ASSERT_NEAR(A(i, j), B(i, j), tol) << i << "," << j;
}

template <class T>
class Linalg : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Linalg, Types);

}  // namespace

TYPED_TEST(Linalg, GramMatchesNaive) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    for (index_t rows : {0, 1, 7, 33})
        for (index_t cols : {1, 5, 16}) {
            const auto A = random_matrix<T>(rows, cols, 1);
            const auto G = gram(A);
            expect_close(G, naive_mul(transpose(A), A), 100 * (rows + 1) * eps);
            for (index_t i = 0; i < cols; ++i)
                for (index_t j = 0; j < cols; ++j) EXPECT_EQ(G(i, j), G(j, i));
        }
}

TYPED_TEST(Linalg, Hadamard) {
    using T = TypeParam;
    auto A = random_matrix<T>(4, 3, 2);
    const auto B = random_matrix<T>(4, 3, 3);
    const auto A0 = A;
    hadamard_inplace(A, B);
    for (index_t i = 0; i < A.size(); ++i) EXPECT_EQ(A.data()[i], A0.data()[i] * B.data()[i]);
    basic_matrix<T> C(3, 4);
    EXPECT_THROW(hadamard_inplace(A, C), invalid_argument);
}

TYPED_TEST(Linalg, KhatriRaoRowOrder) {
    using T = TypeParam;
    const std::vector<basic_matrix<T>> mats = {random_matrix<T>(3, 4, 4), random_matrix<T>(1, 4, 5),
                                               random_matrix<T>(5, 4, 6)};
    const auto K = khatri_rao(std::span<const basic_matrix<T>>(mats));
    ASSERT_EQ(K.rows(), 15);
    ASSERT_EQ(K.cols(), 4);
    for (index_t i = 0; i < 3; ++i)
        for (index_t k = 0; k < 5; ++k)
            for (index_t r = 0; r < 4; ++r)
                EXPECT_EQ(K(i * 5 + k, r), mats[0](i, r) * mats[1](0, r) * mats[2](k, r));
    const std::vector<basic_matrix<T>> bad = {random_matrix<T>(3, 4, 7), random_matrix<T>(3, 5, 8)};
    EXPECT_THROW(khatri_rao(std::span<const basic_matrix<T>>(bad)), invalid_argument);
    EXPECT_THROW(khatri_rao(std::span<const basic_matrix<T>>()), invalid_argument);
}

TYPED_TEST(Linalg, MatmulAllTransposes) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const auto A = random_matrix<T>(7, 5, 9), B = random_matrix<T>(5, 6, 10);
    const auto C = naive_mul(A, B);
    expect_close(matmul(A, B), C, 100 * 5 * eps);
    expect_close(matmul(transpose(A), B, true, false), C, 100 * 5 * eps);
    expect_close(matmul(A, transpose(B), false, true), C, 100 * 5 * eps);
    expect_close(matmul(transpose(A), transpose(B), true, true), C, 100 * 5 * eps);
    EXPECT_THROW(matmul(A, A), invalid_argument);
    const auto Z = matmul(basic_matrix<T>(3, 0), basic_matrix<T>(0, 2));
    EXPECT_EQ(Z, basic_matrix<T>(3, 2));
}

TYPED_TEST(Linalg, SolveSpdCholesky) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const index_t r = 6;
    auto A = random_matrix<T>(20, r, 11);
    const auto G = gram(A);
    const auto X = random_matrix<T>(9, r, 12);
    auto B = naive_mul(X, G);
    EXPECT_FALSE(solve_spd_right(G, B));
    expect_close(B, X, 1e4 * r * eps);
}

TYPED_TEST(Linalg, SolveFallsBackOnSingularG) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    // G = A^T A with A of rank 2 in 4 columns: singular. B in the row space of G, so the
    // pseudo-inverse solution X satisfies X G = B exactly and is the minimum-norm one.
    const index_t r = 4;
    const auto U = random_matrix<T>(10, 2, 13), W = random_matrix<T>(2, r, 14);
    const auto A = naive_mul(U, W);
    const auto G = gram(A);
    const auto Y = random_matrix<T>(3, r, 15);
    const auto B0 = naive_mul(Y, G);
    auto B = B0;
    EXPECT_TRUE(solve_spd_right(G, B));
    for (index_t i = 0; i < B.size(); ++i) ASSERT_TRUE(std::isfinite(static_cast<double>(B.data()[i])));
    double scale = 0;
    for (auto v : B0.values()) scale = std::max(scale, std::abs(static_cast<double>(v)));
    expect_close(naive_mul(B, G), B0, 1e3 * r * eps * scale);
    // G = 0: every eigenvalue is dropped and the pseudo-inverse is 0.
    basic_matrix<T> zero(r, r);
    auto Z = random_matrix<T>(2, r, 16);
    EXPECT_TRUE(solve_spd_right(zero, Z));
    EXPECT_EQ(Z, basic_matrix<T>(2, r));
}

TYPED_TEST(Linalg, SolveChecksShapes) {
    using T = TypeParam;
    basic_matrix<T> G(3, 3), B(2, 4);
    EXPECT_THROW(solve_spd_right(G, B), invalid_argument);
    basic_matrix<T> H(3, 2), C(2, 3);
    EXPECT_THROW(solve_spd_right(H, C), invalid_argument);
}

TYPED_TEST(Linalg, LeadingEigenvectors) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const index_t n = 8;
    const auto A = random_matrix<T>(30, n, 16);
    const auto S = gram(A);
    std::vector<T> vals;
    const auto U = leading_eigenvectors(S, 3, &vals);
    ASSERT_EQ(U.rows(), n);
    ASSERT_EQ(U.cols(), 3);
    EXPECT_GE(vals[0], vals[1]);
    EXPECT_GE(vals[1], vals[2]);
    const auto SU = naive_mul(S, U);
    for (index_t j = 0; j < 3; ++j)
        for (index_t i = 0; i < n; ++i) EXPECT_NEAR(SU(i, j), vals[static_cast<std::size_t>(j)] * U(i, j), 1e3 * n * eps * vals[0]);
    // The largest is the maximum of the Rayleigh quotient: compare with all eigenvalues.
    std::vector<T> all;
    leading_eigenvectors(S, n, &all);
    EXPECT_NEAR(all[0], vals[0], 1e3 * eps * vals[0]);
    EXPECT_THROW(leading_eigenvectors(S, n + 1), invalid_argument);
}

TYPED_TEST(Linalg, SpmmMatchesDenseProduct) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    std::mt19937_64 rng(17);
    for (index_t rows : {0, 1, 9, 300}) {
        const index_t cols = 23, l = 5;
        basic_coo_tensor<T> A(shape_t{rows, cols});
        basic_matrix<T> D(rows, cols);
        for (index_t i = 0; i < rows; ++i)
            for (index_t j = 0; j < cols; ++j)
                if (rng() % 4 == 0) {
                    const T v = static_cast<T>(static_cast<double>(rng() % 1000) / 100.0 - 5);
                    const index_t c[2] = {i, j};
                    A.push_back(c, v);
                    D(i, j) = v;
                }
        const auto X = random_matrix<T>(cols, l, 18);
        const auto Y = spmm(to_csr(A), X);
        expect_close(Y, naive_mul(D, X), 50 * cols * eps);
        const auto Z = spmm(to_csr(A, true), random_matrix<T>(rows, l, 19));
        expect_close(Z, naive_mul(transpose(D), random_matrix<T>(rows, l, 19)), 50 * (rows + 1) * eps);
    }
    EXPECT_THROW(spmm(basic_csr_matrix<T>{}, random_matrix<T>(3, 2, 1)), invalid_argument);
}

}  // namespace facto
