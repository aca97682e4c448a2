// tests/fmm/test_kernels.cpp: the addition plan (counts, common subexpression elimination that
// keeps the values), the recursive executor against BLAS/naive products for Strassen,
// Laderman and a lifted search result at 0-2 levels and odd sizes, and the generated source's
// structure.
#include "facto/fmm/kernels.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "facto/core/error.hpp"
#include "facto/fmm/flip_graph.hpp"
#include "facto/fmm/lift.hpp"
#include "fmm/known_schemes.hpp"

using namespace facto;
using namespace facto::fmm;

namespace {

std::vector<double> random_values(int count, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> d(-1, 1);
    std::vector<double> v(count);
    for (double& x : v) x = d(rng);
    return v;
}

// Runs the plan on scalars: S and T from the A and B programs, products, C from the C program.
std::vector<double> plan_product(const addition_plan& plan, const std::vector<double>& a, const std::vector<double>& b) {
    const std::vector<double> S = evaluate(plan.a, a), T = evaluate(plan.b, b);
    std::vector<double> M(plan.rank);
    // Single-block sides were made coefficient 1 (their coefficient moved into C).
    for (int t = 0; t < plan.rank; ++t) M[t] = S[t] * T[t];
    return evaluate(plan.c, M);
}

std::vector<double> classical(int n, int m, int p, const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> c(n * p, 0.0);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < m; ++j)
            for (int k = 0; k < p; ++k) c[i * p + k] += a[i * m + j] * b[j * p + k];
    return c;
}

template <class T>
basic_matrix<T> random_matrix(index_t r, index_t c, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> d(-1, 1);
    basic_matrix<T> M(r, c);
    for (T& x : M.values()) x = static_cast<T>(d(rng));
    return M;
}

// Naive product in long double.
template <class T>
std::vector<long double> naive(const basic_matrix<T>& A, const basic_matrix<T>& B) {
    std::vector<long double> C(static_cast<std::size_t>(A.rows() * B.cols()), 0.0L);
    for (index_t i = 0; i < A.rows(); ++i)
        for (index_t j = 0; j < A.cols(); ++j)
            for (index_t k = 0; k < B.cols(); ++k) C[i * B.cols() + k] += static_cast<long double>(A(i, j)) * B(j, k);
    return C;
}

// max |C - ref| <= tol, tol = eps * inner * 12^levels * max|A| max|B| (the classical bound
// scaled by the growth of Strassen-like schemes per level; a wrong coefficient is O(1)).
template <class T>
void expect_product(const basic_matrix<T>& C, const basic_matrix<T>& A, const basic_matrix<T>& B, int levels) {
    const std::vector<long double> ref = naive(A, B);
    ASSERT_EQ(C.rows(), A.rows());
    ASSERT_EQ(C.cols(), B.cols());
    const double tol = std::numeric_limits<T>::epsilon() * static_cast<double>(A.cols() + 1) * std::pow(12.0, levels);
    double worst = 0;
    for (std::size_t x = 0; x < ref.size(); ++x)
        worst = std::max(worst, static_cast<double>(std::abs(static_cast<long double>(C.values()[x]) - ref[x])));
    EXPECT_LE(worst, tol) << A.rows() << "x" << A.cols() << "x" << B.cols() << " levels " << levels;
}

exact_scheme lifted_search_result(int n, int m, int p, int target) {
    search_options o;
    o.target_rank = target;
    o.seed = 3;
    o.max_flips = 20000000;
    const search_result r = search(standard_scheme(n, m, p), o);
    if (r.best.rank() != target) throw std::runtime_error("search did not reach the target");
    const lift_result l = lift(r.best);
    if (!l.lifted || !l.integral) throw std::runtime_error("search result did not lift to Z");
    return l.lifted_scheme;
}

}  // namespace

TEST(FmmKernels, StrassenPlanCountsAndValues) {
    const exact_scheme s = known::strassen_published();
    const addition_plan plan = make_addition_plan(s);
    EXPECT_EQ(plan.rank, 7);
    EXPECT_EQ(plan.additions_before, 18);  // Strassen's 18 additions
    EXPECT_LE(plan.additions(), plan.additions_before);
    EXPECT_EQ(plan.a.aliases(), 2);  // a11 and a22 used in place
    EXPECT_EQ(plan.b.aliases(), 2);
    std::mt19937_64 rng(1);
    for (int trial = 0; trial < 20; ++trial) {
        const auto a = random_values(4, rng), b = random_values(4, rng);
        const auto c = plan_product(plan, a, b), ref = classical(2, 2, 2, a, b);
        for (int x = 0; x < 4; ++x) EXPECT_NEAR(c[x], ref[x], 1e-14);
    }
}

TEST(FmmKernels, EliminationFindsSharedPairsAndKeepsValues) {
    // x0+x1+x2, x0+x1-x2, -x0-x1, 2x0+2x1+x3: x0+x1 is shared by all four (ratio 1).
    addition_program p;
    p.inputs = 4;
    auto R = [](int v) { return rational{v, 1}; };
    p.outputs = {{{{0, R(1)}, {1, R(1)}, {2, R(1)}}},
                 {{{0, R(1)}, {1, R(1)}, {2, R(-1)}}},
                 {{{0, R(-1)}, {1, R(-1)}}},
                 {{{0, R(2)}, {1, R(2)}, {3, R(1)}}}};
    EXPECT_EQ(p.additions(), 2 + 2 + 1 + 2);
    const addition_program q = eliminate_common_subexpressions(p);
    ASSERT_GE(q.temps.size(), 1u);
    EXPECT_EQ(q.temps[0].terms, (std::vector<std::pair<int, rational>>{{0, R(1)}, {1, R(1)}}));
    EXPECT_EQ(q.additions(), 1 + 1 + 1 + 0 + 1);  // the temp, then one addition in outputs 0, 1, 3
    std::mt19937_64 rng(2);
    for (int trial = 0; trial < 10; ++trial) {
        const auto x = random_values(4, rng);
        const auto before = evaluate(p, x), after = evaluate(q, x);
        for (std::size_t o = 0; o < before.size(); ++o) EXPECT_NEAR(before[o], after[o], 1e-14);
    }
}

TEST(FmmKernels, LadermanPlanSavesAdditionsAndStaysExact) {
    const exact_scheme s = known::laderman_published();
    const addition_plan raw = make_addition_plan(s, false), plan = make_addition_plan(s);
    EXPECT_EQ(raw.additions(), raw.additions_before);
    EXPECT_EQ(plan.additions_before, raw.additions_before);
    EXPECT_LT(plan.additions(), plan.additions_before);
    std::mt19937_64 rng(3);
    for (int trial = 0; trial < 20; ++trial) {
        const auto a = random_values(9, rng), b = random_values(9, rng);
        const auto c = plan_product(plan, a, b), ref = classical(3, 3, 3, a, b);
        for (int x = 0; x < 9; ++x) EXPECT_NEAR(c[x], ref[x], 1e-13);
    }
}

TEST(FmmKernels, InvalidSchemeIsRejected) {
    exact_scheme s = known::strassen_published();
    s.terms[2].w[0].num += 1;
    EXPECT_THROW(make_addition_plan(s), invalid_argument);
    EXPECT_THROW(fast_multiplier{s}, invalid_argument);
}

TEST(FmmKernels, StrassenExecutorMatchesNaive) {
    fast_multiplier f(known::strassen_published());
    std::mt19937_64 rng(4);
    for (int levels : {0, 1, 2})
        for (auto [r, k, c] : {std::tuple{64, 64, 64}, {37, 53, 29}, {5, 3, 7}, {1, 9, 4}, {130, 66, 97}}) {
            const auto A = random_matrix<double>(r, k, rng), B = random_matrix<double>(k, c, rng);
            expect_product(f.multiply(A, B, levels), A, B, levels);
            const auto Af = random_matrix<float>(r, k, rng), Bf = random_matrix<float>(k, c, rng);
            expect_product(f.multiply(Af, Bf, levels), Af, Bf, levels);
        }
}

TEST(FmmKernels, LadermanExecutorMatchesNaiveAtOddSizes) {
    fast_multiplier f(known::laderman_published());
    std::mt19937_64 rng(5);
    for (int levels : {1, 2})
        for (auto [r, k, c] : {std::tuple{27, 27, 27}, {59, 61, 47}, {10, 2, 9}}) {
            const auto A = random_matrix<double>(r, k, rng), B = random_matrix<double>(k, c, rng);
            expect_product(f.multiply(A, B, levels), A, B, levels);
            const auto Af = random_matrix<float>(r, k, rng), Bf = random_matrix<float>(k, c, rng);
            expect_product(f.multiply(Af, Bf, levels), Af, Bf, levels);
        }
}

TEST(FmmKernels, LiftedSearchResultMultiplies) {
    // A <2,2,3> scheme of rank 11 found over GF(2) and lifted to Z: a rectangular scheme.
    const exact_scheme s = lifted_search_result(2, 2, 3, 11);
    fast_multiplier f(s);
    EXPECT_EQ(f.plan().rank, 11);
    std::mt19937_64 rng(6);
    for (int levels : {1, 2})
        for (auto [r, k, c] : {std::tuple{44, 40, 63}, {23, 17, 31}}) {
            const auto A = random_matrix<double>(r, k, rng), B = random_matrix<double>(k, c, rng);
            expect_product(f.multiply(A, B, levels), A, B, levels);
        }
}

TEST(FmmKernels, LeadingDimensionsAndOneShot) {
    // C = A B on submatrices of larger arrays; the padding around C is left alone.
    std::mt19937_64 rng(7);
    const auto big_a = random_matrix<double>(40, 50, rng), big_b = random_matrix<double>(50, 60, rng);
    matrix C(40, 60, 7.0);
    fast_multiplier f(known::strassen_published());
    f.multiply(33, 41, 35, big_a.data(), 50, big_b.data(), 60, C.data(), 60, 2);
    matrix A(33, 41), B(41, 35), Csub(33, 35);
    for (index_t i = 0; i < 33; ++i)
        for (index_t j = 0; j < 41; ++j) A(i, j) = big_a(i, j);
    for (index_t j = 0; j < 41; ++j)
        for (index_t k = 0; k < 35; ++k) B(j, k) = big_b(j, k);
    for (index_t i = 0; i < 33; ++i)
        for (index_t k = 0; k < 35; ++k) Csub(i, k) = C(i, k);
    expect_product(Csub, A, B, 2);
    EXPECT_EQ(C(0, 35), 7.0);
    EXPECT_EQ(C(33, 0), 7.0);
    expect_product(multiply(known::strassen_published(), A, B, 1), A, B, 1);
    EXPECT_THROW(f.multiply(A, matrix(40, 3), 1), invalid_argument);
    EXPECT_THROW(f.multiply(3, 4, 5, A.data(), 3, B.data(), 5, C.data(), 5, 1), invalid_argument);  // lda < inner
    EXPECT_GT(f.workspace_elements(64, 64, 64, 2), f.workspace_elements(64, 64, 64, 1));
    EXPECT_EQ(f.workspace_elements(64, 64, 64, 0), 0u);
}

namespace {
int count_of(const std::string& text, const std::string& what) {
    int n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}
// Binary + and - in the fused loops' assignments (temporaries and outputs).
int emitted_additions(const std::string& src) {
    int total = 0;
    std::istringstream in(src);
    for (std::string line; std::getline(in, line);)
        if (line.find("[c] = ") != std::string::npos ||
            (line.find("const T t") != std::string::npos && line.find(" = ") != std::string::npos))
            total += count_of(line, " + ") + count_of(line, " - ");
    return total;
}
}  // namespace

TEST(FmmKernels, GeneratedSourceHasTheSchemesProductsAndAdditions) {
    for (const exact_scheme& s : {known::strassen_published(), known::laderman_published()}) {
        codegen_options o;
        o.levels = 2;
        o.name = "gen";
        codegen_stats st;
        const std::string src = generate_cpp(s, o, &st);
        const addition_plan plan = make_addition_plan(s);
        EXPECT_EQ(st.products, s.rank());
        EXPECT_EQ(st.additions, plan.additions());
        EXPECT_EQ(st.additions_before, plan.additions_before);
        EXPECT_EQ(count_of(src, "fast<L - 1>("), s.rank());  // one recursive product per term
        EXPECT_EQ(emitted_additions(src), plan.additions());
        EXPECT_EQ(count_of(src, "constexpr int levels = 2;"), 1);
        EXPECT_EQ(count_of(src, "cblas_dgemm("), 1);
        EXPECT_EQ(count_of(src, "cblas_sgemm("), 1);
        EXPECT_EQ(count_of(src, "\nnamespace gen {"), 1);
        // Every C block is written once per row: n*p output pointers in the C pass.
        EXPECT_EQ(count_of(src, "T* const qm"), s.n * s.p);
    }
    codegen_options o;
    o.float_type = false;
    const std::string only_double = generate_cpp(known::strassen_published(), o);
    EXPECT_EQ(count_of(only_double, "const float* A, index lda"), 0);
    EXPECT_EQ(count_of(only_double, "const double* A, index lda"), 2);  // gemm wrapper and multiply
    o.levels = 3;
    EXPECT_THROW(generate_cpp(known::strassen_published(), o), invalid_argument);
    o.levels = 1;
    o.name = "3x";
    EXPECT_THROW(generate_cpp(known::strassen_published(), o), invalid_argument);
}

TEST(FmmKernels, EliminationReachesWinogradsFifteenAdditionsOnASearchResult) {
    // <2,2,2> rank 7 from `facto fmm search 2,2,2 --target 7 -j1 --seed 2`, lifted to Z
    // (bench/schemes/search_seed2_15adds.txt): 24 additions, 15 after elimination, as many as
    // the Strassen-Winograd variant.
    const exact_scheme s = parse_exact_text(R"(fmm 2 2 2
field Z
1,1,-1,-1 0,0,1,0 1,0,0,0
1,0,0,0 0,1,0,0 -1,-1,1,1
-1,0,1,0 -1,0,1,0 0,-1,0,1
1,0,-1,-1 -1,-1,1,0 -1,-1,0,1
0,0,0,1 -1,-1,1,1 0,0,0,1
0,0,1,1 1,1,0,0 1,1,0,0
0,1,0,0 0,0,0,1 0,0,1,0
)");
    const addition_plan plan = make_addition_plan(s);
    EXPECT_EQ(plan.additions_before, 24);
    EXPECT_EQ(plan.additions(), 15);
    fast_multiplier f(s);
    std::mt19937_64 rng(8);
    for (int levels : {1, 2}) {
        const auto A = random_matrix<double>(45, 38, rng), B = random_matrix<double>(38, 51, rng);
        expect_product(f.multiply(A, B, levels), A, B, levels);
    }
}
