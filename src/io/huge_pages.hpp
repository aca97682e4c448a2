// huge_pages.hpp: ask Linux for transparent huge pages on a large buffer before first touch.
// Filling hundreds of MB of fresh 4 KiB pages costs more in page faults than the parse itself
// (measured: over half of read_tns's time); 2 MiB pages cut the faults 512-fold.
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

/// v.resize(n), with huge pages advised for the new storage before it is zero-filled.
template <class T>
void resize_huge(std::vector<T>& v, std::size_t n) {
    if (n > v.capacity()) {
        v.reserve(n);
        advise_huge_pages(v.data(), v.capacity() * sizeof(T));
    }
    v.resize(n);
}
inline void resize_huge(std::string& s, std::size_t n) {
    if (n > s.capacity()) {
        s.reserve(n);
        advise_huge_pages(s.data(), s.capacity());
    }
    s.resize(n);
}

}  // namespace facto::detail
