// The verifier's scalar core (bpf/verifier/tnum.h, scalar.h): worked examples of tnum operations,
// ALU bounds, zero extension and branch refinement, with the values the kernel's verifier would
// log; then property tests of soundness: random abstract registers (random ranges and tnums made
// consistent by reg_bounds_sync) and concrete values they contain; the concrete result of every
// ALU op, mov, END, load coercion and branch (computed as the interpreter does, RFC 9669) must
// be contained in the abstract result, is_scalar_branch_taken must agree with every concrete
// pair, and reg_set_min_max must keep every pair that takes each path. Fixed seed.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "bpf/verifier/reg_state.h"
#include "bpf/verifier/scalar.h"
#include "bpf/verifier/tnum.h"

namespace mmbpf::bpf::verifier {

// gtest prints tnums as the verifier log does (found by argument-dependent lookup).
[[maybe_unused]] static void PrintTo(const tnum& t, std::ostream* os) {
  *os << tnum_str(t);
}

namespace {

constexpr uint64_t U64_MAX = std::numeric_limits<uint64_t>::max();
constexpr int64_t S64_MIN = std::numeric_limits<int64_t>::min();
constexpr int64_t S64_MAX = std::numeric_limits<int64_t>::max();
constexpr uint32_t U32_MAX = std::numeric_limits<uint32_t>::max();
constexpr int32_t S32_MIN = std::numeric_limits<int32_t>::min();
constexpr int32_t S32_MAX = std::numeric_limits<int32_t>::max();

bpf_reg_state known(uint64_t v) {
  bpf_reg_state r;
  mark_reg_known(r, v);
  return r;
}

bpf_reg_state unknown() {
  bpf_reg_state r;
  mark_reg_unknown(r);
  return r;
}

bool contains(const bpf_reg_state& r, uint64_t v) {
  const auto v32 = static_cast<uint32_t>(v);
  return (v & ~r.var_off.mask) == r.var_off.value && r.umin_value <= v && v <= r.umax_value &&
         r.smin_value <= static_cast<int64_t>(v) && static_cast<int64_t>(v) <= r.smax_value &&
         r.u32_min_value <= v32 && v32 <= r.u32_max_value &&
         r.s32_min_value <= static_cast<int32_t>(v32) &&
         static_cast<int32_t>(v32) <= r.s32_max_value;
}

std::string dump(const bpf_reg_state& r) {
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "var_off=%s umin=%#llx umax=%#llx smin=%lld smax=%lld u32=[%#x,%#x] s32=[%d,%d]",
                tnum_str(r.var_off).c_str(), (unsigned long long)r.umin_value,
                (unsigned long long)r.umax_value, (long long)r.smin_value, (long long)r.smax_value,
                r.u32_min_value, r.u32_max_value, r.s32_min_value, r.s32_max_value);
  return buf;
}

// ---- tnum ------------------------------------------------------------------------------------

TEST(VerifierTnum, Range) {
  EXPECT_EQ(tnum_range(0, 0xff), (tnum{0, 0xff}));
  EXPECT_EQ(tnum_range(5, 7), (tnum{4, 3}));
  EXPECT_EQ(tnum_range(8, 8), tnum_const(8));
  EXPECT_EQ(tnum_range(0x10, 0x1f), (tnum{0x10, 0xf}));
  EXPECT_EQ(tnum_range(0, U64_MAX), tnum_unknown);
  EXPECT_EQ(tnum_range(1ULL << 63, U64_MAX), (tnum{1ULL << 63, (1ULL << 63) - 1}));
}

TEST(VerifierTnum, ArithmeticAndBitwise) {
  EXPECT_EQ(tnum_add(tnum_const(3), tnum_const(4)), tnum_const(7));
  // {0..3} + 1 = {1..4}: the carry makes bit 2 unknown.
  EXPECT_EQ(tnum_add(tnum{0, 3}, tnum_const(1)), (tnum{0, 7}));
  EXPECT_EQ(tnum_sub(tnum_const(10), tnum_const(3)), tnum_const(7));
  EXPECT_EQ(tnum_neg(tnum_const(1)), tnum_const(U64_MAX));
  EXPECT_EQ(tnum_and(tnum_unknown, tnum_const(0xff)), (tnum{0, 0xff}));
  EXPECT_EQ(tnum_or(tnum{0, 0xf}, tnum_const(0x3)), (tnum{0x3, 0xc}));
  EXPECT_EQ(tnum_xor(tnum{0x1, 0x2}, tnum_const(0x3)), (tnum{0x0, 0x2}));  // {1,3} ^ 3 = {2,0}
  EXPECT_EQ(tnum_intersect(tnum{0, 0xff}, tnum{0xf0, 0xf}), (tnum{0xf0, 0xf}));
  EXPECT_EQ(tnum_cast(tnum_const(0x1234), 1), tnum_const(0x34));
  EXPECT_EQ(tnum_subreg(tnum_unknown), (tnum{0, 0xffffffff}));
  EXPECT_EQ(tnum_clear_subreg(tnum_unknown), (tnum{0, 0xffffffff00000000}));
  EXPECT_EQ(tnum_const_subreg(tnum_unknown, 7), (tnum{7, 0xffffffff00000000}));
  EXPECT_TRUE(tnum_is_aligned(tnum{0x10, 0x30}, 16));
  EXPECT_FALSE(tnum_is_aligned(tnum{0x10, 0x38}, 16));
  EXPECT_TRUE(tnum_in(tnum{0, 0xff}, tnum{0x10, 0x0f}));
  EXPECT_FALSE(tnum_in(tnum{0, 0x0f}, tnum{0, 0xff}));
  EXPECT_EQ(tnum_str(tnum{0, 0xff}), "(0x0; 0xff)");
  EXPECT_EQ(tnum_str(tnum_unknown), "(0x0; 0xffffffffffffffff)");
}

TEST(VerifierTnum, Mul) {
  EXPECT_EQ(tnum_mul(tnum_const(3), tnum_const(5)), tnum_const(15));
  EXPECT_EQ(tnum_mul(tnum{0, 1}, tnum_const(4)), (tnum{0, 4}));  // {0,1} * 4 = {0,4}
  // {2,3} * 3 = {6,9}: both contained.
  tnum p = tnum_mul(tnum{2, 1}, tnum_const(3));
  EXPECT_TRUE(tnum_in(p, tnum_const(6)));
  EXPECT_TRUE(tnum_in(p, tnum_const(9)));
  EXPECT_EQ(tnum_mul(tnum_const(0), tnum_unknown), tnum_const(0));
  // x * 8 has its low three bits known zero.
  EXPECT_EQ(tnum_mul(tnum_unknown, tnum_const(8)).mask & 7, 0u);
  EXPECT_EQ(tnum_mul(tnum_unknown, tnum_const(8)).value & 7, 0u);
}

TEST(VerifierTnum, Shifts) {
  EXPECT_EQ(tnum_lshift(tnum{1, 2}, 4), (tnum{0x10, 0x20}));
  EXPECT_EQ(tnum_rshift(tnum{0x10, 0x20}, 4), (tnum{1, 2}));
  EXPECT_EQ(tnum_arshift(tnum_const(0x80000000), 4, 32), tnum_const(0xf8000000));
  EXPECT_EQ(tnum_arshift(tnum_const(1ULL << 63), 4, 64), tnum_const(0xf800000000000000));
  // an unknown sign bit spreads into the shifted-in bits
  EXPECT_EQ(tnum_arshift(tnum{0, 1ULL << 63}, 8, 64), (tnum{0, 0xff80000000000000}));
}

// ---- worked examples ---------------------------------------------------------------------

TEST(VerifierScalar, KnownAndUnknown) {
  bpf_reg_state r = known(static_cast<uint64_t>(-5));
  EXPECT_EQ(r.type, SCALAR_VALUE);
  EXPECT_EQ(r.smin_value, -5);
  EXPECT_EQ(r.umin_value, static_cast<uint64_t>(-5));
  EXPECT_EQ(r.s32_min_value, -5);
  EXPECT_EQ(r.u32_max_value, static_cast<uint32_t>(-5));
  EXPECT_TRUE(reg_bounds_sane(r));
  r.id = 3;
  r.precise = true;
  mark_reg_unknown(r);
  EXPECT_EQ(r.id, 0u);
  EXPECT_FALSE(r.precise);
  EXPECT_TRUE(tnum_is_unknown(r.var_off));
  EXPECT_EQ(r.umax_value, U64_MAX);
  EXPECT_EQ(r.s32_min_value, S32_MIN);
}

TEST(VerifierScalar, AndMask) {
  bpf_reg_state r = unknown();
  scalar_alu(r, known(0xff), BPF_AND, false, 0);
  EXPECT_EQ(tnum_str(r.var_off), "(0x0; 0xff)");
  EXPECT_EQ(r.umin_value, 0u);
  EXPECT_EQ(r.umax_value, 0xffu);
  EXPECT_EQ(r.smin_value, 0);
  EXPECT_EQ(r.smax_value, 0xff);
  EXPECT_EQ(r.u32_max_value, 0xffu);
  EXPECT_EQ(r.s32_min_value, 0);
  EXPECT_EQ(r.s32_max_value, 0xff);
  // r <<= 2: 0..0x3fc, low two bits known zero
  scalar_alu(r, known(2), BPF_LSH, false, 0);
  EXPECT_EQ(tnum_str(r.var_off), "(0x0; 0x3fc)");
  EXPECT_EQ(r.umax_value, 0x3fcu);
  // r += 4
  scalar_alu(r, known(4), BPF_ADD, false, 0);
  EXPECT_EQ(r.umin_value, 4u);
  EXPECT_EQ(r.umax_value, 0x400u);
  EXPECT_TRUE(tnum_is_aligned(r.var_off, 4));
}

TEST(VerifierScalar, AddOverflow) {
  // r = U64_MAX; r += 1: the constant wraps to 0.
  bpf_reg_state r = known(U64_MAX);
  scalar_alu(r, known(1), BPF_ADD, false, 0);
  EXPECT_TRUE(tnum_equals_const(r.var_off, 0));
  EXPECT_EQ(r.umax_value, 0u);
  // r in [U64_MAX-1, U64_MAX]; r += 1 may or may not wrap: unsigned bounds are lost, the signed
  // ones ([-2,-1] + 1) are not.
  r = unknown();
  r.umin_value = U64_MAX - 1;
  reg_bounds_sync(r);
  EXPECT_EQ(r.smin_value, -2);
  scalar_alu(r, known(1), BPF_ADD, false, 0);
  EXPECT_EQ(r.smin_value, -1);
  EXPECT_EQ(r.smax_value, 0);
  EXPECT_EQ(r.umin_value, 0u);
  EXPECT_EQ(r.umax_value, U64_MAX);
  // ... r += 2 wraps every value: [0, 1].
  r = unknown();
  r.umin_value = U64_MAX - 1;
  reg_bounds_sync(r);
  scalar_alu(r, known(2), BPF_ADD, false, 0);
  EXPECT_EQ(r.umin_value, 0u);
  EXPECT_EQ(r.umax_value, 1u);
  EXPECT_EQ(tnum_str(r.var_off), "(0x0; 0x1)");
  // signed overflow: s64 [S64_MAX-1, S64_MAX] + 1
  r = unknown();
  r.smin_value = S64_MAX - 1;
  reg_bounds_sync(r);
  scalar_alu(r, known(1), BPF_ADD, false, 0);
  EXPECT_TRUE(contains(r, static_cast<uint64_t>(S64_MIN)));
  EXPECT_TRUE(contains(r, static_cast<uint64_t>(S64_MAX)));
  EXPECT_EQ(r.umin_value, static_cast<uint64_t>(S64_MAX));
  EXPECT_EQ(r.umax_value, static_cast<uint64_t>(S64_MIN));
}

TEST(VerifierScalar, Alu32ZeroExtends) {
  // w1 += 1 on an unknown r1: the upper half is zero.
  bpf_reg_state r = unknown();
  scalar_alu(r, known(1), BPF_ADD, true, 0);
  EXPECT_EQ(tnum_str(r.var_off), "(0x0; 0xffffffff)");
  EXPECT_EQ(r.umax_value, 0xffffffffu);
  EXPECT_EQ(r.smin_value, 0);
  EXPECT_EQ(r.smax_value, 0xffffffff);
  // w = 0xffffffff; w += 1 -> 0
  r = known(0xffffffff);
  scalar_alu(r, known(1), BPF_ADD, true, 0);
  EXPECT_TRUE(tnum_equals_const(r.var_off, 0));
  // r = -1 (64-bit); w -= 1 -> 0xfffffffe, zero-extended
  r = known(U64_MAX);
  scalar_alu(r, known(1), BPF_SUB, true, 0);
  EXPECT_TRUE(tnum_equals_const(r.var_off, 0xfffffffe));
  EXPECT_EQ(r.smin_value, 0xfffffffe);
  // w = w (mov32) of a negative: zero-extends
  bpf_reg_state d;
  scalar_mov(d, known(static_cast<uint64_t>(-2)), true, 0);
  EXPECT_TRUE(tnum_equals_const(d.var_off, 0xfffffffe));
  // r = (s8)r: [0x80, 0xff] sign-extends to [-128, -1]
  bpf_reg_state s = unknown();
  s.umin_value = 0x80;
  s.umax_value = 0xff;
  reg_bounds_sync(s);
  scalar_mov(d, s, false, 8);
  EXPECT_EQ(d.smin_value, -128);
  EXPECT_EQ(d.smax_value, -1);
  EXPECT_EQ(d.s32_min_value, -128);
  // w = (s8)w then zero-extended: [0xffffff80, 0xffffffff]
  scalar_mov(d, s, true, 8);
  EXPECT_EQ(d.umin_value, 0xffffff80u);
  EXPECT_EQ(d.umax_value, 0xffffffffu);
}

TEST(VerifierScalar, ShiftsAndDivision) {
  // r >>= 60 on unknown: [0, 15]
  bpf_reg_state r = unknown();
  scalar_alu(r, known(60), BPF_RSH, false, 0);
  EXPECT_EQ(r.umax_value, 15u);
  EXPECT_EQ(tnum_str(r.var_off), "(0x0; 0xf)");
  // s>>= 63: 0 or -1
  r = unknown();
  scalar_alu(r, known(63), BPF_ARSH, false, 0);
  EXPECT_EQ(r.smin_value, -1);
  EXPECT_EQ(r.smax_value, 0);
  // a shift by a non-constant amount: unknown
  r = known(1);
  bpf_reg_state amount = unknown();
  amount.umax_value = 3;
  reg_bounds_sync(amount);
  scalar_alu(r, amount, BPF_LSH, false, 0);
  EXPECT_TRUE(tnum_is_unknown(r.var_off));
  // r &= 0xff; r /= 16: [0, 15]; r %= 10 of [0,255]: [0, 9]
  r = unknown();
  scalar_alu(r, known(0xff), BPF_AND, false, 0);
  bpf_reg_state q = r;
  scalar_alu(q, known(16), BPF_DIV, false, 0);
  EXPECT_EQ(q.umax_value, 15u);
  scalar_alu(r, known(10), BPF_MOD, false, 0);
  EXPECT_EQ(r.umax_value, 9u);
  // division by zero is 0; signed division: unknown
  r = unknown();
  scalar_alu(r, known(0), BPF_DIV, false, 0);
  EXPECT_TRUE(tnum_equals_const(r.var_off, 0));
  r = known(100);
  scalar_alu(r, known(7), BPF_DIV, false, 1);
  EXPECT_TRUE(tnum_is_unknown(r.var_off));
}

TEST(VerifierScalar, NegAndEnd) {
  bpf_reg_state r = unknown();
  r.umin_value = 1;
  r.umax_value = 10;
  reg_bounds_sync(r);
  scalar_alu(r, known(0), BPF_NEG, false, 0);
  EXPECT_EQ(r.smin_value, -10);
  EXPECT_EQ(r.smax_value, -1);
  // be16 of 0x1234 -> 0x3412; le16 truncates; bswap64 of a const
  r = known(0xabcd1234);
  scalar_end(r, true, false, 16);
  EXPECT_TRUE(tnum_equals_const(r.var_off, 0x3412));
  r = known(0xabcd1234);
  scalar_end(r, false, false, 16);
  EXPECT_TRUE(tnum_equals_const(r.var_off, 0x1234));
  r = known(0x0102030405060708);
  scalar_end(r, false, true, 64);
  EXPECT_TRUE(tnum_equals_const(r.var_off, 0x0807060504030201));
  // be32 of an unknown: a 32-bit value
  r = unknown();
  scalar_end(r, true, false, 32);
  EXPECT_EQ(r.umax_value, 0xffffffffu);
}

TEST(VerifierScalar, Coerce) {
  bpf_reg_state r = unknown();
  coerce_reg_to_size(r, 2);
  EXPECT_EQ(r.umax_value, 0xffffu);
  EXPECT_EQ(r.s32_max_value, 0xffff);
  r = unknown();
  coerce_reg_to_size_sx(r, 1);
  EXPECT_EQ(r.smin_value, -128);
  EXPECT_EQ(r.smax_value, 127);
  EXPECT_EQ(r.s32_min_value, -128);
  r = known(0x80);
  coerce_reg_to_size_sx(r, 1);
  EXPECT_TRUE(tnum_equals_const(r.var_off, static_cast<uint64_t>(-128)));
}

// Runs reg_set_min_max on copies of a and b.
struct refined {
  bpf_reg_state t1, t2, f1, f2;
};
refined refine(const bpf_reg_state& a, const bpf_reg_state& b, uint8_t op, bool jmp32) {
  refined r{a, b, a, b};
  reg_set_min_max(r.t1, r.t2, r.f1, r.f2, op, jmp32);
  return r;
}

TEST(VerifierScalar, BranchUnsignedGt) {
  // if r1 > 10: taken r1 in [11, U64_MAX]; fall-through r1 in [0, 10]
  refined r = refine(unknown(), known(10), BPF_JGT, false);
  EXPECT_EQ(r.t1.umin_value, 11u);
  EXPECT_EQ(r.t1.umax_value, U64_MAX);
  EXPECT_EQ(r.f1.umin_value, 0u);
  EXPECT_EQ(r.f1.umax_value, 10u);
  EXPECT_EQ(r.f1.smin_value, 0);
  EXPECT_EQ(r.f1.smax_value, 10);
  EXPECT_EQ(r.f1.u32_max_value, 10u);
  EXPECT_EQ(tnum_str(r.f1.var_off), "(0x0; 0xf)");
  EXPECT_TRUE(tnum_equals_const(r.t2.var_off, 10));
  EXPECT_EQ(is_scalar_branch_taken(r.f1, known(10), BPF_JGT, false), 0);
  EXPECT_EQ(is_scalar_branch_taken(r.t1, known(10), BPF_JGT, false), 1);
  EXPECT_EQ(is_scalar_branch_taken(unknown(), known(10), BPF_JGT, false), -1);
}

TEST(VerifierScalar, BranchSigned32) {
  // if w1 s< 0: taken: bit 31 set; fall-through: bit 31 clear
  refined r = refine(unknown(), known(0), BPF_JSLT, true);
  EXPECT_EQ(r.t1.s32_min_value, S32_MIN);
  EXPECT_EQ(r.t1.s32_max_value, -1);
  EXPECT_EQ(r.t1.u32_min_value, 0x80000000u);
  EXPECT_EQ(r.t1.u32_max_value, 0xffffffffu);
  EXPECT_EQ(tnum_str(r.t1.var_off), "(0x80000000; 0xffffffff7fffffff)");
  EXPECT_EQ(r.f1.s32_min_value, 0);
  EXPECT_EQ(r.f1.s32_max_value, S32_MAX);
  EXPECT_EQ(r.f1.u32_max_value, 0x7fffffffu);
  // the 64-bit bounds only follow from the new low half: the extremes' low halves are raised
  // (lowered) into [0x80000000, 0xffffffff]
  EXPECT_EQ(r.t1.umin_value, 0x80000000u);
  EXPECT_EQ(r.t1.umax_value, U64_MAX);
  EXPECT_EQ(r.t1.smin_value, static_cast<int64_t>(0x8000000080000000));
  EXPECT_EQ(r.t1.smax_value, S64_MAX);
}

TEST(VerifierScalar, BranchJsetAndJeq) {
  // if r1 & 8: taken bit 3 set; fall-through bit 3 clear
  refined r = refine(unknown(), known(8), BPF_JSET, false);
  EXPECT_EQ(r.t1.var_off.value, 8u);
  EXPECT_EQ(r.t1.var_off.mask, ~uint64_t{8});
  EXPECT_EQ(r.f1.var_off.value, 0u);
  EXPECT_EQ(r.f1.var_off.mask, ~uint64_t{8});
  EXPECT_EQ(r.t1.umin_value, 8u);
  // if r1 & 6: taken learns nothing (which bit?), fall-through clears both
  r = refine(unknown(), known(6), BPF_JSET, false);
  EXPECT_TRUE(tnum_is_unknown(r.t1.var_off));
  EXPECT_EQ(r.f1.var_off.mask, ~uint64_t{6});
  // JSET decided: r & 0xff has no bit 8
  bpf_reg_state m = unknown();
  scalar_alu(m, known(0xff), BPF_AND, false, 0);
  EXPECT_EQ(is_scalar_branch_taken(m, known(0x100), BPF_JSET, false), 0);
  // if r1 == 5: taken r1 is the constant; r1 in [5, 10] != 5 is [6, 10]
  bpf_reg_state x = unknown();
  x.umin_value = 5;
  x.umax_value = 10;
  reg_bounds_sync(x);
  r = refine(x, known(5), BPF_JEQ, false);
  EXPECT_TRUE(tnum_equals_const(r.t1.var_off, 5));
  EXPECT_EQ(r.t1.smin_value, 5);
  EXPECT_EQ(r.f1.umin_value, 6u);
  EXPECT_EQ(r.f1.umax_value, 10u);
  EXPECT_EQ(is_scalar_branch_taken(x, known(11), BPF_JEQ, false), 0);
  EXPECT_EQ(is_scalar_branch_taken(x, known(11), BPF_JNE, false), 1);
  // JNE is the mirror: the taken path is JEQ's fall-through
  r = refine(x, known(10), BPF_JNE, false);
  EXPECT_EQ(r.t1.umax_value, 9u);
  EXPECT_TRUE(tnum_equals_const(r.f1.var_off, 10));
  // the known bits contradict: r & 1 == 1 is never 4
  bpf_reg_state odd = unknown();
  odd.var_off = tnum{1, ~uint64_t{1}};
  reg_bounds_sync(odd);
  EXPECT_EQ(is_scalar_branch_taken(odd, known(4), BPF_JEQ, false), 0);
}

TEST(VerifierScalar, RangeWithin) {
  bpf_reg_state wide = unknown();
  bpf_reg_state narrow = unknown();
  scalar_alu(narrow, known(0xff), BPF_AND, false, 0);
  EXPECT_TRUE(range_within(wide, narrow));
  EXPECT_FALSE(range_within(narrow, wide));
  EXPECT_TRUE(range_within(narrow, narrow));
}

// ---- property tests --------------------------------------------------------------------------

struct gen {
  std::mt19937_64 rng{0x5eed'b0f0'0001ULL};

  uint64_t u64() { return rng(); }
  uint64_t below(uint64_t n) { return n ? rng() % n : 0; }
  bool coin(int one_in = 2) { return below(one_in) == 0; }

  // Values near the places bounds get interesting: 0, the 32-bit and 64-bit sign and wrap
  // boundaries, small magnitudes, or anything.
  uint64_t value() {
    static constexpr uint64_t anchors[] = {0,
                                           0x7f,
                                           0xff,
                                           0x7fff,
                                           0xffff,
                                           0x7fffffff,
                                           0x80000000,
                                           0xffffffff,
                                           0x100000000,
                                           0x7fffffffffffffff,
                                           0x8000000000000000,
                                           0xffffffff7fffffff,
                                           0xffffffff80000000,
                                           U64_MAX};
    switch (below(4)) {
      case 0:
        return anchors[below(std::size(anchors))] + (below(33) - 16);
      case 1:
        return below(64);
      case 2:
        return u64() >> below(64);
      default:
        return u64();
    }
  }

  uint64_t width() {
    switch (below(5)) {
      case 0:
        return 0;
      case 1:
        return below(16);
      case 2:
        return below(1ULL << below(64));
      case 3:
        return U64_MAX;
      default:
        return below(1ULL << 33);
    }
  }

  uint64_t mask() {
    switch (below(6)) {
      case 0:
        return 0;
      case 1:
        return U64_MAX;
      case 2:
        return (1ULL << below(64)) - 1;  // low bits unknown
      case 3:
        return u64() & u64();  // sparse
      case 4:
        return ~((1ULL << below(64)) - 1);
      default:
        return u64();
    }
  }

  // A random abstract register containing x: random bounds around x in each domain and a
  // random tnum agreeing with x, made consistent by reg_bounds_sync.
  bpf_reg_state abstract(uint64_t x) {
    bpf_reg_state r = unknown();
    if (coin(4)) return r;
    if (coin(8)) return known(x);
    auto sat_sub = [](uint64_t a, uint64_t w) { return a >= w ? a - w : 0; };
    auto sat_add = [](uint64_t a, uint64_t w) { return U64_MAX - a >= w ? a + w : U64_MAX; };
    if (coin()) {
      r.umin_value = sat_sub(x, width());
      r.umax_value = sat_add(x, width());
    }
    if (coin()) {
      // signed: offset into unsigned space
      uint64_t bx = x ^ (1ULL << 63);
      r.smin_value = static_cast<int64_t>(sat_sub(bx, width()) ^ (1ULL << 63));
      r.smax_value = static_cast<int64_t>(sat_add(bx, width()) ^ (1ULL << 63));
    }
    const uint32_t x32 = static_cast<uint32_t>(x);
    if (coin(3)) {
      uint64_t w1 = width(), w2 = width();
      r.u32_min_value = x32 >= w1 ? static_cast<uint32_t>(x32 - w1) : 0;
      r.u32_max_value = U32_MAX - x32 >= w2 ? static_cast<uint32_t>(x32 + w2) : U32_MAX;
    }
    if (coin(3)) {
      uint64_t bx = x32 ^ 0x80000000u;
      uint64_t w1 = width(), w2 = width();
      uint64_t lo = bx >= w1 ? bx - w1 : 0, hi = U32_MAX - bx >= w2 ? bx + w2 : U32_MAX;
      r.s32_min_value = static_cast<int32_t>(static_cast<uint32_t>(lo) ^ 0x80000000u);
      r.s32_max_value = static_cast<int32_t>(static_cast<uint32_t>(hi) ^ 0x80000000u);
    }
    if (coin()) {
      uint64_t m = mask();
      r.var_off = tnum{x & ~m, m};
    }
    return r;
  }

  // Concrete values in r: x itself, the bounds, and values built from r's tnum, kept if
  // contained.
  void members(const bpf_reg_state& r, uint64_t x, std::vector<uint64_t>& out, int n) {
    out.clear();
    out.push_back(x);
    const uint64_t edges[] = {r.umin_value,
                              r.umax_value,
                              static_cast<uint64_t>(r.smin_value),
                              static_cast<uint64_t>(r.smax_value),
                              (x & ~0xffffffffULL) | r.u32_min_value,
                              (x & ~0xffffffffULL) | r.u32_max_value,
                              (x & ~0xffffffffULL) | static_cast<uint32_t>(r.s32_min_value),
                              (x & ~0xffffffffULL) | static_cast<uint32_t>(r.s32_max_value),
                              r.var_off.value,
                              r.var_off.value | r.var_off.mask};
    for (uint64_t e : edges)
      if (contains(r, e)) out.push_back(e);
    for (int tries = 0; tries < 8 * n && static_cast<int>(out.size()) < n; tries++) {
      uint64_t y;
      switch (below(3)) {
        case 0:
          y = r.var_off.value | (u64() & r.var_off.mask);
          break;
        case 1:
          y = x + below(64) - 32;
          break;
        default:
          y = r.var_off.value | ((x ^ (1ULL << below(64))) & r.var_off.mask);
          break;
      }
      if (contains(r, y)) out.push_back(y);
    }
  }
};

// The interpreter's semantics (RFC 9669).
uint64_t concrete_alu(uint8_t op, bool alu32, int16_t off, uint64_t a, uint64_t b) {
  if (!alu32) {
    const auto sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
    switch (op) {
      case BPF_ADD:
        return a + b;
      case BPF_SUB:
        return a - b;
      case BPF_MUL:
        return a * b;
      case BPF_DIV:
        if (off) return sb == 0 ? 0 : sb == -1 ? 0 - a : static_cast<uint64_t>(sa / sb);
        return b ? a / b : 0;
      case BPF_MOD:
        if (off) return sb == 0 ? a : sb == -1 ? 0 : static_cast<uint64_t>(sa % sb);
        return b ? a % b : a;
      case BPF_OR:
        return a | b;
      case BPF_AND:
        return a & b;
      case BPF_XOR:
        return a ^ b;
      case BPF_LSH:
        return a << (b & 63);
      case BPF_RSH:
        return a >> (b & 63);
      case BPF_ARSH:
        return static_cast<uint64_t>(sa >> (b & 63));
      case BPF_NEG:
        return 0 - a;
    }
    return 0;
  }
  const auto a32 = static_cast<uint32_t>(a), b32 = static_cast<uint32_t>(b);
  const auto sa = static_cast<int32_t>(a32), sb = static_cast<int32_t>(b32);
  uint32_t r = 0;
  switch (op) {
    case BPF_ADD:
      r = a32 + b32;
      break;
    case BPF_SUB:
      r = a32 - b32;
      break;
    case BPF_MUL:
      r = a32 * b32;
      break;
    case BPF_DIV:
      if (off)
        r = sb == 0 ? 0 : sb == -1 ? 0 - a32 : static_cast<uint32_t>(sa / sb);
      else
        r = b32 ? a32 / b32 : 0;
      break;
    case BPF_MOD:
      if (off)
        r = sb == 0 ? a32 : sb == -1 ? 0 : static_cast<uint32_t>(sa % sb);
      else
        r = b32 ? a32 % b32 : a32;
      break;
    case BPF_OR:
      r = a32 | b32;
      break;
    case BPF_AND:
      r = a32 & b32;
      break;
    case BPF_XOR:
      r = a32 ^ b32;
      break;
    case BPF_LSH:
      r = a32 << (b32 & 31);
      break;
    case BPF_RSH:
      r = a32 >> (b32 & 31);
      break;
    case BPF_ARSH:
      r = static_cast<uint32_t>(sa >> (b32 & 31));
      break;
    case BPF_NEG:
      r = 0 - a32;
      break;
  }
  return r;
}

bool concrete_cond(uint8_t op, bool jmp32, uint64_t a, uint64_t b) {
  if (jmp32) {
    a = static_cast<uint32_t>(a);
    b = static_cast<uint32_t>(b);
  }
  const int64_t sa = jmp32 ? int64_t{static_cast<int32_t>(a)} : static_cast<int64_t>(a);
  const int64_t sb = jmp32 ? int64_t{static_cast<int32_t>(b)} : static_cast<int64_t>(b);
  switch (op) {
    case BPF_JEQ:
      return a == b;
    case BPF_JNE:
      return a != b;
    case BPF_JGT:
      return a > b;
    case BPF_JGE:
      return a >= b;
    case BPF_JLT:
      return a < b;
    case BPF_JLE:
      return a <= b;
    case BPF_JSET:
      return (a & b) != 0;
    case BPF_JSGT:
      return sa > sb;
    case BPF_JSGE:
      return sa >= sb;
    case BPF_JSLT:
      return sa < sb;
    case BPF_JSLE:
      return sa <= sb;
  }
  return false;
}

constexpr int kStates = 6000;
constexpr int kMembers = 6;

TEST(VerifierScalarProperty, BoundsSyncKeepsMembers) {
  gen g;
  std::vector<uint64_t> ys;
  for (int i = 0; i < kStates * 4; i++) {
    uint64_t x = g.value();
    bpf_reg_state r = g.abstract(x);
    g.members(r, x, ys, 12);  // members before the sync
    reg_bounds_sync(r);
    ASSERT_TRUE(reg_bounds_sane(r)) << dump(r);
    for (uint64_t y : ys) {
      ASSERT_TRUE(contains(r, y)) << std::hex << y << " " << dump(r);
    }
    // idempotent enough: a second sync keeps them too and stays sane
    reg_bounds_sync(r);
    ASSERT_TRUE(reg_bounds_sane(r)) << dump(r);
    for (uint64_t y : ys) {
      ASSERT_TRUE(contains(r, y));
    }
  }
}

TEST(VerifierScalarProperty, AluSound) {
  gen g;
  static constexpr uint8_t ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,  BPF_AND,
                                    BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_ARSH};
  std::vector<uint64_t> xs, ys;
  for (int i = 0; i < kStates; i++) {
    uint64_t x = g.value();
    bpf_reg_state a = g.abstract(x);
    reg_bounds_sync(a);
    g.members(a, x, xs, kMembers);
    for (uint8_t op : ops) {
      for (int alu32 = 0; alu32 < 2; alu32++) {
        const bool shift = op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH;
        const bool divmod = op == BPF_DIV || op == BPF_MOD;
        for (int16_t off = 0; off <= (divmod ? 1 : 0); off++) {
          // src: a BPF_K constant (sign-extended imm), or a register
          bpf_reg_state b;
          uint64_t y;
          if (g.coin()) {
            int32_t imm = shift ? static_cast<int32_t>(g.below(alu32 ? 32 : 64))
                                : static_cast<int32_t>(g.value());
            if (divmod && g.coin(4)) imm = 0;
            y = static_cast<uint64_t>(static_cast<int64_t>(imm));
            b = known(y);
          } else {
            y = shift ? g.below(80) : g.value();
            b = g.abstract(y);
            reg_bounds_sync(b);
          }
          g.members(b, y, ys, kMembers);
          bpf_reg_state d = a;
          scalar_alu(d, b, op, alu32, off);
          ASSERT_TRUE(reg_bounds_sane(d)) << "op " << int(op) << " alu32 " << alu32 << "\n"
                                          << dump(a) << "\n"
                                          << dump(b) << "\n"
                                          << dump(d);
          for (uint64_t cx : xs)
            for (uint64_t cy : ys) {
              uint64_t res = concrete_alu(op, alu32, off, cx, cy);
              ASSERT_TRUE(contains(d, res))
                  << "op " << int(op) << " alu32 " << alu32 << " off " << off << std::hex
                  << " x=" << cx << " y=" << cy << " res=" << res << "\n dst " << dump(a)
                  << "\n src " << dump(b) << "\n out " << dump(d);
            }
        }
      }
    }
  }
}

TEST(VerifierScalarProperty, MovEndCoerceSound) {
  gen g;
  std::vector<uint64_t> xs;
  for (int i = 0; i < kStates; i++) {
    uint64_t x = g.value();
    bpf_reg_state a = g.abstract(x);
    reg_bounds_sync(a);
    g.members(a, x, xs, kMembers);
    auto check = [&](const bpf_reg_state& out, auto&& f, const char* what) {
      ASSERT_TRUE(reg_bounds_sane(out)) << what << "\n" << dump(a) << "\n" << dump(out);
      for (uint64_t cx : xs) {
        ASSERT_TRUE(contains(out, f(cx))) << what << std::hex << " x=" << cx << " res=" << f(cx)
                                          << "\n in  " << dump(a) << "\n out " << dump(out);
      }
    };
    for (int alu32 = 0; alu32 < 2; alu32++)
      for (int16_t off : {0, 8, 16, 32}) {
        if (alu32 && off == 32) continue;
        bpf_reg_state d;
        scalar_mov(d, a, alu32, off);
        check(
            d,
            [&](uint64_t v) {
              uint64_t r = off == 8    ? static_cast<uint64_t>(int64_t{static_cast<int8_t>(v)})
                           : off == 16 ? static_cast<uint64_t>(int64_t{static_cast<int16_t>(v)})
                           : off == 32 ? static_cast<uint64_t>(int64_t{static_cast<int32_t>(v)})
                                       : v;
              return alu32 ? uint64_t{static_cast<uint32_t>(r)} : r;
            },
            "mov");
      }
    for (int32_t imm : {16, 32, 64})
      for (int kind = 0; kind < 3; kind++) {  // le, be, bswap
        bpf_reg_state d = a;
        scalar_end(d, kind == 1, kind == 2, imm);
        check(
            d,
            [&](uint64_t v) -> uint64_t {
              if (kind == 0)
                return imm == 16   ? uint64_t{static_cast<uint16_t>(v)}
                       : imm == 32 ? uint64_t{static_cast<uint32_t>(v)}
                                   : v;
              return imm == 16   ? uint64_t{__builtin_bswap16(static_cast<uint16_t>(v))}
                     : imm == 32 ? uint64_t{__builtin_bswap32(static_cast<uint32_t>(v))}
                                 : __builtin_bswap64(v);
            },
            "end");
      }
    for (int size : {1, 2, 4, 8}) {
      bpf_reg_state d = a;
      coerce_reg_to_size(d, size);
      check(
          d, [&](uint64_t v) { return size == 8 ? v : v & ((1ULL << (size * 8)) - 1); }, "coerce");
      if (size == 8) continue;
      d = a;
      coerce_reg_to_size_sx(d, size);
      check(
          d,
          [&](uint64_t v) -> uint64_t {
            return size == 1   ? static_cast<uint64_t>(int64_t{static_cast<int8_t>(v)})
                   : size == 2 ? static_cast<uint64_t>(int64_t{static_cast<int16_t>(v)})
                               : static_cast<uint64_t>(int64_t{static_cast<int32_t>(v)});
          },
          "coerce_sx");
    }
  }
}

TEST(VerifierScalarProperty, BranchSound) {
  gen g;
  static constexpr uint8_t conds[] = {BPF_JEQ,  BPF_JNE,  BPF_JGT,  BPF_JGE,  BPF_JLT, BPF_JLE,
                                      BPF_JSET, BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE};
  std::vector<uint64_t> xs, ys;
  for (int i = 0; i < kStates * 2; i++) {
    uint64_t x = g.value();
    // Often a value near x, so that equality and edge cases come up.
    uint64_t y = g.coin(3) ? x + g.below(5) - 2 : g.value();
    bpf_reg_state a = g.abstract(x);
    bpf_reg_state b = g.coin(3) ? known(y) : g.abstract(y);
    reg_bounds_sync(a);
    reg_bounds_sync(b);
    g.members(a, x, xs, kMembers);
    g.members(b, y, ys, kMembers);
    for (uint8_t op : conds)
      for (int jmp32 = 0; jmp32 < 2; jmp32++) {
        const int taken = is_scalar_branch_taken(a, b, op, jmp32);
        refined r = refine(a, b, op, jmp32);
        bool any_true = false, any_false = false;
        for (uint64_t cx : xs)
          for (uint64_t cy : ys) {
            const bool c = concrete_cond(op, jmp32, cx, cy);
            (c ? any_true : any_false) = true;
            ASSERT_TRUE(taken == -1 || taken == static_cast<int>(c))
                << "op " << std::hex << int(op) << " jmp32 " << jmp32 << " x=" << cx << " y=" << cy
                << " taken " << taken << "\n a " << dump(a) << "\n b " << dump(b);
            const bpf_reg_state& r1 = c ? r.t1 : r.f1;
            const bpf_reg_state& r2 = c ? r.t2 : r.f2;
            ASSERT_TRUE(contains(r1, cx) && contains(r2, cy))
                << "op " << std::hex << int(op) << " jmp32 " << jmp32 << " path " << c
                << " x=" << cx << " y=" << cy << "\n a " << dump(a) << "\n b " << dump(b)
                << "\n r1 " << dump(r1) << "\n r2 " << dump(r2);
          }
        // a path some pair takes must come out consistent
        if (any_true) {
          ASSERT_TRUE(reg_bounds_sane(r.t1) && reg_bounds_sane(r.t2));
        }
        if (any_false) {
          ASSERT_TRUE(reg_bounds_sane(r.f1) && reg_bounds_sane(r.f2));
        }
      }
  }
}

// The abstract result of a chain of ops stays sound: registers built by a few random ops from
// constants and unknowns (the shapes the main loop produces).
TEST(VerifierScalarProperty, ChainsSound) {
  gen g;
  static constexpr uint8_t ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_OR,   BPF_AND,
                                    BPF_XOR, BPF_LSH, BPF_RSH, BPF_ARSH, BPF_NEG};
  for (int i = 0; i < kStates; i++) {
    uint64_t x = g.value();
    bpf_reg_state a = g.abstract(x);
    reg_bounds_sync(a);
    for (int step = 0; step < 6; step++) {
      const uint8_t op = ops[g.below(std::size(ops))];
      const bool alu32 = g.coin(3);
      const bool shift = op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH;
      uint64_t y = shift ? g.below(alu32 ? 32 : 64) : g.value();
      bpf_reg_state b = g.coin() ? known(y) : g.abstract(y);
      reg_bounds_sync(b);
      scalar_alu(a, b, op, alu32, 0);
      x = concrete_alu(op, alu32, 0, x, y);
      ASSERT_TRUE(reg_bounds_sane(a)) << dump(a);
      ASSERT_TRUE(contains(a, x)) << "step " << step << " op " << int(op) << std::hex << " x=" << x
                                  << "\n"
                                  << dump(a);
      // and a branch on it, following the concrete path
      const uint8_t cond = static_cast<uint8_t>(g.below(14) << 4);
      if (cond == BPF_JA || cond == BPF_CALL || cond == BPF_EXIT || cond > BPF_JSLE) continue;
      uint64_t k = g.coin() ? x + g.below(9) - 4 : g.value();
      const bool jmp32 = g.coin(3);
      refined r = refine(a, known(k), cond, jmp32);
      a = concrete_cond(cond, jmp32, x, k) ? r.t1 : r.f1;
      ASSERT_TRUE(contains(a, x)) << "cond " << int(cond) << std::hex << " x=" << x << " k=" << k
                                  << "\n"
                                  << dump(a);
    }
  }
}

}  // namespace
}  // namespace mmbpf::bpf::verifier
