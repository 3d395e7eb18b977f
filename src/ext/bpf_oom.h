// BPF OOM (Roman Gushchin's series, v3; shared/reference/mm-bpf-interfaces.md §1): OOM victim
// selection written in BPF. The family registers the struct_ops type "bpf_oom_ops"
//   int  (*handle_out_of_memory)(struct oom_control *oc, struct bpf_struct_ops_link *st_link);
//   char name[BPF_OOM_NAME_MAX_LEN];
// (the handler is required and sleepable: SEC("struct_ops.s/handle_out_of_memory")), the OOM
// kfuncs of the series' mm/oom_kill.c
//   bpf_oom_kill_process(oc, task, message__str)   KF_SLEEPABLE | KF_TRUSTED_ARGS
//   bpf_out_of_memory(memcg__nullable, order, flags) KF_SLEEPABLE | KF_TRUSTED_ARGS
//   bpf_task_is_oom_victim(task)
// and attaches instances to memcgs (bpf_map__attach_struct_ops_opts() with a cgroup fd): at
// most one per memcg, the root's serving global OOMs; a second is -EEXIST.
//
// The model's out_of_memory() (mm/oom_kill.cpp) walks from the OOMing memcg (the root for a
// global OOM) up to the root and runs each attached handler (a bpf_oom_link, an
// mm::oom_policy) until one returns non-zero *and* freed memory through the kill path
// (oc->bpf_memory_freed, which only the model's oom_kill_process() sets); else the kernel's
// killer runs. oom_control is read-only to BPF (the type has no writable window): a handler
// cannot claim progress it did not make. oc->memcg, the tasks and memcgs it reaches are model
// memory, read through BTF pointers (PROBE_MEM loads).
//
// Semantics of the kfuncs, as the series' code, with these choices where it is silent:
//   - bpf_oom_kill_process: -EPERM for an unkillable task: oom_score_adj == -1000
//     (OOM_SCORE_ADJ_MIN) or already dead (killed, exited); -EINVAL for an oc that is not the
//     one being handled or a task the model does not know. No OOM-domain check (the kernel
//     has none: a kill outside the domain frees memory elsewhere, which the model counts).
//     Otherwise oc->chosen = task for the kill, oom_kill_process() (memory.oom.group
//     respected, memcg stats, the kill recorded with the handler's name), oc->chosen = NULL
//     again, 0.
//   - bpf_out_of_memory: -EINVAL for flags other than BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK or an
//     order outside 0..MAX_PAGE_ORDER (10); else out_of_memory(memcg), 1 when it freed
//     memory, 0 when not. The kfunc set's filter refuses it to bpf_oom_ops programs at load
//     (their caller holds oom_lock); -EBUSY if an OOM is being handled all the same.
//   - bpf_task_is_oom_victim: tsk_is_oom_victim(), task->signal->oom_mm != NULL.
//
// Programs run in the runtime's engine (runtime::engine); a program that faults counts as having
// returned 0. The v2 shape is accepted too (the model's BTF has it as
// bpf_oom_ops___v2; the loader binds an object to it when its own struct bpf_oom_ops has that
// layout): handle_out_of_memory(struct bpf_oom_ctx *ctx, struct oom_control *oc), ctx->cgroup_id
// being the link's cgroup (0 for the root), and the optional handle_cgroup_offline(ctx,
// cgroup_id), run when the cgroup the ops is attached to goes offline (model::cgroup_offline),
// after which the link is gone. No OOM reaper delay, no watchdog (none in the series).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/error.h"
#include "bpf/engine.h"
#include "mm/hooks.h"
#include "mm/model.h"

namespace mmbpf::bpf {
class bpf_object;
class runtime;
struct bpf_prog;
}  // namespace mmbpf::bpf

namespace mmbpf::ext {

class memcg_kfuncs;

inline constexpr int BPF_OOM_NAME_MAX_LEN = 64;
inline constexpr uint64_t BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK = 1 << 0;  // enum bpf_oom_flags
inline constexpr int MAX_PAGE_ORDER = 10;
inline constexpr const char* bpf_oom_default_name = "bpf_defined_policy";

// Registers struct_ops "bpf_oom_ops" and the OOM kfuncs in rt, once (later calls do nothing).
void register_bpf_oom(bpf::runtime& rt);

// What one link's handler did, for reports and tests.
struct bpf_oom_stats {
  uint64_t runs = 0;           // handler runs
  uint64_t prog_errors = 0;    // runs that faulted; counted as returning 0
  uint64_t handled = 0;        // runs that returned non-zero and freed memory
  uint64_t not_believed = 0;   // runs that returned non-zero but freed nothing
  uint64_t kills = 0;          // bpf_oom_kill_process() calls that killed
  uint64_t kfunc_refused = 0;  // OOM kfunc calls that returned an error
  std::string last_error;
};

// One attached bpf_oom_ops instance: the mm::oom_policy of its memcg.
class bpf_oom_link final : public mm::oom_policy {
 public:
  ~bpf_oom_link() override;
  bpf_oom_link(const bpf_oom_link&) = delete;
  bpf_oom_link& operator=(const bpf_oom_link&) = delete;

  // Runs handle_out_of_memory(oc, st_link) (v2: (ctx, oc)); true when it returned non-zero
  // (the model then checks oc.bpf_memory_freed itself).
  bool handle_out_of_memory(oom_control& oc) override;
  // v2: handle_cgroup_offline(ctx, cgroup_id), when the object gave one.
  void cgroup_offline(mm::memcg& mc) override;
  // The ops' name (the instance's `name`, or "bpf_defined_policy" when empty).
  const char* name() const override { return name_.c_str(); }

  mm::memcg& memcg() const { return *mc_; }
  const bpf_oom_stats& stats() const { return stats_; }
  // The link the handler gets: cgroup_id is the cgroup id BPF knows (kernfs id; 0 for the root).
  const ::bpf_struct_ops_link& st_link() const { return *st_link_; }

  struct kfunc_api;  // for the kfuncs (bpf_oom.cpp)

 private:
  friend class bpf_oom;
  friend struct kfunc_api;
  bpf_oom_link(bpf::runtime& rt, mm::model& m, memcg_kfuncs& mk, mm::memcg& mc,
               std::string name, const bpf::bpf_prog* prog, bool v2,
               const bpf::bpf_prog* offline_prog);
  // Runs prog with the two u64 arguments of a struct_ops member; the oc (null for the
  // offline callback) is what the OOM kfuncs may act on.
  result<uint64_t> run(const bpf::bpf_prog& prog, uint64_t a0, uint64_t a1, ::oom_control* oc);

  bpf::runtime& rt_;
  memcg_kfuncs& mk_;
  mm::model& m_;
  mm::memcg* mc_;
  std::string name_;
  const bpf::bpf_prog* prog_;
  bpf::engine engine_;
  std::unique_ptr<::bpf_struct_ops_link> st_link_;
  bool v2_ = false;
  std::unique_ptr<::bpf_oom_ctx> ctx_;       // v2: what its members get first
  const bpf::bpf_prog* offline_prog_ = nullptr;  // v2: handle_cgroup_offline, optional
  ::oom_control* running_oc_ = nullptr;  // the oc being handled (the kfuncs check it)
  bpf_oom_stats stats_;
};

// The family in one model. Owns the model's memcg kfuncs binding (ext/memcg_kfuncs.h), so
// handlers can use the memcg kfuncs and css / css_task iterators, bpf_task_from_pid() finds
// the model's live tasks (task_struct being mm::task::ts), and the memcgs and tasks a handler
// reaches are read-only regions of rt. The runtime and the model outlive it; objects must
// outlive their links.
class bpf_oom {
 public:
  bpf_oom(bpf::runtime& rt, mm::model& m);
  ~bpf_oom();  // detaches every link
  bpf_oom(const bpf_oom&) = delete;
  bpf_oom& operator=(const bpf_oom&) = delete;

  // Attaches the bpf_oom_ops instance `ops` (empty: the object's only one) of the loaded
  // object `obj` to mc. Errors (one line, naming the object): not loaded, no such instance,
  // mc is offline, mc has a handler already (EEXIST).
  result<bpf_oom_link*> attach(bpf::bpf_object& obj, std::string_view ops, mm::memcg& mc);
  // Detaches mc's handler: afterwards nothing is attached there. -ENOENT if none.
  int detach(mm::memcg& mc);
  bpf_oom_link* link(const mm::memcg& mc) const;
  // The OOM kills so far, in order (the model's record; see mm::model::oom_kills()).
  const std::vector<mm::oom_kill_record>& kills() const { return m_.oom_kills(); }

  struct kfunc_api;

 private:
  friend struct kfunc_api;
  bpf::runtime& rt_;
  mm::model& m_;
  std::unique_ptr<memcg_kfuncs> memcg_;
  std::vector<std::unique_ptr<bpf_oom_link>> links_;
};

}  // namespace mmbpf::ext
