// The workload event set (DESIGN §5): what a process does that the MM model reacts to, as one
// fixed-size 32-byte POD record. Buffered read/write carry byte offsets and lengths, as the
// syscalls do (the model rounds them to pages, and readahead sees the byte pattern); faults,
// anonymous mappings and madvise carry page-granular virtual page numbers and page counts, as
// the fault path and the VMA code see them. Every event carries pid and cgroup.
//
// Simplified: inode numbers and pids are 32-bit model ids, cgroup ids 16-bit (not the
// kernel's 64-bit cgroup ids); an address space is a flat page-number space per pid (no VMA flags
// beyond what mmap_anon records); fadvise/madvise advice is stored as the kernel's constant.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mmbpf::workload {

inline constexpr uint64_t page_size = 4096;

// Field use per kind (unused fields are zero; the text form omits them):
//   read, write        ino, off = byte offset, len = bytes
//   mmap_fault_file    ino, off = page index in the file, len = pages; flags: fault_write
//   anon_fault         off = virtual page number, len = pages; flags: fault_write ("touch")
//   mmap_anon, munmap  off = first virtual page number, len = pages
//   fsync, unlink      ino
//   fadvise            ino, off = byte offset, len = bytes (0 = to end), advice = POSIX_FADV_*
//   madvise            off = first virtual page number, len = pages, advice = MADV_*
//   truncate           ino, len = new size in bytes
//   fork               pid = child, ino = parent pid (0: a new process), oom_score_adj
//   exit               pid
//   cgroup_create      cgroup = the new cgroup, ino = its parent cgroup
//   cgroup_set_limit   cgroup, advice = cgroup_limit, len = bytes (limit_max = "max")
enum class event_kind : uint8_t {
  read = 1,
  write,
  mmap_fault_file,
  anon_fault,
  mmap_anon,
  munmap,
  fsync,
  fadvise,
  madvise,
  unlink,
  truncate,
  fork,
  exit,
  cgroup_create,
  cgroup_set_limit,
};
inline constexpr uint8_t event_kind_first = 1;
inline constexpr uint8_t event_kind_last = static_cast<uint8_t>(event_kind::cgroup_set_limit);

inline constexpr bool valid_event_kind(uint8_t k) {
  return k >= event_kind_first && k <= event_kind_last;
}

// flags
inline constexpr uint8_t fault_write = 1;  // FAULT_FLAG_WRITE

// fadvise advice (include/uapi/linux/fadvise.h, x86-64 values)
inline constexpr uint8_t POSIX_FADV_NORMAL = 0;
inline constexpr uint8_t POSIX_FADV_RANDOM = 1;
inline constexpr uint8_t POSIX_FADV_SEQUENTIAL = 2;
inline constexpr uint8_t POSIX_FADV_WILLNEED = 3;
inline constexpr uint8_t POSIX_FADV_DONTNEED = 4;
inline constexpr uint8_t POSIX_FADV_NOREUSE = 5;

// madvise advice (include/uapi/asm-generic/mman-common.h)
inline constexpr uint8_t MADV_NORMAL = 0;
inline constexpr uint8_t MADV_RANDOM = 1;
inline constexpr uint8_t MADV_SEQUENTIAL = 2;
inline constexpr uint8_t MADV_WILLNEED = 3;
inline constexpr uint8_t MADV_DONTNEED = 4;
inline constexpr uint8_t MADV_FREE = 8;
inline constexpr uint8_t MADV_REMOVE = 9;
inline constexpr uint8_t MADV_MERGEABLE = 12;
inline constexpr uint8_t MADV_UNMERGEABLE = 13;
inline constexpr uint8_t MADV_HUGEPAGE = 14;
inline constexpr uint8_t MADV_NOHUGEPAGE = 15;
inline constexpr uint8_t MADV_COLD = 20;
inline constexpr uint8_t MADV_PAGEOUT = 21;

// Which cgroup v2 file a cgroup_set_limit writes.
enum class cgroup_limit : uint8_t { memory_max = 0, memory_high, memory_low, memory_min, swap_max };
inline constexpr uint8_t cgroup_limit_last = static_cast<uint8_t>(cgroup_limit::swap_max);
inline constexpr uint64_t limit_max = UINT64_MAX;  // "max" written to the file

struct event {
  event_kind kind;
  uint8_t flags;     // fault_write for faults
  uint8_t advice;    // POSIX_FADV_* / MADV_* / cgroup_limit
  uint8_t reserved;  // zero
  uint32_t ino;      // see the table above (fork: parent pid; cgroup_create: parent)
  uint32_t pid;
  uint16_t cgroup;        // model cgroup id, 0 = root
  int16_t oom_score_adj;  // fork: -1000 .. 1000
  uint64_t off;
  uint64_t len;
};
static_assert(sizeof(event) == 32, "the binary trace record is the in-memory event");

bool operator==(const event& a, const event& b);

// Kernel-style names: "read", "mmap_fault_file", ...; "POSIX_FADV_DONTNEED", "MADV_COLD";
// "memory.max", ... Unknown values give an empty view / nullopt.
std::string_view event_kind_name(event_kind k);
std::optional<event_kind> event_kind_from_name(std::string_view s);
std::string_view fadvise_name(uint8_t advice);
std::optional<uint8_t> fadvise_from_name(std::string_view s);
std::string_view madvise_name(uint8_t advice);
std::optional<uint8_t> madvise_from_name(std::string_view s);
std::string_view cgroup_limit_name(uint8_t limit);
std::optional<uint8_t> cgroup_limit_from_name(std::string_view s);

}  // namespace mmbpf::workload
