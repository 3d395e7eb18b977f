// The verifier log's words (kernel/bpf/log.c): register types as reg_type_str() names them
// ("map_value_or_null", "trusted_ptr_folio", "fp-8"), scalar bounds as print_verifier_state()
// prints them (only what is known: "scalar(smin=0,smax=umax=255,var_off=(0x0; 0xff))"), and
// the instruction in disasm.h's syntax.
#include <fmt/format.h>

#include <limits>

#include "bpf/btf_handle.h"
#include "bpf/disasm.h"
#include "bpf/map.h"
#include "bpf/runtime.h"
#include "bpf/verifier/env.h"

namespace mmbpf::bpf::verifier {

std::string verifier_env::type_str(uint32_t type) const {
  std::string prefix, suffix;
  if (type & PTR_MAYBE_NULL) suffix = "_or_null";
  if (type & MEM_RDONLY) prefix += "rdonly_";
  if (type & MEM_RINGBUF) prefix += "ringbuf_";
  if (type & PTR_UNTRUSTED) prefix += "untrusted_";
  if (type & PTR_TRUSTED) prefix += "trusted_";
  if (type & MEM_RCU) prefix += "rcu_";
  switch (base_type(type)) {
    case NOT_INIT: return "?";
    case SCALAR_VALUE: return "scalar";
    case PTR_TO_CTX: return prefix + "ctx" + suffix;
    case CONST_PTR_TO_MAP: return prefix + "map_ptr" + suffix;
    case PTR_TO_MAP_VALUE: return prefix + "map_value" + suffix;
    case PTR_TO_MAP_KEY: return prefix + "map_key" + suffix;
    case PTR_TO_STACK: return prefix + "fp" + suffix;
    case PTR_TO_MEM: return prefix + "mem" + suffix;
    case PTR_TO_BTF_ID: return prefix + "ptr_" + suffix;
    case PTR_TO_FUNC: return prefix + "func" + suffix;
    default: return "unknown";
  }
}

std::string verifier_env::reg_str(const bpf_reg_state& r) const {
  const uint32_t bt = base_type(r.type);
  if (bt == SCALAR_VALUE && tnum_is_const(r.var_off)) return fmt::format("{}", static_cast<int64_t>(r.var_off.value));
  if (bt == PTR_TO_STACK && tnum_is_const(r.var_off)) {
    const std::string f = r.frameno ? fmt::format("fp[{}]", r.frameno) : "fp";
    return fmt::format("{}{}", f, r.off + static_cast<int64_t>(r.var_off.value));
  }
  std::vector<std::string> parts;
  if (r.id) parts.push_back(fmt::format("id={}", r.id));
  if (r.ref_obj_id) parts.push_back(fmt::format("ref_obj_id={}", r.ref_obj_id));
  if (r.off) parts.push_back(fmt::format("off={}", r.off));
  if (bt == CONST_PTR_TO_MAP || bt == PTR_TO_MAP_VALUE || bt == PTR_TO_MAP_KEY) {
    if (r.map_ptr)
      parts.push_back(fmt::format("map={},ks={},vs={}", r.map_ptr->name(), r.map_ptr->attr().key_size,
                                  r.map_ptr->attr().value_size));
  }
  if (bt == PTR_TO_MEM) parts.push_back(fmt::format("sz={}", r.mem_size));
  if (bt != CONST_PTR_TO_MAP && bt != PTR_TO_FUNC && !tnum_is_const(r.var_off)) {
    using L64 = std::numeric_limits<int64_t>;
    using L32 = std::numeric_limits<int32_t>;
    if (r.smin_value != L64::min()) parts.push_back(fmt::format("smin={}", r.smin_value));
    if (r.smax_value != L64::max()) parts.push_back(fmt::format("smax={}", r.smax_value));
    if (r.umin_value) parts.push_back(fmt::format("umin={}", r.umin_value));
    if (r.umax_value != std::numeric_limits<uint64_t>::max()) parts.push_back(fmt::format("umax={}", r.umax_value));
    if (r.s32_min_value != L32::min()) parts.push_back(fmt::format("smin32={}", r.s32_min_value));
    if (r.s32_max_value != L32::max()) parts.push_back(fmt::format("smax32={}", r.s32_max_value));
    if (r.u32_min_value) parts.push_back(fmt::format("umin32={}", r.u32_min_value));
    if (r.u32_max_value != std::numeric_limits<uint32_t>::max()) parts.push_back(fmt::format("umax32={}", r.u32_max_value));
    if (!tnum_is_unknown(r.var_off)) parts.push_back(fmt::format("var_off={}", tnum_str(r.var_off)));
  }
  std::string name = type_str(r.type);
  if (bt == PTR_TO_BTF_ID) {
    const std::string t(kbtf.name(r.btf_id));
    const size_t at = name.find("ptr_");
    name.insert(at + 4, t);
  }
  std::string inner;
  for (size_t k = 0; k < parts.size(); ++k) inner += (k ? "," : "") + parts[k];
  return fmt::format("{}({})", name, inner);
}

std::string verifier_env::state_str(const verifier_state& st, bool only_frame) const {
  std::string s;
  const uint32_t from = only_frame ? st.curframe : 0;
  for (uint32_t f = from; f <= st.curframe; ++f) {
    const func_state& fs = *st.frame[f];
    if (st.curframe) s += fmt::format("frame{}: ", f);
    for (int r = 0; r < max_reg; ++r) {
      if (fs.regs[r].type == NOT_INIT) continue;
      if (!s.empty() && s.back() != ' ') s += ' ';
      s += fmt::format("R{}={}", r, reg_str(fs.regs[r]));
    }
    for (int k = 0; k < nr_stack_slots; ++k) {
      const stack_slot& sl = fs.stack[k];
      std::string types;
      bool any = false;
      for (int b = 7; b >= 0; --b) {
        const uint8_t t = sl.slot_type[b];
        any |= t != STACK_INVALID;
        types += t == STACK_SPILL ? 'r' : t == STACK_MISC ? 'm' : t == STACK_ZERO ? '0' : '?';
      }
      if (!any) continue;
      s += fmt::format(" fp{}={}", -(k + 1) * 8,
                       sl.slot_type[0] == STACK_SPILL ? reg_str(sl.spilled_ptr) : types);
    }
  }
  for (const ref_state& r : st.refs) s += fmt::format(" refs={}", r.id);
  return s;
}

std::string verifier_env::insn_str(int idx) const {
  disasm_opts o;
  o.kfunc_name = [this](int32_t id) -> const char* {
    const kfunc_desc* k = rt.kfuncs().by_id(static_cast<uint32_t>(id));
    return k ? k->name.c_str() : nullptr;
  };
  return disasm_insn(insns.data(), insns.size(), static_cast<size_t>(idx), o);
}

}  // namespace mmbpf::bpf::verifier
