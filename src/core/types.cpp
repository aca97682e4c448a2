// types.cpp: shape arithmetic with overflow checks.
#include "facto/core/types.hpp"

#include <limits>

#include "facto/core/error.hpp"

namespace facto {

index_t shape_size(const shape_t& shape) {
    index_t n = 1;
    for (index_t d : shape) {
        if (d < 0) throw invalid_argument("negative dimension in shape " + shape_string(shape));
        if (d != 0 && n > std::numeric_limits<index_t>::max() / d)
            throw invalid_argument("shape " + shape_string(shape) + " has more entries than fit in 64 bits");
        n *= d;
    }
    return n;
}

std::string shape_string(const shape_t& shape) {
    std::string s;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += 'x';
        s += std::to_string(shape[i]);
    }
    return s.empty() ? "()" : s;
}

}  // namespace facto
