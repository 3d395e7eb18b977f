// The BPF address space: the memory regions a program may load from and store to. The host
// registers them (program context, stack frames, map values, ring buffers, later the MM model's
// objects); the checked interpreter validates every access against them and bpf_probe_read_kernel
// uses them to fail with -EFAULT instead of touching unmapped host memory. In unchecked runs the
// verifier's proof stands in for these checks, as in the kernel.
//
// A region is either one object (stride 0: every byte in [start, start+size) is addressable) or
// an array of equal elements (stride > 0) of which only a window [elem_off, elem_off+elem_len) of
// each element is addressable: a hash map's value slots beside its keys and list links, say.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mmbpf::bpf {

struct mem_region {
  uintptr_t start = 0;
  size_t size = 0;
  uint32_t stride = 0;    // 0: one object; otherwise element size
  uint32_t elem_off = 0;  // addressable window inside each element (stride > 0)
  uint32_t elem_len = 0;
  bool writable = true;
  std::string name;             // for errors: "stack", "ctx", "map 'counts' value", ...
  const void* owner = nullptr;  // the object that registered it (a bpf_map, ...), if any

  uintptr_t end() const { return start + size; }
};

enum class access_status {
  ok,
  unmapped,      // no region contains the first byte
  crosses_end,   // starts inside a region, ends past it (or past its element window)
  outside_elem,  // inside an array region but not in an element's addressable window
  read_only,     // a store to a read-only region
};

struct access_check {
  access_status status;
  const mem_region* region;  // the region found, if any
};

// Non-overlapping regions, ordered by start; lookups are a binary search.
// REQUIRES: regions added do not overlap existing ones (add() refuses overlaps).
class region_table {
 public:
  // Returns false (and adds nothing) if the region is empty or overlaps an existing one.
  bool add(mem_region r);
  // Removes the region that starts at `start`; returns whether one did.
  bool remove(uintptr_t start);
  const mem_region* find(uintptr_t addr) const;
  access_check check(uintptr_t addr, size_t size, bool write) const;
  size_t size() const { return regions_.size(); }

 private:
  std::vector<mem_region> regions_;
};

// Checks an access against one region that is known to contain addr.
access_status check_in_region(const mem_region& r, uintptr_t addr, size_t size, bool write);

// "R1 write of 8 bytes at 0x... outside map 'counts' value (crosses end)" style text.
std::string describe_access(access_check c, uintptr_t addr, size_t size, bool write);

}  // namespace mmbpf::bpf
