// sort_coords.cpp: stable sort of sparse coordinates by packed 64-bit keys (LSD radix sort).
#include "core/sort_coords.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>

namespace facto::detail {

namespace {

struct keyed {
    std::uint64_t key;
    std::uint64_t pos;
};

constexpr int radix_bits = 11;
constexpr std::size_t buckets = std::size_t{1} << radix_bits;

// Stable LSD radix sort on the low `bits` bits of the keys; digits on which every key agrees
// are skipped. All histograms come from one read of the keys.
void radix_sort(std::vector<keyed>& a, int bits) {
    const int passes = (bits + radix_bits - 1) / radix_bits;
    if (passes == 0 || a.size() < 2) return;
    std::vector<std::array<std::size_t, buckets>> hist(static_cast<std::size_t>(passes));
    for (auto& h : hist) h.fill(0);
    for (const keyed& e : a)
        for (int p = 0; p < passes; ++p) ++hist[static_cast<std::size_t>(p)][(e.key >> (p * radix_bits)) & (buckets - 1)];
    std::vector<keyed> tmp(a.size());
    for (int p = 0; p < passes; ++p) {
        auto& h = hist[static_cast<std::size_t>(p)];
        if (std::find(h.begin(), h.end(), a.size()) != h.end()) continue;  // one digit value only
        std::size_t sum = 0;
        for (auto& c : h) {
            const std::size_t n = c;
            c = sum;
            sum += n;
        }
        const int shift = p * radix_bits;
        for (const keyed& e : a) tmp[h[(e.key >> shift) & (buckets - 1)]++] = e;
        a.swap(tmp);
    }
}

}  // namespace

std::vector<index_t> sorted_order(const std::vector<std::vector<index_t>>& indices, const shape_t& shape,
                                  std::span<const int> mode_order, index_t nnz) {
    std::vector<index_t> perm(static_cast<std::size_t>(nnz));
    if (nnz == 0) return perm;
    // Does the packed key fit in 64 bits?
    unsigned __int128 prod = 1;
    bool fits = true;
    for (int m : mode_order) {
        prod *= static_cast<unsigned __int128>(std::max<index_t>(shape[static_cast<std::size_t>(m)], 1));
        if (prod > static_cast<unsigned __int128>(UINT64_MAX)) {
            fits = false;
            break;
        }
    }
    if (!fits) {
        std::iota(perm.begin(), perm.end(), index_t{0});
        std::stable_sort(perm.begin(), perm.end(), [&](index_t a, index_t b) {
            for (int m : mode_order) {
                const auto& ix = indices[static_cast<std::size_t>(m)];
                if (ix[static_cast<std::size_t>(a)] != ix[static_cast<std::size_t>(b)])
                    return ix[static_cast<std::size_t>(a)] < ix[static_cast<std::size_t>(b)];
            }
            return false;
        });
        return perm;
    }
    std::vector<keyed> a(static_cast<std::size_t>(nnz));
    bool sorted = true;
#pragma omp parallel for schedule(static) reduction(&& : sorted)
    for (index_t k = 0; k < nnz; ++k) {
        std::uint64_t key = 0;
        for (int m : mode_order)
            key = key * static_cast<std::uint64_t>(shape[static_cast<std::size_t>(m)]) +
                  static_cast<std::uint64_t>(indices[static_cast<std::size_t>(m)][static_cast<std::size_t>(k)]);
        a[static_cast<std::size_t>(k)] = {key, static_cast<std::uint64_t>(k)};
        if (k > 0) {
            // Recompute the previous key rather than read a[k-1], which another thread may write.
            std::uint64_t prev = 0;
            for (int m : mode_order)
                prev = prev * static_cast<std::uint64_t>(shape[static_cast<std::size_t>(m)]) +
                       static_cast<std::uint64_t>(indices[static_cast<std::size_t>(m)][static_cast<std::size_t>(k - 1)]);
            sorted = sorted && prev <= key;
        }
    }
    if (!sorted) {
        const auto max_key = static_cast<std::uint64_t>(prod - 1);
        const int bits = max_key == 0 ? 0 : 64 - __builtin_clzll(max_key);
        radix_sort(a, bits);
    }
    for (std::size_t k = 0; k < a.size(); ++k) perm[k] = static_cast<index_t>(a[k].pos);
    return perm;
}

}  // namespace facto::detail
