// The eBPF instruction encoding (RFC 9669): the kernel's uapi names from <linux/bpf.h>, the
// cpu v4 names that Debian's 6.1 uapi header predates, and constexpr builders for writing
// programs in C++ (the equivalents of the kernel's BPF_ALU64_IMM()-style macros in filter.h).
// Builders only encode; the decoder (decoder.h) says whether an encoding is valid.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <utility>
#include <vector>

// cpu v4 additions (Linux 6.6) absent from older uapi headers.
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80  // sign-extending load mode (LDX only)
#endif
// The kernel's internal mode for a load through a kernel-object (BTF) pointer that must not
// fault (include/linux/filter.h BPF_PROBE_MEM): the verifier rewrites such loads to it; it is
// never valid in a loaded program (the decoder refuses LDX with mode 0x20).
#ifndef BPF_PROBE_MEM
#define BPF_PROBE_MEM 0x20
#endif
#ifndef BPF_JCOND
#define BPF_JCOND 0xe0  // may_goto; not in RFC 9669, rejected by the decoder
#endif

namespace mmbpf::bpf {

using insn = ::bpf_insn;
static_assert(sizeof(insn) == 8);

constexpr int max_reg = MAX_BPF_REG;       // r0..r10
constexpr int frame_pointer = BPF_REG_10;  // read-only
constexpr int stack_size = 512;            // MAX_BPF_STACK: per frame
constexpr int max_call_frames = 8;         // MAX_CALL_FRAMES

constexpr uint8_t cls(uint8_t code) {
  return code & 0x07;
}
constexpr uint8_t op(uint8_t code) {
  return code & 0xf0;
}
constexpr uint8_t src_bit(uint8_t code) {
  return code & 0x08;
}
constexpr uint8_t size_of(uint8_t code) {
  return code & 0x18;
}
constexpr uint8_t mode(uint8_t code) {
  return code & 0xe0;
}
constexpr int size_bytes(uint8_t code) {
  switch (size_of(code)) {
    case BPF_B:
      return 1;
    case BPF_H:
      return 2;
    case BPF_W:
      return 4;
    default:
      return 8;
  }
}
constexpr bool is_ld_imm64(const insn& i) {
  return i.code == (BPF_LD | BPF_IMM | BPF_DW);
}
constexpr int insn_slots(const insn& i) {
  return is_ld_imm64(i) ? 2 : 1;
}
constexpr bool is_call(const insn& i) {
  return i.code == (BPF_JMP | BPF_CALL);
}
constexpr bool is_pseudo_call(const insn& i) {
  return is_call(i) && i.src_reg == BPF_PSEUDO_CALL;
}
constexpr bool is_kfunc_call(const insn& i) {
  return is_call(i) && i.src_reg == BPF_PSEUDO_KFUNC_CALL;
}
constexpr bool is_pseudo_func(const insn& i) {
  return is_ld_imm64(i) && i.src_reg == BPF_PSEUDO_FUNC;
}

// Builders. Register arguments are 0..10; offsets are in instructions for jumps, bytes for memory.
namespace ins {

constexpr insn make(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

constexpr insn alu64_imm(uint8_t o, uint8_t dst, int32_t imm) {
  return make(BPF_ALU64 | o | BPF_K, dst, 0, 0, imm);
}
constexpr insn alu64_reg(uint8_t o, uint8_t dst, uint8_t src) {
  return make(BPF_ALU64 | o | BPF_X, dst, src, 0, 0);
}
constexpr insn alu32_imm(uint8_t o, uint8_t dst, int32_t imm) {
  return make(BPF_ALU | o | BPF_K, dst, 0, 0, imm);
}
constexpr insn alu32_reg(uint8_t o, uint8_t dst, uint8_t src) {
  return make(BPF_ALU | o | BPF_X, dst, src, 0, 0);
}
constexpr insn mov64_imm(uint8_t dst, int32_t imm) {
  return alu64_imm(BPF_MOV, dst, imm);
}
constexpr insn mov64_reg(uint8_t dst, uint8_t src) {
  return alu64_reg(BPF_MOV, dst, src);
}
constexpr insn mov32_imm(uint8_t dst, int32_t imm) {
  return alu32_imm(BPF_MOV, dst, imm);
}
constexpr insn mov32_reg(uint8_t dst, uint8_t src) {
  return alu32_reg(BPF_MOV, dst, src);
}
constexpr insn neg64(uint8_t dst) {
  return make(BPF_ALU64 | BPF_NEG | BPF_K, dst, 0, 0, 0);
}
constexpr insn neg32(uint8_t dst) {
  return make(BPF_ALU | BPF_NEG | BPF_K, dst, 0, 0, 0);
}

// cpu v4: signed division/modulo (offset 1), sign-extending moves (offset = source width).
constexpr insn sdiv64_imm(uint8_t dst, int32_t imm) {
  return make(BPF_ALU64 | BPF_DIV | BPF_K, dst, 0, 1, imm);
}
constexpr insn sdiv64_reg(uint8_t dst, uint8_t src) {
  return make(BPF_ALU64 | BPF_DIV | BPF_X, dst, src, 1, 0);
}
constexpr insn smod64_imm(uint8_t dst, int32_t imm) {
  return make(BPF_ALU64 | BPF_MOD | BPF_K, dst, 0, 1, imm);
}
constexpr insn smod64_reg(uint8_t dst, uint8_t src) {
  return make(BPF_ALU64 | BPF_MOD | BPF_X, dst, src, 1, 0);
}
constexpr insn sdiv32_imm(uint8_t dst, int32_t imm) {
  return make(BPF_ALU | BPF_DIV | BPF_K, dst, 0, 1, imm);
}
constexpr insn smod32_imm(uint8_t dst, int32_t imm) {
  return make(BPF_ALU | BPF_MOD | BPF_K, dst, 0, 1, imm);
}
constexpr insn sdiv32_reg(uint8_t dst, uint8_t src) {
  return make(BPF_ALU | BPF_DIV | BPF_X, dst, src, 1, 0);
}
constexpr insn smod32_reg(uint8_t dst, uint8_t src) {
  return make(BPF_ALU | BPF_MOD | BPF_X, dst, src, 1, 0);
}
constexpr insn movsx64(uint8_t dst, uint8_t src, int bits) {
  return make(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, static_cast<int16_t>(bits), 0);
}
constexpr insn movsx32(uint8_t dst, uint8_t src, int bits) {
  return make(BPF_ALU | BPF_MOV | BPF_X, dst, src, static_cast<int16_t>(bits), 0);
}
// Byte swaps: le/be convert host order (little-endian) to the named order and truncate;
// bswap (cpu v4, ALU64) swaps unconditionally.
constexpr insn to_le(uint8_t dst, int bits) {
  return make(BPF_ALU | BPF_END | BPF_TO_LE, dst, 0, 0, bits);
}
constexpr insn to_be(uint8_t dst, int bits) {
  return make(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bits);
}
constexpr insn bswap(uint8_t dst, int bits) {
  return make(BPF_ALU64 | BPF_END | BPF_K, dst, 0, 0, bits);
}

// Memory. size is BPF_B/H/W/DW.
constexpr insn ldx(uint8_t size, uint8_t dst, uint8_t src, int16_t off) {
  return make(BPF_LDX | BPF_MEM | size, dst, src, off, 0);
}
constexpr insn ldsx(uint8_t size, uint8_t dst, uint8_t src, int16_t off) {
  return make(BPF_LDX | BPF_MEMSX | size, dst, src, off, 0);
}
constexpr insn stx(uint8_t size, uint8_t dst, uint8_t src, int16_t off) {
  return make(BPF_STX | BPF_MEM | size, dst, src, off, 0);
}
constexpr insn st(uint8_t size, uint8_t dst, int16_t off, int32_t imm) {
  return make(BPF_ST | BPF_MEM | size, dst, 0, off, imm);
}
// Atomics: aop is BPF_ADD/OR/AND/XOR (optionally | BPF_FETCH), BPF_XCHG or BPF_CMPXCHG.
constexpr insn atomic(uint8_t size, int32_t aop, uint8_t dst, uint8_t src, int16_t off) {
  return make(BPF_STX | BPF_ATOMIC | size, dst, src, off, aop);
}

// ld_imm64: two slots. src is 0 or a BPF_PSEUDO_* kind.
struct wide {
  insn lo, hi;
};
constexpr wide ld_imm64(uint8_t dst, uint64_t v, uint8_t src = 0) {
  return {make(BPF_LD | BPF_IMM | BPF_DW, dst, src, 0, static_cast<int32_t>(v)),
          make(0, 0, 0, 0, static_cast<int32_t>(v >> 32))};
}

// The map with this fd, and the address of its value (array maps) plus off.
constexpr wide ld_map_fd(uint8_t dst, int32_t fd) {
  return ld_imm64(dst, static_cast<uint32_t>(fd), BPF_PSEUDO_MAP_FD);
}
constexpr wide ld_map_value(uint8_t dst, int32_t fd, uint32_t off) {
  return ld_imm64(dst, static_cast<uint32_t>(fd) | (uint64_t{off} << 32), BPF_PSEUDO_MAP_VALUE);
}

// Jumps: off is relative to the next instruction.
constexpr insn ja(int16_t off) {
  return make(BPF_JMP | BPF_JA, 0, 0, off, 0);
}
constexpr insn gotol(int32_t off) {
  return make(BPF_JMP32 | BPF_JA, 0, 0, 0, off);
}
constexpr insn jmp_imm(uint8_t o, uint8_t dst, int32_t imm, int16_t off) {
  return make(BPF_JMP | o | BPF_K, dst, 0, off, imm);
}
constexpr insn jmp_reg(uint8_t o, uint8_t dst, uint8_t src, int16_t off) {
  return make(BPF_JMP | o | BPF_X, dst, src, off, 0);
}
constexpr insn jmp32_imm(uint8_t o, uint8_t dst, int32_t imm, int16_t off) {
  return make(BPF_JMP32 | o | BPF_K, dst, 0, off, imm);
}
constexpr insn jmp32_reg(uint8_t o, uint8_t dst, uint8_t src, int16_t off) {
  return make(BPF_JMP32 | o | BPF_X, dst, src, off, 0);
}
constexpr insn call_helper(int32_t id) {
  return make(BPF_JMP | BPF_CALL, 0, 0, 0, id);
}
constexpr insn call_local(int32_t rel) {
  return make(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, rel);
}
constexpr insn call_kfunc(int32_t btf_id) {
  return make(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, btf_id);
}
constexpr insn exit() {
  return make(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

}  // namespace ins

// A program under construction: append instructions and wide pairs in order.
class insn_buf {
 public:
  insn_buf& operator<<(const insn& i) {
    v_.push_back(i);
    return *this;
  }
  insn_buf& operator<<(const ins::wide& w) {
    v_.push_back(w.lo);
    v_.push_back(w.hi);
    return *this;
  }
  const std::vector<insn>& insns() const& { return v_; }
  std::vector<insn>&& insns() && { return std::move(v_); }
  size_t size() const { return v_.size(); }

 private:
  std::vector<insn> v_;
};

}  // namespace mmbpf::bpf
