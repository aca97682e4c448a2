// skinny_gemm.cpp: register-tiled GEMM with a thin right-hand side, for dense MTTKRP.
#include "core/parallel.hpp"
#include "ops/skinny_gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "ops/clones.hpp"

namespace facto::detail {

namespace {

// B rows padded to RP columns (zeros beyond R), so the inner loops have a constant trip count
// and the compiler keeps the C tile in vector registers.
// Scratch arrays are kept per thread between calls: CP-ALS calls MTTKRP with the same sizes
// every iteration, and fresh multi-megabyte arrays would page-fault on every call.
template <class T, int RP>
const T* pack(const T* B, index_t ldb, index_t k, index_t R) {
    static thread_local std::vector<T> P;
    P.resize(static_cast<std::size_t>(k * RP));
    T* p = P.data();
#pragma omp parallel for schedule(static) if (detail::worth_parallel(k * RP))
    for (index_t l = 0; l < k; ++l) {
        std::copy(B + l * ldb, B + l * ldb + R, p + l * RP);
        std::fill(p + l * RP + R, p + (l + 1) * RP, T(0));
    }
    return p;
}

constexpr index_t kblock = 512;  // rows of packed B per block: RP * 512 * 8 bytes stays in L2

// C rows [i0, i1) = A rows [i0, i1) * B, k-blocked: MR rows of C in registers per pass.
// Rows of the C tile: as many as keep it within 16 of the 32 AVX-512 registers.
template <class T, int RP>
constexpr int tile_rows = std::max(2, 16 / static_cast<int>(RP * sizeof(T) / 64));

// C rows [i0, i1) = A rows [i0, i1) * B: chunks of rows whose padded results fit in L1, and
// within a chunk k-blocks of B (L2) times MR-row tiles of C held in registers.
template <class T, int RP>
FACTO_CLONES void nn_rows(index_t i0, index_t i1, index_t R, index_t k, const T* A, index_t lda, const T* Bp, T* C,
                          index_t ldc) {
    constexpr int MR = std::min(8, tile_rows<T, RP>);
    constexpr index_t chunk = 128;
    T Cp[chunk * RP];
    for (index_t c0 = i0; c0 < i1; c0 += chunk) {
        const index_t c1 = std::min(i1, c0 + chunk);
        std::fill(Cp, Cp + (c1 - c0) * RP, T(0));
        for (index_t k0 = 0; k0 < k; k0 += kblock) {
            const index_t k1 = std::min(k, k0 + kblock);
            index_t i = c0;
            for (; i + MR <= c1; i += MR) {
                T acc[MR][RP];
                T* c = Cp + (i - c0) * RP;
                for (int a = 0; a < MR; ++a)
#pragma omp simd
                    for (int r = 0; r < RP; ++r) acc[a][r] = c[a * RP + r];
                const T* a0 = A + i * lda;
                index_t l = k0;
                // A cache line at a time; meanwhile prefetch the rows of the next tile, which
                // the hardware prefetcher would only pick up after a few misses per row.
                constexpr int line = 64 / static_cast<int>(sizeof(T));
                for (; l + line <= k1; l += line) {
                    for (int a = 0; a < MR; ++a) __builtin_prefetch(a0 + (MR + a) * lda + l);
                    for (int u = 0; u < line; ++u) {
                        const T* b = Bp + (l + u) * RP;
                        for (int a = 0; a < MR; ++a) {
                            const T x = a0[a * lda + l + u];
#pragma omp simd
                            for (int r = 0; r < RP; ++r) acc[a][r] += x * b[r];
                        }
                    }
                }
                for (; l < k1; ++l) {
                    const T* b = Bp + l * RP;
                    for (int a = 0; a < MR; ++a) {
                        const T x = a0[a * lda + l];
#pragma omp simd
                        for (int r = 0; r < RP; ++r) acc[a][r] += x * b[r];
                    }
                }
                for (int a = 0; a < MR; ++a)
#pragma omp simd
                    for (int r = 0; r < RP; ++r) c[a * RP + r] = acc[a][r];
            }
            for (; i < c1; ++i) {
                T* c = Cp + (i - c0) * RP;
                const T* a0 = A + i * lda;
                for (index_t l = k0; l < k1; ++l) {
                    const T x = a0[l];
                    const T* b = Bp + l * RP;
#pragma omp simd
                    for (int r = 0; r < RP; ++r) c[r] += x * b[r];
                }
            }
        }
        for (index_t i = c0; i < c1; ++i) std::copy(Cp + (i - c0) * RP, Cp + (i - c0) * RP + R, C + i * ldc);
    }
}

// Cp (m x RP) += A(l0:l1, :)^T * B(l0:l1, :): MR columns of A (rows of C) in registers per pass,
// l-blocked so the rows of A being read stay in cache across the column passes.
template <class T, int RP>
FACTO_CLONES void tn_rows(index_t l0, index_t l1, index_t m, const T* A, index_t lda, const T* Bp, T* Cp) {
    constexpr int MR = tile_rows<T, RP>;
    // Blocks of rows of A of about 128 KiB, so that the passes over its column tiles hit L2.
    const index_t lblock = std::max<index_t>(8, (index_t{128} << 10) / static_cast<index_t>(m * sizeof(T)));
    for (index_t b0 = l0; b0 < l1; b0 += lblock) {
        const index_t b1 = std::min(l1, b0 + lblock);
        index_t j = 0;
        for (; j + MR <= m; j += MR) {
            T acc[MR][RP];
            T* c = Cp + j * RP;
            for (int a = 0; a < MR; ++a)
#pragma omp simd
                for (int r = 0; r < RP; ++r) acc[a][r] = c[a * RP + r];
            for (index_t l = b0; l < b1; ++l) {
                const T* b = Bp + l * RP;
                const T* x = A + l * lda + j;
                for (int a = 0; a < MR; ++a)
#pragma omp simd
                    for (int r = 0; r < RP; ++r) acc[a][r] += x[a] * b[r];
            }
            for (int a = 0; a < MR; ++a)
#pragma omp simd
                for (int r = 0; r < RP; ++r) c[a * RP + r] = acc[a][r];
        }
        for (; j < m; ++j) {
            T* c = Cp + j * RP;
            for (index_t l = b0; l < b1; ++l) {
                const T x = A[l * lda + j];
                const T* b = Bp + l * RP;
#pragma omp simd
                for (int r = 0; r < RP; ++r) c[r] += x * b[r];
            }
        }
    }
}

// The same product with the tile transposed: C^T(0:RQ, j:j+W) in registers while a block of
// rows of A (kept in L2) streams by, each step one contiguous run of a row of A times RQ
// broadcast entries of B. For small R no lanes are wasted on padding R up to a whole register
// (R = 10 uses 12 tile rows, not 16 lanes).
// While one block is worked on, the same columns of the next block (`ahead` rows on, where
// it exists) are prefetched, so that block arrives in cache in step rather than through the
// strided first pass over it.
template <class T, int RQ, int W>
FACTO_INLINE void tn_tile(index_t b0, index_t b1, index_t j, index_t m, const T* A, index_t lda, const T* Bq, T* ct,
                          index_t ahead) {
    T acc[RQ][W] = {};
    for (index_t l = b0; l < b1; ++l) {
        const T* a = A + l * lda + j;
        if (ahead)
            for (int x = 0; x < W; x += 64 / static_cast<int>(sizeof(T))) __builtin_prefetch(a + ahead * lda + x);
        const T* b = Bq + l * RQ;
        for (int r = 0; r < RQ; ++r)
#pragma omp simd
            for (int x = 0; x < W; ++x) acc[r][x] += b[r] * a[x];
    }
    for (int r = 0; r < RQ; ++r)
#pragma omp simd
        for (int x = 0; x < W; ++x) ct[r * m + j + x] += acc[r][x];
}

template <class T, int RQ>
FACTO_CLONES void tn_cols(index_t l0, index_t l1, index_t m, const T* A, index_t lda, const T* Bq, T* Cp) {
    constexpr int lanes = 64 / sizeof(T);
    constexpr int JB = (RQ <= 12 ? 2 : 1) * lanes;
    std::vector<T> CT(static_cast<std::size_t>(RQ * m), T(0));  // C^T, RQ x m
    T* ct = CT.data();
    // Blocks of rows of A of about 128 KiB, so the passes over its column tiles hit L2.
    const index_t lblock = std::max<index_t>(8, (index_t{128} << 10) / static_cast<index_t>(m * sizeof(T)));
    for (index_t b0 = l0; b0 < l1; b0 += lblock) {
        const index_t b1 = std::min(l1, b0 + lblock);
        const index_t ahead = b1 + (b1 - b0) <= l1 ? b1 - b0 : 0;
        index_t j = 0;
        for (; j + JB <= m; j += JB) tn_tile<T, RQ, JB>(b0, b1, j, m, A, lda, Bq, ct, ahead);
        for (; j + lanes <= m; j += lanes) tn_tile<T, RQ, lanes>(b0, b1, j, m, A, lda, Bq, ct, ahead);
        for (; j < m; ++j) tn_tile<T, RQ, 1>(b0, b1, j, m, A, lda, Bq, ct, 0);
    }
    for (index_t j = 0; j < m; ++j)
        for (int r = 0; r < RQ; ++r) Cp[j * RQ + r] += ct[r * m + j];
}

template <class T, int RP>
void run_nn(index_t m, index_t R, index_t k, const T* A, index_t lda, const T* B, index_t ldb, T* C, index_t ldc) {
    const T* Bp = pack<T, RP>(B, ldb, k, R);
    // Threads own contiguous blocks of rows of C: no races, fixed sums.
#pragma omp parallel if (detail::worth_parallel(m * k * R))
    {
        const index_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        const index_t per = (m + nt - 1) / nt;
        const index_t i0 = std::min(m, t * per), i1 = std::min(m, i0 + per);
        if (i0 < i1) nn_rows<T, RP>(i0, i1, R, k, A, lda, Bp, C, ldc);
    }
}

// C = A^T B sums over the k rows of A: each thread takes a contiguous range of them into its
// own padded copy of C; the copies are added in thread order. cols picks tn_cols over tn_rows.
template <class T, int RP, bool cols>
void run_tn(index_t m, index_t R, index_t k, const T* A, index_t lda, const T* B, index_t ldb, T* C, index_t ldc) {
    const T* Bp = pack<T, RP>(B, ldb, k, R);
    const int nt = omp_get_max_threads();
    static thread_local std::vector<T> copies;
    copies.assign(static_cast<std::size_t>(nt) * static_cast<std::size_t>(m * RP), T(0));
    T* Cp = copies.data();  // the caller's thread_local: other threads must use this pointer
#pragma omp parallel num_threads(nt) if (detail::worth_parallel(m * k * R))
    {
        const index_t team = omp_get_num_threads(), t = omp_get_thread_num();
        const index_t per = (k + team - 1) / team;
        const index_t l0 = std::min(k, t * per), l1 = std::min(k, l0 + per);
        if (l0 < l1) {
            if constexpr (cols)
                tn_cols<T, RP>(l0, l1, m, A, lda, Bp, Cp + t * m * RP);
            else
                tn_rows<T, RP>(l0, l1, m, A, lda, Bp, Cp + t * m * RP);
        }
#pragma omp barrier
#pragma omp for schedule(static)
        for (index_t j = 0; j < m; ++j)
            for (index_t r = 0; r < R; ++r) {
                T s = Cp[static_cast<std::size_t>(j * RP + r)];
                for (index_t u = 1; u < team; ++u) s += Cp[static_cast<std::size_t>((u * m + j) * RP + r)];
                C[j * ldc + r] = s;
            }
    }
}

}  // namespace

template <class T>
void skinny_gemm(bool trans, index_t m, index_t R, index_t k, const T* A, index_t lda, const T* B, index_t ldb, T* C,
                 index_t ldc) {
    constexpr index_t lanes = 64 / sizeof(T);  // per AVX-512 register
    if (trans) {
        // Transposed tile: R padded to a multiple of 4 only.
        if (R <= 4) return run_tn<T, 4, true>(m, R, k, A, lda, B, ldb, C, ldc);
        if (R <= 8) return run_tn<T, 8, true>(m, R, k, A, lda, B, ldb, C, ldc);
        if (R <= 12) return run_tn<T, 12, true>(m, R, k, A, lda, B, ldb, C, ldc);
        if (R <= 16) return run_tn<T, 16, true>(m, R, k, A, lda, B, ldb, C, ldc);
        if (R <= 24) return run_tn<T, 24, true>(m, R, k, A, lda, B, ldb, C, ldc);
        if (R <= 2 * lanes) return run_tn<T, 2 * lanes, false>(m, R, k, A, lda, B, ldb, C, ldc);
        if (R <= 3 * lanes) return run_tn<T, 3 * lanes, false>(m, R, k, A, lda, B, ldb, C, ldc);
        return run_tn<T, 4 * lanes, false>(m, R, k, A, lda, B, ldb, C, ldc);
    }
    // R padded to whole registers.
    if (R <= lanes) return run_nn<T, lanes>(m, R, k, A, lda, B, ldb, C, ldc);
    if (R <= 2 * lanes) return run_nn<T, 2 * lanes>(m, R, k, A, lda, B, ldb, C, ldc);
    if (R <= 3 * lanes) return run_nn<T, 3 * lanes>(m, R, k, A, lda, B, ldb, C, ldc);
    run_nn<T, 4 * lanes>(m, R, k, A, lda, B, ldb, C, ldc);
}

template void skinny_gemm(bool, index_t, index_t, index_t, const double*, index_t, const double*, index_t, double*,
                          index_t);
template void skinny_gemm(bool, index_t, index_t, index_t, const float*, index_t, const float*, index_t, float*, index_t);

}  // namespace facto::detail
