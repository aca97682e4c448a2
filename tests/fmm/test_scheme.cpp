// tests/fmm/test_scheme.cpp: the multiplication tensor, verification, standard and Strassen
// schemes, and the text and .npy round trips.
#include "facto/fmm/scheme.hpp"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "facto/io/npy.hpp"

using namespace facto;
using namespace facto::fmm;

namespace {

// Naive oracle: multiply random GF(2) matrices with the scheme and compare with A*B.
bool multiplies_correctly(const scheme& s, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 20; ++trial) {
        std::vector<int> A(s.n * s.m), B(s.m * s.p), C(s.n * s.p, 0), D(s.n * s.p, 0);
        for (int& a : A) a = rng() & 1;
        for (int& b : B) b = rng() & 1;
        for (int i = 0; i < s.n; ++i)
            for (int k = 0; k < s.p; ++k)
                for (int j = 0; j < s.m; ++j) C[i * s.p + k] ^= A[i * s.m + j] & B[j * s.p + k];
        for (const term& t : s.terms) {
            int x = 0, y = 0;
            for (int e = 0; e < s.n * s.m; ++e) x ^= ((t.u >> e) & 1) & A[e];
            for (int e = 0; e < s.m * s.p; ++e) y ^= ((t.v >> e) & 1) & B[e];
            for (int k = 0; k < s.p; ++k)
                for (int i = 0; i < s.n; ++i)
                    if ((t.w >> (k * s.n + i)) & 1) D[i * s.p + k] ^= x & y;
        }
        if (C != D) return false;
    }
    return true;
}

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("facto_test_fmm_" + std::to_string(::getpid()) + "_" + name))
        .string();
}

}  // namespace

TEST(FmmScheme, StandardAlgorithmVerifies) {
    for (auto [n, m, p] : {std::array{1, 1, 1}, {2, 2, 2}, {2, 3, 4}, {3, 3, 3}, {4, 4, 4}, {4, 5, 3}, {8, 8, 8}}) {
        const scheme s = standard_scheme(n, m, p);
        EXPECT_EQ(s.rank(), n * m * p);
        EXPECT_TRUE(verify(s).ok) << n << m << p << verify(s).message;
        if (n * m * p <= 64) EXPECT_TRUE(multiplies_correctly(s, 7));
    }
}

TEST(FmmScheme, StrassenVerifiesAndMultiplies) {
    const scheme s = strassen_scheme();
    EXPECT_EQ(s.rank(), 7);
    EXPECT_TRUE(verify(s).ok) << verify(s).message;
    EXPECT_TRUE(multiplies_correctly(s, 3));
}

TEST(FmmScheme, VerifyDetectsEveryBrokenBit) {
    const scheme good = strassen_scheme();
    // Flipping any single bit of any factor breaks the scheme, and the oracle agrees.
    for (std::size_t r = 0; r < good.terms.size(); ++r)
        for (int pos = 0; pos < 3; ++pos)
            for (int b = 0; b < 4; ++b) {
                scheme bad = good;
                factor_t& f = pos == 0 ? bad.terms[r].u : pos == 1 ? bad.terms[r].v : bad.terms[r].w;
                f ^= factor_t{1} << b;
                const verify_result v = verify(bad);
                EXPECT_FALSE(v.ok);
                EXPECT_GT(v.failures, 0);
                EXPECT_FALSE(v.message.empty());
                EXPECT_FALSE(multiplies_correctly(bad, 11));
            }
    scheme dropped = good;
    dropped.terms.pop_back();
    EXPECT_FALSE(verify(dropped).ok);
    EXPECT_THROW(require_valid(dropped, "test"), facto::invalid_argument);
    scheme outside = good;
    outside.terms[0].u |= factor_t{1} << 10;
    EXPECT_FALSE(verify(outside).ok);
}

TEST(FmmScheme, VerifyOverManyTermsUsesAllWords) {
    // <4,4,8> standard has 128 terms (two words per bit set); breaking the last term is found.
    scheme s = standard_scheme(4, 4, 8);
    ASSERT_TRUE(verify(s).ok);
    s.terms.back().w ^= 1;
    EXPECT_FALSE(verify(s).ok);
}

TEST(FmmScheme, FormatLimits) {
    EXPECT_THROW(check_format(0, 2, 2), facto::invalid_argument);
    EXPECT_THROW(check_format(9, 8, 8), facto::invalid_argument);
    EXPECT_NO_THROW(check_format(8, 8, 8));
    EXPECT_NO_THROW(check_format(2, 32, 2));
}

TEST(FmmScheme, TextRoundTrip) {
    for (const scheme& s : {strassen_scheme(), standard_scheme(2, 3, 4)}) {
        const scheme back = parse_text(to_text(s), "mem");
        EXPECT_EQ(back.n, s.n);
        EXPECT_EQ(back.m, s.m);
        EXPECT_EQ(back.p, s.p);
        EXPECT_EQ(back.terms, s.terms);
    }
    const std::string path = temp_path("s.txt");
    write_scheme_text(path, strassen_scheme());
    EXPECT_EQ(read_scheme(path).terms, strassen_scheme().terms);
    std::filesystem::remove(path);
}

TEST(FmmScheme, TextCikConvention) {
    // Write <2,3,4> standard with w in the c_ik order (n x p, bit i*p+k) and read it back.
    const scheme s = standard_scheme(2, 3, 4);
    std::string text = "fmm 2 3 4\nfield gf2\nconvention cik\n";
    for (const term& t : s.terms) {
        std::string u(6, '0'), v(12, '0'), w(8, '0');
        for (int e = 0; e < 6; ++e) u[e] = (t.u >> e & 1) ? '1' : '0';
        for (int e = 0; e < 12; ++e) v[e] = (t.v >> e & 1) ? '1' : '0';
        for (int k = 0; k < 4; ++k)
            for (int i = 0; i < 2; ++i)
                if (t.w >> (k * 2 + i) & 1) w[i * 4 + k] = '1';
        text += u + " " + v + " " + w + "\n";
    }
    EXPECT_EQ(parse_text(text, "cik").terms, s.terms);
    // Without the convention line the flag selects it; without either, it does not verify.
    const std::string no_conv = text.substr(0, text.find("convention")) + text.substr(text.find("convention cik\n") + 15);
    EXPECT_EQ(parse_text(no_conv, "flag", true).terms, s.terms);
    EXPECT_THROW(parse_text(no_conv, "plain"), facto::invalid_argument);
}

TEST(FmmScheme, TextErrorsNameTheLine) {
    try {
        parse_text("fmm 2 2 2\n1001 1001 10x1\n", "bad.txt");
        FAIL();
    } catch (const facto::parse_error& e) {
        EXPECT_EQ(e.line(), 2u);
        EXPECT_NE(std::string(e.what()).find("expected 0 or 1"), std::string::npos);
    }
    EXPECT_THROW(parse_text("1001 1001 1001\n", "x"), facto::parse_error);
    EXPECT_THROW(parse_text("fmm 2 2 2\n101 1001 1001\n", "x"), facto::parse_error);
    EXPECT_THROW(parse_text("fmm 2 2 2\nfield z\n", "x"), facto::parse_error);
    EXPECT_THROW(parse_text("fmm 9 9 9\n", "x"), facto::parse_error);
    std::string t = to_text(strassen_scheme());
    t.replace(t.find("rank 7"), 6, "rank 8");
    EXPECT_THROW(parse_text(t, "x"), facto::parse_error);
}

TEST(FmmScheme, NpyRoundTripAndIntegerImport) {
    const std::string dir = temp_path("npy");
    const scheme s = standard_scheme(2, 3, 4);
    write_scheme_npy(dir, s);
    const tensor U = read_npy<double>(dir + "/U.npy");
    EXPECT_EQ(U.shape(), (shape_t{24, 2, 3}));
    EXPECT_EQ(read_npy<double>(dir + "/W.npy").shape(), (shape_t{24, 4, 2}));
    EXPECT_EQ(read_scheme(dir).terms, s.terms);

    // Integer coefficients (a scheme over Z, such as Strassen with -1) reduce mod 2.
    const scheme st = strassen_scheme();
    write_scheme_npy(dir, st);
    tensor V = read_npy<double>(dir + "/V.npy");
    for (index_t e = 0; e < V.size(); ++e)
        if (V.data()[e] == 1 && e % 3 == 0) V.data()[e] = -1;
    write_npy<double>(dir + "/V.npy", V.view());
    EXPECT_EQ(read_scheme(dir).terms, st.terms);

    V.data()[0] = 0.5;
    write_npy<double>(dir + "/V.npy", V.view());
    EXPECT_THROW(read_scheme(dir), facto::parse_error);
    std::filesystem::remove_all(dir);
}

TEST(FmmScheme, ProductSchemes) {
    const scheme s49 = product_scheme(strassen_scheme(), strassen_scheme());
    EXPECT_EQ(s49.n, 4);
    EXPECT_EQ(s49.rank(), 49);
    EXPECT_TRUE(verify(s49).ok) << verify(s49).message;
    EXPECT_TRUE(multiplies_correctly(s49, 5));
    const scheme mixed = product_scheme(standard_scheme(1, 2, 3), strassen_scheme());
    EXPECT_EQ(mixed.n, 2);
    EXPECT_EQ(mixed.m, 4);
    EXPECT_EQ(mixed.p, 6);
    EXPECT_EQ(mixed.rank(), 42);
    EXPECT_TRUE(verify(mixed).ok) << verify(mixed).message;
    EXPECT_THROW(product_scheme(standard_scheme(3, 3, 3), standard_scheme(3, 3, 3)), facto::invalid_argument);
}
