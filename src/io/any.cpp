// any.cpp: format dispatch by extension (read_tensor, write_tensor) and check_tensor_file, a
// tolerant pass that lists every problem of a file instead of stopping at the first.
#include "facto/io/any.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <numeric>

#include "csv_detail.hpp"
#include "file_view.hpp"
#include "facto/core/error.hpp"
#include "facto/io/csv.hpp"
#include "facto/io/file.hpp"
#include "facto/io/mtx.hpp"
#include "facto/io/npy.hpp"
#include "facto/io/tns.hpp"
#include "mtx_detail.hpp"
#include "npz_archive.hpp"
#include "text_table.hpp"

namespace facto {

namespace {

// Auto-detected coordinate CSV files have at most this many modes: a wider all-integer table
// (digits.csv: 64 pixels and a label) is a dense table, not a 64-way tensor.
constexpr std::size_t max_auto_csv_order = 8;

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string format_of(const std::string& path, const std::string& override_fmt, const char* who) {
    const std::string f = override_fmt.empty() ? format_extension(path) : lower(override_fmt);
    if (f == "tns" || f == "npy" || f == "npz" || f == "mtx" || f == "csv" || f == "tsv") return f;
    throw invalid_argument(std::string(who) + ": cannot tell the format of '" + path + "' (" +
                           (f.empty() ? std::string("no extension") : "'" + f + "'") + "); supported: " + supported_formats());
}

bool mtx_is_array(std::string_view text) {
    const auto eol = text.find('\n');
    const auto words = detail::split_fields(text.substr(0, eol), 0);
    return words.size() >= 3 && lower(std::string(words[2])) == "array";
}

// Every row (integer indices..., value) and few enough columns: coordinates.
bool csv_is_coo(std::string_view text, const std::string& name, coo_tensor* out) {
    const detail::csv_layout L = detail::detect_csv(text, {}, "read_tensor");
    if (L.width < 2 || L.width - 1 > max_auto_csv_order) return false;
    try {
        coo_tensor X = parse_csv_coo(text, name);
        if (out) *out = std::move(X);
        return true;
    } catch (const parse_error&) {
        return false;
    }
}

const detail::zip_member& npz_member(const std::vector<detail::zip_member>& members, const std::string& key,
                                     const std::string& path) {
    if (members.empty()) throw parse_error(path, 0, "read_tensor: the .npz archive holds no arrays");
    if (key.empty()) return members.front();
    std::string names;
    for (const auto& m : members) {
        if (m.name == key || m.name == key + ".npy") return m;
        names += (names.empty() ? "" : ", ") + m.name;
    }
    throw invalid_argument("read_tensor: '" + path + "' has no array '" + key + "' (it has " + names + ")");
}

}  // namespace

const char* supported_formats() { return "tns, npy, npz, mtx, csv, tsv (optionally .gz or .xz)"; }

namespace {

any_tensor read_as_stored(const std::string& path, const read_options& opts) {
    const std::string fmt = format_of(path, opts.format, "read_tensor");
    if (fmt == "tns") return read_tns(path);
    const detail::file_view file(path);
    const std::string_view bytes = file.text();
    if (fmt == "npy") return parse_npy<double>(bytes, path);
    if (fmt == "npz") {
        const auto members = detail::read_zip(bytes, path);
        const auto& m = npz_member(members, opts.key, path);
        return parse_npy<double>(m.data, path + ":" + m.name);
    }
    if (fmt == "mtx") {
        if (mtx_is_array(bytes)) return detail::parse_mtx_dense(bytes, path);
        return parse_mtx(bytes, path);
    }
    if (!opts.dense_csv) {
        coo_tensor X;
        if (csv_is_coo(bytes, path, &X)) return X;
    }
    return parse_csv_dense(bytes, path);
}

// Applies read_options::shape: sparse tensors may grow to it, dense ones must match it.
void apply_shape(any_tensor& X, const shape_t& shape, const std::string& path) {
    if (shape.empty()) return;
    if (auto* D = std::get_if<tensor>(&X)) {
        if (D->shape() != shape)
            throw invalid_argument("read_tensor: " + path + " holds a dense " + shape_string(D->shape()) +
                                   " tensor, but shape " + shape_string(shape) + " was given");
        return;
    }
    coo_tensor& S = std::get<coo_tensor>(X);
    if (shape.size() != S.shape.size())
        throw invalid_argument("read_tensor: shape " + shape_string(shape) + " has " + std::to_string(shape.size()) +
                               " modes, but " + path + " holds a tensor of order " + std::to_string(S.order()));
    for (std::size_t m = 0; m < shape.size(); ++m)
        if (shape[m] < S.shape[m])
            throw invalid_argument("read_tensor: shape " + shape_string(shape) + " is too small for " + path +
                                   ": mode " + std::to_string(m) + " has indices up to " +
                                   std::to_string(S.shape[m] - 1) + " (0-based)");
    S.shape = shape;
}

}  // namespace

any_tensor read_tensor(const std::string& path, const read_options& opts) {
    any_tensor X = read_as_stored(path, opts);
    apply_shape(X, opts.shape, path);
    return X;
}

void write_tensor(const std::string& path, const any_tensor& X) {
    if (strip_compression_suffix(path) != path)
        throw invalid_argument("write_tensor: writing compressed files is not supported ('" + path +
                               "'); write the plain file and compress it afterwards");
    const std::string fmt = format_of(path, "", "write_tensor");
    const auto sparse = [&]() -> coo_tensor {
        if (const auto* c = std::get_if<coo_tensor>(&X)) return *c;
        return to_coo<double>(std::get<tensor>(X).view());
    };
    const auto dense = [&]() -> tensor {
        if (const auto* t = std::get_if<tensor>(&X)) return *t;
        const coo_tensor& c = std::get<coo_tensor>(X);
        c.validate("write_tensor");
        const index_t n = shape_size(c.shape);
        // Densifying is for tensors that fit comfortably: 2^31 values is 16 GiB of doubles.
        if (n > (index_t(1) << 31))
            throw invalid_argument("write_tensor: the sparse tensor " + shape_string(c.shape) + " has " + std::to_string(n) +
                                   " entries, too many to write densely to '" + path + "'; use .tns, .mtx or .csv");
        return to_dense(c);
    };
    if (fmt == "tns") {
        write_tns(path, sparse());
    } else if (fmt == "npy") {
        if (const auto* t = std::get_if<tensor>(&X)) write_npy<double>(path, t->view());
        else write_npy<double>(path, dense().view());
    } else if (fmt == "npz") {
        write_npz<double>(path, {{"arr_0", dense()}}, true);
    } else if (fmt == "mtx") {
        if (const auto* t = std::get_if<tensor>(&X)) write_mtx(path, t->view());
        else write_mtx(path, std::get<coo_tensor>(X));
    } else {
        write_csv_coo(path, sparse());
    }
}

// ---------------------------------------------------------------------------------------------
// check_tensor_file

namespace {

struct reporter {
    check_report& r;
    std::size_t max;
    bool full() {
        if (r.errors.size() + r.warnings.size() >= max) {
            r.truncated = true;
            return true;
        }
        return false;
    }
    void error(std::size_t line, std::string msg) {
        if (!full()) r.errors.push_back({line, std::move(msg)});
    }
    void warning(std::size_t line, std::string msg) {
        if (!full()) r.warnings.push_back({line, std::move(msg)});
    }
};

struct coord_rules {
    char delim = 0;
    char comment = '#';
    int order = -1;           ///< -1: from the first data line
    bool has_value = true;
    index_t base = -1;        ///< -1: detect (0 when any index is 0)
    shape_t limits;           ///< mtx: the size line (indices must be <= these)
    bool lower_only = false;  ///< symmetric mtx: entries should be on or below the diagonal
};

// Lines of coordinates: every problem by line, then duplicates, explicit zeros and empty slices.
void check_coords(std::string_view text, std::size_t first_line, const coord_rules& rules, reporter& rep) {
    int order = rules.order;
    std::vector<std::vector<index_t>> idx;
    std::vector<std::size_t> lines;
    std::vector<std::pair<std::size_t, int>> first_zero;  // (line, mode) of the first index 0 per mode
    detail::for_each_line(text, first_line, [&](std::size_t ln, std::string_view l) {
        if (detail::is_skipped_line(l, rules.comment)) return;
        const auto f = detail::split_fields(l, rules.delim);
        if (order < 0) {
            order = static_cast<int>(f.size()) - (rules.has_value ? 1 : 0);
            if (order < 1) {
                rep.error(ln, "expected at least 2 fields (indices and a value), found " + std::to_string(f.size()));
                order = -1;
                return;
            }
        }
        if (idx.empty()) {
            idx.resize(static_cast<std::size_t>(order));
            first_zero.assign(static_cast<std::size_t>(order), {0, 0});
        }
        const std::size_t want = static_cast<std::size_t>(order + (rules.has_value ? 1 : 0));
        if (f.size() != want) {
            const std::string what = std::to_string(order) + (order == 1 ? " index" : " indices") + (rules.has_value ? " and a value" : "");
            rep.error(ln, detail::field_count_message(want, what, f.size()));
            return;
        }
        bool ok = true;
        std::vector<index_t> c(static_cast<std::size_t>(order));
        for (int m = 0; m < order; ++m) {
            const auto mu = static_cast<std::size_t>(m);
            std::string e = detail::parse_index_field(f[mu], c[mu]);
            if (!e.empty()) {
                rep.error(ln, e + " in mode " + std::to_string(m));
                ok = false;
            } else if (c[mu] < 0) {
                rep.error(ln, "negative index " + std::to_string(c[mu]) + " in mode " + std::to_string(m));
                ok = false;
            } else if (c[mu] == 0 && rules.base == 1) {
                rep.error(ln, "index 0 in mode " + std::to_string(m) + " of a 1-based file");
                ok = false;
            } else if (!rules.limits.empty() && c[mu] > rules.limits[mu]) {
                rep.error(ln, "index " + std::to_string(c[mu]) + " in mode " + std::to_string(m) + " is beyond the size line's " +
                                  std::to_string(rules.limits[mu]));
                ok = false;
            }
        }
        double v = 1;
        if (rules.has_value) {
            std::string e = detail::parse_value_field(f.back(), v, true);
            if (!e.empty()) {
                rep.error(ln, e);
                ok = false;
            } else if (!std::isfinite(v)) {
                rep.error(ln, "value is not finite: '" + std::string(f.back()) + "'");
                ok = false;
            } else if (v == 0) {
                rep.warning(ln, "explicit zero value (stored, but adds nothing)");
            }
        }
        if (!ok) return;
        if (rules.lower_only && c[0] < c[1])
            rep.warning(ln, "entry above the diagonal in a symmetric file (only the lower triangle should be stored)");
        for (int m = 0; m < order; ++m) {
            const auto mu = static_cast<std::size_t>(m);
            idx[mu].push_back(c[mu]);
            if (c[mu] == 0 && first_zero[mu].first == 0) first_zero[mu] = {ln, m};
        }
        lines.push_back(ln);
    });
    if (order < 0) {
        rep.error(0, "no data lines");
        return;
    }
    const std::size_t n = lines.size();
    rep.r.entries = static_cast<index_t>(n);
    index_t base = rules.base;
    if (base < 0) {
        base = 1;
        std::size_t zl = 0;
        int zm = 0;
        std::vector<int> never;
        for (int m = 0; m < order; ++m) {
            const auto& z = first_zero[static_cast<std::size_t>(m)];
            if (z.first) {
                base = 0;
                if (!zl || z.first < zl) zl = z.first, zm = m;
            } else {
                never.push_back(m);
            }
        }
        if (base == 0 && !never.empty()) {
            std::string modes;
            for (int m : never) modes += (modes.empty() ? "" : ", ") + std::to_string(m);
            rep.warning(zl, "index 0 in mode " + std::to_string(zm) + " makes the whole file 0-based, but mode" +
                                (never.size() > 1 ? "s " : " ") + modes + " never use" + (never.size() > 1 ? "" : "s") +
                                " index 0: is this a 1-based file with a bad line?");
        }
    }
    rep.r.shape.assign(static_cast<std::size_t>(order), 0);
    for (int m = 0; m < order; ++m) {
        const auto& a = idx[static_cast<std::size_t>(m)];
        rep.r.shape[static_cast<std::size_t>(m)] =
            !rules.limits.empty() ? rules.limits[static_cast<std::size_t>(m)] : (n ? *std::max_element(a.begin(), a.end()) - base + 1 : 0);
    }
    // Duplicates: sort entry numbers by coordinates (ties by line), report each repeat.
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), std::size_t(0));
    const auto less = [&](std::size_t a, std::size_t b) {
        for (const auto& col : idx)
            if (col[a] != col[b]) return col[a] < col[b];
        return lines[a] < lines[b];
    };
    const auto same = [&](std::size_t a, std::size_t b) {
        for (const auto& col : idx)
            if (col[a] != col[b]) return false;
        return true;
    };
    std::sort(perm.begin(), perm.end(), less);
    std::vector<std::pair<std::size_t, std::size_t>> dups;  // (line, first line)
    for (std::size_t k = 1, first = 0; k < n; ++k) {
        if (same(perm[k], perm[first])) dups.emplace_back(lines[perm[k]], lines[perm[first]]);
        else first = k;
    }
    std::sort(dups.begin(), dups.end());
    for (const auto& [ln, fl] : dups)
        rep.warning(ln, "duplicate coordinates (first at line " + std::to_string(fl) + "): the values will be summed");
    // Empty slices.
    for (int m = 0; m < order && n > 0; ++m) {
        const index_t dim = rep.r.shape[static_cast<std::size_t>(m)];
        std::vector<index_t> u = idx[static_cast<std::size_t>(m)];
        std::sort(u.begin(), u.end());
        const auto used = static_cast<index_t>(std::unique(u.begin(), u.end()) - u.begin());
        if (used < dim)
            rep.warning(0, "mode " + std::to_string(m) + ": " + std::to_string(dim - used) + " of " + std::to_string(dim) +
                               " slices are empty");
    }
}

// A dense table or a column of values: field counts, numbers, NaN/Inf.
void check_values(std::string_view text, std::size_t first_line, char delim, char comment, std::size_t width, reporter& rep) {
    index_t rows = 0, values = 0;
    detail::for_each_line(text, first_line, [&](std::size_t ln, std::string_view l) {
        if (detail::is_skipped_line(l, comment)) return;
        const auto f = detail::split_fields(l, delim);
        if (f.size() != width) {
            rep.error(ln, detail::field_count_message(width, width == 1 ? "a value" : "as in the first row", f.size()));
            return;
        }
        for (std::size_t k = 0; k < f.size(); ++k) {
            double v;
            std::string e = detail::parse_value_field(f[k], v, true);
            if (!e.empty()) rep.error(ln, e + " in field " + std::to_string(k + 1));
            else if (!std::isfinite(v)) rep.error(ln, "value is not finite: '" + std::string(f[k]) + "' in field " + std::to_string(k + 1));
            else ++values;
        }
        ++rows;
    });
    rep.r.entries = values;
    rep.r.shape = {rows, static_cast<index_t>(width)};
}

void check_dense_values(const tensor& X, const std::string& prefix, reporter& rep) {
    index_t nan = 0, inf = 0, first = -1;
    for (index_t k = 0; k < X.size(); ++k) {
        const double v = X.data()[k];
        if (std::isnan(v)) ++nan;
        else if (std::isinf(v)) ++inf;
        else continue;
        if (first < 0) first = k;
    }
    if (nan) rep.error(0, prefix + std::to_string(nan) + " NaN values (first at flat index " + std::to_string(first) + ")");
    if (inf) rep.error(0, prefix + std::to_string(inf) + " infinite values");
}

void check_npy_bytes(std::string_view bytes, const std::string& name, const std::string& prefix, reporter& rep) {
    try {
        const npy_header h = parse_npy_header(bytes, name);
        if (rep.r.shape.empty()) rep.r.shape = h.shape;
        const tensor X = parse_npy<double>(bytes, name);
        rep.r.entries += X.size();
        check_dense_values(X, prefix, rep);
    } catch (const parse_error& e) {
        rep.error(0, prefix + e.what());
    }
}

}  // namespace

check_report check_tensor_file(const std::string& path, std::size_t max_problems) {
    check_report r;
    reporter rep{r, max_problems};
    try {
        r.format = format_of(path, "", "check_tensor_file");
    } catch (const invalid_argument& e) {
        rep.error(0, e.what());
        return r;
    }
    std::unique_ptr<detail::file_view> file;
    try {
        file = std::make_unique<detail::file_view>(path);
    } catch (const parse_error& e) {  // damaged compressed data
        rep.error(0, e.what());
        return r;
    }
    const std::string_view bytes = file->text();
    if (r.format == "tns") {
        check_coords(bytes, 1, {}, rep);
    } else if (r.format == "npy") {
        check_npy_bytes(bytes, path, "", rep);
    } else if (r.format == "npz") {
        try {
            for (const auto& m : detail::read_zip(bytes, path))
                check_npy_bytes(m.data, path + ":" + m.name, m.name + ": ", rep);
        } catch (const parse_error& e) {
            rep.error(0, e.what());
        }
    } else if (r.format == "mtx") {
        // The banner and size line must be right before the entries mean anything.
        mtx_header h;
        std::size_t body = 0, body_line = 1;
        try {
            h = detail::parse_mtx_head(bytes, path, "check_tensor_file", body, body_line);
        } catch (const parse_error& e) {
            rep.error(e.line(), e.what());
            return r;
        }
        const std::string_view rest = std::string_view(bytes).substr(body);
        if (h.coordinate) {
            coord_rules rules;
            rules.comment = '%';
            rules.order = 2;
            rules.has_value = h.field != "pattern";
            rules.base = 1;
            rules.limits = {h.rows, h.cols};
            rules.lower_only = h.symmetry != "general";
            check_coords(rest, body_line, rules, rep);
        } else {
            check_values(rest, body_line, 0, '%', 1, rep);
            r.shape = {h.rows, h.cols};
        }
        if (r.entries != h.entries && r.errors.empty())
            rep.error(0, "expected " + std::to_string(h.entries) + " entries (from the size line), found " + std::to_string(r.entries));
    } else {  // csv, tsv
        const detail::csv_layout L = detail::detect_csv(bytes, {}, "check_tensor_file");
        if (L.width == 0) {
            rep.error(0, "no data lines");
            return r;
        }
        // Coordinates when the first data line is (integer indices..., value), as read_tensor does.
        bool coo = L.width >= 2 && L.width - 1 <= max_auto_csv_order;
        if (coo) {
            std::string_view first = std::string_view(bytes).substr(L.body_offset);
            while (!first.empty() && detail::is_skipped_line(first.substr(0, first.find('\n')), '#'))
                first = first.substr(std::min(first.size(), first.find('\n') + 1));
            const auto f = detail::split_fields(first.substr(0, first.find('\n')), L.delim);
            for (std::size_t k = 0; k + 1 < f.size() && coo; ++k) {
                index_t v;
                coo = detail::parse_index_field(f[k], v).empty() && v >= 0;
            }
        }
        r.format += coo ? " (coordinates)" : " (dense table)";
        if (coo) {
            coord_rules rules;
            rules.delim = L.delim;
            check_coords(std::string_view(bytes).substr(L.body_offset), L.body_line, rules, rep);
        } else {
            check_values(std::string_view(bytes).substr(L.body_offset), L.body_line, L.delim, '#', L.width, rep);
        }
    }
    return r;
}

}  // namespace facto
