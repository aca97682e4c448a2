// tns.cpp: FROSTT .tns reading (parallel, index base detection) and writing.
#include "facto/io/tns.hpp"

#include <omp.h>

#include <charconv>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "file_view.hpp"
#include "text_table.hpp"

namespace facto {

namespace {

// Number of fields on the first data line, and that line's number (0 when there is none).
std::pair<std::size_t, std::size_t> first_data_line(std::string_view text, char comment) {
    std::pair<std::size_t, std::size_t> r{0, 0};
    std::size_t pos = 0, line = 1;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        const auto l = text.substr(pos, eol - pos);
        if (!detail::is_skipped_line(l, comment)) return {detail::split_fields(l, 0).size(), line};
        pos = eol + 1;
        ++line;
    }
    return r;
}

std::string mode_list(int order) {
    return std::to_string(order) + (order == 1 ? " index" : " indices") + " and a value";
}

}  // namespace

coo_tensor parse_tns(std::string_view text, const std::string& name, const tns_read_options& opts) {
    if (opts.index_base < -1 || opts.index_base > 1)
        throw invalid_argument("read_tns: index_base must be -1 (detect), 0 or 1, got " + std::to_string(opts.index_base));
    for (index_t d : opts.shape)
        if (d < 0) throw invalid_argument("read_tns: negative dimension in the given shape " + shape_string(opts.shape));
    const auto [fields, line] = first_data_line(text, '#');
    if (line == 0) {
        if (!opts.shape.empty()) return coo_tensor(opts.shape);
        throw parse_error(name, 0, "read_tns: no data lines, so the order of the tensor is unknown");
    }
    if (fields < 2)
        throw parse_error(name, line, "read_tns: expected at least 2 fields (indices and a value), found " + std::to_string(fields));
    const int order = static_cast<int>(fields - 1);
    if (!opts.shape.empty() && opts.shape.size() != static_cast<std::size_t>(order))
        throw parse_error(name, line, "read_tns: the first data line has " + std::to_string(order) +
                                          " indices but the given shape " + shape_string(opts.shape) + " has " +
                                          std::to_string(opts.shape.size()) + " modes");

    detail::table_spec spec;
    spec.nidx = order;
    spec.nval = 1;
    spec.what = mode_list(order);
    spec.name = name;
    spec.who = "read_tns";
    detail::table t = detail::parse_table(text, spec);

    index_t base = opts.index_base;
    if (base < 0) {
        base = 1;
        for (int m = 0; m < order; ++m)
            if (t.rows > 0 && t.min[static_cast<std::size_t>(m)] == 0) base = 0;
    }
    const auto first_row = [&](int m, auto pred) {
        const auto& a = t.idx[static_cast<std::size_t>(m)];
        for (index_t k = 0; k < t.rows; ++k)
            if (pred(a[static_cast<std::size_t>(k)])) return k;
        return index_t(-1);
    };
    if (base == 1 && t.rows > 0) {
        // The earliest line with a 0 in any mode.
        index_t bad = -1;
        int bad_mode = 0;
        for (int m = 0; m < order; ++m)
            if (t.min[static_cast<std::size_t>(m)] == 0) {
                const index_t k = first_row(m, [](index_t v) { return v == 0; });
                if (bad < 0 || k < bad) bad = k, bad_mode = m;
            }
        if (bad >= 0)
            throw parse_error(name, t.line_of_row(bad),
                              "read_tns: index 0 in mode " + std::to_string(bad_mode) + " of a 1-based file");
    }
    coo_tensor X;
    X.shape.resize(static_cast<std::size_t>(order));
    for (int m = 0; m < order; ++m) {
        const auto mu = static_cast<std::size_t>(m);
        const index_t need = t.rows > 0 ? t.max[mu] - base + 1 : 0;
        if (!opts.shape.empty()) {
            if (need > opts.shape[mu]) {
                const index_t lim = opts.shape[mu] + base;
                const index_t k = first_row(m, [lim](index_t v) { return v >= lim; });
                throw parse_error(name, t.line_of_row(k),
                                  "read_tns: index " + std::to_string(t.idx[mu][static_cast<std::size_t>(k)]) +
                                      " in mode " + std::to_string(m) + " is beyond the given shape " +
                                      shape_string(opts.shape) + " (" + std::to_string(base) + "-based indices up to " +
                                      std::to_string(opts.shape[mu] - 1 + base) + ")");
            }
            X.shape[mu] = opts.shape[mu];
        } else {
            X.shape[mu] = need;
        }
    }
    X.indices = std::move(t.idx);
    X.values = std::move(t.val);
    if (base != 0) {
        for (auto& a : X.indices) {
            const auto n = static_cast<std::ptrdiff_t>(a.size());
            index_t* p = a.data();
#pragma omp parallel for schedule(static) if (n > 100000)
            for (std::ptrdiff_t k = 0; k < n; ++k) p[k] -= base;
        }
    }
    if (opts.sum_duplicates) X.canonicalize(true);  // a stored zero is an observed entry
    return X;
}

coo_tensor read_tns(const std::string& path, const tns_read_options& opts) {
    const detail::file_view file(path);
    const std::string_view text = file.text();
    return parse_tns(text, path, opts);
}

void write_tns(const std::string& path, const coo_tensor& X, int index_base) {
    if (index_base != 0 && index_base != 1)
        throw invalid_argument("write_tns: index_base must be 0 or 1, got " + std::to_string(index_base));
    X.validate("write_tns");
    if (X.order() < 1) throw invalid_argument("write_tns: the tensor has no modes");
    const index_t nnz = X.nnz();
    const int order = X.order();
    // Format blocks of entries in parallel, write them in order.
    constexpr index_t block = 1 << 16;
    const index_t nblocks = (nnz + block - 1) / block;
    const index_t batch = static_cast<index_t>(omp_get_max_threads()) * 4;
    atomic_file out(path);
    std::vector<std::string> text(static_cast<std::size_t>(std::min(nblocks, batch)));
    for (index_t b0 = 0; b0 < nblocks; b0 += batch) {
        const index_t b1 = std::min(nblocks, b0 + batch);
#pragma omp parallel for schedule(dynamic, 1) if (b1 - b0 > 1)
        for (index_t b = b0; b < b1; ++b) {
            std::string& s = text[static_cast<std::size_t>(b - b0)];
            s.clear();
            char buf[32];
            for (index_t k = b * block; k < std::min(nnz, (b + 1) * block); ++k) {
                for (int m = 0; m < order; ++m) {
                    auto r = std::to_chars(buf, buf + sizeof buf, X.indices[static_cast<std::size_t>(m)][static_cast<std::size_t>(k)] + index_base);
                    s.append(buf, r.ptr);
                    s += ' ';
                }
                // Shortest text that reads back to the same double.
                auto r = std::to_chars(buf, buf + sizeof buf, X.values[static_cast<std::size_t>(k)]);
                s.append(buf, r.ptr);
                s += '\n';
            }
        }
        for (index_t b = b0; b < b1; ++b) out.write(text[static_cast<std::size_t>(b - b0)]);
    }
    out.commit();
}

}  // namespace facto
