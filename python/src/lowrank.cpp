// python/src/lowrank.cpp: bindings of facto/decomp/{svd,tucker,tt}: truncated SVD (exact and
// randomized, dense and sparse), Tucker (HOSVD, ST-HOSVD, HOOI; sparse HOOI) and tensor trains,
// computed with the GIL released. float32 inputs stay float32; everything else is float64.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>

#include "bind.hpp"
#include "callback.hpp"
#include "convert.hpp"
#include "facto/core/error.hpp"
#include "facto/decomp/svd.hpp"
#include "facto/decomp/tt.hpp"
#include "facto/decomp/tucker.hpp"

namespace facto::python {

namespace {

// ---------------------------------------------------------------------------------------------
// Shared argument parsing

std::string type_name(py::handle h) { return py::str(py::type::of(h).attr("__name__")).cast<std::string>(); }

/// An integer argument (anything with __index__: int, numpy integers), else TypeError naming it.
index_t as_index(py::handle h, const char* who, const char* what) {
    const auto v = py::reinterpret_steal<py::object>(PyNumber_Index(h.ptr()));
    if (!v) {
        PyErr_Clear();
        throw py::type_error(std::string(who) + ": " + what + " must be an integer, found " + type_name(h));
    }
    return v.cast<index_t>();
}

/// A real-number argument, else TypeError naming it.
double as_number(py::handle h, const char* who, const char* what) {
    const double v = PyFloat_AsDouble(h.ptr());
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        throw py::type_error(std::string(who) + ": " + what + " must be a number, found " + type_name(h));
    }
    return v;
}

/// rank= of svd: None (no cap) or an integer >= 1.
index_t optional_rank(py::object rank, const char* who) {
    if (rank.is_none()) return 0;
    const auto r = as_index(rank, who, "rank");
    if (r < 1) throw invalid_argument(std::string(who) + ": rank must be >= 1 (or None), found " + std::to_string(r));
    return r;
}

/// tol=: None (0) or a finite number >= 0.
double optional_tol(py::object tol, const char* who) {
    if (tol.is_none()) return 0;
    const auto t = as_number(tol, who, "tol");
    if (!(t >= 0 && std::isfinite(t)))
        throw invalid_argument(std::string(who) + ": tol must be a finite number >= 0 (or None), found " +
                               py::str(tol).cast<std::string>());
    return t;
}

/// A list of ranks: None (empty), one integer (repeated `count` times) or a sequence.
std::vector<index_t> rank_list(py::object ranks, std::size_t count, const char* who, const char* what) {
    std::vector<index_t> out;
    if (ranks.is_none()) return out;
    if (py::hasattr(ranks, "__index__")) {
        out.assign(count, as_index(ranks, who, what));
    } else {
        if (py::isinstance<py::str>(ranks) || !py::isinstance<py::sequence>(ranks))
            throw invalid_argument(std::string(who) + ": " + what + " must be None, an integer or a sequence of integers");
        for (py::handle r : ranks) out.push_back(as_index(r, who, what));
    }
    for (index_t r : out)
        if (r < 1) throw invalid_argument(std::string(who) + ": " + what + " must be >= 1, found " + std::to_string(r));
    return out;
}

bool is_sparse(py::handle X) { return py::isinstance<coo_tensor>(X) || is_scipy_sparse(X); }
coo_tensor as_coo(py::handle X) { return py::isinstance<coo_tensor>(X) ? X.cast<coo_tensor>() : coo_from_scipy(X); }

/// A C-order copy of a dense input as an owning tensor (for the functions that take one).
template <class T>
basic_tensor<T> owned_copy(const dense_input& in) {
    const auto v = in.view<T>();
    return basic_tensor<T>(v.shape(), std::vector<T>(v.data(), v.data() + v.size()));
}

// ---------------------------------------------------------------------------------------------
// SVD

/// The SVD handed to Python: arrays of the computing precision, owned by NumPy (no copy).
struct py_svd_result {
    py::array U, s, V;
    index_t rank = 0;
    double rel_error = 0, rel_error_estimate = 0;
    bool converged = true;
    bool randomized = false;
};

template <class T>
py_svd_result to_python(basic_svd_result<T>&& r, bool swap_sides, bool randomized) {
    py_svd_result out;
    const auto k = static_cast<index_t>(r.s.size());
    out.s = to_numpy(std::move(r.s), shape_t{k});
    // The SVD of A^T is V S U^T: a transposed input swaps the two factors back.
    out.U = to_numpy(std::move(swap_sides ? r.V : r.U));
    out.V = to_numpy(std::move(swap_sides ? r.U : r.V));
    out.rank = r.rank;
    out.rel_error = r.rel_error;
    out.rel_error_estimate = r.rel_error_estimate;
    out.converged = r.converged;
    out.randomized = randomized;
    return out;
}

template <class T>
basic_svd_result<T> dense_svd(const dense_input& in, bool randomized, const svd_options& exact,
                              const svd_randomized_options& rand) {
    py::gil_scoped_release release;
    const auto v = in.view<T>();
    basic_matrix<T> A(v.shape()[0], v.shape()[1], std::vector<T>(v.data(), v.data() + v.size()));
    return randomized ? svd_randomized(A, rand) : svd_truncated(A, exact);
}

py_svd_result run_svd(py::object A, py::object rank, py::object tol, py::object randomized_arg, index_t oversample,
                      int power_iters, index_t block, index_t krylov_block, std::uint64_t seed, bool check_error) {
    const char* who = "svd";
    const bool sparse = is_sparse(A);
    if (!randomized_arg.is_none() && !py::isinstance<py::bool_>(randomized_arg) &&
        !py::isinstance(randomized_arg, py::module_::import("numpy").attr("bool_")))
        throw py::type_error("svd: randomized must be True, False or None, found " + type_name(randomized_arg));
    const bool randomized = randomized_arg.is_none() ? sparse : py::bool_(randomized_arg).cast<bool>();
    if (sparse && !randomized)
        throw invalid_argument("svd: a sparse matrix is decomposed by the randomized SVD only (randomized=True or "
                               "None); for the exact SVD pass a dense array (A.toarray())");

    svd_options exact;
    exact.rank = optional_rank(rank, who);
    exact.tol = optional_tol(tol, who);
    svd_randomized_options rand;
    // Fixed accuracy when tol is given (rank then caps the basis), else fixed rank.
    if (exact.tol > 0) {
        rand.tol = exact.tol;
        rand.max_rank = exact.rank;
    } else {
        rand.rank = exact.rank;
    }
    rand.oversample = oversample;
    rand.power_iters = power_iters;
    rand.block = block;
    rand.krylov_block = krylov_block;
    rand.seed = seed;
    rand.check_error = check_error;
    if (randomized && exact.rank == 0 && exact.tol == 0)
        throw invalid_argument("svd: the randomized SVD needs rank= (fixed rank) or tol= > 0 (fixed accuracy)");

    if (sparse) {
        const coo_tensor C = as_coo(A);
        svd_result r;
        {
            py::gil_scoped_release release;
            r = svd_randomized(C, rand);
        }
        return to_python(std::move(r), false, true);
    }
    const dense_input in = as_dense(A, who);
    if (in.shape.size() != 2)
        throw invalid_argument("svd: expected a 2-D array (a matrix), found " + std::to_string(in.shape.size()) +
                               " dimensions");
    if (in.single) return to_python(dense_svd<float>(in, randomized, exact, rand), in.reversed, randomized);
    return to_python(dense_svd<double>(in, randomized, exact, rand), in.reversed, randomized);
}

// ---------------------------------------------------------------------------------------------
// Tucker

/// A Tucker model of either precision.
struct py_tucker_tensor {
    std::variant<tucker_tensor, tucker_tensor_f> model;
};

template <class T>
py::list frozen_factors(const std::vector<basic_matrix<T>>& factors) {
    py::list out;
    for (const auto& F : factors) out.append(frozen_copy(F.data(), shape_t{F.rows(), F.cols()}));
    return out;
}

template <class T>
basic_tucker_tensor<T> make_tucker(py::object core, py::object factors, const char* who) {
    using array = py::array_t<T, py::array::c_style | py::array::forcecast>;
    basic_tucker_tensor<T> m;
    const auto G = array::ensure(core);
    if (!G) throw py::error_already_set();
    shape_t shape;
    for (py::ssize_t k = 0; k < G.ndim(); ++k) shape.push_back(G.shape(k));
    if (shape.empty()) throw invalid_argument(std::string(who) + ": the core must have at least one dimension");
    m.core = basic_tensor<T>(shape, std::vector<T>(G.data(), G.data() + G.size()));
    if (py::isinstance<py::str>(factors) || !py::isinstance<py::sequence>(factors))
        throw invalid_argument(std::string(who) + ": factors must be a sequence of 2-D arrays (dimension x rank)");
    for (py::handle f : factors) {
        const auto F = array::ensure(f);
        if (!F) throw py::error_already_set();
        if (F.ndim() != 2)
            throw invalid_argument(std::string(who) + ": factor " + std::to_string(m.factors.size()) + " has " +
                                   std::to_string(F.ndim()) + " dimensions; expected 2 (dimension x rank)");
        m.factors.emplace_back(F.shape(0), F.shape(1), std::vector<T>(F.data(), F.data() + F.size()));
    }
    if (m.factors.size() != shape.size())
        throw invalid_argument(std::string(who) + ": " + std::to_string(m.factors.size()) + " factors for a core of order " +
                               std::to_string(shape.size()) + "; expected one factor per mode");
    for (std::size_t n = 0; n < shape.size(); ++n)
        if (m.factors[n].cols() != shape[n])
            throw invalid_argument(std::string(who) + ": factor " + std::to_string(n) + " has " +
                                   std::to_string(m.factors[n].cols()) + " columns but the core has dimension " +
                                   std::to_string(shape[n]) + " in mode " + std::to_string(n));
    return m;
}

py_tucker_tensor tucker_from_arrays(py::object core, py::object factors) {
    const char* who = "tucker_tensor";
    const py::array G = py::array::ensure(core);
    if (!G) throw py::error_already_set();
    if (G.dtype().equal(py::dtype::of<float>())) return {make_tucker<float>(core, factors, who)};
    return {make_tucker<double>(core, factors, who)};
}

py::array tucker_core(const py_tucker_tensor& t) {
    return std::visit([](const auto& m) -> py::array { return frozen_copy(m.core.data(), m.core.shape()); }, t.model);
}
py::list tucker_factors(const py_tucker_tensor& t) {
    return std::visit([](const auto& m) { return frozen_factors(m.factors); }, t.model);
}

py::array tucker_full(const py_tucker_tensor& t) {
    return std::visit(
        [](const auto& m) -> py::array {
            auto X = [&] {
                py::gil_scoped_release release;
                return m.full();
            }();
            return to_numpy(std::move(X));
        },
        t.model);
}

std::string tucker_tensor_repr(const py_tucker_tensor& t) {
    return std::visit(
        [](const auto& m) {
            return "tucker_tensor(shape=" + py::str(shape_tuple(m.shape())).cast<std::string>() +
                   ", ranks=" + py::str(shape_tuple(m.ranks())).cast<std::string>() + ")";
        },
        t.model);
}

/// tucker_result of either precision, with its model as a py_tucker_tensor.
struct py_tucker_result {
    py_tucker_tensor model;
    std::string method;
    double rel_error = 0, rel_error_estimate = 0, error_bound = 0;
    int iters = 0;
    bool converged = true, interrupted = false;
    std::vector<double> history;
    double seconds = 0, setup_seconds = 0;
};

template <class T>
py_tucker_result to_python(basic_tucker_result<T>&& r, std::string method) {
    py_tucker_result out;
    out.model.model = std::move(r.model);
    out.method = std::move(method);
    out.rel_error = r.rel_error;
    out.rel_error_estimate = r.rel_error_estimate;
    out.error_bound = r.error_bound;
    out.iters = r.iters;
    out.converged = r.converged;
    out.interrupted = r.interrupted;
    out.history = std::move(r.history);
    out.seconds = r.seconds;
    out.setup_seconds = r.setup_seconds;
    return out;
}

template <class T>
basic_tucker_result<T> dense_tucker(const std::string& method, const dense_input& in, const tucker_options& o) {
    py::gil_scoped_release release;
    const auto X = in.view<T>();
    if (method == "hosvd") return tucker_hosvd(X, o);
    if (method == "hooi") return tucker_hooi(X, o);
    return tucker_sthosvd(X, o);
}

py_tucker_result run_tucker(py::object X, py::object ranks, py::object tol, py::object method_arg, int max_iters,
                            double iter_tol, std::uint64_t seed, bool check_error, py::object on_iteration,
                            bool progress) {
    const char* who = "tucker";
    const bool sparse = is_sparse(X);
    std::string method = method_arg.is_none() ? (sparse ? "hooi" : "sthosvd") : py::str(method_arg).cast<std::string>();
    if (method != "hosvd" && method != "sthosvd" && method != "hooi")
        throw invalid_argument("tucker: method must be 'sthosvd', 'hosvd' or 'hooi', found '" + method + "'");
    if (sparse && method != "hooi")
        throw invalid_argument("tucker: a sparse tensor is decomposed by method='hooi' (with ranks) only, found '" +
                               method + "'; for " + method + " pass a dense array");

    tucker_options o;
    o.tol = optional_tol(tol, who);
    o.max_iters = max_iters;
    o.iter_tol = iter_tol;
    o.seed = seed;
    o.check_error = check_error;
    if (!on_iteration.is_none() && !PyCallable_Check(on_iteration.ptr()))
        throw invalid_argument("tucker: on_iteration must be callable");

    // Called between HOOI sweeps on the calling thread with the GIL released (as cp_als does):
    // take it back to look for Ctrl-C, print progress and call the user's function.
    std::optional<py::error_already_set> pending;
    o.on_iteration = python_iteration_callback<tucker_iteration>(
        on_iteration, progress,
        [](const tucker_iteration& it) {
            return format_line("tucker hooi iter %4d  rel_error %.6e  change %.3e  %.3fs\n", it.iter, it.rel_error,
                               it.change, it.seconds);
        },
        pending);

    if (sparse) {
        const coo_tensor C = as_coo(X);
        o.ranks = rank_list(ranks, C.shape.size(), who, "ranks");
        tucker_result r;
        {
            py::gil_scoped_release release;
            r = tucker_hooi(C, o);
        }
        if (pending) throw *pending;
        return to_python(std::move(r), method);
    }
    // Fortran order is copied to C order: the core of the transposed problem would need its
    // modes reversed, a copy as large as the input's for small ranks anyway.
    const dense_input in = as_dense(X, who, false);
    o.ranks = rank_list(ranks, in.shape.size(), who, "ranks");
    py_tucker_result r = in.single ? to_python(dense_tucker<float>(method, in, o), method)
                                   : to_python(dense_tucker<double>(method, in, o), method);
    if (pending) throw *pending;
    return r;
}

// ---------------------------------------------------------------------------------------------
// Tensor train

/// A TT of either precision, and the error bound of the truncation that made it (0 when built
/// from cores).
struct py_tt {
    std::variant<tt_tensor, tt_tensor_f> tt;
    double rel_error_bound = 0;
};

template <class T>
py_tt tt_from(basic_tt_result<T>&& r) {
    return {std::move(r.tt), r.rel_error_bound};
}

template <class T>
basic_tt_tensor<T> make_tt(py::object cores) {
    using array = py::array_t<T, py::array::c_style | py::array::forcecast>;
    std::vector<basic_tensor<T>> out;
    for (py::handle c : cores) {
        const auto G = array::ensure(c);
        if (!G) throw py::error_already_set();
        if (G.ndim() != 3)
            throw invalid_argument("tt_tensor: core " + std::to_string(out.size()) + " has " + std::to_string(G.ndim()) +
                                   " dimensions; expected 3 (r_k x n_k x r_{k+1})");
        out.emplace_back(shape_t{G.shape(0), G.shape(1), G.shape(2)}, std::vector<T>(G.data(), G.data() + G.size()));
    }
    return basic_tt_tensor<T>(std::move(out));
}

py_tt tt_from_cores(py::object cores) {
    if (py::isinstance<py::str>(cores) || !py::isinstance<py::sequence>(cores))
        throw invalid_argument("tt_tensor: cores must be a sequence of 3-D arrays (r_k x n_k x r_{k+1})");
    bool single = py::len(cores) > 0;
    for (py::handle c : cores) {
        const py::array G = py::array::ensure(c);
        if (!G) throw py::error_already_set();
        single = single && G.dtype().equal(py::dtype::of<float>());
    }
    if (single) return {make_tt<float>(cores), 0.0};
    return {make_tt<double>(cores), 0.0};
}

tt_options make_tt_options(double tol, py::object max_ranks, const char* who) {
    tt_options o;
    if (!(tol >= 0 && std::isfinite(tol)))
        throw invalid_argument(std::string(who) + ": tol must be a finite number >= 0, found " + std::to_string(tol));
    o.tol = tol;
    // One integer caps every internal rank (tt_options takes it as a single value).
    o.max_ranks = rank_list(max_ranks, 1, who, "max_ranks");
    return o;
}

py_tt run_tt(py::object X, double tol, py::object max_ranks) {
    const char* who = "tt";
    if (is_sparse(X)) throw invalid_argument("tt: expected a dense array; TT-SVD of a sparse tensor is not supported");
    const dense_input in = as_dense(X, who, false);
    const tt_options o = make_tt_options(tol, max_ranks, who);
    if (in.single) {
        tt_result_f r;
        {
            py::gil_scoped_release release;
            r = tt_svd(owned_copy<float>(in), o);
        }
        return tt_from(std::move(r));
    }
    tt_result r;
    {
        py::gil_scoped_release release;
        r = tt_svd(owned_copy<double>(in), o);
    }
    return tt_from(std::move(r));
}

py_tt run_tt_round(const py_tt& t, double tol, py::object max_ranks) {
    return std::visit(
        [&](const auto& tt) -> py_tt {
            const tt_options o = make_tt_options(tol, max_ranks, "tt_round");
            auto r = [&] {
                py::gil_scoped_release release;
                return tt_round(tt, o);
            }();
            return tt_from(std::move(r));
        },
        t.tt);
}

/// A coordinate from Python: an integer (order 1) or a tuple of integers (anything with
/// __index__; slices and floats raise TypeError), negative ones counted from the end.
shape_t tt_coord(const shape_t& shape, py::handle key) {
    const auto index = [](py::handle i) { return as_index(i, "tt_tensor", "an index (no slices)"); };
    shape_t c;
    if (py::isinstance<py::tuple>(key)) {
        for (py::handle i : key) c.push_back(index(i));
    } else {
        c.push_back(index(key));
    }
    if (c.size() == shape.size())
        for (std::size_t k = 0; k < c.size(); ++k)
            if (c[k] < 0) c[k] += shape[k];
    return c;
}

}  // namespace

void bind_lowrank(py::module_& m) {
    py::class_<py_svd_result>(m, "svd_result", R"doc(A truncated SVD A ~= U @ diag(s) @ V.T.
U (m x k) and V (n x k, not transposed) have orthonormal columns and s (k) decreases; the arrays
are float32 for a float32 input, else float64, and belong to NumPy (no copy).)doc")
        .def_readonly("U", &py_svd_result::U, "left singular vectors, m x k")
        .def_readonly("s", &py_svd_result::s, "singular values, decreasing")
        .def_readonly("V", &py_svd_result::V, "right singular vectors, n x k (A ~= U @ diag(s) @ V.T)")
        .def_readonly("rank", &py_svd_result::rank, "k, the number of triplets kept")
        .def_readonly("rel_error", &py_svd_result::rel_error,
                      "||A - U diag(s) V^T||_F / ||A||_F (exact: from the discarded singular values; randomized: "
                      "from the residual unless check_error=False)")
        .def_readonly("rel_error_estimate", &py_svd_result::rel_error_estimate,
                      "randomized only: the a-posteriori estimate that chose the rank (0 for the exact SVD)")
        .def_readonly("converged", &py_svd_result::converged,
                      "randomized with tol: the estimate reached tol within the rank cap")
        .def_readonly("randomized", &py_svd_result::randomized, "computed by the randomized SVD")
        .def("__repr__", [](const py_svd_result& r) {
            char s[200];
            std::snprintf(s, sizeof s, "svd_result(rank=%lld, rel_error=%.6g, converged=%s, randomized=%s)",
                          static_cast<long long>(r.rank), r.rel_error, r.converged ? "True" : "False",
                          r.randomized ? "True" : "False");
            return std::string(s);
        });

    m.def("svd", &run_svd, py::arg("A"), py::arg("rank") = py::none(), py::kw_only(), py::arg("tol") = py::none(),
          py::arg("randomized") = py::none(), py::arg("oversample") = 10, py::arg("power_iters") = 2,
          py::arg("block") = 16, py::arg("krylov_block") = 0, py::arg("seed") = 0, py::arg("check_error") = true,
          R"doc(Truncated singular value decomposition A ~= U @ diag(s) @ V.T.

A: a dense 2-D array (float64 or float32, used in place in C or Fortran order, then copied once
into the library's matrix; other dtypes are converted to float64), a coo_tensor of order 2 or a
scipy.sparse matrix (decomposed in float64 without ever being made dense).
  rank         most singular triplets kept (>= 1); None: no cap (min(m, n))
  tol          keep the fewest triplets with ||A - U diag(s) V^T||_F <= tol ||A||_F
  randomized   False: exact SVD (LAPACK gesdd), dense input only. True: randomized range finder
               (Halko, Martinsson, Tropp), fixed rank (rank given, tol None) or fixed accuracy
               (tol given; rank then caps the basis). None (default): exact for dense input,
               randomized for sparse input.
  oversample   randomized fixed rank: extra sketch columns (>= 0)
  power_iters  randomized: passes of A A^T over the sketch (>= 0)
  block        randomized fixed accuracy: columns added to the basis per step (>= 1)
  krylov_block randomized fixed rank: 0 keeps the last power iterate (rank + oversample
               columns); b > 0 keeps every iterate (block Krylov, b (power_iters + 1) >= rank
               columns), more accurate for the same products with A
  seed         randomized: same seed, same result
  check_error  randomized: measure rel_error from the residual (one more pass over A); False
               reports the estimate instead
A Fortran-order array is decomposed as its transpose (no copy of the layout): U and V come back
the right way round, but the randomized sketch then differs from that of a C-order copy.
The GIL is released while computing. Raises ValueError for a bad option, a rank above
min(m, n) (randomized), a non-finite entry, or an exact SVD of a sparse matrix.)doc");

    py::class_<py_tucker_tensor>(m, "tucker_tensor", R"doc(A Tucker model X ~= core x_0 U_0 x_1 U_1 ... x_{N-1} U_{N-1}.
tucker_tensor(core, factors): core is an R_0 x ... x R_{N-1} array, factors a list of N arrays
(I_n x R_n). float32 when the core is float32, else float64. Attributes are read-only copies.)doc")
        .def(py::init(&tucker_from_arrays), py::arg("core"), py::arg("factors"))
        .def_property_readonly("core", &tucker_core, "R_0 x ... x R_{N-1} array")
        .def_property_readonly("factors", &tucker_factors,
                               "list of I_n x R_n arrays (orthonormal columns when computed by facto.tucker)")
        .def_property_readonly("order", [](const py_tucker_tensor& t) {
            return std::visit([](const auto& m) { return m.order(); }, t.model);
        })
        .def_property_readonly(
            "shape", [](const py_tucker_tensor& t) {
                return std::visit([](const auto& m) { return shape_tuple(m.shape()); }, t.model);
            },
            "I_0, ..., I_{N-1}: the shape of the approximated tensor")
        .def_property_readonly(
            "ranks", [](const py_tucker_tensor& t) {
                return std::visit([](const auto& m) { return shape_tuple(m.ranks()); }, t.model);
            },
            "R_0, ..., R_{N-1}: the multilinear ranks (the core's shape)")
        .def("full", &tucker_full, "The dense tensor, by a chain of mode products (GIL released).")
        .def("__repr__", &tucker_tensor_repr);

    py::class_<tucker_iteration>(m, "tucker_iteration", "One HOOI sweep, as reported to on_iteration.")
        .def_readonly("iter", &tucker_iteration::iter, "1-based")
        .def_readonly("rel_error", &tucker_iteration::rel_error, "sqrt(||X||^2 - ||core||^2) / ||X|| after the sweep")
        .def_readonly("change", &tucker_iteration::change, "previous error minus this one")
        .def_readonly("seconds", &tucker_iteration::seconds, "wall time of the sweep")
        .def("__repr__", [](const tucker_iteration& it) {
            char s[160];
            std::snprintf(s, sizeof s, "tucker_iteration(iter=%d, rel_error=%.17g, change=%.17g, seconds=%.6g)", it.iter,
                          it.rel_error, it.change, it.seconds);
            return std::string(s);
        });

    py::class_<py_tucker_result>(m, "tucker_result", "Result of facto.tucker (not converging is a result, not an error).")
        .def_readonly("model", &py_tucker_result::model, "tucker_tensor")
        .def_property_readonly(
            "core", [](const py_tucker_result& r) { return tucker_core(r.model); }, "model.core")
        .def_property_readonly(
            "factors", [](const py_tucker_result& r) { return tucker_factors(r.model); }, "model.factors")
        .def("full", [](const py_tucker_result& r) { return tucker_full(r.model); }, "model.full()")
        .def_readonly("method", &py_tucker_result::method, "'hosvd', 'sthosvd' or 'hooi'")
        .def_readonly("rel_error", &py_tucker_result::rel_error,
                      "||X - model||_F / ||X||_F (sparse hooi: from ||X||^2 - ||core||^2)")
        .def_readonly("rel_error_estimate", &py_tucker_result::rel_error_estimate,
                      "sqrt(||X||^2 - ||core||^2) / ||X||")
        .def_readonly("error_bound", &py_tucker_result::error_bound,
                      "HOSVD / ST-HOSVD truncation bound (hooi: that of its ST-HOSVD start; sparse hooi: 0)")
        .def_readonly("iters", &py_tucker_result::iters, "HOOI sweeps done (0 for hosvd and sthosvd)")
        .def_readonly("converged", &py_tucker_result::converged, "HOOI: the improvement fell below iter_tol")
        .def_readonly("interrupted", &py_tucker_result::interrupted, "HOOI: on_iteration asked to stop")
        .def_readonly("history", &py_tucker_result::history,
                      "HOOI: relative error after each sweep (iters entries, non-increasing); empty otherwise")
        .def_readonly("seconds", &py_tucker_result::seconds, "total wall time")
        .def_readonly("setup_seconds", &py_tucker_result::setup_seconds, "HOOI: time of its start")
        .def("__repr__", [](const py_tucker_result& r) {
            char s[200];
            std::snprintf(s, sizeof s,
                          "tucker_result(method='%s', rel_error=%.6g, iters=%d, converged=%s, interrupted=%s, ",
                          r.method.c_str(), r.rel_error, r.iters, r.converged ? "True" : "False",
                          r.interrupted ? "True" : "False");
            return std::string(s) + "model=" + tucker_tensor_repr(r.model) + ")";
        });

    m.def("tucker", &run_tucker, py::arg("X"), py::arg("ranks") = py::none(), py::kw_only(), py::arg("tol") = py::none(),
          py::arg("method") = py::none(), py::arg("max_iters") = 50, py::arg("iter_tol") = 1e-10, py::arg("seed") = 0,
          py::arg("check_error") = true, py::arg("on_iteration") = py::none(), py::arg("progress") = false,
          R"doc(Tucker decomposition X ~= core x_0 U_0 ... x_{N-1} U_{N-1} with orthonormal factors.

X: a dense array (float64 or float32 in C order used in place; Fortran order and other dtypes are
copied), or a coo_tensor / scipy.sparse matrix (sparse HOOI in float64, never made dense).
The keyword arguments are the fields of the C++ tucker_options:
  ranks        multilinear ranks: one integer for every mode or one per mode (1 <= R_n <= I_n);
               with tol as well they are caps
  tol          relative error target: ||X - model||_F <= tol ||X||_F (guaranteed by the
               truncation when no rank cap binds; floor ~1e-7 in float64, ~3e-4 in float32)
  method       'sthosvd' (default for dense input), 'hosvd', or 'hooi' (the only one, and the
               default, for sparse input, which needs ranks)
  max_iters    HOOI sweeps at most (>= 1)
  iter_tol     HOOI stops when the relative error improves by less than this
  seed         sparse HOOI: seed of the random orthonormal start
  check_error  measure rel_error from the explicit residual (dense input)
  on_iteration HOOI: called with a tucker_iteration after every sweep; returning False stops
               the run, which then returns the last sweep's model with interrupted=True
  progress     HOOI: print one line per sweep to sys.stderr
The GIL is released while computing. Ctrl-C (checked after every HOOI sweep) raises
KeyboardInterrupt; an exception raised by on_iteration stops the run and propagates. Raises ValueError for missing or bad ranks, a negative
tol, an unknown method, a non-finite entry, or a method other than hooi on sparse input.)doc");

    py::class_<py_tt>(m, "tt_tensor", R"doc(A tensor train: X[i_0, ..., i_{d-1}] = G_0[:, i_0, :] @ ... @ G_{d-1}[:, i_{d-1}, :].
tt_tensor(cores): cores is a list of 3-D arrays r_k x n_k x r_{k+1} with r_0 = r_d = 1 (float32
when every core is float32, else float64). Entries by T[i, j, k] (negative indices count from the
end) or T((i, j, k)); the dense tensor is formed only by full(). Attributes are read-only copies.)doc")
        .def(py::init(&tt_from_cores), py::arg("cores"))
        .def_property_readonly(
            "cores", [](const py_tt& t) {
                return std::visit(
                    [](const auto& tt) {
                        py::list out;
                        for (const auto& G : tt.cores()) out.append(frozen_copy(G.data(), G.shape()));
                        return out;
                    },
                    t.tt);
            },
            "list of r_k x n_k x r_{k+1} arrays")
        .def_property_readonly(
            "ranks", [](const py_tt& t) {
                return std::visit([](const auto& tt) { return shape_tuple(tt.ranks()); }, t.tt);
            },
            "r_0, ..., r_d (d + 1 entries, first and last 1)")
        .def_property_readonly(
            "shape", [](const py_tt& t) { return std::visit([](const auto& tt) { return shape_tuple(tt.shape()); }, t.tt); },
            "n_0, ..., n_{d-1}")
        .def_property_readonly("order", [](const py_tt& t) {
            return std::visit([](const auto& tt) { return tt.order(); }, t.tt);
        })
        .def_readonly("rel_error_bound", &py_tt::rel_error_bound,
                      "bound on ||X - TT||_F / ||X||_F from the discarded singular values of the truncation that made "
                      "it (facto.tt: X the input; facto.tt_round: X the TT rounded); 0 when built from cores")
        .def_property_readonly(
            "storage_size", [](const py_tt& t) { return std::visit([](const auto& tt) { return tt.storage_size(); }, t.tt); },
            "number of values stored in the cores")
        .def_property_readonly(
            "compression_ratio",
            [](const py_tt& t) { return std::visit([](const auto& tt) { return tt.compression_ratio(); }, t.tt); },
            "entries of the dense tensor per value stored (> 1: the TT is smaller)")
        .def(
            "full",
            [](const py_tt& t) {
                return std::visit(
                    [](const auto& tt) -> py::array {
                        auto X = [&] {
                            py::gil_scoped_release release;
                            return tt.full();
                        }();
                        return to_numpy(std::move(X));
                    },
                    t.tt);
            },
            "The dense tensor (GIL released).")
        .def(
            "norm", [](const py_tt& t) { return std::visit([](const auto& tt) { return tt.norm(); }, t.tt); },
            "Frobenius norm, from the cores (the dense tensor is never formed).")
        .def(
            "__call__",
            [](const py_tt& t, const std::vector<index_t>& coord) {
                return std::visit([&](const auto& tt) { return static_cast<double>(tt(coord)); }, t.tt);
            },
            py::arg("coord"), "One entry (a chain of small matrix products); IndexError outside the tensor.")
        .def("__getitem__",
             [](const py_tt& t, py::handle key) {
                 return std::visit([&](const auto& tt) { return static_cast<double>(tt(tt_coord(tt.shape(), key))); },
                                   t.tt);
             })
        .def("__repr__", [](const py_tt& t) {
            return std::visit(
                [&](const auto& tt) {
                    char s[64];
                    std::snprintf(s, sizeof s, ", rel_error_bound=%.6g)", t.rel_error_bound);
                    return "tt_tensor(shape=" + py::str(shape_tuple(tt.shape())).cast<std::string>() +
                           ", ranks=" + py::str(shape_tuple(tt.ranks())).cast<std::string>() + s;
                },
                t.tt);
        });

    m.def("tt", &run_tt, py::arg("X"), py::kw_only(), py::arg("tol") = 0.0, py::arg("max_ranks") = py::none(),
          R"doc(Tensor-train decomposition by TT-SVD (Oseledets 2011); returns a tt_tensor.

X: a dense array of any order (float32 stays float32; everything else is copied to float64; the
input is copied once, C order).
  tol        relative accuracy >= 0: ||X - TT||_F <= tol ||X||_F (each of the d - 1 truncations
             drops singular values of norm <= tol ||X|| / sqrt(d - 1)); 0 keeps every nonzero one
  max_ranks  None, one integer capping every internal rank, or d - 1 integers for r_1..r_{d-1};
             a cap may make the error exceed tol (compare rel_error_bound with tol)
The result's rel_error_bound bounds ||X - TT||_F / ||X||_F. The GIL is released while computing.
Raises ValueError on an empty tensor, a bad option or a non-finite entry.)doc");

    m.def("tt_round", &run_tt_round, py::arg("tt"), py::kw_only(), py::arg("tol") = 0.0,
          py::arg("max_ranks") = py::none(),
          R"doc(TT rounding: the same tensor train with smaller ranks; returns a new tt_tensor.

Right-to-left QR orthogonalization, then left-to-right truncated SVDs with the threshold
tol ||tt|| / sqrt(d - 1), so ||tt - result||_F <= tol ||tt||_F (the result's rel_error_bound)
unless max_ranks (as for facto.tt) caps a rank. At tol ~ 0 it gives the minimal ranks of an
over-parameterized train. The GIL is released while computing.
Raises ValueError on a bad option or non-finite cores.)doc");
}

}  // namespace facto::python
