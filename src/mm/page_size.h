// PAGE_SHIFT / PAGE_SIZE of x86-64 (arch/x86/include/asm/page_types.h): 4 KiB base pages.
#pragma once

namespace mmbpf::mm {

inline constexpr unsigned PAGE_SHIFT = 12;
inline constexpr unsigned long PAGE_SIZE = 1UL << PAGE_SHIFT;

}  // namespace mmbpf::mm
