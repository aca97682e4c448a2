// facto/io/any.hpp: read and write a tensor in whichever format its file name says.
#pragma once
#include <string>
#include <variant>

#include "facto/core/sparse.hpp"
#include "facto/core/tensor.hpp"

namespace facto {

/// A tensor as read from a file: dense (.npy, array .mtx, dense .csv) or sparse (.tns,
/// coordinate .mtx, coordinate .csv).
using any_tensor = std::variant<tensor, coo_tensor>;

/// Formats by extension, after a .gz/.xz suffix: tns, npy, npz (its first array, or `key`),
/// mtx, csv/tsv (coordinates when every row is (integer indices..., value) and `dense` is
/// false; a dense table otherwise).
struct read_options {
    std::string format;     ///< override the extension ("tns", "npy", "mtx", "csv", "npz")
    std::string key;        ///< npz member
    bool dense_csv = false; ///< read .csv/.tsv as a dense table
};
any_tensor read_tensor(const std::string& path, const read_options& opts = {});

/// Writes by extension: .tns (sparse, a dense input keeps its nonzeros), .npy (dense; a
/// sparse input is densified if it fits in memory), .mtx (2-way), .csv/.tsv (coordinates).
/// Atomic: a failed write leaves any existing file untouched.
void write_tensor(const std::string& path, const any_tensor& X);

/// Known extensions, for messages: "tns, npy, npz, mtx, csv, tsv (optionally .gz or .xz)".
const char* supported_formats();

}  // namespace facto
