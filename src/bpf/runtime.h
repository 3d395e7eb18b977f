// The BPF runtime: what the kernel's BPF subsystem owns outside any one program. The helper
// table (kernel ids), the kfunc registry, the map table (fd-like handles), the address space of
// regions programs may touch, and the host services helpers read (clock, current task, random
// state, trace_printk log). Families in src/ext/ extend the helper table and fill the kfunc
// registry; the MM model supplies the clock and the current task.
//
// Helpers and kfuncs share one native ABI, five u64 arguments and a u64 result, so that the
// interpreter and the JIT call them alike. The running program's context is found the way the
// kernel finds current->bpf_ctx: through a thread-local pointer set for the run (run_ctx).
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bpf/engine.h"
#include "bpf/error.h"
#include "bpf/map.h"
#include "bpf/memory.h"
#include "bpf/struct_ops.h"

namespace mmbpf::bpf {

using bpf_func = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

struct helper_proto {
  const char* name = nullptr;  // "bpf_map_lookup_elem"
  bpf_func fn = nullptr;
};

// KF_* flags, with the kernel's values (include/linux/btf.h).
enum kfunc_flags : uint32_t {
  KF_ACQUIRE = 1 << 0,
  KF_RELEASE = 1 << 1,
  KF_RET_NULL = 1 << 2,
  KF_TRUSTED_ARGS = 1 << 4,
  KF_SLEEPABLE = 1 << 5,
  KF_DESTRUCTIVE = 1 << 6,
  KF_RCU = 1 << 7,
  KF_ITER_NEW = 1 << 8,
  KF_ITER_NEXT = 1 << 9,
  KF_ITER_DESTROY = 1 << 10,
  KF_RCU_PROTECTED = 1 << 11,
};

struct kfunc_desc {
  std::string name;
  bpf_func fn = nullptr;
  uint32_t flags = 0;   // kfunc_flags
  uint32_t btf_id = 0;  // the id programs call it by (BPF_PSEUDO_KFUNC_CALL imm)
  // The kfunc set's filter (btf_kfunc_id_set.filter): whether a program may call it, given
  // its struct_ops member ("bpf_oom_ops.handle_out_of_memory"; "" for other programs). Null:
  // every program. The verifier refuses a call it denies.
  bool (*filter)(std::string_view ops_member) = nullptr;
};

// A kernel variable a program may address by ld_imm64 BPF_PSEUDO_BTF_ID (a typed __ksym).
struct ksym_var {
  std::string name;
  void* addr = nullptr;
  size_t size = 0;
  uint32_t btf_id = 0;
};

// The kernel symbols programs may use: kfuncs (called by BPF_PSEUDO_KFUNC_CALL) and variables
// (loaded by BPF_PSEUDO_BTF_ID), by name and by id, in one id space as in vmlinux BTF. Ids are
// assigned at registration unless given; the object loader binds __ksym externs by name.
class kfunc_registry {
 public:
  static constexpr uint32_t first_id = 0x10000;  // clear of small numbers that look like helpers
  // Returns the kfunc's id; an error if the name or the id is taken.
  result<uint32_t> add(kfunc_desc k);
  result<uint32_t> add_var(ksym_var v);
  const ksym_var* var_by_id(uint32_t btf_id) const;
  const ksym_var* var_by_name(std::string_view name) const;
  const kfunc_desc* by_name(std::string_view name) const;
  const kfunc_desc* by_id(uint32_t btf_id) const;
  // Dense index for engines: at(index_of(id)) is the kfunc. -1 if unknown.
  int index_of(uint32_t btf_id) const;
  const kfunc_desc& at(int index) const { return kfuncs_[index]; }
  size_t size() const { return kfuncs_.size(); }

 private:
  std::vector<kfunc_desc> kfuncs_;
  std::unordered_map<std::string, int> by_name_;
  std::unordered_map<uint32_t, int> by_id_;
  std::unordered_map<uint32_t, ksym_var> vars_;
  std::unordered_map<std::string, uint32_t> var_names_;
  uint32_t next_id_ = first_id;
};

class runtime;
struct bpf_prog;

// The kfunc an unresolved __weak kfunc call is bound to: it faults the run (see object_load.cpp).
inline constexpr const char* unresolved_weak_kfunc = "__mmbpf_unresolved_weak_kfunc";
// The kfunc a CO-RE-poisoned instruction (core.h) runs as: it faults the run.
inline constexpr const char* core_poison_kfunc = "__mmbpf_core_poison";

// The state of one program run that helpers may need (the kernel's bpf_run_ctx plus what the
// interpreter knows). Engines create it; helpers reach it through current_run().
struct run_ctx {
  runtime* rt = nullptr;
  const bpf_prog* prog = nullptr;
  bool checked = false;  // validate every pointer a helper is given
  // Calls the BPF function at `fn` (a value loaded by ld_imm64 BPF_PSEUDO_FUNC) with up to five
  // arguments, in the running engine. Used by bpf_loop, bpf_for_each_map_elem, kfunc callbacks.
  uint64_t (*call_fn)(run_ctx* rc, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                      uint64_t a5) = nullptr;
  void* engine = nullptr;  // the engine's own state, for call_fn
  // Extra regions of this run (its context and stack), checked before the runtime's table.
  mem_region local[2];
  int n_local = 0;
  // A fault (checked-mode violation, call stack overflow, ...) aborts the run; engines check
  // `faulted` after every call into the host.
  bool faulted = false;
  std::string fault;
  int spin_locks_held = 0;

  // Validates [addr, addr+size) against this run's regions and the runtime's table. On failure,
  // and if `fault_on_error`, records a fault naming `what` and returns false.
  bool check_access(uint64_t addr, uint64_t size, bool write, const char* what,
                    bool fault_on_error = true);
  void set_fault(std::string msg);
};

namespace detail {
inline thread_local run_ctx* current_run = nullptr;  // constant-initialized: a plain %fs load
}  // namespace detail
inline run_ctx* current_run() { return detail::current_run; }
// Sets the thread's current run for the lifetime of the guard; restores the previous one.
class run_ctx_guard {
 public:
  explicit run_ctx_guard(run_ctx* rc) : prev_(detail::current_run) { detail::current_run = rc; }
  ~run_ctx_guard() { detail::current_run = prev_; }
  run_ctx_guard(const run_ctx_guard&) = delete;
  run_ctx_guard& operator=(const run_ctx_guard&) = delete;

 private:
  run_ctx* prev_;
};

class runtime {
 public:
  static constexpr int max_helper_id = 512;

  runtime();  // registers the standard helpers (helpers.h)
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // Helpers, by the kernel's BPF_FUNC_* id; a null name becomes the kernel's name for the id.
  void register_helper(int id, helper_proto proto);
  const helper_proto* helper(int id) const {
    return id >= 0 && id < max_helper_id && helpers_[id].fn ? &helpers_[id] : nullptr;
  }
  const helper_proto* helper_table() const { return helpers_.data(); }

  kfunc_registry& kfuncs() { return kfuncs_; }
  const kfunc_registry& kfuncs() const { return kfuncs_; }

  // struct_ops types; bpf_dummy_ops (the kernel's test type) is registered from the start.
  struct_ops_registry& struct_ops() { return struct_ops_; }
  const struct_ops_registry& struct_ops() const { return struct_ops_; }

  // Maps, addressed by small integers as the kernel's fds are; they live as long as the
  // runtime. A created map's regions join the address space.
  result<int> create_map(const map_attr& attr);
  bpf_map* map(int fd) const;
  // The fd of a map object, or -1.
  int map_fd(const bpf_map* m) const;
  // All maps' memory together may not exceed this (as a memcg's memory.max would stop their
  // charges): a map that could take it past the limit is refused with -ENOMEM at creation.
  uint64_t map_memory_limit = uint64_t{8} << 30;
  uint64_t map_memory_used() const { return map_memory_used_; }

  region_table& regions() { return regions_; }
  const region_table& regions() const { return regions_; }

  // Host services. Defaults: a clock that starts at 0 and advances 1 ns per read, pid/tgid 0,
  // seed 0, printk into trace_log().
  std::function<uint64_t()> ktime_get_ns;
  std::function<uint64_t()> get_current_pid_tgid;
  // The task (struct task_struct in the model's layout) of a pid, or nullptr: what
  // bpf_task_from_pid() finds. Default: none.
  std::function<void*(int32_t pid)> find_task;
  uint64_t now_ns();    // ktime_get_ns or the default clock
  uint64_t pid_tgid();  // get_current_pid_tgid or 0
  void seed_prandom(uint64_t seed) { prandom_state_ = seed; }
  uint32_t prandom_u32();
  std::string& trace_log() { return trace_log_; }
  // Like the kernel.bpf_stats_enabled sysctl: engines count runs and time per program.
  bool stats_enabled = false;
  // The engine struct_ops families run programs in (engine.h): the JIT where it exists. Set it
  // before attaching; a family never asks which it is.
  engine_kind engine = default_engine_kind();

 private:
  std::vector<helper_proto> helpers_;
  kfunc_registry kfuncs_;
  struct_ops_registry struct_ops_;
  std::vector<std::unique_ptr<bpf_map>> maps_;
  region_table regions_;
  uint64_t map_memory_used_ = 0;
  uint64_t prandom_state_ = 0;
  uint64_t clock_ = 0;
  std::string trace_log_;
};

}  // namespace mmbpf::bpf
