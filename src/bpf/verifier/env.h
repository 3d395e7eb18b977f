// The verifier's working state for one program (struct bpf_verifier_env), shared by its
// parts: the main loop and pruning (verifier.cpp), memory access (mem_access.cpp), calls
// (calls.cpp) and the log (log.cpp). Internal to src/bpf/verifier/.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpf/insn.h"
#include "bpf/prog.h"
#include "bpf/runtime.h"
#include "bpf/verifier/state.h"
#include "bpf/verifier/verifier.h"

namespace mmbpf::bpf {
class btf_handle;
class runtime;
}  // namespace mmbpf::bpf

namespace mmbpf::bpf::verifier {

enum bpf_access_type { BPF_READ = 1, BPF_WRITE = 2 };

// Pairs of (old id, current id) matched while comparing two states (struct bpf_idmap).
using id_map = std::vector<std::pair<uint32_t, uint32_t>>;

// check_ids(): old's id maps one-to-one onto cur's (recorded in m).
bool check_ids(uint32_t old_id, uint32_t cur_id, id_map& m);

// A path waiting to be explored (struct bpf_verifier_stack_elem).
struct pending_path {
  verifier_state st;
  int insn_idx = 0;
  int prev_insn_idx = 0;
  size_t log_pos = 0;  // level 1: the log is cut back here when the path is taken
};

class verifier_env {
 public:
  verifier_env(const bpf_prog& prog, const verify_opts& opts);
  verify_result run();

  // ---- shared by the parts ----
  const bpf_prog& prog;
  const verify_opts& opts;
  runtime& rt;
  const btf_handle& kbtf;  // the kernel's (vmlinux) BTF
  const std::vector<insn>& insns;

  verifier_state cur;  // the path being explored
  int insn_idx = 0;
  int prev_insn_idx = 0;
  std::string err;     // the rejection, once set
  std::string log;
  verify_stats stats;

  // Sets the rejection message (the first one wins) and returns false.
  template <class... A>
  bool fail(const char* fmt, A&&... a);
  bool failed() const { return !err.empty(); }
  void log_line(const std::string& s);

  bpf_reg_state* regs() { return cur.regs(); }
  func_state& frame() { return cur.cur(); }

  // ---- mem_access.cpp ----
  // check_mem_access(): a load (t == BPF_READ, value into value_regno) or store (value from
  // value_regno, or -1 for BPF_ST) of `size` bytes at regs[regno] + off.
  bool check_mem_access(int regno, int off, int size, bpf_access_type t, int value_regno,
                        bool sign_ext = false);
  // check_helper_mem_access(): `size` bytes (bounds [min, max]) at regs[regno] are readable
  // (t == BPF_READ) or writable, as a helper argument.
  bool check_helper_mem_access(int regno, uint64_t min_size, uint64_t max_size,
                               bpf_access_type t, bool zero_size_allowed);
  bool check_stack_range_initialized(int regno, int off, int size, bool write);

  // ---- calls.cpp ----
  bool check_helper_call(const insn& i);
  bool check_kfunc_call(const insn& i);
  bool check_subprog_call(const insn& i);
  bool check_exit();
  bool returns_void() const;  // a struct_ops member whose prototype returns void
  // Pushes a callback's frame as a call to subprogram `subprog` with the given argument
  // registers, to be verified now (the kernel's push_callback_call, explored once per call
  // site).
  bool verify_callback(int subprog, const std::array<bpf_reg_state, 5>& args, int64_t ret_min,
                       int64_t ret_max);

  // ---- iter.cpp: open-coded iterators and RCU read sections ----
  // process_iter_arg(): the iterator argument (regs[regno], a pointer to `iter_type` on the
  // stack) of a KF_ITER_NEW/NEXT/DESTROY kfunc: new() wants uninitialized slots and makes them
  // an iterator holding a reference; next() and destroy() want an initialized one (destroy()
  // releases it).
  bool process_iter_arg(int regno, const kfunc_desc& k, uint32_t iter_type);
  // process_iter_next_call(): after next(): this path takes the drained branch (r0 = NULL) and
  // the branch where an element came back (depth + 1) is queued, its imprecise scalars that
  // changed since the previous iteration widened to unknown.
  bool process_iter_next_call(int regno);
  bool is_iter_next_insn(int idx) const;
  // The iterator slots of old and cur describe the same iterator (depth aside).
  bool iter_slots_equal(const stack_slot& so, const stack_slot& sc, id_map& ids) const;
  // Whether the iterator next() is called on here is active (loop convergence at next()).
  bool iter_active(const verifier_state& st) const;
  // An active iterator is at a different loop depth in old and cur: not an infinite loop.
  bool iter_active_depths_differ(const verifier_state& old, const verifier_state& cur) const;
  int iter_spi_ = 0, iter_nr_slots_ = 0;  // the iterator the kfunc being checked was given
  uint32_t iter_frameno_ = 0;
  // bpf_rcu_read_lock()/unlock() (true: handled), and the rules inside a section.
  bool check_rcu_kfunc(const kfunc_desc& k, bool& handled);

  // ---- precision.cpp ----
  // Marks regs[regno] (or, with regno < 0, the spilled scalar at stack_off of the current
  // frame) precise on this path, back to where its value came from.
  void mark_chain_precision(int regno, int stack_off = 0);
  void propagate_precision(const verifier_state& old);
  // The stack slot the instruction being checked loaded or stored (for the history).
  int acc_frame_ = -1, acc_off_ = 0;

  // ---- log.cpp ----
  // What an instruction touched, for the state the log prints after it (the kernel's
  // scratched registers and stack slots).
  struct scratch_set {
    uint32_t regs = 0;   // bit r: Rr
    uint64_t slots = 0;  // bit k: the slot at fp-(k+1)*8 of the current frame
  };
  std::string reg_str(const bpf_reg_state& r, uint32_t frameno = 0) const;
  std::string frame_str(const verifier_state& st, uint32_t frameno, const scratch_set* scratch) const;
  std::string state_str(const verifier_state& st, bool only_frame = true) const;
  bool log_precision_ = true;  // reg_str() prints "P" before a precise scalar
  bool err_logged_ = false;
  bool print_state_next_ = false;  // the next instruction's line is preceded by the state
  std::array<stack_slot, nr_stack_slots> log_slots_before_;  // the stack before the insn    // the rejection is already in the log, with what follows it
  void log_insn_state(int idx, size_t insn_line_end, size_t insn_print_pos,
                      const std::array<stack_slot, nr_stack_slots>& slots_before);
  std::string type_str(uint32_t type) const;
  std::string insn_str(int idx) const;

  // ---- verifier.cpp helpers used by the parts ----
  bool check_reg_read(int regno);
  void mark_reg_not_init(bpf_reg_state& r);
  uint32_t new_id() { return ++id_gen_; }
  int subprog_of(int insn_idx) const;
  uint32_t acquire_reference(int insn_idx);
  bool release_reference(uint32_t ref_obj_id);
  // mark_ptr_or_null_regs(): after a null check of the register with this id, every copy
  // becomes the pointer (is_null false) or a known zero scalar.
  void mark_ptr_or_null_regs(verifier_state& st, uint32_t id, bool is_null);
  const bpf_map* map_at_ld_imm64(int idx, uint64_t* value_off) const;

  // Paths to explore, and states kept at prune points per instruction.
  std::vector<pending_path> stack_;
  std::vector<std::vector<explored*>> explored_;      // searchable, per instruction
  std::vector<std::unique_ptr<explored>> all_explored_;  // owns them (paths point to parents)
  std::vector<bool> prune_point_;
  std::vector<bool> force_checkpoint_;  // iterator next() calls: a state is always kept
  std::vector<uint32_t> subprog_stack_depth_;  // bytes, per subprogram
  uint32_t id_gen_ = 0;
  std::vector<bool> probe_mem_;  // per insn: a load through PTR_TO_BTF_ID
  std::vector<uint32_t> live_in_;
  std::string last_linfo_;  // the source line the log printed last  // per insn: registers that may be read before written
  uint64_t jmps_processed_ = 0, prev_jmps_processed_ = 0, prev_insn_processed_ = 0;
  int callback_depth_ = 0;

 private:
  bool check_cfg();
  void compute_liveness();
  bool do_check();
  bool do_check_insn(bool& do_print_state);
  bool check_alu_op(const insn& i);
  bool check_cond_jmp_op(const insn& i, int& next);
  bool check_ld_imm(const insn& i);
  bool check_ptr_alu(const insn& i, bpf_reg_state& dst, const bpf_reg_state& ptr,
                     const bpf_reg_state& off_reg);
  bool check_reg_sane_offset(const bpf_reg_state& reg, uint32_t ptr_type);
  void sync_linked_regs(verifier_state& st, const bpf_reg_state& known);
  bool check_max_stack_depth();
  uint64_t exact_state_hash(const verifier_state& st) const;
  bool is_state_visited(int idx);
  // exact: the kernel's EXACT comparison (loop detection), values and slots identical.
  bool states_equal(const verifier_state& old, const verifier_state& cur, bool exact = false) const;
  bool regsafe(const bpf_reg_state& rold, const bpf_reg_state& rcur, id_map& ids, bool exact = false) const;
  void update_branch_counts(explored* e);
  bool push_stack(int insn_idx, int prev_insn_idx, const verifier_state& st);
  bool pop_stack();
  void init_entry_state();
};

template <class... A>
bool verifier_env::fail(const char* fmt, A&&... a) {
  if (err.empty()) err = fmt::format(fmt::runtime(fmt), std::forward<A>(a)...);
  return false;
}

}  // namespace mmbpf::bpf::verifier
