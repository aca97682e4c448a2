// file_view.hpp: a whole input file as text: memory-mapped when it is a plain uncompressed
// file (no copy and no fresh memory to fault in: on this class of machine first-touch page
// clearing costs more than the parse), otherwise read_file()'s decompressed bytes.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace facto::detail {

class file_view {
public:
    /// Throws facto::io_error naming the file on failure, like read_file().
    explicit file_view(const std::string& path);
    ~file_view();
    file_view(const file_view&) = delete;
    file_view& operator=(const file_view&) = delete;

    std::string_view text() const noexcept { return map_ ? std::string_view(static_cast<const char*>(map_), size_) : owned_; }

private:
    void* map_ = nullptr;
    std::size_t size_ = 0;
    std::string owned_;
};

}  // namespace facto::detail
