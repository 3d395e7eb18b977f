// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c): max_entries values
// indexed by a u32 key, all preallocated and zero-filled at creation, each in a slot of
// round_up(value_size, 8) bytes. Every index below max_entries always exists, so an update with
// BPF_NOEXIST fails with -EEXIST, one past the end with -E2BIG, and delete is -EINVAL.
// get_next_key walks indices; a key past the end (or none) restarts at 0, as the kernel does.
//
// Simplified: one CPU, so a percpu array holds one copy and behaves like an array; the index is
// not masked against speculation (the privileged kernel path does not mask either); no
// BPF_F_LOCK (values hold no bpf_spin_lock, so the flag is -EINVAL after the other checks, as in
// array_map_update_elem); BPF_F_MMAPABLE is accepted but values are not mappable by user space
// (the host reaches them through lookup_elem). BPF_F_RDONLY_PROG makes the value region
// read-only to checked programs; BPF_F_RDONLY/BPF_F_WRONLY restrict the syscall side, which here
// is the host's own API and is not restricted.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "bpf/maps/maps.h"

namespace mmbpf::bpf::maps {

namespace {

class array_map final : public bpf_map {
 public:
  explicit array_map(const map_attr& a)
      : bpf_map(a), stride_(static_cast<uint32_t>(round_up8(a.value_size))) {}

  bool init() {
    return values_.alloc(uint64_t{attr_.max_entries} * stride_) && keys_.alloc(attr_.key_size);
  }
  uint64_t storage_bytes() const { return uint64_t{attr_.max_entries} * stride_; }

  void* lookup_elem(const void* key) override {
    const uint32_t i = index(key);
    return i < attr_.max_entries ? value(i) : nullptr;
  }

  long update_elem(const void* key, const void* v, uint64_t flags) override {
    if ((flags & ~uint64_t{BPF_F_LOCK}) > BPF_EXIST) return -EINVAL;
    const uint32_t i = index(key);
    if (i >= attr_.max_entries) return -E2BIG;  // every element exists; none can be added
    if (flags & BPF_NOEXIST) return -EEXIST;
    if (flags & BPF_F_LOCK) return -EINVAL;       // no bpf_spin_lock in the value
    std::memmove(value(i), v, attr_.value_size);  // `v` may be this very value
    return 0;
  }

  long delete_elem(const void*) override { return -EINVAL; }

  // bpf_for_each_array_elem: every index in order; the count includes the element whose
  // callback stopped the walk.
  long for_each_elem(map_elem_cb cb, void* ctx) override {
    uint8_t* key = keys_.enter();
    long n = 0;
    for (uint32_t i = 0; i < attr_.max_entries; ++i) {
      ++n;
      std::memcpy(key, &i, sizeof i);
      if (cb(ctx, key, value(i))) break;
    }
    keys_.leave();
    return n;
  }

  long get_next_key(const void* key, void* next_key) override {
    const uint32_t i = key ? index(key) : UINT32_MAX;
    uint32_t next = 0;
    if (i < attr_.max_entries) {
      if (i == attr_.max_entries - 1) return -ENOENT;
      next = i + 1;
    }
    std::memcpy(next_key, &next, sizeof next);
    return 0;
  }

  size_t mem_usage() const override { return sizeof(*this) + values_.size() + keys_.bytes(); }

  std::vector<mem_region> regions() const override {
    return {{.start = reinterpret_cast<uintptr_t>(values_.data()),
             .size = values_.size(),
             .stride = stride_,
             .elem_off = 0,
             .elem_len = attr_.value_size,
             .writable = !(attr_.map_flags & BPF_F_RDONLY_PROG),
             .name = fmt::format("map '{}' value", attr_.name)},
            keys_.region(attr_.name, attr_.key_size)};
  }

 private:
  static uint32_t index(const void* key) {
    uint32_t i;
    std::memcpy(&i, key, sizeof i);
    return i;
  }
  uint8_t* value(uint32_t i) const { return values_.data() + uint64_t{i} * stride_; }

  uint32_t stride_;
  zeroed_buf values_;
  key_slots keys_;
};

}  // namespace

result<std::unique_ptr<bpf_map>> create_array(const map_attr& a) {
  auto m = std::make_unique<array_map>(a);
  if (!m->init()) return alloc_error(a, m->storage_bytes(), "values");
  return std::unique_ptr<bpf_map>(std::move(m));
}

}  // namespace mmbpf::bpf::maps
