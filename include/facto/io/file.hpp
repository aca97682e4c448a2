// facto/io/file.hpp: whole-file input with transparent .gz/.xz decompression, and atomic output.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace facto {

/// Reads a whole file into memory, decompressing gzip or xz content (detected by its magic
/// bytes, whatever the name). Throws facto::io_error naming the file on failure.
std::string read_file(const std::string& path);

/// The file name without a trailing .gz or .xz, lower-cased extension kept: "a/x.tns.xz" ->
/// "a/x.tns". Formats are chosen by extension after this.
std::string strip_compression_suffix(const std::string& path);
/// Lower-case extension after stripping compression, without the dot ("tns", "npy", ...).
std::string format_extension(const std::string& path);

/// Writes to PATH.tmp-XXXX in the same folder, then renames over path on commit(); if the
/// writer is destroyed without commit() (an exception, an interrupted run), the temporary file
/// is removed and an existing file at path is untouched.
class atomic_file {
public:
    explicit atomic_file(std::string path);
    ~atomic_file();
    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;

    void write(const void* data, std::size_t bytes);
    void write(std::string_view s) { write(s.data(), s.size()); }
    /// Flushes, fsyncs and renames into place; throws facto::io_error on failure.
    void commit();
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_, tmp_;
    int fd_ = -1;
};

/// Writes a whole string atomically (atomic_file + commit).
void write_file_atomic(const std::string& path, std::string_view content);

}  // namespace facto
