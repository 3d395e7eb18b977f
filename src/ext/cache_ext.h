// cache_ext (SOSP '25; shared/reference/mm-bpf-interfaces.md §3): page-cache eviction and
// admission policies written in BPF, with the code's names. The family registers the
// struct_ops type "cache_ext_ops" { init, evict_folios, folio_added, folio_accessed,
// folio_evicted, admit_folio } and the list kfuncs of mm/cache_ext_ds.c with the runtime, and
// attaches instances to cgroups (the BPF_LINK_TYPE_CACHE_EXT_OPS link), in either mode of
// ext/attach.h.
//
// Per link (the kernel's per-memcg registry and valid-folio set):
//   - at most 5 lists (CACHE_EXT_REGISTRY_MAX_ENTRIES), created only by bpf_cache_ext_ds_
//     registry_new_list(), a KF_SLEEPABLE kfunc, so only from `init` (struct_ops.s); a list's
//     id is the address of its head, as in the kernel, and every kfunc checks it;
//   - one cache_ext_list_node per page frame: a folio is valid from folio_added() until it
//     leaves the page cache, when it is taken off its list after folio_evicted() runs; list
//     kfuncs refuse folios that are not valid (-1, list_del -ENOENT);
//   - list_iterate visits at most 4096 nodes from the head and stops once 32 candidates are
//     proposed; iterate_extended moves continued / proposed nodes as its opts say; list_sample
//     pulls request x sample_size (<= 2048) nodes from the head, proposes the lowest-scoring of
//     each run of sample_size and puts all of them back at the tail (fails with -1, proposing
//     nothing, when the list holds fewer), as the kernel's code does.
// The model validates every candidate and falls back to its LRU (mm/vmscan.cpp); admit_folio
// returning false makes the read behave like direct IO (mm/filemap.cpp).
//
// In effective mode one link governs several memcgs. Each of its lists is then one list per
// memcg behind one id, as the kernel's registry is per memcg: a folio goes onto its own
// memcg's list, iterate and sample walk the list of the memcg being shrunk, so a policy
// written for one cgroup works unchanged and never sees another memcg's folios there.
//
// Programs run in the runtime's engine (the JIT where it exists, runtime::engine), verified at
// load; the model's own invariants never depend on what a program wrote except through the
// candidates, which are validated. A program that faults (runtime error) is counted and
// treated as having proposed nothing. Simplified: no locking (the model is single-threaded).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/error.h"
#include "bpf/engine.h"
#include "ext/attach.h"
#include "mm/hooks.h"
#include "mm/model.h"

struct cache_ext_list_node;  // vmlinux.h
struct mem_cgroup;

namespace mmbpf::bpf {
class bpf_object;
class runtime;
struct bpf_prog;
}  // namespace mmbpf::bpf

namespace mmbpf::ext {

inline constexpr int CACHE_EXT_REGISTRY_MAX_ENTRIES = 5;
inline constexpr uint64_t CACHE_EXT_MAX_ITER = 4096;
inline constexpr uint64_t CACHE_EXT_MAX_SAMPLE_FOLIOS = 2048;

// Registers struct_ops "cache_ext_ops" and the cache_ext kfuncs in rt, once (later calls do
// nothing).
void register_cache_ext(bpf::runtime& rt);

// What one link's programs did, for reports and tests.
struct cache_ext_stats {
  uint64_t runs = 0;         // program runs, all members
  uint64_t prog_errors = 0;  // runs that faulted; treated as "no decision"
  uint64_t kfunc_refused = 0;  // list kfunc calls refused (bad list id, invalid folio, ...)
  std::string last_error;
};

// One attached cache_ext_ops instance; the mm::cache_policy of the memcgs it governs.
class cache_ext_link final : public mm::cache_policy {
 public:
  ~cache_ext_link() override;
  cache_ext_link(const cache_ext_link&) = delete;
  cache_ext_link& operator=(const cache_ext_link&) = delete;

  void folio_added(::folio* f) override;
  void folio_accessed(::folio* f) override;
  void folio_evicted(::folio* f) override;
  unsigned evict_folios(mm::memcg& mc, unsigned request, ::folio** out) override;
  bool admit_folio(const mm::admission_ctx& ctx) override;

  const std::string& name() const { return name_; }
  mm::memcg& memcg() const { return *mc_; }
  const cache_ext_stats& stats() const { return stats_; }
  int nr_lists() const { return nr_lists_; }
  // Nodes on the list with this id (0 if there is none), and the folios on it head first
  // (memcg by memcg in effective mode).
  uint64_t list_length(uint64_t list) const;
  std::vector<::folio*> list_folios(uint64_t list) const;
  uint64_t list_id(int i) const;  // the i-th list created, or 0

  // -- for the kfuncs (cache_ext.cpp)
  struct kfunc_api;

 private:
  friend class cache_ext;
  friend struct kfunc_api;
  enum member { INIT, EVICT_FOLIOS, FOLIO_ADDED, FOLIO_ACCESSED, FOLIO_EVICTED, ADMIT_FOLIO, NR_MEMBERS };
  struct list {
    uint64_t token = 0;  // its address is the list's id
    std::vector<std::unique_ptr<::list_head>> heads;  // by memcg index, made on first use
  };

  cache_ext_link(mm::model& m, mm::memcg& mc, std::string name, bpf::engine e);
  uint64_t run(member mb, uint64_t a0, uint64_t a1 = 0);
  ::cache_ext_list_node* node_of(const ::folio* f) const;  // valid folios only
  // Drops from the valid set (and the lists) every folio whose memcg this link no longer
  // governs, after an attachment below it changed the effective policies.
  void forget_ungoverned();
  // The head of list `id` for mc, or null for an id that is not one of this link's lists.
  ::list_head* find_list(uint64_t id, const mm::memcg& mc);
  const list* list_by_id(uint64_t id) const;

  mm::model& m_;
  mm::memcg* mc_;
  std::string name_;
  const bpf::bpf_prog* progs_[NR_MEMBERS] = {};
  bpf::engine engine_;
  std::unique_ptr<list[]> lists_;  // CACHE_EXT_REGISTRY_MAX_ENTRIES heads
  int nr_lists_ = 0;
  std::unique_ptr<::cache_ext_list_node[]> nodes_;  // by folio id; node.folio set: valid
  mm::memcg* shrinking_ = nullptr;  // the memcg evict_folios runs for (kfuncs check it)
  bool in_init_ = false;
  cache_ext_stats stats_;
};

// The family in one model: attaches cache_ext_ops instances of loaded objects to cgroups.
class cache_ext {
 public:
  // Registers the family in rt (register_cache_ext) and makes the model rt's host: its current
  // task for bpf_get_current_pid_tgid(), its clock for bpf_ktime_get_ns(), its page frames as
  // read-only memory for bpf_probe_read_kernel(). The runtime, the model and the attachments
  // outlive it.
  cache_ext(bpf::runtime& rt, mm::model& m, cache_attachments& at);
  ~cache_ext();

  // bpf_map__attach_cache_ext_ops(): attaches the instance `ops` (empty: the object's only
  // cache_ext_ops instance) of the loaded object `obj` to mc. Runs init(memcg) first; a
  // non-zero return deletes the lists and attaches nothing. Errors: mc has an attachment
  // (EEXIST), no such instance, init failed or faulted. The object must outlive the link.
  result<cache_ext_link*> attach(bpf::bpf_object& obj, std::string_view ops, mm::memcg& mc,
                                 attach_mode mode);
  // Detaches mc's link (unreg: its lists and valid set are deleted). -ENOENT if none.
  // In effective mode, an attachment below a link takes that subtree's folios out of the
  // link's valid set; a detach leaves the folios it governed to whichever policy now governs
  // their memcg, which never saw them (the kernel's LRU evicts them).
  int detach(mm::memcg& mc);
  cache_ext_link* link(const mm::memcg& mc) const;

 private:
  bpf::runtime& rt_;
  mm::model& m_;
  cache_attachments& at_;
  std::vector<std::unique_ptr<cache_ext_link>> links_;
  uintptr_t folio_region_ = 0;  // the page frames as a read-only region of rt, while we live
};

}  // namespace mmbpf::ext
