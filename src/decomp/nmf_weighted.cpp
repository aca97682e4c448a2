// nmf_weighted.cpp: NMF fitted on a set of observed entries (a mask, or the stored entries of a
// sparse matrix), and KL NMF: weighted HALS on a residual kept per observed entry (each
// coordinate step costs the entries of its row or column), MU with W H sampled at the
// observed entries, and ANLS with one Gram matrix per row. W H is never formed.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel.hpp"
#include "decomp/nmf_detail.hpp"
#include "ops/clones.hpp"

namespace facto::detail {

namespace {

/// out[t] = <a, b row idx[t]> for the entries of one row (or column).
template <class T>
FACTO_CLONES void sampled_row(const T* a, const index_t* idx, index_t len, const T* B, index_t k, T* out) {
    for (index_t t = 0; t < len; ++t) {
        const T* b = B + idx[t] * k;
        T s = 0;
#pragma omp simd reduction(+ : s)
        for (index_t r = 0; r < k; ++r) s += a[r] * b[r];
        out[t] = s;
    }
}

/// Weighted HALS on one row w of a factor, over its `len` observed entries whose other-factor
/// rows are B[idx[t]] and whose residuals x - wh sit at resid[pos[t]] (pos null: resid[t]).
/// Coordinate r: w_r = max(0, (sum (res + w_r b_r) b_r - l1) / (sum b_r^2 + l2)), then the
/// residuals move by the change. buf holds the gathered B values, component-major.
template <class T>
FACTO_CLONES void weighted_hals_row(T* w, const index_t* idx, const index_t* pos, index_t len, const T* B, index_t k,
                                    T* resid, T l1, T l2, T* buf, T* res_buf) {
    for (index_t t = 0; t < len; ++t) {
        const T* b = B + idx[t] * k;
        for (index_t r = 0; r < k; ++r) buf[r * len + t] = b[r];
        res_buf[t] = pos ? resid[pos[t]] : resid[t];
    }
    for (index_t r = 0; r < k; ++r) {
        const T* br = buf + r * len;
        const T wr = w[r];
        T num = 0, den = 0;
#pragma omp simd reduction(+ : num, den)
        for (index_t t = 0; t < len; ++t) {
            num += (res_buf[t] + wr * br[t]) * br[t];
            den += br[t] * br[t];
        }
        den += l2;
        if (!(den > 0)) continue;
        const T v = std::max(T(0), (num - l1) / den);
        const T d = v - wr;
        if (d == 0) continue;
#pragma omp simd
        for (index_t t = 0; t < len; ++t) res_buf[t] -= d * br[t];
        w[r] = v;
    }
    for (index_t t = 0; t < len; ++t) {
        if (pos) resid[pos[t]] = res_buf[t];
        else resid[t] = res_buf[t];
    }
}

/// MU numerator and denominator of one row over its observed entries: frobenius num = sum x b,
/// den = sum wh b; KL num = sum (x / wh) b, den = sum b (unless the denominator is shared).
template <class T>
FACTO_CLONES void mu_sums(const index_t* idx, const index_t* pos, index_t len, const T* B, index_t k, const T* x,
                          const T* wh, bool kl, bool count_den, T floor, T* num, T* den) {
    std::fill(num, num + k, T(0));
    std::fill(den, den + k, T(0));
    for (index_t t = 0; t < len; ++t) {
        const index_t p = pos ? pos[t] : t;
        const T* b = B + idx[t] * k;
        const T a = kl ? x[p] / std::max(wh[p], floor) : x[p];
        const T c = kl ? T(1) : wh[p];
#pragma omp simd
        for (index_t r = 0; r < k; ++r) num[r] += a * b[r];
        if (count_den) {
#pragma omp simd
            for (index_t r = 0; r < k; ++r) den[r] += c * b[r];
        }
    }
}

template <class T>
void mu_apply(T* w, const T* num, const T* den, const T* shared_den, index_t k, T l1, T l2) {
    const T tiny = std::numeric_limits<T>::min();
    for (index_t r = 0; r < k; ++r) {
        T d = (shared_den ? shared_den[r] : den[r]) + l1 + l2 * w[r];
        if (!(d > tiny)) d = tiny;
        w[r] = w[r] * num[r] / d;
    }
}

template <class T>
std::vector<T> column_sums(const basic_matrix<T>& A) {
    std::vector<T> s(static_cast<std::size_t>(A.cols()), T(0));
    for (index_t i = 0; i < A.rows(); ++i)
        for (index_t r = 0; r < A.cols(); ++r) s[static_cast<std::size_t>(r)] += A(i, r);
    return s;
}

}  // namespace

template <class T>
void nmf_weighted(const nmf_observed<T>& obs, const nmf_options& o, basic_matrix<T>& W, basic_matrix<T>& Ht,
                  basic_nmf_result<T>& res) {
    const index_t m = obs.m, n = obs.n, k = W.cols(), nnz = obs.nnz();
    const bool kl = o.loss == nmf_loss::kullback_leibler;
    const bool parallel = worth_parallel(nnz * k);
    const T l1W = static_cast<T>(o.l1_W), l2W = static_cast<T>(o.l2_W);
    const T l1H = static_cast<T>(o.l1_H), l2H = static_cast<T>(o.l2_H);
    const index_t* rp = obs.row_ptr.data();
    const index_t* cp = obs.col_ptr.data();
    double sum_x = 0;
    for (T v : obs.x) sum_x += static_cast<double>(v);
    // KL: W H is floored where it would divide x (scikit-learn adds float32's epsilon); relative
    // to the mean observed entry so the data's scale does not matter.
    const T floor = static_cast<T>(std::numeric_limits<float>::epsilon() * std::max(sum_x, 1e-300) /
                                   std::max<double>(1.0, static_cast<double>(nnz)));
    std::vector<T> wh(static_cast<std::size_t>(nnz));  // W H at the entries, or the residual (HALS)

    auto sample = [&] {
#pragma omp parallel for schedule(dynamic, 64) if (parallel)
        for (index_t i = 0; i < m; ++i)
            sampled_row(W.data() + i * k, obs.col.data() + rp[i], rp[i + 1] - rp[i], Ht.data(), k, wh.data() + rp[i]);
    };

    if (o.method == nmf_method::anls) {
        // Each row has its own observed entries, so its own normal equations: G_i = sum h h^T
        // + l2 I and b_i = sum x h - l1 over the row's entries, solved by block principal
        // pivoting from the row's current support (warm start).
        auto solve_rows = [&](basic_matrix<T>& F, index_t rows, const index_t* ptr, const index_t* idx,
                              const index_t* pos, const basic_matrix<T>& B, T l1, T l2) {
#pragma omp parallel if (parallel)
            {
                basic_matrix<T> G(k, k), b(1, k), f(1, k);
#pragma omp for schedule(dynamic, 16)
                for (index_t i = 0; i < rows; ++i) {
                    std::fill(G.values().begin(), G.values().end(), T(0));
                    std::fill(b.values().begin(), b.values().end(), T(0));
                    for (index_t t = ptr[i]; t < ptr[i + 1]; ++t) {
                        const T* h = B.data() + idx[t] * k;
                        const T x = obs.x[static_cast<std::size_t>(pos ? pos[t] : t)];
                        for (index_t r = 0; r < k; ++r) {
                            b(0, r) += x * h[r];
#pragma omp simd
                            for (index_t c = 0; c < k; ++c) G(r, c) += h[r] * h[c];
                        }
                    }
                    for (index_t r = 0; r < k; ++r) {
                        G(r, r) += l2;
                        b(0, r) -= l1;
                    }
                    std::copy_n(F.data() + i * k, k, f.data());
                    nnls_bpp(G, b, f);
                    std::copy_n(f.data(), k, F.data() + i * k);
                }
            }
        };
        auto step = [&](int) {
            solve_rows(W, m, rp, obs.col.data(), nullptr, Ht, l1W, l2W);
            solve_rows(Ht, n, cp, obs.row.data(), obs.perm.data(), W, l1H, l2H);
        };
        auto error = [&]() -> std::pair<double, double> {
            sample();
            double ss = 0;
            for (index_t p = 0; p < nnz; ++p) {
                const double d = static_cast<double>(obs.x[static_cast<std::size_t>(p)]) -
                                 static_cast<double>(wh[static_cast<std::size_t>(p)]);
                ss += d * d;
            }
            return {std::sqrt(ss / obs.norm_sq), 0.0};
        };
        nmf_iterate<T>(o, false, step, error, res);
        return;
    }

    if (o.method == nmf_method::hals) {
        auto residual = [&] {
            sample();
            for (index_t p = 0; p < nnz; ++p) wh[static_cast<std::size_t>(p)] = obs.x[static_cast<std::size_t>(p)] - wh[static_cast<std::size_t>(p)];
        };
        residual();
        index_t longest_row = 0, longest_col = 0;
        for (index_t i = 0; i < m; ++i) longest_row = std::max(longest_row, rp[i + 1] - rp[i]);
        for (index_t j = 0; j < n; ++j) longest_col = std::max(longest_col, cp[j + 1] - cp[j]);
        auto step = [&](int iter) {
            if (iter % 10 == 0) residual();  // rounding in the running updates does not pile up
#pragma omp parallel if (parallel)
            {
                std::vector<T> buf(static_cast<std::size_t>(std::max(longest_row, longest_col) * (k + 1)));
                T* res_buf = buf.data() + std::max(longest_row, longest_col) * k;
#pragma omp for schedule(dynamic, 16)
                for (index_t i = 0; i < m; ++i)
                    weighted_hals_row(W.data() + i * k, obs.col.data() + rp[i], static_cast<const index_t*>(nullptr),
                                      rp[i + 1] - rp[i], Ht.data(), k, wh.data() + rp[i], l1W, l2W, buf.data(),
                                      res_buf);
#pragma omp for schedule(dynamic, 16)
                for (index_t j = 0; j < n; ++j)
                    weighted_hals_row(Ht.data() + j * k, obs.row.data() + cp[j], obs.perm.data() + cp[j],
                                      cp[j + 1] - cp[j], W.data(), k, wh.data(), l1H, l2H, buf.data(), res_buf);
            }
        };
        auto error = [&]() -> std::pair<double, double> {
            double ss = 0;
            for (T r : wh) ss += static_cast<double>(r) * static_cast<double>(r);
            return {std::sqrt(ss / obs.norm_sq), 0.0};
        };
        nmf_iterate<T>(o, false, step, error, res);
        return;
    }

    // Multiplicative updates. The KL denominator of an unmasked run is shared by all rows: the
    // column sums of the other factor (every entry is observed).
    const bool shared = kl && obs.all_entries;
    bool wh_current = false;
    auto step = [&](int) {
        if (!wh_current) sample();
        std::vector<T> shared_den;
        if (shared) shared_den = column_sums(Ht);
#pragma omp parallel if (parallel)
        {
            std::vector<T> num(static_cast<std::size_t>(k)), den(static_cast<std::size_t>(k));
#pragma omp for schedule(dynamic, 64)
            for (index_t i = 0; i < m; ++i) {
                mu_sums(obs.col.data() + rp[i], static_cast<const index_t*>(nullptr), rp[i + 1] - rp[i], Ht.data(), k,
                        obs.x.data() + rp[i], wh.data() + rp[i], kl, !shared, floor, num.data(), den.data());
                mu_apply(W.data() + i * k, num.data(), den.data(), shared ? shared_den.data() : nullptr, k, l1W, l2W);
            }
        }
        sample();
        if (shared) shared_den = column_sums(W);
#pragma omp parallel if (parallel)
        {
            std::vector<T> num(static_cast<std::size_t>(k)), den(static_cast<std::size_t>(k));
#pragma omp for schedule(dynamic, 64)
            for (index_t j = 0; j < n; ++j) {
                mu_sums(obs.row.data() + cp[j], obs.perm.data() + cp[j], cp[j + 1] - cp[j], W.data(), k, obs.x.data(),
                        wh.data(), kl, !shared, floor, num.data(), den.data());
                mu_apply(Ht.data() + j * k, num.data(), den.data(), shared ? shared_den.data() : nullptr, k, l1H, l2H);
            }
        }
        wh_current = false;
    };
    auto error = [&]() -> std::pair<double, double> {
        sample();
        wh_current = true;
        double ss = 0, cross = 0, div = 0;
        for (index_t p = 0; p < nnz; ++p) {
            const double x = static_cast<double>(obs.x[static_cast<std::size_t>(p)]);
            const double v = static_cast<double>(wh[static_cast<std::size_t>(p)]);
            ss += (x - v) * (x - v);
            cross += x * v;
            if (kl) {
                if (x > 0) div += x * std::log(x / std::max(v, static_cast<double>(floor))) - x;
                if (!obs.all_entries) div += v;
            }
        }
        if (!obs.all_entries) return {std::sqrt(ss / obs.norm_sq), div};
        // Every entry observed: ||W H||^2 from the Gram matrices, sum W H from column sums.
        const std::vector<T> sw = column_sums(W), sh = column_sums(Ht);
        double model = 0;
        for (index_t r = 0; r < k; ++r) {
            div += static_cast<double>(sw[static_cast<std::size_t>(r)]) * static_cast<double>(sh[static_cast<std::size_t>(r)]);
            for (index_t s = 0; s < k; ++s) {
                double gw = 0, gh = 0;
                for (index_t i = 0; i < m; ++i) gw += static_cast<double>(W(i, r)) * static_cast<double>(W(i, s));
                for (index_t j = 0; j < n; ++j) gh += static_cast<double>(Ht(j, r)) * static_cast<double>(Ht(j, s));
                model += gw * gh;
            }
        }
        return {std::sqrt(std::max(0.0, obs.norm_sq - 2 * cross + model) / obs.norm_sq), div};
    };
    nmf_iterate<T>(o, kl, step, error, res);
}

template void nmf_weighted(const nmf_observed<double>&, const nmf_options&, basic_matrix<double>&,
                           basic_matrix<double>&, basic_nmf_result<double>&);
template void nmf_weighted(const nmf_observed<float>&, const nmf_options&, basic_matrix<float>&,
                           basic_matrix<float>&, basic_nmf_result<float>&);

}  // namespace facto::detail
