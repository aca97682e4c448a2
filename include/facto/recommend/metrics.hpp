// facto/recommend/metrics.hpp: rating errors (RMSE, MAE), ranking metrics (precision, recall,
// nDCG, MAP at k, AUC), top-k recommendation for many users, similar items, new users.
#pragma once
#include <span>
#include <vector>

#include "facto/core/csr.hpp"
#include "facto/recommend/als.hpp"

namespace facto {

/// Errors of predicted ratings on held-out ratings (users x items, the model's indices).
struct rating_errors {
    double rmse = 0, mae = 0;
    index_t count = 0;
};
/// @throws facto::invalid_argument if test is larger than the model.
[[nodiscard]] rating_errors evaluate_ratings(const mf_model& m, const csr_matrix& test);

/// Per-user ranking metrics with binary relevance. ranked: recommended items, best first
/// (only the first k count); relevant: the user's held-out items, sorted increasing.
/// precision = hits / k; recall = hits / |relevant|; nDCG = DCG / ideal DCG with gains
/// 1 / log2(position + 1); AP = sum over hits at position p of precision@p, divided by
/// min(k, |relevant|). All are 0 when relevant is empty.
[[nodiscard]] double precision_at_k(std::span<const index_t> ranked, std::span<const index_t> relevant, index_t k);
[[nodiscard]] double recall_at_k(std::span<const index_t> ranked, std::span<const index_t> relevant, index_t k);
[[nodiscard]] double ndcg_at_k(std::span<const index_t> ranked, std::span<const index_t> relevant, index_t k);
[[nodiscard]] double average_precision_at_k(std::span<const index_t> ranked, std::span<const index_t> relevant,
                                            index_t k);
/// Area under the ROC curve of one user's scores: the fraction of (relevant, irrelevant)
/// pairs of candidate items ordered correctly, ties counting one half. candidates: the
/// items ranked (e.g. all items not seen in training), scores: one per candidate; relevant
/// sorted increasing (items outside candidates are ignored). 0.5 when either class is empty.
[[nodiscard]] double auc(std::span<const index_t> candidates, std::span<const double> scores,
                         std::span<const index_t> relevant);

/// Top-k lists, one row of k per query: items[q * k + j], scores likewise, best first; ties
/// are broken by the smaller item index. Rows with fewer than k candidates end with item -1
/// and score -infinity.
struct topk_lists {
    index_t k = 0;
    std::vector<index_t> items;
    std::vector<double> scores;
    index_t rows() const noexcept { return k ? static_cast<index_t>(items.size()) / k : 0; }
};

/// Top k items for each user in users (all users when empty), scored by the model (predicted
/// ratings for explicit models), leaving out each user's items in exclude (users x items,
/// e.g. the training ratings; null: nothing excluded). Blocks of users are scored with one
/// GEMM against all item factors, then each row keeps its k best in a heap, rows in parallel.
/// @throws facto::invalid_argument on k < 1, a user out of range or an exclude matrix of
/// another shape.
[[nodiscard]] topk_lists recommend_top_k(const mf_model& m, index_t k, const csr_matrix* exclude = nullptr,
                                         std::span<const index_t> users = {});

/// The k items most similar to each query item by cosine of the item factors (the item
/// itself left out).
[[nodiscard]] topk_lists similar_items(const mf_model& m, std::span<const index_t> items, index_t k);

/// Recommendation for a user outside the training data from its interactions (items and
/// values and weights as for fold_in_user), without retraining: fold in, then score every
/// item, leaving out the items given.
[[nodiscard]] topk_lists recommend_new_user(const mf_model& m, std::span<const index_t> items,
                                            std::span<const double> values, index_t k, const mf_weights& w);

/// Ranking quality averaged over the users with at least one test item: each user's items in
/// train are left out, the top k of the rest compared with the user's test items.
struct ranking_metrics {
    index_t k = 0;
    index_t users = 0;  ///< users evaluated
    double precision = 0, recall = 0, ndcg = 0, map = 0, auc = 0;
};
[[nodiscard]] ranking_metrics evaluate_ranking(const mf_model& m, const csr_matrix& train, const csr_matrix& test,
                                               index_t k);
/// The same metrics for a model-free score per item (e.g. popularity) given to every user.
[[nodiscard]] ranking_metrics evaluate_ranking(std::span<const double> item_scores, const csr_matrix& train,
                                               const csr_matrix& test, index_t k);

}  // namespace facto
