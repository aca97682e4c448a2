// python/src/callback.hpp: the library's per-iteration callback, seen from Python.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

namespace facto::python {

/// An on_iteration callback for an iterative method that runs with the GIL released. It is
/// called between iterations on the calling thread, outside parallel regions, and takes the
/// GIL back to look for Ctrl-C, print `line(it)` to sys.stderr when `progress`, and call the
/// user's function (a False return stops the run). A Python exception is kept in `pending`
/// (the run stops) for the caller to rethrow once the library returns.
template <class Iteration>
std::function<bool(const Iteration&)> python_iteration_callback(pybind11::object on_iteration, bool progress,
                                                                std::function<std::string(const Iteration&)> line,
                                                                std::optional<pybind11::error_already_set>& pending) {
    namespace py = pybind11;
    return [on_iteration, progress, line = std::move(line), &pending](const Iteration& it) -> bool {
        py::gil_scoped_acquire gil;
        try {
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            if (progress) py::module_::import("sys").attr("stderr").attr("write")(line(it));
            if (!on_iteration.is_none()) {
                const py::object ret = on_iteration(it);
                if (!ret.is_none() && !py::bool_(ret)) return false;
            }
        } catch (py::error_already_set& e) {
            pending.emplace(std::move(e));
            return false;
        }
        return true;
    };
}

/// printf into a std::string (progress lines).
template <class... Args>
std::string format_line(const char* fmt, Args... args) {
    char buf[160];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

}  // namespace facto::python
