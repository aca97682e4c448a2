// test_csr.cpp: COO <-> CSR conversion, transpose and validation against a dense oracle.
#include "facto/core/csr.hpp"

#include <gtest/gtest.h>

#include <random>

namespace facto {
namespace {

coo_tensor random_coo(index_t rows, index_t cols, unsigned seed, bool duplicates) {
    std::mt19937_64 rng(seed);
    coo_tensor A(shape_t{rows, cols});
    for (int k = 0; k < 3 * static_cast<int>(rows + cols); ++k) {
        const index_t c[2] = {static_cast<index_t>(rng() % static_cast<unsigned>(rows)),
                              static_cast<index_t>(rng() % static_cast<unsigned>(cols))};
        A.push_back(c, static_cast<double>(rng() % 100) - 50);
        if (duplicates && k % 5 == 0) A.push_back(c, 1.0);
    }
    return A;
}

tensor dense_of(const csr_matrix& M) {
    tensor D(shape_t{M.rows, M.cols});
    for (index_t i = 0; i < M.rows; ++i)
        for (index_t p = M.row_ptr[static_cast<std::size_t>(i)]; p < M.row_ptr[static_cast<std::size_t>(i + 1)]; ++p)
            D.data()[i * M.cols + M.col_idx[static_cast<std::size_t>(p)]] += M.values[static_cast<std::size_t>(p)];
    return D;
}

}  // namespace

TEST(Csr, FromCooSumsDuplicatesAndSortsRows) {
    const coo_tensor A = random_coo(13, 7, 1, true);
    const csr_matrix M = to_csr(A);
    M.validate("test");
    EXPECT_EQ(M.rows, 13);
    EXPECT_EQ(M.cols, 7);
    const tensor D = to_dense(A);
    EXPECT_EQ(dense_of(M).values(), D.values());
    coo_tensor C = A;
    C.canonicalize(true);
    EXPECT_EQ(M.nnz(), C.nnz());
    EXPECT_DOUBLE_EQ(norm(M), norm(C));
}

TEST(Csr, TransposeBothWays) {
    const coo_tensor A = random_coo(11, 17, 2, true);
    const csr_matrix T1 = to_csr(A, true), T2 = transpose(to_csr(A));
    T1.validate("test");
    EXPECT_EQ(T1.row_ptr, T2.row_ptr);
    EXPECT_EQ(T1.col_idx, T2.col_idx);
    EXPECT_EQ(T1.values, T2.values);
    const tensor D = to_dense(A), Dt = dense_of(T1);
    for (index_t i = 0; i < 11; ++i)
        for (index_t j = 0; j < 17; ++j) EXPECT_EQ(Dt.data()[j * 11 + i], D.data()[i * 17 + j]);
    EXPECT_EQ(transpose(transpose(T1)).col_idx, T1.col_idx);
}

TEST(Csr, RoundTripToCoo) {
    coo_tensor A = random_coo(9, 4, 3, false);
    A.canonicalize(true);
    const coo_tensor B = to_coo(to_csr(A));
    EXPECT_EQ(B.shape, A.shape);
    EXPECT_EQ(B.indices, A.indices);
    EXPECT_EQ(B.values, A.values);
}

TEST(Csr, EmptyAndRejected) {
    const csr_matrix E = to_csr(coo_tensor(shape_t{0, 5}));
    EXPECT_EQ(E.rows, 0);
    EXPECT_EQ(E.nnz(), 0);
    E.validate("test");
    EXPECT_THROW((void)to_csr(coo_tensor(shape_t{2, 2, 2})), invalid_argument);
    csr_matrix bad;
    bad.rows = 1;
    bad.cols = 2;
    bad.row_ptr = {0, 2};
    bad.col_idx = {1, 0};
    bad.values = {1, 2};
    EXPECT_THROW(bad.validate("test"), invalid_argument);
    bad.col_idx = {0, 2};
    EXPECT_THROW(bad.validate("test"), invalid_argument);
}

}  // namespace facto
