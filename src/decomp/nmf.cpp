// nmf.cpp: NMF entry points, checks, initialization (NNDSVD, random) and the unweighted
// Frobenius methods (fast HALS, MU, ANLS), which only ever touch X through X H^T and X^T W.
#include "facto/decomp/nmf.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <type_traits>

#include "core/huge_pages.hpp"
#include "core/parallel.hpp"
#include "decomp/nmf_detail.hpp"
#include "facto/core/error.hpp"
#include "facto/decomp/svd.hpp"
#include "ops/blas_lapack.hpp"
#include "ops/clones.hpp"
#include "ops/skinny_gemm.hpp"

namespace facto {

namespace {

using detail::nmf_clock;
using detail::nmf_observed;

using detail::thread_scope;

std::string dims(index_t m, index_t n) { return std::to_string(m) + "x" + std::to_string(n); }

void check_options(const char* who, const nmf_options& o, index_t m, index_t n) {
    const std::string w = who;
    if (o.rank < 1) throw invalid_argument(w + ": rank must be >= 1, got " + std::to_string(o.rank));
    if (m < 1 || n < 1) throw invalid_argument(w + ": the matrix is " + dims(m, n) + ", expected at least 1x1");
    if (o.max_iters < 1) throw invalid_argument(w + ": max_iters must be >= 1, got " + std::to_string(o.max_iters));
    if (!(o.tol >= 0)) throw invalid_argument(w + ": tol must be >= 0, got " + std::to_string(o.tol));
    if (o.threads < 0) throw invalid_argument(w + ": threads must be >= 0, got " + std::to_string(o.threads));
    if (o.compute_error_every < 1)
        throw invalid_argument(w + ": compute_error_every must be >= 1, got " + std::to_string(o.compute_error_every));
    if (o.inner_iters < 0)
        throw invalid_argument(w + ": inner_iters must be >= 0 (0: automatic), got " + std::to_string(o.inner_iters));
    const std::pair<const char*, double> penalties[] = {
        {"l1_W", o.l1_W}, {"l1_H", o.l1_H}, {"l2_W", o.l2_W}, {"l2_H", o.l2_H}};
    for (const auto& [name, v] : penalties)
        if (!(v >= 0) || !std::isfinite(v))
            throw invalid_argument(w + ": " + name + " must be a finite number >= 0, got " + std::to_string(v));
    if (o.loss == nmf_loss::kullback_leibler && o.method != nmf_method::mu)
        throw invalid_argument(w + ": the Kullback-Leibler loss needs method mu (multiplicative updates)");
    if ((o.init == nmf_init::nndsvd || o.init == nmf_init::nndsvda) && o.rank > std::min(m, n))
        throw invalid_argument(w + ": NNDSVD initialization needs rank <= min(m, n) = " +
                               std::to_string(std::min(m, n)) + ", got rank " + std::to_string(o.rank) +
                               "; use init random");
    if (o.init == nmf_init::given) {
        if (!o.initial_W || !o.initial_H)
            throw invalid_argument(w + ": init is nmf_init::given but initial_W or initial_H is empty");
        const matrix& W = *o.initial_W;
        const matrix& H = *o.initial_H;
        if (W.rows() != m || W.cols() != o.rank)
            throw invalid_argument(w + ": initial_W is " + dims(W.rows(), W.cols()) + ", expected " + dims(m, o.rank));
        if (H.rows() != o.rank || H.cols() != n)
            throw invalid_argument(w + ": initial_H is " + dims(H.rows(), H.cols()) + ", expected " + dims(o.rank, n));
        for (const matrix* F : {&W, &H})
            for (double v : F->values())
                if (!(v >= 0) || !std::isfinite(v))
                    throw invalid_argument(w + ": initial_" + (F == &W ? "W" : "H") +
                                           " holds a negative, NaN or infinite value (" + std::to_string(v) + ")");
    }
}

[[noreturn]] void bad_entry(const char* who, double v, index_t i, index_t j) {
    throw invalid_argument(std::string(who) + ": X holds " + std::to_string(v) + " at row " + std::to_string(i) +
                           ", column " + std::to_string(j) + " (0-based); NMF needs finite entries >= 0");
}

template <class T>
void check_values(const char* who, const basic_matrix<T>& X) {
    const T* x = X.data();
    for (index_t p = 0; p < X.size(); ++p)
        if (!(x[p] >= 0) || !std::isfinite(x[p])) bad_entry(who, static_cast<double>(x[p]), p / X.cols(), p % X.cols());
}

template <class T>
void check_values(const char* who, const basic_csr_matrix<T>& X) {
    for (index_t i = 0; i < X.rows; ++i)
        for (index_t p = X.row_ptr[static_cast<std::size_t>(i)]; p < X.row_ptr[static_cast<std::size_t>(i + 1)]; ++p) {
            const T v = X.values[static_cast<std::size_t>(p)];
            if (!(v >= 0) || !std::isfinite(v)) bad_entry(who, static_cast<double>(v), i, X.col_idx[static_cast<std::size_t>(p)]);
        }
}

void check_nonzero(const char* who, double norm_sq) {
    if (norm_sq == 0)
        throw invalid_argument(std::string(who) + ": the (observed part of the) matrix is all zero, so the relative "
                                                  "error is undefined");
}

// ------------------------------------------------------------------ products with X

/// Y (rows x k) = A B for a dense row-major A (rows x cols) and a thin B (cols x k): the
/// thin-GEMM kernel (one pass over A), BLAS for wide B.
template <class T>
void dense_times(const basic_matrix<T>& A, const basic_matrix<T>& B, basic_matrix<T>& Y) {
    const index_t rows = A.rows(), cols = A.cols(), k = B.cols();
    Y.reshape_for_overwrite(rows, k);
    if (k <= detail::skinny_max_cols<T>) detail::skinny_gemm(false, rows, k, cols, A.data(), cols, B.data(), Y.data());
    else detail::gemm(false, false, rows, k, cols, T(1), A.data(), cols, B.data(), k, T(0), Y.data(), k);
}

/// Entries of X at or below which a transposed copy is kept (2 GiB of doubles).
constexpr index_t transpose_copy_limit = index_t{1} << 28;

/// Dense X: P = X Ht and Q = X^T W. X^T W streams a transposed copy of X when X is not huge:
/// the thin kernel over rows runs about 3x faster than over columns.
template <class T>
struct dense_products {
    const basic_matrix<T>& X;
    basic_matrix<T> Xt;  ///< X^T, or empty above transpose_copy_limit
    explicit dense_products(const basic_matrix<T>& x) : X(x) {
        if (X.size() > transpose_copy_limit) return;
        const index_t m = X.rows(), n = X.cols();
        detail::reserve_huge(Xt.values(), static_cast<std::size_t>(n * m));  // page faults cost more than the copy
        Xt.resize(n, m);
        constexpr index_t tile = 64;
#pragma omp parallel for schedule(static) if (detail::worth_parallel(X.size()))
        for (index_t j0 = 0; j0 < n; j0 += tile)
            for (index_t i0 = 0; i0 < m; i0 += tile)
                for (index_t j = j0; j < std::min(n, j0 + tile); ++j)
                    for (index_t i = i0; i < std::min(m, i0 + tile); ++i) Xt(j, i) = X(i, j);
    }
    double entries() const { return static_cast<double>(X.size()); }
    void times(const basic_matrix<T>& Ht, basic_matrix<T>& P) const { dense_times(X, Ht, P); }
    void trans_times(const basic_matrix<T>& W, basic_matrix<T>& Q) const {
        if (!Xt.empty()) return dense_times(Xt, W, Q);
        const index_t m = X.rows(), n = X.cols(), k = W.cols();
        Q.reshape_for_overwrite(n, k);
        if (k <= detail::skinny_max_cols<T>) detail::skinny_gemm(true, n, k, m, X.data(), n, W.data(), Q.data());
        else detail::gemm(true, false, n, k, m, T(1), X.data(), n, W.data(), k, T(0), Q.data(), k);
    }
};

template <class T>
FACTO_CLONES void csr_row_times(const index_t* ptr, const index_t* col, const T* val, index_t i, const T* B, index_t k,
                                T* y) {
    std::fill(y, y + k, T(0));
    for (index_t p = ptr[i]; p < ptr[i + 1]; ++p) {
        const T a = val[p];
        const T* b = B + col[p] * k;
#pragma omp simd
        for (index_t r = 0; r < k; ++r) y[r] += a * b[r];
    }
}

/// Rows [i0, i1) of A B with B's rows padded to KP (a compile-time width): the accumulator stays
/// in vector registers and every nonzero is KP/lanes full-width FMAs.
template <class T, int KP>
FACTO_CLONES void csr_rows_times_padded(const index_t* ptr, const index_t* col, const T* val, index_t i0, index_t i1,
                                        const T* Bp, index_t k, T* Y) {
    for (index_t i = i0; i < i1; ++i) {
        T acc[KP] = {};
        for (index_t p = ptr[i]; p < ptr[i + 1]; ++p) {
            const T a = val[p];
            const T* b = Bp + col[p] * KP;
#pragma omp simd
            for (int r = 0; r < KP; ++r) acc[r] += a * b[r];
        }
        std::copy(acc, acc + k, Y + i * k);
    }
}

template <class T, int KP>
void csr_times_padded(const basic_csr_matrix<T>& A, const basic_matrix<T>& B, basic_matrix<T>& Y, index_t chunk) {
    const index_t k = B.cols();
    static thread_local std::vector<T> Bp;  // kept between calls: same size every iteration
    Bp.assign(static_cast<std::size_t>(B.rows() * KP), T(0));
    for (index_t j = 0; j < B.rows(); ++j) std::copy(B.data() + j * k, B.data() + (j + 1) * k, Bp.data() + j * KP);
    const T* bp = Bp.data();
    const index_t chunks = (A.rows + chunk - 1) / chunk;
#pragma omp parallel for schedule(dynamic, 1) if (detail::worth_parallel(A.nnz() * k))
    for (index_t c = 0; c < chunks; ++c)
        csr_rows_times_padded<T, KP>(A.row_ptr.data(), A.col_idx.data(), A.values.data(), c * chunk,
                                     std::min(A.rows, (c + 1) * chunk), bp, k, Y.data());
}

/// Y = A B for CSR A, rows in parallel. (ops' spmm validates A on every call; the NMF loop
/// validated it once.)
template <class T>
void csr_times(const basic_csr_matrix<T>& A, const basic_matrix<T>& B, basic_matrix<T>& Y) {
    const index_t k = B.cols();
    Y.reshape_for_overwrite(A.rows, k);
    // Small chunks: a few hundred rows of very different lengths (documents) must still balance.
    const index_t chunk = std::max<index_t>(1, A.rows / 256);
    switch ((k + 7) / 8) {
        case 1: return csr_times_padded<T, 8>(A, B, Y, chunk);
        case 2: return csr_times_padded<T, 16>(A, B, Y, chunk);
        case 3: return csr_times_padded<T, 24>(A, B, Y, chunk);
        case 4: return csr_times_padded<T, 32>(A, B, Y, chunk);
        default: break;
    }
#pragma omp parallel for schedule(dynamic, chunk) if (detail::worth_parallel(A.nnz() * k))
    for (index_t i = 0; i < A.rows; ++i)
        csr_row_times(A.row_ptr.data(), A.col_idx.data(), A.values.data(), i, B.data(), k, Y.data() + i * k);
}

/// Sparse X: products on X's rows and on the rows of X^T (built once).
template <class T>
struct sparse_products {
    const basic_csr_matrix<T>& X;
    basic_csr_matrix<T> Xt;
    double entries() const { return static_cast<double>(X.nnz()); }
    void times(const basic_matrix<T>& Ht, basic_matrix<T>& P) const { csr_times(X, Ht, P); }
    void trans_times(const basic_matrix<T>& W, basic_matrix<T>& Q) const { csr_times(Xt, W, Q); }
};

// ------------------------------------------------------------------ factor updates

/// Upper triangle of sum over rows [r0, r1) of a a^T, into G (k x k, zeroed here).
template <class T>
FACTO_CLONES void gram_rows(const T* A, index_t r0, index_t r1, index_t k, T* G) {
    std::fill(G, G + k * k, T(0));
    for (index_t i = r0; i < r1; ++i) {
        const T* a = A + i * k;
        for (index_t r = 0; r < k; ++r) {
            const T ar = a[r];
            T* g = G + r * k;
#pragma omp simd
            for (index_t s = r; s < k; ++s) g[s] += ar * a[s];
        }
    }
}

/// G = A^T A (k x k, both triangles), with OpenMP rather than BLAS: OpenBLAS's own threads
/// spin after a call and would compete with the OpenMP team of the next product. Fixed blocks of
/// rows summed in order: the same bits for any thread count.
template <class T>
void gram_into(const basic_matrix<T>& A, basic_matrix<T>& G) {
    const index_t rows = A.rows(), k = A.cols();
    constexpr index_t block = 512;
    const index_t blocks = std::max<index_t>(1, (rows + block - 1) / block);
    std::vector<T> partial(static_cast<std::size_t>(blocks * k * k));
#pragma omp parallel for schedule(static) if (detail::worth_parallel(rows * k * k))
    for (index_t b = 0; b < blocks; ++b)
        gram_rows(A.data(), b * block, std::min(rows, (b + 1) * block), k, partial.data() + b * k * k);
    G.reshape_for_overwrite(k, k);
    std::copy(partial.begin(), partial.begin() + k * k, G.data());
    for (index_t b = 1; b < blocks; ++b)
        for (index_t p = 0; p < k * k; ++p) G.data()[p] += partial[static_cast<std::size_t>(b * k * k + p)];
    for (index_t r = 0; r < k; ++r)
        for (index_t s = 0; s < r; ++s) G(r, s) = G(s, r);
}

/// Rows of a factor updated together by HALS: the coordinate steps of 8 rows are independent,
/// so they run as SIMD lanes on a transposed copy (several vectors: independent FMA chains).
constexpr index_t hals_block_rows = 32;

/// HALS on up to hals_block_rows rows of a factor (rows x k at A, their products at P): coordinate descent
/// on 1/2 a^T G a - p^T a + l1 sum a + l2/2 |a|^2 over a >= 0 for each row a, up to max_sweeps
/// sweeps over the k coordinates, stopping once a sweep moves every row by less than 1% of what
/// the first sweep moved it. Each step is an exact minimization, so the objective never rises.
/// buf holds 2 k hals_block_rows values.
template <class T>
FACTO_CLONES void hals_block(T* A, const T* P, index_t rows, const T* G, index_t k, T l1, T l2, int max_sweeps,
                             T* buf) {
    constexpr index_t B = hals_block_rows;
    T* At = buf;          // At[s * B + b] = A(b, s)
    T* Pt = buf + k * B;  // Pt[r * B + b] = P(b, r) - l1
    for (index_t s = 0; s < k; ++s)
        for (index_t b = 0; b < B; ++b) {
            At[s * B + b] = b < rows ? A[b * k + s] : T(0);
            Pt[s * B + b] = b < rows ? P[b * k + s] - l1 : T(0);
        }
    double first[B] = {}, moved[B];
    for (int sweep = 0; sweep < max_sweeps; ++sweep) {
        for (index_t b = 0; b < B; ++b) moved[b] = 0;
        for (index_t r = 0; r < k; ++r) {
            const T den = G[r * k + r] + l2;
            if (!(den > 0)) continue;  // the other factor's component r is zero: a_r is free
            const T inv = T(1) / den;
            const T* g = G + r * k;
            T ga[B] = {};
            for (index_t s = 0; s < k; ++s) {
                const T gs = g[s];
#pragma omp simd
                for (index_t b = 0; b < B; ++b) ga[b] += gs * At[s * B + b];
            }
            T* ar = At + r * B;
            const T* pr = Pt + r * B;
#pragma omp simd
            for (index_t b = 0; b < B; ++b) {
                const T v = std::max(T(0), ar[b] + (pr[b] - ga[b] - l2 * ar[b]) * inv);
                moved[b] += static_cast<double>(v - ar[b]) * static_cast<double>(v - ar[b]);
                ar[b] = v;
            }
        }
        bool done = true;
        for (index_t b = 0; b < B; ++b) {
            if (sweep == 0) first[b] = moved[b];
            else done = done && moved[b] <= 1e-4 * first[b];
        }
        if (sweep == 0) {
            done = true;
            for (index_t b = 0; b < B; ++b) done = done && first[b] == 0;
        }
        if (done) break;
    }
    for (index_t b = 0; b < rows; ++b)
        for (index_t s = 0; s < k; ++s) A[b * k + s] = At[s * B + b];
}

/// Multiplicative update of one row: a <- a .* p / (G a + l1 + l2 a), from the old a.
template <class T>
FACTO_CLONES void mu_row(T* a, const T* p, const T* G, index_t k, T l1, T l2, T* scratch) {
    for (index_t r = 0; r < k; ++r) {
        const T* g = G + r * k;
        T ga = 0;
#pragma omp simd reduction(+ : ga)
        for (index_t s = 0; s < k; ++s) ga += g[s] * a[s];
        scratch[r] = ga;
    }
    const T tiny = std::numeric_limits<T>::min();
    for (index_t r = 0; r < k; ++r) {
        T den = scratch[r] + l1 + l2 * a[r];
        if (!(den > tiny)) den = tiny;
        a[r] = a[r] * std::max(p[r], T(0)) / den;
    }
}

/// Updates factor A (rows x k) given P (the product of X with the other factor) and G (the
/// other factor's Gram matrix). entries_per_row: the entries of X behind one row of P, which
/// sets HALS's sweep budget: Gillis & Glineur's rule (extra sweeps may cost a fraction of the
/// product), with the fraction measured on the planted 5000 x 2000 rank-20 workload.
template <class T>
void update_factor(nmf_method method, basic_matrix<T>& A, const basic_matrix<T>& P, const basic_matrix<T>& G,
                   double l1, double l2, double entries_per_row, int inner_iters) {
    const index_t rows = A.rows(), k = A.cols();
    const T tl1 = static_cast<T>(l1), tl2 = static_cast<T>(l2);
    if (method == nmf_method::anls) {
        basic_matrix<T> Gr = G, B = P;
        for (index_t r = 0; r < k; ++r) Gr(r, r) += tl2;
        if (tl1 != 0)
            for (T& b : B.values()) b -= tl1;
        detail::nnls_bpp(Gr, B, A);
        return;
    }
    const bool parallel = detail::worth_parallel(rows * k * k);
    if (method == nmf_method::hals) {
        const int sweeps = inner_iters > 0
                               ? inner_iters
                               : static_cast<int>(std::clamp(1 + entries_per_row / static_cast<double>(8 * k), 1.0, 50.0));
        const index_t blocks = (rows + hals_block_rows - 1) / hals_block_rows;
#pragma omp parallel if (parallel)
        {
            std::vector<T> buf(static_cast<std::size_t>(2 * k * hals_block_rows));
#pragma omp for schedule(static)
            for (index_t blk = 0; blk < blocks; ++blk) {
                const index_t i = blk * hals_block_rows;
                hals_block(A.data() + i * k, P.data() + i * k, std::min(hals_block_rows, rows - i), G.data(), k, tl1,
                           tl2, sweeps, buf.data());
            }
        }
        return;
    }
#pragma omp parallel if (parallel)
    {
        std::vector<T> scratch(static_cast<std::size_t>(k));
#pragma omp for schedule(static)
        for (index_t i = 0; i < rows; ++i) mu_row(A.data() + i * k, P.data() + i * k, G.data(), k, tl1, tl2, scratch.data());
    }
}

/// The unweighted Frobenius run: per iteration P = X Ht, W update, Q = X^T W, H update. The
/// error is ||X||^2 - 2 <Ht, Q> + <W^T W, H H^T>, never forming W H.
template <class T, class Products>
void run_gram(const Products& X, double norm_sq, const nmf_options& o, basic_matrix<T>& W, basic_matrix<T>& Ht,
              basic_nmf_result<T>& res) {
    basic_matrix<T> P, Q, GW, GH;
    gram_into(Ht, GH);
    const double entries = X.entries();
    const double n = entries / static_cast<double>(W.rows()), m = entries / static_cast<double>(Ht.rows());
    auto step = [&](int) {
        X.times(Ht, P);
        update_factor(o.method, W, P, GH, o.l1_W, o.l2_W, n, o.inner_iters);
        gram_into(W, GW);
        X.trans_times(W, Q);
        update_factor(o.method, Ht, Q, GW, o.l1_H, o.l2_H, m, o.inner_iters);
        gram_into(Ht, GH);
    };
    auto error = [&]() -> std::pair<double, double> {
        double inner = 0, model = 0;
        for (index_t p = 0; p < Ht.size(); ++p)
            inner += static_cast<double>(Ht.data()[p]) * static_cast<double>(Q.data()[p]);
        for (index_t p = 0; p < GW.size(); ++p)
            model += static_cast<double>(GW.data()[p]) * static_cast<double>(GH.data()[p]);
        return {std::sqrt(std::max(0.0, norm_sq - 2 * inner + model) / norm_sq), 0.0};
    };
    detail::nmf_iterate<T>(o, false, step, error, res);
}

// ------------------------------------------------------------------ initialization

/// Standard normal from two uniforms (Box-Muller): the same stream on every platform.
double std_normal(std::mt19937_64& rng) {
    const double u1 = (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

/// NNDSVD (Boutsidis & Gallopoulos 2008) from U (m x k), s, V (n x k), into W and Ht (n x k).
template <class T>
void nndsvd(const basic_matrix<T>& U, const std::vector<T>& s, const basic_matrix<T>& V, basic_matrix<T>& W,
            basic_matrix<T>& Ht) {
    const index_t m = U.rows(), n = V.rows(), k = U.cols();
    W.resize(m, k);
    Ht.resize(n, k);
    auto norms = [](const basic_matrix<T>& A, index_t r, double sign) {
        double ss = 0;
        for (index_t i = 0; i < A.rows(); ++i) {
            const double v = sign * static_cast<double>(A(i, r));
            if (v > 0) ss += v * v;
        }
        return std::sqrt(ss);
    };
    for (index_t r = 0; r < k; ++r) {
        const double sr = std::max(0.0, static_cast<double>(s[static_cast<std::size_t>(r)]));
        // The leading pair is nonnegative up to a common sign (Perron-Frobenius); for the others
        // keep the sign pattern with the larger mass, as the paper does.
        const double up = norms(U, r, 1), un = norms(U, r, -1), vp = norms(V, r, 1), vn = norms(V, r, -1);
        const bool positive = up * vp >= un * vn;
        const double sign = positive ? 1 : -1, nu = positive ? up : un, nv = positive ? vp : vn;
        if (nu == 0 || nv == 0) continue;  // a zero column: a zero singular value
        const double scale = std::sqrt(sr * nu * nv);
        for (index_t i = 0; i < m; ++i)
            W(i, r) = static_cast<T>(std::max(0.0, sign * static_cast<double>(U(i, r))) / nu * scale);
        for (index_t j = 0; j < n; ++j)
            Ht(j, r) = static_cast<T>(std::max(0.0, sign * static_cast<double>(V(j, r))) / nv * scale);
    }
    // Entries that are zero up to rounding are zero (scikit-learn cuts at 1e-6 absolute; here
    // relative to the largest entry, so the data's scale does not matter).
    for (basic_matrix<T>* F : {&W, &Ht}) {
        T mx = 0;
        for (T v : F->values()) mx = std::max(mx, v);
        const T cut = static_cast<T>(1e-6) * mx;
        for (T& v : F->values())
            if (v < cut) v = 0;
    }
}

/// Initial W (m x k) and Ht (n x k). mean: the mean observed entry. svd(): the leading rank-k
/// triplets of the (observed part of the) matrix.
template <class T, class Svd>
void initialize(const nmf_options& o, index_t m, index_t n, double mean, Svd&& svd, basic_matrix<T>& W,
                basic_matrix<T>& Ht) {
    const index_t k = o.rank;
    switch (o.init) {
        case nmf_init::given:
            W.resize(m, k);
            Ht.resize(n, k);
            for (index_t i = 0; i < m; ++i)
                for (index_t r = 0; r < k; ++r) W(i, r) = static_cast<T>((*o.initial_W)(i, r));
            for (index_t r = 0; r < k; ++r)
                for (index_t j = 0; j < n; ++j) Ht(j, r) = static_cast<T>((*o.initial_H)(r, j));
            return;
        case nmf_init::random: {
            // scikit-learn's scaling: entries of W H then average about mean(X). H first, row-major
            // k x n, then W, drawn in double so float and double runs start alike.
            std::mt19937_64 rng(o.seed);
            const double avg = std::sqrt(mean / static_cast<double>(k));
            W.resize(m, k);
            Ht.resize(n, k);
            for (index_t r = 0; r < k; ++r)
                for (index_t j = 0; j < n; ++j) Ht(j, r) = static_cast<T>(avg * std::abs(std_normal(rng)));
            for (index_t i = 0; i < m; ++i)
                for (index_t r = 0; r < k; ++r) W(i, r) = static_cast<T>(avg * std::abs(std_normal(rng)));
            return;
        }
        case nmf_init::nndsvd:
        case nmf_init::nndsvda: {
            const basic_svd_result<T> S = svd();
            nndsvd(S.U, S.s, S.V, W, Ht);
            if (o.init == nmf_init::nndsvda)
                for (basic_matrix<T>* F : {&W, &Ht})
                    for (T& v : F->values())
                        if (v == 0) v = static_cast<T>(mean);
            return;
        }
    }
}

svd_randomized_options svd_settings(const nmf_options& o) {
    svd_randomized_options s;
    s.rank = o.rank;
    s.power_iters = 2;  // NNDSVD needs the leading subspace roughly, not to many digits
    s.seed = o.seed;
    s.check_error = false;
    return s;
}

template <class T>
basic_matrix<T> transposed(const basic_matrix<T>& A) {
    basic_matrix<T> B(A.cols(), A.rows());
    for (index_t i = 0; i < A.rows(); ++i)
        for (index_t j = 0; j < A.cols(); ++j) B(j, i) = A(i, j);
    return B;
}

template <class T>
double sum_of(const std::vector<T>& v) {
    double s = 0;
    for (T x : v) s += static_cast<double>(x);
    return s;
}

template <class T>
basic_csr_matrix<T> observed_csr(const nmf_observed<T>& obs) {
    basic_csr_matrix<T> A;
    A.rows = obs.m;
    A.cols = obs.n;
    A.row_ptr = obs.row_ptr;
    A.col_idx = obs.col;
    A.values = obs.x;
    return A;
}

// ------------------------------------------------------------------ runs

template <class T>
basic_nmf_result<T> finish(basic_nmf_result<T>& res, basic_matrix<T>& W, const basic_matrix<T>& Ht,
                           nmf_clock::time_point start) {
    res.W = std::move(W);
    res.H = transposed(Ht);
    res.seconds = detail::nmf_seconds_since(start);
    return std::move(res);
}

/// Weighted / KL runs on the observed entries (initialized from the observed part, zeros
/// elsewhere).
template <class T>
basic_nmf_result<T> run_observed(const char* who, nmf_observed<T>& obs, const nmf_options& o,
                                 nmf_clock::time_point start) {
    obs.finish();
    check_nonzero(who, obs.norm_sq);
    basic_nmf_result<T> res;
    basic_matrix<T> W, Ht;
    const double count = obs.all_entries ? static_cast<double>(obs.m) * static_cast<double>(obs.n)
                                         : static_cast<double>(obs.nnz());
    initialize<T>(o, obs.m, obs.n, sum_of(obs.x) / count,
                  [&] { return svd_randomized(to_coo(observed_csr(obs)), svd_settings(o)); }, W, Ht);
    res.setup_seconds = detail::nmf_seconds_since(start);
    detail::nmf_weighted(obs, o, W, Ht, res);
    return finish(res, W, Ht, start);
}

template <class T>
nmf_observed<T> observed_nonzeros(const basic_matrix<T>& X) {
    nmf_observed<T> obs;
    obs.m = X.rows();
    obs.n = X.cols();
    obs.all_entries = true;
    obs.row_ptr.assign(1, 0);
    for (index_t i = 0; i < X.rows(); ++i) {
        for (index_t j = 0; j < X.cols(); ++j)
            if (X(i, j) != 0) {
                obs.col.push_back(j);
                obs.x.push_back(X(i, j));
            }
        obs.row_ptr.push_back(static_cast<index_t>(obs.col.size()));
    }
    return obs;
}

template <class T>
nmf_observed<T> observed_of(const basic_csr_matrix<T>& X, bool all_entries) {
    nmf_observed<T> obs;
    obs.m = X.rows;
    obs.n = X.cols;
    obs.all_entries = all_entries;
    obs.row_ptr = X.row_ptr;
    obs.col = X.col_idx;
    obs.x = X.values;
    return obs;
}

}  // namespace

namespace detail {

template <class T>
void nmf_observed<T>::finish() {
    col_ptr.assign(static_cast<std::size_t>(n + 1), 0);
    for (index_t j : col) ++col_ptr[static_cast<std::size_t>(j + 1)];
    for (index_t j = 0; j < n; ++j) col_ptr[static_cast<std::size_t>(j + 1)] += col_ptr[static_cast<std::size_t>(j)];
    row.resize(col.size());
    perm.resize(col.size());
    std::vector<index_t> next(col_ptr.begin(), col_ptr.end() - 1);
    for (index_t i = 0; i < m; ++i)
        for (index_t p = row_ptr[static_cast<std::size_t>(i)]; p < row_ptr[static_cast<std::size_t>(i + 1)]; ++p) {
            const index_t q = next[static_cast<std::size_t>(col[static_cast<std::size_t>(p)])]++;
            row[static_cast<std::size_t>(q)] = i;
            perm[static_cast<std::size_t>(q)] = p;
        }
    norm_sq = 0;
    for (T v : x) norm_sq += static_cast<double>(v) * static_cast<double>(v);
}

template struct nmf_observed<double>;
template struct nmf_observed<float>;

}  // namespace detail

template <class T>
basic_nmf_result<T> nmf(const basic_matrix<T>& X, const nmf_options& o) {
    const auto start = nmf_clock::now();
    const char* who = "nmf";
    check_options(who, o, X.rows(), X.cols());
    check_values(who, X);
    thread_scope threads(o.threads);
    if (o.loss == nmf_loss::kullback_leibler) {
        nmf_observed<T> obs = observed_nonzeros(X);
        // NNDSVD wants X itself, which the nonzeros are.
        return run_observed(who, obs, o, start);
    }
    double norm_sq = 0;
    for (T v : X.values()) norm_sq += static_cast<double>(v) * static_cast<double>(v);
    check_nonzero(who, norm_sq);
    basic_nmf_result<T> res;
    basic_matrix<T> W, Ht;
    initialize<T>(o, X.rows(), X.cols(), sum_of(X.values()) / static_cast<double>(X.size()),
                  [&] { return svd_randomized(X, svd_settings(o)); }, W, Ht);
    const dense_products<T> products(X);
    res.setup_seconds = detail::nmf_seconds_since(start);
    run_gram(products, norm_sq, o, W, Ht, res);
    return finish(res, W, Ht, start);
}

template <class T>
basic_nmf_result<T> nmf(const basic_csr_matrix<T>& X, const nmf_options& o) {
    const auto start = nmf_clock::now();
    const char* who = "nmf";
    X.validate(who);
    check_options(who, o, X.rows, X.cols);
    check_values(who, X);
    thread_scope threads(o.threads);
    if (o.unstored_missing || o.loss == nmf_loss::kullback_leibler) {
        nmf_observed<T> obs = observed_of(X, !o.unstored_missing);
        return run_observed(who, obs, o, start);
    }
    double norm_sq = 0;
    for (T v : X.values) norm_sq += static_cast<double>(v) * static_cast<double>(v);
    check_nonzero(who, norm_sq);
    basic_nmf_result<T> res;
    basic_matrix<T> W, Ht;
    initialize<T>(o, X.rows, X.cols, sum_of(X.values) / (static_cast<double>(X.rows) * static_cast<double>(X.cols)),
                  [&] { return svd_randomized(to_coo(X), svd_settings(o)); }, W, Ht);
    sparse_products<T> products{X, transpose(X)};
    res.setup_seconds = detail::nmf_seconds_since(start);
    run_gram(products, norm_sq, o, W, Ht, res);
    return finish(res, W, Ht, start);
}

template <class T>
basic_nmf_result<T> nmf(const basic_matrix<T>& X, const basic_matrix<T>& mask, const nmf_options& o) {
    const auto start = nmf_clock::now();
    const char* who = "nmf";
    if (mask.rows() != X.rows() || mask.cols() != X.cols())
        throw invalid_argument(std::string(who) + ": the mask is " + dims(mask.rows(), mask.cols()) +
                               " but X is " + dims(X.rows(), X.cols()));
    check_options(who, o, X.rows(), X.cols());
    nmf_observed<T> obs;
    obs.m = X.rows();
    obs.n = X.cols();
    obs.row_ptr.assign(1, 0);
    for (index_t i = 0; i < X.rows(); ++i) {
        for (index_t j = 0; j < X.cols(); ++j)
            if (mask(i, j) != 0) {
                const T v = X(i, j);  // missing entries may hold anything (NaN included)
                if (!(v >= 0) || !std::isfinite(v))
                    throw invalid_argument(std::string(who) + ": X(" + std::to_string(i) + ", " + std::to_string(j) +
                                           ") = " + std::to_string(v) +
                                           " is observed (mask != 0); NMF needs finite entries >= 0");
                obs.col.push_back(j);
                obs.x.push_back(v);
            }
        obs.row_ptr.push_back(static_cast<index_t>(obs.col.size()));
    }
    thread_scope threads(o.threads);
    return run_observed(who, obs, o, start);
}

template <class T>
basic_nmf_result<T> nmf(const basic_csr_matrix<T>& X, const basic_csr_matrix<T>& mask, const nmf_options& o) {
    const auto start = nmf_clock::now();
    const char* who = "nmf";
    X.validate(who);
    mask.validate("nmf (mask)");
    if (mask.rows != X.rows || mask.cols != X.cols)
        throw invalid_argument(std::string(who) + ": the mask is " + dims(mask.rows, mask.cols) + " but X is " +
                               dims(X.rows, X.cols));
    check_options(who, o, X.rows, X.cols);
    check_values(who, X);
    nmf_observed<T> obs;
    obs.m = X.rows;
    obs.n = X.cols;
    obs.row_ptr.assign(1, 0);
    for (index_t i = 0; i < X.rows; ++i) {
        index_t p = X.row_ptr[static_cast<std::size_t>(i)];
        const index_t pend = X.row_ptr[static_cast<std::size_t>(i + 1)];
        for (index_t q = mask.row_ptr[static_cast<std::size_t>(i)]; q < mask.row_ptr[static_cast<std::size_t>(i + 1)];
             ++q) {
            if (mask.values[static_cast<std::size_t>(q)] == 0) continue;
            const index_t j = mask.col_idx[static_cast<std::size_t>(q)];
            while (p < pend && X.col_idx[static_cast<std::size_t>(p)] < j) ++p;
            obs.col.push_back(j);
            obs.x.push_back(p < pend && X.col_idx[static_cast<std::size_t>(p)] == j ? X.values[static_cast<std::size_t>(p)]
                                                                                   : T(0));
        }
        obs.row_ptr.push_back(static_cast<index_t>(obs.col.size()));
    }
    thread_scope threads(o.threads);
    return run_observed(who, obs, o, start);
}

template <class T>
nmf_factors<T> nmf_initialize(const basic_matrix<T>& X, const nmf_options& o) {
    check_options("nmf_initialize", o, X.rows(), X.cols());
    check_values("nmf_initialize", X);
    thread_scope threads(o.threads);
    basic_matrix<T> W, Ht;
    initialize<T>(o, X.rows(), X.cols(), sum_of(X.values()) / static_cast<double>(X.size()),
                  [&] { return svd_randomized(X, svd_settings(o)); }, W, Ht);
    return {std::move(W), transposed(Ht)};
}

template <class T>
nmf_factors<T> nmf_initialize(const basic_csr_matrix<T>& X, const nmf_options& o) {
    X.validate("nmf_initialize");
    check_options("nmf_initialize", o, X.rows, X.cols);
    check_values("nmf_initialize", X);
    thread_scope threads(o.threads);
    basic_matrix<T> W, Ht;
    initialize<T>(o, X.rows, X.cols, sum_of(X.values) / (static_cast<double>(X.rows) * static_cast<double>(X.cols)),
                  [&] { return svd_randomized(to_coo(X), svd_settings(o)); }, W, Ht);
    return {std::move(W), transposed(Ht)};
}

#define FACTO_INSTANTIATE_NMF(T)                                                                              \
    template basic_nmf_result<T> nmf(const basic_matrix<T>&, const nmf_options&);                           \
    template basic_nmf_result<T> nmf(const basic_csr_matrix<T>&, const nmf_options&);                       \
    template basic_nmf_result<T> nmf(const basic_matrix<T>&, const basic_matrix<T>&, const nmf_options&);   \
    template basic_nmf_result<T> nmf(const basic_csr_matrix<T>&, const basic_csr_matrix<T>&,                \
                                     const nmf_options&);                                                   \
    template nmf_factors<T> nmf_initialize(const basic_matrix<T>&, const nmf_options&);                     \
    template nmf_factors<T> nmf_initialize(const basic_csr_matrix<T>&, const nmf_options&);

FACTO_INSTANTIATE_NMF(double)
FACTO_INSTANTIATE_NMF(float)

}  // namespace facto
