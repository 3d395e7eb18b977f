// An allocator for the model's big arrays (page frames, page-cache leaves): allocations of
// 2 MiB and more are 2 MiB aligned and madvise(MADV_HUGEPAGE)d, so random accesses over
// hundreds of MiB of metadata miss the TLB far less (transparent huge pages in "madvise"
// mode, as on these machines). Smaller ones come from operator new. <sys/mman.h> stays in the
// .cpp: its MADV_* macros would clash with workload/event.h's constants.
#pragma once

#include <cstddef>
#include <new>

namespace mmbpf::mm {

inline constexpr std::size_t HUGE_ALLOC_MIN = 2u << 20;
// aligned_alloc + madvise(MADV_HUGEPAGE); throws std::bad_alloc. REQUIRES bytes >= 2 MiB.
void* huge_alloc(std::size_t bytes);
void huge_free(void* p) noexcept;

template <class T>
struct hugepage_allocator {
  using value_type = T;
  hugepage_allocator() = default;
  template <class U>
  hugepage_allocator(const hugepage_allocator<U>&) noexcept {}  // NOLINT

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < HUGE_ALLOC_MIN) return static_cast<T*>(::operator new(bytes));
    return static_cast<T*>(huge_alloc(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < HUGE_ALLOC_MIN)
      ::operator delete(p);
    else
      huge_free(p);
  }
  template <class U>
  bool operator==(const hugepage_allocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace mmbpf::mm
