// bench_mttkrp.cpp: MTTKRP speed, dense (200^3, rank 10) and sparse (10000x8000x6000 with 5M
// random nonzeros, ranks 16 and 64, both CSF policies), at 1 and 2 threads, plus CSF build time.
// Counters: GFLOP/s and effective GB/s (bytes of the tensor read once / time), to read against
// bench_roofline's memory bandwidth.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "facto/core/sparse.hpp"
#include "facto/core/tensor.hpp"
#include "facto/ops/mttkrp.hpp"

namespace {

using namespace facto;

void set_threads(int t) {
    omp_set_num_threads(t);
    openblas_set_num_threads(t);
}

std::vector<matrix> random_factors(const shape_t& s, index_t R, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<matrix> F;
    for (auto d : s) {
        matrix A(d, R);
        for (auto& v : A.values()) v = u(rng);
        F.push_back(std::move(A));
    }
    return F;
}

// On a shared machine the minimum over repetitions (--benchmark_repetitions=N) is the figure
// least disturbed by other processes.
double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

// Data sets, generated once with fixed seeds.
const tensor& dense_200() {
    static const tensor X = [] {
        tensor T({200, 200, 200});
        std::mt19937_64 rng(1);
        std::uniform_real_distribution<double> u(0, 1);
        for (auto& v : T.values()) v = u(rng);
        return T;
    }();
    return X;
}

const shape_t sparse_shape{10000, 8000, 6000};

const coo_tensor& sparse_coo() {
    static const coo_tensor X = [] {
        coo_tensor T(sparse_shape);
        const index_t nnz = 5'000'000;
        T.reserve(nnz);
        std::mt19937_64 rng(2);
        std::uniform_real_distribution<double> u(0, 1);
        for (index_t k = 0; k < nnz; ++k) {
            for (int m = 0; m < 3; ++m)
                T.indices[static_cast<std::size_t>(m)].push_back(
                    static_cast<index_t>(rng() % static_cast<std::uint64_t>(sparse_shape[static_cast<std::size_t>(m)])));
            T.values.push_back(u(rng));
        }
        return T;
    }();
    return X;
}

const csf_set& sparse_set(csf_policy p) {
    static std::unique_ptr<csf_set> one, all;
    auto& s = p == csf_policy::one ? one : all;
    if (!s) s = std::make_unique<csf_set>(make_csf_set(sparse_coo(), p));
    return *s;
}

// Args: threads, mode.
void BM_dense_mttkrp(benchmark::State& state) {
    set_threads(static_cast<int>(state.range(0)));
    const int mode = static_cast<int>(state.range(1));
    const index_t R = 10;
    const tensor& X = dense_200();
    const auto F = random_factors(X.shape(), R, 3);
    matrix out;
    for (auto _ : state) {
        mttkrp(X.view(), std::span<const matrix>(F), mode, out);
        benchmark::DoNotOptimize(out.data());
    }
    const double it = static_cast<double>(state.iterations());
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * static_cast<double>(X.size()) * R * it / 1e9, benchmark::Counter::kIsRate);
    state.counters["GB/s"] =
        benchmark::Counter(static_cast<double>(X.size()) * sizeof(double) * it / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_dense_mttkrp)
    ->ArgsProduct({{1, 2}, {0, 1, 2}})
    ->ArgNames({"threads", "mode"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("min", min_of);

// Args: threads, policy (0 one, 1 all), rank, mode. Flops counted as for COO: N multiplies and
// adds per nonzero and column (CSF saves some of them).
void BM_sparse_mttkrp(benchmark::State& state) {
    set_threads(static_cast<int>(state.range(0)));
    const csf_policy pol = state.range(1) ? csf_policy::all : csf_policy::one;
    const index_t R = state.range(2);
    const int mode = static_cast<int>(state.range(3));
    const csf_set& X = sparse_set(pol);
    const auto F = random_factors(X.shape, R, 4);
    matrix out;
    for (auto _ : state) {
        mttkrp(X, std::span<const matrix>(F), mode, out);
        benchmark::DoNotOptimize(out.data());
    }
    const double it = static_cast<double>(state.iterations());
    const auto& csf = pol == csf_policy::all ? X.csfs[static_cast<std::size_t>(mode)] : X.csfs[0];
    state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(X.nnz()) * R * X.order() * it / 1e9,
                                                   benchmark::Counter::kIsRate);
    state.counters["GB/s"] =
        benchmark::Counter(static_cast<double>(csf.bytes()) * it / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_sparse_mttkrp)
    ->ArgsProduct({{1, 2}, {0, 1}, {16, 64}, {0, 1, 2}})
    ->ArgNames({"threads", "all", "rank", "mode"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("min", min_of);

// CSF construction from the unsorted COO. Args: threads, policy (0 one, 1 all).
void BM_csf_build(benchmark::State& state) {
    set_threads(static_cast<int>(state.range(0)));
    const csf_policy pol = state.range(1) ? csf_policy::all : csf_policy::one;
    const coo_tensor& X = sparse_coo();
    for (auto _ : state) {
        csf_set s = make_csf_set(X, pol);
        benchmark::DoNotOptimize(s.csfs.data());
    }
}
BENCHMARK(BM_csf_build)
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->ArgNames({"threads", "all"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("min", min_of)
    ->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
