// text_table.cpp: the parallel line parser behind .tns, .mtx and .csv. Fast path: from_chars on
// well-formed lines; anything unusual re-parses that one line field by field for a precise
// message. Chunks are parsed in place into the output arrays and compacted in chunk order.
#include "text_table.hpp"

#include <omp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "facto/core/error.hpp"
#include "core/huge_pages.hpp"

namespace facto::detail {

namespace {

const char* skip_blanks(const char* p, const char* end) {
    while (p < end && is_blank(*p)) ++p;
    return p;
}

struct chunk_result {
    index_t rows = 0;
    std::size_t lines = 0;      // newlines consumed
    std::size_t error_line = 0; // 1-based within the chunk; 0 = no error
    std::string error;
    std::vector<index_t> min, max;
};

// Parses one line field by field. Returns an empty string and fills idx/val on success.
std::string parse_line_slow(std::string_view line, const table_spec& spec, index_t* idx, double* val) {
    const auto fields = split_fields(line, spec.delim);
    const std::size_t want = static_cast<std::size_t>(spec.nidx + spec.nval);
    if (fields.size() != want) return field_count_message(want, spec.what, fields.size());
    for (int f = 0; f < spec.nidx; ++f) {
        std::string e = parse_index_field(fields[static_cast<std::size_t>(f)], idx[f]);
        if (!e.empty()) return e + " in field " + std::to_string(f + 1);
        if (idx[f] < 0)
            return "negative index " + std::to_string(idx[f]) + " in field " + std::to_string(f + 1) +
                   " (indices must be >= 0)";
    }
    for (int v = 0; v < spec.nval; ++v) {
        std::string e = parse_value_field(fields[static_cast<std::size_t>(spec.nidx + v)], val[v], spec.allow_nonfinite);
        if (!e.empty()) return e;
    }
    return {};
}

// Parses [begin, end) into rows starting at row0 of the output arrays.
void parse_chunk(const char* begin, const char* end, const table_spec& spec, index_t row0,
                 std::vector<index_t*>& idx_out, double* val_out, chunk_result& res) {
    const int nidx = spec.nidx, nval = spec.nval;
    const char delim = spec.delim, comment = spec.comment;
    res.min.assign(static_cast<std::size_t>(nidx), std::numeric_limits<index_t>::max());
    res.max.assign(static_cast<std::size_t>(nidx), std::numeric_limits<index_t>::min());
    index_t row = row0;
    std::size_t line = 0;
    std::vector<index_t> tmp_idx(static_cast<std::size_t>(nidx));
    const char* p = begin;
    while (p < end) {
        ++line;
        const char* line_start = p;
        p = skip_blanks(p, end);
        if (p == end) break;
        if (*p == '\n') { ++p; continue; }
        if (comment != 0 && *p == comment) {
            const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
            p = nl ? static_cast<const char*>(nl) + 1 : end;
            continue;
        }
        // Fast path.
        bool ok = true;
        for (int f = 0; f < nidx && ok; ++f) {
            index_t v;
            auto r = std::from_chars(p, end, v);
            if (r.ec != std::errc() || v < 0) { ok = false; break; }
            p = r.ptr;
            tmp_idx[static_cast<std::size_t>(f)] = v;
            if (f + 1 < nidx || nval > 0) {
                if (delim == 0) {
                    if (p == end || !is_blank(*p)) { ok = false; break; }
                    p = skip_blanks(p, end);
                } else {
                    p = skip_blanks(p, end);
                    if (p == end || *p != delim) { ok = false; break; }
                    p = skip_blanks(p + 1, end);
                }
            }
        }
        double* vrow = val_out + static_cast<std::size_t>(row) * static_cast<std::size_t>(nval);
        for (int v = 0; v < nval && ok; ++v) {
            double x;
            auto r = std::from_chars(p, end, x);
            if (r.ec != std::errc() || !(spec.allow_nonfinite || std::isfinite(x))) { ok = false; break; }
            p = r.ptr;
            vrow[v] = x;
            if (v + 1 < nval) {
                if (delim == 0) {
                    if (p == end || !is_blank(*p)) { ok = false; break; }
                    p = skip_blanks(p, end);
                } else {
                    p = skip_blanks(p, end);
                    if (p == end || *p != delim) { ok = false; break; }
                    p = skip_blanks(p + 1, end);
                }
            }
        }
        if (ok) {
            p = skip_blanks(p, end);
            if (p < end && *p != '\n') ok = false;
            else if (p < end) ++p;
        }
        if (!ok) {
            const void* nl = std::memchr(line_start, '\n', static_cast<std::size_t>(end - line_start));
            const char* eol = nl ? static_cast<const char*>(nl) : end;
            std::string e = parse_line_slow(std::string_view(line_start, static_cast<std::size_t>(eol - line_start)),
                                            spec, tmp_idx.data(), vrow);
            if (!e.empty()) {
                res.error_line = line;
                res.error = std::move(e);
                break;
            }
            p = nl ? eol + 1 : end;
        }
        for (int f = 0; f < nidx; ++f) {
            const index_t v = tmp_idx[static_cast<std::size_t>(f)];
            idx_out[static_cast<std::size_t>(f)][row] = v;
            res.min[static_cast<std::size_t>(f)] = std::min(res.min[static_cast<std::size_t>(f)], v);
            res.max[static_cast<std::size_t>(f)] = std::max(res.max[static_cast<std::size_t>(f)], v);
        }
        ++row;
    }
    res.rows = row - row0;
    res.lines = line;
}

}  // namespace

std::vector<std::string_view> split_fields(std::string_view line, char delim) {
    std::vector<std::string_view> out;
    const char* p = line.data();
    const char* end = p + line.size();
    if (delim == 0) {
        for (;;) {
            p = skip_blanks(p, end);
            if (p == end) break;
            const char* q = p;
            while (q < end && !is_blank(*q)) ++q;
            out.emplace_back(p, static_cast<std::size_t>(q - p));
            p = q;
        }
        return out;
    }
    if (skip_blanks(p, end) == end) return out;
    for (;;) {
        const char* q = static_cast<const char*>(std::memchr(p, delim, static_cast<std::size_t>(end - p)));
        const char* fe = q ? q : end;
        const char* a = skip_blanks(p, fe);
        const char* b = fe;
        while (b > a && is_blank(b[-1])) --b;
        out.emplace_back(a, static_cast<std::size_t>(b - a));
        if (!q) break;
        p = q + 1;
    }
    return out;
}

std::string parse_index_field(std::string_view f, index_t& out) {
    std::string_view s = f;
    if (s.size() > 1 && s[0] == '+') s.remove_prefix(1);
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return {};
    if (r.ec == std::errc::result_out_of_range) return "index '" + std::string(f) + "' is too large";
    double d;
    auto rd = std::from_chars(s.data(), s.data() + s.size(), d);
    if (!s.empty() && rd.ec == std::errc() && rd.ptr == s.data() + s.size())
        return "index '" + std::string(f) + "' is not an integer";
    return "not a number: '" + std::string(f) + "'";
}

std::string parse_value_field(std::string_view f, double& out, bool allow_nonfinite) {
    std::string_view s = f;
    if (s.size() > 1 && s[0] == '+') s.remove_prefix(1);
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    if (!s.empty() && r.ptr == s.data() + s.size()) {
        if (r.ec == std::errc::result_out_of_range) return "value '" + std::string(f) + "' is out of the range of double";
        if (r.ec == std::errc()) {
            if (!allow_nonfinite && !std::isfinite(out)) return "value is not finite: '" + std::string(f) + "'";
            return {};
        }
    }
    return "not a number: '" + std::string(f) + "'";
}

std::string field_count_message(std::size_t expected, const std::string& what, std::size_t found) {
    std::string m = "expected " + std::to_string(expected) + (expected == 1 ? " field" : " fields");
    if (!what.empty()) m += " (" + what + ")";
    return m + ", found " + std::to_string(found);
}

table parse_table(std::string_view text, const table_spec& spec) {
    const std::size_t n = text.size();
    const int threads = omp_get_max_threads();
    // Chunks of at least 256 KiB, several per thread for balance; the split depends only on
    // the size and thread count, and results are concatenated in chunk order anyway.
    std::size_t nchunks = std::max<std::size_t>(1, std::min<std::size_t>(n / (256 * 1024), static_cast<std::size_t>(threads) * 8));
    std::vector<std::size_t> bounds(nchunks + 1, n);
    bounds[0] = 0;
    for (std::size_t c = 1; c < nchunks; ++c) {
        std::size_t b = std::max(n * c / nchunks, bounds[c - 1]);
        const std::size_t nl = text.find('\n', b == 0 ? 0 : b - 1);
        bounds[c] = nl == std::string_view::npos ? n : nl + 1;
    }
    // Lines per chunk bound the rows each chunk can produce: rows land at fixed offsets.
    std::vector<index_t> cap(nchunks);
    // Small texts stay on the calling thread: waking a team costs more than the parse.
    const bool par = nchunks > 1;
#pragma omp parallel for schedule(dynamic, 1) if (par)
    for (std::size_t c = 0; c < nchunks; ++c) {
        const char* b = text.data() + bounds[c];
        const char* e = text.data() + bounds[c + 1];
        index_t lines = static_cast<index_t>(std::count(b, e, '\n'));
        if (e > b && e[-1] != '\n') ++lines;
        cap[c] = lines;
    }
    std::vector<index_t> row0(nchunks + 1, 0);
    for (std::size_t c = 0; c < nchunks; ++c) row0[c + 1] = row0[c] + cap[c];
    const index_t max_rows = row0[nchunks];

    table t;
    t.idx.resize(static_cast<std::size_t>(spec.nidx));
    for (auto& a : t.idx) resize_huge(a, static_cast<std::size_t>(max_rows));
    resize_huge(t.val, static_cast<std::size_t>(max_rows) * static_cast<std::size_t>(spec.nval));
    std::vector<chunk_result> res(nchunks);
#pragma omp parallel if (par)
    {
        std::vector<index_t*> idx_out(static_cast<std::size_t>(spec.nidx));
        for (int f = 0; f < spec.nidx; ++f) idx_out[static_cast<std::size_t>(f)] = t.idx[static_cast<std::size_t>(f)].data();
#pragma omp for schedule(dynamic, 1)
        for (std::size_t c = 0; c < nchunks; ++c)
            parse_chunk(text.data() + bounds[c], text.data() + bounds[c + 1], spec, row0[c], idx_out, t.val.data(), res[c]);
    }
    std::size_t line = spec.first_line;
    for (std::size_t c = 0; c < nchunks; ++c) {
        if (res[c].error_line)
            throw parse_error(spec.name, line + res[c].error_line - 1, spec.who + ": " + res[c].error);
        line += res[c].lines;
    }
    // Compact: chunk c's rows move down to the end of chunk c-1's (blank and comment lines
    // left gaps). Sequential memmove in chunk order, so overlapping moves are safe.
    index_t dst = 0;
    t.chunk_begin.resize(nchunks);
    t.chunk_row.resize(nchunks);
    t.chunk_line.resize(nchunks);
    line = spec.first_line;
    for (std::size_t c = 0; c < nchunks; ++c) {
        const index_t k = res[c].rows;
        if (dst != row0[c] && k > 0) {
            for (auto& a : t.idx) std::memmove(a.data() + dst, a.data() + row0[c], static_cast<std::size_t>(k) * sizeof(index_t));
            std::memmove(t.val.data() + dst * spec.nval, t.val.data() + row0[c] * spec.nval,
                         static_cast<std::size_t>(k * spec.nval) * sizeof(double));
        }
        t.chunk_begin[c] = bounds[c];
        t.chunk_row[c] = dst;
        t.chunk_line[c] = line;
        line += res[c].lines;
        dst += k;
    }
    t.rows = dst;
    for (auto& a : t.idx) a.resize(static_cast<std::size_t>(dst));
    t.val.resize(static_cast<std::size_t>(dst) * static_cast<std::size_t>(spec.nval));
    t.min.assign(static_cast<std::size_t>(spec.nidx), 0);
    t.max.assign(static_cast<std::size_t>(spec.nidx), 0);
    if (dst > 0) {
        for (int f = 0; f < spec.nidx; ++f) {
            index_t mn = std::numeric_limits<index_t>::max(), mx = std::numeric_limits<index_t>::min();
            for (const auto& r : res)
                if (r.rows > 0) {
                    mn = std::min(mn, r.min[static_cast<std::size_t>(f)]);
                    mx = std::max(mx, r.max[static_cast<std::size_t>(f)]);
                }
            t.min[static_cast<std::size_t>(f)] = mn;
            t.max[static_cast<std::size_t>(f)] = mx;
        }
    }
    t.text = text;
    t.comment = spec.comment;
    t.first_line = spec.first_line;
    return t;
}

std::size_t table::line_of_row(index_t r) const {
    if (chunk_row.empty()) return 0;
    const std::size_t c = static_cast<std::size_t>(std::upper_bound(chunk_row.begin(), chunk_row.end(), r) - chunk_row.begin()) - 1;
    const std::size_t end = c + 1 < chunk_begin.size() ? chunk_begin[c + 1] : text.size();
    index_t row = chunk_row[c];
    std::size_t found = 0;
    for_each_line(text.substr(chunk_begin[c], end - chunk_begin[c]), chunk_line[c], [&](std::size_t ln, std::string_view l) {
        if (found || is_skipped_line(l, comment)) return;
        if (row == r) found = ln;
        ++row;
    });
    return found;
}

}  // namespace facto::detail
