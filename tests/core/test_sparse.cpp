// test_sparse.cpp: COO canonical form, dense <-> sparse, CSF construction, CSF sets.
#include "facto/core/sparse.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace facto {
namespace {

template <class T>
basic_coo_tensor<T> random_coo(const shape_t& s, index_t nnz, unsigned seed) {
    std::mt19937_64 rng(seed);
    basic_coo_tensor<T> X(s);
    std::vector<index_t> c(s.size());
    for (index_t k = 0; k < nnz; ++k) {
        for (std::size_t m = 0; m < s.size(); ++m) c[m] = static_cast<index_t>(rng() % static_cast<std::uint64_t>(s[m]));
        X.push_back(c, static_cast<T>(1 + rng() % 9));  // small integers: sums are exact
    }
    return X;
}

// The tensor as a map from coordinate to summed value, zeros dropped: the oracle.
template <class T>
std::map<std::vector<index_t>, double> as_map(const basic_coo_tensor<T>& X) {
    std::map<std::vector<index_t>, double> m;
    for (index_t k = 0; k < X.nnz(); ++k) {
        std::vector<index_t> c;
        for (int n = 0; n < X.order(); ++n) c.push_back(X.indices[static_cast<std::size_t>(n)][static_cast<std::size_t>(k)]);
        m[c] += X.values[static_cast<std::size_t>(k)];
    }
    std::erase_if(m, [](const auto& e) { return e.second == 0; });
    return m;
}

// Is X sorted lexicographically in the mode order `mo`, with distinct coordinates?
template <class T>
bool sorted_in(const basic_coo_tensor<T>& X, const std::vector<int>& mo) {
    for (index_t k = 1; k < X.nnz(); ++k) {
        int c = 0;
        for (int m : mo) {
            const auto& ix = X.indices[static_cast<std::size_t>(m)];
            if (ix[static_cast<std::size_t>(k - 1)] != ix[static_cast<std::size_t>(k)]) {
                c = ix[static_cast<std::size_t>(k - 1)] < ix[static_cast<std::size_t>(k)] ? -1 : 1;
                break;
            }
        }
        if (c >= 0) return false;
    }
    return true;
}

}  // namespace

TEST(Coo, PushBackChecksCoordinates) {
    coo_tensor X({3, 4});
    const index_t ok[] = {2, 3}, bad[] = {3, 0}, neg[] = {0, -1}, short_[] = {1};
    X.push_back(ok, 1.5);
    EXPECT_EQ(X.nnz(), 1);
    EXPECT_THROW(X.push_back(bad, 1.0), out_of_range);
    EXPECT_THROW(X.push_back(neg, 1.0), out_of_range);
    EXPECT_THROW(X.push_back(short_, 1.0), invalid_argument);
    EXPECT_EQ(X.nnz(), 1);
}

TEST(Coo, ValidateReportsProblems) {
    coo_tensor X({3, 4});
    X.indices[0] = {0, 1};
    X.indices[1] = {0};
    X.values = {1, 2};
    EXPECT_THROW(X.validate("t"), invalid_argument);
    X.indices[1] = {0, 4};
    try {
        X.validate("check");
        FAIL();
    } catch (const out_of_range& e) {
        EXPECT_NE(std::string(e.what()).find("check: nonzero 1 has index 4 in mode 1"), std::string::npos) << e.what();
    }
    EXPECT_THROW(coo_tensor().validate("t"), invalid_argument);
}

TEST(Coo, CanonicalizeSumsDuplicatesAndSorts) {
    coo_tensor X({3, 3, 3});
    const index_t a[] = {2, 0, 1}, b[] = {0, 2, 2}, c[] = {0, 0, 1};
    X.push_back(a, 1);
    X.push_back(b, 2);
    X.push_back(a, 3);
    X.push_back(c, 5);
    X.push_back(c, -5);  // cancels
    EXPECT_FALSE(X.is_canonical());
    coo_tensor Y = X;
    Y.canonicalize();
    EXPECT_TRUE(Y.is_canonical());
    ASSERT_EQ(Y.nnz(), 2);
    EXPECT_EQ(Y.indices[0], (std::vector<index_t>{0, 2}));
    EXPECT_EQ(Y.values, (std::vector<double>{2, 4}));
    Y = X;
    Y.canonicalize(true);
    ASSERT_EQ(Y.nnz(), 3);
    EXPECT_EQ(Y.values, (std::vector<double>{0, 2, 4}));
}

TEST(Coo, CanonicalizeRandomAgainstMap) {
    for (const shape_t& s : {shape_t{7}, shape_t{5, 3}, shape_t{4, 5, 6}, shape_t{2, 3, 2, 3, 2}}) {
        auto X = random_coo<float>(s, 300, 11);
        const auto expect = as_map(X);
        X.canonicalize();
        EXPECT_TRUE(X.is_canonical());
        EXPECT_EQ(as_map(X), expect);
        EXPECT_EQ(static_cast<std::size_t>(X.nnz()), expect.size());
    }
}

TEST(Coo, CanonicalizeHugeShapeUsesComparisonSort) {
    // The product of the dimensions exceeds 2^64: no packed key.
    const index_t big = index_t{1} << 40;
    auto X = random_coo<double>({big, 3, big}, 200, 12);
    X.push_back(std::vector<index_t>{big - 1, 2, 0}, 1);
    X.push_back(std::vector<index_t>{big - 1, 2, 0}, 2);
    const auto expect = as_map(X);
    X.canonicalize();
    EXPECT_TRUE(X.is_canonical());
    EXPECT_EQ(as_map(X), expect);
}

TEST(Coo, DenseRoundTrip) {
    auto X = random_coo<double>({4, 5, 3}, 40, 13);
    const tensor D = to_dense(X);
    X.canonicalize();
    const coo_tensor Y = to_coo(D.view());
    EXPECT_EQ(Y.indices, X.indices);
    EXPECT_EQ(Y.values, X.values);
    EXPECT_EQ(norm(Y), norm(D.view()));
    const coo_tensor Z = to_coo(D.view(), 8.5);
    for (double v : Z.values) EXPECT_GT(std::abs(v), 8.5);
}

TEST(Csf, ModeOrder) {
    EXPECT_EQ(csf_mode_order({10, 8, 6}, 0), (std::vector<int>{0, 2, 1}));
    EXPECT_EQ(csf_mode_order({10, 8, 6}, 2), (std::vector<int>{2, 1, 0}));
    EXPECT_EQ(csf_mode_order({5, 5, 5, 2}, 1), (std::vector<int>{1, 3, 0, 2}));
    EXPECT_THROW(csf_mode_order({3, 3}, 2), invalid_argument);
}

TEST(Csf, SmallTreeStructure) {
    coo_tensor X({2, 3, 4});
    // Given unsorted, with a duplicate.
    for (auto [i, j, k, v] : std::vector<std::tuple<int, int, int, double>>{
             {1, 2, 3, 1}, {0, 0, 1, 2}, {0, 0, 2, 3}, {0, 2, 0, 4}, {1, 2, 3, 10}, {1, 0, 0, 5}})
        X.push_back(std::vector<index_t>{i, j, k}, v);
    const std::vector<int> mo{0, 1, 2};
    const csf_tensor C = make_csf(X, std::span<const int>(mo));
    EXPECT_EQ(C.ids[0], (std::vector<index_t>{0, 1}));
    EXPECT_EQ(C.ptr[0], (std::vector<index_t>{0, 2, 4}));
    EXPECT_EQ(C.ids[1], (std::vector<index_t>{0, 2, 0, 2}));
    EXPECT_EQ(C.ptr[1], (std::vector<index_t>{0, 2, 3, 4, 5}));
    EXPECT_EQ(C.ids[2], (std::vector<index_t>{1, 2, 0, 0, 3}));
    EXPECT_EQ(C.values, (std::vector<double>{2, 3, 4, 5, 11}));
    EXPECT_EQ(C.bytes(), (3 + 5 + 2 + 4 + 5) * sizeof(index_t) + 5 * sizeof(double));
}

TEST(Csf, RoundTripEveryModeOrder) {
    for (const shape_t& s : {shape_t{9}, shape_t{6, 4}, shape_t{5, 1, 7}, shape_t{3, 4, 2, 5}, shape_t{2, 3, 2, 2, 3}}) {
        const auto X = random_coo<double>(s, 150, 14);
        const auto expect = as_map(X);
        std::vector<int> mo(s.size());
        std::iota(mo.begin(), mo.end(), 0);
        do {
            const csf_tensor C = make_csf(X, std::span<const int>(mo));
            EXPECT_EQ(C.nnz(), static_cast<index_t>(expect.size()));
            for (int l = 0; l + 1 < C.order(); ++l) {
                ASSERT_EQ(C.ptr[static_cast<std::size_t>(l)].size(), static_cast<std::size_t>(C.nodes(l)) + 1);
                EXPECT_EQ(C.ptr[static_cast<std::size_t>(l)].back(), C.nodes(l + 1));
            }
            const coo_tensor Y = to_coo(C);
            EXPECT_TRUE(sorted_in(Y, mo));
            EXPECT_EQ(as_map(Y), expect);
        } while (std::next_permutation(mo.begin(), mo.end()));
    }
}

TEST(Csf, RejectsBadModeOrder) {
    const auto X = random_coo<double>({3, 3, 3}, 5, 15);
    const std::vector<int> dup{0, 0, 1}, short_{0, 1};
    EXPECT_THROW(make_csf(X, std::span<const int>(dup)), invalid_argument);
    EXPECT_THROW(make_csf(X, std::span<const int>(short_)), invalid_argument);
    EXPECT_THROW(make_csf(X, 3), invalid_argument);
}

TEST(Csf, EmptyTensor) {
    coo_tensor_f X({4, 0, 3});
    const csf_tensor_f C = make_csf(X, 1);
    EXPECT_EQ(C.nnz(), 0);
    EXPECT_EQ(C.nodes(0), 0);
    EXPECT_EQ(C.ptr[0], (std::vector<index_t>{0}));
    EXPECT_EQ(to_coo(C).nnz(), 0);
    const csf_set_f S = make_csf_set(X, csf_policy::all);
    EXPECT_EQ(S.csfs.size(), 3u);
    EXPECT_EQ(S.norm_sq, 0);
}

TEST(CsfSet, Policies) {
    const auto X = random_coo<double>({9, 4, 7}, 200, 16);
    const auto expect = as_map(X);
    double nsq = 0;
    for (const auto& e : expect) nsq += e.second * e.second;
    const csf_set one = make_csf_set(X, csf_policy::one);
    ASSERT_EQ(one.csfs.size(), 1u);
    EXPECT_EQ(one.csfs[0].mode_order, (std::vector<int>{1, 2, 0}));  // rooted at the shortest mode
    EXPECT_NEAR(one.norm_sq, nsq, 1e-12 * nsq);
    const csf_set all = make_csf_set(X, csf_policy::all);
    ASSERT_EQ(all.csfs.size(), 3u);
    for (int m = 0; m < 3; ++m) {
        EXPECT_EQ(all.csfs[static_cast<std::size_t>(m)].mode_order, csf_mode_order(X.shape, m));
        EXPECT_EQ(as_map(to_coo(all.csfs[static_cast<std::size_t>(m)])), expect);
    }
    EXPECT_EQ(all.nnz(), static_cast<index_t>(expect.size()));
    EXPECT_EQ(all.bytes(), all.csfs[0].bytes() + all.csfs[1].bytes() + all.csfs[2].bytes());
    EXPECT_NEAR(all.norm_sq, nsq, 1e-12 * nsq);
}

TEST(CsfSet, Deterministic) {
    const auto X = random_coo<float>({50, 40, 30}, 5000, 17);
    const csf_set_f a = make_csf_set(X), b = make_csf_set(X);
    for (int m = 0; m < 3; ++m) {
        EXPECT_EQ(a.csfs[static_cast<std::size_t>(m)].ids, b.csfs[static_cast<std::size_t>(m)].ids);
        EXPECT_EQ(a.csfs[static_cast<std::size_t>(m)].values, b.csfs[static_cast<std::size_t>(m)].values);
    }
}

}  // namespace facto
