// parallel.hpp: when a loop is worth a thread team. Starting and joining a team costs
// microseconds, and far more on a busy machine where OpenMP threads spin waiting for a core,
// so loops over a few thousand operations run on the calling thread.
#pragma once
#include "facto/core/types.hpp"

namespace facto::detail {

inline constexpr index_t min_parallel_work = index_t{1} << 15;

/// True when `work` (a count of multiply-adds or elements touched) pays for a parallel region.
inline bool worth_parallel(index_t work) { return work >= min_parallel_work; }

}  // namespace facto::detail
