// facto/core/tensor.hpp: dense tensors of any order (row-major), views, unfold and fold.
#pragma once
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <type_traits>
#include <vector>

#include "facto/core/error.hpp"
#include "facto/core/matrix.hpp"
#include "facto/core/types.hpp"

namespace facto {

/// Row-major strides of a shape: the last mode is contiguous.
shape_t row_major_strides(const shape_t& shape);

/// Non-owning view of a contiguous row-major tensor (the last index varies fastest).
/// T may be const. This is what kernels take, so NumPy arrays and facto tensors
/// reach them without a copy.
template <class T>
class basic_tensor_view {
public:
    using value_type = std::remove_const_t<T>;

    basic_tensor_view() = default;
    basic_tensor_view(T* data, shape_t shape) : data_(data), shape_(std::move(shape)) {
        size_ = shape_size(shape_);
    }
    /// A view of non-const data converts to a view of const data.
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
    basic_tensor_view(const basic_tensor_view<U>& other)
        : data_(other.data()), shape_(other.shape()), size_(other.size()) {}

    int order() const noexcept { return static_cast<int>(shape_.size()); }
    const shape_t& shape() const noexcept { return shape_; }
    index_t dim(int mode) const { return shape_.at(static_cast<std::size_t>(mode)); }
    index_t size() const noexcept { return size_; }
    T* data() const noexcept { return data_; }
    std::span<T> values() const noexcept { return {data_, static_cast<std::size_t>(size_)}; }

    /// Linear offset of a coordinate; throws facto::out_of_range when outside the tensor.
    index_t offset(std::span<const index_t> coord) const {
        if (coord.size() != shape_.size())
            throw out_of_range("tensor: coordinate of order " + std::to_string(coord.size()) +
                               " for a tensor of order " + std::to_string(shape_.size()));
        index_t off = 0;
        for (std::size_t m = 0; m < shape_.size(); ++m) {
            if (coord[m] < 0 || coord[m] >= shape_[m])
                throw out_of_range("tensor: index " + std::to_string(coord[m]) + " in mode " +
                                   std::to_string(m) + " outside [0, " + std::to_string(shape_[m]) + ")");
            off = off * shape_[m] + coord[m];
        }
        return off;
    }
    T& operator[](std::span<const index_t> coord) const { return data_[offset(coord)]; }
    template <class... I>
    T& operator()(I... i) const {
        const index_t c[] = {static_cast<index_t>(i)...};
        return data_[offset(c)];
    }

private:
    T* data_ = nullptr;
    shape_t shape_;
    index_t size_ = 0;
};

/// Owning dense tensor, row-major. Order 0 is not allowed: a tensor has at least one mode.
template <class T>
class basic_tensor {
public:
    using value_type = T;

    basic_tensor() = default;
    explicit basic_tensor(shape_t shape, T fill = T(0)) : shape_(check(std::move(shape))) {
        data_.assign(static_cast<std::size_t>(shape_size(shape_)), fill);
    }
    basic_tensor(shape_t shape, std::vector<T> data) : shape_(check(std::move(shape))), data_(std::move(data)) {
        if (static_cast<index_t>(data_.size()) != shape_size(shape_))
            throw invalid_argument("tensor: " + std::to_string(data_.size()) + " values given for shape " +
                                   shape_string(shape_) + " (" + std::to_string(shape_size(shape_)) +
                                   " entries)");
    }

    /// Gives the tensor `shape` with unspecified values, for a result about to be written in
    /// full: the storage is reused, so an iterative method that refills a tensor of the same
    /// size each iteration allocates (and page-faults) it once.
    void reshape_for_overwrite(shape_t shape) {
        shape_ = check(std::move(shape));
        data_.resize(static_cast<std::size_t>(shape_size(shape_)));
    }

    int order() const noexcept { return static_cast<int>(shape_.size()); }
    const shape_t& shape() const noexcept { return shape_; }
    index_t dim(int mode) const { return shape_.at(static_cast<std::size_t>(mode)); }
    index_t size() const noexcept { return static_cast<index_t>(data_.size()); }

    T* data() noexcept { return data_.data(); }
    const T* data() const noexcept { return data_.data(); }
    std::vector<T>& values() noexcept { return data_; }
    const std::vector<T>& values() const noexcept { return data_; }

    basic_tensor_view<T> view() noexcept { return {data_.data(), shape_}; }
    basic_tensor_view<const T> view() const noexcept { return {data_.data(), shape_}; }
    operator basic_tensor_view<T>() noexcept { return view(); }
    operator basic_tensor_view<const T>() const noexcept { return view(); }

    T& operator[](std::span<const index_t> coord) { return data_[view().offset(coord)]; }
    const T& operator[](std::span<const index_t> coord) const { return data_[view().offset(coord)]; }
    template <class... I>
    T& operator()(I... i) { return view()(i...); }
    template <class... I>
    const T& operator()(I... i) const { return view()(i...); }

    friend bool operator==(const basic_tensor&, const basic_tensor&) = default;

private:
    static shape_t check(shape_t s) {
        if (s.empty()) throw invalid_argument("tensor: a tensor needs at least one mode");
        for (auto d : s)
            if (d < 0) throw invalid_argument("tensor: negative dimension in shape " + shape_string(s));
        return s;
    }
    shape_t shape_;
    std::vector<T> data_;
};

using tensor = basic_tensor<double>;
using tensor_f = basic_tensor<float>;
using tensor_view = basic_tensor_view<const double>;
using tensor_view_f = basic_tensor_view<const float>;

/// Mode-n unfolding: a dim(n) x (size / dim(n)) matrix. Column index runs over the other
/// modes in row-major order (of the remaining modes, the last varies fastest), so unfold(X, 0)
/// has the same memory as X.
template <class T>
basic_matrix<std::remove_const_t<T>> unfold(basic_tensor_view<T> X, int mode);

/// Inverse of unfold: rebuilds a tensor of the given shape from its mode-n unfolding.
template <class T>
basic_tensor<T> fold(const basic_matrix<T>& M, int mode, const shape_t& shape);

/// Frobenius norm, accumulated in double with scaling so large tensors do not overflow.
template <class T>
double norm(basic_tensor_view<T> X);

/// Element-type conversion (float64 <-> float32).
template <class To, class From>
basic_tensor<To> tensor_cast(basic_tensor_view<const From> X) {
    basic_tensor<To> out(X.shape());
    std::transform(X.data(), X.data() + X.size(), out.data(), [](From v) { return static_cast<To>(v); });
    return out;
}

}  // namespace facto
