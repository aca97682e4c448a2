// bench_tucker.cpp: dense and sparse HOOI sweeps, ST-HOSVD start, dense and sparse randomized SVD.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "facto/decomp/svd.hpp"
#include "facto/decomp/tucker.hpp"

namespace {

// Planted multilinear rank (10, 10, 10) plus 1% noise: realistic spectra for the eigensolvers.
const facto::tensor& cube200() {
    static const facto::tensor X = [] {
        const facto::index_t n = 200, r = 10;
        std::mt19937_64 rng(1);
        std::normal_distribution<double> g;
        facto::tucker_tensor M;
        M.core = facto::tensor({r, r, r});
        for (auto& v : M.core.values()) v = g(rng);
        for (int m = 0; m < 3; ++m) {
            facto::matrix U(n, r);
            for (auto& v : U.values()) v = g(rng);
            M.factors.push_back(U);
        }
        facto::tensor Y = M.full();
        const double s = 0.01 * facto::norm(Y.view()) / std::sqrt(static_cast<double>(Y.size()));
        for (auto& v : Y.values()) v += s * g(rng);
        return Y;
    }();
    return X;
}

void BM_sthosvd_200cubed_r10(benchmark::State& state) {
    const auto& X = cube200();
    for (auto _ : state) {
        auto r = facto::tucker_sthosvd(X.view(), {.ranks = {10, 10, 10}, .check_error = false});
        benchmark::DoNotOptimize(r.model.core.data());
    }
}
BENCHMARK(BM_sthosvd_200cubed_r10)->Unit(benchmark::kMillisecond)->UseRealTime();

// Seconds per HOOI sweep: (total - ST-HOSVD start) / sweeps, as manual time.
void BM_hooi_iteration_200cubed_r10(benchmark::State& state) {
    const auto& X = cube200();
    const int sweeps = 5;
    for (auto _ : state) {
        // iter_tol < 0: run all sweeps.
        auto r = facto::tucker_hooi(X.view(),
                                    {.ranks = {10, 10, 10}, .max_iters = sweeps, .iter_tol = -1.0, .check_error = false});
        state.SetIterationTime((r.seconds - r.setup_seconds) / r.iters);
        state.counters["start_s"] = r.setup_seconds;
    }
}
BENCHMARK(BM_hooi_iteration_200cubed_r10)->Unit(benchmark::kMillisecond)->UseManualTime();

void BM_svd_randomized_5000x2000_r50(benchmark::State& state) {
    static const facto::matrix A = [] {
        std::mt19937_64 rng(2);
        std::normal_distribution<double> g;
        facto::matrix M(5000, 2000);
        for (auto& v : M.values()) v = g(rng);
        return M;
    }();
    for (auto _ : state) {
        auto r = facto::svd_randomized(A, {.rank = 50, .seed = 1});
        benchmark::DoNotOptimize(r.s.data());
    }
}
BENCHMARK(BM_svd_randomized_5000x2000_r50)->Unit(benchmark::kMillisecond)->UseRealTime();

// Uniformly random sparse tensor / matrix (duplicates summed by the kernels).
facto::coo_tensor random_coo(const facto::shape_t& shape, facto::index_t nnz, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g;
    facto::coo_tensor X(shape);
    X.reserve(nnz);
    std::vector<facto::index_t> c(shape.size());
    for (facto::index_t k = 0; k < nnz; ++k) {
        for (std::size_t m = 0; m < shape.size(); ++m)
            c[m] = std::uniform_int_distribution<facto::index_t>(0, shape[m] - 1)(rng);
        X.push_back(c, g(rng));
    }
    return X;
}

// Seconds per sparse HOOI sweep (CSF TTM chains), 1000^3 with 10^6 nonzeros, ranks (10, 10, 10).
void BM_sparse_hooi_iteration_1000cubed_1M_r10(benchmark::State& state) {
    static const facto::coo_tensor X = random_coo({1000, 1000, 1000}, 1000000, 3);
    for (auto _ : state) {
        auto r = facto::tucker_hooi(X, {.ranks = {10, 10, 10}, .max_iters = 3, .iter_tol = -1.0});
        state.SetIterationTime((r.seconds - r.setup_seconds) / r.iters);
        state.counters["start_s"] = r.setup_seconds;
    }
}
BENCHMARK(BM_sparse_hooi_iteration_1000cubed_1M_r10)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(2);

void BM_sparse_svd_randomized_100000x10000_1M_r50(benchmark::State& state) {
    static const facto::coo_tensor A = random_coo({100000, 10000}, 1000000, 4);
    for (auto _ : state) {
        auto r = facto::svd_randomized(A, {.rank = 50, .seed = 1});
        benchmark::DoNotOptimize(r.s.data());
    }
}
BENCHMARK(BM_sparse_svd_randomized_100000x10000_1M_r50)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
