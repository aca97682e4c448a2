// facto/io/any.hpp: read and write a tensor in whichever format its file name says.
#pragma once
#include <string>
#include <variant>
#include <vector>

#include "facto/core/sparse.hpp"
#include "facto/core/tensor.hpp"

namespace facto {

/// A tensor as read from a file: dense (.npy, array .mtx, dense .csv) or sparse (.tns,
/// coordinate .mtx, coordinate .csv).
using any_tensor = std::variant<tensor, coo_tensor>;

/// Formats by extension, after a .gz/.xz suffix: tns, npy, npz (its first array, or `key`),
/// mtx (array files dense, coordinate files sparse), csv/tsv (coordinates when every row is
/// (integer indices..., value) with at most 8 indices and `dense_csv` is false; a dense table
/// otherwise, so digits.csv with 65 integer columns is a 1797 x 65 table).
struct read_options {
    std::string format;     ///< override the extension ("tns", "npy", "mtx", "csv", "npz")
    std::string key;        ///< npz member
    bool dense_csv = false; ///< read .csv/.tsv as a dense table
    /// Dimensions of a sparse coordinate file (.tns, coordinate .csv/.mtx), which otherwise are
    /// the largest index per mode: trailing empty slices leave no trace in such a file. Must
    /// have the file's order and cover every index; a dense input must match it exactly.
    shape_t shape;
};
any_tensor read_tensor(const std::string& path, const read_options& opts = {});

/// Writes by extension: .tns (sparse, a dense input keeps its nonzeros), .npy and .npz (dense,
/// member "arr_0"; a sparse input is densified if it has at most 2^31 entries), .mtx (2-way:
/// coordinate for sparse, array for dense input), .csv/.tsv (coordinates). Compressed output
/// (.gz/.xz) is refused with invalid_argument. Atomic: a failed write leaves any existing file
/// untouched.
void write_tensor(const std::string& path, const any_tensor& X);

/// One problem found by check_tensor_file(): line 0 when not tied to a line.
struct file_problem {
    std::size_t line = 0;
    std::string message;  ///< what was found and what was expected
};

/// What `facto check` reports: the format, what was read, and every problem (up to a limit)
/// rather than only the first. Problems are parse errors (bad field count, non-numbers,
/// index 0 in a 1-based file, negative indices, NaN/Inf values) and warnings about content
/// (duplicate coordinates, explicit zeros, empty slices).
struct check_report {
    std::string format;
    shape_t shape;
    index_t entries = 0;                 ///< nonzeros (sparse) or values (dense) read
    std::vector<file_problem> errors;    ///< the file cannot be used as it is
    std::vector<file_problem> warnings;  ///< usable, but probably not what was meant
    bool truncated = false;              ///< more than max_problems were found
};
check_report check_tensor_file(const std::string& path, std::size_t max_problems = 100);

/// Known extensions, for messages: "tns, npy, npz, mtx, csv, tsv (optionally .gz or .xz)".
const char* supported_formats();

}  // namespace facto
