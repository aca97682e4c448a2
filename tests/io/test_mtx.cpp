// test_mtx.cpp: MatrixMarket coordinate/array, every field and symmetry, errors, writing.
#include "facto/io/mtx.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "io/io_testing.hpp"

namespace fs = std::filesystem;
using namespace facto;
using facto::testing::temp_dir;

namespace {

using entry_map = std::map<std::pair<index_t, index_t>, double>;

entry_map entries(const coo_tensor& X) {
    entry_map m;
    for (index_t k = 0; k < X.nnz(); ++k)
        m[{X.indices[0][static_cast<std::size_t>(k)], X.indices[1][static_cast<std::size_t>(k)]}] += X.values[static_cast<std::size_t>(k)];
    return m;
}

std::string error_of(const std::string& text) {
    try {
        (void)parse_mtx(text, "m.mtx");
    } catch (const parse_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(parse_mtx, coordinate_real_general) {
    const std::string text =
        "%%MatrixMarket matrix coordinate real general\n% comment\n%\n\n3 4 4\n1 1 1.5\n3 4 -2\n% inside\n2 2 1e3\r\n3 4 1\n";
    mtx_header h;
    const coo_tensor X = parse_mtx(text, "m", &h);
    EXPECT_TRUE(h.coordinate);
    EXPECT_EQ(h.field, "real");
    EXPECT_EQ(h.symmetry, "general");
    EXPECT_EQ(h.rows, 3);
    EXPECT_EQ(h.cols, 4);
    EXPECT_EQ(h.entries, 4);
    EXPECT_EQ(X.shape, (shape_t{3, 4}));
    EXPECT_TRUE(X.is_canonical());
    EXPECT_EQ(entries(X), (entry_map{{{0, 0}, 1.5}, {{1, 1}, 1000}, {{2, 3}, -1}}));  // duplicates summed
    // A stored zero is an observed entry: kept (array zeros are not entries).
    EXPECT_EQ(parse_mtx("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 0\n2 2 5\n").nnz(), 2);
    EXPECT_EQ(parse_mtx("%%MatrixMarket matrix array real general\n2 1\n0\n5\n").nnz(), 1);
}

TEST(parse_mtx, symmetric_skew_pattern_integer) {
    const coo_tensor S = parse_mtx("%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 2\n3 1 5\n2 2 7\n");
    EXPECT_EQ(entries(S), (entry_map{{{0, 0}, 2}, {{2, 0}, 5}, {{0, 2}, 5}, {{1, 1}, 7}}));  // diagonal once
    const coo_tensor K = parse_mtx("%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 4\n3 2 -1\n");
    EXPECT_EQ(entries(K), (entry_map{{{1, 0}, 4}, {{0, 1}, -4}, {{2, 1}, -1}, {{1, 2}, 1}}));
    const coo_tensor P = parse_mtx("%%MatrixMarket matrix coordinate pattern symmetric\n2 2 2\n1 1\n2 1\n");
    EXPECT_EQ(entries(P), (entry_map{{{0, 0}, 1}, {{1, 0}, 1}, {{0, 1}, 1}}));
    mtx_header h;
    const coo_tensor I = parse_mtx("%%MATRIXMARKET Matrix Coordinate Integer General\n2 3 1\n2 3 -7\n", "i", &h);
    EXPECT_EQ(h.field, "integer");
    EXPECT_EQ(entries(I), (entry_map{{{1, 2}, -7}}));
}

TEST(parse_mtx, array_formats) {
    // Column-major: [[1, 0, 5], [2, 4, 0]].
    const std::string gen = "%%MatrixMarket matrix array real general\n% c\n2 3\n1\n2\n0\n4\n5\n0\n";
    EXPECT_EQ(entries(parse_mtx(gen)), (entry_map{{{0, 0}, 1}, {{1, 0}, 2}, {{1, 1}, 4}, {{0, 2}, 5}}));
    temp_dir d;
    write_file_atomic(d / "a.mtx", gen);
    const tensor A = read_mtx_dense(d / "a.mtx");
    EXPECT_EQ(A.shape(), (shape_t{2, 3}));
    EXPECT_EQ(A.values(), (std::vector<double>{1, 0, 5, 2, 4, 0}));
    // Symmetric array: lower triangle by columns (a11 a21 a31 a22 a32 a33).
    write_file_atomic(d / "s.mtx", "%%MatrixMarket matrix array real symmetric\n3 3\n1\n2\n3\n4\n5\n6\n");
    EXPECT_EQ(read_mtx_dense(d / "s.mtx").values(), (std::vector<double>{1, 2, 3, 2, 4, 5, 3, 5, 6}));
    write_file_atomic(d / "k.mtx", "%%MatrixMarket matrix array real skew-symmetric\n3 3\n1\n2\n3\n");
    EXPECT_EQ(read_mtx_dense(d / "k.mtx").values(), (std::vector<double>{0, -1, -2, 1, 0, -3, 2, 3, 0}));
    // A coordinate file read densely.
    write_file_atomic(d / "c.mtx", "%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 2\n2 1 3\n");
    EXPECT_EQ(read_mtx_dense(d / "c.mtx").values(), (std::vector<double>{2, 3, 3, 0}));
}

TEST(parse_mtx, errors) {
    EXPECT_EQ(error_of("%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n"),
              "m.mtx:1: read_mtx: complex matrices are not supported (fields: real, integer, pattern)");
    EXPECT_EQ(error_of("%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n2 2 2\n"),
              "m.mtx: read_mtx: expected 3 entries (size line 2), found 2");
    EXPECT_EQ(error_of("%%MatrixMarket matrix coordinate real general\n%\n2 2 1\n1 1 1\n2 2 2\n"),
              "m.mtx:5: read_mtx: more entries than the 1 given on the size line (line 3)");
    EXPECT_EQ(error_of("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n3 1 2\n"),
              "m.mtx:4: read_mtx: row index 3 outside 1..2 (MatrixMarket indices are 1-based)");
    EXPECT_EQ(error_of("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 0 1\n1 1 2\n"),
              "m.mtx:3: read_mtx: column index 0 outside 1..2 (MatrixMarket indices are 1-based)");
    EXPECT_EQ(error_of("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n1 1\n"),
              "m.mtx:4: read_mtx: expected 3 fields (2 indices and a value), found 2");
    EXPECT_EQ(error_of("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 x\n"), "m.mtx:3: read_mtx: not a number: 'x'");
    EXPECT_EQ(error_of("%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n1 1 3\n"),
              "m.mtx:3: read_mtx: nonzero diagonal entry in a skew-symmetric matrix");
    EXPECT_NE(error_of("%%MatrixMarket matrix coordinate real symmetric\n2 3 1\n1 1 3\n").find("must be square"), std::string::npos);
    EXPECT_NE(error_of("1 1 1\n").find("expected the banner"), std::string::npos);
    EXPECT_NE(error_of("%%MatrixMarket vector coordinate real general\n").find("object 'vector'"), std::string::npos);
    EXPECT_NE(error_of("%%MatrixMarket matrix coordinate real general\n2 2\n").find("size line"), std::string::npos);
    EXPECT_NE(error_of("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n").find("expected 4 entries"), std::string::npos);
}

TEST(write_mtx, coordinate_and_array_round_trip) {
    temp_dir d;
    coo_tensor X;
    X.shape = {3, 5};
    X.indices = {{0, 1, 2}, {4, 0, 2}};
    X.values = {0.1, -2.5e-8, 3};
    write_mtx(d / "x.mtx", X);
    EXPECT_EQ(read_file(d / "x.mtx"), "%%MatrixMarket matrix coordinate real general\n3 5 3\n1 5 0.1\n2 1 -2.5e-08\n3 3 3\n");
    const coo_tensor Y = read_mtx(d / "x.mtx");
    EXPECT_EQ(Y.shape, X.shape);
    EXPECT_EQ(entries(Y), entries(X));
    tensor D({2, 3});
    for (index_t k = 0; k < 6; ++k) D.data()[k] = static_cast<double>(k) / 3.0;
    write_mtx(d / "d.mtx", D.view());
    EXPECT_EQ(read_mtx_dense(d / "d.mtx"), D);
    coo_tensor T3;
    T3.shape = {2, 2, 2};
    T3.indices = {{}, {}, {}};
    EXPECT_THROW(write_mtx(d / "t.mtx", T3), invalid_argument);
}

TEST(read_mtx, shared_suitesparse) {
    const std::string dir = std::string(FACTO_SHARED_DATA) + "/suitesparse/";
    if (!fs::exists(dir + "bcspwr10.mtx")) GTEST_SKIP() << "shared data set suitesparse not found in " << dir;
    mtx_header h;
    const coo_tensor P = read_mtx(dir + "bcspwr10.mtx", &h);
    EXPECT_EQ(h.field, "pattern");
    EXPECT_EQ(h.symmetry, "symmetric");
    EXPECT_EQ(h.entries, 13571);
    EXPECT_EQ(P.shape, (shape_t{5300, 5300}));
    EXPECT_EQ(P.nnz(), 21842);
    const coo_tensor L = read_mtx(dir + "lp_e226.mtx");
    EXPECT_EQ(L.shape, (shape_t{223, 472}));
    EXPECT_EQ(L.nnz(), 2768);
    const coo_tensor K = read_mtx(dir + "bcsstk13.mtx.xz");
    EXPECT_EQ(K.nnz(), 83883);
    const coo_tensor B = read_mtx(dir + "bayer10.mtx.xz");
    EXPECT_EQ(B.shape, (shape_t{13436, 13436}));
    EXPECT_EQ(B.nnz(), 94926);  // stored zeros, if any, are kept
}
