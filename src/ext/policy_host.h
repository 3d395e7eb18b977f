// Page-cache policies by name, for one model: what `mmbpf run --policy NAME` and
// `--attach CGROUP=NAME` resolve. A name is
//   default        the kernel's LRU (nothing attached)
//   belady         Belady's MIN, the offline optimum (mm/belady.h); needs the workload's
//                  future page lookups
//   native:NAME    a native C++ policy (mm/native_policy.h): lru, fifo, mru, lfu, ...
//   NAME           an in-tree BPF policy, bpf/policies/cache/NAME.bpf.c, built into the
//                  policy directory; a name with no BPF policy but a native one is the native
//   PATH           a BPF object (a name ending in ".o" or containing '/') with one
//                  cache_ext_ops instance
// Before loading a BPF policy the host does what the policy's userspace loader would
// (bpf_map__set_max_entries), by the in-tree policies' map naming convention
// (bpf/include/cache_ext.bpf.h): a map whose name contains "folio" keeps an entry per cached
// folio and is sized to the node's page frames; a map named "ghost" (S3-FIFO's) is sized to 90 %
// of the cache the link manages: the largest finite memory.max among the memcgs it governs,
// else the node's memory.
// BPF policies run in one runtime per host through the cache_ext family (ext/cache_ext.h);
// every policy goes through the cgroup attachments (ext/attach.h), so the hot path is the
// same for all of them.
// OOM handlers (bpf_oom_ops objects, ext/bpf_oom.h) load into the same runtime and attach
// per memcg with attach_oom().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/error.h"
#include "ext/attach.h"
#include "ext/bpf_oom.h"
#include "ext/cache_ext.h"
#include "mm/belady.h"
#include "mm/hooks.h"
#include "mm/model.h"

namespace mmbpf::bpf {
class bpf_object;
class runtime;
}  // namespace mmbpf::bpf

namespace mmbpf::ext {

class cache_ext;
class bpf_psi;

// The in-tree BPF policies found in dir (NAME.bpf.o files), sorted.
std::vector<std::string> bpf_policy_names(const std::string& dir);

// Whether `name` resolves (without loading anything): an error naming the known policies.
result<void> check_policy_name(std::string_view name, const std::string& bpf_dir);

// An element to put into a BPF policy's map after load, before attach (what a policy's
// userspace loader does: get_scan's scan_pids, admit_filter's filtered_pids): key and value
// are integers, stored little-endian in the map's key and value sizes.
struct map_update {
  std::string map;
  uint64_t key = 0, value = 0;
};
// "MAP=KEY:VALUE" (KEY alone means VALUE 1).
result<map_update> parse_map_update(std::string_view s);

class policy_host {
 public:
  // bpf_dir: where in-tree BPF policies are (NAME.bpf.o).
  policy_host(mm::model& m, std::string bpf_dir);
  ~policy_host();  // detaches every policy (they must go before the model)
  policy_host(const policy_host&) = delete;
  policy_host& operator=(const policy_host&) = delete;

  using future_fn = std::function<result<std::vector<mm::page_ref>>()>;
  // Attaches policy `name` to mc. "default" attaches nothing. `future` is called for belady.
  result<void> attach(std::string_view name, mm::memcg& mc, attach_mode mode,
                      const future_fn& future = {});
  // Map elements every BPF policy attached from now on gets, where it has a map of that name.
  void set_map_updates(std::vector<map_update> u) { updates_ = std::move(u); }
  // The engine BPF policies run in (the JIT where it exists); set it before attaching.
  void set_engine(bpf::engine_kind k) { engine_ = k; }
  // Which of them some attached policy had the map for.
  const std::vector<bool>& map_updates_used() const { return used_; }
  // A memcg just created: its effective policy (attach.h).
  void on_cgroup_create(mm::memcg& mc) { at_.on_cgroup_create(mc); }
  cache_attachments& attachments() { return at_; }

  // Program runs, faults and refused kfunc calls of every BPF link, summed.
  cache_ext_stats bpf_stats() const;

  // OOM handlers (ext/bpf_oom.h). `name` is a BPF object path (a name ending in ".o" or
  // containing '/') or an in-tree OOM policy, <bpf_dir>/../oom/NAME.bpf.o; its bpf_oom_ops
  // instance is attached to mc (one per memcg: a second is an error), or, for an object with a
  // bpf_psi_ops instance (ext/bpf_psi.h), that one system-wide (mc must be the root). Map
  // updates (set_map_updates) apply as for page-cache policies.
  result<void> attach_oom(std::string_view name, mm::memcg& mc);
  // The OOM family, once an OOM handler was attached (else null): links, their stats, kills.
  bpf_oom* oom() { return oom_.get(); }

 private:
  uint64_t cache_pages(const mm::memcg& mc) const;
  void size_maps(bpf::bpf_object& obj, const mm::memcg& mc) const;
  void ensure_runtime();
  // Opens, sizes, loads and fills (map updates) a BPF object.
  result<std::unique_ptr<bpf::bpf_object>> load_object(const std::string& path, mm::memcg& mc);

  mm::model& m_;
  std::string bpf_dir_;
  cache_attachments at_;
  std::unique_ptr<bpf::runtime> rt_;  // created with the first BPF policy
  std::unique_ptr<cache_ext> ce_;
  std::unique_ptr<bpf_oom> oom_;  // created with the first OOM handler
  std::unique_ptr<bpf_psi> psi_;  // created with a PSI policy (bpf_psi_ops, system-wide)
  std::vector<std::unique_ptr<bpf::bpf_object>> objs_;
  std::vector<std::unique_ptr<mm::cache_policy>> native_;
  std::vector<mm::memcg*> attached_;  // non-BPF attachments, detached first
  std::vector<map_update> updates_;
  bpf::engine_kind engine_ = bpf::default_engine_kind();
  std::vector<bool> used_;
};

}  // namespace mmbpf::ext
