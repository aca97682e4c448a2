// decomp/slab_residual.hpp (private): ||X - L R||_F / ||X||_F without forming L R.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "facto/core/types.hpp"
#include "ops/blas_lapack.hpp"

namespace facto::detail {

/// X is rows x cols (row-major), L rows x r, R r x cols: a model whose mode-0 unfolding is
/// L R (Tucker: L = U_0, R = the core times the other factors; TT: L = the first core, R = the
/// rest contracted). L R is formed a slab of rows at a time into one reused buffer: a full
/// reconstruction would be a second X-sized array, and fresh memory costs more than the GEMM.
/// When X = 0: the absolute residual ||L R||_F.
template <class T>
double slab_relative_residual(const T* X, index_t rows, index_t cols, const T* L, index_t r, const T* R) {
    const index_t slab = std::clamp<index_t>(index_t{1 << 20} / std::max<index_t>(cols, 1), 1, std::max<index_t>(rows, 1));
    std::vector<T> M(static_cast<std::size_t>(slab * cols));
    double diff = 0, ref = 0;
    for (index_t i0 = 0; i0 < rows; i0 += slab) {
        const index_t c = std::min(slab, rows - i0);
        gemm(false, false, c, cols, r, T(1), L + i0 * r, r, R, cols, T(0), M.data(), cols);
        const T* x = X + i0 * cols;
        const index_t n = c * cols;
#pragma omp parallel for reduction(+ : diff, ref) schedule(static) if (n > 65536)
        for (index_t p = 0; p < n; ++p) {
            const double a = static_cast<double>(x[p]), d = a - static_cast<double>(M[static_cast<std::size_t>(p)]);
            diff += d * d;
            ref += a * a;
        }
    }
    return ref > 0 ? std::sqrt(diff / ref) : std::sqrt(diff);
}

}  // namespace facto::detail
