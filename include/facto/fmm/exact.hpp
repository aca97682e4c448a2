// facto/fmm/exact.hpp: matrix multiplication schemes with rational (usually integer)
// coefficients, as lifted from GF(2): the type shared by lifting, verification, file formats
// and kernel generation.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "facto/fmm/scheme.hpp"

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

// ---------------------------------------------------------------------------------------
// Rational arithmetic. Every operation computes in 128 bits, reduces to lowest terms and throws
// facto::invalid_argument when the result does not fit in 64-bit numerator and denominator
// (|num| <= 2^63 - 1, so negation never overflows).

/// num / den reduced to lowest terms with den > 0; throws on den == 0 or overflow.
rational make_rational(std::int64_t num, std::int64_t den = 1);
rational operator+(const rational& a, const rational& b);
rational operator-(const rational& a, const rational& b);
rational operator-(const rational& a);
rational operator*(const rational& a, const rational& b);
/// Throws facto::invalid_argument on division by zero.
rational operator/(const rational& a, const rational& b);
/// "3", "-1", "2/3" (the text format's coefficient syntax).
std::string to_string(const rational& r);

// ---------------------------------------------------------------------------------------
// Verification and conversions

/// Checks all (n*m)(m*p)(p*n) Brent equations exactly over Q: for every (x, y, z) the sum over
/// terms of u[x] v[y] w[z] must equal T<n,m,p>[x,y,z]. Also reports factors of the wrong size
/// and coefficients not in lowest terms. Throws facto::invalid_argument when an intermediate
/// sum overflows 64 bits (then nothing can be concluded).
verify_result verify_exact(const exact_scheme& s);
/// verify_exact() that throws facto::invalid_argument naming `what` and the first failing
/// equation.
void require_valid_exact(const exact_scheme& s, const std::string& what);

/// The GF(2) image (num * den^-1 mod 2 for each coefficient); throws facto::invalid_argument
/// when a denominator is even (no image) or the format exceeds 64 bits per factor. The image
/// of a valid scheme is valid.
scheme mod2(const exact_scheme& s);
/// The 0/1 scheme with the same entries (valid over Q only when it happens to be).
exact_scheme from_gf2(const scheme& s);
/// Largest |coefficient| (as a rational's absolute value rounded up to an integer).
std::int64_t max_abs_coefficient(const exact_scheme& s);
/// Every coefficient in {-1, 0, 1}.
bool is_signed_unit(const exact_scheme& s);

// ---------------------------------------------------------------------------------------
// Files (docs/fmm.md). The text format is the GF(2) one with 'field Z' or 'field Q' and
// terms written as three groups of comma-separated coefficients (integers or p/q):
//   fmm 2 2 2
//   field Z
//   convention cki          (optional; cik: the w group is n x p over C, entry i*p+k)
//   rank 7                  (optional)
//   1,0,0,1 1,0,0,1 1,0,0,1
// The .npy folder holds U (R x n x m), V (R x m x p), W (R x p x n; R x n x p with c_ik) as
// float64 (integer dtypes accepted); entries must be integers or have a power-of-two
// denominator (at most 2^30), so rationals such as 1/3 need the text format. Dense formats have
// no index base: entry (i, j) is position i*cols + j, counted from 0.

/// The coefficient field a scheme file holds.
enum class scheme_field { gf2, integers, rationals };
/// "GF(2)", "Z" or "Q".
const char* field_name(scheme_field f);
/// What a file declares: its 'field' line for text (default gf2); for a .npy folder, integers
/// or rationals from the entries (a folder of 0/1 entries says integers: it may be either).
scheme_field read_scheme_field(const std::string& path);

/// Serializes in the text format with 'field Z' when integral, else 'field Q'.
std::string to_exact_text(const exact_scheme& s);
/// Parses the text format with 'field Z' or 'field Q'; throws facto::parse_error (name:line) on
/// malformed input (a GF(2) file included: read it with read_scheme) and facto::invalid_argument
/// when the scheme does not verify exactly over Q. transpose_c reads the w groups as c_ik.
exact_scheme parse_exact_text(const std::string& text, const std::string& name = "<memory>",
                              bool transpose_c = false);
/// Reads a Z or Q text file, or a .npy folder as above; every scheme read is verified exactly.
exact_scheme read_exact_scheme(const std::string& path, bool transpose_c = false);
/// Writes the text format atomically.
void write_exact_scheme_text(const std::string& path, const exact_scheme& s);
/// Writes folder/U.npy, V.npy, W.npy (float64, W as R x p x n = c_ki), creating the folder.
/// Throws facto::invalid_argument when a coefficient is not exactly representable (an integer
/// beyond 2^53, or a denominator that is not a power of two up to 2^30).
void write_exact_scheme_npy(const std::string& folder, const exact_scheme& s);

}  // namespace facto::fmm
