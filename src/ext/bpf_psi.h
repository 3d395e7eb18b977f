// BPF PSI (part of Roman Gushchin's BPF OOM series, v2; shared/reference/mm-bpf-interfaces.md
// §2): pressure-stall triggers whose events are handled in BPF. The family registers the
// struct_ops type "bpf_psi_ops"
//   int  (*init)(struct bpf_psi *bpf_psi);                        sleepable; != 0 refuses the attach
//   void (*handle_psi_event)(struct bpf_psi *bpf_psi, struct psi_trigger *t);
//   void (*handle_cgroup_online)(struct bpf_psi *bpf_psi, u64 cgroup_id);
//   void (*handle_cgroup_offline)(struct bpf_psi *bpf_psi, u64 cgroup_id);
//   struct bpf_psi *bpf_psi;                                       private (the kernel's)
// (every member optional, every program may be sleepable: the series delivers events from a
// workqueue) and the kfunc
//   int bpf_psi_create_trigger(struct bpf_psi *bpf_psi, u64 cgroup_id, u32 resource,
//                              u32 threshold_us, u32 window_us)     KF_SLEEPABLE
// One instance system-wide (attached at the root); a second attach is EEXIST.
//
// bpf_psi_create_trigger validates as the kernel's psi_trigger_create() (kernel/sched/psi.c):
//   resource: enum psi_res (PSI_IO 0, PSI_MEM 1, PSI_CPU 2, PSI_IRQ 3), | BPF_PSI_FULL for the
//   "full" state; an unknown resource, PSI_IRQ without BPF_PSI_FULL (only irq "full" exists),
//   CPU/IRQ beyond PSI_NONIDLE -> -EINVAL; window_us outside [500000, 10000000] -> -EINVAL;
//   threshold_us == 0 or > window_us -> -EINVAL; a cgroup id no memcg has (or an offline one)
//   -> -ENOENT; a bpf_psi that is not the instance's -> -EINVAL. cgroup_id 0 (and the root's
//   id 1) is the system-wide group. Privileged (CAP_SYS_RESOURCE): no 2 s window granularity.
//
// PSI in the model: the model keeps per memcg the cumulative memory stall (memcg::
// stall_memory_ns: reclaim, workingset refaults, memory.high throttling) and IO stall
// (stall_io_ns) of its own tasks. A group's total for PSI_MEM / PSI_IO is the sum over the memcg
// and its descendants (the root: over every memcg). The model is single-threaded and serves
// one task per event, which is the only runnable task of its memcg while it stalls, so
// "some" == "full": both states read the same total. CPU and IRQ are not modelled: their
// totals stay 0 and such triggers never fire.
//
// Triggers are evaluated as the kernel's rtpoll worker does (update_triggers() with
// window_update()): every min(window)/10 of model time (100 ms without triggers), from
// mm::model::end_event(); a trigger whose stall growth in its sliding window (the previous
// window's growth interpolated in) reaches its threshold fires at most once per window, and
// then handle_psi_event(bpf_psi, t) runs with t->cgroup_id set. The handler may call
// bpf_out_of_memory() (not inside an OOM handler, so it is not refused). New memcgs are
// reported to handle_cgroup_online() at the next evaluation; a memcg with triggers that went
// offline to handle_cgroup_offline(), and its triggers are destroyed.
//
// Simplified: the model clock starts at 0, so last_event_time == 0 means "never fired" (the
// kernel's sched_clock() is never that small); evaluation happens only at event boundaries
// (one event may stall long: the window logic then sees the whole growth at once); programs
// run in the runtime's engine, and one that faults counts as returning 0 (init: refuses the attach).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/error.h"
#include "bpf/engine.h"
#include "mm/model.h"

namespace mmbpf::bpf {
class bpf_object;
class runtime;
struct bpf_prog;
}  // namespace mmbpf::bpf

namespace mmbpf::ext {

class bpf_oom;

inline constexpr uint32_t BPF_PSI_FULL = 0x80000000u;
inline constexpr uint64_t PSI_WINDOW_MIN_US = 500000;    // WINDOW_MIN_US, 500 ms
inline constexpr uint64_t PSI_WINDOW_MAX_US = 10000000;  // WINDOW_MAX_US, 10 s
inline constexpr uint64_t PSI_UPDATES_PER_WINDOW = 10;   // UPDATES_PER_WINDOW

// Registers struct_ops "bpf_psi_ops" and bpf_psi_create_trigger in rt, once.
void register_bpf_psi(bpf::runtime& rt);

struct bpf_psi_stats {
  uint64_t events = 0;            // handle_psi_event runs
  uint64_t online = 0, offline = 0;
  uint64_t prog_errors = 0;       // runs that faulted
  uint64_t triggers_created = 0;
  uint64_t kfunc_refused = 0;     // bpf_psi_create_trigger calls that returned an error
  std::string last_error;
};

// One trigger: the kernel's struct psi_trigger (what handle_psi_event reads) and its group.
struct bpf_psi_trigger {
  ::psi_trigger t{};
  mm::memcg* mc = nullptr;  // the group (the root for the system-wide one)
  uint64_t fired = 0;       // events generated
  uint64_t polled_total = 0;  // the group's total at the last update (group->rtpoll_total)
};

// The family in one model; at most one bpf_psi_ops instance attached. Owns a bpf_oom (the OOM
// kfuncs' model lookup and the memcg kfuncs binding) so handlers can use bpf_out_of_memory()
// and the memcg/cgroup kfuncs. The runtime and the model outlive it; objects outlive attach.
class bpf_psi final : public mm::model::psi_hook {
 public:
  bpf_psi(bpf::runtime& rt, mm::model& m);
  ~bpf_psi() override;  // detaches
  bpf_psi(const bpf_psi&) = delete;
  bpf_psi& operator=(const bpf_psi&) = delete;

  // Attaches the bpf_psi_ops instance `ops` (empty: the only one) of the loaded object obj
  // system-wide and runs its init. Errors (one line, naming the object): not loaded, no such
  // instance, one attached already (EEXIST), init faulted or returned non-zero (its triggers
  // are dropped, nothing stays attached).
  result<void> attach(bpf::bpf_object& obj, std::string_view ops = {});
  // Detaches the instance and destroys its triggers; -ENOENT if none.
  int detach();
  bool attached() const { return attached_; }
  const bpf_psi_stats& stats() const { return stats_; }
  const std::vector<std::unique_ptr<bpf_psi_trigger>>& triggers() const { return triggers_; }

  // The group's cumulative stall for state (enum psi_states), ns, as the triggers see it.
  static uint64_t group_total(const mm::memcg& mc, int state);

  // mm::model::psi_hook
  uint64_t psi_update(uint64_t now_ns) override;

  struct kfunc_api;

 private:
  friend struct kfunc_api;
  enum member { INIT, EVENT, ONLINE, OFFLINE, NR_MEMBERS };
  uint64_t run(member which, uint64_t a0, uint64_t a1);
  uint64_t poll_period() const;
  int create_trigger(uint64_t cgroup_id, uint32_t resource, uint32_t threshold_us,
                     uint32_t window_us);

  bpf::runtime& rt_;
  mm::model& m_;
  std::unique_ptr<bpf_oom> oom_;
  bpf::engine engine_;
  const bpf::bpf_prog* progs_[NR_MEMBERS] = {};
  // the object handed to programs as struct bpf_psi * (opaque to BPF)
  struct handle {
    uint64_t magic = 0x6270665f707369;  // "bpf_psi"
  } handle_;
  bool attached_ = false;
  size_t known_memcgs_ = 0;  // memcgs reported online (or existing at attach)
  std::vector<std::unique_ptr<bpf_psi_trigger>> triggers_;
  bpf_psi_stats stats_;
};

}  // namespace mmbpf::ext
