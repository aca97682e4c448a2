// parallel.hpp: when a loop is worth a thread team. Starting and joining a team costs
// microseconds, and far more on a busy machine where OpenMP threads spin waiting for a core,
// so loops over a few thousand operations run on the calling thread.
#pragma once
#include <cblas.h>
#include <omp.h>

#include "facto/core/types.hpp"

namespace facto::detail {

inline constexpr index_t min_parallel_work = index_t{1} << 15;

/// True when `work` (a count of multiply-adds or elements touched) pays for a parallel region.
inline bool worth_parallel(index_t work) { return work >= min_parallel_work; }

/// Sets the OpenMP and OpenBLAS thread counts for one call (threads > 0) and restores them
/// after; OpenBLAS keeps its own pool, so setting OpenMP's alone leaves BLAS calls as they were.
class thread_scope {
public:
    explicit thread_scope(int threads) : threads_(threads) {
        if (threads_ <= 0) return;
        prev_omp_ = omp_get_max_threads();
        prev_blas_ = openblas_get_num_threads();
        omp_set_num_threads(threads_);
        openblas_set_num_threads(threads_);
    }
    ~thread_scope() {
        if (threads_ <= 0) return;
        omp_set_num_threads(prev_omp_);
        openblas_set_num_threads(prev_blas_);
    }
    thread_scope(const thread_scope&) = delete;
    thread_scope& operator=(const thread_scope&) = delete;

private:
    int threads_, prev_omp_ = 1, prev_blas_ = 1;
};

}  // namespace facto::detail
