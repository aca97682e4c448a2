// facto/decomp/nmf.hpp: nonnegative matrix factorization X ~= W H of dense and sparse matrices,
// by fast HALS, multiplicative updates (Frobenius and KL) and ANLS with block principal pivoting,
// with L1/L2 penalties and a mask of observed entries (weighted NMF).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "facto/core/csr.hpp"
#include "facto/core/matrix.hpp"

namespace facto {

enum class nmf_method {
    hals,  ///< fast HALS (Cichocki & Phan 2009): one column of W / row of H at a time, in closed form
    mu,    ///< multiplicative updates (Lee & Seung), Frobenius or Kullback-Leibler
    anls,  ///< alternating nonnegative least squares, block principal pivoting (Kim & Park 2011)
};

enum class nmf_loss {
    frobenius,         ///< 1/2 ||X - WH||_F^2 (every method)
    kullback_leibler,  ///< generalized KL divergence sum x log(x / wh) - x + wh (mu only)
};

enum class nmf_init {
    nndsvd,   ///< NNDSVD (Boutsidis & Gallopoulos 2008) from a randomized rank-k SVD; keeps its zeros
    nndsvda,  ///< NNDSVD with zeros replaced by the mean of X (better for mu, whose zeros are stuck)
    random,   ///< sqrt(mean(X) / k) |N(0, 1)| entries from the seed (scikit-learn's scaling)
    given,    ///< nmf_options::initial_W and initial_H
};

/// One iteration (an update of W, then of H), as reported to the callback and in history.
struct nmf_iteration {
    int iter = 0;             ///< 1-based
    /// ||M .* (X - WH)||_F / ||M .* X||_F (M: the observed entries, all of them without a mask).
    /// NaN on iterations where the error was not computed (compute_error_every).
    double rel_error = 0;
    /// Kullback-Leibler loss only: the divergence D(X || WH) over the observed entries, else 0.
    double divergence = 0;
    /// Change of the stopping quantity since the last computed error: |delta rel_error| for the
    /// Frobenius loss, |delta divergence| / divergence for KL. NaN when not computed.
    double change = 0;
    double seconds = 0;       ///< wall time of this iteration (including the error)
};

/// Settings for nmf(). The objective minimized is the loss over the observed entries plus
///   l1_W ||W||_1 + l2_W / 2 ||W||_F^2 + l1_H ||H||_1 + l2_H / 2 ||H||_F^2.
struct nmf_options {
    index_t rank = 10;                ///< k, >= 1
    nmf_method method = nmf_method::hals;
    nmf_loss loss = nmf_loss::frobenius;
    int max_iters = 200;              ///< >= 1
    double tol = 1e-4;                ///< stop when `change` falls below this (0: run max_iters)
    double l1_W = 0, l1_H = 0, l2_W = 0, l2_H = 0;  ///< penalties, >= 0
    nmf_init init = nmf_init::nndsvda;
    std::optional<matrix> initial_W;  ///< m x k, for nmf_init::given (nonnegative)
    std::optional<matrix> initial_H;  ///< k x n, for nmf_init::given (nonnegative)
    std::uint64_t seed = 0;           ///< random init and the randomized SVD behind NNDSVD
    int threads = 0;                  ///< OpenMP/BLAS threads; 0 keeps the current setting
    /// Compute the error every this many iterations (and always at the last one). The
    /// unweighted Frobenius methods get it almost free from the Gram matrices; the weighted
    /// and KL paths pay one pass over the observed entries.
    int compute_error_every = 1;
    /// hals only: most sweeps over the k columns per update of W (or H). 0: automatic, the
    /// accelerated HALS of Gillis & Glineur (2012): up to 1 + n / (2k) sweeps per row of W
    /// (m / (2k) per row of H), stopping once a sweep moves the row by less than 1% of what the
    /// first sweep moved it. 1: plain fast HALS (scikit-learn's 'cd'). The products with X, the
    /// expensive part, are computed once per update either way. Weighted HALS always sweeps once.
    int inner_iters = 0;
    /// Sparse input without a mask: true treats entries that are not stored as missing (the
    /// observed entries are the stored ones: matrix completion); false treats them as zeros.
    bool unstored_missing = false;
    /// Called after every iteration; return false to stop (e.g. on Ctrl-C). The result then
    /// holds the factors of the last completed iteration, with interrupted = true.
    std::function<bool(const nmf_iteration&)> on_iteration;
};

/// X ~= W H, W (m x k) and H (k x n) nonnegative. Not converging is a result, not an error.
template <class T>
struct basic_nmf_result {
    basic_matrix<T> W;
    basic_matrix<T> H;
    double rel_error = 0;       ///< final ||M .* (X - WH)||_F / ||M .* X||_F
    double divergence = 0;      ///< final KL divergence (KL loss only)
    int iters = 0;
    bool converged = false;     ///< the change fell below tol
    bool interrupted = false;   ///< on_iteration asked to stop
    std::vector<nmf_iteration> history;
    double seconds = 0;         ///< total, including set-up and initialization
    double setup_seconds = 0;   ///< before the first iteration (transposes, initialization)
};
using nmf_result = basic_nmf_result<double>;
using nmf_result_f = basic_nmf_result<float>;

/// NMF of a dense matrix by opts.method.
/// @throws facto::invalid_argument naming the option for a bad option (rank < 1 or above
/// min(m, n) for NNDSVD, negative penalty, KL with a method other than mu, ...), for negative,
/// NaN or infinite entries, or an all-zero X.
template <class T>
[[nodiscard]] basic_nmf_result<T> nmf(const basic_matrix<T>& X, const nmf_options& opts = {});
/// NMF of a sparse (CSR) matrix: unstored entries are zeros, or missing with
/// opts.unstored_missing. X is never densified.
template <class T>
[[nodiscard]] basic_nmf_result<T> nmf(const basic_csr_matrix<T>& X, const nmf_options& opts = {});
/// Weighted NMF: only the entries where mask != 0 are observed (fitted); the others are missing.
/// mask has X's shape. Every method: hals and mu work per observed entry, anls solves one
/// k x k system per row and column (its own Gram matrix over its observed entries).
template <class T>
[[nodiscard]] basic_nmf_result<T> nmf(const basic_matrix<T>& X, const basic_matrix<T>& mask,
                                      const nmf_options& opts = {});
/// Weighted NMF of a sparse X: the observed entries are the stored entries of mask with a
/// nonzero value (X's value there, zero if X does not store it).
template <class T>
[[nodiscard]] basic_nmf_result<T> nmf(const basic_csr_matrix<T>& X, const basic_csr_matrix<T>& mask,
                                      const nmf_options& opts = {});

/// nmf() with method hals / mu / anls.
template <class Matrix>
[[nodiscard]] auto nmf_hals(const Matrix& X, nmf_options opts = {}) {
    opts.method = nmf_method::hals;
    return nmf(X, opts);
}
template <class Matrix>
[[nodiscard]] auto nmf_hals(const Matrix& X, const Matrix& mask, nmf_options opts = {}) {
    opts.method = nmf_method::hals;
    return nmf(X, mask, opts);
}
template <class Matrix>
[[nodiscard]] auto nmf_mu(const Matrix& X, nmf_options opts = {}) {
    opts.method = nmf_method::mu;
    return nmf(X, opts);
}
template <class Matrix>
[[nodiscard]] auto nmf_mu(const Matrix& X, const Matrix& mask, nmf_options opts = {}) {
    opts.method = nmf_method::mu;
    return nmf(X, mask, opts);
}
template <class Matrix>
[[nodiscard]] auto nmf_anls(const Matrix& X, nmf_options opts = {}) {
    opts.method = nmf_method::anls;
    return nmf(X, opts);
}

/// Initial factors as nmf() computes them for opts.init (nndsvd, nndsvda or random; given
/// returns opts.initial_W / initial_H): W m x k, H k x n, nonnegative. NNDSVD follows
/// Boutsidis & Gallopoulos (2008) on a randomized rank-k SVD (seeded by opts.seed).
/// @throws facto::invalid_argument as nmf() does for bad options or entries.
template <class T>
struct nmf_factors {
    basic_matrix<T> W, H;
};
template <class T>
[[nodiscard]] nmf_factors<T> nmf_initialize(const basic_matrix<T>& X, const nmf_options& opts = {});
template <class T>
[[nodiscard]] nmf_factors<T> nmf_initialize(const basic_csr_matrix<T>& X, const nmf_options& opts = {});

}  // namespace facto
