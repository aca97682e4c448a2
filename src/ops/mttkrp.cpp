// mttkrp.cpp: MTTKRP, the core kernel of CP-ALS: dense (GEMM on the natural layout) and
// sparse (CSF walks), the naive references, and the inner products for the fit.
#include "core/parallel.hpp"
#include "facto/ops/mttkrp.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "facto/ops/linalg.hpp"
#include "ops/clones.hpp"
#include "ops/skinny_gemm.hpp"

namespace facto {

namespace {

// ---------------------------------------------------------------------------------------------
// Validation

// Checks the factors against the tensor shape and returns the rank R.
template <class T>
index_t check_factors(const shape_t& shape, std::span<const basic_matrix<T>> factors, int mode, const char* who) {
    const int N = static_cast<int>(shape.size());
    const std::string w(who);
    if (N == 0) throw invalid_argument(w + ": the tensor has no modes");
    if (mode < 0 || mode >= N)
        throw invalid_argument(w + ": mode " + std::to_string(mode) + " outside [0, " + std::to_string(N) +
                               ") for a tensor of order " + std::to_string(N));
    if (static_cast<int>(factors.size()) != N)
        throw invalid_argument(w + ": " + std::to_string(factors.size()) + " factors given for a tensor of order " +
                               std::to_string(N));
    index_t R = -1;
    int first = -1;
    for (int n = 0; n < N; ++n) {
        if (n == mode) continue;
        const auto& A = factors[static_cast<std::size_t>(n)];
        if (A.rows() != shape[static_cast<std::size_t>(n)])
            throw invalid_argument(w + ": factor " + std::to_string(n) + " has " + std::to_string(A.rows()) +
                                   " rows but mode " + std::to_string(n) + " of the tensor has size " +
                                   std::to_string(shape[static_cast<std::size_t>(n)]));
        if (R < 0) {
            R = A.cols();
            first = n;
        } else if (A.cols() != R) {
            throw invalid_argument(w + ": factor " + std::to_string(n) + " has " + std::to_string(A.cols()) +
                                   " columns but factor " + std::to_string(first) + " has " + std::to_string(R) +
                                   " (all factors need the same rank)");
        }
    }
    // Order 1: no other factor; the rank is that of the (unread) factor of the mode.
    return R < 0 ? factors[static_cast<std::size_t>(mode)].cols() : R;
}

// ---------------------------------------------------------------------------------------------
// Dense

void gemm_rm(bool ta, index_t m, index_t n, index_t k, const double* A, index_t lda, const double* B, double* C) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, static_cast<blasint>(m),
                static_cast<blasint>(n), static_cast<blasint>(k), 1.0, A, static_cast<blasint>(std::max<index_t>(lda, 1)),
                B, static_cast<blasint>(std::max<index_t>(n, 1)), 0.0, C, static_cast<blasint>(std::max<index_t>(n, 1)));
}
void gemm_rm(bool ta, index_t m, index_t n, index_t k, const float* A, index_t lda, const float* B, float* C) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, static_cast<blasint>(m),
                static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, A, static_cast<blasint>(std::max<index_t>(lda, 1)),
                B, static_cast<blasint>(std::max<index_t>(n, 1)), 0.0f, C, static_cast<blasint>(std::max<index_t>(n, 1)));
}

// C (m x R) = A * B or A^T * B (A huge, B thin): the register-tiled kernel, or BLAS for wide R.
template <class T>
void thin_gemm(bool ta, index_t m, index_t R, index_t k, const T* A, index_t lda, const T* B, T* C) {
    if (R <= detail::skinny_max_cols<T>)
        detail::skinny_gemm(ta, m, R, k, A, lda, B, C);
    else
        gemm_rm(ta, m, R, k, A, lda, B, C);
}

// Khatri-Rao product of factors [b, e) (a non-empty range) into `out`, rows as in khatri_rao().
// The scratch arrays of dense MTTKRP are kept per thread between calls: CP-ALS calls it with
// the same sizes every iteration, and fresh multi-megabyte arrays page-fault on every call.
template <class T>
const T* partial_kr(std::span<const basic_matrix<T>> factors, int b, int e, index_t R, std::vector<T>& out,
                    std::vector<T>& tmp) {
    const auto& F0 = factors[static_cast<std::size_t>(b)];
    out.assign(F0.data(), F0.data() + F0.size());
    index_t rows = F0.rows();
    for (int m = b + 1; m < e; ++m) {
        const auto& F = factors[static_cast<std::size_t>(m)];
        tmp.resize(static_cast<std::size_t>(rows * F.rows() * R));
        T* const t = tmp.data();  // thread_local: the team uses the pointers
        const T* const o0 = out.data();
#pragma omp parallel for schedule(static) if (detail::worth_parallel(rows * F.rows() * R))
        for (index_t i = 0; i < rows; ++i)
            for (index_t j = 0; j < F.rows(); ++j) {
                const T* x = o0 + i * R;
                const T* y = F.data() + j * R;
                T* o = t + (i * F.rows() + j) * R;
#pragma omp simd
                for (index_t r = 0; r < R; ++r) o[r] = x[r] * y[r];
            }
        out.swap(tmp);
        rows *= F.rows();
    }
    return out.data();
}

// out(j, r) = sum_p W(p, r) * P(p * stride_p + j * stride_j, r): the cheap second step that
// folds an intermediate product P against the other side's Khatri-Rao W. Each thread owns a
// block of rows j (no races, fixed sums); p runs outermost so that P is read in memory order
// when stride_j = 1.
template <class T>
void combine(const T* P, index_t np, index_t stride_p, index_t stride_j, const T* W, index_t J, index_t R, T* out) {
#pragma omp parallel if (detail::worth_parallel(np * J * R))
    {
        const index_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        const index_t per = (J + nt - 1) / nt;
        const index_t j0 = std::min(J, t * per), j1 = std::min(J, j0 + per);
        std::fill(out + j0 * R, out + j1 * R, T(0));
        for (index_t p = 0; p < np; ++p) {
            const T* w = W + p * R;
            for (index_t j = j0; j < j1; ++j) {
                const T* x = P + (p * stride_p + j * stride_j) * R;
                T* o = out + j * R;
#pragma omp simd
                for (index_t r = 0; r < R; ++r) o[r] += w[r] * x[r];
            }
        }
    }
}

template <class T>
void dense_mttkrp(basic_tensor_view<const T> X, std::span<const basic_matrix<T>> factors, int n, index_t R,
                  basic_matrix<T>& out) {
    const int N = X.order();
    const shape_t& s = X.shape();
    index_t L = 1, Rgt = 1;
    for (int m = 0; m < n; ++m) L *= s[static_cast<std::size_t>(m)];
    for (int m = n + 1; m < N; ++m) Rgt *= s[static_cast<std::size_t>(m)];
    const index_t J = s[static_cast<std::size_t>(n)];
    out.reshape_for_overwrite(J, R);
    if (J == 0 || R == 0) return;
    if (X.size() == 0) {
        out.fill(T(0));
        return;
    }
    if (N == 1) {  // the Khatri-Rao product of no factors is a row of ones
        for (index_t j = 0; j < J; ++j)
            for (index_t r = 0; r < R; ++r) out(j, r) = X.data()[j];
        return;
    }
    // X is L x J x Rgt in memory. Two-step partial products, choosing the side whose
    // intermediate is smaller; each step is one GEMM over the whole tensor (one pass, 2*size*R
    // flops) and one light pass over the intermediate.
    static thread_local std::vector<T> kr, tmp, P;
    if (n == 0 || (n < N - 1 && L <= Rgt)) {
        // P = X viewed as (L*J) x Rgt, times KR(right) (Rgt x R); then fold the left modes.
        const T* Kr = partial_kr(factors, n + 1, N, R, kr, tmp);
        if (L == 1) {
            thin_gemm(false, J, R, Rgt, X.data(), Rgt, Kr, out.data());
            return;
        }
        P.resize(static_cast<std::size_t>(L * J * R));
        thin_gemm(false, L * J, R, Rgt, X.data(), Rgt, Kr, P.data());
        const T* Kl = partial_kr(factors, 0, n, R, kr, tmp);
        combine(P.data(), L, J, 1, Kl, J, R, out.data());
    } else {
        // P = (X viewed as L x (J*Rgt))^T times KR(left) (L x R); then fold the right modes.
        const T* Kl = partial_kr(factors, 0, n, R, kr, tmp);
        if (Rgt == 1) {
            thin_gemm(true, J, R, L, X.data(), J, Kl, out.data());
            return;
        }
        P.resize(static_cast<std::size_t>(J * Rgt * R));
        thin_gemm(true, J * Rgt, R, L, X.data(), J * Rgt, Kl, P.data());
        const T* Kr = partial_kr(factors, n + 1, N, R, kr, tmp);
        combine(P.data(), Rgt, 1, Rgt, Kr, J, R, out.data());
    }
}

// ---------------------------------------------------------------------------------------------
// Sparse (CSF)

template <class T>
FACTO_INLINE void axpy(T* __restrict y, T a, const T* __restrict x, index_t R) {
#pragma omp simd
    for (index_t r = 0; r < R; ++r) y[r] += a * x[r];
}
template <class T>
FACTO_INLINE void fma_rows(T* __restrict y, const T* __restrict a, const T* __restrict b, index_t R) {
#pragma omp simd
    for (index_t r = 0; r < R; ++r) y[r] += a[r] * b[r];
}
template <class T>
FACTO_INLINE void mul_rows(T* __restrict y, const T* __restrict a, const T* __restrict b, index_t R) {
#pragma omp simd
    for (index_t r = 0; r < R; ++r) y[r] = a[r] * b[r];
}
template <class T>
FACTO_INLINE void zero_row(T* __restrict y, index_t R) {
#pragma omp simd
    for (index_t r = 0; r < R; ++r) y[r] = T(0);
}

// One CSF with the factor of each level, as raw arrays: level l's rows are A[l] + id * R.
template <class T>
struct csf_ctx {
    std::vector<const index_t*> ptr, ids;
    std::vector<const T*> A;
    const T* val = nullptr;
    index_t R = 0;
    int N = 0;
    index_t nodes1 = 0;  // nodes of level 1 (fibers, for order 3)

    csf_ctx(const basic_csf_tensor<T>& X, std::span<const basic_matrix<T>> factors, index_t rank)
        : val(X.values.data()), R(rank), N(X.order()) {
        for (int l = 0; l < N; ++l) {
            if (l + 1 < N) ptr.push_back(X.ptr[static_cast<std::size_t>(l)].data());
            ids.push_back(X.ids[static_cast<std::size_t>(l)].data());
            A.push_back(factors[static_cast<std::size_t>(X.mode_order[static_cast<std::size_t>(l)])].data());
        }
        if (N > 1) nodes1 = X.nodes(1);
    }
};

// acc += value of node f at level l >= 1: for a leaf, val * A_leaf(id); for an inner node,
// A_l(id) .* (sum of the children's values). buf holds one scratch row per level.
template <class T>
FACTO_CLONES void add_node(const csf_ctx<T>& c, int l, index_t f, T* acc, T* buf) {
    const index_t R = c.R;
    const int N = c.N;
    const index_t* id = c.ids[static_cast<std::size_t>(l)];
    if (l == N - 1) {
        axpy(acc, c.val[f], c.A[static_cast<std::size_t>(l)] + id[f] * R, R);
        return;
    }
    T* t = buf + l * R;
    zero_row(t, R);
    const index_t* p = c.ptr[static_cast<std::size_t>(l)];
    if (l == N - 2) {  // a fiber: leaves directly
        const index_t* leaf = c.ids[static_cast<std::size_t>(N - 1)];
        const T* C = c.A[static_cast<std::size_t>(N - 1)];
        for (index_t k = p[f]; k < p[f + 1]; ++k) axpy(t, c.val[k], C + leaf[k] * R, R);
    } else {
        for (index_t ch = p[f]; ch < p[f + 1]; ++ch) add_node(c, l + 1, ch, t, buf);
    }
    fma_rows(acc, c.A[static_cast<std::size_t>(l)] + id[f] * R, t, R);
}

// Order 3, output at the root: root i -> fiber j -> leaf k, without recursion. RC is R when it
// is one of the common ranks (loops of constant length, no remainder code), else 0.
// Rows of the fiber PD ahead are prefetched: the factor rows are gathered at random.
constexpr index_t prefetch_distance = 8;

template <class T>
FACTO_INLINE void prefetch_row(const T* x, index_t R) {
    for (index_t b = 0; b < std::min<index_t>(R * static_cast<index_t>(sizeof(T)), 256); b += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(x) + b);
}

template <class T, int RC>
FACTO_CLONES void root3(const csf_ctx<T>& c, T* out, index_t ib, index_t ie, T* t) {
    const index_t R = RC ? RC : c.R;
    const index_t *rid = c.ids[0], *p0 = c.ptr[0], *p1 = c.ptr[1], *fid = c.ids[1], *kid = c.ids[2];
    const T *B = c.A[1], *C = c.A[2], *val = c.val;
    const index_t nf = c.nodes1;
    for (index_t i = ib; i < ie; ++i) {
        T* o = out + rid[i] * R;
        for (index_t f = p0[i]; f < p0[i + 1]; ++f) {
            if (f + prefetch_distance < nf) {
                prefetch_row(B + fid[f + prefetch_distance] * R, R);
                prefetch_row(C + kid[p1[f + prefetch_distance]] * R, R);
            }
            const index_t kb = p1[f], ke = p1[f + 1];
            const T* b = B + fid[f] * R;
            if (ke - kb == 1) {  // a fiber of one nonzero: no scratch row
                const T v = val[kb];
                const T* x = C + kid[kb] * R;
#pragma omp simd
                for (index_t r = 0; r < R; ++r) o[r] += v * b[r] * x[r];
                continue;
            }
            zero_row(t, R);
            for (index_t k = kb; k < ke; ++k) axpy(t, val[k], C + kid[k] * R, R);
            fma_rows(o, b, t, R);
        }
    }
}

// Order 3, output at level d = 1 (internal: out(j) += A(i) .* sum_k val * C(k)) or d = 2
// (leaf: out(k) += val * (A(i) .* B(j))), into a thread's copy of the output.
template <class T, int RC>
FACTO_CLONES void nonroot3(const csf_ctx<T>& c, int d, T* out, index_t ib, index_t ie, T* buf) {
    const index_t R = RC ? RC : c.R;
    const index_t *rid = c.ids[0], *p0 = c.ptr[0], *p1 = c.ptr[1], *fid = c.ids[1], *kid = c.ids[2];
    const T *A0 = c.A[0], *B = c.A[1], *C = c.A[2], *val = c.val;
    const index_t nf = c.nodes1;
    for (index_t i = ib; i < ie; ++i) {
        const T* a = A0 + rid[i] * R;
        for (index_t f = p0[i]; f < p0[i + 1]; ++f) {
            const index_t kb = p1[f], ke = p1[f + 1];
            if (f + prefetch_distance < nf) {
                const index_t g = f + prefetch_distance;
                prefetch_row((d == 1 ? out : B) + fid[g] * R, R);
                prefetch_row((d == 1 ? C : out) + kid[p1[g]] * R, R);
            }
            if (d == 1) {
                T* o = out + fid[f] * R;
                if (ke - kb == 1) {
                    const T v = val[kb];
                    const T* x = C + kid[kb] * R;
#pragma omp simd
                    for (index_t r = 0; r < R; ++r) o[r] += v * a[r] * x[r];
                    continue;
                }
                zero_row(buf, R);
                for (index_t k = kb; k < ke; ++k) axpy(buf, val[k], C + kid[k] * R, R);
                fma_rows(o, a, buf, R);
            } else {
                mul_rows(buf, a, B + fid[f] * R, R);
                for (index_t k = kb; k < ke; ++k) axpy(out + kid[k] * R, val[k], buf, R);
            }
        }
    }
}

// Output mode at the root, root slices [ib, ie): out(id_i, :) = sum of the children's values.
template <class T>
FACTO_CLONES void root_slices(const csf_ctx<T>& c, T* out, index_t ib, index_t ie, T* buf) {
    const index_t R = c.R;
    const index_t* rid = c.ids[0];
    if (c.N == 1) {  // the Khatri-Rao product of no factors is a row of ones
        for (index_t i = ib; i < ie; ++i)
            for (index_t r = 0; r < R; ++r) out[rid[i] * R + r] = c.val[i];
        return;
    }
    const index_t* p0 = c.ptr[0];
    for (index_t i = ib; i < ie; ++i) {
        T* o = out + rid[i] * R;
        for (index_t f = p0[i]; f < p0[i + 1]; ++f) add_node(c, 1, f, o, buf);
    }
}

// Output mode at level d > 0, below node f of level l: pre + (l-1)*R holds the product of the
// factor rows on the path from the root; at level d, out(id, :) += that .* (subtree value).
template <class T>
FACTO_CLONES void below(const csf_ctx<T>& c, int l, index_t f, int d, T* out, T* pre, T* buf) {
    const index_t R = c.R;
    const index_t* id = c.ids[static_cast<std::size_t>(l)];
    if (l == d) {
        T* o = out + id[f] * R;
        const T* up = pre + (d - 1) * R;
        if (d == c.N - 1) {
            axpy(o, c.val[f], up, R);
            return;
        }
        T* t = buf + d * R;
        zero_row(t, R);
        const index_t* p = c.ptr[static_cast<std::size_t>(d)];
        for (index_t ch = p[f]; ch < p[f + 1]; ++ch) add_node(c, d + 1, ch, t, buf);
        fma_rows(o, up, t, R);
        return;
    }
    mul_rows(pre + l * R, pre + (l - 1) * R, c.A[static_cast<std::size_t>(l)] + id[f] * R, R);
    const index_t* p = c.ptr[static_cast<std::size_t>(l)];
    for (index_t ch = p[f]; ch < p[f + 1]; ++ch) below(c, l + 1, ch, d, out, pre, buf);
}

// Output mode at level d > 0, root slices [ib, ie), adding into `out` (a thread's copy).
template <class T>
FACTO_CLONES void nonroot_slices(const csf_ctx<T>& c, int d, T* out, index_t ib, index_t ie, T* pre, T* buf) {
    const index_t R = c.R;
    const index_t *rid = c.ids[0], *p0 = c.ptr[0];
    const T* A0 = c.A[0];
    for (index_t i = ib; i < ie; ++i) {
        std::copy(A0 + rid[i] * R, A0 + rid[i] * R + R, pre);
        for (index_t f = p0[i]; f < p0[i + 1]; ++f) below(c, 1, f, d, out, pre, buf);
    }
}

// Order 3 goes to the specialized kernels, with the rank fixed at compile time when common.
template <class T>
void root_dispatch(const csf_ctx<T>& c, T* out, index_t ib, index_t ie, T* buf) {
    if (c.N != 3) return root_slices(c, out, ib, ie, buf);
    switch (c.R) {
        case 8: return root3<T, 8>(c, out, ib, ie, buf);
        case 16: return root3<T, 16>(c, out, ib, ie, buf);
        case 32: return root3<T, 32>(c, out, ib, ie, buf);
        case 64: return root3<T, 64>(c, out, ib, ie, buf);
        default: return root3<T, 0>(c, out, ib, ie, buf);
    }
}
template <class T>
void nonroot_dispatch(const csf_ctx<T>& c, int d, T* out, index_t ib, index_t ie, T* pre, T* buf) {
    if (c.N != 3) return nonroot_slices(c, d, out, ib, ie, pre, buf);
    switch (c.R) {
        case 8: return nonroot3<T, 8>(c, d, out, ib, ie, buf);
        case 16: return nonroot3<T, 16>(c, d, out, ib, ie, buf);
        case 32: return nonroot3<T, 32>(c, d, out, ib, ie, buf);
        case 64: return nonroot3<T, 64>(c, d, out, ib, ie, buf);
        default: return nonroot3<T, 0>(c, d, out, ib, ie, buf);
    }
}

// Root mode: root ids are distinct, so each output row is written by one thread; slices are
// dealt dynamically in chunks. Race-free, and each row's sum order is fixed: deterministic.
template <class T>
void mttkrp_root(const csf_ctx<T>& c, index_t nroot, index_t nnz, T* out) {
    constexpr index_t chunk = 16;
    const index_t nchunks = (nroot + chunk - 1) / chunk;
#pragma omp parallel if (detail::worth_parallel(nnz * c.R))
    {
        std::vector<T> buf(static_cast<std::size_t>(c.N * c.R));
#pragma omp for schedule(dynamic, 1)
        for (index_t ch = 0; ch < nchunks; ++ch)
            root_dispatch(c, out, ch * chunk, std::min(nroot, (ch + 1) * chunk), buf.data());
    }
}

// Mode at level d > 0: rows are shared between root slices, so each thread adds into its own
// copy of the output (thread 0 into `out`), over a fixed set of slices: contiguous chunks
// balanced by nonzeros, dealt round-robin (static schedule). The copies are then summed in
// thread order. Deterministic for a fixed thread count.
template <class T>
void mttkrp_nonroot(const csf_ctx<T>& c, const basic_csf_tensor<T>& X, int d, index_t rows, T* out) {
    const index_t nroot = X.nodes(0), R = c.R, nnz = X.nnz();
    const int nt = omp_get_max_threads();
    // First leaf under each root slice (and nnz at the end), following first children down.
    std::vector<index_t> leaf_start(static_cast<std::size_t>(nroot) + 1);
    for (index_t i = 0; i <= nroot; ++i) {
        index_t f = i;
        for (int l = 0; l < c.N - 1; ++l) f = c.ptr[static_cast<std::size_t>(l)][f];
        leaf_start[static_cast<std::size_t>(i)] = f;
    }
    const index_t nchunks = std::max<index_t>(1, std::min<index_t>(nroot, 16 * static_cast<index_t>(nt)));
    std::vector<index_t> bound(static_cast<std::size_t>(nchunks) + 1, nroot);
    bound[0] = 0;
    for (index_t ch = 1; ch < nchunks; ++ch) {
        const auto it = std::lower_bound(leaf_start.begin(), leaf_start.end(), nnz * ch / nchunks);
        bound[static_cast<std::size_t>(ch)] =
            std::max(static_cast<index_t>(it - leaf_start.begin()), bound[static_cast<std::size_t>(ch - 1)]);
    }
    const std::size_t size = static_cast<std::size_t>(rows * R);
    // Kept per calling thread between calls (the same sizes every CP-ALS iteration): fresh
    // multi-megabyte arrays would page-fault on every call. Threads of the team use the pointer.
    static thread_local std::vector<T> scratch;
    scratch.assign(static_cast<std::size_t>(std::max(nt - 1, 0)) * size, T(0));
    T* const copies = scratch.data();
#pragma omp parallel num_threads(nt) if (detail::worth_parallel(nnz * R))
    {
        const int tid = omp_get_thread_num();
        T* priv = tid == 0 ? out : copies + static_cast<std::size_t>(tid - 1) * size;
        std::vector<T> pre(static_cast<std::size_t>(c.N * R)), buf(static_cast<std::size_t>(c.N * R));
#pragma omp for schedule(static, 1)
        for (index_t ch = 0; ch < nchunks; ++ch)
            nonroot_dispatch(c, d, priv, bound[static_cast<std::size_t>(ch)], bound[static_cast<std::size_t>(ch + 1)],
                             pre.data(), buf.data());
        // Implicit barrier above; now sum the copies, rows split across threads.
        const int team = omp_get_num_threads();
#pragma omp for schedule(static)
        for (index_t row = 0; row < rows; ++row) {
            T* o = out + row * R;
            for (int t = 1; t < team; ++t) {
                const T* cp = copies + static_cast<std::size_t>(t - 1) * size + static_cast<std::size_t>(row * R);
#pragma omp simd
                for (index_t r = 0; r < R; ++r) o[r] += cp[r];
            }
        }
    }
}

}  // namespace

template <class T>
void mttkrp(basic_tensor_view<const T> X, std::span<const basic_matrix<T>> factors, int mode, basic_matrix<T>& out) {
    const index_t R = check_factors(X.shape(), factors, mode, "mttkrp");
    dense_mttkrp(X, factors, mode, R, out);
}

template <class T>
void mttkrp(const basic_csf_set<T>& X, std::span<const basic_matrix<T>> factors, int mode, basic_matrix<T>& out) {
    const index_t R = check_factors(X.shape, factors, mode, "mttkrp");
    const std::size_t want = X.policy == csf_policy::all ? static_cast<std::size_t>(X.order()) : 1;
    if (X.csfs.size() != want)
        throw invalid_argument("mttkrp: the CSF set holds " + std::to_string(X.csfs.size()) + " trees but policy " +
                               (X.policy == csf_policy::all ? "all" : "one") + " needs " + std::to_string(want) +
                               " (build it with make_csf_set)");
    const basic_csf_tensor<T>& csf = X.policy == csf_policy::all ? X.csfs[static_cast<std::size_t>(mode)] : X.csfs[0];
    if (csf.shape != X.shape || static_cast<int>(csf.ids.size()) != X.order() ||
        static_cast<int>(csf.mode_order.size()) != X.order())
        throw invalid_argument("mttkrp: malformed CSF set (tree shape " + shape_string(csf.shape) + ", set shape " +
                               shape_string(X.shape) + ")");
    const index_t rows = X.shape[static_cast<std::size_t>(mode)];
    out.resize(rows, R);  // zeros
    if (R == 0 || csf.nnz() == 0) return;
    const csf_ctx<T> ctx(csf, factors, R);
    const int d = static_cast<int>(std::find(csf.mode_order.begin(), csf.mode_order.end(), mode) - csf.mode_order.begin());
    if (d == 0)
        mttkrp_root(ctx, csf.nodes(0), csf.nnz(), out.data());
    else
        mttkrp_nonroot(ctx, csf, d, rows, out.data());
}

template <class T>
void mttkrp_reference(basic_tensor_view<const T> X, std::span<const basic_matrix<T>> factors, int mode,
                      basic_matrix<T>& out) {
    const index_t R = check_factors(X.shape(), factors, mode, "mttkrp_reference");
    const int N = X.order();
    const shape_t& s = X.shape();
    out.resize(X.dim(mode), R);
    std::vector<index_t> c(static_cast<std::size_t>(N), 0);
    for (index_t e = 0; e < X.size(); ++e) {
        for (index_t r = 0; r < R; ++r) {
            T p = X.data()[e];
            for (int n = 0; n < N; ++n)
                if (n != mode) p *= factors[static_cast<std::size_t>(n)](c[static_cast<std::size_t>(n)], r);
            out(c[static_cast<std::size_t>(mode)], r) += p;
        }
        for (int m = N - 1; m >= 0; --m) {
            if (++c[static_cast<std::size_t>(m)] < s[static_cast<std::size_t>(m)]) break;
            c[static_cast<std::size_t>(m)] = 0;
        }
    }
}

template <class T>
void mttkrp_reference(const basic_coo_tensor<T>& X, std::span<const basic_matrix<T>> factors, int mode,
                      basic_matrix<T>& out) {
    X.validate("mttkrp_reference");
    const index_t R = check_factors(X.shape, factors, mode, "mttkrp_reference");
    out.resize(X.dim(mode), R);
    for (index_t k = 0; k < X.nnz(); ++k)
        for (index_t r = 0; r < R; ++r) {
            T p = X.values[static_cast<std::size_t>(k)];
            for (int n = 0; n < X.order(); ++n)
                if (n != mode)
                    p *= factors[static_cast<std::size_t>(n)](X.indices[static_cast<std::size_t>(n)][static_cast<std::size_t>(k)], r);
            out(X.indices[static_cast<std::size_t>(mode)][static_cast<std::size_t>(k)], r) += p;
        }
}

template <class T>
double inner(basic_tensor_view<const T> X, const basic_kruskal_tensor<T>& M) {
    M.validate("inner");
    if (M.shape() != X.shape())
        throw invalid_argument("inner: model has shape " + shape_string(M.shape()) + " but the tensor has shape " +
                               shape_string(X.shape()));
    // <X, M> = sum_r w_r sum_i A_last(i, r) * MTTKRP_last(i, r): one fast MTTKRP.
    const int last = X.order() - 1;
    basic_matrix<T> G;
    mttkrp(X, std::span<const basic_matrix<T>>(M.factors), last, G);
    const auto& A = M.factors[static_cast<std::size_t>(last)];
    double s = 0;
    for (index_t r = 0; r < M.rank(); ++r) {
        double col = 0;
        for (index_t i = 0; i < A.rows(); ++i) col += static_cast<double>(A(i, r)) * G(i, r);
        s += static_cast<double>(M.weights[static_cast<std::size_t>(r)]) * col;
    }
    return s;
}

template <class T>
double inner(const basic_coo_tensor<T>& X, const basic_kruskal_tensor<T>& M) {
    X.validate("inner");
    M.validate("inner");
    if (M.shape() != X.shape)
        throw invalid_argument("inner: model has shape " + shape_string(M.shape()) + " but the tensor has shape " +
                               shape_string(X.shape));
    const index_t n = X.nnz(), R = M.rank();
    const int N = X.order();
    // Fixed chunks summed in order: the same result for any thread count.
    constexpr index_t chunk = 1 << 14;
    const index_t nchunks = (n + chunk - 1) / chunk;
    std::vector<double> part(static_cast<std::size_t>(nchunks));
#pragma omp parallel if (nchunks > 1)
    {
        std::vector<double> row(static_cast<std::size_t>(R));
#pragma omp for schedule(static)
        for (index_t c = 0; c < nchunks; ++c) {
            double s = 0;
            for (index_t k = c * chunk; k < std::min(n, (c + 1) * chunk); ++k) {
                for (index_t r = 0; r < R; ++r) row[static_cast<std::size_t>(r)] = M.weights[static_cast<std::size_t>(r)];
                for (int m = 0; m < N; ++m) {
                    const T* a = M.factors[static_cast<std::size_t>(m)].data() +
                                 X.indices[static_cast<std::size_t>(m)][static_cast<std::size_t>(k)] * R;
                    for (index_t r = 0; r < R; ++r) row[static_cast<std::size_t>(r)] *= a[r];
                }
                double v = 0;
                for (index_t r = 0; r < R; ++r) v += row[static_cast<std::size_t>(r)];
                s += static_cast<double>(X.values[static_cast<std::size_t>(k)]) * v;
            }
            part[static_cast<std::size_t>(c)] = s;
        }
    }
    double s = 0;
    for (double p : part) s += p;
    return s;
}

template <class T>
double norm_sq(const basic_kruskal_tensor<T>& M) {
    M.validate("norm_sq");
    const index_t R = M.rank();
    basic_matrix<T> H(R, R, T(1));
    for (const auto& A : M.factors) hadamard_inplace(H, gram(A));
    double s = 0;
    for (index_t a = 0; a < R; ++a)
        for (index_t b = 0; b < R; ++b)
            s += static_cast<double>(M.weights[static_cast<std::size_t>(a)]) * H(a, b) * M.weights[static_cast<std::size_t>(b)];
    return s;
}

#define FACTO_INSTANTIATE_MTTKRP(T)                                                                               \
    template void mttkrp(basic_tensor_view<const T>, std::span<const basic_matrix<T>>, int, basic_matrix<T>&);    \
    template void mttkrp(const basic_csf_set<T>&, std::span<const basic_matrix<T>>, int, basic_matrix<T>&);       \
    template void mttkrp_reference(basic_tensor_view<const T>, std::span<const basic_matrix<T>>, int,             \
                                   basic_matrix<T>&);                                                             \
    template void mttkrp_reference(const basic_coo_tensor<T>&, std::span<const basic_matrix<T>>, int,             \
                                   basic_matrix<T>&);                                                             \
    template double inner(basic_tensor_view<const T>, const basic_kruskal_tensor<T>&);                            \
    template double inner(const basic_coo_tensor<T>&, const basic_kruskal_tensor<T>&);                            \
    template double norm_sq(const basic_kruskal_tensor<T>&);

FACTO_INSTANTIATE_MTTKRP(double)
FACTO_INSTANTIATE_MTTKRP(float)

}  // namespace facto
