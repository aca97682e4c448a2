// cp_init.hpp (private): initial CP factors, random and "nvecs" (leading left singular vectors).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "facto/core/matrix.hpp"
#include "facto/core/sparse.hpp"
#include "facto/core/tensor.hpp"

namespace facto::detail {

/// Uniform [0, 1) from the top 53 bits: the same stream on every platform, unlike
/// std::uniform_real_distribution, whose algorithm the standard leaves open.
inline double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// Uniform [0, 1) factors, dim(n) x rank, filled in a fixed order (factor 0 row-major, then
/// factor 1, ...) from std::mt19937_64 seeded with `seed`. Drawn in double and rounded to T,
/// so float and double runs start from the same point.
template <class T>
std::vector<basic_matrix<T>> random_factors(const shape_t& shape, index_t rank, std::uint64_t seed);

/// Leading left singular vectors of every unfolding X_(n), dim(n) x rank; columns beyond
/// min(rank, dim(n)) are uniform [0, 1) random. Dense: eigenvectors of the Gram X_(n) X_(n)^T,
/// accumulated with BLAS syrk over the tensor's natural blocks (no unfolding is formed); modes
/// longer than 4000, whose Gram would be large, use the sparse path's range finder with GEMMs.
template <class T>
std::vector<basic_matrix<T>> nvecs_factors(basic_tensor_view<const T> X, index_t rank, std::uint64_t seed);

/// Sparse: a randomized range finder (Halko, Martinsson, Tropp) with power iterations whose
/// products X_(n) Z and X_(n)^T Q walk the nonzeros grouped by unfolding column, so neither
/// a dim x dim Gram nor a dense test matrix with one row per column is ever stored.
template <class T>
std::vector<basic_matrix<T>> nvecs_factors(const basic_coo_tensor<T>& X, index_t rank, std::uint64_t seed);

}  // namespace facto::detail
