// The maps against the kernel's documented behaviour (kernel/bpf/arraymap.c, hashtab.c,
// ringbuf.c, syscall.c map_create): the attribute checks at creation and their messages; every
// update flag on present and absent keys; full maps; LRU eviction order; delete; get_next_key
// from nothing, from a missing key and from the last key; for_each_elem order, early stop and
// callbacks that change the map; value pointers that stay put; mem_usage; the regions programs
// may address; the ring buffer's records, positions, wrap-around, discards, out-of-order
// commits and full ring. Values are exact: each expectation would catch a change of behaviour.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "bpf/map.h"
#include "bpf/memory.h"

namespace mmbpf::bpf {
namespace {

constexpr long k_enotsupp = 524;  // the kernel's ENOTSUPP

map_attr attr(uint32_t type, uint32_t ks, uint32_t vs, uint32_t n, uint32_t flags = 0,
              std::string name = "m") {
  return {.map_type = type,
          .key_size = ks,
          .value_size = vs,
          .max_entries = n,
          .map_flags = flags,
          .name = std::move(name)};
}

std::unique_ptr<bpf_map> make(const map_attr& a) {
  auto m = bpf_map::create(a);
  EXPECT_TRUE(m) << m.err().msg;
  return m ? std::move(m.value()) : nullptr;
}

std::unique_ptr<bpf_map> make(uint32_t type, uint32_t ks, uint32_t vs, uint32_t n,
                              uint32_t flags = 0, std::string name = "m") {
  return make(attr(type, ks, vs, n, flags, std::move(name)));
}

// The creation error's message, or "created".
std::string create_error(const map_attr& a) {
  auto m = bpf_map::create(a);
  return m ? "created" : m.err().msg;
}

mem_region region_named(const std::vector<mem_region>& rs, const std::string& name) {
  for (const auto& r : rs)
    if (r.name == name) return r;
  ADD_FAILURE() << "no region " << name;
  return {};
}

access_status at(const mem_region& r, const void* p, size_t n, bool write) {
  return check_in_region(r, reinterpret_cast<uintptr_t>(p), n, write);
}

uint64_t u64_at(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// ---- creation: generic rules ----

TEST(MapCreate, UnsupportedTypeIsNamed) {
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_LPM_TRIE, 8, 8, 4)),
            "map 'm': map_type 11 is not supported (array, percpu_array, hash, percpu_hash, "
            "lru_hash, lru_percpu_hash and ringbuf are)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_UNSPEC, 4, 4, 1)),
            "map 'm': map_type 0 is not supported (array, percpu_array, hash, percpu_hash, "
            "lru_hash, lru_percpu_hash and ringbuf are)");
}

TEST(MapCreate, NameFollowsBpfObjNameCpy) {
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "abcdefghijklmno")), "created");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "abcdefghijklmnop")),
            "map 'abcdefghijklmnop': name is longer than 15 characters");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "a-b")),
            "map 'a-b': name has character 0x2d (allowed: letters, digits, '_', '.')");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, ".rodata")), "created");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "")), "created");
  // The name is checked after the attributes, as the kernel copies it after allocating.
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 8, 4, 1, 0, "a-b")),
            "map 'a-b': key_size 8 is invalid for array (must be 4)");
}

TEST(MapCreate, SyscallAccessFlagsExcludeEachOther) {
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_RDONLY | BPF_F_WRONLY)),
            "map 'm': map_flags 0x18 sets both BPF_F_RDONLY and BPF_F_WRONLY");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 4, 1, BPF_F_RDONLY)), "created");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 4, 1, BPF_F_WRONLY)), "created");
  // Checked before the type's own rules.
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, BPF_F_RDONLY | BPF_F_WRONLY)),
            "map 'm': map_flags 0x18 sets both BPF_F_RDONLY and BPF_F_WRONLY");
}

// ---- array and percpu_array ----

TEST(ArrayCreate, AttributeRules) {
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 8, 4, 1, 0, "counts")),
            "map 'counts': key_size 8 is invalid for array (must be 4)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 0)),
            "map 'm': max_entries 0 is invalid for array (must be > 0)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 0, 1)),
            "map 'm': value_size 0 is invalid for array (must be > 0)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_ARRAY, 0, 4, 1)),
            "map 'm': key_size 0 is invalid for percpu_array (must be 4)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 0x80000000u, 1)),
            "map 'm': value_size 2147483648 is too large for array (max 2147483647)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 1)),
            "map 'm': value_size 32769 is too large for percpu_array (max 32768)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32768, 1)), "created");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32761, 1)), "created");
}

TEST(ArrayCreate, FlagRules) {
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_NO_PREALLOC)),
            "map 'm': flag BPF_F_NO_PREALLOC in map_flags 0x1 is invalid for array");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED)),
            "map 'm': flags BPF_F_NO_PREALLOC|BPF_F_ZERO_SEED in map_flags 0x41 are invalid for "
            "array");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 1u << 20)),
            "map 'm': flag 0x100000 in map_flags 0x100000 is invalid for array");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_PRESERVE_ELEMS)),
            "map 'm': flag BPF_F_PRESERVE_ELEMS in map_flags 0x800 is invalid for array");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)),
            "map 'm': map_flags 0x180 sets both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG");
  for (uint32_t f : {BPF_F_NUMA_NODE, BPF_F_MMAPABLE, BPF_F_RDONLY, BPF_F_WRONLY, BPF_F_RDONLY_PROG,
                     BPF_F_WRONLY_PROG, BPF_F_INNER_MAP})
    EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 4, 1, f)), "created") << f;
  // percpu_array takes neither mmap nor inner-map use nor a NUMA node.
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 1, BPF_F_MMAPABLE)),
            "map 'm': flag BPF_F_MMAPABLE in map_flags 0x400 is invalid for percpu_array");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 1, BPF_F_INNER_MAP)),
            "map 'm': flag BPF_F_INNER_MAP in map_flags 0x1000 is invalid for percpu_array");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 1, BPF_F_NUMA_NODE)),
            "map 'm': flag BPF_F_NUMA_NODE is invalid for percpu_array");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 1, BPF_F_RDONLY_PROG)), "created");
}

TEST(ArrayCreate, StorageTooLargeIsAnAllocationError) {
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_ARRAY, 4, 0x7fffffff, 0xffffffff)),
            "map 'm': cannot allocate 9223372034707292160 bytes for values");
}

class ArrayMap : public ::testing::TestWithParam<uint32_t> {};
INSTANTIATE_TEST_SUITE_P(Types, ArrayMap,
                         ::testing::Values(BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY),
                         [](const auto& i) {
                           return i.param == BPF_MAP_TYPE_ARRAY ? "Array" : "PercpuArray";
                         });

TEST_P(ArrayMap, ValuesStartZeroedAndEveryIndexExists) {
  auto m = make(GetParam(), 4, 12, 5);
  for (uint32_t k = 0; k < 5; ++k) {
    const auto* v = static_cast<const uint8_t*>(m->lookup_elem(&k));
    ASSERT_NE(v, nullptr) << k;
    for (int b = 0; b < 12; ++b) EXPECT_EQ(v[b], 0) << k << " " << b;
  }
  uint32_t k = 5;
  EXPECT_EQ(m->lookup_elem(&k), nullptr);
  k = UINT32_MAX;
  EXPECT_EQ(m->lookup_elem(&k), nullptr);
}

TEST_P(ArrayMap, UpdateFlags) {
  auto m = make(GetParam(), 4, 8, 4);
  uint32_t k = 1;
  uint64_t v = 7, out = 0;
  EXPECT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  EXPECT_EQ(m->lookup_copy(&k, &out), 0);
  EXPECT_EQ(out, 7u);
  v = 8;
  EXPECT_EQ(m->update_elem(&k, &v, BPF_EXIST), 0);  // every element exists
  EXPECT_EQ(u64_at(m->lookup_elem(&k)), 8u);
  v = 9;
  EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST | BPF_EXIST), -EINVAL);
  EXPECT_EQ(m->update_elem(&k, &v, 8), -EINVAL);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_F_LOCK), -EINVAL);  // no bpf_spin_lock in the value
  EXPECT_EQ(m->update_elem(&k, &v, BPF_F_LOCK | BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(u64_at(m->lookup_elem(&k)), 8u);  // none of the failures wrote
  k = 4;                                      // == max_entries
  EXPECT_EQ(m->update_elem(&k, &v, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST), -E2BIG);  // the index is checked first
  EXPECT_EQ(m->update_elem(&k, &v, BPF_F_LOCK), -E2BIG);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST | BPF_EXIST), -EINVAL);  // flags before index
}

TEST_P(ArrayMap, UpdateFromItsOwnValueIsANoOp) {
  auto m = make(GetParam(), 4, 16, 2);
  uint32_t k = 0;
  uint64_t v[2] = {1, 2};
  ASSERT_EQ(m->update_elem(&k, v, BPF_ANY), 0);
  void* p = m->lookup_elem(&k);
  EXPECT_EQ(m->update_elem(&k, p, BPF_ANY), 0);
  EXPECT_EQ(std::memcmp(p, v, 16), 0);
}

TEST_P(ArrayMap, DeleteIsInvalidAndLookupCopyOutOfRangeIsENOENT) {
  auto m = make(GetParam(), 4, 8, 4);
  uint32_t k = 0;
  EXPECT_EQ(m->delete_elem(&k), -EINVAL);
  k = 9;
  EXPECT_EQ(m->delete_elem(&k), -EINVAL);
  uint64_t out = 0x55;
  EXPECT_EQ(m->lookup_copy(&k, &out), -ENOENT);
  EXPECT_EQ(out, 0x55u);
}

TEST_P(ArrayMap, GetNextKeyWalksIndices) {
  auto m = make(GetParam(), 4, 8, 4);
  uint32_t next = 77;
  EXPECT_EQ(m->get_next_key(nullptr, &next), 0);
  EXPECT_EQ(next, 0u);
  for (uint32_t k = 0; k < 3; ++k) {
    EXPECT_EQ(m->get_next_key(&k, &next), 0);
    EXPECT_EQ(next, k + 1);
  }
  uint32_t last = 3;
  next = 77;
  EXPECT_EQ(m->get_next_key(&last, &next), -ENOENT);
  EXPECT_EQ(next, 77u);
  for (uint32_t past : {4u, 1000u, UINT32_MAX}) {  // a key not in the map restarts at 0
    next = 77;
    EXPECT_EQ(m->get_next_key(&past, &next), 0);
    EXPECT_EQ(next, 0u);
  }
}

struct visit_log {
  std::vector<uint64_t> keys;
  std::vector<void*> key_ptrs, values;
  uint64_t stop_at = UINT64_MAX;
};

uint64_t log_u32_key(void* ctx, void* key, void* value) {
  auto* l = static_cast<visit_log*>(ctx);
  uint32_t k;
  std::memcpy(&k, key, 4);
  l->keys.push_back(k);
  l->key_ptrs.push_back(key);
  l->values.push_back(value);
  return k == l->stop_at;
}

TEST_P(ArrayMap, ForEachVisitsEveryIndexInOrderAndStopsOnNonzero) {
  auto m = make(GetParam(), 4, 8, 4);
  visit_log l;
  EXPECT_EQ(m->for_each_elem(log_u32_key, &l), 4);
  EXPECT_EQ(l.keys, (std::vector<uint64_t>{0, 1, 2, 3}));
  for (uint32_t k = 0; k < 4; ++k) EXPECT_EQ(l.values[k], m->lookup_elem(&k));
  visit_log s;
  s.stop_at = 2;
  EXPECT_EQ(m->for_each_elem(log_u32_key, &s), 3);  // counts the element that stopped it
  EXPECT_EQ(s.keys, (std::vector<uint64_t>{0, 1, 2}));
}

TEST_P(ArrayMap, RegionsAreStridedValuesAndReadOnlyKeys) {
  auto m = make(GetParam(), 4, 12, 4, 0, "arr");
  const auto rs = m->regions();
  ASSERT_EQ(rs.size(), 2u);
  const mem_region& r = region_named(rs, "map 'arr' value");
  uint32_t k = 0;
  auto* v0 = static_cast<uint8_t*>(m->lookup_elem(&k));
  k = 1;
  auto* v1 = static_cast<uint8_t*>(m->lookup_elem(&k));
  k = 3;
  auto* v3 = static_cast<uint8_t*>(m->lookup_elem(&k));
  EXPECT_EQ(v1 - v0, 16);  // round_up(12, 8)
  EXPECT_EQ(r.start, reinterpret_cast<uintptr_t>(v0));
  EXPECT_EQ(r.size, 64u);
  EXPECT_EQ(r.stride, 16u);
  EXPECT_EQ(r.elem_off, 0u);
  EXPECT_EQ(r.elem_len, 12u);
  EXPECT_TRUE(r.writable);
  EXPECT_EQ(at(r, v1, 12, true), access_status::ok);
  EXPECT_EQ(at(r, v1 + 4, 8, true), access_status::ok);
  EXPECT_EQ(at(r, v1 + 12, 1, false), access_status::outside_elem);  // padding
  EXPECT_EQ(at(r, v1 + 15, 1, false), access_status::outside_elem);
  EXPECT_EQ(at(r, v1 + 8, 8, false), access_status::crosses_end);
  EXPECT_EQ(at(r, v3, 12, true), access_status::ok);
  EXPECT_EQ(at(r, v3 + 12, 4, false), access_status::outside_elem);
  EXPECT_EQ(at(r, v3 + 16, 1, false), access_status::crosses_end);  // past the region

  // The key for_each hands a callback: readable, not writable, not a value.
  visit_log l;
  l.stop_at = 0;
  m->for_each_elem(log_u32_key, &l);
  const mem_region& kr = region_named(rs, "map 'arr' key");
  EXPECT_FALSE(kr.writable);
  EXPECT_EQ(kr.stride, 8u);
  EXPECT_EQ(kr.elem_len, 4u);
  EXPECT_EQ(at(kr, l.key_ptrs[0], 4, false), access_status::ok);
  EXPECT_EQ(at(kr, l.key_ptrs[0], 4, true), access_status::read_only);
  EXPECT_EQ(at(kr, l.key_ptrs[0], 8, false), access_status::crosses_end);
}

TEST_P(ArrayMap, ReadOnlyProgFlagMakesTheValueRegionReadOnly) {
  auto m = make(GetParam(), 4, 8, 2, BPF_F_RDONLY_PROG, "ro");
  const mem_region& r = region_named(m->regions(), "map 'ro' value");
  uint32_t k = 1;
  void* v = m->lookup_elem(&k);
  EXPECT_EQ(at(r, v, 8, false), access_status::ok);
  EXPECT_EQ(at(r, v, 8, true), access_status::read_only);
  uint64_t x = 5;  // the host (syscall side) still writes
  EXPECT_EQ(m->update_elem(&k, &x, BPF_ANY), 0);
  EXPECT_EQ(u64_at(v), 5u);
}

TEST_P(ArrayMap, MemUsageGrowsWithEntriesAndValueSize) {
  const size_t base = make(GetParam(), 4, 12, 10)->mem_usage();
  EXPECT_EQ(make(GetParam(), 4, 12, 20)->mem_usage() - base, 10u * 16);
  EXPECT_EQ(make(GetParam(), 4, 20, 10)->mem_usage() - base, 10u * 8);  // stride 16 -> 24
  EXPECT_EQ(make(GetParam(), 4, 13, 10)->mem_usage(), base);            // same stride
  EXPECT_GE(base, 10u * 16);
}

TEST(ArrayMapNesting, ForEachOnTheSameMapInACallbackGetsItsOwnKey) {
  auto m = make(BPF_MAP_TYPE_ARRAY, 4, 8, 2);
  struct ctx {
    bpf_map* m;
    std::vector<std::pair<uint32_t, uint32_t>> seen;  // (outer key before, outer key after)
  } c{m.get(), {}};
  auto outer = [](void* cx, void* key, void*) -> uint64_t {
    auto* c = static_cast<ctx*>(cx);
    uint32_t before;
    std::memcpy(&before, key, 4);
    c->m->for_each_elem([](void*, void*, void*) -> uint64_t { return 0; }, nullptr);
    uint32_t after;
    std::memcpy(&after, key, 4);
    c->seen.emplace_back(before, after);
    return 0;
  };
  EXPECT_EQ(m->for_each_elem(outer, &c), 2);
  EXPECT_EQ(c.seen, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 0}, {1, 1}}));
}

// ---- hash, percpu_hash, lru_hash, lru_percpu_hash ----

TEST(HashCreate, AttributeRules) {
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 4, 0)),
            "map 'm': max_entries 0 is invalid for hash (must be > 0)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 0, 4, 1)),
            "map 'm': key_size 0 is invalid for hash (must be > 0)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_LRU_HASH, 4, 0, 1)),
            "map 'm': value_size 0 is invalid for lru_hash (must be > 0)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 8, 4194248, 1)),
            "map 'm': key_size 8 + value_size 4194248 is too large for hash (must be < 4194256)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 8, 4194247, 1)), "created");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_HASH, 4, 32769, 1)),
            "map 'm': value_size 32769 is too large for percpu_hash (max 32768)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 32769, 1)),
            "map 'm': value_size 32769 is too large for lru_percpu_hash (max 32768)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 32769, 1)), "created");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 4, 0x80000001u)),
            "map 'm': max_entries 2147483649 is too large for hash (max 2147483648)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 4096, 0x80000000u)),
            "map 'm': cannot allocate 8899172237312 bytes for elements and index");
}

TEST(HashCreate, FlagRules) {
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 4, 1, BPF_F_MMAPABLE)),
            "map 'm': flag BPF_F_MMAPABLE in map_flags 0x400 is invalid for hash");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 4, 1, BPF_F_INNER_MAP)),
            "map 'm': flag BPF_F_INNER_MAP in map_flags 0x1000 is invalid for hash");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 4, 1, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)),
            "map 'm': map_flags 0x180 sets both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 4, 1, BPF_F_NO_COMMON_LRU)),
            "map 'm': flag BPF_F_NO_COMMON_LRU is invalid for hash (LRU maps only)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 1, BPF_F_NO_COMMON_LRU)),
            "map 'm': flag BPF_F_NO_COMMON_LRU is invalid for percpu_hash (LRU maps only)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_LRU_HASH, 4, 4, 1, BPF_F_NO_PREALLOC)),
            "map 'm': flag BPF_F_NO_PREALLOC is not supported for lru_hash (LRU maps are always "
            "preallocated)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 1, BPF_F_NUMA_NODE)),
            "map 'm': flag BPF_F_NUMA_NODE is invalid for percpu_hash");
  EXPECT_EQ(
      create_error(attr(BPF_MAP_TYPE_LRU_HASH, 4, 4, 1, BPF_F_NUMA_NODE | BPF_F_NO_COMMON_LRU)),
      "map 'm': flag BPF_F_NUMA_NODE is invalid for lru_hash with BPF_F_NO_COMMON_LRU");
  // Accepted.
  for (uint32_t f : {BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_F_ZERO_SEED, BPF_F_RDONLY_PROG,
                     BPF_F_WRONLY_PROG, BPF_F_RDONLY})
    EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_HASH, 4, 4, 1, f)), "created") << f;
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 1, BPF_F_NO_PREALLOC)), "created");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_LRU_HASH, 4, 4, 1, BPF_F_NO_COMMON_LRU)), "created");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 4, 1, BPF_F_NO_COMMON_LRU)),
            "created");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_LRU_HASH, 4, 4, 1, BPF_F_NUMA_NODE)), "created");
}

class HashMap : public ::testing::TestWithParam<uint32_t> {
 protected:
  bool lru() const {
    return GetParam() == BPF_MAP_TYPE_LRU_HASH || GetParam() == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  }
  std::unique_ptr<bpf_map> hash(uint32_t ks, uint32_t vs, uint32_t n, uint32_t flags = 0,
                                std::string name = "h") {
    return make(GetParam(), ks, vs, n, flags, std::move(name));
  }
};

INSTANTIATE_TEST_SUITE_P(Types, HashMap,
                         ::testing::Values(BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_HASH,
                                           BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH),
                         [](const auto& i) -> std::string {
                           switch (i.param) {
                             case BPF_MAP_TYPE_HASH:
                               return "Hash";
                             case BPF_MAP_TYPE_PERCPU_HASH:
                               return "PercpuHash";
                             case BPF_MAP_TYPE_LRU_HASH:
                               return "LruHash";
                             default:
                               return "LruPercpuHash";
                           }
                         });

std::vector<uint32_t> keys_in_order(bpf_map& m) {
  std::vector<uint32_t> ks;
  uint32_t k, next;
  const void* prev = nullptr;
  while (m.get_next_key(prev, &next) == 0) {
    ks.push_back(next);
    k = next;
    prev = &k;
    if (ks.size() > 100000) break;
  }
  return ks;
}

TEST_P(HashMap, UpdateFlagsOnPresentAndAbsentKeys) {
  auto m = hash(4, 8, 8);
  uint32_t k = 10;
  uint64_t v = 1, out = 0;
  EXPECT_EQ(m->lookup_elem(&k), nullptr);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_EXIST), -ENOENT);  // absent: nothing inserted
  EXPECT_EQ(m->lookup_elem(&k), nullptr);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST), 0);
  EXPECT_EQ(m->lookup_copy(&k, &out), 0);
  EXPECT_EQ(out, 1u);
  v = 2;
  EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(u64_at(m->lookup_elem(&k)), 1u);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_EXIST), 0);
  EXPECT_EQ(u64_at(m->lookup_elem(&k)), 2u);
  v = 3;
  EXPECT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  EXPECT_EQ(u64_at(m->lookup_elem(&k)), 3u);
  uint32_t k2 = 11;
  EXPECT_EQ(m->update_elem(&k2, &v, BPF_ANY), 0);  // BPF_ANY inserts too
  EXPECT_EQ(u64_at(m->lookup_elem(&k2)), 3u);
  // Unknown flags and BPF_F_LOCK (no bpf_spin_lock in the value) are -EINVAL, present or not.
  uint32_t absent = 12;
  for (uint64_t f : {uint64_t{BPF_NOEXIST | BPF_EXIST}, uint64_t{BPF_F_LOCK},
                     uint64_t{BPF_F_LOCK | BPF_EXIST}, uint64_t{8}, uint64_t{1} << 32}) {
    EXPECT_EQ(m->update_elem(&k, &v, f), -EINVAL) << f;
    EXPECT_EQ(m->update_elem(&absent, &v, f), -EINVAL) << f;
  }
  EXPECT_EQ(m->lookup_elem(&absent), nullptr);
}

TEST_P(HashMap, DeleteAndMissingKeys) {
  auto m = hash(4, 8, 4);
  uint32_t k = 5;
  uint64_t v = 50, out = 0;
  EXPECT_EQ(m->delete_elem(&k), -ENOENT);
  ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  EXPECT_EQ(m->delete_elem(&k), 0);
  EXPECT_EQ(m->lookup_elem(&k), nullptr);
  EXPECT_EQ(m->lookup_copy(&k, &out), -ENOENT);
  EXPECT_EQ(m->delete_elem(&k), -ENOENT);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_EXIST), -ENOENT);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST), 0);  // may be inserted again
  EXPECT_EQ(m->lookup_copy(&k, &out), 0);
  EXPECT_EQ(out, 50u);
}

TEST_P(HashMap, FullMapRefusesNewKeysOrEvicts) {
  auto m = hash(4, 8, 4);
  for (uint32_t k = 0; k < 4; ++k) {
    uint64_t v = k;
    ASSERT_EQ(m->update_elem(&k, &v, BPF_NOEXIST), 0);
  }
  uint32_t k = 4;
  uint64_t v = 44;
  // An existing key can always be updated; BPF_EXIST/BPF_NOEXIST fail as on any map.
  uint32_t old = 2;
  EXPECT_EQ(m->update_elem(&old, &v, BPF_ANY), 0);
  EXPECT_EQ(m->update_elem(&old, &v, BPF_EXIST), 0);
  EXPECT_EQ(m->update_elem(&old, &v, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_EXIST), -ENOENT);
  if (!lru()) {
    EXPECT_EQ(m->update_elem(&k, &v, BPF_ANY), -E2BIG);
    EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST), -E2BIG);
    EXPECT_EQ(m->lookup_elem(&k), nullptr);
    uint32_t gone = 0;
    ASSERT_EQ(m->delete_elem(&gone), 0);
    EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST), 0);  // room again
  } else {
    // Key 0 is the least recently used (inserted first, never looked up by a program).
    EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST), 0);
    uint32_t gone = 0;
    EXPECT_EQ(m->lookup_elem(&gone), nullptr);
  }
  EXPECT_EQ(u64_at(m->lookup_elem(&k)), 44u);
  EXPECT_EQ(keys_in_order(*m), (std::vector<uint32_t>{1, 2, 3, 4}));
}

TEST_P(HashMap, GetNextKeyFollowsInsertionOrder) {
  auto m = hash(4, 8, 8);
  uint32_t next = 0;
  EXPECT_EQ(m->get_next_key(nullptr, &next), -ENOENT);  // empty
  uint32_t missing = 99;
  EXPECT_EQ(m->get_next_key(&missing, &next), -ENOENT);
  for (uint32_t k : {30u, 10u, 20u}) {
    uint64_t v = k;
    ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  }
  EXPECT_EQ(m->get_next_key(nullptr, &next), 0);
  EXPECT_EQ(next, 30u);
  uint32_t k = 30;
  EXPECT_EQ(m->get_next_key(&k, &next), 0);
  EXPECT_EQ(next, 10u);
  k = 10;
  EXPECT_EQ(m->get_next_key(&k, &next), 0);
  EXPECT_EQ(next, 20u);
  k = 20;
  next = 7;
  EXPECT_EQ(m->get_next_key(&k, &next), -ENOENT);  // the last key
  EXPECT_EQ(next, 7u);
  EXPECT_EQ(m->get_next_key(&missing, &next), 0);  // a key not in the map: the first key
  EXPECT_EQ(next, 30u);
  // key and next_key may be the same buffer, as with the syscall's usual loop.
  k = 30;
  EXPECT_EQ(m->get_next_key(&k, &k), 0);
  EXPECT_EQ(k, 10u);
  // An update keeps the position; a deleted and re-inserted key goes to the end.
  uint64_t v = 1;
  k = 30;
  ASSERT_EQ(m->update_elem(&k, &v, BPF_EXIST), 0);
  EXPECT_EQ(keys_in_order(*m), (std::vector<uint32_t>{30, 10, 20}));
  k = 10;
  ASSERT_EQ(m->delete_elem(&k), 0);
  EXPECT_EQ(keys_in_order(*m), (std::vector<uint32_t>{30, 20}));
  ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  EXPECT_EQ(keys_in_order(*m), (std::vector<uint32_t>{30, 20, 10}));
}

TEST_P(HashMap, LookupPointersAreStable) {
  auto m = hash(8, 16, 64);
  std::map<uint64_t, void*> ptrs;
  for (uint64_t k = 0; k < 40; ++k) {
    uint64_t v[2] = {k, ~k};
    ASSERT_EQ(m->update_elem(&k, v, BPF_NOEXIST), 0);
    ptrs[k] = m->lookup_elem(&k);
  }
  for (uint64_t k = 0; k < 40; k += 3) ASSERT_EQ(m->delete_elem(&k), 0);
  for (uint64_t k = 100; k < 110; ++k) {
    uint64_t v[2] = {k, k};
    ASSERT_EQ(m->update_elem(&k, v, BPF_NOEXIST), 0);
  }
  for (uint64_t k = 0; k < 40; ++k) {
    if (k % 3 == 0) continue;
    EXPECT_EQ(m->lookup_elem(&k), ptrs[k]) << k;
    EXPECT_EQ(u64_at(ptrs[k]), k);
  }
  // An update writes through the same pointer.
  uint64_t k = 1, v[2] = {500, 501};
  ASSERT_EQ(m->update_elem(&k, v, BPF_ANY), 0);
  EXPECT_EQ(u64_at(ptrs[1]), 500u);
  EXPECT_EQ(m->update_elem(&k, ptrs[1], BPF_ANY), 0);  // from its own value: unchanged
  EXPECT_EQ(std::memcmp(ptrs[1], v, 16), 0);
}

struct mutate_ctx {
  mutate_ctx(bpf_map* map, int act) : m(map), action(act) {}
  bpf_map* m;
  int action;  // 1: delete the current key, 2: insert a new key, 3: delete the next (key + 1)
  uint32_t next_new = 1000;
  visit_log log;
};

uint64_t log_u32_key_then(void* ctx, void* key, void* value) {
  auto* c = static_cast<mutate_ctx*>(ctx);
  log_u32_key(&c->log, key, value);
  uint32_t k;
  std::memcpy(&k, key, 4);
  uint64_t v = 0;
  switch (c->action) {
    case 1:
      EXPECT_EQ(c->m->delete_elem(key), 0);
      break;
    case 2: {
      const uint32_t n = c->next_new++;
      EXPECT_EQ(c->m->update_elem(&n, &v, BPF_NOEXIST), 0);
      break;
    }
    case 3: {
      const uint32_t n = k + 1;
      c->m->delete_elem(&n);
      break;
    }
  }
  return 0;
}

TEST_P(HashMap, ForEachVisitsInInsertionOrderAndStops) {
  auto m = hash(4, 8, 16);
  for (uint32_t k : {5u, 3u, 9u, 1u}) {
    uint64_t v = k * 10;
    ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  }
  visit_log l;
  EXPECT_EQ(m->for_each_elem(log_u32_key, &l), 4);
  EXPECT_EQ(l.keys, (std::vector<uint64_t>{5, 3, 9, 1}));
  for (size_t i = 0; i < 4; ++i) {
    const uint32_t k = static_cast<uint32_t>(l.keys[i]);
    EXPECT_EQ(l.values[i], m->lookup_elem(&k));
    EXPECT_EQ(u64_at(l.values[i]), k * 10u);
  }
  visit_log s;
  s.stop_at = 9;
  EXPECT_EQ(m->for_each_elem(log_u32_key, &s), 3);
  EXPECT_EQ(s.keys, (std::vector<uint64_t>{5, 3, 9}));
  auto empty = hash(4, 8, 4);
  visit_log e;
  EXPECT_EQ(empty->for_each_elem(log_u32_key, &e), 0);
}

TEST_P(HashMap, ForEachCallbacksMayChangeTheMap) {
  auto fill = [&](bpf_map& m) {
    for (uint32_t k = 1; k <= 6; ++k) {
      uint64_t v = k;
      ASSERT_EQ(m.update_elem(&k, &v, BPF_ANY), 0);
    }
  };
  {  // deleting the current element: every element is still visited once
    auto m = hash(4, 8, 16);
    fill(*m);
    mutate_ctx c(m.get(), 1);
    EXPECT_EQ(m->for_each_elem(log_u32_key_then, &c), 6);
    EXPECT_EQ(c.log.keys, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(keys_in_order(*m), std::vector<uint32_t>{});
  }
  {  // inserting: new elements are not visited by the walk in progress
    auto m = hash(4, 8, 16);
    fill(*m);
    mutate_ctx c(m.get(), 2);
    EXPECT_EQ(m->for_each_elem(log_u32_key_then, &c), 6);
    EXPECT_EQ(c.log.keys, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(keys_in_order(*m),
              (std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 1000, 1001, 1002, 1003, 1004, 1005}));
  }
  {  // deleting the next element: it is skipped
    auto m = hash(4, 8, 16);
    fill(*m);
    mutate_ctx c(m.get(), 3);
    EXPECT_EQ(m->for_each_elem(log_u32_key_then, &c), 3);
    EXPECT_EQ(c.log.keys, (std::vector<uint64_t>{1, 3, 5}));
    EXPECT_EQ(keys_in_order(*m), (std::vector<uint32_t>{1, 3, 5}));
  }
}

TEST_P(HashMap, ForEachKeyIsAReadOnlyCopy) {
  auto m = hash(4, 8, 4, 0, "h");
  uint32_t k = 7;
  uint64_t v = 1;
  ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  visit_log l;
  ASSERT_EQ(m->for_each_elem(log_u32_key, &l), 1);
  const auto rs = m->regions();
  ASSERT_EQ(rs.size(), 2u);
  const mem_region& kr = region_named(rs, "map 'h' key");
  EXPECT_EQ(at(kr, l.key_ptrs[0], 4, false), access_status::ok);
  EXPECT_EQ(at(kr, l.key_ptrs[0], 4, true), access_status::read_only);
  EXPECT_EQ(at(kr, static_cast<uint8_t*>(l.key_ptrs[0]) + 4, 1, false),
            access_status::outside_elem);
  const mem_region& vr = region_named(rs, "map 'h' value");
  const auto kp = reinterpret_cast<uintptr_t>(l.key_ptrs[0]);
  EXPECT_TRUE(kp < vr.start || kp >= vr.end());  // not the element's own key
}

TEST_P(HashMap, ValueRegionCoversOnlyValueBytes) {
  // Element: key 4 -> 8, value 12 -> 16: stride 24, value at 8 (headers are kept apart).
  auto m = hash(4, 12, 4, 0, "h");
  const mem_region& r = region_named(m->regions(), "map 'h' value");
  EXPECT_EQ(r.stride, 24u);
  EXPECT_EQ(r.elem_off, 8u);
  EXPECT_EQ(r.elem_len, 12u);
  EXPECT_EQ(r.size, 4u * 24);
  EXPECT_TRUE(r.writable);
  uint32_t k[2] = {1, 2};
  uint8_t v[12] = {};
  ASSERT_EQ(m->update_elem(&k[0], v, BPF_ANY), 0);
  ASSERT_EQ(m->update_elem(&k[1], v, BPF_ANY), 0);
  auto* p = static_cast<uint8_t*>(m->lookup_elem(&k[1]));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ((reinterpret_cast<uintptr_t>(p) - r.start) % 24, 8u);
  EXPECT_EQ(at(r, p, 12, true), access_status::ok);
  EXPECT_EQ(at(r, p + 8, 4, true), access_status::ok);
  EXPECT_EQ(at(r, p, 13, false), access_status::crosses_end);
  EXPECT_EQ(at(r, p + 12, 1, false), access_status::outside_elem);  // padding
  EXPECT_EQ(at(r, p - 8, 4, false), access_status::outside_elem);   // the key
  EXPECT_EQ(at(r, p - 8, 4, true), access_status::outside_elem);
  // Whichever of the two elements p is, the other's key is 16 bytes away on one side.
  const bool first = reinterpret_cast<uintptr_t>(p) - r.start == 8;
  EXPECT_EQ(at(r, first ? p + 16 : p - 32, 8, false), access_status::outside_elem);
}

TEST_P(HashMap, ReadOnlyProgFlagMakesValuesReadOnly) {
  auto m = hash(4, 8, 4, BPF_F_RDONLY_PROG, "ro");
  uint32_t k = 1;
  uint64_t v = 3;
  ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  const mem_region& r = region_named(m->regions(), "map 'ro' value");
  EXPECT_EQ(at(r, m->lookup_elem(&k), 8, false), access_status::ok);
  EXPECT_EQ(at(r, m->lookup_elem(&k), 8, true), access_status::read_only);
}

TEST_P(HashMap, MemUsageGrowsWithEntriesAndValueSize) {
  // key 4, value 8: 40-byte elements; slots of 8 bytes, 2 * round_up_pow2(max_entries) of them.
  const size_t base = hash(4, 8, 64)->mem_usage();
  EXPECT_EQ(hash(4, 8, 128)->mem_usage() - base, 64u * 40 + 128u * 8);
  EXPECT_EQ(hash(4, 8, 100)->mem_usage() - base, 36u * 40 + 128u * 8);
  EXPECT_EQ(hash(4, 16, 64)->mem_usage() - base, 64u * 8);
  EXPECT_EQ(hash(4, 12, 64)->mem_usage() - base, 64u * 8);  // value rounded up to 16
  EXPECT_GE(base, 64u * 40 + 128u * 8);
  if (!lru()) {
    EXPECT_EQ(hash(4, 8, 64, BPF_F_NO_PREALLOC)->mem_usage(), base);  // still preallocated
  }
  // Usage does not change as elements come and go.
  auto m = hash(4, 8, 64);
  for (uint32_t k = 0; k < 64; ++k) {
    uint64_t v = k;
    ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  }
  EXPECT_EQ(m->mem_usage(), base);
}

// Many keys of several sizes against a reference std::map, with deletes interleaved: exercises
// probing, backward-shift deletion and reuse of freed elements.
class HashKeySizes : public ::testing::TestWithParam<std::tuple<uint32_t, uint32_t>> {};
INSTANTIATE_TEST_SUITE_P(TypesAndKeySizes, HashKeySizes,
                         ::testing::Combine(::testing::Values(BPF_MAP_TYPE_HASH,
                                                              BPF_MAP_TYPE_LRU_HASH),
                                            ::testing::Values(1u, 4u, 8u, 12u, 16u, 20u, 64u)));

TEST_P(HashKeySizes, AgreesWithAReferenceMap) {
  const auto param = GetParam();
  const auto type = std::get<0>(param);
  const auto ks = std::get<1>(param);  // not a structured binding: clang 14 cannot capture one
  const uint32_t n = 512;
  auto m = make(type, ks, 8, n);
  std::map<std::vector<uint8_t>, uint64_t> ref;
  std::vector<std::vector<uint8_t>> order;  // insertion order of live keys
  std::mt19937_64 rng(ks * 7919 + type);
  auto random_key = [&] {
    std::vector<uint8_t> k(ks);
    // A small key space, so updates hit existing keys and deletes hit present ones.
    const uint64_t x = rng() % (ks == 1 ? 256 : 700);
    for (uint32_t i = 0; i < ks; ++i) k[i] = static_cast<uint8_t>(x >> (8 * (i % 8)));
    return k;
  };
  for (int step = 0; step < 20000; ++step) {
    auto k = random_key();
    const uint64_t v = rng();
    const bool present = ref.count(k) != 0;
    if (rng() % 3 == 0) {
      ASSERT_EQ(m->delete_elem(k.data()), present ? 0 : -ENOENT);
      if (present) {
        ref.erase(k);
        order.erase(std::find(order.begin(), order.end(), k));
      }
      continue;
    }
    if (!present && ref.size() == n) continue;  // full: covered elsewhere
    ASSERT_EQ(m->update_elem(k.data(), &v, BPF_ANY), 0);
    if (!present) order.push_back(k);
    ref[k] = v;
  }
  for (const auto& [k, v] : ref) {
    const void* p = m->lookup_elem(k.data());
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(u64_at(p), v);
  }
  for (int i = 0; i < 2000; ++i) {
    auto k = random_key();
    EXPECT_EQ(m->lookup_elem(k.data()) != nullptr, ref.count(k) != 0);
  }
  std::vector<std::vector<uint8_t>> walked;
  std::vector<uint8_t> cur(ks), next(ks);
  const void* prev = nullptr;
  while (m->get_next_key(prev, next.data()) == 0 && walked.size() <= n) {
    walked.push_back(next);
    cur = next;
    prev = cur.data();
  }
  EXPECT_EQ(walked, order);
}

// ---- LRU ----

class LruHash : public ::testing::TestWithParam<uint32_t> {};
INSTANTIATE_TEST_SUITE_P(Types, LruHash,
                         ::testing::Values(BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH),
                         [](const auto& i) {
                           return i.param == BPF_MAP_TYPE_LRU_HASH ? "LruHash" : "LruPercpuHash";
                         });

bool has(bpf_map& m, uint32_t k) {
  uint64_t out;
  return m.lookup_copy(&k, &out) == 0;  // the syscall's lookup does not count as use
}

TEST_P(LruHash, EvictsTheLeastRecentlyUsed) {
  auto m = make(GetParam(), 4, 8, 3);
  auto put = [&](uint32_t k, uint64_t flags = BPF_ANY) {
    uint64_t v = k * 11;
    return m->update_elem(&k, &v, flags);
  };
  ASSERT_EQ(put(1), 0);
  ASSERT_EQ(put(2), 0);
  ASSERT_EQ(put(3), 0);  // recency: 1 2 3
  uint32_t k = 1;
  ASSERT_NE(m->lookup_elem(&k), nullptr);  // 2 3 1
  ASSERT_EQ(put(4), 0);                    // evicts 2: 3 1 4
  EXPECT_FALSE(has(*m, 2));
  EXPECT_TRUE(has(*m, 1));
  EXPECT_TRUE(has(*m, 3));
  EXPECT_TRUE(has(*m, 4));
  ASSERT_EQ(put(3, BPF_EXIST), 0);  // an update is a use: 1 4 3
  ASSERT_EQ(put(5), 0);             // evicts 1: 4 3 5
  EXPECT_FALSE(has(*m, 1));
  // lookup_copy, get_next_key and for_each_elem are not uses: 4 stays least recent.
  EXPECT_TRUE(has(*m, 4));
  EXPECT_EQ(keys_in_order(*m), (std::vector<uint32_t>{3, 4, 5}));
  visit_log l;
  EXPECT_EQ(m->for_each_elem(log_u32_key, &l), 3);
  ASSERT_EQ(put(6, BPF_NOEXIST), 0);  // evicts 4: 3 5 6
  EXPECT_FALSE(has(*m, 4));
  EXPECT_TRUE(has(*m, 3));
  EXPECT_TRUE(has(*m, 5));
  EXPECT_TRUE(has(*m, 6));
  uint64_t out = 0;
  k = 6;
  EXPECT_EQ(m->lookup_copy(&k, &out), 0);
  EXPECT_EQ(out, 66u);
}

TEST_P(LruHash, IterationIsInsertionOrderNotRecency) {
  auto m = make(GetParam(), 4, 8, 4);
  for (uint32_t k : {1u, 2u, 3u}) {
    uint64_t v = k;
    ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  }
  uint32_t k = 1;
  ASSERT_NE(m->lookup_elem(&k), nullptr);
  EXPECT_EQ(keys_in_order(*m), (std::vector<uint32_t>{1, 2, 3}));
}

TEST_P(LruHash, FailedUpdatesEvictNothing) {
  auto m = make(GetParam(), 4, 8, 2);
  for (uint32_t k : {1u, 2u}) {
    uint64_t v = k;
    ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  }
  uint32_t k = 3;
  uint64_t v = 3;
  EXPECT_EQ(m->update_elem(&k, &v, BPF_EXIST), -ENOENT);
  k = 1;
  EXPECT_EQ(m->update_elem(&k, &v, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->update_elem(&k, &v, BPF_F_LOCK), -EINVAL);
  EXPECT_EQ(keys_in_order(*m), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(u64_at(m->lookup_elem(&k)), 1u);
}

TEST_P(LruHash, EvictedElementsMemoryIsReused) {
  auto m = make(GetParam(), 4, 8, 2);
  for (uint32_t k : {1u, 2u}) {
    uint64_t v = k;
    ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  }
  uint32_t k = 1;
  void* p1 = m->lookup_elem(&k);  // recency: 2 1
  k = 2;
  void* p2 = m->lookup_elem(&k);  // 1 2
  k = 9;
  uint64_t v = 99;
  ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);  // evicts 1 and takes its element
  EXPECT_EQ(m->lookup_elem(&k), p1);
  EXPECT_EQ(u64_at(p1), 99u);  // a stale pointer stays valid memory, showing the new element
  EXPECT_EQ(u64_at(p2), 2u);
}

TEST_P(LruHash, InsertFromACallbackEvictsSafely) {
  auto m = make(GetParam(), 4, 8, 4);
  for (uint32_t k = 1; k <= 4; ++k) {
    uint64_t v = k;
    ASSERT_EQ(m->update_elem(&k, &v, BPF_ANY), 0);
  }
  // Each callback inserts a new key into the full map, evicting the least recent element: the
  // one being visited. The walk resumes after its old place and ends with the elements that
  // existed when it began; the new keys are not visited.
  mutate_ctx c(m.get(), 2);
  EXPECT_EQ(m->for_each_elem(log_u32_key_then, &c), 4);
  EXPECT_EQ(c.log.keys, (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(keys_in_order(*m), (std::vector<uint32_t>{1000, 1001, 1002, 1003}));
}

// ---- ringbuf ----

TEST(RingbufCreate, AttributeRules) {
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_RINGBUF, 4, 0, 4096)),
            "map 'm': key_size 4 is invalid for ringbuf (must be 0)");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_RINGBUF, 0, 8, 4096)),
            "map 'm': value_size 8 is invalid for ringbuf (must be 0)");
  for (uint32_t n : {0u, 1000u, 2048u, 3u * 4096, 4096u + 8}) {
    EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_RINGBUF, 0, 0, n)),
              "map 'm': max_entries " + std::to_string(n) +
                  " is invalid for ringbuf (must be a power of 2 and a multiple of 4096)");
  }
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, BPF_F_RDONLY_PROG)),
            "map 'm': flag BPF_F_RDONLY_PROG in map_flags 0x80 is invalid for ringbuf");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, BPF_F_NUMA_NODE)), "created");
  EXPECT_EQ(create_error(attr(BPF_MAP_TYPE_RINGBUF, 0, 0, 1u << 20)), "created");
}

struct consumer {
  std::vector<std::vector<uint8_t>> got;
  int refuse_after = -1;  // return nonzero for the record after this many were taken

  static int take(void* ctx, const void* d, size_t n) {
    auto* c = static_cast<consumer*>(ctx);
    if (c->refuse_after >= 0 && static_cast<int>(c->got.size()) == c->refuse_after) return 1;
    const auto* b = static_cast<const uint8_t*>(d);
    c->got.emplace_back(b, b + n);
    return 0;
  }
};

class Ringbuf : public ::testing::Test {
 protected:
  std::unique_ptr<ringbuf_map> rb_of(uint32_t size, const char* name = "rb") {
    auto m = make(BPF_MAP_TYPE_RINGBUF, 0, 0, size, 0, name);
    return std::unique_ptr<ringbuf_map>(static_cast<ringbuf_map*>(m.release()));
  }
  static uint32_t hdr_len(const void* sample) {
    uint32_t v;
    std::memcpy(&v, static_cast<const uint8_t*>(sample) - 8, 4);
    return v;
  }
  static uint32_t hdr_pg_off(const void* sample) {
    uint32_t v;
    std::memcpy(&v, static_cast<const uint8_t*>(sample) - 4, 4);
    return v;
  }
};

TEST_F(Ringbuf, ReserveWritesABusyHeaderAndSubmitClearsIt) {
  auto rb = rb_of(4096);
  EXPECT_EQ(rb->query(BPF_RB_RING_SIZE), 4096u);
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 0u);
  auto* s = static_cast<uint8_t*>(rb->reserve(5, 0));
  ASSERT_NE(s, nullptr);
  const mem_region& r = region_named(rb->regions(), "ringbuf 'rb' data");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s), r.start + 8);  // first record at offset 0
  EXPECT_EQ(hdr_len(s), 5u | BPF_RINGBUF_BUSY_BIT);
  EXPECT_EQ(hdr_pg_off(s), 3u);                // data starts 3 pages into struct bpf_ringbuf
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 16u);  // round_up(5 + 8, 8)
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 0u);
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 16u);
  EXPECT_EQ(rb->query(99), 0u);  // unknown query
  std::memcpy(s, "hello", 5);
  consumer c;
  EXPECT_EQ(rb->consume(consumer::take, &c), 0);  // still BUSY
  EXPECT_FALSE(rb->submit(s + 8, 0));  // not a sample
  EXPECT_TRUE(rb->submit(s, 0));
  EXPECT_EQ(hdr_len(s), 5u);
  EXPECT_FALSE(rb->submit(s, 0));   // already committed
  EXPECT_FALSE(rb->discard(s, 0));
  EXPECT_EQ(hdr_len(s), 5u);
  EXPECT_EQ(rb->consume(consumer::take, &c), 1);
  ASSERT_EQ(c.got.size(), 1u);
  EXPECT_EQ(std::string(c.got[0].begin(), c.got[0].end()), "hello");
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 16u);
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 0u);
  EXPECT_EQ(rb->consume(consumer::take, &c), 0);
}

TEST_F(Ringbuf, ReserveFlagsAndSizesAsTheKernel) {
  auto rb = rb_of(4096);
  EXPECT_EQ(rb->reserve(8, 1), nullptr);  // bpf_ringbuf_reserve takes no flags
  EXPECT_EQ(rb->reserve(8, BPF_RB_FORCE_WAKEUP), nullptr);
  EXPECT_EQ(rb->reserve(4096, 0), nullptr);      // larger than the ring
  EXPECT_EQ(rb->reserve(4096 - 8, 0), nullptr);  // record of 4096: the producer may not lap
  EXPECT_EQ(rb->reserve(uint64_t{1} << 32, 0), nullptr);
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 0u);
  auto* big = rb->reserve(4096 - 16, 0);  // 4088-byte record: the largest that fits
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 4088u);
  EXPECT_EQ(rb->reserve(0, 0), nullptr);  // 8 more bytes would make 4096 > size - 1
  rb->discard(big, 0);
  consumer c;
  EXPECT_EQ(rb->consume(consumer::take, &c), 0);  // discarded: skipped, but consumed
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 4088u);
  auto* z = rb->reserve(0, 0);  // a header-only record
  ASSERT_NE(z, nullptr);
  rb->submit(z, BPF_RB_NO_WAKEUP);
  EXPECT_EQ(rb->consume(consumer::take, &c), 1);
  ASSERT_EQ(c.got.size(), 1u);
  EXPECT_TRUE(c.got[0].empty());
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 4096u);
}

TEST_F(Ringbuf, FullRingReturnsNullUntilConsumed) {
  auto rb = rb_of(4096);
  std::vector<void*> recs;
  for (;;) {  // 120-byte samples: 128-byte records; 31 fit (3968 bytes), a 32nd would be 4096
    void* s = rb->reserve(120, 0);
    if (!s) break;
    recs.push_back(s);
  }
  ASSERT_EQ(recs.size(), 31u);
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 31u * 128);
  EXPECT_NE(rb->reserve(120 - 8, 0), nullptr);  // a 120-byte record still fits: 4088
  uint8_t x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(rb->output(x, 8, 0), -EAGAIN);
  for (void* s : recs) rb->submit(s, 0);
  consumer c;
  EXPECT_EQ(rb->consume(consumer::take, &c), 31);  // stops at the last one, still BUSY
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 31u * 128);
  EXPECT_EQ(rb->output(x, 8, 0), 0);  // room again
}

TEST_F(Ringbuf, DiscardedRecordsAreSkipped) {
  auto rb = rb_of(4096);
  auto* a = static_cast<uint8_t*>(rb->reserve(4, 0));
  auto* b = static_cast<uint8_t*>(rb->reserve(4, 0));
  auto* c3 = static_cast<uint8_t*>(rb->reserve(4, 0));
  std::memcpy(a, "aaaa", 4);
  std::memcpy(b, "bbbb", 4);
  std::memcpy(c3, "cccc", 4);
  rb->submit(a, 0);
  rb->discard(b, BPF_RB_FORCE_WAKEUP);
  rb->submit(c3, 0);
  EXPECT_EQ(hdr_len(b), 4u | BPF_RINGBUF_DISCARD_BIT);
  consumer c;
  EXPECT_EQ(rb->consume(consumer::take, &c), 2);
  ASSERT_EQ(c.got.size(), 2u);
  EXPECT_EQ(std::string(c.got[0].begin(), c.got[0].end()), "aaaa");
  EXPECT_EQ(std::string(c.got[1].begin(), c.got[1].end()), "cccc");
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 48u);
}

TEST_F(Ringbuf, OutOfOrderCommitWaitsForTheEarlierRecord) {
  auto rb = rb_of(4096);
  auto* a = static_cast<uint8_t*>(rb->reserve(1, 0));
  auto* b = static_cast<uint8_t*>(rb->reserve(1, 0));
  *a = 'a';
  *b = 'b';
  rb->submit(b, 0);
  consumer c;
  EXPECT_EQ(rb->consume(consumer::take, &c), 0);
  EXPECT_TRUE(c.got.empty());
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 0u);
  rb->submit(a, 0);
  EXPECT_EQ(rb->consume(consumer::take, &c), 2);
  ASSERT_EQ(c.got.size(), 2u);
  EXPECT_EQ(c.got[0], std::vector<uint8_t>{'a'});
  EXPECT_EQ(c.got[1], std::vector<uint8_t>{'b'});
}

TEST_F(Ringbuf, CommitIgnoresPointersThatAreNotBusySamples) {
  auto rb = rb_of(4096);
  auto* a = static_cast<uint8_t*>(rb->reserve(8, 0));
  rb->submit(a + 8, 0);  // inside a record, not a sample
  rb->submit(a - 8, 0);  // before the data area
  EXPECT_EQ(hdr_len(a), 8u | BPF_RINGBUF_BUSY_BIT);
  rb->submit(a, 0);
  rb->discard(a, 0);  // already committed
  EXPECT_EQ(hdr_len(a), 8u);
  consumer c;
  EXPECT_EQ(rb->consume(consumer::take, &c), 1);
  rb->submit(a, 0);  // consumed
  EXPECT_EQ(hdr_len(a), 8u);
}

TEST_F(Ringbuf, ConsumerCallbackMayLeaveARecordForLater) {
  auto rb = rb_of(4096);
  for (uint8_t i = 0; i < 3; ++i) ASSERT_EQ(rb->output(&i, 1, 0), 0);
  consumer c;
  c.refuse_after = 1;
  EXPECT_EQ(rb->consume(consumer::take, &c), 1);
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 16u);
  c.refuse_after = -1;
  EXPECT_EQ(rb->consume(consumer::take, &c), 2);
  ASSERT_EQ(c.got.size(), 3u);
  EXPECT_EQ(c.got[1], std::vector<uint8_t>{1});
  EXPECT_EQ(c.got[2], std::vector<uint8_t>{2});
}

TEST_F(Ringbuf, OutputCopiesAndChecksFlags) {
  auto rb = rb_of(4096);
  const char msg[] = "0123456789";
  EXPECT_EQ(rb->output(msg, 10, 4), -EINVAL);
  EXPECT_EQ(rb->output(msg, 10, BPF_RB_NO_WAKEUP | 8), -EINVAL);
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 0u);
  EXPECT_EQ(rb->output(msg, 10, BPF_RB_NO_WAKEUP), 0);
  EXPECT_EQ(rb->output(msg, 3, BPF_RB_FORCE_WAKEUP | BPF_RB_NO_WAKEUP), 0);
  EXPECT_EQ(rb->output(msg, 0, 0), 0);
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 24u + 16 + 8);
  consumer c;
  EXPECT_EQ(rb->consume(consumer::take, &c), 3);
  ASSERT_EQ(c.got.size(), 3u);
  EXPECT_EQ(std::string(c.got[0].begin(), c.got[0].end()), "0123456789");
  EXPECT_EQ(std::string(c.got[1].begin(), c.got[1].end()), "012");
  EXPECT_TRUE(c.got[2].empty());
}

TEST_F(Ringbuf, RecordsWrapAroundTheEnd) {
  auto rb = rb_of(4096);
  const mem_region& r = region_named(rb->regions(), "ringbuf 'rb' data");
  std::vector<uint8_t> filler(1000, 0xee);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(rb->output(filler.data(), 1000, 0), 0);  // 3 x 1008
  consumer c;
  ASSERT_EQ(rb->consume(consumer::take, &c), 3);
  ASSERT_EQ(rb->query(BPF_RB_CONS_POS), 3024u);
  // 2000 bytes at offset 3024: the record runs 936 bytes past the end of the ring.
  auto* s = static_cast<uint8_t*>(rb->reserve(2000, 0));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s), r.start + 3024 + 8);
  EXPECT_EQ(at(r, s, 2000, true), access_status::ok);  // contiguous for the program
  for (int i = 0; i < 2000; ++i) s[i] = static_cast<uint8_t>(i * 7);
  rb->submit(s, 0);
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 5032u);
  // The next record starts at 5032 & 4095 = 936: positions wrap, offsets restart.
  auto* t = static_cast<uint8_t*>(rb->reserve(16, 0));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t), r.start + 936 + 8);
  std::memset(t, 0x5a, 16);
  rb->submit(t, 0);
  c.got.clear();
  EXPECT_EQ(rb->consume(consumer::take, &c), 2);
  ASSERT_EQ(c.got.size(), 2u);
  ASSERT_EQ(c.got[0].size(), 2000u);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(c.got[0][i], static_cast<uint8_t>(i * 7)) << i;
  EXPECT_EQ(c.got[1], std::vector<uint8_t>(16, 0x5a));
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 5056u);
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 5056u);
}

TEST_F(Ringbuf, ManyLapsKeepPositionsAndData) {
  auto rb = rb_of(4096);
  consumer c;
  uint64_t produced = 0;
  for (uint32_t i = 0; i < 1000; ++i) {
    std::vector<uint8_t> d(i % 300, static_cast<uint8_t>(i));
    ASSERT_EQ(rb->output(d.data(), d.size(), 0), 0) << i;
    produced += (d.size() + 8 + 7) / 8 * 8;
    if (i % 5 == 4) {
      ASSERT_EQ(rb->consume(consumer::take, &c), 5);
    }
  }
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), produced);
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), produced);
  ASSERT_EQ(c.got.size(), 1000u);
  for (uint32_t i = 0; i < 1000; ++i)
    ASSERT_EQ(c.got[i], std::vector<uint8_t>(i % 300, static_cast<uint8_t>(i))) << i;
}

TEST_F(Ringbuf, PageOffsetFollowsTheRecord) {
  auto rb = rb_of(8192);
  std::vector<uint8_t> d(4088 - 8);
  ASSERT_EQ(rb->output(d.data(), d.size(), 0), 0);  // a 4088-byte record
  auto* s = rb->reserve(8, 0);                      // header at 4088: page 0 of the data
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(hdr_pg_off(s), 3u);
  auto* t = rb->reserve(8, 0);  // header at 4104: page 1
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(hdr_pg_off(t), 4u);
}

TEST_F(Ringbuf, ElementOpsAreNotSupported) {
  auto rb = rb_of(4096);
  uint32_t k = 0;
  uint64_t v = 0;
  EXPECT_EQ(rb->lookup_elem(&k), nullptr);
  EXPECT_EQ(rb->lookup_copy(&k, &v), -k_enotsupp);
  EXPECT_EQ(rb->update_elem(&k, &v, 0), -k_enotsupp);
  EXPECT_EQ(rb->delete_elem(&k), -k_enotsupp);
  EXPECT_EQ(rb->get_next_key(nullptr, &k), -k_enotsupp);
  visit_log l;
  EXPECT_EQ(rb->for_each_elem(log_u32_key, &l), -k_enotsupp);
}

TEST_F(Ringbuf, RegionAndMemUsage) {
  auto rb = rb_of(4096, "events");
  const auto rs = rb->regions();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].name, "ringbuf 'events' data");
  EXPECT_EQ(rs[0].size, 8192u);  // the ring and the room a wrapping record runs into
  EXPECT_EQ(rs[0].stride, 0u);
  EXPECT_TRUE(rs[0].writable);
  EXPECT_EQ(rs[0].start % 4096, 0u);
  EXPECT_EQ(rb_of(8192)->mem_usage() - rb->mem_usage(), 8192u);
  EXPECT_EQ(rb_of(65536)->mem_usage() - rb->mem_usage(), 2u * (65536 - 4096));
}

}  // namespace
}  // namespace mmbpf::bpf
