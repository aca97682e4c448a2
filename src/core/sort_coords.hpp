// core/sort_coords.hpp (private): sparse coordinates in lexicographic order, duplicates summed.
#pragma once
#include <span>
#include <vector>

#include "facto/core/types.hpp"

namespace facto::detail {

/// Entries of a COO tensor sorted lexicographically by their indices in the modes
/// mode_order[0], mode_order[1], ... (first most significant), with equal coordinates summed
/// in input order (a stable sort, so the result is deterministic). coords[l] holds the
/// mode-mode_order[l] index of each kept entry. Zero sums are dropped unless keep_zeros.
template <class T>
struct sorted_entries {
    std::vector<std::vector<index_t>> coords;
    std::vector<T> values;
};

/// The coordinates are packed into one 64-bit key and sorted by LSD radix sort when the
/// product of the dimensions fits (the common case: only keys move, and the sorted coordinates
/// are decoded from them); otherwise a comparison sort of a permutation is used.
template <class T>
sorted_entries<T> sort_entries(const std::vector<std::vector<index_t>>& indices, const std::vector<T>& values,
                               const shape_t& shape, std::span<const int> mode_order, bool keep_zeros);

}  // namespace facto::detail
