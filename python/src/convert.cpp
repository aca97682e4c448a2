// python/src/convert.cpp: NumPy and scipy.sparse inputs as facto tensors.
#include "convert.hpp"

#include <pybind11/stl.h>

#include <string>

#include "facto/core/error.hpp"

namespace facto::python {

namespace {

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

}  // namespace

dense_input as_dense(py::handle obj, const char* who, bool allow_reversed) {
    py::array a = py::array::ensure(obj);
    if (!a) {
        PyErr_Clear();
        throw invalid_argument(std::string(who) + ": expected an array-like of numbers, found " +
                               py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
    }
    const char kind = a.dtype().kind();
    if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b')
        throw invalid_argument(std::string(who) + ": expected a real numeric array (float32, float64, integer or "
                               "bool), found dtype " + dtype_name(a));

    dense_input in;
    // Exactly float32 in native byte order stays float32; everything else computes in float64.
    // (Compared by value: an unpickled array has an equal dtype that is not NumPy's cached one.)
    in.single = a.dtype().equal(py::dtype::of<float>());
    const bool native = in.single || a.dtype().equal(py::dtype::of<double>());
    const bool c_order = (a.flags() & py::array::c_style) != 0;
    const bool f_order = (a.flags() & py::array::f_style) != 0;
    if (native && c_order) {
        in.array = a;
    } else if (native && f_order && allow_reversed) {
        in.array = a;
        in.reversed = true;
    } else if (in.single) {
        in.array = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
    } else {
        in.array = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
    }
    if (!in.array) throw py::error_already_set();
    for (py::ssize_t k = 0; k < in.array.ndim(); ++k) in.shape.push_back(in.array.shape(k));
    if (in.reversed) std::reverse(in.shape.begin(), in.shape.end());
    return in;
}

bool is_scipy_sparse(py::handle obj) {
    return !py::isinstance<py::array>(obj) && py::hasattr(obj, "tocoo") && py::hasattr(obj, "nnz");
}

coo_tensor coo_from_scipy(py::handle obj) {
    py::object m = obj.attr("tocoo")();
    const auto shape = m.attr("shape").cast<std::vector<index_t>>();
    if (shape.size() != 2)
        throw invalid_argument("coo_tensor.from_scipy: expected a 2-way sparse matrix, found " +
                               std::to_string(shape.size()) + " dimensions");
    using index_array = py::array_t<index_t, py::array::c_style | py::array::forcecast>;
    const auto row = index_array::ensure(m.attr("row"));
    const auto col = index_array::ensure(m.attr("col"));
    const auto data = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(m.attr("data"));
    if (!row || !col || !data) throw py::error_already_set();
    coo_tensor X(shape_t{shape[0], shape[1]});
    const auto n = static_cast<std::size_t>(data.size());
    X.indices[0].assign(row.data(), row.data() + n);
    X.indices[1].assign(col.data(), col.data() + n);
    X.values.assign(data.data(), data.data() + n);
    X.validate("coo_tensor.from_scipy");
    return X;
}

template <class T>
basic_csr_matrix<T> csr_from_scipy(py::handle obj, const char* who) {
    // tocsr(copy=True) so that sum_duplicates (which also sorts the columns) never edits the
    // caller's matrix.
    py::object m = obj.attr("tocsr")(py::arg("copy") = true);
    m.attr("sum_duplicates")();
    const auto shape = m.attr("shape").cast<std::vector<index_t>>();
    if (shape.size() != 2)
        throw invalid_argument(std::string(who) + ": expected a 2-D sparse matrix, found " +
                               std::to_string(shape.size()) + " dimensions");
    using index_array = py::array_t<index_t, py::array::c_style | py::array::forcecast>;
    const auto ptr = index_array::ensure(m.attr("indptr"));
    const auto col = index_array::ensure(m.attr("indices"));
    const auto data = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(m.attr("data"));
    if (!ptr || !col || !data) throw py::error_already_set();
    basic_csr_matrix<T> A;
    A.rows = shape[0];
    A.cols = shape[1];
    A.row_ptr.assign(ptr.data(), ptr.data() + ptr.size());
    A.col_idx.assign(col.data(), col.data() + col.size());
    A.values.assign(data.data(), data.data() + data.size());
    A.validate(who);
    return A;
}
template basic_csr_matrix<float> csr_from_scipy<float>(py::handle, const char*);
template basic_csr_matrix<double> csr_from_scipy<double>(py::handle, const char*);

bool scipy_is_float32(py::handle obj) {
    return py::dtype::from_args(obj.attr("dtype")).equal(py::dtype::of<float>());
}

py::object csr_to_scipy(const csr_matrix& A) {
    const auto n = static_cast<std::size_t>(A.nnz());
    py::array_t<double> data(static_cast<py::ssize_t>(n));
    py::array_t<index_t> indices(static_cast<py::ssize_t>(n));
    py::array_t<index_t> indptr(static_cast<py::ssize_t>(A.row_ptr.size()));
    std::copy(A.values.begin(), A.values.end(), data.mutable_data());
    std::copy(A.col_idx.begin(), A.col_idx.end(), indices.mutable_data());
    std::copy(A.row_ptr.begin(), A.row_ptr.end(), indptr.mutable_data());
    return py::module_::import("scipy.sparse")
        .attr("csr_matrix")(py::make_tuple(data, indices, indptr), py::arg("shape") = py::make_tuple(A.rows, A.cols));
}

kruskal_tensor as_kruskal(py::handle obj, const char* who) {
    if (py::isinstance<kruskal_tensor>(obj)) return obj.cast<kruskal_tensor>();
    if (py::isinstance<py::array>(obj) || !py::isinstance<py::sequence>(obj) || py::isinstance<py::str>(obj))
        throw invalid_argument(std::string(who) + ": expected a kruskal_tensor or a list of 2-D factor arrays");
    kruskal_tensor K;
    for (py::handle f : obj) {
        const auto A = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(f);
        if (!A) throw py::error_already_set();
        if (A.ndim() != 2)
            throw invalid_argument(std::string(who) + ": factor " + std::to_string(K.factors.size()) +
                                   " has " + std::to_string(A.ndim()) + " dimensions; expected a 2-D array "
                                   "(dimension x rank)");
        K.factors.emplace_back(A.shape(0), A.shape(1), std::vector<double>(A.data(), A.data() + A.size()));
    }
    if (K.factors.empty()) throw invalid_argument(std::string(who) + ": no factors given");
    K.weights.assign(static_cast<std::size_t>(K.factors.front().cols()), 1.0);
    K.validate(who);
    return K;
}

py::tuple shape_tuple(const shape_t& shape) {
    py::tuple t(shape.size());
    for (std::size_t k = 0; k < shape.size(); ++k) t[k] = py::int_(shape[k]);
    return t;
}

shape_t as_shape(py::handle obj, const char* who) {
    shape_t s;
    for (py::handle d : obj) {
        const auto v = d.cast<index_t>();
        if (v < 0) throw invalid_argument(std::string(who) + ": negative dimension " + std::to_string(v) + " in shape");
        s.push_back(v);
    }
    return s;
}

}  // namespace facto::python
