// tensor.cpp: dense tensor strides, unfold/fold and the overflow-safe Frobenius norm.
#include "facto/core/tensor.hpp"

#include <cmath>
#include <cstring>
#include <vector>

#include "core/norm_accumulate.hpp"

namespace facto {

shape_t row_major_strides(const shape_t& shape) {
    shape_t strides(shape.size(), 1);
    for (std::size_t m = shape.size(); m-- > 1;) strides[m - 1] = strides[m] * shape[m];
    return strides;
}

namespace {

// A tensor seen as L x J x Rgt around one mode: L = prod of dims before, J = dim(mode),
// Rgt = prod of dims after. Unfolding and folding are copies of contiguous Rgt-runs.
struct split3 {
    index_t left = 1, mid = 1, right = 1;
};

split3 split_at(const shape_t& shape, int mode, const char* who) {
    if (mode < 0 || mode >= static_cast<int>(shape.size()))
        throw invalid_argument(std::string(who) + ": mode " + std::to_string(mode) +
                               " outside [0, " + std::to_string(shape.size()) + ") for a tensor of shape " +
                               shape_string(shape));
    split3 s;
    for (int m = 0; m < mode; ++m) s.left *= shape[static_cast<std::size_t>(m)];
    s.mid = shape[static_cast<std::size_t>(mode)];
    for (std::size_t m = static_cast<std::size_t>(mode) + 1; m < shape.size(); ++m) s.right *= shape[m];
    return s;
}

}  // namespace

template <class T>
basic_matrix<std::remove_const_t<T>> unfold(basic_tensor_view<T> X, int mode) {
    using V = std::remove_const_t<T>;
    const split3 s = split_at(X.shape(), mode, "unfold");
    basic_matrix<V> M(s.mid, s.left * s.right);
    const V* x = X.data();
    V* out = M.data();
    // Column index of (l, r) is l * right + r, so each (l, j) block of `right` values is a
    // contiguous run both in X and in row j of M.
    for (index_t l = 0; l < s.left; ++l)
        for (index_t j = 0; j < s.mid; ++j)
            std::memcpy(out + j * (s.left * s.right) + l * s.right, x + (l * s.mid + j) * s.right,
                        sizeof(V) * static_cast<std::size_t>(s.right));
    return M;
}

template <class T>
basic_tensor<T> fold(const basic_matrix<T>& M, int mode, const shape_t& shape) {
    basic_tensor<T> X(shape);
    const split3 s = split_at(shape, mode, "fold");
    if (M.rows() != s.mid || M.cols() != s.left * s.right)
        throw invalid_argument("fold: matrix is " + std::to_string(M.rows()) + "x" + std::to_string(M.cols()) +
                               " but the mode-" + std::to_string(mode) + " unfolding of shape " +
                               shape_string(shape) + " is " + std::to_string(s.mid) + "x" +
                               std::to_string(s.left * s.right));
    const T* in = M.data();
    T* x = X.data();
    for (index_t l = 0; l < s.left; ++l)
        for (index_t j = 0; j < s.mid; ++j)
            std::memcpy(x + (l * s.mid + j) * s.right, in + j * (s.left * s.right) + l * s.right,
                        sizeof(T) * static_cast<std::size_t>(s.right));
    return X;
}

template <class T>
double norm(basic_tensor_view<T> X) {
    return detail::scaled_norm(X.data(), X.size());
}

template basic_matrix<double> unfold(basic_tensor_view<const double>, int);
template basic_matrix<float> unfold(basic_tensor_view<const float>, int);
template basic_matrix<double> unfold(basic_tensor_view<double>, int);
template basic_matrix<float> unfold(basic_tensor_view<float>, int);
template basic_tensor<double> fold(const basic_matrix<double>&, int, const shape_t&);
template basic_tensor<float> fold(const basic_matrix<float>&, int, const shape_t&);
template double norm(basic_tensor_view<const double>);
template double norm(basic_tensor_view<const float>);
template double norm(basic_tensor_view<double>);
template double norm(basic_tensor_view<float>);

}  // namespace facto
