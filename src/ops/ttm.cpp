// ttm.cpp: mode-n products by BLAS GEMM over the leading blocks of a row-major tensor.
#include "facto/ops/ttm.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "ops/blas_lapack.hpp"
#include "ops/skinny_gemm.hpp"

namespace facto {

template <class T>
void ttm(basic_tensor_view<const T> X, const basic_matrix<T>& U, int mode, bool transpose, basic_tensor<T>& Y) {
    if (mode < 0 || mode >= X.order())
        throw invalid_argument("ttm: mode " + std::to_string(mode) + " outside [0, " + std::to_string(X.order()) +
                               ") for a tensor of shape " + shape_string(X.shape()));
    const index_t I = X.dim(mode);
    const index_t in_dim = transpose ? U.rows() : U.cols();
    const index_t J = transpose ? U.cols() : U.rows();
    if (in_dim != I)
        throw invalid_argument("ttm: matrix U is " + std::to_string(U.rows()) + "x" + std::to_string(U.cols()) +
                               (transpose ? " (transposed)" : "") + " but mode " + std::to_string(mode) +
                               " of the tensor has size " + std::to_string(I) + "; expected U with " +
                               std::string(transpose ? "rows" : "columns") + " = " + std::to_string(I));
    shape_t out_shape = X.shape();
    out_shape[static_cast<std::size_t>(mode)] = J;
    Y.reshape_for_overwrite(std::move(out_shape));
    index_t L = 1, R = 1;
    for (int m = 0; m < mode; ++m) L *= X.dim(m);
    for (int m = mode + 1; m < X.order(); ++m) R *= X.dim(m);
    if (Y.size() == 0) return;
    if (I == 0) {  // an empty sum: zeros
        std::fill(Y.values().begin(), Y.values().end(), T(0));
        return;
    }
    const T* x = X.data();
    T* y = Y.data();
    // op(U) is J x I: U itself, or U^T of a row-major I x J matrix.
    // End modes with a thin result (a Tucker projection: J of 10-30) stream X once through the
    // register-tiled thin kernel: BLAS packs all of X per call and fills most of each register
    // tile with nothing, 2-4x slower here, and its threads' buffers page-fault on first use.
    const bool thin = J <= detail::skinny_max_cols<T> && (R == 1 || L == 1);
    thread_local std::vector<T> Bt, Z;  // reused: iterative methods repeat these products
    const T* B = U.data();  // op(U)^T, I x J
    if (thin && !transpose) {
        Bt.resize(static_cast<std::size_t>(I * J));
        for (index_t j = 0; j < J; ++j)
            for (index_t i = 0; i < I; ++i) Bt[static_cast<std::size_t>(i * J + j)] = U(j, i);
        B = Bt.data();
    }
    if (thin && R == 1) {  // Y (L x J) = X (L x I) B
        detail::skinny_gemm(false, L, J, I, x, I, B, y);
        return;
    }
    if (thin) {  // L == 1: Y (J x R) = (X^T B)^T with X I x R
        Z.resize(static_cast<std::size_t>(R * J));
        detail::skinny_gemm(true, R, J, I, x, R, B, Z.data());
        for (index_t r = 0; r < R; ++r)
            for (index_t j = 0; j < J; ++j) y[j * R + r] = Z[static_cast<std::size_t>(r * J + j)];
        return;
    }
    if (R == 1) {
        // Last mode: X is L x I, Y (L x J) = X op(U)^T, one GEMM.
        detail::gemm(false, !transpose, L, J, I, T(1), x, I, U.data(), U.cols(), T(0), y, J);
        return;
    }
    // Block l of X is I x R; Y block (J x R) = op(U) * X_l. Large blocks: one GEMM each.
    // Small blocks (middle modes after an end mode was contracted, e.g. 400 x 400 x 10): thousands
    // of tiny GEMMs, each waking the BLAS threads, cost seconds; instead gather a chunk of blocks
    // side by side into an I x (chunk*R) matrix, do one GEMM, and scatter the J x (chunk*R) result.
    const double block_work = static_cast<double>(I) * static_cast<double>(J) * static_cast<double>(R);
    if (L == 1 || block_work >= double(1 << 20)) {
        for (index_t l = 0; l < L; ++l)
            detail::gemm(transpose, false, J, R, I, T(1), U.data(), U.cols(), x + l * I * R, R, T(0), y + l * J * R,
                         R);
        return;
    }
    // Chunk so that the gathered copies stay near 4M entries whatever the tensor size.
    const index_t per_block = std::max(I, J) * R;
    const index_t chunk = std::clamp<index_t>(index_t{1 << 22} / per_block, 1, L);
    // Kept per thread across calls: iterative methods repeat the same products, and fresh
    // multi-megabyte buffers cost page faults each time.
    thread_local std::vector<T> xs, ys;
    xs.resize(static_cast<std::size_t>(I * chunk * R));
    ys.resize(static_cast<std::size_t>(J * chunk * R));
    for (index_t l0 = 0; l0 < L; l0 += chunk) {
        const index_t c = std::min(chunk, L - l0);
        const index_t width = c * R;
        for (index_t b = 0; b < c; ++b)
            for (index_t i = 0; i < I; ++i)
                std::copy_n(x + ((l0 + b) * I + i) * R, R, xs.data() + i * width + b * R);
        detail::gemm(transpose, false, J, width, I, T(1), U.data(), U.cols(), xs.data(), width, T(0), ys.data(),
                     width);
        for (index_t b = 0; b < c; ++b)
            for (index_t j = 0; j < J; ++j)
                std::copy_n(ys.data() + j * width + b * R, R, y + ((l0 + b) * J + j) * R);
    }
}

template <class T>
basic_tensor<T> ttm(basic_tensor_view<const T> X, const basic_matrix<T>& U, int mode, bool transpose) {
    basic_tensor<T> Y;
    ttm(X, U, mode, transpose, Y);
    return Y;
}

template basic_tensor<double> ttm(basic_tensor_view<const double>, const basic_matrix<double>&, int, bool);
template basic_tensor<float> ttm(basic_tensor_view<const float>, const basic_matrix<float>&, int, bool);
template void ttm(basic_tensor_view<const double>, const basic_matrix<double>&, int, bool, basic_tensor<double>&);
template void ttm(basic_tensor_view<const float>, const basic_matrix<float>&, int, bool, basic_tensor<float>&);

}  // namespace facto
