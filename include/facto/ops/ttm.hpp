// facto/ops/ttm.hpp: tensor-times-matrix (mode-n product) on dense row-major tensors.
#pragma once
#include "facto/core/matrix.hpp"
#include "facto/core/tensor.hpp"

namespace facto {

/// Mode-n product Y = X x_n U, i.e. Y_(n) = U * X_(n): U is J x dim(n) and Y has dim(n)
/// replaced by J. With transpose = true, Y = X x_n U^T (U is dim(n) x J): the projection
/// onto the columns of a Tucker factor. Computed by GEMMs on the natural row-major layout
/// (the tensor is L blocks of dim(n) x R, L the product of the dimensions before n and R of
/// those after), without an unfolding copy.
/// @throws facto::invalid_argument if mode is outside [0, order) or U does not match dim(mode).
template <class T>
basic_tensor<T> ttm(basic_tensor_view<const T> X, const basic_matrix<T>& U, int mode, bool transpose = false);

/// The same product into Y, whose storage is reused (see basic_tensor::reshape_for_overwrite).
/// Y must not share storage with X.
template <class T>
void ttm(basic_tensor_view<const T> X, const basic_matrix<T>& U, int mode, bool transpose, basic_tensor<T>& Y);

}  // namespace facto
