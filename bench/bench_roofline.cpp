// bench_roofline.cpp: the machine's own ceilings (memory bandwidth, BLAS GEMM rate), measured in
// the same run as the kernels so that their figures can be read as fractions of a roofline.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <cstddef>
#include <vector>

namespace {

void set_threads(int t) {
    omp_set_num_threads(t);
    openblas_set_num_threads(t);
}

// Streaming read: sum of a 512 MiB array, far larger than any cache (vectorized, so the adds do
// not limit it). MTTKRP on a dense tensor
// reads the tensor once, so this is its bandwidth ceiling.
void BM_stream_read(benchmark::State& state) {
    set_threads(static_cast<int>(state.range(0)));
    const std::size_t n = std::size_t(64) << 20;
    std::vector<double> a(n);
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < n; ++i) a[i] = 1.0 + 1e-9 * static_cast<double>(i);
    for (auto _ : state) {
        double s = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : s)
        for (std::size_t i = 0; i < n; ++i) s += a[i];
        benchmark::DoNotOptimize(s);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * sizeof(double)));
}
BENCHMARK(BM_stream_read)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// STREAM triad a = b + s * c: two reads and one write per element.
void BM_stream_triad(benchmark::State& state) {
    set_threads(static_cast<int>(state.range(0)));
    const std::size_t n = std::size_t(16) << 20;
    std::vector<double> a(n), b(n, 1.0), c(n, 2.0);
    for (auto _ : state) {
#pragma omp parallel for schedule(static)
        for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + 3.0 * c[i];
        benchmark::DoNotOptimize(a.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 3 * n * sizeof(double)));
}
BENCHMARK(BM_stream_triad)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Square DGEMM: the compute ceiling that dense MTTKRP (a GEMM with a thin right-hand side)
// cannot exceed.
void BM_dgemm(benchmark::State& state) {
    set_threads(static_cast<int>(state.range(0)));
    const int n = static_cast<int>(state.range(1));
    std::vector<double> A(std::size_t(n) * n, 1.0), B(std::size_t(n) * n, 0.5), C(std::size_t(n) * n);
    for (auto _ : state) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A.data(), n, B.data(), n, 0.0,
                    C.data(), n);
        benchmark::DoNotOptimize(C.data());
    }
    state.counters["GFLOPS"] = benchmark::Counter(2.0 * n * n * n * static_cast<double>(state.iterations()) / 1e9,
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_dgemm)->Args({1, 2000})->Args({2, 2000})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
