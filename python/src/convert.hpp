// python/src/convert.hpp: NumPy <-> facto conversions shared by the binding files (no numerics).
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "facto/core/csr.hpp"
#include "facto/core/kruskal.hpp"
#include "facto/core/matrix.hpp"
#include "facto/core/sparse.hpp"
#include "facto/core/tensor.hpp"

namespace facto::python {

namespace py = pybind11;

/// Hands a vector's storage to NumPy without copying: the array owns it through a capsule.
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v, const shape_t& shape) {
    auto* owned = new std::vector<T>(std::move(v));
    py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    std::vector<py::ssize_t> dims(shape.begin(), shape.end());
    return py::array_t<T>(dims, owned->data(), owner);
}
template <class T>
py::array_t<T> to_numpy(basic_tensor<T>&& X) {
    const shape_t shape = X.shape();
    return to_numpy(std::move(X.values()), shape);
}
template <class T>
py::array_t<T> to_numpy(basic_matrix<T>&& M) {
    const shape_t shape{M.rows(), M.cols()};
    return to_numpy(std::move(M.values()), shape);
}

/// A copy flagged read-only: attributes of bound objects are snapshots, never views into
/// C++ memory that a later call (canonicalize, arrange) could move.
template <class T>
py::array_t<T> frozen_copy(const T* data, const shape_t& shape) {
    std::vector<py::ssize_t> dims(shape.begin(), shape.end());
    py::array_t<T> a(dims);
    std::copy(data, data + shape_size(shape), a.mutable_data());
    a.attr("flags").attr("writeable") = false;
    return a;
}

/// A dense NumPy input as the row-major view facto's kernels take.
/// float32 and float64 arrays in C order are used in place; in Fortran order they are used in
/// place as their transpose (C order of the reversed shape), with `reversed` set, so callers
/// reverse mode-indexed results. Other dtypes (bool, integers) and non-contiguous views are
/// copied to C-order float64.
struct dense_input {
    py::array array;          ///< holds the memory the view points into
    bool single = false;      ///< float32 (else float64)
    bool reversed = false;    ///< the view is the transpose of the caller's array
    shape_t shape;            ///< of the view

    template <class T>
    basic_tensor_view<const T> view() const {
        return {static_cast<const T*>(array.data()), shape};
    }
};

/// `who` names the calling function in error messages. allow_reversed false copies Fortran
/// arrays to C order instead (for writers, whose files are C order).
dense_input as_dense(py::handle obj, const char* who, bool allow_reversed = true);

/// True for scipy.sparse matrices and arrays (anything with tocoo() and nnz that is not NumPy).
bool is_scipy_sparse(py::handle obj);
/// A scipy.sparse matrix as a 2-way COO tensor (duplicates kept; canonicalize() sums them).
coo_tensor coo_from_scipy(py::handle obj);

/// A scipy.sparse matrix as CSR in precision T (a copy: duplicates summed, columns sorted, the
/// caller's matrix untouched). `who` names the calling function in error messages.
template <class T>
basic_csr_matrix<T> csr_from_scipy(py::handle obj, const char* who);
/// True when a scipy.sparse matrix stores float32 values.
bool scipy_is_float32(py::handle obj);
/// A CSR matrix as scipy.sparse.csr_matrix (copies of the arrays).
py::object csr_to_scipy(const csr_matrix& A);

/// Initial factors from a kruskal_tensor or a sequence of 2-D arrays (weights all ones).
kruskal_tensor as_kruskal(py::handle obj, const char* who);

/// Python tuple of a shape.
py::tuple shape_tuple(const shape_t& shape);
/// A shape from any sequence of non-negative integers.
shape_t as_shape(py::handle obj, const char* who);

}  // namespace facto::python
