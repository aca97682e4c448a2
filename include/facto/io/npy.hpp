// facto/io/npy.hpp: NumPy .npy arrays (versions 1-3) and .npz archives (stored or deflated).
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "facto/core/tensor.hpp"

namespace facto {

/// What a .npy header says.
struct npy_header {
    std::string descr;      ///< e.g. "<f8", "<i4", "|u1", "|b1"
    bool fortran_order = false;
    shape_t shape;          ///< empty for a 0-d array
    std::size_t data_offset = 0;  ///< bytes from the file start to the data
};

/// Parses the header of .npy bytes; throws facto::parse_error on a bad magic, version or dict.
npy_header parse_npy_header(std::string_view bytes, const std::string& name = "<memory>");

/// Reads .npy bytes into a C-order tensor of T, converting from little-endian float (f4, f8),
/// signed/unsigned integers (1-8 bytes) and bool; Fortran order is transposed to C order.
/// A 0-d array becomes shape {1}. Big-endian data, complex and object arrays are rejected
/// with a parse_error saying what was found.
template <class T>
basic_tensor<T> parse_npy(std::string_view bytes, const std::string& name = "<memory>");
template <class T>
basic_tensor<T> read_npy(const std::string& path);  ///< read_file() + parse_npy()

/// Serializes as .npy version 1.0, C order, "<f8" or "<f4".
template <class T>
std::string to_npy(basic_tensor_view<const T> X);
/// Writes atomically. Matrices and vectors go through their own overloads.
template <class T>
void write_npy(const std::string& path, basic_tensor_view<const T> X);
template <class T>
void write_npy(const std::string& path, const basic_matrix<T>& M);
template <class T>
void write_npy(const std::string& path, const std::vector<T>& v);

/// Reads every array of an .npz archive (zip, members stored or deflated), keyed by name
/// without the ".npy" suffix, converted to T.
template <class T>
std::map<std::string, basic_tensor<T>> read_npz(const std::string& path);
/// Writes an .npz archive atomically (members deflated when compress is true).
template <class T>
void write_npz(const std::string& path, const std::map<std::string, basic_tensor<T>>& arrays,
               bool compress = false);

}  // namespace facto
