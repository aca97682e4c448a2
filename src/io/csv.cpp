// csv.cpp: CSV/TSV text as coordinate tuples or dense tables, with delimiter, header and
// index-base detection.
#include "facto/io/csv.hpp"

#include <charconv>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "file_view.hpp"
#include "csv_detail.hpp"
#include "text_table.hpp"

namespace facto {

namespace {

bool is_number(std::string_view f) {
    double d;
    return !detail::parse_value_field(f, d, true).size();
}

}  // namespace

namespace detail {

csv_layout detect_csv(std::string_view text, const csv_options& opts, const char* who) {
    if (opts.header < -1 || opts.header > 1)
        throw invalid_argument(std::string(who) + ": header must be -1 (detect), 0 or 1, got " + std::to_string(opts.header));
    if (opts.delimiter == '\n' || opts.delimiter == '#' || opts.delimiter == '"')
        throw invalid_argument(std::string(who) + ": delimiter '" + std::string(1, opts.delimiter) + "' cannot be used");
    csv_layout L;
    std::size_t pos = 0, line = 1;
    bool first = true;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        const std::string_view l = text.substr(pos, eol - pos);
        const std::size_t next = std::min(text.size(), eol + 1);
        if (!detail::is_skipped_line(l, '#')) {
            if (first) {
                first = false;
                L.delim = opts.delimiter;
                if (L.delim == 0) {
                    L.delim = l.find('\t') != std::string_view::npos  ? '\t'
                              : l.find(',') != std::string_view::npos ? ','
                              : l.find(';') != std::string_view::npos ? ';'
                                                                      : 0;
                }
                // A whitespace-separated table uses runs of blanks (tabs included).
                if (L.delim == ' ') L.delim = 0;
                const auto fields = detail::split_fields(l, L.delim);
                bool header = opts.header == 1;
                if (opts.header == -1)
                    for (auto f : fields)
                        if (!is_number(f)) header = true;
                if (header) {
                    L.header = true;
                    L.header_line = line;
                    L.header_fields = fields;
                    pos = next;
                    ++line;
                    L.body_offset = pos;
                    L.body_line = line;
                    continue;
                }
                L.body_offset = pos;
                L.body_line = line;
            }
            L.width = detail::split_fields(l, L.delim).size();
            L.first_data_line = line;
            return L;
        }
        pos = next;
        ++line;
    }
    if (first) L.body_offset = text.size(), L.body_line = line;
    return L;
}

}  // namespace detail

namespace {

std::string delim_name(char d) {
    return d == 0 ? "whitespace" : d == '\t' ? "tab" : std::string("'") + d + "'";
}

}  // namespace

coo_tensor parse_csv_coo(std::string_view text, const std::string& name, const csv_options& opts) {
    if (opts.index_base < -1 || opts.index_base > 1)
        throw invalid_argument("read_csv_coo: index_base must be -1 (detect), 0 or 1, got " + std::to_string(opts.index_base));
    const detail::csv_layout L = detail::detect_csv(text, opts, "read_csv_coo");
    if (L.width == 0) throw parse_error(name, 0, "read_csv_coo: no data lines, so the order of the tensor is unknown");
    if (L.width < 2)
        throw parse_error(name, L.first_data_line, "read_csv_coo: expected at least 2 fields (indices and a value) separated by " +
                                                       delim_name(L.delim) + ", found 1");
    const int order = static_cast<int>(L.width - 1);
    detail::table_spec spec;
    spec.nidx = order;
    spec.nval = 1;
    spec.delim = L.delim;
    spec.what = std::to_string(order) + (order == 1 ? " index" : " indices") + " and a value";
    spec.name = name;
    spec.who = "read_csv_coo";
    spec.first_line = L.body_line;
    detail::table t = detail::parse_table(text.substr(L.body_offset), spec);

    index_t base = opts.index_base;
    if (base < 0) {
        // write_csv_coo's header (i0,i1,...,value) marks a 0-based file even without a 0.
        bool ours = L.header && L.header_fields.size() == L.width && L.header_fields.back() == "value";
        for (int m = 0; ours && m < order; ++m) {
            const auto f = L.header_fields[static_cast<std::size_t>(m)];
            ours = f.size() > 1 && f[0] == 'i' && f.substr(1) == std::to_string(m);
        }
        base = ours ? 0 : 1;
        for (int m = 0; m < order; ++m)
            if (t.rows > 0 && t.min[static_cast<std::size_t>(m)] == 0) base = 0;
    }
    if (base == 1 && t.rows > 0)
        for (int m = 0; m < order; ++m)
            if (t.min[static_cast<std::size_t>(m)] == 0) {
                const auto& a = t.idx[static_cast<std::size_t>(m)];
                index_t k = 0;
                while (a[static_cast<std::size_t>(k)] != 0) ++k;
                throw parse_error(name, t.line_of_row(k), "read_csv_coo: index 0 in mode " + std::to_string(m) + " of a 1-based file");
            }
    coo_tensor X;
    X.shape.resize(static_cast<std::size_t>(order));
    for (int m = 0; m < order; ++m) X.shape[static_cast<std::size_t>(m)] = t.rows > 0 ? t.max[static_cast<std::size_t>(m)] - base + 1 : 0;
    X.indices = std::move(t.idx);
    X.values = std::move(t.val);
    if (base != 0)
        for (auto& a : X.indices)
            for (auto& v : a) v -= base;
    X.canonicalize(true);  // a stored zero is an observed entry
    return X;
}

coo_tensor read_csv_coo(const std::string& path, const csv_options& opts) {
    const detail::file_view file(path);
    const std::string_view text = file.text();
    return parse_csv_coo(text, path, opts);
}

tensor parse_csv_dense(std::string_view text, const std::string& name, const csv_options& opts) {
    const detail::csv_layout L = detail::detect_csv(text, opts, "read_csv_dense");
    if (L.width == 0) throw parse_error(name, 0, "read_csv_dense: no data lines");
    detail::table_spec spec;
    spec.nidx = 0;
    spec.nval = static_cast<int>(L.width);
    spec.delim = L.delim;
    spec.allow_nonfinite = true;  // NaN often marks a missing value in a table
    spec.what = "as in the first row";
    spec.name = name;
    spec.who = "read_csv_dense";
    spec.first_line = L.body_line;
    detail::table t = detail::parse_table(text.substr(L.body_offset), spec);
    return tensor({t.rows, static_cast<index_t>(L.width)}, std::move(t.val));
}

tensor read_csv_dense(const std::string& path, const csv_options& opts) {
    const detail::file_view file(path);
    const std::string_view text = file.text();
    return parse_csv_dense(text, path, opts);
}

void write_csv_coo(const std::string& path, const coo_tensor& X) {
    X.validate("write_csv_coo");
    if (X.order() < 1) throw invalid_argument("write_csv_coo: the tensor has no modes");
    const char d = format_extension(path) == "tsv" ? '\t' : ',';
    std::string s;
    for (int m = 0; m < X.order(); ++m) {
        s += 'i';
        s += std::to_string(m);
        s += d;
    }
    s += "value\n";
    atomic_file out(path);
    char buf[32];
    for (index_t k = 0; k < X.nnz(); ++k) {
        for (int m = 0; m < X.order(); ++m) {
            auto r = std::to_chars(buf, buf + sizeof buf, X.indices[static_cast<std::size_t>(m)][static_cast<std::size_t>(k)]);
            s.append(buf, r.ptr);
            s += d;
        }
        auto r = std::to_chars(buf, buf + sizeof buf, X.values[static_cast<std::size_t>(k)]);
        s.append(buf, r.ptr);
        s += '\n';
        if (s.size() > (1u << 20)) out.write(s), s.clear();
    }
    out.write(s);
    out.commit();
}

}  // namespace facto
