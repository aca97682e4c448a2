// core/norm_accumulate.hpp (private): overflow-safe 2-norm of a long array, deterministic.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "facto/core/types.hpp"

namespace facto::detail {

/// sqrt(sum x^2) without overflow or underflow (the concern LAPACK's nrm2 addresses): first
/// the largest magnitude, then the sum of squares of the values scaled by a power of two
/// (exact) that brings that magnitude to [1, 2). Fixed-size chunks summed in a fixed order,
/// so the result does not depend on the thread count.
template <class T>
double scaled_norm(const T* x, index_t n) {
    if (n <= 0) return 0.0;
    constexpr index_t chunk = 1 << 15;
    const index_t nchunks = (n + chunk - 1) / chunk;
    std::vector<double> part(static_cast<std::size_t>(nchunks));
#pragma omp parallel for schedule(static) if (nchunks > 4)
    for (index_t c = 0; c < nchunks; ++c) {
        double m = 0;
        const index_t e = std::min(n, (c + 1) * chunk);
        for (index_t i = c * chunk; i < e; ++i) m = std::max(m, std::abs(static_cast<double>(x[i])));
        part[static_cast<std::size_t>(c)] = m;
    }
    const double amax = *std::max_element(part.begin(), part.end());
    if (amax == 0 || !std::isfinite(amax)) return amax;
    const int e = std::ilogb(amax);
    // Two factors so that 2^-e never overflows even for subnormal amax.
    const double f1 = std::ldexp(1.0, -e / 2), f2 = std::ldexp(1.0, -e - (-e / 2));
#pragma omp parallel for schedule(static) if (nchunks > 4)
    for (index_t c = 0; c < nchunks; ++c) {
        double s = 0;
        const index_t end = std::min(n, (c + 1) * chunk);
        for (index_t i = c * chunk; i < end; ++i) {
            const double y = static_cast<double>(x[i]) * f1 * f2;
            s += y * y;
        }
        part[static_cast<std::size_t>(c)] = s;
    }
    double s = 0;
    for (double p : part) s += p;
    return std::sqrt(s) * std::ldexp(1.0, e);
}

}  // namespace facto::detail
