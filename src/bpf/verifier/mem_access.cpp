// Memory access checks (check_mem_access and its per-type parts): the stack with spills and
// fills, map values, the program's context, helper-returned memory, and kernel objects through
// BTF (btf_struct_access), for loads, stores and helper memory arguments.
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "bpf/btf_handle.h"
#include "bpf/map.h"
#include "bpf/verifier/env.h"
#include "bpf/verifier/scalar.h"

namespace mmbpf::bpf::verifier {

namespace {

bool var_off_const(const bpf_reg_state& r) { return tnum_is_const(r.var_off); }

// The kernel object field at byte `off` of struct `id` (btf_struct_walk): on success the
// type of the member found (0 for a scalar), and whether it is a pointer member read whole.
struct walk_result {
  bool ok = false;
  bool pointer = false;
  uint32_t pointee_struct = 0;  // for a pointer to a struct
  uint32_t outer_struct = 0;    // the struct whose member it is
  std::string_view field;       // that member's name
  std::string err;
};

// BTF_TYPE_SAFE_TRUSTED / _TRUSTED_OR_NULL (kernel/bpf/verifier.c), plus the BPF OOM series'
// oom_control.memcg ("mark struct oom_control's memcg field as TRUSTED_OR_NULL"): pointer
// fields a trusted pointer's load keeps trusted. Every other pointer read from a kernel object
// is untrusted (readable, faults read as zero).
struct trusted_field {
  std::string_view type, field;
  bool or_null;
};
constexpr trusted_field trusted_fields[] = {
    {"oom_control", "memcg", true},
    {"task_struct", "group_leader", false},
};

walk_result btf_struct_walk(const btf_handle& btf, uint32_t id, uint32_t off, uint32_t size) {
  walk_result r;
  for (int depth = 0; depth < 32; ++depth) {
    id = btf.skip_mods_and_typedefs(id);
    const struct btf_type* t = btf.type(id);
    if (!t) {
      r.err = "invalid BTF type";
      return r;
    }
    if (btf_is_array(t)) {
      const struct btf_array* a = btf_array(t);
      auto esz = btf.size_of(a->type);
      if (!esz || !*esz) {
        r.err = "array of unknown size";
        return r;
      }
      if (off >= *esz * a->nelems) {
        r.err = "array access out of bounds";
        return r;
      }
      off %= *esz;
      id = a->type;
      continue;
    }
    if (!btf_is_struct(t) && !btf_is_union(t)) {
      // a scalar (or an enum): the access must stay inside it
      auto sz = btf.size_of(id);
      if (!sz || off + size > *sz) {
        r.err = "access crosses a field";
        return r;
      }
      if (btf_is_ptr(t)) {
        if (off != 0 || size != 8) {
          r.err = "partial read of a pointer";
          return r;
        }
        r.pointer = true;
        const uint32_t pt = btf.skip_mods_and_typedefs(t->type);
        const struct btf_type* p = btf.type(pt);
        if (p && (btf_is_struct(p) || btf_is_union(p))) r.pointee_struct = pt;
      }
      r.ok = true;
      return r;
    }
    if (off + size > t->size) {
      r.err = fmt::format("access beyond struct {} at off {} size {}", btf.name(id), off, size);
      return r;
    }
    const struct btf_member* m = btf_members(t);
    bool found = false;
    for (uint16_t k = 0; k < btf_vlen(t); ++k) {
      const uint32_t moff = btf_member_bit_offset(t, k) / 8;
      auto msz = btf.size_of(m[k].type);
      if (!msz) continue;
      if (off >= moff && off + size <= moff + *msz) {
        off -= moff;
        r.outer_struct = id;
        r.field = btf.str(m[k].name_off);
        id = m[k].type;
        found = true;
        break;
      }
    }
    if (!found) {
      r.err = fmt::format("access to struct {} at off {} size {} is not to one field", btf.name(id), off, size);
      return r;
    }
  }
  r.err = "type nesting too deep";
  return r;
}

}  // namespace

// ---- the stack ------------------------------------------------------------------------------

// The frame a PTR_TO_STACK register points into, and the byte offset checked against
// [-MAX_BPF_STACK, 0).
bool verifier_env::check_stack_range_initialized(int regno, int off, int size, bool write) {
  (void)write;
  const bpf_reg_state& reg = regs()[regno];
  if (!var_off_const(reg))
    return fail("R{} variable stack access var_off={} disallowed", regno, tnum_str(reg.var_off));
  const int64_t start = int64_t{reg.off} + static_cast<int64_t>(reg.var_off.value) + off;
  if (start < -stack_size || start + size > 0)
    return fail("invalid indirect access to stack R{} off={} size={}", regno, start, size);
  return true;  // privileged: uninitialized stack may be read (allow_uninit_stack)
}

namespace {

inline constexpr int64_t BPF_MAX_VAR_OFF = int64_t{1} << 29;

// The bytes [lo, lo+size) of a frame's stack, as slots and byte indices. slot_type[0] is a
// slot's lowest byte, the kernel's slot_type[BPF_REG_SIZE - 1].
inline stack_slot& slot_of(func_state& f, int64_t byte_off) {
  return f.stack[static_cast<size_t>((-byte_off - 1) / 8)];
}
inline int byte_in_slot(int64_t byte_off) {
  const int64_t k = (-byte_off - 1) / 8;
  return static_cast<int>(byte_off + (k + 1) * 8);
}

// is_spilled_reg(), is_spilled_scalar_reg()
inline bool is_spilled_reg(const stack_slot& s) { return s.slot_type[0] == STACK_SPILL; }
inline bool is_spilled_scalar_reg(const stack_slot& s) {
  return is_spilled_reg(s) && base_type(s.spilled_ptr.type) == SCALAR_VALUE;
}
// is_stack_slot_special(): a spill or an iterator, which a data write scrubs whole.
inline bool is_stack_slot_special(const stack_slot& s) {
  return s.slot_type[0] == STACK_SPILL || s.slot_type[0] == STACK_ITER;
}
// scrub_spilled_slot()
inline void scrub_spilled_slot(uint8_t& t) {
  if (t != STACK_INVALID) t = STACK_MISC;
}
// get_reg_width(): the bits a scalar's value needs.
inline int get_reg_width(const bpf_reg_state& r) { return r.umax_value ? 64 - __builtin_clzll(r.umax_value) : 0; }
// register_is_null()
inline bool register_is_null(const bpf_reg_state& r) {
  return base_type(r.type) == SCALAR_VALUE && tnum_equals_const(r.var_off, 0);
}

// save_register_state(): reg spilled into the lowest `size` bytes of the slot; the rest keeps
// zero and uninitialized bytes (privileged), anything else becomes data.
//
// Unlike the kernel, a narrow spill keeps only what the slot's spilled bytes hold: the low
// `size` bytes of the value, the upper ones unknown, and no id. A fill of at most `size` bytes
// (all the kernel takes from a narrow spill) is the same; but pruning, which compares the
// spilled registers only, then never takes a narrow spill for an 8-byte one of the same value
// (whose 8-byte fill is exact where the narrow one's is unknown).
void save_register_state(stack_slot& s, const bpf_reg_state& reg, int size) {
  s.spilled_ptr = reg;
  if (size < 8 && base_type(reg.type) == SCALAR_VALUE) {
    bpf_reg_state& w = s.spilled_ptr;
    const uint64_t low = (uint64_t{1} << (size * 8)) - 1;
    const tnum t = reg.var_off;
    mark_reg_unbounded(w);
    w.var_off = tnum{t.value & low, (t.mask & low) | ~low};
    if (size == 4) {
      w.u32_min_value = reg.u32_min_value, w.u32_max_value = reg.u32_max_value;
      w.s32_min_value = reg.s32_min_value, w.s32_max_value = reg.s32_max_value;
    }
    reg_bounds_sync(w);
    w.id = 0;
  }
  for (int b = 0; b < 8; ++b) {
    if (b < size) {
      s.slot_type[b] = STACK_SPILL;
    } else if (s.slot_type[b] != STACK_ZERO && s.slot_type[b] != STACK_INVALID) {
      s.slot_type[b] = STACK_MISC;  // mark_stack_slot_misc()
    }
  }
}

// The kernel's name of the struct behind a map (its ops->map_btf_id), for CONST_PTR_TO_MAP.
const char* map_struct_name(uint32_t map_type) {
  switch (map_type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      return "bpf_array";
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      return "bpf_htab";
    case BPF_MAP_TYPE_RINGBUF:
      return "bpf_ringbuf_map";
    default:
      return "bpf_map";
  }
}

}  // namespace

// ---- check_mem_access ---------------------------------------------------------------------------

bool verifier_env::check_mem_access(int regno, int off, int size, bpf_access_type t,
                                    int value_regno, bool sign_ext) {
  bpf_reg_state* r = regs();
  const bpf_reg_state reg = r[regno];
  const uint32_t bt = base_type(reg.type);
  const bool write = t == BPF_WRITE;
  const insn& cur_insn = insns[insn_idx];
  const bool atomic = cls(cur_insn.code) == BPF_STX && mode(cur_insn.code) == BPF_ATOMIC;
  // The value a load produces: an unknown scalar unless a case sets it; narrowed to `size`
  // bytes at the end, as every scalar load is.
  auto load_scalar = [&](bool known_zero = false) {
    if (value_regno < 0) return;
    bpf_reg_state& v = r[value_regno];
    if (known_zero)
      mark_reg_known(v, 0);
    else
      mark_reg_unknown(v);
  };
  // check_ptr_alignment(): stack accesses are always strict (the spill tracking relies on
  // it), the others only for atomics (strict_alignment_once): the kernel here has efficient
  // unaligned access.
  {
    const char* desc = "";
    bool strict = atomic;
    if (!type_flags(reg.type)) {
      switch (bt) {
        case PTR_TO_MAP_KEY: desc = "key "; break;
        case PTR_TO_MAP_VALUE: desc = "value "; break;
        case PTR_TO_CTX: desc = "context "; break;
        case PTR_TO_STACK: desc = "stack "; strict = true; break;
        default: break;
      }
    }
    // check_generic_ptr_alignment()
    if (strict && size != 1 &&
        !tnum_is_aligned(tnum_add(reg.var_off, tnum_const(static_cast<uint64_t>(int64_t{reg.off} + off))),
                         static_cast<uint64_t>(size)))
      return fail("misaligned {}access off {}+{}+{} size {}", desc,
                  var_off_const(reg) ? std::to_string(static_cast<int64_t>(reg.var_off.value)) : tnum_str(reg.var_off),
                  reg.off, off, size);
  }
  if (reg.type & PTR_MAYBE_NULL || bt == SCALAR_VALUE || bt == NOT_INIT || bt == PTR_TO_FUNC)
    return fail("R{} invalid mem access '{}'", regno, type_str(reg.type));
  // for the access checks, reg.off is part of the offset
  const int64_t o = int64_t{reg.off} + off;

  // check_mem_region_access(): [o, o+size) plus the variable offset inside limit bytes.
  auto check_mem_region = [&](const char* what, const char* limit_name, uint32_t limit) -> bool {
    // __check_mem_access()
    auto in_range = [&](int64_t at) { return at >= 0 && at + size <= int64_t{limit}; };
    auto range_err = [&](int64_t at) {
      return fmt::format("invalid access to {}, {}={} off={} size={}", what, limit_name, limit,
                         static_cast<int32_t>(at), size);
    };
    if (reg.smin_value < 0 &&
        (reg.smin_value == std::numeric_limits<int64_t>::min() ||
         o + reg.smin_value != static_cast<int64_t>(static_cast<int32_t>(o + reg.smin_value)) ||
         reg.smin_value + o < 0))
      return fail("R{} min value is negative, either use unsigned index or do a if (index >=0) check.", regno);
    // A constant offset out of range: the kernel prints this line, then "R%d min value is
    // outside of the allowed memory range"; the first says more.
    if (!in_range(reg.smin_value + o)) {
      if (var_off_const(reg)) return fail("{}", range_err(reg.smin_value + o));
      return fail("R{} min value is outside of the allowed memory range", regno);
    }
    if (reg.umax_value >= static_cast<uint64_t>(BPF_MAX_VAR_OFF))
      return fail("R{} unbounded memory access, make sure to bounds check any such access", regno);
    if (!in_range(static_cast<int64_t>(reg.umax_value) + o)) {
      if (var_off_const(reg)) return fail("{}", range_err(static_cast<int64_t>(reg.umax_value) + o));
      return fail("R{} max value is outside of the allowed memory range", regno);
    }
    return true;
  };

  const bool ok = [&]() -> bool {
  switch (bt) {
    case PTR_TO_STACK: {
      // check_stack_access_within_bounds()
      const char* dir = write ? " write to" : " read from";
      const bool var = !var_off_const(reg);
      int64_t min_off, max_off;
      if (!var) {
        min_off = static_cast<int64_t>(reg.var_off.value) + o;
        max_off = min_off + size;
      } else {
        if (reg.smax_value >= BPF_MAX_VAR_OFF || reg.smin_value <= -BPF_MAX_VAR_OFF)
          return fail("invalid unbounded variable-offset{} stack R{}", dir, regno);
        min_off = reg.smin_value + o;
        max_off = reg.smax_value + o + size;
      }
      // check_stack_slot_within_bounds(): privileged, uninitialized stack may be read
      if (min_off < -stack_size || min_off > -1 || max_off > 0) {
        if (!var) return fail("invalid{} stack R{} off={} size={}", dir, regno, o, size);
        return fail("invalid variable-offset{} stack R{} var_off={} off={} size={}", dir, regno,
                    tnum_str(reg.var_off), o, size);
      }
      func_state& f = *cur.frame[reg.frameno];
      f.allocated_stack = std::max<int>(f.allocated_stack, static_cast<int>(-min_off));  // grow_stack_state()
      int total = 0;
      // frames rounded to 16 bytes, as the kernel does when the JIT is requested (x86-64)
      for (uint32_t k = 0; k <= cur.curframe; ++k) total += (cur.frame[k]->allocated_stack + 15) / 16 * 16;
      if (total > stack_size) return fail("combined stack size of {} calls is {}. Too large", cur.curframe + 1, total);
      const bool zero_src = value_regno >= 0 ? register_is_null(r[value_regno])
                                             : cls(cur_insn.code) == BPF_ST && cur_insn.imm == 0;
      if (write && var) {
        // check_stack_write_var_off(): every byte the write may touch loses a spilled
        // register; privileged, uninitialized bytes may become data.
        bool zero_used = false;
        for (int64_t b = min_off; b < max_off; ++b) {
          stack_slot& s = slot_of(f, b);
          uint8_t& st = s.slot_type[byte_in_slot(b)];
          if (zero_src && st == STACK_SPILL && is_spilled_scalar_reg(s) &&
              tnum_equals_const(s.spilled_ptr.var_off, 0)) {
            zero_used = true;
            continue;
          }
          s.spilled_ptr = bpf_reg_state{};  // NOT_INIT
          uint8_t nt = STACK_MISC;
          if (zero_src && st == STACK_ZERO) {
            nt = STACK_ZERO;
            zero_used = true;
          }
          st = nt;
        }
        if (zero_used && value_regno >= 0) mark_chain_precision(value_regno);
        return true;
      }
      if (write) {
        // check_stack_write_fixed_off()
        const int64_t so = min_off;
        stack_slot& s = slot_of(f, so);
        acc_frame_ = static_cast<int>(reg.frameno);
        acc_off_ = static_cast<int>(so);
        const bpf_reg_state* v = value_regno >= 0 ? &r[value_regno] : nullptr;
        if (v && so % 8 == 0 && base_type(v->type) == SCALAR_VALUE) {
          // a scalar spill, of any size (bpf_capable)
          const bool fits = get_reg_width(*v) <= 8 * size;
          save_register_state(s, *v, size);
          if (!fits) s.spilled_ptr.id = 0;  // break the relation on a narrowing spill
          return true;
        }
        if (!v && so % 8 == 0 && cls(cur_insn.code) == BPF_ST) {
          bpf_reg_state imm;
          mark_reg_known(imm, static_cast<uint64_t>(static_cast<int64_t>(cur_insn.imm)));
          save_register_state(s, imm, size);
          return true;
        }
        if (v && base_type(v->type) != SCALAR_VALUE) {
          // a pointer spill (is_spillable_regtype)
          if (size != 8) return fail("invalid size of register spill");
          if (reg.frameno != cur.curframe && base_type(v->type) == PTR_TO_STACK)
            return fail("cannot spill pointers to stack into stack frame of the caller");
          save_register_state(s, *v, size);
          return true;
        }
        // data: a spilled register (privileged: even a pointer) is lost
        s.spilled_ptr = bpf_reg_state{};
        if (is_stack_slot_special(s))
          for (auto& b : s.slot_type) scrub_spilled_slot(b);
        uint8_t type = STACK_MISC;
        if (zero_src) {
          if (value_regno >= 0) mark_chain_precision(value_regno);
          type = STACK_ZERO;
        }
        for (int64_t b = so; b < so + size; ++b) s.slot_type[byte_in_slot(b)] = type;
        return true;
      }
      if (var) {
        // check_stack_read_var_off(): the offset must be constant when the value goes nowhere
        if (value_regno < 0)
          return fail("variable offset stack pointer cannot be passed into helper function; var_off={} off={} size={}",
                      tnum_str(reg.var_off), o, size);
        // check_stack_range_initialized(), privileged: data, zeroes, uninitialized bytes and
        // spilled registers may all be read
        bool all_zero = true;
        for (int64_t b = min_off; b < max_off; ++b) {
          const uint8_t st = slot_of(f, b).slot_type[byte_in_slot(b)];
          if (st != STACK_MISC && st != STACK_ZERO && st != STACK_INVALID && st != STACK_SPILL)
            return fail("invalid read from stack R{} var_off {}+{} size {}", regno, tnum_str(reg.var_off),
                        b - min_off, size);
          if (st != STACK_ZERO) all_zero = false;  // mark_reg_stack_read()
        }
        load_scalar(all_zero);
        return true;
      }
      // check_stack_read_fixed_off()
      const int64_t so = min_off;
      stack_slot& s = slot_of(f, so);
      acc_frame_ = static_cast<int>(reg.frameno);
      acc_off_ = static_cast<int>(so);
      if (is_spilled_reg(s)) {
        int spill_size = 1;
        while (spill_size < 8 && s.slot_type[spill_size] == STACK_SPILL) ++spill_size;
        if (size == 8 && spill_size == 8) {
          if (value_regno >= 0) r[value_regno] = s.spilled_ptr;  // restore the register
          return true;
        }
        if (base_type(s.spilled_ptr.type) != SCALAR_VALUE) return fail("invalid size of register fill");
        if (value_regno < 0) return true;
        // A narrow fill takes the spilled value; the precision trace follows only 8-byte
        // fills, so the spilled value becomes precise here (mark_chain_precision from the
        // fill on).
        auto precise_slot = [&] {
          if (reg.frameno == cur.curframe) mark_chain_precision(-1, static_cast<int>(so));
          return reg.frameno == cur.curframe;
        };
        if (size <= spill_size && so % 8 == 0 && precise_slot()) {
          const bpf_reg_state spilled = s.spilled_ptr;
          r[value_regno] = spilled;
          if (get_reg_width(spilled) > size * 8) r[value_regno].id = 0;  // a narrowing fill
          // only the low bytes count (a narrow spill's upper ones are unknown here), also
          // for the sign extension below
          coerce_reg_to_size(r[value_regno], size);
          return true;
        }
        int spill_cnt = 0, zero_cnt = 0;
        for (int64_t b = so; b < so + size; ++b) {
          const uint8_t st = s.slot_type[byte_in_slot(b)];
          if (st == STACK_SPILL) ++spill_cnt;
          else if (st == STACK_ZERO) ++zero_cnt;
          else if (st != STACK_MISC && st != STACK_INVALID)
            return fail("invalid read from stack off {}+{} size {}", so, b - so, size);
        }
        if (spill_cnt == size && tnum_equals_const(s.spilled_ptr.var_off, 0) && precise_slot())
          load_scalar(true);
        else
          load_scalar(zero_cnt == size);
        return true;
      }
      bool all_zero = true;
      for (int64_t b = so; b < so + size; ++b) {
        const uint8_t st = s.slot_type[byte_in_slot(b)];
        if (st != STACK_MISC && st != STACK_ZERO && st != STACK_INVALID)
          return fail("invalid read from stack off {}+{} size {}", so, b - so, size);
        if (st != STACK_ZERO) all_zero = false;
      }
      load_scalar(all_zero);  // mark_reg_stack_read()
      return true;
    }
    case PTR_TO_MAP_KEY: {
      if (write) return fail("write to change key R{} not allowed", regno);
      if (!check_mem_region("map key", "key_size", reg.map_ptr->attr().key_size)) return false;
      load_scalar();
      return true;
    }
    case PTR_TO_MAP_VALUE: {
      const uint32_t value_size = reg.map_ptr->attr().value_size;
      const uint32_t flags = reg.map_ptr->attr().map_flags;
      // check_map_access_type(); privileged, a pointer may be stored into a value
      if (write && (flags & BPF_F_RDONLY_PROG))
        return fail("write into map forbidden, value_size={} off={} size={}", value_size, o, size);
      if (!write && (flags & BPF_F_WRONLY_PROG))
        return fail("read from map forbidden, value_size={} off={} size={}", value_size, o, size);
      if (!check_mem_region("map value", "value_size", value_size)) return false;
      if (!write) load_scalar();
      return true;
    }
    case CONST_PTR_TO_MAP: {
      // check_ptr_to_map_access(): reads walk the map's kernel struct through BTF, which
      // mmbpf does not describe
      const char* tname = map_struct_name(reg.map_ptr->attr().map_type);
      if (o < 0) return fail("R{} is {} invalid negative access: off={}", regno, tname, o);
      if (write) return fail("only read from {} is supported", tname);
      return fail("R{} invalid mem access '{}'", regno, type_str(reg.type));
    }
    case PTR_TO_MEM: {
      if (write && (reg.type & MEM_RDONLY))
        return fail("R{} cannot write into {}", regno, type_str(reg.type));
      if (!check_mem_region("memory", "mem_size", reg.mem_size)) return false;
      if (!write) load_scalar();
      return true;
    }
    case PTR_TO_CTX: {
      // check_atomic(): no read-modify-write of the context
      if (atomic) return fail("BPF_ATOMIC stores into R{} {} is not allowed", regno, type_str(reg.type));
      if (opts.ctx.k == prog_context::kind::syscall) {
        // check_ptr_off_reg(): only the unmodified pointer (privileged, a pointer may be
        // stored), then syscall_prog_is_valid_access()
        if (reg.off < 0) return fail("negative offset ctx ptr R{} off={} disallowed", regno, reg.off);
        if (reg.off) return fail("dereference of modified ctx ptr R{} off={} disallowed", regno, reg.off);
        if (!var_off_const(reg) || reg.var_off.value)
          return fail("variable ctx access var_off={} disallowed", tnum_str(reg.var_off));
        if (o < 0 || o >= 0xffff || o % size)
          return fail("invalid bpf_context access off={} size={}", o, size);
        if (!write) load_scalar();
        return true;
      }
      if (!var_off_const(reg))
        return fail("variable ctx access var_off={} disallowed", tnum_str(reg.var_off));
      const int64_t co = int64_t{reg.off} + static_cast<int64_t>(reg.var_off.value) + off;
      if (write && value_regno >= 0 && base_type(r[value_regno].type) != SCALAR_VALUE)
        return fail("R{} leaks addr into ctx", value_regno);
      if (opts.ctx.k == prog_context::kind::mem) {
        if (co < 0 || co + size > reg.mem_size)
          return fail("invalid bpf_context access off={} size={}", co, size);
        if (!write) load_scalar();
        return true;
      }
      // struct_ops: the u64 array of the member's arguments, read-only (btf_ctx_access)
      const struct btf_type* proto = kbtf.type(opts.ctx.func_proto_id);
      const uint16_t nargs = proto ? btf_vlen(proto) : 0;
      if (write || co < 0 || co % 8 || co / 8 >= nargs || size > 8)
        return fail("invalid bpf_context access off={} size={}", co, size);
      if (value_regno < 0) return true;
      const struct btf_param* params = btf_params(proto);
      const uint32_t tid = kbtf.skip_mods_and_typedefs(params[co / 8].type);
      const struct btf_type* at = kbtf.type(tid);
      if (at && btf_is_ptr(at) && size == 8) {
        const uint32_t pt = kbtf.skip_mods_and_typedefs(at->type);
        const struct btf_type* p = kbtf.type(pt);
        bpf_reg_state& v = r[value_regno];
        mark_reg_known(v, 0);
        if (p && (btf_is_struct(p) || btf_is_union(p))) {
          v.type = PTR_TO_BTF_ID | PTR_TRUSTED;
          v.btf_id = pt;
        } else {
          mark_reg_unknown(v);  // a pointer to a scalar: the program gets its value
        }
        return true;
      }
      load_scalar();
      return true;
    }
    case PTR_TO_BTF_ID: {
      if (!var_off_const(reg))
        return fail("R{} is ptr_{} invalid variable offset: off={}, var_off={}", regno,
                    kbtf.name(reg.btf_id), reg.off, tnum_str(reg.var_off));
      const int64_t bo = int64_t{reg.off} + static_cast<int64_t>(reg.var_off.value) + off;
      if (bo < 0) return fail("R{} is ptr_{} invalid negative access: off={}", regno, kbtf.name(reg.btf_id), bo);
      if (write) {
        const std::string_view tname = kbtf.name(reg.btf_id);
        const bool allowed = std::any_of(opts.ctx.writable.begin(), opts.ctx.writable.end(), [&](const writable_field& w) {
          return w.type == tname && bo >= w.off && bo + size <= int64_t{w.off} + w.size;
        });
        if (!allowed) return fail("only read is supported");
        if (value_regno >= 0 && base_type(r[value_regno].type) != SCALAR_VALUE &&
            base_type(r[value_regno].type) != PTR_TO_BTF_ID)
          return fail("R{} leaks addr into {}", value_regno, type_str(reg.type));
        auto w = btf_struct_walk(kbtf, reg.btf_id, static_cast<uint32_t>(bo), static_cast<uint32_t>(size));
        if (!w.ok) return fail("{}", w.err);
        return true;
      }
      auto w = btf_struct_walk(kbtf, reg.btf_id, static_cast<uint32_t>(bo), static_cast<uint32_t>(size));
      if (!w.ok) return fail("{}", w.err);
      if (cls(insns[insn_idx].code) == BPF_LDX) probe_mem_[insn_idx] = true;
      if (value_regno < 0) return true;
      if (w.pointer && w.pointee_struct) {
        const bool src_trusted = (reg.type & PTR_TRUSTED) || reg.ref_obj_id;
        const std::string_view outer = kbtf.name(w.outer_struct);
        const trusted_field* tf = nullptr;
        for (const trusted_field& f : trusted_fields)
          if (src_trusted && f.type == outer && f.field == w.field) tf = &f;
        bpf_reg_state& v = r[value_regno];
        mark_reg_known(v, 0);
        v.btf_id = w.pointee_struct;
        if (tf) {
          v.type = PTR_TO_BTF_ID | PTR_TRUSTED | (tf->or_null ? PTR_MAYBE_NULL : 0u);
          if (tf->or_null) v.id = new_id();
        } else {
          // a pointer walked from another: readable (faults read as zero), maybe null
          v.type = PTR_TO_BTF_ID | PTR_UNTRUSTED;
        }
        return true;
      }
      load_scalar();
      return true;
    }
    default:
      return fail("R{} invalid mem access '{}'", regno, type_str(reg.type));
  }
  }();
  // a scalar load narrower than 8 bytes is zero- (or sign-) extended
  if (ok && !write && value_regno >= 0 && size < 8 && base_type(r[value_regno].type) == SCALAR_VALUE) {
    if (sign_ext)
      coerce_reg_to_size_sx(r[value_regno], size);
    else
      coerce_reg_to_size(r[value_regno], size);
  }
  return ok;
}

// check_helper_mem_access(): memory a helper reads (or writes) through regs[regno].
bool verifier_env::check_helper_mem_access(int regno, uint64_t min_size, uint64_t max_size,
                                           bpf_access_type t, bool zero_size_allowed) {
  const bpf_reg_state& reg = regs()[regno];
  if (!max_size) {
    if (!zero_size_allowed) return fail("R{} invalid zero-sized read", regno + 1);
    if (base_type(reg.type) == SCALAR_VALUE && tnum_equals_const(reg.var_off, 0)) return true;
  }
  if (max_size >= (uint64_t{1} << 29))
    return fail("R{} unbounded memory access, use 'var &= const' or 'if (var < const)'", regno + 1);
  (void)min_size;
  const int size = static_cast<int>(max_size);
  switch (base_type(reg.type)) {
    case PTR_TO_STACK: {
      if (!var_off_const(reg))
        return fail("R{} variable stack access var_off={} disallowed", regno, tnum_str(reg.var_off));
      const int64_t so = int64_t{reg.off} + static_cast<int64_t>(reg.var_off.value);
      if (so < -stack_size || so + size > 0)
        return fail("invalid indirect access to stack R{} off={} size={}", regno, so, size);
      func_state& f = *cur.frame[reg.frameno];
      f.allocated_stack = std::max<int>(f.allocated_stack, static_cast<int>(-so));
      if (t == BPF_WRITE)  // the helper writes data there
        for (int64_t b = so; b < so + size; ++b) {
          stack_slot& s = slot_of(f, b);
          if (s.slot_type[0] == STACK_SPILL) s.slot_type.fill(STACK_MISC);
          s.slot_type[byte_in_slot(b)] = STACK_MISC;
        }
      return true;
    }
    case PTR_TO_MAP_VALUE:
    case PTR_TO_MAP_KEY:
    case PTR_TO_MEM:
    case PTR_TO_CTX:
    case PTR_TO_BTF_ID: {
      if (base_type(reg.type) == PTR_TO_BTF_ID && t == BPF_WRITE)
        return fail("R{} cannot write into {}", regno, type_str(reg.type));
      if (base_type(reg.type) == PTR_TO_BTF_ID) return true;  // read like probe_read
      // one access of `size` bytes at the register, as a load or store would be
      if (size == 0) return true;
      const int chunk = size;
      bpf_reg_state save = regs()[BPF_REG_0];
      (void)save;
      // reuse the range logic of check_mem_access without touching a destination
      return check_mem_access(regno, 0, chunk > 8 ? 1 : chunk, t, -1) &&
             (chunk <= 8 || check_mem_access(regno, chunk - 1, 1, t, -1));
    }
    default:
      return fail("R{} type={} expected=fp, pkt, pkt_meta, map_key, map_value, mem", regno,
                  type_str(reg.type));
  }
}

}  // namespace mmbpf::bpf::verifier
