// nmf_detail.hpp (private): what the NMF sources share: the observed entries of weighted and
// KL runs, the NNLS solver of ANLS, and the per-iteration driver.
#pragma once
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "facto/decomp/nmf.hpp"

namespace facto::detail {

using nmf_clock = std::chrono::steady_clock;

inline double nmf_seconds_since(nmf_clock::time_point t) {
    return std::chrono::duration<double>(nmf_clock::now() - t).count();
}

/// The entries a weighted or KL run fits, in CSR with a CSC view (perm maps a CSC position to
/// the CSR position of the same entry, so per-entry arrays are kept once, in CSR order).
template <class T>
struct nmf_observed {
    index_t m = 0, n = 0;
    std::vector<index_t> row_ptr, col;  ///< CSR, columns increasing in a row
    std::vector<T> x;                   ///< X at the listed entries (may be 0)
    std::vector<index_t> col_ptr, row, perm;
    /// The entries not listed are zeros of X that are observed (an unmasked KL run on the
    /// nonzeros), rather than missing.
    bool all_entries = false;
    double norm_sq = 0;  ///< sum x^2 over the listed entries (= ||X||^2 when all_entries)

    index_t nnz() const noexcept { return static_cast<index_t>(col.size()); }
    /// Builds col_ptr/row/perm from the CSR arrays and computes norm_sq.
    void finish();
};

/// Solves, for every row b of B (N x k), min_x 1/2 x^T G x - b^T x subject to x >= 0, into the
/// same row of X (N x k), by block principal pivoting (Kim & Park 2011) with full exchanges and
/// their backup rule. Rows whose passive sets agree are solved together with one Cholesky
/// factorization of the passive block of G. X on entry is the warm start (passive = entries
/// > 0). G is k x k symmetric positive semidefinite (a tiny ridge covers singular blocks).
template <class T>
void nnls_bpp(const basic_matrix<T>& G, const basic_matrix<T>& B, basic_matrix<T>& X);

/// One NMF run's iterations: `step` updates W then H; `error` returns (rel_error, divergence).
/// Records history, calls the callback, stops on tol. kl: the stopping quantity is the
/// divergence (relative change) instead of the relative error (absolute change).
template <class T, class Step, class Error>
void nmf_iterate(const nmf_options& opts, bool kl, Step&& step, Error&& error, basic_nmf_result<T>& res) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    double prev = nan;
    const int every = opts.compute_error_every;
    bool have_error = false;
    for (int iter = 1; iter <= opts.max_iters; ++iter) {
        const auto t = nmf_clock::now();
        step(iter);
        nmf_iteration it;
        it.iter = iter;
        it.rel_error = nan;
        it.change = nan;
        have_error = iter % every == 0 || iter == opts.max_iters;
        if (have_error) {
            const auto [rel, div] = error();
            it.rel_error = rel;
            it.divergence = div;
            const double q = kl ? div : rel;
            if (!std::isnan(prev)) it.change = kl ? std::abs(prev - q) / std::max(q, 1e-300) : std::abs(prev - q);
            prev = q;
            res.rel_error = rel;
            res.divergence = div;
        }
        it.seconds = nmf_seconds_since(t);
        res.history.push_back(it);
        res.iters = iter;
        res.converged = !std::isnan(it.change) && it.change < opts.tol;
        if (opts.on_iteration && !opts.on_iteration(it)) {
            res.interrupted = true;
            break;
        }
        if (res.converged) break;
    }
    if (!have_error) {  // stopped on an iteration that skipped the error
        const auto [rel, div] = error();
        res.rel_error = rel;
        res.divergence = div;
    }
}

/// Weighted (masked) or KL NMF on the observed entries: HALS (Frobenius) or MU (Frobenius or
/// KL). W is m x k, Ht is H transposed (n x k), both updated in place.
template <class T>
void nmf_weighted(const nmf_observed<T>& obs, const nmf_options& opts, basic_matrix<T>& W, basic_matrix<T>& Ht,
                  basic_nmf_result<T>& res);

}  // namespace facto::detail
