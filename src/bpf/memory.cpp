// Region table: a sorted vector, binary search; see memory.h.
#include "bpf/memory.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace mmbpf::bpf {

bool region_table::add(mem_region r) {
  if (r.size == 0 || r.start + r.size < r.start) return false;
  auto it = std::lower_bound(regions_.begin(), regions_.end(), r.start,
                             [](const mem_region& a, uintptr_t s) { return a.start < s; });
  if (it != regions_.end() && it->start < r.end()) return false;
  if (it != regions_.begin() && std::prev(it)->end() > r.start) return false;
  regions_.insert(it, std::move(r));
  return true;
}

bool region_table::remove(uintptr_t start) {
  auto it = std::lower_bound(regions_.begin(), regions_.end(), start,
                             [](const mem_region& a, uintptr_t s) { return a.start < s; });
  if (it == regions_.end() || it->start != start) return false;
  regions_.erase(it);
  return true;
}

const mem_region* region_table::find(uintptr_t addr) const {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), addr,
                             [](uintptr_t a, const mem_region& r) { return a < r.start; });
  if (it == regions_.begin()) return nullptr;
  --it;
  return addr < it->end() ? &*it : nullptr;
}

access_status check_in_region(const mem_region& r, uintptr_t addr, size_t size, bool write) {
  uintptr_t off = addr - r.start;
  if (size > r.size || off > r.size - size) return access_status::crosses_end;
  if (r.stride) {
    uintptr_t in = off % r.stride;
    if (in < r.elem_off || in - r.elem_off >= r.elem_len) return access_status::outside_elem;
    if (in - r.elem_off + size > r.elem_len) return access_status::crosses_end;
  }
  if (write && !r.writable) return access_status::read_only;
  return access_status::ok;
}

access_check region_table::check(uintptr_t addr, size_t size, bool write) const {
  const mem_region* r = find(addr);
  if (!r) return {access_status::unmapped, nullptr};
  return {check_in_region(*r, addr, size, write), r};
}

std::string describe_access(access_check c, uintptr_t addr, size_t size, bool write) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s of %zu bytes at 0x%" PRIxPTR, write ? "write" : "read", size,
                addr);
  std::string s = buf;
  switch (c.status) {
    case access_status::ok:
      return s + " ok";
    case access_status::unmapped:
      return s + " outside every region";
    case access_status::crosses_end:
      break;
    case access_status::outside_elem:
      break;
    case access_status::read_only:
      return s + " to read-only " + c.region->name;
  }
  std::snprintf(buf, sizeof buf, " (offset %" PRIuPTR " of %zu)", addr - c.region->start,
                c.region->size);
  const char* why = c.status == access_status::crosses_end ? " crosses the end of "
                                                           : " falls outside the element of ";
  return s + why + c.region->name + buf;
}

}  // namespace mmbpf::bpf
