"""facto: matrix and tensor factorization in C++, over NumPy arrays.

The names are those of the C++ API (include/facto/): cp_als, cp_hals, svd, tucker, tt, nmf,
als_explicit, read_ratings, read_tns, coo_tensor, kruskal_tensor, ... Dense inputs are NumPy
arrays (float32 and float64 in C or Fortran order are used without a copy), sparse ones
coo_tensor objects or scipy.sparse matrices; results are NumPy arrays and small objects with the
fields of the C++ structs. C++ errors arrive as ValueError
(invalid arguments, malformed files), IndexError (out of range), OSError (files) and MemoryError.
"""
from ._facto import (
    __version__,
    als_explicit,
    als_implicit,
    auc,
    average_precision_at_k,
    bpr,
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
    evaluate_ranking,
    evaluate_ratings,
    factor_match_score,
    file_problem,
    fold_in_user,
    folded_user,
    k_fold,
    kruskal_tensor,
    make_csf_set,
    mf_iteration,
    mf_model,
    mf_result,
    mttkrp,
    ndcg_at_k,
    nmf,
    nmf_initialize,
    nmf_iteration,
    nmf_result,
    norm,
    parse_ratings,
    parse_tns,
    precision_at_k,
    ranking_metrics,
    rating_errors,
    ratings_table,
    read_csv_coo,
    read_csv_dense,
    read_mtx,
    read_mtx_dense,
    read_npy,
    read_npz,
    read_ratings,
    read_tensor,
    read_tns,
    recall_at_k,
    recommend_new_user,
    recommend_top_k,
    sgd_explicit,
    similar_items,
    split_by_time,
    split_per_user,
    split_random,
    supported_formats,
    svd,
    svd_result,
    to_coo,
    to_dense,
    topk_lists,
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
    "als_explicit", "als_implicit", "auc", "average_precision_at_k", "bpr", "check_report",
    "check_tensor_file", "coo_tensor", "cp_als", "cp_hals", "cp_init", "cp_iteration", "cp_result",
    "csf_policy", "csf_set", "evaluate_ranking", "evaluate_ratings", "factor_match_score", "file_problem",
    "fold_in_user", "folded_user", "k_fold", "kruskal_tensor", "make_csf_set", "mf_iteration", "mf_model",
    "mf_result", "mttkrp", "ndcg_at_k", "nmf", "nmf_initialize", "nmf_iteration", "nmf_result", "norm",
    "parse_ratings", "parse_tns", "precision_at_k", "ranking_metrics", "rating_errors", "ratings_table",
    "read_csv_coo", "read_csv_dense", "read_mtx", "read_mtx_dense", "read_npy", "read_npz", "read_ratings",
    "read_tensor", "read_tns", "recall_at_k", "recommend_new_user", "recommend_top_k", "sgd_explicit",
    "similar_items", "split_by_time", "split_per_user", "split_random", "supported_formats", "svd",
    "svd_result", "to_coo", "to_dense", "topk_lists", "tt", "tt_round", "tt_tensor", "tucker",
    "tucker_iteration", "tucker_result", "tucker_tensor", "write_csv_coo", "write_mtx", "write_npy",
    "write_npz", "write_tensor", "write_tns",
]


# Fitted models pickle (and copy.deepcopy) through their constructors, so they can be saved
# with pickle or joblib and sent to worker processes.
def _rebuild(cls, args, kwargs):
    return cls(*args, **kwargs)


def _pickle_by_constructor(cls, positional, keywords=()):
    def reduce(self):
        return (_rebuild, (cls, tuple(getattr(self, f) for f in positional), {k: getattr(self, k) for k in keywords}))
    cls.__reduce__ = reduce


_pickle_by_constructor(kruskal_tensor, ("factors", "weights"))
_pickle_by_constructor(tucker_tensor, ("core", "factors"))
_pickle_by_constructor(tt_tensor, ("cores",))
_pickle_by_constructor(mf_model, ("user_factors", "item_factors", "user_bias", "item_bias", "global_mean", "implicit"),
                       ("reg", "bias_reg", "reg_exponent", "alpha"))
