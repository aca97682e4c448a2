// tests/fmm/test_flip_graph.cpp: every move keeps the scheme exact, reductions, the search
// reaches known ranks, and a seed fixes the result.
#include "facto/fmm/flip_graph.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "facto/core/error.hpp"

using namespace facto;
using namespace facto::fmm;

namespace {

factor_t& at(term& t, int pos) { return pos == 0 ? t.u : pos == 1 ? t.v : t.w; }
factor_t at(const term& t, int pos) { return pos == 0 ? t.u : pos == 1 ? t.v : t.w; }

// Naive oracle for "fully reduced": no two terms share two factors, and within every group of
// terms sharing a factor, the factors in each other position are linearly independent over
// GF(2) (Gaussian elimination written out separately from the walker's).
bool has_reduction(const scheme& s) {
    const std::size_t R = s.terms.size();
    for (std::size_t a = 0; a < R; ++a)
        for (std::size_t b = a + 1; b < R; ++b) {
            int shared = 0;
            for (int q = 0; q < 3; ++q) shared += at(s.terms[a], q) == at(s.terms[b], q);
            if (shared >= 2) return true;
        }
    for (int q = 0; q < 3; ++q)
        for (std::size_t a = 0; a < R; ++a) {
            std::vector<std::size_t> group;
            for (std::size_t b = 0; b < R; ++b)
                if (at(s.terms[b], q) == at(s.terms[a], q)) group.push_back(b);
            if (group.size() < 3 || group.front() != a) continue;  // each group once
            for (int other = 0; other < 3; ++other) {
                if (other == q) continue;
                std::vector<factor_t> rows;
                for (std::size_t g : group) rows.push_back(at(s.terms[g], other));
                std::size_t rank = 0;
                for (int bit = 63; bit >= 0; --bit) {
                    std::size_t pivot = rank;
                    while (pivot < rows.size() && !(rows[pivot] >> bit & 1)) ++pivot;
                    if (pivot == rows.size()) continue;
                    std::swap(rows[rank], rows[pivot]);
                    for (std::size_t r = 0; r < rows.size(); ++r)
                        if (r != rank && (rows[r] >> bit & 1)) rows[r] ^= rows[rank];
                    ++rank;
                }
                if (rank < group.size()) return true;
            }
        }
    return false;
}

// Replaces k terms of s sharing factor A at position q, (A, B_i, C_i) in positions q, b, c, by
// (A, B_i, C_i + X) and (A, B_1 + ... + B_k, X): the same tensor with one more term, and no two
// terms sharing two factors, so only a linear-dependence reduction can remove it.
scheme add_dependent_term(scheme s, int q, int b, std::size_t k, factor_t X) {
    const int c = 3 - q - b;
    std::vector<std::size_t> group;
    for (std::size_t t = 0; t < s.terms.size() && group.size() < k; ++t)
        if (at(s.terms[t], q) == at(s.terms[0], q)) group.push_back(t);
    EXPECT_EQ(group.size(), k);
    term extra = s.terms[0];
    at(extra, b) = 0;
    at(extra, c) = X;
    for (std::size_t t : group) {
        at(extra, b) ^= at(s.terms[t], b);
        at(s.terms[t], c) ^= X;
    }
    s.terms.push_back(extra);
    return s;
}

// Two searches with the same options and several runs: the same result, every kept scheme at
// the best rank and valid, and the same runs by lowest rank: none below the best rank, some at
// it, more than two in all.
void expect_repeatable_runs(const search_result& a, const search_result& b) {
    EXPECT_TRUE(verify(a.best).ok);
    EXPECT_EQ(a.best.terms, b.best.terms);
    ASSERT_EQ(a.best_pool.size(), b.best_pool.size());
    for (const scheme& s : a.best_pool) {
        EXPECT_EQ(s.rank(), a.best.rank());
        EXPECT_TRUE(verify(s).ok);
    }
    ASSERT_EQ(a.run_lowest.size(), static_cast<std::size_t>(a.start_rank + 1));
    std::uint64_t runs = 0;
    for (int r = 0; r <= a.start_rank; ++r) {
        runs += a.run_lowest[r];
        if (r < a.best.rank()) EXPECT_EQ(a.run_lowest[r], 0u) << "rank " << r;
    }
    EXPECT_GT(a.run_lowest[a.best.rank()], 0u);
    EXPECT_GT(runs, 2u);
    EXPECT_EQ(a.run_lowest, b.run_lowest);
}

}  // namespace

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

TEST(FmmFlipWalker, PlusTransitionRaisesTheRankAndOpensFlips) {
    // No two of Strassen's terms share a factor, so no flip exists; a plus-transition must add
    // a term (rather than split one in a way the reduction merges back) and create flips.
    flip_walker w(strassen_scheme());
    std::mt19937_64 rng(3);
    EXPECT_FALSE(w.random_flip(rng));
    ASSERT_TRUE(w.plus_transition(rng));
    EXPECT_EQ(w.rank(), 8);
    EXPECT_TRUE(verify(w.current()).ok);
    EXPECT_TRUE(w.random_flip(rng));
    // On the standard <3,3,3> (27 terms sharing factors in threes) the rank rises too.
    flip_walker s(standard_scheme(3, 3, 3));
    int raised = 0;
    for (int k = 0; k < 20; ++k) {
        const int before = s.rank();
        ASSERT_TRUE(s.plus_transition(rng));
        raised += s.rank() == before + 1;
    }
    EXPECT_GT(raised, 10);
    EXPECT_TRUE(verify(s.current()).ok);
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
        o.seed = 17 + static_cast<std::uint64_t>(threads);  // walkers with other seeds than a's
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
    o.threads = 1;
    o.bottom_effort = -1;
    EXPECT_THROW(search(strassen_scheme(), o), facto::invalid_argument);
    o.bottom_effort = 0;
    o.plus_min = 10, o.plus_max = 9;
    EXPECT_THROW(search(strassen_scheme(), o), facto::invalid_argument);
    o.plus_max = 10, o.plus_band = 0;
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
    o.strategy = search_strategy::runs;  // plus_after acts in runs only
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
    o.strategy = search_strategy::runs;
    o.seed = 6;
    o.threads = 2;
    o.max_flips = 100000;
    o.path_limit = 2000;
    o.restart_walks = 3;
    const search_result a = search(standard_scheme(3, 3, 3), o);
    const search_result b = search(standard_scheme(3, 3, 3), o);
    EXPECT_LE(a.best.rank(), 25);
    // Several runs: path 2000 x 3 walks per stall in 100000 flips per thread.
    expect_repeatable_runs(a, b);
}

// <3,3,3> to its best rank 23 with these options, then two threads without a target for
// 300,000 flips each, twice: a lower rank than the start and the same result both times.
search_result expect_rank_23_and_repeatable_runs(search_options o) {
    o.target_rank = 23;
    const search_result r = search(standard_scheme(3, 3, 3), o);
    EXPECT_TRUE(r.reached_target) << "best " << r.best.rank() << " after " << r.flips << " flips";
    EXPECT_TRUE(verify(r.best).ok);
    o.target_rank = 0;
    o.threads = 2;
    o.max_flips = 300000;
    o.path_limit = 3000;
    const search_result a = search(standard_scheme(3, 3, 3), o);
    const search_result b = search(standard_scheme(3, 3, 3), o);
    EXPECT_LT(a.best.rank(), a.start_rank);
    EXPECT_EQ(a.flips, b.flips);
    expect_repeatable_runs(a, b);
    return a;
}

TEST(FmmSearch, LevelsReachKnownRanksDeterministically) {
    // Without a target, short walks (path_limit 3000) stall at every level, so runs start over
    // and the pools stay within pool_size.
    search_options o;
    o.strategy = search_strategy::levels;
    o.seed = 2;
    o.pool_size = 10;
    o.max_flips = 100000000;
    o.restart_walks = 4;
    const search_result a = expect_rank_23_and_repeatable_runs(o);
    EXPECT_LE(a.best_pool.size(), 2u * o.pool_size);
}

TEST(FmmSearch, HoverReachesKnownRanksDeterministically) {
    // Without a target, short runs (reset_after 20000) from the threads' best schemes.
    search_options o;
    o.strategy = search_strategy::hover;
    o.seed = 1;
    o.max_flips = 20000000;
    o.plus_min = 200;
    o.plus_max = 2000;
    o.reset_after = 20000;
    expect_rank_23_and_repeatable_runs(o);
}

TEST(FmmSearch, HoverLeavesASchemeWithoutFlipsAndComesBack) {
    // From Strassen's 7 (no flips) the walk must climb by plus-transitions, and with a band of
    // 2 it returns to 7 (the lowest rank there is over GF(2)) many times.
    search_options o;
    o.strategy = search_strategy::hover;
    o.max_flips = 200000;
    o.plus_min = 100;
    o.plus_max = 1000;
    o.plus_band = 2;
    o.pool_size = 5;
    const search_result r = search(strassen_scheme(), o);
    EXPECT_EQ(r.best.rank(), 7);
    EXPECT_GE(r.flips, 200000u);
    // Returning to 7 by other routes gives other schemes of rank 7 (equivalent to Strassen's).
    EXPECT_EQ(r.best_pool.size(), 5u);
    for (const scheme& s : r.best_pool) EXPECT_TRUE(verify(s).ok);
}

TEST(FmmSearch, BottomEffortStaysLongerAtTheLowestRank) {
    // With bottom_effort 4 a run spends at its lowest rank 4 times the flips it took to get there, so
    // fewer runs fit in the same flips, and they report through progress as they end.
    search_options o;
    o.seed = 3;
    o.max_flips = 1000000;
    o.path_limit = 3000;
    o.restart_walks = 4;
    o.progress_interval = 0;
    std::uint64_t reported = 0;
    o.progress = [&](const search_progress& p) {
        reported = std::accumulate(p.run_lowest.begin(), p.run_lowest.end(), std::uint64_t{0});
        EXPECT_EQ(p.run_lowest.size(), 28u);
    };
    auto runs = [](const search_result& r) { return std::accumulate(r.run_lowest.begin(), r.run_lowest.end(), 0ull); };
    const search_result quick = search(standard_scheme(3, 3, 3), o);
    EXPECT_GE(reported + 1, runs(quick));  // the last run ends after the last report
    o.bottom_effort = 4;
    const search_result patient = search(standard_scheme(3, 3, 3), o);
    EXPECT_GT(runs(quick), 3u) << runs(patient);
    EXPECT_LT(runs(patient), runs(quick));
    EXPECT_TRUE(verify(patient.best).ok);
    const search_result again = search(standard_scheme(3, 3, 3), o);
    EXPECT_EQ(patient.best.terms, again.best.terms);
    EXPECT_EQ(patient.run_lowest, again.run_lowest);
}

TEST(FmmFlipWalker, LinearDependenceReductionConstructed) {
    // For every (shared position q, dependent position b): three terms (a, b1, c1 + x),
    // (a, b2, c2 + x), (a, b1 + b2, x) of <2,2,2> + 1 term, and four terms of <3,3,3> + 1.
    for (auto [n, k] : {std::pair{2, 2u}, {3, 3u}}) {
        for (int q = 0; q < 3; ++q)
            for (int b = 0; b < 3; ++b) {
                if (b == q) continue;
                const scheme base = standard_scheme(n, n, n);
                const int c = 3 - q - b;
                // x: an entry no term of the group has in position c (here: bit n*n-1 or bit 0).
                const factor_t x = at(base.terms[0], c) == 1 ? factor_t{1} << (n * n - 1) : factor_t{1};
                const scheme s = add_dependent_term(base, q, b, k, x);
                ASSERT_TRUE(verify(s).ok) << verify(s).message;
                ASSERT_EQ(s.rank(), n * n * n + 1);
                ASSERT_TRUE(has_reduction(s));

                flip_walker pairs_only(s, false);
                EXPECT_EQ(pairs_only.reduce_all(), 0) << "no two terms share two factors, q " << q << " b " << b;

                flip_walker w(s, true);
                EXPECT_EQ(w.reduce_all(), 1) << "n " << n << " q " << q << " b " << b;
                EXPECT_EQ(w.rank(), n * n * n);
                const scheme r = w.current();
                EXPECT_TRUE(verify(r).ok) << verify(r).message;
                EXPECT_FALSE(has_reduction(r));
            }
    }
}

TEST(FmmFlipWalker, RandomWalksWithLinearReductionsStayExactAndReduced) {
    // Verify after every move, and check with the naive oracle that no reduction is left.
    for (auto [n, m, p] : {std::array{3, 3, 3}, {2, 3, 4}, {4, 4, 4}}) {
        flip_walker w(standard_scheme(n, m, p), true);
        w.reduce_all();
        std::mt19937_64 rng(7);
        for (int step = 0; step < 3000; ++step) {
            const int before = w.rank();
            if (step % 50 == 49) ASSERT_TRUE(w.plus_transition(rng));
            else if (!w.random_flip(rng)) ASSERT_TRUE(w.plus_transition(rng));
            ASSERT_LE(w.rank(), before + 1);
            const scheme s = w.current();
            const verify_result v = verify(s);
            ASSERT_TRUE(v.ok) << n << m << p << " step " << step << ": " << v.message;
            if (step % 10 == 0) ASSERT_FALSE(has_reduction(s)) << n << m << p << " step " << step;
        }
    }
}

TEST(FmmFlipWalker, StructuredWalksStayExactWithinTheirEntries) {
    for (product_kind kind : {product_kind::a_at, product_kind::upper_triangular, product_kind::symmetric}) {
        const scheme start = standard_scheme(3, 3, 3, kind);
        flip_walker w(start, true);
        std::mt19937_64 rng(11);
        for (int step = 0; step < 4000; ++step) {
            if (step % 40 == 39 || !w.random_flip(rng)) w.plus_transition(rng);
            if (step % 20 != 0) continue;
            const scheme s = w.current();
            ASSERT_EQ(s.product, kind);
            const verify_result v = verify(s);  // also rejects bits outside the product's entries
            ASSERT_TRUE(v.ok) << product_name(kind) << " step " << step << ": " << v.message;
        }
    }
}

TEST(FmmSearch, StructuredProductsBeatTheirStandardAlgorithms) {
    // A A^T (3x2 A, lower triangle): 12 -> 11; upper triangular 3x3 times 3x2: 12 -> 11;
    // symmetric 2x2 times 2x2: 8 -> 6 (b(x+y) + (a-b)x, b(x+y) + (d-b)y per column).
    struct run {
        product_kind kind;
        int n, m, p, target;
    };
    for (const run& r : {run{product_kind::a_at, 3, 2, 3, 11}, {product_kind::upper_triangular, 3, 3, 2, 11},
                         {product_kind::symmetric, 2, 2, 2, 6}}) {
        search_options o;
        o.target_rank = r.target;
        o.seed = 2;
        o.max_flips = 20000000;
        o.path_limit = 20000;
        const scheme start = standard_scheme(r.n, r.m, r.p, r.kind);
        const search_result res = search(start, o);
        EXPECT_TRUE(res.reached_target) << product_name(r.kind) << " best " << res.best.rank();
        EXPECT_LT(res.best.rank(), start.rank());
        EXPECT_EQ(res.best.product, r.kind);
        EXPECT_TRUE(verify(res.best).ok) << verify(res.best).message;
    }
}

TEST(FmmSearch, LinearReductionsOnIsDeterministicToo) {
    search_options o;
    o.seed = 5;
    o.max_flips = 100000;
    o.path_limit = 20000;
    o.linear_reductions = true;
    const search_result a = search(standard_scheme(3, 3, 3), o);
    const search_result b = search(standard_scheme(3, 3, 3), o);
    EXPECT_EQ(a.best.terms, b.best.terms);
    EXPECT_TRUE(verify(a.best).ok);
}
