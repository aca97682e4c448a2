// CSR construction, transpose and conversion back to COO.
#include "facto/core/csr.hpp"

#include <cmath>
#include <string>

namespace facto {

template <class T>
void basic_csr_matrix<T>::validate(const char* who) const {
    const std::string w = who;
    if (rows < 0 || cols < 0) throw invalid_argument(w + ": negative CSR dimensions");
    if (static_cast<index_t>(row_ptr.size()) != rows + 1)
        throw invalid_argument(w + ": CSR row_ptr has " + std::to_string(row_ptr.size()) + " entries, expected " +
                               std::to_string(rows + 1));
    if (col_idx.size() != values.size())
        throw invalid_argument(w + ": CSR has " + std::to_string(col_idx.size()) + " column indices but " +
                               std::to_string(values.size()) + " values");
    if (row_ptr.front() != 0 || row_ptr.back() != nnz())
        throw invalid_argument(w + ": CSR row_ptr must run from 0 to nnz = " + std::to_string(nnz()));
    for (index_t i = 0; i < rows; ++i) {
        const auto b = row_ptr[static_cast<std::size_t>(i)], e = row_ptr[static_cast<std::size_t>(i + 1)];
        if (e < b) throw invalid_argument(w + ": CSR row_ptr decreases at row " + std::to_string(i));
        for (index_t p = b; p < e; ++p) {
            const index_t c = col_idx[static_cast<std::size_t>(p)];
            if (c < 0 || c >= cols)
                throw invalid_argument(w + ": CSR column " + std::to_string(c) + " in row " + std::to_string(i) +
                                       " is outside 0.." + std::to_string(cols - 1));
            if (p > b && c <= col_idx[static_cast<std::size_t>(p - 1)])
                throw invalid_argument(w + ": CSR columns of row " + std::to_string(i) +
                                       " are not strictly increasing");
        }
    }
}

template <class T>
basic_csr_matrix<T> to_csr(const basic_coo_tensor<T>& A, bool transpose_it) {
    if (A.order() != 2)
        throw invalid_argument("to_csr: expected a matrix (order 2), found order " + std::to_string(A.order()));
    A.validate("to_csr");
    basic_coo_tensor<T> copy;
    const basic_coo_tensor<T>* src = &A;
    if (!A.is_canonical()) {
        copy = A;
        copy.canonicalize(true);
        src = &copy;
    }
    const auto r = static_cast<std::size_t>(transpose_it ? 1 : 0), c = 1 - r;
    const auto& ri = src->indices[r];
    const auto& ci = src->indices[c];
    basic_csr_matrix<T> M;
    M.rows = src->shape[r];
    M.cols = src->shape[c];
    M.row_ptr.assign(static_cast<std::size_t>(M.rows + 1), 0);
    for (index_t i : ri) ++M.row_ptr[static_cast<std::size_t>(i + 1)];
    for (index_t i = 0; i < M.rows; ++i)
        M.row_ptr[static_cast<std::size_t>(i + 1)] += M.row_ptr[static_cast<std::size_t>(i)];
    M.col_idx.resize(ri.size());
    M.values.resize(ri.size());
    std::vector<index_t> next(M.row_ptr.begin(), M.row_ptr.end() - 1);
    // Stable counting sort: the canonical order sorts columns within a row (or, transposed,
    // rows within a column), so each CSR row comes out sorted.
    for (std::size_t k = 0; k < ri.size(); ++k) {
        const auto slot = static_cast<std::size_t>(next[static_cast<std::size_t>(ri[k])]++);
        M.col_idx[slot] = ci[k];
        M.values[slot] = src->values[k];
    }
    return M;
}

template <class T>
basic_csr_matrix<T> transpose(const basic_csr_matrix<T>& A) {
    A.validate("transpose");
    basic_csr_matrix<T> M;
    M.rows = A.cols;
    M.cols = A.rows;
    M.row_ptr.assign(static_cast<std::size_t>(M.rows + 1), 0);
    for (index_t c : A.col_idx) ++M.row_ptr[static_cast<std::size_t>(c + 1)];
    for (index_t i = 0; i < M.rows; ++i)
        M.row_ptr[static_cast<std::size_t>(i + 1)] += M.row_ptr[static_cast<std::size_t>(i)];
    M.col_idx.resize(A.col_idx.size());
    M.values.resize(A.values.size());
    std::vector<index_t> next(M.row_ptr.begin(), M.row_ptr.end() - 1);
    for (index_t i = 0; i < A.rows; ++i)
        for (index_t p = A.row_ptr[static_cast<std::size_t>(i)]; p < A.row_ptr[static_cast<std::size_t>(i + 1)]; ++p) {
            const auto slot = static_cast<std::size_t>(next[static_cast<std::size_t>(A.col_idx[static_cast<std::size_t>(p)])]++);
            M.col_idx[slot] = i;
            M.values[slot] = A.values[static_cast<std::size_t>(p)];
        }
    return M;
}

template <class T>
basic_coo_tensor<T> to_coo(const basic_csr_matrix<T>& A) {
    A.validate("to_coo");
    basic_coo_tensor<T> X(shape_t{A.rows, A.cols});
    X.indices[0].reserve(A.values.size());
    for (index_t i = 0; i < A.rows; ++i)
        X.indices[0].insert(X.indices[0].end(),
                            static_cast<std::size_t>(A.row_ptr[static_cast<std::size_t>(i + 1)] -
                                                     A.row_ptr[static_cast<std::size_t>(i)]),
                            i);
    X.indices[1] = A.col_idx;
    X.values = A.values;
    return X;
}

template <class T>
double norm(const basic_csr_matrix<T>& A) {
    double s = 0;
    for (T v : A.values) s += static_cast<double>(v) * static_cast<double>(v);
    return std::sqrt(s);
}

#define FACTO_INSTANTIATE_CSR(T)                                                          \
    template struct basic_csr_matrix<T>;                                                  \
    template basic_csr_matrix<T> to_csr(const basic_coo_tensor<T>&, bool);               \
    template basic_csr_matrix<T> transpose(const basic_csr_matrix<T>&);                   \
    template basic_coo_tensor<T> to_coo(const basic_csr_matrix<T>&);                      \
    template double norm(const basic_csr_matrix<T>&);
FACTO_INSTANTIATE_CSR(float)
FACTO_INSTANTIATE_CSR(double)
#undef FACTO_INSTANTIATE_CSR

}  // namespace facto
