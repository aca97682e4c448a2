// facto/io/csv.hpp: CSV/TSV text: coordinate tuples (i, j, ..., value) or dense tables.
#pragma once
#include <string>
#include <string_view>

#include "facto/core/sparse.hpp"
#include "facto/core/tensor.hpp"

namespace facto {

struct csv_options {
    char delimiter = 0;     ///< 0 detects: tab, comma, semicolon or whitespace, from the first data line
    int header = -1;        ///< -1 detects (a first line that is not all numbers is a header); 0 or 1
    int index_base = -1;    ///< coordinates only: -1 detects (0 if any index is 0), else 0 or 1
};

/// Coordinate tuples: each line holds order indices and a value. Throws parse_error with
/// file:line on a short line, non-integer index or bad number.
coo_tensor parse_csv_coo(std::string_view text, const std::string& name = "<memory>",
                         const csv_options& opts = {});
coo_tensor read_csv_coo(const std::string& path, const csv_options& opts = {});

/// A dense table of numbers: rows x columns (every row the same width).
tensor parse_csv_dense(std::string_view text, const std::string& name = "<memory>",
                       const csv_options& opts = {});
tensor read_csv_dense(const std::string& path, const csv_options& opts = {});

/// Writes coordinate tuples atomically (0-based, comma-separated, or tab-separated for a .tsv
/// path, with a header "i0,i1,...,value", which the reader takes as a sign of 0-based indices).
void write_csv_coo(const std::string& path, const coo_tensor& X);

}  // namespace facto
