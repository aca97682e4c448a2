// facto/core/csr.hpp: compressed sparse rows, the layout of sparse matrices for row-parallel
// products (randomized SVD, NMF, recommendation).
#pragma once
#include <vector>

#include "facto/core/sparse.hpp"
#include "facto/core/types.hpp"

namespace facto {

/// Sparse matrix in CSR: the entries of row i are col_idx / values at row_ptr[i] .. row_ptr[i+1]-1,
/// columns strictly increasing within a row (no duplicates). 0-based.
template <class T>
struct basic_csr_matrix {
    using value_type = T;

    index_t rows = 0, cols = 0;
    std::vector<index_t> row_ptr = {0};  ///< rows + 1 offsets, row_ptr[0] = 0
    std::vector<index_t> col_idx;        ///< nnz column indices
    std::vector<T> values;               ///< nnz values

    index_t nnz() const noexcept { return static_cast<index_t>(values.size()); }
    /// Throws facto::invalid_argument naming `who` when the arrays are inconsistent (lengths,
    /// offsets not increasing, a column out of range or not increasing within its row).
    void validate(const char* who) const;
};
using csr_matrix = basic_csr_matrix<double>;
using csr_matrix_f = basic_csr_matrix<float>;

/// CSR of an order-2 COO tensor (rows = mode 0), or of its transpose. Works on a canonical copy
/// when A is not canonical, so duplicates are summed; explicit zeros are kept.
/// @throws facto::invalid_argument if A is not of order 2 or is inconsistent.
template <class T>
[[nodiscard]] basic_csr_matrix<T> to_csr(const basic_coo_tensor<T>& A, bool transpose = false);

/// A^T in CSR (a stable counting sort by column: O(nnz + cols)).
template <class T>
[[nodiscard]] basic_csr_matrix<T> transpose(const basic_csr_matrix<T>& A);

/// The same entries as an order-2 canonical COO tensor.
template <class T>
[[nodiscard]] basic_coo_tensor<T> to_coo(const basic_csr_matrix<T>& A);

/// Frobenius norm of the stored values.
template <class T>
[[nodiscard]] double norm(const basic_csr_matrix<T>& A);

}  // namespace facto
