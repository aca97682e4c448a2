// text_header.hpp: the lines the GF(2) and the Z/Q scheme text formats share: comments,
// 'fmm N M P', 'convention cki|cik' and 'rank R' (docs/fmm.md).
#pragma once
#include <sstream>
#include <string>
#include <vector>

#include "facto/core/error.hpp"
#include "facto/fmm/scheme.hpp"

namespace facto::fmm::detail {

/// "<n,m,p>", as messages name a format.
inline std::string format_name(int n, int m, int p) {
    std::string s = "<";
    s += std::to_string(n);
    s += ',';
    s += std::to_string(m);
    s += ',';
    s += std::to_string(p);
    s += '>';
    return s;
}

/// The words of one line, '#' comments removed.
inline std::vector<std::string> scheme_words(std::string line) {
    if (const auto h = line.find('#'); h != std::string::npos) line.erase(h);
    std::istringstream ls(line);
    std::vector<std::string> words;
    for (std::string w; ls >> w;) words.push_back(w);
    return words;
}

/// What the shared header lines said so far.
struct text_header {
    int n = 0, m = 0, p = 0;
    bool have_format = false;
    bool cik = false;         ///< w strings hold c_ik (a 'convention cik' line, or transpose_c)
    long declared_rank = -1;  ///< from a 'rank R' line, -1 without one

    explicit text_header(bool transpose_c) : cik(transpose_c) {}

    /// Takes one of the shared lines and returns true, or returns false for any other line.
    /// @throws facto::parse_error (name:lineno) when a shared line is malformed.
    bool take(const std::vector<std::string>& words, const std::string& line, const std::string& name,
              std::size_t lineno) {
        if (words[0] == "fmm") {
            if (words.size() != 4) throw parse_error(name, lineno, "expected 'fmm N M P'");
            try {
                n = std::stoi(words[1]), m = std::stoi(words[2]), p = std::stoi(words[3]);
            } catch (const std::exception&) {
                throw parse_error(name, lineno, "expected 'fmm N M P' with integers, found '" + line + "'");
            }
            try {
                check_format(n, m, p);
            } catch (const invalid_argument& e) {
                throw parse_error(name, lineno, e.what());
            }
            have_format = true;
        } else if (words[0] == "convention") {
            if (words.size() != 2 || (words[1] != "cki" && words[1] != "cik"))
                throw parse_error(name, lineno, "expected 'convention cki' or 'convention cik', found '" + line + "'");
            cik = cik || words[1] == "cik";
        } else if (words[0] == "rank") {
            if (words.size() != 2) throw parse_error(name, lineno, "expected 'rank R'");
            try {
                declared_rank = std::stol(words[1]);
            } catch (const std::exception&) {
                throw parse_error(name, lineno, "expected 'rank R' with an integer, found '" + words[1] + "'");
            }
        } else {
            return false;
        }
        return true;
    }

    /// Checks the end of the file: a format line was given and the rank line, if any, matches.
    void finish(int rank, const std::string& name) const {
        if (!have_format) throw parse_error(name, 0, "no 'fmm N M P' line: expected a facto fmm scheme");
        if (declared_rank >= 0 && declared_rank != rank)
            throw parse_error(name, 0,
                              "'rank " + std::to_string(declared_rank) + "' but " + std::to_string(rank) +
                                  " terms follow");
    }
};

}  // namespace facto::fmm::detail
