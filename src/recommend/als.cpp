// als.cpp: explicit biased ALS and SGD, implicit ALS (Cholesky / CG), BPR, fold-in.
#include "facto/recommend/als.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "core/parallel.hpp"
#include "facto/core/error.hpp"
#include "facto/ops/linalg.hpp"
#include "ops/blas_lapack.hpp"

namespace facto {

double mf_model::predict(index_t u, index_t i) const {
    if (u < 0 || u >= num_users() || i < 0 || i >= num_items())
        throw out_of_range("mf_model::predict: user " + std::to_string(u) + ", item " + std::to_string(i) +
                           " outside the model's " + std::to_string(num_users()) + " users and " +
                           std::to_string(num_items()) + " items");
    double s = 0;
    const index_t k = rank();
    const double* p = user_factors.data() + u * k;
    const double* q = item_factors.data() + i * k;
    for (index_t a = 0; a < k; ++a) s += p[a] * q[a];
    if (!user_bias.empty()) s += user_bias[static_cast<std::size_t>(u)];
    if (!item_bias.empty()) s += item_bias[static_cast<std::size_t>(i)];
    return s + global_mean;
}

namespace {

using clock_type = std::chrono::steady_clock;
constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

void check_common(const csr_matrix& R, const mf_options& o, const char* who, bool rank_zero_ok) {
    R.validate(who);
    if (o.rank < 0 || (o.rank == 0 && !rank_zero_ok))
        throw invalid_argument(std::string(who) + ": rank must be at least " + (rank_zero_ok ? "0" : "1") +
                               ", found " + std::to_string(o.rank));
    if (o.max_iters < 1)
        throw invalid_argument(std::string(who) + ": max_iters must be at least 1, found " + std::to_string(o.max_iters));
    if (!(o.reg >= 0) || !(o.bias_reg >= 0))
        throw invalid_argument(std::string(who) + ": reg and bias_reg must be >= 0, found " + std::to_string(o.reg) +
                               " and " + std::to_string(o.bias_reg));
    if (!(o.tol >= 0)) throw invalid_argument(std::string(who) + ": tol must be >= 0");
    if (!(o.reg_exponent >= 0 && o.reg_exponent <= 1))
        throw invalid_argument(std::string(who) + ": reg_exponent must lie in [0, 1], found " + std::to_string(o.reg_exponent));
    if (R.nnz() == 0) throw invalid_argument(std::string(who) + ": no ratings");
    for (double v : R.values)
        if (!std::isfinite(v)) throw invalid_argument(std::string(who) + ": a rating is not finite");
    if (o.validation) {
        o.validation->validate(who);
        if (o.validation->rows != R.rows || o.validation->cols != R.cols)
            throw invalid_argument(std::string(who) + ": validation ratings are " + std::to_string(o.validation->rows) +
                                   "x" + std::to_string(o.validation->cols) + ", the training ratings " +
                                   std::to_string(R.rows) + "x" + std::to_string(R.cols));
    }
}

// Sets the OpenMP team size for the call and restores the previous one. Unlike
// detail::thread_scope it leaves OpenBLAS's thread count alone: the BLAS calls here are small
// and their bits depend on the BLAS thread count, and fits must not depend on `threads`.
struct omp_thread_scope {
    int saved;
    explicit omp_thread_scope(int threads) : saved(omp_get_max_threads()) {
        if (threads > 0) omp_set_num_threads(threads);
    }
    ~omp_thread_scope() { omp_set_num_threads(saved); }
};

// Uniform entries with standard deviation `scale`, filled in a fixed order.
void random_fill(matrix& M, double scale, std::mt19937_64& rng) {
    const double half = scale * std::sqrt(3.0);
    std::uniform_real_distribution<double> dist(-half, half);
    for (double& x : M.values()) x = dist(rng);
}

// Solves G z = b for a small SPD G (d x d, upper triangle read, full matrix kept intact
// above the diagonal) by Cholesky; false when G is not numerically positive definite.
bool cholesky_solve(double* G, double* b, int d, double* diag) {
    for (int j = 0; j < d; ++j) {
        double s = G[j * d + j];
        for (int p = 0; p < j; ++p) s -= G[j * d + p] * G[j * d + p];
        if (!(s > 1e-13 * std::abs(G[j * d + j]) && s > 0)) return false;
        const double ljj = std::sqrt(s);
        diag[j] = ljj;
        for (int i = j + 1; i < d; ++i) {
            double t = G[j * d + i];
            for (int p = 0; p < j; ++p) t -= G[i * d + p] * G[j * d + p];
            G[i * d + j] = t / ljj;  // L stored below the diagonal
        }
    }
    for (int i = 0; i < d; ++i) {  // L y = b
        double t = b[i];
        for (int p = 0; p < i; ++p) t -= G[i * d + p] * b[p];
        b[i] = t / diag[i];
    }
    for (int i = d - 1; i >= 0; --i) {  // L^T z = y
        double t = b[i];
        for (int p = i + 1; p < d; ++p) t -= G[p * d + i] * b[p];
        b[i] = t / diag[i];
    }
    return true;
}

// The pseudo-inverse solve for the rare singular row (a user with fewer ratings than factors
// and no regularization). G_upper holds the system as built (upper triangle).
void fallback_solve(const std::vector<double>& G_upper, double* b, int d) {
    matrix G(d, d);
    for (int a = 0; a < d; ++a)
        for (int c = a; c < d; ++c) G(a, c) = G(c, a) = G_upper[static_cast<std::size_t>(a * d + c)];
    matrix B(1, d, std::vector<double>(b, b + d));
    (void)solve_spd_right(G, B);
    std::copy(B.data(), B.data() + d, b);
}

// The factor regularization weight of a row with n ratings: n^exponent (1: ALS-WR; 0.5: the
// smoothed weighted trace norm of Salakhutdinov and Srebro 2010; 0: unweighted).
double reg_weight(index_t n, double exponent) {
    if (exponent == 0) return 1.0;
    if (exponent == 1) return static_cast<double>(n);
    return std::pow(static_cast<double>(n), exponent);
}

// Explicit half-sweep: every row r of A (rows x cols) gets [b_r, x_r] solving
//   (sum_j y_j y_j^T + diag(bias_reg, w reg, ...)) z = sum_j (a_rj - mu - c_j) y_j
// with y_j = [1, Y_j] when biases (c = the fixed side's biases), else y_j = Y_j.
int explicit_half(const csr_matrix& A, const matrix& Y, const std::vector<double>& ybias, matrix& X,
                  std::vector<double>& xbias, double mu, const mf_options& o) {
    const int k = static_cast<int>(X.cols());
    const bool biases = o.biases;
    const int off = biases ? 1 : 0;
    const int d = k + off;
    int fallbacks = 0;
    const index_t work = A.nnz() * d * d / 2;
#pragma omp parallel if (detail::worth_parallel(work))
    {
        std::vector<double> G(static_cast<std::size_t>(d * d)), b(static_cast<std::size_t>(d)),
            diag(static_cast<std::size_t>(d)), bkeep(static_cast<std::size_t>(d));
#pragma omp for schedule(dynamic, 16) reduction(+ : fallbacks)
        for (index_t r = 0; r < A.rows; ++r) {
            const index_t p0 = A.row_ptr[static_cast<std::size_t>(r)], p1 = A.row_ptr[static_cast<std::size_t>(r) + 1];
            double* x = X.data() + r * k;
            if (p0 == p1) {  // nothing to fit: the prior's answer
                std::fill(x, x + k, 0.0);
                if (biases) xbias[static_cast<std::size_t>(r)] = 0;
                continue;
            }
            std::fill(G.begin(), G.end(), 0.0);
            std::fill(b.begin(), b.end(), 0.0);
            for (index_t p = p0; p < p1; ++p) {
                const index_t c = A.col_idx[static_cast<std::size_t>(p)];
                const double* q = Y.data() + c * k;
                const double t = A.values[static_cast<std::size_t>(p)] - mu - (biases ? ybias[static_cast<std::size_t>(c)] : 0.0);
                if (biases) {  // the feature vector is [1, q]
                    G[0] += 1;
                    b[0] += t;
                    for (int e = 0; e < k; ++e) G[static_cast<std::size_t>(1 + e)] += q[e];
                }
                for (int a = 0; a < k; ++a) {
                    const double qa = q[a];
                    b[static_cast<std::size_t>(off + a)] += t * qa;
                    double* g = G.data() + (off + a) * d + off;
                    for (int e = a; e < k; ++e) g[e] += qa * q[e];
                }
            }
            const double w = reg_weight(p1 - p0, o.reg_exponent);
            for (int a = 0; a < d; ++a) G[static_cast<std::size_t>(a * d + a)] += biases && a == 0 ? o.bias_reg : w * o.reg;
            std::copy(b.begin(), b.end(), bkeep.begin());
            // cholesky_solve leaves the upper triangle of G intact for the fallback.
            if (!cholesky_solve(G.data(), b.data(), d, diag.data())) {
                std::copy(bkeep.begin(), bkeep.end(), b.begin());
                fallback_solve(G, b.data(), d);
                ++fallbacks;
            }
            if (biases) xbias[static_cast<std::size_t>(r)] = b[0];
            std::copy(b.begin() + off, b.end(), x);
        }
    }
    return fallbacks;
}

// Sum of squared errors of the model on A (users x items), rows summed in a fixed order.
double squared_error(const csr_matrix& A, const mf_model& m) {
    std::vector<double> row_sum(static_cast<std::size_t>(A.rows), 0.0);
#pragma omp parallel for schedule(static) if (detail::worth_parallel(A.nnz() * std::max<index_t>(m.rank(), 1)))
    for (index_t u = 0; u < A.rows; ++u) {
        double s = 0;
        for (index_t p = A.row_ptr[static_cast<std::size_t>(u)]; p < A.row_ptr[static_cast<std::size_t>(u) + 1]; ++p) {
            const double e = A.values[static_cast<std::size_t>(p)] - m.predict(u, A.col_idx[static_cast<std::size_t>(p)]);
            s += e * e;
        }
        row_sum[static_cast<std::size_t>(u)] = s;
    }
    return std::accumulate(row_sum.begin(), row_sum.end(), 0.0);
}

// sum_r w_r reg |F_r|^2 + v_r bias_reg b_r^2, w_r = n_r^exponent, v_r = n_r (SGD, whose
// per-rating updates weight both by counts) or 1 (ALS).
double regularization(const matrix& F, const std::vector<double>& bias, const std::vector<index_t>& counts,
                      const mf_options& o, bool sgd_form) {
    double s = 0;
    const index_t k = F.cols();
    for (index_t r = 0; r < F.rows(); ++r) {
        const index_t n = counts[static_cast<std::size_t>(r)];
        const double w = sgd_form ? static_cast<double>(n) : reg_weight(n, o.reg_exponent);
        double f = 0;
        for (index_t a = 0; a < k; ++a) f += F(r, a) * F(r, a);
        const double b = bias.empty() ? 0.0 : bias[static_cast<std::size_t>(r)];
        s += w * o.reg * f + (sgd_form ? static_cast<double>(n) : 1.0) * o.bias_reg * b * b;
    }
    return s;
}

std::vector<index_t> row_counts(const csr_matrix& A) {
    std::vector<index_t> n(static_cast<std::size_t>(A.rows));
    for (index_t r = 0; r < A.rows; ++r) n[static_cast<std::size_t>(r)] = A.row_ptr[static_cast<std::size_t>(r) + 1] - A.row_ptr[static_cast<std::size_t>(r)];
    return n;
}

double explicit_objective_impl(const csr_matrix& R, const csr_matrix& Rt, const mf_model& m, const mf_options& o,
                               bool sgd_form, double* sse_out) {
    const double sse = squared_error(R, m);
    if (sse_out) *sse_out = sse;
    return sse + regularization(m.user_factors, m.user_bias, row_counts(R), o, sgd_form) +
           regularization(m.item_factors, m.item_bias, row_counts(Rt), o, sgd_form);
}

// Runs the sweep loop shared by every method: step() does one sweep and returns the
// objective (and sets train_rmse); history, tolerance and callback handled here. The model
// keeps the weights for fold-in.
template <class Step>
void iterate(mf_result& res, const mf_options& o, clock_type::time_point t_start, Step&& step) {
    res.model.weights = o;
    double prev = nan_value;
    for (int it = 1; it <= o.max_iters; ++it) {
        const auto t0 = clock_type::now();
        mf_iteration rec;
        rec.iter = it;
        rec.train_rmse = nan_value;
        rec.objective = step(it, rec);
        rec.test_rmse = nan_value;
        if (o.validation && !res.model.implicit && o.validation->nnz() > 0)
            rec.test_rmse = std::sqrt(squared_error(*o.validation, res.model) / static_cast<double>(o.validation->nnz()));
        rec.seconds = seconds_since(t0);
        res.history.push_back(rec);
        res.iters = it;
        const bool stop = o.on_iteration && !o.on_iteration(rec);
        if (o.tol > 0 && std::isfinite(prev) && prev - rec.objective <= o.tol * std::abs(prev)) res.converged = true;
        prev = rec.objective;
        if (stop) {
            res.interrupted = true;
            break;
        }
        if (res.converged) break;
    }
    res.seconds = seconds_since(t_start);
}

double mean_value(const csr_matrix& R) {
    return std::accumulate(R.values.begin(), R.values.end(), 0.0) / static_cast<double>(R.nnz());
}

// Leading right singular vectors of the centered ratings (missing entries as 0), scaled by the
// square roots of the singular values, by a randomized range finder with two power
// iterations: a start near the answer, so ALS needs fewer sweeps than from random factors.
matrix svd_item_start(const csr_matrix& R, const csr_matrix& Rt, double mu, index_t k, std::mt19937_64& rng) {
    csr_matrix Rc = R, Rtc = Rt;
    for (double& v : Rc.values) v -= mu;
    for (double& v : Rtc.values) v -= mu;
    const index_t l = std::min<index_t>(k + 10, std::min(R.rows, R.cols));
    matrix Y(R.cols, l);
    std::normal_distribution<double> normal(0, 1);
    for (double& x : Y.values()) x = normal(rng);
    for (int pass = 0; pass < 3; ++pass) {
        Y = spmm(Rtc, spmm(Rc, Y));
        detail::range_basis(Y, 1.0, 0.0, "als_explicit (svd start)");
        if (Y.cols() == 0) return matrix(R.cols, k);  // the centered ratings are all zero
    }
    const matrix B = spmm(Rc, Y);
    std::vector<double> vals;
    const index_t kk = std::min(k, Y.cols());
    const matrix V = leading_eigenvectors(gram(B), kk, &vals);
    matrix Q = matmul(Y, V);
    matrix out(R.cols, k);
    for (index_t i = 0; i < R.cols; ++i)
        for (index_t a = 0; a < kk; ++a) out(i, a) = Q(i, a) * std::pow(std::max(vals[static_cast<std::size_t>(a)], 0.0), 0.25);
    return out;
}

// An explicit model of R's shape: global mean (with biases or centering), zero factors and,
// with biases, zero biases; the fits fill it.
mf_model explicit_model_shape(const csr_matrix& R, const mf_options& o) {
    mf_model m;
    m.global_mean = o.biases || o.center ? mean_value(R) : 0.0;
    m.user_factors.resize(R.rows, o.rank);
    m.item_factors.resize(R.cols, o.rank);
    m.user_bias.assign(o.biases ? static_cast<std::size_t>(R.rows) : 0, 0.0);
    m.item_bias.assign(o.biases ? static_cast<std::size_t>(R.cols) : 0, 0.0);
    return m;
}

}  // namespace

double explicit_objective(const csr_matrix& R, const mf_model& m, const mf_options& o) {
    return explicit_objective_impl(R, transpose(R), m, o, false, nullptr);
}

mf_result als_explicit(const csr_matrix& R, const mf_options& o) {
    const auto t_start = clock_type::now();
    check_common(R, o, "als_explicit", o.biases || o.center);
    omp_thread_scope threads(o.threads);
    const csr_matrix Rt = transpose(R);
    mf_result res;
    mf_model& m = res.model;
    m = explicit_model_shape(R, o);
    std::mt19937_64 rng(o.seed);
    if (o.svd_start && o.rank > 0)
        m.item_factors = svd_item_start(R, Rt, m.global_mean, o.rank, rng);
    else
        random_fill(m.item_factors, o.init_scale, rng);  // users are solved first
    iterate(res, o, t_start, [&](int, mf_iteration& rec) {
        res.solve_fallbacks += explicit_half(R, m.item_factors, m.item_bias, m.user_factors, m.user_bias, m.global_mean, o);
        res.solve_fallbacks += explicit_half(Rt, m.user_factors, m.user_bias, m.item_factors, m.item_bias, m.global_mean, o);
        double sse = 0;
        const double obj = explicit_objective_impl(R, Rt, m, o, false, &sse);
        rec.train_rmse = std::sqrt(sse / static_cast<double>(R.nnz()));
        return obj;
    });
    return res;
}

mf_result sgd_explicit(const csr_matrix& R, const mf_options& o) {
    const auto t_start = clock_type::now();
    check_common(R, o, "sgd_explicit", o.biases || o.center);
    if (o.sgd_blocks < 1) throw invalid_argument("sgd_explicit: sgd_blocks must be at least 1");
    if (!(o.learning_rate > 0)) throw invalid_argument("sgd_explicit: learning_rate must be > 0");
    omp_thread_scope threads(o.threads);
    const csr_matrix Rt = transpose(R);
    mf_result res;
    mf_model& m = res.model;
    m = explicit_model_shape(R, o);
    std::mt19937_64 rng(o.seed);
    random_fill(m.user_factors, o.init_scale, rng);
    random_fill(m.item_factors, o.init_scale, rng);

    // Seeded block of every user and item (balanced: a random permutation cut in equal parts).
    const int B = o.sgd_blocks;
    auto blocks_of = [&](index_t n) {
        std::vector<index_t> perm(static_cast<std::size_t>(n));
        std::iota(perm.begin(), perm.end(), index_t{0});
        for (index_t i = n - 1; i > 0; --i)
            std::swap(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(i + 1))]);
        std::vector<int> block(static_cast<std::size_t>(n));
        for (index_t j = 0; j < n; ++j) block[static_cast<std::size_t>(perm[static_cast<std::size_t>(j)])] = static_cast<int>(j * B / std::max<index_t>(n, 1));
        return block;
    };
    const auto ublock = blocks_of(R.rows), iblock = blocks_of(R.cols);
    struct entry {
        index_t u, i;
        double r;
    };
    std::vector<std::vector<entry>> cell(static_cast<std::size_t>(B * B));
    for (index_t u = 0; u < R.rows; ++u)
        for (index_t p = R.row_ptr[static_cast<std::size_t>(u)]; p < R.row_ptr[static_cast<std::size_t>(u) + 1]; ++p) {
            const index_t i = R.col_idx[static_cast<std::size_t>(p)];
            cell[static_cast<std::size_t>(ublock[static_cast<std::size_t>(u)] * B + iblock[static_cast<std::size_t>(i)])]
                .push_back({u, i, R.values[static_cast<std::size_t>(p)]});
        }
    for (auto& c : cell)
        for (std::size_t j = c.size(); j > 1; --j) std::swap(c[j - 1], c[rng() % j]);

    const index_t k = o.rank;
    const bool biases = o.biases;
    double lr = o.learning_rate;
    std::vector<int> diagonals(static_cast<std::size_t>(B));
    std::iota(diagonals.begin(), diagonals.end(), 0);
    iterate(res, o, t_start, [&](int, mf_iteration& rec) {
        for (int s = B - 1; s > 0; --s) std::swap(diagonals[static_cast<std::size_t>(s)], diagonals[rng() % static_cast<std::uint64_t>(s + 1)]);
        for (int s : diagonals) {
#pragma omp parallel for schedule(dynamic, 1) if (detail::worth_parallel(R.nnz() / B * (k + 1)))
            for (int b = 0; b < B; ++b) {
                for (const entry& e : cell[static_cast<std::size_t>(b * B + (b + s) % B)]) {
                    double* p = m.user_factors.data() + e.u * k;
                    double* q = m.item_factors.data() + e.i * k;
                    double pred = m.global_mean;
                    if (biases) pred += m.user_bias[static_cast<std::size_t>(e.u)] + m.item_bias[static_cast<std::size_t>(e.i)];
                    for (index_t a = 0; a < k; ++a) pred += p[a] * q[a];
                    const double err = e.r - pred;
                    if (biases) {
                        double& bu = m.user_bias[static_cast<std::size_t>(e.u)];
                        double& bi = m.item_bias[static_cast<std::size_t>(e.i)];
                        bu += lr * (err - o.bias_reg * bu);
                        bi += lr * (err - o.bias_reg * bi);
                    }
                    for (index_t a = 0; a < k; ++a) {
                        const double pa = p[a], qa = q[a];
                        p[a] += lr * (err * qa - o.reg * pa);
                        q[a] += lr * (err * pa - o.reg * qa);
                    }
                }
            }
        }
        lr *= o.lr_decay;
        double sse = 0;
        const double obj = explicit_objective_impl(R, Rt, m, o, true, &sse);
        rec.train_rmse = std::sqrt(sse / static_cast<double>(R.nnz()));
        return obj;
    });
    return res;
}

namespace {

// Implicit half-sweep: rows of A (confidence data) solved against fixed Y with G = Y^T Y + reg I.
void implicit_half(const csr_matrix& A, const matrix& Y, const matrix& G0, matrix& X, const mf_options& o,
                   int& fallbacks) {
    const int k = static_cast<int>(X.cols());
    const double alpha = o.alpha;
    const bool cg = o.solver == implicit_solver::cg;
    const index_t work = A.nnz() * k * (cg ? 2 * o.cg_steps : k / 2) + A.rows * k * k;
    int fb = 0;
#pragma omp parallel if (detail::worth_parallel(work))
    {
        std::vector<double> G(static_cast<std::size_t>(k * k)), b(static_cast<std::size_t>(k)), diag(static_cast<std::size_t>(k)),
            r(static_cast<std::size_t>(k)), pdir(static_cast<std::size_t>(k)), Ap(static_cast<std::size_t>(k)),
            bkeep(static_cast<std::size_t>(k));
#pragma omp for schedule(dynamic, 16) reduction(+ : fb)
        for (index_t row = 0; row < A.rows; ++row) {
            const index_t p0 = A.row_ptr[static_cast<std::size_t>(row)], p1 = A.row_ptr[static_cast<std::size_t>(row) + 1];
            double* x = X.data() + row * k;
            if (!cg) {
                std::copy(G0.data(), G0.data() + k * k, G.begin());
                std::fill(b.begin(), b.end(), 0.0);
                for (index_t p = p0; p < p1; ++p) {
                    const double v = A.values[static_cast<std::size_t>(p)];
                    const double c = 1 + alpha * v;
                    const double* q = Y.data() + A.col_idx[static_cast<std::size_t>(p)] * k;
                    const double pref = v > 0 ? c : 0.0;
                    for (int a = 0; a < k; ++a) {
                        b[static_cast<std::size_t>(a)] += pref * q[a];
                        const double w = (c - 1) * q[a];
                        double* g = G.data() + a * k;
                        for (int e = a; e < k; ++e) g[e] += w * q[e];
                    }
                }
                std::copy(b.begin(), b.end(), bkeep.begin());
                if (!cholesky_solve(G.data(), b.data(), k, diag.data())) {  // upper triangle intact
                    std::copy(bkeep.begin(), bkeep.end(), b.begin());
                    fallback_solve(G, b.data(), k);
                    ++fb;
                }
                std::copy(b.begin(), b.end(), x);
                continue;
            }
            // CG on (G0 + sum (c-1) q q^T) x = sum c p q, warm-started from x.
            auto apply = [&](const double* v, double* out) {
                for (int a = 0; a < k; ++a) {
                    const double* g = G0.data() + a * k;
                    double s = 0;
                    for (int e = 0; e < k; ++e) s += g[e] * v[e];
                    out[a] = s;
                }
                for (index_t p = p0; p < p1; ++p) {
                    const double* q = Y.data() + A.col_idx[static_cast<std::size_t>(p)] * k;
                    double s = 0;
                    for (int a = 0; a < k; ++a) s += q[a] * v[a];
                    s *= alpha * A.values[static_cast<std::size_t>(p)];
                    for (int a = 0; a < k; ++a) out[a] += s * q[a];
                }
            };
            apply(x, Ap.data());
            for (int a = 0; a < k; ++a) r[static_cast<std::size_t>(a)] = -Ap[static_cast<std::size_t>(a)];
            for (index_t p = p0; p < p1; ++p) {
                const double v = A.values[static_cast<std::size_t>(p)];
                if (!(v > 0)) continue;
                const double* q = Y.data() + A.col_idx[static_cast<std::size_t>(p)] * k;
                const double c = 1 + alpha * v;
                for (int a = 0; a < k; ++a) r[static_cast<std::size_t>(a)] += c * q[a];
            }
            pdir = r;
            double rs = 0;
            for (double t : r) rs += t * t;
            for (int step = 0; step < o.cg_steps && rs > 1e-300; ++step) {
                apply(pdir.data(), Ap.data());
                double pAp = 0;
                for (int a = 0; a < k; ++a) pAp += pdir[static_cast<std::size_t>(a)] * Ap[static_cast<std::size_t>(a)];
                if (!(pAp > 0)) break;
                const double step_len = rs / pAp;
                double rs_new = 0;
                for (int a = 0; a < k; ++a) {
                    x[a] += step_len * pdir[static_cast<std::size_t>(a)];
                    r[static_cast<std::size_t>(a)] -= step_len * Ap[static_cast<std::size_t>(a)];
                    rs_new += r[static_cast<std::size_t>(a)] * r[static_cast<std::size_t>(a)];
                }
                const double beta = rs_new / rs;
                for (int a = 0; a < k; ++a) pdir[static_cast<std::size_t>(a)] = r[static_cast<std::size_t>(a)] + beta * pdir[static_cast<std::size_t>(a)];
                rs = rs_new;
            }
        }
    }
    fallbacks += fb;
}

matrix gram_plus_reg(const matrix& Y, double reg) {
    matrix G = gram(Y);
    const index_t k = G.rows();
    for (index_t a = 0; a < k; ++a)
        for (index_t e = 0; e < a; ++e) G(a, e) = G(e, a);  // full symmetric (gram may fill one triangle)
    for (index_t a = 0; a < k; ++a) G(a, a) += reg;
    return G;
}

void check_implicit(const csr_matrix& R, const mf_options& o, const char* who) {
    check_common(R, o, who, false);
    for (double v : R.values)
        if (v < 0) throw invalid_argument(std::string(who) + ": implicit feedback must be >= 0, found " + std::to_string(v));
}

}  // namespace

double implicit_objective(const csr_matrix& R, const mf_model& m, const mf_options& o) {
    // sum over all pairs of s^2 (= <X^T X, Y^T Y>), then each stored pair's correction.
    matrix GX = gram(m.user_factors), GY = gram(m.item_factors);
    const index_t k = m.rank();
    double all = 0;
    for (index_t a = 0; a < k; ++a)
        for (index_t e = 0; e < k; ++e) {
            const double x = a <= e ? GX(a, e) : GX(e, a), y = a <= e ? GY(a, e) : GY(e, a);
            all += x * y;
        }
    std::vector<double> row_sum(static_cast<std::size_t>(R.rows), 0.0);
#pragma omp parallel for schedule(static) if (detail::worth_parallel(R.nnz() * k))
    for (index_t u = 0; u < R.rows; ++u) {
        double t = 0;
        for (index_t p = R.row_ptr[static_cast<std::size_t>(u)]; p < R.row_ptr[static_cast<std::size_t>(u) + 1]; ++p) {
            const double v = R.values[static_cast<std::size_t>(p)];
            const double c = 1 + o.alpha * v, pref = v > 0 ? 1.0 : 0.0;
            double s = 0;
            const double* x = m.user_factors.data() + u * k;
            const double* y = m.item_factors.data() + R.col_idx[static_cast<std::size_t>(p)] * k;
            for (index_t a = 0; a < k; ++a) s += x[a] * y[a];
            t += c * (pref - s) * (pref - s) - s * s;
        }
        row_sum[static_cast<std::size_t>(u)] = t;
    }
    double reg = 0;
    for (double x : m.user_factors.values()) reg += x * x;
    for (double y : m.item_factors.values()) reg += y * y;
    return all + std::accumulate(row_sum.begin(), row_sum.end(), 0.0) + o.reg * reg;
}

mf_result als_implicit(const csr_matrix& R, const mf_options& o) {
    const auto t_start = clock_type::now();
    check_implicit(R, o, "als_implicit");
    if (!(o.alpha >= 0)) throw invalid_argument("als_implicit: alpha must be >= 0");
    if (o.solver == implicit_solver::cg && o.cg_steps < 1) throw invalid_argument("als_implicit: cg_steps must be >= 1");
    omp_thread_scope threads(o.threads);
    const csr_matrix Rt = transpose(R);
    mf_result res;
    mf_model& m = res.model;
    m.implicit = true;
    m.user_factors.resize(R.rows, o.rank);
    m.item_factors.resize(R.cols, o.rank);
    std::mt19937_64 rng(o.seed);
    random_fill(m.user_factors, o.init_scale, rng);  // CG warm-starts from these
    random_fill(m.item_factors, o.init_scale, rng);
    iterate(res, o, t_start, [&](int, mf_iteration&) {
        implicit_half(R, m.item_factors, gram_plus_reg(m.item_factors, o.reg), m.user_factors, o, res.solve_fallbacks);
        implicit_half(Rt, m.user_factors, gram_plus_reg(m.user_factors, o.reg), m.item_factors, o, res.solve_fallbacks);
        return implicit_objective(R, m, o);
    });
    return res;
}

const char* mf_method_name(mf_method method) noexcept {
    switch (method) {
    case mf_method::als_explicit: return "als_explicit";
    case mf_method::sgd_explicit: return "sgd_explicit";
    case mf_method::als_implicit: return "als_implicit";
    case mf_method::bpr: return "bpr";
    }
    return "unknown";
}

mf_options default_options(mf_method method) {
    mf_options o;
    switch (method) {
    case mf_method::als_explicit: break;
    case mf_method::sgd_explicit:
        o.max_iters = 20;
        o.bias_reg = 0.05;  // per update, like reg
        break;
    case mf_method::als_implicit: o.reg = 0.1; break;
    case mf_method::bpr:
        o.max_iters = 30;
        o.reg = o.bias_reg = 0.01;
        break;
    }
    return o;
}

mf_result fit(mf_method method, const csr_matrix& R, const mf_options& o) {
    switch (method) {
    case mf_method::sgd_explicit: return sgd_explicit(R, o);
    case mf_method::als_implicit: return als_implicit(R, o);
    case mf_method::bpr: return bpr(R, o);
    case mf_method::als_explicit: break;
    }
    return als_explicit(R, o);
}

mf_result bpr(const csr_matrix& R, const mf_options& o) {
    const auto t_start = clock_type::now();
    check_implicit(R, o, "bpr");
    if (!(o.learning_rate > 0)) throw invalid_argument("bpr: learning_rate must be > 0");
    omp_thread_scope threads(o.threads);
    mf_result res;
    mf_model& m = res.model;
    m.implicit = true;
    m.user_factors.resize(R.rows, o.rank);
    m.item_factors.resize(R.cols, o.rank);
    m.item_bias.assign(static_cast<std::size_t>(R.cols), 0.0);
    std::mt19937_64 rng(o.seed);
    random_fill(m.user_factors, o.init_scale, rng);
    random_fill(m.item_factors, o.init_scale, rng);
    // Users with every item seen have no negatives; their entries are skipped.
    std::vector<index_t> stored_row(static_cast<std::size_t>(R.nnz()));
    for (index_t u = 0; u < R.rows; ++u)
        for (index_t p = R.row_ptr[static_cast<std::size_t>(u)]; p < R.row_ptr[static_cast<std::size_t>(u) + 1]; ++p) stored_row[static_cast<std::size_t>(p)] = u;
    const index_t k = o.rank;
    double lr = o.learning_rate;
    std::vector<double> diff(static_cast<std::size_t>(k));
    iterate(res, o, t_start, [&](int, mf_iteration&) {
        double loss = 0;
        index_t samples = 0;
        for (index_t t = 0; t < R.nnz(); ++t) {
            const index_t p = static_cast<index_t>(rng() % static_cast<std::uint64_t>(R.nnz()));
            const index_t u = stored_row[static_cast<std::size_t>(p)];
            const index_t b0 = R.row_ptr[static_cast<std::size_t>(u)], b1 = R.row_ptr[static_cast<std::size_t>(u) + 1];
            if (b1 - b0 >= R.cols) continue;
            const index_t i = R.col_idx[static_cast<std::size_t>(p)];
            index_t j;
            do {
                j = static_cast<index_t>(rng() % static_cast<std::uint64_t>(R.cols));
            } while (std::binary_search(R.col_idx.begin() + b0, R.col_idx.begin() + b1, j));
            double* x = m.user_factors.data() + u * k;
            double* yi = m.item_factors.data() + i * k;
            double* yj = m.item_factors.data() + j * k;
            double s = m.item_bias[static_cast<std::size_t>(i)] - m.item_bias[static_cast<std::size_t>(j)];
            for (index_t a = 0; a < k; ++a) s += x[a] * (yi[a] - yj[a]);
            // d/ds log sigmoid(s) = sigmoid(-s); loss = log(1 + e^-s), computed stably.
            const double g = 1 / (1 + std::exp(s));
            loss += s > 0 ? std::log1p(std::exp(-s)) : -s + std::log1p(std::exp(s));
            ++samples;
            m.item_bias[static_cast<std::size_t>(i)] += lr * (g - o.bias_reg * m.item_bias[static_cast<std::size_t>(i)]);
            m.item_bias[static_cast<std::size_t>(j)] += lr * (-g - o.bias_reg * m.item_bias[static_cast<std::size_t>(j)]);
            for (index_t a = 0; a < k; ++a) {
                const double xa = x[a], ia = yi[a], ja = yj[a];
                x[a] += lr * (g * (ia - ja) - o.reg * xa);
                yi[a] += lr * (g * xa - o.reg * ia);
                yj[a] += lr * (-g * xa - o.reg * ja);
            }
        }
        lr *= o.lr_decay;
        return samples ? loss / static_cast<double>(samples) : 0.0;
    });
    return res;
}

folded_user fold_in_user(const mf_model& m, std::span<const index_t> items, std::span<const double> values,
                         const mf_weights& w) {
    if (items.size() != values.size())
        throw invalid_argument("fold_in_user: " + std::to_string(items.size()) + " items but " +
                               std::to_string(values.size()) + " values");
    for (index_t i : items)
        if (i < 0 || i >= m.num_items())
            throw invalid_argument("fold_in_user: item index " + std::to_string(i) + " outside 0.." +
                                   std::to_string(m.num_items() - 1));
    const int k = static_cast<int>(m.rank());
    folded_user out;
    // A one-row CSR against the model's items reuses the training half-sweeps exactly.
    csr_matrix A;
    A.rows = 1;
    A.cols = m.num_items();
    std::vector<std::pair<index_t, double>> entries;
    for (std::size_t t = 0; t < items.size(); ++t) entries.emplace_back(items[t], values[t]);
    std::sort(entries.begin(), entries.end());
    for (std::size_t t = 0; t < entries.size(); ++t) {
        if (t + 1 < entries.size() && entries[t + 1].first == entries[t].first)
            throw invalid_argument("fold_in_user: item " + std::to_string(entries[t].first) + " given twice");
        A.col_idx.push_back(entries[t].first);
        A.values.push_back(entries[t].second);
    }
    A.row_ptr = {0, A.nnz()};
    matrix X(1, k);
    mf_options o;
    static_cast<mf_weights&>(o) = w;
    if (m.implicit) {
        o.solver = implicit_solver::cholesky;
        int fb = 0;
        implicit_half(A, m.item_factors, gram_plus_reg(m.item_factors, o.reg), X, o, fb);
    } else {
        o.biases = !m.item_bias.empty();
        std::vector<double> bias(1, 0.0);
        (void)explicit_half(A, m.item_factors, m.item_bias, X, bias, m.global_mean, o);
        out.bias = bias[0];
    }
    out.factors.assign(X.data(), X.data() + k);
    return out;
}

}  // namespace facto
