// python/src/bind.hpp: the parts of the module, one per area of the library.
#pragma once
#include <pybind11/pybind11.h>

namespace facto::python {

void bind_core(pybind11::module_& m);  ///< coo_tensor, csf_set, kruskal_tensor, norm, conversions
void bind_io(pybind11::module_& m);    ///< read_* / write_* for .tns, .npy/.npz, .mtx, CSV, any format
void bind_cp(pybind11::module_& m);    ///< cp_als, cp_hals and their result types
void bind_lowrank(pybind11::module_& m);  ///< svd, tucker, tt, tt_round and their result types
void bind_nmf(pybind11::module_& m);      ///< nmf, nmf_initialize and their result types
void bind_recommend(pybind11::module_& m);  ///< ratings tables, splits, ALS/SGD/BPR models, metrics

}  // namespace facto::python
