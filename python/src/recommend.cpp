// python/src/recommend.cpp: bindings of facto/recommend/{ratings,als,metrics}: ratings tables
// (from arrays or files, string ids kept), splits, explicit ALS/SGD, implicit ALS, BPR, top-k,
// similar items, fold-in and the rating and ranking metrics. Training and top-k run with the
// GIL released; the numerics are the library's, nothing is re-implemented here.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "bind.hpp"
#include "callback.hpp"
#include "convert.hpp"
#include "facto/core/error.hpp"
#include "facto/recommend/als.hpp"
#include "facto/recommend/metrics.hpp"
#include "facto/recommend/ratings.hpp"

namespace facto::python {

namespace {

std::string type_name(py::handle h) { return py::str(py::type::of(h).attr("__name__")).cast<std::string>(); }

/// An integer array-like (list, NumPy integer array, scalar) as indices; TypeError for floats
/// and other dtypes (a float index is more likely a mistake than an id).
std::vector<index_t> index_vector(py::handle obj, const std::string& who, const char* what) {
    py::array a = py::array::ensure(obj);
    if (!a) {
        PyErr_Clear();
        throw py::type_error(who + ": " + what + " must be an array of integers, found " + type_name(obj));
    }
    const char kind = a.dtype().kind();
    if (a.size() > 0 && kind != 'i' && kind != 'u')
        throw py::type_error(who + ": " + what + " must be integers, found dtype " + py::str(a.dtype()).cast<std::string>());
    const auto c = py::array_t<index_t, py::array::c_style | py::array::forcecast>::ensure(a);
    if (!c) throw py::error_already_set();
    return std::vector<index_t>(c.data(), c.data() + c.size());
}

std::vector<double> double_vector(py::handle obj, const std::string& who, const char* what) {
    const auto c = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(obj);
    if (!c) {
        PyErr_Clear();
        throw py::type_error(who + ": " + what + " must be an array of numbers, found " + type_name(obj));
    }
    return std::vector<double>(c.data(), c.data() + c.size());
}

template <class T>
py::array_t<T> vector_copy(const std::vector<T>& v) {
    return frozen_copy(v.data(), shape_t{static_cast<index_t>(v.size())});
}

py::array_t<index_t> index_array(std::vector<index_t>&& v) {
    const auto n = static_cast<index_t>(v.size());
    return to_numpy(std::move(v), shape_t{n});
}

// ---------------------------------------------------------------------------------------------
// Ratings tables

/// True for a NumPy array / list whose entries are ids (strings, objects), not indices.
bool holds_ids(const py::array& a) {
    const char kind = a.dtype().kind();
    return kind == 'U' || kind == 'S' || kind == 'O';
}

/// One id column: integer indices (used as they are, ids "0".."n-1") or string ids (numbered
/// in order of first appearance, as the file readers do).
std::vector<index_t> id_column(py::handle obj, id_map& ids, py::object count, const char* what) {
    const std::string who = "ratings_table";
    py::array a = py::array::ensure(obj);
    if (!a) {
        PyErr_Clear();
        throw py::type_error(who + ": " + what + " must be an array of integer indices or string ids, found " +
                             type_name(obj));
    }
    if (a.ndim() != 1) throw invalid_argument(who + ": " + what + " must be 1-D, found " + std::to_string(a.ndim()) + " dimensions");
    std::vector<index_t> out;
    if (holds_ids(a)) {
        if (!count.is_none())
            throw invalid_argument(who + ": num_users/num_items apply to integer indices, not to string ids");
        out.reserve(static_cast<std::size_t>(a.size()));
        for (py::handle x : a) out.push_back(ids.insert(py::str(x).cast<std::string>()));
        return out;
    }
    out = index_vector(a, who, what);
    index_t n = 0;
    for (std::size_t t = 0; t < out.size(); ++t) {
        if (out[t] < 0)
            throw invalid_argument(who + ": " + what + "[" + std::to_string(t) + "] = " + std::to_string(out[t]) +
                                   " is negative; expected indices >= 0");
        n = std::max(n, out[t] + 1);
    }
    if (!count.is_none()) {
        const auto c = count.cast<index_t>();
        if (c < 0)
            throw invalid_argument(who + ": num_" + what + "s must be >= 0, found " + std::to_string(c));
        for (std::size_t t = 0; t < out.size(); ++t)
            if (out[t] >= c)
                throw invalid_argument(who + ": " + what + "[" + std::to_string(t) + "] = " + std::to_string(out[t]) +
                                       " is out of range for " + std::to_string(c) + " (expected 0.." +
                                       std::to_string(c - 1) + ")");
        n = c;
    }
    for (index_t i = 0; i < n; ++i) ids.insert(std::to_string(i));
    return out;
}

ratings_table table_from_arrays(py::object user, py::object item, py::object value, py::object time,
                                py::object num_users, py::object num_items) {
    const std::string who = "ratings_table";
    ratings_table R;
    R.user = id_column(user, R.users, num_users, "user");
    R.item = id_column(item, R.items, num_items, "item");
    const std::size_t n = R.user.size();
    if (R.item.size() != n)
        throw invalid_argument(who + ": " + std::to_string(n) + " users but " + std::to_string(R.item.size()) +
                               " items; expected one of each per rating");
    if (value.is_none()) {
        R.value.assign(n, 1.0);  // implicit feedback, as the two-column files
    } else {
        R.value = double_vector(value, who, "value");
        if (R.value.size() != n)
            throw invalid_argument(who + ": " + std::to_string(R.value.size()) + " values for " + std::to_string(n) +
                                   " ratings");
        for (std::size_t t = 0; t < n; ++t)
            if (!std::isfinite(R.value[t]))
                throw invalid_argument(who + ": value[" + std::to_string(t) + "] is not finite");
    }
    if (!time.is_none()) {
        const auto t = index_vector(time, who, "time");
        if (t.size() != n)
            throw invalid_argument(who + ": " + std::to_string(t.size()) + " timestamps for " + std::to_string(n) +
                                   " ratings");
        R.time.assign(t.begin(), t.end());
    }
    R.validate("ratings_table");
    return R;
}

duplicate_policy parse_dup(const std::string& s, const char* who) {
    if (s == "mean") return duplicate_policy::mean;
    if (s == "sum") return duplicate_policy::sum;
    if (s == "last") return duplicate_policy::last;
    throw invalid_argument(std::string(who) + ": duplicates must be 'mean', 'sum' or 'last', found '" + s + "'");
}

ratings_read_options read_options(const std::string& format, int header, std::string user_column,
                                  std::string item_column, std::string rating_column, std::string time_column) {
    ratings_read_options o;
    if (format == "detect") o.format = ratings_format::detect;
    else if (format == "movielens") o.format = ratings_format::movielens;
    else if (format == "tab") o.format = ratings_format::tab;
    else if (format == "csv") o.format = ratings_format::csv;
    else throw invalid_argument("read_ratings: format must be 'detect', 'movielens', 'tab' or 'csv', found '" + format + "'");
    if (header < -1 || header > 1) throw invalid_argument("read_ratings: header must be -1 (detect), 0 or 1");
    o.header = header;
    o.user_column = std::move(user_column);
    o.item_column = std::move(item_column);
    o.rating_column = std::move(rating_column);
    o.time_column = std::move(time_column);
    return o;
}

py::tuple split_tuple(ratings_split&& s) {
    return py::make_tuple(index_array(std::move(s.train)), index_array(std::move(s.test)));
}

// ---------------------------------------------------------------------------------------------
// Models

/// A users x items matrix argument: a ratings_table (duplicates combined by dup) or a
/// scipy.sparse matrix.
csr_matrix as_ratings(py::handle R, duplicate_policy dup, const char* who) {
    if (py::isinstance<ratings_table>(R)) {
        const auto& T = R.cast<const ratings_table&>();
        py::gil_scoped_release release;
        return to_csr(T, false, dup);
    }
    if (is_scipy_sparse(R)) return csr_from_scipy<double>(R, who);
    throw py::type_error(std::string(who) + ": expected a ratings_table or a scipy.sparse matrix (users x items), found " +
                         type_name(R));
}

mf_model model_from_arrays(py::object user_factors, py::object item_factors, py::object user_bias,
                           py::object item_bias, double global_mean, bool implicit, double reg, double bias_reg,
                           double reg_exponent, double alpha) {
    const char* who = "mf_model";
    auto mat = [&](py::object o, const char* what) {
        const auto A = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(o);
        if (!A) throw py::error_already_set();
        if (A.ndim() != 2)
            throw invalid_argument(std::string(who) + ": " + what + " must be 2-D (rows x rank), found " +
                                   std::to_string(A.ndim()) + " dimensions");
        return matrix(A.shape(0), A.shape(1), std::vector<double>(A.data(), A.data() + A.size()));
    };
    mf_model m;
    m.user_factors = mat(user_factors, "user_factors");
    m.item_factors = mat(item_factors, "item_factors");
    if (m.user_factors.cols() != m.item_factors.cols())
        throw invalid_argument(std::string(who) + ": user_factors have rank " + std::to_string(m.user_factors.cols()) +
                               " but item_factors " + std::to_string(m.item_factors.cols()));
    if (!user_bias.is_none()) m.user_bias = double_vector(user_bias, who, "user_bias");
    if (!item_bias.is_none()) m.item_bias = double_vector(item_bias, who, "item_bias");
    if (!m.user_bias.empty() && static_cast<index_t>(m.user_bias.size()) != m.num_users())
        throw invalid_argument(std::string(who) + ": " + std::to_string(m.user_bias.size()) + " user biases for " +
                               std::to_string(m.num_users()) + " users");
    if (!m.item_bias.empty() && static_cast<index_t>(m.item_bias.size()) != m.num_items())
        throw invalid_argument(std::string(who) + ": " + std::to_string(m.item_bias.size()) + " item biases for " +
                               std::to_string(m.num_items()) + " items");
    m.global_mean = global_mean;
    m.implicit = implicit;
    m.weights = {reg, bias_reg, reg_exponent, alpha};
    return m;
}

void check_range(index_t v, index_t n, const char* who, const char* what, std::size_t pos) {
    if (v < 0 || v >= n)
        throw py::index_error(std::string(who) + ": " + what + "[" + std::to_string(pos) + "] = " + std::to_string(v) +
                              " outside 0.." + std::to_string(n - 1));
}

/// model.predict(user, item): scalars give a float, arrays an array of the broadcast shape.
py::object model_predict(const mf_model& m, py::object user, py::object item) {
    const char* who = "mf_model.predict";
    py::object np = py::module_::import("numpy");
    py::tuple b = np.attr("broadcast_arrays")(np.attr("asarray")(user), np.attr("asarray")(item));
    const auto U = b[0].cast<py::array>(), I = b[1].cast<py::array>();
    const auto us = index_vector(U, who, "user"), is = index_vector(I, who, "item");
    std::vector<double> out(us.size());
    for (std::size_t t = 0; t < us.size(); ++t) {
        check_range(us[t], m.num_users(), who, "user", t);
        check_range(is[t], m.num_items(), who, "item", t);
        out[t] = m.predict(us[t], is[t]);
    }
    if (U.ndim() == 0) return py::float_(out[0]);
    shape_t shape;
    for (py::ssize_t k = 0; k < U.ndim(); ++k) shape.push_back(U.shape(k));
    return to_numpy(std::move(out), shape);
}

implicit_solver parse_solver(const std::string& s) {
    if (s == "cg") return implicit_solver::cg;
    if (s == "cholesky") return implicit_solver::cholesky;
    throw invalid_argument("als_implicit: solver must be 'cg' or 'cholesky', found '" + s + "'");
}

mf_result run_mf(mf_method method, py::object R_obj, index_t rank, int max_iters, double reg, double bias_reg,
                 bool biases, bool center, double reg_exponent, double tol, std::uint64_t seed, int threads,
                 double init_scale, bool svd_start, double learning_rate, double lr_decay, int sgd_blocks,
                 double alpha, const std::string& solver, int cg_steps, py::object validation,
                 py::object on_iteration, bool progress) {
    const char* who = mf_method_name(method);
    const bool implicit = method == mf_method::als_implicit || method == mf_method::bpr;
    // As the CLI: repeated pairs are averaged for ratings, summed for interaction counts.
    const duplicate_policy dup = implicit ? duplicate_policy::sum : duplicate_policy::mean;
    const csr_matrix R = as_ratings(R_obj, dup, who);
    mf_options o;
    o.rank = rank;
    o.max_iters = max_iters;
    o.reg = reg;
    o.bias_reg = bias_reg;
    o.biases = biases;
    o.center = center;
    o.reg_exponent = reg_exponent;
    o.tol = tol;
    o.seed = seed;
    o.threads = threads;
    o.init_scale = init_scale;
    o.svd_start = svd_start;
    o.learning_rate = learning_rate;
    o.lr_decay = lr_decay;
    o.sgd_blocks = sgd_blocks;
    o.alpha = alpha;
    o.solver = parse_solver(solver);
    o.cg_steps = cg_steps;
    std::optional<csr_matrix> val;
    if (!validation.is_none()) {
        if (implicit)
            throw invalid_argument(std::string(who) + ": validation (held-out RMSE) applies to explicit models; use "
                                   "evaluate_ranking after training");
        val = as_ratings(validation, dup, who);
        o.validation = &*val;
    }
    if (!on_iteration.is_none() && !PyCallable_Check(on_iteration.ptr()))
        throw invalid_argument(std::string(who) + ": on_iteration must be callable");
    std::optional<py::error_already_set> pending;
    o.on_iteration = python_iteration_callback<mf_iteration>(
        on_iteration, progress,
        [who](const mf_iteration& it) {
            return format_line("%s iter %4d  objective %.6e  train_rmse %.4f  test_rmse %.4f  %.3fs\n", who, it.iter,
                               it.objective, it.train_rmse, it.test_rmse, it.seconds);
        },
        pending);
    mf_result r;
    {
        py::gil_scoped_release release;
        r = fit(method, R, o);
    }
    if (pending) throw *pending;
    return r;
}

// The model's weights (those of its fit), with the ones given in place of them.
mf_weights fold_weights(const mf_model& md, std::optional<double> reg, std::optional<double> bias_reg,
                        std::optional<double> reg_exponent, std::optional<double> alpha) {
    mf_weights w = md.weights;
    w.reg = reg.value_or(w.reg);
    w.bias_reg = bias_reg.value_or(w.bias_reg);
    w.reg_exponent = reg_exponent.value_or(w.reg_exponent);
    w.alpha = alpha.value_or(w.alpha);
    return w;
}

/// topk_lists with items and scores as rows x k arrays.
struct py_topk {
    index_t k = 0;
    py::array items, scores;
};

py_topk to_python(topk_lists&& t) {
    py_topk out;
    out.k = t.k;
    const index_t rows = t.rows();
    out.items = to_numpy(std::move(t.items), shape_t{rows, t.k});
    out.scores = to_numpy(std::move(t.scores), shape_t{rows, t.k});
    return out;
}

void check_k(index_t k, const char* who) {
    if (k < 1) throw invalid_argument(std::string(who) + ": k must be >= 1, found " + std::to_string(k));
}

/// The relevant items of the per-user metrics, sorted as the library expects.
std::vector<index_t> sorted_relevant(py::handle relevant, const char* who) {
    auto v = index_vector(relevant, who, "relevant");
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

template <class F>
void def_rank_metric(py::module_& m, const char* name, F f, const char* doc) {
    m.def(
        name,
        [f, name](py::object ranked, py::object relevant, index_t k) {
            check_k(k, name);
            const auto r = index_vector(ranked, name, "ranked");
            const auto rel = sorted_relevant(relevant, name);
            return f(std::span<const index_t>(r), std::span<const index_t>(rel), k);
        },
        py::arg("ranked"), py::arg("relevant"), py::arg("k"), doc);
}

constexpr const char* mf_doc = R"doc(
R: a ratings_table (repeated (user, item) pairs averaged for explicit models, summed for
implicit ones) or a scipy.sparse matrix, users x items. The keyword arguments are the fields of
the C++ mf_options, shared by the four methods; each reads its own:
  rank           factors per user and item (>= 0; 0 with biases: the bias-only baseline)
  max_iters      sweeps (ALS) or epochs (SGD, BPR), >= 1
  reg            L2 weight of the factors; bias_reg: of the biases (explicit, BPR item biases)
  biases         explicit: fit the global mean, user and item biases
  center         explicit without biases: still predict global mean + p_u . q_i
  reg_exponent   explicit ALS: a row with n ratings has weight reg * n^reg_exponent
  tol            stop when the objective's relative decrease falls below tol (0: never)
  seed           initial factors, SGD order, BPR samples: same seed, same result
  threads        OpenMP threads; 0 keeps the current setting
  init_scale     standard deviation of the random initial factors
  svd_start      explicit ALS: item factors start from the leading singular vectors
  learning_rate, lr_decay   SGD and BPR step, multiplied by lr_decay after each epoch
  sgd_blocks     SGD: users and items cut into this many blocks each
  alpha          implicit ALS: confidence 1 + alpha r
  solver         implicit ALS: 'cg' (cg_steps conjugate-gradient steps) or 'cholesky'
  validation     explicit: held-out ratings (ratings_table or scipy.sparse, same indices) whose
                 RMSE is recorded in history after each sweep
  on_iteration   called with an mf_iteration after each sweep; returning False stops the run
                 (the result then has interrupted=True)
  progress       print one line per sweep to sys.stderr
The GIL is released while computing; Ctrl-C (checked after every sweep) raises KeyboardInterrupt.
Raises ValueError for a bad option or an empty R.)doc";

}  // namespace

void bind_recommend(py::module_& m) {
    // --- ratings tables and splits
    py::class_<ratings_table>(m, "ratings_table", R"doc(A table of ratings (user, item, value[, time]), one row per rating.
ratings_table(user, item, value=None, time=None, *, num_users=None, num_items=None): user and
item are integer indices (used as they are; ids "0".."n-1", n = num_users or the largest index + 1)
or string ids (numbered in order of first appearance, as read_ratings does); value None gives
every rating 1 (implicit feedback). Array attributes are read-only copies.)doc")
        .def(py::init(&table_from_arrays), py::arg("user"), py::arg("item"), py::arg("value") = py::none(),
             py::arg("time") = py::none(), py::kw_only(), py::arg("num_users") = py::none(),
             py::arg("num_items") = py::none())
        .def_property_readonly("user", [](const ratings_table& R) { return vector_copy(R.user); }, "user index per rating")
        .def_property_readonly("item", [](const ratings_table& R) { return vector_copy(R.item); }, "item index per rating")
        .def_property_readonly("value", [](const ratings_table& R) { return vector_copy(R.value); }, "rating values")
        .def_property_readonly("time", [](const ratings_table& R) { return vector_copy(R.time); },
                               "timestamps (empty without)")
        .def_property_readonly("users", [](const ratings_table& R) { return R.users.ids(); },
                               "original user ids (strings), by index")
        .def_property_readonly("items", [](const ratings_table& R) { return R.items.ids(); },
                               "original item ids (strings), by index")
        .def_property_readonly("size", &ratings_table::size, "number of ratings")
        .def_property_readonly("num_users", &ratings_table::num_users)
        .def_property_readonly("num_items", &ratings_table::num_items)
        .def_property_readonly("has_time", &ratings_table::has_time)
        .def("__len__", &ratings_table::size)
        .def(
            "user_index", [](const ratings_table& R, const std::string& id) { return R.users.find(id); }, py::arg("id"),
            "The index of a user id, -1 when absent.")
        .def(
            "item_index", [](const ratings_table& R, const std::string& id) { return R.items.find(id); }, py::arg("id"),
            "The index of an item id, -1 when absent.")
        .def(
            "user_id", [](const ratings_table& R, index_t i) { return R.users.id(i); }, py::arg("index"),
            "The original id of user index; IndexError outside the table.")
        .def(
            "item_id", [](const ratings_table& R, index_t i) { return R.items.id(i); }, py::arg("index"),
            "The original id of item index; IndexError outside the table.")
        .def(
            "subset",
            [](const ratings_table& R, py::object rows) {
                const auto v = index_vector(rows, "ratings_table.subset", "rows");
                for (std::size_t t = 0; t < v.size(); ++t) check_range(v[t], R.size(), "ratings_table.subset", "rows", t);
                return R.subset(v);
            },
            py::arg("rows"), "The rows listed, in that order, with the same ids (indices stay comparable).")
        .def(
            "to_csr",
            [](const ratings_table& R, bool transpose, const std::string& duplicates) {
                const duplicate_policy dup = parse_dup(duplicates, "ratings_table.to_csr");
                csr_matrix A;
                {
                    py::gil_scoped_release release;
                    A = to_csr(R, transpose, dup);
                }
                return csr_to_scipy(A);
            },
            py::arg("transpose") = false, py::arg("duplicates") = "mean",
            "users x items scipy.sparse.csr_matrix (items x users when transpose); repeated pairs combined by "
            "duplicates: 'mean', 'sum' or 'last'.")
        .def("__repr__", [](const ratings_table& R) {
            return "ratings_table(size=" + std::to_string(R.size()) + ", num_users=" + std::to_string(R.num_users()) +
                   ", num_items=" + std::to_string(R.num_items()) + ", has_time=" + (R.has_time() ? "True" : "False") + ")";
        });

    m.def(
        "read_ratings",
        [](const std::string& path, const std::string& format, int header, std::string user_column,
           std::string item_column, std::string rating_column, std::string time_column) {
            const auto o = read_options(format, header, std::move(user_column), std::move(item_column),
                                        std::move(rating_column), std::move(time_column));
            py::gil_scoped_release release;
            return read_ratings(path, o);
        },
        py::arg("path"), py::kw_only(), py::arg("format") = "detect", py::arg("header") = -1,
        py::arg("user_column") = "", py::arg("item_column") = "", py::arg("rating_column") = "",
        py::arg("time_column") = "",
        R"doc(Reads a ratings file (.gz/.xz transparent) into a ratings_table, keeping the ids as strings.

  format       'detect' ("::" in the first data line: movielens, else csv), 'movielens'
               (user::item::rating[::timestamp]), 'tab' (MovieLens u.data) or 'csv' (comma, tab,
               semicolon or blank separated)
  header       csv: -1 detects, 0 none, 1 a header line
  user_column, item_column, rating_column, time_column  csv with a header: the column names
               ('' detects); a file with two columns is implicit feedback (every rating 1)
Raises ValueError "FILE:LINE: ..." for a malformed line, OSError when the file cannot be read.)doc");

    m.def(
        "parse_ratings",
        [](const std::string& text, const std::string& name, const std::string& format, int header,
           std::string user_column, std::string item_column, std::string rating_column, std::string time_column) {
            const auto o = read_options(format, header, std::move(user_column), std::move(item_column),
                                        std::move(rating_column), std::move(time_column));
            py::gil_scoped_release release;
            return parse_ratings(text, name, o);
        },
        py::arg("text"), py::arg("name") = "<memory>", py::kw_only(), py::arg("format") = "detect",
        py::arg("header") = -1, py::arg("user_column") = "", py::arg("item_column") = "",
        py::arg("rating_column") = "", py::arg("time_column") = "",
        R"doc(Parses ratings text (as read_ratings does for a file) into a ratings_table.

name appears in error messages ("NAME:LINE: ..."); the other arguments are those of read_ratings.
Raises ValueError for a malformed line.)doc");

    m.def(
        "split_random",
        [](const ratings_table& R, double test_fraction, std::uint64_t seed) {
            return split_tuple(split_random(R, test_fraction, seed));
        },
        py::arg("R"), py::arg("test_fraction"), py::arg("seed") = 0,
        R"doc(A uniformly random test_fraction (0 < f < 1) of the rows as the test set.

Returns (train_rows, test_rows), int64 arrays of row indices (use R.subset(rows)). Seeded.)doc");
    m.def(
        "split_per_user",
        [](const ratings_table& R, double test_fraction, std::uint64_t seed) {
            return split_tuple(split_per_user(R, test_fraction, seed));
        },
        py::arg("R"), py::arg("test_fraction"), py::arg("seed") = 0,
        R"doc(Per user, round(f n_u) of its n_u ratings held out at random (at most n_u - 1).

Every user keeps a rating in train. Returns (train_rows, test_rows). Seeded.)doc");
    m.def(
        "split_by_time",
        [](const ratings_table& R, double test_fraction) { return split_tuple(split_by_time(R, test_fraction)); },
        py::arg("R"), py::arg("test_fraction"),
        R"doc(The latest round(f n) ratings by timestamp form the test set.

Returns (train_rows, test_rows). Raises ValueError when the table has no timestamps.)doc");
    m.def(
        "k_fold",
        [](const ratings_table& R, int k, std::uint64_t seed) {
            py::list out;
            for (auto& s : k_fold(R, k, seed)) out.append(split_tuple(std::move(s)));
            return out;
        },
        py::arg("R"), py::arg("k"), py::arg("seed") = 0,
        R"doc(k folds (2 <= k <= len(R)) of a seeded random permutation of the rows.

Returns a list of k (train_rows, test_rows) pairs; every row is tested exactly once.)doc");

    // --- models
    py::class_<mf_model>(m, "mf_model", R"doc(A fitted factor model.
Explicit: rating(u, i) = global_mean + user_bias[u] + item_bias[i] + user_factors[u] @ item_factors[i]
(biases empty without them). Implicit (ALS, BPR): score(u, i) = user_factors[u] @ item_factors[i]
(+ item_bias[i] for BPR). mf_model(user_factors, item_factors, user_bias=None, item_bias=None,
global_mean=0.0, implicit=False, reg=..., bias_reg=..., reg_exponent=..., alpha=...) builds one
from arrays; reg, bias_reg, reg_exponent and alpha are the weights it was fitted with, which
fold_in_user reuses. Attributes are read-only copies.)doc")
        .def(py::init(&model_from_arrays), py::arg("user_factors"), py::arg("item_factors"),
             py::arg("user_bias") = py::none(), py::arg("item_bias") = py::none(), py::arg("global_mean") = 0.0,
             py::arg("implicit") = false, py::kw_only(), py::arg("reg") = mf_weights{}.reg,
             py::arg("bias_reg") = mf_weights{}.bias_reg, py::arg("reg_exponent") = mf_weights{}.reg_exponent,
             py::arg("alpha") = mf_weights{}.alpha)
        .def_property_readonly(
            "user_factors",
            [](const mf_model& md) { return frozen_copy(md.user_factors.data(), shape_t{md.num_users(), md.rank()}); },
            "users x rank")
        .def_property_readonly(
            "item_factors",
            [](const mf_model& md) { return frozen_copy(md.item_factors.data(), shape_t{md.num_items(), md.rank()}); },
            "items x rank")
        .def_property_readonly("user_bias", [](const mf_model& md) { return vector_copy(md.user_bias); },
                               "users values (empty without biases)")
        .def_property_readonly("item_bias", [](const mf_model& md) { return vector_copy(md.item_bias); },
                               "items values (empty without biases)")
        .def_readonly("global_mean", &mf_model::global_mean)
        .def_readonly("implicit", &mf_model::implicit)
        .def_property_readonly("reg", [](const mf_model& md) { return md.weights.reg; }, "as fitted")
        .def_property_readonly("bias_reg", [](const mf_model& md) { return md.weights.bias_reg; }, "as fitted")
        .def_property_readonly("reg_exponent", [](const mf_model& md) { return md.weights.reg_exponent; },
                               "as fitted")
        .def_property_readonly("alpha", [](const mf_model& md) { return md.weights.alpha; }, "as fitted")
        .def_property_readonly("rank", &mf_model::rank)
        .def_property_readonly("num_users", &mf_model::num_users)
        .def_property_readonly("num_items", &mf_model::num_items)
        .def("predict", &model_predict, py::arg("user"), py::arg("item"),
             "Predicted rating (explicit) or score (implicit) of user for item: integer indices, scalars (a float) "
             "or arrays (broadcast; an array). IndexError outside the model.")
        .def("__repr__", [](const mf_model& md) {
            return "mf_model(num_users=" + std::to_string(md.num_users()) + ", num_items=" +
                   std::to_string(md.num_items()) + ", rank=" + std::to_string(md.rank()) +
                   ", implicit=" + (md.implicit ? "True" : "False") + ")";
        });

    py::class_<mf_iteration>(m, "mf_iteration", "One sweep (ALS) or epoch (SGD, BPR), as reported to on_iteration.")
        .def_readonly("iter", &mf_iteration::iter, "1-based")
        .def_readonly("objective", &mf_iteration::objective, "the loss the method minimizes, after the sweep")
        .def_readonly("train_rmse", &mf_iteration::train_rmse, "explicit: RMSE on the training ratings; implicit: NaN")
        .def_readonly("test_rmse", &mf_iteration::test_rmse, "explicit with validation: RMSE on it; else NaN")
        .def_readonly("seconds", &mf_iteration::seconds)
        .def("__repr__", [](const mf_iteration& it) {
            char s[200];
            std::snprintf(s, sizeof s, "mf_iteration(iter=%d, objective=%.17g, train_rmse=%.6g, test_rmse=%.6g, seconds=%.6g)",
                          it.iter, it.objective, it.train_rmse, it.test_rmse, it.seconds);
            return std::string(s);
        });

    py::class_<mf_result>(m, "mf_result", "Result of als_explicit, sgd_explicit, als_implicit or bpr.")
        .def_readonly("model", &mf_result::model, "mf_model")
        .def_readonly("iters", &mf_result::iters)
        .def_readonly("converged", &mf_result::converged, "the objective's relative decrease fell below tol")
        .def_readonly("interrupted", &mf_result::interrupted, "on_iteration asked to stop")
        .def_readonly("solve_fallbacks", &mf_result::solve_fallbacks,
                      "row solves where Cholesky failed and the pseudo-inverse was used")
        .def_readonly("history", &mf_result::history, "list of mf_iteration")
        .def_readonly("seconds", &mf_result::seconds)
        .def("__repr__", [](const mf_result& r) {
            char s[200];
            std::snprintf(s, sizeof s, "mf_result(iters=%d, converged=%s, interrupted=%s, objective=%.6g)", r.iters,
                          r.converged ? "True" : "False", r.interrupted ? "True" : "False",
                          r.history.empty() ? std::nan("") : r.history.back().objective);
            return std::string(s);
        });

    const std::pair<mf_method, const char*> methods[] = {
        {mf_method::als_explicit,
         "Explicit ALS: rating = mean + b_u + b_i + p_u . q_i, every row solved exactly per half-sweep\n"
         "(objective never increases; deterministic for any thread count).\n"},
        {mf_method::sgd_explicit,
         "Explicit SGD in the style of LIBMF (blocked, parallel, deterministic for a seed).\n"},
        {mf_method::als_implicit,
         "Implicit-feedback ALS (Hu, Koren, Volinsky 2008): preference 1 where R > 0, confidence\n"
         "1 + alpha R; solver 'cg' or 'cholesky'. No biases.\n"},
        {mf_method::bpr, "Bayesian personalized ranking (Rendle et al. 2009) by sequential SGD (deterministic for a seed).\n"},
    };
    for (const auto& [method, head] : methods) {
        const mf_options d = default_options(method);  // the CLI's, so both fit the same model
        const std::string doc = std::string(head) + mf_doc;
        const mf_method mth = method;
        m.def(
            mf_method_name(method),
            [mth](py::object R, index_t rank, int max_iters, double reg, double bias_reg, bool biases, bool center,
                  double reg_exponent, double tol, std::uint64_t seed, int threads, double init_scale, bool svd_start,
                  double learning_rate, double lr_decay, int sgd_blocks, double alpha, const std::string& solver,
                  int cg_steps, py::object validation, py::object on_iteration, bool progress) {
                return run_mf(mth, R, rank, max_iters, reg, bias_reg, biases, center, reg_exponent, tol, seed, threads,
                              init_scale, svd_start, learning_rate, lr_decay, sgd_blocks, alpha, solver, cg_steps,
                              validation, on_iteration, progress);
            },
            py::arg("R"), py::arg("rank") = d.rank, py::kw_only(), py::arg("max_iters") = d.max_iters,
            py::arg("reg") = d.reg, py::arg("bias_reg") = d.bias_reg, py::arg("biases") = d.biases,
            py::arg("center") = d.center, py::arg("reg_exponent") = d.reg_exponent, py::arg("tol") = d.tol,
            py::arg("seed") = d.seed, py::arg("threads") = d.threads, py::arg("init_scale") = d.init_scale,
            py::arg("svd_start") = d.svd_start, py::arg("learning_rate") = d.learning_rate,
            py::arg("lr_decay") = d.lr_decay, py::arg("sgd_blocks") = d.sgd_blocks, py::arg("alpha") = d.alpha,
            py::arg("solver") = d.solver == implicit_solver::cg ? "cg" : "cholesky", py::arg("cg_steps") = d.cg_steps,
            py::arg("validation") = py::none(),
            py::arg("on_iteration") = py::none(), py::arg("progress") = false, doc.c_str());
    }

    // --- fold-in, top-k, similar items
    py::class_<folded_user>(m, "folded_user", "A user outside the training data, folded in against the item factors.")
        .def_property_readonly("factors", [](const folded_user& f) { return vector_copy(f.factors); }, "rank values")
        .def_readonly("bias", &folded_user::bias, "explicit models with biases")
        .def("__repr__", [](const folded_user& f) {
            return "folded_user(rank=" + std::to_string(f.factors.size()) + ", bias=" + std::to_string(f.bias) + ")";
        });

    m.def(
        "fold_in_user",
        [](const mf_model& md, py::object items, py::object values, std::optional<double> reg,
           std::optional<double> bias_reg, std::optional<double> reg_exponent, std::optional<double> alpha) {
            const auto it = index_vector(items, "fold_in_user", "items");
            const auto v = double_vector(values, "fold_in_user", "values");
            return fold_in_user(md, it, v, fold_weights(md, reg, bias_reg, reg_exponent, alpha));
        },
        py::arg("model"), py::arg("items"), py::arg("values"), py::kw_only(), py::arg("reg") = py::none(),
        py::arg("bias_reg") = py::none(), py::arg("reg_exponent") = py::none(), py::arg("alpha") = py::none(),
        R"doc(Solves one new user's row against the model's fixed item factors (no retraining).

The same ridge problem the last ALS half-sweep would solve (explicit: ratings minus mean and item
biases; implicit: the HKV system with confidence 1 + alpha r). items: model item indices;
values: ratings (explicit) or interaction strengths (implicit); reg, bias_reg, reg_exponent and
alpha: None (the default) takes the model's, those it was fitted with. Returns a folded_user. Raises ValueError for an item out of range, an item
given twice or lengths that differ.)doc");

    py::class_<py_topk>(m, "topk_lists", "Top-k lists, one row per query, best first (ties: smaller item index).")
        .def_readonly("k", &py_topk::k)
        .def_readonly("items", &py_topk::items, "rows x k item indices; -1 pads rows with fewer than k candidates")
        .def_readonly("scores", &py_topk::scores, "rows x k scores; -inf where items is -1")
        .def("__repr__", [](const py_topk& t) {
            return "topk_lists(rows=" + std::to_string(t.items.ndim() ? t.items.shape(0) : 0) + ", k=" +
                   std::to_string(t.k) + ")";
        });

    m.def(
        "recommend_top_k",
        [](const mf_model& md, index_t k, py::object exclude, py::object users) {
            std::optional<csr_matrix> ex;
            if (!exclude.is_none()) ex = as_ratings(exclude, duplicate_policy::last, "recommend_top_k: exclude");
            std::vector<index_t> us;
            if (!users.is_none()) us = index_vector(users, "recommend_top_k", "users");
            for (std::size_t t = 0; t < us.size(); ++t) check_range(us[t], md.num_users(), "recommend_top_k", "users", t);
            topk_lists r;
            {
                py::gil_scoped_release release;
                r = recommend_top_k(md, k, ex ? &*ex : nullptr, us);
            }
            return to_python(std::move(r));
        },
        py::arg("model"), py::arg("k"), py::arg("exclude") = py::none(), py::arg("users") = py::none(),
        R"doc(The k best items for each user in users (None: all users), by the model's scores.

exclude: items not to recommend, per user (a ratings_table or a users x items scipy.sparse
matrix, e.g. the training ratings; None: nothing excluded). Returns a topk_lists with rows in
the order of users. The GIL is released. Raises ValueError for k < 1 or an exclude matrix of
another shape, IndexError for a user out of range.)doc");

    m.def(
        "similar_items",
        [](const mf_model& md, py::object items, index_t k) {
            check_k(k, "similar_items");
            const auto it = index_vector(items, "similar_items", "items");
            for (std::size_t t = 0; t < it.size(); ++t) check_range(it[t], md.num_items(), "similar_items", "items", t);
            topk_lists r;
            {
                py::gil_scoped_release release;
                r = similar_items(md, it, k);
            }
            return to_python(std::move(r));
        },
        py::arg("model"), py::arg("items"), py::arg("k"),
        R"doc(The k items most similar to each query item by cosine of the item factors.

The query item itself is left out. Returns a topk_lists, one row per query item.
IndexError for an item out of range.)doc");

    m.def(
        "recommend_new_user",
        [](const mf_model& md, py::object items, py::object values, index_t k, std::optional<double> reg,
           std::optional<double> bias_reg, std::optional<double> reg_exponent, std::optional<double> alpha) {
            check_k(k, "recommend_new_user");
            const auto it = index_vector(items, "recommend_new_user", "items");
            const auto v = double_vector(values, "recommend_new_user", "values");
            return to_python(
                recommend_new_user(md, it, v, k, fold_weights(md, reg, bias_reg, reg_exponent, alpha)));
        },
        py::arg("model"), py::arg("items"), py::arg("values"), py::arg("k"), py::kw_only(), py::arg("reg") = py::none(),
        py::arg("bias_reg") = py::none(), py::arg("reg_exponent") = py::none(), py::arg("alpha") = py::none(),
        R"doc(Top k for a user outside the training data: fold_in_user, then score every item.

The items given are left out. Arguments as for fold_in_user. Returns a topk_lists with one row.)doc");

    // --- metrics
    py::class_<rating_errors>(m, "rating_errors", "Errors of predicted ratings on held-out ratings.")
        .def_readonly("rmse", &rating_errors::rmse)
        .def_readonly("mae", &rating_errors::mae)
        .def_readonly("count", &rating_errors::count, "ratings compared")
        .def("__repr__", [](const rating_errors& e) {
            char s[160];
            std::snprintf(s, sizeof s, "rating_errors(rmse=%.6g, mae=%.6g, count=%lld)", e.rmse, e.mae,
                          static_cast<long long>(e.count));
            return std::string(s);
        });

    m.def(
        "evaluate_ratings",
        [](const mf_model& md, py::object test) {
            const csr_matrix T = as_ratings(test, duplicate_policy::mean, "evaluate_ratings: test");
            return evaluate_ratings(md, T);
        },
        py::arg("model"), py::arg("test"),
        R"doc(RMSE and MAE of the model's predictions on held-out ratings.

test: a ratings_table (same indices as training) or a users x items scipy.sparse matrix.
Returns a rating_errors. Raises ValueError if test is larger than the model.)doc");

    py::class_<ranking_metrics>(m, "ranking_metrics", "Ranking quality averaged over the users with a test item.")
        .def_readonly("k", &ranking_metrics::k)
        .def_readonly("users", &ranking_metrics::users, "users evaluated")
        .def_readonly("precision", &ranking_metrics::precision)
        .def_readonly("recall", &ranking_metrics::recall)
        .def_readonly("ndcg", &ranking_metrics::ndcg)
        .def_readonly("map", &ranking_metrics::map)
        .def_readonly("auc", &ranking_metrics::auc)
        .def("__repr__", [](const ranking_metrics& r) {
            char s[240];
            std::snprintf(s, sizeof s,
                          "ranking_metrics(k=%lld, users=%lld, precision=%.6g, recall=%.6g, ndcg=%.6g, map=%.6g, auc=%.6g)",
                          static_cast<long long>(r.k), static_cast<long long>(r.users), r.precision, r.recall, r.ndcg,
                          r.map, r.auc);
            return std::string(s);
        });

    m.def(
        "evaluate_ranking",
        [](py::object model, py::object train, py::object test, index_t k) {
            check_k(k, "evaluate_ranking");
            const csr_matrix Tr = as_ratings(train, duplicate_policy::sum, "evaluate_ranking: train");
            const csr_matrix Te = as_ratings(test, duplicate_policy::sum, "evaluate_ranking: test");
            if (py::isinstance<mf_model>(model)) {
                const auto& md = model.cast<const mf_model&>();
                py::gil_scoped_release release;
                return evaluate_ranking(md, Tr, Te, k);
            }
            const auto scores = double_vector(model, "evaluate_ranking", "item scores");
            py::gil_scoped_release release;
            return evaluate_ranking(std::span<const double>(scores), Tr, Te, k);
        },
        py::arg("model"), py::arg("train"), py::arg("test"), py::arg("k"),
        R"doc(precision, recall, nDCG, MAP at k and AUC, averaged over the users with a test item.

model: an mf_model, or one score per item (e.g. popularity) given to every user. Each user's
items in train are left out, the top k of the rest compared with the user's test items (train
and test: ratings_tables or users x items scipy.sparse matrices). Returns a ranking_metrics.)doc");

    def_rank_metric(m, "precision_at_k", [](auto r, auto rel, index_t k) { return precision_at_k(r, rel, k); },
                    R"doc(hits / k: the fraction of the first k ranked items that are relevant.

ranked: recommended items, best first; relevant: the user's held-out items (any order, sorted
here). 0 when relevant is empty.)doc");
    def_rank_metric(m, "recall_at_k", [](auto r, auto rel, index_t k) { return recall_at_k(r, rel, k); },
                    R"doc(hits / |relevant| among the first k ranked items.

ranked: recommended items, best first; relevant: the held-out items (any order). 0 when
relevant is empty.)doc");
    def_rank_metric(m, "ndcg_at_k", [](auto r, auto rel, index_t k) { return ndcg_at_k(r, rel, k); },
                    R"doc(DCG / ideal DCG of the first k ranked items, gains 1 / log2(position + 1).

Binary relevance; relevant in any order. 0 when relevant is empty.)doc");
    def_rank_metric(m, "average_precision_at_k",
                    [](auto r, auto rel, index_t k) { return average_precision_at_k(r, rel, k); },
                    R"doc(Sum of precision@p over the hits at positions p <= k, over min(k, |relevant|).

Binary relevance; relevant in any order. 0 when relevant is empty.)doc");

    m.def(
        "auc",
        [](py::object candidates, py::object scores, py::object relevant) {
            const auto c = index_vector(candidates, "auc", "candidates");
            const auto s = double_vector(scores, "auc", "scores");
            if (c.size() != s.size())
                throw invalid_argument("auc: " + std::to_string(c.size()) + " candidates but " + std::to_string(s.size()) +
                                       " scores; expected one score per candidate");
            const auto rel = sorted_relevant(relevant, "auc");
            return auc(c, s, rel);
        },
        py::arg("candidates"), py::arg("scores"), py::arg("relevant"),
        R"doc(Area under the ROC curve of one user's scores.

The fraction of (relevant, irrelevant) pairs of candidate items ordered correctly by score, ties
counting one half; relevant items outside candidates are ignored. 0.5 when a class is empty.)doc");
}

}  // namespace facto::python
