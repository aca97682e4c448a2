// facto/fmm/kernels.hpp: fast matrix multiplication with an exact (integer or rational) scheme:
// the addition plan with common subexpressions eliminated, a recursive executor over BLAS gemm
// leaves, and generation of a self-contained C++ source for the same algorithm.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "facto/core/matrix.hpp"
#include "facto/core/types.hpp"
#include "facto/fmm/exact.hpp"

namespace facto::fmm {

// ---------------------------------------------------------------------------------------
// Addition plan

/// sum of coefficient * operand; operand o < inputs is input o, otherwise temporary o - inputs.
struct linear_combination {
    std::vector<std::pair<int, rational>> terms;
    friend bool operator==(const linear_combination&, const linear_combination&) = default;
};

/// Straight-line additions: temporaries (each over the inputs and earlier temporaries), then
/// outputs (over inputs and temporaries). One side of a scheme: A blocks -> S_t, B blocks ->
/// T_t, products M_t -> C blocks.
struct addition_program {
    int inputs = 0;
    std::vector<linear_combination> temps;
    std::vector<linear_combination> outputs;
    /// Additions (and subtractions) needed: terms - 1 per temporary and per nonempty output.
    /// Scalings by coefficients other than +-1 are not counted.
    int additions() const;
    /// Outputs that are a single input with coefficient 1 (used in place, no copy).
    int aliases() const;
};

/// The additions of one recursion level of a scheme <n,m,p> of rank r.
struct addition_plan {
    int n = 0, m = 0, p = 0, rank = 0;
    addition_program a;  ///< inputs: A blocks (i*m+j); outputs: S_t = sum_ij u_t[i*m+j] A_ij
    addition_program b;  ///< inputs: B blocks (j*p+k); outputs: T_t = sum_jk v_t[j*p+k] B_jk
    addition_program c;  ///< inputs: products M_t = S_t T_t; outputs: C_ik (i*p+k) = sum_t w_t[k*n+i] M_t
    int additions_before = 0;  ///< additions without common subexpression elimination
    int additions() const { return a.additions() + b.additions() + c.additions(); }
};

/// Greedy common subexpression elimination: while some pair of operands occurs, with the same
/// coefficient ratio, in two or more combinations, the most frequent such pair x + q y becomes a
/// temporary (ties: the first pair found scanning combinations in order) and replaces a x + a q y
/// by a * temp wherever it occurs. Each round saves (occurrences - 1) additions.
addition_program eliminate_common_subexpressions(addition_program prog);

/// The plan of one level of s (validated with require_valid_exact first); eliminate: apply
/// eliminate_common_subexpressions to the three programs.
addition_plan make_addition_plan(const exact_scheme& s, bool eliminate = true);

/// Value of the plan's program on numbers (inputs in, outputs returned), for tests.
std::vector<double> evaluate(const addition_program& prog, const std::vector<double>& inputs);

// ---------------------------------------------------------------------------------------
// Runtime executor

/// C = A B (row-major, rows x inner times inner x cols) by `levels` levels of a scheme <n,m,p>
/// with BLAS gemm at the leaves.
///
/// Each level splits the largest leading part whose dimensions divide by n, m and p into
/// blocks and applies the scheme to them; the remaining rows, columns and inner strip (fewer
/// than n, p and m) are peeled off and done by gemm (C += A_strip B_strip and the border
/// rows/columns of C). A level whose blocks would be empty is not applied. No padding and no
/// copies of A or B beyond the sums S_t, T_t.
///
/// Memory: per level, one buffer per S_t and T_t that is not a plain block of A or B and one per
/// product M_t, sized by that level's blocks (for Strassen at one level: 5 + 5 + 7 quarter-size
/// blocks, 17/4 of a full matrix); held by the object and reused across calls. The sums are
/// evaluated in one pass over each row of the blocks with the temporaries in a row buffer,
/// split over omp_get_max_threads() std::threads (not an OpenMP team, whose spinning workers
/// slow down the BLAS threads of the next gemm). Not safe to call concurrently on one object.
class fast_multiplier {
public:
    /// The scheme is verified exactly (facto::invalid_argument otherwise) and planned once.
    explicit fast_multiplier(const exact_scheme& s, bool eliminate_common = true);
    ~fast_multiplier();
    fast_multiplier(fast_multiplier&&) noexcept;
    fast_multiplier& operator=(fast_multiplier&&) noexcept;

    const addition_plan& plan() const noexcept;

    /// C = A B; leading dimensions lda >= inner, ldb >= cols, ldc >= cols. levels >= 0 (0: gemm).
    void multiply(index_t rows, index_t inner, index_t cols, const double* A, index_t lda, const double* B,
                  index_t ldb, double* C, index_t ldc, int levels);
    void multiply(index_t rows, index_t inner, index_t cols, const float* A, index_t lda, const float* B,
                  index_t ldb, float* C, index_t ldc, int levels);
    matrix multiply(const matrix& A, const matrix& B, int levels);
    matrix_f multiply(const matrix_f& A, const matrix_f& B, int levels);

    /// Elements of workspace multiply() needs for these dimensions and levels.
    std::size_t workspace_elements(index_t rows, index_t inner, index_t cols, int levels) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// One-shot C = A B with `levels` levels of s (plans, multiplies, frees).
matrix multiply(const exact_scheme& s, const matrix& A, const matrix& B, int levels);
matrix_f multiply(const exact_scheme& s, const matrix_f& A, const matrix_f& B, int levels);

// ---------------------------------------------------------------------------------------
// Code generation

/// Options of generate_cpp().
struct codegen_options {
    int levels = 1;            ///< recursion levels of the entry points (1 or 2; the template takes any)
    std::string name = "fmm";  ///< namespace of the generated code (a C++ identifier)
    bool double_type = true;   ///< emit NAME::multiply for double
    bool float_type = true;    ///< emit NAME::multiply for float
    bool eliminate_common = true;
};

/// Counts of what generate_cpp() emitted, for tests and reports.
struct codegen_stats {
    int products = 0;   ///< recursive calls per level (the rank)
    int additions = 0;  ///< additions per level in the emitted expressions (after elimination)
    int additions_before = 0;
    int temporaries = 0;  ///< CSE temporaries (scalars in the fused loops)
};

/// A self-contained C++20 source (needs only <cblas.h>; compiles with g++ -O3 -std=c++20 -c, links
/// with OpenBLAS) for the scheme's recursive multiplication:
///   template <int L, class T> void NAME::fast(rows, inner, cols, A, lda, B, ldb, C, ldc, T* work);
///   std::size_t NAME::workspace_elements(rows, inner, cols, levels);
///   void NAME::multiply(rows, inner, cols, const T* A, lda, const T* B, ldb, T* C, ldc, T* work);
///   void NAME::set_threads(int threads);
/// (row-major C = A B, `levels` levels, peeling like fast_multiplier; work: nullptr or
/// workspace_elements() elements). Each side's sums are one fused loop over the block rows with
/// the CSE temporaries as scalars, split over std::threads; the leaves call
/// cblas_dgemm/cblas_sgemm. Throws facto::invalid_argument for levels outside 1..2, an invalid
/// name or scheme, or no element type.
std::string generate_cpp(const exact_scheme& s, const codegen_options& opts, codegen_stats* stats = nullptr);

}  // namespace facto::fmm
