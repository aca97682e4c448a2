// ttm.cpp: mode-n products by BLAS GEMM over the leading blocks of a row-major tensor.
#include "facto/ops/ttm.hpp"

#include <algorithm>
#include <string>

#include "ops/blas_lapack.hpp"

namespace facto {

template <class T>
basic_tensor<T> ttm(basic_tensor_view<const T> X, const basic_matrix<T>& U, int mode, bool transpose) {
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
    basic_tensor<T> Y(out_shape);
    index_t L = 1, R = 1;
    for (int m = 0; m < mode; ++m) L *= X.dim(m);
    for (int m = mode + 1; m < X.order(); ++m) R *= X.dim(m);
    if (Y.size() == 0) return Y;
    if (I == 0) return Y;  // an empty sum: zeros
    const T* x = X.data();
    T* y = Y.data();
    // op(U) is J x I: U itself, or U^T of a row-major I x J matrix.
    if (R == 1) {
        // Last mode: X is L x I, Y (L x J) = X op(U)^T, one GEMM.
        detail::gemm(false, !transpose, L, J, I, T(1), x, I, U.data(), U.cols(), T(0), y, J);
        return Y;
    }
    // Block l of X is I x R; Y block (J x R) = op(U) * X_l. One GEMM per leading index; BLAS
    // threads each one (blocks are large whenever the tensor is).
    for (index_t l = 0; l < L; ++l)
        detail::gemm(transpose, false, J, R, I, T(1), U.data(), U.cols(), x + l * I * R, R, T(0), y + l * J * R, R);
    return Y;
}

template basic_tensor<double> ttm(basic_tensor_view<const double>, const basic_matrix<double>&, int, bool);
template basic_tensor<float> ttm(basic_tensor_view<const float>, const basic_matrix<float>&, int, bool);

}  // namespace facto
