// core/sort_coords.hpp (private): the lexicographic order of sparse coordinates, as a permutation.
#pragma once
#include <span>
#include <vector>

#include "facto/core/types.hpp"

namespace facto::detail {

/// The permutation that sorts nonzeros 0..nnz-1 lexicographically by their indices in the
/// modes mode_order[0], mode_order[1], ... (first most significant). Stable: equal coordinates
/// keep their input order, so summing duplicates in this order is deterministic.
/// Coordinates are packed into one 64-bit key and sorted by LSD radix sort when the product
/// of the dimensions fits; otherwise a comparison sort of the permutation is used.
std::vector<index_t> sorted_order(const std::vector<std::vector<index_t>>& indices, const shape_t& shape,
                                  std::span<const int> mode_order, index_t nnz);

}  // namespace facto::detail
