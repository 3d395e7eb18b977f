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

namespace {

// verbose_snum() / verbose_unum(): decimal within 16 bits, hex beyond
std::string snum(int64_t v) {
  return v >= std::numeric_limits<int16_t>::min() && v <= std::numeric_limits<int16_t>::max()
             ? fmt::format("{}", v)
             : fmt::format("{:#x}", static_cast<uint64_t>(v));
}
std::string unum(uint64_t v) {
  return v <= std::numeric_limits<uint16_t>::max() ? fmt::format("{}", v) : fmt::format("{:#x}", v);
}

// print_scalar_ranges(): the bounds that say something, equal ones merged ("smax=umax=255")
void scalar_ranges(const bpf_reg_state& r, std::vector<std::string>& parts) {
  using L64 = std::numeric_limits<int64_t>;
  using L32 = std::numeric_limits<int32_t>;
  struct mm {
    const char* name;
    uint64_t val;
    bool omit;
  } m[] = {
      {"smin", static_cast<uint64_t>(r.smin_value), r.smin_value == L64::min()},
      {"smax", static_cast<uint64_t>(r.smax_value), r.smax_value == L64::max()},
      {"umin", r.umin_value, r.umin_value == 0},
      {"umax", r.umax_value, r.umax_value == std::numeric_limits<uint64_t>::max()},
      {"smin32", static_cast<uint64_t>(int64_t{r.s32_min_value}), r.s32_min_value == L32::min()},
      {"smax32", static_cast<uint64_t>(int64_t{r.s32_max_value}), r.s32_max_value == L32::max()},
      {"umin32", r.u32_min_value, r.u32_min_value == 0},
      {"umax32", r.u32_max_value, r.u32_max_value == std::numeric_limits<uint32_t>::max()},
  };
  constexpr int n = 8;
  for (int a = 0; a < n; ++a) {
    if (m[a].omit) continue;
    const bool neg = m[a].name[0] == 's' && static_cast<int64_t>(m[a].val) < 0;
    std::string s = std::string(m[a].name) + "=";
    for (int b = a + 2; b < n; b += 2) {
      if (m[b].omit || m[b].val != m[a].val) continue;
      if ((m[b].name[0] == 's' && static_cast<int64_t>(m[b].val) < 0) != neg) continue;
      m[b].omit = true;
      s += std::string(m[b].name) + "=";
    }
    s += m[a].name[0] == 's' ? snum(static_cast<int64_t>(m[a].val)) : unum(m[a].val);
    parts.push_back(std::move(s));
  }
}

}  // namespace

std::string verifier_env::type_str(uint32_t type) const {
  std::string prefix, postfix;
  if (type & PTR_MAYBE_NULL) postfix = base_type(type) == PTR_TO_BTF_ID ? "or_null_" : "_or_null";
  if (type & MEM_RDONLY) prefix += "rdonly_";
  if (type & MEM_RINGBUF) prefix += "ringbuf_";
  if (type & PTR_UNTRUSTED) prefix += "untrusted_";
  if (type & PTR_TRUSTED) prefix += "trusted_";
  if (type & MEM_RCU) prefix += "rcu_";
  switch (base_type(type)) {
    case NOT_INIT: return "?";
    case SCALAR_VALUE: return "scalar";
    case PTR_TO_CTX: return prefix + "ctx" + postfix;
    case CONST_PTR_TO_MAP: return prefix + "map_ptr" + postfix;
    case PTR_TO_MAP_VALUE: return prefix + "map_value" + postfix;
    case PTR_TO_MAP_KEY: return prefix + "map_key" + postfix;
    case PTR_TO_STACK: return prefix + "fp" + postfix;
    case PTR_TO_MEM: return prefix + "mem" + postfix;
    case PTR_TO_BTF_ID: return prefix + "ptr_" + postfix;  // the type's name follows
    case PTR_TO_FUNC: return prefix + "func" + postfix;
    default: return "unknown";
  }
}

// print_reg_state()
std::string verifier_env::reg_str(const bpf_reg_state& r, uint32_t frameno) const {
  const uint32_t bt = base_type(r.type);
  const std::string p = bt == SCALAR_VALUE && r.precise && log_precision_ ? "P" : "";
  if (bt == SCALAR_VALUE && tnum_is_const(r.var_off)) return p + snum(static_cast<int64_t>(r.var_off.value));
  std::string name = type_str(r.type);
  if (bt == PTR_TO_STACK) {
    if (r.frameno != frameno) name += fmt::format("[{}]", r.frameno);
    if (tnum_is_const(r.var_off)) return name + snum(r.off + static_cast<int64_t>(r.var_off.value));
  }
  if (bt == PTR_TO_BTF_ID) name += kbtf.name(r.btf_id);
  std::vector<std::string> parts;
  if (r.id) parts.push_back(fmt::format("id={}", r.id));
  if (r.ref_obj_id) parts.push_back(fmt::format("ref_obj_id={}", r.ref_obj_id));
  if ((bt == CONST_PTR_TO_MAP || bt == PTR_TO_MAP_VALUE || bt == PTR_TO_MAP_KEY) && r.map_ptr) {
    if (!r.map_ptr->name().empty()) parts.push_back(fmt::format("map={}", r.map_ptr->name()));
    parts.push_back(fmt::format("ks={},vs={}", r.map_ptr->attr().key_size, r.map_ptr->attr().value_size));
  }
  if (bt != SCALAR_VALUE && r.off) parts.push_back("off=" + snum(r.off));
  if (bt == PTR_TO_MEM) parts.push_back(fmt::format("sz={}", r.mem_size));
  if (tnum_is_const(r.var_off)) {
    if (r.var_off.value) parts.push_back(fmt::format("imm={:x}", r.var_off.value));
  } else {
    scalar_ranges(r, parts);
    if (!tnum_is_unknown(r.var_off)) parts.push_back(fmt::format("var_off={}", tnum_str(r.var_off)));
  }
  std::string inner;
  for (size_t k = 0; k < parts.size(); ++k) inner += (k ? "," : "") + parts[k];
  return fmt::format("{}{}({})", p, name, inner);
}

// print_verifier_state(): a frame's registers and stack slots (all, or only those `scratch`
// names), then the references held.
std::string verifier_env::frame_str(const verifier_state& st, uint32_t f, const scratch_set* scratch) const {
  const func_state& fs = *st.frame[f];
  std::string s;
  if (f) s += fmt::format(" frame{}:", f);
  for (int r = 0; r < max_reg; ++r) {
    if (fs.regs[r].type == NOT_INIT) continue;
    if (scratch && !(scratch->regs & (1u << r))) continue;
    s += fmt::format(" R{}={}", r, reg_str(fs.regs[r], f));
  }
  for (int k = 0; k < nr_stack_slots; ++k) {
    const stack_slot& sl = fs.stack[k];
    std::string types;
    bool any = false;
    for (int b = 7; b >= 0; --b) {
      const uint8_t t = sl.slot_type[b];
      any |= t != STACK_INVALID;
      types += t == STACK_SPILL ? 'r' : t == STACK_MISC ? 'm' : t == STACK_ZERO ? '0' : t == STACK_ITER ? 'i' : '?';
    }
    if (!any || (scratch && !(scratch->slots & (uint64_t{1} << k)))) continue;
    if (sl.slot_type[0] == STACK_SPILL) {
      s += fmt::format(" fp{}={}", -(k + 1) * 8, reg_str(sl.spilled_ptr, f));
    } else if (sl.slot_type[0] == STACK_ITER) {
      if (!sl.spilled_ptr.ref_obj_id) continue;
      std::string tn(kbtf.name(sl.iter.btf_id));
      if (tn.starts_with("bpf_iter_")) tn = tn.substr(9);
      s += fmt::format(" fp{}=iter_{}(ref_id={},state={},depth={})", -(k + 1) * 8, tn,
                       sl.spilled_ptr.ref_obj_id,
                       sl.iter.state == BPF_ITER_STATE_ACTIVE ? "active" : "drained", sl.iter.depth);
    } else {
      s += fmt::format(" fp{}={}", -(k + 1) * 8, types);
    }
  }
  if (!st.refs.empty()) {
    s += " refs=";
    for (size_t k = 0; k < st.refs.size(); ++k) s += fmt::format("{}{}", k ? "," : "", st.refs[k].id);
  }
  if (fs.in_callback) s += " cb";
  return s;
}

std::string verifier_env::state_str(const verifier_state& st, bool only_frame) const {
  std::string s;
  for (uint32_t f = only_frame ? st.curframe : 0; f <= st.curframe; ++f) s += frame_str(st, f, nullptr);
  return s.empty() ? s : s.substr(1);
}

std::string verifier_env::insn_str(int idx) const {
  disasm_opts o;
  o.kfunc_name = [this](int32_t id) -> const char* {
    const kfunc_desc* k = rt.kfuncs().by_id(static_cast<uint32_t>(id));
    return k ? k->name.c_str() : nullptr;
  };
  std::string t = disasm_insn(insns.data(), insns.size(), static_cast<size_t>(idx), o);
  if (t.ends_with(" ll")) t.resize(t.size() - 3);  // the kernel's log prints ld_imm64 without it
  // a subprogram's address as the kernel prints it: the raw immediate ("r2 = 0x6")
  if (const size_t at = t.find("func["); at != std::string::npos && t.ends_with("]"))
    t = t.substr(0, at) + fmt::format("{:#x}", static_cast<uint32_t>(insns[idx].imm));
  return t;
}

}  // namespace mmbpf::bpf::verifier
