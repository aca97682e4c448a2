// python/src/nmf.cpp: bindings of facto/decomp/nmf: nonnegative matrix factorization (HALS, MU,
// ANLS) of dense arrays and scipy.sparse matrices, with masks, penalties and a per-iteration
// callback, computed with the GIL released. float32 inputs stay float32; the rest is float64.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "bind.hpp"
#include "callback.hpp"
#include "convert.hpp"
#include "facto/core/error.hpp"
#include "facto/decomp/nmf.hpp"

namespace facto::python {

namespace {

std::string shape_str(index_t m, index_t n) { return "(" + std::to_string(m) + ", " + std::to_string(n) + ")"; }

/// The result handed to Python: W and H in the computing precision, owned by NumPy.
struct py_nmf_result {
    py::array W, H;
    std::string method;
    double rel_error = 0, divergence = 0;
    int iters = 0;
    bool converged = false, interrupted = false;
    std::vector<nmf_iteration> history;
    double seconds = 0, setup_seconds = 0;
};

template <class T>
py_nmf_result to_python(basic_nmf_result<T>&& r, const std::string& method) {
    py_nmf_result out;
    out.W = to_numpy(std::move(r.W));
    out.H = to_numpy(std::move(r.H));
    out.method = method;
    out.rel_error = r.rel_error;
    out.divergence = r.divergence;
    out.iters = r.iters;
    out.converged = r.converged;
    out.interrupted = r.interrupted;
    out.history = std::move(r.history);
    out.seconds = r.seconds;
    out.setup_seconds = r.setup_seconds;
    return out;
}

nmf_method parse_method(const std::string& s) {
    if (s == "hals") return nmf_method::hals;
    if (s == "mu") return nmf_method::mu;
    if (s == "anls") return nmf_method::anls;
    throw invalid_argument("nmf: method must be 'hals', 'mu' or 'anls', found '" + s + "'");
}

nmf_loss parse_loss(const std::string& s) {
    if (s == "frobenius") return nmf_loss::frobenius;
    if (s == "kl" || s == "kullback_leibler") return nmf_loss::kullback_leibler;
    throw invalid_argument("nmf: loss must be 'frobenius' or 'kl', found '" + s + "'");
}

nmf_init parse_init(py::object init, bool have_given, const char* who) {
    if (init.is_none()) return have_given ? nmf_init::given : nmf_init::nndsvda;
    const auto s = py::str(init).cast<std::string>();
    if (s == "nndsvd") return nmf_init::nndsvd;
    if (s == "nndsvda") return nmf_init::nndsvda;
    if (s == "random") return nmf_init::random;
    if (s == "given") return nmf_init::given;
    throw invalid_argument(std::string(who) + ": init must be 'nndsvd', 'nndsvda', 'random' or 'given', found '" + s + "'");
}

/// A 2-D float64 array argument (initial_W / initial_H) as a matrix.
matrix as_matrix(py::handle obj, const char* who, const char* what) {
    const auto A = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(obj);
    if (!A) throw py::error_already_set();
    if (A.ndim() != 2)
        throw invalid_argument(std::string(who) + ": " + what + " must be a 2-D array, found " + std::to_string(A.ndim()) +
                               " dimensions");
    return matrix(A.shape(0), A.shape(1), std::vector<double>(A.data(), A.data() + A.size()));
}

/// A dense input copied into the library's owning matrix (nmf takes basic_matrix<T>).
template <class T>
basic_matrix<T> dense_matrix(const dense_input& in) {
    const auto v = in.view<T>();
    return basic_matrix<T>(v.shape()[0], v.shape()[1], std::vector<T>(v.data(), v.data() + v.size()));
}

/// A mask for a dense X, any numeric dtype (or a scipy.sparse pattern, made dense), as T.
template <class T>
basic_matrix<T> dense_mask(py::handle mask, index_t m, index_t n) {
    py::object M = is_scipy_sparse(mask) ? py::reinterpret_borrow<py::object>(mask).attr("toarray")()
                                         : py::reinterpret_borrow<py::object>(mask);
    const auto A = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(M);
    if (!A) throw py::error_already_set();
    if (A.ndim() != 2 || A.shape(0) != m || A.shape(1) != n)
        throw invalid_argument("nmf: mask has shape " + py::str(M.attr("shape")).cast<std::string>() +
                               " but X has shape " + shape_str(m, n) + "; expected the same shape");
    return basic_matrix<T>(m, n, std::vector<T>(A.data(), A.data() + A.size()));
}

template <class T>
basic_csr_matrix<T> sparse_mask(py::handle mask, index_t m, index_t n) {
    py::object M = is_scipy_sparse(mask) ? py::reinterpret_borrow<py::object>(mask)
                                         : py::module_::import("scipy.sparse").attr("csr_matrix")(mask);
    auto C = csr_from_scipy<T>(M, "nmf: mask");
    if (C.rows != m || C.cols != n)
        throw invalid_argument("nmf: mask has shape " + shape_str(C.rows, C.cols) + " but X has shape " +
                               shape_str(m, n) + "; expected the same shape");
    return C;
}

template <class Matrix>
auto run_with_mask(const Matrix& X, const std::optional<Matrix>& mask, const nmf_options& o) {
    py::gil_scoped_release release;
    return mask ? nmf(X, *mask, o) : nmf(X, o);
}

template <class T>
py_nmf_result nmf_dense(const dense_input& in, py::object mask, const nmf_options& o, const std::string& method) {
    const basic_matrix<T> X = dense_matrix<T>(in);
    std::optional<basic_matrix<T>> M;
    if (!mask.is_none()) M = dense_mask<T>(mask, X.rows(), X.cols());
    return to_python(run_with_mask(X, M, o), method);
}

template <class T>
py_nmf_result nmf_sparse(py::object X_obj, py::object mask, const nmf_options& o, const std::string& method) {
    const basic_csr_matrix<T> X = csr_from_scipy<T>(X_obj, "nmf: X");
    std::optional<basic_csr_matrix<T>> M;
    if (!mask.is_none()) M = sparse_mask<T>(mask, X.rows, X.cols);
    return to_python(run_with_mask(X, M, o), method);
}

double nonneg(double v, const char* what) {
    if (!(v >= 0) || !std::isfinite(v))
        throw invalid_argument(std::string("nmf: ") + what + " must be a finite number >= 0, found " + std::to_string(v));
    return v;
}

nmf_options make_options(index_t rank, const std::string& method, const std::string& loss, int max_iters, double tol,
                         double l1_W, double l1_H, double l2_W, double l2_H, py::object init, py::object initial_W,
                         py::object initial_H, std::uint64_t seed, int threads, int compute_error_every,
                         int inner_iters, bool unstored_missing, const char* who) {
    nmf_options o;
    o.rank = rank;
    o.method = parse_method(method);
    o.loss = parse_loss(loss);
    o.max_iters = max_iters;
    o.tol = nonneg(tol, "tol");
    o.l1_W = nonneg(l1_W, "l1_W");
    o.l1_H = nonneg(l1_H, "l1_H");
    o.l2_W = nonneg(l2_W, "l2_W");
    o.l2_H = nonneg(l2_H, "l2_H");
    if (initial_W.is_none() != initial_H.is_none())
        throw invalid_argument(std::string(who) + ": initial_W and initial_H go together; pass both or neither");
    o.init = parse_init(init, !initial_W.is_none(), who);
    if (!initial_W.is_none()) {
        if (o.init != nmf_init::given)
            throw invalid_argument(std::string(who) + ": initial_W/initial_H are used with init='given' (or init=None)");
        o.initial_W = as_matrix(initial_W, who, "initial_W");
        o.initial_H = as_matrix(initial_H, who, "initial_H");
    } else if (o.init == nmf_init::given) {
        throw invalid_argument(std::string(who) + ": init='given' needs initial_W= and initial_H=");
    }
    o.seed = seed;
    o.threads = threads;
    o.compute_error_every = compute_error_every;
    o.inner_iters = inner_iters;
    o.unstored_missing = unstored_missing;
    return o;
}

py_nmf_result run_nmf(py::object X, index_t rank, const std::string& method, const std::string& loss, int max_iters,
                      double tol, double l1_W, double l1_H, double l2_W, double l2_H, py::object init,
                      py::object initial_W, py::object initial_H, py::object mask, bool unstored_missing,
                      std::uint64_t seed, int threads, int compute_error_every, int inner_iters,
                      py::object on_iteration, bool progress) {
    const char* who = "nmf";
    nmf_options o = make_options(rank, method, loss, max_iters, tol, l1_W, l1_H, l2_W, l2_H, init, initial_W,
                                 initial_H, seed, threads, compute_error_every, inner_iters, unstored_missing, who);
    if (!on_iteration.is_none() && !PyCallable_Check(on_iteration.ptr()))
        throw invalid_argument("nmf: on_iteration must be callable");
    std::optional<py::error_already_set> pending;
    o.on_iteration = python_iteration_callback<nmf_iteration>(
        on_iteration, progress,
        [method](const nmf_iteration& it) {
            return format_line("nmf %s iter %4d  rel_error %.6e  change %.3e  %.3fs\n", method.c_str(), it.iter,
                               it.rel_error, it.change, it.seconds);
        },
        pending);

    py_nmf_result r;
    if (is_scipy_sparse(X)) {
        r = scipy_is_float32(X) ? nmf_sparse<float>(X, mask, o, method) : nmf_sparse<double>(X, mask, o, method);
    } else {
        if (unstored_missing)
            throw invalid_argument("nmf: unstored_missing applies to scipy.sparse input; for a dense X pass mask=");
        // Copied once into the library's matrix anyway: Fortran order is read in C order here.
        const dense_input in = as_dense(X, who, false);
        if (in.shape.size() != 2)
            throw invalid_argument("nmf: expected a 2-D array (a matrix), found " + std::to_string(in.shape.size()) +
                                   " dimensions");
        r = in.single ? nmf_dense<float>(in, mask, o, method) : nmf_dense<double>(in, mask, o, method);
    }
    if (pending) throw *pending;
    return r;
}

py::tuple run_nmf_initialize(py::object X, index_t rank, py::object init, std::uint64_t seed) {
    const char* who = "nmf_initialize";
    nmf_options o;
    o.rank = rank;
    o.init = parse_init(init, false, who);
    if (o.init == nmf_init::given)
        throw invalid_argument("nmf_initialize: init must be 'nndsvd', 'nndsvda' or 'random' (given is the identity)");
    o.seed = seed;
    // The start is computed with the GIL released, then handed to NumPy without a copy.
    auto compute = [&o](const auto& A) {
        auto f = [&] {
            py::gil_scoped_release release;
            return nmf_initialize(A, o);
        }();
        return py::make_tuple(to_numpy(std::move(f.W)), to_numpy(std::move(f.H)));
    };
    if (is_scipy_sparse(X)) {
        if (scipy_is_float32(X)) return compute(csr_from_scipy<float>(X, "nmf_initialize: X"));
        return compute(csr_from_scipy<double>(X, "nmf_initialize: X"));
    }
    const dense_input in = as_dense(X, who, false);
    if (in.shape.size() != 2)
        throw invalid_argument("nmf_initialize: expected a 2-D array (a matrix), found " +
                               std::to_string(in.shape.size()) + " dimensions");
    return in.single ? compute(dense_matrix<float>(in)) : compute(dense_matrix<double>(in));
}

}  // namespace

void bind_nmf(py::module_& m) {
    py::class_<nmf_iteration>(m, "nmf_iteration", "One NMF iteration (W, then H updated), as reported to on_iteration.")
        .def_readonly("iter", &nmf_iteration::iter, "1-based")
        .def_readonly("rel_error", &nmf_iteration::rel_error,
                      "||M .* (X - WH)||_F / ||M .* X||_F (M: observed entries); NaN when not computed")
        .def_readonly("divergence", &nmf_iteration::divergence, "KL loss: D(X || WH) over the observed entries; else 0")
        .def_readonly("change", &nmf_iteration::change,
                      "change of the stopping quantity since the last computed error; NaN when not computed")
        .def_readonly("seconds", &nmf_iteration::seconds, "wall time of the iteration")
        .def("__repr__", [](const nmf_iteration& it) {
            char s[200];
            std::snprintf(s, sizeof s, "nmf_iteration(iter=%d, rel_error=%.17g, divergence=%.17g, change=%.17g, seconds=%.6g)",
                          it.iter, it.rel_error, it.divergence, it.change, it.seconds);
            return std::string(s);
        });

    py::class_<py_nmf_result>(m, "nmf_result", "Result of facto.nmf (not converging is a result, not an error).")
        .def_readonly("W", &py_nmf_result::W, "m x k, nonnegative (float32 for float32 input)")
        .def_readonly("H", &py_nmf_result::H, "k x n, nonnegative: X ~= W @ H")
        .def_readonly("method", &py_nmf_result::method, "'hals', 'mu' or 'anls'")
        .def_readonly("rel_error", &py_nmf_result::rel_error, "final ||M .* (X - WH)||_F / ||M .* X||_F")
        .def_readonly("divergence", &py_nmf_result::divergence, "final KL divergence (loss='kl' only, else 0)")
        .def_readonly("iters", &py_nmf_result::iters, "iterations done")
        .def_readonly("converged", &py_nmf_result::converged, "the change fell below tol")
        .def_readonly("interrupted", &py_nmf_result::interrupted, "on_iteration asked to stop")
        .def_readonly("history", &py_nmf_result::history, "list of nmf_iteration, one per iteration")
        .def_readonly("seconds", &py_nmf_result::seconds, "total wall time, set-up included")
        .def_readonly("setup_seconds", &py_nmf_result::setup_seconds, "before the first iteration (initialization)")
        .def("__repr__", [](const py_nmf_result& r) {
            char s[240];
            std::snprintf(s, sizeof s,
                          "nmf_result(method='%s', rank=%lld, rel_error=%.6g, iters=%d, converged=%s, interrupted=%s)",
                          r.method.c_str(), static_cast<long long>(r.W.ndim() == 2 ? r.W.shape(1) : 0), r.rel_error,
                          r.iters, r.converged ? "True" : "False", r.interrupted ? "True" : "False");
            return std::string(s);
        });

    m.def("nmf", &run_nmf, py::arg("X"), py::arg("rank") = 10, py::kw_only(), py::arg("method") = "hals",
          py::arg("loss") = "frobenius", py::arg("max_iters") = 200, py::arg("tol") = 1e-4, py::arg("l1_W") = 0.0,
          py::arg("l1_H") = 0.0, py::arg("l2_W") = 0.0, py::arg("l2_H") = 0.0, py::arg("init") = py::none(),
          py::arg("initial_W") = py::none(), py::arg("initial_H") = py::none(), py::arg("mask") = py::none(),
          py::arg("unstored_missing") = false, py::arg("seed") = 0, py::arg("threads") = 0,
          py::arg("compute_error_every") = 1, py::arg("inner_iters") = 0, py::arg("on_iteration") = py::none(),
          py::arg("progress") = false,
          R"doc(Nonnegative matrix factorization X ~= W @ H, W (m x k) and H (k x n) nonnegative.

X: a nonnegative dense 2-D array (float32 stays float32; other dtypes are computed in float64;
copied once into the library's matrix) or a scipy.sparse matrix (CSR copy, never made dense;
float32 data stays float32). Minimizes over the observed entries the loss plus
l1_W |W|_1 + l2_W/2 ||W||_F^2 + l1_H |H|_1 + l2_H/2 ||H||_F^2.
The keyword arguments are the fields of the C++ nmf_options:
  rank                k >= 1 (at most min(m, n) for the NNDSVD starts)
  method              'hals' (fast HALS, accelerated), 'mu' (multiplicative updates) or
                      'anls' (alternating NNLS by block principal pivoting)
  loss                'frobenius' (every method) or 'kl' (generalized Kullback-Leibler, mu only)
  max_iters           iterations at most (>= 1)
  tol                 stop when the change of the relative error (KL: relative change of the
                      divergence) falls below tol; 0 runs max_iters
  l1_W, l1_H, l2_W, l2_H  penalties (>= 0)
  init                'nndsvda' (default), 'nndsvd', 'random' or 'given' (the default when
                      initial_W/initial_H are passed)
  initial_W, initial_H  nonnegative m x k and k x n starting factors (init='given')
  mask                observed entries (nonzero) of X, same shape; the others are missing
                      (weighted NMF, matrix completion). Dense X: an array; sparse X: a
                      scipy.sparse pattern (a dense mask is converted)
  unstored_missing    sparse X without a mask: entries not stored are missing, not zeros
  seed                random start and the randomized SVD behind NNDSVD: same seed, same result
  threads             OpenMP/BLAS threads; 0 keeps the current setting
  compute_error_every compute the error every this many iterations (and at the last)
  inner_iters         hals: sweeps per update (0: accelerated HALS, automatic; 1: plain HALS)
  on_iteration        called with an nmf_iteration after every iteration; returning False stops
                      the run, which returns the last iteration's factors with interrupted=True
  progress            print one line per iteration to sys.stderr
The GIL is released while computing. Ctrl-C (checked after every iteration) raises
KeyboardInterrupt; an exception raised by on_iteration stops the run and propagates.
Raises ValueError for a bad option, negative, NaN or infinite entries, an all-zero X, a mask
or initial factors of the wrong shape, or loss='kl' with a method other than 'mu'.)doc");

    m.def("nmf_initialize", &run_nmf_initialize, py::arg("X"), py::arg("rank") = 10, py::kw_only(),
          py::arg("init") = "nndsvda", py::arg("seed") = 0,
          R"doc(The starting factors (W, H) that facto.nmf computes for init, without iterating.

X as for facto.nmf; init 'nndsvda' (NNDSVD with zeros filled by mean(X)), 'nndsvd' (Boutsidis &
Gallopoulos, from a seeded randomized SVD) or 'random' (sqrt(mean(X)/k) |N(0, 1)|).
Returns W (m x k) and H (k x n), nonnegative. Raises ValueError as facto.nmf does.)doc");
}

}  // namespace facto::python
