// BPF_MAP_CREATE: the attribute checks of kernel/bpf/syscall.c map_create and of each map type's
// map_alloc_check (arraymap.c, hashtab.c, ringbuf.c), in the kernel's order, then the type's
// constructor. Each rejection names the map, the attribute and the rule, in one line.
//
// Simplified: the caller is privileged (CAP_BPF, CAP_SYS_ADMIN: BPF_F_ZERO_SEED is allowed, array
// sizes are not rounded up to a power of two for Spectre v1 as they are for unprivileged users);
// there is no numa_node attribute, so BPF_F_NUMA_NODE means node 0, which is online; the errno
// the kernel would return is not carried, only the message (it says which rule failed).
#include "bpf/map.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include "bpf/maps/maps.h"

namespace mmbpf::bpf {

namespace {

// include/linux/bpf.h, not in the uapi header.
constexpr uint32_t k_access_mask =
    BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;
// Per type, the flags map_alloc_check accepts (ARRAY_CREATE_FLAG_MASK without the flags only
// other array types take, HTAB_CREATE_FLAG_MASK, RINGBUF_CREATE_FLAG_MASK).
constexpr uint32_t k_array_flags =
    BPF_F_NUMA_NODE | BPF_F_MMAPABLE | k_access_mask | BPF_F_INNER_MAP;
constexpr uint32_t k_percpu_array_flags = BPF_F_NUMA_NODE | k_access_mask;
constexpr uint32_t k_hash_flags =
    BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | k_access_mask | BPF_F_ZERO_SEED;
constexpr uint32_t k_ringbuf_flags = BPF_F_NUMA_NODE;

// PCPU_MIN_UNIT_SIZE bounds a percpu value; KMALLOC_MAX_SIZE (x86-64, 4 KiB pages, order-10
// slabs) minus sizeof(struct htab_elem) bounds a hash element's key and value.
constexpr uint64_t k_pcpu_min_unit_size = 32 << 10;
constexpr uint64_t k_htab_kv_limit = (4ULL << 20) - 48;

std::string flag_names(uint32_t flags) {
  static const std::pair<uint32_t, const char*> names[] = {
      {BPF_F_NO_PREALLOC, "BPF_F_NO_PREALLOC"}, {BPF_F_NO_COMMON_LRU, "BPF_F_NO_COMMON_LRU"},
      {BPF_F_NUMA_NODE, "BPF_F_NUMA_NODE"},     {BPF_F_RDONLY, "BPF_F_RDONLY"},
      {BPF_F_WRONLY, "BPF_F_WRONLY"},           {BPF_F_STACK_BUILD_ID, "BPF_F_STACK_BUILD_ID"},
      {BPF_F_ZERO_SEED, "BPF_F_ZERO_SEED"},     {BPF_F_RDONLY_PROG, "BPF_F_RDONLY_PROG"},
      {BPF_F_WRONLY_PROG, "BPF_F_WRONLY_PROG"}, {BPF_F_CLONE, "BPF_F_CLONE"},
      {BPF_F_MMAPABLE, "BPF_F_MMAPABLE"},       {BPF_F_PRESERVE_ELEMS, "BPF_F_PRESERVE_ELEMS"},
      {BPF_F_INNER_MAP, "BPF_F_INNER_MAP"},
  };
  std::string s;
  for (const auto& [bit, name] : names) {
    if (!(flags & bit)) continue;
    if (!s.empty()) s += '|';
    s += name;
    flags &= ~bit;
  }
  if (flags) {
    if (!s.empty()) s += '|';
    s += fmt::format("{:#x}", flags);
  }
  return s;
}

error fail(const map_attr& a, const std::string& what) {
  return error{fmt::format("map '{}': {}", a.name, what)};
}

// Flags outside `allowed`: "flag X in map_flags 0x.. is invalid for hash".
std::optional<error> check_flag_mask(const map_attr& a, uint32_t allowed, const std::string& ty) {
  const uint32_t bad = a.map_flags & ~allowed;
  if (!bad) return std::nullopt;
  const bool one = (bad & (bad - 1)) == 0;
  return fail(a, fmt::format("{} {} in map_flags {:#x} {} invalid for {}", one ? "flag" : "flags",
                             flag_names(bad), a.map_flags, one ? "is" : "are", ty));
}

// bpf_map_flags_access_ok: a program cannot be both read-only and write-only.
std::optional<error> check_prog_access(const map_attr& a) {
  constexpr uint32_t both = BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;
  if ((a.map_flags & both) != both) return std::nullopt;
  return fail(a, fmt::format("map_flags {:#x} sets both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG",
                             a.map_flags));
}

error must_be(const map_attr& a, const char* attr, uint64_t v, const std::string& ty,
              const char* rule) {
  return fail(a, fmt::format("{} {} is invalid for {} (must be {})", attr, v, ty, rule));
}

// array_map_alloc_check.
std::optional<error> check_array(const map_attr& a) {
  const bool percpu = a.map_type == BPF_MAP_TYPE_PERCPU_ARRAY;
  const std::string ty = maps::type_name(a.map_type);
  if (a.max_entries == 0) return must_be(a, "max_entries", 0, ty, "> 0");
  if (a.key_size != 4) return must_be(a, "key_size", a.key_size, ty, "4");
  if (a.value_size == 0) return must_be(a, "value_size", 0, ty, "> 0");
  if (auto e = check_flag_mask(a, percpu ? k_percpu_array_flags : k_array_flags, ty)) return e;
  if (auto e = check_prog_access(a)) return e;
  if (percpu && (a.map_flags & BPF_F_NUMA_NODE))
    return fail(a, fmt::format("flag BPF_F_NUMA_NODE is invalid for {}", ty));
  if (a.value_size > INT_MAX)
    return fail(
        a, fmt::format("value_size {} is too large for {} (max {})", a.value_size, ty, INT_MAX));
  if (percpu && maps::round_up8(a.value_size) > k_pcpu_min_unit_size)
    return fail(a, fmt::format("value_size {} is too large for {} (max {})", a.value_size, ty,
                               k_pcpu_min_unit_size));
  return std::nullopt;
}

// htab_map_alloc_check, and the max_entries bound htab_map_alloc enforces.
std::optional<error> check_hash(const map_attr& a) {
  const bool percpu =
      a.map_type == BPF_MAP_TYPE_PERCPU_HASH || a.map_type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  const bool lru =
      a.map_type == BPF_MAP_TYPE_LRU_HASH || a.map_type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  const std::string ty = maps::type_name(a.map_type);
  if (auto e = check_flag_mask(a, k_hash_flags, ty)) return e;
  if (auto e = check_prog_access(a)) return e;
  if (!lru && (a.map_flags & BPF_F_NO_COMMON_LRU))
    return fail(a, fmt::format("flag BPF_F_NO_COMMON_LRU is invalid for {} (LRU maps only)", ty));
  if (lru && (a.map_flags & BPF_F_NO_PREALLOC))  // the kernel's -ENOTSUPP
    return fail(a, fmt::format("flag BPF_F_NO_PREALLOC is not supported for {} (LRU maps are "
                               "always preallocated)",
                               ty));
  if ((a.map_flags & BPF_F_NUMA_NODE) && (percpu || (a.map_flags & BPF_F_NO_COMMON_LRU)))
    return fail(a, fmt::format("flag BPF_F_NUMA_NODE is invalid for {}{}", ty,
                               percpu ? "" : " with BPF_F_NO_COMMON_LRU"));
  if (a.max_entries == 0) return must_be(a, "max_entries", 0, ty, "> 0");
  if (a.key_size == 0) return must_be(a, "key_size", 0, ty, "> 0");
  if (a.value_size == 0) return must_be(a, "value_size", 0, ty, "> 0");
  if (uint64_t{a.key_size} + a.value_size >= k_htab_kv_limit)
    return fail(a, fmt::format("key_size {} + value_size {} is too large for {} (must be < {})",
                               a.key_size, a.value_size, ty, k_htab_kv_limit));
  if (percpu && maps::round_up8(a.value_size) > k_pcpu_min_unit_size)
    return fail(a, fmt::format("value_size {} is too large for {} (max {})", a.value_size, ty,
                               k_pcpu_min_unit_size));
  if (a.max_entries > (1U << 31))
    return fail(
        a, fmt::format("max_entries {} is too large for {} (max {})", a.max_entries, ty, 1U << 31));
  return std::nullopt;
}

// ringbuf_map_alloc. Its RINGBUF_MAX_DATA_SZ bound (64 GiB) is beyond any u32 max_entries.
std::optional<error> check_ringbuf(const map_attr& a) {
  const std::string ty = maps::type_name(a.map_type);
  if (auto e = check_flag_mask(a, k_ringbuf_flags, ty)) return e;
  if (a.key_size) return must_be(a, "key_size", a.key_size, ty, "0");
  if (a.value_size) return must_be(a, "value_size", a.value_size, ty, "0");
  const uint32_t n = a.max_entries;
  if (n == 0 || (n & (n - 1)) || n % maps::k_page_size)
    return must_be(a, "max_entries", n, ty, "a power of 2 and a multiple of 4096");
  return std::nullopt;
}

// bpf_obj_name_cpy: up to BPF_OBJ_NAME_LEN - 1 characters from [A-Za-z0-9_.].
std::optional<error> check_name(const map_attr& a) {
  if (a.name.size() >= BPF_OBJ_NAME_LEN)
    return fail(a, fmt::format("name is longer than {} characters", BPF_OBJ_NAME_LEN - 1));
  for (const char c : a.name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.')
      return fail(a, fmt::format("name has character {:#04x} (allowed: letters, digits, '_', "
                                 "'.')",
                                 static_cast<unsigned char>(c)));
  return std::nullopt;
}

}  // namespace

namespace maps {

std::string type_name(uint32_t t) {
  switch (t) {
    case BPF_MAP_TYPE_ARRAY:
      return "array";
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      return "percpu_array";
    case BPF_MAP_TYPE_HASH:
      return "hash";
    case BPF_MAP_TYPE_PERCPU_HASH:
      return "percpu_hash";
    case BPF_MAP_TYPE_LRU_HASH:
      return "lru_hash";
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      return "lru_percpu_hash";
    case BPF_MAP_TYPE_RINGBUF:
      return "ringbuf";
    default:
      return fmt::format("type {}", t);
  }
}

error alloc_error(const map_attr& a, uint64_t bytes, const char* what) {
  return fail(a, fmt::format("cannot allocate {} bytes for {}", bytes, what));
}

bool key_slots::alloc(uint32_t key_size) {
  stride_ = static_cast<uint32_t>(round_up8(key_size));
  n_ = stride_ <= 512 ? k_key_slots : 1;
  return buf_.alloc(uint64_t{stride_} * n_);
}

mem_region key_slots::region(const std::string& map_name, uint32_t key_size) const {
  return {.start = reinterpret_cast<uintptr_t>(buf_.data()),
          .size = buf_.size(),
          .stride = stride_,
          .elem_off = 0,
          .elem_len = key_size,
          .writable = false,
          .name = fmt::format("map '{}' key", map_name)};
}

}  // namespace maps

result<std::unique_ptr<bpf_map>> bpf_map::create(const map_attr& a) {
  // bpf_get_file_flag: the syscall-side access flags exclude each other.
  if ((a.map_flags & BPF_F_RDONLY) && (a.map_flags & BPF_F_WRONLY))
    return fail(
        a, fmt::format("map_flags {:#x} sets both BPF_F_RDONLY and BPF_F_WRONLY", a.map_flags));
  std::optional<error> bad;
  switch (a.map_type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      bad = check_array(a);
      break;
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      bad = check_hash(a);
      break;
    case BPF_MAP_TYPE_RINGBUF:
      bad = check_ringbuf(a);
      break;
    default:
      return fail(a, fmt::format("map_type {} is not supported (array, percpu_array, hash, "
                                 "percpu_hash, lru_hash, lru_percpu_hash and ringbuf are)",
                                 a.map_type));
  }
  if (bad) return *bad;
  // The kernel copies the name after allocating; checking it first spares the allocation and
  // changes nothing but which error a map with two faults reports.
  if (auto e = check_name(a)) return *e;
  switch (a.map_type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      return maps::create_array(a);
    case BPF_MAP_TYPE_RINGBUF:
      return maps::create_ringbuf(a);
    default:
      return maps::create_hash(a);
  }
}

long bpf_map::lookup_copy(const void* key, void* value_out) {
  const void* v = lookup_elem(key);
  if (!v) return -ENOENT;
  std::memcpy(value_out, v, attr_.value_size);
  return 0;
}

}  // namespace mmbpf::bpf
