// Tests of facto/recommend/als.hpp: planted low-rank completion, monotone objectives against
// naive oracles, implicit CG vs Cholesky, determinism, SGD and BPR progress, fold-in optimality.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "facto/core/error.hpp"
#include "facto/recommend/als.hpp"

namespace facto {
namespace {

struct planted {
    matrix U, V;
    std::vector<double> bu, bi;
    double mu = 0;
    double full(index_t u, index_t i) const {
        double s = mu + (bu.empty() ? 0 : bu[u] + bi[i]);
        for (index_t a = 0; a < U.cols(); ++a) s += U(u, a) * V(i, a);
        return s;
    }
};

planted make_planted(index_t users, index_t items, index_t rank, bool biases, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> N(0, 1);
    planted P{matrix(users, rank), matrix(items, rank), {}, {}, 0};
    for (double& x : P.U.values()) x = N(rng);
    for (double& x : P.V.values()) x = N(rng);
    if (biases) {
        P.mu = 3;
        for (index_t u = 0; u < users; ++u) P.bu.push_back(0.5 * N(rng));
        for (index_t i = 0; i < items; ++i) P.bi.push_back(0.5 * N(rng));
    }
    return P;
}

// A seeded sample of `fraction` of the entries (plus noise), as users x items CSR.
csr_matrix sample(const planted& P, double fraction, double noise, std::uint64_t seed, csr_matrix* rest = nullptr) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> Uni(0, 1);
    std::normal_distribution<double> N(0, 1);
    csr_matrix A, B;
    A.rows = B.rows = P.U.rows();
    A.cols = B.cols = P.V.rows();
    for (index_t u = 0; u < A.rows; ++u) {
        for (index_t i = 0; i < A.cols; ++i) {
            const double v = P.full(u, i) + noise * N(rng);
            csr_matrix& T = Uni(rng) < fraction ? A : B;
            T.col_idx.push_back(i);
            T.values.push_back(v);
        }
        A.row_ptr.push_back(A.nnz());
        B.row_ptr.push_back(B.nnz());
    }
    if (rest) *rest = B;
    return A;
}

double relative_error(const planted& P, const mf_model& m) {
    double num = 0, den = 0;
    for (index_t u = 0; u < P.U.rows(); ++u)
        for (index_t i = 0; i < P.V.rows(); ++i) {
            const double t = P.full(u, i), e = t - m.predict(u, i);
            num += e * e;
            den += t * t;
        }
    return std::sqrt(num / den);
}

TEST(Als, PlantedLowRankCompletionFrom30Percent) {
    const planted P = make_planted(60, 50, 3, false, 1);
    const csr_matrix R = sample(P, 0.3, 0, 2);
    mf_options o;
    o.rank = 3;
    o.biases = false;
    o.reg = 0;
    o.max_iters = 300;
    o.tol = 0;
    const auto res = als_explicit(R, o);
    EXPECT_LT(relative_error(P, res.model), 1e-6);
    EXPECT_EQ(res.solve_fallbacks, 0);
}

TEST(Als, PlantedBiasedModelCompletion) {
    const planted P = make_planted(60, 50, 2, true, 3);
    const csr_matrix R = sample(P, 0.3, 0, 4);
    mf_options o;
    o.rank = 2;
    o.reg = 0;
    o.bias_reg = 0;
    o.max_iters = 500;
    const auto res = als_explicit(R, o);
    EXPECT_LT(relative_error(P, res.model), 1e-6);
}

double naive_explicit_objective(const csr_matrix& R, const mf_model& m, const mf_options& o) {
    double s = 0;
    std::vector<double> nu(R.rows, 0), ni(R.cols, 0);
    for (index_t u = 0; u < R.rows; ++u)
        for (index_t p = R.row_ptr[u]; p < R.row_ptr[u + 1]; ++p) {
            double pred = m.global_mean;
            if (o.biases) pred += m.user_bias[u] + m.item_bias[R.col_idx[p]];
            for (index_t a = 0; a < m.rank(); ++a) pred += m.user_factors(u, a) * m.item_factors(R.col_idx[p], a);
            s += (R.values[p] - pred) * (R.values[p] - pred);
            nu[u] += 1;
            ni[R.col_idx[p]] += 1;
        }
    auto side = [&](const matrix& F, const std::vector<double>& b, const std::vector<double>& n) {
        double t = 0;
        for (index_t r = 0; r < F.rows(); ++r) {
            double f = 0;
            for (index_t a = 0; a < F.cols(); ++a) f += F(r, a) * F(r, a);
            t += std::pow(n[r], o.reg_exponent) * o.reg * f + (b.empty() ? 0 : o.bias_reg * b[r] * b[r]);
        }
        return t;
    };
    return s + side(m.user_factors, m.user_bias, nu) + side(m.item_factors, m.item_bias, ni);
}

TEST(Als, ObjectiveMonotoneAndMatchesOracle) {
    const planted P = make_planted(40, 30, 4, true, 5);
    const csr_matrix R = sample(P, 0.4, 0.5, 6);
    for (double exponent : {1.0, 0.5, 0.0}) {
        mf_options o;
        o.rank = 5;
        o.reg = 0.1;
        o.bias_reg = 0.05;
        o.reg_exponent = exponent;
        o.max_iters = 12;
        const auto res = als_explicit(R, o);
        ASSERT_EQ(res.history.size(), 12u);
        for (std::size_t t = 1; t < res.history.size(); ++t)
            EXPECT_LE(res.history[t].objective, res.history[t - 1].objective * (1 + 1e-12)) << "sweep " << t + 1;
        const double oracle = naive_explicit_objective(R, res.model, o);
        EXPECT_NEAR(res.history.back().objective, oracle, 1e-10 * oracle);
        EXPECT_NEAR(explicit_objective(R, res.model, o), oracle, 1e-10 * oracle);
    }
}

TEST(Als, DeterministicAcrossThreadCounts) {
    const planted P = make_planted(300, 200, 4, true, 7);
    const csr_matrix R = sample(P, 0.3, 0.3, 8);
    csr_matrix counts = R;  // implicit feedback wants nonnegative values
    for (double& v : counts.values) v = std::abs(v);
    for (const mf_method method : {mf_method::als_explicit, mf_method::sgd_explicit, mf_method::als_implicit}) {
        mf_options o = default_options(method);
        o.rank = 6;
        o.max_iters = 3;
        o.seed = 11;
        o.threads = 1;
        const csr_matrix& data = method == mf_method::als_implicit ? counts : R;
        const auto a = fit(method, data, o);
        o.threads = 2;
        const auto b = fit(method, data, o);
        EXPECT_EQ(a.model.user_factors, b.model.user_factors) << mf_method_name(method);
        EXPECT_EQ(a.model.item_factors, b.model.item_factors) << mf_method_name(method);
        EXPECT_EQ(a.model.item_bias, b.model.item_bias);
        o.seed = 12;
        EXPECT_NE(fit(method, data, o).model.item_factors, a.model.item_factors);
    }
}

TEST(Als, DefaultOptionsDifferOnlyInSweepsAndWeights) {
    // fit() runs the named method; default_options() changes only max_iters, reg and bias_reg.
    const planted P = make_planted(40, 30, 2, true, 3);
    const csr_matrix R = sample(P, 0.5, 0.1, 4);
    mf_options o = default_options(mf_method::sgd_explicit);
    o.max_iters = 2;
    EXPECT_EQ(fit(mf_method::sgd_explicit, R, o).model.user_factors, sgd_explicit(R, o).model.user_factors);
    const mf_options base;
    EXPECT_EQ(default_options(mf_method::als_explicit).bias_reg, base.bias_reg);
    for (const mf_method method : {mf_method::sgd_explicit, mf_method::als_implicit, mf_method::bpr}) {
        const mf_options d = default_options(method);
        EXPECT_EQ(d.rank, base.rank) << mf_method_name(method);
        EXPECT_EQ(d.learning_rate, base.learning_rate);
        EXPECT_EQ(d.alpha, base.alpha);
        EXPECT_EQ(d.svd_start, base.svd_start);
    }
    EXPECT_EQ(default_options(mf_method::bpr).max_iters, 30);
    EXPECT_EQ(default_options(mf_method::als_implicit).reg, 0.1);
    EXPECT_STREQ(mf_method_name(mf_method::als_implicit), "als_implicit");
}

TEST(Als, BiasOnlyModelAtRankZero) {
    const planted P = make_planted(30, 20, 1, true, 9);
    const csr_matrix R = sample(P, 0.5, 0.1, 10);
    mf_options o;
    o.rank = 0;
    o.max_iters = 20;
    const auto res = als_explicit(R, o);
    EXPECT_EQ(res.model.rank(), 0);
    EXPECT_LT(res.history.back().train_rmse, res.history.front().train_rmse + 1e-12);
    // Worse than the planted rank-1 model, better than the global mean.
    double sse_mean = 0;
    const double mu = res.model.global_mean;
    for (double v : R.values) sse_mean += (v - mu) * (v - mu);
    EXPECT_LT(res.history.back().train_rmse, std::sqrt(sse_mean / static_cast<double>(R.nnz())));
    o.biases = false;
    EXPECT_THROW((void)als_explicit(R, o), invalid_argument);
}

TEST(Als, SgdApproachesTheNoiseFloor) {
    const planted P = make_planted(200, 150, 3, true, 13);
    csr_matrix test;
    const csr_matrix R = sample(P, 0.5, 0.1, 14, &test);
    mf_options o;
    o.rank = 3;
    o.max_iters = 60;
    o.learning_rate = 0.02;
    o.lr_decay = 0.97;
    o.reg = 0.01;
    o.bias_reg = 0.01;
    o.validation = &test;
    const auto res = sgd_explicit(R, o);
    EXPECT_LT(res.history.back().test_rmse, 0.2);
    EXPECT_LT(res.history.back().test_rmse, 0.2 * res.history.front().test_rmse);
}

double naive_implicit_objective(const csr_matrix& R, const mf_model& m, const mf_options& o) {
    std::vector<double> dense(R.rows * R.cols, 0.0);
    for (index_t u = 0; u < R.rows; ++u)
        for (index_t p = R.row_ptr[u]; p < R.row_ptr[u + 1]; ++p) dense[u * R.cols + R.col_idx[p]] = R.values[p];
    double s = 0;
    for (index_t u = 0; u < R.rows; ++u)
        for (index_t i = 0; i < R.cols; ++i) {
            const double r = dense[u * R.cols + i], c = 1 + o.alpha * r, pref = r > 0 ? 1 : 0;
            double x = 0;
            for (index_t a = 0; a < m.rank(); ++a) x += m.user_factors(u, a) * m.item_factors(i, a);
            s += c * (pref - x) * (pref - x);
        }
    for (double x : m.user_factors.values()) s += o.reg * x * x;
    for (double x : m.item_factors.values()) s += o.reg * x * x;
    return s;
}

csr_matrix implicit_data(index_t users, index_t items, std::uint64_t seed) {
    // Two communities: users of group g mostly interact with items of group g.
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> Uni(0, 1);
    csr_matrix A;
    A.rows = users;
    A.cols = items;
    for (index_t u = 0; u < users; ++u) {
        for (index_t i = 0; i < items; ++i) {
            const bool same = (u % 2) == (i % 2);
            if (Uni(rng) < (same ? 0.3 : 0.03)) {
                A.col_idx.push_back(i);
                A.values.push_back(1 + std::floor(3 * Uni(rng)));
            }
        }
        A.row_ptr.push_back(A.nnz());
    }
    return A;
}

TEST(Als, ImplicitCholeskyMonotoneAndCgAgrees) {
    const csr_matrix R = implicit_data(50, 40, 15);
    mf_options o;
    o.rank = 4;
    o.alpha = 5;
    o.reg = 0.1;
    o.max_iters = 10;
    o.solver = implicit_solver::cholesky;
    const auto chol = als_implicit(R, o);
    for (std::size_t t = 1; t < chol.history.size(); ++t)
        EXPECT_LE(chol.history[t].objective, chol.history[t - 1].objective * (1 + 1e-12));
    const double oracle = naive_implicit_objective(R, chol.model, o);
    EXPECT_NEAR(chol.history.back().objective, oracle, 1e-10 * oracle);
    EXPECT_NEAR(implicit_objective(R, chol.model, o), oracle, 1e-10 * oracle);

    // Enough CG steps solve each k x k system exactly: the same sweeps.
    o.solver = implicit_solver::cg;
    o.cg_steps = 12;
    const auto exact_cg = als_implicit(R, o);
    double diff = 0, scale = 0;
    for (index_t t = 0; t < chol.model.item_factors.size(); ++t) {
        diff = std::max(diff, std::abs(chol.model.item_factors.values()[t] - exact_cg.model.item_factors.values()[t]));
        scale = std::max(scale, std::abs(chol.model.item_factors.values()[t]));
    }
    EXPECT_LT(diff, 1e-8 * scale);
    // A few warm-started steps (the implicit package's default) reach nearly the same objective.
    o.cg_steps = 3;
    o.max_iters = 15;
    const auto few = als_implicit(R, o);
    o.solver = implicit_solver::cholesky;
    const auto chol15 = als_implicit(R, o);
    EXPECT_LT(few.history.back().objective, chol15.history.back().objective * 1.01);
}

TEST(Als, BprLossFallsAndIsSeeded) {
    const csr_matrix R = implicit_data(80, 60, 16);
    mf_options o;
    o.rank = 4;
    o.max_iters = 30;
    o.learning_rate = 0.05;
    o.reg = 0.01;
    const auto a = bpr(R, o), b = bpr(R, o);
    EXPECT_EQ(a.model.user_factors, b.model.user_factors);
    EXPECT_LT(a.history.back().objective, 0.65 * a.history.front().objective);  // log 2 at the start
    // Items of the user's own group score higher than the others, on average.
    double own = 0, other = 0;
    for (index_t u = 0; u < R.rows; ++u)
        for (index_t i = 0; i < R.cols; ++i) ((u % 2) == (i % 2) ? own : other) += a.model.predict(u, i);
    EXPECT_GT(own, other);
}

TEST(Als, FoldInSolvesTheRowProblem) {
    const planted P = make_planted(40, 30, 3, true, 17);
    const csr_matrix R = sample(P, 0.5, 0.2, 18);
    mf_options o;
    o.rank = 3;
    o.reg = 0.07;
    o.bias_reg = 0.5;
    o.max_iters = 5;
    const auto res = als_explicit(R, o);
    const std::vector<index_t> items = {4, 1, 9, 20, 7};
    const std::vector<double> vals = {4, 2.5, 3, 5, 1};
    // The model keeps the weights it was fitted with.
    const folded_user f = fold_in_user(res.model, items, vals, res.model.weights);
    // Gradient of sum (r - mu - b - b_i - x.q_i)^2 + n reg |x|^2 + bias_reg b^2 vanishes.
    const double n = static_cast<double>(items.size());
    std::vector<double> grad(4, 0.0);
    for (std::size_t t = 0; t < items.size(); ++t) {
        const index_t i = items[t];
        double pred = res.model.global_mean + f.bias + res.model.item_bias[i];
        for (int a = 0; a < 3; ++a) pred += f.factors[a] * res.model.item_factors(i, a);
        const double e = vals[t] - pred;
        grad[0] += e;
        for (int a = 0; a < 3; ++a) grad[a + 1] += e * res.model.item_factors(i, a);
    }
    grad[0] -= o.bias_reg * f.bias;
    for (int a = 0; a < 3; ++a) grad[a + 1] -= n * o.reg * f.factors[a];
    for (double g : grad) EXPECT_NEAR(g, 0, 1e-10);

    // Implicit: (Y^T Y + sum (c - 1) y y^T + reg I) x = sum c y over the interactions.
    const csr_matrix I = implicit_data(30, 25, 19);
    mf_options oi;
    oi.rank = 3;
    oi.alpha = 4;
    oi.reg = 0.2;
    oi.max_iters = 3;
    const auto ires = als_implicit(I, oi);
    const folded_user g =
        fold_in_user(ires.model, std::vector<index_t>{2, 5}, std::vector<double>{1, 3}, ires.model.weights);
    std::vector<double> resid(3, 0.0);
    for (index_t i = 0; i < 25; ++i) {
        const double r = i == 2 ? 1 : i == 5 ? 3 : 0, c = 1 + oi.alpha * r, pref = r > 0 ? 1 : 0;
        double s = 0;
        for (int a = 0; a < 3; ++a) s += g.factors[a] * ires.model.item_factors(i, a);
        for (int a = 0; a < 3; ++a) resid[a] += c * (pref - s) * ires.model.item_factors(i, a);
    }
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(resid[a] - oi.reg * g.factors[a], 0, 1e-10);
    EXPECT_THROW((void)fold_in_user(res.model, std::vector<index_t>{30}, std::vector<double>{1}, o), invalid_argument);
}

TEST(Als, SingularRowsFallBackToThePseudoInverse) {
    // Without regularization, a user with one rating and 3 factors has a singular system: the
    // pseudo-inverse still fits that rating exactly.
    const planted P = make_planted(30, 20, 3, false, 21);
    csr_matrix R = sample(P, 0.6, 0, 22);
    csr_matrix S;
    S.rows = R.rows + 1;
    S.cols = R.cols;
    S.row_ptr = R.row_ptr;
    S.col_idx = R.col_idx;
    S.values = R.values;
    S.col_idx.push_back(4);
    S.values.push_back(2.5);
    S.row_ptr.push_back(S.nnz());
    mf_options o;
    o.rank = 3;
    o.biases = false;
    o.reg = 0;
    o.max_iters = 30;
    const auto res = als_explicit(S, o);
    EXPECT_GT(res.solve_fallbacks, 0);
    EXPECT_NEAR(res.model.predict(30, 4), 2.5, 1e-4);  // items move after the user solve
    for (double x : res.model.user_factors.values()) EXPECT_TRUE(std::isfinite(x));
    EXPECT_THROW((void)res.model.predict(res.model.num_users(), 0), facto::out_of_range);
    EXPECT_THROW((void)res.model.predict(0, -1), facto::out_of_range);
}

TEST(Als, RejectsBadArguments) {
    const csr_matrix R = implicit_data(10, 8, 20);
    mf_options o;
    o.rank = -1;
    EXPECT_THROW((void)als_explicit(R, o), invalid_argument);
    o.rank = 2;
    o.max_iters = 0;
    EXPECT_THROW((void)sgd_explicit(R, o), invalid_argument);
    o.max_iters = 2;
    csr_matrix neg = R;
    neg.values[0] = -1;
    EXPECT_THROW((void)als_implicit(neg, o), invalid_argument);
    csr_matrix other;
    other.rows = 3;
    other.cols = 8;
    other.row_ptr = {0, 0, 0, 0};
    o.validation = &other;
    EXPECT_THROW((void)als_explicit(R, o), invalid_argument);
}

}  // namespace
}  // namespace facto
