// bench_io.cpp: .tns parse throughput (MB/s of text) on one and two threads, on generated text
// shaped like sparse3 (10000x8000x6000, 5M nonzeros) and on /work/workloads/sparse3.tns.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <charconv>
#include <filesystem>
#include <random>
#include <string>

#include "facto/io/file.hpp"
#include "facto/io/tns.hpp"

namespace {

// 5M lines "i j k value", 1-based, random positions, values with 6 decimals (as
// gen_workloads.py writes them). Fixed seed: the same text every run.
const std::string& generated_text() {
    static const std::string text = [] {
        std::mt19937_64 rng(20261124);
        std::string s;
        s.reserve(std::size_t(5'000'000) * 30);
        char buf[64];
        const std::uint64_t dims[3] = {10000, 8000, 6000};
        for (int k = 0; k < 5'000'000; ++k) {
            for (auto d : dims) {
                auto r = std::to_chars(buf, buf + sizeof buf, 1 + rng() % d);
                s.append(buf, r.ptr);
                s += ' ';
            }
            const double v = static_cast<double>(rng() >> 11) * 0x1.0p-53 * 2.0;
            auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 6);
            s.append(buf, r.ptr);
            s += '\n';
        }
        return s;
    }();
    return text;
}

const char* const workload = "/work/workloads/sparse3.tns";

void run_parse(benchmark::State& state, const std::string& text, bool canonicalize) {
    omp_set_num_threads(static_cast<int>(state.range(0)));
    facto::index_t nnz = 0;
    for (auto _ : state) {
        facto::coo_tensor X = facto::parse_tns(text, "bench.tns", {.sum_duplicates = canonicalize});
        nnz = X.nnz();
        benchmark::DoNotOptimize(X.values.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
    state.counters["nnz"] = static_cast<double>(nnz);
    state.counters["MB"] = static_cast<double>(text.size()) / 1e6;
}

// Parsing only (entries in file order).
void BM_parse_tns_generated(benchmark::State& state) { run_parse(state, generated_text(), false); }
// Parsing plus canonicalize (sort, sum duplicates): what read_tns does by default.
void BM_parse_tns_generated_canonical(benchmark::State& state) { run_parse(state, generated_text(), true); }

void BM_read_tns_sparse3(benchmark::State& state) {
    if (!std::filesystem::exists(workload)) {
        state.SkipWithError("/work/workloads/sparse3.tns not found");
        return;
    }
    static const std::string text = facto::read_file(workload);
    run_parse(state, text, state.range(1) != 0);
}

}  // namespace

BENCHMARK(BM_parse_tns_generated)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_parse_tns_generated_canonical)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_read_tns_sparse3)
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->ArgNames({"threads", "canonical"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2);

BENCHMARK_MAIN();
