// The x86-64 JIT against the interpreter's unchecked mode, which is its specification: every
// opcode class with every register as source and destination (the JIT's register mapping puts
// r0 in rax, r3 in rdx and r4 in rcx, which division and shifts use implicitly), edge values
// (division by zero, INT_MIN / -1, shift counts beyond the width), v4 instructions, atomics,
// memory operands on every base register and offset width, calls (bpf-to-bpf, helpers, kfuncs,
// callbacks, the call-depth check), faults and their messages, PROBE_MEM loads, the inlined
// array lookup, W^X of the image, and the engine selection. Most tests are differential: the
// same program runs in both engines on copies of the same memory, and r0 (or the fault message)
// and the memory afterwards must be equal. The last test runs a few thousand programs from the
// verifier fuzzer's generator through both engines.
#include "bpf/jit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../../fuzz/gen.h"
#include "../../fuzz/jit_diff.h"
#include "bpf/assembler.h"
#include "bpf/core.h"
#include "bpf/engine.h"
#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

using namespace ins;
using ::testing::HasSubstr;

std::string hx(uint64_t v) {
  return fmt::format("0x{:016x}", v);
}

std::string outcome(const result<uint64_t>& r) {
  return r ? "r0=" + hx(r.value()) : "fault: " + r.err().msg;
}

class Jit : public ::testing::Test {
 protected:
  runtime rt;

  std::unique_ptr<bpf_prog> load(std::vector<insn> v) {
    auto p = bpf_prog::load(rt, std::move(v));
    EXPECT_TRUE(p) << p.err().msg;
    return p ? std::move(p.value()) : nullptr;
  }

  // Runs p in the unchecked interpreter and in the JIT on two copies of mem; expects the same
  // outcome and the same memory after. Returns the JIT's outcome.
  result<uint64_t> same(const bpf_prog& p, std::vector<uint8_t> mem = std::vector<uint8_t>(128)) {
    auto c = jit_compile(p);
    EXPECT_TRUE(c) << c.err().msg;
    std::vector<uint8_t> a = mem, b = mem;
    auto ra = engine(engine_kind::interp).run_mem(p, a.data(), a.size());
    auto rb = engine(engine_kind::jit).run_mem(p, b.data(), b.size());
    EXPECT_EQ(outcome(ra), outcome(rb));
    EXPECT_EQ(a, b) << "memory after the run differs";
    return rb;
  }
  result<uint64_t> same(std::vector<insn> v, std::vector<uint8_t> mem = std::vector<uint8_t>(128)) {
    auto p = load(std::move(v));
    if (!p) return error{"load failed"};
    return same(*p, std::move(mem));
  }
};

// ---- the image and the engine ----

TEST(JitEngine, NamesAndDefault) {
  EXPECT_EQ(default_engine_kind(), jit_available() ? engine_kind::jit : engine_kind::interp);
  EXPECT_EQ(*parse_engine("jit"), engine_kind::jit);
  EXPECT_EQ(*parse_engine("interp"), engine_kind::interp);
  auto bad = parse_engine("llvm");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.err().msg, HasSubstr("'llvm'"));
  EXPECT_STREQ(engine_name(engine_kind::jit), "jit");
  EXPECT_STREQ(engine_name(engine_kind::interp), "interp");
  EXPECT_TRUE(engine(engine_kind::jit).jits());
  EXPECT_FALSE(engine(engine_kind::jit, /*checked=*/true).jits()) << "checked runs interpret";
  EXPECT_FALSE(engine(engine_kind::interp).jits());
}

TEST_F(Jit, ImageIsWriteXorExecute) {
  auto p = load((insn_buf() << mov64_imm(0, 7) << exit()).insns());
  ASSERT_TRUE(p);
  auto img = jit_compile(*p);
  ASSERT_TRUE(img) << img.err().msg;
  const auto addr = reinterpret_cast<uintptr_t>((*img)->code());
  ASSERT_NE(addr, 0u);
  EXPECT_GT((*img)->code_size(), 0u);
  EXPECT_EQ((*img)->mapped_size() % 4096, 0u);
  std::ifstream maps("/proc/self/maps");
  std::string line, perms;
  while (std::getline(maps, line)) {
    uintptr_t lo, hi;
    char pr[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, pr) == 3 && addr >= lo && addr < hi)
      perms = pr;
  }
  EXPECT_EQ(perms.substr(0, 3), "r-x") << "the image must be executable and not writable";
  EXPECT_EQ(*engine(engine_kind::jit).run_mem(*p, nullptr, 0), 7u);
  EXPECT_EQ(p->jited.get(), *img) << "compiled once, kept in the program";
  EXPECT_TRUE(engine(engine_kind::jit).prepare(*p));
}

// ---- ALU: every op, width, source kind and register pair ----

// r0..r9 = distinct values, r[dst] = a, r[src] = b, then `op`, then all ten registers stored to
// ctx[0..80): compares what op did to every register.
std::vector<insn> alu_prog(insn op, uint64_t a, uint64_t b) {
  insn_buf p;
  p << stx(BPF_DW, 10, 1, -8);  // keep the ctx pointer
  for (int r = 0; r <= 9; ++r) p << ld_imm64(r, 0x0101010101010101ULL * (r + 1) ^ 0x8000000000000055ULL);
  if (op.src_reg != op.dst_reg && src_bit(op.code) == BPF_X) p << ld_imm64(op.src_reg, b);
  p << ld_imm64(op.dst_reg, a) << op;
  for (int r = 0; r <= 9; ++r) p << stx(BPF_DW, 10, r, static_cast<int16_t>(-16 - 8 * r));
  p << ldx(BPF_DW, 1, 10, -8);
  for (int r = 0; r <= 9; ++r)
    p << ldx(BPF_DW, 2, 10, static_cast<int16_t>(-16 - 8 * r)) << stx(BPF_DW, 1, 2, 8 * r);
  p << mov64_imm(0, 0) << exit();
  return std::move(p).insns();
}

const uint64_t edge_values[] = {0,
                                1,
                                0xffffffffffffffffULL,
                                0x8000000000000000ULL,
                                0x7fffffffffffffffULL,
                                0x80000000ULL,
                                0xffffffff80000000ULL,
                                0x00000000ffffffffULL,
                                0x123456789abcdef0ULL,
                                63,
                                64,
                                33,
                                0xfffffffffffffff9ULL,
                                7};

TEST_F(Jit, AluAllOpsAllRegistersMatchTheInterpreter) {
  const uint8_t ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,  BPF_AND,
                         BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_ARSH};
  const std::pair<uint64_t, uint64_t> vals[] = {
      {0x123456789abcdef0ULL, 0}, {0x8000000000000000ULL, 0xffffffffffffffffULL},
      {0xffffffff80000000ULL, 0xffffffffffffffffULL}, {0xfedcba9876543210ULL, 37},
      {13, 0xfffffffffffffffdULL}, {0xdeadbeef, 0x100000003ULL}};
  int n = 0;
  for (bool w : {true, false})
    for (uint8_t o : ops)
      for (int16_t sgn : {0, 1}) {
        if (sgn && o != BPF_DIV && o != BPF_MOD) continue;
        const uint8_t c = (w ? BPF_ALU64 : BPF_ALU) | o;
        for (int d = 0; d <= 9; ++d) {
          for (int s = 0; s <= 9; ++s)
            for (auto [a, b] : vals) {
              SCOPED_TRACE(fmt::format("op {:02x} off {} r{} r{} a {:x} b {:x}", c | BPF_X, sgn, d, s, a, b));
              (void)same(alu_prog(make(c | BPF_X, d, s, sgn, 0), a, b));
              ++n;
            }
          for (uint64_t a : edge_values)
            for (int32_t imm : {0, 1, -1, 7, -7, 31, 32, 63, 64, 65, INT32_MIN, INT32_MAX, 0x12345}) {
              SCOPED_TRACE(fmt::format("op {:02x} off {} r{} a {:x} imm {}", c, sgn, d, a, imm));
              (void)same(alu_prog(make(c | BPF_K, d, 0, sgn, imm), a, 0));
              ++n;
            }
        }
      }
  EXPECT_GT(n, 10000);
}

TEST_F(Jit, MovNegEndAllRegisters) {
  for (int d = 0; d <= 9; ++d) {
    for (uint64_t a : edge_values) {
      for (insn op : {neg64(d), neg32(d), to_le(d, 16), to_le(d, 32), to_le(d, 64), to_be(d, 16),
                      to_be(d, 32), to_be(d, 64), bswap(d, 16), bswap(d, 32), bswap(d, 64),
                      mov64_imm(d, -5), mov64_imm(d, 0), mov32_imm(d, -5), mov32_imm(d, 0)}) {
        SCOPED_TRACE(fmt::format("op {:02x} imm {} r{} a {:x}", op.code, op.imm, d, a));
        (void)same(alu_prog(op, a, 0));
      }
      for (int s = 0; s <= 9; ++s)
        for (insn op : {mov64_reg(d, s), mov32_reg(d, s), movsx64(d, s, 8), movsx64(d, s, 16),
                        movsx64(d, s, 32), movsx32(d, s, 8), movsx32(d, s, 16)}) {
          SCOPED_TRACE(fmt::format("op {:02x} off {} r{} r{} a {:x}", op.code, op.off, d, s, a));
          (void)same(alu_prog(op, a, 0x80ff8080ULL));
          (void)same(alu_prog(op, a, 0x7f7f7f7fULL));
        }
    }
  }
}

TEST_F(Jit, DivisionEdgesGiveTheRfcAnswers) {
  // x/0 = 0, x%0 = x, INT_MIN/-1 = INT_MIN, INT_MIN%-1 = 0, for both widths and both signs.
  struct c {
    insn op;
    uint64_t a, b, want;
  };
  const c cases[] = {
      {alu64_reg(BPF_DIV, 3, 4), 100, 0, 0},
      {alu64_reg(BPF_MOD, 3, 4), 100, 0, 100},
      {alu32_reg(BPF_MOD, 3, 4), 0xffffffff00000064ULL, 0, 100},
      {sdiv64_reg(0, 3), 0x8000000000000000ULL, 0xffffffffffffffffULL, 0x8000000000000000ULL},
      {smod64_reg(0, 3), 0x8000000000000000ULL, 0xffffffffffffffffULL, 0},
      {sdiv32_reg(3, 0), 0x80000000ULL, 0xffffffffULL, 0x80000000ULL},
      {smod32_reg(3, 0), 0x80000000ULL, 0xffffffffULL, 0},
      {sdiv64_imm(4, -1), 5, 0, 0xfffffffffffffffbULL},
      {sdiv64_imm(4, 0), 5, 0, 0},
      {smod64_imm(4, 0), 5, 0, 5},
      {sdiv64_reg(4, 4), 0, 0, 0},
  };
  for (const c& t : cases) {
    SCOPED_TRACE(fmt::format("op {:02x} off {} r{} r{}", t.op.code, t.op.off, t.op.dst_reg, t.op.src_reg));
    insn_buf b;
    b << ld_imm64(t.op.src_reg, t.b) << ld_imm64(t.op.dst_reg, t.a) << t.op
      << mov64_reg(0, t.op.dst_reg) << exit();
    auto r = same(std::move(b).insns());
    ASSERT_TRUE(r);
    EXPECT_EQ(hx(*r), hx(t.want));
  }
}

// ---- jumps ----

TEST_F(Jit, ConditionalJumpsAllConditions) {
  const uint8_t conds[] = {BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JGE, BPF_JLT, BPF_JLE,
                           BPF_JSET, BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE};
  for (uint8_t cls_ : {uint8_t(BPF_JMP), uint8_t(BPF_JMP32)})
    for (uint8_t o : conds)
      for (uint64_t a : edge_values) {
        for (uint64_t b : edge_values) {
          insn_buf p;
          p << ld_imm64(4, a) << ld_imm64(0, b) << mov64_imm(9, 0)
            << make(cls_ | o | BPF_X, 4, 0, 1, 0) << exit() << mov64_imm(0, 1) << exit();
          SCOPED_TRACE(fmt::format("{:02x} {:x} {:x}", cls_ | o, a, b));
          (void)same(std::move(p).insns());
        }
        for (int32_t imm : {0, 1, -1, 64, INT32_MIN, INT32_MAX}) {
          insn_buf p;
          p << ld_imm64(2, a) << mov64_imm(0, 0) << make(cls_ | o | BPF_K, 2, 0, 1, imm) << exit()
            << mov64_imm(0, 1) << exit();
          SCOPED_TRACE(fmt::format("{:02x} {:x} imm {}", cls_ | o, a, imm));
          (void)same(std::move(p).insns());
        }
      }
}

TEST_F(Jit, LongJumpsAndGotol) {
  // Forward and backward jumps over more than 127 bytes of code (rel32 forms), ja and gotol.
  insn_buf p;
  p << mov64_imm(0, 0) << mov64_imm(1, 300) << jmp_imm(BPF_JEQ, 1, 0, 83);  // 0..2: to 86
  for (int i = 0; i < 40; ++i) p << ld_imm64(3, 0x1122334455667788ULL + i);  // 3..82
  p << alu64_imm(BPF_ADD, 0, 1) << alu64_imm(BPF_SUB, 1, 1)                  // 83, 84
    << ja(-84)                                                                // 85: to 2
    << gotol(1) << mov64_imm(0, -1) << exit();                               // 86..88
  auto r = same(std::move(p).insns());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 300u);
}

// ---- memory ----

TEST_F(Jit, LoadsAndStoresOnEveryBaseRegisterAndOffset) {
  // The base register holds mem + 256 (r10 uses its own frame); offsets of 0, disp8 and disp32.
  std::vector<uint8_t> mem(1024);
  for (size_t i = 0; i < mem.size(); ++i) mem[i] = static_cast<uint8_t>(i * 37 + 11);
  for (int base = 0; base <= 10; ++base)
    for (int val = 0; val <= 9; ++val)
      for (uint8_t sz : {uint8_t(BPF_B), uint8_t(BPF_H), uint8_t(BPF_W), uint8_t(BPF_DW)})
        for (int16_t off : {int16_t(0), int16_t(-8), int16_t(120), int16_t(-200), int16_t(256)}) {
          if (base == 10 && off >= 0) continue;
          if (val == base) continue;  // the value would be the (run-specific) address
          int sx = (val + 1) % 10;  // the sign-extending load's destination
          while (sx == base || sx == 1 || sx == 2 || sx == 6) sx = (sx + 1) % 10;
          const int16_t o = base == 10 ? static_cast<int16_t>(off - 256) : off;
          insn_buf p;
          p << stx(BPF_DW, 10, 1, -8);
          if (base != 10) p << mov64_reg(base, 1) << alu64_imm(BPF_ADD, base, 256);
          if (base == 10) p << st(BPF_DW, 10, o, 0) << st(BPF_DW, 10, o + 8, 0);  // no garbage
          if (val != base) p << ld_imm64(val, 0x8182838485868788ULL);
          p << st(sz, base, o, -3) << stx(sz, base, val, static_cast<int16_t>(o + 8))
            << ldx(sz, val, base, static_cast<int16_t>(o + 4));
          if (sz != BPF_DW) p << ldsx(sz, sx, base, static_cast<int16_t>(o + 2));
          p << mov64_reg(6, val) << ldx(BPF_DW, 1, 10, -8) << stx(BPF_DW, 1, 6, 0);
          if (base == 10)  // copy the stack bytes out
            p << ldx(BPF_DW, 2, 10, o) << stx(BPF_DW, 1, 2, 8) << ldx(BPF_DW, 2, 10, o + 8)
              << stx(BPF_DW, 1, 2, 16);
          if (sz != BPF_DW)
            p << mov64_reg(0, sx) << exit();
          else
            p << mov64_imm(0, 0) << exit();
          SCOPED_TRACE(fmt::format("base r{} val r{} size {:x} off {}", base, val, sz, o));
          (void)same(std::move(p).insns(), mem);
        }
}

TEST_F(Jit, AtomicsAllOpsWidthsAndRegisters) {
  const int32_t aops[] = {BPF_ADD, BPF_OR, BPF_AND, BPF_XOR, BPF_ADD | BPF_FETCH,
                          BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH,
                          BPF_XCHG, BPF_CMPXCHG};
  for (uint8_t sz : {uint8_t(BPF_W), uint8_t(BPF_DW)})
    for (int32_t aop : aops)
      for (int d = 0; d <= 9; ++d)
        for (int s = 0; s <= 9; ++s) {
          if (d == s) continue;  // the address register would be the operand
          for (uint64_t r0 : {0x1111111122222222ULL, 0xa5a5a5a5c3c3c3c3ULL}) {
            // mem at ctx+16 holds 0xa5a5a5a5c3c3c3c3; the address is ctx+8 with off 8.
            std::vector<uint8_t> mem(64);
            const uint64_t init = 0xa5a5a5a5c3c3c3c3ULL;
            std::memcpy(mem.data() + 16, &init, 8);
            insn_buf p;
            p << stx(BPF_DW, 10, 1, -8);
            if (d != 0 && s != 0) p << ld_imm64(0, r0);
            p << ld_imm64(s, 0xf0f0f0f00f0f0f0fULL) << ldx(BPF_DW, d, 10, -8)
              << alu64_imm(BPF_ADD, d, 8) << atomic(sz, aop, d, s, 8);
            // r0, src and dst (as an offset from ctx) into ctx[24..48); r0 too when it is the
            // address (not for cmpxchg, which loads the old value into it)
            p << stx(BPF_DW, 10, 0, -16) << stx(BPF_DW, 10, s, -24) << stx(BPF_DW, 10, d, -32)
              << ldx(BPF_DW, 1, 10, -8) << ldx(BPF_DW, 2, 10, -16);
            if (d == 0 && aop != BPF_CMPXCHG) p << alu64_reg(BPF_SUB, 2, 1);
            p << stx(BPF_DW, 1, 2, 24) << ldx(BPF_DW, 2, 10, -24) << stx(BPF_DW, 1, 2, 32)
              << ldx(BPF_DW, 2, 10, -32) << alu64_reg(BPF_SUB, 2, 1);
            if (d != 0) p << stx(BPF_DW, 1, 2, 40);  // r0 as dst ends up holding the old value
            p << mov64_imm(0, 0) << exit();
            SCOPED_TRACE(fmt::format("size {:x} aop {:x} dst r{} src r{} r0 {:x}", sz, aop, d, s, r0));
            (void)same(std::move(p).insns(), mem);
          }
        }
}

TEST_F(Jit, CmpxchgSucceedsAndFails32And64) {
  for (uint8_t sz : {uint8_t(BPF_W), uint8_t(BPF_DW)})
    for (uint64_t expect : {0xa5a5a5a5c3c3c3c3ULL, 0x00000000c3c3c3c3ULL, 0x1234ULL}) {
      std::vector<uint8_t> mem(64);
      const uint64_t init = 0xa5a5a5a5c3c3c3c3ULL;
      std::memcpy(mem.data(), &init, 8);
      insn_buf p;
      p << ld_imm64(0, expect | 0xdead000000000000ULL * (sz == BPF_W)) << ld_imm64(2, 0x77)
        << atomic(sz, BPF_CMPXCHG, 1, 2, 0) << exit();
      SCOPED_TRACE(fmt::format("size {:x} expect {:x}", sz, expect));
      (void)same(std::move(p).insns(), mem);
    }
}

// ---- PROBE_MEM ----

TEST_F(Jit, ProbeMemLoadsBelowTheFloorReadZero) {
  uint64_t obj = 0x1122334455667788ULL;
  for (uint64_t addr : {uint64_t{0}, uint64_t{0x10}, uint64_t{0xfff8}, reinterpret_cast<uint64_t>(&obj)}) {
    for (uint8_t sz : {uint8_t(BPF_B), uint8_t(BPF_H), uint8_t(BPF_W), uint8_t(BPF_DW)}) {
      insn_buf b;
      b << ld_imm64(3, addr) << mov64_imm(0, -1) << ldx(sz, 0, 3, 0) << exit();
      auto p = load(std::move(b).insns());
      ASSERT_TRUE(p);
      p->xlated[3].code = BPF_LDX | BPF_PROBE_MEM | sz;  // as the loader marks it after verify
      auto r = same(*p);
      ASSERT_TRUE(r);
      if (addr < 0x10000) {
        EXPECT_EQ(*r, 0u);
      }
    }
  }
}

// ---- calls ----

uint64_t kf_mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e) {
  return a * 1 + b * 10 + c * 100 + d * 1000 + e * 10000;
}
uint64_t kf_fault(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  current_run()->set_fault("kf_fault: refused");
  return 0;
}

TEST_F(Jit, KfuncGetsFiveArgumentsInTheNativeAbi) {
  auto id = rt.kfuncs().add({.name = "kf_mix", .fn = kf_mix});
  ASSERT_TRUE(id);
  insn_buf b;
  b << mov64_imm(1, 1) << mov64_imm(2, 2) << mov64_imm(3, 3) << mov64_imm(4, 4) << mov64_imm(5, 5)
    << mov64_imm(6, 6) << call_kfunc(static_cast<int32_t>(*id)) << alu64_reg(BPF_ADD, 0, 6)
    << exit();
  auto r = same(std::move(b).insns());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 54321u + 6);
}

TEST_F(Jit, HelperFaultStopsTheRunWithTheInterpretersMessage) {
  auto id = rt.kfuncs().add({.name = "kf_fault", .fn = kf_fault});
  ASSERT_TRUE(id);
  insn_buf b;
  b << st(BPF_B, 1, 0, 1) << mov64_imm(6, 1) << call_local(3)  // 0..2
    << st(BPF_B, 1, 2, 3) << mov64_imm(0, 0) << exit()          // 3..5: never
    << st(BPF_B, 1, 1, 2) << call_kfunc(static_cast<int32_t>(*id))  // 6, 7: faults at 7
    << st(BPF_B, 1, 3, 4) << exit();
  auto r = same(std::move(b).insns());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().msg, "prog 'prog': insn 7: kf_fault: refused");
}

TEST_F(Jit, UnresolvedWeakKfuncAndCorePoisonFault) {
  insn_buf b;
  b << mov64_imm(0, 7) << call_helper(core_poison_imm) << exit();
  auto r = same(std::move(b).insns());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("insn 1: reached an instruction poisoned"));
}

// main -> f1 -> ... -> f<chain>, the last calling bpf_loop(1, cb); cb calls g1 -> g2. The
// callback's pointer travels in r6, so the static depth stays small while the dynamic one grows.
std::vector<insn> deep_callback(int chain) {
  insn_buf b;
  // main (0..4): r6 = &cb; call f1; exit
  b << ld_imm64(6, 0, BPF_PSEUDO_FUNC) << mov64_imm(0, 0) << call_local(1) << exit();  // 0..4
  // f1..f(chain-1): call next; exit (2 insns each)
  for (int k = 1; k < chain; ++k) b << call_local(1) << exit();
  // f<chain>: bpf_loop(1, r6, 0, 0); r0 += 1000; exit
  b << mov64_imm(1, 1) << mov64_reg(2, 6) << mov64_imm(3, 0) << mov64_imm(4, 0)
    << call_helper(BPF_FUNC_loop) << alu64_imm(BPF_ADD, 0, 1000) << exit();
  const size_t cb = b.size();
  // cb: call g1; r0 = 0; exit; g1: call g2; exit; g2: r0 = 5; exit
  b << call_local(2) << mov64_imm(0, 0) << exit() << call_local(1) << exit() << mov64_imm(0, 5)
    << exit();
  std::vector<insn> v = std::move(b).insns();
  v[0].imm = static_cast<int32_t>(cb) - 0 - 1;
  return v;
}

TEST_F(Jit, CallbacksAndTheCallDepthCheck) {
  // chain 1..4 runs; deeper chains hit the interpreter's depth check inside the callback (a
  // bpf-to-bpf call) or in bpf_loop itself (the callback frame).
  for (int chain = 1; chain <= 7; ++chain) {
    SCOPED_TRACE(chain);
    auto r = same(deep_callback(chain));
    if (chain <= 4) {
      ASSERT_TRUE(r) << r.err().msg;
      EXPECT_EQ(*r, 1001u);
    } else {
      ASSERT_FALSE(r);
      EXPECT_THAT(r.err().msg, HasSubstr("frames is too deep"));
    }
  }
}

TEST_F(Jit, ForgedCallbackFaults) {
  insn_buf b;
  b << mov64_imm(1, 1) << mov64_reg(2, 10) << mov64_imm(3, 0) << mov64_imm(4, 0)
    << call_helper(BPF_FUNC_loop) << exit();
  auto p = load(std::move(b).insns());
  ASSERT_TRUE(p);
  auto r = engine(engine_kind::jit).run_mem(*p, nullptr, 0);  // the address differs per run
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("insn 4: callback 0x"));
  EXPECT_THAT(r.err().msg, HasSubstr("is not a subprogram of this program"));
}

TEST_F(Jit, FaultInsideACallbackKeepsItsInstruction) {
  auto id = rt.kfuncs().add({.name = "kf_fault", .fn = kf_fault});
  ASSERT_TRUE(id);
  insn_buf b;
  b << mov64_imm(1, 3) << ld_imm64(2, 5, BPF_PSEUDO_FUNC) << mov64_imm(3, 0) << mov64_imm(4, 0)
    << call_helper(BPF_FUNC_loop) << exit()                                  // 0..6
    << mov64_imm(0, 0) << jmp_imm(BPF_JNE, 1, 2, 1) << call_kfunc(static_cast<int32_t>(*id))
    << exit();  // 7..10: faults on the third iteration
  auto r = same(std::move(b).insns());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().msg, "prog 'prog': insn 9: kf_fault: refused");
}

TEST_F(Jit, CalleeSavedRegistersAndStackAcrossCalls) {
  // A callee that writes r6..r9 and its own stack, called in a loop: the caller's r6..r9, r10
  // and stack survive; the callee's r10 is 512 bytes below and it writes into the caller's frame
  // through a pointer.
  insn_buf b;
  b << mov64_imm(6, 6) << mov64_imm(7, 7) << mov64_imm(8, 8) << mov64_imm(9, 3)  // 0..3
    << st(BPF_DW, 10, -8, 42)                                                    // 4
    << mov64_reg(1, 10) << call_local(7)                                         // 5, 6: to 14
    << alu64_imm(BPF_SUB, 9, 1) << jmp_imm(BPF_JNE, 9, 0, -4)                    // 7, 8: to 5
    << ldx(BPF_DW, 0, 10, -8) << alu64_reg(BPF_ADD, 0, 6) << alu64_reg(BPF_ADD, 0, 7)
    << alu64_reg(BPF_ADD, 0, 8)                                                  // 9..12
    << ldx(BPF_DW, 1, 10, -16) << alu64_imm(BPF_LSH, 1, 16) << alu64_reg(BPF_OR, 0, 1)
    << exit()                                                                    // 13..16
    // 17: the callee
    << mov64_imm(6, -1) << mov64_imm(7, -1) << mov64_imm(8, -1) << mov64_imm(9, -1)
    << st(BPF_DW, 10, -8, 99) << mov64_reg(2, 1) << alu64_reg(BPF_SUB, 2, 10)
    << stx(BPF_DW, 1, 2, -16) << mov64_imm(0, 0) << exit();
  std::vector<insn> v = std::move(b).insns();
  v[6] = call_local(17 - 6 - 1);
  auto r = same(v);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (512u << 16) | 63u);
}

TEST_F(Jit, NestedCallsToEightFramesAndStackPointersPassedDown) {
  // Frame k stores k at its r10-8, passes a pointer to it down; the deepest frame sums them all
  // through the pointers chain kept in each frame's r10-16.
  insn_buf b;
  const int frames = max_call_frames;
  for (int k = 0; k < frames; ++k) {
    b << st(BPF_DW, 10, -8, k + 1) << stx(BPF_DW, 10, 1, -16);  // prev frame's pointer
    if (k + 1 < frames) {
      b << mov64_reg(1, 10) << alu64_imm(BPF_ADD, 1, -16) << call_local(1) << exit();
    } else {
      // walk: r0 = sum of (k+1) over frames via r1 chain: each slot at r1 holds the previous
      // frame's slot pointer, and r1+8 holds that frame's k+1.
      b << mov64_imm(0, 0) << ldx(BPF_DW, 2, 10, -8) << alu64_reg(BPF_ADD, 0, 2)
        << jmp_imm(BPF_JEQ, 1, 0, 4) << ldx(BPF_DW, 2, 1, 8) << alu64_reg(BPF_ADD, 0, 2)
        << ldx(BPF_DW, 1, 1, 0) << ja(-5) << exit();
    }
  }
  std::vector<insn> v = std::move(b).insns();
  auto p = load(v);
  ASSERT_TRUE(p);
  auto r = same(*p, std::vector<uint8_t>());  // r1 = NULL ends the chain in frame 0
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 36u);
}

// A kfunc that runs another program in the JIT: runs nest, each on its own state and stack,
// and the outer run's context (current_run()) is back when the inner one returns.
const bpf_prog* nested_prog = nullptr;
uint64_t kf_run_nested(uint64_t a, uint64_t, uint64_t, uint64_t, uint64_t) {
  run_ctx* outer = current_run();
  run_args ra;
  ra.r[0] = a;
  auto r = engine(engine_kind::jit).run(*nested_prog, ra);
  if (current_run() != outer) return 0xbad;
  return r ? *r : 0xfa17;
}

TEST_F(Jit, NestedRunsFromAKfunc) {
  auto id = rt.kfuncs().add({.name = "kf_run_nested", .fn = kf_run_nested});
  ASSERT_TRUE(id);
  // inner: r0 = r1 * 3 + its own stack slot (written first)
  auto inner = load((insn_buf() << st(BPF_DW, 10, -8, 1) << ldx(BPF_DW, 0, 10, -8)
                                << alu64_reg(BPF_ADD, 0, 1) << alu64_reg(BPF_ADD, 0, 1)
                                << alu64_reg(BPF_ADD, 0, 1) << exit())
                        .insns());
  ASSERT_TRUE(inner);
  nested_prog = inner.get();
  // outer: keeps 1000 on its stack, runs the inner program twice through the kfunc, adds its
  // own slot: 16 + 22 + 1000
  auto outer = load((insn_buf() << st(BPF_DW, 10, -8, 1000) << mov64_imm(1, 5)
                                << call_kfunc(static_cast<int32_t>(*id)) << mov64_reg(6, 0)
                                << mov64_imm(1, 7) << call_kfunc(static_cast<int32_t>(*id))
                                << alu64_reg(BPF_ADD, 0, 6) << ldx(BPF_DW, 1, 10, -8)
                                << alu64_reg(BPF_ADD, 0, 1) << exit())
                        .insns());
  ASSERT_TRUE(outer);
  for (int i = 0; i < 3; ++i) {
    auto r = engine(engine_kind::jit).run_mem(*outer, nullptr, 0);
    ASSERT_TRUE(r) << r.err().msg;
    EXPECT_EQ(*r, 16u + 22u + 1000u);
  }
  EXPECT_EQ(current_run(), nullptr);
}

TEST_F(Jit, AFaultedRunLeavesNothingForTheNext) {
  auto id = rt.kfuncs().add({.name = "kf_fault", .fn = kf_fault});
  ASSERT_TRUE(id);
  auto bad = load((insn_buf() << call_kfunc(static_cast<int32_t>(*id)) << exit()).insns());
  auto good = load((insn_buf() << mov64_imm(0, 3) << exit()).insns());
  ASSERT_TRUE(bad && good);
  const engine vm(engine_kind::jit);
  for (int i = 0; i < 3; ++i) {
    auto r = vm.run_mem(*bad, nullptr, 0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().msg, "prog 'prog': insn 0: kf_fault: refused");
    EXPECT_EQ(*vm.run_mem(*good, nullptr, 0), 3u);
  }
}

// ---- maps ----

TEST_F(Jit, InlinedArrayLookupMatchesTheHelper) {
  for (uint32_t value_size : {8u, 12u, 20u, 64u}) {
    SCOPED_TRACE(value_size);
    runtime r2;
    auto fd = r2.create_map({.map_type = BPF_MAP_TYPE_ARRAY,
                             .key_size = 4,
                             .value_size = value_size,
                             .max_entries = 5,
                             .name = "arr"});
    ASSERT_TRUE(fd);
    const uint32_t k2 = 2;
    void* v2 = r2.map(*fd)->lookup_elem(&k2);
    // for key in {0, 2, 4, 5, 1<<31, ~0}: r0 = lookup; record (r0 - &value[2]) or -1 for NULL
    std::vector<uint64_t> want;
    insn_buf b;
    b << mov64_reg(9, 1);
    int slot = 0;
    for (uint32_t key : {0u, 2u, 4u, 5u, 1u << 31, ~0u}) {
      b << st(BPF_W, 10, -4, static_cast<int32_t>(key)) << ld_map_fd(1, *fd) << mov64_reg(2, 10)
        << alu64_imm(BPF_ADD, 2, -4) << call_helper(BPF_FUNC_map_lookup_elem)
        << jmp_imm(BPF_JNE, 0, 0, 2) << mov64_imm(0, -1) << ja(2) << ld_imm64(3, reinterpret_cast<uint64_t>(v2))
        << alu64_reg(BPF_SUB, 0, 3) << stx(BPF_DW, 9, 0, static_cast<int16_t>(8 * slot++));
      // not `ja(2)` over a two-slot ld_imm64 plus one: fixed below
    }
    b << mov64_imm(0, 0) << exit();
    (void)want;
    std::vector<insn> v = std::move(b).insns();
    // each block: st, ld(2), mov, add, call, jne, mov, ja, ld(2), sub, stx = 13 slots; ja skips
    // ld_imm64 (2) + sub (1) = 3
    for (size_t i = 0; i < v.size(); ++i)
      if (v[i].code == (BPF_JMP | BPF_JA)) v[i].off = 3;
    for (size_t i = 0; i < v.size(); ++i)
      if (v[i].code == (BPF_JMP | BPF_JEQ | BPF_K) || v[i].code == (BPF_JMP | BPF_JNE | BPF_K))
        v[i].off = 2;
    auto p = bpf_prog::load(r2, v);
    ASSERT_TRUE(p) << p.err().msg;
    auto img = jit_compile(**p);
    ASSERT_TRUE(img);
    EXPECT_EQ((*img)->inlined_lookups(), 6);
    std::vector<uint8_t> a(48), c(48);
    auto ra = engine(engine_kind::interp).run_mem(**p, a.data(), a.size());
    auto rc = engine(engine_kind::jit).run_mem(**p, c.data(), c.size());
    ASSERT_TRUE(ra && rc);
    EXPECT_EQ(a, c);
    const uint64_t stride = (value_size + 7) / 8 * 8;
    uint64_t got[6];
    std::memcpy(got, c.data(), sizeof got);
    EXPECT_EQ(static_cast<int64_t>(got[0]), -2 * static_cast<int64_t>(stride));
    EXPECT_EQ(got[1], 0u);
    EXPECT_EQ(got[2], 2 * stride);
    for (int i = 3; i < 6; ++i) EXPECT_EQ(got[i], ~0ULL) << "out of bounds gives NULL";
  }
}

TEST_F(Jit, HashLookupAndDirectMapValueThroughHelpers) {
  auto h = rt.create_map({.map_type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 8,
                          .max_entries = 4, .name = "h"});
  auto a = rt.create_map({.map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 16,
                          .max_entries = 1, .name = "g"});
  ASSERT_TRUE(h && a);
  insn_buf b;
  b << ld_map_value(6, *a, 8) << st(BPF_DW, 6, 0, 5)                           // global += ...
    << st(BPF_W, 10, -4, 7) << st(BPF_DW, 10, -16, 70) << ld_map_fd(1, *h) << mov64_reg(2, 10)
    << alu64_imm(BPF_ADD, 2, -4) << mov64_reg(3, 10) << alu64_imm(BPF_ADD, 3, -16)
    << mov64_imm(4, 0) << call_helper(BPF_FUNC_map_update_elem)
    << ld_map_fd(1, *h) << mov64_reg(2, 10) << alu64_imm(BPF_ADD, 2, -4)
    << call_helper(BPF_FUNC_map_lookup_elem) << jmp_imm(BPF_JEQ, 0, 0, 3)
    << ldx(BPF_DW, 0, 0, 0) << atomic(BPF_DW, BPF_ADD, 6, 0, 0) << ldx(BPF_DW, 0, 6, 0) << exit();
  auto p = load(std::move(b).insns());
  ASSERT_TRUE(p);
  auto r = engine(engine_kind::jit).run_mem(*p, nullptr, 0);
  ASSERT_TRUE(r) << r.err().msg;
  EXPECT_EQ(*r, 75u);
  EXPECT_EQ((*jit_compile(*p))->inlined_lookups(), 0) << "hash lookups stay helper calls";
}

TEST_F(Jit, StatsAndRunCtxAsTheInterpreter) {
  rt.stats_enabled = true;
  insn_buf b;
  b << mov64_reg(0, 2) << exit();
  auto p = load(std::move(b).insns());
  ASSERT_TRUE(p);
  std::vector<uint8_t> mem(24);
  EXPECT_EQ(*engine(engine_kind::jit).run_mem(*p, mem.data(), mem.size()), 24u);
  EXPECT_EQ(*engine(engine_kind::jit).run_mem(*p, mem.data(), mem.size()), 24u);
  EXPECT_EQ(p->run_cnt, 2u);
  EXPECT_EQ(current_run(), nullptr) << "the run's context is unset after the run";
}

// ---- the entry: the main program's code follows its trampoline ----

TEST_F(Jit, AJumpBackToTheFirstInstructionStaysInTheRun) {
  // The trampoline's head (saves, frame state) precedes insn 0: a loop back to insn 0 must land
  // after it, or each turn would push again and the return would go astray. Bare and with a
  // helper call (run with a run_ctx).
  for (bool helper : {false, true}) {
    insn_buf b;
    b << alu64_imm(BPF_ADD, 6, 1) << st(BPF_DW, 10, -8, 7);  // 0, 1
    if (helper) b << call_helper(BPF_FUNC_ktime_get_ns);      // 2
    b << jmp_imm(BPF_JLT, 6, 5, helper ? -4 : -3)               // to insn 0
      << ldx(BPF_DW, 0, 10, -8) << alu64_reg(BPF_ADD, 0, 6) << exit();
    auto p = load(std::move(b).insns());
    ASSERT_TRUE(p);
    auto c = jit_compile(*p);
    ASSERT_TRUE(c) << c.err().msg;
    auto r = engine(engine_kind::jit).run_mem(*p, nullptr, 0);
    ASSERT_TRUE(r) << r.err().msg;
    EXPECT_EQ(*r, 12u) << (helper ? "with a helper call" : "bare");
  }
}

TEST_F(Jit, ACallOfTheMainProgramIsNotCompiled) {
  // The decoder refuses recursion; an xlated that calls insn 0 anyway (its code has no entry
  // but the trampoline's) is refused by the compiler rather than run.
  insn_buf b;
  b << call_local(1) << exit() << mov64_imm(0, 1) << exit();
  auto p = load(std::move(b).insns());
  ASSERT_TRUE(p);
  p->xlated[2] = call_local(-3);  // insn 2 calls insn 0
  auto c = jit_image::compile(*p);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.err().msg, HasSubstr("insn 2: a call of the main program"));
}

}  // namespace
}  // namespace mmbpf::bpf

// Calls fn(a1, 0, 0, 0, 0, 0) with known values in every callee-saved register and returns the
// result; *bad gets a bit per register (rbx, rbp, r12..r15) that did not survive the call.
extern "C" uint64_t mmbpf_call_with_canaries(const void* fn, uint64_t a1, uint64_t* bad);
asm(R"(
  .text
  .p2align 4
  .type mmbpf_call_with_canaries, @function
mmbpf_call_with_canaries:
  push %rbx
  push %rbp
  push %r12
  push %r13
  push %r14
  push %r15
  push %rdx
  mov %rdi, %rax
  mov %rsi, %rdi
  xor %esi, %esi
  xor %edx, %edx
  xor %ecx, %ecx
  xor %r8d, %r8d
  xor %r9d, %r9d
  movabs $0x1111111111111111, %rbx
  movabs $0x2222222222222222, %rbp
  movabs $0x3333333333333333, %r12
  movabs $0x4444444444444444, %r13
  movabs $0x5555555555555555, %r14
  movabs $0x6666666666666666, %r15
  call *%rax
  xor %ecx, %ecx
  movabs $0x1111111111111111, %rdx
  cmp %rdx, %rbx
  setne %cl
  movabs $0x2222222222222222, %rdx
  cmp %rdx, %rbp
  setne %dl
  shl $1, %dl
  or %dl, %cl
  movabs $0x3333333333333333, %rdx
  cmp %rdx, %r12
  setne %dl
  shl $2, %dl
  or %dl, %cl
  movabs $0x4444444444444444, %rdx
  cmp %rdx, %r13
  setne %dl
  shl $3, %dl
  or %dl, %cl
  movabs $0x5555555555555555, %rdx
  cmp %rdx, %r14
  setne %dl
  shl $4, %dl
  or %dl, %cl
  movabs $0x6666666666666666, %rdx
  cmp %rdx, %r15
  setne %dl
  shl $5, %dl
  or %dl, %cl
  pop %rdx
  mov %rcx, (%rdx)
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbp
  pop %rbx
  ret
  .size mmbpf_call_with_canaries, .-mmbpf_call_with_canaries
)");

namespace mmbpf::bpf {
namespace {

TEST_F(Jit, TheBareEntryKeepsTheHostsCalleeSavedRegisters) {
  // A program that runs bare (its entry builds the frame state and the stack on the native
  // stack), writes r6..r9 and calls a subprogram that writes them too: called straight from
  // assembly with known values in rbx, rbp and r12..r15, all must come back, and r0 is right.
  insn_buf b;
  b << mov64_imm(6, 1) << mov64_imm(7, 2) << mov64_imm(8, 3) << mov64_imm(9, 4)  // 0..3
    << st(BPF_DW, 10, -8, 100) << call_local(7)                                 // 4, 5: to 13
    << alu64_reg(BPF_ADD, 0, 6) << alu64_reg(BPF_ADD, 0, 7) << alu64_reg(BPF_ADD, 0, 8)
    << alu64_reg(BPF_ADD, 0, 9) << ldx(BPF_DW, 1, 10, -8) << alu64_reg(BPF_ADD, 0, 1)
    << exit()                                                                   // 6..12
    << mov64_imm(6, -1) << mov64_imm(7, -1) << mov64_imm(8, -1) << mov64_imm(9, -1)
    << st(BPF_DW, 10, -8, 5) << mov64_imm(0, 100) << exit();  // 13..19
  auto p = load(std::move(b).insns());
  ASSERT_TRUE(p);
  auto c = jit_compile(*p);
  ASSERT_TRUE(c) << c.err().msg;
  uint64_t bad = ~0ull;
  const uint64_t r0 =
      mmbpf_call_with_canaries(reinterpret_cast<const void*>((*c)->entry_of(0)), 0, &bad);
  EXPECT_EQ(bad, 0u) << "callee-saved registers clobbered (bit 0 rbx, 1 rbp, 2..5 r12..r15)";
  EXPECT_EQ(r0, 210u);
}

// ---- differential: generated programs the verifier accepts ----

TEST(JitDifferential, GeneratedProgramsAgreeWithTheInterpreter) {
  std::mt19937_64 rng(20261126);
  int accepted = 0, compared = 0, skipped = 0, generated = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (compared < 3000 && generated < 60000 &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(15)) {
    // Bytes below 224 never choose a flaw (gen.h's input::flaw), so most programs verify.
    std::vector<uint8_t> data(32 + rng() % 600);
    for (auto& x : data) x = static_cast<uint8_t>(rng() % (rng() % 64 ? 224 : 256));
    uint8_t ctx[64];
    for (auto& x : ctx) x = static_cast<uint8_t>(rng());
    ::input in{data.data(), data.size()};
    ::generator g(in);
    const std::string text = g.program();
    ++generated;
    auto insns = assemble(text);
    if (!insns) continue;
    const auto d = mmbpf::fuzz::diff_program(*insns, ctx);
    if (d.kind == mmbpf::fuzz::diff_kind::rejected || d.kind == mmbpf::fuzz::diff_kind::not_loaded)
      continue;
    ++accepted;
    if (d.kind == mmbpf::fuzz::diff_kind::skipped) {
      ++skipped;
      continue;
    }
    ++compared;
    ASSERT_EQ(d.kind, mmbpf::fuzz::diff_kind::same) << d.what << "\n" << text;
  }
  std::printf("generated %d, accepted %d, compared %d, skipped %d\n", generated, accepted,
              compared, skipped);
  EXPECT_GT(compared, 500);
}

}  // namespace
}  // namespace mmbpf::bpf
