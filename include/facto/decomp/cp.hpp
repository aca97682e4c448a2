// facto/decomp/cp.hpp: CP (CANDECOMP/PARAFAC) decomposition of dense and sparse tensors.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "facto/core/kruskal.hpp"
#include "facto/core/sparse.hpp"
#include "facto/core/tensor.hpp"

namespace facto {

enum class cp_init {
    random,  ///< uniform [0, 1) entries from the seed
    svd,     ///< leading left singular vectors of each unfolding ("nvecs"), random-padded:
             ///< exact (Gram eigenvectors) for dense modes up to 4000, a randomized range
             ///< finder with power iterations for longer dense modes and for sparse tensors
    given,   ///< cp_options::initial
};

/// One ALS/HALS sweep over all modes, as reported to the progress callback and in history.
struct cp_iteration {
    int iter = 0;         ///< 1-based
    double fit = 0;       ///< 1 - ||X - M|| / ||X||
    double change = 0;    ///< |fit - previous fit|
    double seconds = 0;   ///< wall time of this iteration
};

/// Settings for cp_als() and cp_hals(). The defaults suit a first run.
struct cp_options {
    index_t rank = 10;              ///< number of components, >= 1
    int max_iters = 100;            ///< >= 1
    double tol = 1e-6;              ///< stop when the change in fit falls below this
    std::uint64_t seed = 0;         ///< same seed (and thread count), same result
    cp_init init = cp_init::random;
    std::optional<kruskal_tensor> initial;  ///< initial factors for cp_init::given (weights ignored)
    int threads = 0;                ///< OpenMP threads; 0 keeps the current setting
    csf_policy csf = csf_policy::all;  ///< sparse only: CSF copies kept (memory/speed)
    /// Called after every iteration; return false to stop (e.g. on Ctrl-C). The result then
    /// holds the model of the last completed iteration, with interrupted = true.
    std::function<bool(const cp_iteration&)> on_iteration;
};

/// Result of a CP decomposition. Not converging is a result, not an error.
struct cp_result {
    kruskal_tensor model;           ///< columns normalized, weights sorted decreasing
    double fit = 0;                 ///< final 1 - ||X - M|| / ||X||
    int iters = 0;
    bool converged = false;         ///< the change in fit fell below tol
    bool interrupted = false;       ///< on_iteration asked to stop
    int pinv_fallbacks = 0;         ///< solves that fell back from Cholesky to the pseudo-inverse
    /// Bound on the rounding error of `fit`. The formula ||X||^2 + ||M||^2 - 2<X, M> loses
    /// digits when components cancel each other with huge weights (a degenerate CP). Above 1e-6,
    /// dense input recomputes the final fit from the explicit residual X - M (and this is 0);
    /// sparse input, whose model is too large to form, keeps the formula and this bound.
    double fit_uncertainty = 0;
    std::vector<cp_iteration> history;
    double seconds = 0;             ///< total, including set-up (CSF build, initialization)
    double setup_seconds = 0;
};

/// CP decomposition by alternating least squares (normal equations with Gram-Hadamard
/// products; fit from the last MTTKRP, never reconstructing the tensor).
/// @throws facto::invalid_argument if opts.rank < 1, the tensor has fewer than 2 modes or is
/// zero, or given initial factors do not match the shape.
[[nodiscard]] cp_result cp_als(basic_tensor_view<const double> X, const cp_options& opts = {});
[[nodiscard]] cp_result cp_als(basic_tensor_view<const float> X, const cp_options& opts = {});
[[nodiscard]] cp_result cp_als(const coo_tensor& X, const cp_options& opts = {});
[[nodiscard]] cp_result cp_als(const csf_set& X, const cp_options& opts = {});

/// Nonnegative CP by hierarchical ALS (HALS): one column at a time, in closed form, clipped
/// at a tiny positive floor. Factors (and so the model) are nonnegative. The tensor may hold
/// negative noise. SVD and given starts are replaced by their absolute values.
[[nodiscard]] cp_result cp_hals(basic_tensor_view<const double> X, const cp_options& opts = {});
[[nodiscard]] cp_result cp_hals(basic_tensor_view<const float> X, const cp_options& opts = {});
[[nodiscard]] cp_result cp_hals(const coo_tensor& X, const cp_options& opts = {});
[[nodiscard]] cp_result cp_hals(const csf_set& X, const cp_options& opts = {});

}  // namespace facto
