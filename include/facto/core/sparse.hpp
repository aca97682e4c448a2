// facto/core/sparse.hpp: sparse tensors: COO for input and editing, CSF for the kernels.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

#include "facto/core/error.hpp"
#include "facto/core/tensor.hpp"
#include "facto/core/types.hpp"

namespace facto {

/// Coordinate (COO) sparse tensor with 64-bit indices, stored per mode
/// (indices[m][k] is the mode-m index of nonzero k), 0-based.
/// Entries may be unsorted and repeated until canonicalize() is called; kernels that
/// need canonical form (make_csf) canonicalize a copy themselves.
template <class T>
struct basic_coo_tensor {
    using value_type = T;

    shape_t shape;                             ///< dimensions, mode 0 first
    std::vector<std::vector<index_t>> indices; ///< one array per mode, each of length nnz()
    std::vector<T> values;

    basic_coo_tensor() = default;
    /// An empty tensor of the given shape.
    explicit basic_coo_tensor(shape_t s);

    int order() const noexcept { return static_cast<int>(shape.size()); }
    index_t nnz() const noexcept { return static_cast<index_t>(values.size()); }
    index_t dim(int mode) const { return shape.at(static_cast<std::size_t>(mode)); }

    /// Appends one entry; throws facto::out_of_range when a coordinate is outside shape.
    void push_back(std::span<const index_t> coord, T value);
    void reserve(index_t n);

    /// Sorts lexicographically (mode 0 first) and sums duplicate coordinates. Explicit zeros
    /// (after summing) are kept only when keep_zeros is true.
    void canonicalize(bool keep_zeros = false);
    bool is_canonical() const;  ///< sorted and free of duplicates

    /// Throws facto::invalid_argument / out_of_range when arrays disagree in length or an
    /// index is outside shape. Every public sparse entry point calls it.
    void validate(const char* who) const;
};

using coo_tensor = basic_coo_tensor<double>;
using coo_tensor_f = basic_coo_tensor<float>;

/// Frobenius norm of the stored values (duplicates count separately: canonicalize first).
template <class T>
double norm(const basic_coo_tensor<T>& X);

/// Dense -> sparse (entries with |x| > threshold) and sparse -> dense.
template <class T>
basic_coo_tensor<T> to_coo(basic_tensor_view<const T> X, double threshold = 0);
template <class T>
basic_tensor<T> to_dense(const basic_coo_tensor<T>& X);

/// Compressed sparse fiber tensor (SPLATT's CSF): a forest with one level per mode, in the
/// order mode_order (level 0 = the root mode). Level l has nodes(l) nodes; node f of level l
/// has index ids[l][f] in mode mode_order[l], and children ptr[l][f] .. ptr[l][f+1]-1 at level
/// l+1. The last level holds one node per nonzero, with values[k]. ptr has order-1 arrays.
template <class T>
struct basic_csf_tensor {
    using value_type = T;

    shape_t shape;
    std::vector<int> mode_order;              ///< mode_order[l] = tensor mode of level l
    std::vector<std::vector<index_t>> ptr;    ///< ptr[l].size() == nodes(l) + 1, l < order-1
    std::vector<std::vector<index_t>> ids;    ///< ids[l].size() == nodes(l)
    std::vector<T> values;                    ///< one per leaf

    int order() const noexcept { return static_cast<int>(shape.size()); }
    index_t nnz() const noexcept { return static_cast<index_t>(values.size()); }
    index_t nodes(int level) const { return static_cast<index_t>(ids.at(static_cast<std::size_t>(level)).size()); }
    /// Bytes held by the index and value arrays.
    std::size_t bytes() const;
};

using csf_tensor = basic_csf_tensor<double>;
using csf_tensor_f = basic_csf_tensor<float>;

/// Builds a CSF from a COO tensor (canonicalized internally; duplicates summed).
/// mode_order must be a permutation of 0..order-1. The default puts mode `root` first and the
/// remaining modes by increasing dimension, which makes the upper levels compress best.
template <class T>
basic_csf_tensor<T> make_csf(const basic_coo_tensor<T>& X, std::span<const int> mode_order);
template <class T>
basic_csf_tensor<T> make_csf(const basic_coo_tensor<T>& X, int root = 0);

/// Mode ordering used by make_csf(X, root).
std::vector<int> csf_mode_order(const shape_t& shape, int root);

/// Back to COO (canonical order of the CSF's mode_order, indices in tensor-mode order).
template <class T>
basic_coo_tensor<T> to_coo(const basic_csf_tensor<T>& X);

/// How many CSF copies a sparse kernel set keeps: one (rooted at the shortest mode),
/// or one per mode (fastest, race-free, nnz * order memory). SPLATT's --csf one|all.
enum class csf_policy { one, all };

/// The CSF representations used by sparse MTTKRP for every mode: built once before CP-ALS.
template <class T>
struct basic_csf_set {
    shape_t shape;
    csf_policy policy = csf_policy::all;
    std::vector<basic_csf_tensor<T>> csfs;  ///< one (policy one) or order() (policy all)
    double norm_sq = 0;                     ///< ||X||^2, for the fit

    int order() const noexcept { return static_cast<int>(shape.size()); }
    index_t nnz() const noexcept { return csfs.empty() ? 0 : csfs.front().nnz(); }
    std::size_t bytes() const;
};

using csf_set = basic_csf_set<double>;
using csf_set_f = basic_csf_set<float>;

template <class T>
basic_csf_set<T> make_csf_set(const basic_coo_tensor<T>& X, csf_policy policy = csf_policy::all);

}  // namespace facto
