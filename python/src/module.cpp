// python/src/module.cpp: the facto._facto extension: exception mapping and the submodule parts.
#include <pybind11/pybind11.h>

#include <new>

#include "bind.hpp"
#include "facto/core/error.hpp"

PYBIND11_MODULE(_facto, m) {
    m.doc() = "facto: matrix and tensor factorization in C++ (CP-ALS, nonnegative CP-HALS, truncated SVD, "
              "Tucker, tensor train, NMF, recommendation), over NumPy arrays.";
    m.attr("__version__") = FACTO_VERSION;

    // pybind11 maps std::invalid_argument (so facto::invalid_argument and parse_error) to
    // ValueError, std::out_of_range to IndexError and std::bad_alloc to MemoryError; io_error is
    // a std::runtime_error, which would arrive as RuntimeError, so it is mapped here.
    pybind11::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const facto::io_error& e) {
            PyErr_SetString(PyExc_OSError, e.what());
        }
    });

    facto::python::bind_core(m);
    facto::python::bind_io(m);
    facto::python::bind_cp(m);
    facto::python::bind_lowrank(m);
    facto::python::bind_nmf(m);
    facto::python::bind_recommend(m);
}
