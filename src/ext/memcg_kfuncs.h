// The memcg and cgroup kfuncs that every program type may call (the kernel registers them for
// BPF_PROG_TYPE_UNSPEC), acting on the MM model:
//   mm/bpf_memcontrol.c (upstream)   bpf_get_root_mem_cgroup, bpf_get_mem_cgroup,
//                                    bpf_put_mem_cgroup, bpf_mem_cgroup_usage,
//                                    bpf_mem_cgroup_page_state, bpf_mem_cgroup_vm_events,
//                                    bpf_mem_cgroup_memory_events, bpf_mem_cgroup_flush_stats
//   kernel/bpf/helpers.c             bpf_cgroup_from_id, bpf_cgroup_release
//   kernel/bpf/cgroup_iter.c         bpf_iter_css_{new,next,destroy}   (bpf_for_each(css, ...))
//   kernel/bpf/task_iter.c           bpf_iter_css_task_{new,next,destroy}
// with the kernel's KF_ flags and units (bytes for usage and page state, counts for events,
// (unsigned long)-1 for an index out of range). BPF C declares them in
// bpf/include/bpf_memcg.bpf.h.
//
// How a kfunc finds the model: a memcg_kfuncs object binds one model to one runtime for its
// lifetime (one model per run); a kfunc looks the binding up by the running program's runtime.
// With no binding, every kfunc returns NULL / 0 / an error, never touching anything.
//
// Objects handed to programs are the kernel structs embedded in the model's objects: a memcg's
// struct mem_cgroup (with css, and its struct cgroup and kernfs_node), a task's task_struct
// (with signal_struct, mm_struct, css_set). The binding registers them with the runtime as
// read-only regions, so loads through them work in the checked interpreter too (a load from
// an unregistered kernel object reads 0 there, as a faulting PROBE_MEM load does).
//
// Index spaces: page_state takes enum node_stat_item / memcg_stat_item of vmlinux.h (the
// model's memcg::state is indexed by exactly these); memory_events takes enum
// memcg_memory_event of vmlinux.h; vm_events takes the MODEL's numbering, mm::vm_event_item
// (src/mm/model.h: PGPGIN = 0, ..., PGFAULT = 4, PGMAJFAULT = 5, ..., OOM_KILL = 20), which
// is not the kernel's (its enum depends on the config); a policy must use the model's values.
//
// The css iterator takes BPF_CGROUP_ITER_DESCENDANTS_PRE, _POST and _ANCESTORS_UP; SELF_ONLY
// (meant for the cgroup iter link) is -EINVAL with an empty walk, as in kernel/bpf/cgroup_iter.c.
//
// Programs pass &memcg->css where a struct cgroup_subsys_state * is asked for, as the reference
// OOM policy does; the verifier accepts a struct whose first member is the one asked for
// (btf_struct_ids_match()).
//
// Simplified: no reference counts (get/put, from_id/release only balance in the verifier; the
// model never frees a memcg and keeps a task object until its pid is reused); stats are exact,
// so flush_stats does nothing; no RCU. The verifier here does not implement KF_RCU_PROTECTED,
// so bpf_iter_css_new (KF_RCU_PROTECTED in the kernel) is accepted outside bpf_rcu_read_lock()
// as well — a program meant for a kernel must still take the RCU read lock around the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace mmbpf::bpf {
class runtime;
}
namespace mmbpf::mm {
class model;
struct memcg;
struct task;
}  // namespace mmbpf::mm

namespace mmbpf::ext {

// Adds the kfuncs above to rt's registry, once (later calls do nothing). Without a binding
// (memcg_kfuncs below) they find no model and return NULL / 0.
void register_memcg_kfuncs(bpf::runtime& rt);

// Binds model m to runtime rt while it lives: registers the kfuncs, the model's memcgs and
// tasks as read-only regions, and (if rt.find_task is unset) makes bpf_task_from_pid() find
// the model's alive tasks. A family that runs programs with a model owns one. REQUIRES rt and
// m outlive it. A second binding for the same runtime hides the first until it is destroyed.
class memcg_kfuncs {
 public:
  memcg_kfuncs(bpf::runtime& rt, mm::model& m);
  ~memcg_kfuncs();
  memcg_kfuncs(const memcg_kfuncs&) = delete;
  memcg_kfuncs& operator=(const memcg_kfuncs&) = delete;

  // Registers regions for memcgs and tasks created since the last call and drops those of task
  // objects the model freed. The kfuncs call it themselves when the counts changed; a family
  // calls it before running a program that may reach a new task by a pointer field
  // (oc->chosen, task->real_parent). Cheap when nothing changed.
  void sync_regions(bool force = false);

  // -- for the kfuncs (memcg_kfuncs.cpp) and tests
  mm::model& model() const { return m_; }
  bpf::runtime& runtime() const { return rt_; }
  // The memcg whose struct mem_cgroup (== &mc->css), css (&mc->css.css) or cgroup's own css
  // (&mc->cgrp.self) is at p, or null: pointers from programs are validated through this.
  mm::memcg* memcg_of_css(uint64_t p) const;
  mm::memcg* memcg_of_cgroup(uint64_t p) const;  // &mc->cgrp
  // Makes sure t's kernel structs are a region (a task created after the last sync).
  void ensure_task_region(mm::task& t);

  // css_task iterations in progress: a snapshot of the pids, in fork order, of one memcg's
  // tasks; the iterator on the BPF stack holds (generation << 32 | slot).
  struct task_walk {
    uint32_t gen = 0;  // 0: free
    uint32_t memcg_index = 0;
    size_t next = 0;
    std::vector<uint32_t> pids;
  };
  static constexpr size_t max_task_walks = 64;  // the oldest is recycled beyond this
  uint64_t open_task_walk(const mm::memcg& mc);
  task_walk* find_task_walk(uint64_t handle);
  void close_task_walk(uint64_t handle);

 private:
  void add_region(uintptr_t start, size_t size, const char* name);

  bpf::runtime& rt_;
  mm::model& m_;
  std::unordered_map<uintptr_t, size_t> regions_;  // start -> size, the regions this added
  std::unordered_map<uintptr_t, mm::memcg*> css_;  // css / mem_cgroup / cgroup-self pointers
  std::unordered_map<uintptr_t, mm::memcg*> cgroups_;
  size_t synced_memcgs_ = 0;
  uint64_t synced_tasks_ = ~uint64_t{0};
  bool retry_ = false;  // a region could not be added (overlap): redo everything next time
  struct find_task_fn;
  std::vector<task_walk> walks_;
  uint32_t next_gen_ = 1;
};

// The binding of the running program's runtime (or of rt), or null.
memcg_kfuncs* memcg_kfuncs_binding(const bpf::runtime* rt);

}  // namespace mmbpf::ext
