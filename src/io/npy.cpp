// npy.cpp: NumPy .npy (versions 1-3, C and Fortran order, little-endian numbers and bool) and
// .npz zip archives (stored or deflated members, zip64), both ways.
#include "facto/io/npy.hpp"

#include <zlib.h>

#include <bit>
#include <cstring>
#include <limits>

#include "core/huge_pages.hpp"
#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "file_view.hpp"
#include "npz_archive.hpp"

namespace facto {

namespace {

static_assert(std::endian::native == std::endian::little, "facto's .npy/.npz code assumes a little-endian host");

constexpr const char* supported_dtypes =
    "supported: little-endian '<f4', '<f8', '<i1'...'<i8', '<u1'...'<u8' and '|b1' ('|' for 1-byte types)";

// A small reader for the Python literal dict in the header.
struct dict_parser {
    std::string_view s;
    std::size_t i = 0;
    const std::string& name;

    [[noreturn]] void fail(const std::string& what) const {
        throw parse_error(name, 0, "read_npy: bad header dict (" + what + ") in " + std::string(s));
    }
    void ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    }
    bool eat(char c) {
        ws();
        if (i < s.size() && s[i] == c) return ++i, true;
        return false;
    }
    void expect(char c) {
        if (!eat(c)) fail(std::string("expected '") + c + "'");
    }
    std::string str() {
        ws();
        if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) fail("expected a string");
        const char q = s[i++];
        const std::size_t b = i;
        while (i < s.size() && s[i] != q) ++i;
        if (i >= s.size()) fail("unterminated string");
        return std::string(s.substr(b, i++ - b));
    }
    bool boolean() {
        ws();
        if (s.substr(i, 4) == "True") return i += 4, true;
        if (s.substr(i, 5) == "False") return i += 5, false;
        fail("expected True or False");
    }
    shape_t tuple() {
        expect('(');
        shape_t shape;
        for (;;) {
            if (eat(')')) break;
            ws();
            std::size_t b = i;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
            if (b == i) fail("expected a dimension");
            index_t d = 0;
            for (std::size_t k = b; k < i; ++k) {
                if (d > (std::numeric_limits<index_t>::max() - 9) / 10) fail("dimension too large");
                d = d * 10 + (s[k] - '0');
            }
            if (i < s.size() && s[i] == 'L') ++i;  // Python 2 long
            shape.push_back(d);
            if (eat(',')) continue;
            expect(')');
            break;
        }
        return shape;
    }
};

struct dtype_info {
    char kind = 0;  // f, i, u, b
    std::size_t size = 0;
};

dtype_info check_descr(const std::string& descr, const std::string& name) {
    const char order = descr.size() > 0 ? descr[0] : ' ', kind = descr.size() > 1 ? descr[1] : ' ';
    if (kind == 'O') throw parse_error(name, 0, "read_npy: object arrays ('" + descr + "') are not supported; " + supported_dtypes);
    if (descr.size() < 3) throw parse_error(name, 0, "read_npy: unsupported dtype '" + descr + "'; " + supported_dtypes);
    std::size_t size = 0;
    for (std::size_t k = 2; k < descr.size(); ++k) {
        if (descr[k] < '0' || descr[k] > '9')
            throw parse_error(name, 0, "read_npy: unsupported dtype '" + descr + "'; " + supported_dtypes);
        size = size * 10 + static_cast<std::size_t>(descr[k] - '0');
    }
    if (kind == 'c') throw parse_error(name, 0, "read_npy: complex data ('" + descr + "') is not supported; " + supported_dtypes);
    const bool ok_kind = (kind == 'f' && (size == 4 || size == 8)) ||
                         ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
                         (kind == 'b' && size == 1);
    if (!ok_kind) throw parse_error(name, 0, "read_npy: unsupported dtype '" + descr + "'; " + supported_dtypes);
    if (order == '>' && size > 1)
        throw parse_error(name, 0, "read_npy: big-endian data ('" + descr + "') is not supported; " + supported_dtypes);
    if (order != '<' && order != '|' && order != '=' && !(order == '>' && size == 1))
        throw parse_error(name, 0, "read_npy: unsupported dtype '" + descr + "'; " + supported_dtypes);
    return {kind, size};
}

template <class S, class T>
void convert(const char* src, std::size_t n, T* dst) {
    for (std::size_t k = 0; k < n; ++k) {
        S v;
        std::memcpy(&v, src + k * sizeof(S), sizeof(S));
        dst[k] = static_cast<T>(v);
    }
}

// Fortran order: element (i0, ..., id) at i0 + d0 * (i1 + d1 * (...)); walk the source in its
// own order with an odometer and place each value at its C-order offset.
template <class T>
void fortran_to_c(const std::vector<T>& f, const shape_t& shape, std::vector<T>& c) {
    const std::size_t d = shape.size();
    const shape_t stride = row_major_strides(shape);
    std::vector<index_t> idx(d, 0);
    index_t off = 0;
    for (std::size_t k = 0; k < f.size(); ++k) {
        c[static_cast<std::size_t>(off)] = f[k];
        for (std::size_t m = 0; m < d; ++m) {
            if (++idx[m] < shape[m]) {
                off += stride[m];
                break;
            }
            off -= (shape[m] - 1) * stride[m];
            idx[m] = 0;
        }
    }
}

template <class T>
const char* descr_of() {
    return sizeof(T) == 8 ? "<f8" : "<f4";
}

template <class T>
std::string npy_bytes(const T* data, const shape_t& shape) {
    std::string dict = std::string("{'descr': '") + descr_of<T>() + "', 'fortran_order': False, 'shape': (";
    for (std::size_t m = 0; m < shape.size(); ++m) {
        dict += std::to_string(shape[m]);
        if (shape.size() == 1 || m + 1 < shape.size()) dict += shape.size() == 1 ? "," : ", ";
    }
    dict += "), }";
    // Pad with spaces and end with '\n' so the data starts at a multiple of 64 bytes, as NumPy does.
    std::size_t prefix = 10;
    std::size_t total = prefix + dict.size() + 1;
    if ((total + 63) / 64 * 64 - prefix > 65535) prefix = 12;  // version 2.0: 4-byte length
    total = prefix + dict.size() + 1;
    const std::size_t padded = (total + 63) / 64 * 64;
    dict.append(padded - total, ' ');
    dict += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(prefix == 10 ? 1 : 2);
    out += '\0';
    const std::uint32_t hlen = static_cast<std::uint32_t>(dict.size());
    out.append(reinterpret_cast<const char*>(&hlen), prefix == 10 ? 2 : 4);
    out += dict;
    const std::size_t n = static_cast<std::size_t>(shape_size(shape));
    out.append(reinterpret_cast<const char*>(data), n * sizeof(T));
    return out;
}

}  // namespace

npy_header parse_npy_header(std::string_view bytes, const std::string& name) {
    if (bytes.size() < 10 || bytes.substr(0, 6) != "\x93NUMPY")
        throw parse_error(name, 0, "read_npy: not a .npy file (the magic string \\x93NUMPY is missing)");
    const int major = static_cast<unsigned char>(bytes[6]);
    if (major < 1 || major > 3)
        throw parse_error(name, 0, "read_npy: .npy format version " + std::to_string(major) + "." +
                                       std::to_string(static_cast<unsigned char>(bytes[7])) + " is not supported (1.0, 2.0, 3.0 are)");
    std::size_t hlen = 0, prefix = major == 1 ? 10 : 12;
    if (bytes.size() < prefix) throw parse_error(name, 0, "read_npy: file ends inside the header");
    for (std::size_t k = prefix; k-- > 8;) hlen = hlen * 256 + static_cast<unsigned char>(bytes[k]);
    if (bytes.size() < prefix + hlen)
        throw parse_error(name, 0, "read_npy: header length " + std::to_string(hlen) + " runs past the end of the file (" +
                                       std::to_string(bytes.size()) + " bytes)");
    npy_header h;
    h.data_offset = prefix + hlen;
    dict_parser p{bytes.substr(prefix, hlen), 0, name};
    bool have_descr = false, have_order = false, have_shape = false;
    p.expect('{');
    while (!p.eat('}')) {
        const std::string key = p.str();
        p.expect(':');
        if (key == "descr") {
            p.ws();
            if (p.i < p.s.size() && p.s[p.i] == '[')
                throw parse_error(name, 0, "read_npy: structured dtypes are not supported; " + std::string(supported_dtypes));
            h.descr = p.str();
            have_descr = true;
        } else if (key == "fortran_order") {
            h.fortran_order = p.boolean();
            have_order = true;
        } else if (key == "shape") {
            h.shape = p.tuple();
            have_shape = true;
        } else {
            p.fail("unknown key '" + key + "'");
        }
        if (!p.eat(',')) {
            p.expect('}');
            break;
        }
    }
    if (!have_descr || !have_order || !have_shape)
        p.fail(std::string("missing key '") + (!have_descr ? "descr" : !have_order ? "fortran_order" : "shape") + "'");
    return h;
}

template <class T>
basic_tensor<T> parse_npy(std::string_view bytes, const std::string& name) {
    const npy_header h = parse_npy_header(bytes, name);
    const dtype_info dt = check_descr(h.descr, name);
    shape_t shape = h.shape.empty() ? shape_t{1} : h.shape;
    index_t n;
    try {
        n = shape_size(shape);
    } catch (const invalid_argument&) {
        throw parse_error(name, 0, "read_npy: shape " + shape_string(h.shape) + " is too large");
    }
    const std::size_t have = bytes.size() - h.data_offset;
    const auto want = static_cast<std::size_t>(n) * dt.size;
    if (static_cast<std::size_t>(n) > std::numeric_limits<std::size_t>::max() / dt.size || have != want)
        throw parse_error(name, 0, "read_npy: header says shape " + shape_string(h.shape) + " of '" + h.descr + "' (" +
                                       std::to_string(want) + " bytes of data) but the file holds " +
                                       std::to_string(have) + " bytes after the header");
    std::vector<T> v;
    detail::resize_huge(v, static_cast<std::size_t>(n));
    const char* src = bytes.data() + h.data_offset;
    const auto N = static_cast<std::size_t>(n);
    switch (dt.kind) {
        case 'f': dt.size == 4 ? convert<float>(src, N, v.data()) : convert<double>(src, N, v.data()); break;
        case 'i':
            if (dt.size == 1) convert<std::int8_t>(src, N, v.data());
            else if (dt.size == 2) convert<std::int16_t>(src, N, v.data());
            else if (dt.size == 4) convert<std::int32_t>(src, N, v.data());
            else convert<std::int64_t>(src, N, v.data());
            break;
        case 'u':
            if (dt.size == 1) convert<std::uint8_t>(src, N, v.data());
            else if (dt.size == 2) convert<std::uint16_t>(src, N, v.data());
            else if (dt.size == 4) convert<std::uint32_t>(src, N, v.data());
            else convert<std::uint64_t>(src, N, v.data());
            break;
        default:  // bool: any nonzero byte is true
            for (std::size_t k = 0; k < N; ++k) v[k] = src[k] != 0 ? T(1) : T(0);
    }
    if (h.fortran_order && shape.size() > 1) {
        std::vector<T> c;
        detail::resize_huge(c, N);
        fortran_to_c(v, shape, c);
        v.swap(c);
    }
    return basic_tensor<T>(std::move(shape), std::move(v));
}

template <class T>
basic_tensor<T> read_npy(const std::string& path) {
    const detail::file_view file(path);
    const std::string_view bytes = file.text();
    return parse_npy<T>(bytes, path);
}

template <class T>
std::string to_npy(basic_tensor_view<const T> X) {
    return npy_bytes(X.data(), X.shape());
}

template <class T>
void write_npy(const std::string& path, basic_tensor_view<const T> X) {
    write_file_atomic(path, to_npy<T>(X));
}

template <class T>
void write_npy(const std::string& path, const basic_matrix<T>& M) {
    write_file_atomic(path, npy_bytes(M.data(), shape_t{M.rows(), M.cols()}));
}

template <class T>
void write_npy(const std::string& path, const std::vector<T>& v) {
    write_file_atomic(path, npy_bytes(v.data(), shape_t{static_cast<index_t>(v.size())}));
}

template <class T>
std::map<std::string, basic_tensor<T>> read_npz(const std::string& path) {
    const detail::file_view file(path);
    const std::string_view bytes = file.text();
    std::map<std::string, basic_tensor<T>> out;
    for (auto& m : detail::read_zip(bytes, path)) {
        std::string key = m.name;
        if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
        out.emplace(key, parse_npy<T>(m.data, path + ":" + m.name));
    }
    return out;
}

template <class T>
void write_npz(const std::string& path, const std::map<std::string, basic_tensor<T>>& arrays, bool compress) {
    std::vector<detail::zip_member> members;
    for (const auto& [key, X] : arrays) {
        if (key.empty()) throw invalid_argument("write_npz: empty array name");
        members.push_back({key + ".npy", to_npy<T>(X.view())});
    }
    write_file_atomic(path, detail::make_zip(members, compress));
}

#define FACTO_NPY_INSTANTIATE(T)                                                                            \
    template basic_tensor<T> parse_npy<T>(std::string_view, const std::string&);                           \
    template basic_tensor<T> read_npy<T>(const std::string&);                                                \
    template std::string to_npy<T>(basic_tensor_view<const T>);                                              \
    template void write_npy<T>(const std::string&, basic_tensor_view<const T>);                             \
    template void write_npy<T>(const std::string&, const basic_matrix<T>&);                                  \
    template void write_npy<T>(const std::string&, const std::vector<T>&);                                   \
    template std::map<std::string, basic_tensor<T>> read_npz<T>(const std::string&);                         \
    template void write_npz<T>(const std::string&, const std::map<std::string, basic_tensor<T>>&, bool);
FACTO_NPY_INSTANTIATE(double)
FACTO_NPY_INSTANTIATE(float)
#undef FACTO_NPY_INSTANTIATE

}  // namespace facto
