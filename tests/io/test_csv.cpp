// test_csv.cpp: CSV/TSV coordinates and dense tables: delimiter, header and base detection,
// errors with line numbers, writing, and the digits data set.
#include "facto/io/csv.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <cmath>
#include <iostream>
#include <map>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "io/io_testing.hpp"

namespace fs = std::filesystem;
using namespace facto;
using facto::testing::as_map;

namespace {

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const parse_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(csv_coo, delimiters_header_and_base) {
    using M = std::map<std::vector<index_t>, double>;
    // Comma with header, 1-based.
    const coo_tensor A = parse_csv_coo("row,col,val\n1,2,0.5\n3, 1 ,-1\n");
    EXPECT_EQ(A.shape, (shape_t{3, 2}));
    EXPECT_EQ(as_map(A), (M{{{0, 1}, 0.5}, {{2, 0}, -1}}));
    // Tab, no header, 0-based detected.
    const coo_tensor B = parse_csv_coo("0\t1\t2\t1.5\r\n2\t0\t0\t2\r\n");
    EXPECT_EQ(B.shape, (shape_t{3, 2, 3}));
    EXPECT_EQ(as_map(B), (M{{{0, 1, 2}, 1.5}, {{2, 0, 0}, 2}}));
    // Semicolon; whitespace.
    EXPECT_EQ(as_map(parse_csv_coo("1;1;2\n2;2;3\n")), (M{{{0, 0}, 2}, {{1, 1}, 3}}));
    EXPECT_EQ(as_map(parse_csv_coo("1 1 2\n2  2 3\n")), (M{{{0, 0}, 2}, {{1, 1}, 3}}));
    // Forced options.
    const coo_tensor C = parse_csv_coo("1,1,2\n", "c", {.delimiter = ',', .header = 0, .index_base = 0});
    EXPECT_EQ(C.shape, (shape_t{2, 2}));
    // Our own header means 0-based even without a 0.
    EXPECT_EQ(parse_csv_coo("i0,i1,value\n1,1,2\n").shape, (shape_t{2, 2}));
    // Duplicates summed.
    EXPECT_EQ(as_map(parse_csv_coo("1,1,2\n1,1,3\n")), (M{{{0, 0}, 5}}));
    // A stored zero is an observed entry: kept.
    EXPECT_EQ(parse_csv_coo("1,1,0\n2,2,1\n").nnz(), 2);
}

TEST(csv_coo, errors) {
    EXPECT_EQ(error_of([] { (void)parse_csv_coo("i,j,v\n1,1,1\n1,2\n", "c.csv"); }),
              "c.csv:3: read_csv_coo: expected 3 fields (2 indices and a value), found 2");
    EXPECT_EQ(error_of([] { (void)parse_csv_coo("1,1,1\n1,x,2\n", "c.csv"); }), "c.csv:2: read_csv_coo: not a number: 'x' in field 2");
    EXPECT_EQ(error_of([] { (void)parse_csv_coo("1,1,1\n1,,2\n", "c.csv"); }), "c.csv:2: read_csv_coo: not a number: '' in field 2");
    EXPECT_EQ(error_of([] { (void)parse_csv_coo("1,1,1\n2,0,2\n", "c.csv", {.index_base = 1}); }),
              "c.csv:2: read_csv_coo: index 0 in mode 1 of a 1-based file");
    EXPECT_EQ(error_of([] { (void)parse_csv_coo("1,-1,1\n", "c.csv"); }),
              "c.csv:1: read_csv_coo: negative index -1 in field 2 (indices must be >= 0)");
    EXPECT_NE(error_of([] { (void)parse_csv_coo("a,b\n", "c.csv"); }).find("no data lines"), std::string::npos);
    EXPECT_THROW(parse_csv_coo("1,1\n", "c", {.header = 3}), invalid_argument);
}

TEST(csv_dense, table_with_and_without_header) {
    const tensor A = parse_csv_dense("a,b,c\n1,2,3\n4,5.5,-6e1\n");
    EXPECT_EQ(A.shape(), (shape_t{2, 3}));
    EXPECT_EQ(A.values(), (std::vector<double>{1, 2, 3, 4, 5.5, -60}));
    const tensor B = parse_csv_dense("1\t2\n3\tnan\n\n");
    EXPECT_EQ(B.shape(), (shape_t{2, 2}));
    EXPECT_TRUE(std::isnan(B.data()[3]));
    EXPECT_EQ(error_of([] { (void)parse_csv_dense("1,2,3\n4,5\n", "d.csv"); }),
              "d.csv:2: read_csv_dense: expected 3 fields (as in the first row), found 2");
    EXPECT_EQ(error_of([] { (void)parse_csv_dense("1,2\n4,five\n", "d.csv"); }), "d.csv:2: read_csv_dense: not a number: 'five'");
    // A numeric first row is data unless the header is forced.
    EXPECT_EQ(parse_csv_dense("1,2\n3,4\n", "d", {.header = 1}).shape(), (shape_t{1, 2}));
}

TEST(write_csv_coo, round_trip_csv_and_tsv) {
    std::string t = (fs::temp_directory_path() / "facto_csv_XXXXXX").string();
    const fs::path dir = ::mkdtemp(t.data());
    coo_tensor X;
    X.shape = {3, 4, 2};
    X.indices = {{0, 1, 2}, {3, 1, 2}, {1, 1, 0}};
    X.values = {0.1, 2, -3.25};
    const std::string c = (dir / "x.csv").string(), v = (dir / "x.tsv").string();
    write_csv_coo(c, X);
    EXPECT_EQ(read_file(c), "i0,i1,i2,value\n0,3,1,0.1\n1,1,1,2\n2,2,0,-3.25\n");
    write_csv_coo(v, X);
    EXPECT_EQ(read_file(v).substr(0, 15), "i0\ti1\ti2\tvalue\n");
    for (const auto& p : {c, v}) {
        const coo_tensor Y = read_csv_coo(p);
        EXPECT_EQ(Y.shape, X.shape);
        EXPECT_EQ(as_map(Y), as_map(X));
    }
    // The shape comes from the largest index: here mode 1 reaches 3 only through index 3.
    fs::remove_all(dir);
}

TEST(read_csv_dense, digits) {
    for (const std::string p : {std::string("/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"),
                                std::string(FACTO_SHARED_DATA) + "/digits/digits.csv.gz"}) {
        if (!fs::exists(p)) {
            std::cout << "skipping absent " << p << "\n";
            continue;
        }
        const tensor D = read_csv_dense(p);
        EXPECT_EQ(D.shape(), (shape_t{1797, 65}));
        EXPECT_EQ(D(0, 2), 5);      // first row: 0,0,5,13,...
        EXPECT_EQ(D(1796, 64), 8);  // label of the last row
        double mx = 0;
        for (index_t i = 0; i < 1797; ++i)
            for (index_t j = 0; j < 64; ++j) mx = std::max(mx, D(i, j));
        EXPECT_EQ(mx, 16);
    }
    if (!fs::exists(std::string(FACTO_SHARED_DATA) + "/digits/digits.csv.gz")) GTEST_SKIP() << "shared digits data set not found";
}
