// test_tucker.cpp: HOSVD, ST-HOSVD and HOOI on planted models, error bounds, real data.
#include "facto/io/npy.hpp"
#include "facto/decomp/tucker.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>

namespace facto {
namespace {

// Random I x R matrix with orthonormal columns (Gram-Schmidt twice, in double).
template <class T>
basic_matrix<T> random_orthonormal(index_t I, index_t R, std::mt19937_64& rng) {
    std::normal_distribution<double> g;
    std::vector<double> Q(static_cast<std::size_t>(I * R));
    for (auto& v : Q) v = g(rng);
    auto at = [&](index_t i, index_t j) -> double& { return Q[static_cast<std::size_t>(i * R + j)]; };
    for (index_t j = 0; j < R; ++j)
        for (int pass = 0; pass < 2; ++pass) {
            for (index_t p = 0; p < j; ++p) {
                double d = 0;
                for (index_t i = 0; i < I; ++i) d += at(i, j) * at(i, p);
                for (index_t i = 0; i < I; ++i) at(i, j) -= d * at(i, p);
            }
            double n = 0;
            for (index_t i = 0; i < I; ++i) n += at(i, j) * at(i, j);
            for (index_t i = 0; i < I; ++i) at(i, j) /= std::sqrt(n);
        }
    basic_matrix<T> U(I, R);
    for (index_t i = 0; i < I; ++i)
        for (index_t j = 0; j < R; ++j) U(i, j) = static_cast<T>(at(i, j));
    return U;
}

// Naive reconstruction: X(i) = sum_r core(r) prod_n U_n(i_n, r_n), in double.
template <class T>
basic_tensor<T> naive_full(const basic_tucker_tensor<T>& M) {
    const shape_t shape = M.shape(), ranks = M.ranks();
    const int N = static_cast<int>(shape.size());
    basic_tensor<T> X(shape);
    std::vector<index_t> i(static_cast<std::size_t>(N)), r(static_cast<std::size_t>(N));
    for (index_t li = 0; li < X.size(); ++li) {
        index_t rem = li;
        for (int n = N - 1; n >= 0; --n) {
            i[static_cast<std::size_t>(n)] = rem % shape[static_cast<std::size_t>(n)];
            rem /= shape[static_cast<std::size_t>(n)];
        }
        double s = 0;
        for (index_t lr = 0; lr < M.core.size(); ++lr) {
            index_t rr = lr;
            for (int n = N - 1; n >= 0; --n) {
                r[static_cast<std::size_t>(n)] = rr % ranks[static_cast<std::size_t>(n)];
                rr /= ranks[static_cast<std::size_t>(n)];
            }
            double p = M.core.values()[static_cast<std::size_t>(lr)];
            for (int n = 0; n < N; ++n)
                p *= M.factors[static_cast<std::size_t>(n)](i[static_cast<std::size_t>(n)], r[static_cast<std::size_t>(n)]);
            s += p;
        }
        X.values()[static_cast<std::size_t>(li)] = static_cast<T>(s);
    }
    return X;
}

// A planted Tucker model: Gaussian core, random orthonormal factors.
template <class T>
basic_tucker_tensor<T> planted(const shape_t& shape, const shape_t& ranks, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g;
    basic_tucker_tensor<T> M;
    M.core = basic_tensor<T>(ranks);
    for (auto& v : M.core.values()) v = static_cast<T>(g(rng));
    for (std::size_t n = 0; n < shape.size(); ++n) M.factors.push_back(random_orthonormal<T>(shape[n], ranks[n], rng));
    return M;
}

template <class T>
void add_noise(basic_tensor<T>& X, double rel, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g;
    const double scale = rel * norm(X.view()) / std::sqrt(static_cast<double>(X.size()));
    for (auto& v : X.values()) v = static_cast<T>(v + scale * g(rng));
}

template <class T>
double rel_diff(const basic_tensor<T>& A, const basic_tensor<T>& B) {
    double e = 0, a = 0;
    for (std::size_t k = 0; k < A.values().size(); ++k) {
        const double d = static_cast<double>(A.values()[k]) - B.values()[k];
        e += d * d;
        a += static_cast<double>(A.values()[k]) * A.values()[k];
    }
    return std::sqrt(e / a);
}

template <class T>
void expect_orthonormal(const basic_matrix<T>& U, double tol) {
    for (index_t a = 0; a < U.cols(); ++a)
        for (index_t b = 0; b < U.cols(); ++b) {
            double d = 0;
            for (index_t i = 0; i < U.rows(); ++i) d += static_cast<double>(U(i, a)) * U(i, b);
            ASSERT_NEAR(d, a == b ? 1.0 : 0.0, tol) << a << "," << b;
        }
}

using method = tucker_result (*)(basic_tensor_view<const double>, const tucker_options&);
using method_f = tucker_result_f (*)(basic_tensor_view<const float>, const tucker_options&);
template <class T>
auto methods() {
    using M = std::conditional_t<std::is_same_v<T, double>, method, method_f>;
    return std::vector<std::pair<const char*, M>>{
        {"hosvd", &tucker_hosvd}, {"sthosvd", &tucker_sthosvd}, {"hooi", &tucker_hooi}};
}

template <class T>
class Tucker : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Tucker, Types);

}  // namespace

TYPED_TEST(Tucker, FullMatchesNaiveReconstruction) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    for (const auto& [shape, ranks] : std::vector<std::pair<shape_t, shape_t>>{
             {{5, 4, 3}, {2, 3, 1}}, {{6, 1, 4, 3}, {3, 1, 2, 3}}, {{7, 5}, {4, 5}}, {{6}, {2}}}) {
        const auto M = planted<T>(shape, ranks, 3);
        EXPECT_EQ(M.shape(), shape);
        EXPECT_EQ(M.ranks(), ranks);
        EXPECT_LE(rel_diff(naive_full(M), M.full()), 100 * eps);
    }
}

TYPED_TEST(Tucker, RelativeErrorMatchesTheExplicitResidual) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    // Several slabs (mode 0 of 3000 rows of 400 entries: 2621 rows per slab), order 1 to 4.
    for (const auto& [shape, ranks] : std::vector<std::pair<shape_t, shape_t>>{
             {{3000, 20, 20}, {3, 4, 2}}, {{7}, {2}}, {{6, 5}, {2, 3}}, {{4, 3, 5, 2}, {2, 2, 3, 1}}}) {
        const auto M = planted<T>(shape, ranks, 7);
        basic_tensor<T> X = M.full();
        add_noise(X, 0.05, 8);
        const double direct = rel_diff(X, M.full());
        EXPECT_NEAR(M.relative_error(X.view()), direct, 100 * eps) << shape_string(shape);
        const basic_tensor<T> zero(shape);  // ||X|| = 0: the absolute residual ||model||
        EXPECT_NEAR(M.relative_error(zero.view()), norm(M.full().view()), 100 * eps * norm(M.full().view()));
    }
    const auto M = planted<T>({4, 3}, {2, 2}, 1);
    const basic_tensor<T> wrong({3, 4});
    EXPECT_THROW((void)M.relative_error(wrong.view()), invalid_argument);
}

TYPED_TEST(Tucker, PlantedModelRecoveredByEveryMethod) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const shape_t shape{12, 10, 9, 7}, ranks{3, 4, 2, 3};
    const auto M = planted<T>(shape, ranks, 5);
    const auto X = M.full();
    for (const auto& [name, f] : methods<T>()) {
        const auto r = f(X.view(), {.ranks = ranks});
        EXPECT_EQ(r.model.ranks(), ranks) << name;
        // An exact low multilinear rank: the subspaces are recovered to rounding.
        EXPECT_LE(r.rel_error, 1000 * eps) << name;
        EXPECT_LE(rel_diff(X, r.model.full()), 1000 * eps) << name;
        for (const auto& U : r.model.factors) expect_orthonormal(U, 100 * 12 * eps);
        // The same tensor through tol finds the planted ranks.
        const auto t = f(X.view(), {.tol = 1e-2});
        EXPECT_EQ(t.model.ranks(), ranks) << name;
    }
}

TYPED_TEST(Tucker, FullRanksReproduceInput) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    basic_tensor<T> X({5, 6, 4});
    std::mt19937_64 rng(9);
    std::normal_distribution<double> g;
    for (auto& v : X.values()) v = static_cast<T>(g(rng));
    for (const auto& [name, f] : methods<T>()) {
        const auto r = f(X.view(), {.ranks = X.shape()});
        EXPECT_LE(rel_diff(X, r.model.full()), 100 * 6 * eps) << name;
        EXPECT_LE(r.rel_error, 100 * 6 * eps) << name;
    }
}

TYPED_TEST(Tucker, ToleranceBoundHoldsOnEveryInput) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    const double floor = 30 * std::sqrt(eps);  // the Gram route's accuracy floor
    unsigned seed = 1;
    for (const auto& [shape, ranks] : std::vector<std::pair<shape_t, shape_t>>{
             {{15, 12, 10}, {4, 3, 5}}, {{8, 9, 7, 6}, {2, 3, 2, 4}}, {{20, 16}, {5, 5}}}) {
        auto X = planted<T>(shape, ranks, seed++).full();
        add_noise(X, 0.05, seed++);
        for (double tol : {0.5, 0.2, 0.06, 0.03, 0.01}) {
            for (const auto& [name, f] : methods<T>()) {
                const auto r = f(X.view(), {.tol = tol});
                EXPECT_LE(r.error_bound, tol * (1 + 1e-12)) << name << " tol " << tol;
                EXPECT_LE(r.rel_error, r.error_bound + floor) << name << " tol " << tol;
                EXPECT_LE(r.rel_error, tol + floor) << name << " tol " << tol;
                EXPECT_NEAR(r.rel_error, r.rel_error_estimate, floor) << name;
                EXPECT_NEAR(rel_diff(X, r.model.full()), r.rel_error, 100 * eps) << name;
                for (const auto& U : r.model.factors) expect_orthonormal(U, 1000 * eps);
            }
        }
    }
}

TYPED_TEST(Tucker, LongModeFactorsFromTheSmallGram) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    // Mode 0 (300) exceeds the product of the others (20): its factor comes from the 20 x 20 Gram.
    auto X = planted<T>({300, 4, 5}, {6, 3, 4}, 31).full();
    const auto exact = X;
    for (const auto& [name, f] : methods<T>()) {
        const auto r = f(exact.view(), {.ranks = {6, 3, 4}});
        EXPECT_LE(rel_diff(exact, r.model.full()), 1000 * eps) << name;
        for (const auto& U : r.model.factors) expect_orthonormal(U, 100 * 300 * eps);
        // Rank 25 in mode 0 exceeds the numerical rank (6) and J (20): an orthonormal completion.
        const auto c = f(exact.view(), {.ranks = {25, 4, 5}});
        EXPECT_EQ(c.model.ranks(), (shape_t{25, 4, 5})) << name;
        expect_orthonormal(c.model.factors[0], 100 * 300 * eps);
        // Full ranks reproduce the input.
        const auto full = f(exact.view(), {.ranks = exact.shape()});
        expect_orthonormal(full.model.factors[0], 100 * 300 * eps);
        EXPECT_LE(rel_diff(exact, full.model.full()), 100 * 300 * eps) << name;
    }
    add_noise(X, 0.05, 32);
    const double floor = 30 * std::sqrt(eps);
    for (double tol : {0.5, 0.1, 0.03})
        for (const auto& [name, f] : methods<T>()) {
            const auto r = f(X.view(), {.tol = tol});
            EXPECT_LE(r.error_bound, tol * (1 + 1e-12)) << name << " tol " << tol;
            EXPECT_LE(r.rel_error, r.error_bound + floor) << name << " tol " << tol;
            EXPECT_NEAR(rel_diff(X, r.model.full()), r.rel_error, 100 * eps) << name;
            for (const auto& U : r.model.factors) expect_orthonormal(U, 100 * 300 * eps);
        }
}

TYPED_TEST(Tucker, HooiImprovesOnStHosvd) {
    using T = TypeParam;
    auto X = planted<T>({14, 12, 10}, {5, 4, 3}, 21).full();
    add_noise(X, 0.3, 22);
    const shape_t ranks{3, 3, 2};  // below the planted ranks: the start is not optimal
    const auto st = tucker_sthosvd(X.view(), {.ranks = ranks});
    const auto ho = tucker_hooi(X.view(), {.ranks = ranks, .max_iters = 100, .iter_tol = 1e-9});
    EXPECT_LE(ho.rel_error, st.rel_error + 10 * std::numeric_limits<T>::epsilon());
    EXPECT_GE(ho.iters, 1);
    EXPECT_EQ(ho.model.ranks(), ranks);
    EXPECT_TRUE(ho.converged);
    const auto capped = tucker_hooi(X.view(), {.ranks = ranks, .max_iters = 1, .iter_tol = 0});
    EXPECT_EQ(capped.iters, 1);
    EXPECT_FALSE(capped.converged);
}

TYPED_TEST(Tucker, HooiHistoryIsNonIncreasingAndTheCallbackCanStop) {
    using T = TypeParam;
    const double eps = std::numeric_limits<T>::epsilon();
    auto X = planted<T>({16, 13, 11}, {6, 5, 4}, 31).full();
    add_noise(X, 0.4, 32);
    const shape_t ranks{3, 3, 2};  // below the planted ranks: HOOI has work to do
    const auto st = tucker_sthosvd(X.view(), {.ranks = ranks, .check_error = false});
    std::vector<tucker_iteration> seen;
    tucker_options o{.ranks = ranks, .max_iters = 40, .iter_tol = 0};
    o.on_iteration = [&seen](const tucker_iteration& it) {
        seen.push_back(it);
        return true;
    };
    const auto r = tucker_hooi(X.view(), o);
    ASSERT_EQ(r.history.size(), static_cast<std::size_t>(r.iters));
    ASSERT_EQ(seen.size(), r.history.size());
    EXPECT_FALSE(r.interrupted);
    // Never above the start, never increasing (up to the estimate's rounding), and the last
    // entry is the reported estimate.
    const double slack = 100 * eps;
    EXPECT_LE(r.history[0], st.rel_error_estimate + slack);
    for (std::size_t i = 0; i < r.history.size(); ++i) {
        EXPECT_EQ(seen[i].iter, static_cast<int>(i) + 1);
        EXPECT_EQ(seen[i].rel_error, r.history[i]);
        EXPECT_GE(seen[i].seconds, 0.0);
        if (i > 0) {
            EXPECT_LE(r.history[i], r.history[i - 1] + slack) << "sweep " << i + 1;
            EXPECT_DOUBLE_EQ(seen[i].change, r.history[i - 1] - r.history[i]);
        }
    }
    EXPECT_DOUBLE_EQ(r.history.back(), r.rel_error_estimate);
    EXPECT_LT(r.history.back(), r.history.front());  // HOOI did improve on this input

    // Stopping after sweep 2: the model of sweep 2, marked interrupted.
    tucker_options stop{.ranks = ranks, .max_iters = 40, .iter_tol = 0};
    stop.on_iteration = [](const tucker_iteration& it) { return it.iter < 2; };
    const auto s2 = tucker_hooi(X.view(), stop);
    EXPECT_TRUE(s2.interrupted);
    EXPECT_FALSE(s2.converged);
    EXPECT_EQ(s2.iters, 2);
    ASSERT_EQ(s2.history.size(), 2u);
    EXPECT_EQ(s2.history[1], r.history[1]);
    EXPECT_EQ(s2.model.core.values(), tucker_hooi(X.view(), {.ranks = ranks, .max_iters = 2, .iter_tol = 0})
                                          .model.core.values());
    EXPECT_TRUE(tucker_sthosvd(X.view(), {.ranks = ranks}).history.empty());
}

TEST(Tucker, SparseHooiHistoryIsNonIncreasingAndTheCallbackCanStop) {
    auto D = planted<double>({15, 12, 10}, {5, 4, 3}, 51).full();
    add_noise(D, 0.3, 52);
    coo_tensor X(D.shape());
    for (index_t i = 0; i < 15; ++i)
        for (index_t j = 0; j < 12; ++j)
            for (index_t k = 0; k < 10; ++k)
                if ((i + 2 * j + 3 * k) % 3 != 0) {  // two thirds of the entries
                    const index_t c[] = {i, j, k};
                    X.push_back(c, D(i, j, k));
                }
    int calls = 0;
    tucker_options o{.ranks = {3, 2, 2}, .max_iters = 30, .iter_tol = 0, .seed = 3};
    o.on_iteration = [&calls](const tucker_iteration&) { return ++calls < 1000; };
    const auto r = tucker_hooi(X, o);
    ASSERT_EQ(r.history.size(), static_cast<std::size_t>(r.iters));
    EXPECT_EQ(calls, r.iters);
    for (std::size_t i = 1; i < r.history.size(); ++i) EXPECT_LE(r.history[i], r.history[i - 1] + 1e-13) << i;
    EXPECT_DOUBLE_EQ(r.history.back(), r.rel_error);
    o.on_iteration = [](const tucker_iteration& it) { return it.iter < 3; };
    const auto s3 = tucker_hooi(X, o);
    EXPECT_TRUE(s3.interrupted);
    EXPECT_EQ(s3.iters, 3);
    EXPECT_EQ(s3.history[2], r.history[2]);
}

TEST(Tucker, RejectsBadInput) {
    tensor X({3, 4, 2}, 1.0);
    EXPECT_THROW((void)tucker_hosvd(X.view(), {}), invalid_argument);
    EXPECT_THROW((void)tucker_sthosvd(X.view(), {.ranks = {1, 2}}), invalid_argument);
    EXPECT_THROW((void)tucker_hooi(X.view(), {.ranks = {1, 5, 1}}), invalid_argument);
    EXPECT_THROW((void)tucker_hooi(X.view(), {.ranks = {1, 0, 1}}), invalid_argument);
    EXPECT_THROW((void)tucker_hooi(X.view(), {.tol = -1}), invalid_argument);
    EXPECT_THROW((void)tucker_hooi(X.view(), {.ranks = {1, 1, 1}, .max_iters = 0}), invalid_argument);
    tensor E({3, 0, 2});
    EXPECT_THROW((void)tucker_sthosvd(E.view(), {.tol = 0.1}), invalid_argument);
    try {
        (void)tucker_sthosvd(X.view(), {.ranks = {1, 5, 1}});
        FAIL() << "expected invalid_argument";
    } catch (const invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("tucker_sthosvd: rank 5 for mode 1 outside [1, 4]"), std::string::npos)
            << e.what();
    }
    tucker_tensor bad = planted<double>({4, 3}, {2, 2}, 1);
    bad.factors[1] = matrix(3, 1);
    EXPECT_THROW((void)bad.full(), invalid_argument);
}

// Dense X x_0 U_0^T x_1 ... x_{N-1} U_{N-1}^T by naive loops: the oracle for the sparse core.
tensor naive_core(const tensor& X, const std::vector<matrix>& U) {
    tensor G = X;
    for (int n = 0; n < X.order(); ++n) {
        shape_t s = G.shape();
        const index_t I = s[static_cast<std::size_t>(n)], R = U[static_cast<std::size_t>(n)].cols();
        s[static_cast<std::size_t>(n)] = R;
        tensor H(s);
        index_t left = 1, right = 1;
        for (int m = 0; m < n; ++m) left *= s[static_cast<std::size_t>(m)];
        for (int m = n + 1; m < X.order(); ++m) right *= s[static_cast<std::size_t>(m)];
        for (index_t a = 0; a < left; ++a)
            for (index_t r = 0; r < R; ++r)
                for (index_t b = 0; b < right; ++b) {
                    double v = 0;
                    for (index_t i = 0; i < I; ++i)
                        v += U[static_cast<std::size_t>(n)](i, r) * G.values()[static_cast<std::size_t>((a * I + i) * right + b)];
                    H.values()[static_cast<std::size_t>((a * R + r) * right + b)] = v;
                }
        G = std::move(H);
    }
    return G;
}

TEST(Tucker, SparseHooiCoreMatchesDenseProjection) {
    std::mt19937_64 rng(31);
    std::uniform_real_distribution<double> u;
    std::normal_distribution<double> g;
    for (const shape_t& shape : {shape_t{20, 15, 12}, shape_t{9, 8, 7, 6}, shape_t{30, 25}}) {
        coo_tensor X(shape);
        std::vector<index_t> c(shape.size());
        const index_t total = shape_size(shape);
        for (index_t lin = 0; lin < total; ++lin) {
            if (u(rng) >= 0.08) continue;
            index_t rem = lin;
            for (int m = static_cast<int>(shape.size()) - 1; m >= 0; --m) {
                c[static_cast<std::size_t>(m)] = rem % shape[static_cast<std::size_t>(m)];
                rem /= shape[static_cast<std::size_t>(m)];
            }
            X.push_back(c, g(rng));
        }
        shape_t ranks;
        for (index_t d : shape) ranks.push_back(std::min<index_t>(3, d));
        const auto r = tucker_hooi(X, {.ranks = ranks, .max_iters = 10, .seed = 2});
        EXPECT_EQ(r.model.ranks(), ranks);
        for (const auto& U : r.model.factors) expect_orthonormal(U, 1e-12);
        const tensor D = to_dense<double>(X);
        const tensor G = naive_core(D, r.model.factors);
        EXPECT_LE(rel_diff(G, r.model.core), 1e-12) << shape_string(shape);
        EXPECT_NEAR(rel_diff(D, r.model.full()), r.rel_error, 1e-7) << shape_string(shape);
        // HOOI from the same ranks on the dense copy finds a comparable fit.
        const auto dense = tucker_hooi(D.view(), {.ranks = ranks, .max_iters = 10});
        EXPECT_NEAR(r.rel_error, dense.rel_error, 0.02) << shape_string(shape);
    }
}

TEST(Tucker, SparseHooiParallelChainIsDeterministic) {
    // Enough nonzeros times core columns for the chain to run on a thread team.
    std::mt19937_64 rng(77);
    std::uniform_int_distribution<index_t> i0(0, 79), i1(0, 69), i2(0, 59);
    std::normal_distribution<double> g;
    coo_tensor X(shape_t{80, 70, 60});
    for (int k = 0; k < 30000; ++k) {
        const index_t c[] = {i0(rng), i1(rng), i2(rng)};
        X.push_back(c, g(rng));
    }
    const auto a = tucker_hooi(X, {.ranks = {4, 5, 4}, .max_iters = 3, .seed = 1});
    const auto b = tucker_hooi(X, {.ranks = {4, 5, 4}, .max_iters = 3, .seed = 1});
    EXPECT_EQ(a.model.core.values(), b.model.core.values());
    const tensor D = to_dense<double>(X);
    EXPECT_LE(rel_diff(naive_core(D, a.model.factors), a.model.core), 1e-12);
}

TEST(Tucker, SparseHooiRecoversPlantedBlock) {
    // A planted rank-(2,3,2) model in a 10x12x8 corner of a 60x50x40 tensor: sparse overall.
    const auto M = planted<double>({10, 12, 8}, {2, 3, 2}, 41);
    const tensor B = M.full();
    coo_tensor X(shape_t{60, 50, 40});
    for (index_t i = 0; i < 10; ++i)
        for (index_t j = 0; j < 12; ++j)
            for (index_t k = 0; k < 8; ++k) {
                const index_t c[] = {i * 5, j * 3 + 1, k};
                X.push_back(c, B(i, j, k));
            }
    const auto r = tucker_hooi(X, {.ranks = {2, 3, 2}, .max_iters = 5});
    EXPECT_LE(r.rel_error, 1e-6);
    EXPECT_LE(rel_diff(to_dense<double>(X), r.model.full()), 1e-10);
    EXPECT_THROW((void)tucker_hooi(X, {.tol = 0.1}), invalid_argument);
    EXPECT_THROW((void)tucker_hooi(X, {.ranks = {2, 3}}), invalid_argument);
    EXPECT_THROW((void)tucker_hooi(X, {.ranks = {2, 3, 41}}), invalid_argument);
}

TEST(Tucker, BrainEpiVolume) {
    const std::string path = std::string(FACTO_SHARED_DATA) + "/brain-epi-example4d/example4d_int16.npy";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent: " << path;
    const tensor X = read_npy<double>(path);
    for (double tol : {0.3, 0.1}) {
        const auto st = tucker_sthosvd(X.view(), {.tol = tol});
        EXPECT_LE(st.error_bound, tol);
        EXPECT_LE(st.rel_error, tol);
        EXPECT_LT(st.model.core.size(), X.size());  // a real compression
        const auto ho = tucker_hooi(X.view(), {.tol = tol, .max_iters = 5});
        EXPECT_EQ(ho.model.ranks(), st.model.ranks());
        EXPECT_LE(ho.rel_error, st.rel_error + 1e-12);
    }
}

}  // namespace facto
