// cli/lowrank.hpp: what facto svd, tucker and tt share: the compression ratio and the guard before a
// sparse input is made dense.
#pragma once
#include <cblas.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "common.hpp"
#include "facto/core/error.hpp"
#include "facto/core/tensor.hpp"

namespace facto::cli {

/// --threads K > 0: K OpenMP threads for facto's own loops and K OpenBLAS threads for the
/// LAPACK/BLAS calls that dominate these methods (OpenBLAS keeps its own pool); 0 keeps both
/// defaults.
inline void set_threads(int threads) {
    if (threads <= 0) return;
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
}

/// The compression ratio of every low-rank report (svd, tucker, tt): entries of the data per
/// number stored in the model, so > 1 means the model is smaller (the convention of
/// tt_tensor::compression_ratio()). Infinite (null in report.json) for an empty model.
inline double compression_ratio(double entries, double stored) {
    return stored > 0 ? entries / stored : std::numeric_limits<double>::infinity();
}

/// Most entries a sparse input may have to be made dense (2 GiB of float64): beyond that the
/// run would exhaust memory long before it finished, so it fails at once with an alternative.
inline constexpr double max_dense_entries = 268435456.0;

/// Throws facto::invalid_argument (exit 1) if a sparse tensor of this shape is too large to
/// make dense; `alternative` says what to do instead.
inline void check_densify(const shape_t& shape, const std::string& alternative) {
    double entries = 1;
    for (index_t d : shape) entries *= static_cast<double>(d);
    if (entries > max_dense_entries)
        throw invalid_argument(fmt::format("the sparse input of shape {} has {} entries, too many to make dense "
                                           "(at most {}); {}",
                                           shape_text(shape), count_text(entries), count_text(max_dense_entries),
                                           alternative));
}

}  // namespace facto::cli
