// Open-coded iterators (process_iter_arg, process_iter_next_call, KF_ITER_* kfunc triples such
// as bpf_iter_num_new/next/destroy behind bpf_for()) and RCU read sections
// (bpf_rcu_read_lock/unlock), as kernel/bpf/verifier.c checks them.
//
// An iterator lives in stack slots typed STACK_ITER; new() acquires a reference that destroy()
// releases, so an iterator left alive at exit is an unreleased reference. A next() call forks
// the path: here the iterator is drained (r0 = NULL); queued, it returned an element (r0 not
// NULL, depth + 1). The loop converges when a next() call on the path sees a state the same
// as an earlier iteration's (depth aside, pruning at the call as the kernel does); scalars
// that changed between two iterations and decided nothing are widened to unknown first
// (widen_imprecise_scalars), so that counters do not keep every iteration distinct.
//
// Simplified: the only iterator kfuncs are those the runtime registers (numbers); no
// KF_RCU_PROTECTED iterators, no MEM_RCU pointers (the model's BTF has no __rcu tags), so
// leaving an RCU section changes no register. Pruning at next() against an unfinished earlier
// iteration trusts the precision marks found so far, as the kernel did before its back-edge
// propagation (6.17); the checked interpreter still catches an access that would slip through.
#include <string>

#include "bpf/btf_handle.h"
#include "bpf/verifier/env.h"
#include "bpf/verifier/scalar.h"

namespace mmbpf::bpf::verifier {

namespace {

// "num" for struct bpf_iter_num (iter_type_str)
std::string iter_type_str(const btf_handle& btf, uint32_t id) {
  std::string n{btf.name(id)};
  return n.starts_with("bpf_iter_") ? n.substr(9) : n;
}

}  // namespace

bool verifier_env::process_iter_arg(int regno, const kfunc_desc& k, uint32_t iter_type) {
  const bpf_reg_state reg = regs()[regno];
  const int argno = regno - 1;
  if (base_type(reg.type) != PTR_TO_STACK)
    return fail("arg#{} expected pointer to an iterator on stack", argno);
  auto size = kbtf.size_of(iter_type);
  const int nr_slots = size ? static_cast<int>(*size / 8) : 0;
  if (nr_slots <= 0) return fail("arg#{} iterator type {} has no size", argno, kbtf.name(iter_type));
  // iter_get_spi(): a constant, slot-aligned place in the stack
  if (!tnum_is_const(reg.var_off)) return fail("{} has to be at a constant offset", type_str(reg.type));
  const int64_t off = reg.off + static_cast<int64_t>(reg.var_off.value);
  const int spi = static_cast<int>((-off - 1) / 8);
  const bool aligned = off % 8 == 0;
  if (!aligned) log_line(fmt::format("cannot pass in iter at an offset={}", off));
  func_state& f = *cur.frame[reg.frameno];
  const int allocated = (f.allocated_stack + 7) / 8;
  const bool in_bounds = aligned && off < 0 && spi - nr_slots + 1 >= 0 && spi < allocated;
  const std::string tname = iter_type_str(kbtf, iter_type);

  if (k.flags & KF_ITER_NEW) {
    // is_iter_reg_valid_uninit(): nothing there is an iterator yet
    if (!aligned) return fail("expected uninitialized iter_{} as arg #{}", tname, argno);
    if (in_bounds)
      for (int i = 0; i < nr_slots; ++i)
        for (uint8_t t : f.stack[spi - i].slot_type)
          if (t == STACK_ITER) return fail("expected uninitialized iter_{} as arg #{}", tname, argno);
    for (int i = 0; i < nr_slots * 8; i += 8)
      if (!check_mem_access(regno, i, 8, BPF_WRITE, -1)) return false;
    const int nspi = static_cast<int>((-off - 1) / 8);
    const uint32_t ref = acquire_reference(insn_idx);
    for (int i = 0; i < nr_slots; ++i) {
      stack_slot& s = cur.frame[reg.frameno]->stack[nspi - i];
      s.slot_type.fill(STACK_ITER);
      s.spilled_ptr = bpf_reg_state{};
      mark_reg_known(s.spilled_ptr, 0);
      s.spilled_ptr.type = PTR_TO_STACK;
      s.spilled_ptr.ref_obj_id = ref;
      s.iter = {iter_type, BPF_ITER_STATE_ACTIVE, 0};
    }
    return true;
  }

  // is_iter_reg_valid_init(): every slot is this iterator, under one reference
  bool valid = in_bounds;
  for (int i = 0; valid && i < nr_slots; ++i) {
    const stack_slot& s = f.stack[spi - i];
    for (uint8_t t : s.slot_type) valid = valid && t == STACK_ITER;
    valid = valid && s.iter.btf_id == iter_type &&
            s.spilled_ptr.ref_obj_id == f.stack[spi].spilled_ptr.ref_obj_id;
  }
  if (!valid) return fail("expected an initialized iter_{} as arg #{}", tname, argno);
  iter_spi_ = spi;
  iter_frameno_ = reg.frameno;
  iter_nr_slots_ = nr_slots;
  if (k.flags & KF_ITER_DESTROY) {  // unmark_stack_slots_iter()
    const uint32_t ref = f.stack[spi].spilled_ptr.ref_obj_id;
    if (!release_reference(ref)) return fail("iterator reference id={} is not held", ref);
    for (int i = 0; i < nr_slots; ++i) {
      stack_slot& s = f.stack[spi - i];
      s.slot_type.fill(STACK_INVALID);
      s.spilled_ptr = bpf_reg_state{};
      s.iter = {};
    }
  }
  return true;
}

bool verifier_env::is_iter_next_insn(int idx) const {
  return idx >= 0 && static_cast<size_t>(idx) < force_checkpoint_.size() && force_checkpoint_[idx];
}

bool verifier_env::iter_slots_equal(const stack_slot& so, const stack_slot& sc, id_map& ids) const {
  for (uint8_t t : sc.slot_type)
    if (t != STACK_ITER) return false;
  // the depth is left out on purpose: it is what differs between iterations of a loop
  return so.iter.btf_id == sc.iter.btf_id && so.iter.state == sc.iter.state &&
         check_ids(so.spilled_ptr.ref_obj_id, sc.spilled_ptr.ref_obj_id, ids);
}

bool verifier_env::iter_active(const verifier_state& st) const {
  // the iterator next() is about to be called on (r1 at the call)
  const bpf_reg_state& r1 = st.cur().regs[BPF_REG_1];
  if (base_type(r1.type) != PTR_TO_STACK || !tnum_is_const(r1.var_off)) return false;
  const int64_t off = r1.off + static_cast<int64_t>(r1.var_off.value);
  if (off >= 0 || off % 8) return false;
  const int spi = static_cast<int>((-off - 1) / 8);
  if (spi >= nr_stack_slots || !st.frame[r1.frameno]) return false;
  const stack_slot& s = st.frame[r1.frameno]->stack[spi];
  return s.slot_type[0] == STACK_ITER && s.iter.state == BPF_ITER_STATE_ACTIVE;
}

bool verifier_env::iter_active_depths_differ(const verifier_state& old, const verifier_state& c) const {
  for (uint32_t fr = 0; fr <= old.curframe && fr <= c.curframe; ++fr) {
    const func_state& fo = *old.frame[fr];
    const func_state& fc = *c.frame[fr];
    for (int k = 0; k < nr_stack_slots; ++k) {
      const stack_slot& so = fo.stack[k];
      if (so.slot_type[0] != STACK_ITER || so.iter.state != BPF_ITER_STATE_ACTIVE) continue;
      if (fc.stack[k].slot_type[0] == STACK_ITER && so.iter.depth != fc.stack[k].iter.depth) return true;
    }
  }
  return false;
}

namespace {

// maybe_widen_reg(): a scalar that decided nothing and changed since the previous iteration
bool regs_exact(const bpf_reg_state& a, const bpf_reg_state& b) {
  return a.type == b.type && a.var_off.value == b.var_off.value && a.var_off.mask == b.var_off.mask &&
         a.smin_value == b.smin_value && a.smax_value == b.smax_value &&
         a.umin_value == b.umin_value && a.umax_value == b.umax_value &&
         a.s32_min_value == b.s32_min_value && a.s32_max_value == b.s32_max_value &&
         a.u32_min_value == b.u32_min_value && a.u32_max_value == b.u32_max_value && a.id == b.id;
}

void maybe_widen_reg(const bpf_reg_state& rold, bpf_reg_state& rcur) {
  if (base_type(rold.type) != SCALAR_VALUE || rold.type != rcur.type) return;
  if (rold.precise || rcur.precise || regs_exact(rold, rcur)) return;
  mark_reg_unknown(rcur);
}

}  // namespace

bool verifier_env::process_iter_next_call(int /*regno*/) {
  func_state& f = *cur.frame[iter_frameno_];
  stack_slot& it = f.stack[iter_spi_];
  if (it.iter.state == BPF_ITER_STATE_ACTIVE) {
    verifier_state queued = cur;
    func_state& qf = *queued.frame[iter_frameno_];
    for (int i = 0; i < iter_nr_slots_; ++i) ++qf.stack[iter_spi_ - i].iter.depth;
    // the previous iteration's state at this call (find_prev_entry): the checkpoint this very
    // visit added is the path's parent, so look above it
    const explored* prev = nullptr;
    for (const explored* p = cur.parent; p; p = p->parent) {
      if (p == cur.parent && p->insn_idx == insn_idx) continue;
      if (p->insn_idx == insn_idx && p->st.curframe == cur.curframe) {
        prev = p;
        break;
      }
    }
    if (prev) {  // widen_imprecise_scalars()
      for (uint32_t fr = 0; fr <= prev->st.curframe; ++fr) {
        const func_state& fo = *prev->st.frame[fr];
        func_state& fc = *queued.frame[fr];
        for (int r = 0; r < max_reg; ++r) maybe_widen_reg(fo.regs[r], fc.regs[r]);
        for (int k = 0; k < nr_stack_slots; ++k)
          if (fo.stack[k].slot_type[0] == STACK_SPILL && fc.stack[k].slot_type[0] == STACK_SPILL)
            maybe_widen_reg(fo.stack[k].spilled_ptr, fc.stack[k].spilled_ptr);
      }
    }
    queued.regs()[BPF_REG_0].type &= ~PTR_MAYBE_NULL;  // an element came back
    if (!push_stack(insn_idx + 1, insn_idx, queued)) return false;
  }
  for (int i = 0; i < iter_nr_slots_; ++i) f.stack[iter_spi_ - i].iter.state = BPF_ITER_STATE_DRAINED;
  mark_reg_known(regs()[BPF_REG_0], 0);  // drained: NULL
  return true;
}

bool verifier_env::check_rcu_kfunc(const kfunc_desc& k, bool& handled) {
  handled = false;
  if (k.name == "bpf_rcu_read_lock") {
    handled = true;
    if (cur.active_rcu_lock) return fail("nested rcu read lock (kernel function {})", k.name);
    ++cur.active_rcu_lock;
    return true;
  }
  if (k.name == "bpf_rcu_read_unlock") {
    handled = true;
    if (!cur.active_rcu_lock) return fail("unmatched rcu read unlock (kernel function {})", k.name);
    --cur.active_rcu_lock;
    return true;
  }
  if (cur.active_rcu_lock && (k.flags & KF_SLEEPABLE))
    return fail("kernel func {} is sleepable within rcu_read_lock region", k.name);
  return true;
}

}  // namespace mmbpf::bpf::verifier
