// What the map implementations share and nothing outside src/bpf/map.cpp and src/bpf/maps/
// uses: the constructors bpf_map::create dispatches to, zeroed storage, the kernel constants
// userspace headers lack, and the private key copies handed to for_each callbacks.
//
// Models: the kernel's per-type map_alloc after map_alloc_check has passed. Simplified: storage
// is one zeroed block per job, calloc'ed (the ring buffer's is mmap'ed), with no NUMA placement
// and no memcg charging; each map's mem_usage reports its blocks and its own object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "bpf/map.h"

namespace mmbpf::bpf::maps {

// The kernel's internal ENOTSUPP (include/linux/errno.h). Ringbuf map ops return it to user space
// as is, so bpftool prints "Unknown error 524"; userspace <errno.h> has no name for it.
constexpr long k_enotsupp = 524;

constexpr uint64_t k_page_size = 4096;

// Larger storage requests fail as the kernel's vmalloc would (-ENOMEM) rather than reserve more
// address space than the host has (and than AddressSanitizer's allocator accepts).
constexpr uint64_t k_max_alloc = 1ULL << 40;

// for_each_elem hands each callback a read-only copy of the key in one of these slots, one per
// nesting level (a callback may walk the same map again; the kernel's bound on call frames is 8).
constexpr int k_key_slots = 8;

inline uint64_t round_up8(uint64_t x) {
  return (x + 7) & ~uint64_t{7};
}

// "array", "lru_percpu_hash", ... (bpftool's names); "type N" for others.
std::string type_name(uint32_t map_type);

// "map 'x': cannot allocate N bytes for <what>" (the kernel's -ENOMEM).
error alloc_error(const map_attr& a, uint64_t bytes, const char* what);

// Zero-filled storage that lives as long as its owner; never reallocated.
class zeroed_buf {
 public:
  zeroed_buf() = default;
  ~zeroed_buf() { std::free(p_); }
  zeroed_buf(const zeroed_buf&) = delete;
  zeroed_buf& operator=(const zeroed_buf&) = delete;

  // Returns false (and holds nothing) if n is too large or the allocation fails.
  bool alloc(uint64_t n) {
    if (n > k_max_alloc) return false;
    p_ = static_cast<uint8_t*>(std::calloc(n ? n : 1, 1));
    n_ = p_ ? n : 0;
    return p_ != nullptr;
  }
  uint8_t* data() const { return p_; }
  size_t size() const { return n_; }

 private:
  uint8_t* p_ = nullptr;
  size_t n_ = 0;
};

// The key slots for for_each_elem callbacks: k_key_slots copies of round_up8(key_size) bytes (one
// copy for keys over 512 bytes, which no program can build on its 512-byte stack anyway),
// registered as a read-only region "map '<name>' key" since the kernel types the callback's key
// argument PTR_TO_MAP_KEY (readable, not writable).
class key_slots {
 public:
  bool alloc(uint32_t key_size);
  // The slot for the current nesting depth; enter() before the walk, leave() after.
  uint8_t* enter() {
    const int d = depth_ < n_ ? depth_ : n_ - 1;
    ++depth_;
    return buf_.data() + static_cast<size_t>(d) * stride_;
  }
  void leave() { --depth_; }
  size_t bytes() const { return buf_.size(); }
  mem_region region(const std::string& map_name, uint32_t key_size) const;

 private:
  zeroed_buf buf_;
  uint32_t stride_ = 0;
  int n_ = 0;
  int depth_ = 0;
};

// Constructors for validated attributes (bpf_map::create has checked them as the kernel's
// map_alloc_check does). They fail only when storage cannot be allocated.
result<std::unique_ptr<bpf_map>> create_array(const map_attr& a);
result<std::unique_ptr<bpf_map>> create_hash(const map_attr& a);
result<std::unique_ptr<bpf_map>> create_ringbuf(const map_attr& a);

}  // namespace mmbpf::bpf::maps
