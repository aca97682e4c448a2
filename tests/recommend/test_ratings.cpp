// Tests of facto/recommend/ratings.hpp: readers of the three formats, errors naming file:line,
// id round trip, CSR against a naive dense build, split properties.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "facto/core/error.hpp"
#include "facto/recommend/ratings.hpp"

namespace facto {
namespace {

TEST(Ratings, MovieLensKeepsStringIds) {
    const auto R = parse_ratings("1::0104257::8::1364690142\n2::1074638::7::1365029107\n1::1074638::3::1365029108\n",
                                 "r.dat");
    ASSERT_EQ(R.size(), 3);
    EXPECT_EQ(R.num_users(), 2);
    EXPECT_EQ(R.num_items(), 2);
    EXPECT_EQ(R.items.id(R.item[0]), "0104257");  // leading zero kept
    EXPECT_EQ(R.users.id(R.user[2]), "1");
    EXPECT_EQ(R.value[2], 3);
    ASSERT_TRUE(R.has_time());
    EXPECT_EQ(R.time[1], 1365029107);
    EXPECT_EQ(R.items.find("1074638"), 1);
    EXPECT_EQ(R.items.find("nope"), -1);
}

TEST(Ratings, TabFormatWithoutTime) {
    ratings_read_options o;
    o.format = ratings_format::tab;
    const auto R = parse_ratings("196\t242\t3\n186\t302\t3.5\n", "u.data", o);
    ASSERT_EQ(R.size(), 2);
    EXPECT_FALSE(R.has_time());
    EXPECT_EQ(R.value[1], 3.5);
}

TEST(Ratings, CsvHeaderDetectsColumnsInAnyOrder) {
    const auto R = parse_ratings("timestamp,rating,movieId,userId\n10,4.5,m1,alice\n11,2,m2,bob\n", "r.csv");
    ASSERT_EQ(R.size(), 2);
    EXPECT_EQ(R.users.id(R.user[0]), "alice");
    EXPECT_EQ(R.items.id(R.item[1]), "m2");
    EXPECT_EQ(R.value[0], 4.5);
    EXPECT_EQ(R.time[1], 11);
}

TEST(Ratings, CsvNamedColumnsAndImplicitTwoColumns) {
    ratings_read_options o;
    o.user_column = "who";
    o.item_column = "what";
    o.rating_column = "n";
    const auto R = parse_ratings("what;who;n\nx;a;5\n", "r.csv", o);
    EXPECT_EQ(R.users.id(0), "a");
    EXPECT_EQ(R.value[0], 5);
    const auto I = parse_ratings("# clicks\nu1 i1\nu1 i2\n\nu2 i1\n", "clicks.txt");
    ASSERT_EQ(I.size(), 3);
    EXPECT_EQ(I.value[2], 1);
    EXPECT_EQ(I.num_users(), 2);
}

TEST(Ratings, ErrorsNameFileAndLine) {
    try {
        (void)parse_ratings("1::2::3\n1::2\n", "bad.dat");
        FAIL() << "no error";
    } catch (const parse_error& e) {
        EXPECT_EQ(e.line(), 2u);
        EXPECT_NE(std::string(e.what()).find("bad.dat:2:"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("found 2"), std::string::npos) << e.what();
    }
    try {
        (void)parse_ratings("user,item,rating\na,b,1\n\na,c,high\n", "bad.csv");
        FAIL() << "no error";
    } catch (const parse_error& e) {
        EXPECT_EQ(e.line(), 4u);
        EXPECT_NE(std::string(e.what()).find("not a number: 'high'"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)parse_ratings("1::2::3::noon\n", "t.dat"), parse_error);
    EXPECT_THROW((void)parse_ratings("a,b,c,d,e\n", "wide.csv", {.format = ratings_format::csv, .header = 0}),
                 parse_error);
    ratings_read_options o;
    o.item_column = "film";
    try {
        (void)parse_ratings("user,movie,rating\n", "h.csv", o);
        FAIL() << "no error";
    } catch (const parse_error& e) {
        EXPECT_NE(std::string(e.what()).find("h.csv:1:"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("'film'"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)read_ratings("/nonexistent/ratings.dat"), io_error);
}

TEST(Ratings, IdRoundTrip) {
    id_map m;
    const std::vector<std::string> ids = {"z", "007", "7", "a b", "z", "7", "0", "4194303", "4194304", "00", "7"};
    std::vector<index_t> idx;
    for (const auto& s : ids) idx.push_back(m.insert(s));
    EXPECT_EQ(m.size(), 8);
    EXPECT_EQ(m.find("7"), idx[2]);
    EXPECT_EQ(m.find("007"), idx[1]);
    EXPECT_EQ(m.find("8"), -1);
    EXPECT_EQ(m.find("4194304"), idx[8]);
    for (std::size_t k = 0; k < ids.size(); ++k) EXPECT_EQ(m.id(idx[k]), ids[k]);
    EXPECT_EQ(idx[0], idx[4]);
    EXPECT_THROW((void)m.id(8), out_of_range);
}

ratings_table random_table(index_t users, index_t items, index_t n, std::uint64_t seed, bool timed = true) {
    ratings_table R;
    for (index_t u = 0; u < users; ++u) R.users.insert("u" + std::to_string(u));
    for (index_t i = 0; i < items; ++i) R.items.insert("i" + std::to_string(i));
    std::uint64_t s = seed;
    auto next = [&s] {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        return s >> 33;
    };
    for (index_t k = 0; k < n; ++k) {
        R.user.push_back(static_cast<index_t>(next() % static_cast<std::uint64_t>(users)));
        R.item.push_back(static_cast<index_t>(next() % static_cast<std::uint64_t>(items)));
        R.value.push_back(static_cast<double>(next() % 5 + 1));
        if (timed) R.time.push_back(static_cast<std::int64_t>(next() % 1000));
    }
    return R;
}

TEST(Ratings, CsrMatchesNaiveWithDuplicatePolicies) {
    const auto R = random_table(13, 9, 200, 3);  // many repeated pairs
    for (auto dup : {duplicate_policy::mean, duplicate_policy::sum, duplicate_policy::last}) {
        std::map<std::pair<index_t, index_t>, std::vector<double>> naive;
        for (index_t k = 0; k < R.size(); ++k) naive[{R.user[k], R.item[k]}].push_back(R.value[k]);
        for (bool tr : {false, true}) {
            const csr_matrix A = to_csr(R, tr, dup);
            A.validate("test");
            EXPECT_EQ(A.rows, tr ? 9 : 13);
            EXPECT_EQ(A.nnz(), static_cast<index_t>(naive.size()));
            for (index_t r = 0; r < A.rows; ++r)
                for (index_t p = A.row_ptr[r]; p < A.row_ptr[r + 1]; ++p) {
                    const auto key = tr ? std::make_pair(A.col_idx[p], r) : std::make_pair(r, A.col_idx[p]);
                    const auto& v = naive.at(key);
                    double want = 0;
                    for (double x : v) want += x;
                    if (dup == duplicate_policy::mean) want /= static_cast<double>(v.size());
                    if (dup == duplicate_policy::last) want = v.back();
                    EXPECT_DOUBLE_EQ(A.values[p], want);
                }
        }
    }
}

void expect_partition(const ratings_split& s, index_t n) {
    std::vector<int> seen(static_cast<std::size_t>(n), 0);
    for (index_t r : s.train) ++seen[static_cast<std::size_t>(r)];
    for (index_t r : s.test) ++seen[static_cast<std::size_t>(r)];
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
}

TEST(Ratings, SplitsAreDisjointSeededAndSized) {
    const auto R = random_table(50, 40, 1000, 7);
    const auto a = split_random(R, 0.2, 1), b = split_random(R, 0.2, 1), c = split_random(R, 0.2, 2);
    expect_partition(a, R.size());
    EXPECT_EQ(a.test.size(), 200u);
    EXPECT_EQ(a.test, b.test);
    EXPECT_NE(a.test, c.test);

    const auto u = split_per_user(R, 0.3, 5);
    expect_partition(u, R.size());
    EXPECT_EQ(u.test, split_per_user(R, 0.3, 5).test);
    std::map<index_t, int> train_count, all_count, test_count;
    for (index_t r : u.train) ++train_count[R.user[r]];
    for (index_t r : u.test) ++test_count[R.user[r]];
    for (index_t r = 0; r < R.size(); ++r) ++all_count[R.user[r]];
    for (auto [user, n] : all_count) {
        EXPECT_GE(train_count[user], 1) << "user " << user << " lost every rating to the test set";
        EXPECT_EQ(test_count[user], std::min<index_t>(n - 1, std::llround(0.3 * n)));
    }

    const auto t = split_by_time(R, 0.25);
    expect_partition(t, R.size());
    std::int64_t latest_train = 0, earliest_test = 1 << 30;
    for (index_t r : t.train) latest_train = std::max(latest_train, R.time[r]);
    for (index_t r : t.test) earliest_test = std::min(earliest_test, R.time[r]);
    EXPECT_LE(latest_train, earliest_test);
    EXPECT_EQ(t.test.size(), 250u);
    EXPECT_THROW((void)split_by_time(random_table(5, 5, 10, 1, false), 0.2), invalid_argument);
    EXPECT_THROW((void)split_random(R, 1.0, 1), invalid_argument);

    const auto folds = k_fold(R, 5, 9);
    ASSERT_EQ(folds.size(), 5u);
    std::vector<int> tested(static_cast<std::size_t>(R.size()), 0);
    for (const auto& f : folds) {
        expect_partition(f, R.size());
        EXPECT_EQ(f.test.size(), 200u);
        for (index_t r : f.test) ++tested[r];
    }
    EXPECT_TRUE(std::all_of(tested.begin(), tested.end(), [](int c) { return c == 1; }));
    EXPECT_THROW((void)k_fold(R, 1, 0), invalid_argument);

    const auto sub = R.subset(a.test);
    EXPECT_EQ(sub.size(), 200);
    EXPECT_EQ(sub.num_users(), R.num_users());
    EXPECT_EQ(sub.value[3], R.value[a.test[3]]);
}

}  // namespace
}  // namespace facto
