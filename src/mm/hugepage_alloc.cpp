// The huge-page backed allocations of hugepage_alloc.h.
#include "mm/hugepage_alloc.h"

#include <sys/mman.h>

#include <cstdlib>

namespace mmbpf::mm {

void* huge_alloc(std::size_t bytes) {
  const std::size_t rounded = (bytes + HUGE_ALLOC_MIN - 1) / HUGE_ALLOC_MIN * HUGE_ALLOC_MIN;
  void* p = std::aligned_alloc(HUGE_ALLOC_MIN, rounded);
  if (!p) throw std::bad_alloc();
  ::madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without THP the memory works the same
  return p;
}

void huge_free(void* p) noexcept {
  std::free(p);
}

}  // namespace mmbpf::mm
