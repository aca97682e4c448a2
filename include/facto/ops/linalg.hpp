// facto/ops/linalg.hpp: the small dense products around CP: Gram, Hadamard, Khatri-Rao, solves.
#pragma once
#include <span>
#include <vector>

#include "facto/core/csr.hpp"
#include "facto/core/matrix.hpp"

namespace facto {

/// G = A^T A (cols x cols), through BLAS syrk.
template <class T>
basic_matrix<T> gram(const basic_matrix<T>& A);

/// Elementwise product of equally shaped matrices, in place: A .*= B.
template <class T>
void hadamard_inplace(basic_matrix<T>& A, const basic_matrix<T>& B);

/// Khatri-Rao (column-wise Kronecker) product of matrices with equal column counts.
/// Row index runs over the inputs in row-major order: row (i0, i1, ..., ik) of the result
/// is the elementwise product of row i0 of mats[0], ..., row ik of mats[k], with ik fastest.
/// This matches unfold(): X_(n) = A_n * diag(w) * khatri_rao(other factors in mode order)^T.
template <class T>
basic_matrix<T> khatri_rao(std::span<const basic_matrix<T>> mats);

/// C = A * B (or with transposes) through BLAS gemm.
template <class T>
basic_matrix<T> matmul(const basic_matrix<T>& A, const basic_matrix<T>& B, bool trans_a = false,
                       bool trans_b = false);

/// Solves X * G = B for X (B is n x r, G is r x r symmetric positive semidefinite), overwriting B.
/// Cholesky first; when G is singular or ill-conditioned (reciprocal condition estimate below
/// ~ r * eps), falls back to the eigendecomposition pseudo-inverse. Returns true when the
/// fallback was used.
template <class T>
bool solve_spd_right(const basic_matrix<T>& G, basic_matrix<T>& B);

/// Leading k eigenvectors (columns, by decreasing eigenvalue) of a symmetric matrix, and the
/// eigenvalues; used for SVD-based initialization from a Gram matrix.
template <class T>
basic_matrix<T> leading_eigenvectors(const basic_matrix<T>& S, index_t k, std::vector<T>* values = nullptr);

/// Y = A X for sparse A (rows x cols, CSR) and dense X (cols x l): rows of Y in parallel,
/// race-free and deterministic. For A^T X, multiply by transpose(A) (built once).
/// @throws facto::invalid_argument if X.rows() != A.cols.
template <class T>
basic_matrix<T> spmm(const basic_csr_matrix<T>& A, const basic_matrix<T>& X);

}  // namespace facto
