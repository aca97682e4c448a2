// facto/recommend/ratings.hpp: (user, item, rating[, time]) tables read from MovieLens, tab and
// CSV files, kept with their original ids; CSR conversion and seeded train/test splits.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "facto/core/csr.hpp"
#include "facto/core/types.hpp"

namespace facto {

/// Original ids (strings, as written in the file: "0104257" stays "0104257") <-> dense indices
/// 0..size()-1, numbered in order of first appearance.
class id_map {
public:
    index_t size() const noexcept { return static_cast<index_t>(ids_.size()); }
    /// The index of id, or -1 when it is not in the map.
    index_t find(std::string_view id) const;
    /// The index of id, adding it when new.
    index_t insert(std::string_view id);
    /// The original id of index i. @throws facto::out_of_range
    const std::string& id(index_t i) const;
    const std::vector<std::string>& ids() const noexcept { return ids_; }

private:
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    /// Canonical small integers ("0", "17", not "017") are looked up in small_ (-1: absent),
    /// which spares the hash of most numeric ids; every other id goes through index_.
    static index_t small_value(std::string_view id) noexcept;
    std::vector<std::string> ids_;
    std::vector<std::int32_t> small_;
    std::unordered_map<std::string, index_t, hash, std::equal_to<>> index_;
};

/// One row per rating, in file order. Indices refer to the id maps.
struct ratings_table {
    std::vector<index_t> user, item;
    std::vector<double> value;
    std::vector<std::int64_t> time;  ///< empty when the file has no timestamps
    id_map users, items;

    index_t size() const noexcept { return static_cast<index_t>(value.size()); }
    index_t num_users() const noexcept { return users.size(); }
    index_t num_items() const noexcept { return items.size(); }
    bool has_time() const noexcept { return !time.empty(); }
    /// The rows listed (in that order), with the same id maps, so indices stay comparable.
    [[nodiscard]] ratings_table subset(std::span<const index_t> rows) const;
    /// Throws facto::invalid_argument naming who when arrays disagree or an index is out of range.
    void validate(const char* who) const;
};

enum class ratings_format {
    detect,     ///< "::" in the first data line: movielens; else csv (delimiter detected)
    movielens,  ///< user::item::rating[::timestamp] (MovieLens ratings.dat, MovieTweetings)
    tab,        ///< user<TAB>item<TAB>rating[<TAB>timestamp] (MovieLens u.data)
    csv,        ///< comma, tab, semicolon or blank separated, optional header naming the columns
};

struct ratings_read_options {
    ratings_format format = ratings_format::detect;
    int header = -1;  ///< csv: -1 detects (a first line with a column name or a non-numeric rating), 0, 1
    /// csv with a header: column names to use; empty detects (user*, item*/movie*/product*,
    /// rating/score/value/count/weight, time*/date). Without a header: positions user, item,
    /// rating, timestamp. A file with only two columns has every rating 1 (implicit feedback).
    std::string user_column, item_column, rating_column, time_column;
};

/// Parses a ratings text. Throws facto::parse_error "NAME:LINE: ..." on a short line, a
/// rating that is not a finite number, a timestamp that is not an integer, or a header
/// without a user or item column.
[[nodiscard]] ratings_table parse_ratings(std::string_view text, const std::string& name = "<memory>",
                                          const ratings_read_options& opts = {});
/// read_file() (.gz/.xz transparent) + parse_ratings().
[[nodiscard]] ratings_table read_ratings(const std::string& path, const ratings_read_options& opts = {});

/// What to do with repeated (user, item) pairs when building a matrix.
enum class duplicate_policy { mean, sum, last };

/// users x items CSR (or items x users when transpose) of the ratings; repeated pairs are
/// averaged (explicit ratings), summed (implicit counts) or the last one in table order kept.
[[nodiscard]] csr_matrix to_csr(const ratings_table& R, bool transpose = false,
                                duplicate_policy dup = duplicate_policy::mean);

/// Row indices of a train/test partition of a table.
struct ratings_split {
    std::vector<index_t> train, test;
};

/// A uniformly random test_fraction (0 < f < 1) of the rows, rounded; seeded.
[[nodiscard]] ratings_split split_random(const ratings_table& R, double test_fraction, std::uint64_t seed);
/// Per user: round(f * n_u) of the user's n_u ratings held out at random, at most n_u - 1, so
/// every user keeps a rating in train; seeded.
[[nodiscard]] ratings_split split_per_user(const ratings_table& R, double test_fraction, std::uint64_t seed);
/// The latest round(f * n) ratings by timestamp (ties: later rows are later) form the test set.
/// @throws facto::invalid_argument when the table has no timestamps.
[[nodiscard]] ratings_split split_by_time(const ratings_table& R, double test_fraction);
/// k folds (2 <= k <= size()) of a seeded random permutation: fold f tests on its rows and
/// trains on all others; every row is tested exactly once.
[[nodiscard]] std::vector<ratings_split> k_fold(const ratings_table& R, int k, std::uint64_t seed);

}  // namespace facto
