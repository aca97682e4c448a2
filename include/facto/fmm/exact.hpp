// facto/fmm/exact.hpp: matrix multiplication schemes with rational (usually integer)
// coefficients, as lifted from GF(2): the type shared by lifting, verification, file formats
// and kernel generation.
#pragma once
#include <cstdint>
#include <vector>

namespace facto::fmm {

/// num / den in lowest terms with den > 0 (0 is 0/1).
struct rational {
    std::int64_t num = 0, den = 1;
    friend bool operator==(const rational&, const rational&) = default;
};

/// A rank-one term with coefficient matrices in the same row-major orders as fmm::term:
/// u[i*m+j] multiplies a_ij, v[j*p+k] multiplies b_jk, w[k*n+i] is the coefficient of the
/// product in c_ik (the cyclic c_ki convention).
struct exact_term {
    std::vector<rational> u, v, w;  ///< sizes n*m, m*p, p*n
    friend bool operator==(const exact_term&, const exact_term&) = default;
};

/// sum over terms of u (x) v (x) w = T<n,m,p> exactly over the rationals.
struct exact_scheme {
    int n = 0, m = 0, p = 0;
    std::vector<exact_term> terms;
    int rank() const noexcept { return static_cast<int>(terms.size()); }
    /// Every coefficient an integer (den == 1).
    bool integral() const noexcept {
        for (const auto& t : terms)
            for (const auto* f : {&t.u, &t.v, &t.w})
                for (const auto& c : *f)
                    if (c.den != 1) return false;
        return true;
    }
};

}  // namespace facto::fmm
