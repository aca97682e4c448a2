// tests/fmm/test_lift.cpp: rational reconstruction against its defining congruence; Hensel
// and sign lifting of Strassen's and Laderman's GF(2) images and of flip-graph search results,
// each verified exactly over Q and reducing to the input mod 2.
#include "facto/fmm/lift.hpp"

#include <numeric>
#include <random>

#include <gtest/gtest.h>

#include "facto/core/error.hpp"
#include "facto/fmm/flip_graph.hpp"
#include "fmm/known_schemes.hpp"

using namespace facto;
using namespace facto::fmm;

namespace {

// q^-1 mod 2^64 for odd q (Newton: each step doubles the correct low bits).
std::uint64_t inverse_mod_2_64(std::uint64_t q) {
    std::uint64_t x = q;  // correct to 3 bits
    for (int i = 0; i < 5; ++i) x *= 2 - q * x;
    return x;
}

// Checks what lift() promises: exact validity, the GF(2) image, and the flags.
void expect_lift_of(const scheme& s, const exact_scheme& e) {
    const verify_result v = verify_exact(e);
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(e.rank(), s.rank());
    EXPECT_EQ(mod2(e).terms, s.terms);
}

}  // namespace

TEST(FmmLift, RationalReconstructionRecoversSmallFractions) {
    std::mt19937_64 rng(9);
    for (int K : {8, 20, 40, 63, 64}) {
        const std::uint64_t mask = K == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << K) - 1;
        const double bound = std::floor(std::sqrt(std::ldexp(1.0, K - 1)));
        const std::int64_t b = static_cast<std::int64_t>(std::min(bound, 1e15));
        for (int trial = 0; trial < 300; ++trial) {
            std::int64_t p = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(2 * b + 1)) - b;
            std::int64_t q = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(b)) + 1;
            if (q % 2 == 0) --q;
            if (q < 1 || std::gcd(p, q) != 1) continue;
            const std::uint64_t a = (static_cast<std::uint64_t>(p) * inverse_mod_2_64(static_cast<std::uint64_t>(q))) & mask;
            const std::optional<rational> r = rational_reconstruct(a, K);
            ASSERT_TRUE(r.has_value()) << K << " " << p << "/" << q;
            EXPECT_EQ(*r, make_rational(p, q)) << K;
        }
        // Whatever is returned for a random residue satisfies the congruence and the bounds.
        for (int trial = 0; trial < 300; ++trial) {
            const std::uint64_t a = rng() & mask;
            const std::optional<rational> r = rational_reconstruct(a, K);
            if (!r) continue;
            EXPECT_EQ((static_cast<std::uint64_t>(r->num) - a * static_cast<std::uint64_t>(r->den)) & mask, 0u);
            EXPECT_LE(std::abs(static_cast<double>(r->num)), bound);
            EXPECT_LE(static_cast<double>(r->den), bound);
            EXPECT_EQ(r->den % 2, 1);
        }
    }
    EXPECT_EQ(rational_reconstruct(0, 20), make_rational(0));
    EXPECT_EQ(rational_reconstruct((std::uint64_t{1} << 20) - 1, 20), make_rational(-1));
    EXPECT_FALSE(rational_reconstruct(std::uint64_t{1} << 10, 20).has_value());  // 1024 = 2^10 > bound 724
    EXPECT_THROW(rational_reconstruct(1, 0), facto::invalid_argument);
}

TEST(FmmLift, StrassenFromItsGf2Image) {
    const scheme s = strassen_scheme();
    for (const bool support : {true, false}) {
        std::string why;
        const std::optional<exact_scheme> h = hensel_lift(s, 40, support, why);
        ASSERT_TRUE(h.has_value()) << why;
        expect_lift_of(s, *h);
    }
    std::string why;
    const std::optional<exact_scheme> signs = sign_lift(s, 1000, why);
    ASSERT_TRUE(signs.has_value()) << why;
    expect_lift_of(s, *signs);
    EXPECT_TRUE(is_signed_unit(*signs));

    const lift_result r = lift(s);
    ASSERT_TRUE(r.lifted);
    expect_lift_of(s, r.lifted_scheme);
    EXPECT_TRUE(r.integral);
    EXPECT_TRUE(r.signed_pm1);
    EXPECT_FALSE(r.messages.empty());
}

TEST(FmmLift, LadermanFromItsGf2Image) {
    const scheme s = mod2(known::laderman_published());
    ASSERT_TRUE(verify(s).ok);
    std::string why;
    const std::optional<exact_scheme> h = hensel_lift(s, 40, true, why);
    ASSERT_TRUE(h.has_value()) << why;
    expect_lift_of(s, *h);
    const std::optional<exact_scheme> signs = sign_lift(s, 100000, why);
    ASSERT_TRUE(signs.has_value()) << why;
    expect_lift_of(s, *signs);
    EXPECT_TRUE(is_signed_unit(*signs));
    const lift_result r = lift(s);
    ASSERT_TRUE(r.lifted);
    expect_lift_of(s, r.lifted_scheme);
    EXPECT_TRUE(r.signed_pm1);
}

TEST(FmmLift, SignSearchOnStrassenSquared) {
    // Strassen (x) Strassen over GF(2): Hensel on the support gives coefficients up to 3; the
    // signs need the depth-first search (45 free signs after the linear mod-4 system).
    const scheme s = product_scheme(strassen_scheme(), strassen_scheme());
    std::string why;
    EXPECT_FALSE(sign_lift(s, 10, why).has_value());
    EXPECT_NE(why.find("gave up after 10 nodes"), std::string::npos) << why;
    const std::optional<exact_scheme> signs = sign_lift(s, 100000, why);
    ASSERT_TRUE(signs.has_value()) << why;
    expect_lift_of(s, *signs);
    EXPECT_TRUE(is_signed_unit(*signs));
    const lift_result r = lift(s);
    ASSERT_TRUE(r.lifted);
    EXPECT_TRUE(r.signed_pm1);
    EXPECT_EQ(r.method, "signs");
}

TEST(FmmLift, SearchResultsLift) {
    // Flip-graph results with fixed seeds: <2,2,2> in 7, <3,3,3> in 23, <2,2,3> in 11, <2,3,3> in 15.
    struct job {
        int n, m, p, target;
        std::uint64_t seed;
    };
    for (const job& j : {job{2, 2, 2, 7, 1}, job{3, 3, 3, 23, 1}, job{3, 3, 3, 23, 2}, job{2, 2, 3, 11, 1},
                       job{2, 3, 3, 15, 1}}) {
        search_options o;
        o.target_rank = j.target;
        o.seed = j.seed;
        o.max_flips = 20000000;
        const search_result found = search(standard_scheme(j.n, j.m, j.p), o);
        ASSERT_TRUE(found.reached_target) << j.n << j.m << j.p;
        const lift_result r = lift(found.best);
        std::string log;
        for (const std::string& m : r.messages) log += m + "\n";
        ASSERT_TRUE(r.lifted) << j.n << j.m << j.p << " seed " << j.seed << "\n" << log;
        expect_lift_of(found.best, r.lifted_scheme);
    }
}

TEST(FmmLift, StoredSearchResults) {
    const std::string dir = std::string(FACTO_TEST_DATA) + "/fmm/";
    // <4,4,4> rank 49 from a 79 s search: lifts to integers.
    const scheme s444 = read_scheme(dir + "s444_r49_search.txt");
    const lift_result r = lift(s444);
    ASSERT_TRUE(r.lifted);
    expect_lift_of(s444, r.lifted_scheme);
    EXPECT_TRUE(r.integral);
    // <3,3,4> rank 29: not even mod 4, whatever the method; each one says why.
    const scheme s334 = read_scheme(dir + "s334_r29_no_lift.txt");
    const lift_result no = lift(s334);
    EXPECT_FALSE(no.lifted);
    ASSERT_EQ(no.messages.size(), 3u);
    EXPECT_NE(no.messages[1].find("nothing lifts it even mod 4"), std::string::npos) << no.messages[1];
    EXPECT_NE(no.messages[2].find("no scheme with coefficients in {-1, 0, 1}"), std::string::npos) << no.messages[2];
    std::string why;
    EXPECT_FALSE(hensel_lift(s334, 40, false, why, 5).has_value());  // any pivot order: step 1 has no choice
    EXPECT_NE(why.find("step 1"), std::string::npos);
}

TEST(FmmLift, BadInputsRejected) {
    scheme broken = strassen_scheme();
    broken.terms.pop_back();
    EXPECT_THROW(lift(broken), facto::invalid_argument);
    lift_options o;
    o.precision = 1;
    EXPECT_THROW(lift(strassen_scheme(), o), facto::invalid_argument);
    std::string why;
    EXPECT_THROW(hensel_lift(strassen_scheme(), 65, true, why), facto::invalid_argument);
    const scheme aat = standard_scheme(2, 2, 2, product_kind::a_at);  // a structured product
    ASSERT_TRUE(verify(aat).ok);
    EXPECT_THROW(lift(aat), facto::invalid_argument);
    EXPECT_THROW(sign_lift(aat, 10, why), facto::invalid_argument);
    EXPECT_THROW(from_gf2(aat), facto::invalid_argument);
}

TEST(FmmLift, StandardAlgorithmLiftsToItself) {
    const scheme s = standard_scheme(2, 3, 2);
    const lift_result r = lift(s);
    ASSERT_TRUE(r.lifted);
    EXPECT_EQ(r.lifted_scheme.terms, from_gf2(s).terms);  // already exact: nothing to change
    EXPECT_TRUE(r.signed_pm1);
}
