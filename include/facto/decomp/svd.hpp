// facto/decomp/svd.hpp: truncated SVD of dense matrices, exact (LAPACK) and randomized.
#pragma once
#include <cstdint>
#include <vector>

#include "facto/core/matrix.hpp"
#include "facto/core/sparse.hpp"

namespace facto {

/// A ~= U diag(s) V^T with U (m x k) and V (n x k) of orthonormal columns, s decreasing.
template <class T>
struct basic_svd_result {
    basic_matrix<T> U;
    std::vector<T> s;
    basic_matrix<T> V;
    index_t rank = 0;           ///< k, the number of singular triplets kept
    /// ||A - U diag(s) V^T||_F / ||A||_F. svd_truncated: from the discarded singular values.
    /// svd_randomized: evaluated, not estimated (see svd_randomized_options::check_error),
    /// unless check_error is false, then equal to rel_error_estimate.
    double rel_error = 0;
    /// svd_randomized only: the a-posteriori estimate sqrt(||A||^2 - ||U^T A||^2) / ||A|| that
    /// drove the rank choice (Frobenius norms; its rounding floor is ~sqrt(eps) relative).
    double rel_error_estimate = 0;
    bool converged = true;      ///< svd_randomized with tol: the estimate reached tol
};
using svd_result = basic_svd_result<double>;
using svd_result_f = basic_svd_result<float>;

/// Settings for svd_truncated().
struct svd_options {
    index_t rank = 0;  ///< most triplets kept; 0 means min(m, n)
    /// > 0: keep the smallest rank (up to `rank`) with ||A - A_k||_F <= tol ||A||_F.
    double tol = 0;
};

/// Exact truncated SVD through LAPACK gesdd (divide and conquer).
/// @throws facto::invalid_argument if rank < 0, tol < 0 or not finite, or LAPACK fails
/// (non-finite entries).
template <class T>
[[nodiscard]] basic_svd_result<T> svd_truncated(const basic_matrix<T>& A, const svd_options& opts = {});

/// Settings for svd_randomized(): a randomized range finder (Halko, Martinsson, Tropp 2011)
/// with Gaussian test matrices and orthonormalized power iterations.
struct svd_randomized_options {
    /// Fixed rank: the number of triplets returned (> 0). 0 selects the fixed-accuracy mode.
    index_t rank = 0;
    /// Fixed accuracy (rank == 0): grow the basis Q by `block` columns at a time until the
    /// estimate ||A - Q Q^T A||_F <= tol ||A||_F, then keep the fewest triplets of Q Q^T A
    /// within tol. Must be > 0 when rank == 0.
    double tol = 0;
    index_t oversample = 10;  ///< extra columns in fixed-rank mode, >= 0
    int power_iters = 2;      ///< passes of (A A^T) applied to the sketch, >= 0
    /// Fixed rank only. 0: subspace iteration, the basis is the last power iterate
    /// (A A^T)^q A Omega with rank + oversample columns. b > 0: block Krylov (Musco & Musco
    /// 2015), the basis keeps every iterate, [A Omega, (A A^T) A Omega, ..., (A A^T)^q A Omega]
    /// with Omega of b columns, so b (q + 1) columns (>= rank) for 2 b (q + 1) columns of
    /// products with A and A^T. More accurate per product column: on a 5000 x 2000 matrix at
    /// rank 50, b = 25, q = 3 beats subspace iteration with q = 2 with 56% of its product
    /// columns, though about even in time (BLAS runs narrow blocks less efficiently). On flat
    /// spectra (PBMC counts, rank 30) oversampling does as well: measure before choosing.
    index_t krylov_block = 0;
    index_t block = 16;       ///< fixed accuracy: columns added per step, >= 1
    index_t max_rank = 0;     ///< fixed accuracy: basis size cap; 0 means min(m, n)
    std::uint64_t seed = 0;   ///< same seed, same result
    /// Evaluate rel_error = ||A - U S V^T||_F / ||A||_F rather than report the estimate. It is
    /// the expansion ||A||^2 - 2 tr(S V^T A^T U) + ||U S V^T||^2, with A^T U taken from the
    /// product A^T Q the method already formed and Gram matrices of U and V (no pass over A,
    /// no assumption that U and V are orthonormal); accurate to ~eps (m + n) (l + 16) ||A||^2
    /// (l = basis size). When the squared error is within 1000 times that floor, the residual
    /// itself is computed instead (dense: one pass over A in row blocks; sparse: an exact
    /// expansion over the nonzeros). false: report the estimate.
    bool check_error = true;
};

/// Randomized truncated SVD of a dense matrix, fixed rank or fixed accuracy.
/// @throws facto::invalid_argument on a negative or inconsistent option, or rank > min(m, n).
template <class T>
[[nodiscard]] basic_svd_result<T> svd_randomized(const basic_matrix<T>& A, const svd_randomized_options& opts = {});

/// Randomized truncated SVD of a sparse matrix given as an order-2 COO tensor (rows = mode 0),
/// never densified: the products A X and A^T Y run on compressed rows (CSR) of A and of A^T,
/// built once (duplicates summed). rel_error as for the dense overload; near the floor, from
/// the expansion ||A||^2 - 2 <A, U S V^T> + ||S||^2 over the nonzeros (floor ~sqrt(eps) relative).
/// @throws facto::invalid_argument if A is not of order 2, has a non-finite value, or an
/// option is invalid as for the dense overload.
template <class T>
[[nodiscard]] basic_svd_result<T> svd_randomized(const basic_coo_tensor<T>& A, const svd_randomized_options& opts = {});

}  // namespace facto
