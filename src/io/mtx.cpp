// mtx.cpp: MatrixMarket reading (coordinate/array; real, integer, pattern; general, symmetric,
// skew-symmetric, expanded to full storage) and writing.
#include "facto/io/mtx.hpp"

#include <cctype>
#include <charconv>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "file_view.hpp"
#include "mtx_detail.hpp"
#include "text_table.hpp"

namespace facto {

namespace {

struct mtx_parsed {
    mtx_header h;
    detail::table t;
};

std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return r;
}

}  // namespace

mtx_header detail::parse_mtx_head(std::string_view text, const std::string& name, const char* who, std::size_t& body_offset,
                                  std::size_t& body_line) {
    const std::string w = std::string(who) + ": ";
    mtx_header h;
    std::size_t pos = 0, line = 0;
    auto next_line = [&]() -> std::string_view {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        const auto l = text.substr(pos, eol - pos);
        pos = std::min(text.size(), eol + 1);
        ++line;
        return l;
    };
    // Banner: %%MatrixMarket matrix <format> <field> <symmetry>
    const auto banner = detail::split_fields(next_line(), 0);
    if (banner.empty() || lower(banner[0]) != "%%matrixmarket")
        throw parse_error(name, 1, w + "expected the banner '%%MatrixMarket matrix coordinate|array <field> <symmetry>', found '" +
                                       (banner.empty() ? std::string() : std::string(banner[0])) + "'");
    if (banner.size() != 5)
        throw parse_error(name, 1, w + "expected 5 words in the banner (%%MatrixMarket matrix format field symmetry), found " +
                                       std::to_string(banner.size()));
    if (lower(banner[1]) != "matrix")
        throw parse_error(name, 1, w + "object '" + std::string(banner[1]) + "' is not supported (only 'matrix')");
    const std::string format = lower(banner[2]);
    if (format != "coordinate" && format != "array")
        throw parse_error(name, 1, w + "format '" + std::string(banner[2]) + "' is not 'coordinate' or 'array'");
    h.coordinate = format == "coordinate";
    h.field = lower(banner[3]);
    if (h.field == "double") h.field = "real";
    if (h.field == "complex")
        throw parse_error(name, 1, w + "complex matrices are not supported (fields: real, integer, pattern)");
    if (h.field != "real" && h.field != "integer" && h.field != "pattern")
        throw parse_error(name, 1, w + "field '" + std::string(banner[3]) + "' is not supported (real, integer, pattern)");
    if (h.field == "pattern" && !h.coordinate)
        throw parse_error(name, 1, w + "'pattern' is only valid with the coordinate format");
    h.symmetry = lower(banner[4]);
    if (h.symmetry == "hermitian")
        throw parse_error(name, 1, w + "hermitian matrices are complex, which is not supported");
    if (h.symmetry != "general" && h.symmetry != "symmetric" && h.symmetry != "skew-symmetric")
        throw parse_error(name, 1, w + "symmetry '" + std::string(banner[4]) + "' is not supported (general, symmetric, skew-symmetric)");

    // Size line, after comments and blank lines.
    std::string_view size_line;
    while (pos < text.size()) {
        size_line = next_line();
        if (!detail::is_skipped_line(size_line, '%')) break;
        size_line = {};
    }
    const auto sz = detail::split_fields(size_line, 0);
    const std::size_t want = h.coordinate ? 3 : 2;
    if (sz.size() != want)
        throw parse_error(name, line, w + "expected the size line '" + std::string(h.coordinate ? "rows cols entries" : "rows cols") +
                                          "', found " + std::to_string(sz.size()) + " fields");
    index_t dims[3] = {0, 0, 0};
    for (std::size_t k = 0; k < want; ++k) {
        std::string e = detail::parse_index_field(sz[k], dims[k]);
        if (!e.empty()) throw parse_error(name, line, w + "size line: " + e);
        if (dims[k] < 0) throw parse_error(name, line, w + "size line: negative size " + std::to_string(dims[k]));
    }
    h.rows = dims[0];
    h.cols = dims[1];
    if (h.symmetry != "general" && h.rows != h.cols)
        throw parse_error(name, line, w + "a " + h.symmetry + " matrix must be square, the size line says " +
                                          std::to_string(h.rows) + "x" + std::to_string(h.cols));
    if (h.coordinate) {
        h.entries = dims[2];
    } else {
        const index_t n = h.rows;
        h.entries = h.symmetry == "general" ? h.rows * h.cols : h.symmetry == "symmetric" ? n * (n + 1) / 2 : n * (n - 1) / 2;
    }
    body_offset = pos;
    body_line = line + 1;
    return h;
}

namespace {

mtx_parsed parse_mtx_text(std::string_view text, const std::string& name, const char* who) {
    const std::string w = std::string(who) + ": ";
    mtx_parsed r;
    std::size_t pos = 0, body_line = 1;
    r.h = detail::parse_mtx_head(text, name, who, pos, body_line);
    const mtx_header& h = r.h;
    const std::size_t size_line_no = body_line - 1;

    detail::table_spec spec;
    spec.nidx = h.coordinate ? 2 : 0;
    spec.nval = h.field == "pattern" ? 0 : 1;
    spec.comment = '%';
    spec.what = h.coordinate ? (spec.nval ? "2 indices and a value" : "2 indices") : "a value";
    spec.name = name;
    spec.who = who;
    spec.first_line = body_line;
    r.t = detail::parse_table(text.substr(pos), spec);
    const detail::table& t = r.t;
    if (t.rows < h.entries)
        throw parse_error(name, 0, w + "expected " + std::to_string(h.entries) + " entries (size line " +
                                       std::to_string(size_line_no) + "), found " + std::to_string(t.rows));
    if (t.rows > h.entries)
        throw parse_error(name, t.line_of_row(h.entries), w + "more entries than the " + std::to_string(h.entries) +
                                                              " given on the size line (line " + std::to_string(size_line_no) + ")");
    if (h.coordinate && t.rows > 0) {
        const index_t lim[2] = {h.rows, h.cols};
        for (int f = 0; f < 2; ++f) {
            const auto& a = t.idx[static_cast<std::size_t>(f)];
            if (t.min[static_cast<std::size_t>(f)] >= 1 && t.max[static_cast<std::size_t>(f)] <= lim[f]) continue;
            for (index_t k = 0; k < t.rows; ++k) {
                const index_t v = a[static_cast<std::size_t>(k)];
                if (v < 1 || v > lim[f])
                    throw parse_error(name, t.line_of_row(k),
                                      w + (f == 0 ? "row" : "column") + " index " + std::to_string(v) + " outside 1.." +
                                          std::to_string(lim[f]) + " (MatrixMarket indices are 1-based)");
            }
        }
        if (h.symmetry == "skew-symmetric") {
            for (index_t k = 0; k < t.rows; ++k)
                if (t.idx[0][static_cast<std::size_t>(k)] == t.idx[1][static_cast<std::size_t>(k)] &&
                    (spec.nval == 0 || t.val[static_cast<std::size_t>(k)] != 0))
                    throw parse_error(name, t.line_of_row(k), w + "nonzero diagonal entry in a skew-symmetric matrix");
        }
    }
    return r;
}

// Calls fn(i, j, v) for every entry of the full (expanded) matrix, 0-based.
template <class Fn>
void for_each_entry(const mtx_parsed& p, Fn&& fn) {
    const mtx_header& h = p.h;
    const detail::table& t = p.t;
    const bool sym = h.symmetry == "symmetric", skew = h.symmetry == "skew-symmetric";
    if (h.coordinate) {
        const bool pattern = h.field == "pattern";
        for (index_t k = 0; k < t.rows; ++k) {
            const index_t i = t.idx[0][static_cast<std::size_t>(k)] - 1, j = t.idx[1][static_cast<std::size_t>(k)] - 1;
            const double v = pattern ? 1.0 : t.val[static_cast<std::size_t>(k)];
            fn(i, j, v);
            if ((sym || skew) && i != j) fn(j, i, skew ? -v : v);
        }
        return;
    }
    // Array: column-major; symmetric stores the lower triangle with the diagonal, skew without.
    index_t k = 0;
    for (index_t j = 0; j < h.cols; ++j) {
        const index_t i0 = sym ? j : skew ? j + 1 : 0;
        for (index_t i = i0; i < h.rows; ++i, ++k) {
            const double v = t.val[static_cast<std::size_t>(k)];
            fn(i, j, v);
            if ((sym || skew) && i != j) fn(j, i, skew ? -v : v);
        }
    }
}

void append_entry(std::string& s, index_t i, index_t j, double v, bool with_index) {
    char buf[32];
    if (with_index) {
        auto r = std::to_chars(buf, buf + sizeof buf, i);
        s.append(buf, r.ptr);
        s += ' ';
        r = std::to_chars(buf, buf + sizeof buf, j);
        s.append(buf, r.ptr);
        s += ' ';
    }
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, r.ptr);
    s += '\n';
}

}  // namespace

coo_tensor parse_mtx(std::string_view text, const std::string& name, mtx_header* header) {
    const mtx_parsed p = parse_mtx_text(text, name, "read_mtx");
    coo_tensor X;
    X.shape = {p.h.rows, p.h.cols};
    X.indices.resize(2);
    const bool expand = p.h.symmetry != "general";
    const auto cap = static_cast<std::size_t>(p.t.rows) * (expand ? 2 : 1);
    X.indices[0].reserve(cap);
    X.indices[1].reserve(cap);
    X.values.reserve(cap);
    for_each_entry(p, [&](index_t i, index_t j, double v) {
        if (!p.h.coordinate && v == 0) return;  // dense zeros are not entries
        X.indices[0].push_back(i);
        X.indices[1].push_back(j);
        X.values.push_back(v);
    });
    X.canonicalize(true);  // a stored zero is an observed entry (completion, --observed-only)
    if (header) *header = p.h;
    return X;
}

coo_tensor read_mtx(const std::string& path, mtx_header* header) {
    const detail::file_view file(path);
    const std::string_view text = file.text();
    return parse_mtx(text, path, header);
}

tensor detail::parse_mtx_dense(std::string_view text, const std::string& name) {
    const mtx_parsed p = parse_mtx_text(text, name, "read_mtx_dense");
    tensor X({p.h.rows, p.h.cols});
    double* d = X.data();
    const index_t cols = p.h.cols;
    // Coordinate duplicates add up, as in the sparse reader.
    for_each_entry(p, [&](index_t i, index_t j, double v) { d[i * cols + j] += v; });
    return X;
}

tensor read_mtx_dense(const std::string& path) {
    const detail::file_view file(path);
    const std::string_view text = file.text();
    return detail::parse_mtx_dense(text, path);
}

void write_mtx(const std::string& path, const coo_tensor& X) {
    X.validate("write_mtx");
    if (X.order() != 2)
        throw invalid_argument("write_mtx: MatrixMarket holds matrices; the tensor has order " + std::to_string(X.order()));
    std::string s = "%%MatrixMarket matrix coordinate real general\n";
    s += std::to_string(X.shape[0]) + " " + std::to_string(X.shape[1]) + " " + std::to_string(X.nnz()) + "\n";
    atomic_file out(path);
    for (index_t k = 0; k < X.nnz(); ++k) {
        append_entry(s, X.indices[0][static_cast<std::size_t>(k)] + 1, X.indices[1][static_cast<std::size_t>(k)] + 1,
                     X.values[static_cast<std::size_t>(k)], true);
        if (s.size() > (1u << 20)) out.write(s), s.clear();
    }
    out.write(s);
    out.commit();
}

void write_mtx(const std::string& path, tensor_view X) {
    if (X.order() != 2)
        throw invalid_argument("write_mtx: MatrixMarket holds matrices; the tensor has order " + std::to_string(X.order()));
    const index_t rows = X.dim(0), cols = X.dim(1);
    std::string s = "%%MatrixMarket matrix array real general\n" + std::to_string(rows) + " " + std::to_string(cols) + "\n";
    atomic_file out(path);
    for (index_t j = 0; j < cols; ++j)
        for (index_t i = 0; i < rows; ++i) {
            append_entry(s, 0, 0, X.data()[i * cols + j], false);
            if (s.size() > (1u << 20)) out.write(s), s.clear();
        }
    out.write(s);
    out.commit();
}

}  // namespace facto
