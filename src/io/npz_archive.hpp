// npz_archive.hpp: the zip container under .npz: reading (central directory, stored or
// deflated members, zip64) and writing.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace facto::detail {

struct zip_member {
    std::string name;
    std::string data;  ///< uncompressed bytes
};

/// Every file member of a zip archive, in central-directory order, CRC-checked. Throws
/// parse_error naming `name` on a damaged archive or an unsupported method or encryption.
std::vector<zip_member> read_zip(std::string_view bytes, const std::string& name);

/// A zip archive holding the members in order, stored or deflated; zip64 records are used
/// only where a size, offset or count needs them. Timestamps are fixed (1980-01-01), so the
/// same input gives the same bytes.
std::string make_zip(const std::vector<zip_member>& members, bool deflate);

}  // namespace facto::detail
