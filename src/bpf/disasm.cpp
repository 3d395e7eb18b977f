// The disassembler; see disasm.h for the syntax and where it departs from kernel/bpf/disasm.c.
// Immediates follow disasm.c: decimal for ALU, store and call operands, "0x%x" of the unsigned
// 32 bits for conditional jumps, "0x%llx" for ld_imm64, and "%+d" for offsets.
#include "bpf/disasm.h"

#include <fmt/format.h>

#include <optional>

namespace mmbpf::bpf {
namespace {

const char* alu_op(uint8_t o) {
  switch (o) {
    case BPF_ADD:
      return "+=";
    case BPF_SUB:
      return "-=";
    case BPF_MUL:
      return "*=";
    case BPF_DIV:
      return "/=";
    case BPF_OR:
      return "|=";
    case BPF_AND:
      return "&=";
    case BPF_LSH:
      return "<<=";
    case BPF_RSH:
      return ">>=";
    case BPF_MOD:
      return "%=";
    case BPF_XOR:
      return "^=";
    case BPF_MOV:
      return "=";
    case BPF_ARSH:
      return "s>>=";
    default:
      return nullptr;
  }
}

const char* jmp_op(uint8_t o) {
  switch (o) {
    case BPF_JEQ:
      return "==";
    case BPF_JGT:
      return ">";
    case BPF_JGE:
      return ">=";
    case BPF_JSET:
      return "&";
    case BPF_JNE:
      return "!=";
    case BPF_JSGT:
      return "s>";
    case BPF_JSGE:
      return "s>=";
    case BPF_JLT:
      return "<";
    case BPF_JLE:
      return "<=";
    case BPF_JSLT:
      return "s<";
    case BPF_JSLE:
      return "s<=";
    default:
      return nullptr;
  }
}

const char* atomic_op(int32_t aop) {
  switch (aop & ~BPF_FETCH) {
    case BPF_ADD:
      return "add";
    case BPF_OR:
      return "or";
    case BPF_AND:
      return "and";
    case BPF_XOR:
      return "xor";
    default:
      return nullptr;
  }
}

const char* ldst_size(uint8_t code) {
  switch (size_of(code)) {
    case BPF_B:
      return "u8";
    case BPF_H:
      return "u16";
    case BPF_W:
      return "u32";
    default:
      return "u64";
  }
}

bool reg_ok(uint8_t r) {
  return r < max_reg;
}

using text = std::optional<std::string>;  // nullopt: not a valid encoding

text alu(const insn& i) {
  const bool is64 = cls(i.code) == BPF_ALU64;
  const bool x = src_bit(i.code) == BPF_X;
  const char w = is64 ? 'r' : 'w';
  const uint8_t o = op(i.code);
  if (!reg_ok(i.dst_reg)) return std::nullopt;
  if (o == BPF_NEG) {
    if (x || i.src_reg || i.off || i.imm) return std::nullopt;
    return fmt::format("{}{} = -{}{}", w, i.dst_reg, w, i.dst_reg);
  }
  if (o == BPF_END) {
    if (i.src_reg || i.off || (i.imm != 16 && i.imm != 32 && i.imm != 64) || (is64 && x))
      return std::nullopt;
    const char* kind = is64 ? "bswap" : x ? "be" : "le";
    return fmt::format("r{} = {}{} r{}", i.dst_reg, kind, i.imm, i.dst_reg);
  }
  const char* s = alu_op(o);
  if (!s) return std::nullopt;
  if (o == BPF_MOV && x) {
    const char* cast = i.off == 0            ? ""
                       : i.off == 8          ? "(s8)"
                       : i.off == 16         ? "(s16)"
                       : i.off == 32 && is64 ? "(s32)"
                                             : nullptr;
    if (!cast || i.imm || !reg_ok(i.src_reg)) return std::nullopt;
    return fmt::format("{}{} = {}{}{}", w, i.dst_reg, cast, w, i.src_reg);
  }
  if (i.off) {
    if (i.off != 1 || (o != BPF_DIV && o != BPF_MOD)) return std::nullopt;
    s = o == BPF_DIV ? "s/=" : "s%=";
  }
  if (x) {
    if (i.imm || !reg_ok(i.src_reg)) return std::nullopt;
    return fmt::format("{}{} {} {}{}", w, i.dst_reg, s, w, i.src_reg);
  }
  if (i.src_reg) return std::nullopt;
  return fmt::format("{}{} {} {}", w, i.dst_reg, s, i.imm);
}

text mem(const insn& i) {
  const uint8_t c = cls(i.code), m = mode(i.code);
  if (!reg_ok(i.dst_reg) || !reg_ok(i.src_reg)) return std::nullopt;
  const char* sz = ldst_size(i.code);
  if (c == BPF_LDX) {
    if (i.imm) return std::nullopt;
    if (m == BPF_MEM)
      return fmt::format("r{} = *({} *)(r{} {:+d})", i.dst_reg, sz, i.src_reg, i.off);
    if (m == BPF_MEMSX && size_of(i.code) != BPF_DW)
      return fmt::format("r{} = *(s{} *)(r{} {:+d})", i.dst_reg, sz + 1, i.src_reg, i.off);
    return std::nullopt;
  }
  if (c == BPF_ST) {
    if (m != BPF_MEM || i.src_reg) return std::nullopt;
    return fmt::format("*({} *)(r{} {:+d}) = {}", sz, i.dst_reg, i.off, i.imm);
  }
  if (m == BPF_MEM) {  // BPF_STX
    if (i.imm) return std::nullopt;
    return fmt::format("*({} *)(r{} {:+d}) = r{}", sz, i.dst_reg, i.off, i.src_reg);
  }
  if (m != BPF_ATOMIC || (size_of(i.code) != BPF_W && size_of(i.code) != BPF_DW))
    return std::nullopt;
  const char* bits = size_of(i.code) == BPF_DW ? "64" : "";
  if (i.imm == BPF_XCHG)
    return fmt::format("r{} = atomic{}_xchg(({} *)(r{} {:+d}), r{})", i.src_reg, bits, sz,
                       i.dst_reg, i.off, i.src_reg);
  if (i.imm == BPF_CMPXCHG)
    return fmt::format("r0 = atomic{}_cmpxchg(({} *)(r{} {:+d}), r0, r{})", bits, sz, i.dst_reg,
                       i.off, i.src_reg);
  const char* aop = atomic_op(i.imm);
  if (!aop || (i.imm & ~(0xf0 | BPF_FETCH))) return std::nullopt;
  if (i.imm & BPF_FETCH)
    return fmt::format("r{} = atomic{}_fetch_{}(({} *)(r{} {:+d}), r{})", i.src_reg, bits, aop, sz,
                       i.dst_reg, i.off, i.src_reg);
  return fmt::format("lock *({} *)(r{} {:+d}) {} r{}", sz, i.dst_reg, i.off,
                     alu_op(static_cast<uint8_t>(i.imm)), i.src_reg);
}

text ld_imm64(const insn* insns, size_t n, size_t pc) {
  const insn& i = insns[pc];
  if (i.code != (BPF_LD | BPF_IMM | BPF_DW) || pc + 1 >= n) return std::nullopt;
  const insn& hi = insns[pc + 1];
  if (hi.code || hi.dst_reg || hi.src_reg || hi.off || i.off || !reg_ok(i.dst_reg))
    return std::nullopt;
  const uint64_t v =
      static_cast<uint64_t>(static_cast<uint32_t>(hi.imm)) << 32 | static_cast<uint32_t>(i.imm);
  const auto plain = [&](const char* name) -> text {
    if (hi.imm) return std::nullopt;
    return fmt::format("r{} = {}[{}]", i.dst_reg, name, i.imm);
  };
  const auto with_off = [&](const char* name) -> text {
    return fmt::format("r{} = {}[{}]+{}", i.dst_reg, name, i.imm, static_cast<uint32_t>(hi.imm));
  };
  switch (i.src_reg) {
    case 0:
      return fmt::format("r{} = {:#x} ll", i.dst_reg, v);
    case BPF_PSEUDO_MAP_FD:
      return plain("map_fd");
    case BPF_PSEUDO_MAP_VALUE:
      return with_off("map_value");
    case BPF_PSEUDO_BTF_ID:
      return plain("btf_id");
    case BPF_PSEUDO_FUNC:
      if (hi.imm) return std::nullopt;
      return fmt::format("r{} = func[{:+d}]", i.dst_reg, i.imm);
    case BPF_PSEUDO_MAP_IDX:
      return plain("map_idx");
    case BPF_PSEUDO_MAP_IDX_VALUE:
      return with_off("map_idx_value");
    default:
      return std::nullopt;
  }
}

text jmp(const insn& i, const disasm_opts& opts) {
  const bool j32 = cls(i.code) == BPF_JMP32;
  const bool x = src_bit(i.code) == BPF_X;
  const uint8_t o = op(i.code);
  switch (o) {
    case BPF_JA:
      if (x || i.src_reg || i.dst_reg) return std::nullopt;
      if (j32) return i.off ? text{} : fmt::format("gotol pc{:+d}", i.imm);
      return i.imm ? text{} : fmt::format("goto pc{:+d}", i.off);
    case BPF_CALL: {
      if (j32 || x || i.dst_reg || i.off) return std::nullopt;
      const char* name = nullptr;
      switch (i.src_reg) {
        case 0:
          if (opts.helper_name) name = opts.helper_name(i.imm);
          return fmt::format("call {}#{}", name ? name : "unknown", i.imm);
        case BPF_PSEUDO_CALL:
          return fmt::format("call pc{:+d}", i.imm);
        case BPF_PSEUDO_KFUNC_CALL:
          if (opts.kfunc_name) name = opts.kfunc_name(i.imm);
          return fmt::format("call {}#{}", name ? name : "kernel-function", i.imm);
        default:
          return std::nullopt;
      }
    }
    case BPF_EXIT:
      if (j32 || x || i.src_reg || i.dst_reg || i.off || i.imm) return std::nullopt;
      return "exit";
    default:
      break;
  }
  const char* s = jmp_op(o);
  const char w = j32 ? 'w' : 'r';
  if (!s || !reg_ok(i.dst_reg)) return std::nullopt;
  if (x) {
    if (i.imm || !reg_ok(i.src_reg)) return std::nullopt;
    return fmt::format("if {}{} {} {}{} goto pc{:+d}", w, i.dst_reg, s, w, i.src_reg, i.off);
  }
  if (i.src_reg) return std::nullopt;
  return fmt::format("if {}{} {} {:#x} goto pc{:+d}", w, i.dst_reg, s, static_cast<uint32_t>(i.imm),
                     i.off);
}

}  // namespace

std::string disasm_insn(const insn* insns, size_t n, size_t pc, const disasm_opts& opts) {
  if (pc >= n) return {};
  const insn& i = insns[pc];
  text t;
  switch (cls(i.code)) {
    case BPF_ALU:
    case BPF_ALU64:
      t = alu(i);
      break;
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX:
      t = mem(i);
      break;
    case BPF_LD:
      t = ld_imm64(insns, n, pc);
      break;
    default:
      t = jmp(i, opts);
      break;
  }
  return fmt::format("({:02x}) {}", i.code, t ? *t : "invalid");
}

std::string disasm(std::span<const insn> insns, const disasm_opts& opts) {
  std::string out;
  for (size_t pc = 0; pc < insns.size(); ++pc) {
    out += fmt::format("{:4}: {}\n", pc, disasm_insn(insns.data(), insns.size(), pc, opts));
    if (is_ld_imm64(insns[pc])) ++pc;
  }
  return out;
}

}  // namespace mmbpf::bpf
