// test_any.cpp: read_tensor/write_tensor dispatch by extension, and check_tensor_file's
// problem lists for each format.
#include "facto/io/any.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "facto/io/npy.hpp"
#include "io/io_testing.hpp"

namespace fs = std::filesystem;
using namespace facto;
using facto::testing::temp_dir;

namespace {

bool has(const std::vector<file_problem>& v, std::size_t line, const std::string& text) {
    for (const auto& p : v)
        if (p.line == line && p.message.find(text) != std::string::npos) return true;
    return false;
}

std::string dump(const check_report& r) {
    std::string s = "format " + r.format + "\n";
    for (const auto& p : r.errors) s += "E " + std::to_string(p.line) + ": " + p.message + "\n";
    for (const auto& p : r.warnings) s += "W " + std::to_string(p.line) + ": " + p.message + "\n";
    return s;
}

coo_tensor small_coo() {
    coo_tensor X;
    X.shape = {3, 4};
    X.indices = {{0, 2, 2}, {1, 0, 3}};
    X.values = {1.5, -2, 4};
    return X;
}

}  // namespace

TEST(read_tensor, dispatch_by_extension) {
    temp_dir d;
    write_file_atomic(d / "a.tns", "1 2 3 1.5\n2 1 1 2\n");
    const any_tensor A = read_tensor(d / "a.tns");
    ASSERT_TRUE(std::holds_alternative<coo_tensor>(A));
    EXPECT_EQ(std::get<coo_tensor>(A).shape, (shape_t{2, 2, 3}));

    tensor D({2, 3});
    for (index_t k = 0; k < 6; ++k) D.data()[k] = static_cast<double>(k);
    write_npy<double>(d / "d.npy", D.view());
    EXPECT_EQ(std::get<tensor>(read_tensor(d / "d.npy")), D);
    write_npz<double>(d / "z.npz", {{"first", D}, {"second", tensor({2}, 7.0)}});
    EXPECT_EQ(std::get<tensor>(read_tensor(d / "z.npz")), D);
    EXPECT_EQ(std::get<tensor>(read_tensor(d / "z.npz", {.key = "second"})).values(), (std::vector<double>{7, 7}));
    EXPECT_THROW(read_tensor(d / "z.npz", {.key = "third"}), invalid_argument);

    write_file_atomic(d / "c.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 1\n2 1 5\n");
    EXPECT_EQ(std::get<coo_tensor>(read_tensor(d / "c.mtx")).nnz(), 1);
    write_file_atomic(d / "a.mtx", "%%MatrixMarket matrix array real general\n1 2\n5\n0\n");
    EXPECT_EQ(std::get<tensor>(read_tensor(d / "a.mtx")).values(), (std::vector<double>{5, 0}));

    // CSV: coordinates when every row is (indices, value); a dense table otherwise or on request.
    write_file_atomic(d / "c.csv", "i,j,v\n1,2,0.5\n2,1,3\n");
    EXPECT_EQ(std::get<coo_tensor>(read_tensor(d / "c.csv")).shape, (shape_t{2, 2}));
    EXPECT_EQ(std::get<tensor>(read_tensor(d / "c.csv", {.dense_csv = true})).shape(), (shape_t{2, 3}));
    write_file_atomic(d / "t.tsv", "1.5\t2\t3\n4\t5\t6\n");
    EXPECT_EQ(std::get<tensor>(read_tensor(d / "t.tsv")).shape(), (shape_t{2, 3}));
    // Format override, unknown extension.
    write_file_atomic(d / "x.dat", "1 1 2\n");
    EXPECT_EQ(std::get<coo_tensor>(read_tensor(d / "x.dat", {.format = "TNS"})).nnz(), 1);
    try {
        (void)read_tensor(d / "x.dat");
        FAIL();
    } catch (const invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find(supported_formats()), std::string::npos) << e.what();
    }
    EXPECT_THROW(read_tensor(d / "missing.tns"), io_error);
}

TEST(read_tensor, shape_option_grows_sparse_and_checks_dense) {
    temp_dir d;
    write_file_atomic(d / "a.tns", "1 2 3 1.5\n2 1 1 2\n");
    const any_tensor A = read_tensor(d / "a.tns", {.shape = {5, 2, 7}});
    EXPECT_EQ(std::get<coo_tensor>(A).shape, (shape_t{5, 2, 7}));
    EXPECT_EQ(std::get<coo_tensor>(A).nnz(), 2);
    const auto message = [&](const std::string& name, shape_t shape) -> std::string {
        try {
            (void)read_tensor(d / name, {.shape = std::move(shape)});
        } catch (const invalid_argument& e) {
            return e.what();
        }
        return "no error";
    };
    EXPECT_NE(message("a.tns", {2, 1, 3}).find("mode 1 has indices up to 1"), std::string::npos)
        << message("a.tns", {2, 1, 3});
    EXPECT_NE(message("a.tns", {2, 2}).find("has 2 modes"), std::string::npos) << message("a.tns", {2, 2});
    write_npy<double>(d / "d.npy", tensor({2, 3}).view());
    EXPECT_EQ(std::get<tensor>(read_tensor(d / "d.npy", {.shape = {2, 3}})).shape(), (shape_t{2, 3}));
    EXPECT_NE(message("d.npy", {3, 3}).find("dense 2x3"), std::string::npos) << message("d.npy", {3, 3});
}

TEST(read_tensor, digits_is_a_dense_table) {
    const std::string p = std::string(FACTO_SHARED_DATA) + "/digits/digits.csv.gz";
    if (!fs::exists(p)) GTEST_SKIP() << "shared digits data set not found: " << p;
    const any_tensor X = read_tensor(p);
    ASSERT_TRUE(std::holds_alternative<tensor>(X));
    EXPECT_EQ(std::get<tensor>(X).shape(), (shape_t{1797, 65}));
}

TEST(write_tensor, every_format_round_trips) {
    temp_dir d;
    const coo_tensor S = small_coo();
    const tensor D = to_dense(S);
    for (const char* name : {"s.tns", "s.csv", "s.tsv"}) {
        write_tensor(d / name, S);
        const any_tensor back = read_tensor(d / name);
        ASSERT_TRUE(std::holds_alternative<coo_tensor>(back)) << name;
        EXPECT_EQ(to_dense(std::get<coo_tensor>(back)), D) << name;
        write_tensor(d / name, D);  // dense input keeps its nonzeros
        EXPECT_EQ(to_dense(std::get<coo_tensor>(read_tensor(d / name))), D) << name;
    }
    for (const char* name : {"s.npy", "s.npz"}) {
        write_tensor(d / name, S);  // densified
        EXPECT_EQ(std::get<tensor>(read_tensor(d / name)), D) << name;
    }
    // .mtx keeps the kind: coordinate for sparse input, array for dense input.
    write_tensor(d / "s.mtx", S);
    EXPECT_EQ(to_dense(std::get<coo_tensor>(read_tensor(d / "s.mtx"))), D);
    write_tensor(d / "d.mtx", D);
    EXPECT_EQ(std::get<tensor>(read_tensor(d / "d.mtx")), D);
    EXPECT_THROW(write_tensor(d / "s.tns.gz", S), invalid_argument);
    EXPECT_THROW(write_tensor(d / "s.bin", S), invalid_argument);
    coo_tensor huge;
    huge.shape = {1 << 20, 1 << 20, 1 << 20};
    huge.indices.resize(3);
    EXPECT_THROW(write_tensor(d / "h.npy", huge), invalid_argument);
}

TEST(check_tensor_file, tns_lists_every_problem) {
    temp_dir d;
    write_file_atomic(d / "x.tns",
                      "# header\n"
                      "1 1 1 1.0\n"   // 2
                      "1 2 3\n"       // 3: too few fields
                      "1 x 1 2.0\n"   // 4: not a number
                      "1 -2 1 2.0\n"  // 5: negative
                      "2 2 2 nan\n"   // 6: NaN
                      "1 1 1 3.0\n"   // 7: duplicate of 2
                      "2 1 1 0\n"     // 8: explicit zero
                      "3 3 3 inf\n"); // 9: Inf
    const check_report r = check_tensor_file(d / "x.tns");
    EXPECT_EQ(r.format, "tns");
    EXPECT_TRUE(has(r.errors, 3, "expected 4 fields (3 indices and a value), found 3")) << dump(r);
    EXPECT_TRUE(has(r.errors, 4, "not a number: 'x' in mode 1")) << dump(r);
    EXPECT_TRUE(has(r.errors, 5, "negative index -2 in mode 1")) << dump(r);
    EXPECT_TRUE(has(r.errors, 6, "value is not finite: 'nan'")) << dump(r);
    EXPECT_TRUE(has(r.errors, 9, "value is not finite: 'inf'")) << dump(r);
    EXPECT_EQ(r.errors.size(), 5u) << dump(r);
    EXPECT_TRUE(has(r.warnings, 7, "duplicate coordinates (first at line 2)")) << dump(r);
    EXPECT_TRUE(has(r.warnings, 8, "explicit zero")) << dump(r);
    EXPECT_FALSE(r.truncated);
    EXPECT_EQ(r.entries, 3);
    EXPECT_EQ(r.shape, (shape_t{2, 1, 1}));
    const check_report t = check_tensor_file(d / "x.tns", 3);
    EXPECT_EQ(t.errors.size() + t.warnings.size(), 3u);
    EXPECT_TRUE(t.truncated);
}

TEST(check_tensor_file, tns_clean_and_stray_zero) {
    temp_dir d;
    write_file_atomic(d / "ok.tns", "1 1 1\n2 2 2\n");
    const check_report ok = check_tensor_file(d / "ok.tns");
    EXPECT_TRUE(ok.errors.empty() && ok.warnings.empty()) << dump(ok);
    EXPECT_EQ(ok.shape, (shape_t{2, 2}));
    // A single 0 in a file that otherwise looks 1-based.
    write_file_atomic(d / "z.tns", "1 1 1\n2 2 2\n0 2 1\n");
    const check_report z = check_tensor_file(d / "z.tns");
    EXPECT_TRUE(has(z.warnings, 3, "index 0 in mode 0 makes the whole file 0-based, but mode 1 never uses index 0")) << dump(z);
    // Empty slices.
    write_file_atomic(d / "e.tns", "1 1 1\n3 2 1\n");
    EXPECT_TRUE(has(check_tensor_file(d / "e.tns").warnings, 0, "mode 0: 1 of 3 slices are empty"));
}

TEST(check_tensor_file, mtx_npy_csv) {
    temp_dir d;
    write_file_atomic(d / "m.mtx", "%%MatrixMarket matrix coordinate real symmetric\n% c\n3 3 4\n1 1 1\n4 1 2\n1 2 3\n0 1 1\n2 2 x\n");
    const check_report m = check_tensor_file(d / "m.mtx");
    EXPECT_TRUE(has(m.errors, 5, "index 4 in mode 0 is beyond the size line's 3")) << dump(m);
    EXPECT_TRUE(has(m.errors, 7, "index 0 in mode 0 of a 1-based file")) << dump(m);
    EXPECT_TRUE(has(m.errors, 8, "not a number: 'x'")) << dump(m);
    EXPECT_TRUE(has(m.warnings, 6, "above the diagonal")) << dump(m);
    write_file_atomic(d / "c.mtx", "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 1\n");
    EXPECT_TRUE(has(check_tensor_file(d / "c.mtx").errors, 1, "complex matrices are not supported"));
    write_file_atomic(d / "n.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n2 2 1\n");
    EXPECT_TRUE(has(check_tensor_file(d / "n.mtx").errors, 0, "expected 3 entries (from the size line), found 2"));

    tensor D({2, 2}, 1.0);
    D.data()[3] = std::numeric_limits<double>::quiet_NaN();
    write_npy<double>(d / "d.npy", D.view());
    const check_report n = check_tensor_file(d / "d.npy");
    EXPECT_TRUE(has(n.errors, 0, "1 NaN values (first at flat index 3)")) << dump(n);
    EXPECT_EQ(n.shape, (shape_t{2, 2}));
    const std::string bytes = read_file(d / "d.npy");
    write_file_atomic(d / "cut.npy", bytes.substr(0, bytes.size() - 8));
    EXPECT_TRUE(has(check_tensor_file(d / "cut.npy").errors, 0, "but the file holds 24 bytes")) << dump(check_tensor_file(d / "cut.npy"));

    write_file_atomic(d / "t.csv", "a,b,c\n1.5,2,3\n4,5\n6,x,7\n");
    const check_report c = check_tensor_file(d / "t.csv");
    EXPECT_EQ(c.format, "csv (dense table)");
    EXPECT_TRUE(has(c.errors, 3, "expected 3 fields (as in the first row), found 2")) << dump(c);
    EXPECT_TRUE(has(c.errors, 4, "not a number: 'x' in field 2")) << dump(c);
    write_file_atomic(d / "k.csv", "1,1,2\n1,1,3\n");
    const check_report k = check_tensor_file(d / "k.csv");
    EXPECT_EQ(k.format, "csv (coordinates)");
    EXPECT_TRUE(has(k.warnings, 2, "duplicate coordinates (first at line 1)")) << dump(k);

    EXPECT_TRUE(has(check_tensor_file(d / "x.bin").errors, 0, "cannot tell the format"));
}

TEST(check_tensor_file, shared_data_is_clean) {
    const std::string p = std::string(FACTO_SHARED_DATA) + "/flights-2001/flights_od_hour.tns";
    if (!fs::exists(p)) GTEST_SKIP() << "shared data set flights-2001 not found: " << p;
    const check_report r = check_tensor_file(p);
    EXPECT_TRUE(r.errors.empty()) << dump(r);
    EXPECT_EQ(r.entries, 41135);
    EXPECT_EQ(r.shape, (shape_t{229, 229, 24}));
}

TEST(robustness, corrupted_text_gives_parse_errors_only) {
    // Random byte edits of valid files: every reader either succeeds or throws parse_error
    // (never crashes or throws anything else), and check_tensor_file never throws.
    temp_dir d;
    const std::string tns = "# t\n1 1 1 1.5\n2 3 1 -2\n1 2 2 3e-2\n4 1 3 7\n";
    const std::string mtx = "%%MatrixMarket matrix coordinate real symmetric\n% c\n4 4 3\n1 1 1\n3 1 2.5\n4 2 -1\n";
    const std::string csv = "i,j,v\n1,2,0.5\n2,1,3\n3,3,1\n";
    const std::string charset = "0123456789 \t\n\r#%,.-+eanix";
    std::mt19937 rng(5);
    for (int trial = 0; trial < 150; ++trial) {
        for (const auto* base : {&tns, &mtx, &csv}) {
            std::string s = *base;
            const int edits = 1 + static_cast<int>(rng() % 4);
            for (int e = 0; e < edits; ++e) {
                const std::size_t at = rng() % (s.size() + 1);
                switch (rng() % 3) {
                    case 0: s.insert(at, 1, charset[rng() % charset.size()]); break;
                    case 1: if (at < s.size()) s.erase(at, 1); break;
                    default: if (at < s.size()) s[at] = charset[rng() % charset.size()];
                }
            }
            const std::string ext = base == &tns ? "tns" : base == &mtx ? "mtx" : "csv";
            const std::string p = d / ("f." + ext);
            std::ofstream(p, std::ios::binary) << s;  // no fsync: this loop writes many files
            try {
                (void)read_tensor(p);
            } catch (const parse_error&) {
            } catch (const std::exception& ex) {
                ADD_FAILURE() << "unexpected " << ex.what() << " for:\n" << s;
            }
            EXPECT_NO_THROW((void)check_tensor_file(p, 20)) << s;
        }
    }
}
