// facto/io/tns.hpp: FROSTT .tns sparse tensors (one nonzero per line: indices then value).
#pragma once
#include <string>
#include <string_view>

#include "facto/core/sparse.hpp"

namespace facto {

struct tns_read_options {
    /// Index base of the file: -1 detects it (0-based if any index is 0, else 1-based).
    int index_base = -1;
    /// Shape to use instead of the largest index per mode (must cover every index).
    shape_t shape;
    bool sum_duplicates = true;  ///< canonicalize after reading (duplicates summed, stored zeros kept)
};

/// Parses .tns text: blank lines and lines starting with '#' are skipped; every other line
/// holds order indices and one value, separated by spaces or tabs. The order is taken from
/// the first data line. Multi-threaded and allocation-light (>= 50 MB/s on one core).
/// Throws facto::parse_error naming file and line ("expected 4 fields (3 indices and a value),
/// found 3", "index 0 in a 1-based file", "not a number: 'abc'").
coo_tensor parse_tns(std::string_view text, const std::string& name = "<memory>",
                     const tns_read_options& opts = {});
/// read_file() (so .gz/.xz are read directly) + parse_tns().
coo_tensor read_tns(const std::string& path, const tns_read_options& opts = {});

/// Writes 1-based (or 0-based) .tns text atomically; values with full round-trip precision.
void write_tns(const std::string& path, const coo_tensor& X, int index_base = 1);

}  // namespace facto
