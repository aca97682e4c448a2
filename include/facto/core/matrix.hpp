// facto/core/matrix.hpp: a dense row-major matrix, the type of CP factors and Gram matrices.
#pragma once
#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "facto/core/error.hpp"
#include "facto/core/types.hpp"

namespace facto {

/// Owning dense matrix, row-major: element (i, j) is data()[i * cols() + j].
/// Factor matrices are rows x rank, so one row of a factor (what sparse kernels
/// gather per nonzero) is contiguous.
template <class T>
class basic_matrix {
public:
    using value_type = T;

    basic_matrix() = default;
    basic_matrix(index_t rows, index_t cols, T fill = T(0))
        : rows_(check_dim(rows)), cols_(check_dim(cols)),
          data_(static_cast<std::size_t>(rows * cols), fill) {}
    basic_matrix(index_t rows, index_t cols, std::vector<T> data)
        : rows_(check_dim(rows)), cols_(check_dim(cols)), data_(std::move(data)) {
        if (static_cast<index_t>(data_.size()) != rows_ * cols_)
            throw invalid_argument("matrix: " + std::to_string(data_.size()) +
                                   " values given for a " + std::to_string(rows_) + "x" +
                                   std::to_string(cols_) + " matrix");
    }

    index_t rows() const noexcept { return rows_; }
    index_t cols() const noexcept { return cols_; }
    index_t size() const noexcept { return rows_ * cols_; }
    bool empty() const noexcept { return size() == 0; }

    T* data() noexcept { return data_.data(); }
    const T* data() const noexcept { return data_.data(); }
    std::vector<T>& values() noexcept { return data_; }
    const std::vector<T>& values() const noexcept { return data_; }

    T& operator()(index_t i, index_t j) noexcept { return data_[static_cast<std::size_t>(i * cols_ + j)]; }
    const T& operator()(index_t i, index_t j) const noexcept {
        return data_[static_cast<std::size_t>(i * cols_ + j)];
    }
    std::span<T> row(index_t i) noexcept { return {data() + i * cols_, static_cast<std::size_t>(cols_)}; }
    std::span<const T> row(index_t i) const noexcept {
        return {data() + i * cols_, static_cast<std::size_t>(cols_)};
    }

    void fill(T v) { std::fill(data_.begin(), data_.end(), v); }
    /// New dimensions, every value zero.
    void resize(index_t rows, index_t cols) {
        rows_ = check_dim(rows);
        cols_ = check_dim(cols);
        data_.assign(static_cast<std::size_t>(rows * cols), T(0));
    }
    /// New dimensions, values unspecified, for a result about to be written in full: the
    /// storage is reused, so a product refilled every iteration is allocated once.
    void reshape_for_overwrite(index_t rows, index_t cols) {
        rows_ = check_dim(rows);
        cols_ = check_dim(cols);
        data_.resize(static_cast<std::size_t>(rows * cols));
    }

    friend bool operator==(const basic_matrix&, const basic_matrix&) = default;

private:
    static index_t check_dim(index_t d) {
        if (d < 0) throw invalid_argument("matrix: negative dimension " + std::to_string(d));
        return d;
    }
    index_t rows_ = 0, cols_ = 0;
    std::vector<T> data_;
};

using matrix = basic_matrix<double>;
using matrix_f = basic_matrix<float>;

}  // namespace facto
