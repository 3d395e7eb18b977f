// An oracle for the interpreter's instruction semantics, written from RFC 9669 (the BPF ISA) and
// not from any implementation: every expected value below follows from the RFC's pseudocode
// (arithmetic wraps; ALU results are "(u32)", i.e. zero-extended; shifts are masked with 63/31;
// division by zero gives 0 and modulo by zero leaves dst, upper half zeroed for ALU; signed
// modulo truncates toward zero; MOVSX/MEMSX sign-extend; END/bswap truncate to the width;
// atomics with FETCH return the old value zero-extended; JMP32 compares the low 32 bits).
// Every test runs on every engine (the interpreter unchecked and checked, and the JIT) except
// those about checked mode's bounds faults, which would touch memory outside the run's regions
// when unchecked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bpf/engine.h"
#include "bpf/insn.h"
#include "bpf/interpreter.h"
#include "bpf/prog.h"
#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

using namespace ins;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The le/be conversions below are written for the little-endian hosts this project runs on.
static_assert(std::endian::native == std::endian::little);

constexpr uint64_t kFailed = 0xbadbadbadbadbad1ULL;  // returned by run() when load/run failed

// cpu v4 signed division with an immediate, 32-bit (insn.h has the 64-bit and register forms).
constexpr insn sdiv32_imm(uint8_t dst, int32_t imm) {
  return make(BPF_ALU | BPF_DIV | BPF_K, dst, 0, 1, imm);
}
constexpr insn smod32_imm(uint8_t dst, int32_t imm) {
  return make(BPF_ALU | BPF_MOD | BPF_K, dst, 0, 1, imm);
}

// An immediate as stored in a case table (the K runner takes its low 32 bits as the signed imm).
constexpr uint64_t I(int32_t imm) {
  return static_cast<uint32_t>(imm);
}

std::string hx(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t get_u64(const std::vector<uint8_t>& m, size_t off) {
  uint64_t v;
  std::memcpy(&v, m.data() + off, 8);
  return v;
}
uint32_t get_u32(const std::vector<uint8_t>& m, size_t off) {
  uint32_t v;
  std::memcpy(&v, m.data() + off, 4);
  return v;
}
void put_u64(std::vector<uint8_t>& m, size_t off, uint64_t v) {
  std::memcpy(m.data() + off, &v, 8);
}
void put_u32(std::vector<uint8_t>& m, size_t off, uint32_t v) {
  std::memcpy(m.data() + off, &v, 4);
}

// An engine to run on: the interpreter unchecked or checked, or the JIT.
struct engine_cfg {
  engine_kind kind;
  bool checked;
};
const char* engine_cfg_name(const engine_cfg& c) {
  return c.checked ? "Checked" : c.kind == engine_kind::jit ? "Jit" : "Interp";
}

class Isa : public ::testing::TestWithParam<engine_cfg> {
 protected:
  runtime rt;

  bool checked() const { return GetParam().checked; }
  engine vm() const { return engine(GetParam().kind, GetParam().checked); }

  std::unique_ptr<bpf_prog> load(std::vector<insn> insns) {
    auto p = bpf_prog::load(rt, std::move(insns));
    EXPECT_TRUE(p) << "load failed: " << p.err().msg;
    return p ? std::move(p.value()) : nullptr;
  }

  // Loads and runs; the raw result (for tests that expect a fault).
  result<uint64_t> try_run(std::vector<insn> insns, void* mem, size_t len) {
    auto p = load(std::move(insns));
    if (!p) return error{"load failed"};
    return vm().run_mem(*p, mem, len);
  }

  // Loads and runs, expecting both to succeed; returns r0.
  uint64_t run(std::vector<insn> insns, void* mem, size_t len) {
    auto r = try_run(std::move(insns), mem, len);
    EXPECT_TRUE(r) << "run failed: " << r.err().msg;
    return r ? *r : kFailed;
  }
  uint64_t run(const insn_buf& b) { return run(b.insns(), nullptr, 0); }
  uint64_t run(const insn_buf& b, std::vector<uint8_t>& mem) {
    return run(b.insns(), mem.data(), mem.size());
  }

  // dst (r4) = dst_val; op with src = imm (K) or r9 = src_val (X); returns r4.
  uint64_t alu(uint8_t code, int16_t off, uint64_t dst_val, uint64_t src_val) {
    insn_buf b;
    b << ld_imm64(4, dst_val);
    if (src_bit(code) == BPF_X) {
      b << ld_imm64(9, src_val) << make(code, 4, 9, off, 0);
    } else {
      b << make(code, 4, 0, off, static_cast<int32_t>(static_cast<uint32_t>(src_val)));
    }
    b << mov64_reg(0, 4) << exit();
    return run(b);
  }

  struct alu_case {
    const char* what;
    uint8_t code;  // class | op | source
    uint64_t dst, src, want;
    int16_t off = 0;
  };
  void check(const std::vector<alu_case>& cases) {
    for (const auto& c : cases) {
      SCOPED_TRACE(c.what);
      EXPECT_EQ(hx(alu(c.code, c.off, c.dst, c.src)), hx(c.want));
    }
  }

  // Jump taken? r1 = a, r2 = b (X) or imm = (s32)b (K); returns whether the branch was taken.
  bool jumps(uint8_t code, uint64_t a, uint64_t b) {
    insn_buf p;
    p << ld_imm64(1, a);
    if (src_bit(code) == BPF_X) {
      p << ld_imm64(2, b) << mov64_imm(0, 0) << make(code, 1, 2, 1, 0);
    } else {
      p << mov64_imm(0, 0) << make(code, 1, 0, 1, static_cast<int32_t>(static_cast<uint32_t>(b)));
    }
    p << exit() << mov64_imm(0, 1) << exit();
    const uint64_t r = run(p);
    EXPECT_TRUE(r == 0 || r == 1) << hx(r);
    return r == 1;
  }
};

INSTANTIATE_TEST_SUITE_P(Engines, Isa,
                         ::testing::Values(engine_cfg{engine_kind::interp, false},
                                           engine_cfg{engine_kind::interp, true},
                                           engine_cfg{engine_kind::jit, false}),
                         [](const auto& i) { return engine_cfg_name(i.param); });

// Out-of-bounds accesses are only defined in checked mode: these run there alone.
class IsaChecked : public Isa {};
INSTANTIATE_TEST_SUITE_P(Engines, IsaChecked,
                         ::testing::Values(engine_cfg{engine_kind::interp, true}),
                         [](const auto& i) { return engine_cfg_name(i.param); });

constexpr uint8_t A64K = BPF_ALU64 | BPF_K, A64X = BPF_ALU64 | BPF_X;
constexpr uint8_t A32K = BPF_ALU | BPF_K, A32X = BPF_ALU | BPF_X;

// ---------------------------------------------------------------------------------------------
// ALU: ADD SUB MUL OR AND XOR MOV NEG

TEST_P(Isa, Alu64Add) {
  check({
      {"INT64_MAX + 1 wraps to INT64_MIN", A64K | BPF_ADD, 0x7fffffffffffffff, I(1),
       0x8000000000000000},
      {"UINT64_MAX + 1 wraps to 0", A64K | BPF_ADD, 0xffffffffffffffff, I(1), 0},
      {"imm -7 is sign-extended", A64K | BPF_ADD, 5, I(-7), 0xfffffffffffffffe},
      {"0 + imm -1 gives all ones", A64K | BPF_ADD, 0, I(-1), 0xffffffffffffffff},
      {"carry into the upper half", A64K | BPF_ADD, 0xffffffff, I(1), 0x100000000},
      {"imm INT32_MIN sign-extended", A64K | BPF_ADD, 0, I(INT32_MIN), 0xffffffff80000000},
      {"X: INT64_MAX + 1", A64X | BPF_ADD, 0x7fffffffffffffff, 1, 0x8000000000000000},
      {"X: UINT64_MAX + 2", A64X | BPF_ADD, 0xffffffffffffffff, 2, 1},
      {"X: full 64-bit src", A64X | BPF_ADD, 0x0000000100000000, 0x1234567800000001,
       0x1234567900000001},
  });
}

TEST_P(Isa, Alu32Add) {
  check({
      {"low INT32_MAX + 1, upper bits of dst dropped", A32K | BPF_ADD, 0xdeadbeef7fffffff, I(1),
       0x80000000},
      {"0xffffffff + 1 wraps to 0 (no carry out)", A32K | BPF_ADD, 0xffffffff, I(1), 0},
      {"imm -7", A32K | BPF_ADD, 0x100000005, I(-7), 0xfffffffe},
      {"X: upper halves ignored", A32X | BPF_ADD, 0x12345678ffffffff, 0xffffffff00000001, 0},
      {"X: 1 + 2 with garbage above", A32X | BPF_ADD, 0xaaaaaaaa00000001, 0x5555555500000002, 3},
  });
}

TEST_P(Isa, Alu64Sub) {
  check({
      {"0 - 1", A64K | BPF_SUB, 0, I(1), 0xffffffffffffffff},
      {"INT64_MIN - 1 wraps to INT64_MAX", A64K | BPF_SUB, 0x8000000000000000, I(1),
       0x7fffffffffffffff},
      {"5 - (-3)", A64K | BPF_SUB, 5, I(-3), 8},
      {"X: 0 - UINT64_MAX", A64X | BPF_SUB, 0, 0xffffffffffffffff, 1},
      {"X: borrow across the halves", A64X | BPF_SUB, 0x100000000, 1, 0xffffffff},
  });
}

TEST_P(Isa, Alu32Sub) {
  check({
      {"low 0 - 1 is 0xffffffff, zero-extended", A32K | BPF_SUB, 0xaaaaaaaa00000000, I(1),
       0xffffffff},
      {"X: 3 - 5", A32X | BPF_SUB, 3, 5, 0xfffffffe},
      {"X: only low halves", A32X | BPF_SUB, 0x0000000500000009, 0x0000000900000004, 5},
  });
}

TEST_P(Isa, Alu64Mul) {
  check({
      {"3 * -2", A64K | BPF_MUL, 3, I(-2), 0xfffffffffffffffa},
      {"2^62 * 4 wraps to 0", A64K | BPF_MUL, 0x4000000000000000, I(4), 0},
      {"X: 0xffffffff squared", A64X | BPF_MUL, 0xffffffff, 0xffffffff, 0xfffffffe00000001},
      {"X: (2^32+1)^2 wraps", A64X | BPF_MUL, 0x100000001, 0x100000001, 0x200000001},
      {"X: -1 * -1", A64X | BPF_MUL, 0xffffffffffffffff, 0xffffffffffffffff, 1},
  });
}

TEST_P(Isa, Alu32Mul) {
  check({
      {"0x10000 * 0x10000 wraps to 0", A32K | BPF_MUL, 0x10000, I(0x10000), 0},
      {"7 * -1", A32K | BPF_MUL, 7, I(-1), 0xfffffff9},
      {"X: 0xffffffff squared is 1", A32X | BPF_MUL, 0xffffffff, 0xffffffff, 1},
      {"X: upper halves ignored", A32X | BPF_MUL, 0x0000000700000004, 0x0000000500000003, 12},
  });
}

TEST_P(Isa, Alu64OrAndXor) {
  check({
      {"or: imm -1 sign-extended", A64K | BPF_OR, 0x1234567800000000, I(-1), 0xffffffffffffffff},
      {"or: imm INT32_MIN sign-extended", A64K | BPF_OR, 0x0f0f0f0f00000000, I(INT32_MIN),
       0xffffffff80000000},
      {"or", A64K | BPF_OR, 0xf0, I(0x0f), 0xff},
      {"or X", A64X | BPF_OR, 0xf0f0f0f000000000, 0x0f0f0f0f0f0f0f0f, 0xffffffff0f0f0f0f},
      {"and: positive imm clears upper", A64K | BPF_AND, 0xffffffffffffffff, I(0x7fffffff),
       0x7fffffff},
      {"and: imm -256 keeps upper", A64K | BPF_AND, 0x123456789abcdef0, I(-256),
       0x123456789abcde00},
      {"and X", A64X | BPF_AND, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0x0f000f000f000f00},
      {"xor: imm -1 complements all 64 bits", A64K | BPF_XOR, 0x123456789abcdef0, I(-1),
       0xedcba9876543210f},
      {"xor X self-cancel", A64X | BPF_XOR, 0x8000000000000001, 0x8000000000000001, 0},
      {"xor X", A64X | BPF_XOR, 0xaaaaaaaa55555555, 0xffffffff00000000, 0x5555555555555555},
  });
}

TEST_P(Isa, Alu32OrAndXor) {
  check({
      {"or: upper dst bits dropped", A32K | BPF_OR, 0xffffffff00000000, I(1), 1},
      {"or X: upper src bits ignored", A32X | BPF_OR, 0, 0xff00000000000001, 1},
      {"and: imm -1 keeps the low half only", A32K | BPF_AND, 0xffffffffffffffff, I(-1),
       0xffffffff},
      {"and X", A32X | BPF_AND, 0xffffffffffffffff, 0xffffffff0000ff00, 0xff00},
      {"xor: imm -1", A32K | BPF_XOR, 0x100000ffff, I(-1), 0xffff0000},
      {"xor X", A32X | BPF_XOR, 0xaaaaaaaa55555555, 0x55555555aaaaaaaa, 0xffffffff},
  });
}

TEST_P(Isa, Mov) {
  check({
      {"mov64 imm -1 sign-extends", A64K | BPF_MOV, 0x1234, I(-1), 0xffffffffffffffff},
      {"mov64 imm INT32_MIN sign-extends", A64K | BPF_MOV, 0, I(INT32_MIN), 0xffffffff80000000},
      {"mov64 imm INT32_MAX", A64K | BPF_MOV, 0xffffffffffffffff, I(0x7fffffff), 0x7fffffff},
      {"mov64 X copies 64 bits", A64X | BPF_MOV, 0, 0x8123456789abcdef, 0x8123456789abcdef},
      {"mov32 imm -1 zero-extends", A32K | BPF_MOV, 0xdeadbeefdeadbeef, I(-1), 0xffffffff},
      {"mov32 imm INT32_MIN zero-extends", A32K | BPF_MOV, 0xffffffffffffffff, I(INT32_MIN),
       0x80000000},
      {"mov32 X truncates", A32X | BPF_MOV, 0xffffffffffffffff, 0x1234567887654321, 0x87654321},
  });
  // mov32 of a register onto itself zero-extends it.
  EXPECT_EQ(hx(run(insn_buf() << ld_imm64(0, 0xffffffffffffffff) << mov32_reg(0, 0) << exit())),
            hx(0xffffffff));
  // A register-source op leaves the source register alone.
  EXPECT_EQ(run(insn_buf() << mov64_imm(9, 7) << mov64_imm(4, 5) << alu64_reg(BPF_ADD, 4, 9)
                           << mov64_reg(0, 9) << exit()),
            7u);
}

TEST_P(Isa, Neg) {
  check({
      {"neg64 1", A64K | BPF_NEG, 1, 0, 0xffffffffffffffff},
      {"neg64 0", A64K | BPF_NEG, 0, 0, 0},
      {"neg64 INT64_MIN is itself", A64K | BPF_NEG, 0x8000000000000000, 0, 0x8000000000000000},
      {"neg64 -5", A64K | BPF_NEG, 0xfffffffffffffffb, 0, 5},
      {"neg32 1 zero-extends", A32K | BPF_NEG, 1, 0, 0xffffffff},
      {"neg32 of low 0 is 0, upper zeroed", A32K | BPF_NEG, 0xffffffff00000000, 0, 0},
      {"neg32 INT32_MIN is itself", A32K | BPF_NEG, 0x80000000, 0, 0x80000000},
      {"neg32 ignores upper bits", A32K | BPF_NEG, 0x0000000500000001, 0, 0xffffffff},
  });
}

// ---------------------------------------------------------------------------------------------
// Shifts: masked with 63 (64-bit) and 31 (32-bit).

TEST_P(Isa, Lsh) {
  check({
      {"lsh64 1 << 63", A64K | BPF_LSH, 1, I(63), 0x8000000000000000},
      {"lsh64 0xff << 60", A64K | BPF_LSH, 0xff, I(60), 0xf000000000000000},
      {"lsh64 by 0", A64K | BPF_LSH, 0x1234, I(0), 0x1234},
      {"lsh64 K 65 masks to 1", A64K | BPF_LSH, 1, I(65), 2},
      {"lsh64 X 64 masks to 0", A64X | BPF_LSH, 1, 64, 1},
      {"lsh64 X 65 masks to 1", A64X | BPF_LSH, 1, 65, 2},
      {"lsh64 X 127 masks to 63", A64X | BPF_LSH, 1, 127, 0x8000000000000000},
      {"lsh64 X 0x100000001 masks to 1", A64X | BPF_LSH, 1, 0x100000001, 2},
      {"lsh32 1 << 31", A32K | BPF_LSH, 1, I(31), 0x80000000},
      {"lsh32 bits shifted past 31 are lost", A32K | BPF_LSH, 0xff, I(28), 0xf0000000},
      {"lsh32 dst upper dropped", A32K | BPF_LSH, 0xdead000000000003, I(30), 0xc0000000},
      {"lsh32 K 33 masks to 1", A32K | BPF_LSH, 1, I(33), 2},
      {"lsh32 X 32 masks to 0", A32X | BPF_LSH, 1, 32, 1},
      {"lsh32 X 33 masks to 1", A32X | BPF_LSH, 1, 33, 2},
      {"lsh32 X low half of src", A32X | BPF_LSH, 1, 0xffffffff00000004, 16},
  });
}

TEST_P(Isa, Rsh) {
  check({
      {"rsh64 is logical", A64K | BPF_RSH, 0x8000000000000000, I(63), 1},
      {"rsh64 4", A64K | BPF_RSH, 0xffffffffffffffff, I(4), 0x0fffffffffffffff},
      {"rsh64 X 64 masks to 0", A64X | BPF_RSH, 0x8000000000000000, 64, 0x8000000000000000},
      {"rsh64 X 65 masks to 1", A64X | BPF_RSH, 0x8000000000000000, 65, 0x4000000000000000},
      {"rsh64 K 64 masks to 0", A64K | BPF_RSH, 0x8000000000000000, I(64), 0x8000000000000000},
      {"rsh32 of low half", A32K | BPF_RSH, 0xffffffff80000000, I(31), 1},
      {"rsh32 does not shift upper bits down", A32K | BPF_RSH, 0x100000000, I(1), 0},
      {"rsh32 logical", A32K | BPF_RSH, 0xffffffff, I(4), 0x0fffffff},
      {"rsh32 X 32 masks to 0", A32X | BPF_RSH, 0x80000000, 32, 0x80000000},
      {"rsh32 X 33 masks to 1", A32X | BPF_RSH, 0x80000000, 33, 0x40000000},
  });
}

TEST_P(Isa, Arsh) {
  check({
      {"arsh64 INT64_MIN >> 63", A64K | BPF_ARSH, 0x8000000000000000, I(63), 0xffffffffffffffff},
      {"arsh64 INT64_MIN >> 4", A64K | BPF_ARSH, 0x8000000000000000, I(4), 0xf800000000000000},
      {"arsh64 positive", A64K | BPF_ARSH, 0x4000000000000000, I(62), 1},
      {"arsh64 -1 >> 1 stays -1", A64K | BPF_ARSH, 0xffffffffffffffff, I(1), 0xffffffffffffffff},
      {"arsh64 X 64 masks to 0", A64X | BPF_ARSH, 0x8000000000000000, 64, 0x8000000000000000},
      {"arsh64 X 65 masks to 1", A64X | BPF_ARSH, 0x8000000000000000, 65, 0xc000000000000000},
      {"arsh32 sign of bit 31, zero-extended", A32K | BPF_ARSH, 0x80000000, I(31), 0xffffffff},
      {"arsh32 INT32_MIN >> 4", A32K | BPF_ARSH, 0x80000000, I(4), 0xf8000000},
      {"arsh32 ignores upper dst bits", A32K | BPF_ARSH, 0xffffffff7fffffff, I(4), 0x07ffffff},
      {"arsh32 X 32 masks to 0", A32X | BPF_ARSH, 0x80000000, 32, 0x80000000},
      {"arsh32 X 33 masks to 1", A32X | BPF_ARSH, 0x80000000, 33, 0xc0000000},
      {"arsh32 K 33 masks to 1", A32K | BPF_ARSH, 0x80000000, I(33), 0xc0000000},
  });
}

// ---------------------------------------------------------------------------------------------
// Unsigned DIV / MOD, and division by zero.

TEST_P(Isa, Alu64DivMod) {
  check({
      {"100 / 7", A64K | BPF_DIV, 100, I(7), 14},
      {"div is unsigned", A64K | BPF_DIV, 0x8000000000000000, I(2), 0x4000000000000000},
      {"imm -1 is UINT64_MAX: max / max", A64K | BPF_DIV, 0xffffffffffffffff, I(-1), 1},
      {"imm -1 is UINT64_MAX: 100 / max", A64K | BPF_DIV, 100, I(-1), 0},
      {"imm -2 is 0xff..fe", A64K | BPF_DIV, 0xffffffffffffffff, I(-2), 1},
      {"X: max / 2^32", A64X | BPF_DIV, 0xffffffffffffffff, 0x100000000, 0xffffffff},
      {"X: src 2^32 is not zero", A64X | BPF_DIV, 0x500000000, 0x100000000, 5},
      {"100 % 7", A64K | BPF_MOD, 100, I(7), 2},
      {"mod: imm -1 is UINT64_MAX: max % max", A64K | BPF_MOD, 0xffffffffffffffff, I(-1), 0},
      {"mod: imm -1 is UINT64_MAX: 100 % max", A64K | BPF_MOD, 100, I(-1), 100},
      {"mod is unsigned", A64K | BPF_MOD, 0x8000000000000005, I(16), 5},
      {"X: max % 2^32", A64X | BPF_MOD, 0xffffffffffffffff, 0x100000000, 0xffffffff},
  });
}

TEST_P(Isa, Alu32DivMod) {
  check({
      {"100 / 7 with garbage above", A32K | BPF_DIV, 0x0000000900000064, I(7), 14},
      {"imm -1 is 0xffffffff", A32K | BPF_DIV, 0xffffffff, I(-1), 1},
      {"imm -1 is 0xffffffff (smaller dividend)", A32K | BPF_DIV, 0xfffffffe, I(-1), 0},
      {"div32 is unsigned", A32K | BPF_DIV, 0xfffffffffffffffe, I(2), 0x7fffffff},
      {"X: low halves only", A32X | BPF_DIV, 0x123456780000000a, 0x7777777700000003, 3},
      {"X: dividend's low half is 0", A32X | BPF_DIV, 0x100000000, 3, 0},
      {"mod32 K", A32K | BPF_MOD, 0x300000000a, I(3), 1},
      {"mod32 imm -2 is 0xfffffffe", A32K | BPF_MOD, 0xffffffff, I(-2), 1},
      {"mod32 X low halves only", A32X | BPF_MOD, 0x0000000100000010, 0xffffffff00000005, 1},
  });
}

TEST_P(Isa, DivisionByZero) {
  check({
      {"div64 K 0 gives 0", A64K | BPF_DIV, 42, I(0), 0},
      {"div64 X 0 gives 0", A64X | BPF_DIV, 0xffffffffffffffff, 0, 0},
      {"div32 K 0 gives 0", A32K | BPF_DIV, 0xffffffff0000002a, I(0), 0},
      {"div32 X 0 gives 0", A32X | BPF_DIV, 0xffffffff0000002a, 0, 0},
      {"div32 X 2^32: low half of src is 0", A32X | BPF_DIV, 0x2a, 0x100000000, 0},
      {"mod64 K 0 leaves dst", A64K | BPF_MOD, 0xdeadbeefcafebabe, I(0), 0xdeadbeefcafebabe},
      {"mod64 X 0 leaves dst", A64X | BPF_MOD, 0xdeadbeefcafebabe, 0, 0xdeadbeefcafebabe},
      {"mod32 K 0: low half kept, upper zeroed", A32K | BPF_MOD, 0xdeadbeefcafebabe, I(0),
       0xcafebabe},
      {"mod32 X 0: low half kept, upper zeroed", A32X | BPF_MOD, 0xdeadbeefcafebabe, 0, 0xcafebabe},
      {"mod32 X 2^32 is modulo by zero", A32X | BPF_MOD, 0xdeadbeefcafebabe, 0x100000000,
       0xcafebabe},
      {"mod64 X 2^32 is not zero", A64X | BPF_MOD, 0xdeadbeefcafebabe, 0x100000000, 0xcafebabe},
  });
}

// ---------------------------------------------------------------------------------------------
// cpu v4 SDIV / SMOD (offset 1): truncation toward zero, overflow wraps.

TEST_P(Isa, SignedDivMod64) {
  const uint64_t m13 = static_cast<uint64_t>(-13), m4 = static_cast<uint64_t>(-4);
  check({
      {"sdiv -13 / 3", A64K | BPF_DIV, m13, I(3), m4, 1},
      {"sdiv 13 / -3", A64K | BPF_DIV, 13, I(-3), m4, 1},
      {"sdiv -13 / -3", A64K | BPF_DIV, m13, I(-3), 4, 1},
      {"sdiv -1 / 2 truncates to 0", A64K | BPF_DIV, 0xffffffffffffffff, I(2), 0, 1},
      {"sdiv -7 / 2", A64K | BPF_DIV, static_cast<uint64_t>(-7), I(2), static_cast<uint64_t>(-3),
       1},
      {"sdiv -256 / imm -16 (sign-extended)", A64K | BPF_DIV, static_cast<uint64_t>(-256), I(-16),
       16, 1},
      {"sdiv INT64_MIN / -1 wraps to INT64_MIN (K)", A64K | BPF_DIV, 0x8000000000000000, I(-1),
       0x8000000000000000, 1},
      {"sdiv X -13 / 3", A64X | BPF_DIV, m13, 3, m4, 1},
      {"sdiv X INT64_MIN / -1", A64X | BPF_DIV, 0x8000000000000000, 0xffffffffffffffff,
       0x8000000000000000, 1},
      {"sdiv X by 0", A64X | BPF_DIV, m13, 0, 0, 1},
      {"sdiv K by 0", A64K | BPF_DIV, m13, I(0), 0, 1},
      {"smod -13 % 3", A64K | BPF_MOD, m13, I(3), 0xffffffffffffffff, 1},
      {"smod 13 % -3", A64K | BPF_MOD, 13, I(-3), 1, 1},
      {"smod -13 % -3", A64K | BPF_MOD, m13, I(-3), 0xffffffffffffffff, 1},
      {"smod -7 % 2", A64K | BPF_MOD, static_cast<uint64_t>(-7), I(2), 0xffffffffffffffff, 1},
      {"smod INT64_MIN % -1 is 0 (K)", A64K | BPF_MOD, 0x8000000000000000, I(-1), 0, 1},
      {"smod X -13 % 3", A64X | BPF_MOD, m13, 3, 0xffffffffffffffff, 1},
      {"smod X 13 % -3", A64X | BPF_MOD, 13, static_cast<uint64_t>(-3), 1, 1},
      {"smod X INT64_MIN % -1 is 0", A64X | BPF_MOD, 0x8000000000000000, 0xffffffffffffffff, 0, 1},
      {"smod X by 0 leaves dst", A64X | BPF_MOD, m13, 0, m13, 1},
      {"smod K by 0 leaves dst", A64K | BPF_MOD, m13, I(0), m13, 1},
  });
}

TEST_P(Isa, SignedDivMod32) {
  check({
      {"sdiv32 -13 / 3, upper dst ignored", A32K | BPF_DIV, 0x12345678fffffff3, I(3), 0xfffffffc,
       1},
      {"sdiv32 13 / -3", A32K | BPF_DIV, 13, I(-3), 0xfffffffc, 1},
      {"sdiv32 -13 / -3", A32K | BPF_DIV, 0xfffffff3, I(-3), 4, 1},
      {"sdiv32 -1 / 2 truncates to 0", A32K | BPF_DIV, 0xffffffff, I(2), 0, 1},
      {"sdiv32 INT32_MIN / -1 is INT32_MIN zero-extended (K)", A32K | BPF_DIV, 0x80000000, I(-1),
       0x80000000, 1},
      {"sdiv32 X INT32_MIN / -1", A32X | BPF_DIV, 0xffffffff80000000, 0xffffffff, 0x80000000, 1},
      {"sdiv32 X src is the signed low half", A32X | BPF_DIV, 13, 0x00000001fffffffd, 0xfffffffc,
       1},
      {"sdiv32 X by 0", A32X | BPF_DIV, 0xfffffff3, 0, 0, 1},
      {"sdiv32 X by 2^32 (low half 0)", A32X | BPF_DIV, 0xfffffff3, 0x100000000, 0, 1},
      {"sdiv32 K by 0", A32K | BPF_DIV, 0xfffffff3, I(0), 0, 1},
      {"smod32 -13 % 3", A32K | BPF_MOD, 0xfffffff3, I(3), 0xffffffff, 1},
      {"smod32 13 % -3", A32K | BPF_MOD, 13, I(-3), 1, 1},
      {"smod32 -13 % -3", A32K | BPF_MOD, 0xaaaaaaaafffffff3, I(-3), 0xffffffff, 1},
      {"smod32 INT32_MIN % -1 is 0 (K)", A32K | BPF_MOD, 0x80000000, I(-1), 0, 1},
      {"smod32 X INT32_MIN % -1 is 0", A32X | BPF_MOD, 0x80000000, 0xffffffffffffffff, 0, 1},
      {"smod32 X -13 % 3", A32X | BPF_MOD, 0xfffffff3, 0xffffffff00000003, 0xffffffff, 1},
      {"smod32 X by 0: low half kept, upper zeroed", A32X | BPF_MOD, 0xdeadbeeffffffff3,
       0x100000000, 0xfffffff3, 1},
      {"smod32 K by 0: low half kept, upper zeroed", A32K | BPF_MOD, 0xdeadbeeffffffff3, I(0),
       0xfffffff3, 1},
  });
  // The insn.h builders encode the same instructions.
  EXPECT_EQ(hx(run(insn_buf() << mov32_imm(0, -13) << sdiv32_imm(0, 3) << exit())), hx(0xfffffffc));
  EXPECT_EQ(hx(run(insn_buf() << mov32_imm(0, 13) << smod32_imm(0, -3) << exit())), hx(1));
  EXPECT_EQ(
      hx(run(insn_buf() << mov64_imm(0, -13) << mov64_imm(1, 3) << sdiv64_reg(0, 1) << exit())),
      hx(static_cast<uint64_t>(-4)));
  EXPECT_EQ(hx(run(insn_buf() << mov64_imm(0, -13) << smod64_imm(0, 3) << exit())),
            hx(0xffffffffffffffff));
}

// ---------------------------------------------------------------------------------------------
// MOVSX (cpu v4): ALU64 8/16/32, ALU 8/16 (sign-extend to 32, then zero-extend).

TEST_P(Isa, Movsx) {
  check({
      {"movsx64 s8 0x80", A64X | BPF_MOV, 0x1234, 0x80, 0xffffffffffffff80, 8},
      {"movsx64 s8 0x7f", A64X | BPF_MOV, 0xffffffffffffffff, 0x7f, 0x7f, 8},
      {"movsx64 s8 uses the low byte only", A64X | BPF_MOV, 0, 0x123456789abcde7f, 0x7f, 8},
      {"movsx64 s8 0xff is -1", A64X | BPF_MOV, 0, 0xff, 0xffffffffffffffff, 8},
      {"movsx64 s16 0x8000", A64X | BPF_MOV, 0, 0x8000, 0xffffffffffff8000, 16},
      {"movsx64 s16 0x7fff", A64X | BPF_MOV, 0, 0xffffffff00007fff, 0x7fff, 16},
      {"movsx64 s16 low half only", A64X | BPF_MOV, 0, 0xffffffffffff1234, 0x1234, 16},
      {"movsx64 s32 0x80000000", A64X | BPF_MOV, 0, 0x80000000, 0xffffffff80000000, 32},
      {"movsx64 s32 0x7fffffff", A64X | BPF_MOV, 0, 0xffffffff7fffffff, 0x7fffffff, 32},
      {"movsx64 s32 1", A64X | BPF_MOV, 0, 0xffffffff00000001, 1, 32},
      {"movsx32 s8 0x80 zero-extended", A32X | BPF_MOV, 0xdeadbeefdeadbeef, 0x80, 0xffffff80, 8},
      {"movsx32 s8 0x7f", A32X | BPF_MOV, 0xdeadbeefdeadbeef, 0x7f, 0x7f, 8},
      {"movsx32 s8 low byte only", A32X | BPF_MOV, 0, 0xffffffffffffff01, 1, 8},
      {"movsx32 s16 0x8000", A32X | BPF_MOV, 0xffffffffffffffff, 0x8000, 0xffff8000, 16},
      {"movsx32 s16 0x17fff", A32X | BPF_MOV, 0, 0x17fff, 0x7fff, 16},
  });
  // The builders, and movsx onto the same register.
  EXPECT_EQ(hx(run(insn_buf() << mov64_imm(0, 0x80) << movsx64(0, 0, 8) << exit())),
            hx(0xffffffffffffff80));
  EXPECT_EQ(hx(run(insn_buf() << mov64_imm(0, 0x8000) << movsx32(0, 0, 16) << exit())),
            hx(0xffff8000));
}

// ---------------------------------------------------------------------------------------------
// Byte swaps.

TEST_P(Isa, ByteSwap) {
  const uint64_t v = 0x0123456789abcdef;
  auto swap = [&](insn i, uint64_t x) {
    return hx(run(insn_buf() << ld_imm64(0, x) << i << exit()));
  };
  EXPECT_EQ(swap(to_le(0, 16), v), hx(0xcdef));
  EXPECT_EQ(swap(to_le(0, 32), v), hx(0x89abcdef));
  EXPECT_EQ(swap(to_le(0, 64), v), hx(0x0123456789abcdef));
  EXPECT_EQ(swap(to_be(0, 16), v), hx(0xefcd));
  EXPECT_EQ(swap(to_be(0, 32), v), hx(0xefcdab89));
  EXPECT_EQ(swap(to_be(0, 64), v), hx(0xefcdab8967452301));
  EXPECT_EQ(swap(bswap(0, 16), v), hx(0xefcd));
  EXPECT_EQ(swap(bswap(0, 32), v), hx(0xefcdab89));
  EXPECT_EQ(swap(bswap(0, 64), v), hx(0xefcdab8967452301));
  // Truncation drops high bits even when they are set.
  EXPECT_EQ(swap(to_be(0, 16), 0xffffffffffff0080), hx(0x8000));
  EXPECT_EQ(swap(to_le(0, 16), 0xffffffffffff8000), hx(0x8000));
  EXPECT_EQ(swap(to_le(0, 32), 0xffffffff80000000), hx(0x80000000));
  EXPECT_EQ(swap(bswap(0, 16), 0xffffffffffff0080), hx(0x8000));
  EXPECT_EQ(swap(bswap(0, 32), 0xffffffff00000080), hx(0x80000000));
  EXPECT_EQ(swap(bswap(0, 64), 0x80), hx(0x8000000000000000));
  // Swapping twice is the identity (at the width).
  EXPECT_EQ(hx(run(insn_buf() << ld_imm64(0, v) << bswap(0, 64) << bswap(0, 64) << exit())), hx(v));
}

// ---------------------------------------------------------------------------------------------
// ld_imm64 (src 0).

TEST_P(Isa, LdImm64) {
  for (uint64_t v : {0x0123456789abcdefULL, 0xffffffff00000000ULL, 0x00000000ffffffffULL,
                     0x8000000000000000ULL, 0x0000000080000000ULL, 0ULL, ~0ULL}) {
    SCOPED_TRACE(hx(v));
    EXPECT_EQ(hx(run(insn_buf() << ld_imm64(0, v) << exit())), hx(v));
    // Into another register, overwriting all of it.
    EXPECT_EQ(
        hx(run(insn_buf() << mov64_imm(7, -1) << ld_imm64(7, v) << mov64_reg(0, 7) << exit())),
        hx(v));
  }
}

// ---------------------------------------------------------------------------------------------
// Loads and stores.

TEST_P(Isa, EntryRegisters) {
  std::vector<uint8_t> mem(24);
  EXPECT_EQ(run(insn_buf() << mov64_reg(0, 2) << exit(), mem), 24u);
  EXPECT_EQ(run(insn_buf() << mov64_reg(0, 1) << exit(), mem),
            reinterpret_cast<uintptr_t>(mem.data()));
}

TEST_P(Isa, LdxZeroExtends) {
  std::vector<uint8_t> mem = {0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
                              0x80, 0x7f, 0x00, 0x80, 0xff, 0x7f, 0x00, 0x00,
                              0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x7f};
  auto ld = [&](insn i) {
    return hx(run(insn_buf() << ld_imm64(0, 0xdeadbeefdeadbeef) << i << exit(), mem));
  };
  EXPECT_EQ(ld(ldx(BPF_B, 0, 1, 0)), hx(0x88));
  EXPECT_EQ(ld(ldx(BPF_H, 0, 1, 0)), hx(0x9988));
  EXPECT_EQ(ld(ldx(BPF_W, 0, 1, 0)), hx(0xbbaa9988));
  EXPECT_EQ(ld(ldx(BPF_DW, 0, 1, 0)), hx(0xffeeddccbbaa9988));
  EXPECT_EQ(ld(ldx(BPF_B, 0, 1, 8)), hx(0x80));
  EXPECT_EQ(ld(ldx(BPF_H, 0, 1, 10)), hx(0x8000));
  EXPECT_EQ(ld(ldx(BPF_W, 0, 1, 16)), hx(0x80000000));
  EXPECT_EQ(ld(ldx(BPF_B, 0, 1, 23)), hx(0x7f));
  // Unaligned.
  EXPECT_EQ(ld(ldx(BPF_DW, 0, 1, 1)), hx(0x80ffeeddccbbaa99));
  EXPECT_EQ(ld(ldx(BPF_W, 0, 1, 3)), hx(0xeeddccbb));
  EXPECT_EQ(ld(ldx(BPF_H, 0, 1, 5)), hx(0xeedd));
  EXPECT_EQ(ld(ldx(BPF_DW, 0, 1, 13)), hx(0xff8000000000007f));
  // Negative offset from a pointer into the middle of the buffer.
  EXPECT_EQ(hx(run(insn_buf() << mov64_reg(3, 1) << alu64_imm(BPF_ADD, 3, 16)
                              << ldx(BPF_W, 0, 3, -16) << exit(),
                   mem)),
            hx(0xbbaa9988));
}

TEST_P(Isa, LdxSignExtends) {
  std::vector<uint8_t> mem = {0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
                              0x80, 0x7f, 0x00, 0x80, 0xff, 0x7f, 0x00, 0x00,
                              0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x7f};
  auto ld = [&](insn i) { return hx(run(insn_buf() << mov64_imm(0, 0) << i << exit(), mem)); };
  EXPECT_EQ(ld(ldsx(BPF_B, 0, 1, 8)), hx(0xffffffffffffff80));
  EXPECT_EQ(ld(ldsx(BPF_B, 0, 1, 9)), hx(0x7f));
  EXPECT_EQ(ld(ldsx(BPF_B, 0, 1, 7)), hx(0xffffffffffffffff));
  EXPECT_EQ(ld(ldsx(BPF_B, 0, 1, 10)), hx(0));
  EXPECT_EQ(ld(ldsx(BPF_H, 0, 1, 10)), hx(0xffffffffffff8000));
  EXPECT_EQ(ld(ldsx(BPF_H, 0, 1, 12)), hx(0x7fff));
  EXPECT_EQ(ld(ldsx(BPF_W, 0, 1, 16)), hx(0xffffffff80000000));
  EXPECT_EQ(ld(ldsx(BPF_W, 0, 1, 20)), hx(0x7fffffff));
  // Unaligned.
  EXPECT_EQ(ld(ldsx(BPF_W, 0, 1, 9)), hx(0xffffffffff80007f));
  EXPECT_EQ(ld(ldsx(BPF_H, 0, 1, 11)), hx(0xffffffffffffff80));
  EXPECT_EQ(ld(ldsx(BPF_W, 0, 1, 0)), hx(0xffffffffbbaa9988));
}

TEST_P(Isa, StImmediate) {
  auto st_one = [&](insn i) {
    std::vector<uint8_t> mem(16, 0xa5);
    EXPECT_EQ(run(insn_buf() << i << mov64_imm(0, 0) << exit(), mem), 0u);
    return mem;
  };
  // DW: imm sign-extended to 64 bits.
  auto m = st_one(st(BPF_DW, 1, 0, INT32_MIN));
  EXPECT_EQ(hx(get_u64(m, 0)), hx(0xffffffff80000000));
  EXPECT_EQ(hx(get_u64(m, 8)), hx(0xa5a5a5a5a5a5a5a5));
  m = st_one(st(BPF_DW, 1, 8, -2));
  EXPECT_EQ(hx(get_u64(m, 8)), hx(0xfffffffffffffffe));
  EXPECT_EQ(hx(get_u64(m, 0)), hx(0xa5a5a5a5a5a5a5a5));
  m = st_one(st(BPF_DW, 1, 0, 0x7fffffff));
  EXPECT_EQ(hx(get_u64(m, 0)), hx(0x000000007fffffff));
  // W, H, B: truncated, neighbours untouched.
  m = st_one(st(BPF_W, 1, 0, -2));
  EXPECT_EQ(hx(get_u64(m, 0)), hx(0xa5a5a5a5fffffffe));
  m = st_one(st(BPF_H, 1, 2, 0x12345));
  EXPECT_EQ(hx(get_u64(m, 0)), hx(0xa5a5a5a52345a5a5));
  m = st_one(st(BPF_B, 1, 5, 0x1ff));
  EXPECT_EQ(hx(get_u64(m, 0)), hx(0xa5a5ffa5a5a5a5a5));
  // Unaligned W.
  m = st_one(st(BPF_W, 1, 7, 0x11223344));
  EXPECT_EQ(hx(get_u64(m, 0)), hx(0x44a5a5a5a5a5a5a5));
  EXPECT_EQ(hx(get_u64(m, 8)), hx(0xa5a5a5a5a5112233));
}

TEST_P(Isa, StxEverySize) {
  std::vector<uint8_t> mem(24, 0xa5);
  insn_buf b;
  b << ld_imm64(2, 0x0123456789abcdef) << stx(BPF_B, 1, 2, 1) << stx(BPF_H, 1, 2, 3)
    << stx(BPF_W, 1, 2, 5) << stx(BPF_DW, 1, 2, 9) << mov64_imm(0, 0) << exit();
  EXPECT_EQ(run(b, mem), 0u);
  const std::vector<uint8_t> want = {0xa5, 0xef, 0xa5, 0xef, 0xcd, 0xef, 0xcd, 0xab,
                                     0x89, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23,
                                     0x01, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5};
  EXPECT_EQ(mem, want);
  // A store then load round-trips, and the source register is unchanged.
  std::vector<uint8_t> m2(8);
  EXPECT_EQ(hx(run(insn_buf() << ld_imm64(2, 0x8000000000000001) << stx(BPF_DW, 1, 2, 0)
                              << ldx(BPF_DW, 0, 1, 0) << alu64_reg(BPF_XOR, 0, 2) << exit(),
                   m2)),
            hx(0));
}

TEST_P(Isa, StackThroughR10) {
  std::vector<uint8_t> out(64, 0);
  insn_buf b;
  b << mov64_reg(9, 1)  // r9 = out
    << ld_imm64(2, 0x1122334455667788) << stx(BPF_DW, 10, 2, -8) << ld_imm64(3, 0x99aabbccddeeff00)
    << stx(BPF_DW, 10, 3, -512) << st(BPF_W, 10, -12, -1) << stx(BPF_B, 10, 2, -13)
    << st(BPF_DW, 10, -24, INT32_MIN)
    << st(BPF_H, 10, -26, 0x8001)
    // Through a copy of the frame pointer.
    << mov64_reg(4, 10) << alu64_imm(BPF_ADD, 4, -256) << st(BPF_DW, 4, -248, 0x5a5a5a5a)
    << ldx(BPF_DW, 5, 10, -8) << stx(BPF_DW, 9, 5, 0)     // 0x1122334455667788
    << ldx(BPF_DW, 5, 10, -512) << stx(BPF_DW, 9, 5, 8)   // 0x99aabbccddeeff00
    << ldx(BPF_W, 5, 10, -12) << stx(BPF_DW, 9, 5, 16)    // 0xffffffff
    << ldx(BPF_B, 5, 10, -13) << stx(BPF_DW, 9, 5, 24)    // 0x88
    << ldx(BPF_DW, 5, 10, -24) << stx(BPF_DW, 9, 5, 32)   // 0xffffffff80000000
    << ldsx(BPF_H, 5, 10, -26) << stx(BPF_DW, 9, 5, 40)   // 0xffffffffffff8001
    << ldx(BPF_DW, 5, 10, -504) << stx(BPF_DW, 9, 5, 48)  // 0x5a5a5a5a
    << ldx(BPF_H, 5, 10, -8) << stx(BPF_DW, 9, 5, 56)     // 0x7788 (little-endian)
    << mov64_imm(0, 0) << exit();
  EXPECT_EQ(run(b, out), 0u);
  EXPECT_EQ(hx(get_u64(out, 0)), hx(0x1122334455667788));
  EXPECT_EQ(hx(get_u64(out, 8)), hx(0x99aabbccddeeff00));
  EXPECT_EQ(hx(get_u64(out, 16)), hx(0xffffffff));
  EXPECT_EQ(hx(get_u64(out, 24)), hx(0x88));
  EXPECT_EQ(hx(get_u64(out, 32)), hx(0xffffffff80000000));
  EXPECT_EQ(hx(get_u64(out, 40)), hx(0xffffffffffff8001));
  EXPECT_EQ(hx(get_u64(out, 48)), hx(0x5a5a5a5a));
  EXPECT_EQ(hx(get_u64(out, 56)), hx(0x7788));
}

// ---------------------------------------------------------------------------------------------
// Atomics. r9 = mem; [0,8): src register after; [8,16): the operand; [16,24): guard.

struct atomic_out {
  uint64_t r0, src, mem;
  bool guard_ok;
};

TEST_P(Isa, Atomic64) {
  auto at = [&](int32_t aop, uint64_t mem_v, uint64_t src, uint64_t r0 = 0) {
    std::vector<uint8_t> mem(24, 0xa5);
    put_u64(mem, 8, mem_v);
    insn_buf b;
    b << mov64_reg(9, 1) << ld_imm64(2, src) << ld_imm64(0, r0) << atomic(BPF_DW, aop, 9, 2, 8)
      << stx(BPF_DW, 9, 2, 0) << exit();
    atomic_out o;
    o.r0 = run(b, mem);
    o.src = get_u64(mem, 0);
    o.mem = get_u64(mem, 8);
    o.guard_ok = get_u64(mem, 16) == 0xa5a5a5a5a5a5a5a5;
    return o;
  };
  struct c {
    const char* what;
    int32_t aop;
    uint64_t mem, src, want_mem, want_src;
  };
  for (const c& t : std::vector<c>{
           {"add", BPF_ADD, 0x10, 5, 0x15, 5},
           {"add wraps", BPF_ADD, 0xffffffffffffffff, 2, 1, 2},
           {"add carries into the upper half", BPF_ADD, 0xffffffff, 1, 0x100000000, 1},
           {"or", BPF_OR, 0xf0f0000000000000, 0x0f, 0xf0f000000000000f, 0x0f},
           {"and", BPF_AND, 0x00ff00ff00ff00ff, 0x0ff00ff00ff00ff0, 0x00f000f000f000f0,
            0x0ff00ff00ff00ff0},
           {"xor", BPF_XOR, 0xffff0000ffff0000, 0x0ff00ff00ff00ff0, 0xf00f0ff0f00f0ff0,
            0x0ff00ff00ff00ff0},
           {"fetch add", BPF_ADD | BPF_FETCH, 0x8000000000000000, 0x8000000000000001, 1,
            0x8000000000000000},
           {"fetch or", BPF_OR | BPF_FETCH, 0xf0f0000000000000, 0x0f, 0xf0f000000000000f,
            0xf0f0000000000000},
           {"fetch and", BPF_AND | BPF_FETCH, 0x00ff00ff00ff00ff, 0x0ff00ff00ff00ff0,
            0x00f000f000f000f0, 0x00ff00ff00ff00ff},
           {"fetch xor", BPF_XOR | BPF_FETCH, 0xffff0000ffff0000, 0x0ff00ff00ff00ff0,
            0xf00f0ff0f00f0ff0, 0xffff0000ffff0000},
           {"xchg", BPF_XCHG, 0x1111111122222222, 0x8333333344444444, 0x8333333344444444,
            0x1111111122222222},
       }) {
    SCOPED_TRACE(t.what);
    const atomic_out o = at(t.aop, t.mem, t.src, 0x77);
    EXPECT_EQ(hx(o.mem), hx(t.want_mem));
    EXPECT_EQ(hx(o.src), hx(t.want_src));
    EXPECT_EQ(hx(o.r0), hx(0x77)) << "r0 is not an operand of " << t.what;
    EXPECT_TRUE(o.guard_ok);
  }
  {
    SCOPED_TRACE("cmpxchg equal");
    const atomic_out o =
        at(BPF_CMPXCHG, 0x8000000000000005, 0x1234567890abcdef, 0x8000000000000005);
    EXPECT_EQ(hx(o.mem), hx(0x1234567890abcdef));
    EXPECT_EQ(hx(o.r0), hx(0x8000000000000005));
    EXPECT_EQ(hx(o.src), hx(0x1234567890abcdef));
    EXPECT_TRUE(o.guard_ok);
  }
  {
    SCOPED_TRACE("cmpxchg unequal");
    const atomic_out o = at(BPF_CMPXCHG, 0x8000000000000005, 0x1234567890abcdef, 6);
    EXPECT_EQ(hx(o.mem), hx(0x8000000000000005));
    EXPECT_EQ(hx(o.r0), hx(0x8000000000000005));
    EXPECT_EQ(hx(o.src), hx(0x1234567890abcdef));
  }
  {
    SCOPED_TRACE("cmpxchg compares all 64 bits");
    const atomic_out o = at(BPF_CMPXCHG, 0x0000000100000005, 0x99, 5);
    EXPECT_EQ(hx(o.mem), hx(0x0000000100000005));
    EXPECT_EQ(hx(o.r0), hx(0x0000000100000005));
  }
}

TEST_P(Isa, Atomic32) {
  auto at = [&](int32_t aop, uint32_t mem_v, uint64_t src, uint64_t r0 = 0) {
    std::vector<uint8_t> mem(24, 0xa5);
    put_u32(mem, 8, mem_v);
    insn_buf b;
    b << mov64_reg(9, 1) << ld_imm64(2, src) << ld_imm64(0, r0) << atomic(BPF_W, aop, 9, 2, 8)
      << stx(BPF_DW, 9, 2, 0) << exit();
    atomic_out o;
    o.r0 = run(b, mem);
    o.src = get_u64(mem, 0);
    o.mem = get_u32(mem, 8);
    o.guard_ok = get_u32(mem, 12) == 0xa5a5a5a5 && get_u64(mem, 16) == 0xa5a5a5a5a5a5a5a5;
    return o;
  };
  struct c {
    const char* what;
    int32_t aop;
    uint32_t mem;
    uint64_t src;
    uint32_t want_mem;
    uint64_t want_src;
  };
  for (const c& t : std::vector<c>{
           {"add wraps at 32 bits, src unchanged", BPF_ADD, 0xffffffff, 0xffffffff00000002, 1,
            0xffffffff00000002},
           {"or", BPF_OR, 0x0000ff00, 0xffffffff000000ff, 0x0000ffff, 0xffffffff000000ff},
           {"and", BPF_AND, 0xf0f0f0f0, 0x0000ffffff00ff00, 0xf000f000, 0x0000ffffff00ff00},
           {"xor", BPF_XOR, 0xffffffff, 0x000000010f0f0f0f, 0xf0f0f0f0, 0x000000010f0f0f0f},
           {"fetch add zero-extends the old value", BPF_ADD | BPF_FETCH, 0x80000000,
            0xdeadbeef00000001, 0x80000001, 0x80000000},
           {"fetch or", BPF_OR | BPF_FETCH, 0x0000ff00, 0xffffffff000000ff, 0x0000ffff, 0x0000ff00},
           {"fetch and", BPF_AND | BPF_FETCH, 0xf0f0f0f0, 0x0000ffffff00ff00, 0xf000f000,
            0xf0f0f0f0},
           {"fetch xor", BPF_XOR | BPF_FETCH, 0xffffffff, 0x000000010f0f0f0f, 0xf0f0f0f0,
            0xffffffff},
           {"xchg zero-extends", BPF_XCHG, 0x80000000, 0xdeadbeef11111111, 0x11111111, 0x80000000},
       }) {
    SCOPED_TRACE(t.what);
    const atomic_out o = at(t.aop, t.mem, t.src, 0x77);
    EXPECT_EQ(hx(o.mem), hx(t.want_mem));
    EXPECT_EQ(hx(o.src), hx(t.want_src));
    EXPECT_EQ(hx(o.r0), hx(0x77));
    EXPECT_TRUE(o.guard_ok) << "a 32-bit atomic wrote past its 4 bytes";
  }
  {
    SCOPED_TRACE("cmpxchg32 equal");
    const atomic_out o = at(BPF_CMPXCHG, 0x80000000, 0xdeadbeef22222222, 0x80000000);
    EXPECT_EQ(hx(o.mem), hx(0x22222222));
    EXPECT_EQ(hx(o.r0), hx(0x80000000));
    EXPECT_EQ(hx(o.src), hx(0xdeadbeef22222222));
    EXPECT_TRUE(o.guard_ok);
  }
  {
    SCOPED_TRACE("cmpxchg32 unequal: r0 gets the old value zero-extended");
    const atomic_out o = at(BPF_CMPXCHG, 0x80000000, 0xdeadbeef22222222, 0xffffffff00000005);
    EXPECT_EQ(hx(o.mem), hx(0x80000000));
    EXPECT_EQ(hx(o.r0), hx(0x80000000));
    EXPECT_EQ(hx(o.src), hx(0xdeadbeef22222222));
    EXPECT_TRUE(o.guard_ok);
  }
}

TEST_P(Isa, AtomicOnStack) {
  insn_buf b;
  b << st(BPF_DW, 10, -16, 40) << mov64_imm(2, 2) << atomic(BPF_DW, BPF_ADD, 10, 2, -16)
    << st(BPF_W, 10, -512, 7) << mov64_imm(3, 3) << atomic(BPF_W, BPF_ADD | BPF_FETCH, 10, 3, -512)
    << ldx(BPF_DW, 0, 10, -16)   // 42
    << alu64_reg(BPF_ADD, 0, 3)  // + 7 (fetched)
    << ldx(BPF_W, 4, 10, -512)   // 10
    << alu64_imm(BPF_MUL, 4, 100) << alu64_reg(BPF_ADD, 0, 4) << exit();
  EXPECT_EQ(run(b), 42u + 7u + 1000u);
}

// ---------------------------------------------------------------------------------------------
// Jumps.

struct jcase {
  uint8_t op;
  uint64_t a, b;
  bool t64, t32;  // taken in JMP, in JMP32
};

const char* jmp_name(uint8_t op) {
  switch (op) {
    case BPF_JEQ:
      return "JEQ";
    case BPF_JNE:
      return "JNE";
    case BPF_JGT:
      return "JGT";
    case BPF_JGE:
      return "JGE";
    case BPF_JLT:
      return "JLT";
    case BPF_JLE:
      return "JLE";
    case BPF_JSGT:
      return "JSGT";
    case BPF_JSGE:
      return "JSGE";
    case BPF_JSLT:
      return "JSLT";
    case BPF_JSLE:
      return "JSLE";
    case BPF_JSET:
      return "JSET";
    default:
      return "?";
  }
}

// Whether b is an imm that sign-extends to itself (usable as a JMP K operand).
bool fits_imm(uint64_t b) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(b))) == b;
}

TEST_P(Isa, ConditionalJumps) {
  constexpr uint64_t M1 = 0xffffffffffffffff, M2 = 0xfffffffffffffffe;
  const std::vector<jcase> cases = {
      // JEQ
      {BPF_JEQ, 5, 5, true, true},
      {BPF_JEQ, 5, 6, false, false},
      {BPF_JEQ, 0x100000005, 5, false, true},
      {BPF_JEQ, M1, M1, true, true},
      {BPF_JEQ, 0xffffffff, M1, false, true},
      {BPF_JEQ, 0x100000005, 0x200000005, false, true},
      // JNE
      {BPF_JNE, 5, 6, true, true},
      {BPF_JNE, 5, 5, false, false},
      {BPF_JNE, 0x100000005, 5, true, false},
      {BPF_JNE, 0xffffffff, M1, true, false},
      // JGT (unsigned)
      {BPF_JGT, M1, 1, true, true},
      {BPF_JGT, 1, M1, false, false},
      {BPF_JGT, 5, 5, false, false},
      {BPF_JGT, 0x100000000, 1, true, false},
      {BPF_JGT, 0x80000000, 0x7fffffff, true, true},
      {BPF_JGT, 0xffffffff, M1, false, false},
      // JGE
      {BPF_JGE, 5, 5, true, true},
      {BPF_JGE, 4, 5, false, false},
      {BPF_JGE, M1, 1, true, true},
      {BPF_JGE, 0x100000000, 1, true, false},
      {BPF_JGE, 0, 0xffffffff80000000, false, false},
      // JLT
      {BPF_JLT, 1, M1, true, true},
      {BPF_JLT, M1, 1, false, false},
      {BPF_JLT, 5, 5, false, false},
      {BPF_JLT, 0x100000000, 1, false, true},
      {BPF_JLT, 0xffffffff, M1, true, false},
      // JLE
      {BPF_JLE, 5, 5, true, true},
      {BPF_JLE, 6, 5, false, false},
      {BPF_JLE, 0x100000005, 5, false, true},
      {BPF_JLE, 1, M1, true, true},
      // JSGT (signed)
      {BPF_JSGT, M1, 1, false, false},
      {BPF_JSGT, 1, M1, true, true},
      {BPF_JSGT, 0x80000000, 1, true, false},
      {BPF_JSGT, 0x8000000000000000, 0x7fffffffffffffff, false, true},
      {BPF_JSGT, 5, 5, false, false},
      // JSGE
      {BPF_JSGE, M1, M1, true, true},
      {BPF_JSGE, M2, M1, false, false},
      {BPF_JSGE, 0, M1, true, true},
      {BPF_JSGE, 0x80000000, 0, true, false},
      // JSLT
      {BPF_JSLT, M1, 1, true, true},
      {BPF_JSLT, 1, M1, false, false},
      {BPF_JSLT, 0x80000000, 0, false, true},
      {BPF_JSLT, 5, 5, false, false},
      {BPF_JSLT, 0x8000000000000000, 0x7fffffffffffffff, true, false},
      // JSLE
      {BPF_JSLE, M1, M1, true, true},
      {BPF_JSLE, 0, M1, false, false},
      {BPF_JSLE, 0x80000000, 0x7fffffff, false, true},
      {BPF_JSLE, M2, M1, true, true},
      // JSET
      {BPF_JSET, 0b1010, 0b0100, false, false},
      {BPF_JSET, 0b1010, 0b0010, true, true},
      {BPF_JSET, 0x100000000, 0x100000000, true, false},
      {BPF_JSET, 0x8000000000000000, M1, true, false},
      {BPF_JSET, 0x80000000, 0xffffffff80000000, true, true},
      {BPF_JSET, 0, M1, false, false},
  };
  int checks = 0;
  for (const jcase& c : cases) {
    SCOPED_TRACE(std::string(jmp_name(c.op)) + " a=" + hx(c.a) + " b=" + hx(c.b));
    EXPECT_EQ(jumps(BPF_JMP | c.op | BPF_X, c.a, c.b), c.t64) << "JMP X";
    EXPECT_EQ(jumps(BPF_JMP32 | c.op | BPF_X, c.a, c.b), c.t32) << "JMP32 X";
    // JMP32 K compares against (u32)imm, so any b's low half works as the imm.
    EXPECT_EQ(jumps(BPF_JMP32 | c.op | BPF_K, c.a, c.b & 0xffffffff), c.t32) << "JMP32 K";
    checks += 3;
    if (fits_imm(c.b)) {
      EXPECT_EQ(jumps(BPF_JMP | c.op | BPF_K, c.a, c.b), c.t64) << "JMP K (imm sign-extended)";
      ++checks;
    }
  }
  EXPECT_GT(checks, 0);
}

TEST_P(Isa, JmpImmSignExtension) {
  // imm -1 is UINT64_MAX for JMP, 0xffffffff for JMP32.
  EXPECT_FALSE(jumps(BPF_JMP | BPF_JGT | BPF_K, 0xffffffff, I(-1)));
  EXPECT_TRUE(jumps(BPF_JMP | BPF_JLT | BPF_K, 0xffffffff, I(-1)));
  EXPECT_TRUE(jumps(BPF_JMP32 | BPF_JEQ | BPF_K, 0x12345678ffffffff, I(-1)));
  EXPECT_TRUE(jumps(BPF_JMP32 | BPF_JSLT | BPF_K, 0xffffffff, I(0)));
  EXPECT_FALSE(jumps(BPF_JMP | BPF_JSLT | BPF_K, 0xffffffff, I(0)));
}

TEST_P(Isa, JaForwardAndBackward) {
  EXPECT_EQ(run(insn_buf() << mov64_imm(0, 1) << ja(1) << mov64_imm(0, 2) << exit()), 1u);
  EXPECT_EQ(run(insn_buf() << mov64_imm(0, 1) << ja(0) << alu64_imm(BPF_ADD, 0, 1) << exit()), 2u);
  // sum 1..100 with a conditional backward jump
  EXPECT_EQ(
      run(insn_buf() << mov64_imm(0, 0) << mov64_imm(1, 1) << alu64_reg(BPF_ADD, 0, 1)  // 2: loop
                     << alu64_imm(BPF_ADD, 1, 1) << jmp_imm(BPF_JLE, 1, 100, -3) << exit()),
      5050u);
  // sum 10..1 with an unconditional backward ja
  EXPECT_EQ(
      run(insn_buf() << mov64_imm(0, 0) << mov64_imm(1, 10) << jmp_imm(BPF_JEQ, 1, 0, 3)  // 2: loop
                     << alu64_reg(BPF_ADD, 0, 1) << alu64_imm(BPF_SUB, 1, 1) << ja(-4) << exit()),
      55u);
  // JMP32 loop counter that wraps in its low half: counts from 0xfffffff0 (+ garbage above)
  // until the low 32 bits reach 0.
  EXPECT_EQ(run(insn_buf() << mov64_imm(0, 0) << ld_imm64(1, 0x00000007fffffff0)
                           << alu64_imm(BPF_ADD, 0, 1)  // 3: loop
                           << alu32_imm(BPF_ADD, 1, 1) << jmp32_imm(BPF_JNE, 1, 0, -3) << exit()),
            16u);
}

TEST_P(Isa, Gotol) {
  EXPECT_EQ(run(insn_buf() << mov64_imm(0, 1) << gotol(1) << mov64_imm(0, 2) << exit()), 1u);
  // A jump further than a 16-bit offset can reach.
  constexpr int N = 40000;
  {
    insn_buf b;
    b << mov64_imm(0, 7) << gotol(N);
    for (int i = 0; i < N; ++i) b << mov64_imm(0, 99);
    b << exit();
    EXPECT_EQ(run(b), 7u);
  }
  {
    // 0: r0 = 0; 1: gotol -> N+3; 2: r0 += 1; 3: exit; 4..N+2: padding;
    // N+3: r0 = 40; N+4: gotol -> 2.
    insn_buf b;
    b << mov64_imm(0, 0) << gotol(N + 1) << alu64_imm(BPF_ADD, 0, 1) << exit();
    for (int i = 0; i < N - 1; ++i) b << mov64_imm(0, 99);
    b << mov64_imm(0, 40) << gotol(-(N + 3));
    ASSERT_EQ(b.size(), static_cast<size_t>(N + 5));
    EXPECT_EQ(run(b), 41u);
  }
}

// ---------------------------------------------------------------------------------------------
// bpf-to-bpf calls.

TEST_P(Isa, CallPassesArgumentsAndReturnsR0) {
  insn_buf b;
  b << mov64_imm(1, 1) << mov64_imm(2, 2) << mov64_imm(3, 3) << mov64_imm(4, 4) << mov64_imm(5, 5)
    << call_local(1)
    << exit()
    // 7: r0 = r1*10000 + r2*1000 + r3*100 + r4*10 + r5
    << mov64_reg(0, 1) << alu64_imm(BPF_MUL, 0, 10) << alu64_reg(BPF_ADD, 0, 2)
    << alu64_imm(BPF_MUL, 0, 10) << alu64_reg(BPF_ADD, 0, 3) << alu64_imm(BPF_MUL, 0, 10)
    << alu64_reg(BPF_ADD, 0, 4) << alu64_imm(BPF_MUL, 0, 10) << alu64_reg(BPF_ADD, 0, 5) << exit();
  EXPECT_EQ(run(b), 12345u);
  // Full 64-bit arguments and result.
  insn_buf c;
  c << ld_imm64(1, 0x8000000000000000) << ld_imm64(5, 0x0000000000000001) << call_local(1) << exit()
    << mov64_reg(0, 1) << alu64_reg(BPF_OR, 0, 5) << exit();
  EXPECT_EQ(hx(run(c)), hx(0x8000000000000001));
}

TEST_P(Isa, CallPreservesR6ToR9) {
  insn_buf b;
  b << mov64_imm(6, 6) << mov64_imm(7, 7) << mov64_imm(8, 8) << mov64_imm(9, 9)
    << call_local(0)  // 4: patched below
    // r0 = callee's r0 (0x10000) + r6*1000 + r7*100 + r8*10 + r9
    << alu64_imm(BPF_MUL, 6, 1000) << alu64_imm(BPF_MUL, 7, 100) << alu64_imm(BPF_MUL, 8, 10)
    << alu64_reg(BPF_ADD, 0, 6) << alu64_reg(BPF_ADD, 0, 7) << alu64_reg(BPF_ADD, 0, 8)
    << alu64_reg(BPF_ADD, 0, 9) << exit();
  const size_t callee = b.size();
  // The callee overwrites r6-r9.
  b << mov64_imm(6, -1) << mov64_imm(7, -1) << mov64_imm(8, -1) << mov64_imm(9, -1)
    << mov64_imm(0, 0x10000) << exit();
  std::vector<insn> v = std::move(b).insns();
  v[4] = call_local(static_cast<int32_t>(callee) - 4 - 1);
  EXPECT_EQ(run(v, nullptr, 0), 0x10000u + 6789u);
}

TEST_P(Isa, CallFramesHaveIndependentStacks) {
  std::vector<uint8_t> out(48, 0);
  insn_buf b;
  b << mov64_reg(9, 1)                                    // 0
    << st(BPF_DW, 10, -8, 0x1111)                         // 1
    << st(BPF_DW, 10, -512, 0x5555)                       // 2
    << st(BPF_DW, 10, -16, 0)                             // 3
    << mov64_reg(7, 10)                                   // 4
    << mov64_reg(1, 10) << alu64_imm(BPF_ADD, 1, -16)     // 5, 6: r1 = &caller[-16]
    << call_local(0)                                      // 7: patched
    << stx(BPF_DW, 9, 0, 0)                               // callee's r0
    << ldx(BPF_DW, 2, 10, -8) << stx(BPF_DW, 9, 2, 8)     // 0x1111
    << ldx(BPF_DW, 2, 10, -512) << stx(BPF_DW, 9, 2, 16)  // 0x5555
    << ldx(BPF_DW, 2, 10, -16) << stx(BPF_DW, 9, 2, 24)   // 0x3333, written by the callee
    << mov64_imm(2, 0) << jmp_reg(BPF_JNE, 7, 10, 1) << mov64_imm(2, 1)
    << stx(BPF_DW, 9, 2, 32)  // 1 if the caller's r10 is unchanged by the call
    << mov64_imm(0, 0) << exit();
  const size_t callee = b.size();
  b << st(BPF_DW, 10, -8, 0x2222) << st(BPF_DW, 10, -512, 0x6666)
    << st(BPF_DW, 1, 0, 0x3333)  // into the caller's frame through a pointer
    << ldx(BPF_DW, 0, 10, -8) << ldx(BPF_DW, 2, 10, -512) << alu64_reg(BPF_ADD, 0, 2)  // 0x8888
    << mov64_reg(3, 1) << alu64_imm(BPF_ADD, 3, 16)   // the caller's r10
    << jmp_reg(BPF_JNE, 3, 10, 1) << mov64_imm(0, 0)  // same r10 as the caller: wrong
    << exit();
  std::vector<insn> v = std::move(b).insns();
  v[7] = call_local(static_cast<int32_t>(callee) - 7 - 1);
  EXPECT_EQ(run(v, out.data(), out.size()), 0u);
  EXPECT_EQ(hx(get_u64(out, 0)), hx(0x8888)) << "callee's frame, or its r10 equals the caller's";
  EXPECT_EQ(hx(get_u64(out, 8)), hx(0x1111));
  EXPECT_EQ(hx(get_u64(out, 16)), hx(0x5555));
  EXPECT_EQ(hx(get_u64(out, 24)), hx(0x3333));
  EXPECT_EQ(get_u64(out, 32), 1u);
}

// Frames 0..frames-1, 9 instructions each. Frame k stores k at [r10-8] and [r10-512], calls frame
// k+1 (the last one sets r0 = 0 instead), then reads both slots back and returns
// r0*10 + [r10-8] + [r10-512]: digits 2k, so 8 frames give 2 * 76543210 if no frame's stack was
// touched by its callees.
std::vector<insn> nested_calls(int frames) {
  insn_buf b;
  for (int k = 0; k < frames; ++k) {
    b << st(BPF_DW, 10, -8, k) << st(BPF_DW, 10, -512, k);
    if (k + 1 < frames) {
      b << call_local(9 - 2 - 1);  // the next frame starts 9 instructions after this one
    } else {
      b << mov64_imm(0, 0);
    }
    b << ldx(BPF_DW, 1, 10, -8) << ldx(BPF_DW, 2, 10, -512) << alu64_imm(BPF_MUL, 0, 10)
      << alu64_reg(BPF_ADD, 0, 1) << alu64_reg(BPF_ADD, 0, 2) << exit();
  }
  return std::move(b).insns();
}

TEST_P(Isa, NestedCallsUpToEightFrames) {
  std::vector<insn> v = nested_calls(max_call_frames);
  ASSERT_EQ(v.size(), 9u * max_call_frames);
  EXPECT_EQ(run(v, nullptr, 0), 2u * 76543210u);
  EXPECT_EQ(run(nested_calls(2), nullptr, 0), 2u * 10u);
  // One frame more does not load (static depth > 8).
  EXPECT_FALSE(bpf_prog::load(rt, nested_calls(max_call_frames + 1)));
}

// ---------------------------------------------------------------------------------------------
// Helpers that need no maps.

TEST_P(Isa, HelperPrandomIsDeterministicPerSeed) {
  runtime ref;
  ref.seed_prandom(42);
  const uint64_t e1 = ref.prandom_u32(), e2 = ref.prandom_u32();
  insn_buf b;
  b << call_helper(BPF_FUNC_get_prandom_u32) << mov64_reg(6, 0)
    << call_helper(BPF_FUNC_get_prandom_u32) << alu64_imm(BPF_LSH, 0, 32) << alu64_reg(BPF_OR, 0, 6)
    << exit();
  rt.seed_prandom(42);
  const uint64_t got = run(b);
  EXPECT_EQ(hx(got), hx(e2 << 32 | e1));
  rt.seed_prandom(42);
  EXPECT_EQ(hx(run(b)), hx(got)) << "same seed, same sequence";
  rt.seed_prandom(43);
  EXPECT_NE(hx(run(b)), hx(got)) << "another seed, another sequence";
  // The result is a u32: nothing above bit 31.
  EXPECT_EQ(run(insn_buf() << call_helper(BPF_FUNC_get_prandom_u32) << alu64_imm(BPF_RSH, 0, 32)
                           << exit()),
            0u);
}

TEST_P(Isa, HelperSmpProcessorIdIsZero) {
  EXPECT_EQ(
      run(insn_buf() << mov64_imm(0, -1) << call_helper(BPF_FUNC_get_smp_processor_id) << exit()),
      0u);
}

TEST_P(Isa, HelperKtimeAndPidTgidFromRuntime) {
  rt.ktime_get_ns = [] { return uint64_t{0x0123456789abcdef}; };
  rt.get_current_pid_tgid = [] { return (uint64_t{1234} << 32) | 5678; };
  EXPECT_EQ(hx(run(insn_buf() << call_helper(BPF_FUNC_ktime_get_ns) << exit())),
            hx(0x0123456789abcdef));
  EXPECT_EQ(hx(run(insn_buf() << call_helper(BPF_FUNC_get_current_pid_tgid) << exit())),
            hx((uint64_t{1234} << 32) | 5678));
}

TEST_P(Isa, HelperCallPreservesR6ToR9) {
  EXPECT_EQ(
      run(insn_buf() << mov64_imm(6, 6) << mov64_imm(7, 7) << mov64_imm(8, 8) << mov64_imm(9, 9)
                     << call_helper(BPF_FUNC_get_smp_processor_id) << alu64_imm(BPF_MUL, 6, 1000)
                     << alu64_imm(BPF_MUL, 7, 100) << alu64_imm(BPF_MUL, 8, 10)
                     << alu64_reg(BPF_ADD, 0, 6) << alu64_reg(BPF_ADD, 0, 7)
                     << alu64_reg(BPF_ADD, 0, 8) << alu64_reg(BPF_ADD, 0, 9) << exit()),
      6789u);
}

// ---------------------------------------------------------------------------------------------
// In-bounds edges succeed in both modes.

TEST_P(Isa, AccessesAtRegionEdges) {
  std::vector<uint8_t> mem(16);
  mem[15] = 0x5a;
  mem[0] = 0xa5;
  EXPECT_EQ(run(insn_buf() << ldx(BPF_B, 0, 1, 15) << exit(), mem), 0x5au);
  EXPECT_EQ(run(insn_buf() << ldx(BPF_DW, 0, 1, 8) << alu64_imm(BPF_RSH, 0, 56) << exit(), mem),
            0x5au);
  EXPECT_EQ(run(insn_buf() << mov64_reg(3, 1) << alu64_reg(BPF_ADD, 3, 2)  // r3 = mem + len
                           << ldx(BPF_B, 0, 3, -16) << exit(),
                mem),
            0xa5u);
  EXPECT_EQ(
      run(insn_buf() << st(BPF_DW, 10, -512, 3) << st(BPF_DW, 10, -8, 4) << ldx(BPF_DW, 0, 10, -512)
                     << ldx(BPF_DW, 1, 10, -8) << alu64_reg(BPF_ADD, 0, 1) << st(BPF_B, 10, -1, 9)
                     << ldx(BPF_B, 1, 10, -1) << alu64_reg(BPF_ADD, 0, 1) << exit()),
      16u);
}

// ---------------------------------------------------------------------------------------------
// Checked mode: an access outside the run's regions stops the run with an error naming the
// instruction. Not run unchecked: those programs would touch memory outside the regions.

TEST_P(IsaChecked, CheckedOutOfBoundsFaults) {
  struct c {
    const char* what;
    insn bad;
  };
  const std::vector<c> cases = {
      {"ldx above the stack: r10+8", ldx(BPF_DW, 0, 10, 8)},
      {"ldx at r10 (one past the frame)", ldx(BPF_B, 0, 10, 0)},
      {"ldx below the frame: r10-520", ldx(BPF_DW, 0, 10, -520)},
      {"ldx crossing the frame's bottom: r10-516", ldx(BPF_DW, 0, 10, -516)},
      {"stx crossing the frame's top: r10-4 DW", stx(BPF_DW, 10, 1, -4)},
      {"st below the frame: r10-513", st(BPF_B, 10, -513, 1)},
      {"ldx r1+len", ldx(BPF_W, 0, 1, 16)},
      {"ldx crossing the end of ctx: r1+12 DW", ldx(BPF_DW, 0, 1, 12)},
      {"ldx before ctx: r1-1", ldx(BPF_B, 0, 1, -1)},
      {"stx r1+len", stx(BPF_B, 1, 1, 16)},
      {"st crossing the end: r1+15 H", st(BPF_H, 1, 15, 1)},
      {"ldsx r1+len", ldsx(BPF_W, 0, 1, 16)},
      {"atomic add r1+len", atomic(BPF_DW, BPF_ADD, 1, 1, 16)},
      {"atomic fetch add below the stack", atomic(BPF_W, BPF_ADD | BPF_FETCH, 10, 1, -600)},
      {"atomic xchg crossing the end", atomic(BPF_DW, BPF_XCHG, 1, 1, 12)},
      {"cmpxchg r1+len", atomic(BPF_W, BPF_CMPXCHG, 1, 1, 16)},
  };
  for (size_t pad : {3u, 5u}) {
    for (const c& t : cases) {
      SCOPED_TRACE(std::string(t.what) + " at insn " + std::to_string(pad));
      std::vector<uint8_t> mem(32, 0xa5);  // only the first 16 bytes are the region
      insn_buf b;
      for (size_t i = 0; i < pad; ++i) b << mov64_imm(0, static_cast<int32_t>(i));
      b << t.bad << mov64_imm(0, 0) << exit();
      auto r = try_run(b.insns(), mem.data(), 16);
      ASSERT_FALSE(r) << "ran to r0 = " << hx(*r);
      EXPECT_THAT(r.err().msg, AllOf(HasSubstr("insn"), HasSubstr(std::to_string(pad))));
      EXPECT_EQ(std::vector<uint8_t>(mem.begin() + 16, mem.end()), std::vector<uint8_t>(16, 0xa5))
          << "a faulting access wrote outside the region";
    }
  }
}

TEST_P(IsaChecked, CheckedNullAndWildPointersFault) {
  std::vector<uint8_t> mem(16);
  {
    auto r =
        try_run((insn_buf() << mov64_imm(0, 0) << mov64_imm(3, 0) << ldx(BPF_DW, 0, 3, 0) << exit())
                    .insns(),
                mem.data(), mem.size());
    ASSERT_FALSE(r);
    EXPECT_THAT(r.err().msg, AllOf(HasSubstr("insn"), HasSubstr("2")));
  }
  {
    auto r = try_run((insn_buf() << ld_imm64(3, 0x0000100000000000) << mov64_imm(2, 1)
                                 << st(BPF_DW, 3, 0, 1) << exit())
                         .insns(),
                     mem.data(), mem.size());
    ASSERT_FALSE(r);
    EXPECT_THAT(r.err().msg, AllOf(HasSubstr("insn"), HasSubstr("3")));
  }
}

TEST_P(IsaChecked, CheckedFaultStopsTheRun) {
  std::vector<uint8_t> mem(8, 0);
  insn_buf b;
  b << st(BPF_B, 1, 0, 1)    // 0: runs
    << ldx(BPF_DW, 0, 1, 8)  // 1: faults
    << st(BPF_B, 1, 1, 2)    // 2: never runs
    << mov64_imm(0, 0) << exit();
  auto r = try_run(b.insns(), mem.data(), mem.size());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, AllOf(HasSubstr("insn"), HasSubstr("1")));
  EXPECT_EQ(mem[0], 1);
  EXPECT_EQ(mem[1], 0);
}

}  // namespace
}  // namespace mmbpf::bpf
