// Memory access checks (check_mem_access and its per-type parts): the stack with spills and
// fills, map values, the program's context, helper-returned memory, and kernel objects through
// BTF (btf_struct_access), for loads, stores and helper memory arguments.
#include <fmt/format.h>

#include <algorithm>

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
  std::string err;
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

// The bytes [lo, lo+size) of a frame's stack, as slots and byte indices.
inline stack_slot& slot_of(func_state& f, int64_t byte_off) {
  return f.stack[static_cast<size_t>((-byte_off - 1) / 8)];
}
inline int byte_in_slot(int64_t byte_off) {
  const int64_t k = (-byte_off - 1) / 8;
  return static_cast<int>(byte_off + (k + 1) * 8);
}

}  // namespace

// ---- check_mem_access ---------------------------------------------------------------------------

bool verifier_env::check_mem_access(int regno, int off, int size, bpf_access_type t,
                                    int value_regno, bool sign_ext) {
  bpf_reg_state* r = regs();
  const bpf_reg_state reg = r[regno];
  const uint32_t bt = base_type(reg.type);
  const bool write = t == BPF_WRITE;
  // The value a load produces: an unknown scalar of `size` bytes unless a case sets it.
  auto load_scalar = [&](bool known_zero = false) {
    if (value_regno < 0) return;
    bpf_reg_state& v = r[value_regno];
    if (known_zero) {
      mark_reg_known(v, 0);
      return;
    }
    mark_reg_unknown(v);
    if (size < 8) {
      if (sign_ext)
        coerce_reg_to_size_sx(v, size);
      else
        coerce_reg_to_size(v, size);
    }
  };
  if (reg.type & PTR_MAYBE_NULL || bt == SCALAR_VALUE || bt == NOT_INIT || bt == CONST_PTR_TO_MAP ||
      bt == PTR_TO_FUNC)
    return fail("R{} invalid mem access '{}'", regno, type_str(reg.type));
  if (write && value_regno >= 0 && base_type(r[value_regno].type) != SCALAR_VALUE &&
      bt != PTR_TO_STACK && bt != PTR_TO_MAP_VALUE && bt != PTR_TO_BTF_ID)
    return fail("R{} leaks addr into {}", value_regno, type_str(reg.type));

  // the byte range relative to the object's start, from the constant and variable offsets
  const int64_t smin = reg.smin_value, smax = reg.smax_value;
  auto check_range = [&](const char* what, int64_t limit) -> bool {
    const int64_t lo = int64_t{reg.off} + off + (var_off_const(reg) ? static_cast<int64_t>(reg.var_off.value) : smin);
    const int64_t hi = int64_t{reg.off} + off + (var_off_const(reg) ? static_cast<int64_t>(reg.var_off.value) : smax);
    if (!var_off_const(reg)) {
      if (smin < 0)
        return fail("R{} min value is negative, either use unsigned index or do a if (index >=0) check.", regno);
      if (reg.umax_value >= (uint64_t{1} << 29))
        return fail("R{} unbounded memory access, make sure to bounds check any such access", regno);
    }
    if (lo < 0 || hi + size > limit) {
      if (!var_off_const(reg) && hi + size > limit)
        return fail("R{} max value is outside of the allowed memory range", regno);
      return fail("invalid access to {}, {}={} off={} size={}", what,
                  bt == PTR_TO_MAP_VALUE ? "value_size" : "mem_size", limit, lo, size);
    }
    return true;
  };

  switch (bt) {
    case PTR_TO_STACK: {
      if (!var_off_const(reg))
        return fail("R{} variable stack access var_off={} disallowed", regno, tnum_str(reg.var_off));
      const int64_t so = int64_t{reg.off} + static_cast<int64_t>(reg.var_off.value) + off;
      if (so < -stack_size || so + size > 0)
        return fail("invalid {} stack off={} size={}", write ? "write to" : "read from", so, size);
      func_state& f = *cur.frame[reg.frameno];
      acc_frame_ = static_cast<int>(reg.frameno);
      acc_off_ = static_cast<int>(so);
      f.allocated_stack = std::max<int>(f.allocated_stack, static_cast<int>(-so));
      int total = 0;
      for (uint32_t k = 0; k <= cur.curframe; ++k) total += (cur.frame[k]->allocated_stack + 31) / 32 * 32;
      if (total > stack_size) return fail("combined stack size of {} calls is {}. Too large", cur.curframe + 1, total);
      if (write) {
        const bool spill = value_regno >= 0 && size == 8 && so % 8 == 0;
        if (spill) {
          stack_slot& s = slot_of(f, so);
          s.slot_type.fill(STACK_SPILL);
          s.spilled_ptr = r[value_regno];
          return true;
        }
        // a partial write: the bytes become data; a spilled register in a touched slot is lost
        const bool zero = value_regno < 0 ? insns[insn_idx].imm == 0
                                          : tnum_equals_const(r[value_regno].var_off, 0) &&
                                                base_type(r[value_regno].type) == SCALAR_VALUE;
        if (value_regno >= 0 && base_type(r[value_regno].type) != SCALAR_VALUE)
          return fail("attempt to corrupt spilled pointer on stack");
        for (int64_t b = so; b < so + size; ++b) {
          stack_slot& s = slot_of(f, b);
          if (s.slot_type[0] == STACK_SPILL) {
            if (base_type(s.spilled_ptr.type) != SCALAR_VALUE)
              return fail("attempt to corrupt spilled pointer on stack");
            s.slot_type.fill(STACK_MISC);
          }
          s.slot_type[byte_in_slot(b)] = zero ? STACK_ZERO : STACK_MISC;
        }
        return true;
      }
      // a fill
      stack_slot& s = slot_of(f, so);
      if (s.slot_type[0] == STACK_SPILL) {
        if (size == 8 && so % 8 == 0) {
          if (value_regno >= 0) r[value_regno] = s.spilled_ptr;
          return true;
        }
        if (base_type(s.spilled_ptr.type) != SCALAR_VALUE)
          return fail("invalid size of register fill");
        load_scalar();
        return true;
      }
      bool all_zero = true;
      for (int64_t b = so; b < so + size; ++b) {
        const stack_slot& sb = slot_of(f, b);
        if (sb.slot_type[0] == STACK_SPILL && base_type(sb.spilled_ptr.type) != SCALAR_VALUE)
          return fail("invalid read from stack off {}+0 size {}", so, size);
        if (sb.slot_type[byte_in_slot(b)] != STACK_ZERO) all_zero = false;
      }
      load_scalar(all_zero);
      return true;
    }
    case PTR_TO_MAP_VALUE:
    case PTR_TO_MAP_KEY: {
      const uint32_t limit = bt == PTR_TO_MAP_VALUE ? reg.map_ptr->attr().value_size
                                                    : reg.map_ptr->attr().key_size;
      if (write && (reg.map_ptr->attr().map_flags & BPF_F_RDONLY_PROG))
        return fail("write into map forbidden, value_size={} off={} size={}", limit, reg.off + off, size);
      if (!check_range("map value", limit)) return false;
      if (write && value_regno >= 0 && base_type(r[value_regno].type) != SCALAR_VALUE)
        return true;  // privileged: a pointer stored into a map value (kept as data)
      if (!write) load_scalar();
      return true;
    }
    case PTR_TO_MEM: {
      if (write && (reg.type & MEM_RDONLY))
        return fail("R{} cannot write into {}", regno, type_str(reg.type));
      if (!check_range("memory", reg.mem_size)) return false;
      if (!write) load_scalar();
      return true;
    }
    case PTR_TO_CTX: {
      if (!var_off_const(reg))
        return fail("variable ctx access var_off={} disallowed", tnum_str(reg.var_off));
      const int64_t co = int64_t{reg.off} + static_cast<int64_t>(reg.var_off.value) + off;
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
        bpf_reg_state& v = r[value_regno];
        mark_reg_known(v, 0);
        // a pointer walked from another: readable (faults read as zero), maybe null
        v.type = PTR_TO_BTF_ID | PTR_UNTRUSTED;
        v.btf_id = w.pointee_struct;
        return true;
      }
      load_scalar();
      return true;
    }
    default:
      return fail("R{} invalid mem access '{}'", regno, type_str(reg.type));
  }
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
