// python/src/io.cpp: bindings of facto/io: the file formats, read to NumPy arrays and coo_tensors.
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <string>

#include "bind.hpp"
#include "convert.hpp"
#include "facto/core/error.hpp"
#include "facto/io/any.hpp"
#include "facto/io/csv.hpp"
#include "facto/io/mtx.hpp"
#include "facto/io/npy.hpp"
#include "facto/io/tns.hpp"

namespace facto::python {

namespace {

using release = py::gil_scoped_release;

tns_read_options tns_options(int index_base, py::object shape, bool sum_duplicates) {
    tns_read_options o;
    o.index_base = index_base;
    if (!shape.is_none()) o.shape = as_shape(shape, "read_tns");
    o.sum_duplicates = sum_duplicates;
    return o;
}

csv_options csv_opts(py::object delimiter, int header, int index_base) {
    csv_options o;
    if (!delimiter.is_none()) {
        const auto d = delimiter.cast<std::string>();
        if (d.size() != 1)
            throw invalid_argument("csv: delimiter must be one character, found '" + d + "'");
        o.delimiter = d[0];
    }
    o.header = header;
    o.index_base = index_base;
    return o;
}

/// A dtype argument as "float64" or "float32".
bool wants_single(py::object dtype, const char* who) {
    const py::dtype dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype));
    if (dt.equal(py::dtype::of<float>())) return true;
    if (dt.equal(py::dtype::of<double>())) return false;
    const std::string found = py::str(static_cast<py::handle>(dt));
    throw invalid_argument(std::string(who) + ": dtype must be float64 or float32, found " + found);
}

template <class T>
void write_npy_as(const std::string& path, const dense_input& in) {
    const auto v = in.view<T>();
    release r;
    write_npy<T>(path, v);
}

/// Dense arrays go to facto as C-order float64 tensors (a copy: the writers take owned tensors).
tensor as_tensor(py::handle X, const char* who) {
    const dense_input in = as_dense(X, who, false);
    if (in.single) return tensor_cast<double, float>(in.view<float>());
    const auto v = in.view<double>();
    if (v.shape().empty()) return tensor(shape_t{1}, std::vector<double>(v.data(), v.data() + 1));
    return tensor(v.shape(), std::vector<double>(v.data(), v.data() + v.size()));
}

any_tensor as_any(py::object X, const char* who) {
    if (py::isinstance<coo_tensor>(X)) return X.cast<coo_tensor>();
    if (is_scipy_sparse(X)) return coo_from_scipy(X);
    return as_tensor(X, who);
}

py::object from_any(any_tensor&& X) {
    if (auto* d = std::get_if<tensor>(&X)) return to_numpy(std::move(*d));
    return py::cast(std::move(std::get<coo_tensor>(X)));
}

}  // namespace

void bind_io(py::module_& m) {
    m.def("read_tns", [](const std::string& path, int index_base, py::object shape, bool sum_duplicates) {
        const auto o = tns_options(index_base, shape, sum_duplicates);
        release r;
        return read_tns(path, o);
    }, py::arg("path"), py::kw_only(), py::arg("index_base") = -1, py::arg("shape") = py::none(),
          py::arg("sum_duplicates") = true, R"doc(
Reads a FROSTT .tns file (also .tns.gz / .tns.xz) as a coo_tensor. index_base -1 detects it
(0-based if any index is 0); shape overrides the largest index per mode; duplicates are summed
unless sum_duplicates is False. Raises OSError (cannot read) or ValueError ("FILE:LINE: ...").)doc");
    m.def("parse_tns", [](const std::string& text, const std::string& name, int index_base, py::object shape,
                          bool sum_duplicates) {
        const auto o = tns_options(index_base, shape, sum_duplicates);
        release r;
        return parse_tns(text, name, o);
    }, py::arg("text"), py::arg("name") = "<memory>", py::kw_only(), py::arg("index_base") = -1,
          py::arg("shape") = py::none(), py::arg("sum_duplicates") = true,
          "Parses .tns text (see read_tns); name appears in error messages.");
    m.def("write_tns", [](const std::string& path, py::object X, int index_base) {
        const any_tensor A = as_any(X, "write_tns");
        const coo_tensor C = std::holds_alternative<coo_tensor>(A) ? std::get<coo_tensor>(A)
                                                                  : to_coo(std::get<tensor>(A).view());
        release r;
        write_tns(path, C, index_base);
    }, py::arg("path"), py::arg("X"), py::arg("index_base") = 1,
          "Writes a coo_tensor (or the nonzeros of a dense array) as .tns text, atomically.");

    m.def("read_npy", [](const std::string& path, py::object dtype) -> py::array {
        if (wants_single(dtype, "read_npy")) {
            tensor_f X = [&] { release r; return read_npy<float>(path); }();
            return to_numpy(std::move(X));
        }
        tensor X = [&] { release r; return read_npy<double>(path); }();
        return to_numpy(std::move(X));
    }, py::arg("path"), py::arg("dtype") = "float64", R"doc(
Reads a .npy file (float, integer or bool; C or Fortran order) as a C-order float64 (or float32)
array. A 0-d array becomes shape (1,).)doc");
    m.def("write_npy", [](const std::string& path, py::object X) {
        const dense_input in = as_dense(X, "write_npy", false);
        if (in.single) write_npy_as<float>(path, in);
        else write_npy_as<double>(path, in);
    }, py::arg("path"), py::arg("X"), "Writes a float32 or float64 (others converted) array as .npy, atomically.");
    m.def("read_npz", [](const std::string& path) {
        auto arrays = [&] { release r; return read_npz<double>(path); }();
        py::dict out;
        for (auto& [name, X] : arrays) out[py::str(name)] = to_numpy(std::move(X));
        return out;
    }, py::arg("path"), "Reads every array of an .npz archive as float64, keyed by member name.");
    m.def("write_npz", [](const std::string& path, py::dict arrays, bool compress) {
        std::map<std::string, tensor> M;
        for (auto [k, v] : arrays) M.emplace(k.cast<std::string>(), as_tensor(v, "write_npz"));
        release r;
        write_npz<double>(path, M, compress);
    }, py::arg("path"), py::arg("arrays"), py::arg("compress") = false,
          "Writes a dict of arrays as an .npz archive (float64 members, deflated if compress), atomically.");

    m.def("read_mtx", [](const std::string& path) { release r; return read_mtx(path); }, py::arg("path"),
          "Reads a MatrixMarket file as a 2-way coo_tensor (symmetric storage expanded, pattern entries 1).");
    m.def("read_mtx_dense", [](const std::string& path) {
        tensor X = [&] { release r; return read_mtx_dense(path); }();
        return to_numpy(std::move(X));
    }, py::arg("path"), "Reads a MatrixMarket file as a dense float64 matrix.");
    m.def("write_mtx", [](const std::string& path, py::object X) {
        any_tensor A = as_any(X, "write_mtx");
        release r;
        if (auto* C = std::get_if<coo_tensor>(&A)) write_mtx(path, *C);
        else write_mtx(path, std::get<tensor>(A).view());
    }, py::arg("path"), py::arg("X"),
          "Writes a 2-way coo_tensor / scipy.sparse matrix (coordinate) or dense array (array format).");

    m.def("read_csv_coo", [](const std::string& path, py::object delimiter, int header, int index_base) {
        const auto o = csv_opts(delimiter, header, index_base);
        release r;
        return read_csv_coo(path, o);
    }, py::arg("path"), py::kw_only(), py::arg("delimiter") = py::none(), py::arg("header") = -1,
          py::arg("index_base") = -1,
          "Reads coordinate tuples (indices..., value) from CSV/TSV as a coo_tensor; -1 / None detect.");
    m.def("read_csv_dense", [](const std::string& path, py::object delimiter, int header) {
        const auto o = csv_opts(delimiter, header, -1);
        tensor X = [&] { release r; return read_csv_dense(path, o); }();
        return to_numpy(std::move(X));
    }, py::arg("path"), py::kw_only(), py::arg("delimiter") = py::none(), py::arg("header") = -1,
          "Reads a dense CSV/TSV table as a float64 matrix.");
    m.def("write_csv_coo", [](const std::string& path, const coo_tensor& X) {
        release r;
        write_csv_coo(path, X);
    }, py::arg("path"), py::arg("X"), "Writes coordinate tuples (0-based, with a header), atomically.");

    m.def("read_tensor", [](const std::string& path, const std::string& format, const std::string& key,
                            bool dense_csv, std::optional<shape_t> shape) {
        read_options o{format, key, dense_csv, shape.value_or(shape_t{})};
        any_tensor X = [&] { release r; return read_tensor(path, o); }();
        return from_any(std::move(X));
    }, py::arg("path"), py::kw_only(), py::arg("format") = "", py::arg("key") = "", py::arg("dense_csv") = false,
          py::arg("shape") = py::none(), R"doc(
Reads a tensor in the format its name says (tns, npy, npz, mtx, csv, tsv; optionally .gz/.xz):
a float64 array for dense formats, a coo_tensor for sparse ones. shape: the dimensions of a
coordinate file whose last slices are empty (otherwise the largest index per mode).)doc");
    m.def("write_tensor", [](const std::string& path, py::object X) {
        const any_tensor A = as_any(X, "write_tensor");
        release r;
        write_tensor(path, A);
    }, py::arg("path"), py::arg("X"), "Writes a dense array or a coo_tensor in the format its name says.");

    py::class_<file_problem>(m, "file_problem", "One problem check_tensor_file() found (line 0: not tied to a line).")
        .def_readonly("line", &file_problem::line)
        .def_readonly("message", &file_problem::message)
        .def("__repr__", [](const file_problem& p) {
            return "file_problem(line=" + std::to_string(p.line) + ", message=" +
                   py::repr(py::str(p.message)).cast<std::string>() + ")";
        });
    py::class_<check_report>(m, "check_report", "What check_tensor_file() found (as `facto check` reports it).")
        .def_readonly("format", &check_report::format)
        .def_property_readonly("shape", [](const check_report& c) { return shape_tuple(c.shape); })
        .def_readonly("entries", &check_report::entries)
        .def_readonly("errors", &check_report::errors)
        .def_readonly("warnings", &check_report::warnings)
        .def_readonly("truncated", &check_report::truncated);
    m.def("check_tensor_file", [](const std::string& path, std::size_t max_problems) {
        release r;
        return check_tensor_file(path, max_problems);
    }, py::arg("path"), py::arg("max_problems") = 100,
          "Every problem in a tensor file (errors and warnings, by line), rather than only the first.");
    m.def("supported_formats", &supported_formats, "Known file extensions, for messages.");
}

}  // namespace facto::python
