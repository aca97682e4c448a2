// test_file.cpp: read_file (plain, gzip incl. multi-member, xz, errors) and atomic_file.
#include "facto/io/file.hpp"

#include <gtest/gtest.h>
#include <lzma.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "facto/core/error.hpp"
#include "io/io_testing.hpp"

namespace fs = std::filesystem;
using namespace facto;
using facto::testing::temp_dir;

namespace {

void put(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::binary);
    f << bytes;
}

std::string gzip(const std::string& s, int level = 6) {
    z_stream zs{};
    deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&zs, s.size()) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
    zs.avail_in = static_cast<uInt>(s.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

std::string xz(const std::string& s) {
    std::string out(lzma_stream_buffer_bound(s.size()), '\0');
    std::size_t pos = 0;
    EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(s.data()),
                                      s.size(), reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()),
              LZMA_OK);
    out.resize(pos);
    return out;
}

std::string sample_text(std::size_t n) {
    std::mt19937 rng(7);
    std::string s;
    while (s.size() < n) s += std::to_string(rng() % 1000) + " " + std::to_string(rng() % 97) + " 1.5\n";
    return s;
}

}  // namespace

TEST(read_file, plain_and_empty) {
    temp_dir d;
    put(d / "a.txt", "hello\nworld\n");
    EXPECT_EQ(read_file(d / "a.txt"), "hello\nworld\n");
    put(d / "e.txt", "");
    EXPECT_EQ(read_file(d / "e.txt"), "");
}

TEST(read_file, gzip_by_magic_whatever_the_name) {
    temp_dir d;
    const std::string s = sample_text(300000);
    put(d / "x.tns.gz", gzip(s));
    EXPECT_EQ(read_file(d / "x.tns.gz"), s);
    put(d / "noext", gzip(s, 1));
    EXPECT_EQ(read_file(d / "noext"), s);
}

TEST(read_file, gzip_multi_member) {
    temp_dir d;
    const std::string a = sample_text(5000), b = "second member\n", c = sample_text(100);
    put(d / "m.gz", gzip(a) + gzip(b) + gzip(c));
    EXPECT_EQ(read_file(d / "m.gz"), a + b + c);
}

TEST(read_file, xz) {
    temp_dir d;
    const std::string s = sample_text(200000);
    put(d / "x.xz", xz(s));
    EXPECT_EQ(read_file(d / "x.xz"), s);
    // Two concatenated streams read as one, like xz -dc.
    put(d / "y.xz", xz("abc") + xz("def"));
    EXPECT_EQ(read_file(d / "y.xz"), "abcdef");
}

TEST(read_file, corrupt_and_truncated_compressed_data) {
    temp_dir d;
    const std::string s = sample_text(50000);
    std::string g = gzip(s);
    put(d / "t.gz", g.substr(0, g.size() / 2));
    EXPECT_THROW(read_file(d / "t.gz"), parse_error);
    std::string bad = g;
    for (std::size_t i = 20; i < 60; ++i) bad[i] = static_cast<char>(~bad[i]);
    put(d / "c.gz", bad);
    EXPECT_THROW(read_file(d / "c.gz"), parse_error);
    put(d / "g.gz", g + "garbage!");
    EXPECT_THROW(read_file(d / "g.gz"), parse_error);
    std::string x = xz(s);
    put(d / "t.xz", x.substr(0, x.size() / 2));
    EXPECT_THROW(read_file(d / "t.xz"), parse_error);
    x[x.size() / 2] = static_cast<char>(~x[x.size() / 2]);
    put(d / "c.xz", x);
    EXPECT_THROW(read_file(d / "c.xz"), parse_error);
}

TEST(read_file, missing_file_names_file_and_reason) {
    try {
        (void)read_file("/nonexistent/dir/x.tns");
        FAIL() << "no exception";
    } catch (const io_error& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("/nonexistent/dir/x.tns"), std::string::npos) << m;
        EXPECT_NE(m.find("No such file"), std::string::npos) << m;
    }
    temp_dir d;
    EXPECT_THROW(read_file(d.dir.string()), io_error);
}

TEST(file_names, suffix_and_extension) {
    EXPECT_EQ(strip_compression_suffix("a/x.tns.xz"), "a/x.tns");
    EXPECT_EQ(strip_compression_suffix("a/x.tns.GZ"), "a/x.tns");
    EXPECT_EQ(strip_compression_suffix("a/x.tns"), "a/x.tns");
    EXPECT_EQ(format_extension("a/x.TNS.gz"), "tns");
    EXPECT_EQ(format_extension("data.v2/x"), "");
    EXPECT_EQ(format_extension("x.npy"), "npy");
    EXPECT_EQ(format_extension("x.csv.xz"), "csv");
}

TEST(atomic_file, commit_replaces_and_leaves_no_temp) {
    temp_dir d;
    const std::string p = d / "out.txt";
    put(p, "old");
    write_file_atomic(p, "new content");
    EXPECT_EQ(read_file(p), "new content");
    std::size_t files = 0;
    for (auto& e : fs::directory_iterator(d.dir)) (void)e, ++files;
    EXPECT_EQ(files, 1u);
}

TEST(atomic_file, failed_write_leaves_old_file_intact) {
    temp_dir d;
    const std::string p = d / "out.txt";
    put(p, "precious");
    try {
        atomic_file f(p);
        f.write("half of the new ");
        throw std::runtime_error("interrupted");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(read_file(p), "precious");
    std::size_t files = 0;
    for (auto& e : fs::directory_iterator(d.dir)) (void)e, ++files;
    EXPECT_EQ(files, 1u) << "the temporary file was not removed";
    // Without commit a new file is never created either.
    { atomic_file f(d / "never.txt"); f.write("x"); }
    EXPECT_FALSE(fs::exists(d / "never.txt"));
}

TEST(atomic_file, errors) {
    EXPECT_THROW(atomic_file("/nonexistent/dir/out.txt"), io_error);
    temp_dir d;
    atomic_file f(d / "a.txt");
    f.write("x");
    f.commit();
    EXPECT_THROW(f.write("y"), io_error);
    EXPECT_THROW(f.commit(), io_error);
    EXPECT_EQ(read_file(d / "a.txt"), "x");
}
