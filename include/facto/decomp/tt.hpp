// facto/decomp/tt.hpp: tensor train (TT, matrix product state) format, TT-SVD and TT rounding.
#pragma once
#include <vector>

#include "facto/core/tensor.hpp"

namespace facto {

/// A tensor in TT format: X(i_0, ..., i_{d-1}) = G_0[i_0] G_1[i_1] ... G_{d-1}[i_{d-1}], where
/// core k is a row-major r_k x n_k x r_{k+1} tensor, G_k[i] its r_k x r_{k+1} slice, and
/// r_0 = r_d = 1.
template <class T>
class basic_tt_tensor {
public:
    using value_type = T;

    basic_tt_tensor() = default;
    /// Takes the cores; each must be of order 3 with matching adjacent ranks, r_0 = r_d = 1,
    /// every dimension >= 1.
    /// @throws facto::invalid_argument naming the offending core otherwise.
    explicit basic_tt_tensor(std::vector<basic_tensor<T>> cores);

    int order() const noexcept { return static_cast<int>(cores_.size()); }
    /// n_0 x ... x n_{d-1}.
    shape_t shape() const;
    /// r_0, ..., r_d (d + 1 entries, first and last 1).
    std::vector<index_t> ranks() const;
    const std::vector<basic_tensor<T>>& cores() const noexcept { return cores_; }
    const basic_tensor<T>& core(int k) const { return cores_.at(static_cast<std::size_t>(k)); }

    /// The dense tensor (left-to-right chain of matrix products).
    basic_tensor<T> full() const;
    /// ||X - TT||_F / ||X||_F (||TT||_F when X = 0), the TT rebuilt a slab of mode-0 indices
    /// at a time: no X-sized reconstruction. @throws facto::invalid_argument if X's shape is
    /// not shape().
    double relative_error(basic_tensor_view<const T> X) const;
    /// One entry, a chain of vector-matrix products over the core slices; the dense tensor is
    /// never formed. @throws facto::out_of_range on a bad coordinate.
    T operator()(const shape_t& coord) const;
    /// Frobenius norm by contracting cores pairwise (Gram matrices r_k x r_k); never forms the
    /// dense tensor.
    double norm() const;
    /// Number of values stored in the cores.
    index_t storage_size() const;
    /// Entries of the dense tensor per value stored (> 1 means the TT is smaller).
    double compression_ratio() const;

private:
    std::vector<basic_tensor<T>> cores_;
};
using tt_tensor = basic_tt_tensor<double>;
using tt_tensor_f = basic_tt_tensor<float>;

/// Settings for tt_svd() and tt_round().
struct tt_options {
    /// Relative accuracy eps >= 0: each of the d - 1 truncations discards singular values of
    /// 2-norm at most eps ||X|| / sqrt(d - 1), so ||X - TT||_F <= eps ||X||_F. With 0 only
    /// exactly zero singular values are dropped (full TT ranks unless max_ranks caps them).
    double tol = 0;
    /// Rank caps: empty (none), one value for every internal rank, or d - 1 values for
    /// r_1, ..., r_{d-1}; each >= 1. A cap may make the error exceed eps (see rel_error_bound).
    std::vector<index_t> max_ranks;
    /// Also measure ||X - TT|| / ||X|| by forming the dense TT (small inputs only).
    bool check_error = false;
};

/// A TT approximation and its accuracy.
template <class T>
struct basic_tt_result {
    basic_tt_tensor<T> tt;
    /// sqrt(sum of the squared discarded singular values) / ||X||: an upper bound on the
    /// relative error (exact up to rounding for tt_svd and tt_round). 0 when ||X|| = 0.
    double rel_error_bound = 0;
    /// ||X - TT||_F / ||X||_F measured on the data when tt_options::check_error, otherwise -1.
    double rel_error = -1;
};
using tt_result = basic_tt_result<double>;
using tt_result_f = basic_tt_result<float>;

/// TT-SVD (Oseledets 2011): a left-to-right sweep of truncated SVDs of the row-major reshapes
/// (r_k n_k) x (n_{k+1} ... n_{d-1}) of the remainder.
/// @throws facto::invalid_argument on an empty tensor (order 0 or a zero dimension), a bad
/// option, or non-finite entries.
template <class T>
[[nodiscard]] basic_tt_result<T> tt_svd(const basic_tensor<T>& X, const tt_options& opts = {});

/// TT rounding: right-to-left QR orthogonalization, then left-to-right truncated SVDs with the
/// threshold eps ||tt|| / sqrt(d - 1). Gives the minimal ranks of an over-parameterized TT (such
/// as a sum) at tol ~ 0, or a cheaper approximation at larger tol.
/// @throws facto::invalid_argument on an empty TT, a bad option or non-finite cores.
template <class T>
[[nodiscard]] basic_tt_result<T> tt_round(const basic_tt_tensor<T>& tt, const tt_options& opts = {});

}  // namespace facto
