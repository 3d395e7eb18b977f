// Precision tracking (__mark_chain_precision and backtrack_insn): a scalar is *precise* when
// its exact range decided something about safety — an offset added to a pointer, a size given
// to a helper, a branch the verifier found always or never taken, a callback's return value.
// State pruning compares only precise scalars (regsafe); an imprecise one in an explored state
// matches any scalar, which is what lets loops with running counters and minimums converge.
//
// Marking walks the path backwards through the instructions it executed (state.h hist_entry),
// following the register (or stack slot) the value came from, and sets `precise` on it in each
// explored state the path went through, up to where the value was created. When pruning uses an
// explored state, its precise registers and slots are marked on the current path the same way
// (propagate_precision). Crossing a bpf-to-bpf call or return while backtracking gives up and
// marks every scalar precise on the path, as the kernel does in its hard cases.
#include <algorithm>

#include "bpf/verifier/env.h"

namespace mmbpf::bpf::verifier {

namespace {

// What is being traced back, in the current frame: registers and stack slots (by byte offset
// of an 8-byte spill).
struct backtrack {
  uint32_t regs = 0;
  std::vector<int> slots;  // stack offsets (multiples of 8) in frame `frame`
  uint32_t frame = 0;
  bool empty() const { return !regs && slots.empty(); }
  bool has_reg(int r) const { return regs & (1u << r); }
  void set_reg(int r) { regs |= 1u << r; }
  void clear_reg(int r) { regs &= ~(1u << r); }
  bool take_slot(int off) {
    for (size_t k = 0; k < slots.size(); ++k)
      if (slots[k] == off) {
        slots.erase(slots.begin() + static_cast<long>(k));
        return true;
      }
    return false;
  }
  void set_slot(int off) {
    if (std::find(slots.begin(), slots.end(), off) == slots.end()) slots.push_back(off);
  }
};

int slot_base(int off) { return -(((-off - 1) / 8) + 1) * 8; }

// One instruction backwards. Returns false when the trace cannot follow (a call or return
// between frames): the caller then marks everything precise.
bool backtrack_insn(const std::vector<insn>& insns, const hist_entry& h, backtrack& bt) {
  const insn& i = insns[h.idx];
  const uint8_t c = cls(i.code);
  const uint8_t o = op(i.code);
  const int d = i.dst_reg, s = i.src_reg;
  if (c == BPF_ALU || c == BPF_ALU64) {
    if (!bt.has_reg(d)) return true;
    if (o == BPF_MOV) {
      bt.clear_reg(d);
      if (src_bit(i.code) == BPF_X) bt.set_reg(s);
    } else if (src_bit(i.code) == BPF_X && o != BPF_END && o != BPF_NEG) {
      bt.set_reg(s);  // dst op= src: both shaped the result
    }
    return true;
  }
  if (c == BPF_LDX) {
    if (!bt.has_reg(d)) return true;
    bt.clear_reg(d);
    if (h.stack_frame == static_cast<int>(bt.frame) && size_bytes(i.code) == 8 && h.stack_off % 8 == 0)
      bt.set_slot(h.stack_off);  // a fill: the spilled value must be precise
    return true;
  }
  if (c == BPF_STX || c == BPF_ST) {
    if (h.stack_frame != static_cast<int>(bt.frame)) return true;
    if (!bt.take_slot(slot_base(h.stack_off))) return true;
    if (c == BPF_STX && mode(i.code) == BPF_MEM) bt.set_reg(s);
    return true;
  }
  if (c == BPF_LD) {  // ld_imm64: a constant
    bt.clear_reg(d);
    return true;
  }
  if (c == BPF_JMP || c == BPF_JMP32) {
    if (o == BPF_CALL) {
      if (i.src_reg == BPF_PSEUDO_CALL) return false;
      bt.clear_reg(BPF_REG_0);  // a helper's or kfunc's result comes from no register
      for (int r = BPF_REG_1; r <= BPF_REG_5; ++r)
        if (bt.has_reg(r)) return false;
      return true;
    }
    if (o == BPF_EXIT) return false;
    if (o == BPF_JA) return true;
    if (src_bit(i.code) == BPF_X && (bt.has_reg(d) || bt.has_reg(s))) {
      bt.set_reg(d);  // each side's range was refined by the other's
      bt.set_reg(s);
    }
    return true;
  }
  return true;
}

void mark_all_scalars_precise(verifier_state& st) {
  for (uint32_t f = 0; f <= st.curframe; ++f) {
    if (!st.frame[f]) continue;
    for (auto& r : st.frame[f]->regs)
      if (base_type(r.type) == SCALAR_VALUE) r.precise = true;
    for (auto& sl : st.frame[f]->stack)
      if (sl.slot_type[0] == STACK_SPILL && base_type(sl.spilled_ptr.type) == SCALAR_VALUE)
        sl.spilled_ptr.precise = true;
  }
}

// Sets `precise` in st for what bt traces. What already was precise there was traced from
// there back when it became so: it leaves the set (the kernel's early stop).
void mark_in_state(verifier_state& st, backtrack& bt) {
  if (bt.frame > st.curframe || !st.frame[bt.frame]) return;
  func_state& f = *st.frame[bt.frame];
  for (int r = 0; r < max_reg; ++r) {
    if (!bt.has_reg(r) || base_type(f.regs[r].type) != SCALAR_VALUE) continue;
    if (f.regs[r].precise)
      bt.clear_reg(r);
    else
      f.regs[r].precise = true;
  }
  for (size_t k = 0; k < bt.slots.size();) {
    stack_slot& sl = f.stack[static_cast<size_t>((-bt.slots[k] - 1) / 8)];
    if (sl.slot_type[0] == STACK_SPILL && base_type(sl.spilled_ptr.type) == SCALAR_VALUE) {
      if (sl.spilled_ptr.precise) {
        bt.slots.erase(bt.slots.begin() + static_cast<long>(k));
        continue;
      }
      sl.spilled_ptr.precise = true;
    }
    ++k;
  }
}

}  // namespace

void verifier_env::mark_chain_precision(int regno, int stack_off) {
  backtrack bt;
  bt.frame = cur.curframe;
  if (regno >= 0) {
    bpf_reg_state& r = regs()[regno];
    if (base_type(r.type) != SCALAR_VALUE || r.precise) return;  // traced already
    r.precise = true;
    bt.set_reg(regno);
  }
  if (stack_off < 0) {
    stack_slot& sl = frame().stack[static_cast<size_t>((-stack_off - 1) / 8)];
    if (sl.slot_type[0] != STACK_SPILL || sl.spilled_ptr.precise) return;
    sl.spilled_ptr.precise = true;
    bt.set_slot(slot_base(stack_off));
  }
  const std::vector<hist_entry>* seg = &cur.hist;
  explored* e = cur.parent;
  while (true) {
    for (auto it = seg->rbegin(); it != seg->rend(); ++it) {
      if (!backtrack_insn(insns, *it, bt)) {
        mark_all_scalars_precise(cur);
        for (explored* p = cur.parent; p; p = p->parent) mark_all_scalars_precise(p->st);
        return;
      }
      if (bt.empty()) return;
    }
    if (!e) return;  // the entry: what is left came from the context or is uninitialized
    mark_in_state(e->st, bt);
    if (bt.empty()) return;
    seg = &e->st.hist;
    e = e->parent;
  }
}

// propagate_precision(): pruning the current path against `old` relies on old's precise
// scalars; make the current path's values precise too.
void verifier_env::propagate_precision(const verifier_state& old) {
  for (uint32_t f = 0; f <= old.curframe; ++f) {
    if (f != cur.curframe) continue;  // the tracing follows the current frame only
    const func_state& fo = *old.frame[f];
    for (int r = 0; r < max_reg; ++r)
      if (base_type(fo.regs[r].type) == SCALAR_VALUE && fo.regs[r].precise) mark_chain_precision(r, 0);
    for (int k = 0; k < nr_stack_slots; ++k) {
      const stack_slot& sl = fo.stack[k];
      if (sl.slot_type[0] == STACK_SPILL && base_type(sl.spilled_ptr.type) == SCALAR_VALUE &&
          sl.spilled_ptr.precise)
        mark_chain_precision(-1, -(k + 1) * 8);
    }
  }
  if (old.curframe) {
    // precise values in caller frames: the trace does not cross frames; be conservative
    bool any = false;
    for (uint32_t f = 0; f < old.curframe; ++f)
      for (const auto& r : old.frame[f]->regs) any |= base_type(r.type) == SCALAR_VALUE && r.precise;
    if (any) {
      mark_all_scalars_precise(cur);
      for (explored* p = cur.parent; p; p = p->parent) mark_all_scalars_precise(p->st);
    }
  }
}

}  // namespace mmbpf::bpf::verifier
