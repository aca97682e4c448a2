// facto/decomp/tucker.hpp: Tucker decomposition of dense tensors (HOSVD, ST-HOSVD, HOOI).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "facto/core/matrix.hpp"
#include "facto/core/sparse.hpp"
#include "facto/core/tensor.hpp"

namespace facto {

/// X ~= core x_0 U_0 x_1 U_1 ... x_{N-1} U_{N-1}: core is R_0 x ... x R_{N-1}, factor n is
/// I_n x R_n with orthonormal columns.
template <class T>
struct basic_tucker_tensor {
    basic_tensor<T> core;
    std::vector<basic_matrix<T>> factors;

    int order() const noexcept { return static_cast<int>(factors.size()); }
    /// I_0 x ... x I_{N-1}, the shape of the tensor the model approximates.
    shape_t shape() const;
    /// R_0 x ... x R_{N-1}, the multilinear ranks (the core's shape).
    shape_t ranks() const;
    /// The full tensor, by a chain of mode products (TTM).
    /// @throws facto::invalid_argument if the core and factors do not match.
    basic_tensor<T> full() const;
    /// ||X - model||_F / ||X||_F (||model||_F when X = 0), the model rebuilt a slab of mode-0
    /// indices at a time: no X-sized reconstruction. @throws facto::invalid_argument if X's
    /// shape is not shape().
    double relative_error(basic_tensor_view<const T> X) const;
};
using tucker_tensor = basic_tucker_tensor<double>;
using tucker_tensor_f = basic_tucker_tensor<float>;

/// One HOOI sweep, as reported to tucker_options::on_iteration.
struct tucker_iteration {
    int iter = 0;          ///< 1-based
    double rel_error = 0;  ///< sqrt(||X||^2 - ||core||^2) / ||X|| after the sweep
    /// Previous error minus this one (for sweep 1 of dense HOOI, the ST-HOSVD start's; of
    /// sparse HOOI, 1). Non-negative up to rounding: HOOI never increases the error.
    double change = 0;
    double seconds = 0;    ///< wall time of the sweep
};

/// Settings for tucker_hosvd(), tucker_sthosvd() and tucker_hooi().
struct tucker_options {
    /// Fixed multilinear ranks, one per mode, 1 <= R_n <= I_n. Empty: ranks chosen from tol.
    /// With tol > 0 as well, these are caps and the tolerance guarantee holds only when no cap
    /// binds (compare error_bound with tol).
    shape_t ranks;
    /// Relative error target eps (ranks empty): per mode, the trailing singular values of the
    /// unfolding are dropped while their squares sum to at most eps^2 ||X||^2 / N, which
    /// guarantees ||X - model||_F <= eps ||X||_F for HOSVD and ST-HOSVD, and for HOOI (which
    /// starts from ST-HOSVD and never increases the error). The bound is on exact singular
    /// values; the Gram route resolves them only to ~sqrt(machine eps) ||X||, so below
    /// tol ~ 1e-7 (double) or ~3e-4 (float) it holds up to that floor.
    double tol = 0;
    int max_iters = 50;        ///< HOOI sweeps, >= 1
    double iter_tol = 1e-10;   ///< HOOI stops when the relative error improves by less than this
    /// Compute rel_error from the explicit residual X - full() (one reconstruction) rather than
    /// from ||X||^2 - ||core||^2, which loses digits below ~sqrt(machine eps) relative error.
    bool check_error = true;
    std::uint64_t seed = 0;    ///< sparse HOOI: seed of the random orthonormal start
    /// HOOI only: called after every sweep; return false to stop (e.g. on Ctrl-C). The result
    /// then holds the model of the last completed sweep, with interrupted = true.
    std::function<bool(const tucker_iteration&)> on_iteration;
};

template <class T>
struct basic_tucker_result {
    basic_tucker_tensor<T> model;
    double rel_error = 0;    ///< ||X - model||_F / ||X||_F (see tucker_options::check_error)
    /// sqrt(||X||^2 - ||core||^2) / ||X||: the error the orthogonal projection implies.
    double rel_error_estimate = 0;
    /// HOSVD / ST-HOSVD truncation bound sqrt(sum of discarded squared singular values) / ||X||
    /// (for HOOI: that of its ST-HOSVD start). rel_error <= error_bound up to rounding.
    double error_bound = 0;
    int iters = 0;           ///< HOOI sweeps done (0 for HOSVD and ST-HOSVD)
    bool converged = true;   ///< HOOI: the improvement fell below iter_tol within max_iters
    bool interrupted = false;  ///< HOOI: on_iteration asked to stop
    /// HOOI: the relative error sqrt(||X||^2 - ||core||^2) / ||X|| after each sweep (iters
    /// entries), non-increasing up to rounding. Empty for HOSVD and ST-HOSVD.
    std::vector<double> history;
    double seconds = 0;      ///< total wall time
    double setup_seconds = 0;  ///< HOOI: time of the ST-HOSVD start
};
using tucker_result = basic_tucker_result<double>;
using tucker_result_f = basic_tucker_result<float>;

// The factors are leading eigenvectors of the Gram matrices X_(n) X_(n)^T, formed with syrk on
// the natural row-major layout (no unfolding copy). Squaring costs accuracy: singular values
// below ~sqrt(machine eps) * ||X|| are not resolved, so relative errors (and tolerances) below
// ~1e-7 in double, ~3e-4 in float, sit at that floor rather than at machine precision.

/// Truncated higher-order SVD: every factor from the unfolding of X itself.
/// @throws facto::invalid_argument if X has a mode of size 0 or is not finite, the ranks do
/// not match the shape, both ranks and tol are missing, or tol is negative.
[[nodiscard]] tucker_result tucker_hosvd(basic_tensor_view<const double> X, const tucker_options& opts);
[[nodiscard]] tucker_result_f tucker_hosvd(basic_tensor_view<const float> X, const tucker_options& opts);

/// Sequentially truncated HOSVD (Vannieuwenhoven, Vandebril, Meerbergen 2012): mode n's factor
/// comes from the tensor already projected on modes 0..n-1, so each step works on a smaller one.
[[nodiscard]] tucker_result tucker_sthosvd(basic_tensor_view<const double> X, const tucker_options& opts);
[[nodiscard]] tucker_result_f tucker_sthosvd(basic_tensor_view<const float> X, const tucker_options& opts);

/// Higher-order orthogonal iteration from the ST-HOSVD start (ranks fixed by it): each sweep
/// replaces factor n by the leading left singular vectors of X projected on all other modes.
[[nodiscard]] tucker_result tucker_hooi(basic_tensor_view<const double> X, const tucker_options& opts);
[[nodiscard]] tucker_result_f tucker_hooi(basic_tensor_view<const float> X, const tucker_options& opts);

/// HOOI on a sparse tensor, never densified: each mode's projection Y_(n) = X_(n) (kron of
/// the other factors) is a TTM chain evaluated on a CSF tree rooted at mode n (partial
/// Kronecker products shared by the nonzeros under a node; rows of Y in parallel, race-free).
/// Factor n is the leading left singular vectors of Y_(n) (gesdd). The start is random
/// orthonormal factors from opts.seed, so the first sweep is a randomized range finder with a
/// Kronecker-structured test matrix. Needs opts.ranks (tol is not supported:
/// no truncation bound without the dense Gram). rel_error is sqrt(||X||^2 - ||core||^2) / ||X||
/// (error_bound 0; floor ~sqrt(eps)); the dense Y_(n) has I_n x prod_{m != n} R_m entries.
/// @throws facto::invalid_argument if X has fewer than 2 modes, a mode of size 0, or the
/// ranks are missing or out of range.
[[nodiscard]] tucker_result tucker_hooi(const coo_tensor& X, const tucker_options& opts);

}  // namespace facto
