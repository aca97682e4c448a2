// python/src/cp.cpp: bindings of facto/decomp/cp: cp_als and cp_hals with the GIL released,
// Ctrl-C and a progress callback through cp_options::on_iteration.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <cstdio>
#include <optional>
#include <string>

#include "bind.hpp"
#include "callback.hpp"
#include "convert.hpp"
#include "facto/core/error.hpp"
#include "facto/decomp/cp.hpp"

namespace facto::python {

namespace {

cp_init parse_init(py::object init, bool have_initial, const char* who) {
    if (init.is_none()) return have_initial ? cp_init::given : cp_init::random;
    if (py::isinstance<cp_init>(init)) return init.cast<cp_init>();
    if (py::isinstance<py::str>(init)) {
        const auto s = init.cast<std::string>();
        if (s == "random") return cp_init::random;
        if (s == "svd") return cp_init::svd;
        if (s == "given") return cp_init::given;
        throw invalid_argument(std::string(who) + ": init must be 'random', 'svd' or 'given', found '" + s + "'");
    }
    throw invalid_argument(std::string(who) + ": init must be a string or facto.cp_init");
}

csf_policy parse_csf(py::object csf, const char* who) {
    if (py::isinstance<csf_policy>(csf)) return csf.cast<csf_policy>();
    const auto s = py::str(csf).cast<std::string>();
    if (s == "one") return csf_policy::one;
    if (s == "all") return csf_policy::all;
    throw invalid_argument(std::string(who) + ": csf must be 'one' or 'all', found '" + s + "'");
}

/// One CP run from Python: converts the input, runs with the GIL released, and turns a
/// pending Python exception (Ctrl-C, or one raised by the callback) into the call's exception.
cp_result run_cp(bool hals, py::object X, index_t rank, int max_iters, double tol, std::uint64_t seed,
                 py::object init, py::object initial, int threads, py::object csf, py::object on_iteration,
                 bool progress) {
    const char* who = hals ? "cp_hals" : "cp_als";
    cp_options o;
    o.rank = rank;
    o.max_iters = max_iters;
    o.tol = tol;
    o.seed = seed;
    o.threads = threads;
    o.csf = parse_csf(csf, who);
    o.init = parse_init(init, !initial.is_none(), who);
    if (!initial.is_none()) o.initial = as_kruskal(initial, who);
    if (o.init == cp_init::given && !o.initial)
        throw invalid_argument(std::string(who) + ": init='given' needs initial= (a kruskal_tensor or a list of factors)");
    if (!on_iteration.is_none() && !PyCallable_Check(on_iteration.ptr()))
        throw invalid_argument(std::string(who) + ": on_iteration must be callable");

    // Called between iterations on the calling thread, outside parallel regions, with the GIL
    // released: take it back to look for Ctrl-C and to call the user's function.
    std::optional<py::error_already_set> pending;
    o.on_iteration = python_iteration_callback<cp_iteration>(
        on_iteration, progress,
        [who](const cp_iteration& it) {
            return format_line("%s iter %4d  fit %.6f  change %.3e  %.3fs\n", who, it.iter, it.fit, it.change,
                               it.seconds);
        },
        pending);

    cp_result r;
    if (py::isinstance<csf_set>(X)) {
        const auto& S = X.cast<const csf_set&>();
        py::gil_scoped_release release;
        r = hals ? cp_hals(S, o) : cp_als(S, o);
    } else if (py::isinstance<coo_tensor>(X)) {
        const auto& C = X.cast<const coo_tensor&>();
        py::gil_scoped_release release;
        r = hals ? cp_hals(C, o) : cp_als(C, o);
    } else if (is_scipy_sparse(X)) {
        const coo_tensor C = coo_from_scipy(X);
        py::gil_scoped_release release;
        r = hals ? cp_hals(C, o) : cp_als(C, o);
    } else {
        const dense_input in = as_dense(X, who);
        // A Fortran-order array is decomposed as its C-order transpose: factors in reverse order.
        if (in.reversed && o.initial) std::reverse(o.initial->factors.begin(), o.initial->factors.end());
        {
            py::gil_scoped_release release;
            if (in.single) r = hals ? cp_hals(in.view<float>(), o) : cp_als(in.view<float>(), o);
            else r = hals ? cp_hals(in.view<double>(), o) : cp_als(in.view<double>(), o);
        }
        if (in.reversed) std::reverse(r.model.factors.begin(), r.model.factors.end());
    }
    if (pending) throw *pending;
    return r;
}

constexpr const char* cp_doc = R"doc(
X: a dense NumPy array (float64 or float32 used in place in C or Fortran order; other dtypes
and strided views are copied to float64), a coo_tensor, a csf_set or a scipy.sparse matrix.
The keyword arguments are the fields of the C++ cp_options:
  rank          number of components (>= 1)
  max_iters     iterations at most (>= 1)
  tol           stop when the change in fit falls below tol
  seed          same seed (and thread count), same result
  init          'random' (uniform [0,1) from the seed), 'svd' (leading singular vectors) or
                'given' (the default when initial is passed); also facto.cp_init
  initial       starting factors: a kruskal_tensor or a list of (dim x rank) arrays
  threads       OpenMP threads; 0 keeps the current setting
  csf           'all' or 'one': CSF copies kept for sparse input (speed vs memory)
  on_iteration  called with a cp_iteration after every iteration; returning False stops the
                run, which then returns the last model with interrupted=True
  progress      print one line per iteration to sys.stderr
The GIL is released while computing. Ctrl-C (checked after every iteration) raises
KeyboardInterrupt; an exception raised by on_iteration stops the run and propagates.
A Fortran-order array is decomposed without a copy as its transpose (C order), with the factors
returned in the caller's mode order; the random start then differs from that of the same data in
C order, so the same seed gives a different (equally valid) model.
Raises ValueError for a bad rank, an input with fewer than 2 modes, an all-zero tensor or
initial factors that do not fit.)doc";

}  // namespace

void bind_cp(py::module_& m) {
    py::enum_<cp_init>(m, "cp_init", "How CP starts.")
        .value("random", cp_init::random, "uniform [0, 1) entries from the seed")
        .value("svd", cp_init::svd, "leading left singular vectors of each unfolding")
        .value("given", cp_init::given, "the initial factors");

    py::class_<cp_iteration>(m, "cp_iteration", "One sweep over all modes, as reported to on_iteration.")
        .def_readonly("iter", &cp_iteration::iter, "1-based")
        .def_readonly("fit", &cp_iteration::fit, "1 - ||X - M|| / ||X||")
        .def_readonly("change", &cp_iteration::change, "|fit - previous fit|")
        .def_readonly("seconds", &cp_iteration::seconds, "wall time of this iteration")
        .def("__repr__", [](const cp_iteration& it) {
            char s[160];
            std::snprintf(s, sizeof s, "cp_iteration(iter=%d, fit=%.17g, change=%.17g, seconds=%.6g)", it.iter, it.fit,
                          it.change, it.seconds);
            return std::string(s);
        });

    py::class_<cp_result>(m, "cp_result", "Result of a CP decomposition (not converging is a result, not an error).")
        .def_readonly("model", &cp_result::model, "kruskal_tensor: columns normalized, weights sorted decreasing")
        .def_readonly("fit", &cp_result::fit, "final 1 - ||X - M|| / ||X||")
        .def_readonly("iters", &cp_result::iters)
        .def_readonly("converged", &cp_result::converged, "the change in fit fell below tol")
        .def_readonly("interrupted", &cp_result::interrupted, "on_iteration asked to stop")
        .def_readonly("pinv_fallbacks", &cp_result::pinv_fallbacks,
                      "solves that fell back from Cholesky to the pseudo-inverse")
        .def_readonly("fit_uncertainty", &cp_result::fit_uncertainty,
                      "bound on the rounding error of fit (degenerate runs; dense input recomputes it)")
        .def_readonly("history", &cp_result::history, "list of cp_iteration")
        .def_readonly("seconds", &cp_result::seconds, "total, including set-up")
        .def_readonly("setup_seconds", &cp_result::setup_seconds)
        .def("__repr__", [](const cp_result& r) {
            char s[200];
            std::snprintf(s, sizeof s, "cp_result(fit=%.6f, iters=%d, converged=%s, interrupted=%s, rank=%lld)", r.fit,
                          r.iters, r.converged ? "True" : "False", r.interrupted ? "True" : "False",
                          static_cast<long long>(r.model.rank()));
            return std::string(s);
        });

    for (const bool hals : {false, true}) {
        const std::string doc = std::string(hals ? "Nonnegative CP by hierarchical ALS (HALS): nonnegative factors.\n"
                                                 : "CP decomposition by alternating least squares.\n") + cp_doc;
        m.def(hals ? "cp_hals" : "cp_als",
              [hals](py::object X, index_t rank, int max_iters, double tol, std::uint64_t seed, py::object init,
                     py::object initial, int threads, py::object csf, py::object on_iteration, bool progress) {
                  return run_cp(hals, X, rank, max_iters, tol, seed, init, initial, threads, csf, on_iteration,
                                progress);
              },
              py::arg("X"), py::arg("rank") = 10, py::kw_only(), py::arg("max_iters") = 100, py::arg("tol") = 1e-6,
              py::arg("seed") = 0, py::arg("init") = py::none(), py::arg("initial") = py::none(),
              py::arg("threads") = 0, py::arg("csf") = "all", py::arg("on_iteration") = py::none(),
              py::arg("progress") = false, doc.c_str());
    }
}

}  // namespace facto::python
