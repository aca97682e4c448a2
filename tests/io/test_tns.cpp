// test_tns.cpp: FROSTT .tns parsing (base detection, syntax, errors with line numbers, chunked
// parallel parsing against a naive reader) and writing.
#include "facto/io/tns.hpp"

#include <gtest/gtest.h>
#include <omp.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "io/io_testing.hpp"

namespace fs = std::filesystem;
using namespace facto;
using facto::testing::as_map;

namespace {

// Naive reference: a map from 0-based coordinates to summed values.
std::map<std::vector<index_t>, double> naive(const std::string& text, int order, index_t base) {
    std::map<std::vector<index_t>, double> m;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::vector<index_t> c(static_cast<std::size_t>(order));
        if (!(ls >> c[0])) continue;
        for (int k = 1; k < order; ++k) ls >> c[static_cast<std::size_t>(k)];
        double v;
        ls >> v;
        for (auto& x : c) x -= base;
        m[c] += v;
    }
    return m;
}

std::string error_of(const std::string& text, const tns_read_options& o = {}) {
    try {
        (void)parse_tns(text, "x.tns", o);
    } catch (const parse_error& e) {
        return e.what();
    }
    return "no error";
}

std::string random_tns(std::size_t nnz, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string s = "# generated\n";
    for (std::size_t k = 0; k < nnz; ++k) {
        s += std::to_string(1 + rng() % 50) + " " + std::to_string(1 + rng() % 40) + "\t" + std::to_string(1 + rng() % 30);
        s += " " + std::to_string(static_cast<double>(rng() % 100000) / 64.0 - 500.0) + "\n";
        if (k % 997 == 0) s += "\n# comment\n";
    }
    return s;
}

}  // namespace

TEST(parse_tns, one_based_with_comments_tabs_crlf) {
    const std::string text = "# a comment\n\n1 1 1 1.5\r\n  2\t3 1  -2e-3\r\n# another\n2 1 4 7\n   \n1 3 2 0.25";
    coo_tensor X = parse_tns(text);
    ASSERT_EQ(X.shape, (shape_t{2, 3, 4}));
    ASSERT_EQ(X.nnz(), 4);
    EXPECT_TRUE(X.is_canonical());
    const auto m = as_map(X);
    EXPECT_EQ(m.at({0, 0, 0}), 1.5);
    EXPECT_EQ(m.at({1, 2, 0}), -2e-3);
    EXPECT_EQ(m.at({1, 0, 3}), 7.0);
    EXPECT_EQ(m.at({0, 2, 1}), 0.25);
}

TEST(parse_tns, zero_based_detected_and_forced) {
    coo_tensor X = parse_tns("0 1 2.0\n3 0 1.0\n");
    EXPECT_EQ(X.shape, (shape_t{4, 2}));
    // The same text without any 0 is taken as 1-based unless the base is given.
    coo_tensor Y = parse_tns("1 1 2.0\n3 2 1.0\n");
    EXPECT_EQ(Y.shape, (shape_t{3, 2}));
    coo_tensor Z = parse_tns("1 1 2.0\n3 2 1.0\n", "z", {.index_base = 0});
    EXPECT_EQ(Z.shape, (shape_t{4, 3}));
    EXPECT_EQ(as_map(Z).at({1, 1}), 2.0);
}

TEST(parse_tns, duplicates_summed_or_kept) {
    const std::string text = "2 2 1\n1 1 2\n2 2 3\n";
    coo_tensor X = parse_tns(text);
    ASSERT_EQ(X.nnz(), 2);
    EXPECT_EQ(as_map(X).at({1, 1}), 4.0);
    coo_tensor Y = parse_tns(text, "y", {.sum_duplicates = false});
    ASSERT_EQ(Y.nnz(), 3);  // file order kept
    EXPECT_EQ(Y.values, (std::vector<double>{1, 2, 3}));
    EXPECT_EQ(Y.indices[0], (std::vector<index_t>{1, 0, 1}));
}

TEST(parse_tns, stored_zeros_are_kept) {
    // A stored zero is an observed entry (completion, NMF --observed-only), even when summed.
    const coo_tensor X = parse_tns("1 1 0\n2 2 3\n1 2 1\n1 2 -1\n");
    ASSERT_EQ(X.nnz(), 3);
    EXPECT_EQ(X.values, (std::vector<double>{0, 0, 3}));
}

TEST(parse_tns, given_shape) {
    coo_tensor X = parse_tns("1 2 1\n", "x", {.shape = {5, 6}});
    EXPECT_EQ(X.shape, (shape_t{5, 6}));
    EXPECT_NE(error_of("1 2 1\n3 7 1\n", {.shape = {5, 6}}).find("x.tns:2: read_tns: index 7 in mode 1 is beyond the given shape 5x6"),
              std::string::npos);
    EXPECT_NE(error_of("1 2 1\n", {.shape = {5, 6, 7}}).find("has 3 modes"), std::string::npos);
    // An empty file is fine when the shape is known, an error otherwise.
    EXPECT_EQ(parse_tns("# nothing\n", "x", {.shape = {2, 2}}).nnz(), 0);
    EXPECT_NE(error_of("# nothing\n\n").find("no data lines"), std::string::npos);
}

TEST(parse_tns, errors_name_file_and_line) {
    EXPECT_EQ(error_of("1 1 1 1.0\n# c\n1 2 3\n"), "x.tns:3: read_tns: expected 4 fields (3 indices and a value), found 3");
    EXPECT_EQ(error_of("1 1 1 1.0\n1 2 3 4 5\n"), "x.tns:2: read_tns: expected 4 fields (3 indices and a value), found 5");
    EXPECT_EQ(error_of("1 1 1.0\n1 2 abc\n"), "x.tns:2: read_tns: not a number: 'abc'");
    EXPECT_EQ(error_of("1 1 1.0\n1 x 2\n"), "x.tns:2: read_tns: not a number: 'x' in field 2");
    EXPECT_EQ(error_of("1 1 1.0\n1 1.5 2\n"), "x.tns:2: read_tns: index '1.5' is not an integer in field 2");
    EXPECT_EQ(error_of("1 1 1.0\n1 -3 2\n"), "x.tns:2: read_tns: negative index -3 in field 2 (indices must be >= 0)");
    EXPECT_EQ(error_of("1 1 1.0\n1 1 nan\n"), "x.tns:2: read_tns: value is not finite: 'nan'");
    EXPECT_EQ(error_of("1 1 1 1.0\n\n2 2 1 1\n1 1 0 2\n", {.index_base = 1}),
              "x.tns:4: read_tns: index 0 in mode 2 of a 1-based file");
    EXPECT_EQ(error_of("1 1 1.0\n1 99999999999999999999 2\n"),
              "x.tns:2: read_tns: index '99999999999999999999' is too large in field 2");
    EXPECT_THROW(parse_tns("1 1\n", "x", {.index_base = 2}), invalid_argument);
    // A leading '+' is accepted.
    EXPECT_EQ(as_map(parse_tns("+1 2 +3.5\n")).at({0, 1}), 3.5);
}

TEST(parse_tns, chunked_parse_matches_naive_and_thread_count) {
    const std::string text = random_tns(120000, 42);  // a few MB: several chunks
    ASSERT_GT(text.size(), std::size_t(2) << 20);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    coo_tensor A = parse_tns(text);
    omp_set_num_threads(2);
    coo_tensor B = parse_tns(text);
    omp_set_num_threads(4);
    coo_tensor C = parse_tns(text, "c", {.sum_duplicates = false});
    omp_set_num_threads(saved);
    EXPECT_EQ(A.indices, B.indices);
    EXPECT_EQ(A.values, B.values);
    EXPECT_EQ(C.nnz(), 120000);
    const auto ref = naive(text, 3, 1);
    EXPECT_EQ(as_map(A), ref);
    EXPECT_EQ(as_map(C), ref);
    EXPECT_EQ(A.shape, (shape_t{50, 40, 30}));
}

TEST(parse_tns, line_numbers_correct_in_late_chunks) {
    std::string text = random_tns(120000, 3);
    // Count the lines, then break the 100000th-from-start data region near the end.
    const std::size_t lines_before = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    text += "1 2 3 4.0\n1 2 oops\n";
    omp_set_num_threads(2);
    EXPECT_EQ(error_of(text), "x.tns:" + std::to_string(lines_before + 2) +
                                  ": read_tns: expected 4 fields (3 indices and a value), found 3");
    // Index 0 forced 1-based: found after parsing, line recovered from the chunk.
    std::string t2 = random_tns(120000, 4);
    const std::size_t n2 = static_cast<std::size_t>(std::count(t2.begin(), t2.end(), '\n'));
    t2 += "\n0 1 1 1.0\n";
    EXPECT_EQ(error_of(t2, {.index_base = 1}), "x.tns:" + std::to_string(n2 + 2) + ": read_tns: index 0 in mode 0 of a 1-based file");
}

TEST(write_tns, round_trip_exact) {
    std::string t = (fs::temp_directory_path() / "facto_tns_XXXXXX").string();
    const fs::path dir = ::mkdtemp(t.data());
    const coo_tensor X = parse_tns(random_tns(5000, 9));
    const std::string p = (dir / "x.tns").string();
    write_tns(p, X);
    const coo_tensor Y = read_tns(p);
    EXPECT_EQ(Y.shape, X.shape);
    EXPECT_EQ(Y.indices, X.indices);
    EXPECT_EQ(Y.values, X.values);
    // 0-based output with awkward values.
    coo_tensor Z;
    Z.shape = {3, 2};
    Z.indices = {{0, 2}, {1, 0}};
    Z.values = {0.1 + 0.2, -1e-300};
    write_tns(p, Z, 0);
    EXPECT_EQ(read_file(p), "0 1 0.30000000000000004\n2 0 -1e-300\n");
    const coo_tensor W = read_tns(p);
    EXPECT_EQ(W.values, (std::vector<double>{0.1 + 0.2, -1e-300}));
    EXPECT_THROW(write_tns(p, Z, 2), invalid_argument);
    fs::remove_all(dir);
}

TEST(read_tns, shared_flights_data) {
    const std::string dir = std::string(FACTO_SHARED_DATA) + "/flights-2001";
    if (!fs::exists(dir + "/flights_od_hour.tns")) GTEST_SKIP() << "shared data set flights-2001 not found in " << dir;
    const coo_tensor X = read_tns(dir + "/flights_od_hour.tns");
    EXPECT_EQ(X.shape, (shape_t{229, 229, 24}));
    EXPECT_EQ(X.nnz(), 41135);
    const coo_tensor Y = read_tns(dir + "/flights_od_date.tns.xz");
    EXPECT_EQ(Y.nnz(), 570842);
    EXPECT_EQ(Y.order(), 3);
}
