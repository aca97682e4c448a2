// sort_coords.cpp: stable sort of sparse coordinates by packed 64-bit keys (LSD radix sort).
#include "core/parallel.hpp"
#include "core/sort_coords.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>

#include "core/huge_pages.hpp"

namespace facto::detail {

namespace {

// The value travels with its key, so summing duplicates needs no gather from the input.
template <class T>
struct keyed {
    std::uint64_t key;
    T value;
};

constexpr int radix_bits = 11;
constexpr std::size_t buckets = std::size_t{1} << radix_bits;

// Stable LSD radix sort on the low `bits` bits of the keys; digits on which every key agrees
// are skipped. All histograms come from one read of the keys.
template <class T>
void radix_sort(std::vector<keyed<T>>& a, int bits) {
    const int passes = (bits + radix_bits - 1) / radix_bits;
    if (passes == 0 || a.size() < 2) return;
    std::vector<std::array<std::size_t, buckets>> hist(static_cast<std::size_t>(passes));
    for (auto& h : hist) h.fill(0);
    for (const keyed<T>& e : a)
        for (int p = 0; p < passes; ++p) ++hist[static_cast<std::size_t>(p)][(e.key >> (p * radix_bits)) & (buckets - 1)];
    std::vector<keyed<T>> tmp;
    reserve_huge(tmp, a.size());
    tmp.resize(a.size());
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
        for (const keyed<T>& e : a) tmp[h[(e.key >> shift) & (buckets - 1)]++] = e;
        a.swap(tmp);
    }
}

template <class T>
sorted_entries<T> sort_by_key(const std::vector<std::vector<index_t>>& indices, const std::vector<T>& values,
                              const shape_t& shape, std::span<const int> mode_order, bool keep_zeros,
                              std::uint64_t max_key) {
    const index_t n = static_cast<index_t>(values.size());
    const int N = static_cast<int>(mode_order.size());
    std::vector<std::uint64_t> dim(static_cast<std::size_t>(N));
    std::vector<const index_t*> ix(static_cast<std::size_t>(N));
    for (int l = 0; l < N; ++l) {
        dim[static_cast<std::size_t>(l)] = static_cast<std::uint64_t>(shape[static_cast<std::size_t>(mode_order[static_cast<std::size_t>(l)])]);
        ix[static_cast<std::size_t>(l)] = indices[static_cast<std::size_t>(mode_order[static_cast<std::size_t>(l)])].data();
    }
    auto key_of = [&](index_t k) {
        std::uint64_t key = 0;
        for (int l = 0; l < N; ++l) key = key * dim[static_cast<std::size_t>(l)] + static_cast<std::uint64_t>(ix[static_cast<std::size_t>(l)][k]);
        return key;
    };
    std::vector<keyed<T>> a;
    reserve_huge(a, static_cast<std::size_t>(n));
    a.resize(static_cast<std::size_t>(n));
    bool sorted = true;
#pragma omp parallel for schedule(static) reduction(&& : sorted) if (detail::worth_parallel(n))
    for (index_t k = 0; k < n; ++k) {
        a[static_cast<std::size_t>(k)] = {key_of(k), values[static_cast<std::size_t>(k)]};
        if (k > 0) sorted = sorted && key_of(k - 1) <= a[static_cast<std::size_t>(k)].key;
    }
    if (!sorted) radix_sort(a, max_key == 0 ? 0 : 64 - __builtin_clzll(max_key));

    // Sum runs of equal keys in (stable) input order.
    std::vector<std::uint64_t> keys;
    sorted_entries<T> out;
    reserve_huge(keys, a.size());
    reserve_huge(out.values, a.size());
    for (std::size_t k = 0; k < a.size();) {
        const std::uint64_t key = a[k].key;
        T sum = a[k].value;
        std::size_t e = k + 1;
        for (; e < a.size() && a[e].key == key; ++e) sum += a[e].value;
        if (keep_zeros || sum != T(0)) {
            keys.push_back(key);
            out.values.push_back(sum);
        }
        k = e;
    }
    std::vector<keyed<T>>().swap(a);
    // Decode the coordinates from the keys, last level first.
    const index_t m = static_cast<index_t>(keys.size());
    out.coords.resize(static_cast<std::size_t>(N));
    for (auto& c : out.coords) {
        reserve_huge(c, static_cast<std::size_t>(m));
        c.resize(static_cast<std::size_t>(m));
    }
#pragma omp parallel for schedule(static) if (detail::worth_parallel(m))
    for (index_t k = 0; k < m; ++k) {
        std::uint64_t key = keys[static_cast<std::size_t>(k)];
        for (int l = N - 1; l >= 0; --l) {
            const std::uint64_t d = dim[static_cast<std::size_t>(l)];
            out.coords[static_cast<std::size_t>(l)][static_cast<std::size_t>(k)] = static_cast<index_t>(key % d);
            key /= d;
        }
    }
    return out;
}

template <class T>
sorted_entries<T> sort_by_comparison(const std::vector<std::vector<index_t>>& indices, const std::vector<T>& values,
                                     std::span<const int> mode_order, bool keep_zeros) {
    const index_t n = static_cast<index_t>(values.size());
    const int N = static_cast<int>(mode_order.size());
    std::vector<index_t> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), index_t{0});
    std::stable_sort(perm.begin(), perm.end(), [&](index_t a, index_t b) {
        for (int m : mode_order) {
            const auto& ix = indices[static_cast<std::size_t>(m)];
            if (ix[static_cast<std::size_t>(a)] != ix[static_cast<std::size_t>(b)])
                return ix[static_cast<std::size_t>(a)] < ix[static_cast<std::size_t>(b)];
        }
        return false;
    });
    auto same = [&](index_t a, index_t b) {
        for (const auto& ix : indices)
            if (ix[static_cast<std::size_t>(a)] != ix[static_cast<std::size_t>(b)]) return false;
        return true;
    };
    sorted_entries<T> out;
    out.coords.resize(static_cast<std::size_t>(N));
    for (index_t k = 0; k < n;) {
        const index_t first = perm[static_cast<std::size_t>(k)];
        T sum = values[static_cast<std::size_t>(first)];
        index_t e = k + 1;
        for (; e < n && same(first, perm[static_cast<std::size_t>(e)]); ++e) sum += values[static_cast<std::size_t>(perm[static_cast<std::size_t>(e)])];
        if (keep_zeros || sum != T(0)) {
            for (int l = 0; l < N; ++l)
                out.coords[static_cast<std::size_t>(l)].push_back(
                    indices[static_cast<std::size_t>(mode_order[static_cast<std::size_t>(l)])][static_cast<std::size_t>(first)]);
            out.values.push_back(sum);
        }
        k = e;
    }
    return out;
}

}  // namespace

template <class T>
sorted_entries<T> sort_entries(const std::vector<std::vector<index_t>>& indices, const std::vector<T>& values,
                               const shape_t& shape, std::span<const int> mode_order, bool keep_zeros) {
    // Does the packed key fit in 64 bits?
    unsigned __int128 prod = 1;
    for (int m : mode_order) {
        prod *= static_cast<unsigned __int128>(std::max<index_t>(shape[static_cast<std::size_t>(m)], 1));
        if (prod > static_cast<unsigned __int128>(UINT64_MAX))
            return sort_by_comparison(indices, values, mode_order, keep_zeros);
    }
    return sort_by_key(indices, values, shape, mode_order, keep_zeros, static_cast<std::uint64_t>(prod - 1));
}

template sorted_entries<double> sort_entries(const std::vector<std::vector<index_t>>&, const std::vector<double>&,
                                             const shape_t&, std::span<const int>, bool);
template sorted_entries<float> sort_entries(const std::vector<std::vector<index_t>>&, const std::vector<float>&,
                                            const shape_t&, std::span<const int>, bool);

}  // namespace facto::detail
