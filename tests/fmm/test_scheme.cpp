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

// ---------------------------------------------------------------------------------------
// Structured products

namespace {

// Independent oracle for structured products: random GF(2) inputs built from the product's
// independent entries (A upper triangular, symmetric, or B = A^T), C = A*B computed naively,
// and the scheme evaluated on the independent entries; compared on the entries it computes
// (the lower triangle for A A^T).
bool structured_multiplies_correctly(const scheme& s, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    const int n = s.n, m = s.m, p = s.p;
    for (int trial = 0; trial < 30; ++trial) {
        std::vector<int> A(n * m), B(m * p), C(n * p, 0), D(n * p, 0);
        for (int& a : A) a = rng() & 1;
        for (int& b : B) b = rng() & 1;
        if (s.product == product_kind::upper_triangular)
            for (int i = 0; i < n; ++i)
                for (int j = 0; j < i; ++j) A[i * m + j] = 0;
        if (s.product == product_kind::symmetric)
            for (int i = 0; i < n; ++i)
                for (int j = 0; j < i; ++j) A[i * m + j] = A[j * m + i];
        if (s.product == product_kind::a_at)
            for (int j = 0; j < m; ++j)
                for (int k = 0; k < p; ++k) B[j * p + k] = A[k * m + j];
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < p; ++k)
                for (int j = 0; j < m; ++j) C[i * p + k] ^= A[i * m + j] & B[j * p + k];
        for (const term& t : s.terms) {
            int x = 0, y = 0;
            for (int e = 0; e < n * m; ++e) x ^= ((t.u >> e) & 1) & A[e];
            // A A^T: v is over A (bit k*m+j is a_kj); otherwise over B.
            for (int e = 0; e < m * p; ++e) y ^= ((t.v >> e) & 1) & (s.product == product_kind::a_at ? A[e] : B[e]);
            for (int k = 0; k < p; ++k)
                for (int i = 0; i < n; ++i)
                    if ((t.w >> (k * n + i)) & 1) D[i * p + k] ^= x & y;
        }
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < p; ++k)
                if ((s.product != product_kind::a_at || i >= k) && C[i * p + k] != D[i * p + k]) return false;
    }
    return true;
}

}  // namespace

TEST(FmmStructured, StandardSchemesVerifyAndMultiply) {
    struct expect {
        product_kind kind;
        int n, m, p, rank;
    };
    for (const expect& e : {expect{product_kind::a_at, 2, 2, 2, 6}, {product_kind::a_at, 3, 2, 3, 12},
                            {product_kind::a_at, 4, 4, 4, 40}, {product_kind::a_at, 2, 5, 2, 15},
                            {product_kind::upper_triangular, 2, 2, 2, 6}, {product_kind::upper_triangular, 3, 3, 2, 12},
                            {product_kind::upper_triangular, 4, 4, 5, 50}, {product_kind::symmetric, 2, 2, 2, 8},
                            {product_kind::symmetric, 3, 3, 4, 36}}) {
        const scheme s = standard_scheme(e.n, e.m, e.p, e.kind);
        EXPECT_EQ(s.product, e.kind);
        EXPECT_EQ(s.rank(), e.rank) << product_name(e.kind) << e.n << e.m << e.p;
        const verify_result v = verify(s);
        EXPECT_TRUE(v.ok) << product_name(e.kind) << " " << v.message;
        EXPECT_TRUE(structured_multiplies_correctly(s, 3)) << product_name(e.kind) << e.n << e.m << e.p;
        // The general tensor is another tensor: the same terms do not verify as a general product.
        scheme general = s;
        general.product = product_kind::general;
        EXPECT_FALSE(verify(general).ok) << product_name(e.kind);
    }
    // The general kind is the plain standard algorithm.
    EXPECT_EQ(standard_scheme(2, 3, 4, product_kind::general).terms, standard_scheme(2, 3, 4).terms);
}

TEST(FmmStructured, VerifyAgreesWithTheOracleOnBrokenSchemes) {
    // Flipping any allowed bit of any factor of the standard structured schemes breaks them,
    // and the oracle agrees; a bit outside the independent entries is rejected as such.
    for (product_kind kind : {product_kind::a_at, product_kind::upper_triangular, product_kind::symmetric}) {
        const scheme good = standard_scheme(2, 2, 2, kind);
        for (std::size_t r = 0; r < good.terms.size(); ++r)
            for (int pos = 0; pos < 3; ++pos)
                for (int b = 0; b < 4; ++b) {
                    scheme bad = good;
                    factor_t& f = pos == 0 ? bad.terms[r].u : pos == 1 ? bad.terms[r].v : bad.terms[r].w;
                    f ^= factor_t{1} << b;
                    const verify_result v = verify(bad);
                    EXPECT_FALSE(v.ok) << product_name(kind) << " term " << r << " pos " << pos << " bit " << b;
                    const bool allowed = allowed_bits(2, 2, 2, kind, pos) >> b & 1;
                    if (allowed) EXPECT_FALSE(structured_multiplies_correctly(bad, 11)) << product_name(kind);
                    else EXPECT_NE(v.message.find("outside"), std::string::npos) << v.message;
                }
    }
    // a11 a12 a13 a22 a23 a33: bits 0, 1, 2, 4, 5, 8.
    EXPECT_EQ(allowed_bits(3, 3, 3, product_kind::upper_triangular, 0), factor_t{0b100'110'111});
    EXPECT_EQ(allowed_bits(2, 2, 2, product_kind::a_at, 2), factor_t{0b1011});  // c11, c21, c22 (bits k*2+i, i >= k)
}

TEST(FmmStructured, FormatChecksAndNames) {
    EXPECT_THROW(check_format(2, 3, 3, product_kind::a_at), facto::invalid_argument);
    EXPECT_THROW(check_format(2, 3, 3, product_kind::upper_triangular), facto::invalid_argument);
    EXPECT_THROW(check_format(3, 2, 3, product_kind::symmetric), facto::invalid_argument);
    EXPECT_NO_THROW(check_format(3, 5, 3, product_kind::a_at));
    EXPECT_NO_THROW(check_format(3, 3, 5, product_kind::symmetric));
    EXPECT_THROW(standard_scheme(2, 3, 4, product_kind::a_at), facto::invalid_argument);
    for (product_kind k : {product_kind::general, product_kind::a_at, product_kind::upper_triangular,
                           product_kind::symmetric})
        EXPECT_EQ(parse_product(product_name(k)), k);
    EXPECT_THROW(parse_product("lower"), facto::invalid_argument);
    EXPECT_THROW(product_scheme(standard_scheme(2, 2, 2, product_kind::a_at), strassen_scheme()), facto::invalid_argument);
}

TEST(FmmStructured, TextRoundTripAndErrors) {
    for (product_kind kind : {product_kind::a_at, product_kind::upper_triangular, product_kind::symmetric}) {
        const scheme s = standard_scheme(3, 3, 3, kind);
        const std::string text = to_text(s);
        EXPECT_NE(text.find(std::string("product ") + product_name(kind)), std::string::npos);
        const scheme back = parse_text(text, "mem");
        EXPECT_EQ(back.product, kind);
        EXPECT_EQ(back.terms, s.terms);
        // Without its product line the file is read as a general product and does not verify.
        std::string general = text;
        general.erase(general.find("product "), general.find('\n', general.find("product ")) - general.find("product ") + 1);
        EXPECT_THROW(parse_text(general, "mem"), facto::invalid_argument);
    }
    EXPECT_EQ(to_text(strassen_scheme()).find("product"), std::string::npos);  // general files are unchanged
    try {
        parse_text("fmm 2 2 2\nproduct lower\n", "p.txt");
        FAIL();
    } catch (const facto::parse_error& e) {
        EXPECT_EQ(e.line(), 2u);
        EXPECT_NE(std::string(e.what()).find("aat, triu or sym"), std::string::npos);
    }
    EXPECT_THROW(parse_text("fmm 2 3 4\nproduct aat\n", "p.txt"), facto::parse_error);  // P != N
    EXPECT_THROW(parse_text("fmm 2 2 2\n1000 1000 1000\nproduct sym\n", "p.txt"), facto::parse_error);
    const std::string dir = temp_path("npy_structured");
    EXPECT_THROW(write_scheme_npy(dir, standard_scheme(2, 2, 2, product_kind::symmetric)), facto::invalid_argument);
    std::filesystem::remove_all(dir);
}

TEST(FmmStructured, KeptSchemesInDocsVerify) {
    // The structured schemes kept in docs/schemes (found by facto fmm search --product) read,
    // verify against their product's tensor and beat the standard structured algorithm.
    const std::string dir = std::string(FACTO_TEST_DATA) + "/../../docs/schemes/";
    struct kept {
        const char* file;
        product_kind kind;
        int n, m, p, rank;
    };
    for (const kept& k : {kept{"aat_444_r36.txt", product_kind::a_at, 4, 4, 4, 36},
                          {"aat_333_r17.txt", product_kind::a_at, 3, 3, 3, 17},
                          {"sym_333_r18.txt", product_kind::symmetric, 3, 3, 3, 18},
                          {"triu_333_r17.txt", product_kind::upper_triangular, 3, 3, 3, 17}}) {
        ASSERT_TRUE(std::filesystem::exists(dir + k.file)) << "missing " << dir + k.file;
        const scheme s = read_scheme(dir + k.file);
        EXPECT_EQ(s.product, k.kind) << k.file;
        EXPECT_EQ(s.rank(), k.rank) << k.file;
        EXPECT_LT(s.rank(), standard_scheme(k.n, k.m, k.p, k.kind).rank()) << k.file;
        EXPECT_TRUE(structured_multiplies_correctly(s, 9)) << k.file;
    }
}
