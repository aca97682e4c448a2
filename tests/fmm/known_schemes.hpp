// tests/fmm/known_schemes.hpp: published schemes written as the products and C entries of the
// papers (Strassen 1969, Laderman 1976), for the exact-verification and lifting tests.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "facto/fmm/exact.hpp"

namespace facto::fmm::known {

/// A linear form such as "a11+a12-a21" over the n_rows x n_cols matrix named by its letter, as
/// row-major coefficients (entry (i, j) at i*cols + j).
inline std::vector<rational> linear_form(const std::string& text, char letter, int rows, int cols) {
    std::vector<rational> out(rows * cols, rational{0, 1});
    std::size_t i = 0;
    while (i < text.size()) {
        int sign = 1;
        if (text[i] == '+' || text[i] == '-') sign = text[i++] == '-' ? -1 : 1;
        if (text[i] != letter) throw std::logic_error("linear_form: bad text " + text);
        const int r = text[i + 1] - '1', c = text[i + 2] - '1';
        out[r * cols + c].num += sign;
        i += 3;
    }
    return out;
}

/// Builds a scheme from products (u, v as forms over A and B) and, for each entry c_ik, the
/// signed list of products it sums, such as {"c11", "m6+m14+m19"}.
inline exact_scheme scheme_from_products(int n, int m, int p, const std::vector<std::pair<std::string, std::string>>& products,
                                         const std::vector<std::pair<std::string, std::string>>& c_entries) {
    exact_scheme s{n, m, p, {}};
    for (const auto& [u, v] : products)
        s.terms.push_back({linear_form(u, 'a', n, m), linear_form(v, 'b', m, p),
                           std::vector<rational>(p * n, rational{0, 1})});
    for (const auto& [c, sum] : c_entries) {
        const int i = c[1] - '1', k = c[2] - '1';
        std::size_t q = 0;
        while (q < sum.size()) {
            int sign = 1;
            if (sum[q] == '+' || sum[q] == '-') sign = sum[q++] == '-' ? -1 : 1;
            ++q;  // 'm'
            int idx = 0;
            while (q < sum.size() && sum[q] >= '0' && sum[q] <= '9') idx = idx * 10 + (sum[q++] - '0');
            s.terms[idx - 1].w[k * n + i].num += sign;
        }
    }
    return s;
}

/// Strassen's algorithm with its published signs.
inline exact_scheme strassen_published() {
    return scheme_from_products(2, 2, 2,
                                {{"a11+a22", "b11+b22"},
                                 {"a21+a22", "b11"},
                                 {"a11", "b12-b22"},
                                 {"a22", "b21-b11"},
                                 {"a11+a12", "b22"},
                                 {"a21-a11", "b11+b12"},
                                 {"a12-a22", "b21+b22"}},
                                {{"c11", "m1+m4-m5+m7"}, {"c12", "m3+m5"}, {"c21", "m2+m4"}, {"c22", "m1-m2+m3+m6"}});
}

/// Laderman's algorithm for 3 x 3 matrices in 23 multiplications, with its published signs.
inline exact_scheme laderman_published() {
    return scheme_from_products(
        3, 3, 3,
        {{"a11+a12+a13-a21-a22-a32-a33", "b22"},
         {"a11-a21", "-b12+b22"},
         {"a22", "-b11+b12+b21-b22-b23-b31+b33"},
         {"-a11+a21+a22", "b11-b12+b22"},
         {"a21+a22", "-b11+b12"},
         {"a11", "b11"},
         {"-a11+a31+a32", "b11-b13+b23"},
         {"-a11+a31", "b13-b23"},
         {"a31+a32", "-b11+b13"},
         {"a11+a12+a13-a22-a23-a31-a32", "b23"},
         {"a32", "-b11+b13+b21-b22-b23-b31+b32"},
         {"-a13+a32+a33", "b22+b31-b32"},
         {"a13-a33", "b22-b32"},
         {"a13", "b31"},
         {"a32+a33", "-b31+b32"},
         {"-a13+a22+a23", "b23+b31-b33"},
         {"a13-a23", "b23-b33"},
         {"a22+a23", "-b31+b33"},
         {"a12", "b21"},
         {"a23", "b32"},
         {"a21", "b13"},
         {"a31", "b12"},
         {"a33", "b33"}},
        {{"c11", "m6+m14+m19"},
         {"c12", "m1+m4+m5+m6+m12+m14+m15"},
         {"c13", "m6+m7+m9+m10+m14+m16+m18"},
         {"c21", "m2+m3+m4+m6+m14+m16+m17"},
         {"c22", "m2+m4+m5+m6+m20"},
         {"c23", "m14+m16+m17+m18+m21"},
         {"c31", "m6+m7+m8+m11+m12+m13+m14"},
         {"c32", "m12+m13+m14+m15+m22"},
         {"c33", "m6+m7+m8+m9+m23"}});
}

}  // namespace facto::fmm::known
