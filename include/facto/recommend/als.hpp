// facto/recommend/als.hpp: matrix factorization of ratings: explicit biased ALS and SGD,
// implicit-feedback ALS (Hu, Koren, Volinsky 2008) by Cholesky or conjugate gradient, and BPR.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "facto/core/csr.hpp"
#include "facto/core/matrix.hpp"

namespace facto {

/// The weights in the objectives (see each method) a model is fitted with. mf_options carries
/// them for training, mf_model keeps them, and fold_in_user solves a new row with the same.
struct mf_weights {
    double reg = 0.05;  ///< L2 weight of the factors
    /// L2 weight of the biases (explicit, BPR item biases). ALS's count-weighted factor penalty
    /// grows with a row's ratings while this one does not, so it is heavier than SGD's.
    double bias_reg = 2.0;
    /// Explicit ALS: a row with n ratings has factor regularization reg * n^reg_exponent * |p|^2.
    /// 1: Zhou et al. 2008 ("ALS-WR"); 0.5: the smoothed weighted trace norm of Salakhutdinov and
    /// Srebro 2010, better on very sparse data; 0: unweighted. Biases: bias_reg * b^2, unweighted.
    double reg_exponent = 1;
    double alpha = 10;  ///< implicit ALS: confidence 1 + alpha * r
};

/// A fitted factor model. Explicit: rating(u, i) = global_mean + user_bias[u] + item_bias[i] +
/// <user_factors[u], item_factors[i]> (biases empty and global_mean 0 without biases).
/// Implicit (ALS, BPR): score(u, i) = <user_factors[u], item_factors[i]> (+ item_bias[i] for BPR).
struct mf_model {
    matrix user_factors;  ///< users x rank
    matrix item_factors;  ///< items x rank
    std::vector<double> user_bias, item_bias;
    double global_mean = 0;
    bool implicit = false;
    mf_weights weights;  ///< as fitted (copied from the mf_options of the fit)

    index_t rank() const noexcept { return user_factors.cols(); }
    index_t num_users() const noexcept { return user_factors.rows(); }
    index_t num_items() const noexcept { return item_factors.rows(); }
    /// Predicted rating (explicit) or score (implicit) of user u for item i.
    /// @throws facto::out_of_range if u or i is outside the model.
    double predict(index_t u, index_t i) const;
};

enum class implicit_solver {
    cholesky,  ///< exact k x k solve per row
    cg,        ///< cg_steps conjugate-gradient steps warm-started from the previous factors
};

/// One sweep (ALS: users then items; SGD/BPR: one epoch), for progress and history.
struct mf_iteration {
    int iter = 0;            ///< 1-based
    double objective = 0;    ///< the loss the method minimizes (see each function), after the sweep
    double train_rmse = 0;   ///< explicit: RMSE on the training ratings; implicit: NaN
    double test_rmse = 0;    ///< explicit with mf_options::validation: RMSE on it; else NaN
    double seconds = 0;      ///< wall time of the sweep (objective and RMSE included)
};

/// Settings shared by the four methods; each says which it reads. A default-constructed
/// mf_options holds explicit ALS's defaults; default_options(method) those of any method.
struct mf_options : mf_weights {
    index_t rank = 10;        ///< factors per user/item, >= 0 (0 with biases: the bias-only baseline)
    int max_iters = 15;       ///< sweeps (ALS) or epochs (SGD, BPR), >= 1
    bool biases = true;       ///< explicit: fit global mean, user and item biases
    bool center = false;      ///< explicit without biases: still predict global mean + p_u . q_i
    double tol = 0;           ///< stop when the objective's relative decrease falls below tol (0: never)
    std::uint64_t seed = 0;   ///< initial factors, SGD order, BPR samples
    int threads = 0;          ///< OpenMP threads; 0 keeps the current setting
    double init_scale = 0.1;  ///< initial factor entries: uniform with this standard deviation
    /// Explicit ALS: start from the leading singular vectors of the centered ratings (missing as
    /// zero; a randomized range finder, seeded) instead of random item factors: fewer sweeps.
    bool svd_start = true;
    double learning_rate = 0.05;  ///< SGD, BPR: step of the first epoch
    double lr_decay = 0.95;       ///< SGD, BPR: step multiplied by this after each epoch
    int sgd_blocks = 16;          ///< SGD: users and items each cut into this many blocks
    implicit_solver solver = implicit_solver::cg;
    int cg_steps = 3;             ///< implicit ALS with solver cg
    /// Explicit: held-out ratings (users x items, same indices as R) whose RMSE is recorded in
    /// history after each sweep; the pointer must outlive the call.
    const csr_matrix* validation = nullptr;
    /// Called after each sweep; return false to stop (the result then has interrupted = true).
    std::function<bool(const mf_iteration&)> on_iteration;
};

struct mf_result {
    mf_model model;
    int iters = 0;
    bool converged = false;    ///< the objective's relative decrease fell below tol
    bool interrupted = false;  ///< on_iteration asked to stop
    int solve_fallbacks = 0;   ///< row solves where Cholesky failed and the pseudo-inverse was used
    std::vector<mf_iteration> history;
    double seconds = 0;
};

/// The four methods, for code that chooses one at run time.
enum class mf_method { als_explicit, sgd_explicit, als_implicit, bpr };

/// "als_explicit", "sgd_explicit", "als_implicit" or "bpr".
[[nodiscard]] const char* mf_method_name(mf_method method) noexcept;

/// The settings the CLI and the Python module start from for a method (mf_options{} with its
/// own sweeps and weights): explicit ALS 15 sweeps, reg 0.05, bias_reg 2; SGD 20 epochs, 0.05,
/// 0.05; implicit ALS 15 sweeps, reg 0.1; BPR 30 epochs, 0.01, 0.01.
[[nodiscard]] mf_options default_options(mf_method method);

/// Runs the method: als_explicit(R, opts), sgd_explicit(R, opts), and so on.
[[nodiscard]] mf_result fit(mf_method method, const csr_matrix& R, const mf_options& opts);

/// Explicit ALS on ratings R (users x items): alternately solves every user row, then every
/// item row, exactly (a (rank+1) x (rank+1) Cholesky per row, rows in parallel, deterministic
/// for any thread count). The global mean is fixed to the mean rating; the objective
///   sum (r - prediction)^2 + sum_u (n_u^e reg |p_u|^2 + bias_reg b_u^2) + sum_i (same for items)
/// (n = ratings of the row, e = reg_exponent) never increases.
/// @throws facto::invalid_argument on a negative rank, max_iters < 1, a negative reg, an
/// invalid or empty R, or a validation matrix of another shape.
[[nodiscard]] mf_result als_explicit(const csr_matrix& R, const mf_options& opts = {});

/// Explicit SGD in the style of LIBMF: users and items are cut into sgd_blocks blocks each (a
/// seeded random assignment); an epoch visits the blocks diagonal by diagonal, blocks of one
/// diagonal in parallel (they share no user and no item) and ratings within a block in a
/// seeded random order. Same seed, same result, whatever the thread count. Its per-rating
/// updates minimize sum (r - prediction)^2 + sum_u n_u (reg |p_u|^2 + bias_reg b_u^2) + (items
/// alike), the objective reported.
[[nodiscard]] mf_result sgd_explicit(const csr_matrix& R, const mf_options& opts = {});

/// Implicit-feedback ALS (Hu, Koren, Volinsky 2008): every (u, i) pair has preference 1 if
/// R(u, i) > 0 else 0 and confidence 1 + alpha R(u, i); minimizes
///   sum_{all u, i} c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2)
/// with Y^T Y computed once per half-sweep plus the sparse corrections of each row. solver
/// cholesky solves each row exactly; cg takes cg_steps conjugate-gradient steps from the
/// previous factors (Takacs et al. 2011; the `implicit` package). No biases.
[[nodiscard]] mf_result als_implicit(const csr_matrix& R, const mf_options& opts = {});

/// Bayesian personalized ranking (Rendle et al. 2009) by SGD: each epoch draws nnz(R) triples
/// (u, i, j), (u, i) a stored entry and j an item u has not interacted with, and ascends
/// log sigmoid(x_u . (y_i - y_j) + b_i - b_j) with L2 regularization. Sequential, so the same
/// seed gives the same result. The objective is the epoch's mean -log sigmoid.
[[nodiscard]] mf_result bpr(const csr_matrix& R, const mf_options& opts = {});

/// The objectives above for a given model, as the methods report them.
[[nodiscard]] double explicit_objective(const csr_matrix& R, const mf_model& m, const mf_options& opts);
[[nodiscard]] double implicit_objective(const csr_matrix& R, const mf_model& m, const mf_options& opts);

/// A user that was not in the training data, folded in against the fixed item factors.
struct folded_user {
    std::vector<double> factors;  ///< rank values
    double bias = 0;              ///< explicit models with biases
};

/// Solves one user's row against the model's item factors without retraining: the same
/// ridge problem the last ALS half-sweep would solve (explicit: ratings minus mean and item
/// biases; implicit: the HKV system with confidence 1 + alpha r), with weights w (usually
/// m.weights, those of the fit). items index the model's items; values are ratings
/// (explicit) or interaction strengths (implicit).
/// @throws facto::invalid_argument on an item out of range or lengths that differ.
[[nodiscard]] folded_user fold_in_user(const mf_model& m, std::span<const index_t> items,
                                       std::span<const double> values, const mf_weights& w);

}  // namespace facto
