// mtx_detail.hpp: MatrixMarket text to a dense matrix without re-reading the file.
#pragma once
#include <string>
#include <string_view>

#include "facto/core/tensor.hpp"
#include "facto/io/mtx.hpp"

namespace facto::detail {

/// Parses the banner and size line (throws parse_error like read_mtx); body_offset and
/// body_line receive where the entries start.
mtx_header parse_mtx_head(std::string_view text, const std::string& name, const char* who, std::size_t& body_offset,
                          std::size_t& body_line);

/// read_mtx_dense() on text already in memory.
tensor parse_mtx_dense(std::string_view text, const std::string& name);

}  // namespace facto::detail
