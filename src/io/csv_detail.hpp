// csv_detail.hpp: what csv.cpp detects about a CSV/TSV text (shared with check_tensor_file).
#pragma once
#include <cstddef>
#include <string_view>
#include <vector>

#include "facto/io/csv.hpp"

namespace facto::detail {

struct csv_layout {
    char delim = 0;               ///< 0: runs of blanks
    bool header = false;
    std::size_t header_line = 0;  ///< line number of the header (0: none)
    std::vector<std::string_view> header_fields;
    std::size_t body_offset = 0;  ///< byte offset where data lines start
    std::size_t body_line = 1;    ///< line number of body_offset
    std::size_t width = 0;        ///< fields on the first data line (0: no data)
    std::size_t first_data_line = 0;
};

/// Finds the delimiter (unless given), the header (unless given) and the first data line.
csv_layout detect_csv(std::string_view text, const csv_options& opts, const char* who);

}  // namespace facto::detail
