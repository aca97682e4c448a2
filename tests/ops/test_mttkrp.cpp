// test_mttkrp.cpp: dense and sparse MTTKRP against naive oracles; inner products; norms.
#include "facto/ops/mttkrp.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <random>
#include <utility>

#include "facto/ops/linalg.hpp"

namespace facto {
namespace {

template <class T>
std::vector<basic_matrix<T>> random_factors(const shape_t& s, index_t R, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<basic_matrix<T>> F;
    for (auto d : s) {
        basic_matrix<T> A(d, R);
        for (auto& v : A.values()) v = static_cast<T>(u(rng));
        F.push_back(A);
    }
    return F;
}

template <class T>
basic_tensor<T> random_dense(const shape_t& s, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    basic_tensor<T> X(s);
    for (auto& v : X.values()) v = static_cast<T>(u(rng));
    return X;
}

// Random COO with repeated coordinates (every fifth entry repeats an earlier one).
template <class T>
basic_coo_tensor<T> random_sparse(const shape_t& s, index_t nnz, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    basic_coo_tensor<T> X(s);
    std::vector<index_t> c(s.size());
    for (index_t k = 0; k < nnz; ++k) {
        if (k % 5 == 4) {
            const index_t j = static_cast<index_t>(rng() % static_cast<std::uint64_t>(k));
            for (std::size_t m = 0; m < s.size(); ++m) c[m] = X.indices[m][static_cast<std::size_t>(j)];
        } else {
            for (std::size_t m = 0; m < s.size(); ++m) c[m] = static_cast<index_t>(rng() % static_cast<std::uint64_t>(s[m]));
        }
        X.push_back(c, static_cast<T>(u(rng)));
    }
    return X;
}

template <class T>
basic_matrix<T> abs_of(const basic_matrix<T>& A) {
    basic_matrix<T> B = A;
    for (auto& v : B.values()) v = std::abs(v);
    return B;
}
template <class T>
std::vector<basic_matrix<T>> abs_of(const std::vector<basic_matrix<T>>& F) {
    std::vector<basic_matrix<T>> G;
    for (const auto& A : F) G.push_back(abs_of(A));
    return G;
}

// |got - want| <= (terms + order) * eps * (the same MTTKRP on absolute values): the rounding
// error bound of any summation order, so the fast kernels may reorder freely.
template <class T>
void expect_within_bound(const basic_matrix<T>& got, const basic_matrix<T>& want, const basic_matrix<T>& mag,
                         double terms, int order) {
    ASSERT_EQ(got.rows(), want.rows());
    ASSERT_EQ(got.cols(), want.cols());
    const double eps = std::numeric_limits<T>::epsilon();
    for (index_t i = 0; i < got.rows(); ++i)
        for (index_t r = 0; r < got.cols(); ++r)
            ASSERT_NEAR(got(i, r), want(i, r), 2 * (terms + order) * eps * mag(i, r) + 1e-30)
                << "row " << i << " col " << r;
}

template <class T>
class Mttkrp : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Mttkrp, Types);

const std::vector<shape_t> dense_shapes = {{5},          {5, 7},       {1, 6},          {6, 1},
                                           {3, 1, 4},    {7, 5, 3},    {9, 4, 2},       {2, 4, 9},
                                           {3, 0, 4},    {2, 3, 4, 5}, {5, 3, 2, 2},    {3, 1, 2, 1, 4},
                                           {4, 3, 2, 3, 2}, {3, 700},    {700, 5},       {600, 37},
                                           {20, 30, 41}};
const std::vector<shape_t> sparse_shapes = {{7},          {5, 7},          {1, 6},         {3, 1, 4},
                                            {17, 13, 11}, {9, 4, 2},       {2, 3, 4, 5},   {6, 5, 7, 3},
                                            {3, 1, 2, 1, 4}, {4, 6, 3, 5, 2}};

}  // namespace

// The reference itself, against the definition through unfold and an explicit Khatri-Rao.
TYPED_TEST(Mttkrp, ReferenceMatchesUnfoldTimesKhatriRao) {
    using T = TypeParam;
    for (const shape_t& s : {shape_t{3, 4, 5}, shape_t{2, 3, 2, 3}}) {
        const auto X = random_dense<T>(s, 1);
        const auto F = random_factors<T>(s, 3, 2);
        for (int n = 0; n < X.order(); ++n) {
            std::vector<basic_matrix<T>> others;
            for (int m = 0; m < X.order(); ++m)
                if (m != n) others.push_back(F[static_cast<std::size_t>(m)]);
            const auto want = matmul(unfold(X.view(), n), khatri_rao(std::span<const basic_matrix<T>>(others)));
            basic_matrix<T> got;
            mttkrp_reference(X.view(), std::span<const basic_matrix<T>>(F), n, got);
            const auto mag = matmul(abs_of(unfold(X.view(), n)), khatri_rao(std::span<const basic_matrix<T>>(abs_of(others))));
            expect_within_bound(got, want, mag, static_cast<double>(X.size() / s[static_cast<std::size_t>(n)]), X.order());
        }
    }
}

TYPED_TEST(Mttkrp, DenseMatchesReference) {
    using T = TypeParam;
    for (const auto& s : dense_shapes)
        for (index_t R : {1, 3, 9, 17, 40, 70}) {
            const auto X = random_dense<T>(s, 3);
            basic_tensor<T> Xa = X;
            for (auto& v : Xa.values()) v = std::abs(v);
            const auto F = random_factors<T>(s, R, 4);
            const auto Fa = abs_of(F);
            for (int n = 0; n < X.order(); ++n) {
                basic_matrix<T> got(2, 2, T(7)), want, mag;  // a wrong-sized `out` is resized
                mttkrp(X.view(), std::span<const basic_matrix<T>>(F), n, got);
                mttkrp_reference(X.view(), std::span<const basic_matrix<T>>(F), n, want);
                mttkrp_reference(std::as_const(Xa).view(), std::span<const basic_matrix<T>>(Fa), n, mag);
                const double terms = s[static_cast<std::size_t>(n)] ? static_cast<double>(shape_size(s) / s[static_cast<std::size_t>(n)]) : 0;
                SCOPED_TRACE(shape_string(s) + " mode " + std::to_string(n) + " rank " + std::to_string(R));
                expect_within_bound(got, want, mag, terms, X.order());
            }
        }
}

TYPED_TEST(Mttkrp, DenseReusesOutput) {
    using T = TypeParam;
    const shape_t s{4, 5, 6};
    const auto X = random_dense<T>(s, 5);
    const auto F = random_factors<T>(s, 4, 6);
    basic_matrix<T> a, b;
    mttkrp(X.view(), std::span<const basic_matrix<T>>(F), 1, a);
    b = a;
    mttkrp(X.view(), std::span<const basic_matrix<T>>(F), 1, b);  // same shape, old values overwritten
    EXPECT_EQ(a, b);
}

TYPED_TEST(Mttkrp, SparseMatchesReferenceBothPolicies) {
    using T = TypeParam;
    for (const auto& s : sparse_shapes)
        for (index_t R : {1, 5, 16}) {
            const auto X = random_sparse<T>(s, 400, 7);
            auto Xa = X;
            for (auto& v : Xa.values) v = std::abs(v);
            const auto F = random_factors<T>(s, R, 8);
            const auto Fa = abs_of(F);
            for (csf_policy pol : {csf_policy::one, csf_policy::all}) {
                const auto set = make_csf_set(X, pol);
                for (int n = 0; n < X.order(); ++n) {
                    basic_matrix<T> got, want, mag;
                    mttkrp(set, std::span<const basic_matrix<T>>(F), n, got);
                    mttkrp_reference(X, std::span<const basic_matrix<T>>(F), n, want);
                    mttkrp_reference(Xa, std::span<const basic_matrix<T>>(Fa), n, mag);
                    SCOPED_TRACE(shape_string(s) + " mode " + std::to_string(n) + " rank " + std::to_string(R) +
                                 (pol == csf_policy::one ? " one" : " all"));
                    expect_within_bound(got, want, mag, static_cast<double>(X.nnz()), X.order());
                }
            }
        }
}

TYPED_TEST(Mttkrp, SparseEmptyTensor) {
    using T = TypeParam;
    const basic_coo_tensor<T> X(shape_t{4, 3, 5});
    const auto F = random_factors<T>(X.shape, 3, 9);
    for (csf_policy pol : {csf_policy::one, csf_policy::all}) {
        const auto set = make_csf_set(X, pol);
        for (int n = 0; n < 3; ++n) {
            basic_matrix<T> got(1, 1, T(5));
            mttkrp(set, std::span<const basic_matrix<T>>(F), n, got);
            EXPECT_EQ(got, basic_matrix<T>(X.shape[static_cast<std::size_t>(n)], 3));
        }
    }
}

TYPED_TEST(Mttkrp, SparseAgreesWithDense) {
    using T = TypeParam;
    const shape_t s{6, 5, 4};
    const auto X = random_sparse<T>(s, 60, 10);
    const auto D = to_dense(X);
    const auto F = random_factors<T>(s, 4, 11);
    const auto set = make_csf_set(X, csf_policy::one);
    for (int n = 0; n < 3; ++n) {
        basic_matrix<T> a, b;
        mttkrp(set, std::span<const basic_matrix<T>>(F), n, a);
        mttkrp(D.view(), std::span<const basic_matrix<T>>(F), n, b);
        for (index_t i = 0; i < a.size(); ++i)
            EXPECT_NEAR(a.data()[i], b.data()[i], 200 * std::numeric_limits<T>::epsilon() * 60);
    }
}

TEST(MttkrpDeterminism, SameResultTwiceWithTwoThreads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(2);
    for (const shape_t& s : {shape_t{300, 200, 100}, shape_t{40, 30, 20, 10}}) {
        const auto X = random_sparse<double>(s, 60000, 12);
        const auto F = random_factors<double>(s, 16, 13);
        for (csf_policy pol : {csf_policy::one, csf_policy::all}) {
            const auto set = make_csf_set(X, pol);
            for (int n = 0; n < static_cast<int>(s.size()); ++n) {
                matrix a, b;
                mttkrp(set, std::span<const matrix>(F), n, a);
                mttkrp(set, std::span<const matrix>(F), n, b);
                EXPECT_EQ(a, b) << "mode " << n;
            }
        }
    }
    const auto D = random_dense<double>({60, 50, 40}, 14);
    const auto F = random_factors<double>({60, 50, 40}, 10, 15);
    for (int n = 0; n < 3; ++n) {
        matrix a, b;
        mttkrp(D.view(), std::span<const matrix>(F), n, a);
        mttkrp(D.view(), std::span<const matrix>(F), n, b);
        EXPECT_EQ(a, b);
    }
    omp_set_num_threads(saved);
}

TEST(MttkrpErrors, ShapesRanksModes) {
    const tensor X({30, 20, 50});
    auto F = random_factors<double>({30, 20, 40}, 3, 16);
    matrix out;
    try {
        mttkrp(X.view(), std::span<const matrix>(F), 0, out);
        FAIL();
    } catch (const invalid_argument& e) {
        EXPECT_STREQ(e.what(), "mttkrp: factor 2 has 40 rows but mode 2 of the tensor has size 50");
    }
    // The factor of the mode itself is not read: any size is fine.
    EXPECT_NO_THROW(mttkrp(X.view(), std::span<const matrix>(F), 2, out));
    F = random_factors<double>({30, 20, 50}, 3, 17);
    F[1] = matrix(20, 4);
    EXPECT_THROW(mttkrp(X.view(), std::span<const matrix>(F), 0, out), invalid_argument);
    F[1] = matrix(20, 3);
    EXPECT_THROW(mttkrp(X.view(), std::span<const matrix>(F), 3, out), invalid_argument);
    EXPECT_THROW(mttkrp(X.view(), std::span<const matrix>(F).first(2), 0, out), invalid_argument);
    const auto S = make_csf_set(random_sparse<double>({30, 20, 50}, 50, 18));
    EXPECT_THROW(mttkrp(S, std::span<const matrix>(F), -1, out), invalid_argument);
    EXPECT_THROW(mttkrp(csf_set{}, std::span<const matrix>(F), 0, out), invalid_argument);
}

TYPED_TEST(Mttkrp, InnerAndNormSq) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const shape_t s{5, 4, 6};
    basic_kruskal_tensor<T> M;
    M.factors = random_factors<T>(s, 3, 19);
    M.weights = {T(2), T(-1), T(0.5)};
    const auto full = M.full();
    const auto X = random_dense<T>(s, 20);
    double want = 0, nsq = 0;
    for (index_t e = 0; e < X.size(); ++e) {
        want += static_cast<double>(X.data()[e]) * full.data()[e];
        nsq += static_cast<double>(full.data()[e]) * full.data()[e];
    }
    EXPECT_NEAR(inner(X.view(), M), want, 100 * X.size() * eps);
    EXPECT_NEAR(norm_sq(M), nsq, 100 * X.size() * eps * nsq);
    const auto C = random_sparse<T>(s, 40, 21);  // with duplicates
    const auto Cd = to_dense(C);
    double wc = 0;
    for (index_t e = 0; e < Cd.size(); ++e) wc += static_cast<double>(Cd.data()[e]) * full.data()[e];
    EXPECT_NEAR(inner(C, M), wc, 100 * 40 * eps);
    const auto bad = basic_coo_tensor<T>(shape_t{5, 4, 7});
    EXPECT_THROW(inner(bad, M), invalid_argument);
}

}  // namespace facto
