// test_types.cpp: shape arithmetic.
#include "facto/core/types.hpp"

#include <gtest/gtest.h>

#include "facto/core/error.hpp"

namespace facto {

TEST(Types, ShapeSize) {
    EXPECT_EQ(shape_size({}), 1);
    EXPECT_EQ(shape_size({3, 4, 5}), 60);
    EXPECT_EQ(shape_size({3, 0, 5}), 0);
    EXPECT_THROW(shape_size({3, -1}), invalid_argument);
    EXPECT_THROW(shape_size({index_t{1} << 40, index_t{1} << 40}), invalid_argument);
}

TEST(Types, ShapeString) {
    EXPECT_EQ(shape_string({10, 8, 6}), "10x8x6");
    EXPECT_EQ(shape_string({7}), "7");
    EXPECT_EQ(shape_string({}), "()");
}

}  // namespace facto
