// The runtime's registries, map table, address space and host services; see runtime.h.
#include "bpf/runtime.h"

#include <fmt/format.h>

#include "bpf/helper_ids.h"
#include "bpf/helpers.h"
#include "bpf/kfuncs_generic.h"

namespace mmbpf::bpf {

// ---- kfunc registry ----

result<uint32_t> kfunc_registry::add(kfunc_desc k) {
  if (!k.fn) return error{fmt::format("kfunc '{}' has no function", k.name)};
  if (by_name_.count(k.name) || var_names_.count(k.name))
    return error{fmt::format("kfunc '{}' is already registered", k.name)};
  if (k.btf_id == 0) k.btf_id = next_id_++;
  if (by_id_.count(k.btf_id) || vars_.count(k.btf_id))
    return error{fmt::format("kfunc '{}': btf_id {} is taken", k.name, k.btf_id)};
  const int index = static_cast<int>(kfuncs_.size());
  by_name_[k.name] = index;
  by_id_[k.btf_id] = index;
  kfuncs_.push_back(std::move(k));
  return kfuncs_.back().btf_id;
}

result<uint32_t> kfunc_registry::add_var(ksym_var v) {
  if (!v.addr || v.size == 0) return error{fmt::format("ksym '{}' has no storage", v.name)};
  if (by_name_.count(v.name) || var_names_.count(v.name))
    return error{fmt::format("ksym '{}' is already registered", v.name)};
  if (v.btf_id == 0) v.btf_id = next_id_++;
  if (by_id_.count(v.btf_id) || vars_.count(v.btf_id))
    return error{fmt::format("ksym '{}': btf_id {} is taken", v.name, v.btf_id)};
  var_names_[v.name] = v.btf_id;
  const uint32_t id = v.btf_id;
  vars_.emplace(id, std::move(v));
  return id;
}

const kfunc_desc* kfunc_registry::by_name(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &kfuncs_[it->second];
}

const kfunc_desc* kfunc_registry::by_id(uint32_t btf_id) const {
  const int i = index_of(btf_id);
  return i < 0 ? nullptr : &kfuncs_[i];
}

int kfunc_registry::index_of(uint32_t btf_id) const {
  auto it = by_id_.find(btf_id);
  return it == by_id_.end() ? -1 : it->second;
}

const ksym_var* kfunc_registry::var_by_id(uint32_t btf_id) const {
  auto it = vars_.find(btf_id);
  return it == vars_.end() ? nullptr : &it->second;
}

const ksym_var* kfunc_registry::var_by_name(std::string_view name) const {
  auto it = var_names_.find(std::string(name));
  return it == var_names_.end() ? nullptr : var_by_id(it->second);
}

// ---- faults ----

void run_ctx::set_fault(std::string msg) {
  if (faulted) return;  // the first fault is the cause
  faulted = true;
  fault = std::move(msg);
}

bool run_ctx::check_access(uint64_t addr, uint64_t size, bool write, const char* what,
                           bool fault_on_error) {
  if (!size) return true;  // touches nothing (a helper given a zero size)
  access_check c{access_status::unmapped, nullptr};
  bool found = false;
  for (int i = 0; i < n_local; ++i) {
    const mem_region& r = local[i];
    if (addr >= r.start && addr < r.end()) {
      c = {check_in_region(r, addr, size, write), &r};
      found = true;
      break;
    }
  }
  if (!found) c = rt->regions().check(addr, size, write);
  if (c.status == access_status::ok) return true;
  if (fault_on_error)
    set_fault(fmt::format("{}: invalid {}", what, describe_access(c, addr, size, write)));
  return false;
}

// ---- runtime ----

namespace {
uint64_t unresolved_weak_kfunc_call(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  current_run()->set_fault("call to an unresolved __weak kfunc");
  return 0;
}
uint64_t core_poison_call(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  current_run()->set_fault("reached an instruction poisoned by a failed CO-RE relocation");
  return 0;
}
}  // namespace

runtime::runtime() : helpers_(max_helper_id) {
  register_standard_helpers(*this);
  register_generic_kfuncs(*this);
  (void)kfuncs_.add({.name = unresolved_weak_kfunc, .fn = unresolved_weak_kfunc_call});
  (void)kfuncs_.add({.name = core_poison_kfunc, .fn = core_poison_call});
  // net/bpf/bpf_dummy_struct_ops.c: the kernel's struct_ops type for testing loaders.
  (void)struct_ops_.add({.name = "bpf_dummy_ops",
                         .rules = {{.name = "test_1"},
                                   {.name = "test_2"},
                                   {.name = "test_sleepable", .sleepable = true}}});
}
runtime::~runtime() = default;

void runtime::register_helper(int id, helper_proto proto) {
  if (id <= 0 || id >= max_helper_id) return;
  if (!proto.name) proto.name = kernel_helper_name(id);
  helpers_[id] = proto;
}

namespace {
// An upper bound on what a map of these attributes allocates (elements, index, ring pages).
uint64_t map_bytes_bound(const map_attr& a) {
  const uint64_t n = a.max_entries;
  if (a.map_type == BPF_MAP_TYPE_RINGBUF) return 2 * n + 4096;
  return n * (64 + ((uint64_t{a.key_size} + 7) & ~7ULL) + ((uint64_t{a.value_size} + 7) & ~7ULL)) +
         4096;
}
}  // namespace

result<int> runtime::create_map(const map_attr& attr) {
  const uint64_t need = map_bytes_bound(attr);
  if (need > map_memory_limit || map_memory_used_ > map_memory_limit - need)
    return error{fmt::format("map '{}': needs up to {} bytes; {} of the runtime's map memory "
                             "limit of {} are in use (-ENOMEM)",
                             attr.name, need, map_memory_used_, map_memory_limit)};
  auto m = bpf_map::create(attr);
  if (!m) return m.err();
  std::vector<uintptr_t> added;
  for (mem_region r : m.value()->regions()) {
    r.owner = m.value().get();
    const std::string name = r.name;
    const uintptr_t start = r.start;
    if (!regions_.add(std::move(r))) {
      for (uintptr_t s : added) regions_.remove(s);  // leave no region of a map that is not made
      return error{fmt::format("map '{}': region '{}' overlaps another", attr.name, name)};
    }
    added.push_back(start);
  }
  map_memory_used_ += m.value()->mem_usage();
  maps_.push_back(std::move(m.value()));
  return static_cast<int>(maps_.size() - 1);
}

bpf_map* runtime::map(int fd) const {
  return fd >= 0 && static_cast<size_t>(fd) < maps_.size() ? maps_[fd].get() : nullptr;
}

int runtime::map_fd(const bpf_map* m) const {
  for (size_t i = 0; i < maps_.size(); ++i)
    if (maps_[i].get() == m) return static_cast<int>(i);
  return -1;
}

uint32_t runtime::prandom_u32() {
  // splitmix64: a full-period, well-mixed sequence from any seed.
  uint64_t z = (prandom_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}

uint64_t runtime::now_ns() {
  return ktime_get_ns ? ktime_get_ns() : clock_++;
}
uint64_t runtime::pid_tgid() {
  return get_current_pid_tgid ? get_current_pid_tgid() : 0;
}

}  // namespace mmbpf::bpf
