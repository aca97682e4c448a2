// python/src/core.cpp: bindings of facto/core (sparse tensors, Kruskal models) and ops/mttkrp.
#include <pybind11/stl.h>

#include <sstream>
#include <string>

#include "bind.hpp"
#include "convert.hpp"
#include "facto/core/error.hpp"
#include "facto/ops/mttkrp.hpp"

namespace facto::python {

namespace {

coo_tensor make_coo(py::object indices, py::object values, py::object shape) {
    const char* who = "coo_tensor";
    py::array idx = py::array::ensure(indices);
    if (!idx) throw py::error_already_set();
    const char kind = idx.dtype().kind();
    // An empty list arrives as float64; anything else must be integers, not silently truncated.
    if (idx.size() > 0 && kind != 'i' && kind != 'u')
        throw invalid_argument(std::string(who) + ": indices must be integers, found dtype " +
                               py::str(idx.dtype()).cast<std::string>());
    const auto I = py::array_t<index_t, py::array::c_style | py::array::forcecast>::ensure(idx);
    const auto V = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(values);
    if (!I || !V) throw py::error_already_set();
    if (I.ndim() != 2)
        throw invalid_argument(std::string(who) + ": indices must be a 2-D array of shape (order, nnz), found " +
                               std::to_string(I.ndim()) + " dimensions");
    if (V.ndim() != 1 || V.shape(0) != I.shape(1))
        throw invalid_argument(std::string(who) + ": values must be a 1-D array of " + std::to_string(I.shape(1)) +
                               " entries (one per column of indices), found shape " +
                               py::str(V.attr("shape")).cast<std::string>());
    const auto order = static_cast<std::size_t>(I.shape(0));
    const auto nnz = static_cast<std::size_t>(I.shape(1));
    shape_t s;
    if (shape.is_none()) {
        // The smallest shape that holds every index, as read_tns does.
        for (std::size_t m = 0; m < order; ++m) {
            index_t hi = -1;
            for (std::size_t k = 0; k < nnz; ++k) hi = std::max(hi, I.at(m, k));
            s.push_back(hi + 1);
        }
    } else {
        s = as_shape(shape, who);
        if (s.size() != order)
            throw invalid_argument(std::string(who) + ": shape has " + std::to_string(s.size()) +
                                   " dimensions but indices has " + std::to_string(order) + " rows (one per mode)");
    }
    coo_tensor X(s);
    for (std::size_t m = 0; m < order; ++m) X.indices[m].assign(I.data(m, 0), I.data(m, 0) + nnz);
    X.values.assign(V.data(), V.data() + nnz);
    X.validate(who);
    return X;
}

py::array indices_array(const coo_tensor& X) {
    py::array_t<index_t> a({static_cast<py::ssize_t>(X.order()), static_cast<py::ssize_t>(X.nnz())});
    for (int m = 0; m < X.order(); ++m)
        std::copy(X.indices[static_cast<std::size_t>(m)].begin(), X.indices[static_cast<std::size_t>(m)].end(),
                  a.mutable_data(m, 0));
    a.attr("flags").attr("writeable") = false;
    return a;
}

template <class T>
std::vector<basic_matrix<T>> as_factors(py::object obj, const char* who) {
    std::vector<basic_matrix<T>> out;
    for (py::handle f : obj) {
        const auto A = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(f);
        if (!A) throw py::error_already_set();
        if (A.ndim() != 2)
            throw invalid_argument(std::string(who) + ": factor " + std::to_string(out.size()) + " has " +
                                   std::to_string(A.ndim()) + " dimensions; expected 2 (dimension x rank)");
        out.emplace_back(A.shape(0), A.shape(1), std::vector<T>(A.data(), A.data() + A.size()));
    }
    return out;
}

template <class T>
py::array mttkrp_dense(const dense_input& in, py::object factors, int mode) {
    auto F = as_factors<T>(factors, "mttkrp");
    const int order = static_cast<int>(in.shape.size());
    if (mode < 0 || mode >= order)
        throw out_of_range("mttkrp: mode " + std::to_string(mode) + " outside [0, " + std::to_string(order) + ")");
    int m = mode;
    if (in.reversed) {  // the view is the transpose: its mode order - 1 - m is the caller's m
        std::reverse(F.begin(), F.end());
        m = order - 1 - mode;
    }
    basic_matrix<T> out;
    {
        py::gil_scoped_release release;
        mttkrp<T>(in.view<T>(), F, m, out);
    }
    return to_numpy(std::move(out));
}

std::string kruskal_repr(const kruskal_tensor& K) {
    std::ostringstream s;
    s << "kruskal_tensor(shape=" << py::str(shape_tuple(K.shape())).cast<std::string>() << ", rank=" << K.rank() << ")";
    return s.str();
}

}  // namespace

void bind_core(py::module_& m) {
    py::enum_<csf_policy>(m, "csf_policy", "How many CSF copies sparse kernels keep (SPLATT's --csf one|all).")
        .value("one", csf_policy::one, "one copy, rooted at the shortest mode (least memory)")
        .value("all", csf_policy::all, "one copy per mode (fastest; nnz * order memory)");

    py::class_<coo_tensor>(m, "coo_tensor", R"doc(
Sparse tensor in coordinate form, 0-based, float64 values.

coo_tensor(indices, values, shape=None): indices is an integer array of shape (order, nnz)
(row m holds the mode-m index of every nonzero, like pydata/sparse's COO.coords), values has nnz
entries; shape defaults to the largest index + 1 per mode. Entries may be unsorted and repeated
until canonicalize(). Raises IndexError for an index outside the shape.
coo_tensor(shape): an empty tensor. coo_tensor.from_scipy(M): from any scipy.sparse matrix.

The attributes are read-only copies.)doc")
        .def(py::init(&make_coo), py::arg("indices"), py::arg("values"), py::arg("shape") = py::none())
        .def(py::init([](py::object shape) { return coo_tensor(as_shape(shape, "coo_tensor")); }), py::arg("shape"))
        .def_static("from_scipy", [](py::object M) { return coo_from_scipy(M); }, py::arg("matrix"),
                    "A 2-way coo_tensor from a scipy.sparse matrix or array (duplicates kept).")
        .def_property_readonly("shape", [](const coo_tensor& X) { return shape_tuple(X.shape); })
        .def_property_readonly("indices", &indices_array, "int64 array of shape (order, nnz)")
        .def_property_readonly("values", [](const coo_tensor& X) {
            return frozen_copy(X.values.data(), shape_t{X.nnz()});
        }, "float64 array of nnz values")
        .def_property_readonly("order", &coo_tensor::order)
        .def_property_readonly("nnz", &coo_tensor::nnz)
        .def("canonicalize", &coo_tensor::canonicalize, py::arg("keep_zeros") = false,
             "Sorts lexicographically (mode 0 first) and sums duplicate coordinates; explicit zeros are dropped "
             "unless keep_zeros.")
        .def("is_canonical", &coo_tensor::is_canonical, "Sorted and free of duplicates.")
        .def("to_dense", [](const coo_tensor& X) { return to_numpy(to_dense(X)); }, "A float64 NumPy array.")
        .def("to_scipy", [](const coo_tensor& X) {
            if (X.order() != 2)
                throw invalid_argument("coo_tensor.to_scipy: expected a 2-way tensor, found order " +
                                       std::to_string(X.order()));
            py::object coo_matrix = py::module_::import("scipy.sparse").attr("coo_matrix");
            py::array I = indices_array(X);
            return coo_matrix(py::make_tuple(frozen_copy(X.values.data(), shape_t{X.nnz()}),
                                             py::make_tuple(I[py::int_(0)], I[py::int_(1)])),
                              py::arg("shape") = shape_tuple(X.shape));
        }, "A scipy.sparse.coo_matrix (2-way tensors only).")
        .def("__repr__", [](const coo_tensor& X) {
            return "coo_tensor(shape=" + py::str(shape_tuple(X.shape)).cast<std::string>() +
                   ", nnz=" + std::to_string(X.nnz()) + ")";
        });

    py::class_<csf_set>(m, "csf_set", R"doc(
The compressed sparse fiber copies sparse MTTKRP uses for every mode. Build it once with
make_csf_set() to run several decompositions of one sparse tensor without rebuilding.)doc")
        .def_property_readonly("shape", [](const csf_set& X) { return shape_tuple(X.shape); })
        .def_property_readonly("order", &csf_set::order)
        .def_property_readonly("nnz", &csf_set::nnz)
        .def_property_readonly("policy", [](const csf_set& X) { return X.policy; })
        .def_property_readonly("norm_sq", [](const csf_set& X) { return X.norm_sq; })
        .def("bytes", &csf_set::bytes, "Bytes held by the index and value arrays.")
        .def("__repr__", [](const csf_set& X) {
            return "csf_set(shape=" + py::str(shape_tuple(X.shape)).cast<std::string>() +
                   ", nnz=" + std::to_string(X.nnz()) + ", copies=" + std::to_string(X.csfs.size()) + ")";
        });

    m.def("make_csf_set", [](const coo_tensor& X, csf_policy policy) {
        py::gil_scoped_release release;
        return make_csf_set(X, policy);
    }, py::arg("X"), py::arg("policy") = csf_policy::all,
          "Builds the CSF copies of a sparse tensor (canonicalized internally; duplicates summed).");

    py::class_<kruskal_tensor>(m, "kruskal_tensor", R"doc(
A CP model: sum_r weights[r] * outer(factors[0][:, r], factors[1][:, r], ...).

kruskal_tensor(factors, weights=None): factors is a list of 2-D arrays (dimension x rank), weights
defaults to ones. The attributes weights and factors are read-only float64 copies; assign to them
to change the model.)doc")
        .def(py::init([](py::object factors, py::object weights) {
            kruskal_tensor K = as_kruskal(factors, "kruskal_tensor");
            if (!weights.is_none()) {
                const auto w = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(weights);
                if (!w) throw py::error_already_set();
                K.weights.assign(w.data(), w.data() + w.size());
                K.validate("kruskal_tensor");
            }
            return K;
        }), py::arg("factors"), py::arg("weights") = py::none())
        .def_property("weights",
            [](const kruskal_tensor& K) { return frozen_copy(K.weights.data(), shape_t{K.rank()}); },
            [](kruskal_tensor& K, py::object w) {
                const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(w);
                if (!a) throw py::error_already_set();
                std::vector<double> v(a.data(), a.data() + a.size());
                kruskal_tensor next{std::move(v), K.factors};
                next.validate("kruskal_tensor.weights");
                K = std::move(next);
            })
        .def_property("factors",
            [](const kruskal_tensor& K) {
                py::list out;
                for (const auto& F : K.factors) out.append(frozen_copy(F.data(), shape_t{F.rows(), F.cols()}));
                return out;
            },
            [](kruskal_tensor& K, py::object factors) {
                kruskal_tensor next = as_kruskal(factors, "kruskal_tensor.factors");
                next.weights = K.weights;
                next.validate("kruskal_tensor.factors");
                K = std::move(next);
            })
        .def_property_readonly("order", &kruskal_tensor::order)
        .def_property_readonly("rank", &kruskal_tensor::rank)
        .def_property_readonly("shape", [](const kruskal_tensor& K) { return shape_tuple(K.shape()); })
        .def("normalize", &kruskal_tensor::normalize,
             "Scales every factor column to unit 2-norm, moving the scale into weights.")
        .def("arrange", &kruskal_tensor::arrange,
             "Sorts components by decreasing |weight| (weights made positive by flipping a factor's sign).")
        .def("full", [](const kruskal_tensor& K) { return to_numpy(K.full()); },
             "Dense reconstruction as a float64 array (for small tensors).")
        .def("__call__", [](const kruskal_tensor& K, const std::vector<index_t>& coord) {
            if (static_cast<int>(coord.size()) != K.order())
                throw out_of_range("kruskal_tensor: coordinate of order " + std::to_string(coord.size()) +
                                   " for a model of order " + std::to_string(K.order()));
            const shape_t s = K.shape();
            for (std::size_t n = 0; n < coord.size(); ++n)
                if (coord[n] < 0 || coord[n] >= s[n])
                    throw out_of_range("kruskal_tensor: index " + std::to_string(coord[n]) + " in mode " +
                                       std::to_string(n) + " outside [0, " + std::to_string(s[n]) + ")");
            return K(coord);
        }, py::arg("coord"), "One entry of the model, without forming the tensor.")
        .def("__repr__", &kruskal_repr);

    m.def("factor_match_score",
          [](const kruskal_tensor& model, const kruskal_tensor& truth, bool weight_penalty) {
              return factor_match_score(model, truth, weight_penalty);
          },
          py::arg("model"), py::arg("truth"), py::arg("weight_penalty") = true, R"doc(
Factor match score in [0, 1]: components matched by permutation (exactly, by the Hungarian
algorithm, up to rank 300), each scored by (1 - |l1-l2|/max(l1,l2)) * prod_n |cos|, averaged over
the rank of truth.)doc");

    m.def("norm", [](py::object X) {
        if (py::isinstance<coo_tensor>(X)) return norm(X.cast<const coo_tensor&>());
        const dense_input in = as_dense(X, "norm");
        return in.single ? norm(in.view<float>()) : norm(in.view<double>());
    }, py::arg("X"), "Frobenius norm of a dense array or a coo_tensor (accumulated in double).");

    m.def("to_coo", [](py::object X, double threshold) {
        const dense_input in = as_dense(X, "to_coo", false);
        return in.single ? [&] {
            const auto S = to_coo(in.view<float>(), threshold);
            coo_tensor D(S.shape);
            D.indices = S.indices;
            D.values.assign(S.values.begin(), S.values.end());
            return D;
        }() : to_coo(in.view<double>(), threshold);
    }, py::arg("X"), py::arg("threshold") = 0.0, "Dense -> sparse: the entries with |x| > threshold.");

    m.def("to_dense", [](const coo_tensor& X) { return to_numpy(to_dense(X)); }, py::arg("X"),
          "Sparse -> dense float64 array (duplicates summed).");

    m.def("mttkrp", [](py::object X, py::object factors, int mode) -> py::array {
        if (py::isinstance<csf_set>(X) || py::isinstance<coo_tensor>(X)) {
            const auto F = as_factors<double>(factors, "mttkrp");
            matrix out;
            if (py::isinstance<csf_set>(X)) {
                const auto& S = X.cast<const csf_set&>();
                py::gil_scoped_release release;
                mttkrp<double>(S, F, mode, out);
            } else {
                const auto& C = X.cast<const coo_tensor&>();
                py::gil_scoped_release release;
                mttkrp<double>(make_csf_set(C), F, mode, out);
            }
            return to_numpy(std::move(out));
        }
        const dense_input in = as_dense(X, "mttkrp");
        return in.single ? mttkrp_dense<float>(in, factors, mode) : mttkrp_dense<double>(in, factors, mode);
    }, py::arg("X"), py::arg("factors"), py::arg("mode"), R"doc(
Matricized tensor times Khatri-Rao product: X_(mode) @ khatri_rao(factors except mode), a
dim(mode) x R array (factors[mode] is not read). X is a dense array (float32 stays float32), a
coo_tensor or a csf_set.)doc");
}

}  // namespace facto::python
