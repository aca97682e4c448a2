// facto/core/types.hpp: index and shape types shared by dense and sparse tensors.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace facto {

/// Dimensions, indices and counts. Signed 64-bit so that sparse coordinates of
/// tensors with more than 2^31 entries per mode, and differences of indices, are safe.
using index_t = std::int64_t;

/// The dimensions of a tensor, mode 0 first.
using shape_t = std::vector<index_t>;

/// Product of the dimensions (1 for an empty shape); throws facto::invalid_argument on a
/// negative dimension or on overflow.
index_t shape_size(const shape_t& shape);

/// "10x8x6": for messages.
std::string shape_string(const shape_t& shape);

}  // namespace facto
