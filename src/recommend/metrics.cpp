// metrics.cpp: rating errors, ranking metrics, blocked top-k, similar items, new users.
#include "facto/recommend/metrics.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "core/parallel.hpp"
#include "facto/core/error.hpp"
#include "ops/blas_lapack.hpp"

namespace facto {

rating_errors evaluate_ratings(const mf_model& m, const csr_matrix& test) {
    test.validate("evaluate_ratings");
    if (test.rows > m.num_users() || test.cols > m.num_items())
        throw invalid_argument("evaluate_ratings: test ratings are " + std::to_string(test.rows) + "x" +
                               std::to_string(test.cols) + ", the model has " + std::to_string(m.num_users()) +
                               " users and " + std::to_string(m.num_items()) + " items");
    std::vector<double> sq(static_cast<std::size_t>(test.rows), 0.0), ab(static_cast<std::size_t>(test.rows), 0.0);
#pragma omp parallel for schedule(static) if (detail::worth_parallel(test.nnz() * std::max<index_t>(m.rank(), 1)))
    for (index_t u = 0; u < test.rows; ++u)
        for (index_t p = test.row_ptr[static_cast<std::size_t>(u)]; p < test.row_ptr[static_cast<std::size_t>(u) + 1]; ++p) {
            const double e = test.values[static_cast<std::size_t>(p)] - m.predict(u, test.col_idx[static_cast<std::size_t>(p)]);
            sq[static_cast<std::size_t>(u)] += e * e;
            ab[static_cast<std::size_t>(u)] += std::abs(e);
        }
    rating_errors r;
    r.count = test.nnz();
    if (r.count == 0) return r;
    r.rmse = std::sqrt(std::accumulate(sq.begin(), sq.end(), 0.0) / static_cast<double>(r.count));
    r.mae = std::accumulate(ab.begin(), ab.end(), 0.0) / static_cast<double>(r.count);
    return r;
}

namespace {

void check_k(index_t k, const char* who) {
    if (k < 1) throw invalid_argument(std::string(who) + ": k must be at least 1, found " + std::to_string(k));
}

bool contains(std::span<const index_t> sorted, index_t x) { return std::binary_search(sorted.begin(), sorted.end(), x); }

std::span<const index_t> row_of(const csr_matrix* A, index_t r) {
    if (!A || r >= A->rows) return {};
    const auto b = static_cast<std::size_t>(A->row_ptr[static_cast<std::size_t>(r)]);
    const auto e = static_cast<std::size_t>(A->row_ptr[static_cast<std::size_t>(r) + 1]);
    return {A->col_idx.data() + b, e - b};
}

// "a ranks before b": higher score, then smaller item index.
struct better {
    bool operator()(const std::pair<double, index_t>& a, const std::pair<double, index_t>& b) const {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    }
};

// The k best of scores[0..n) not in the sorted exclude list, into items/out_scores (k slots).
void select_top_k(const double* scores, index_t n, std::span<const index_t> exclude, index_t k, index_t* items,
                  double* out_scores, std::vector<std::pair<double, index_t>>& heap) {
    heap.clear();
    const better cmp;  // as a heap comparator: the top is the worst kept
    std::size_t ex = 0;
    for (index_t i = 0; i < n; ++i) {
        while (ex < exclude.size() && exclude[ex] < i) ++ex;
        if (ex < exclude.size() && exclude[ex] == i) continue;
        const std::pair<double, index_t> c{scores[i], i};
        if (std::isnan(c.first)) continue;
        if (static_cast<index_t>(heap.size()) < k) {
            heap.push_back(c);
            std::push_heap(heap.begin(), heap.end(), cmp);
        } else if (cmp(c, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), cmp);
            heap.back() = c;
            std::push_heap(heap.begin(), heap.end(), cmp);
        }
    }
    std::sort_heap(heap.begin(), heap.end(), cmp);  // ascending in cmp's order: best first
    for (index_t j = 0; j < k; ++j) {
        const bool have = j < static_cast<index_t>(heap.size());
        items[j] = have ? heap[static_cast<std::size_t>(j)].second : -1;
        out_scores[j] = have ? heap[static_cast<std::size_t>(j)].first : -std::numeric_limits<double>::infinity();
    }
}

// Scores queries (rows of Q, or of Q picked by `pick`) against all items:
// S(q, i) = row_offset[q] + item_offset[i] + Q_q . Items_i, one GEMM per block of queries;
// visit(q, scores) runs in parallel over the block's queries.
template <class Visit>
void score_blocks(const matrix& Q, std::span<const index_t> pick, const matrix& Items, const std::vector<double>& item_offset,
                  const std::vector<double>& row_offset, Visit&& visit) {
    const index_t nq = pick.empty() ? Q.rows() : static_cast<index_t>(pick.size());
    const index_t ni = Items.rows(), r = Q.cols();
    if (nq == 0 || ni == 0) return;
    const index_t block = std::max<index_t>(1, std::min<index_t>(nq, (index_t{1} << 21) / ni));
    matrix QB(block, r);
    std::vector<double> S(static_cast<std::size_t>(block * ni));
    for (index_t b0 = 0; b0 < nq; b0 += block) {
        const index_t nb = std::min(block, nq - b0);
        for (index_t j = 0; j < nb; ++j) {
            const index_t q = pick.empty() ? b0 + j : pick[static_cast<std::size_t>(b0 + j)];
            std::copy(Q.data() + q * r, Q.data() + (q + 1) * r, QB.data() + j * r);
        }
        if (r > 0)
            detail::gemm(false, true, nb, ni, r, 1.0, QB.data(), r, Items.data(), r, 0.0, S.data(), ni);
        else
            std::fill(S.begin(), S.begin() + nb * ni, 0.0);
#pragma omp parallel for schedule(dynamic, 4) if (detail::worth_parallel(nb * ni))
        for (index_t j = 0; j < nb; ++j) {
            const index_t q = pick.empty() ? b0 + j : pick[static_cast<std::size_t>(b0 + j)];
            double* s = S.data() + j * ni;
            const double off = row_offset.empty() ? 0.0 : row_offset[static_cast<std::size_t>(q)];
            if (!item_offset.empty())
                for (index_t i = 0; i < ni; ++i) s[i] += off + item_offset[static_cast<std::size_t>(i)];
            else if (off != 0)
                for (index_t i = 0; i < ni; ++i) s[i] += off;
            visit(b0 + j, q, s);
        }
    }
}

// The model's query side: user factors and per-user offsets (mean + user bias).
std::vector<double> user_offsets(const mf_model& m) {
    std::vector<double> off;
    if (m.user_bias.empty() && m.global_mean == 0) return off;
    off.assign(static_cast<std::size_t>(m.num_users()), m.global_mean);
    for (std::size_t u = 0; u < m.user_bias.size(); ++u) off[u] += m.user_bias[u];
    return off;
}

// AUC of one user from all item scores: candidates are items not in exclude; positives the
// relevant candidates. Sorted positive scores, then one binary search per negative.
double auc_dense(const double* scores, index_t n, std::span<const index_t> exclude, std::span<const index_t> relevant,
                 std::vector<double>& pos) {
    pos.clear();
    for (index_t i : relevant)
        if (i < n && !contains(exclude, i)) pos.push_back(scores[i]);
    if (pos.empty()) return 0.5;
    std::sort(pos.begin(), pos.end());
    double correct = 0;
    index_t neg = 0;
    std::size_t ex = 0, rel = 0;
    for (index_t i = 0; i < n; ++i) {
        while (ex < exclude.size() && exclude[ex] < i) ++ex;
        if (ex < exclude.size() && exclude[ex] == i) continue;
        while (rel < relevant.size() && relevant[rel] < i) ++rel;
        if (rel < relevant.size() && relevant[rel] == i) continue;
        ++neg;
        const auto [lo, hi] = std::equal_range(pos.begin(), pos.end(), scores[i]);
        correct += static_cast<double>(pos.end() - hi) + 0.5 * static_cast<double>(hi - lo);
    }
    return neg ? correct / (static_cast<double>(neg) * static_cast<double>(pos.size())) : 0.5;
}

index_t hits_in(std::span<const index_t> ranked, std::span<const index_t> relevant, index_t k) {
    index_t h = 0;
    for (index_t j = 0; j < std::min<index_t>(k, static_cast<index_t>(ranked.size())); ++j)
        if (ranked[static_cast<std::size_t>(j)] >= 0 && contains(relevant, ranked[static_cast<std::size_t>(j)])) ++h;
    return h;
}

void check_train_test(const csr_matrix& train, const csr_matrix& test, index_t users, index_t items, const char* who) {
    train.validate(who);
    test.validate(who);
    if (train.rows != test.rows || train.cols != test.cols || train.rows > users || train.cols != items)
        throw invalid_argument(std::string(who) + ": train (" + std::to_string(train.rows) + "x" +
                               std::to_string(train.cols) + ") and test (" + std::to_string(test.rows) + "x" +
                               std::to_string(test.cols) + ") must have the same shape, with one column per item (" +
                               std::to_string(items) + ")");
}

ranking_metrics evaluate_impl(const matrix& Q, const matrix& Items, const std::vector<double>& item_offset,
                              const std::vector<double>& row_offset, const csr_matrix& train, const csr_matrix& test,
                              index_t k) {
    std::vector<index_t> users;
    for (index_t u = 0; u < test.rows; ++u)
        if (test.row_ptr[static_cast<std::size_t>(u) + 1] > test.row_ptr[static_cast<std::size_t>(u)]) users.push_back(u);
    const auto n = users.size();
    std::vector<double> prec(n), rec(n), nd(n), ap(n), au(n);
    std::vector<std::vector<std::pair<double, index_t>>> heaps(static_cast<std::size_t>(omp_get_max_threads()));
    std::vector<std::vector<double>> pos(heaps.size());
    std::vector<index_t> top(static_cast<std::size_t>(omp_get_max_threads() * k));
    std::vector<double> top_scores(top.size());
    score_blocks(Q, users, Items, item_offset, row_offset, [&](index_t j, index_t u, const double* s) {
        const int t = omp_get_thread_num();
        index_t* items = top.data() + t * k;
        const auto excl = row_of(&train, u), rel = row_of(&test, u);
        select_top_k(s, Items.rows(), excl, k, items, top_scores.data() + t * k, heaps[static_cast<std::size_t>(t)]);
        const std::span<const index_t> ranked(items, static_cast<std::size_t>(k));
        const auto jj = static_cast<std::size_t>(j);
        prec[jj] = precision_at_k(ranked, rel, k);
        rec[jj] = recall_at_k(ranked, rel, k);
        nd[jj] = ndcg_at_k(ranked, rel, k);
        ap[jj] = average_precision_at_k(ranked, rel, k);
        au[jj] = auc_dense(s, Items.rows(), excl, rel, pos[static_cast<std::size_t>(t)]);
    });
    ranking_metrics r;
    r.k = k;
    r.users = static_cast<index_t>(n);
    if (n == 0) return r;
    const double dn = static_cast<double>(n);
    r.precision = std::accumulate(prec.begin(), prec.end(), 0.0) / dn;
    r.recall = std::accumulate(rec.begin(), rec.end(), 0.0) / dn;
    r.ndcg = std::accumulate(nd.begin(), nd.end(), 0.0) / dn;
    r.map = std::accumulate(ap.begin(), ap.end(), 0.0) / dn;
    r.auc = std::accumulate(au.begin(), au.end(), 0.0) / dn;
    return r;
}

}  // namespace

double precision_at_k(std::span<const index_t> ranked, std::span<const index_t> relevant, index_t k) {
    check_k(k, "precision_at_k");
    if (relevant.empty()) return 0;
    return static_cast<double>(hits_in(ranked, relevant, k)) / static_cast<double>(k);
}

double recall_at_k(std::span<const index_t> ranked, std::span<const index_t> relevant, index_t k) {
    check_k(k, "recall_at_k");
    if (relevant.empty()) return 0;
    return static_cast<double>(hits_in(ranked, relevant, k)) / static_cast<double>(relevant.size());
}

double ndcg_at_k(std::span<const index_t> ranked, std::span<const index_t> relevant, index_t k) {
    check_k(k, "ndcg_at_k");
    if (relevant.empty()) return 0;
    double dcg = 0, ideal = 0;
    const index_t n = std::min<index_t>(k, static_cast<index_t>(ranked.size()));
    for (index_t j = 0; j < n; ++j)
        if (ranked[static_cast<std::size_t>(j)] >= 0 && contains(relevant, ranked[static_cast<std::size_t>(j)]))
            dcg += 1 / std::log2(static_cast<double>(j) + 2);
    for (index_t j = 0; j < std::min<index_t>(k, static_cast<index_t>(relevant.size())); ++j)
        ideal += 1 / std::log2(static_cast<double>(j) + 2);
    return dcg / ideal;
}

double average_precision_at_k(std::span<const index_t> ranked, std::span<const index_t> relevant, index_t k) {
    check_k(k, "average_precision_at_k");
    if (relevant.empty()) return 0;
    double sum = 0;
    index_t hits = 0;
    const index_t n = std::min<index_t>(k, static_cast<index_t>(ranked.size()));
    for (index_t j = 0; j < n; ++j)
        if (ranked[static_cast<std::size_t>(j)] >= 0 && contains(relevant, ranked[static_cast<std::size_t>(j)])) {
            ++hits;
            sum += static_cast<double>(hits) / static_cast<double>(j + 1);
        }
    return sum / static_cast<double>(std::min<index_t>(k, static_cast<index_t>(relevant.size())));
}

double auc(std::span<const index_t> candidates, std::span<const double> scores, std::span<const index_t> relevant) {
    if (candidates.size() != scores.size())
        throw invalid_argument("auc: " + std::to_string(candidates.size()) + " candidates but " +
                               std::to_string(scores.size()) + " scores");
    std::vector<double> pos, neg;
    for (std::size_t c = 0; c < candidates.size(); ++c) (contains(relevant, candidates[c]) ? pos : neg).push_back(scores[c]);
    if (pos.empty() || neg.empty()) return 0.5;
    std::sort(pos.begin(), pos.end());
    double correct = 0;
    for (double s : neg) {
        const auto [lo, hi] = std::equal_range(pos.begin(), pos.end(), s);
        correct += static_cast<double>(pos.end() - hi) + 0.5 * static_cast<double>(hi - lo);
    }
    return correct / (static_cast<double>(pos.size()) * static_cast<double>(neg.size()));
}

topk_lists recommend_top_k(const mf_model& m, index_t k, const csr_matrix* exclude, std::span<const index_t> users) {
    check_k(k, "recommend_top_k");
    if (exclude) {
        exclude->validate("recommend_top_k");
        if (exclude->rows > m.num_users() || exclude->cols != m.num_items())
            throw invalid_argument("recommend_top_k: the excluded ratings are " + std::to_string(exclude->rows) + "x" +
                                   std::to_string(exclude->cols) + ", the model has " + std::to_string(m.num_users()) +
                                   " users and " + std::to_string(m.num_items()) + " items");
    }
    for (index_t u : users)
        if (u < 0 || u >= m.num_users())
            throw invalid_argument("recommend_top_k: user index " + std::to_string(u) + " outside 0.." +
                                   std::to_string(m.num_users() - 1));
    topk_lists out;
    out.k = k;
    const index_t n = users.empty() ? m.num_users() : static_cast<index_t>(users.size());
    out.items.assign(static_cast<std::size_t>(n * k), -1);
    out.scores.assign(static_cast<std::size_t>(n * k), -std::numeric_limits<double>::infinity());
    std::vector<std::vector<std::pair<double, index_t>>> heaps(static_cast<std::size_t>(omp_get_max_threads()));
    score_blocks(m.user_factors, users, m.item_factors, m.item_bias, user_offsets(m), [&](index_t j, index_t u, const double* s) {
        select_top_k(s, m.num_items(), row_of(exclude, u), k, out.items.data() + j * k, out.scores.data() + j * k,
                     heaps[static_cast<std::size_t>(omp_get_thread_num())]);
    });
    return out;
}

topk_lists similar_items(const mf_model& m, std::span<const index_t> items, index_t k) {
    check_k(k, "similar_items");
    for (index_t i : items)
        if (i < 0 || i >= m.num_items())
            throw invalid_argument("similar_items: item index " + std::to_string(i) + " outside 0.." +
                                   std::to_string(m.num_items() - 1));
    matrix N = m.item_factors;
    const index_t r = N.cols();
    for (index_t i = 0; i < N.rows(); ++i) {
        double s = 0;
        for (index_t a = 0; a < r; ++a) s += N(i, a) * N(i, a);
        if (s > 0)
            for (index_t a = 0; a < r; ++a) N(i, a) /= std::sqrt(s);
    }
    topk_lists out;
    out.k = k;
    out.items.assign(items.size() * static_cast<std::size_t>(k), -1);
    out.scores.assign(out.items.size(), -std::numeric_limits<double>::infinity());
    std::vector<std::vector<std::pair<double, index_t>>> heaps(static_cast<std::size_t>(omp_get_max_threads()));
    score_blocks(N, items, N, {}, {}, [&](index_t j, index_t i, const double* s) {
        const index_t self[1] = {i};
        select_top_k(s, N.rows(), self, k, out.items.data() + j * k, out.scores.data() + j * k,
                     heaps[static_cast<std::size_t>(omp_get_thread_num())]);
    });
    return out;
}

topk_lists recommend_new_user(const mf_model& m, std::span<const index_t> items, std::span<const double> values,
                              index_t k, const mf_weights& w) {
    check_k(k, "recommend_new_user");
    const folded_user f = fold_in_user(m, items, values, w);
    matrix Q(1, m.rank(), f.factors);
    const std::vector<double> off = {m.global_mean + f.bias};
    std::vector<index_t> seen(items.begin(), items.end());
    std::sort(seen.begin(), seen.end());
    topk_lists out;
    out.k = k;
    out.items.assign(static_cast<std::size_t>(k), -1);
    out.scores.assign(static_cast<std::size_t>(k), 0.0);
    std::vector<std::pair<double, index_t>> heap;
    score_blocks(Q, {}, m.item_factors, m.item_bias, off, [&](index_t, index_t, const double* s) {
        select_top_k(s, m.num_items(), seen, k, out.items.data(), out.scores.data(), heap);
    });
    return out;
}

ranking_metrics evaluate_ranking(const mf_model& m, const csr_matrix& train, const csr_matrix& test, index_t k) {
    check_k(k, "evaluate_ranking");
    check_train_test(train, test, m.num_users(), m.num_items(), "evaluate_ranking");
    return evaluate_impl(m.user_factors, m.item_factors, m.item_bias, user_offsets(m), train, test, k);
}

ranking_metrics evaluate_ranking(std::span<const double> item_scores, const csr_matrix& train, const csr_matrix& test,
                                 index_t k) {
    check_k(k, "evaluate_ranking");
    const auto items = static_cast<index_t>(item_scores.size());
    check_train_test(train, test, train.rows, items, "evaluate_ranking");
    const matrix Q(train.rows, 0), I(items, 0);
    return evaluate_impl(Q, I, std::vector<double>(item_scores.begin(), item_scores.end()), {}, train, test, k);
}

}  // namespace facto
