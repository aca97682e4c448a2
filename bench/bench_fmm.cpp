// bench_fmm.cpp: flip-graph walk speed (flips per second on one thread) and search time to
// known ranks from the standard algorithm (<3,3,3> to 23 and <4,4,4> to 49, by seed).
#include <benchmark/benchmark.h>

#include "facto/fmm/flip_graph.hpp"

namespace {

using namespace facto::fmm;

// Random flips from a walked <n,n,n> scheme; the walker restarts from the standard algorithm
// whenever it runs out of flips (a rank drop is still a flip counted). Second argument:
// linear-dependence reductions on (1) or off (0), for their cost per flip.
void BM_flips(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const bool linear = state.range(1) != 0;
    const scheme start = standard_scheme(n, n, n);
    std::mt19937_64 rng(1);
    auto w = std::make_unique<flip_walker>(start, linear);
    std::int64_t flips = 0;
    for (auto _ : state) {
        for (int k = 0; k < 1024; ++k)
            if (!w->random_flip(rng)) w = std::make_unique<flip_walker>(start, linear);
        flips += 1024;
    }
    state.counters["flips/s"] = benchmark::Counter(static_cast<double>(flips), benchmark::Counter::kIsRate);
    state.counters["rank"] = w->rank();
}
BENCHMARK(BM_flips)->ArgsProduct({{3, 4, 5}, {1, 0}})->Unit(benchmark::kMicrosecond);

std::uint64_t last_seed[3] = {};  // the last seed used by BM_search, per strategy

// Search time to a target rank, one thread, for seeds 1..; benchmark's median over the
// repetitions is the median over seeds (each repetition uses the next seed). Third argument:
// 1 the default strategy (levels), 0 runs with their best settings (restart 2, pool 100),
// 2 hover with its defaults.
void BM_search(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const int target = static_cast<int>(state.range(1));
    const auto kind = static_cast<std::size_t>(state.range(2));
    for (auto _ : state) {
        search_options o;
        if (kind == 0) {
            o.strategy = search_strategy::runs;
            o.restart_walks = 2;
            o.pool_size = 100;
        } else if (kind == 2) {
            o.strategy = search_strategy::hover;
        }
        o.target_rank = target;
        o.seed = ++last_seed[kind];
        o.time_limit = 600;
        const search_result r = search(standard_scheme(n, n, n), o);
        if (!r.reached_target) state.SkipWithError("target not reached within 600 s");
        state.counters["flips"] = static_cast<double>(r.flips);
    }
}
BENCHMARK(BM_search)->ArgsProduct({{3}, {23}, {1, 0, 2}})->Iterations(1)->Repetitions(10)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_search)->ArgsProduct({{4}, {49}, {1, 0}})->Iterations(1)->Repetitions(3)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
