// facto/fmm/lift.hpp: lifting GF(2) schemes to the integers or rationals: Hensel lifting of the
// Brent equations to the 2-adic integers with rational reconstruction, and sign lifting to
// coefficients in {-1, 0, 1}; every result is verified exactly over Q.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "facto/fmm/exact.hpp"

namespace facto::fmm {

/// The rational p/q with |p|, q <= bound = floor(sqrt(2^(K-1))) and p == a q (mod 2^K), q odd,
/// if one exists (it is then unique); a is taken mod 2^K. 1 <= K <= 64.
std::optional<rational> rational_reconstruct(std::uint64_t a, int K);

/// Options of lift().
struct lift_options {
    int precision = 40;        ///< K: Hensel lifting to 2^K (2..64), reconstruction bound sqrt(2^(K-1))
    bool hensel = true;        ///< try Hensel lifting
    /// Pivot orders tried per Hensel mode (support, then all entries) until a lift is integral;
    /// the best is kept ({-1,0,1}, then integers, then the smallest largest coefficient).
    int hensel_orders = 8;
    bool signs = true;         ///< try sign lifting (the same support, coefficients +-1)
    std::uint64_t sign_search_limit = 2000000;  ///< nodes of the sign search before giving up
};

/// Result of lift().
struct lift_result {
    bool lifted = false;       ///< a scheme was found and verified exactly over Q
    exact_scheme lifted_scheme;  ///< its GF(2) image is the input scheme (when lifted)
    bool integral = false;     ///< every coefficient an integer
    bool signed_pm1 = false;   ///< every coefficient in {-1, 0, 1}
    std::string method;        ///< "signs" or "hensel (support)" or "hensel (all entries)"
    int precision = 0;         ///< K of the Hensel lifting that was used (0: sign lifting)
    double seconds = 0;
    std::vector<std::string> messages;  ///< what each attempt did, in order
};

/// Hensel lifting of the Brent equations F(x) = T from the 0/1 solution x0 = s: the Jacobian
/// J(x0) is factored once over GF(2) (bit-packed Gauss-Jordan elimination), then
/// x_{k+1} = x_k + 2^k d with J d = (T - F(x_k)) / 2^k (mod 2), free variables 0, up to 2^K;
/// each coefficient is then rationally reconstructed and the scheme verified exactly.
/// support_only: only the 1-entries of s are unknowns (the zeros stay 0), so the result keeps
/// the support; otherwise every entry is. Returns nothing (with the reason in `why`) when a
/// step is inconsistent, reconstruction fails, or the reconstructed scheme does not verify.
/// column_order 0 eliminates the columns in order (in all-entries mode the 1-entries first, so
/// pivots, which change, are preferably there); another value shuffles them with that seed,
/// which picks other free variables and so possibly another lift.
std::optional<exact_scheme> hensel_lift(const scheme& s, int K, bool support_only, std::string& why,
                                        std::uint64_t column_order = 0);

/// Sign lifting: coefficients (-1)^sigma on the support of s. The Brent equations mod 4 are
/// linear in sigma over GF(2) (exact for equations with one or two terms); they are solved with
/// one sign per term's u and v fixed (the scaling symmetry), and the remaining freedom is
/// searched depth-first against the equations with three or more terms, up to `node_limit`
/// nodes. Returns nothing (reason in `why`) when no such signs exist or the search gave up.
std::optional<exact_scheme> sign_lift(const scheme& s, std::uint64_t node_limit, std::string& why);

/// Lifts a valid GF(2) scheme (throws facto::invalid_argument when s does not verify): tries
/// Hensel lifting on the support, then (unless that gave integers) on all entries, each with up
/// to hensel_orders pivot orders, and sign lifting when the result is not already in
/// {-1, 0, 1}; prefers +-1 coefficients, then integers, then rationals. Deterministic.
lift_result lift(const scheme& s, const lift_options& opts = {});

}  // namespace facto::fmm
