// The verifier's abstract machine state (include/linux/bpf_verifier.h): per call frame the
// eleven registers and the 512-byte stack as 64 slots of 8 bytes, each byte typed (invalid,
// spilled register, misc data, zero); per path the frames, the acquired references, the held
// spin lock and RCU read sections. Internal to src/bpf/verifier/.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "bpf/insn.h"
#include "bpf/verifier/reg_state.h"

namespace mmbpf::bpf::verifier {

// enum bpf_stack_slot_type
enum stack_slot_type : uint8_t {
  STACK_INVALID = 0,  // nothing written
  STACK_SPILL,        // a register spilled whole (8 bytes); spilled_ptr holds it
  STACK_MISC,         // written with data of no tracked type
  STACK_ZERO,         // written with zero
  STACK_ITER,         // part of an open-coded iterator (struct bpf_iter_*), see iter.cpp
};

// enum bpf_iter_state
enum iter_state : uint8_t { BPF_ITER_STATE_INVALID = 0, BPF_ITER_STATE_ACTIVE, BPF_ITER_STATE_DRAINED };

struct stack_slot {
  std::array<uint8_t, 8> slot_type{};  // slot_type[i]: the byte at slot start + i
  bpf_reg_state spilled_ptr;           // STACK_SPILL; STACK_ITER: ref_obj_id is the iterator's
  // STACK_ITER, in each slot of the iterator: its struct's BTF id, state and loop depth (how
  // many next() calls returned an element on this path).
  struct {
    uint32_t btf_id = 0;
    uint8_t state = BPF_ITER_STATE_INVALID;
    uint32_t depth = 0;
  } iter;
};

inline constexpr int nr_stack_slots = stack_size / 8;

struct func_state {
  std::array<bpf_reg_state, max_reg> regs;
  std::array<stack_slot, nr_stack_slots> stack;  // stack[k]: bytes [-(k+1)*8, -k*8) of the frame
  int callsite = -1;        // the call instruction in the caller, -1 for the main frame
  uint32_t frameno = 0;
  uint32_t subprogno = 0;
  int allocated_stack = 0;  // bytes of stack this frame has touched (max depth)
  // A callback's frame (bpf_loop, kfunc callbacks): where it returns, what it must return.
  bool in_callback = false;
  int64_t callback_ret_min = 0, callback_ret_max = 0;
};

// An acquired reference (acquire_reference_state): released or the program is rejected.
struct ref_state {
  uint32_t id = 0;
  int insn_idx = 0;
};

// One instruction a path executed, for precision backtracking (the kernel's jmp_history plus
// the stack slot an instruction loaded or stored, if any).
struct hist_entry {
  int idx = 0;
  int stack_frame = -1;  // the frame whose stack it accessed, -1: none
  int stack_off = 0;     // the byte offset it accessed there
};

struct verifier_state {
  std::array<std::unique_ptr<func_state>, max_call_frames> frame;
  uint32_t curframe = 0;
  std::vector<ref_state> refs;
  uint32_t active_lock_id = 0;  // the map value whose bpf_spin_lock is held, by reg id
  bool active_lock = false;
  int active_rcu_lock = 0;
  // For state pruning: the explored-state node this path came through and how many paths
  // below it are still being explored (update_branch_counts).
  struct explored* parent = nullptr;
  // The instructions this path executed since `parent` (or since the entry).
  std::vector<hist_entry> hist;

  verifier_state() = default;
  verifier_state(const verifier_state& o) { *this = o; }
  verifier_state(verifier_state&&) noexcept = default;  // paths move in and out of the stack
  verifier_state& operator=(verifier_state&&) noexcept = default;
  verifier_state& operator=(const verifier_state& o) {
    if (this == &o) return *this;
    for (size_t i = 0; i < frame.size(); ++i) {
      if (!o.frame[i]) frame[i].reset();
      else if (frame[i]) *frame[i] = *o.frame[i];  // reuse the frame already there
      else frame[i] = std::make_unique<func_state>(*o.frame[i]);
    }
    curframe = o.curframe;
    refs = o.refs;
    active_lock_id = o.active_lock_id;
    active_lock = o.active_lock;
    active_rcu_lock = o.active_rcu_lock;
    parent = o.parent;
    hist = o.hist;
    return *this;
  }
  func_state& cur() { return *frame[curframe]; }
  const func_state& cur() const { return *frame[curframe]; }
  bpf_reg_state* regs() { return frame[curframe]->regs.data(); }
};

// A visited state kept at a prune point (struct bpf_verifier_state_list): pruning may use it
// once every path below it is explored (branches == 0); while branches > 0 it is on the
// current path, which is how loops are detected.
struct explored {
  verifier_state st;  // its hist: the instructions from its parent to it
  int insn_idx = 0;
  uint32_t branches = 1;
  explored* parent = nullptr;
  uint64_t exact_hash = 0;  // exact_state_hash(st): states equal EXACT hash the same
  // How often it pruned a path and how often it was compared in vain: a state that keeps
  // missing leaves the search list (the kernel's miss_cnt > hit_cnt * n + n).
  uint32_t hit_cnt = 0, miss_cnt = 0;
};

}  // namespace mmbpf::bpf::verifier
