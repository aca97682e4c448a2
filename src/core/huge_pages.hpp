// core/huge_pages.hpp (private): ask for transparent huge pages on large arrays before their
// first touch. Page faults cost microseconds each on virtual machines (filling hundreds of MB
// of fresh 4 KiB pages cost more than parsing them: over half of read_tns's time), and 4 KiB
// pages thrash the TLB in scattered writes (radix sort); 2 MiB pages cut both by 512x. Only
// advice: where THP is unavailable nothing changes.
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace facto::detail {

/// Advises huge pages for the page-aligned interior of [p, p + bytes); a no-op for small
/// buffers or where the kernel lacks the feature.
inline void advise_huge_pages(void* p, std::size_t bytes) {
#ifdef MADV_HUGEPAGE
    constexpr std::uintptr_t page = 4096;
    if (bytes < (std::size_t(4) << 20)) return;
    const auto a = (reinterpret_cast<std::uintptr_t>(p) + page - 1) & ~(page - 1);
    const auto b = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(page - 1);
    if (b > a) (void)::madvise(reinterpret_cast<void*>(a), b - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

/// Reserves room for n elements, huge pages advised for large storage.
template <class V>
void reserve_huge(V& v, std::size_t n) {
    if (n <= v.capacity()) return;
    v.reserve(n);
    advise_huge_pages(v.data(), v.capacity() * sizeof(typename V::value_type));
}

/// v.resize(n), with huge pages advised for the new storage before it is zero-filled.
template <class V>
void resize_huge(V& v, std::size_t n) {
    reserve_huge(v, n);
    v.resize(n);
}

}  // namespace facto::detail
