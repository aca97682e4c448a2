// src/fmm/kernels.cpp: the addition plan of a scheme (with greedy common subexpression
// elimination) and the recursive executor with BLAS gemm leaves.
#include "facto/fmm/kernels.hpp"

#include <omp.h>

#include <algorithm>
#include <map>
#include <thread>
#include <tuple>

#include "facto/core/error.hpp"
#include "core/parallel.hpp"
#include "ops/blas_lapack.hpp"

namespace facto::fmm {

// ---------------------------------------------------------------------------------------
// Addition plan

int addition_program::additions() const {
    int total = 0;
    for (const auto* list : {&temps, &outputs})
        for (const linear_combination& c : *list)
            if (!c.terms.empty()) total += static_cast<int>(c.terms.size()) - 1;
    return total;
}

int addition_program::aliases() const {
    int total = 0;
    for (const linear_combination& c : outputs)
        if (c.terms.size() == 1 && c.terms[0].first < inputs && c.terms[0].second == rational{1, 1}) ++total;
    return total;
}

addition_program eliminate_common_subexpressions(addition_program prog) {
    // A pair key (x, y, q) with x < y stands for x + q y; a combination holding a x and b y
    // contains a (x + (b/a) y).
    using key = std::tuple<int, int, std::int64_t, std::int64_t>;
    for (;;) {
        std::map<key, std::pair<int, int>> seen;  // key -> (occurrences, first-seen order)
        int order = 0;
        auto scan = [&](const linear_combination& c) {
            for (std::size_t s = 0; s < c.terms.size(); ++s)
                for (std::size_t t = s + 1; t < c.terms.size(); ++t) {
                    auto x = c.terms[s], y = c.terms[t];
                    if (x.first > y.first) std::swap(x, y);
                    const rational q = y.second / x.second;
                    auto [it, fresh] = seen.try_emplace(key{x.first, y.first, q.num, q.den}, 0, order++);
                    ++it->second.first;
                }
        };
        for (const auto& c : prog.temps) scan(c);
        for (const auto& c : prog.outputs) scan(c);
        const key* best = nullptr;
        std::pair<int, int> best_count{1, 0};
        for (const auto& [k, v] : seen)
            if (v.first > best_count.first || (v.first == best_count.first && best && v.second < best_count.second)) {
                best = &k;
                best_count = v;
            }
        if (!best) return prog;
        const auto [x, y, qn, qd] = *best;
        const rational q{qn, qd};
        const int temp_operand = prog.inputs + static_cast<int>(prog.temps.size());
        auto replace = [&](linear_combination& c) {
            auto ix = std::find_if(c.terms.begin(), c.terms.end(), [&](const auto& t) { return t.first == x; });
            auto iy = std::find_if(c.terms.begin(), c.terms.end(), [&](const auto& t) { return t.first == y; });
            if (ix == c.terms.end() || iy == c.terms.end() || !(iy->second == ix->second * q)) return;
            const rational a = ix->second;
            c.terms.erase(std::max(ix, iy));
            c.terms.erase(std::min(ix, iy));
            c.terms.emplace_back(temp_operand, a);
        };
        for (auto& c : prog.temps) replace(c);
        for (auto& c : prog.outputs) replace(c);
        prog.temps.push_back({{{x, rational{1, 1}}, {y, q}}});
    }
}

addition_plan make_addition_plan(const exact_scheme& s, bool eliminate) {
    require_valid_exact(s, "make_addition_plan");
    addition_plan plan;
    plan.n = s.n, plan.m = s.m, plan.p = s.p, plan.rank = s.rank();
    plan.a.inputs = s.n * s.m;
    plan.b.inputs = s.m * s.p;
    plan.c.inputs = s.rank();
    const rational zero{0, 1};
    // S_t or T_t that is c times one block: the block is used in place and c moves into the
    // product's coefficients in C.
    std::vector<rational> scale(s.rank(), rational{1, 1});
    auto side = [&](const std::vector<rational>& f, int t) {
        linear_combination c;
        for (std::size_t x = 0; x < f.size(); ++x)
            if (!(f[x] == zero)) c.terms.emplace_back(static_cast<int>(x), f[x]);
        if (c.terms.size() == 1) {
            scale[t] = scale[t] * c.terms[0].second;
            c.terms[0].second = rational{1, 1};
        }
        return c;
    };
    for (int t = 0; t < s.rank(); ++t) {
        plan.a.outputs.push_back(side(s.terms[t].u, t));
        plan.b.outputs.push_back(side(s.terms[t].v, t));
    }
    for (int i = 0; i < s.n; ++i)
        for (int k = 0; k < s.p; ++k) {
            linear_combination c;
            for (int t = 0; t < s.rank(); ++t) {
                const rational w = s.terms[t].w[k * s.n + i];
                if (!(w == zero)) c.terms.emplace_back(t, w * scale[t]);
            }
            plan.c.outputs.push_back(std::move(c));
        }
    plan.additions_before = plan.a.additions() + plan.b.additions() + plan.c.additions();
    if (eliminate) {
        plan.a = eliminate_common_subexpressions(std::move(plan.a));
        plan.b = eliminate_common_subexpressions(std::move(plan.b));
        plan.c = eliminate_common_subexpressions(std::move(plan.c));
    }
    return plan;
}

std::vector<double> evaluate(const addition_program& prog, const std::vector<double>& inputs) {
    if (static_cast<int>(inputs.size()) != prog.inputs)
        throw invalid_argument("fmm::evaluate: " + std::to_string(inputs.size()) + " inputs given, the program has " +
                               std::to_string(prog.inputs));
    std::vector<double> values = inputs;
    auto value = [&](const linear_combination& c) {
        double v = 0;
        for (const auto& [o, q] : c.terms) v += static_cast<double>(q.num) / static_cast<double>(q.den) * values.at(o);
        return v;
    };
    for (const auto& c : prog.temps) values.push_back(value(c));
    std::vector<double> out;
    for (const auto& c : prog.outputs) out.push_back(value(c));
    return out;
}

// ---------------------------------------------------------------------------------------
// Executor

namespace {

// A program with floating coefficients; an output slot of -1 means "alias of an input".
struct compiled_program {
    struct node {
        std::vector<std::pair<int, double>> terms;
    };
    int inputs = 0;
    std::vector<node> temps, outputs;
    std::vector<int> alias_of;  // per output: the input it is (coefficient 1), or -1
    int buffers = 0;            // outputs needing their own buffer
    std::vector<int> buffer_of;  // per output: buffer index or -1
};

compiled_program compile(const addition_program& p) {
    compiled_program c;
    c.inputs = p.inputs;
    auto conv = [](const linear_combination& l) {
        compiled_program::node n;
        for (const auto& [o, q] : l.terms) n.terms.emplace_back(o, static_cast<double>(q.num) / static_cast<double>(q.den));
        return n;
    };
    for (const auto& t : p.temps) c.temps.push_back(conv(t));
    for (const auto& o : p.outputs) {
        c.outputs.push_back(conv(o));
        const bool alias = o.terms.size() == 1 && o.terms[0].first < p.inputs && o.terms[0].second == rational{1, 1};
        c.alias_of.push_back(alias ? o.terms[0].first : -1);
        c.buffer_of.push_back(alias ? -1 : c.buffers++);
    }
    return c;
}

// dst[0..len) = sum c_k src_k[0..len) (zeros when empty).
template <class T>
void combine_row(T* dst, const std::vector<std::pair<int, double>>& terms, const T* const* rows, index_t len) {
    if (terms.empty()) {
        std::fill(dst, dst + len, T(0));
        return;
    }
    {
        const T* s = rows[terms[0].first];
        const T c = static_cast<T>(terms[0].second);
        if (c == T(1)) std::copy(s, s + len, dst);
        else if (c == T(-1)) for (index_t j = 0; j < len; ++j) dst[j] = -s[j];
        else for (index_t j = 0; j < len; ++j) dst[j] = c * s[j];
    }
    for (std::size_t t = 1; t < terms.size(); ++t) {
        const T* s = rows[terms[t].first];
        const T c = static_cast<T>(terms[t].second);
        if (c == T(1)) for (index_t j = 0; j < len; ++j) dst[j] += s[j];
        else if (c == T(-1)) for (index_t j = 0; j < len; ++j) dst[j] -= s[j];
        else for (index_t j = 0; j < len; ++j) dst[j] += c * s[j];
    }
}

// Runs a program over `rows` rows of `len` elements: input o's row r at in[o] + r*in_ld[o],
// output o's row r at out[o] + r*out_ld[o] (aliases skipped); temporaries live in a row buffer
// per thread (scratch: threads * temps * len elements).
//
// The rows are split over `threads` std::threads rather than an OpenMP team: OpenMP workers
// spin after a region (OMP_WAIT_POLICY active, libgomp's default) and take the cores from the
// OpenBLAS threads of the next gemm, which made one Strassen level 2x slower on 2 cores.
template <class T>
void run_program(const compiled_program& prog, index_t rows, index_t len, const std::vector<const T*>& in,
                 const std::vector<index_t>& in_ld, const std::vector<T*>& out, const std::vector<index_t>& out_ld,
                 T* scratch, int threads) {
    const int operands = prog.inputs + static_cast<int>(prog.temps.size());
    const index_t work = rows * len * static_cast<index_t>(operands + prog.outputs.size());
    auto chunk = [&](int part, index_t begin, index_t end) {
        std::vector<const T*> row_ptr(operands);
        T* temp_rows = scratch + static_cast<std::size_t>(part) * prog.temps.size() * len;
        for (std::size_t t = 0; t < prog.temps.size(); ++t) row_ptr[prog.inputs + t] = temp_rows + t * len;
        for (index_t r = begin; r < end; ++r) {
            for (int o = 0; o < prog.inputs; ++o) row_ptr[o] = in[o] + r * in_ld[o];
            for (std::size_t t = 0; t < prog.temps.size(); ++t)
                combine_row(temp_rows + t * len, prog.temps[t].terms, row_ptr.data(), len);
            for (std::size_t o = 0; o < prog.outputs.size(); ++o)
                if (prog.alias_of[o] < 0) combine_row(out[o] + r * out_ld[o], prog.outputs[o].terms, row_ptr.data(), len);
        }
    };
    const int parts = detail::worth_parallel(work) ? static_cast<int>(std::min<index_t>(threads, rows)) : 1;
    if (parts <= 1) {
        chunk(0, 0, rows);
        return;
    }
    std::vector<std::thread> team;
    for (int part = 1; part < parts; ++part)
        team.emplace_back(chunk, part, rows * part / parts, rows * (part + 1) / parts);
    chunk(0, 0, rows / parts);
    for (std::thread& t : team) t.join();
}

}  // namespace

struct fast_multiplier::impl {
    addition_plan plan;
    compiled_program a, b, c;
    int threads = 1;
    std::unique_ptr<double[]> work_d;
    std::size_t work_d_size = 0;
    std::unique_ptr<float[]> work_f;
    std::size_t work_f_size = 0;

    struct blocks {
        index_t bm, bk, bn;
    };
    bool applies(index_t rows, index_t inner, index_t cols) const {
        return rows >= plan.n && inner >= plan.m && cols >= plan.p;
    }
    blocks split(index_t rows, index_t inner, index_t cols) const {
        return {rows / plan.n, inner / plan.m, cols / plan.p};
    }

    std::size_t workspace(index_t rows, index_t inner, index_t cols, int levels) const {
        if (levels <= 0 || !applies(rows, inner, cols)) return 0;
        const auto [bm, bk, bn] = split(rows, inner, cols);
        const std::size_t scratch =
            static_cast<std::size_t>(threads) *
            std::max({a.temps.size() * bk, b.temps.size() * bn, c.temps.size() * bn});
        return static_cast<std::size_t>(a.buffers * bm * bk + b.buffers * bk * bn + plan.rank * bm * bn) + scratch +
               workspace(bm, bk, bn, levels - 1);
    }

    template <class T>
    void run(int levels, index_t rows, index_t inner, index_t cols, const T* A, index_t lda, const T* B, index_t ldb,
             T* C, index_t ldc, T* work) const {
        if (levels <= 0 || !applies(rows, inner, cols)) {
            detail::gemm(false, false, rows, cols, inner, T(1), A, lda, B, ldb, T(0), C, ldc);
            return;
        }
        const int n = plan.n, m = plan.m, p = plan.p, r = plan.rank;
        const auto [bm, bk, bn] = split(rows, inner, cols);
        T* S = work;
        T* Tb = S + a.buffers * bm * bk;
        T* M = Tb + b.buffers * bk * bn;
        T* scratch = M + r * bm * bn;
        T* sub = scratch + static_cast<std::size_t>(threads) *
                               std::max({a.temps.size() * bk, b.temps.size() * bn, c.temps.size() * bn});

        // S_t = sums of A blocks, T_t = sums of B blocks.
        std::vector<const T*> in;
        std::vector<index_t> in_ld;
        std::vector<T*> out;
        std::vector<index_t> out_ld;
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < m; ++j) in.push_back(A + i * bm * lda + j * bk), in_ld.push_back(lda);
        for (int t = 0; t < r; ++t)
            out.push_back(a.buffer_of[t] < 0 ? nullptr : S + a.buffer_of[t] * bm * bk), out_ld.push_back(bk);
        run_program(a, bm, bk, in, in_ld, out, out_ld, scratch, threads);
        std::vector<const T*> s_ptr(r), t_ptr(r);
        std::vector<index_t> s_ld(r), t_ld(r);
        for (int t = 0; t < r; ++t) {
            s_ptr[t] = a.alias_of[t] >= 0 ? in[a.alias_of[t]] : out[t];
            s_ld[t] = a.alias_of[t] >= 0 ? lda : bk;
        }
        in.clear(), in_ld.clear(), out.clear(), out_ld.clear();
        for (int j = 0; j < m; ++j)
            for (int k = 0; k < p; ++k) in.push_back(B + j * bk * ldb + k * bn), in_ld.push_back(ldb);
        for (int t = 0; t < r; ++t)
            out.push_back(b.buffer_of[t] < 0 ? nullptr : Tb + b.buffer_of[t] * bk * bn), out_ld.push_back(bn);
        run_program(b, bk, bn, in, in_ld, out, out_ld, scratch, threads);
        for (int t = 0; t < r; ++t) {
            t_ptr[t] = b.alias_of[t] >= 0 ? in[b.alias_of[t]] : out[t];
            t_ld[t] = b.alias_of[t] >= 0 ? ldb : bn;
        }

        // The products, recursively.
        for (int t = 0; t < r; ++t) {
            T* Mt = M + t * bm * bn;
            if (a.outputs[t].terms.empty() || b.outputs[t].terms.empty())
                std::fill(Mt, Mt + bm * bn, T(0));
            else
                run(levels - 1, bm, bk, bn, s_ptr[t], s_ld[t], t_ptr[t], t_ld[t], Mt, bn, sub);
        }

        // C blocks = sums of products.
        in.clear(), in_ld.clear(), out.clear(), out_ld.clear();
        for (int t = 0; t < r; ++t) in.push_back(M + t * bm * bn), in_ld.push_back(bn);
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < p; ++k) out.push_back(C + i * bm * ldc + k * bn), out_ld.push_back(ldc);
        run_program(c, bm, bn, in, in_ld, out, out_ld, scratch, threads);
        for (std::size_t o = 0; o < c.outputs.size(); ++o)
            if (c.alias_of[o] >= 0)  // C block equal to one product: copy it
                for (index_t row = 0; row < bm; ++row)
                    std::copy(in[c.alias_of[o]] + row * bn, in[c.alias_of[o]] + (row + 1) * bn, out[o] + row * ldc);

        // Peeling: the inner strip, the right columns and the bottom rows the blocks leave out.
        const index_t R = bm * n, K = bk * m, N = bn * p;
        if (K < inner) detail::gemm(false, false, R, N, inner - K, T(1), A + K, lda, B + K * ldb, ldb, T(1), C, ldc);
        if (N < cols) detail::gemm(false, false, R, cols - N, inner, T(1), A, lda, B + N, ldb, T(0), C + N, ldc);
        if (R < rows)
            detail::gemm(false, false, rows - R, cols, inner, T(1), A + R * lda, lda, B, ldb, T(0), C + R * ldc, ldc);
    }

    template <class T>
    void multiply(index_t rows, index_t inner, index_t cols, const T* A, index_t lda, const T* B, index_t ldb, T* C,
                  index_t ldc, int levels, std::unique_ptr<T[]>& work, std::size_t& work_size) {
        if (rows < 0 || inner < 0 || cols < 0 || levels < 0 || lda < std::max<index_t>(inner, 1) ||
            ldb < std::max<index_t>(cols, 1) || ldc < std::max<index_t>(cols, 1))
            throw invalid_argument("fast_multiplier::multiply: bad dimensions " + std::to_string(rows) + "x" +
                                   std::to_string(inner) + "x" + std::to_string(cols) + " (lda " +
                                   std::to_string(lda) + ", ldb " + std::to_string(ldb) + ", ldc " +
                                   std::to_string(ldc) + ") or levels " + std::to_string(levels));
        if (rows == 0 || cols == 0) return;
        if (inner == 0) {
            for (index_t i = 0; i < rows; ++i) std::fill(C + i * ldc, C + i * ldc + cols, T(0));
            return;
        }
        threads = std::max(1, omp_get_max_threads());
        const std::size_t need = workspace(rows, inner, cols, levels);
        if (need > work_size) {
            work.reset(new T[need]);
            work_size = need;
        }
        run(levels, rows, inner, cols, A, lda, B, ldb, C, ldc, work.get());
    }
};

fast_multiplier::fast_multiplier(const exact_scheme& s, bool eliminate_common) : impl_(std::make_unique<impl>()) {
    impl_->plan = make_addition_plan(s, eliminate_common);
    impl_->a = compile(impl_->plan.a);
    impl_->b = compile(impl_->plan.b);
    impl_->c = compile(impl_->plan.c);
}
fast_multiplier::~fast_multiplier() = default;
fast_multiplier::fast_multiplier(fast_multiplier&&) noexcept = default;
fast_multiplier& fast_multiplier::operator=(fast_multiplier&&) noexcept = default;

const addition_plan& fast_multiplier::plan() const noexcept { return impl_->plan; }

void fast_multiplier::multiply(index_t rows, index_t inner, index_t cols, const double* A, index_t lda,
                               const double* B, index_t ldb, double* C, index_t ldc, int levels) {
    impl_->multiply(rows, inner, cols, A, lda, B, ldb, C, ldc, levels, impl_->work_d, impl_->work_d_size);
}
void fast_multiplier::multiply(index_t rows, index_t inner, index_t cols, const float* A, index_t lda, const float* B,
                               index_t ldb, float* C, index_t ldc, int levels) {
    impl_->multiply(rows, inner, cols, A, lda, B, ldb, C, ldc, levels, impl_->work_f, impl_->work_f_size);
}

namespace {
template <class T>
basic_matrix<T> multiply_matrices(fast_multiplier& f, const basic_matrix<T>& A, const basic_matrix<T>& B, int levels) {
    if (A.cols() != B.rows())
        throw invalid_argument("fast_multiplier::multiply: A is " + std::to_string(A.rows()) + "x" +
                               std::to_string(A.cols()) + " but B is " + std::to_string(B.rows()) + "x" +
                               std::to_string(B.cols()));
    basic_matrix<T> C(A.rows(), B.cols());
    f.multiply(A.rows(), A.cols(), B.cols(), A.data(), std::max<index_t>(A.cols(), 1), B.data(),
               std::max<index_t>(B.cols(), 1), C.data(), std::max<index_t>(C.cols(), 1), levels);
    return C;
}
}  // namespace

matrix fast_multiplier::multiply(const matrix& A, const matrix& B, int levels) {
    return multiply_matrices(*this, A, B, levels);
}
matrix_f fast_multiplier::multiply(const matrix_f& A, const matrix_f& B, int levels) {
    return multiply_matrices(*this, A, B, levels);
}

std::size_t fast_multiplier::workspace_elements(index_t rows, index_t inner, index_t cols, int levels) const {
    impl_->threads = std::max(1, omp_get_max_threads());
    return impl_->workspace(rows, inner, cols, levels);
}

matrix multiply(const exact_scheme& s, const matrix& A, const matrix& B, int levels) {
    fast_multiplier f(s);
    return f.multiply(A, B, levels);
}
matrix_f multiply(const exact_scheme& s, const matrix_f& A, const matrix_f& B, int levels) {
    fast_multiplier f(s);
    return f.multiply(A, B, levels);
}

}  // namespace facto::fmm
