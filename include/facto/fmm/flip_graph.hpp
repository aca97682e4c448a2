// facto/fmm/flip_graph.hpp: random walks on the flip graph of GF(2) schemes (Kauers and
// Moosbauer), with reductions, plus-transitions, pools per rank and a multi-threaded search.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "facto/fmm/scheme.hpp"

namespace facto::fmm {

/// A scheme being walked: its terms, and for each position (u, v, w) a hash map from factor
/// value to the terms holding it, kept up to date on every move so that a flip partner is found
/// in expected constant time.
class flip_walker {
public:
    /// Copies s (which must verify; throws facto::invalid_argument otherwise). With
    /// linear_reductions, reductions also remove a term whose factor in one position is the sum
    /// of the factors of other terms sharing its factor in another position (see reduce_all).
    explicit flip_walker(const scheme& s, bool linear_reductions = false);
    ~flip_walker();
    flip_walker(const flip_walker&) = delete;
    flip_walker& operator=(const flip_walker&) = delete;

    int rank() const noexcept;
    /// The current scheme.
    scheme current() const;

    /// One random flip: picks a term and a position at random, and a partner sharing that
    /// factor; (a,b,c),(a,b',c') -> (a,b+b',c),(a,b',c+c'). A term left with a zero factor is
    /// removed and terms that then share two factors are merged (reductions). Returns false
    /// (nothing changed) when no term shares a factor with another.
    bool random_flip(std::mt19937_64& rng);

    /// Applies every available reduction: merges terms sharing two factors
    /// ((a,b,c)+(a,b,c') -> (a,b,c+c')), removes zero terms, and (when enabled) removes a term
    /// (a, b_1+...+b_k, c) whose b is a sum of factors of terms (a, b_i, c_i) sharing its a:
    /// sum_i (a, b_i, c_i + c). Returns the rank drop.
    int reduce_all();

    /// Plus-transition (Arai, Ichikawa and Hukushima): two random terms that differ in every
    /// position become three, (a,b,c) + (a',b',c') -> (a+a',b,c) + (a',b+b',c) + (a',b',c+c'),
    /// so the rank rises by one (unless the new terms merge with others). Returns false when
    /// no such pair turns up in 64 draws.
    bool plus_transition(std::mt19937_64& rng);

private:
    struct impl;
    std::unique_ptr<impl> p_;
};

/// What a search reports while it runs (from one thread at a time).
struct search_progress {
    int best_rank = 0;        ///< lowest rank found so far
    int start_rank = 0;
    double seconds = 0;
    std::uint64_t flips = 0;  ///< flips made by all threads
    double flips_per_second = 0;
    bool improved = false;    ///< this report is a new best rank (else a periodic report)
    /// Runs ended so far by their lowest rank, as search_result::run_lowest (runs under way
    /// not counted): how deep runs get.
    std::vector<std::uint64_t> run_lowest;
};

/// How a search thread organizes its walks (docs/fmm.md, "Search").
enum class search_strategy {
    /// Independent runs: a run follows every reduction it finds, keeps a pool at its own lowest
    /// rank, and starts over from the start scheme after restart_walks failed walks in a row.
    runs,
    /// A pool per rank (Kauers and Moosbauer): walks start from a random member of the pool at
    /// the current level and stop at their first reduction, whose scheme joins the pool below;
    /// the search moves down when that pool holds pool_size schemes, or after restart_walks
    /// failed walks in a row (starting over when nothing lies below).
    levels,
    /// One long walk per run that hovers above its lowest rank (Arai, Ichikawa and Hukushima's
    /// plus-transitions inside the walk): after a random number of flips in
    /// [plus_min, plus_max] without a reduction it takes a plus-transition, as long as its rank
    /// stays below its lowest rank + plus_band; after reset_after flips without a new lowest
    /// rank a new run starts from a random one of the thread's schemes at its best rank.
    hover,
};

/// Options of search().
struct search_options {
    /// levels by default: faster to every target measured (<4,4,4> to 49, median 10 s against
    /// 26 s; <3,3,4>, <3,3,5>, <3,4,4>, <2,5,5> to their best known ranks, which runs did not
    /// reach; docs/fmm.md "Levels against runs").
    search_strategy strategy = search_strategy::levels;
    int target_rank = 0;              ///< stop when a scheme of this rank is found; 0: no target
    int threads = 1;                  ///< independent walkers, seeds seed, seed+1, ...
    std::uint64_t seed = 1;
    double time_limit = 0;            ///< seconds; 0: none
    std::uint64_t max_flips = 0;      ///< per thread; 0: none (then a target, time or stop is needed)
    std::uint64_t path_limit = 300000;   ///< flips without a reduction before a walk restarts
    int pool_size = 20;               ///< schemes kept per rank (per thread)
    int plateau_walks = 20;           ///< failed walks in a row before walks start with a plus-transition
    /// Flips without a rank change, at the best rank, before a plus-transition within a walk
    /// (so the walk wanders between ranks r and r+1 and can reach r-1); 0: never.
    std::uint64_t plus_after = 0;
    /// search_strategy::levels: failed walks in a row after which the search moves to the next
    /// non-empty pool below, or starts over when there is none. search_strategy::runs: failed
    /// walks in a row after which a thread starts a new run from the start scheme (its best
    /// schemes are kept); different runs stall at different ranks, and a run that gets far gets
    /// there fast, so short runs win there: use 2 (<4,4,4> to 49 over seeds 1-10: median 122 M
    /// flips with 2, 442 M with 10; docs/fmm.md "Search"). 0: never.
    int restart_walks = 20;
    /// search_strategy::levels: when walks keep failing at a run's lowest rank with nothing
    /// below, keep walking there until the flips spent at that rank reach bottom_effort times
    /// the flips the run took to get there, then start over. Balances finding a low rank again
    /// against pushing one found further. 0: start over after restart_walks failed walks.
    double bottom_effort = 0;
    /// search_strategy::hover: a plus-transition comes after a number of flips without a
    /// reduction drawn uniformly from [plus_min, plus_max], while the rank is below the run's
    /// lowest + plus_band; a new run (from one of the thread's best schemes) starts after
    /// reset_after flips without a new lowest rank (0: never).
    std::uint64_t plus_min = 5000, plus_max = 100000;
    int plus_band = 4;
    std::uint64_t reset_after = 2000000000;
    /// Linear-dependence reductions (flip_walker) besides the two-shared-factor merges. Off by
    /// default: measured slower to a target (docs/fmm.md, "Moves").
    bool linear_reductions = false;
    /// Asked every 1024 flips by each thread (so it must be thread-safe, such as reading an
    /// atomic flag set by a SIGINT handler); returning true stops the search. May be empty.
    std::function<bool()> stop;
    double progress_interval = 1.0;   ///< seconds between periodic progress reports
    std::function<void(const search_progress&)> progress;  ///< may be empty
};

/// Result of search().
struct search_result {
    scheme best;                      ///< lowest rank found (verified)
    std::vector<scheme> best_pool;    ///< every distinct scheme kept at that rank (verified)
    int start_rank = 0;
    std::uint64_t flips = 0;
    double seconds = 0;
    bool reached_target = false;
    bool stopped = false;             ///< ended by the stop flag
    bool timed_out = false;
    /// Runs (walk sequences from the start scheme, see restart_walks) by the lowest rank they
    /// reached, over all threads: run_lowest[r] runs ended at rank r (the last run of each
    /// thread included). Says how often a run gets how far.
    std::vector<std::uint64_t> run_lowest;
};

/// Flip-graph search from `start` toward lower rank. With search_strategy::runs, each thread
/// walks from a random member of its own pool of schemes at its lowest rank; a walk that makes
/// path_limit flips without a reduction adds its end scheme to the pool and restarts; after
/// plateau_walks such walks in a row the next walk begins with a plus-transition. With
/// search_strategy::levels, each thread keeps a pool per rank (see there). Stops on the target
/// rank, max_flips, time_limit or the stop flag. With a target or max_flips alone the result depends only on
/// the seed and the thread count: when a thread reaches the target after F flips, the others
/// go on until they reach it or pass F flips, and the thread with the fewest flips wins.
search_result search(const scheme& start, const search_options& opts);

}  // namespace facto::fmm
