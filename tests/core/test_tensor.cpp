// test_tensor.cpp: dense tensors: views, unfold/fold, norm, tensor_cast.
#include "facto/core/tensor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "facto/core/kruskal.hpp"

namespace facto {
namespace {

template <class T>
basic_tensor<T> random_tensor(const shape_t& s, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    basic_tensor<T> X(s);
    for (auto& v : X.values()) v = static_cast<T>(u(rng));
    return X;
}

// Coordinates of linear index e in shape s (row-major).
std::vector<index_t> coord_of(index_t e, const shape_t& s) {
    std::vector<index_t> c(s.size());
    for (std::size_t m = s.size(); m-- > 0;) {
        c[m] = e % s[m];
        e /= s[m];
    }
    return c;
}

const std::vector<shape_t> shapes = {{5}, {3, 4}, {1, 7}, {2, 3, 4}, {3, 1, 5}, {2, 3, 1, 4}, {2, 2, 3, 2, 3}};

}  // namespace

TEST(Tensor, StridesAndOffsets) {
    EXPECT_EQ(row_major_strides({2, 3, 4}), (shape_t{12, 4, 1}));
    tensor X({2, 3, 4});
    X(1, 2, 3) = 9;
    EXPECT_EQ(X.data()[23], 9);
    EXPECT_THROW(X(2, 0, 0), out_of_range);
    EXPECT_THROW(X(0, 0), out_of_range);
    EXPECT_THROW(tensor(shape_t{}), invalid_argument);
    EXPECT_THROW(tensor({2, 2}, std::vector<double>(3)), invalid_argument);
}

TEST(Tensor, ReshapeForOverwriteReusesStorage) {
    tensor X({4, 5, 6});
    const double* before = X.data();
    X.reshape_for_overwrite({6, 5, 2});  // smaller: same storage
    EXPECT_EQ(X.shape(), (shape_t{6, 5, 2}));
    EXPECT_EQ(X.size(), 60);
    EXPECT_EQ(X.data(), before);
    X.reshape_for_overwrite({4, 5, 6});  // back within capacity: still no allocation
    EXPECT_EQ(X.data(), before);
    EXPECT_EQ(X.size(), 120);
    EXPECT_THROW(X.reshape_for_overwrite({}), invalid_argument);
    EXPECT_THROW(X.reshape_for_overwrite({2, -1}), invalid_argument);
}

TEST(Tensor, UnfoldMatchesDefinition) {
    for (const auto& s : shapes) {
        const auto X = random_tensor<double>(s, 1);
        for (int n = 0; n < X.order(); ++n) {
            const matrix M = unfold(X.view(), n);
            ASSERT_EQ(M.rows(), s[static_cast<std::size_t>(n)]);
            ASSERT_EQ(M.rows() * M.cols(), X.size());
            for (index_t e = 0; e < X.size(); ++e) {
                const auto c = coord_of(e, s);
                // Column: the other modes in row-major order (last fastest).
                index_t col = 0;
                for (std::size_t m = 0; m < s.size(); ++m)
                    if (static_cast<int>(m) != n) col = col * s[m] + c[m];
                ASSERT_EQ(M(c[static_cast<std::size_t>(n)], col), X.data()[e]) << shape_string(s) << " mode " << n;
            }
        }
    }
}

TEST(Tensor, UnfoldZeroIsSameMemory) {
    const auto X = random_tensor<float>({3, 4, 5}, 2);
    const matrix_f M = unfold(X.view(), 0);
    EXPECT_EQ(M.values(), X.values());
}

TEST(Tensor, FoldInvertsUnfold) {
    for (const auto& s : shapes) {
        const auto X = random_tensor<float>(s, 3);
        for (int n = 0; n < X.order(); ++n) EXPECT_EQ(fold(unfold(X.view(), n), n, s), X);
    }
}

TEST(Tensor, UnfoldFoldErrors) {
    tensor X({2, 3});
    EXPECT_THROW(unfold(X.view(), 2), invalid_argument);
    EXPECT_THROW(unfold(X.view(), -1), invalid_argument);
    EXPECT_THROW(fold(matrix(3, 3), 1, {2, 3}), invalid_argument);
}

// X_(n) = A_n diag(w) KR(other factors in mode order)^T for a Kruskal tensor.
TEST(Tensor, UnfoldKhatriRaoIdentity) {
    std::mt19937_64 rng(4);
    std::normal_distribution<double> g;
    const shape_t s{3, 4, 2, 5};
    const index_t R = 3;
    kruskal_tensor K;
    for (index_t r = 0; r < R; ++r) K.weights.push_back(1.0 + static_cast<double>(r));
    for (auto d : s) {
        matrix A(d, R);
        for (auto& v : A.values()) v = g(rng);
        K.factors.push_back(A);
    }
    const tensor X = K.full();
    for (int n = 0; n < 4; ++n) {
        const matrix M = unfold(X.view(), n);
        // Rows of the Khatri-Rao product of the other factors, last other mode fastest.
        shape_t other;
        std::vector<int> modes;
        for (int m = 0; m < 4; ++m)
            if (m != n) {
                other.push_back(s[static_cast<std::size_t>(m)]);
                modes.push_back(m);
            }
        for (index_t col = 0; col < M.cols(); ++col) {
            const auto c = coord_of(col, other);
            for (index_t i = 0; i < M.rows(); ++i) {
                double v = 0;
                for (index_t r = 0; r < R; ++r) {
                    double p = K.weights[static_cast<std::size_t>(r)] * K.factors[static_cast<std::size_t>(n)](i, r);
                    for (std::size_t k = 0; k < modes.size(); ++k) p *= K.factors[static_cast<std::size_t>(modes[k])](c[k], r);
                    v += p;
                }
                ASSERT_NEAR(M(i, col), v, 1e-13 * 50);
            }
        }
    }
}

TEST(Tensor, NormAgreesWithNaive) {
    const auto X = random_tensor<double>({7, 11, 13}, 5);
    double s = 0;
    for (double v : X.values()) s += v * v;
    EXPECT_NEAR(norm(X.view()), std::sqrt(s), 10 * X.size() * std::numeric_limits<double>::epsilon());
    const auto Xf = random_tensor<float>({300, 300}, 6);
    double sf = 0;
    for (float v : Xf.values()) sf += static_cast<double>(v) * v;
    EXPECT_NEAR(norm(Xf.view()), std::sqrt(sf), 1e-12 * std::sqrt(sf));
    EXPECT_EQ(norm(tensor({3, 0}).view()), 0.0);
}

TEST(Tensor, NormDoesNotOverflowOrUnderflow) {
    tensor big({4}, 1e300);
    EXPECT_NEAR(norm(big.view()) / 2e300, 1.0, 1e-15);
    tensor tiny({4}, 1e-310);  // subnormal
    EXPECT_NEAR(norm(tiny.view()) / 2e-310, 1.0, 1e-6);
    tensor_f bigf({16}, 3e38f);
    EXPECT_NEAR(norm(bigf.view()) / (4 * 3e38), 1.0, 1e-6);
}

TEST(Tensor, NormIsDeterministicAcrossCalls) {
    const auto X = random_tensor<double>({100, 100, 30}, 7);
    EXPECT_EQ(norm(X.view()), norm(X.view()));
}

TEST(Tensor, Cast) {
    const auto X = random_tensor<double>({3, 4}, 8);
    const tensor_f Y = tensor_cast<float, double>(X.view());
    EXPECT_EQ(Y.shape(), X.shape());
    for (index_t i = 0; i < X.size(); ++i) EXPECT_EQ(Y.data()[i], static_cast<float>(X.data()[i]));
}

}  // namespace facto
