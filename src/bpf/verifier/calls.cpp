// Calls (check_helper_call, check_kfunc_call, check_func_call, prepare_func_exit): argument
// types from helper prototypes (helper_protos.h) and from kfunc BTF prototypes in the kernel's
// BTF, callbacks, references acquired and released, bpf-to-bpf frames, and exit.
//
// Callbacks (bpf_loop, bpf_for_each_map_elem, kfunc callbacks such as cache_ext's iterate and
// sample) are verified once per call site as a call into the callback with its argument types,
// on a path of their own that ends at the callback's exit with its return value checked. The
// caller then continues as if the callback had run any number of times: the stack it could
// reach through its context argument is forgotten (data, not pointers). The kernel instead
// iterates the callback's effect to a fixed point; this is sound and rejects a little more.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "bpf/btf_handle.h"
#include "bpf/map.h"
#include "bpf/runtime.h"
#include "bpf/verifier/env.h"
#include "bpf/verifier/helper_protos.h"
#include "bpf/verifier/scalar.h"

namespace mmbpf::bpf::verifier {

namespace {

void clobber_caller_saved(verifier_env& env) {
  for (int r = BPF_REG_0; r <= BPF_REG_5; ++r) env.mark_reg_not_init(env.regs()[r]);
}

// Whether a struct holds scalars only (btf_type_is_scalar_struct): then a pointer to it is plain
// memory a program may pass from its stack or a map.
bool scalar_only(const btf_handle& btf, uint32_t id, int depth = 0) {
  id = btf.skip_mods_and_typedefs(id);
  const struct btf_type* t = btf.type(id);
  if (!t || depth > 8) return false;
  if (btf_is_array(t)) return scalar_only(btf, btf_array(t)->type, depth + 1);
  if (btf_is_struct(t) || btf_is_union(t)) {
    const struct btf_member* m = btf_members(t);
    for (uint16_t k = 0; k < btf_vlen(t); ++k)
      if (!scalar_only(btf, m[k].type, depth + 1)) return false;
    return true;
  }
  return btf_is_int(t) || btf_is_enum(t) || btf_is_enum64(t);
}

}  // namespace

// What a callback's caller can no longer rely on: the stack of frames the callback could
// write through a stack pointer it was given.
static void forget_stack_for_callback(verifier_state& st, const bpf_reg_state& ctx_arg) {
  if (base_type(ctx_arg.type) != PTR_TO_STACK) return;
  func_state& f = *st.frame[ctx_arg.frameno];
  for (auto& s : f.stack) {
    if (s.slot_type[0] == STACK_SPILL) {
      if (base_type(s.spilled_ptr.type) == SCALAR_VALUE) {
        s.slot_type.fill(STACK_MISC);
        s.spilled_ptr = bpf_reg_state{};
      }
      continue;  // spilled pointers: the callback cannot overwrite them without corrupting
    }
    for (auto& b : s.slot_type)
      if (b == STACK_ZERO) b = STACK_MISC;
  }
}

bool verifier_env::verify_callback(int subprog, const std::array<bpf_reg_state, 5>& args,
                                   int64_t ret_min, int64_t ret_max) {
  if (cur.curframe + 1 >= max_call_frames)
    return fail("the call stack of {} frames is too deep !", cur.curframe + 2);
  verifier_state cb = cur;
  // The callback's path ends at its exit, so it must release what it acquires there, and it
  // cannot release its caller's references (which a run of zero iterations would keep).
  cb.refs.clear();
  // The callback cannot reach its callers' registers, nor their stacks unless an argument
  // points there: forget them, so that its paths prune against each other across call sites
  // (the kernel's liveness does this).
  for (uint32_t k = 0; k <= cb.curframe; ++k) {
    func_state& caller = *cb.frame[k];
    for (auto& r : caller.regs) mark_reg_not_init(r);
    const bool reachable = std::any_of(args.begin(), args.end(), [&](const bpf_reg_state& a) {
      return base_type(a.type) == PTR_TO_STACK && a.frameno == k;
    });
    if (!reachable)
      for (auto& s : caller.stack) s = stack_slot{};
  }
  auto f = std::make_unique<func_state>();
  for (auto& r : f->regs) mark_reg_not_init(r);
  for (int k = 0; k < 5; ++k) f->regs[BPF_REG_1 + k] = args[k];
  f->frameno = cur.curframe + 1;
  f->callsite = insn_idx;
  f->subprogno = static_cast<uint32_t>(subprog);
  f->in_callback = true;
  f->callback_ret_min = ret_min;
  f->callback_ret_max = ret_max;
  bpf_reg_state& fp = f->regs[BPF_REG_10];
  mark_reg_known(fp, 0);
  fp.type = PTR_TO_STACK;
  fp.frameno = f->frameno;
  cb.frame[f->frameno] = std::move(f);
  cb.curframe = cb.frame[cb.curframe + 1]->frameno;
  return push_stack(static_cast<int>(prog.subprog_starts[subprog]), insn_idx, cb);
}

// ---- helpers -------------------------------------------------------------------------------

// The register types an argument accepts (struct bpf_reg_types), as check_reg_type() lists
// them in "R1 type=scalar expected=...".
static const char* expected_types(arg_type at) {
  switch (at) {
    case ARG_CONST_MAP_PTR: return "map_ptr";
    case ARG_PTR_TO_MAP_KEY:
    case ARG_PTR_TO_MAP_VALUE:
    case ARG_PTR_TO_MEM:
    case ARG_PTR_TO_UNINIT_MEM:  // mem_types
      return "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_";
    case ARG_CONST_SIZE:
    case ARG_CONST_SIZE_OR_ZERO:
    case ARG_CONST_ALLOC_SIZE_OR_ZERO: return "scalar";
    case ARG_PTR_TO_FUNC: return "func";
    case ARG_PTR_TO_STACK_OR_NULL: return "fp";
    case ARG_PTR_TO_SPIN_LOCK: return "map_value";
    case ARG_PTR_TO_RINGBUF_MEM: return "ringbuf_mem";
    default: return "?";
  }
}

// check_reg_type(): whether `type` is one of the types argument `at` accepts.
static bool reg_type_ok(arg_type at, uint32_t type) {
  switch (at) {
    case ARG_CONST_MAP_PTR: return type == CONST_PTR_TO_MAP;
    case ARG_PTR_TO_MEM:  // a read-only argument (MEM_RDONLY) takes read-only memory too
      type &= ~uint32_t{MEM_RDONLY};
      [[fallthrough]];
    case ARG_PTR_TO_MAP_KEY:
    case ARG_PTR_TO_MAP_VALUE:
    case ARG_PTR_TO_UNINIT_MEM:
      return type == PTR_TO_STACK || type == PTR_TO_MAP_KEY || type == PTR_TO_MAP_VALUE ||
             type == PTR_TO_MEM || type == (PTR_TO_MEM | MEM_RINGBUF) ||
             type == (PTR_TO_BTF_ID | PTR_TRUSTED);
    case ARG_CONST_SIZE:
    case ARG_CONST_SIZE_OR_ZERO:
    case ARG_CONST_ALLOC_SIZE_OR_ZERO: return type == SCALAR_VALUE;
    case ARG_PTR_TO_FUNC: return type == PTR_TO_FUNC;
    case ARG_PTR_TO_STACK_OR_NULL: return type == PTR_TO_STACK;
    case ARG_PTR_TO_SPIN_LOCK: return type == PTR_TO_MAP_VALUE;
    case ARG_PTR_TO_RINGBUF_MEM: return type == (PTR_TO_MEM | MEM_RINGBUF);
    default: return false;
  }
}

// register_is_null(): a scalar known to be zero.
static bool reg_is_null(const bpf_reg_state& r) {
  return base_type(r.type) == SCALAR_VALUE && tnum_equals_const(r.var_off, 0);
}

// The maps bpf_for_each_map_elem iterates (map_ops->map_for_each_callback).
static bool map_has_for_each(uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY: return true;
    default: return false;
  }
}

// check_mem_size_reg(): the size argument regno of the memory in regno - 1.
static bool check_mem_size_reg(verifier_env& env, int regno, bool zero_size_allowed, bpf_access_type t) {
  const bpf_reg_state& reg = env.regs()[regno];
  if (reg.smin_value < 0)
    return env.fail("R{} min value is negative, either use unsigned or 'var &= const'", regno);
  if (reg.umin_value == 0 && !zero_size_allowed)
    return env.fail("R{} invalid zero-sized read: u64=[{},{}]", regno, static_cast<int64_t>(reg.umin_value),
                static_cast<int64_t>(reg.umax_value));
  if (reg.umax_value >= (uint64_t{1} << 29))  // BPF_MAX_VAR_SIZ
    return env.fail("R{} unbounded memory access, use 'var &= const' or 'if (var < const)'", regno);
  if (!env.check_helper_mem_access(regno - 1, reg.umin_value, reg.umax_value, t, zero_size_allowed))
    return false;
  env.mark_chain_precision(regno);
  return true;
}

// get_constant_map_key(): the key an array lookup's key argument (on the stack) holds, if it is
// known — zero bytes (STACK_ZERO) or a spilled constant scalar that ends where the key does —
// else -1. Only whole 8-byte spills are tracked here, so a narrower constant spill (the kernel
// tracks 4-byte ones) is not a known key.
static int64_t constant_map_key(verifier_env& env, const bpf_reg_state& key, uint32_t key_size) {
  if (key.type != PTR_TO_STACK || !tnum_is_const(key.var_off)) return -1;
  const int64_t so = int64_t{key.off} + static_cast<int64_t>(key.var_off.value);
  if (so >= 0 || so < -stack_size) return -1;
  const int64_t spi = (-so - 1) / 8;
  const int64_t slot_end = -spi * 8;  // one past the slot's last byte
  const stack_slot& s = env.cur.frame[key.frameno]->stack[static_cast<size_t>(spi)];
  int64_t zero = 0;
  for (int64_t b = so; b < slot_end && s.slot_type[static_cast<size_t>(b - (slot_end - 8))] == STACK_ZERO; ++b) ++zero;
  if (zero >= key_size) return 0;
  if (s.slot_type[0] != STACK_SPILL || base_type(s.spilled_ptr.type) != SCALAR_VALUE) return -1;
  if (slot_end - so != key_size || !tnum_is_const(s.spilled_ptr.var_off)) return -1;
  if (key.frameno != env.cur.curframe) return -1;  // precision is marked in the current frame
  // the key's value decides the result's type: it must be compared exactly when pruning
  env.mark_chain_precision(-1, static_cast<int>(slot_end - 8));
  return static_cast<int64_t>(s.spilled_ptr.var_off.value);
}

bool verifier_env::check_helper_call(const insn& i) {
  const int id = i.imm;
  const func_proto* fp = helper_proto_of(id);
  if (!fp || !rt.helper(id)) return fail("invalid func unknown#{}", id);
  if (cur.active_lock && id != BPF_FUNC_spin_unlock)
    return fail("function calls are not allowed while holding a lock");
  bpf_reg_state* r = regs();
  // struct bpf_call_arg_meta
  const bpf_map* meta_map = nullptr;
  uint32_t ref_obj_id = 0;
  int release_regno = 0;
  int callback_subprog = -1;
  bpf_reg_state callback_ctx;
  uint64_t alloc_size = 0;
  int64_t const_map_key = -1;
  // check_func_arg()
  for (int a = 0; a < 5; ++a) {
    const arg_type at = fp->args[a];
    const int regno = BPF_REG_1 + a;
    if (at == ARG_DONTCARE) continue;
    if (!check_reg_read(regno)) return false;
    if (at == ARG_ANYTHING) continue;
    const bpf_reg_state& reg = r[regno];
    // check_reg_type(); a callback's context may be NULL
    const bool null_ok = at == ARG_PTR_TO_STACK_OR_NULL && reg_is_null(reg);
    if (!null_ok && !reg_type_ok(at, reg.type))
      return fail("R{} type={} expected={}", regno, type_str(reg.type), expected_types(at));
    // check_func_arg_reg_off(): a released pointer is the object's start
    if (at == ARG_PTR_TO_RINGBUF_MEM) {
      if (reg.off)
        return fail("R{} must have zero offset when passed to release func or trusted arg to kfunc", regno);
      if (!tnum_equals_const(reg.var_off, 0))
        return fail("variable {} access var_off={} disallowed", type_str(reg.type), tnum_str(reg.var_off));
      if (!reg.ref_obj_id) return fail("R{} must be referenced when passed to release function", regno);
      release_regno = regno;
    }
    if (reg.ref_obj_id) {
      if (ref_obj_id)
        return fail("more than one arg with ref_obj_id R{} {} {}", regno, reg.ref_obj_id, ref_obj_id);
      ref_obj_id = reg.ref_obj_id;
    }
    switch (at) {
      case ARG_CONST_MAP_PTR:
        meta_map = reg.map_ptr;
        break;
      case ARG_PTR_TO_MAP_KEY: {
        if (!meta_map) return fail("invalid map_ptr to access map->key");
        const uint32_t sz = meta_map->attr().key_size;
        if (!check_helper_mem_access(regno, sz, sz, BPF_READ, false)) return false;
        // can_elide_value_nullness(): a constant key of an array map
        if (meta_map->type() == BPF_MAP_TYPE_ARRAY || meta_map->type() == BPF_MAP_TYPE_PERCPU_ARRAY)
          const_map_key = constant_map_key(*this, reg, sz);
        break;
      }
      case ARG_PTR_TO_MAP_VALUE: {
        if (!meta_map) return fail("invalid map_ptr to access map->value");
        const uint32_t sz = meta_map->attr().value_size;
        if (!check_helper_mem_access(regno, sz, sz, BPF_READ, false)) return false;
        break;
      }
      case ARG_PTR_TO_MEM:
      case ARG_PTR_TO_UNINIT_MEM: {
        const arg_type next = a + 1 < 5 ? fp->args[a + 1] : ARG_DONTCARE;
        if (next != ARG_CONST_SIZE && next != ARG_CONST_SIZE_OR_ZERO) return fail("internal: mem without size");
        break;  // checked with its size, the next argument
      }
      case ARG_CONST_SIZE:
      case ARG_CONST_SIZE_OR_ZERO:
        if (!check_mem_size_reg(*this, regno, at == ARG_CONST_SIZE_OR_ZERO,
                                fp->args[a - 1] == ARG_PTR_TO_UNINIT_MEM ? BPF_WRITE : BPF_READ))
          return false;
        break;
      case ARG_CONST_ALLOC_SIZE_OR_ZERO:
        if (!tnum_is_const(reg.var_off)) return fail("R{} is not a known constant'", regno);
        alloc_size = reg.var_off.value;
        mark_chain_precision(regno);
        break;
      case ARG_PTR_TO_FUNC:
        callback_subprog = static_cast<int>(reg.subprogno);
        break;
      case ARG_PTR_TO_STACK_OR_NULL:
        callback_ctx = reg;
        break;
      case ARG_PTR_TO_SPIN_LOCK:
        if (!check_helper_mem_access(regno, 4, 4, BPF_WRITE, false)) return false;
        if (id == BPF_FUNC_spin_lock) {
          if (cur.active_lock) return fail("Locking two bpf_spin_locks are not allowed");
          cur.active_lock = true;
          cur.active_lock_id = reg.id;
        } else {
          if (!cur.active_lock) return fail("bpf_spin_unlock without taking a lock");
          cur.active_lock = false;
          cur.active_lock_id = 0;
        }
        break;
      case ARG_PTR_TO_RINGBUF_MEM:
        break;
      default:
        return fail("internal: unhandled argument type {}", static_cast<int>(at));
    }
  }
  if (release_regno && !release_reference(ref_obj_id))
    return fail("func {}#{} reference has not been acquired before", fp->name, id);
  // push_callback_call()
  if (callback_subprog >= 0) {
    std::array<bpf_reg_state, 5> args;
    for (auto& a : args) mark_reg_not_init(a);
    bool verify = true;
    if (fp->cb == CB_LOOP) {
      // set_loop_callback_state(): (index, ctx); the index is an unknown scalar. The callback
      // runs only if nr_loops may be non-zero, which the kernel decides on R1's precise value.
      mark_chain_precision(BPF_REG_1);
      verify = regs()[BPF_REG_1].umax_value > 0;
      mark_reg_unknown(args[0]);
      args[1] = callback_ctx;
    } else if (fp->cb == CB_FOR_EACH_MAP) {
      // set_map_elem_callback_state(): (map, key, value, ctx)
      if (!map_has_for_each(meta_map->type())) return fail("callback function not allowed for map");
      args[0] = regs()[BPF_REG_1];
      mark_reg_known(args[1], 0);
      args[1].type = PTR_TO_MAP_KEY;
      args[1].map_ptr = meta_map;
      mark_reg_known(args[2], 0);
      args[2].type = PTR_TO_MAP_VALUE;
      args[2].map_ptr = meta_map;
      args[3] = callback_ctx;
    }
    if (verify) {
      if (!verify_callback(callback_subprog, args, 0, 1)) return false;
      forget_stack_for_callback(cur, callback_ctx);
    }
  }
  clobber_caller_saved(*this);
  bpf_reg_state& r0 = regs()[BPF_REG_0];
  switch (fp->ret) {
    case RET_INTEGER:
      mark_reg_unknown(r0);
      break;
    case RET_VOID:
      mark_reg_not_init(r0);
      break;
    case RET_PTR_TO_MAP_VALUE_OR_NULL:
      mark_reg_known(r0, 0);
      r0.type = PTR_TO_MAP_VALUE | PTR_MAYBE_NULL;
      r0.map_ptr = meta_map;
      // an array lookup with a constant key below max_entries cannot fail
      if (id == BPF_FUNC_map_lookup_elem && const_map_key >= 0 &&
          static_cast<uint64_t>(const_map_key) < meta_map->attr().max_entries)
        r0.type = PTR_TO_MAP_VALUE;
      else
        r0.id = new_id();
      break;
    case RET_PTR_TO_RINGBUF_MEM_OR_NULL:
      mark_reg_known(r0, 0);
      r0.type = PTR_TO_MEM | MEM_RINGBUF | PTR_MAYBE_NULL;
      r0.mem_size = static_cast<uint32_t>(alloc_size);
      (void)new_id();  // the maybe-null id, replaced by the reference's (is_acquire_function)
      r0.ref_obj_id = acquire_reference(insn_idx);
      r0.id = r0.ref_obj_id;
      break;
  }
  // check_map_func_compatibility(): ring buffers go with the ringbuf helpers only
  if (meta_map) {
    const bool rb_map = meta_map->type() == BPF_MAP_TYPE_RINGBUF;
    const bool rb_func = id == BPF_FUNC_ringbuf_output || id == BPF_FUNC_ringbuf_reserve ||
                         id == BPF_FUNC_ringbuf_query;
    if (rb_map != rb_func)
      return fail("cannot pass map_type {} into func {}#{}", meta_map->type(), fp->name, id);
  }
  return true;
}

// ---- kfuncs --------------------------------------------------------------------------------

bool verifier_env::check_kfunc_call(const insn& i) {
  const kfunc_desc* k = rt.kfuncs().by_id(static_cast<uint32_t>(i.imm));
  if (!k) return fail("calling kernel function is not allowed");
  if (k->name == unresolved_weak_kfunc || k->name == core_poison_kfunc)
    return fail("invalid func unknown#{}", 195896080);
  if (k->filter && !k->filter(opts.ctx.k == prog_context::kind::struct_ops ? opts.ctx.name : ""))
    return fail("calling kernel function {} is not allowed", k->name);
  if ((k->flags & KF_SLEEPABLE) && !opts.ctx.sleepable)
    return fail("program must be sleepable to call sleepable kfunc {}", k->name);
  if (cur.active_lock) return fail("function calls are not allowed while holding a lock");
  bool rcu_handled = false;
  if (!check_rcu_kfunc(*k, rcu_handled)) return false;
  const bool is_iter_kfunc = k->flags & (KF_ITER_NEW | KF_ITER_NEXT | KF_ITER_DESTROY);
  const uint32_t fid = kbtf.find(k->name, BTF_KIND_FUNC);
  const struct btf_type* ft = fid ? kbtf.type(fid) : nullptr;
  const struct btf_type* proto = ft ? kbtf.type(ft->type) : nullptr;
  if (!proto || !btf_is_func_proto(proto))
    return fail("kernel function {} has no BTF prototype", k->name);
  const uint16_t nargs = btf_vlen(proto);
  const struct btf_param* params = btf_params(proto);
  bpf_reg_state* r = regs();
  uint32_t release_ref = 0;
  struct pending_cb {
    int subprog;
    uint32_t proto;
  };
  std::vector<pending_cb> cbs;
  for (uint16_t a = 0; a < nargs && a < 5; ++a) {
    const int regno = BPF_REG_1 + a;
    if (!check_reg_read(regno)) return false;
    const bpf_reg_state& reg = r[regno];
    const uint32_t tid = kbtf.skip_mods_and_typedefs(params[a].type);
    const struct btf_type* t = kbtf.type(tid);
    const std::string_view pname = kbtf.str(params[a].name_off);
    if (!t || !btf_is_ptr(t)) {  // a scalar argument
      if (base_type(reg.type) != SCALAR_VALUE)
        return fail("R{} is not a scalar", regno);
      continue;
    }
    const bool nullable = pname.ends_with("__nullable");
    if (a == 0 && is_iter_kfunc) {  // the iterator (KF_ITER_*: its first argument)
      if (!process_iter_arg(regno, *k, kbtf.skip_mods_and_typedefs(t->type))) return false;
      continue;
    }
    if (base_type(reg.type) == SCALAR_VALUE && tnum_equals_const(reg.var_off, 0)) {
      if (nullable) continue;
      return fail("Possibly NULL pointer passed to trusted arg{}", a);
    }
    const uint32_t pt = kbtf.skip_mods_and_typedefs(t->type);
    const struct btf_type* p = kbtf.type(pt);
    if (p && btf_is_func_proto(p)) {  // a callback
      if (base_type(reg.type) != PTR_TO_FUNC) return fail("arg#{} expected pointer to func", a);
      cbs.push_back({static_cast<int>(reg.subprogno), pt});
      continue;
    }
    if (reg.type & PTR_MAYBE_NULL) {
      if (!nullable) return fail("Possibly NULL pointer passed to trusted arg{}", a);
    }
    if (pname.ends_with("__str")) {  // KF_ARG_PTR_TO_CONST_STR: check_reg_const_str()
      if (reg.type != PTR_TO_MAP_VALUE) return fail("arg#{} doesn't point to a const string", a);
      const bpf_map* map = reg.map_ptr;
      // bpf_map_is_rdonly(): BPF_F_RDONLY_PROG and frozen; a .rodata map is frozen at load
      if (!(map->attr().map_flags & BPF_F_RDONLY_PROG))
        return fail("R{} does not point to a readonly map'", regno);
      if (!tnum_is_const(reg.var_off)) return fail("R{} is not a constant address'", regno);
      // map_direct_value_addr(): arrays of one element (global data) only
      if (map->attr().map_type != BPF_MAP_TYPE_ARRAY || map->attr().max_entries != 1)
        return fail("no direct value access support for this map type");
      const uint32_t value_size = map->attr().value_size;
      if (reg.off < 0 || static_cast<uint32_t>(reg.off) >= value_size)
        return fail("invalid access to map value, value_size={} off={} size={}", value_size,
                    reg.off, static_cast<int64_t>(value_size) - reg.off);
      const uint64_t map_off = static_cast<uint64_t>(reg.off) + reg.var_off.value;
      const uint32_t key = 0;
      const auto* data = static_cast<const char*>(const_cast<bpf_map*>(map)->lookup_elem(&key));
      if (!data || map_off >= value_size) return fail("direct value access on string failed");
      if (!std::memchr(data + map_off, 0, value_size - map_off))
        return fail("string is not zero-terminated");
      continue;
    }
    if (base_type(reg.type) == PTR_TO_BTF_ID) {
      // btf_struct_ids_match(): the type itself, or (not for a release) the struct that
      // starts it, member 0 at offset 0 and so on down ("&memcg->css", "&cgrp->self")
      uint32_t have = reg.btf_id;
      if (!(k->flags & KF_RELEASE) && reg.off == 0 && p)
        for (int depth = 0; depth < 8 && kbtf.name(have) != kbtf.name(pt); ++depth) {
          const struct btf_type* ht = kbtf.type(have);
          if (!ht || !btf_is_struct(ht) || !btf_vlen(ht) || btf_member_bit_offset(ht, 0)) break;
          have = kbtf.skip_mods_and_typedefs(btf_members(ht)[0].type);
        }
      if (!p || kbtf.name(pt) != kbtf.name(have))
        return fail("kernel function {} args#{} expected pointer to STRUCT {} but R{} has a pointer to STRUCT {}",
                    k->name, a, p ? kbtf.name(pt) : "?", regno, kbtf.name(reg.btf_id));
      if ((k->flags & KF_TRUSTED_ARGS) && (reg.type & PTR_UNTRUSTED))
        return fail("R{} must be referenced or trusted", regno);
      if (reg.off) return fail("R{} must have zero offset when passed to kernel function", regno);
      if (k->flags & KF_RELEASE) release_ref = reg.ref_obj_id;
      continue;
    }
    // a kernel object (a struct with pointers in it) must come as one (KF_ARG_PTR_TO_BTF_ID)
    if (p && (btf_is_struct(p) || btf_is_union(p)) && !scalar_only(kbtf, pt))
      return fail("arg#{} pointer type {} {} must point to scalar, or struct with scalar", a,
                  btf_is_union(p) ? "UNION" : "STRUCT", kbtf.name(pt));
    // memory of the pointee's size (a struct of scalars, a scalar), or of an __sz argument
    uint64_t size = 0;
    if (a + 1 < nargs && kbtf.str(params[a + 1].name_off).ends_with("__sz")) {
      const bpf_reg_state& s = r[regno + 1];
      if (base_type(s.type) != SCALAR_VALUE) return fail("R{} is not a scalar", regno + 1);
      mark_chain_precision(regno + 1);
      size = s.umax_value;
    } else {
      auto sz = kbtf.size_of(pt);
      if (!sz) return fail("arg#{} pointer type {} must point to scalar, or struct with scalar", a, kbtf.name(pt));
      size = *sz;
    }
    if (!check_helper_mem_access(regno, size, size, BPF_READ, false)) return false;
    if (!check_helper_mem_access(regno, size, size, BPF_WRITE, false)) return false;
  }
  if (k->flags & KF_RELEASE) {
    if (!release_ref || !release_reference(release_ref))
      return fail("release kernel function {} expects refcounted PTR_TO_BTF_ID", k->name);
  }
  for (const pending_cb& cb : cbs) {
    const struct btf_type* cp = kbtf.type(cb.proto);
    std::array<bpf_reg_state, 5> args;
    for (auto& a : args) mark_reg_not_init(a);
    const struct btf_param* cparams = btf_params(cp);
    for (uint16_t a = 0; a < btf_vlen(cp) && a < 5; ++a) {
      const uint32_t at = kbtf.skip_mods_and_typedefs(cparams[a].type);
      const struct btf_type* t = kbtf.type(at);
      mark_reg_known(args[a], 0);
      if (t && btf_is_ptr(t)) {
        const uint32_t pt = kbtf.skip_mods_and_typedefs(t->type);
        const struct btf_type* p = kbtf.type(pt);
        if (p && (btf_is_struct(p) || btf_is_union(p))) {
          args[a].type = PTR_TO_BTF_ID | PTR_TRUSTED;
          args[a].btf_id = pt;
          continue;
        }
      }
      mark_reg_unknown(args[a]);
      if (auto sz = kbtf.size_of(at); sz && *sz < 8) coerce_reg_to_size(args[a], static_cast<int>(*sz));
    }
    if (!verify_callback(cb.subprog, args, INT64_MIN, INT64_MAX)) return false;
  }
  clobber_caller_saved(*this);
  bpf_reg_state& r0 = regs()[BPF_REG_0];
  const uint32_t rt_id = kbtf.skip_mods_and_typedefs(proto->type);
  const struct btf_type* rtt = kbtf.type(rt_id);
  if (!rt_id) {
    mark_reg_not_init(r0);
  } else if (rtt && btf_is_ptr(rtt)) {
    const uint32_t pt = kbtf.skip_mods_and_typedefs(rtt->type);
    const struct btf_type* ptt = kbtf.type(pt);
    mark_reg_known(r0, 0);
    if (ptt && (btf_is_struct(ptt) || btf_is_union(ptt))) {
      r0.type = PTR_TO_BTF_ID | PTR_TRUSTED;
      r0.btf_id = pt;
    } else {  // a pointer to a scalar: read-only memory of its size
      auto sz = kbtf.size_of(pt);
      if (!sz || !*sz)
        return fail("kernel function {} returns pointer type {} {} is not supported", k->name,
                    ptt && btf_is_int(ptt) ? "INT" : "STRUCT", kbtf.name(pt));
      r0.type = PTR_TO_MEM | MEM_RDONLY;
      r0.mem_size = static_cast<uint32_t>(*sz);
    }
    if (k->flags & KF_RET_NULL) r0.type |= PTR_MAYBE_NULL;
    if (k->flags & KF_ACQUIRE) {  // the null check's id is the reference's
      r0.ref_obj_id = r0.id = acquire_reference(insn_idx);
    } else if (k->flags & KF_RET_NULL) {
      r0.id = new_id();
    }
  } else {
    mark_reg_unknown(r0);  // whatever its width (the kernel assumes nothing of the upper bits)
  }
  if (k->flags & KF_ITER_NEXT) return process_iter_next_call(BPF_REG_1);
  (void)rcu_handled;
  return true;
}

// ---- bpf-to-bpf calls and exit ---------------------------------------------------------------

bool verifier_env::check_subprog_call(const insn& i) {
  if (cur.curframe + 1 >= max_call_frames)
    return fail("the call stack of {} frames is too deep !", cur.curframe + 2);
  if (cur.active_lock) return fail("function calls are not allowed while holding a lock");
  const int target = insn_idx + i.imm + 1;
  auto f = std::make_unique<func_state>();
  for (auto& r : f->regs) mark_reg_not_init(r);
  for (int k = BPF_REG_1; k <= BPF_REG_5; ++k) f->regs[k] = regs()[k];
  f->frameno = cur.curframe + 1;
  f->callsite = insn_idx;
  f->subprogno = static_cast<uint32_t>(subprog_of(target));
  bpf_reg_state& fp = f->regs[BPF_REG_10];
  mark_reg_known(fp, 0);
  fp.type = PTR_TO_STACK;
  fp.frameno = f->frameno;
  clobber_caller_saved(*this);
  cur.frame[f->frameno] = std::move(f);
  ++cur.curframe;
  prev_insn_idx = insn_idx;
  insn_idx = target;
  if (opts.log_level) {  // check_func_call()'s log: both frames, then the callee's first state
    log_line("caller:");
    log_line(frame_str(cur, cur.curframe - 1, nullptr));
    log_line("callee:");
    log_line(frame_str(cur, cur.curframe, nullptr));
    print_state_next_ = true;
  }
  return true;
}

// BPF_EXIT: from a subprogram back to its caller (prepare_func_exit), from a callback to the end
// of its path, from the main program to the end of the path (check_return_code and leaks).
bool verifier_env::check_exit() {
  func_state& f = frame();
  if (cur.curframe == 0) {
    // check_resource_leak(): the main program ends holding no lock and no reference
    if (cur.active_lock)
      return fail("BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region");
    if (!cur.refs.empty()) {  // check_reference_leak() names each, check_resource_leak() sums up
      for (const ref_state& r : cur.refs)
        log_line(fmt::format("Unreleased reference id={} alloc_insn={}", r.id, r.insn_idx));
      return fail("BPF_EXIT instruction in main prog would lead to reference leak");
    }
    if (cur.active_rcu_lock)
      return fail("BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region");
    // check_return_code()
    if (!returns_void() && !check_reg_read(BPF_REG_0)) return false;
    insn_idx = -1;  // this path is done
    return true;
  }
  // prepare_func_exit(): R0 need not be set (the caller cannot read it then)
  const bpf_reg_state r0 = regs()[BPF_REG_0];
  if (base_type(r0.type) == PTR_TO_STACK) return fail("cannot return stack pointer to the caller");
  if (f.in_callback) {
    // mmbpf ends the callback's path here, so the lock it took would be lost
    if (cur.active_lock) return fail("bpf_spin_unlock is missing");
    if (base_type(r0.type) != SCALAR_VALUE) return fail("R0 not a scalar value");
    if (f.callback_ret_min != INT64_MIN || f.callback_ret_max != INT64_MAX) {
      mark_chain_precision(BPF_REG_0);
      if (r0.smin_value < f.callback_ret_min || r0.smax_value > f.callback_ret_max) {
        // verbose_invalid_scalar()
        std::string has;
        if (r0.smin_value > INT64_MIN) has += fmt::format(" smin={}", r0.smin_value);
        if (r0.smax_value < INT64_MAX) has += fmt::format(" smax={}", r0.smax_value);
        if (has.empty()) has = " unknown scalar value";
        return fail("At callback return the register R0 has{} should have been in [{}, {}]", has,
                    f.callback_ret_min, f.callback_ret_max);
      }
    }
    if (!cur.refs.empty()) {  // reported at the main program's exit by the kernel
      for (size_t k = 0; k + 1 < cur.refs.size(); ++k)
        log_line(fmt::format("Unreleased reference id={} alloc_insn={}", cur.refs[k].id, cur.refs[k].insn_idx));
      return fail("Unreleased reference id={} alloc_insn={}", cur.refs.back().id, cur.refs.back().insn_idx);
    }
    insn_idx = -1;  // this path is done
    return true;
  }
  // back to the caller: its r0 is the callee's; its r1-r5 were clobbered at the call
  const int callsite = f.callsite;
  if (opts.log_level) {
    log_line("returning from callee:");
    log_line(frame_str(cur, cur.curframe, nullptr));
  }
  cur.frame[cur.curframe].reset();
  --cur.curframe;
  regs()[BPF_REG_0] = r0;
  prev_insn_idx = insn_idx;
  insn_idx = callsite + 1;
  if (opts.log_level) {
    log_line(fmt::format("to caller at {}:", insn_idx));
    log_line(frame_str(cur, cur.curframe, nullptr));
  }
  return true;
}

}  // namespace mmbpf::bpf::verifier
