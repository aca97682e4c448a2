// Tests of facto/recommend/metrics.hpp: metric oracles (naive loops), blocked top-k against a
// full sort, similar items, new users, evaluation; MovieTweetings baselines when present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "facto/core/error.hpp"
#include "facto/recommend/metrics.hpp"
#include "facto/recommend/ratings.hpp"

namespace facto {
namespace {

bool in(const std::vector<index_t>& v, index_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

TEST(Metrics, PerUserMetricsMatchNaiveDefinitions) {
    std::mt19937_64 rng(1);
    for (int trial = 0; trial < 200; ++trial) {
        const index_t n = 30;
        std::vector<index_t> all(n);
        std::iota(all.begin(), all.end(), 0);
        std::shuffle(all.begin(), all.end(), rng);
        const index_t nrel = static_cast<index_t>(rng() % 8), k = 1 + static_cast<index_t>(rng() % 12);
        std::vector<index_t> rel(all.begin(), all.begin() + nrel);
        std::shuffle(all.begin(), all.end(), rng);
        std::vector<index_t> ranked(all.begin(), all.begin() + 10);  // may be shorter than k
        std::vector<index_t> rel_sorted = rel;
        std::sort(rel_sorted.begin(), rel_sorted.end());
        double hits = 0, dcg = 0, idcg = 0, ap = 0;
        for (index_t j = 0; j < k && j < 10; ++j)
            if (in(rel, ranked[j])) {
                hits += 1;
                dcg += 1 / std::log2(j + 2.0);
                ap += hits / (j + 1.0);
            }
        for (index_t j = 0; j < std::min(k, nrel); ++j) idcg += 1 / std::log2(j + 2.0);
        const double eps = 1e-15;
        if (nrel == 0) {
            EXPECT_EQ(precision_at_k(ranked, rel_sorted, k), 0);
            EXPECT_EQ(ndcg_at_k(ranked, rel_sorted, k), 0);
            continue;
        }
        EXPECT_NEAR(precision_at_k(ranked, rel_sorted, k), hits / k, eps);
        EXPECT_NEAR(recall_at_k(ranked, rel_sorted, k), hits / nrel, eps);
        EXPECT_NEAR(ndcg_at_k(ranked, rel_sorted, k), dcg / idcg, eps);
        EXPECT_NEAR(average_precision_at_k(ranked, rel_sorted, k), ap / std::min(k, nrel), eps);
    }
    const std::vector<index_t> perfect = {3, 7}, rel = {3, 7};
    EXPECT_DOUBLE_EQ(ndcg_at_k(perfect, rel, 5), 1.0);
    EXPECT_DOUBLE_EQ(average_precision_at_k(perfect, rel, 5), 1.0);
    EXPECT_THROW((void)precision_at_k(perfect, rel, 0), invalid_argument);
}

TEST(Metrics, AucMatchesPairCounting) {
    std::mt19937_64 rng(2);
    for (int trial = 0; trial < 100; ++trial) {
        std::vector<index_t> cand;
        std::vector<double> score;
        for (index_t i = 0; i < 40; ++i)
            if (rng() % 3) {
                cand.push_back(i);
                score.push_back(static_cast<double>(rng() % 7));  // many ties
            }
        std::vector<index_t> rel;
        for (index_t i = 0; i < 40; ++i)
            if (rng() % 5 == 0) rel.push_back(i);
        double num = 0, den = 0;
        for (std::size_t a = 0; a < cand.size(); ++a)
            for (std::size_t b = 0; b < cand.size(); ++b)
                if (in(rel, cand[a]) && !in(rel, cand[b])) {
                    den += 1;
                    num += score[a] > score[b] ? 1 : score[a] == score[b] ? 0.5 : 0;
                }
        EXPECT_NEAR(auc(cand, score, rel), den ? num / den : 0.5, 1e-15);
    }
}

mf_model random_model(index_t users, index_t items, index_t rank, bool biases, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> N(0, 1);
    mf_model m;
    m.user_factors = matrix(users, rank);
    m.item_factors = matrix(items, rank);
    for (double& x : m.user_factors.values()) x = N(rng);
    for (double& x : m.item_factors.values()) x = N(rng);
    if (biases) {
        m.global_mean = 3;
        for (index_t u = 0; u < users; ++u) m.user_bias.push_back(N(rng));
        for (index_t i = 0; i < items; ++i) m.item_bias.push_back(N(rng));
    }
    return m;
}

csr_matrix random_csr(index_t rows, index_t cols, double density, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> U(0, 1);
    csr_matrix A;
    A.rows = rows;
    A.cols = cols;
    for (index_t r = 0; r < rows; ++r) {
        for (index_t c = 0; c < cols; ++c)
            if (U(rng) < density) {
                A.col_idx.push_back(c);
                A.values.push_back(1 + std::floor(5 * U(rng)));
            }
        A.row_ptr.push_back(A.nnz());
    }
    return A;
}

std::vector<std::pair<double, index_t>> naive_ranking(const std::vector<double>& s, const std::vector<index_t>& skip) {
    std::vector<std::pair<double, index_t>> v;
    for (index_t i = 0; i < static_cast<index_t>(s.size()); ++i)
        if (!in(skip, i)) v.emplace_back(s[i], i);
    std::sort(v.begin(), v.end(), [](auto a, auto b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    return v;
}

std::vector<index_t> row(const csr_matrix& A, index_t r) {
    return {A.col_idx.begin() + A.row_ptr[r], A.col_idx.begin() + A.row_ptr[r + 1]};
}

TEST(Metrics, TopKMatchesFullSortAndExcludesSeen) {
    for (bool biases : {false, true}) {
        const mf_model m = random_model(1100, 2300, 5, biases, 3);  // several GEMM blocks
        const csr_matrix seen = random_csr(1100, 2300, 0.01, 4);
        const index_t k = 7;
        const topk_lists t = recommend_top_k(m, k, &seen);
        ASSERT_EQ(t.rows(), 1100);
        for (index_t u = 0; u < 1100; u += 37) {
            std::vector<double> s(2300);
            for (index_t i = 0; i < 2300; ++i) s[i] = m.predict(u, i);
            const auto want = naive_ranking(s, row(seen, u));
            for (index_t j = 0; j < k; ++j) {
                EXPECT_EQ(t.items[u * k + j], want[j].second) << "user " << u << " rank " << j;
                EXPECT_NEAR(t.scores[u * k + j], want[j].first, 1e-12 * (1 + std::abs(want[j].first)));
            }
        }
        const std::vector<index_t> some = {5, 0, 1099};
        const topk_lists ts = recommend_top_k(m, k, &seen, some);
        for (std::size_t q = 0; q < some.size(); ++q)
            for (index_t j = 0; j < k; ++j) EXPECT_EQ(ts.items[q * k + j], t.items[some[q] * k + j]);
    }
    // Fewer candidates than k: padded with -1.
    const mf_model small = random_model(2, 3, 2, false, 5);
    const topk_lists p = recommend_top_k(small, 5);
    EXPECT_EQ(p.items[3], -1);
    EXPECT_TRUE(std::isinf(p.scores[4]));
    EXPECT_THROW((void)recommend_top_k(small, 0), invalid_argument);
    const std::vector<index_t> bad = {2};
    EXPECT_THROW((void)recommend_top_k(small, 1, nullptr, bad), invalid_argument);
}

TEST(Metrics, SimilarItemsByCosine) {
    const mf_model m = random_model(10, 300, 4, false, 6);
    const std::vector<index_t> q = {0, 17, 299};
    const topk_lists t = similar_items(m, q, 5);
    for (std::size_t a = 0; a < q.size(); ++a) {
        std::vector<double> s(300);
        for (index_t i = 0; i < 300; ++i) {
            double d = 0, n1 = 0, n2 = 0;
            for (index_t c = 0; c < 4; ++c) {
                d += m.item_factors(q[a], c) * m.item_factors(i, c);
                n1 += m.item_factors(q[a], c) * m.item_factors(q[a], c);
                n2 += m.item_factors(i, c) * m.item_factors(i, c);
            }
            s[i] = d / std::sqrt(n1 * n2);
        }
        const auto want = naive_ranking(s, {q[a]});
        for (index_t j = 0; j < 5; ++j) {
            EXPECT_EQ(t.items[a * 5 + j], want[j].second);
            EXPECT_NEAR(t.scores[a * 5 + j], want[j].first, 1e-12);
        }
    }
}

TEST(Metrics, NewUserRecommendationUsesTheFoldedInRow) {
    const mf_model m = random_model(20, 50, 3, true, 7);
    const std::vector<index_t> items = {3, 8, 40};
    const std::vector<double> vals = {5, 1, 4};
    mf_weights w;
    w.reg = 0.1;
    const folded_user f = fold_in_user(m, items, vals, w);
    const topk_lists t = recommend_new_user(m, items, vals, 4, w);
    std::vector<double> s(50);
    for (index_t i = 0; i < 50; ++i) {
        s[i] = m.global_mean + f.bias + m.item_bias[i];
        for (index_t c = 0; c < 3; ++c) s[i] += f.factors[c] * m.item_factors(i, c);
    }
    const auto want = naive_ranking(s, items);
    for (index_t j = 0; j < 4; ++j) {
        EXPECT_EQ(t.items[j], want[j].second);
        EXPECT_NEAR(t.scores[j], want[j].first, 1e-12);
    }
}

TEST(Metrics, EvaluateMatchesPerUserOracles) {
    const mf_model m = random_model(300, 900, 4, false, 8);
    const csr_matrix train = random_csr(300, 900, 0.02, 9), test_all = random_csr(300, 900, 0.01, 10);
    // Test items that are also in train would be excluded from candidates; drop them as a split does.
    csr_matrix test;
    test.rows = 300;
    test.cols = 900;
    for (index_t u = 0; u < 300; ++u) {
        for (index_t i : row(test_all, u))
            if (!in(row(train, u), i) && u % 7 != 0) {  // some users without test items
                test.col_idx.push_back(i);
                test.values.push_back(1);
            }
        test.row_ptr.push_back(test.nnz());
    }
    const index_t k = 10;
    const ranking_metrics r = evaluate_ranking(m, train, test, k);
    double P = 0, R = 0, N = 0, M = 0, A = 0;
    index_t users = 0;
    for (index_t u = 0; u < 300; ++u) {
        const auto rel = row(test, u);
        if (rel.empty()) continue;
        ++users;
        std::vector<double> s(900);
        for (index_t i = 0; i < 900; ++i) s[i] = m.predict(u, i);
        const auto ranking = naive_ranking(s, row(train, u));
        std::vector<index_t> ranked, cand;
        std::vector<double> cs;
        for (const auto& [score, i] : ranking) {
            if (static_cast<index_t>(ranked.size()) < k) ranked.push_back(i);
            cand.push_back(i);
            cs.push_back(score);
        }
        P += precision_at_k(ranked, rel, k);
        R += recall_at_k(ranked, rel, k);
        N += ndcg_at_k(ranked, rel, k);
        M += average_precision_at_k(ranked, rel, k);
        A += auc(cand, cs, rel);
    }
    ASSERT_EQ(r.users, users);
    EXPECT_NEAR(r.precision, P / users, 1e-12);
    EXPECT_NEAR(r.recall, R / users, 1e-12);
    EXPECT_NEAR(r.ndcg, N / users, 1e-12);
    EXPECT_NEAR(r.map, M / users, 1e-12);
    EXPECT_NEAR(r.auc, A / users, 1e-12);

    // Popularity scores through the model-free overload: same as a rank-0 model with item biases.
    std::vector<double> pop(900, 0.0);
    for (index_t c : train.col_idx) pop[c] += 1;
    mf_model pm;
    pm.user_factors = matrix(300, 0);
    pm.item_factors = matrix(900, 0);
    pm.item_bias = pop;
    const ranking_metrics a = evaluate_ranking(pop, train, test, k), b = evaluate_ranking(pm, train, test, k);
    EXPECT_DOUBLE_EQ(a.ndcg, b.ndcg);
    EXPECT_DOUBLE_EQ(a.auc, b.auc);
}

TEST(Metrics, RatingErrors) {
    const mf_model m = random_model(5, 6, 2, true, 11);
    const csr_matrix t = random_csr(5, 6, 0.5, 12);
    const rating_errors e = evaluate_ratings(m, t);
    double sq = 0, ab = 0;
    for (index_t u = 0; u < 5; ++u)
        for (index_t p = t.row_ptr[u]; p < t.row_ptr[u + 1]; ++p) {
            const double d = t.values[p] - m.predict(u, t.col_idx[p]);
            sq += d * d;
            ab += std::abs(d);
        }
    EXPECT_EQ(e.count, t.nnz());
    EXPECT_NEAR(e.rmse, std::sqrt(sq / t.nnz()), 1e-14);
    EXPECT_NEAR(e.mae, ab / t.nnz(), 1e-14);
}

TEST(Metrics, ImplicitAlsRanksHeldOutItemsAbovePopularity) {
    // Five communities of users and items; a user interacts mostly within its own. Held-out
    // items compete with the other communities' items (easy) and the unseen ones of the own
    // community (a coin toss), so the AUC ceiling is about 0.93; popularity scores near 0.5.
    std::mt19937_64 rng(13);
    std::uniform_real_distribution<double> U(0, 1);
    ratings_table T;
    for (index_t u = 0; u < 300; ++u) T.users.insert(std::to_string(u));
    for (index_t i = 0; i < 100; ++i) T.items.insert(std::to_string(i));
    for (index_t u = 0; u < 300; ++u)
        for (index_t i = 0; i < 100; ++i)
            if (U(rng) < ((u % 5) == (i % 5) ? 0.4 : 0.01)) {
                T.user.push_back(u);
                T.item.push_back(i);
                T.value.push_back(1);
            }
    const auto split = split_per_user(T, 0.2, 1);
    const csr_matrix train = to_csr(T.subset(split.train)), test = to_csr(T.subset(split.test));
    mf_options o;
    o.rank = 5;
    o.reg = 0.1;
    o.alpha = 10;
    o.max_iters = 10;
    std::vector<double> pop(100, 0.0);
    for (index_t c : train.col_idx) pop[c] += 1;
    const ranking_metrics p = evaluate_ranking(pop, train, test, 10);
    for (int method = 0; method < 2; ++method) {
        const auto res = method == 0 ? als_implicit(train, o) : bpr(train, [&] {
            mf_options b = o;
            b.learning_rate = 0.05;
            b.max_iters = 40;
            b.reg = 0.01;
            return b;
        }());
        const ranking_metrics r = evaluate_ranking(res.model, train, test, 10);
        EXPECT_GT(r.auc, 0.85) << (method ? "bpr" : "als");
        EXPECT_GT(r.auc, p.auc + 0.2) << (method ? "bpr" : "als");
        EXPECT_GT(r.ndcg, 1.5 * p.ndcg) << (method ? "bpr" : "als");
    }
}

TEST(Metrics, MovieTweetingsBiasedAlsBeatsBaselines) {
    const std::string path = std::string(FACTO_SHARED_DATA) + "/movietweetings-100k/ratings.dat.xz";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found (the shared data sets are not installed)";
    const ratings_table T = read_ratings(path);
    ASSERT_EQ(T.size(), 100000);
    EXPECT_EQ(T.num_users(), 16554);
    EXPECT_EQ(T.num_items(), 10506);
    // The first of 5 seeded folds. About 6 ratings per user: biases carry most of what can be
    // predicted, and factors help only with strong, count-aware regularization (the smoothed
    // weighted trace norm: reg * sqrt(n) per row). Bias regularization is the same for both.
    const auto split = k_fold(T, 5, 1)[0];
    const csr_matrix train = to_csr(T.subset(split.train)), test = to_csr(T.subset(split.test));
    mf_options o;
    o.rank = 0;
    o.max_iters = 20;
    o.bias_reg = 1.5;
    const auto bias_only = als_explicit(train, o);
    mf_model mean_only = bias_only.model;
    mean_only.user_bias.assign(mean_only.user_bias.size(), 0.0);
    mean_only.item_bias.assign(mean_only.item_bias.size(), 0.0);
    o.rank = 10;
    o.reg = 4;
    o.reg_exponent = 0.5;
    const auto als = als_explicit(train, o);
    const double e_mean = evaluate_ratings(mean_only, test).rmse, e_bias = evaluate_ratings(bias_only.model, test).rmse,
                 e_als = evaluate_ratings(als.model, test).rmse;
    std::printf("MovieTweetings fold 1 of 5: RMSE global mean %.4f, bias only %.4f, biased ALS rank 10 %.4f\n", e_mean, e_bias,
                e_als);
    EXPECT_LT(e_bias, e_mean);
    EXPECT_LT(e_als, e_bias);
}

}  // namespace
}  // namespace facto
