// ratings.cpp: ratings readers (MovieLens ::, tab, CSV with header), id maps, CSR and splits.
#include "facto/recommend/ratings.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <random>

#include "facto/core/error.hpp"
#include "io/file_view.hpp"
#include "io/text_table.hpp"

namespace facto {

namespace {
constexpr index_t small_id_limit = index_t{1} << 22;
}

index_t id_map::small_value(std::string_view id) noexcept {
    if (id.empty() || id.size() > 7 || (id.size() > 1 && id[0] == '0')) return -1;
    index_t v = 0;
    for (char c : id) {
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    return v < small_id_limit ? v : -1;
}

index_t id_map::find(std::string_view id) const {
    const index_t v = small_value(id);
    if (v >= 0) return v < static_cast<index_t>(small_.size()) ? small_[static_cast<std::size_t>(v)] : -1;
    auto it = index_.find(id);
    return it == index_.end() ? -1 : it->second;
}

index_t id_map::insert(std::string_view id) {
    const index_t v = small_value(id);
    if (v >= 0) {
        if (v >= static_cast<index_t>(small_.size()))
            small_.resize(static_cast<std::size_t>(std::max<index_t>(v + 1, 2 * static_cast<index_t>(small_.size()))), -1);
        std::int32_t& slot = small_[static_cast<std::size_t>(v)];
        if (slot < 0) {
            slot = static_cast<std::int32_t>(size());
            ids_.emplace_back(id);
        }
        return slot;
    }
    auto it = index_.find(id);
    if (it != index_.end()) return it->second;
    const index_t i = size();
    ids_.emplace_back(id);
    index_.emplace(ids_.back(), i);
    return i;
}

const std::string& id_map::id(index_t i) const {
    if (i < 0 || i >= size())
        throw out_of_range("id_map: index " + std::to_string(i) + " outside 0.." + std::to_string(size() - 1));
    return ids_[static_cast<std::size_t>(i)];
}

ratings_table ratings_table::subset(std::span<const index_t> rows) const {
    ratings_table out;
    out.users = users;
    out.items = items;
    out.user.reserve(rows.size());
    out.item.reserve(rows.size());
    out.value.reserve(rows.size());
    if (has_time()) out.time.reserve(rows.size());
    for (index_t r : rows) {
        if (r < 0 || r >= size())
            throw out_of_range("ratings_table::subset: row " + std::to_string(r) + " outside 0.." +
                               std::to_string(size() - 1));
        const auto k = static_cast<std::size_t>(r);
        out.user.push_back(user[k]);
        out.item.push_back(item[k]);
        out.value.push_back(value[k]);
        if (has_time()) out.time.push_back(time[k]);
    }
    return out;
}

void ratings_table::validate(const char* who) const {
    const std::size_t n = value.size();
    if (user.size() != n || item.size() != n || (!time.empty() && time.size() != n))
        throw invalid_argument(std::string(who) + ": ratings arrays of different lengths");
    for (std::size_t k = 0; k < n; ++k) {
        if (user[k] < 0 || user[k] >= num_users() || item[k] < 0 || item[k] >= num_items())
            throw invalid_argument(std::string(who) + ": rating " + std::to_string(k) + " has (user, item) index (" +
                                   std::to_string(user[k]) + ", " + std::to_string(item[k]) +
                                   ") outside the id maps (" + std::to_string(num_users()) + " users, " +
                                   std::to_string(num_items()) + " items)");
        if (!std::isfinite(value[k]))
            throw invalid_argument(std::string(who) + ": rating " + std::to_string(k) + " is not finite");
    }
}

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && detail::is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && detail::is_blank(s.back())) s.remove_suffix(1);
    return s;
}

// Splits on a (possibly multi-character) delimiter; empty delimiter: runs of blanks.
void split(std::string_view line, std::string_view delim, std::vector<std::string_view>& out) {
    out.clear();
    if (delim.empty()) {
        std::size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && detail::is_blank(line[i])) ++i;
            if (i == line.size()) break;
            std::size_t j = i;
            while (j < line.size() && !detail::is_blank(line[j])) ++j;
            out.push_back(line.substr(i, j - i));
            i = j;
        }
        return;
    }
    if (trim(line).empty()) return;
    std::size_t pos = 0;
    while (true) {
        std::size_t next = line.find(delim, pos);
        if (next == std::string_view::npos) {
            out.push_back(trim(line.substr(pos)));
            return;
        }
        out.push_back(trim(line.substr(pos, next - pos)));
        pos = next + delim.size();
    }
}

// Removes surrounding double quotes of a CSV field.
std::string_view unquote(std::string_view f) {
    if (f.size() >= 2 && f.front() == '"' && f.back() == '"') return f.substr(1, f.size() - 2);
    return f;
}

bool is_number(std::string_view f) {
    double v;
    return detail::parse_value_field(f, v, false).empty();
}

bool contains_any(const std::string& s, std::initializer_list<const char*> words) {
    for (const char* w : words)
        if (s.find(w) != std::string::npos) return true;
    return false;
}

struct columns {
    int user = 0, item = 1, rating = 2, time = 3;  ///< -1: absent
    int width = 0;                                 ///< fields expected per line
};

int find_named(const std::vector<std::string_view>& header, const std::string& want, const char* role,
               const std::string& name, std::size_t line) {
    for (std::size_t c = 0; c < header.size(); ++c)
        if (lower(unquote(header[c])) == lower(want)) return static_cast<int>(c);
    std::string found;
    for (auto h : header) found += (found.empty() ? "'" : ", '") + std::string(unquote(h)) + "'";
    throw parse_error(name, line, std::string("no column named '") + want + "' for the " + role +
                                      " in the header; found " + found);
}

int detect_named(const std::vector<std::string>& names, std::initializer_list<const char*> words, int taken_a,
                 int taken_b = -1) {
    for (std::size_t c = 0; c < names.size(); ++c) {
        const int ci = static_cast<int>(c);
        if (ci != taken_a && ci != taken_b && contains_any(names[c], words)) return ci;
    }
    return -1;
}

columns header_columns(const std::vector<std::string_view>& header, const ratings_read_options& o,
                       const std::string& name, std::size_t line) {
    std::vector<std::string> names;
    for (auto h : header) names.push_back(lower(unquote(h)));
    columns c;
    c.width = static_cast<int>(header.size());
    c.user = o.user_column.empty() ? detect_named(names, {"user", "customer", "visitor", "member"}, -1)
                                   : find_named(header, o.user_column, "user", name, line);
    c.item = o.item_column.empty()
                 ? detect_named(names, {"item", "movie", "product", "song", "track", "artist", "book", "film"}, c.user)
                 : find_named(header, o.item_column, "item", name, line);
    if (c.user < 0 || c.item < 0)
        throw parse_error(name, line,
                          "header has no " + std::string(c.user < 0 ? "user" : "item") +
                              " column (expected a name like user/userId, item/movieId, or give the column names)");
    c.rating = o.rating_column.empty()
                   ? detect_named(names, {"rating", "score", "value", "count", "weight", "plays", "stars"}, c.user,
                                  c.item)
                   : find_named(header, o.rating_column, "rating", name, line);
    c.time = o.time_column.empty() ? detect_named(names, {"time", "date"}, c.user, c.item)
                                   : find_named(header, o.time_column, "timestamp", name, line);
    if (c.time == c.rating) c.time = -1;
    return c;
}

std::size_t next_line(std::string_view text, std::size_t pos, std::string_view& line) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return eol + 1;
}

bool skipped(std::string_view line) { return detail::is_skipped_line(line, '#'); }

}  // namespace

ratings_table parse_ratings(std::string_view text, const std::string& name, const ratings_read_options& o) {
    // Find the first non-blank line to detect the format, delimiter and header.
    std::size_t pos = 0, line_no = 0;
    std::string_view first;
    std::size_t first_no = 0, first_pos = 0;
    while (pos < text.size()) {
        std::string_view line;
        const std::size_t at = pos;
        pos = next_line(text, pos, line);
        ++line_no;
        if (!skipped(line)) {
            first = line;
            first_no = line_no;
            first_pos = at;
            break;
        }
    }
    ratings_table R;
    if (first_no == 0) return R;  // nothing but blanks and comments

    ratings_format fmt = o.format;
    if (fmt == ratings_format::detect) fmt = first.find("::") != std::string_view::npos ? ratings_format::movielens
                                                                                          : ratings_format::csv;
    std::string delim;
    if (fmt == ratings_format::movielens) delim = "::";
    else if (fmt == ratings_format::tab) delim = "\t";
    else if (first.find('\t') != std::string_view::npos) delim = "\t";
    else if (first.find(',') != std::string_view::npos) delim = ",";
    else if (first.find(';') != std::string_view::npos) delim = ";";

    std::vector<std::string_view> fields;
    split(first, delim, fields);
    columns col;
    bool header = false;
    if (fmt == ratings_format::csv) {
        if (o.header >= 0) {
            header = o.header == 1;
        } else {
            std::vector<std::string> names;
            for (auto f : fields) names.push_back(lower(unquote(f)));
            header = detect_named(names, {"user", "item", "movie", "rating"}, -1) >= 0 ||
                     (fields.size() >= 3 && !is_number(fields[2]));
        }
    }
    if (header) {
        col = header_columns(fields, o, name, first_no);
        pos = first_pos + first.size() + 1;
        line_no = first_no;
        if (pos < text.size() && text[first_pos + first.size()] == '\r') ++pos;
    } else {
        if (!o.user_column.empty() || !o.item_column.empty() || !o.rating_column.empty() || !o.time_column.empty())
            throw parse_error(name, first_no, "column names were given but the file has no header line");
        col.width = static_cast<int>(fields.size());
        if (col.width < 2 || col.width > 4)
            throw parse_error(name, first_no,
                              "expected 2 to 4 fields (user, item[, rating[, timestamp]]), found " +
                                  std::to_string(fields.size()));
        if (col.width < 4) col.time = -1;
        if (col.width < 3) col.rating = -1;
        pos = first_pos;
        line_no = first_no - 1;
    }

    const int need = std::max({col.user, col.item, col.rating, col.time}) + 1;
    const bool timed = col.time >= 0;
    while (pos < text.size()) {
        std::string_view line;
        pos = next_line(text, pos, line);
        ++line_no;
        if (skipped(line)) continue;
        split(line, delim, fields);
        if (static_cast<int>(fields.size()) < need ||
            (!header && static_cast<int>(fields.size()) != col.width))
            throw parse_error(name, line_no,
                              "expected " + std::to_string(header ? need : col.width) + " fields (" +
                                  (header ? "as the header says" : "user, item, rating, timestamp as the first line") +
                                  "), found " + std::to_string(fields.size()));
        const std::string_view u = unquote(fields[static_cast<std::size_t>(col.user)]);
        const std::string_view i = unquote(fields[static_cast<std::size_t>(col.item)]);
        if (u.empty() || i.empty())
            throw parse_error(name, line_no, std::string("empty ") + (u.empty() ? "user" : "item") + " id");
        double v = 1;
        if (col.rating >= 0) {
            const std::string e = detail::parse_value_field(unquote(fields[static_cast<std::size_t>(col.rating)]), v, false);
            if (!e.empty()) throw parse_error(name, line_no, "rating: " + e);
        }
        if (timed) {
            const std::string_view f = unquote(fields[static_cast<std::size_t>(col.time)]);
            std::int64_t t = 0;
            auto r = std::from_chars(f.data(), f.data() + f.size(), t);
            if (f.empty() || r.ec != std::errc() || r.ptr != f.data() + f.size())
                throw parse_error(name, line_no, "timestamp: not an integer: '" + std::string(f) + "'");
            R.time.push_back(t);
        }
        R.user.push_back(R.users.insert(u));
        R.item.push_back(R.items.insert(i));
        R.value.push_back(v);
    }
    return R;
}

ratings_table read_ratings(const std::string& path, const ratings_read_options& opts) {
    detail::file_view f(path);
    return parse_ratings(f.text(), path, opts);
}

csr_matrix to_csr(const ratings_table& R, bool transpose, duplicate_policy dup) {
    R.validate("to_csr");
    const index_t rows = transpose ? R.num_items() : R.num_users();
    const index_t cols = transpose ? R.num_users() : R.num_items();
    const std::vector<index_t>& ri = transpose ? R.item : R.user;
    const std::vector<index_t>& ci = transpose ? R.user : R.item;
    // Counting sort by row, stable, then sort each row by column (stable keeps table order).
    std::vector<index_t> start(static_cast<std::size_t>(rows) + 1, 0);
    for (index_t r : ri) ++start[static_cast<std::size_t>(r) + 1];
    std::partial_sum(start.begin(), start.end(), start.begin());
    std::vector<index_t> order(R.value.size());
    {
        std::vector<index_t> fill(start.begin(), start.end() - 1);
        for (std::size_t k = 0; k < ri.size(); ++k) order[static_cast<std::size_t>(fill[static_cast<std::size_t>(ri[k])]++)] = static_cast<index_t>(k);
    }
    csr_matrix A;
    A.rows = rows;
    A.cols = cols;
    A.row_ptr.assign(static_cast<std::size_t>(rows) + 1, 0);
    A.col_idx.reserve(order.size());
    A.values.reserve(order.size());
    for (index_t r = 0; r < rows; ++r) {
        auto b = order.begin() + start[static_cast<std::size_t>(r)], e = order.begin() + start[static_cast<std::size_t>(r) + 1];
        std::stable_sort(b, e, [&](index_t x, index_t y) { return ci[static_cast<std::size_t>(x)] < ci[static_cast<std::size_t>(y)]; });
        for (auto it = b; it != e;) {
            const index_t c = ci[static_cast<std::size_t>(*it)];
            double sum = 0, last = 0;
            index_t n = 0;
            for (; it != e && ci[static_cast<std::size_t>(*it)] == c; ++it, ++n) {
                last = R.value[static_cast<std::size_t>(*it)];
                sum += last;
            }
            A.col_idx.push_back(c);
            A.values.push_back(dup == duplicate_policy::sum ? sum : dup == duplicate_policy::last ? last : sum / static_cast<double>(n));
        }
        A.row_ptr[static_cast<std::size_t>(r) + 1] = A.nnz();
    }
    return A;
}

namespace {

void check_fraction(double f, const char* who) {
    if (!(f > 0 && f < 1))
        throw invalid_argument(std::string(who) + ": test fraction must lie strictly between 0 and 1, found " +
                               std::to_string(f));
}

// A seeded permutation that does not depend on the standard library's shuffle algorithm.
std::vector<index_t> permutation(index_t n, std::uint64_t seed) {
    std::vector<index_t> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), index_t{0});
    std::mt19937_64 rng(seed);
    for (index_t i = n - 1; i > 0; --i) {
        const index_t j = static_cast<index_t>(rng() % static_cast<std::uint64_t>(i + 1));
        std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
    }
    return p;
}

ratings_split from_mask(const std::vector<char>& is_test) {
    ratings_split s;
    for (std::size_t k = 0; k < is_test.size(); ++k) (is_test[k] ? s.test : s.train).push_back(static_cast<index_t>(k));
    return s;
}

}  // namespace

ratings_split split_random(const ratings_table& R, double f, std::uint64_t seed) {
    check_fraction(f, "split_random");
    const index_t n = R.size();
    const auto ntest = static_cast<index_t>(std::llround(f * static_cast<double>(n)));
    const auto p = permutation(n, seed);
    std::vector<char> is_test(static_cast<std::size_t>(n), 0);
    for (index_t k = 0; k < ntest; ++k) is_test[static_cast<std::size_t>(p[static_cast<std::size_t>(k)])] = 1;
    return from_mask(is_test);
}

ratings_split split_per_user(const ratings_table& R, double f, std::uint64_t seed) {
    check_fraction(f, "split_per_user");
    R.validate("split_per_user");
    std::vector<std::vector<index_t>> rows_of(static_cast<std::size_t>(R.num_users()));
    for (index_t k = 0; k < R.size(); ++k) rows_of[static_cast<std::size_t>(R.user[static_cast<std::size_t>(k)])].push_back(k);
    std::mt19937_64 rng(seed);
    std::vector<char> is_test(static_cast<std::size_t>(R.size()), 0);
    for (auto& rows : rows_of) {
        const auto n = static_cast<index_t>(rows.size());
        const index_t ntest = std::min(n - 1, static_cast<index_t>(std::llround(f * static_cast<double>(n))));
        // Partial Fisher-Yates: the first ntest positions get a random sample.
        for (index_t i = 0; i < ntest; ++i) {
            const index_t j = i + static_cast<index_t>(rng() % static_cast<std::uint64_t>(n - i));
            std::swap(rows[static_cast<std::size_t>(i)], rows[static_cast<std::size_t>(j)]);
            is_test[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])] = 1;
        }
    }
    return from_mask(is_test);
}

ratings_split split_by_time(const ratings_table& R, double f) {
    check_fraction(f, "split_by_time");
    if (!R.has_time()) throw invalid_argument("split_by_time: the ratings have no timestamps");
    const index_t n = R.size();
    std::vector<index_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), index_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](index_t a, index_t b) { return R.time[static_cast<std::size_t>(a)] < R.time[static_cast<std::size_t>(b)]; });
    const auto ntest = static_cast<index_t>(std::llround(f * static_cast<double>(n)));
    std::vector<char> is_test(static_cast<std::size_t>(n), 0);
    for (index_t k = n - ntest; k < n; ++k) is_test[static_cast<std::size_t>(order[static_cast<std::size_t>(k)])] = 1;
    return from_mask(is_test);
}

std::vector<ratings_split> k_fold(const ratings_table& R, int k, std::uint64_t seed) {
    const index_t n = R.size();
    if (k < 2 || k > n)
        throw invalid_argument("k_fold: number of folds must lie in 2.." + std::to_string(n) + " (the ratings), found " +
                               std::to_string(k));
    const auto p = permutation(n, seed);
    std::vector<int> fold_of(static_cast<std::size_t>(n));
    for (index_t j = 0; j < n; ++j) fold_of[static_cast<std::size_t>(p[static_cast<std::size_t>(j)])] = static_cast<int>(j * k / n);
    std::vector<ratings_split> folds(static_cast<std::size_t>(k));
    for (index_t r = 0; r < n; ++r)
        for (int f = 0; f < k; ++f) (fold_of[static_cast<std::size_t>(r)] == f ? folds[static_cast<std::size_t>(f)].test : folds[static_cast<std::size_t>(f)].train).push_back(r);
    return folds;
}

}  // namespace facto
