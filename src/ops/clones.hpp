// ops/clones.hpp (private): compile hot kernels for several instruction sets, chosen at load time.
#pragma once

// The library is built for baseline x86-64 by default (FACTO_NATIVE off), where loops over R
// values use 2-wide SSE2; AVX2 and AVX-512 versions of the hot kernels are 2-4x faster.
// OpenMP outlines parallel regions into functions that are not cloned, so the cloned
// functions must be the serial bodies called from inside the regions.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define FACTO_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FACTO_CLONES
#endif
#define FACTO_INLINE [[gnu::always_inline]] inline
