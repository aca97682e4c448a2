// test_matrix.cpp: the dense row-major matrix.
#include "facto/core/matrix.hpp"

#include <gtest/gtest.h>

namespace facto {

TEST(Matrix, RowMajorLayout) {
    matrix M(2, 3);
    M(1, 2) = 5;
    M(0, 1) = 7;
    EXPECT_EQ(M.data()[1 * 3 + 2], 5);
    EXPECT_EQ(M.data()[1], 7);
    EXPECT_EQ(M.row(1)[2], 5);
    EXPECT_EQ(M.row(1).size(), 3u);
    EXPECT_EQ(M.size(), 6);
}

TEST(Matrix, ConstructFromData) {
    matrix_f M(2, 2, std::vector<float>{1, 2, 3, 4});
    EXPECT_EQ(M(1, 0), 3.0f);
    EXPECT_THROW(matrix(2, 2, std::vector<double>{1, 2, 3}), invalid_argument);
    EXPECT_THROW(matrix(-1, 2), invalid_argument);
}

TEST(Matrix, ResizeFillEquality) {
    matrix A(2, 2, 1.0);
    A.resize(3, 1);
    EXPECT_EQ(A.rows(), 3);
    EXPECT_EQ(A(2, 0), 0.0);
    A.fill(2.5);
    matrix B(3, 1, 2.5);
    EXPECT_EQ(A, B);
    B(0, 0) = 1;
    EXPECT_NE(A, B);
    EXPECT_TRUE(matrix().empty());
}

TEST(Matrix, ReshapeForOverwriteReusesStorage) {
    matrix M(6, 5);
    const double* before = M.data();
    M.reshape_for_overwrite(3, 4);
    EXPECT_EQ(M.rows(), 3);
    EXPECT_EQ(M.cols(), 4);
    EXPECT_EQ(M.size(), 12);
    EXPECT_EQ(M.data(), before);
    M.reshape_for_overwrite(5, 6);  // back within capacity
    EXPECT_EQ(M.data(), before);
    EXPECT_THROW(M.reshape_for_overwrite(-1, 2), invalid_argument);
}

}  // namespace facto
