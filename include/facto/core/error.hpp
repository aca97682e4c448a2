// facto/core/error.hpp: the exception types every facto entry point throws.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

namespace facto {

/// A caller passed an argument that cannot be used (bad rank, mismatched shapes, ...).
/// Maps to Python's ValueError.
struct invalid_argument : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

/// An index or coordinate lies outside the tensor. Maps to Python's IndexError.
struct out_of_range : std::out_of_range {
    using std::out_of_range::out_of_range;
};

/// A file could not be opened, read or written. Maps to Python's OSError.
struct io_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Malformed file content. The message reads "FILE:LINE: what was found, what was expected";
/// line is 0 when the problem is not tied to a line (a binary header, say).
struct parse_error : std::invalid_argument {
    parse_error(std::string file, std::size_t line, const std::string& what)
        : std::invalid_argument(line ? file + ":" + std::to_string(line) + ": " + what
                                     : file + ": " + what),
          file_(std::move(file)),
          line_(line) {}
    const std::string& file() const noexcept { return file_; }
    std::size_t line() const noexcept { return line_; }

private:
    std::string file_;
    std::size_t line_;
};

}  // namespace facto
