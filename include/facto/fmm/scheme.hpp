// facto/fmm/scheme.hpp: matrix multiplication schemes over GF(2): the tensor <n,m,p> and the
// tensors of structured products (A*A^T, triangular or symmetric A), exact verification of the
// Brent equations, the standard algorithm, Strassen, and file formats.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace facto::fmm {

/// One factor over GF(2): bit i*cols+j holds entry (i, j) of the factor matrix (row-major).
/// One machine word, so every factor matrix has at most 64 entries (formats up to 8x8).
using factor_t = std::uint64_t;

/// A rank-one term u (x) v (x) w of a scheme.
struct term {
    factor_t u = 0;  ///< n x m mask over A: bit i*m+j is a_ij
    factor_t v = 0;  ///< m x p mask over B: bit j*p+k is b_jk
    factor_t w = 0;  ///< p x n mask over C^T: bit k*n+i is c_ki (the cyclic convention)
    friend bool operator==(const term&, const term&) = default;
};

/// Which product a scheme computes: the tensor its terms must sum to (docs/fmm.md, "Structured
/// products"). The inputs of a structured product are its independent entries; the factor
/// masks may only use those bits.
enum class product_kind {
    general,           ///< C = A B: T<n,m,p> = sum_{i,j,k} a_ij (x) b_jk (x) c_ki
    a_at,              ///< C = A A^T (p = n), lower triangle of C only: v masks are over A
                       ///< (bit k*m+j is a_kj = b_jk), w only has bits k*n+i with i >= k
    upper_triangular,  ///< A upper triangular (m = n): u only has bits i*n+j with i <= j
    symmetric,         ///< A symmetric (m = n), given by a_ij for i <= j (u bits i*n+j, i <= j)
};

/// "general", "aat", "triu" or "sym" (the file format's and the CLI's names).
const char* product_name(product_kind kind) noexcept;
/// Inverse of product_name; throws facto::invalid_argument naming the expected names.
product_kind parse_product(const std::string& name);

/// A scheme for multiplying n x m by m x p matrices: sum over terms of u (x) v (x) w equals
///   T<n,m,p> = sum_{i,j,k} a_ij (x) b_jk (x) c_ki   over GF(2)
/// (or the tensor of the structured product `product`).
/// Product k of a scheme is (sum u_ij a_ij)(sum v_jk b_jk), and c_ik (of C = AB) is the sum of
/// the products whose w has bit k*n+i set.
struct scheme {
    int n = 0, m = 0, p = 0;
    std::vector<term> terms;
    product_kind product = product_kind::general;
    int rank() const noexcept { return static_cast<int>(terms.size()); }
};

/// Throws facto::invalid_argument unless 1 <= n, m, p and n*m, m*p, p*n <= 64, and, for a
/// structured product, p = n (a_at) or m = n (upper_triangular, symmetric).
void check_format(int n, int m, int p, product_kind kind = product_kind::general);

/// The bits a factor may use in position 0 (u), 1 (v) or 2 (w) of a scheme for this product.
factor_t allowed_bits(int n, int m, int p, product_kind kind, int position);

/// The standard algorithm: n*m*p terms a_ij (x) b_jk (x) c_ki; for a structured product the
/// classical algorithm over its independent inputs: a_at: a_ij (x) a_kj (x) c_ki for i >= k
/// (n(n+1)/2 m terms); upper_triangular: a_ij (x) b_jk (x) c_ki for i <= j (n(n+1)/2 p terms);
/// symmetric: a_min(i,j)max(i,j) (x) b_jk (x) c_ki (n n p terms).
scheme standard_scheme(int n, int m, int p, product_kind kind = product_kind::general);
/// Strassen's 7-term scheme for <2,2,2> (reduced mod 2).
scheme strassen_scheme();

/// The product scheme for <n1 n2, m1 m2, p1 p2> with rank r1 r2 (the Kronecker product of the
/// terms; index i = i1 n2 + i2 and so on): Strassen with itself gives <4,4,4> in 49.
/// Throws facto::invalid_argument when the product format exceeds 64 bits per factor.
scheme product_scheme(const scheme& a, const scheme& b);

/// Result of checking the Brent equations: ok, or the first equation that fails.
struct verify_result {
    bool ok = true;
    int failures = 0;       ///< number of failing equations (u-bit, v-bit, w-bit) triples
    int x = -1, y = -1, z = -1;  ///< first failing (u bit, v bit, w bit), -1 when ok
    std::string message;    ///< empty when ok
};

/// Exact check over GF(2): for every bit triple (x, y, z) the parity of the number of terms
/// with u_x v_y w_z set (a popcount over bit-sliced term sets) must equal T<n,m,p>[x,y,z] (the
/// tensor of s.product). Also rejects bits set outside the format (allowed_bits).
verify_result verify(const scheme& s);
/// verify() that throws facto::invalid_argument naming `what` and the first failing equation.
void require_valid(const scheme& s, const std::string& what);

/// Text format (documented in docs/fmm.md):
///   # comments and blank lines ignored
///   fmm N M P
///   field gf2
///   convention cki | cik      (optional, default cki; cik: w bit i*p+k is c_ik)
///   product general|aat|triu|sym  (optional, default general)
///   rank R                    (optional; checked against the term count when present)
///   then one term per line: three 0/1 strings of n*m, m*p and p*n (cik: n*p) characters.
std::string to_text(const scheme& s);
/// Parses the text format; throws facto::parse_error (name:line) on malformed input and
/// facto::invalid_argument when the scheme does not verify. transpose_c reads the w strings
/// in the c_ik convention whatever the file says.
scheme parse_text(const std::string& text, const std::string& name = "<memory>", bool transpose_c = false);

/// Reads a scheme: a text file, or a folder with U.npy, V.npy, W.npy (see write_scheme_npy).
/// Every scheme read is verified. transpose_c: the file's W holds c_ik rather than c_ki.
scheme read_scheme(const std::string& path, bool transpose_c = false);
/// Writes the text format atomically.
void write_scheme_text(const std::string& path, const scheme& s);
/// Writes folder/U.npy (R x n x m), V.npy (R x m x p) and W.npy (R x p x n, entry [r,k,i] is
/// c_ki), 0/1 float64, creating the folder. Integer arrays are accepted on import and
/// reduced mod 2. General products only (a folder does not record a product kind): throws
/// facto::invalid_argument for a structured one.
void write_scheme_npy(const std::string& folder, const scheme& s);

}  // namespace facto::fmm
