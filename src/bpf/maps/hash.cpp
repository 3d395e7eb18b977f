// BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH (kernel/bpf/hashtab.c).
//
// Storage. All max_entries elements are preallocated at creation in one arena, which is the
// kernel's default; BPF_F_NO_PREALLOC is accepted for hash and percpu_hash but the arena is still
// preallocated (DESIGN §4: reclaim never waits on a policy's allocation), so a full map fails an
// insert with -E2BIG exactly as a preallocated kernel map does. An element is
//
//   [ key, round_up(key_size, 8) | value, round_up(value_size, 8) ]
//
// like the kernel's htab_elem (key, then the value 8-byte aligned); its header (seq,
// insertion-list links, LRU links: 24 bytes) is kept in a parallel array, so that a lookup
// touches only the element's key and value (an 8-byte key and value share one cache line, where
// with the header inline one element in eight straddled two). Only the value bytes are a
// program-addressable region; a freed element's value pointer stays valid memory, as with the
// kernel's preallocated elements, and sees whatever element reuses the slot.
//
// Index. Open addressing with linear probing over a power-of-two slot array of at least twice
// max_entries (load factor <= 1/2, so probes are short and always end at an empty slot). A slot
// is 8 bytes: the high 32 bits of the key's 64-bit hash (which also give the home slot, from its
// top bits) and the element's index + 1 (0 = empty). A lookup touches one slot line and the one
// element whose hash matches; deletion shifts later slots back (no tombstones). The hash is a
// fixed-seed mix of the key's 64-bit words, so runs are deterministic (BPF_F_ZERO_SEED, which
// only zeroes the kernel's random seed, changes nothing here). Nothing is allocated after create.
//
// Order. Elements are kept on an intrusive list in insertion order, and that is the order of
// get_next_key and for_each_elem (the kernel's is bucket order, which depends on its random
// seed). An update of an existing key changes its value in place and keeps its position (the
// kernel replaces a hash element with a new one at its bucket's head; percpu values it also
// updates in place). A deleted key that is inserted again goes to the end. get_next_key with a
// key that is not in the map returns the first key, as the kernel does. for_each_elem visits
// only elements that existed when it started; the callback may delete or insert elements (the
// walk resumes after the element it was on, or after where that element was).
//
// LRU. lru_hash and lru_percpu_hash keep a second intrusive list in recency order: insert, a
// program's lookup_elem and an update of an existing key make the element most recent; when the
// map is full an insert evicts the least recent element instead of failing. This is exact LRU
// where the kernel approximates it (per-CPU free lists, active/inactive lists with reference
// bits). Also unlike the kernel: an update that fails (-EEXIST, -ENOENT) evicts nothing, and an
// update of an existing key evicts nothing (the kernel allocates the replacement first and may
// evict for it). lookup_copy (the syscall's lookup), get_next_key and for_each_elem do not count
// as use, as in the kernel. BPF_F_NO_COMMON_LRU (per-CPU LRU lists) is accepted; with one CPU
// there is one list either way.
//
// Simplified: one CPU, so a percpu value is one value_size copy; no BPF_F_LOCK (values hold no
// bpf_spin_lock: any flag above BPF_EXIST is -EINVAL), no timers or kptrs in values.
#include <fmt/format.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include "bpf/maps/maps.h"

namespace mmbpf::bpf::maps {

namespace {

constexpr uint32_t nil = UINT32_MAX;
constexpr uint64_t k_seed = 0x243f6a8885a308d3ULL;  // fixed: runs are reproducible
constexpr uint64_t k_mul1 = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t k_mul2 = 0xc2b2ae3d27d4eb4fULL;

// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
inline uint64_t fmix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

class hash_map final : public bpf_map {
 public:
  explicit hash_map(const map_attr& a)
      : bpf_map(a),
        lru_(a.map_type == BPF_MAP_TYPE_LRU_HASH || a.map_type == BPF_MAP_TYPE_LRU_PERCPU_HASH),
        value_off_(static_cast<uint32_t>(round_up8(a.key_size))),
        stride_(static_cast<uint32_t>(value_off_ + round_up8(a.value_size))) {
    const uint64_t cap = std::bit_ceil(uint64_t{a.max_entries}) * 2;
    mask_ = cap - 1;
    shift_ = 32 - std::countr_zero(cap);  // cap <= 2^32, so 0 <= shift_ <= 31
  }

  uint64_t storage_bytes() const {
    return uint64_t{attr_.max_entries} * (stride_ + sizeof(elem_hdr)) + (mask_ + 1) * sizeof(slot);
  }
  bool init() {
    if (!arena_.alloc(uint64_t{attr_.max_entries} * stride_)) return false;
    if (!hdr_buf_.alloc(uint64_t{attr_.max_entries} * sizeof(elem_hdr))) return false;
    if (!slot_buf_.alloc((mask_ + 1) * sizeof(slot))) return false;
    slots_ = reinterpret_cast<slot*>(slot_buf_.data());
    return keys_.alloc(attr_.key_size);
  }

  void* lookup_elem(const void* key) override {
    const uint32_t i = find(key, hash_key(key), nullptr);
    if (i == nil) return nullptr;
    if (lru_) lru_touch(i);
    return value_of(i);
  }

  // The syscall's lookup: copies, and does not count as use of an LRU element.
  long lookup_copy(const void* key, void* value_out) override {
    const uint32_t i = find(key, hash_key(key), nullptr);
    if (i == nil) return -ENOENT;
    std::memcpy(value_out, value_of(i), attr_.value_size);
    return 0;
  }

  long update_elem(const void* key, const void* value, uint64_t flags) override {
    if (flags > BPF_EXIST) return -EINVAL;  // BPF_F_LOCK included: no bpf_spin_lock in values
    const uint64_t h = hash_key(key);
    uint32_t i = find(key, h, nullptr);
    if (i != nil) {
      if (flags == BPF_NOEXIST) return -EEXIST;
      std::memmove(value_of(i), value, attr_.value_size);  // `value` may be this very value
      if (lru_) lru_touch(i);
      return 0;
    }
    if (flags == BPF_EXIST) return -ENOENT;
    i = alloc_elem();
    if (i == nil) {
      if (!lru_) return -E2BIG;
      // Full: count_ == max_entries > 0, so the recency list has a least recent element.
      const uint32_t victim = lru_head_;
      uint64_t pos = 0;
      find(key_of(victim), hash_key(key_of(victim)), &pos);
      remove(victim, pos);
      i = alloc_elem();
    }
    elem_hdr* e = hdr(i);
    e->seq = next_seq_++;
    std::memcpy(key_of(i), key, attr_.key_size);
    std::memmove(value_of(i), value, attr_.value_size);  // may be the evicted element's value
    iter_append(i);
    if (lru_) lru_append(i);
    insert_slot(static_cast<uint32_t>(h >> 32), i);
    ++count_;
    return 0;
  }

  long delete_elem(const void* key) override {
    uint64_t pos = 0;
    const uint32_t i = find(key, hash_key(key), &pos);
    if (i == nil) return -ENOENT;
    remove(i, pos);
    return 0;
  }

  long for_each_elem(map_elem_cb cb, void* ctx) override {
    const uint64_t end_seq = next_seq_;  // elements inserted by the callbacks are not visited
    uint8_t* key = keys_.enter();
    long n = 0;
    uint32_t i = iter_head_;
    while (i != nil) {
      elem_hdr* e = hdr(i);
      const uint64_t seq = e->seq;
      if (seq >= end_seq) break;
      const uint32_t next = e->iter_next;
      const uint64_t next_seq = next != nil ? hdr(next)->seq : 0;
      std::memcpy(key, key_of(i), attr_.key_size);
      ++n;
      if (cb(ctx, key, value_of(i))) break;
      // Resume after this element; if the callback removed it, after its old place.
      if (e->seq == seq)
        i = e->iter_next;
      else if (next == nil || hdr(next)->seq == next_seq)
        i = next;
      else
        i = first_after(seq);
    }
    keys_.leave();
    return n;
  }

  long get_next_key(const void* key, void* next_key) override {
    const uint32_t i = key ? find(key, hash_key(key), nullptr) : nil;
    const uint32_t next = i == nil ? iter_head_ : hdr(i)->iter_next;
    if (next == nil) return -ENOENT;
    std::memcpy(next_key, key_of(next), attr_.key_size);
    return 0;
  }

  size_t mem_usage() const override {
    return sizeof(*this) + arena_.size() + hdr_buf_.size() + slot_buf_.size() + keys_.bytes();
  }

  std::vector<mem_region> regions() const override {
    return {{.start = reinterpret_cast<uintptr_t>(arena_.data()),
             .size = arena_.size(),
             .stride = stride_,
             .elem_off = value_off_,
             .elem_len = attr_.value_size,
             .writable = !(attr_.map_flags & BPF_F_RDONLY_PROG),
             .name = fmt::format("map '{}' value", attr_.name)},
            keys_.region(attr_.name, attr_.key_size)};
  }

 private:
  struct elem_hdr {
    uint64_t seq;        // insertion number, from 1; 0 while the element is free
    uint32_t iter_prev;  // insertion-order list; iter_next also links the free list
    uint32_t iter_next;
    uint32_t lru_prev;  // recency list, least recent first (LRU maps)
    uint32_t lru_next;
  };
  static_assert(sizeof(elem_hdr) == 24 && sizeof(elem_hdr) % 8 == 0);
  struct slot {
    uint32_t tag;   // hash >> 32; home slot = tag >> shift_
    uint32_t idx1;  // element index + 1; 0: empty
  };

  uint64_t hash_key(const void* key) const {
    const auto* p = static_cast<const uint8_t*>(key);
    uint32_t n = attr_.key_size;
    if (n == 4) {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return fmix64(v ^ k_seed);
    }
    uint64_t w;
    if (n == 8) {
      std::memcpy(&w, p, 8);
      return fmix64(w ^ k_seed);
    }
    uint64_t h = k_seed ^ (n * k_mul1);
    for (; n >= 8; n -= 8, p += 8) {
      std::memcpy(&w, p, 8);
      h = std::rotl(h ^ (w * k_mul1), 31) * k_mul2;
    }
    if (n) {
      w = 0;
      std::memcpy(&w, p, n);
      h = std::rotl(h ^ (w * k_mul1), 31) * k_mul2;
    }
    return fmix64(h);
  }

  bool key_eq(const uint8_t* stored, const void* key) const {
    switch (attr_.key_size) {
      case 4:
        return std::memcmp(stored, key, 4) == 0;
      case 8:
        return std::memcmp(stored, key, 8) == 0;
      default:
        return std::memcmp(stored, key, attr_.key_size) == 0;
    }
  }

  // The element holding `key` (hash h) or nil; its slot position in *pos.
  uint32_t find(const void* key, uint64_t h, uint64_t* pos) const {
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (uint64_t p = tag >> shift_;; p = (p + 1) & mask_) {
      const slot s = slots_[p];
      if (!s.idx1) return nil;
      if (s.tag == tag && key_eq(key_of(s.idx1 - 1), key)) {
        if (pos) *pos = p;
        return s.idx1 - 1;
      }
    }
  }

  void insert_slot(uint32_t tag, uint32_t i) {
    uint64_t p = tag >> shift_;
    while (slots_[p].idx1) p = (p + 1) & mask_;
    slots_[p] = {tag, i + 1};
  }

  // Backward-shift deletion: move later slots of the probe run into the hole unless their home
  // lies cyclically in (hole, slot], where moving would put them before their home.
  void erase_slot(uint64_t hole) {
    for (uint64_t j = (hole + 1) & mask_; slots_[j].idx1; j = (j + 1) & mask_) {
      const uint64_t home = slots_[j].tag >> shift_;
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = {0, 0};
  }

  uint32_t alloc_elem() {
    if (free_head_ != nil) {
      const uint32_t i = free_head_;
      free_head_ = hdr(i)->iter_next;
      return i;
    }
    return next_unused_ < attr_.max_entries ? next_unused_++ : nil;
  }

  void remove(uint32_t i, uint64_t pos) {
    erase_slot(pos);
    iter_unlink(i);
    if (lru_) lru_unlink(i);
    elem_hdr* e = hdr(i);
    e->seq = 0;
    e->iter_next = free_head_;
    free_head_ = i;
    --count_;
  }

  uint32_t first_after(uint64_t seq) const {
    uint32_t i = iter_head_;
    while (i != nil && hdr(i)->seq <= seq) i = hdr(i)->iter_next;
    return i;
  }

  void iter_append(uint32_t i) {
    elem_hdr* e = hdr(i);
    e->iter_prev = iter_tail_;
    e->iter_next = nil;
    (iter_tail_ != nil ? hdr(iter_tail_)->iter_next : iter_head_) = i;
    iter_tail_ = i;
  }
  void iter_unlink(uint32_t i) {
    elem_hdr* e = hdr(i);
    (e->iter_prev != nil ? hdr(e->iter_prev)->iter_next : iter_head_) = e->iter_next;
    (e->iter_next != nil ? hdr(e->iter_next)->iter_prev : iter_tail_) = e->iter_prev;
  }
  void lru_append(uint32_t i) {
    elem_hdr* e = hdr(i);
    e->lru_prev = lru_tail_;
    e->lru_next = nil;
    (lru_tail_ != nil ? hdr(lru_tail_)->lru_next : lru_head_) = i;
    lru_tail_ = i;
  }
  void lru_unlink(uint32_t i) {
    elem_hdr* e = hdr(i);
    (e->lru_prev != nil ? hdr(e->lru_prev)->lru_next : lru_head_) = e->lru_next;
    (e->lru_next != nil ? hdr(e->lru_next)->lru_prev : lru_tail_) = e->lru_prev;
  }
  void lru_touch(uint32_t i) {
    if (lru_tail_ == i) return;
    lru_unlink(i);
    lru_append(i);
  }

  uint8_t* elem(uint32_t i) const { return arena_.data() + uint64_t{i} * stride_; }
  elem_hdr* hdr(uint32_t i) const { return reinterpret_cast<elem_hdr*>(hdr_buf_.data()) + i; }
  uint8_t* key_of(uint32_t i) const { return elem(i); }
  uint8_t* value_of(uint32_t i) const { return elem(i) + value_off_; }

  const bool lru_;
  const uint32_t value_off_;
  const uint32_t stride_;
  uint64_t mask_ = 0;
  int shift_ = 0;
  zeroed_buf arena_;    // elements: key, then value
  zeroed_buf hdr_buf_;  // their headers, apart: a lookup reads only the key and the value
  zeroed_buf slot_buf_;
  slot* slots_ = nullptr;
  key_slots keys_;
  uint32_t count_ = 0;
  uint32_t next_unused_ = 0;  // elements [next_unused_, max_entries) were never used
  uint32_t free_head_ = nil;
  uint32_t iter_head_ = nil, iter_tail_ = nil;
  uint32_t lru_head_ = nil, lru_tail_ = nil;
  uint64_t next_seq_ = 1;
};

}  // namespace

result<std::unique_ptr<bpf_map>> create_hash(const map_attr& a) {
  auto m = std::make_unique<hash_map>(a);
  if (!m->init()) return alloc_error(a, m->storage_bytes(), "elements and index");
  return std::unique_ptr<bpf_map>(std::move(m));
}

}  // namespace mmbpf::bpf::maps
