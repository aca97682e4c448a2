"""facto: matrix and tensor factorization in C++, over NumPy arrays.

The names are those of the C++ API (include/facto/): cp_als, cp_hals, svd, tucker, tt,
read_tns, coo_tensor, kruskal_tensor, ... Dense inputs are NumPy arrays (float32 and float64 in C or Fortran order are
used without a copy), sparse ones coo_tensor objects or scipy.sparse matrices; results are NumPy
arrays and small objects with the fields of the C++ structs. C++ errors arrive as ValueError
(invalid arguments, malformed files), IndexError (out of range), OSError (files) and MemoryError.
"""
from ._facto import (
    __version__,
    check_report,
    check_tensor_file,
    coo_tensor,
    cp_als,
    cp_hals,
    cp_init,
    cp_iteration,
    cp_result,
    csf_policy,
    csf_set,
    factor_match_score,
    file_problem,
    kruskal_tensor,
    make_csf_set,
    mttkrp,
    norm,
    parse_tns,
    read_csv_coo,
    read_csv_dense,
    read_mtx,
    read_mtx_dense,
    read_npy,
    read_npz,
    read_tensor,
    read_tns,
    supported_formats,
    svd,
    svd_result,
    to_coo,
    to_dense,
    tt,
    tt_round,
    tt_tensor,
    tucker,
    tucker_iteration,
    tucker_result,
    tucker_tensor,
    write_csv_coo,
    write_mtx,
    write_npy,
    write_npz,
    write_tensor,
    write_tns,
)

__all__ = [
    "check_report", "check_tensor_file", "coo_tensor", "cp_als", "cp_hals", "cp_init", "cp_iteration",
    "cp_result", "csf_policy", "csf_set", "factor_match_score", "file_problem", "kruskal_tensor",
    "make_csf_set", "mttkrp", "norm", "parse_tns", "read_csv_coo", "read_csv_dense", "read_mtx",
    "read_mtx_dense", "read_npy", "read_npz", "read_tensor", "read_tns", "supported_formats", "svd",
    "svd_result", "to_coo", "to_dense", "tt", "tt_round", "tt_tensor", "tucker", "tucker_iteration",
    "tucker_result", "tucker_tensor", "write_csv_coo", "write_mtx", "write_npy", "write_npz", "write_tensor", "write_tns",
]
