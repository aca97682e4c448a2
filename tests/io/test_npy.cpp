// test_npy.cpp: .npy headers and dtypes (fixtures written by NumPy), Fortran order, errors,
// round trips, and .npz archives both ways, including NumPy reading what facto writes.
#include "facto/io/npy.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "io/io_testing.hpp"

namespace fs = std::filesystem;
using namespace facto;
using facto::testing::temp_dir;

namespace {

const std::string fixtures = std::string(FACTO_TEST_DATA) + "/npy/";

// The array every fixture called "base" holds: arange(24).reshape(2, 3, 4) * 0.5 - 3.
tensor base_tensor() {
    tensor X({2, 3, 4});
    for (index_t k = 0; k < 24; ++k) X.data()[k] = static_cast<double>(k) * 0.5 - 3.0;
    return X;
}

std::string error_of(const std::string& file) {
    try {
        (void)read_npy<double>(fixtures + file);
    } catch (const parse_error& e) {
        return e.what();
    }
    return "no error";
}

bool have_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

}  // namespace

TEST(npy_header, parses_numpy_headers) {
    const std::string b = read_file(fixtures + "f8_c.npy");
    const npy_header h = parse_npy_header(b);
    EXPECT_EQ(h.descr, "<f8");
    EXPECT_FALSE(h.fortran_order);
    EXPECT_EQ(h.shape, (shape_t{2, 3, 4}));
    EXPECT_EQ(h.data_offset % 64, 0u);
    EXPECT_EQ(parse_npy_header(read_file(fixtures + "scalar.npy")).shape, shape_t{});
    EXPECT_EQ(parse_npy_header(read_file(fixtures + "i1.npy")).shape, shape_t{5});
    EXPECT_EQ(parse_npy_header(read_file(fixtures + "b1.npy")).descr, "|b1");
    EXPECT_TRUE(parse_npy_header(read_file(fixtures + "f4_fortran.npy")).fortran_order);
}

TEST(npy_header, hand_written_dicts) {
    auto make = [](const std::string& dict) {
        std::string s = "\x93NUMPY";
        s += '\x01';
        s += '\0';
        s += static_cast<char>(dict.size() & 0xFF);
        s += static_cast<char>(dict.size() >> 8);
        return s + dict;
    };
    EXPECT_EQ(parse_npy_header(make("{\"descr\":\"<i4\",\"shape\":(3L, 2L),\"fortran_order\":True}")).shape, (shape_t{3, 2}));
    EXPECT_EQ(parse_npy_header(make("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }   \n")).shape, shape_t{5});
    EXPECT_THROW(parse_npy_header(make("{'descr': '<f8', 'shape': (5,)}")), parse_error);   // no fortran_order
    EXPECT_THROW(parse_npy_header(make("{'descr': '<f8', 'fortran_order': 0, 'shape': (5,)}")), parse_error);
    EXPECT_THROW(parse_npy_header(make("{'descr': '<f8', 'fortran_order': False, 'shape': (5,")), parse_error);
    EXPECT_THROW(parse_npy_header("\x93NUMPZ\x01\x00\x00\x00"), parse_error);
    std::string v9 = make("{}");
    v9[6] = 9;
    try {
        (void)parse_npy_header(v9, "v9.npy");
        FAIL();
    } catch (const parse_error& e) {
        EXPECT_NE(std::string(e.what()).find("version 9.0 is not supported"), std::string::npos) << e.what();
    }
}

TEST(read_npy, float_c_fortran_and_versions) {
    const tensor B = base_tensor();
    EXPECT_EQ(read_npy<double>(fixtures + "f8_c.npy"), B);
    EXPECT_EQ(read_npy<double>(fixtures + "f4_fortran.npy"), B);  // values exact in float
    EXPECT_EQ(read_npy<double>(fixtures + "v2.npy"), B);
    EXPECT_EQ(read_npy<double>(fixtures + "v3.npy"), B);
    const tensor_f F = read_npy<float>(fixtures + "f8_c.npy");
    EXPECT_EQ(F.shape(), B.shape());
    EXPECT_EQ(F(1, 2, 3), 8.5f);
    const tensor S = read_npy<double>(fixtures + "scalar.npy");
    EXPECT_EQ(S.shape(), shape_t{1});
    EXPECT_EQ(S.data()[0], 2.5);
    EXPECT_EQ(read_npy<double>(fixtures + "empty.npy").shape(), (shape_t{0, 3}));
}

TEST(read_npy, integer_and_bool_dtypes) {
    auto check_signed = [](const char* f, double lo, double hi) {
        const tensor X = read_npy<double>(fixtures + f);
        EXPECT_EQ(X.values(), (std::vector<double>{lo, -1, 0, 1, hi})) << f;
    };
    check_signed("i1.npy", -128, 127);
    check_signed("i2.npy", -32768, 32767);
    check_signed("i4.npy", -2147483648.0, 2147483647.0);
    check_signed("i8.npy", -9223372036854775808.0, 9223372036854775807.0);
    auto check_unsigned = [](const char* f, double hi) {
        const tensor X = read_npy<double>(fixtures + f);
        EXPECT_EQ(X.shape(), (shape_t{2, 2}));
        EXPECT_EQ(X.values(), (std::vector<double>{0, 1, 7, hi})) << f;
    };
    check_unsigned("u1.npy", 255);
    check_unsigned("u2.npy", 65535);
    check_unsigned("u4.npy", 4294967295.0);
    check_unsigned("u8.npy", 18446744073709551615.0);
    const tensor Bo = read_npy<double>(fixtures + "b1.npy");
    EXPECT_EQ(Bo.values(), (std::vector<double>{1, 0, 1, 0, 0, 1}));
}

TEST(read_npy, rejects_with_what_was_found) {
    EXPECT_NE(error_of("big_endian.npy").find("big-endian data ('>f8') is not supported; supported: little-endian"), std::string::npos)
        << error_of("big_endian.npy");
    EXPECT_NE(error_of("complex.npy").find("complex data ('<c16')"), std::string::npos) << error_of("complex.npy");
    EXPECT_NE(error_of("object.npy").find("object arrays ('|O')"), std::string::npos) << error_of("object.npy");
    // Size mismatch: a truncated file and one with extra bytes.
    std::string b = read_file(fixtures + "f8_c.npy");
    try {
        (void)parse_npy<double>(std::string_view(b).substr(0, b.size() - 8), "cut.npy");
        FAIL();
    } catch (const parse_error& e) {
        EXPECT_NE(std::string(e.what()).find("(192 bytes of data) but the file holds 184 bytes"), std::string::npos) << e.what();
    }
    EXPECT_THROW(parse_npy<double>(b + "xx"), parse_error);
    EXPECT_THROW(read_npy<double>("/nonexistent.npy"), io_error);
}

TEST(write_npy, header_layout_and_round_trip) {
    temp_dir d;
    const tensor B = base_tensor();
    const std::string bytes = to_npy<double>(B.view());
    const npy_header h = parse_npy_header(bytes);
    EXPECT_EQ(h.data_offset, 128u);  // 10 + 118 bytes of dict: a multiple of 64
    EXPECT_EQ(bytes[h.data_offset - 1], '\n');
    EXPECT_NE(bytes.find("'shape': (2, 3, 4), }"), std::string::npos);
    EXPECT_EQ(parse_npy<double>(bytes), B);
    // Same bytes as NumPy's own file for the same array.
    EXPECT_EQ(bytes, read_file(fixtures + "f8_c.npy"));

    tensor_f F({5});
    for (int k = 0; k < 5; ++k) F.data()[k] = 0.1f * static_cast<float>(k);
    write_npy<float>(d / "v.npy", F.view());
    const std::string vb = read_file(d / "v.npy");
    EXPECT_NE(vb.find("'descr': '<f4'"), std::string::npos);
    EXPECT_NE(vb.find("'shape': (5,)"), std::string::npos);
    EXPECT_EQ(read_npy<float>(d / "v.npy"), F);

    matrix M(2, 3);
    for (index_t k = 0; k < 6; ++k) M.data()[k] = static_cast<double>(k) - 2.5;
    write_npy(d / "m.npy", M);
    const tensor MT = read_npy<double>(d / "m.npy");
    EXPECT_EQ(MT.shape(), (shape_t{2, 3}));
    EXPECT_EQ(MT.values(), M.values());
    write_npy(d / "w.npy", std::vector<double>{1, 2, std::numeric_limits<double>::quiet_NaN()});
    const tensor W = read_npy<double>(d / "w.npy");
    EXPECT_TRUE(std::isnan(W.data()[2]));
}

TEST(npz, reads_numpy_archives) {
    for (const char* f : {"stored.npz", "compressed.npz", "zip64.npz"}) {
        const auto m = read_npz<double>(fixtures + f);
        ASSERT_EQ(m.size(), 2u) << f;
        EXPECT_EQ(m.at("a"), base_tensor()) << f;
        EXPECT_EQ(m.at("b").values(), (std::vector<double>{0, 1, 2, 3, 4})) << f;
    }
}

TEST(npz, round_trip_and_damage) {
    temp_dir d;
    std::map<std::string, tensor> arrays{{"x", base_tensor()}, {"y", tensor({3}, 1.25)}};
    for (bool compress : {false, true}) {
        const std::string p = d / (compress ? "c.npz" : "s.npz");
        write_npz(p, arrays, compress);
        EXPECT_EQ(read_npz<double>(p), arrays);
    }
    EXPECT_LT(fs::file_size(d / "c.npz"), fs::file_size(d / "s.npz"));
    std::string bytes = read_file(d / "c.npz");
    bytes[60] = static_cast<char>(~bytes[60]);  // inside the first deflated member
    write_file_atomic(d / "bad.npz", bytes);
    EXPECT_THROW(read_npz<double>(d / "bad.npz"), parse_error);
    write_file_atomic(d / "short.npz", read_file(d / "s.npz").substr(0, 100));
    EXPECT_THROW(read_npz<double>(d / "short.npz"), parse_error);
}

TEST(npz, numpy_reads_facto_and_facto_reads_numpy) {
    if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
    temp_dir d;
    std::map<std::string, tensor> arrays{{"x", base_tensor()}, {"y", tensor({3}, 1.25)}};
    write_npz(d / "s.npz", arrays, false);
    write_npz(d / "c.npz", arrays, true);
    write_npy<double>(d / "x.npy", base_tensor().view());
    const std::string check =
        "/usr/bin/python3 -c \"import numpy as np, sys; d = sys.argv[1]; b = np.arange(24.).reshape(2, 3, 4) * 0.5 - 3\n"
        "for f in ['s.npz', 'c.npz']:\n"
        "    z = np.load(d + '/' + f); assert sorted(z.files) == ['x', 'y']; assert (z['x'] == b).all(); assert (z['y'] == 1.25).all()\n"
        "assert (np.load(d + '/x.npy') == b).all()\n"
        "np.savez(d + '/np_s.npz', p=b[0], q=np.int16([1, -2]))\n"
        "np.savez_compressed(d + '/np_c.npz', p=b[0], q=np.int16([1, -2]))\" " +
        d.dir.string();
    ASSERT_EQ(std::system(check.c_str()), 0) << "NumPy could not read what facto wrote";
    for (const char* f : {"np_s.npz", "np_c.npz"}) {
        const auto m = read_npz<double>(d / f);
        ASSERT_EQ(m.size(), 2u);
        EXPECT_EQ(m.at("p").shape(), (shape_t{3, 4}));
        EXPECT_EQ(m.at("p").data()[11], 2.5);
        EXPECT_EQ(m.at("q").values(), (std::vector<double>{1, -2}));
    }
}

TEST(read_npy, shared_claus) {
    const std::string p = std::string(FACTO_SHARED_DATA) + "/amino-acids-claus/claus.npy";
    if (!fs::exists(p)) GTEST_SKIP() << "shared data set amino-acids-claus not found: " << p;
    const tensor X = read_npy<double>(p);
    EXPECT_EQ(X.shape(), (shape_t{5, 201, 61}));
    const std::string k = std::string(FACTO_SHARED_DATA) + "/kinetic-fluorescence/kinetic_missing.npy.xz";
    if (fs::exists(k)) {
        const tensor M = read_npy<double>(k);  // bool, read through xz
        EXPECT_EQ(M.shape(), (shape_t{64, 12, 10, 60}));
        double missing = 0;
        for (double v : M.values()) missing += v;
        EXPECT_EQ(missing, 1754);
    }
}
