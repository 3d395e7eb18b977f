// The model's configuration: the machine (memory, swap, device, CPU costs), the kernel's knobs
// (swappiness, read_ahead_kb, min_free_kbytes, watermark_scale_factor, memory_recursiveprot)
// and the cgroup tree with its cgroup v2 limits, as a small text file or built in code.
//
// Config file, one setting per line, '#' starts a comment:
//
//   memory 4G                    # RAM of the one node (bytes, K/M/G/T suffixes, powers of 1024)
//   swap 1G                      # swap device size (0: no swap, the default)
//   swappiness 60                # vm.swappiness, 0..200
//   read_ahead_kb 128            # the file system's bdi read_ahead_kb
//   min_free_kbytes 67584        # default: the kernel's int_sqrt(lowmem_kbytes * 16), clamped
//   watermark_scale_factor 10
//   memory_recursiveprot 1
//   device random_read_ns=80000 seq_read_ns=10000 write_ns=20000 read_bw=2G write_bw=1G
//   cpu syscall_ns=300 page_copy_ns=100 fault_ns=500 reclaim_page_ns=50
//   cgroup 1 /web memory.max=2G memory.high=1536M memory.low=512M
//   cgroup 2 /web/cache memory.min=64M memory.oom.group=1
//
// `cgroup ID PATH [file=value ...]` creates the cgroup with model id ID (what events' cgroup
// field names; 0 is the root and exists already) at PATH, whose parent must exist already.
// Files: memory.max, memory.high, memory.low, memory.min, memory.swap.max (bytes or "max"),
// memory.oom.group (0/1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/error.h"
#include "mm/device.h"

namespace mmbpf::mm {

inline constexpr uint64_t PAGE_COUNTER_MAX = UINT64_MAX / 4096;  // "max", in pages
// Cgroups besides the root: mem_cgroup ids (creation order from 1) must fit the 16 bits a
// shadow entry keeps (MEM_CGROUP_ID_SHIFT).
inline constexpr size_t MAX_CGROUPS = 65534;

struct cgroup_config {
  uint16_t id = 0;    // model cgroup id; 0 = the root
  std::string path;   // "/a/b"; "/" is the root
  uint64_t max = PAGE_COUNTER_MAX;  // limits in pages
  uint64_t high = PAGE_COUNTER_MAX;
  uint64_t low = 0;
  uint64_t min = 0;
  uint64_t swap_max = PAGE_COUNTER_MAX;
  bool oom_group = false;
};

struct config {
  uint64_t memory_pages = (1ull << 30) / 4096;  // 1 GiB
  uint64_t swap_pages = 0;
  int swappiness = 60;
  uint64_t read_ahead_kb = 128;
  uint64_t min_free_kbytes = 0;  // 0: computed as the kernel does at boot
  uint64_t watermark_scale_factor = 10;
  bool memory_recursiveprot = false;
  // A simulator knob, not the kernel's: the model becomes a plain cache for cross-checks with
  // cache simulators: no watermark headroom (no kswapd), no readahead, reclaim frees exactly
  // what a charge needs (one page per miss) instead of SWAP_CLUSTER_MAX batches.
  bool exact_cache = false;
  device_params device;
  cpu_params cpu;
  std::vector<cgroup_config> cgroups;  // not including the root; parents before children
};

// Parses the config file format above. Errors are one line: "config line 3: ...".
result<config> parse_config(std::string_view text);
// "4G", "512M", "4096", "1.5G" -> bytes (powers of 1024); "max" -> UINT64_MAX when allow_max.
result<uint64_t> parse_size(std::string_view s, bool allow_max = false);
// Checks a config built in code (cgroup ids unique, parents exist, sizes sane).
result<void> validate_config(const config& c);

}  // namespace mmbpf::mm
