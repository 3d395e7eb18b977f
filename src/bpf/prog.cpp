// Loading a program: decode, then translate (the kernel's resolve_pseudo_ldimm64 and
// fixup_kfunc_call): map fds and indices become map addresses, direct map values become value
// addresses, BPF_PSEUDO_FUNC becomes the address of the callee's first translated instruction,
// kfunc BTF ids become registry indices.
#include "bpf/prog.h"

#include <fmt/format.h>

#include "bpf/core.h"
#include "bpf/decoder.h"
#include "bpf/runtime.h"

namespace mmbpf::bpf {

result<std::unique_ptr<bpf_prog>> bpf_prog::load(runtime& rt, std::vector<insn> insns,
                                                 prog_load_opts opts) {
  auto info = decode(insns, rt);
  if (!info) return error{fmt::format("prog '{}': {}", opts.name, info.err().msg)};

  auto p = std::make_unique<bpf_prog>();
  p->name = std::move(opts.name);
  p->rt = &rt;
  p->subprog_starts = std::move(info->subprog_starts);
  p->max_call_depth = info->max_call_depth;
  p->insns = std::move(insns);
  p->xlated = p->insns;
  auto fail = [&](size_t pc, std::string msg) {
    return error{fmt::format("prog '{}': insn {}: {}", p->name, pc, msg)};
  };

  for (size_t pc = 0; pc < p->xlated.size(); ++pc) {
    insn& i = p->xlated[pc];
    if (is_core_poison(i)) {  // runs as a kfunc that faults the program
      i.src_reg = BPF_PSEUDO_KFUNC_CALL;
      i.imm = rt.kfuncs().index_of(rt.kfuncs().by_name(core_poison_kfunc)->btf_id);
      continue;
    }
    if (is_kfunc_call(i)) {
      i.imm = rt.kfuncs().index_of(static_cast<uint32_t>(i.imm));
      continue;
    }
    if (!is_ld_imm64(i)) continue;
    insn& hi = p->xlated[pc + 1];
    uint64_t value = 0;
    switch (i.src_reg) {
      case 0:
        ++pc;
        continue;
      case BPF_PSEUDO_MAP_FD:
      case BPF_PSEUDO_MAP_IDX:
      case BPF_PSEUDO_MAP_VALUE:
      case BPF_PSEUDO_MAP_IDX_VALUE: {
        int fd = i.imm;
        const bool by_idx =
            i.src_reg == BPF_PSEUDO_MAP_IDX || i.src_reg == BPF_PSEUDO_MAP_IDX_VALUE;
        if (by_idx) {
          if (i.imm < 0 || static_cast<size_t>(i.imm) >= opts.fd_array.size())
            return fail(pc, fmt::format("map index {} is outside fd_array of {}", i.imm,
                                        opts.fd_array.size()));
          fd = opts.fd_array[i.imm];
        }
        bpf_map* m = rt.map(fd);
        if (!m) return fail(pc, fmt::format("fd {} is not pointing to valid bpf_map", fd));
        value = reinterpret_cast<uint64_t>(m);
        if (i.src_reg == BPF_PSEUDO_MAP_VALUE || i.src_reg == BPF_PSEUDO_MAP_IDX_VALUE) {
          // Direct value access: array maps only (map_direct_value_addr), offset below value_size.
          const uint32_t off = static_cast<uint32_t>(hi.imm);
          if (m->type() != BPF_MAP_TYPE_ARRAY)
            return fail(pc,
                        fmt::format("map '{}' does not support direct value access", m->name()));
          if (off >= m->attr().value_size)
            return fail(pc, fmt::format("invalid access to map value pointer, value_size={} off={}",
                                        m->attr().value_size, off));
          const uint32_t zero = 0;
          value = reinterpret_cast<uint64_t>(m->lookup_elem(&zero)) + off;
        }
        break;
      }
      case BPF_PSEUDO_BTF_ID: {
        // A kernel variable's address, or a kfunc's (bpf_ksym_exists tests it for non-zero).
        const uint32_t id = static_cast<uint32_t>(i.imm);
        if (const ksym_var* v = rt.kfuncs().var_by_id(id)) {
          value = reinterpret_cast<uint64_t>(v->addr);
        } else if (const kfunc_desc* k = rt.kfuncs().by_id(id)) {
          value = reinterpret_cast<uint64_t>(k->fn);
        } else {
          return fail(pc, fmt::format("btf_id {} is not a registered kernel variable", i.imm));
        }
        break;
      }
      case BPF_PSEUDO_FUNC:
        value = reinterpret_cast<uint64_t>(&p->xlated[pc + i.imm + 1]);
        break;
    }
    i.src_reg = 0;
    i.imm = static_cast<int32_t>(value);
    hi.imm = static_cast<int32_t>(value >> 32);
    ++pc;
  }
  return p;
}

}  // namespace mmbpf::bpf
