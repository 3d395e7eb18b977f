// The verifier's main loop (kernel/bpf/verifier.c do_check and friends): the CFG check, the
// depth-first exploration of paths with a stack of pending branches, state pruning against
// fully explored states at prune points, loop detection, and the ALU, jump and ld_imm64
// instructions. Memory access, calls and the log are in their own files (env.h).
#include "bpf/verifier/verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "bpf/btf_handle.h"
#include "bpf/map.h"
#include "bpf/memory.h"
#include "bpf/runtime.h"
#include "bpf/verifier/env.h"
#include "bpf/verifier/scalar.h"
#include "bpf/vmlinux_btf.h"

namespace mmbpf::bpf::verifier {

namespace {
// States kept per prune point. The kernel keeps fewer (64) and drops those that rarely prune;
// its per-path liveness merges more states than the static liveness here, so a loop with a
// conditional counter (i, n) needs its few hundred states kept to converge.
constexpr size_t max_states_per_insn = 1024;
// Fully explored states that keep missing leave a prune point's list once it holds more than
// this many (the kernel evicts at any size; without per-path liveness mmbpf needs the smaller
// lists whole for some loops to converge).
constexpr size_t evict_above = 64;
}

verifier_env::verifier_env(const bpf_prog& p, const verify_opts& o)
    : prog(p), opts(o), rt(*p.rt), kbtf(vmlinux_btf()), insns(p.insns) {}

void verifier_env::log_line(const std::string& s) {
  if (opts.log_level) {
    log += s;
    log += '\n';
  }
}

void verifier_env::mark_reg_not_init(bpf_reg_state& r) {
  r = bpf_reg_state{};
  r.type = NOT_INIT;
}

bool verifier_env::check_reg_read(int regno) {
  if (regs()[regno].type == NOT_INIT) return fail("R{} !read_ok", regno);
  return true;
}

bool verifier_env::returns_void() const {
  if (opts.ctx.k != prog_context::kind::struct_ops) return false;
  const struct btf_type* proto = kbtf.type(opts.ctx.func_proto_id);
  return proto && proto->type == 0;
}

int verifier_env::subprog_of(int idx) const {
  const auto& s = prog.subprog_starts;
  auto it = std::upper_bound(s.begin(), s.end(), static_cast<uint32_t>(idx));
  return static_cast<int>(it - s.begin()) - 1;
}

uint32_t verifier_env::acquire_reference(int idx) {
  const uint32_t id = new_id();
  cur.refs.push_back({id, idx});
  return id;
}

bool verifier_env::release_reference(uint32_t ref_obj_id) {
  auto it = std::find_if(cur.refs.begin(), cur.refs.end(),
                         [&](const ref_state& r) { return r.id == ref_obj_id; });
  if (it == cur.refs.end()) return false;
  cur.refs.erase(it);
  // every copy of the released pointer becomes unusable
  for (uint32_t f = 0; f <= cur.curframe; ++f) {
    for (auto& r : cur.frame[f]->regs)
      if (r.ref_obj_id == ref_obj_id) mark_reg_unknown(r);
    for (auto& s : cur.frame[f]->stack)
      if (s.slot_type[0] == STACK_SPILL && s.spilled_ptr.ref_obj_id == ref_obj_id) {
        s.slot_type.fill(STACK_MISC);
        s.spilled_ptr = bpf_reg_state{};
      }
  }
  return true;
}

void verifier_env::mark_ptr_or_null_regs(verifier_state& st, uint32_t id, bool is_null) {
  auto fix = [&](bpf_reg_state& r) {
    if (r.id != id || !(r.type & PTR_MAYBE_NULL)) return;
    if (is_null) {
      const uint32_t ref = r.ref_obj_id;
      mark_reg_known(r, 0);
      (void)ref;
    } else {
      r.type &= ~PTR_MAYBE_NULL;
    }
  };
  for (uint32_t f = 0; f <= st.curframe; ++f) {
    for (auto& r : st.frame[f]->regs) fix(r);
    for (auto& s : st.frame[f]->stack)
      if (s.slot_type[0] == STACK_SPILL) fix(s.spilled_ptr);
  }
  if (is_null) {  // a null reference needs no release
    auto it = std::find_if(st.refs.begin(), st.refs.end(), [&](const ref_state& r) { return r.id == id; });
    if (it != st.refs.end()) st.refs.erase(it);
  }
}

// The map an ld_imm64 at idx loads (BPF_PSEUDO_MAP_*), and for a direct value load the offset
// into the value. The loaded form keeps the pseudo source; the translated one the address.
const bpf_map* verifier_env::map_at_ld_imm64(int idx, uint64_t* value_off) const {
  const insn& x = prog.xlated[idx];
  const uint64_t addr = static_cast<uint32_t>(x.imm) | (uint64_t{static_cast<uint32_t>(prog.xlated[idx + 1].imm)} << 32);
  const uint8_t src = insns[idx].src_reg;
  if (src == BPF_PSEUDO_MAP_FD || src == BPF_PSEUDO_MAP_IDX) return reinterpret_cast<const bpf_map*>(addr);
  const mem_region* r = rt.regions().find(addr);
  if (!r || !r->owner) return nullptr;
  if (value_off) *value_off = addr - r->start;
  return static_cast<const bpf_map*>(r->owner);
}

// ---- the CFG: every instruction reachable (check_cfg) ------------------------------------

bool verifier_env::check_cfg() {
  const int n = static_cast<int>(insns.size());
  std::vector<uint8_t> seen(n);
  prune_point_.assign(n, false);
  force_checkpoint_.assign(n, false);
  std::vector<int> work{0};
  auto visit = [&](int t) {
    if (t < 0 || t >= n) return;
    if (!seen[t]) {
      seen[t] = 1;
      work.push_back(t);
    }
  };
  seen[0] = 1;
  while (!work.empty()) {
    const int i = work.back();
    work.pop_back();
    const insn& x = insns[i];
    const uint8_t c = cls(x.code);
    if (is_ld_imm64(x)) {
      seen[i + 1] = 1;
      if (x.src_reg == BPF_PSEUDO_FUNC) {  // a callback's body
        const int t = i + x.imm + 1;
        prune_point_[t] = true;
        visit(t);
      }
      visit(i + 2);
      continue;
    }
    if (c != BPF_JMP && c != BPF_JMP32) {
      visit(i + 1);
      continue;
    }
    const uint8_t o = op(x.code);
    if (o == BPF_EXIT) continue;
    if (o == BPF_CALL) {
      if (x.src_reg == BPF_PSEUDO_CALL) {  // visit_func_call_insn(): the call itself
        prune_point_[i] = true;
        visit(i + x.imm + 1);
      }
      if (x.src_reg == BPF_PSEUDO_KFUNC_CALL) {  // an iterator's next(): where loops converge
        const kfunc_desc* k = rt.kfuncs().by_id(static_cast<uint32_t>(x.imm));
        if (k && (k->flags & KF_ITER_NEXT)) prune_point_[i] = force_checkpoint_[i] = true;
      }
      prune_point_[std::min(i + 1, n - 1)] = true;
      visit(i + 1);
      continue;
    }
    if (o == BPF_JA) {
      const int t = i + 1 + (c == BPF_JMP32 ? x.imm : x.off);
      prune_point_[t] = true;
      visit(t);
      continue;
    }
    // a conditional jump is its own prune point (the kernel's visit_insn()), so that a loop
    // is caught where the kernel catches it
    const int t = i + 1 + x.off;
    prune_point_[i] = true;
    visit(i + 1);
    visit(t);
  }
  for (int i = 0; i < n; ++i)
    if (!seen[i]) return fail("unreachable insn {}", i);
  return true;
}

// ---- register liveness -----------------------------------------------------------------------

// Which registers each instruction may read before writing (a backward dataflow over the CFG),
// so that state comparison ignores dead registers, as the kernel's REG_LIVE_READ marks let it.
// Calls read r1-r5 and write r0-r5; an exit reads r0; r10 is always live.
void verifier_env::compute_liveness() {
  const int n = static_cast<int>(insns.size());
  live_in_.assign(n, 0);
  auto succs = [&](int i, int out[2]) {
    const insn& x = insns[i];
    const uint8_t c = cls(x.code);
    int k = 0;
    if (is_ld_imm64(x)) {
      out[k++] = i + 2;
      return k;
    }
    if (c != BPF_JMP && c != BPF_JMP32) {
      out[k++] = i + 1;
      return k;
    }
    const uint8_t o = op(x.code);
    if (o == BPF_EXIT) return 0;
    if (o == BPF_CALL) {
      out[k++] = i + 1;
      return k;
    }
    if (o == BPF_JA) {
      out[k++] = i + 1 + (c == BPF_JMP32 ? x.imm : x.off);
      return k;
    }
    out[k++] = i + 1;
    out[k++] = i + 1 + x.off;
    return k;
  };
  auto use_def = [&](int i, uint32_t& use, uint32_t& def) {
    const insn& x = insns[i];
    const uint8_t c = cls(x.code), o = op(x.code);
    const uint32_t d = 1u << x.dst_reg, s = 1u << x.src_reg;
    use = def = 0;
    switch (c) {
      case BPF_ALU:
      case BPF_ALU64:
        if (o == BPF_MOV) {
          def = d;
          if (src_bit(x.code) == BPF_X) use = s;
        } else {
          use = d | (src_bit(x.code) == BPF_X && o != BPF_END && o != BPF_NEG ? s : 0);
          def = d;
        }
        break;
      case BPF_LDX:
        use = s;
        def = d;
        break;
      case BPF_STX:
        use = s | d;
        if (mode(x.code) == BPF_ATOMIC) {
          if (x.imm == BPF_CMPXCHG) use |= 1u, def = 1u;
          else if (x.imm & BPF_FETCH) def = s;
        }
        break;
      case BPF_ST:
        use = d;
        break;
      case BPF_LD:
        def = d;
        break;
      default:  // jumps
        if (o == BPF_CALL) {
          use = 0x3e;  // r1-r5
          def = 0x3f;  // r0-r5
        } else if (o == BPF_EXIT) {
          use = 1u;
        } else if (o != BPF_JA) {
          use = d | (src_bit(x.code) == BPF_X ? s : 0);
        }
    }
  };
  bool changed = true;
  while (changed) {
    changed = false;
    for (int i = n - 1; i >= 0; --i) {
      if (i > 0 && is_ld_imm64(insns[i - 1])) continue;  // the second slot
      int out[2];
      const int k = succs(i, out);
      uint32_t live_out = 0;
      for (int j = 0; j < k; ++j)
        if (out[j] >= 0 && out[j] < n) live_out |= live_in_[out[j]];
      uint32_t use, def;
      use_def(i, use, def);
      const uint32_t in = use | (live_out & ~def) | (1u << BPF_REG_10);
      if (in != live_in_[i]) {
        live_in_[i] = in;
        changed = true;
      }
    }
  }
}

// ---- entry --------------------------------------------------------------------------------

void verifier_env::init_entry_state() {
  cur = verifier_state{};
  cur.frame[0] = std::make_unique<func_state>();
  func_state& f = *cur.frame[0];
  for (auto& r : f.regs) mark_reg_not_init(r);
  bpf_reg_state& fp = f.regs[BPF_REG_10];
  fp.type = PTR_TO_STACK;
  fp.var_off = tnum_const(0);
  fp.smin_value = fp.smax_value = 0;
  fp.umin_value = fp.umax_value = 0;
  fp.s32_min_value = fp.s32_max_value = 0;
  fp.u32_min_value = fp.u32_max_value = 0;
  bpf_reg_state& r1 = f.regs[BPF_REG_1];
  mark_reg_known(r1, 0);
  r1.type = PTR_TO_CTX;
  if (opts.ctx.k == prog_context::kind::mem) {
    r1.mem_size = opts.ctx.mem_size;
    mark_reg_known(f.regs[BPF_REG_2], opts.ctx.mem_size);
  }
}

// ---- pruning ------------------------------------------------------------------------------

// check_ids(): the ids of old's state must map one-to-one onto cur's, so that what a null check
// or a release does to every copy of a pointer on old's path does the same on cur's.
bool check_ids(uint32_t old_id, uint32_t cur_id, id_map& m) {
  if (!old_id) return !cur_id;
  if (!cur_id) return false;
  for (const auto& [o, c] : m) {
    if (o == old_id) return c == cur_id;
    if (c == cur_id) return false;
  }
  m.emplace_back(old_id, cur_id);
  return true;
}

bool verifier_env::regsafe(const bpf_reg_state& rold, const bpf_reg_state& rcur, id_map& ids,
                           bool exact) const {
  if (exact) {  // regs_exact(): the same value, ids mapped one-to-one
    if (rold.type == NOT_INIT || rcur.type == NOT_INIT) return rold.type == rcur.type;
    if (rold.type != rcur.type || rold.var_off.value != rcur.var_off.value ||
        rold.var_off.mask != rcur.var_off.mask || !range_within(rold, rcur) || !range_within(rcur, rold))
      return false;
    if (base_type(rold.type) == SCALAR_VALUE)
      return check_ids(rold.id, rcur.id, ids);
  }
  if (rold.type == NOT_INIT) return true;
  if (rcur.type == NOT_INIT) return false;
  if (rold.type != rcur.type) return false;
  auto same_range = [&] {
    return range_within(rold, rcur) && tnum_in(rold.var_off, rcur.var_off);
  };
  switch (base_type(rold.type)) {
    case SCALAR_VALUE: {
      if (!rold.precise) return true;  // an imprecise value decided nothing
      if (!same_range()) return false;
      // check_scalar_ids(): copies old's branches refined together must be copies in cur too
      if (!rold.id) return true;
      if (rcur.id) return check_ids(rold.id, rcur.id, ids);
      for (const auto& m : ids)
        if (m.first == rold.id) return false;
      ids.emplace_back(rold.id, 0x80000000u + static_cast<uint32_t>(ids.size()));  // a fresh id
      return true;
    }
    case PTR_TO_STACK:
      return rold.frameno == rcur.frameno && rold.off == rcur.off && same_range();
    case CONST_PTR_TO_MAP:
      return rold.map_ptr == rcur.map_ptr;
    case PTR_TO_MAP_VALUE:
    case PTR_TO_MAP_KEY:
      return rold.map_ptr == rcur.map_ptr && rold.off == rcur.off && same_range() &&
             check_ids(rold.id, rcur.id, ids) && check_ids(rold.ref_obj_id, rcur.ref_obj_id, ids);
    case PTR_TO_MEM:
      return rold.mem_size == rcur.mem_size && rold.off == rcur.off && same_range() &&
             check_ids(rold.id, rcur.id, ids) && check_ids(rold.ref_obj_id, rcur.ref_obj_id, ids);
    case PTR_TO_BTF_ID:
      return rold.btf_id == rcur.btf_id && rold.off == rcur.off && same_range() &&
             check_ids(rold.id, rcur.id, ids) && check_ids(rold.ref_obj_id, rcur.ref_obj_id, ids);
    case PTR_TO_CTX:
      return rold.off == rcur.off && same_range();
    case PTR_TO_FUNC:
      return rold.subprogno == rcur.subprogno;
    default:
      return false;
  }
}

// Whether every path from `old` being safe implies the same for `cur` (states_equal). Ids of
// maybe-null pointers and references only need the same shape here; the references held must
// be as many (the kernel maps ids pairwise).
bool verifier_env::states_equal(const verifier_state& old, const verifier_state& c, bool exact) const {
  const uint32_t live = live_in_.empty() ? ~0u : live_in_[static_cast<size_t>(insn_idx)];
  id_map ids;
  if (old.curframe != c.curframe || old.refs.size() != c.refs.size() ||
      old.active_lock != c.active_lock || old.active_rcu_lock != c.active_rcu_lock)
    return false;
  for (uint32_t f = 0; f <= old.curframe; ++f) {
    const func_state& fo = *old.frame[f];
    const func_state& fc = *c.frame[f];
    if (fo.callsite != fc.callsite || fo.in_callback != fc.in_callback) return false;
    for (int r = 0; r < max_reg; ++r) {
      if (f == old.curframe && !(live & (1u << r))) continue;  // dead here: never read again
      if (!regsafe(fo.regs[r], fc.regs[r], ids, exact)) return false;
    }
    // slots old never touched are invalid there, which anything matches
    const int used = std::min(nr_stack_slots, (std::max(fo.allocated_stack, exact ? fc.allocated_stack : 0) + 7) / 8);
    for (int k = 0; k < used; ++k) {
      const stack_slot& so = fo.stack[k];
      const stack_slot& sc = fc.stack[k];
      if (exact) {  // the same slot types byte for byte, spills exactly equal
        if (so.slot_type != sc.slot_type) return false;
        if (so.slot_type[0] == STACK_SPILL && !regsafe(so.spilled_ptr, sc.spilled_ptr, ids, true)) return false;
        if (so.slot_type[0] == STACK_ITER && !iter_slots_equal(so, sc, ids)) return false;
        continue;
      }
      if (so.slot_type[0] == STACK_ITER) {
        if (!iter_slots_equal(so, sc, ids)) return false;
        continue;
      }
      if (so.slot_type[0] == STACK_SPILL) {
        if (sc.slot_type[0] != STACK_SPILL || !regsafe(so.spilled_ptr, sc.spilled_ptr, ids)) return false;
        continue;
      }
      for (int b = 0; b < 8; ++b) {
        const uint8_t o = so.slot_type[b], t = sc.slot_type[b];
        if (o == STACK_INVALID) continue;  // privileged: an unwritten byte reads as unknown
        if (o == STACK_ZERO && t != STACK_ZERO) return false;
        if (t == STACK_ITER) return false;  // old read data where cur keeps an iterator
        if (o == STACK_MISC && t == STACK_SPILL && base_type(sc.spilled_ptr.type) != SCALAR_VALUE)
          return false;  // a pointer where old saw data: old never used it as a pointer, fine,
                         // but a later fill would differ in type; keep it strict
        if (o == STACK_MISC && t == STACK_INVALID) continue;
      }
    }
  }
  // the references held must be the same ones, under the ids matched above
  for (size_t k = 0; k < old.refs.size(); ++k)
    if (!check_ids(old.refs[k].id, c.refs[k].id, ids)) return false;
  return true;
}

// A hash of what an EXACT states_equal() compares (ids aside), at insn_idx: loop detection
// compares the current state with every state on its path at the instruction, and most differ.
uint64_t verifier_env::exact_state_hash(const verifier_state& st) const {
  const uint32_t live = live_in_.empty() ? ~0u : live_in_[static_cast<size_t>(insn_idx)];
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](uint64_t v) { h = (h ^ v) * 0x100000001b3ull; };
  auto mix_reg = [&](const bpf_reg_state& r) {
    mix(r.type), mix(static_cast<uint32_t>(r.off)), mix(r.var_off.value), mix(r.var_off.mask);
    mix(static_cast<uint64_t>(r.smin_value)), mix(static_cast<uint64_t>(r.smax_value));
    mix(r.umin_value), mix(r.umax_value);
  };
  mix(st.curframe);
  for (uint32_t f = 0; f <= st.curframe; ++f) {
    const func_state& fs = *st.frame[f];
    for (int r = 0; r < max_reg; ++r)
      if (f != st.curframe || (live & (1u << r))) mix_reg(fs.regs[r]);
    for (int k = 0; k < nr_stack_slots; ++k) {
      const stack_slot& sl = fs.stack[k];
      uint64_t types = 0;
      for (uint8_t b : sl.slot_type) types = types << 8 | b;
      if (!types) continue;
      mix(static_cast<uint64_t>(k)), mix(types);
      if (sl.slot_type[0] == STACK_SPILL) mix_reg(sl.spilled_ptr);
    }
  }
  return h;
}

void verifier_env::update_branch_counts(explored* e) {
  while (e) {
    if (--e->branches) break;
    e = e->parent;
  }
}

// is_state_visited(): prune when a fully explored state here covers the current one; detect a
// loop that comes back to a state it already was in; else remember this state.
bool verifier_env::is_state_visited(int idx) {
  auto& list = explored_[idx];
  bool add_new_state = true;
  std::optional<uint64_t> cur_hash;  // computed when a state on this path needs it
  for (size_t k = 0; k < list.size();) {
    explored* e = list[k];
    if (e->branches) {
      if (is_iter_next_insn(idx)) {
        // an iterator loop converged: this iteration's state is one an earlier iteration
        // at this next() already covers (the kernel's RANGE_WITHIN check at iter next)
        if (states_equal(e->st, cur) && iter_active(cur)) {
          ++e->hit_cnt;
          propagate_precision(e->st);
          if (opts.log_level) log_line(fmt::format("{}: safe", idx));
          return true;
        }
        if (++e->miss_cnt > e->hit_cnt * 64 + 64) {  // still on the path: it stays alive
          list.erase(list.begin() + static_cast<std::ptrdiff_t>(k));
          continue;
        }
        ++k;
        continue;
      }
      // in a loop, every iteration's state differs: keep one only every so often (the
      // kernel's 20 jumps or 100 instructions), so that the list stays useful to search
      if (jmps_processed_ - prev_jmps_processed_ < 20 && stats.insn_processed - prev_insn_processed_ < 100)
        add_new_state = false;
      // on a path still being explored: the same state again on this path is a loop that
      // makes no progress (compare first: the ancestor walk is the costly part); an
      // iterator one level deeper is progress
      if (!cur_hash) cur_hash = exact_state_hash(cur);
      if (e->exact_hash == *cur_hash && states_equal(e->st, cur, true) &&
          !iter_active_depths_differ(e->st, cur))
        for (explored* p = cur.parent; p; p = p->parent)
          if (p == e) {  // the kernel's message, then both states
            fail("infinite loop detected at insn {}", idx);
            log_line(err);
            log_line("cur state: " + state_str(cur));
            log_line("old state: " + state_str(e->st));
            err_logged_ = true;
            return false;
          }
      ++k;
      continue;
    }
    if (states_equal(e->st, cur)) {
      ++e->hit_cnt;
      propagate_precision(e->st);
      if (opts.log_level) log_line(fmt::format("{}: safe", idx));
      return true;
    }
    // a fully explored state that keeps missing is unlikely to prune: leave it out of the
    // search (all_explored_ still owns it)
    if (add_new_state && ++e->miss_cnt > e->hit_cnt * 3 + 3 && list.size() > evict_above) {
      list.erase(list.begin() + static_cast<std::ptrdiff_t>(k));
      continue;
    }
    ++k;
  }
  // the states compared here, before any is added (the kernel's states_cnt)
  stats.max_states_per_insn = std::max<uint32_t>(stats.max_states_per_insn, static_cast<uint32_t>(list.size()));
  if (force_checkpoint_[idx]) add_new_state = true;
  if (!add_new_state) return false;
  // With the list full the state is not kept for pruning, but a long path (a loop going
  // nowhere towards the complexity limit) still gets a node every so often, so that its
  // history, copied with every branch it pushes, stays short.
  const bool searchable = list.size() < max_states_per_insn;
  if (!searchable && cur.hist.size() < 256) return false;
  prev_jmps_processed_ = jmps_processed_;
  prev_insn_processed_ = stats.insn_processed;
  auto e = std::make_unique<explored>();
  e->st = cur;
  e->st.parent = nullptr;
  e->insn_idx = idx;
  e->branches = 1;
  e->exact_hash = cur_hash ? *cur_hash : exact_state_hash(cur);
  e->parent = cur.parent;
  cur.parent = e.get();
  cur.hist.clear();  // the new segment starts here
  if (!searchable) {
    all_explored_.push_back(std::move(e));
    return false;
  }
  list.push_back(e.get());
  all_explored_.push_back(std::move(e));
  ++stats.total_states;
  stats.peak_states = std::max(stats.peak_states, stats.total_states);
  return false;
}

bool verifier_env::push_stack(int idx, int prev, const verifier_state& st) {
  if (stack_.size() > 8192) return fail("The sequence of {} jumps is too complex.", stack_.size());
  stack_.push_back({st, idx, prev, log.empty() || log.back() != '\n' ? log.size() : log.size() - 1});
  for (explored* p = st.parent; p; p = p->parent) {  // one more path below each ancestor
    ++p->branches;
    break;
  }
  return true;
}

// Ends the current path (exit or pruned) and takes the next pending one; false when none.
bool verifier_env::pop_stack() {
  update_branch_counts(cur.parent);
  if (stack_.empty()) return false;
  pending_path p = std::move(stack_.back());
  stack_.pop_back();
  cur = std::move(p.st);
  insn_idx = p.insn_idx;
  prev_insn_idx = p.prev_insn_idx;
  if (opts.log_level == 1) {
    // level 1 keeps the path being checked only: back to where it branched off (the kernel's
    // log rewind), then its state
    log.resize(std::min(log.size(), p.log_pos));
    log_line(fmt::format(" {}:{}", insn_idx, frame_str(cur, cur.curframe, nullptr)));
  } else if (opts.log_level) {
    log_line(fmt::format("from {} to {}: {}", prev_insn_idx, insn_idx, state_str(cur)));
  }
  return true;
}

// ---- ALU ----------------------------------------------------------------------------------

// adjust_ptr_min_max_vals() operators by name (bpf_alu_string).
static const char* alu_str(uint8_t o) {
  switch (o) {
    case BPF_ADD: return "+=";
    case BPF_SUB: return "-=";
    case BPF_MUL: return "*=";
    case BPF_DIV: return "/=";
    case BPF_OR: return "|=";
    case BPF_AND: return "&=";
    case BPF_LSH: return "<<=";
    case BPF_RSH: return ">>=";
    case BPF_NEG: return "neg";
    case BPF_MOD: return "%=";
    case BPF_XOR: return "^=";
    case BPF_MOV: return "=";
    case BPF_ARSH: return "s>>=";
    default: return "endian";
  }
}

namespace {
constexpr int64_t BPF_MAX_VAR_OFF = int64_t{1} << 29;
}

// check_reg_sane_offset(): the offsets pointer arithmetic may work with.
bool verifier_env::check_reg_sane_offset(const bpf_reg_state& reg, uint32_t ptr_type) {
  const bool known = tnum_is_const(reg.var_off);
  const auto val = static_cast<int64_t>(reg.var_off.value);
  const std::string t = type_str(ptr_type);
  if (known && (val >= BPF_MAX_VAR_OFF || val <= -BPF_MAX_VAR_OFF))
    return fail("math between {} pointer and {} is not allowed", t, val);
  if (reg.off >= BPF_MAX_VAR_OFF || reg.off <= -BPF_MAX_VAR_OFF)
    return fail("{} pointer offset {} is not allowed", t, reg.off);
  if (reg.smin_value == INT64_MIN)
    return fail("math between {} pointer and register with unbounded min value is not allowed", t);
  if (reg.smin_value >= BPF_MAX_VAR_OFF || reg.smin_value <= -BPF_MAX_VAR_OFF)
    return fail("value {} makes {} pointer be out of bounds", reg.smin_value, t);
  return true;
}

// adjust_ptr_min_max_vals(): pointer OP scalar (or scalar += pointer), into dst.
bool verifier_env::check_ptr_alu(const insn& i, bpf_reg_state& dst, const bpf_reg_state& ptr,
                                 const bpf_reg_state& off_reg) {
  const uint8_t o = op(i.code);
  const int dregno = i.dst_reg;
  const bool known = tnum_is_const(off_reg.var_off);
  const int64_t smin_val = off_reg.smin_value, smax_val = off_reg.smax_value;
  const uint64_t umin_val = off_reg.umin_value, umax_val = off_reg.umax_value;
  if ((known && (smin_val != smax_val || umin_val != umax_val)) || smin_val > smax_val ||
      umin_val > umax_val) {
    mark_reg_unknown(dst);  // an offset with impossible bounds (a dead branch): taint
    return true;
  }
  if (cls(i.code) != BPF_ALU64) {
    if (o == BPF_SUB) {  // 32-bit ALU ops on pointers produce (meaningless) scalars: root
      mark_reg_unknown(dst);
      return true;
    }
    return fail("R{} 32-bit pointer arithmetic prohibited", dregno);
  }
  if (ptr.type & PTR_MAYBE_NULL)
    return fail("R{} pointer arithmetic on {} prohibited, null-check it first", dregno, type_str(ptr.type));
  switch (base_type(ptr.type)) {
    case CONST_PTR_TO_MAP:
      if (known && smin_val == 0 && o == BPF_ADD) break;
      return fail("R{} pointer arithmetic on {} prohibited", dregno, type_str(ptr.type));
    case PTR_TO_FUNC:
      return fail("R{} pointer arithmetic on {} prohibited", dregno, type_str(ptr.type));
    default:
      break;
  }
  if (!check_reg_sane_offset(off_reg, ptr.type) || !check_reg_sane_offset(ptr, ptr.type)) return false;
  const bool dst_is_off = &dst != &ptr && i.dst_reg != i.src_reg && base_type(dst.type) == SCALAR_VALUE;
  bpf_reg_state res = ptr;
  // pointer types do not carry 32-bit bounds
  res.s32_min_value = INT32_MIN, res.s32_max_value = INT32_MAX;
  res.u32_min_value = 0, res.u32_max_value = UINT32_MAX;
  const int64_t smin_ptr = ptr.smin_value, smax_ptr = ptr.smax_value;
  const uint64_t umin_ptr = ptr.umin_value, umax_ptr = ptr.umax_value;
  switch (o) {
    case BPF_ADD: {
      const int64_t sum = int64_t{ptr.off} + smin_val;
      if (known && sum == static_cast<int32_t>(sum)) {  // pointer += K: into the fixed offset
        res.off = static_cast<int32_t>(sum);
        break;
      }
      if (__builtin_add_overflow(smin_ptr, smin_val, &res.smin_value) ||
          __builtin_add_overflow(smax_ptr, smax_val, &res.smax_value))
        res.smin_value = INT64_MIN, res.smax_value = INT64_MAX;
      if (__builtin_add_overflow(umin_ptr, umin_val, &res.umin_value) ||
          __builtin_add_overflow(umax_ptr, umax_val, &res.umax_value))
        res.umin_value = 0, res.umax_value = UINT64_MAX;
      res.var_off = tnum_add(ptr.var_off, off_reg.var_off);
      break;
    }
    case BPF_SUB: {
      if (dst_is_off) return fail("R{} tried to subtract pointer from scalar", dregno);
      // (JITs may not cope with a frame pointer moved down by a subtraction)
      if (base_type(ptr.type) == PTR_TO_STACK)
        return fail("R{} subtraction from stack pointer prohibited", dregno);
      const int64_t diff = int64_t{ptr.off} - smin_val;
      if (known && diff == static_cast<int32_t>(diff)) {  // pointer -= K
        res.off = static_cast<int32_t>(diff);
        break;
      }
      if (__builtin_sub_overflow(smin_ptr, smax_val, &res.smin_value) ||
          __builtin_sub_overflow(smax_ptr, smin_val, &res.smax_value))
        res.smin_value = INT64_MIN, res.smax_value = INT64_MAX;
      if (umin_ptr < umax_val) {  // overflow possible
        res.umin_value = 0, res.umax_value = UINT64_MAX;
      } else {
        res.umin_value = umin_ptr - umax_val;
        res.umax_value = umax_ptr - umin_val;
      }
      res.var_off = tnum_sub(ptr.var_off, off_reg.var_off);
      break;
    }
    case BPF_AND:
    case BPF_OR:
    case BPF_XOR:
      return fail("R{} bitwise operator {} on pointer prohibited", dregno, alu_str(o));
    default:
      return fail("R{} pointer arithmetic with {} operator prohibited", dregno, alu_str(o));
  }
  if (!check_reg_sane_offset(res, ptr.type)) return false;
  reg_bounds_sync(res);
  res.precise = false;
  dst = res;
  return true;
}

bool verifier_env::check_alu_op(const insn& i) {
  const uint8_t o = op(i.code);
  const bool alu32 = cls(i.code) == BPF_ALU;
  const bool use_src = src_bit(i.code) == BPF_X;
  bpf_reg_state* r = regs();
  if (o == BPF_END || o == BPF_NEG) {
    if (!check_reg_read(i.dst_reg)) return false;
    if (i.dst_reg == BPF_REG_10) return fail("frame pointer is read only");
    if (base_type(r[i.dst_reg].type) != SCALAR_VALUE) {
      mark_reg_unknown(r[i.dst_reg]);  // root: a pointer's value, negated or swapped, is data
      return true;
    }
    r[i.dst_reg].id = 0;
    if (o == BPF_NEG) {
      bpf_reg_state zero;
      mark_reg_known(zero, 0);
      scalar_alu(r[i.dst_reg], zero, BPF_NEG, alu32, 0);
    } else {
      scalar_end(r[i.dst_reg], src_bit(i.code) == BPF_TO_BE, !alu32, i.imm);
    }
    return true;
  }
  if (use_src && !check_reg_read(i.src_reg)) return false;
  if (o == BPF_MOV) {
    if (i.dst_reg == BPF_REG_10) return fail("frame pointer is read only");
    bpf_reg_state& dst = r[i.dst_reg];
    if (!use_src) {
      mark_reg_unknown(dst);  // nothing of the old value survives (precision included)
      mark_reg_known(dst, alu32 ? static_cast<uint32_t>(i.imm) : static_cast<uint64_t>(static_cast<int64_t>(i.imm)));
      return true;
    }
    bpf_reg_state& src = r[i.src_reg];
    if (base_type(src.type) != SCALAR_VALUE) {
      if (alu32 || i.off) {  // a partial copy of a pointer: privileged makes it a scalar
        mark_reg_unknown(dst);
        if (alu32) coerce_reg_to_size(dst, 4);
        return true;
      }
      dst = src;
      return true;
    }
    if (!alu32 && !i.off) {
      // a copy: both registers get the same id, so that what a branch learns about one holds
      // for the other (sync_linked_regs)
      if (!src.id && !tnum_is_const(src.var_off)) src.id = new_id();
      const bpf_reg_state s = src;
      scalar_mov(dst, s, alu32, i.off);
      dst.id = s.id;
      return true;
    }
    const bpf_reg_state s = src;
    scalar_mov(dst, s, alu32, i.off);
    dst.id = 0;
    return true;
  }
  if (!check_reg_read(i.dst_reg)) return false;
  if ((o == BPF_MOD || o == BPF_DIV) && !use_src && i.imm == 0) return fail("div by zero");
  if ((o == BPF_LSH || o == BPF_RSH || o == BPF_ARSH) && !use_src &&
      (i.imm < 0 || i.imm >= (alu32 ? 32 : 64)))
    return fail("invalid shift {}", i.imm);
  if (i.dst_reg == BPF_REG_10) return fail("frame pointer is read only");
  bpf_reg_state src;
  if (use_src) {
    src = r[i.src_reg];
  } else {
    mark_reg_known(src, static_cast<uint64_t>(static_cast<int64_t>(i.imm)));
  }
  bpf_reg_state& dst = r[i.dst_reg];
  const bool dptr = base_type(dst.type) != SCALAR_VALUE;
  const bool sptr = base_type(src.type) != SCALAR_VALUE;
  if (!dptr) dst.id = 0;  // its value changes: no longer a copy of anything
  if (dptr && sptr) {
    if (o == BPF_SUB) {
      mark_reg_unknown(dst);  // pointer - pointer: a scalar (privileged)
      return true;
    }
    return fail("R{} pointer {} pointer prohibited", i.dst_reg, alu_str(o));
  }
  if (dptr) {
    if (use_src) mark_chain_precision(i.src_reg);  // its value, constant or not, is the offset
    return check_ptr_alu(i, dst, dst, src);
  }
  if (sptr) {  // scalar OP= pointer: the pointer's rules, with the roles swapped
    mark_chain_precision(i.dst_reg);
    const bpf_reg_state off = dst;
    return check_ptr_alu(i, dst, src, off);
  }
  scalar_alu(dst, src, o, alu32, i.off);
  return true;
}

// ---- jumps --------------------------------------------------------------------------------

bool verifier_env::check_cond_jmp_op(const insn& i, int& next) {
  const uint8_t o = op(i.code);
  const bool jmp32 = cls(i.code) == BPF_JMP32;
  const bool use_src = src_bit(i.code) == BPF_X;
  if (!check_reg_read(i.dst_reg)) return false;
  if (use_src && !check_reg_read(i.src_reg)) return false;
  bpf_reg_state* r = regs();
  bpf_reg_state a = r[i.dst_reg];
  bpf_reg_state b;
  if (use_src)
    b = r[i.src_reg];
  else
    mark_reg_known(b, jmp32 ? static_cast<uint32_t>(i.imm) : static_cast<uint64_t>(static_cast<int64_t>(i.imm)));
  const int target = insn_idx + 1 + i.off;
  const bool ascalar = base_type(a.type) == SCALAR_VALUE, bscalar = base_type(b.type) == SCALAR_VALUE;
  int taken = -1;
  if (ascalar && bscalar) {
    taken = is_scalar_branch_taken(a, b, o, jmp32);
    if (taken >= 0) {  // the values decided the path: they must stay exact when pruning
      mark_chain_precision(i.dst_reg);
      if (use_src) mark_chain_precision(i.src_reg);
    }
  } else if (!jmp32 && (o == BPF_JEQ || o == BPF_JNE)) {
    // a pointer that cannot be null against zero
    const bpf_reg_state& p = ascalar ? b : a;
    const bpf_reg_state& z = ascalar ? a : b;
    if (!(ascalar && bscalar) && (ascalar != bscalar) && tnum_equals_const(z.var_off, 0) &&
        !(p.type & PTR_MAYBE_NULL))
      taken = o == BPF_JNE ? 1 : 0;
  }
  if (taken == 1) {
    next = target;
    return true;
  }
  if (taken == 0) {
    next = insn_idx + 1;
    return true;
  }
  // Copies of a compared scalar learn what it learns (sync_linked_regs); the link decided
  // their bounds, so pruning must see the copies as copies: they are all made precise (the
  // kernel's backtracking follows linked registers).
  auto has_copies = [&](int regno) {
    if (!r[regno].id) return false;
    for (int k = 0; k < BPF_REG_10; ++k)
      if (k != regno && base_type(r[k].type) == SCALAR_VALUE && r[k].id == r[regno].id) return true;
    return false;
  };
  const bool dst_linked = ascalar && bscalar && has_copies(i.dst_reg);
  const bool src_linked = ascalar && bscalar && use_src && has_copies(i.src_reg);
  auto mark_linked_precise = [&](int regno) {
    const uint32_t id = r[regno].id;
    for (int k = 0; k < BPF_REG_10; ++k)
      if (base_type(r[k].type) == SCALAR_VALUE && r[k].id == id) mark_chain_precision(k);
  };
  if (dst_linked) mark_linked_precise(i.dst_reg);
  if (src_linked) mark_linked_precise(i.src_reg);
  if (dst_linked || src_linked) {
    a = r[i.dst_reg];
    if (use_src) b = r[i.src_reg];
  }
  verifier_state other = cur;  // the taken branch
  bpf_reg_state* ro = other.regs();
  if (ascalar && bscalar) {
    bpf_reg_state t1 = a, t2 = b, f1 = a, f2 = b;
    reg_set_min_max(t1, t2, f1, f2, o, jmp32);
    ro[i.dst_reg] = t1;
    r[i.dst_reg] = f1;
    if (use_src) {
      ro[i.src_reg] = t2;
      r[i.src_reg] = f2;
    }
    if (src_linked) {
      sync_linked_regs(other, t2);
      sync_linked_regs(cur, f2);
    }
    if (dst_linked) {
      sync_linked_regs(other, t1);
      sync_linked_regs(cur, f1);
    }
  } else if (!jmp32 && (o == BPF_JEQ || o == BPF_JNE)) {
    // null checks: `if rX == 0` / `if rX != 0` on a maybe-null pointer, against the
    // immediate 0 only (a register known to be 0 does not count, as in the kernel)
    const bool a_null_ptr = (a.type & PTR_MAYBE_NULL) && !use_src && i.imm == 0;
    const bpf_reg_state* p = a_null_ptr ? &a : nullptr;
    if (p && p->id) {
      const uint32_t id = p->id;
      // JEQ: taken means null; JNE: taken means not null
      mark_ptr_or_null_regs(other, id, o == BPF_JEQ);
      mark_ptr_or_null_regs(cur, id, o != BPF_JEQ);
    }
  }
  if (!push_stack(target, insn_idx, other)) return false;
  next = insn_idx + 1;
  return true;
}

// sync_linked_regs(): every copy (same id) of `known` in the current frame takes its value.
void verifier_env::sync_linked_regs(verifier_state& st, const bpf_reg_state& known) {
  bpf_reg_state* r = st.regs();
  for (int k = 0; k < BPF_REG_10; ++k)
    if (base_type(r[k].type) == SCALAR_VALUE && r[k].id == known.id) r[k] = known;
}

bool verifier_env::check_ld_imm(const insn& i) {
  bpf_reg_state& dst = regs()[i.dst_reg];
  if (i.dst_reg == BPF_REG_10) return fail("frame pointer is read only");
  const uint64_t imm = static_cast<uint32_t>(i.imm) |
                       (uint64_t{static_cast<uint32_t>(insns[insn_idx + 1].imm)} << 32);
  switch (i.src_reg) {
    case 0:
      mark_reg_known(dst, imm);
      return true;
    case BPF_PSEUDO_MAP_FD:
    case BPF_PSEUDO_MAP_IDX: {
      mark_reg_known(dst, 0);
      dst.type = CONST_PTR_TO_MAP;
      dst.map_ptr = map_at_ld_imm64(insn_idx, nullptr);
      return true;
    }
    case BPF_PSEUDO_MAP_VALUE:
    case BPF_PSEUDO_MAP_IDX_VALUE: {
      uint64_t off = 0;
      const bpf_map* m = map_at_ld_imm64(insn_idx, &off);
      if (!m) return fail("invalid access to map value pointer");
      mark_reg_known(dst, 0);
      dst.type = PTR_TO_MAP_VALUE;
      dst.map_ptr = m;
      dst.off = static_cast<int32_t>(off);
      return true;
    }
    case BPF_PSEUDO_BTF_ID: {
      const uint32_t id = static_cast<uint32_t>(i.imm);
      if (const ksym_var* v = rt.kfuncs().var_by_id(id)) {
        mark_reg_known(dst, 0);
        dst.type = PTR_TO_MEM | MEM_RDONLY;
        dst.mem_size = static_cast<uint32_t>(v->size);
      } else {
        mark_reg_unknown(dst);  // a kfunc's address (bpf_ksym_exists)
      }
      return true;
    }
    case BPF_PSEUDO_FUNC: {
      mark_reg_known(dst, 0);
      dst.type = PTR_TO_FUNC;
      dst.subprogno = static_cast<uint32_t>(subprog_of(insn_idx + i.imm + 1));
      return true;
    }
    default:
      return fail("unrecognized bpf_ld_imm64 insn");
  }
}

// ---- the loop -----------------------------------------------------------------------------

bool verifier_env::do_check_insn(bool& path_done) {
  const insn& i = insns[insn_idx];
  const uint8_t c = cls(i.code);
  bpf_reg_state* r = regs();
  path_done = false;
  int next = insn_idx + 1;
  switch (c) {
    case BPF_ALU:
    case BPF_ALU64:
      if (!check_alu_op(i)) return false;
      break;
    case BPF_LDX: {
      if (!check_reg_read(i.src_reg)) return false;
      if (i.dst_reg == BPF_REG_10) return fail("frame pointer is read only");
      if (!check_mem_access(i.src_reg, i.off, size_bytes(i.code), BPF_READ, i.dst_reg,
                            mode(i.code) == BPF_MEMSX))
        return false;
      break;
    }
    case BPF_STX: {
      if (!check_reg_read(i.src_reg) || !check_reg_read(i.dst_reg)) return false;
      if (mode(i.code) == BPF_ATOMIC) {
        const int size = size_bytes(i.code);
        if (base_type(r[i.src_reg].type) != SCALAR_VALUE)
          return fail("R{} leaks addr into mem", i.src_reg);
        if (!check_mem_access(i.dst_reg, i.off, size, BPF_READ, -1)) return false;
        if (!check_mem_access(i.dst_reg, i.off, size, BPF_WRITE, -1)) return false;
        if (i.imm == BPF_CMPXCHG) {
          if (!check_reg_read(BPF_REG_0)) return false;
          mark_reg_unknown(r[BPF_REG_0]);
          if (size == 4) coerce_reg_to_size(r[BPF_REG_0], 4);
        } else if (i.imm & BPF_FETCH) {
          mark_reg_unknown(r[i.src_reg]);
          if (size == 4) coerce_reg_to_size(r[i.src_reg], 4);
        }
        break;
      }
      if (!check_mem_access(i.dst_reg, i.off, size_bytes(i.code), BPF_WRITE, i.src_reg)) return false;
      break;
    }
    case BPF_ST: {
      if (!check_reg_read(i.dst_reg)) return false;
      if (!check_mem_access(i.dst_reg, i.off, size_bytes(i.code), BPF_WRITE, -1)) return false;
      break;
    }
    case BPF_LD:
      if (!is_ld_imm64(i)) return fail("unknown opcode {:02x}", i.code);
      if (!check_ld_imm(i)) return false;
      next = insn_idx + 2;
      break;
    case BPF_JMP:
    case BPF_JMP32: {
      const uint8_t o = op(i.code);
      if (o == BPF_CALL) {
        const bool ok = i.src_reg == BPF_PSEUDO_CALL        ? check_subprog_call(i)
                        : i.src_reg == BPF_PSEUDO_KFUNC_CALL ? check_kfunc_call(i)
                                                             : check_helper_call(i);
        if (!ok) return false;
        if (i.src_reg == BPF_PSEUDO_CALL) return true;  // insn_idx set to the callee
        break;
      }
      if (o == BPF_EXIT) {
        if (!check_exit()) return false;
        // returned to a caller: insn_idx set; or the path ended
        path_done = cur.frame[0] == nullptr || insn_idx < 0;
        return true;
      }
      if (o == BPF_JA) {
        next = insn_idx + 1 + (c == BPF_JMP32 ? i.imm : i.off);
        break;
      }
      ++jmps_processed_;
      if (!check_cond_jmp_op(i, next)) return false;
      break;
    }
    default:
      return fail("unknown insn class {}", c);
  }
  prev_insn_idx = insn_idx;
  insn_idx = next;
  return true;
}

bool verifier_env::do_check() {
  init_entry_state();
  insn_idx = 0;
  prev_insn_idx = 0;
  if (opts.log_level) log_line(fmt::format("0: {}", state_str(cur)));
  while (true) {
    if (++stats.insn_processed > BPF_COMPLEXITY_LIMIT_INSNS)
      return fail("BPF program is too large. Processed {} insn", stats.insn_processed);
    if (prune_point_[insn_idx] && is_state_visited(insn_idx)) {
      if (!pop_stack()) return true;
      continue;
    }
    if (failed()) return false;
    const int idx = insn_idx;
    bool path_done = false;
    acc_frame_ = -1;
    // the log: the instruction before what checking it prints, its effect after
    size_t insn_line_end = 0, insn_print_pos = 0;
    const uint32_t frame_before = cur.curframe;
    if (opts.log_level) {
      if (print_state_next_) {
        print_state_next_ = false;
        log_line(fmt::format("{}:{}", idx, frame_str(cur, cur.curframe, nullptr)));
      }
      if (static_cast<size_t>(idx) < opts.line_info.size() && !opts.line_info[idx].empty() &&
          opts.line_info[idx] != last_linfo_) {
        last_linfo_ = opts.line_info[idx];
        log_line("; " + last_linfo_);
      }
      const std::string line = fmt::format("{}: {}", idx, insn_str(idx));
      log_line(line);
      insn_line_end = log.size();
      insn_print_pos = line.size() + 1;
      log_slots_before_ = frame().stack;
    }
    const bool ok = do_check_insn(path_done);
    for (uint32_t f = 0; f <= cur.curframe; ++f)  // each subprogram's deepest stack use
      if (const func_state* fs = cur.frame[f].get())
        subprog_stack_depth_[fs->subprogno] =
            std::max(subprog_stack_depth_[fs->subprogno], static_cast<uint32_t>(fs->allocated_stack));
    if (ok && !path_done) cur.hist.push_back({idx, acc_frame_, acc_off_});
    if (opts.log_level && ok && !path_done && cur.curframe == frame_before)
      log_insn_state(idx, insn_line_end, insn_print_pos, log_slots_before_);
    if (!ok) return false;
    if (path_done) {
      if (!pop_stack()) return true;
    }
  }
}

// print_insn_state(): after an instruction, the registers it read or wrote and the stack
// slots it changed or read, on the instruction's line (aligned at column 40 or the next
// multiple of 8) unless something was printed in between.
void verifier_env::log_insn_state(int idx, size_t insn_line_end, size_t insn_print_pos,
                                  const std::array<stack_slot, nr_stack_slots>& slots_before) {
  const insn& x = insns[idx];
  const uint8_t c = cls(x.code);
  scratch_set sc;
  auto reg = [&](int r) { sc.regs |= 1u << r; };
  if (c == BPF_ALU || c == BPF_ALU64) {
    reg(x.dst_reg);
    if (src_bit(x.code) == BPF_X) reg(x.src_reg);
  } else if (c == BPF_LDX || c == BPF_STX) {
    reg(x.dst_reg);
    reg(x.src_reg);
    if (c == BPF_STX && mode(x.code) == BPF_ATOMIC && x.imm == (BPF_CMPXCHG)) reg(BPF_REG_0);
  } else if (c == BPF_ST || c == BPF_LD) {
    reg(x.dst_reg);
  } else if (c == BPF_JMP || c == BPF_JMP32) {
    const uint8_t o = op(x.code);
    if (o == BPF_CALL) {
      reg(BPF_REG_0);
    } else if (o != BPF_JA && o != BPF_EXIT) {
      reg(x.dst_reg);
      if (src_bit(x.code) == BPF_X) reg(x.src_reg);
    }
  }
  const func_state& f = frame();
  for (int k = 0; k < nr_stack_slots; ++k) {
    const stack_slot& a = slots_before[k];
    const stack_slot& b = f.stack[k];
    if (a.slot_type != b.slot_type || a.iter.state != b.iter.state || a.iter.depth != b.iter.depth ||
        (b.slot_type[0] == STACK_SPILL && std::memcmp(&a.spilled_ptr, &b.spilled_ptr, sizeof a.spilled_ptr)))
      sc.slots |= uint64_t{1} << k;
  }
  if (acc_frame_ == static_cast<int>(cur.curframe) && acc_off_ < 0)
    sc.slots |= uint64_t{1} << ((-acc_off_ - 1) / 8);
  log_precision_ = false;  // the kernel's 6.18 log shows no precision marks here
  const std::string st = frame_str(cur, cur.curframe, &sc);
  log_precision_ = true;
  if (log.size() == insn_line_end) {  // on the instruction's line
    log.pop_back();
    const size_t col = (std::max<size_t>(insn_print_pos + 4, 40) + 7) / 8 * 8;
    log += std::string(col - insn_print_pos - 1, ' ') + ";" + st + "\n";
  } else {
    log_line(fmt::format("{}:{}", idx, st));
  }
}

// check_max_stack_depth(): along every static call chain from the main program (bpf-to-bpf
// calls and callbacks), the frames' stacks, each the deepest its subprogram used on any path
// rounded up to 16 bytes (the kernel's round_up_stack_depth() for a JITed program), fit in
// 512 bytes together.
bool verifier_env::check_max_stack_depth() {
  const auto& starts = prog.subprog_starts;
  const int n = static_cast<int>(insns.size());
  // depth-first over the call graph; the decoder has ruled out recursion and deep chains
  auto visit = [&](auto& self, int sp, int frames, uint32_t depth) -> bool {
    depth += (subprog_stack_depth_[sp] + 15) / 16 * 16;
    if (depth > static_cast<uint32_t>(stack_size))
      return fail("combined stack size of {} calls is {}. Too large", frames, depth);
    const int end = sp + 1 < static_cast<int>(starts.size()) ? static_cast<int>(starts[sp + 1]) : n;
    for (int k = static_cast<int>(starts[sp]); k < end; ++k) {
      const insn& x = insns[k];
      if (is_pseudo_call(x) || is_pseudo_func(x)) {
        if (frames >= max_call_frames)
          return fail("the call stack of {} frames is too deep !", frames + 1);
        if (!self(self, subprog_of(k + x.imm + 1), frames + 1, depth)) return false;
      }
      if (is_ld_imm64(x)) ++k;
    }
    return true;
  };
  return visit(visit, 0, 1, 0);
}

verify_result verifier_env::run() {
  verify_result res;
  explored_.resize(insns.size());
  probe_mem_.assign(insns.size(), false);
  compute_liveness();
  subprog_stack_depth_.assign(prog.subprog_starts.size(), 0);
  bool ok = check_cfg() && do_check() && check_max_stack_depth();
  if (ok && failed()) ok = false;
  if (!ok && err.empty()) err = "verification failed";
  if (!ok && !err_logged_) log_line(err);
  if (ok && opts.log_level == 1) log.clear();  // level 1 keeps only the statistics on success
  log_line(fmt::format(
      "processed {} insns (limit {}) max_states_per_insn {} total_states {} peak_states {} "
      "mark_read 0",
      stats.insn_processed, BPF_COMPLEXITY_LIMIT_INSNS, stats.max_states_per_insn,
      stats.total_states, stats.peak_states));
  res.ok = ok;
  for (size_t k = 0; ok && k < probe_mem_.size(); ++k)
    if (probe_mem_[k]) res.probe_mem_insns.push_back(static_cast<uint32_t>(k));
  res.error = err;
  res.log = std::move(log);
  res.stats = stats;
  return res;
}

verify_result verify(const bpf_prog& prog, const verify_opts& opts) {
  verifier_env env(prog, opts);
  return env.run();
}

}  // namespace mmbpf::bpf::verifier
