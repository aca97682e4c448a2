// text_table.hpp: the parallel line parser shared by the text formats (.tns, .mtx, .csv):
// each data line holds nidx integer fields then nval numbers.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "facto/core/types.hpp"

namespace facto::detail {

/// How the lines of a table look.
struct table_spec {
    int nidx = 0;                  ///< integer fields first (indices)
    int nval = 1;                  ///< then this many numbers
    char delim = 0;                ///< 0: runs of spaces/tabs; else this character
    char comment = '#';            ///< lines whose first non-blank character is this are skipped
    bool allow_nonfinite = false;  ///< accept nan/inf values
    std::string what;              ///< "3 indices and a value", for field-count messages
    std::string name;              ///< file name for messages
    std::string who;               ///< function name for messages ("read_tns")
    std::size_t first_line = 1;    ///< line number of the first character of the text
};

/// Parsed rows, in file order.
struct table {
    std::vector<std::vector<index_t>> idx;  ///< nidx arrays of rows entries
    std::vector<double> val;                ///< rows * nval, row-major
    std::vector<index_t> min, max;          ///< per index field (0 when there are no rows)
    index_t rows = 0;

    /// Line number of row r (re-scans one chunk: for error messages only).
    std::size_t line_of_row(index_t r) const;

    // Chunk bookkeeping for line_of_row.
    std::string_view text;
    char comment = '#';
    std::size_t first_line = 1;
    std::vector<std::size_t> chunk_begin;  ///< byte offset of each chunk
    std::vector<index_t> chunk_row;        ///< first row of each chunk
    std::vector<std::size_t> chunk_line;   ///< line number of each chunk's first line
};

/// Parses every line of text in parallel over line-aligned chunks; rows keep file order, so
/// the result does not depend on the thread count. Throws parse_error at the first bad line
/// (wrong field count, not a number, negative or too large index, non-finite value).
table parse_table(std::string_view text, const table_spec& spec);

/// True for the characters that separate fields and pad lines: space, tab, CR.
inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/// Splits one line (without its '\n') into fields: on runs of blanks when delim is 0, else on
/// delim with blanks trimmed around each field. An all-blank line gives no fields.
std::vector<std::string_view> split_fields(std::string_view line, char delim);

/// Parses a whole field as an integer / a number (a leading '+' allowed). Returns an empty
/// string on success, else what is wrong ("not a number: 'abc'").
std::string parse_index_field(std::string_view f, index_t& out);
std::string parse_value_field(std::string_view f, double& out, bool allow_nonfinite);

/// "expected 4 fields (3 indices and a value), found 3".
std::string field_count_message(std::size_t expected, const std::string& what, std::size_t found);

/// Walks a text line by line: calls fn(line_number, line) for every line (without '\n').
template <class Fn>
void for_each_line(std::string_view text, std::size_t first_line, Fn&& fn) {
    std::size_t pos = 0, line = first_line;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        fn(line, text.substr(pos, eol - pos));
        pos = eol + 1;
        ++line;
    }
}

/// True when the line is blank or a comment (first non-blank character is `comment`).
inline bool is_skipped_line(std::string_view line, char comment) {
    for (char c : line) {
        if (is_blank(c)) continue;
        return comment != 0 && c == comment;
    }
    return true;
}

}  // namespace facto::detail
