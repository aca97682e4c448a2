// kruskal.cpp: the CP model: shape, normalization, ordering, reconstruction, factor match score.
#include "facto/core/kruskal.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace facto {

template <class T>
shape_t basic_kruskal_tensor<T>::shape() const {
    shape_t s;
    s.reserve(factors.size());
    for (const auto& A : factors) s.push_back(A.rows());
    return s;
}

template <class T>
void basic_kruskal_tensor<T>::validate(const char* who) const {
    const std::string w(who);
    if (factors.empty()) throw invalid_argument(w + ": the Kruskal tensor has no factors");
    for (std::size_t n = 0; n < factors.size(); ++n)
        if (factors[n].cols() != rank())
            throw invalid_argument(w + ": factor " + std::to_string(n) + " has " + std::to_string(factors[n].cols()) +
                                   " columns but there are " + std::to_string(rank()) + " weights");
}

template <class T>
void basic_kruskal_tensor<T>::normalize() {
    validate("kruskal_tensor::normalize");
    const index_t R = rank();
    for (auto& A : factors) {
        for (index_t r = 0; r < R; ++r) {
            double s = 0;
            for (index_t i = 0; i < A.rows(); ++i) s += static_cast<double>(A(i, r)) * A(i, r);
            const double nrm = std::sqrt(s);
            if (nrm == 0) {  // a zero column carries no scale: the component has weight 0
                weights[static_cast<std::size_t>(r)] = T(0);
                continue;
            }
            for (index_t i = 0; i < A.rows(); ++i) A(i, r) = static_cast<T>(A(i, r) / nrm);
            weights[static_cast<std::size_t>(r)] = static_cast<T>(weights[static_cast<std::size_t>(r)] * nrm);
        }
    }
}

template <class T>
void basic_kruskal_tensor<T>::arrange() {
    validate("kruskal_tensor::arrange");
    const index_t R = rank();
    for (index_t r = 0; r < R; ++r)
        if (weights[static_cast<std::size_t>(r)] < 0) {
            weights[static_cast<std::size_t>(r)] = -weights[static_cast<std::size_t>(r)];
            auto& A = factors.front();
            for (index_t i = 0; i < A.rows(); ++i) A(i, r) = -A(i, r);
        }
    std::vector<index_t> p(static_cast<std::size_t>(R));
    std::iota(p.begin(), p.end(), index_t{0});
    std::stable_sort(p.begin(), p.end(), [&](index_t a, index_t b) {
        return weights[static_cast<std::size_t>(a)] > weights[static_cast<std::size_t>(b)];
    });
    std::vector<T> w(static_cast<std::size_t>(R));
    for (index_t r = 0; r < R; ++r) w[static_cast<std::size_t>(r)] = weights[static_cast<std::size_t>(p[static_cast<std::size_t>(r)])];
    weights = w;
    for (auto& A : factors) {
        basic_matrix<T> B(A.rows(), R);
        for (index_t i = 0; i < A.rows(); ++i)
            for (index_t r = 0; r < R; ++r) B(i, r) = A(i, p[static_cast<std::size_t>(r)]);
        A = std::move(B);
    }
}

template <class T>
basic_tensor<T> basic_kruskal_tensor<T>::full() const {
    validate("kruskal_tensor::full");
    const int N = order();
    const index_t R = rank();
    const shape_t s = shape();
    basic_tensor<T> X(s);
    if (X.size() == 0) return X;
    // Odometer over the entries with prefix products: prefix[n] holds w .* A_0(i_0,:) .* ...
    // .* A_{n-1}(i_{n-1},:), recomputed only from the mode that changed.
    std::vector<double> prefix(static_cast<std::size_t>((N + 1) * R));
    for (index_t r = 0; r < R; ++r) prefix[static_cast<std::size_t>(r)] = weights[static_cast<std::size_t>(r)];
    std::vector<index_t> c(static_cast<std::size_t>(N), 0);
    int changed = 0;
    for (index_t e = 0; e < X.size(); ++e) {
        for (int n = changed; n < N; ++n) {
            const T* a = factors[static_cast<std::size_t>(n)].data() + c[static_cast<std::size_t>(n)] * R;
            const double* in = prefix.data() + n * R;
            double* out = prefix.data() + (n + 1) * R;
            for (index_t r = 0; r < R; ++r) out[r] = in[r] * a[r];
        }
        double v = 0;
        for (index_t r = 0; r < R; ++r) v += prefix[static_cast<std::size_t>(N * R + r)];
        X.data()[e] = static_cast<T>(v);
        int m = N - 1;
        for (; m >= 0; --m) {
            if (++c[static_cast<std::size_t>(m)] < s[static_cast<std::size_t>(m)]) break;
            c[static_cast<std::size_t>(m)] = 0;
        }
        changed = std::max(m, 0);
    }
    return X;
}

template <class T>
T basic_kruskal_tensor<T>::operator()(std::span<const index_t> coord) const {
    validate("kruskal_tensor::operator()");
    if (static_cast<int>(coord.size()) != order())
        throw out_of_range("kruskal_tensor: coordinate of order " + std::to_string(coord.size()) +
                           " for a tensor of order " + std::to_string(order()));
    for (std::size_t n = 0; n < coord.size(); ++n)
        if (coord[n] < 0 || coord[n] >= factors[n].rows())
            throw out_of_range("kruskal_tensor: index " + std::to_string(coord[n]) + " in mode " + std::to_string(n) +
                               " outside [0, " + std::to_string(factors[n].rows()) + ")");
    double v = 0;
    for (index_t r = 0; r < rank(); ++r) {
        double p = weights[static_cast<std::size_t>(r)];
        for (std::size_t n = 0; n < coord.size(); ++n) p *= factors[n](coord[n], r);
        v += p;
    }
    return static_cast<T>(v);
}

namespace {

// Maximum-weight assignment of rows to distinct columns of a rows x cols score matrix
// (rows <= cols), by the Hungarian algorithm with potentials on costs -score: O(rows^2 cols).
// Returns the column of each row.
std::vector<index_t> best_assignment(const std::vector<double>& score, index_t rows, index_t cols) {
    const double inf = std::numeric_limits<double>::infinity();
    auto cost = [&](index_t i, index_t j) { return -score[static_cast<std::size_t>(i * cols + j)]; };
    // 1-based, column 0 is a virtual start.
    std::vector<double> u(static_cast<std::size_t>(rows + 1), 0), v(static_cast<std::size_t>(cols + 1), 0);
    std::vector<index_t> match(static_cast<std::size_t>(cols + 1), 0), way(static_cast<std::size_t>(cols + 1), 0);
    for (index_t i = 1; i <= rows; ++i) {
        match[0] = i;
        index_t j0 = 0;
        std::vector<double> minv(static_cast<std::size_t>(cols + 1), inf);
        std::vector<char> used(static_cast<std::size_t>(cols + 1), 0);
        do {
            used[static_cast<std::size_t>(j0)] = 1;
            const index_t i0 = match[static_cast<std::size_t>(j0)];
            double delta = inf;
            index_t j1 = 0;
            for (index_t j = 1; j <= cols; ++j) {
                if (used[static_cast<std::size_t>(j)]) continue;
                const double cur = cost(i0 - 1, j - 1) - u[static_cast<std::size_t>(i0)] - v[static_cast<std::size_t>(j)];
                if (cur < minv[static_cast<std::size_t>(j)]) {
                    minv[static_cast<std::size_t>(j)] = cur;
                    way[static_cast<std::size_t>(j)] = j0;
                }
                if (minv[static_cast<std::size_t>(j)] < delta) {
                    delta = minv[static_cast<std::size_t>(j)];
                    j1 = j;
                }
            }
            for (index_t j = 0; j <= cols; ++j) {
                if (used[static_cast<std::size_t>(j)]) {
                    u[static_cast<std::size_t>(match[static_cast<std::size_t>(j)])] += delta;
                    v[static_cast<std::size_t>(j)] -= delta;
                } else {
                    minv[static_cast<std::size_t>(j)] -= delta;
                }
            }
            j0 = j1;
        } while (match[static_cast<std::size_t>(j0)] != 0);
        do {
            const index_t j1 = way[static_cast<std::size_t>(j0)];
            match[static_cast<std::size_t>(j0)] = match[static_cast<std::size_t>(j1)];
            j0 = j1;
        } while (j0 != 0);
    }
    std::vector<index_t> col_of(static_cast<std::size_t>(rows), -1);
    for (index_t j = 1; j <= cols; ++j)
        if (match[static_cast<std::size_t>(j)] != 0) col_of[static_cast<std::size_t>(match[static_cast<std::size_t>(j)] - 1)] = j - 1;
    return col_of;
}

// Greedy matching: repeatedly take the best remaining (row, column) pair.
std::vector<index_t> greedy_assignment(const std::vector<double>& score, index_t rows, index_t cols) {
    std::vector<index_t> pairs(static_cast<std::size_t>(rows * cols));
    std::iota(pairs.begin(), pairs.end(), index_t{0});
    std::stable_sort(pairs.begin(), pairs.end(),
                     [&](index_t a, index_t b) { return score[static_cast<std::size_t>(a)] > score[static_cast<std::size_t>(b)]; });
    std::vector<index_t> col_of(static_cast<std::size_t>(rows), -1);
    std::vector<char> row_done(static_cast<std::size_t>(rows), 0), col_done(static_cast<std::size_t>(cols), 0);
    for (index_t p : pairs) {
        const index_t i = p / cols, j = p % cols;
        if (row_done[static_cast<std::size_t>(i)] || col_done[static_cast<std::size_t>(j)]) continue;
        col_of[static_cast<std::size_t>(i)] = j;
        row_done[static_cast<std::size_t>(i)] = col_done[static_cast<std::size_t>(j)] = 1;
    }
    return col_of;
}

}  // namespace

// Matching is exact (Hungarian algorithm) up to rank 300, where its O(R^3) cost stays in the
// tens of milliseconds; larger ranks use the greedy best-pair-first matching.
template <class T>
double factor_match_score(const basic_kruskal_tensor<T>& model, const basic_kruskal_tensor<T>& truth,
                          bool weight_penalty) {
    model.validate("factor_match_score");
    truth.validate("factor_match_score");
    if (model.shape() != truth.shape())
        throw invalid_argument("factor_match_score: model has shape " + shape_string(model.shape()) +
                               " but truth has shape " + shape_string(truth.shape()));
    basic_kruskal_tensor<T> a = truth, b = model;
    a.normalize();
    b.normalize();
    const index_t Ra = a.rank(), Rb = b.rank();
    if (Ra == 0) return 1.0;
    if (Rb == 0) return 0.0;
    // score(i, j): truth component i against model component j.
    std::vector<double> score(static_cast<std::size_t>(Ra * Rb));
    for (index_t i = 0; i < Ra; ++i)
        for (index_t j = 0; j < Rb; ++j) {
            double s = 1;
            if (weight_penalty) {
                const double la = std::abs(static_cast<double>(a.weights[static_cast<std::size_t>(i)]));
                const double lb = std::abs(static_cast<double>(b.weights[static_cast<std::size_t>(j)]));
                const double mx = std::max(la, lb);
                s = mx == 0 ? 1.0 : 1.0 - std::abs(la - lb) / mx;
            }
            for (int n = 0; n < a.order(); ++n) {
                const auto& A = a.factors[static_cast<std::size_t>(n)];
                const auto& B = b.factors[static_cast<std::size_t>(n)];
                double c = 0;
                for (index_t k = 0; k < A.rows(); ++k) c += static_cast<double>(A(k, i)) * B(k, j);
                s *= std::min(1.0, std::abs(c));
            }
            score[static_cast<std::size_t>(i * Rb + j)] = s;
        }
    // Hungarian needs rows <= cols: transpose when the model has fewer components.
    double total = 0;
    const bool transpose = Ra > Rb;
    const index_t rows = transpose ? Rb : Ra, cols = transpose ? Ra : Rb;
    std::vector<double> sc = score;
    if (transpose)
        for (index_t i = 0; i < Ra; ++i)
            for (index_t j = 0; j < Rb; ++j) sc[static_cast<std::size_t>(j * Ra + i)] = score[static_cast<std::size_t>(i * Rb + j)];
    const std::vector<index_t> col_of =
        std::max(rows, cols) <= 300 ? best_assignment(sc, rows, cols) : greedy_assignment(sc, rows, cols);
    for (index_t i = 0; i < rows; ++i)
        if (col_of[static_cast<std::size_t>(i)] >= 0) total += sc[static_cast<std::size_t>(i * cols + col_of[static_cast<std::size_t>(i)])];
    return total / static_cast<double>(Ra);
}

template struct basic_kruskal_tensor<double>;
template struct basic_kruskal_tensor<float>;
template double factor_match_score(const basic_kruskal_tensor<double>&, const basic_kruskal_tensor<double>&, bool);
template double factor_match_score(const basic_kruskal_tensor<float>&, const basic_kruskal_tensor<float>&, bool);

}  // namespace facto
