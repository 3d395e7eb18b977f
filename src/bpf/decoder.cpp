// Structural validation of eBPF programs; see decoder.h for the rules.
#include "bpf/decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "bpf/core.h"
#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

struct checker {
  std::span<const insn> p;
  const runtime& rt;

  template <class... A>
  error fail(size_t pc, fmt::format_string<A...> f, A&&... a) const {
    return error{fmt::format("insn {}: {}", pc, fmt::format(f, std::forward<A>(a)...))};
  }

  // Register fields: 0..10; a written dst may not be r10.
  std::optional<error> regs(size_t pc, const insn& i, bool dst_written, bool src_used) const {
    if (i.dst_reg >= max_reg) return fail(pc, "R{} is invalid", i.dst_reg);
    if (src_used && i.src_reg >= max_reg) return fail(pc, "R{} is invalid", i.src_reg);
    if (dst_written && i.dst_reg == frame_pointer) return fail(pc, "frame pointer is read only");
    return std::nullopt;
  }

  std::optional<error> alu(size_t pc, const insn& i) const {
    const bool is64 = cls(i.code) == BPF_ALU64;
    const bool x = src_bit(i.code) == BPF_X;
    const uint8_t o = op(i.code);
    switch (o) {
      case BPF_NEG:
        if (x || i.src_reg || i.off || i.imm) return fail(pc, "BPF_NEG uses reserved fields");
        return regs(pc, i, true, false);
      case BPF_END:
        if (i.src_reg || i.off || (i.imm != 16 && i.imm != 32 && i.imm != 64) || (is64 && x))
          return fail(pc, "BPF_END uses reserved fields");
        return regs(pc, i, true, false);
      case BPF_MOV:
        if (x) {
          const bool sx_ok = i.off == 0 || i.off == 8 || i.off == 16 || (is64 && i.off == 32);
          if (i.imm || !sx_ok) return fail(pc, "BPF_MOV uses reserved fields");
        } else if (i.src_reg || i.off) {
          return fail(pc, "BPF_MOV uses reserved fields");
        }
        return regs(pc, i, true, x);
      case BPF_ADD:
      case BPF_SUB:
      case BPF_MUL:
      case BPF_OR:
      case BPF_AND:
      case BPF_LSH:
      case BPF_RSH:
      case BPF_XOR:
      case BPF_ARSH:
      case BPF_DIV:
      case BPF_MOD: {
        const bool signed_ok = (o == BPF_DIV || o == BPF_MOD) && i.off == 1;
        if ((i.off && !signed_ok) || (x ? i.imm != 0 : i.src_reg != 0))
          return fail(pc, "BPF_ALU uses reserved fields");
        return regs(pc, i, true, x);
      }
      default:
        return fail(pc, "unknown opcode {:02x}", i.code);
    }
  }

  std::optional<error> mem(size_t pc, const insn& i) const {
    const uint8_t c = cls(i.code), m = mode(i.code);
    if (c == BPF_LDX) {
      if (m != BPF_MEM && !(m == BPF_MEMSX && size_of(i.code) != BPF_DW))
        return fail(pc, "unknown opcode {:02x}", i.code);
      if (i.imm) return fail(pc, "BPF_LDX uses reserved fields");
      return regs(pc, i, true, true);
    }
    if (c == BPF_ST) {
      if (m != BPF_MEM) return fail(pc, "unknown opcode {:02x}", i.code);
      if (i.src_reg) return fail(pc, "BPF_ST uses reserved fields");
      return regs(pc, i, false, false);
    }
    // BPF_STX
    if (m == BPF_MEM) {
      if (i.imm) return fail(pc, "BPF_STX uses reserved fields");
      return regs(pc, i, false, true);
    }
    if (m != BPF_ATOMIC) return fail(pc, "unknown opcode {:02x}", i.code);
    if (size_of(i.code) != BPF_W && size_of(i.code) != BPF_DW)
      return fail(pc, "invalid atomic operand size");
    switch (i.imm) {
      case BPF_ADD:
      case BPF_OR:
      case BPF_AND:
      case BPF_XOR:
      case BPF_ADD | BPF_FETCH:
      case BPF_OR | BPF_FETCH:
      case BPF_AND | BPF_FETCH:
      case BPF_XOR | BPF_FETCH:
      case BPF_XCHG:
      case BPF_CMPXCHG:
        break;
      default:
        return fail(pc, "BPF_ATOMIC uses invalid atomic opcode {:02x}", i.imm);
    }
    return regs(pc, i, false, true);
  }

  std::optional<error> ld(size_t pc, const insn& i) const {
    if (i.code != (BPF_LD | BPF_IMM | BPF_DW)) {
      const uint8_t m = mode(i.code);
      if (m == BPF_ABS || m == BPF_IND)
        return fail(pc,
                    "BPF_LD_[ABS|IND] (legacy packet access) is not supported: "
                    "there are no socket buffers here");
      return fail(pc, "unknown opcode {:02x}", i.code);
    }
    if (pc + 1 >= p.size()) return fail(pc, "invalid bpf_ld_imm64 insn");
    const insn& hi = p[pc + 1];
    if (hi.code || hi.dst_reg || hi.src_reg || hi.off || i.off)
      return fail(pc, "invalid bpf_ld_imm64 insn");
    switch (i.src_reg) {
      case 0:
      case BPF_PSEUDO_MAP_VALUE:
      case BPF_PSEUDO_MAP_IDX_VALUE:
        break;
      case BPF_PSEUDO_MAP_FD:
      case BPF_PSEUDO_MAP_IDX:
      case BPF_PSEUDO_BTF_ID:
      case BPF_PSEUDO_FUNC:
        if (hi.imm) return fail(pc, "unrecognized bpf_ld_imm64 insn");
        break;
      default:
        return fail(pc, "unrecognized bpf_ld_imm64 insn");
    }
    if (i.src_reg == BPF_PSEUDO_FUNC) {
      const int64_t t = static_cast<int64_t>(pc) + i.imm + 1;
      if (t < 0 || t >= static_cast<int64_t>(p.size()))
        return fail(pc, "BPF_PSEUDO_FUNC target {} out of range", t);
    }
    return regs(pc, i, true, false);
  }

  std::optional<error> jmp(size_t pc, const insn& i) const {
    const bool j32 = cls(i.code) == BPF_JMP32;
    const bool x = src_bit(i.code) == BPF_X;
    switch (op(i.code)) {
      case BPF_JA:
        if (x || i.src_reg || i.dst_reg || (j32 ? i.off != 0 : i.imm != 0))
          return fail(pc, "BPF_JA uses reserved fields");
        return std::nullopt;
      case BPF_CALL:
        if (j32 || x) return fail(pc, "unknown opcode {:02x}", i.code);
        if (i.dst_reg || i.off || i.src_reg > BPF_PSEUDO_KFUNC_CALL)
          return fail(pc, "BPF_CALL uses reserved fields");
        // A call poisoned by a failed CO-RE relocation loads; it faults if it is ever reached.
        if (i.src_reg == 0 && !rt.helper(i.imm) && !is_core_poison(i))
          return fail(pc, "invalid func unknown#{}", i.imm);
        if (i.src_reg == BPF_PSEUDO_KFUNC_CALL && !rt.kfuncs().by_id(static_cast<uint32_t>(i.imm)))
          return fail(pc, "kernel function btf_id {} is not registered", i.imm);
        if (i.src_reg == BPF_PSEUDO_CALL) {
          const int64_t t = static_cast<int64_t>(pc) + i.imm + 1;
          if (t < 0 || t >= static_cast<int64_t>(p.size()))
            return fail(pc, "call to invalid destination {}", t);
        }
        return std::nullopt;
      case BPF_EXIT:
        if (j32 || x) return fail(pc, "unknown opcode {:02x}", i.code);
        if (i.src_reg || i.dst_reg || i.off || i.imm)
          return fail(pc, "BPF_EXIT uses reserved fields");
        return std::nullopt;
      case BPF_JEQ:
      case BPF_JGT:
      case BPF_JGE:
      case BPF_JSET:
      case BPF_JNE:
      case BPF_JSGT:
      case BPF_JSGE:
      case BPF_JLT:
      case BPF_JLE:
      case BPF_JSLT:
      case BPF_JSLE:
        if (x ? i.imm != 0 : i.src_reg != 0) return fail(pc, "BPF_JMP/JMP32 uses reserved fields");
        return regs(pc, i, false, x);
      default:
        return fail(pc, "unknown opcode {:02x}", i.code);
    }
  }

  std::optional<error> one(size_t pc) const {
    const insn& i = p[pc];
    switch (cls(i.code)) {
      case BPF_ALU:
      case BPF_ALU64:
        return alu(pc, i);
      case BPF_LDX:
      case BPF_ST:
      case BPF_STX:
        return mem(pc, i);
      case BPF_LD:
        return ld(pc, i);
      default:
        return jmp(pc, i);
    }
  }
};

// Jump target of a branch instruction; nullopt for instructions that do not branch.
std::optional<int64_t> jump_target(const insn& i, size_t pc) {
  const uint8_t c = cls(i.code);
  if (c != BPF_JMP && c != BPF_JMP32) return std::nullopt;
  const uint8_t o = op(i.code);
  if (o == BPF_CALL || o == BPF_EXIT) return std::nullopt;
  const int64_t off = (c == BPF_JMP32 && o == BPF_JA) ? i.imm : i.off;
  return static_cast<int64_t>(pc) + off + 1;
}

bool ends_subprog(const insn& i) {
  const uint8_t c = cls(i.code);
  return (c == BPF_JMP || c == BPF_JMP32) && (op(i.code) == BPF_EXIT || op(i.code) == BPF_JA);
}

}  // namespace

result<decode_info> decode(std::span<const insn> p, const runtime& rt) {
  if (p.empty()) return error{"empty program"};
  if (p.size() > max_prog_insns)
    return error{
        fmt::format("program of {} insns is too large (limit {})", p.size(), max_prog_insns)};
  checker ck{p, rt};
  std::vector<bool> second_slot(p.size());
  for (size_t pc = 0; pc < p.size(); ++pc) {
    if (auto e = ck.one(pc)) return *e;
    if (is_ld_imm64(p[pc])) second_slot[++pc] = true;
  }

  // Subprograms start at 0 and at every bpf-to-bpf call or BPF_PSEUDO_FUNC target.
  decode_info info;
  info.subprog_starts.push_back(0);
  for (size_t pc = 0; pc < p.size(); ++pc) {
    const insn& i = p[pc];
    if (is_pseudo_call(i) || is_pseudo_func(i)) {
      const size_t t = pc + i.imm + 1;
      if (second_slot[t]) return ck.fail(pc, "call into the middle of ldimm64 insn {}", t - 1);
      info.subprog_starts.push_back(static_cast<uint32_t>(t));
    }
    if (is_ld_imm64(i)) ++pc;
  }
  std::sort(info.subprog_starts.begin(), info.subprog_starts.end());
  info.subprog_starts.erase(std::unique(info.subprog_starts.begin(), info.subprog_starts.end()),
                            info.subprog_starts.end());
  const auto& starts = info.subprog_starts;
  auto subprog_of = [&](size_t pc) {
    return static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), pc) - starts.begin() -
                               1);
  };

  // Jumps stay inside their subprogram and land on instruction boundaries.
  for (size_t pc = 0; pc < p.size(); ++pc) {
    if (const auto t = jump_target(p[pc], pc)) {
      const size_t sp = subprog_of(pc);
      const int64_t lo = starts[sp];
      const int64_t hi = sp + 1 < starts.size() ? starts[sp + 1] : p.size();
      if (*t < lo || *t >= hi) return ck.fail(pc, "jump out of range from insn {} to {}", pc, *t);
      if (second_slot[*t]) return ck.fail(pc, "jump into the middle of ldimm64 insn {}", *t - 1);
    }
    if (is_ld_imm64(p[pc])) ++pc;
  }

  // Every subprogram ends in exit or an unconditional jump: nothing falls off its end.
  for (size_t s = 0; s < starts.size(); ++s) {
    const size_t last = (s + 1 < starts.size() ? starts[s + 1] : p.size()) - 1;
    if (second_slot[last] || !ends_subprog(p[last]))
      return ck.fail(last, "last insn is not an exit or jmp");
  }

  // Static call graph (calls and callback references): acyclic, at most max_call_frames deep.
  std::vector<std::vector<std::pair<size_t, size_t>>> callees(starts.size());  // (callee, pc)
  for (size_t pc = 0; pc < p.size(); ++pc) {
    const insn& i = p[pc];
    if (is_pseudo_call(i) || is_pseudo_func(i))
      callees[subprog_of(pc)].push_back({subprog_of(pc + i.imm + 1), pc});
    if (is_ld_imm64(i)) ++pc;
  }
  std::vector<uint32_t> depth(starts.size(), 0);  // frames from this subprog down; 0 = unknown
  std::vector<uint8_t> state(starts.size(), 0);   // 0 new, 1 on stack, 2 done
  std::optional<error> err;
  auto dfs = [&](auto& self, size_t s) -> uint32_t {
    state[s] = 1;
    uint32_t d = 1;
    for (auto [c, pc] : callees[s]) {
      if (err) return 0;
      if (state[c] == 1) {
        err = ck.fail(pc, "recursive call from insn {} to {}", pc, starts[c]);
        return 0;
      }
      d = std::max(d, 1 + (state[c] == 2 ? depth[c] : self(self, c)));
    }
    state[s] = 2;
    return depth[s] = d;
  };
  for (size_t s = 0; s < starts.size() && !err; ++s)
    if (state[s] == 0) dfs(dfs, s);
  if (err) return *err;
  info.max_call_depth = depth[0];
  if (info.max_call_depth > static_cast<uint32_t>(max_call_frames))
    return error{fmt::format("the call stack of {} frames is too deep (limit {})",
                             info.max_call_depth, max_call_frames)};
  return info;
}

}  // namespace mmbpf::bpf
