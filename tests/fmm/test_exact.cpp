// tests/fmm/test_exact.cpp: rational arithmetic (against 128-bit cross-multiplication),
// exact verification (against multiplying random integer matrices), the GF(2) image, and the
// Z/Q text and .npy round trips and errors.
#include "facto/fmm/exact.hpp"

#include <filesystem>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "facto/io/npy.hpp"
#include "fmm/known_schemes.hpp"

using namespace facto;
using namespace facto::fmm;

namespace {

using i128 = __int128;

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("facto_test_exact_" + std::to_string(::getpid()) + "_" + name))
        .string();
}

bool lowest(const rational& r) { return r.den > 0 && std::gcd(r.num, r.den) == 1; }

// x/y == num/den by cross-multiplication in 128 bits.
bool equals(const rational& r, i128 num, i128 den) { return i128(r.num) * den == num * i128(r.den); }

// Oracle: multiply random integer matrices with the scheme (in rationals) and compare with A*B.
bool multiplies_correctly(const exact_scheme& s, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 10; ++trial) {
        std::vector<rational> A(s.n * s.m), B(s.m * s.p), C(s.n * s.p, rational{0, 1}), D(s.n * s.p, rational{0, 1});
        for (auto& a : A) a = make_rational(static_cast<std::int64_t>(rng() % 21) - 10);
        for (auto& b : B) b = make_rational(static_cast<std::int64_t>(rng() % 21) - 10);
        for (int i = 0; i < s.n; ++i)
            for (int k = 0; k < s.p; ++k)
                for (int j = 0; j < s.m; ++j) C[i * s.p + k] = C[i * s.p + k] + A[i * s.m + j] * B[j * s.p + k];
        for (const exact_term& t : s.terms) {
            rational x{0, 1}, y{0, 1};
            for (int e = 0; e < s.n * s.m; ++e) x = x + t.u[e] * A[e];
            for (int e = 0; e < s.m * s.p; ++e) y = y + t.v[e] * B[e];
            for (int k = 0; k < s.p; ++k)
                for (int i = 0; i < s.n; ++i) D[i * s.p + k] = D[i * s.p + k] + t.w[k * s.n + i] * x * y;
        }
        if (C != D) return false;
    }
    return true;
}

// Strassen with term 1 scaled (2u, v/2, w) and term 2 scaled (u, 3v, w/3): valid over Q only.
exact_scheme scaled_strassen() {
    exact_scheme s = known::strassen_published();
    for (auto& c : s.terms[0].u) c = c * make_rational(2);
    for (auto& c : s.terms[0].v) c = c / make_rational(2);
    for (auto& c : s.terms[1].v) c = c * make_rational(3);
    for (auto& c : s.terms[1].w) c = c / make_rational(3);
    return s;
}

}  // namespace

TEST(FmmExact, RationalArithmeticMatchesCrossMultiplication) {
    std::mt19937_64 rng(5);
    auto draw = [&] {
        const std::int64_t num = static_cast<std::int64_t>(rng() % 2000001) - 1000000;
        const std::int64_t den = static_cast<std::int64_t>(rng() % 1000) + 1;
        return make_rational(rng() % 2 ? num : -num, rng() % 3 ? den : -den);
    };
    for (int trial = 0; trial < 2000; ++trial) {
        const rational a = draw(), b = draw();
        ASSERT_TRUE(lowest(a) && lowest(b));
        const rational sum = a + b, diff = a - b, prod = a * b;
        EXPECT_TRUE(lowest(sum) && lowest(diff) && lowest(prod));
        EXPECT_TRUE(equals(sum, i128(a.num) * b.den + i128(b.num) * a.den, i128(a.den) * b.den));
        EXPECT_TRUE(equals(diff, i128(a.num) * b.den - i128(b.num) * a.den, i128(a.den) * b.den));
        EXPECT_TRUE(equals(prod, i128(a.num) * b.num, i128(a.den) * b.den));
        if (b.num != 0) {
            const rational quot = a / b;
            EXPECT_TRUE(lowest(quot));
            EXPECT_TRUE(equals(quot, i128(a.num) * b.den, i128(a.den) * b.num));
        }
        EXPECT_EQ(-(-a), a);
    }
    EXPECT_EQ(make_rational(6, -4), (rational{-3, 2}));
    EXPECT_EQ(make_rational(0, -7), (rational{0, 1}));
    EXPECT_EQ(to_string(make_rational(-6, 4)), "-3/2");
    EXPECT_EQ(to_string(make_rational(5)), "5");
}

TEST(FmmExact, OverflowAndDivisionByZeroThrow) {
    const std::int64_t big = std::numeric_limits<std::int64_t>::max();
    EXPECT_THROW(make_rational(big) + make_rational(1), facto::invalid_argument);
    EXPECT_THROW(make_rational(std::int64_t{1} << 40) * make_rational(std::int64_t{1} << 30), facto::invalid_argument);
    EXPECT_THROW(make_rational(1, big) + make_rational(1, big - 1), facto::invalid_argument);
    EXPECT_NO_THROW(make_rational(big) - make_rational(1));
    EXPECT_EQ(make_rational(big) * make_rational(1, big), make_rational(1));  // reduced before the check
    EXPECT_THROW(make_rational(1, 0), facto::invalid_argument);
    EXPECT_THROW(make_rational(1) / make_rational(0), facto::invalid_argument);
    EXPECT_THROW(make_rational(std::numeric_limits<std::int64_t>::min()), facto::invalid_argument);
    // A scheme whose products overflow cannot be verified: verify_exact says so.
    exact_scheme s = known::strassen_published();
    for (auto& c : s.terms[0].u) c = c * make_rational(std::int64_t{1} << 40);
    for (auto& c : s.terms[0].v) c = c * make_rational(std::int64_t{1} << 40);
    EXPECT_THROW(verify_exact(s), facto::invalid_argument);
}

TEST(FmmExact, PublishedSchemesVerifyAndMultiply) {
    for (const exact_scheme& s : {known::strassen_published(), known::laderman_published(), scaled_strassen()}) {
        const verify_result v = verify_exact(s);
        EXPECT_TRUE(v.ok) << v.message;
        EXPECT_TRUE(multiplies_correctly(s, 3));
    }
    // The GF(2) image of a valid scheme with odd denominators is valid.
    EXPECT_TRUE(verify(mod2(known::laderman_published())).ok);
    EXPECT_THROW(mod2(scaled_strassen()), facto::invalid_argument);  // 1/2 has no image
    EXPECT_TRUE(known::strassen_published().integral());
    EXPECT_TRUE(is_signed_unit(known::laderman_published()));
    EXPECT_FALSE(scaled_strassen().integral());
    EXPECT_EQ(max_abs_coefficient(scaled_strassen()), 3);
    // The library's GF(2) Strassen is the image of the published one, term by term.
    EXPECT_EQ(mod2(known::strassen_published()).terms, strassen_scheme().terms);
}

TEST(FmmExact, WrongSchemeRejectedNamingTheEquation) {
    // Negating a22 in the first product breaks exactly the equations with u = a22 of that term.
    exact_scheme s = known::strassen_published();
    s.terms[0].u[3] = -s.terms[0].u[3];
    const verify_result v = verify_exact(s);
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.x, 3);
    EXPECT_EQ(v.failures, 4);  // (a22, b11|b22, c11|c22)
    EXPECT_NE(v.message.find("fail over Q"), std::string::npos) << v.message;
    EXPECT_NE(v.message.find("(a22, b11, c11"), std::string::npos) << v.message;
    EXPECT_FALSE(multiplies_correctly(s, 4));
    EXPECT_THROW(require_valid_exact(s, "test"), facto::invalid_argument);
    // Still valid mod 2, but the 0/1 Strassen is not a scheme over Z.
    EXPECT_TRUE(verify(mod2(s)).ok);
    EXPECT_FALSE(verify_exact(from_gf2(strassen_scheme())).ok);
    // Malformed terms are reported, not crashed on.
    exact_scheme short_factor = known::strassen_published();
    short_factor.terms[2].v.pop_back();
    EXPECT_FALSE(verify_exact(short_factor).ok);
    exact_scheme unreduced = known::strassen_published();
    unreduced.terms[0].u[0] = {2, 2};
    EXPECT_FALSE(verify_exact(unreduced).ok);
}

TEST(FmmExact, Mod2AndFromGf2) {
    for (const scheme& s : {strassen_scheme(), standard_scheme(2, 3, 4)}) EXPECT_EQ(mod2(from_gf2(s)).terms, s.terms);
    EXPECT_TRUE(verify_exact(from_gf2(standard_scheme(3, 2, 4))).ok);  // 0/1 and exact over Z
    exact_scheme s = known::strassen_published();
    s.terms[0].u[0] = make_rational(1, 2);
    EXPECT_THROW(mod2(s), facto::invalid_argument);
    s.terms[0].u[0] = make_rational(-5, 3);  // odd over odd: 1 mod 2
    EXPECT_EQ(mod2(s).terms[0].u & 1, 1u);
}

TEST(FmmExact, TextRoundTripZAndQ) {
    for (const exact_scheme& s : {known::laderman_published(), scaled_strassen()}) {
        const std::string text = to_exact_text(s);
        EXPECT_NE(text.find(s.integral() ? "field Z" : "field Q"), std::string::npos);
        const exact_scheme back = parse_exact_text(text, "mem");
        EXPECT_EQ(back.n, s.n);
        EXPECT_EQ(back.p, s.p);
        EXPECT_EQ(back.terms, s.terms);
    }
    EXPECT_NE(to_exact_text(scaled_strassen()).find("1/2"), std::string::npos);
    const std::string path = temp_path("l.txt");
    write_exact_scheme_text(path, known::laderman_published());
    EXPECT_EQ(read_exact_scheme(path).terms, known::laderman_published().terms);
    EXPECT_EQ(read_scheme_field(path), scheme_field::integers);
    std::filesystem::remove(path);
}

TEST(FmmExact, TextCikConvention) {
    // <2,3,4> standard with signs flipped in pairs (u and w of every other term), written with w
    // in the c_ik order (n x p, entry i*p+k).
    exact_scheme s = from_gf2(standard_scheme(2, 3, 4));
    for (std::size_t t = 0; t < s.terms.size(); t += 2) {
        for (auto& c : s.terms[t].u) c = -c;
        for (auto& c : s.terms[t].w) c = -c;
    }
    ASSERT_TRUE(verify_exact(s).ok);
    std::string text = "fmm 2 3 4\nfield Z\nconvention cik\n";
    for (const exact_term& t : s.terms) {
        auto group = [](const std::vector<rational>& f) {
            std::string out;
            for (std::size_t e = 0; e < f.size(); ++e) out += (e ? "," : "") + to_string(f[e]);
            return out;
        };
        std::vector<rational> w(8);
        for (int i = 0; i < 2; ++i)
            for (int k = 0; k < 4; ++k) w[i * 4 + k] = t.w[k * 2 + i];
        text += group(t.u) + " " + group(t.v) + " " + group(w) + "\n";
    }
    EXPECT_EQ(parse_exact_text(text, "cik").terms, s.terms);
    const std::string no_conv = text.substr(0, text.find("convention")) + text.substr(text.find("convention cik\n") + 15);
    EXPECT_EQ(parse_exact_text(no_conv, "flag", true).terms, s.terms);
    EXPECT_THROW(parse_exact_text(no_conv, "plain"), facto::invalid_argument);
}

TEST(FmmExact, TextErrorsNameTheLine) {
    auto line_of = [](const std::string& text) -> std::size_t {
        try {
            parse_exact_text(text, "bad.txt");
        } catch (const facto::parse_error& e) {
            EXPECT_NE(std::string(e.what()).find("bad.txt"), std::string::npos);
            return e.line();
        }
        return 0;
    };
    EXPECT_EQ(line_of("fmm 1 1 1\nfield Z\n\n1 1 x\n"), 4u);
    EXPECT_EQ(line_of("fmm 1 1 1\nfield Z\n1 1 1/0\n"), 3u);
    EXPECT_EQ(line_of("fmm 1 1 1\nfield Z\n1 1/2 2\n"), 3u);  // Z but a fraction
    EXPECT_EQ(line_of("fmm 1 1 1\nfield Q\n1,0 1 1\n"), 3u);  // two coefficients for one entry
    EXPECT_EQ(line_of("fmm 1 1 1\nfield gf2\n"), 2u);
    EXPECT_EQ(line_of("fmm 1 1 1\n1 1 1\n"), 2u);  // no field line before the terms
    EXPECT_EQ(line_of("fmm 1 1 1\nfield Q\n1 1 99999999999999999999\n"), 3u);
    EXPECT_EQ(line_of("fmm 2 2 2\nfield Z\nproduct aat\n"), 3u);
    EXPECT_NO_THROW(parse_exact_text("fmm 1 1 1\nfield Q\n2 1/4 2\n", "ok"));
    EXPECT_NO_THROW(parse_exact_text("fmm 1 1 1\nfield Z\n1 -1 -1\n", "ok"));
    EXPECT_THROW(parse_exact_text("fmm 1 1 1\nfield Z\nrank 2\n1 1 1\n", "x"), facto::parse_error);
    try {
        parse_exact_text("fmm 1 1 1\nfield Z\n1 1 -1\n", "wrong.txt");
        FAIL();
    } catch (const facto::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("(a11, b11, c11"), std::string::npos) << e.what();
    }
}

TEST(FmmExact, NpyRoundTrip) {
    const std::string dir = temp_path("npy");
    write_exact_scheme_npy(dir, known::laderman_published());
    const tensor U = read_npy<double>(dir + "/U.npy");
    EXPECT_EQ(U.shape(), (shape_t{23, 3, 3}));
    EXPECT_EQ(read_exact_scheme(dir).terms, known::laderman_published().terms);
    EXPECT_EQ(read_scheme_field(dir), scheme_field::integers);
    // The GF(2) reader reads the same folder as its image.
    EXPECT_EQ(read_scheme(dir).terms, mod2(known::laderman_published()).terms);

    exact_scheme dyadic = known::strassen_published();  // 2u, v/2: float64-exact
    for (auto& c : dyadic.terms[0].u) c = c * make_rational(2);
    for (auto& c : dyadic.terms[0].v) c = c / make_rational(2);
    write_exact_scheme_npy(dir, dyadic);
    EXPECT_EQ(read_exact_scheme(dir).terms, dyadic.terms);
    EXPECT_EQ(read_scheme_field(dir), scheme_field::rationals);
    EXPECT_THROW(write_exact_scheme_npy(dir, scaled_strassen()), facto::invalid_argument);  // 1/3

    // W written in the c_ik order (R x n x p) is read with transpose_c.
    const exact_scheme s = known::strassen_published();
    tensor W({7, 2, 2});
    for (int r = 0; r < 7; ++r)
        for (int i = 0; i < 2; ++i)
            for (int k = 0; k < 2; ++k) W.data()[r * 4 + i * 2 + k] = static_cast<double>(s.terms[r].w[k * 2 + i].num);
    write_exact_scheme_npy(dir, s);
    write_npy<double>(dir + "/W.npy", W.view());
    EXPECT_EQ(read_exact_scheme(dir, true).terms, s.terms);
    EXPECT_THROW(read_exact_scheme(dir), facto::invalid_argument);  // cki reading fails to verify
    // A non-dyadic entry is refused with the file named.
    W.data()[0] = 0.1;
    write_npy<double>(dir + "/W.npy", W.view());
    try {
        read_exact_scheme(dir, true);
        FAIL();
    } catch (const facto::parse_error& e) {
        EXPECT_NE(std::string(e.what()).find("W.npy"), std::string::npos) << e.what();
    }
    std::filesystem::remove_all(dir);
}
