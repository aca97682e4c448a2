// ops/skinny_gemm.hpp (private): C = A * B and C = A^T * B for a huge A and a thin B.
#pragma once
#include "facto/core/types.hpp"

namespace facto::detail {

/// Largest R handled by skinny_gemm (four AVX-512 registers per row); wider go to BLAS.
template <class T>
constexpr index_t skinny_max_cols = 4 * 64 / static_cast<index_t>(sizeof(T));

/// trans = false: C (m x R) = A (m x k, row-major, leading dimension lda) * B (k x R).
/// trans = true:  C (m x R) = A^T * B, A being k x m (row-major, leading dimension lda).
/// All row-major; B and C have leading dimensions ldb, ldc >= R (panels of wider matrices).
/// The dense MTTKRP's GEMMs have R of 10-30 columns and stream a tensor far larger than
/// cache: BLAS kernels tuned for square blocks waste most of each register tile there; these keep a 4 x R (or 8 x R) tile of C in
/// registers and read A exactly once. OpenMP-parallel, deterministic for a fixed thread count.
template <class T>
void skinny_gemm(bool trans, index_t m, index_t R, index_t k, const T* A, index_t lda, const T* B, index_t ldb, T* C,
                 index_t ldc);
/// B and C dense (leading dimension R).
template <class T>
inline void skinny_gemm(bool trans, index_t m, index_t R, index_t k, const T* A, index_t lda, const T* B, T* C) {
    skinny_gemm(trans, m, R, k, A, lda, B, R, C, R);
}

}  // namespace facto::detail
