// tests/fmm/test_flip_graph.cpp: every move keeps the scheme exact, reductions, the search
// reaches known ranks, and a seed fixes the result.
#include "facto/fmm/flip_graph.hpp"

#include <gtest/gtest.h>

#include "facto/core/error.hpp"

using namespace facto;
using namespace facto::fmm;

TEST(FmmFlipWalker, ManyRandomFlipsStayExact) {
    for (auto [n, m, p] : {std::array{2, 2, 2}, {2, 3, 4}, {3, 3, 3}, {4, 4, 4}}) {
        flip_walker w(standard_scheme(n, m, p));
        std::mt19937_64 rng(42);
        int last_rank = w.rank();
        for (int step = 0; step < 20000; ++step) {
            if (!w.random_flip(rng)) {
                // Only a scheme whose terms share no factor has no flip (Strassen, for <2,2,2>).
                const scheme s = w.current();
                for (std::size_t a = 0; a < s.terms.size(); ++a)
                    for (std::size_t b = a + 1; b < s.terms.size(); ++b) {
                        ASSERT_NE(s.terms[a].u, s.terms[b].u);
                        ASSERT_NE(s.terms[a].v, s.terms[b].v);
                        ASSERT_NE(s.terms[a].w, s.terms[b].w);
                    }
                break;
            }
            ASSERT_LE(w.rank(), last_rank);  // flips and reductions never raise the rank
            last_rank = w.rank();
            if (step % 997 == 0) ASSERT_TRUE(verify(w.current()).ok) << n << m << p << " step " << step;
        }
        const verify_result v = verify(w.current());
        EXPECT_TRUE(v.ok) << v.message;
    }
}

TEST(FmmFlipWalker, PlusTransitionsStayExact) {
    flip_walker w(standard_scheme(3, 3, 3));
    std::mt19937_64 rng(5);
    for (int round = 0; round < 200; ++round) {
        const int before = w.rank();
        ASSERT_TRUE(w.plus_transition(rng));
        ASSERT_LE(w.rank(), before + 1);
        for (int k = 0; k < 50; ++k) w.random_flip(rng);
        ASSERT_TRUE(verify(w.current()).ok) << "round " << round;
    }
}

TEST(FmmFlipWalker, ReductionMergesTermsSharingTwoFactors) {
    // Split one term of the standard <2,2,2> as (a,b,c) = (a,b,c1) + (a,b,c+c1): rank 9, and
    // the reduction merges them back to 8.
    scheme s = standard_scheme(2, 2, 2);
    const term t = s.terms[0];
    s.terms[0].w = t.w ^ 0b0110;
    s.terms.push_back({t.u, t.v, 0b0110});
    ASSERT_TRUE(verify(s).ok);
    flip_walker w(s);
    EXPECT_EQ(w.rank(), 9);
    EXPECT_EQ(w.reduce_all(), 1);
    EXPECT_EQ(w.rank(), 8);
    EXPECT_TRUE(verify(w.current()).ok);

    // Two equal terms cancel over GF(2): both go.
    scheme d = standard_scheme(2, 2, 2);
    d.terms.push_back(d.terms[3]);
    d.terms.push_back(d.terms[3]);
    flip_walker w2(d);
    EXPECT_EQ(w2.reduce_all(), 2);
    EXPECT_EQ(w2.current().terms.size(), 8u);
}

TEST(FmmFlipWalker, FlipThatZeroesAFactorDropsTheTerm) {
    // Strassen has no flip that lowers the rank, but walking from the standard <2,2,2>
    // algorithm must lower it: only reductions can, so they happen on the way.
    flip_walker w(standard_scheme(2, 2, 2));
    std::mt19937_64 rng(1);
    int lowest = w.rank();
    for (int step = 0; step < 200000 && lowest > 7; ++step) {
        w.random_flip(rng);
        lowest = std::min(lowest, w.rank());
    }
    EXPECT_EQ(lowest, 7);
    EXPECT_TRUE(verify(w.current()).ok);
}

TEST(FmmFlipWalker, RejectsInvalidScheme) {
    scheme s = strassen_scheme();
    s.terms.pop_back();
    EXPECT_THROW(flip_walker{s}, facto::invalid_argument);
}

TEST(FmmSearch, ReachesStrassenRank) {
    search_options o;
    o.target_rank = 7;
    o.seed = 3;
    o.max_flips = 5000000;
    o.path_limit = 10000;
    const search_result r = search(standard_scheme(2, 2, 2), o);
    EXPECT_TRUE(r.reached_target);
    EXPECT_EQ(r.best.rank(), 7);
    EXPECT_EQ(r.start_rank, 8);
    EXPECT_TRUE(verify(r.best).ok);
    for (const scheme& s : r.best_pool) {
        EXPECT_EQ(s.rank(), 7);
        EXPECT_TRUE(verify(s).ok);
    }
}

TEST(FmmSearch, ReachesRank23For333) {
    search_options o;
    o.target_rank = 23;
    o.seed = 1;
    o.max_flips = 200000000;
    o.path_limit = 100000;
    const search_result r = search(standard_scheme(3, 3, 3), o);
    EXPECT_TRUE(r.reached_target) << "best " << r.best.rank() << " after " << r.flips << " flips";
    EXPECT_TRUE(verify(r.best).ok);
}

TEST(FmmSearch, SameSeedSameResult) {
    for (int threads : {1, 2}) {
        search_options o;
        o.seed = 17;
        o.threads = threads;
        o.max_flips = 200000;
        o.path_limit = 20000;
        const search_result a = search(standard_scheme(3, 3, 3), o);
        const search_result b = search(standard_scheme(3, 3, 3), o);
        EXPECT_EQ(a.best.terms, b.best.terms) << threads << " threads";
        EXPECT_EQ(a.flips, b.flips);
        ASSERT_EQ(a.best_pool.size(), b.best_pool.size());
        for (std::size_t i = 0; i < a.best_pool.size(); ++i) EXPECT_EQ(a.best_pool[i].terms, b.best_pool[i].terms);
        o.seed = 18;
        const search_result c = search(standard_scheme(3, 3, 3), o);
        EXPECT_NE(a.best.terms, c.best.terms);
    }
    // With a target, the thread reaching it in the fewest flips wins, whatever the timing.
    search_options o;
    o.seed = 9;
    o.threads = 2;
    o.target_rank = 24;
    o.max_flips = 100000000;
    o.path_limit = 50000;
    const search_result a = search(standard_scheme(3, 3, 3), o);
    const search_result b = search(standard_scheme(3, 3, 3), o);
    EXPECT_TRUE(a.reached_target);
    EXPECT_EQ(a.best.terms, b.best.terms);
}

TEST(FmmSearch, StopFlagAndProgress) {
    search_options o;
    o.stop = [] { return true; };
    o.progress_interval = 0;
    const search_result r = search(standard_scheme(3, 3, 3), o);
    EXPECT_TRUE(r.stopped);
    EXPECT_LE(r.flips, 2048u);
    EXPECT_TRUE(verify(r.best).ok);

    int reports = 0;
    search_options q;
    q.max_flips = 100000;
    q.progress_interval = 0;
    q.progress = [&](const search_progress& p) {
        ++reports;
        EXPECT_LE(p.best_rank, 27);
        EXPECT_EQ(p.start_rank, 27);
    };
    search(standard_scheme(3, 3, 3), q);
    EXPECT_GT(reports, 0);
}

TEST(FmmSearch, RejectsBadOptions) {
    search_options o;
    EXPECT_THROW(search(strassen_scheme(), o), facto::invalid_argument);  // no stopping rule
    o.max_flips = 10;
    o.threads = 0;
    EXPECT_THROW(search(strassen_scheme(), o), facto::invalid_argument);
}

TEST(FmmSearch, EndsFromASchemeWithoutFlips) {
    // Strassen has no two terms sharing a factor; the walk must leave it by plus-transitions
    // and the flip budget must still end the search.
    search_options o;
    o.max_flips = 50000;
    o.path_limit = 1000;
    const search_result r = search(strassen_scheme(), o);
    EXPECT_EQ(r.best.rank(), 7);
    EXPECT_GE(r.flips, 50000u);
    EXPECT_TRUE(verify(r.best).ok);
}

TEST(FmmSearch, PlusTransitionsInWalksStayExactAndDeterministic) {
    search_options o;
    o.seed = 4;
    o.max_flips = 100000;
    o.path_limit = 20000;
    o.plus_after = 200;
    const search_result a = search(standard_scheme(3, 3, 3), o);
    const search_result b = search(standard_scheme(3, 3, 3), o);
    EXPECT_TRUE(verify(a.best).ok);
    EXPECT_LE(a.best.rank(), 26);
    EXPECT_EQ(a.best.terms, b.best.terms);
    for (const scheme& s : a.best_pool) EXPECT_TRUE(verify(s).ok);
}

TEST(FmmSearch, RestartsKeepTheBestAndAreDeterministic) {
    search_options o;
    o.seed = 6;
    o.threads = 2;
    o.max_flips = 100000;
    o.path_limit = 2000;
    o.restart_walks = 3;
    const search_result a = search(standard_scheme(3, 3, 3), o);
    const search_result b = search(standard_scheme(3, 3, 3), o);
    EXPECT_TRUE(verify(a.best).ok);
    EXPECT_LE(a.best.rank(), 25);
    EXPECT_EQ(a.best.terms, b.best.terms);
    ASSERT_EQ(a.best_pool.size(), b.best_pool.size());
    for (const scheme& s : a.best_pool) {
        EXPECT_EQ(s.rank(), a.best.rank());
        EXPECT_TRUE(verify(s).ok);
    }
}
