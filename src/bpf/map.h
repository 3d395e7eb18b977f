// BPF maps with the kernel's semantics (kernel/bpf/arraymap.c, hashtab.c, ringbuf.c): the
// attributes checked at creation as map_alloc_check does, BPF_ANY/BPF_NOEXIST/BPF_EXIST,
// the kernel's error codes as negative errno values, max_entries, iteration order, and the
// memory each map uses. Storage is preallocated at creation (the kernel's default for hash maps,
// and DESIGN §4's rule that reclaim never waits on a policy's allocation), so a program's value
// pointer stays valid for the map's life.
//
// Simplified: one CPU (percpu maps hold one copy); no map-in-map, no BPF_F_LOCK, no
// bpf_timer/kptr fields; lru_hash keeps exact LRU order where the kernel approximates it.
#pragma once

#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bpf/error.h"
#include "bpf/memory.h"

namespace mmbpf::bpf {

struct map_attr {
  uint32_t map_type = BPF_MAP_TYPE_UNSPEC;  // BPF_MAP_TYPE_*
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t map_flags = 0;  // BPF_F_*
  std::string name;        // up to BPF_OBJ_NAME_LEN - 1 characters
};

// Callback for for_each_elem: return 0 to continue, 1 to stop (bpf_for_each_map_elem's rule).
using map_elem_cb = uint64_t (*)(void* cb_ctx, void* key, void* value);

class bpf_map {
 public:
  // Validates the attributes as the kernel does at BPF_MAP_CREATE and preallocates storage.
  // The error names the attribute at fault ("map 'x': value_size 0 is invalid ...").
  static result<std::unique_ptr<bpf_map>> create(const map_attr& attr);

  virtual ~bpf_map() = default;
  const map_attr& attr() const { return attr_; }
  const std::string& name() const { return attr_.name; }
  uint32_t type() const { return attr_.map_type; }

  // Program side (the helpers), kernel conventions: a value pointer or nullptr; 0 or -errno.
  virtual void* lookup_elem(const void* key) = 0;
  virtual long update_elem(const void* key, const void* value, uint64_t flags) = 0;
  virtual long delete_elem(const void* key) = 0;

  // Calls cb(cb_ctx, key, value) for each element in the map's order until cb returns nonzero;
  // returns the number of elements visited (bpf_for_each_map_elem). Keys passed are copies in a
  // read-only region of the map's ("map 'x' key"), as the kernel's PTR_TO_MAP_KEY is read-only.
  virtual long for_each_elem(map_elem_cb cb, void* cb_ctx) = 0;

  // Syscall side. BPF_MAP_GET_NEXT_KEY: key == nullptr (or a key not in the map) gives the first
  // key; -ENOENT after the last.
  virtual long get_next_key(const void* key, void* next_key) = 0;
  // BPF_MAP_LOOKUP_ELEM: copies the value out (percpu maps: the one CPU's value_size bytes, where
  // the kernel's syscall copies round_up(value_size, 8) per CPU); 0 or -ENOENT.
  virtual long lookup_copy(const void* key, void* value_out);

  // Bytes this map holds, like the kernel's map_mem_usage (bpftool's "memlock").
  virtual size_t mem_usage() const = 0;

  // Memory that programs may address through pointers this map hands out.
  virtual std::vector<mem_region> regions() const = 0;

 protected:
  explicit bpf_map(map_attr attr) : attr_(std::move(attr)) {}
  map_attr attr_;
};

// The BPF ring buffer (BPF_MAP_TYPE_RINGBUF): a power-of-two data area of whole pages shared by
// producers (programs) and one consumer (the host). Each record has an 8-byte header (length
// with BUSY and DISCARD bits, page offset) and is 8-byte aligned, as in kernel/bpf/ringbuf.c.
class ringbuf_map : public bpf_map {
 public:
  // Program side.
  virtual void* reserve(uint64_t size, uint64_t flags) = 0;  // nullptr when full
  // Commit a reserved sample; false (and nothing changed) if `sample` is not one being written.
  virtual bool submit(void* sample, uint64_t flags) = 0;
  virtual bool discard(void* sample, uint64_t flags) = 0;
  virtual long output(const void* data, uint64_t size, uint64_t flags) = 0;  // 0 or -errno
  virtual uint64_t query(uint64_t flags) = 0;  // BPF_RB_AVAIL_DATA, RING_SIZE, CONS_POS, PROD_POS

  // Host side: calls fn for each committed record in order, skipping discarded ones, and
  // advances the consumer position. Stops at a record still being written or when fn returns
  // nonzero (that record is left for next time, where libbpf's ring_buffer__consume consumes it
  // and returns the error). Returns the number of records consumed.
  using consume_fn = int (*)(void* ctx, const void* data, size_t size);
  virtual long consume(consume_fn fn, void* ctx) = 0;

 protected:
  using bpf_map::bpf_map;
};

}  // namespace mmbpf::bpf
