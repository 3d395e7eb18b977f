// An x86-64 instruction encoder for the JIT (jit_x86_64.cpp): the handful of encodings a BPF JIT
// needs (ALU, shifts, mul/div, moves with zero/sign extension, loads and stores of every width,
// locked read-modify-writes, jumps and calls), written from the architecture's encoding rules
// (REX prefix, ModRM/SIB, disp8/disp32, imm8/imm32/imm64 forms).
//
// Simplified: no index registers in memory operands (BPF addresses are base + offset), no
// RIP-relative operands, no VEX (BMI2) forms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace mmbpf::bpf::x86 {

enum reg : uint8_t {
  rax = 0, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15
};

// Condition codes (the low nibble of Jcc).
enum cond : uint8_t {
  cc_b = 0x2, cc_ae = 0x3, cc_e = 0x4, cc_ne = 0x5, cc_be = 0x6, cc_a = 0x7,
  cc_l = 0xc, cc_ge = 0xd, cc_le = 0xe, cc_g = 0xf
};

constexpr bool fits8(int64_t v) { return v >= -128 && v <= 127; }
constexpr bool fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

struct emitter {
  std::vector<uint8_t> b;

  size_t pos() const { return b.size(); }
  void u8(uint8_t x) { b.push_back(x); }
  void u16(uint16_t x) { u8(x & 0xff), u8(x >> 8); }
  void u32(uint32_t x) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(x >> (8 * i)));
  }
  void u64(uint64_t x) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(x >> (8 * i)));
  }

  // REX with W, R (ModRM.reg extension) and B (ModRM.rm / base extension); emitted when any bit
  // is set or when `force` (byte access to spl/bpl/sil/dil).
  void rex(bool w, int r, int rm, bool force = false) {
    const uint8_t x = 0x40 | (w << 3) | (((r >> 3) & 1) << 2) | ((rm >> 3) & 1);
    if (x != 0x40 || force) u8(x);
  }
  static bool byte_needs_rex(int r) { return r >= 4 && r <= 7; }
  void modrm(int mod, int r, int rm) { u8(static_cast<uint8_t>(mod << 6 | (r & 7) << 3 | (rm & 7))); }
  void opcodes(std::initializer_list<uint8_t> op) {
    for (uint8_t o : op) u8(o);
  }

  // op with ModRM register-direct: reg field r, r/m field rm.
  void rr(bool w, std::initializer_list<uint8_t> op, int r, int rm, bool force = false) {
    rex(w, r, rm, force);
    opcodes(op);
    modrm(3, r, rm);
  }
  // op with a [base + disp] memory operand.
  void rm(bool w, std::initializer_list<uint8_t> op, int r, int base, int32_t disp,
          bool force = false, bool p66 = false, bool lock = false) {
    if (lock) u8(0xf0);
    if (p66) u8(0x66);
    rex(w, r, base, force);
    opcodes(op);
    const int mod = disp == 0 && (base & 7) != 5 ? 0 : fits8(disp) ? 1 : 2;
    modrm(mod, r, base);
    if ((base & 7) == 4) u8(0x24);  // SIB: base only
    if (mod == 1) u8(static_cast<uint8_t>(disp));
    if (mod == 2) u32(static_cast<uint32_t>(disp));
  }

  // ---- moves ----
  void mov_rr(bool w, int dst, int src) { rr(w, {0x89}, src, dst); }
  void mov_ri32(int dst, uint32_t imm) {  // zero-extends
    if (imm == 0) {
      rr(false, {0x31}, dst, dst);
      return;
    }
    rex(false, 0, dst);
    u8(0xb8 + (dst & 7));
    u32(imm);
  }
  void mov_ri64(int dst, uint64_t v) {
    if (v <= 0xffffffffULL) {
      mov_ri32(dst, static_cast<uint32_t>(v));
    } else if (fits32(static_cast<int64_t>(v))) {
      rr(true, {0xc7}, 0, dst);
      u32(static_cast<uint32_t>(v));
    } else {
      rex(true, 0, dst);
      u8(0xb8 + (dst & 7));
      u64(v);
    }
  }
  void movabs(int dst, uint64_t v) {  // always the 10-byte form
    rex(true, 0, dst);
    u8(0xb8 + (dst & 7));
    u64(v);
  }
  void lea(int dst, int base, int32_t disp) { rm(true, {0x8d}, dst, base, disp); }

  // ---- ALU ----
  // ADD 01/0, OR 09/1, AND 21/4, SUB 29/5, XOR 31/6, CMP 39/7; TEST 85.
  void alu_rr(bool w, uint8_t op, int dst, int src) { rr(w, {op}, src, dst); }
  void alu_ri(bool w, int ext, int dst, int32_t imm) {
    if (fits8(imm)) {
      rr(w, {0x83}, ext, dst);
      u8(static_cast<uint8_t>(imm));
    } else {
      rr(w, {0x81}, ext, dst);
      u32(static_cast<uint32_t>(imm));
    }
  }
  void test_ri(bool w, int dst, int32_t imm) {
    rr(w, {0xf7}, 0, dst);
    u32(static_cast<uint32_t>(imm));
  }
  void imul_rr(bool w, int dst, int src) { rr(w, {0x0f, 0xaf}, dst, src); }
  void imul_ri(bool w, int dst, int32_t imm) {
    if (fits8(imm)) {
      rr(w, {0x6b}, dst, dst);
      u8(static_cast<uint8_t>(imm));
    } else {
      rr(w, {0x69}, dst, dst);
      u32(static_cast<uint32_t>(imm));
    }
  }
  void neg(bool w, int dst) { rr(w, {0xf7}, 3, dst); }
  // SHL /4, SHR /5, SAR /7.
  void shift_ri(bool w, int ext, int dst, uint8_t n) {
    rr(w, {0xc1}, ext, dst);
    u8(n);
  }
  void shift_cl(bool w, int ext, int dst) { rr(w, {0xd3}, ext, dst); }
  void bswap(bool w, int r) {
    rex(w, 0, r);
    u8(0x0f);
    u8(0xc8 + (r & 7));
  }

  // ---- stack, calls, jumps ----
  void push(int r) {
    if (r >= 8) u8(0x41);
    u8(0x50 + (r & 7));
  }
  void pop(int r) {
    if (r >= 8) u8(0x41);
    u8(0x58 + (r & 7));
  }
  void ret() { u8(0xc3); }
  void call_r(int r) { rr(false, {0xff}, 2, r); }

  // Short forward jumps inside one BPF instruction's code: returns the patch position.
  size_t jcc8(int cc) {
    u8(0x70 | cc);
    u8(0);
    return pos();
  }
  size_t jmp8() {
    u8(0xeb);
    u8(0);
    return pos();
  }
  void patch8(size_t at) { b[at - 1] = static_cast<uint8_t>(pos() - at); }
  void jcc8_back(int cc, size_t target) {
    u8(0x70 | cc);
    u8(static_cast<uint8_t>(static_cast<int64_t>(target) - static_cast<int64_t>(pos() + 1)));
  }
};

}  // namespace mmbpf::bpf::x86
