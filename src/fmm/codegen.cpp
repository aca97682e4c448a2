// src/fmm/codegen.cpp: a self-contained C++ source for a scheme's recursive multiplication:
// fused addition loops with the CSE temporaries as scalars, recursive products, cblas leaves.
#include <cctype>
#include <sstream>

#include "facto/core/error.hpp"
#include "facto/fmm/kernels.hpp"

namespace facto::fmm {

namespace {

bool is_identifier(const std::string& s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
}

// " + x", " - x", " + T(2) * x", " + (T(1) / T(3)) * x" (first: without the leading " + ").
std::string term_text(const rational& q, const std::string& operand, bool first) {
    std::string sign = q.num < 0 ? (first ? "-" : " - ") : (first ? "" : " + ");
    const std::int64_t a = q.num < 0 ? -q.num : q.num;
    if (a == 1 && q.den == 1) return sign + operand;
    if (q.den == 1) return sign + "T(" + std::to_string(a) + ") * " + operand;
    return sign + "(T(" + std::to_string(a) + ") / T(" + std::to_string(q.den) + ")) * " + operand;
}

std::string expression(const linear_combination& c, const std::vector<std::string>& names) {
    if (c.terms.empty()) return "T(0)";
    std::string out;
    for (std::size_t t = 0; t < c.terms.size(); ++t) out += term_text(c.terms[t].second, names.at(c.terms[t].first), t == 0);
    return out;
}

bool is_alias(const addition_program& p, std::size_t o) {
    const auto& t = p.outputs[o].terms;
    return t.size() == 1 && t[0].first < p.inputs && t[0].second == rational{1, 1};
}

// One fused pass over `rows` x `len`: the inputs' rows (pointer expressions given per input),
// temporaries as scalars, outputs written where out_row[o] points (skipped when empty).
void emit_pass(std::ostringstream& o, const std::string& title, const addition_program& p, const std::string& rows,
               const std::string& len, const std::string& letter, const std::vector<std::string>& in_row,
               const std::vector<std::string>& out_row) {
    std::vector<bool> used(p.inputs + p.temps.size(), false);
    std::vector<bool> write(p.outputs.size(), false);
    for (std::size_t k = 0; k < p.outputs.size(); ++k)
        if (!out_row[k].empty()) {
            write[k] = true;
            for (const auto& t : p.outputs[k].terms) used[t.first] = true;
        }
    for (std::size_t k = p.temps.size(); k-- > 0;)
        if (used[p.inputs + k])
            for (const auto& t : p.temps[k].terms) used[t.first] = true;
    std::vector<std::string> names;
    for (int i = 0; i < p.inputs; ++i) names.push_back("x" + letter + std::to_string(i));
    for (std::size_t k = 0; k < p.temps.size(); ++k) names.push_back("t" + letter + std::to_string(k));

    o << "        // " << title << "\n";
    o << "        parallel_rows(" << rows << ", " << rows << " * " << len << ", [&](index r0, index r1) {\n";
    o << "        for (index r = r0; r < r1; ++r) {\n";
    for (int i = 0; i < p.inputs; ++i)
        if (used[i]) o << "            const T* const p" << letter << i << " = " << in_row[i] << ";\n";
    for (std::size_t k = 0; k < p.outputs.size(); ++k)
        if (write[k]) o << "            T* const q" << letter << k << " = " << out_row[k] << ";\n";
    o << "#pragma GCC ivdep\n";
    o << "            for (index c = 0; c < " << len << "; ++c) {\n";
    for (int i = 0; i < p.inputs; ++i)
        if (used[i]) o << "                const T " << names[i] << " = p" << letter << i << "[c];\n";
    for (std::size_t k = 0; k < p.temps.size(); ++k)
        if (used[p.inputs + k])
            o << "                const T " << names[p.inputs + k] << " = " << expression(p.temps[k], names) << ";\n";
    for (std::size_t k = 0; k < p.outputs.size(); ++k)
        if (write[k]) o << "                q" << letter << k << "[c] = " << expression(p.outputs[k], names) << ";\n";
    o << "            }\n        }\n        });\n";
}

}  // namespace

std::string generate_cpp(const exact_scheme& s, const codegen_options& opts, codegen_stats* stats) {
    if (opts.levels < 1 || opts.levels > 2)
        throw invalid_argument("generate_cpp: levels must be 1 or 2, got " + std::to_string(opts.levels));
    if (!is_identifier(opts.name))
        throw invalid_argument("generate_cpp: name '" + opts.name + "' is not a C++ identifier");
    if (!opts.double_type && !opts.float_type) throw invalid_argument("generate_cpp: no element type selected");
    const addition_plan plan = make_addition_plan(s, opts.eliminate_common);  // verifies s
    const int n = plan.n, m = plan.m, p = plan.p, r = plan.rank;
    int s_buffers = 0, t_buffers = 0;
    std::vector<int> s_buf(r, -1), t_buf(r, -1);
    for (int t = 0; t < r; ++t) {
        if (!is_alias(plan.a, t)) s_buf[t] = s_buffers++;
        if (!is_alias(plan.b, t)) t_buf[t] = t_buffers++;
    }
    if (stats) {
        stats->products = r;
        stats->additions = plan.additions();
        stats->additions_before = plan.additions_before;
        stats->temporaries = static_cast<int>(plan.a.temps.size() + plan.b.temps.size() + plan.c.temps.size());
    }

    std::ostringstream o;
    o << "// Generated by `facto fmm codegen`: C = A B (row-major) by " << opts.levels << " level"
      << (opts.levels == 1 ? "" : "s") << " of a <" << n << "," << m << "," << p << "> scheme of rank " << r
      << ",\n// with BLAS gemm at the leaves. Additions per level: " << plan.additions() << " ("
      << plan.additions_before << " before common subexpression elimination; "
      << plan.a.temps.size() + plan.b.temps.size() + plan.c.temps.size() << " temporaries).\n"
      << "// Sizes that do not divide by the block counts are peeled: the leading part that does is split\n"
      << "// into blocks, the leftover inner strip, columns and rows are done by gemm.\n"
      << "// Entry points (declare them where you call them):\n"
      << "//   namespace " << opts.name << " {\n"
      << "//   std::size_t workspace_elements(std::ptrdiff_t rows, std::ptrdiff_t inner, std::ptrdiff_t cols);\n"
      << "//   void set_threads(int threads);  // of the addition loops; 0 (default): all cores\n";
    for (const char* ty : {"double", "float"}) {
        if ((std::string(ty) == "double" && !opts.double_type) || (std::string(ty) == "float" && !opts.float_type))
            continue;
        o << "//   void multiply(std::ptrdiff_t rows, std::ptrdiff_t inner, std::ptrdiff_t cols, const " << ty
          << "* A, std::ptrdiff_t lda,\n//                 const " << ty << "* B, std::ptrdiff_t ldb, " << ty
          << "* C, std::ptrdiff_t ldc, " << ty << "* work = nullptr);\n";
    }
    o << "//   }\n// work: workspace_elements(rows, inner, cols) elements, or nullptr to allocate them per call.\n"
      << "#include <cblas.h>\n\n#include <algorithm>\n#include <cstddef>\n#include <memory>\n#include <thread>\n"
      << "#include <vector>\n\n"
      << "namespace " << opts.name << " {\n\nusing index = std::ptrdiff_t;\n"
      << "constexpr int levels = " << opts.levels << ";\n\nnamespace {\n\n"
      << "int thread_count = 0;  // threads of the addition loops; 0: std::thread::hardware_concurrency()\n\n"
      << "// Rows [0, rows) split over threads when the loop is large. std::thread rather than OpenMP:\n"
      << "// OpenMP workers spin after a region and take the cores from the next gemm's BLAS threads.\n"
      << "template <class F>\n"
      << "void parallel_rows(index rows, index work, const F& body) {\n"
      << "    int parts = 1;\n"
      << "    if (work >= 32768) {\n"
      << "        const int t = thread_count > 0 ? thread_count : int(std::thread::hardware_concurrency());\n"
      << "        parts = int(std::min<index>(std::max(t, 1), rows));\n"
      << "    }\n"
      << "    if (parts <= 1) {\n"
      << "        body(index(0), rows);\n"
      << "        return;\n"
      << "    }\n"
      << "    std::vector<std::thread> team;\n"
      << "    for (int q = 1; q < parts; ++q)\n"
      << "        team.emplace_back([&body, rows, parts, q] { body(rows * q / parts, rows * (q + 1) / parts); });\n"
      << "    body(index(0), rows / parts);\n"
      << "    for (std::thread& t : team) t.join();\n"
      << "}\n\n"
      << "constexpr index N = " << n << ", M = " << m << ", P = " << p << ", RANK = " << r << ";\n"
      << "constexpr index S_BUFFERS = " << s_buffers << ", T_BUFFERS = " << t_buffers << ";\n\n"
      << (opts.double_type
              ? "inline void gemm(index rows, index inner, index cols, const double* A, index lda, const double* B,\n"
                "                 index ldb, double beta, double* C, index ldc) {\n"
                "    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(cols), int(inner), 1.0, A, "
                "int(lda), B,\n                int(ldb), beta, C, int(ldc));\n}\n"
              : "")
      << (opts.float_type
              ? "inline void gemm(index rows, index inner, index cols, const float* A, index lda, const float* B,\n"
                "                 index ldb, float beta, float* C, index ldc) {\n"
                "    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(cols), int(inner), 1.0f, A, "
                "int(lda), B,\n                int(ldb), beta, C, int(ldc));\n}\n"
              : "")
      << "\n"
      << "std::size_t workspace(index rows, index inner, index cols, int level) {\n"
      << "    if (level <= 0 || rows < N || inner < M || cols < P) return 0;\n"
      << "    const index bm = rows / N, bk = inner / M, bn = cols / P;\n"
      << "    return std::size_t(S_BUFFERS * bm * bk + T_BUFFERS * bk * bn + RANK * bm * bn) + workspace(bm, bk, bn, level - 1);\n"
      << "}\n\n"
      << "template <int L, class T>\n"
      << "void fast(index rows, index inner, index cols, const T* A, index lda, const T* B, index ldb, T* C, index ldc,\n"
      << "          T* work) {\n"
      << "    if constexpr (L == 0) {\n"
      << "        gemm(rows, inner, cols, A, lda, B, ldb, T(0), C, ldc);\n"
      << "    } else {\n"
      << "        if (rows < N || inner < M || cols < P) {\n"
      << "            gemm(rows, inner, cols, A, lda, B, ldb, T(0), C, ldc);\n"
      << "            return;\n"
      << "        }\n"
      << "        const index bm = rows / N, bk = inner / M, bn = cols / P;\n"
      << "        T* const S = work;\n"
      << "        T* const Tb = S + S_BUFFERS * bm * bk;\n"
      << "        T* const Mp = Tb + T_BUFFERS * bk * bn;\n"
      << "        T* const sub = Mp + RANK * bm * bn;\n";

    // A side: inputs A_ij rows, outputs S_t (non-alias) rows.
    std::vector<std::string> in_row, out_row;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < m; ++j)
            in_row.push_back("A + (" + std::to_string(i) + " * bm + r) * lda + " + std::to_string(j) + " * bk");
    for (int t = 0; t < r; ++t)
        out_row.push_back(s_buf[t] < 0 ? "" : "S + (" + std::to_string(s_buf[t]) + " * bm + r) * bk");
    emit_pass(o, "S_t = sums of A blocks", plan.a, "bm", "bk", "a", in_row, out_row);
    in_row.clear(), out_row.clear();
    for (int j = 0; j < m; ++j)
        for (int k = 0; k < p; ++k)
            in_row.push_back("B + (" + std::to_string(j) + " * bk + r) * ldb + " + std::to_string(k) + " * bn");
    for (int t = 0; t < r; ++t)
        out_row.push_back(t_buf[t] < 0 ? "" : "Tb + (" + std::to_string(t_buf[t]) + " * bk + r) * bn");
    emit_pass(o, "T_t = sums of B blocks", plan.b, "bk", "bn", "b", in_row, out_row);

    o << "        // M_t = S_t T_t, recursively\n";
    for (int t = 0; t < r; ++t) {
        std::string sa, sld, tb, tld;
        if (s_buf[t] < 0) {
            const int x = plan.a.outputs[t].terms[0].first;
            sa = "A + " + std::to_string(x / m) + " * bm * lda + " + std::to_string(x % m) + " * bk";
            sld = "lda";
        } else {
            sa = "S + " + std::to_string(s_buf[t]) + " * bm * bk";
            sld = "bk";
        }
        if (t_buf[t] < 0) {
            const int x = plan.b.outputs[t].terms[0].first;
            tb = "B + " + std::to_string(x / p) + " * bk * ldb + " + std::to_string(x % p) + " * bn";
            tld = "ldb";
        } else {
            tb = "Tb + " + std::to_string(t_buf[t]) + " * bk * bn";
            tld = "bn";
        }
        o << "        fast<L - 1>(bm, bk, bn, " << sa << ", " << sld << ", " << tb << ", " << tld << ", Mp + " << t
          << " * bm * bn, bn, sub);\n";
    }
    in_row.clear(), out_row.clear();
    for (int t = 0; t < r; ++t) in_row.push_back("Mp + (" + std::to_string(t) + " * bm + r) * bn");
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < p; ++k)
            out_row.push_back("C + (" + std::to_string(i) + " * bm + r) * ldc + " + std::to_string(k) + " * bn");
    emit_pass(o, "C_ik = sums of products", plan.c, "bm", "bn", "m", in_row, out_row);

    o << "        // Peeling: the inner strip, right columns and bottom rows the blocks leave out.\n"
      << "        const index R = bm * N, K = bk * M, NC = bn * P;\n"
      << "        if (K < inner) gemm(R, inner - K, NC, A + K, lda, B + K * ldb, ldb, T(1), C, ldc);\n"
      << "        if (NC < cols) gemm(R, inner, cols - NC, A, lda, B + NC, ldb, T(0), C + NC, ldc);\n"
      << "        if (R < rows) gemm(rows - R, inner, cols, A + R * lda, lda, B, ldb, T(0), C + R * ldc, ldc);\n"
      << "    }\n}\n\n"
      << "template <class T>\n"
      << "void run(index rows, index inner, index cols, const T* A, index lda, const T* B, index ldb, T* C, index ldc,\n"
      << "         T* work) {\n"
      << "    if (rows <= 0 || cols <= 0) return;\n"
      << "    if (inner <= 0) {\n"
      << "        for (index i = 0; i < rows; ++i)\n"
      << "            for (index k = 0; k < cols; ++k) C[i * ldc + k] = T(0);\n"
      << "        return;\n"
      << "    }\n"
      << "    std::unique_ptr<T[]> own;\n"
      << "    if (!work) {\n"
      << "        own.reset(new T[workspace(rows, inner, cols, levels) + 1]);\n"
      << "        work = own.get();\n"
      << "    }\n"
      << "    fast<levels>(rows, inner, cols, A, lda, B, ldb, C, ldc, work);\n"
      << "}\n\n}  // namespace\n\n"
      << "void set_threads(int threads) { thread_count = threads; }\n\n"
      << "std::size_t workspace_elements(index rows, index inner, index cols) {\n"
      << "    return workspace(rows, inner, cols, levels);\n}\n";
    for (const char* ty : {"double", "float"}) {
        if ((std::string(ty) == "double" && !opts.double_type) || (std::string(ty) == "float" && !opts.float_type))
            continue;
        o << "\nvoid multiply(index rows, index inner, index cols, const " << ty << "* A, index lda, const " << ty
          << "* B, index ldb, " << ty << "* C,\n              index ldc, " << ty << "* work) {\n"
          << "    run(rows, inner, cols, A, lda, B, ldb, C, ldc, work);\n}\n";
    }
    o << "\n}  // namespace " << opts.name << "\n";
    return o.str();
}

}  // namespace facto::fmm
