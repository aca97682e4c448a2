// facto/io/mtx.hpp: MatrixMarket .mtx (coordinate and array; real, integer, pattern;
// general, symmetric and skew-symmetric).
#pragma once
#include <string>
#include <string_view>

#include "facto/core/sparse.hpp"
#include "facto/core/tensor.hpp"

namespace facto {

/// What the banner and size line say.
struct mtx_header {
    bool coordinate = true;        ///< false: "array" (dense, column-major)
    std::string field;             ///< real, integer, pattern (complex is rejected)
    std::string symmetry;          ///< general, symmetric, skew-symmetric
    index_t rows = 0, cols = 0, entries = 0;
};

/// Parses coordinate or array MatrixMarket text as a 2-way COO tensor (symmetric storage is
/// expanded, pattern entries are 1, array zeros are dropped, coordinate entries with value 0 are
/// kept: a stored zero is an observed entry). header receives the banner.
coo_tensor parse_mtx(std::string_view text, const std::string& name = "<memory>",
                     mtx_header* header = nullptr);
coo_tensor read_mtx(const std::string& path, mtx_header* header = nullptr);
/// Array-format (or any) MatrixMarket file as a dense rows x cols tensor.
tensor read_mtx_dense(const std::string& path);

/// Writes a 2-way COO tensor as "coordinate real general", atomically.
void write_mtx(const std::string& path, const coo_tensor& X);
/// Writes a dense 2-way tensor as "array real general" (column-major, as the format says).
void write_mtx(const std::string& path, tensor_view X);

}  // namespace facto
