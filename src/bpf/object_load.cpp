// bpf_object load: maps created, CO-RE applied against the model's BTF, each program assembled
// from its function plus the subprograms it reaches (libbpf's bpf_object__relocate), externs
// bound through the kfunc registry, programs loaded, struct_ops instances bound to programs.
//
// Simplified: an unresolved __weak kfunc call becomes a call to a kfunc that faults the run (the
// kernel's verifier instead proves such a call unreachable).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "bpf/core.h"
#include "bpf/object.h"
#include "bpf/object_elf.h"
#include "bpf/runtime.h"
#include "bpf/struct_ops.h"
#include "bpf/verifier/verifier.h"
#include "bpf/vmlinux_btf.h"

namespace mmbpf::bpf {
namespace {


// Builds one program's instruction stream: its function first, then every function it calls or
// takes the address of, each appended once.
class linker {
 public:
  linker(bpf_object::elf_state& st, const std::vector<std::vector<insn>>& sec_insns,
         const std::vector<obj_map>& maps, runtime& rt, const std::string& obj_name)
      : st_(st), sec_insns_(sec_insns), maps_(maps), rt_(rt), obj_(obj_name) {}

  result<void> link(size_t sec, const elf_func& f, obj_prog& p) {
    prog_ = &p;
    out_.clear();
    placed_.clear();
    if (auto r = append(sec, f); !r) return r;
    p.insns = std::move(out_);
    return {};
  }

 private:
  template <class... A>
  error fail(fmt::format_string<A...> f, A&&... a) {
    return error{fmt::format("{}: prog '{}': {}", obj_, prog_->name,
                             fmt::format(f, std::forward<A>(a)...))};
  }

  const elf_func* func_at(size_t sec, uint32_t insn_idx) const {
    auto it = st_.funcs.find(sec);
    if (it == st_.funcs.end()) return nullptr;
    for (const elf_func& f : it->second)
      if (insn_idx >= f.start && insn_idx < f.end) return &f;
    return nullptr;
  }

  // The index in out_ of instruction `target` of section `sec`, appending its function first.
  result<uint32_t> place(size_t sec, uint32_t target, const std::string& what) {
    const elf_func* f = func_at(sec, target);
    if (!f) return fail("{} points to instruction {} of '{}', which is in no function", what, target, st_.secs[sec].name);
    auto key = std::make_pair(sec, f->start);
    auto it = placed_.find(key);
    if (it == placed_.end()) {
      auto r = append(sec, *f);
      if (!r) return r.err();
      it = placed_.find(key);
    }
    return it->second + (target - f->start);
  }

  result<void> append(size_t sec, const elf_func& f) {
    const uint32_t base = static_cast<uint32_t>(out_.size());
    placed_[{sec, f.start}] = base;
    const auto& code = sec_insns_[sec];
    out_.insert(out_.end(), code.begin() + f.start, code.begin() + f.end);
    map_lines(sec, f, base);
    std::vector<bool> relocated(f.end - f.start);
    if (auto it = st_.relocs.find(sec); it != st_.relocs.end()) {
      for (const elf_reloc& r : it->second) {
        const uint32_t idx = static_cast<uint32_t>(r.offset / 8);
        if (idx < f.start || idx >= f.end) continue;
        if (r.offset % 8) return fail("relocation at offset {} of '{}' is not on an instruction", r.offset, st_.secs[sec].name);
        relocated[idx - f.start] = true;
        if (auto res = apply(sec, r, base + idx - f.start); !res) return res;
      }
    }
    // Calls and function addresses within one section need no relocation: clang encodes them
    // relative to the section, and they must follow their callee wherever it is placed.
    for (uint32_t k = 0; k < f.end - f.start; ++k) {
      const insn& i = out_[base + k];
      if (relocated[k] || !(is_pseudo_call(i) || is_pseudo_func(i))) continue;
      const int64_t target = static_cast<int64_t>(f.start + k) + i.imm + 1;
      if (target < 0 || static_cast<uint64_t>(target) >= code.size())
        return fail("insn {}: call to instruction {} outside '{}'", base + k, target, st_.secs[sec].name);
      auto dst = place(sec, static_cast<uint32_t>(target), fmt::format("call at insn {}", base + k));
      if (!dst) return dst.err();
      out_[base + k].imm = static_cast<int32_t>(*dst) - static_cast<int32_t>(base + k) - 1;
    }
    return {};
  }

  void map_lines(size_t sec, const elf_func& f, uint32_t base) {
    auto it = st_.ext.line_info.find(st_.secs[sec].name);
    if (it == st_.ext.line_info.end()) return;
    for (const line_info_rec& l : it->second) {
      const uint32_t idx = l.insn_off / 8;
      if (idx < f.start || idx >= f.end) continue;
      prog_->lines.push_back({base + idx - f.start, std::string(l.file), std::string(l.line),
                              l.line_num, l.line_col});
    }
  }

  result<void> apply(size_t sec, const elf_reloc& r, uint32_t at) {
    const elf_symbol& sym = st_.syms[r.sym];
    const std::string sname = sym.name.empty() ? st_.secs[sym.shndx < st_.secs.size() ? sym.shndx : 0].name : sym.name;
    insn& i = out_[at];
    if (r.type == R_BPF_64_32) {
      if (!is_call(i)) return fail("insn {}: R_BPF_64_32 relocation against '{}' is not on a call", at, sname);
      if (sym.shndx == SHN_UNDEF) return bind_kfunc_call(at, sym);
      if (sym.shndx >= st_.secs.size() || !st_.secs[sym.shndx].exec())
        return fail("insn {}: call to '{}', which is not code", at, sname);
      const int64_t target = static_cast<int64_t>(sym.value / 8) + i.imm + 1;
      if (target < 0 || static_cast<uint64_t>(target) * 8 >= st_.secs[sym.shndx].data.size())
        return fail("insn {}: call to '{}' lands outside its section", at, sname);
      auto dst = place(sym.shndx, static_cast<uint32_t>(target), fmt::format("call at insn {}", at));
      if (!dst) return dst.err();
      insn& c = out_[at];  // out_ may have grown
      c.src_reg = BPF_PSEUDO_CALL;
      c.imm = static_cast<int32_t>(*dst) - static_cast<int32_t>(at) - 1;
      return {};
    }
    if (r.type != R_BPF_64_64)
      return fail("insn {}: relocation type {} against '{}' is not supported in code", at, r.type, sname);
    if (!is_ld_imm64(i) || at + 1 >= out_.size())
      return fail("insn {}: R_BPF_64_64 relocation against '{}' is not on an ld_imm64", at, sname);
    if (sym.shndx == SHN_UNDEF) return bind_ksym(at, sym);
    if (sym.shndx >= st_.secs.size()) return fail("insn {}: '{}' has no section", at, sname);
    const elf_section& target = st_.secs[sym.shndx];
    if (target.name == ".maps") {
      for (const obj_map& m : maps_)
        if (m.sec_name == ".maps" && m.name == sym.name) {
          out_[at].src_reg = BPF_PSEUDO_MAP_FD;
          out_[at].imm = m.fd;
          out_[at + 1].imm = 0;
          return {};
        }
      return fail("insn {}: map '{}' is not defined in .maps", at, sname);
    }
    if (auto dm = st_.data_map.find(sym.shndx); dm != st_.data_map.end()) {
      const uint64_t off = sym.value + static_cast<uint32_t>(i.imm);
      if (off >= target.data.size()) return fail("insn {}: offset {} is outside '{}'", at, off, target.name);
      out_[at].src_reg = BPF_PSEUDO_MAP_VALUE;
      out_[at].imm = maps_[dm->second].fd;
      out_[at + 1].imm = static_cast<int32_t>(off);
      return {};
    }
    if (target.exec()) {  // a callback: address of a function
      const uint64_t byte = sym.value + static_cast<uint32_t>(i.imm);
      if (byte % 8 || byte >= target.data.size()) return fail("insn {}: function address into '{}' is misaligned or outside it", at, target.name);
      auto dst = place(sym.shndx, static_cast<uint32_t>(byte / 8), fmt::format("function pointer at insn {}", at));
      if (!dst) return dst.err();
      out_[at].src_reg = BPF_PSEUDO_FUNC;
      out_[at].imm = static_cast<int32_t>(*dst) - static_cast<int32_t>(at) - 1;
      out_[at + 1].imm = 0;
      return {};
    }
    return fail("insn {}: relocation against '{}' in section '{}' is not supported", at, sname, target.name);
  }

  // A call to an extern: a kfunc, bound by name.
  result<void> bind_kfunc_call(uint32_t at, const elf_symbol& sym) {
    insn& i = out_[at];
    i.off = 0;
    i.src_reg = BPF_PSEUDO_KFUNC_CALL;
    if (const kfunc_desc* k = rt_.kfuncs().by_name(sym.name)) {
      i.imm = static_cast<int32_t>(k->btf_id);
      note_kfunc(sym.name);
      return {};
    }
    if (sym.bind == STB_WEAK) {
      i.imm = static_cast<int32_t>(rt_.kfuncs().by_name(unresolved_weak_kfunc)->btf_id);
      return {};
    }
    return fail("kfunc '{}' is not found in the kernel's registry", sym.name);
  }

  // ld_imm64 of an extern: a ksym variable, or a kfunc's address (bpf_ksym_exists).
  result<void> bind_ksym(uint32_t at, const elf_symbol& sym) {
    insn& i = out_[at];
    if (const kfunc_desc* k = rt_.kfuncs().by_name(sym.name)) {
      i.src_reg = BPF_PSEUDO_BTF_ID;
      i.imm = static_cast<int32_t>(k->btf_id);
      out_[at + 1].imm = 0;
      return {};
    }
    if (const ksym_var* v = rt_.kfuncs().var_by_name(sym.name)) {
      i.src_reg = BPF_PSEUDO_BTF_ID;
      i.imm = static_cast<int32_t>(v->btf_id);
      out_[at + 1].imm = 0;
      return {};
    }
    if (sym.bind == STB_WEAK) {  // libbpf: an unresolved weak ksym reads as 0
      i.src_reg = 0;
      i.imm = 0;
      out_[at + 1].imm = 0;
      return {};
    }
    return fail("extern '{}' is not found in the kernel", sym.name);
  }

  void note_kfunc(const std::string& n) {
    auto& v = prog_->kfuncs;
    if (std::find(v.begin(), v.end(), n) == v.end()) v.push_back(n);
  }

  bpf_object::elf_state& st_;
  const std::vector<std::vector<insn>>& sec_insns_;
  const std::vector<obj_map>& maps_;
  runtime& rt_;
  const std::string& obj_;
  obj_prog* prog_ = nullptr;
  std::vector<insn> out_;
  std::map<std::pair<size_t, uint32_t>, uint32_t> placed_;
};

// Reads of the context beyond the member's arguments: the entry r1 is the context (an array of
// u64 arguments); loads through it before r1 is overwritten name the argument they read.
std::optional<uint32_t> max_ctx_arg_read(const std::vector<insn>& p) {
  std::optional<uint32_t> max;
  bool ctx_regs[max_reg] = {false, true};
  for (const insn& i : p) {
    const uint8_t c = cls(i.code);
    if (c == BPF_JMP || c == BPF_JMP32) break;  // first basic block only
    if (c == BPF_LDX && ctx_regs[i.src_reg] && i.off >= 0) {
      const uint32_t arg = static_cast<uint32_t>(i.off) / 8;
      max = std::max(max.value_or(0), arg);
    }
    if ((c == BPF_ALU64 || c == BPF_ALU || c == BPF_LDX || c == BPF_LD) && i.dst_reg < max_reg)
      ctx_regs[i.dst_reg] = c == BPF_ALU64 && op(i.code) == BPF_MOV && src_bit(i.code) == BPF_X &&
                            i.off == 0 && ctx_regs[i.src_reg];
  }
  return max;
}

// The struct a BTF type points to, by name without a ___flavor ("" when it is not a pointer
// to a named struct or union).
std::string_view pointee_struct(const btf_handle& b, uint32_t id) {
  const struct btf_type* t = b.type(b.skip_mods_and_typedefs(id));
  if (!t || !btf_is_ptr(t)) return {};
  const uint32_t to = b.skip_mods_and_typedefs(t->type);
  const struct btf_type* s = b.type(to);
  if (!s || !(btf_is_struct(s) || btf_is_union(s) || btf_is_fwd(s))) return {};
  const std::string_view n = b.name(to);
  return n.substr(0, n.find("___"));
}

// The prototype of a function-pointer member, or nullptr.
const struct btf_type* member_proto(const btf_handle& b, const struct btf_member& m) {
  const struct btf_type* p = b.type(b.skip_mods_and_typedefs(m.type));
  const struct btf_type* f = p && btf_is_ptr(p) ? b.type(b.skip_mods_and_typedefs(p->type)) : nullptr;
  return f && btf_is_func_proto(f) ? f : nullptr;
}

// Whether the object's struct `lt` (in lb) can be bound to the kernel's struct `kt` (in kb):
// every member of lt exists in kt, and the function members' parameters that both prototypes
// have point to the same structs where they point to structs (so a v2 handler, whose first
// argument is a struct bpf_oom_ctx *, is not taken for a v3 one, whose first is an oom_control *).
bool struct_ops_shape_matches(const btf_handle& lb, const struct btf_type* lt, const btf_handle& kb,
                              const struct btf_type* kt) {
  for (uint16_t i = 0; i < btf_vlen(lt); ++i) {
    const struct btf_member& lm = btf_members(lt)[i];
    const struct btf_member* km = nullptr;
    for (uint16_t k = 0; k < btf_vlen(kt) && !km; ++k)
      if (kb.str(btf_members(kt)[k].name_off) == lb.str(lm.name_off)) km = &btf_members(kt)[k];
    if (!km) return false;
    const struct btf_type* lf = member_proto(lb, lm);
    const struct btf_type* kf = member_proto(kb, *km);
    if (!lf || !kf) continue;
    for (uint16_t a = 0; a < std::min(btf_vlen(lf), btf_vlen(kf)); ++a) {
      const std::string_view ls = pointee_struct(lb, btf_params(lf)[a].type);
      const std::string_view ks = pointee_struct(kb, btf_params(kf)[a].type);
      if (!ls.empty() && !ks.empty() && ls != ks) return false;
    }
  }
  return true;
}

}  // namespace

result<void> bpf_object::load(runtime& rt, load_opts lo) {
  if (loaded_) return error{fmt::format("{}: already loaded", name_)};
  elf_state& st = *elf_;

  // Maps, with global data written in.
  for (obj_map& m : maps_) {
    auto fd = rt.create_map(m.attr);
    if (!fd) return error{fmt::format("{}: map '{}': {}", name_, m.name, fd.err().msg)};
    m.fd = *fd;
    if (m.kind != obj_map_kind::user) {
      const uint32_t zero = 0;
      if (long e = rt.map(m.fd)->update_elem(&zero, m.image.data(), BPF_ANY))
        return error{fmt::format("{}: map '{}': initial value not written ({})", name_, m.name, e)};
    }
  }

  // Sections' code with CO-RE applied against the model's BTF.
  std::vector<std::vector<insn>> sec_insns(st.secs.size());
  for (auto& [idx, fs] : st.funcs) {
    const elf_section& s = st.secs[idx];
    auto& code = sec_insns[idx];
    code.resize(s.data.size() / sizeof(insn));
    std::memcpy(code.data(), s.data.data(), code.size() * sizeof(insn));
    auto rel = st.ext.core_relos.find(s.name);
    if (rel == st.ext.core_relos.end() || rel->second.empty()) continue;
    std::vector<uint32_t> entries;
    for (const elf_func& f : fs) entries.push_back(f.start);
    auto r = core_relocate(code, rel->second, btf_, vmlinux_btf(), s.name, entries);
    if (!r) return error{fmt::format("{}: {}", name_, r.err().msg)};
  }

  // Programs: link, then load.
  linker lk(st, sec_insns, maps_, rt, name_);
  size_t pi = 0;
  for (auto& [idx, fs] : st.funcs) {
    if (st.secs[idx].name == ".text") continue;
    for (const elf_func& f : fs) {
      obj_prog& p = progs_[pi++];
      if (auto r = lk.link(idx, f, p); !r) return r;
      // The verifier's rule: a KF_SLEEPABLE kfunc only from a sleepable program.
      for (const std::string& kn : p.kfuncs) {
        const kfunc_desc* k = rt.kfuncs().by_name(kn);
        if (k && (k->flags & KF_SLEEPABLE) && !p.sleepable)
          return error{fmt::format("{}: program '{}' in '{}': program must be sleepable to call sleepable kfunc {}",
                                   name_, p.name, p.sec_name, kn)};
      }
      auto lp = bpf_prog::load(rt, p.insns, {.name = p.name});
      if (!lp) return error{fmt::format("{}: {}", name_, lp.err().msg)};
      p.prog = std::move(lp.value());
    }
  }

  // struct_ops: bind each instance's programs to members of the registered type.
  const btf_handle& kbtf = vmlinux_btf();
  for (obj_struct_ops& o : ops_) {
    auto fail = [&](std::string msg) {
      return error{fmt::format("{}: struct_ops '{}': {}", name_, o.name, msg)};
    };
    const struct_ops_type* type = rt.struct_ops().find(o.type_name);
    if (!type) return fail(fmt::format("type '{}' is not a registered struct_ops type", o.type_name));
    // The shape: the first the object's own struct fits; when none does, the current one, whose
    // member checks below then name what is wrong.
    const uint32_t lid = btf_.find(o.local_type, BTF_KIND_STRUCT);
    const struct btf_type* lt = lid ? btf_.type(lid) : nullptr;
    const std::vector<std::string> only{o.type_name};
    const std::vector<std::string>& shapes = type->shapes.empty() ? only : type->shapes;
    o.shape = shapes.front();
    for (const std::string& sh : shapes) {
      const uint32_t id = kbtf.find(sh, BTF_KIND_STRUCT);
      if (id && lt && struct_ops_shape_matches(btf_, lt, kbtf, kbtf.type(id))) {
        o.shape = sh;
        break;
      }
    }
    const uint32_t kid = kbtf.find(o.shape, BTF_KIND_STRUCT);
    if (!kid) return fail(fmt::format("struct {} is not in the kernel's BTF", o.shape));
    const struct btf_type* kt = kbtf.type(kid);
    auto kmember = [&](std::string_view n) -> const struct btf_member* {
      const struct btf_member* m = btf_members(kt);
      for (uint16_t k = 0; k < btf_vlen(kt); ++k)
        if (kbtf.str(m[k].name_off) == n) return &m[k];
      return nullptr;
    };
    for (const auto& mp : o.progs) {
      const struct btf_member* km = kmember(mp.member);
      if (!km) return fail(fmt::format("member '{}' does not exist in struct {}", mp.member, o.type_name));
      const struct btf_type* pt = kbtf.type(kbtf.skip_mods_and_typedefs(km->type));
      const struct btf_type* fp = pt && btf_is_ptr(pt) ? kbtf.type(kbtf.skip_mods_and_typedefs(pt->type)) : nullptr;
      if (!fp || !btf_is_func_proto(fp)) return fail(fmt::format("member '{}' of struct {} is not a function pointer", mp.member, o.type_name));
      obj_prog* p = find_program(mp.prog);
      if (!p || !p->struct_ops)
        return fail(fmt::format("member '{}' is set to '{}', which is not a struct_ops program", mp.member, mp.prog));
      const struct_ops_member_rule* rule = type->rule(mp.member);
      if (p->sleepable && !(rule && rule->sleepable))
        return fail(fmt::format("member '{}' cannot be sleepable, but program '{}' is in '{}'", mp.member, mp.prog, p->sec_name));
      const uint32_t nargs = btf_vlen(fp);
      if (auto mx = max_ctx_arg_read(p->insns); mx && *mx >= nargs)
        return fail(fmt::format("program '{}' reads argument {} of member '{}', whose prototype has {}", mp.prog, *mx + 1, mp.member, nargs));
      if (!p->ops_member.empty() && (p->ops_member != mp.member || p->ops_type != o.type_name))
        return fail(fmt::format("program '{}' is already bound to {}.{}", mp.prog, p->ops_type, p->ops_member));
      p->ops_type = o.type_name;
      p->ops_member = mp.member;
      p->ops_nargs = nargs;
      p->ops_func_proto_id = kbtf.skip_mods_and_typedefs(pt->type);
    }
    for (const auto& r : type->rules) {
      if (!r.required) continue;
      const bool set = std::any_of(o.progs.begin(), o.progs.end(), [&](const auto& mp) { return mp.member == r.name; });
      if (!set) return fail(fmt::format("required member '{}' has no program", r.name));
    }
    // Data members: each nonzero one must exist in the kernel's struct with the same size.
    for (uint16_t k = 0; lt && k < btf_vlen(lt); ++k) {
      const struct btf_member& lm = btf_members(lt)[k];
      const std::string mn(btf_.str(lm.name_off));
      const struct btf_type* mt = btf_.type(btf_.skip_mods_and_typedefs(lm.type));
      if (mt && btf_is_ptr(mt)) continue;  // function pointers, bound above
      auto sz = btf_.size_of(lm.type);
      const uint32_t off = btf_member_bit_offset(lt, k) / 8;
      if (!sz || off > o.data.size() || *sz > o.data.size() - off) continue;
      const bool nonzero = std::any_of(o.data.begin() + off, o.data.begin() + off + *sz, [](uint8_t b) { return b != 0; });
      if (!nonzero) continue;
      const struct btf_member* km = kmember(mn);
      if (!km) return fail(fmt::format("data member '{}' does not exist in struct {}", mn, o.type_name));
      auto ksz = kbtf.size_of(km->type);
      if (!ksz || *ksz != *sz) return fail(fmt::format("data member '{}' is {} bytes here and {} in struct {}", mn, *sz, ksz ? *ksz : 0, o.type_name));
    }
  }
  // Every struct_ops program is proven safe for its member before anything can run it.
  for (obj_prog& p : progs_) {
    if (!lo.verify || p.ops_member.empty()) continue;
    const struct_ops_type* type = rt.struct_ops().find(p.ops_type);
    verifier::verify_opts vo;
    vo.log_level = lo.log_level;
    if (lo.log_level) {
      vo.line_info.resize(p.insns.size());
      for (const obj_line& l : p.lines)
        if (l.insn < vo.line_info.size() && !l.src.empty()) {
          const size_t b = l.src.find_first_not_of(" \t");
          const size_t slash = l.file.rfind('/');
          vo.line_info[l.insn] = fmt::format("{} @ {}:{}", b == std::string::npos ? "" : l.src.substr(b),
                                             slash == std::string::npos ? l.file : l.file.substr(slash + 1),
                                             l.line);
        }
    }
    vo.ctx.k = verifier::prog_context::kind::struct_ops;
    vo.ctx.func_proto_id = p.ops_func_proto_id;
    vo.ctx.name = p.ops_type + "." + p.ops_member;
    vo.ctx.sleepable = p.sleepable;
    if (type) vo.ctx.writable = type->writable;
    verifier::verify_result vr = verifier::verify(*p.prog, vo);
    p.verifier_log = std::move(vr.log);
    if (!vr.ok)
      return error{fmt::format("{}: program '{}' ({}): verifier: {}", name_, p.name, vo.ctx.name, vr.error)};
    for (uint32_t k : vr.probe_mem_insns) {  // loads through kernel-object pointers
      insn& x = p.prog->xlated[k];
      if (mode(x.code) == BPF_MEM) x.code = static_cast<uint8_t>(BPF_LDX | BPF_PROBE_MEM | size_of(x.code));
    }
  }
  loaded_ = true;
  return {};
}

}  // namespace mmbpf::bpf
