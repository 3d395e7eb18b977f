// The verifier's scalar arithmetic core, after kernel/bpf/verifier.c (6.8+ bounds deduction,
// with the later sound refinements: wrap-aware add/sub, four-product signed mul, BPF_NEG and
// BPF_END tracking, tnum_overlap in is_branch_taken, sign-crossing __reg64_deduce_bounds).
// Written anew with the kernel's names and semantics. Simplified: only value fields are
// handled (ids/precision are the caller's, except the id clears of mov/movsx/END); sdiv/smod
// and non-constant divisors give an unknown result as the kernel 6.x does; unsigned div/mod by
// a constant is bounded (sound, as newer kernels do).
#include "bpf/verifier/scalar.h"

#include <linux/bpf.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace mmbpf::bpf::verifier {

namespace {

constexpr int64_t S64_MIN = std::numeric_limits<int64_t>::min();
constexpr int64_t S64_MAX = std::numeric_limits<int64_t>::max();
constexpr uint64_t U64_MAX = std::numeric_limits<uint64_t>::max();
constexpr int32_t S32_MIN = std::numeric_limits<int32_t>::min();
constexpr int32_t S32_MAX = std::numeric_limits<int32_t>::max();
constexpr uint32_t U32_MAX = std::numeric_limits<uint32_t>::max();

// The pseudo opcode the kernel uses for "JSET did not hold" (rev_opcode(BPF_JSET)).
constexpr uint8_t JSET_FALSE = BPF_JSET | BPF_X;

// Wrapping signed arithmetic (the kernel's s64 math wraps; C++'s would be undefined).
constexpr int64_t wrap_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
constexpr int32_t wrap_add32(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// ___mark_reg_known: the value fields only.
void ___mark_reg_known(bpf_reg_state& r, uint64_t imm) {
  r.var_off = tnum_const(imm);
  r.smin_value = r.smax_value = static_cast<int64_t>(imm);
  r.umin_value = r.umax_value = imm;
  r.s32_min_value = r.s32_max_value = static_cast<int32_t>(imm);
  r.u32_min_value = r.u32_max_value = static_cast<uint32_t>(imm);
}

void __mark_reg32_known(bpf_reg_state& r, uint64_t imm) {
  r.var_off = tnum_const_subreg(r.var_off, static_cast<uint32_t>(imm));
  r.s32_min_value = r.s32_max_value = static_cast<int32_t>(imm);
  r.u32_min_value = r.u32_max_value = static_cast<uint32_t>(imm);
}

void __mark_reg64_unbounded(bpf_reg_state& r) {
  r.smin_value = S64_MIN;
  r.smax_value = S64_MAX;
  r.umin_value = 0;
  r.umax_value = U64_MAX;
}

void __mark_reg32_unbounded(bpf_reg_state& r) {
  r.s32_min_value = S32_MIN;
  r.s32_max_value = S32_MAX;
  r.u32_min_value = 0;
  r.u32_max_value = U32_MAX;
}

// Bounds implied by the known bits.
void __update_reg32_bounds(bpf_reg_state& r) {
  tnum var32_off = tnum_subreg(r.var_off);
  // min signed: the sign bit set if it may be, the other bits at their minimum
  r.s32_min_value = std::max(
      r.s32_min_value,
      static_cast<int32_t>(var32_off.value | (var32_off.mask & static_cast<uint32_t>(S32_MIN))));
  // max signed: the sign bit clear if it may be, the other bits at their maximum
  r.s32_max_value =
      std::min(r.s32_max_value, static_cast<int32_t>(var32_off.value | (var32_off.mask & S32_MAX)));
  r.u32_min_value = std::max(r.u32_min_value, static_cast<uint32_t>(var32_off.value));
  r.u32_max_value =
      std::min(r.u32_max_value, static_cast<uint32_t>(var32_off.value | var32_off.mask));
}

void __update_reg64_bounds(bpf_reg_state& r) {
  r.smin_value = std::max(
      r.smin_value,
      static_cast<int64_t>(r.var_off.value | (r.var_off.mask & static_cast<uint64_t>(S64_MIN))));
  r.smax_value = std::min(
      r.smax_value,
      static_cast<int64_t>(r.var_off.value | (r.var_off.mask & static_cast<uint64_t>(S64_MAX))));
  r.umin_value = std::max(r.umin_value, r.var_off.value);
  r.umax_value = std::min(r.umax_value, r.var_off.value | r.var_off.mask);
}

void __update_reg_bounds(bpf_reg_state& r) {
  __update_reg32_bounds(r);
  __update_reg64_bounds(r);
}

// 32-bit bounds from the 64-bit ones, and s32 <-> u32.
void __reg32_deduce_bounds(bpf_reg_state& r) {
  // The upper 32 bits are the same over the whole u64 (s64) range: its low halves form a range.
  if ((r.umin_value >> 32) == (r.umax_value >> 32)) {
    r.u32_min_value = std::max(r.u32_min_value, static_cast<uint32_t>(r.umin_value));
    r.u32_max_value = std::min(r.u32_max_value, static_cast<uint32_t>(r.umax_value));
    if (static_cast<int32_t>(r.umin_value) <= static_cast<int32_t>(r.umax_value)) {
      r.s32_min_value = std::max(r.s32_min_value, static_cast<int32_t>(r.umin_value));
      r.s32_max_value = std::min(r.s32_max_value, static_cast<int32_t>(r.umax_value));
    }
  }
  if ((r.smin_value >> 32) == (r.smax_value >> 32)) {
    if (static_cast<uint32_t>(r.smin_value) <= static_cast<uint32_t>(r.smax_value)) {
      r.u32_min_value = std::max(r.u32_min_value, static_cast<uint32_t>(r.smin_value));
      r.u32_max_value = std::min(r.u32_max_value, static_cast<uint32_t>(r.smax_value));
    }
    if (static_cast<int32_t>(r.smin_value) <= static_cast<int32_t>(r.smax_value)) {
      r.s32_min_value = std::max(r.s32_min_value, static_cast<int32_t>(r.smin_value));
      r.s32_max_value = std::min(r.s32_max_value, static_cast<int32_t>(r.smax_value));
    }
  }
  // The upper halves are two consecutive numbers and the low halves go from negative (as s32)
  // to non-negative: together they still form one s32 range.
  if (static_cast<uint32_t>(r.umin_value >> 32) + 1 == static_cast<uint32_t>(r.umax_value >> 32) &&
      static_cast<int32_t>(r.umin_value) < 0 && static_cast<int32_t>(r.umax_value) >= 0) {
    r.s32_min_value = std::max(r.s32_min_value, static_cast<int32_t>(r.umin_value));
    r.s32_max_value = std::min(r.s32_max_value, static_cast<int32_t>(r.umax_value));
  }
  if (static_cast<uint32_t>(static_cast<uint64_t>(r.smin_value) >> 32) + 1 ==
          static_cast<uint32_t>(static_cast<uint64_t>(r.smax_value) >> 32) &&
      static_cast<int32_t>(r.smin_value) < 0 && static_cast<int32_t>(r.smax_value) >= 0) {
    r.s32_min_value = std::max(r.s32_min_value, static_cast<int32_t>(r.smin_value));
    r.s32_max_value = std::min(r.s32_max_value, static_cast<int32_t>(r.smax_value));
  }
  // A u32 range that does not cross the s32 sign boundary is also an s32 range...
  if (static_cast<int32_t>(r.u32_min_value) <= static_cast<int32_t>(r.u32_max_value)) {
    r.s32_min_value = std::max(r.s32_min_value, static_cast<int32_t>(r.u32_min_value));
    r.s32_max_value = std::min(r.s32_max_value, static_cast<int32_t>(r.u32_max_value));
  }
  // ...and an s32 range that does not cross the u32 wrap is a u32 range.
  if (static_cast<uint32_t>(r.s32_min_value) <= static_cast<uint32_t>(r.s32_max_value)) {
    r.u32_min_value = std::max(static_cast<uint32_t>(r.s32_min_value), r.u32_min_value);
    r.u32_max_value = std::min(static_cast<uint32_t>(r.s32_max_value), r.u32_max_value);
  }
}

void __reg64_deduce_bounds(bpf_reg_state& r) {
  if (static_cast<int64_t>(r.umin_value) <= static_cast<int64_t>(r.umax_value)) {
    r.smin_value = std::max(r.smin_value, static_cast<int64_t>(r.umin_value));
    r.smax_value = std::min(r.smax_value, static_cast<int64_t>(r.umax_value));
  }
  if (static_cast<uint64_t>(r.smin_value) <= static_cast<uint64_t>(r.smax_value)) {
    r.umin_value = std::max(static_cast<uint64_t>(r.smin_value), r.umin_value);
    r.umax_value = std::min(static_cast<uint64_t>(r.smax_value), r.umax_value);
  } else {
    // The s64 range crosses the sign boundary, i.e. is [smin, -1] u [0, smax] as u64; the
    // u64 range may overlap only one of the two pieces.
    if (r.umax_value < static_cast<uint64_t>(r.smin_value)) {
      r.smin_value = static_cast<int64_t>(r.umin_value);
      r.umax_value = std::min(r.umax_value, static_cast<uint64_t>(r.smax_value));
    } else if (static_cast<uint64_t>(r.smax_value) < r.umin_value) {
      r.smax_value = static_cast<int64_t>(r.umax_value);
      r.umin_value = std::max(r.umin_value, static_cast<uint64_t>(r.smin_value));
    }
  }
}

// 64-bit bounds from the 32-bit ones.
void __reg_deduce_mixed_bounds(bpf_reg_state& r) {
  // The low halves of the extremes may be raised (lowered) to the u32 bounds.
  uint64_t new_umin = (r.umin_value & ~uint64_t{0xffffffff}) | r.u32_min_value;
  uint64_t new_umax = (r.umax_value & ~uint64_t{0xffffffff}) | r.u32_max_value;
  r.umin_value = std::max(r.umin_value, new_umin);
  r.umax_value = std::min(r.umax_value, new_umax);
  int64_t new_smin = static_cast<int64_t>(
      (static_cast<uint64_t>(r.smin_value) & ~uint64_t{0xffffffff}) | r.u32_min_value);
  int64_t new_smax = static_cast<int64_t>(
      (static_cast<uint64_t>(r.smax_value) & ~uint64_t{0xffffffff}) | r.u32_max_value);
  r.smin_value = std::max(r.smin_value, new_smin);
  r.smax_value = std::min(r.smax_value, new_smax);

  // The value is a sign-extended s32 (after ldsx/movsx) and that s32 is non-negative: the
  // 64-bit value equals it.
  if (r.s32_min_value >= 0 && r.smin_value >= S32_MIN && r.smax_value <= S32_MAX) {
    r.smin_value = r.s32_min_value;
    r.smax_value = r.s32_max_value;
    r.umin_value = static_cast<uint64_t>(r.s32_min_value);
    r.umax_value = static_cast<uint64_t>(r.s32_max_value);
    r.var_off = tnum_intersect(r.var_off, tnum_range(r.umin_value, r.umax_value));
  }
}

void __reg_deduce_bounds(bpf_reg_state& r) {
  __reg32_deduce_bounds(r);
  __reg64_deduce_bounds(r);
  __reg_deduce_mixed_bounds(r);
}

// Known bits implied by the unsigned bounds.
void __reg_bound_offset(bpf_reg_state& r) {
  tnum var64_off = tnum_intersect(r.var_off, tnum_range(r.umin_value, r.umax_value));
  tnum var32_off =
      tnum_intersect(tnum_subreg(var64_off), tnum_range(r.u32_min_value, r.u32_max_value));
  r.var_off = tnum_or(tnum_clear_subreg(var64_off), var32_off);
}

void __reg_assign_32_into_64(bpf_reg_state& r) {
  r.umin_value = r.u32_min_value;
  r.umax_value = r.u32_max_value;
  // Only non-negative s32 bounds carry over; otherwise the worst case, refined from the tnum.
  if (r.s32_min_value >= 0 && r.s32_max_value >= 0)
    r.smax_value = r.s32_max_value;
  else
    r.smax_value = U32_MAX;
  if (r.s32_min_value >= 0)
    r.smin_value = r.s32_min_value;
  else
    r.smin_value = 0;
}

// An ALU32 result is zero-extended into the 64-bit register.
void zext_32_to_64(bpf_reg_state& r) {
  r.var_off = tnum_subreg(r.var_off);
  __reg_assign_32_into_64(r);
}

// --- adjust_scalar_min_max_vals's per-op bounds ----------------------------------------------

void scalar32_min_max_add(bpf_reg_state& dst, const bpf_reg_state& src) {
  int32_t smin, smax;
  if (__builtin_add_overflow(dst.s32_min_value, src.s32_min_value, &smin) ||
      __builtin_add_overflow(dst.s32_max_value, src.s32_max_value, &smax)) {
    dst.s32_min_value = S32_MIN;
    dst.s32_max_value = S32_MAX;
  } else {
    dst.s32_min_value = smin;
    dst.s32_max_value = smax;
  }
  // If both or neither of the extreme sums wrap, every sum wraps the same way: keep them.
  uint32_t umin, umax;
  bool min_overflow = __builtin_add_overflow(dst.u32_min_value, src.u32_min_value, &umin);
  bool max_overflow = __builtin_add_overflow(dst.u32_max_value, src.u32_max_value, &umax);
  if (!min_overflow && max_overflow) {
    dst.u32_min_value = 0;
    dst.u32_max_value = U32_MAX;
  } else {
    dst.u32_min_value = umin;
    dst.u32_max_value = umax;
  }
}

void scalar_min_max_add(bpf_reg_state& dst, const bpf_reg_state& src) {
  int64_t smin, smax;
  if (__builtin_add_overflow(dst.smin_value, src.smin_value, &smin) ||
      __builtin_add_overflow(dst.smax_value, src.smax_value, &smax)) {
    dst.smin_value = S64_MIN;
    dst.smax_value = S64_MAX;
  } else {
    dst.smin_value = smin;
    dst.smax_value = smax;
  }
  uint64_t umin, umax;
  bool min_overflow = __builtin_add_overflow(dst.umin_value, src.umin_value, &umin);
  bool max_overflow = __builtin_add_overflow(dst.umax_value, src.umax_value, &umax);
  if (!min_overflow && max_overflow) {
    dst.umin_value = 0;
    dst.umax_value = U64_MAX;
  } else {
    dst.umin_value = umin;
    dst.umax_value = umax;
  }
}

void scalar32_min_max_sub(bpf_reg_state& dst, const bpf_reg_state& src) {
  int32_t smin, smax;
  if (__builtin_sub_overflow(dst.s32_min_value, src.s32_max_value, &smin) ||
      __builtin_sub_overflow(dst.s32_max_value, src.s32_min_value, &smax)) {
    dst.s32_min_value = S32_MIN;
    dst.s32_max_value = S32_MAX;
  } else {
    dst.s32_min_value = smin;
    dst.s32_max_value = smax;
  }
  uint32_t umin, umax;
  bool min_underflow = __builtin_sub_overflow(dst.u32_min_value, src.u32_max_value, &umin);
  bool max_underflow = __builtin_sub_overflow(dst.u32_max_value, src.u32_min_value, &umax);
  if (min_underflow && !max_underflow) {
    dst.u32_min_value = 0;
    dst.u32_max_value = U32_MAX;
  } else {
    dst.u32_min_value = umin;
    dst.u32_max_value = umax;
  }
}

void scalar_min_max_sub(bpf_reg_state& dst, const bpf_reg_state& src) {
  int64_t smin, smax;
  if (__builtin_sub_overflow(dst.smin_value, src.smax_value, &smin) ||
      __builtin_sub_overflow(dst.smax_value, src.smin_value, &smax)) {
    dst.smin_value = S64_MIN;
    dst.smax_value = S64_MAX;
  } else {
    dst.smin_value = smin;
    dst.smax_value = smax;
  }
  uint64_t umin, umax;
  bool min_underflow = __builtin_sub_overflow(dst.umin_value, src.umax_value, &umin);
  bool max_underflow = __builtin_sub_overflow(dst.umax_value, src.umin_value, &umax);
  if (min_underflow && !max_underflow) {
    dst.umin_value = 0;
    dst.umax_value = U64_MAX;
  } else {
    dst.umin_value = umin;
    dst.umax_value = umax;
  }
}

void scalar32_min_max_mul(bpf_reg_state& dst, const bpf_reg_state& src) {
  uint32_t umin, umax;
  if (__builtin_mul_overflow(dst.u32_max_value, src.u32_max_value, &umax) ||
      __builtin_mul_overflow(dst.u32_min_value, src.u32_min_value, &umin)) {
    dst.u32_min_value = 0;
    dst.u32_max_value = U32_MAX;
  } else {
    dst.u32_min_value = umin;
    dst.u32_max_value = umax;
  }
  int32_t p[4];
  if (__builtin_mul_overflow(dst.s32_min_value, src.s32_min_value, &p[0]) ||
      __builtin_mul_overflow(dst.s32_min_value, src.s32_max_value, &p[1]) ||
      __builtin_mul_overflow(dst.s32_max_value, src.s32_min_value, &p[2]) ||
      __builtin_mul_overflow(dst.s32_max_value, src.s32_max_value, &p[3])) {
    dst.s32_min_value = S32_MIN;
    dst.s32_max_value = S32_MAX;
  } else {
    dst.s32_min_value = std::min({p[0], p[1], p[2], p[3]});
    dst.s32_max_value = std::max({p[0], p[1], p[2], p[3]});
  }
}

void scalar_min_max_mul(bpf_reg_state& dst, const bpf_reg_state& src) {
  uint64_t umin, umax;
  if (__builtin_mul_overflow(dst.umax_value, src.umax_value, &umax) ||
      __builtin_mul_overflow(dst.umin_value, src.umin_value, &umin)) {
    dst.umin_value = 0;
    dst.umax_value = U64_MAX;
  } else {
    dst.umin_value = umin;
    dst.umax_value = umax;
  }
  int64_t p[4];
  if (__builtin_mul_overflow(dst.smin_value, src.smin_value, &p[0]) ||
      __builtin_mul_overflow(dst.smin_value, src.smax_value, &p[1]) ||
      __builtin_mul_overflow(dst.smax_value, src.smin_value, &p[2]) ||
      __builtin_mul_overflow(dst.smax_value, src.smax_value, &p[3])) {
    dst.smin_value = S64_MIN;
    dst.smax_value = S64_MAX;
  } else {
    dst.smin_value = std::min({p[0], p[1], p[2], p[3]});
    dst.smax_value = std::max({p[0], p[1], p[2], p[3]});
  }
}

// The u32 bounds of a bitwise result as s32 bounds, if they do not cross the sign boundary.
void s32_from_u32(bpf_reg_state& dst) {
  if (static_cast<int32_t>(dst.u32_min_value) <= static_cast<int32_t>(dst.u32_max_value)) {
    dst.s32_min_value = static_cast<int32_t>(dst.u32_min_value);
    dst.s32_max_value = static_cast<int32_t>(dst.u32_max_value);
  } else {
    dst.s32_min_value = S32_MIN;
    dst.s32_max_value = S32_MAX;
  }
}

void s64_from_u64(bpf_reg_state& dst) {
  if (static_cast<int64_t>(dst.umin_value) <= static_cast<int64_t>(dst.umax_value)) {
    dst.smin_value = static_cast<int64_t>(dst.umin_value);
    dst.smax_value = static_cast<int64_t>(dst.umax_value);
  } else {
    dst.smin_value = S64_MIN;
    dst.smax_value = S64_MAX;
  }
}

// For and/or/xor dst.var_off already holds the result's tnum.
void scalar32_min_max_and(bpf_reg_state& dst, const bpf_reg_state& src) {
  tnum var32_off = tnum_subreg(dst.var_off);
  if (tnum_subreg_is_const(src.var_off) && tnum_subreg_is_const(dst.var_off)) {
    __mark_reg32_known(dst, var32_off.value);
    return;
  }
  // The minimum from the known bits; the maximum is the smaller of the operands' maxima.
  dst.u32_min_value = static_cast<uint32_t>(var32_off.value);
  dst.u32_max_value = std::min(dst.u32_max_value, src.u32_max_value);
  s32_from_u32(dst);
}

void scalar_min_max_and(bpf_reg_state& dst, const bpf_reg_state& src) {
  if (tnum_is_const(src.var_off) && tnum_is_const(dst.var_off)) {
    ___mark_reg_known(dst, dst.var_off.value);
    return;
  }
  dst.umin_value = dst.var_off.value;
  dst.umax_value = std::min(dst.umax_value, src.umax_value);
  s64_from_u64(dst);
  __update_reg_bounds(dst);
}

void scalar32_min_max_or(bpf_reg_state& dst, const bpf_reg_state& src) {
  tnum var32_off = tnum_subreg(dst.var_off);
  if (tnum_subreg_is_const(src.var_off) && tnum_subreg_is_const(dst.var_off)) {
    __mark_reg32_known(dst, var32_off.value);
    return;
  }
  // The maximum from the known bits; the minimum is the larger of the operands' minima.
  dst.u32_min_value = std::max(dst.u32_min_value, src.u32_min_value);
  dst.u32_max_value = static_cast<uint32_t>(var32_off.value | var32_off.mask);
  s32_from_u32(dst);
}

void scalar_min_max_or(bpf_reg_state& dst, const bpf_reg_state& src) {
  if (tnum_is_const(src.var_off) && tnum_is_const(dst.var_off)) {
    ___mark_reg_known(dst, dst.var_off.value);
    return;
  }
  dst.umin_value = std::max(dst.umin_value, src.umin_value);
  dst.umax_value = dst.var_off.value | dst.var_off.mask;
  s64_from_u64(dst);
  __update_reg_bounds(dst);
}

void scalar32_min_max_xor(bpf_reg_state& dst, const bpf_reg_state& src) {
  tnum var32_off = tnum_subreg(dst.var_off);
  if (tnum_subreg_is_const(src.var_off) && tnum_subreg_is_const(dst.var_off)) {
    __mark_reg32_known(dst, var32_off.value);
    return;
  }
  dst.u32_min_value = static_cast<uint32_t>(var32_off.value);
  dst.u32_max_value = static_cast<uint32_t>(var32_off.value | var32_off.mask);
  s32_from_u32(dst);
}

void scalar_min_max_xor(bpf_reg_state& dst, const bpf_reg_state& src) {
  if (tnum_is_const(src.var_off) && tnum_is_const(dst.var_off)) {
    ___mark_reg_known(dst, dst.var_off.value);
    return;
  }
  dst.umin_value = dst.var_off.value;
  dst.umax_value = dst.var_off.value | dst.var_off.mask;
  s64_from_u64(dst);
  __update_reg_bounds(dst);
}

// Shifts: the amount is a known constant below the bitness (is_safe_to_compute_dst_reg_range).
void __scalar32_min_max_lsh(bpf_reg_state& dst, uint64_t umin_val, uint64_t umax_val) {
  // The sign bit is lost (whatever var_off says is picked up later).
  dst.s32_min_value = S32_MIN;
  dst.s32_max_value = S32_MAX;
  // If the top bit may be shifted out, nothing is known.
  if (umax_val > 31 || dst.u32_max_value > (uint64_t{1} << (31 - umax_val))) {
    dst.u32_min_value = 0;
    dst.u32_max_value = U32_MAX;
  } else {
    dst.u32_min_value <<= umin_val;
    dst.u32_max_value <<= umax_val;
  }
}

void scalar32_min_max_lsh(bpf_reg_state& dst, const bpf_reg_state& src) {
  uint64_t umax_val = src.u32_max_value, umin_val = src.u32_min_value;
  tnum subreg = tnum_subreg(dst.var_off);
  __scalar32_min_max_lsh(dst, umin_val, umax_val);
  dst.var_off = tnum_subreg(tnum_lshift(subreg, static_cast<uint8_t>(umin_val)));
  // The 64-bit bounds come from the zero extension that follows.
  __mark_reg64_unbounded(dst);
  __update_reg32_bounds(dst);
}

void __scalar64_min_max_lsh(bpf_reg_state& dst, uint64_t umin_val, uint64_t umax_val) {
  // `<<32 s>>32` sign-extends a subregister; (s64)(x << 32) is (s32)x * 2^32, so non-negative
  // s32 bounds carry over.
  if (umin_val == 32 && umax_val == 32 && dst.s32_max_value >= 0)
    dst.smax_value = static_cast<int64_t>(static_cast<uint64_t>(dst.s32_max_value) << 32);
  else
    dst.smax_value = S64_MAX;
  if (umin_val == 32 && umax_val == 32 && dst.s32_min_value >= 0)
    dst.smin_value = static_cast<int64_t>(static_cast<uint64_t>(dst.s32_min_value) << 32);
  else
    dst.smin_value = S64_MIN;
  if (dst.umax_value > (uint64_t{1} << (63 - umax_val))) {
    dst.umin_value = 0;
    dst.umax_value = U64_MAX;
  } else {
    dst.umin_value <<= umin_val;
    dst.umax_value <<= umax_val;
  }
}

void scalar_min_max_lsh(bpf_reg_state& dst, const bpf_reg_state& src) {
  uint64_t umax_val = src.umax_value, umin_val = src.umin_value;
  // The 64-bit part uses the unshifted 32-bit bounds: first.
  __scalar64_min_max_lsh(dst, umin_val, umax_val);
  __scalar32_min_max_lsh(dst, umin_val, umax_val);
  dst.var_off = tnum_lshift(dst.var_off, static_cast<uint8_t>(umin_val));
  __update_reg_bounds(dst);
}

void scalar32_min_max_rsh(bpf_reg_state& dst, const bpf_reg_state& src) {
  tnum subreg = tnum_subreg(dst.var_off);
  uint32_t umax_val = src.u32_max_value, umin_val = src.u32_min_value;
  dst.s32_min_value = S32_MIN;
  dst.s32_max_value = S32_MAX;
  dst.var_off = tnum_rshift(subreg, static_cast<uint8_t>(umin_val));
  dst.u32_min_value >>= umax_val;
  dst.u32_max_value >>= umin_val;
  __mark_reg64_unbounded(dst);
  __update_reg32_bounds(dst);
}

void scalar_min_max_rsh(bpf_reg_state& dst, const bpf_reg_state& src) {
  uint64_t umax_val = src.umax_value, umin_val = src.umin_value;
  dst.smin_value = S64_MIN;
  dst.smax_value = S64_MAX;
  dst.var_off = tnum_rshift(dst.var_off, static_cast<uint8_t>(umin_val));
  dst.umin_value >>= umax_val;
  dst.umax_value >>= umin_val;
  // The bits shifted into the subregister are not tracked here: recomputed from the tnum.
  __mark_reg32_unbounded(dst);
  __update_reg_bounds(dst);
}

void scalar32_min_max_arsh(bpf_reg_state& dst, const bpf_reg_state& src) {
  uint32_t umin_val = src.u32_min_value;  // == u32_max_value
  dst.s32_min_value >>= umin_val;
  dst.s32_max_value >>= umin_val;
  dst.var_off = tnum_arshift(tnum_subreg(dst.var_off), static_cast<uint8_t>(umin_val), 32);
  dst.u32_min_value = 0;
  dst.u32_max_value = U32_MAX;
  __mark_reg64_unbounded(dst);
  __update_reg32_bounds(dst);
}

void scalar_min_max_arsh(bpf_reg_state& dst, const bpf_reg_state& src) {
  uint64_t umin_val = src.umin_value;
  dst.smin_value >>= umin_val;
  dst.smax_value >>= umin_val;
  dst.var_off = tnum_arshift(dst.var_off, static_cast<uint8_t>(umin_val), 64);
  dst.umin_value = 0;
  dst.umax_value = U64_MAX;
  __mark_reg32_unbounded(dst);
  __update_reg_bounds(dst);
}

// Unsigned division and modulo by a known constant (BPF: x / 0 == 0, x % 0 == x).
void scalar32_min_max_udiv(bpf_reg_state& dst, uint32_t c) {
  if (c == 0) {
    __mark_reg32_known(dst, 0);
    return;
  }
  dst.u32_min_value /= c;
  dst.u32_max_value /= c;
  dst.s32_min_value = S32_MIN;
  dst.s32_max_value = S32_MAX;
  dst.var_off = tnum_unknown;  // rebuilt from the bounds by reg_bounds_sync
}

void scalar_min_max_udiv(bpf_reg_state& dst, uint64_t c) {
  if (c == 0) {
    ___mark_reg_known(dst, 0);
    return;
  }
  dst.umin_value /= c;
  dst.umax_value /= c;
  dst.smin_value = S64_MIN;
  dst.smax_value = S64_MAX;
  __mark_reg32_unbounded(dst);
  dst.var_off = tnum_unknown;
}

void scalar32_min_max_umod(bpf_reg_state& dst, uint32_t c) {
  if (c == 0 || dst.u32_max_value < c) return;  // the dividend is the result
  dst.u32_min_value = 0;
  dst.u32_max_value = std::min(dst.u32_max_value, c - 1);
  dst.s32_min_value = S32_MIN;
  dst.s32_max_value = S32_MAX;
  dst.var_off = tnum_unknown;
}

void scalar_min_max_umod(bpf_reg_state& dst, uint64_t c) {
  if (c == 0 || dst.umax_value < c) return;
  dst.umin_value = 0;
  dst.umax_value = std::min(dst.umax_value, c - 1);
  dst.smin_value = S64_MIN;
  dst.smax_value = S64_MAX;
  __mark_reg32_unbounded(dst);
  dst.var_off = tnum_unknown;
}

bool src_is_const(const bpf_reg_state& src, bool alu32) {
  if (alu32)
    return tnum_subreg_is_const(src.var_off) && src.s32_min_value == src.s32_max_value &&
           src.u32_min_value == src.u32_max_value;
  return tnum_is_const(src.var_off) && src.smin_value == src.smax_value &&
         src.umin_value == src.umax_value;
}

// is_safe_to_compute_dst_reg_range, extended with unsigned div/mod by a constant.
bool is_safe_to_compute_dst_reg_range(uint8_t op, bool alu32, int16_t off,
                                      const bpf_reg_state& src) {
  const uint64_t insn_bitness = alu32 ? 32 : 64;
  switch (op) {
    case BPF_ADD:
    case BPF_SUB:
    case BPF_NEG:
    case BPF_AND:
    case BPF_XOR:
    case BPF_OR:
    case BPF_MUL:
      return true;
    case BPF_LSH:
    case BPF_RSH:
    case BPF_ARSH:
      return src_is_const(src, alu32) && src.umax_value < insn_bitness;
    case BPF_DIV:
    case BPF_MOD:
      return off == 0 && src_is_const(src, alu32);
    default:
      return false;
  }
}

tnum tnum_bswap(tnum a, int32_t imm) {
  switch (imm) {
    case 16:
      return tnum{__builtin_bswap16(static_cast<uint16_t>(a.value)),
                  __builtin_bswap16(static_cast<uint16_t>(a.mask))};
    case 32:
      return tnum{__builtin_bswap32(static_cast<uint32_t>(a.value)),
                  __builtin_bswap32(static_cast<uint32_t>(a.mask))};
    default:
      return tnum{__builtin_bswap64(a.value), __builtin_bswap64(a.mask)};
  }
}

// Whether the known bits of a and b agree (some value is in both).
bool tnum_overlap(tnum a, tnum b) {
  uint64_t mu = ~a.mask & ~b.mask;
  return (a.value & mu) == (b.value & mu);
}

bool is_reg_const(const bpf_reg_state& r, bool is_jmp32) {
  return r.type == SCALAR_VALUE && tnum_is_const(is_jmp32 ? tnum_subreg(r.var_off) : r.var_off);
}

uint64_t reg_const_value(const bpf_reg_state& r, bool is_jmp32) {
  return is_jmp32 ? static_cast<uint32_t>(r.var_off.value) : r.var_off.value;
}

// The condition that holds on the other path.
uint8_t rev_opcode(uint8_t op) {
  switch (op) {
    case BPF_JEQ:
      return BPF_JNE;
    case BPF_JNE:
      return BPF_JEQ;
    case BPF_JSET:
      return JSET_FALSE;
    case JSET_FALSE:
      return BPF_JSET;
    case BPF_JGE:
      return BPF_JLT;
    case BPF_JGT:
      return BPF_JLE;
    case BPF_JLE:
      return BPF_JGT;
    case BPF_JLT:
      return BPF_JGE;
    case BPF_JSGE:
      return BPF_JSLT;
    case BPF_JSGT:
      return BPF_JSLE;
    case BPF_JSLE:
      return BPF_JSGT;
    case BPF_JSLT:
      return BPF_JSGE;
    default:
      return op;
  }
}

// The condition with its operands swapped: a > b <=> b < a.
uint8_t flip_opcode(uint8_t op) {
  switch (op) {
    case BPF_JGT:
      return BPF_JLT;
    case BPF_JGE:
      return BPF_JLE;
    case BPF_JLT:
      return BPF_JGT;
    case BPF_JLE:
      return BPF_JGE;
    case BPF_JSGT:
      return BPF_JSLT;
    case BPF_JSGE:
      return BPF_JSLE;
    case BPF_JSLT:
      return BPF_JSGT;
    case BPF_JSLE:
      return BPF_JSGE;
    default:
      return op;
  }
}

// Refine reg1 and reg2 given that `reg1 op reg2` holds.
void regs_refine_cond_op(bpf_reg_state* reg1, bpf_reg_state* reg2, uint8_t op, bool is_jmp32) {
  switch (op) {
    case BPF_JGE:
    case BPF_JGT:
    case BPF_JSGE:
    case BPF_JSGT:
      op = flip_opcode(op);
      std::swap(reg1, reg2);
      break;
    default:
      break;
  }

  switch (op) {
    case BPF_JEQ:
      if (is_jmp32) {
        reg1->u32_min_value = std::max(reg1->u32_min_value, reg2->u32_min_value);
        reg1->u32_max_value = std::min(reg1->u32_max_value, reg2->u32_max_value);
        reg1->s32_min_value = std::max(reg1->s32_min_value, reg2->s32_min_value);
        reg1->s32_max_value = std::min(reg1->s32_max_value, reg2->s32_max_value);
        reg2->u32_min_value = reg1->u32_min_value;
        reg2->u32_max_value = reg1->u32_max_value;
        reg2->s32_min_value = reg1->s32_min_value;
        reg2->s32_max_value = reg1->s32_max_value;
        tnum t = tnum_intersect(tnum_subreg(reg1->var_off), tnum_subreg(reg2->var_off));
        reg1->var_off = tnum_with_subreg(reg1->var_off, t);
        reg2->var_off = tnum_with_subreg(reg2->var_off, t);
      } else {
        reg1->umin_value = std::max(reg1->umin_value, reg2->umin_value);
        reg1->umax_value = std::min(reg1->umax_value, reg2->umax_value);
        reg1->smin_value = std::max(reg1->smin_value, reg2->smin_value);
        reg1->smax_value = std::min(reg1->smax_value, reg2->smax_value);
        reg2->umin_value = reg1->umin_value;
        reg2->umax_value = reg1->umax_value;
        reg2->smin_value = reg1->smin_value;
        reg2->smax_value = reg1->smax_value;
        reg1->var_off = tnum_intersect(reg1->var_off, reg2->var_off);
        reg2->var_off = reg1->var_off;
      }
      break;
    case BPF_JNE: {
      if (!is_reg_const(*reg2, is_jmp32)) std::swap(reg1, reg2);
      if (!is_reg_const(*reg2, is_jmp32)) break;
      // A constant at an edge of the other's range moves that edge by one.
      uint64_t val = reg_const_value(*reg2, is_jmp32);
      if (is_jmp32) {
        if (reg1->u32_min_value == static_cast<uint32_t>(val)) reg1->u32_min_value++;
        if (reg1->u32_max_value == static_cast<uint32_t>(val)) reg1->u32_max_value--;
        if (reg1->s32_min_value == static_cast<int32_t>(val))
          reg1->s32_min_value = wrap_add32(reg1->s32_min_value, 1);
        if (reg1->s32_max_value == static_cast<int32_t>(val))
          reg1->s32_max_value = wrap_add32(reg1->s32_max_value, -1);
      } else {
        if (reg1->umin_value == val) reg1->umin_value++;
        if (reg1->umax_value == val) reg1->umax_value--;
        if (reg1->smin_value == static_cast<int64_t>(val))
          reg1->smin_value = wrap_add(reg1->smin_value, 1);
        if (reg1->smax_value == static_cast<int64_t>(val))
          reg1->smax_value = wrap_add(reg1->smax_value, -1);
      }
      break;
    }
    case BPF_JSET:
    case JSET_FALSE: {
      if (!is_reg_const(*reg2, is_jmp32)) std::swap(reg1, reg2);
      if (!is_reg_const(*reg2, is_jmp32)) break;
      uint64_t val = reg_const_value(*reg2, is_jmp32);
      if (op == BPF_JSET) {
        // `r & val` != 0 says which bit is set only when val has a single bit.
        if (!val || (val & (val - 1))) break;
        if (is_jmp32) {
          tnum t = tnum_or(tnum_subreg(reg1->var_off), tnum_const(val));
          reg1->var_off = tnum_with_subreg(reg1->var_off, t);
        } else {
          reg1->var_off = tnum_or(reg1->var_off, tnum_const(val));
        }
      } else {
        // `r & val` == 0: every bit of val is clear.
        if (is_jmp32) {
          tnum t = tnum_and(tnum_subreg(reg1->var_off), tnum_const(~val));
          reg1->var_off = tnum_with_subreg(reg1->var_off, t);
        } else {
          reg1->var_off = tnum_and(reg1->var_off, tnum_const(~val));
        }
      }
      break;
    }
    case BPF_JLE:
      if (is_jmp32) {
        reg1->u32_max_value = std::min(reg1->u32_max_value, reg2->u32_max_value);
        reg2->u32_min_value = std::max(reg1->u32_min_value, reg2->u32_min_value);
      } else {
        reg1->umax_value = std::min(reg1->umax_value, reg2->umax_value);
        reg2->umin_value = std::max(reg1->umin_value, reg2->umin_value);
      }
      break;
    case BPF_JLT:
      if (is_jmp32) {
        reg1->u32_max_value = std::min(reg1->u32_max_value, reg2->u32_max_value - 1);
        reg2->u32_min_value = std::max(reg1->u32_min_value + 1, reg2->u32_min_value);
      } else {
        reg1->umax_value = std::min(reg1->umax_value, reg2->umax_value - 1);
        reg2->umin_value = std::max(reg1->umin_value + 1, reg2->umin_value);
      }
      break;
    case BPF_JSLE:
      if (is_jmp32) {
        reg1->s32_max_value = std::min(reg1->s32_max_value, reg2->s32_max_value);
        reg2->s32_min_value = std::max(reg1->s32_min_value, reg2->s32_min_value);
      } else {
        reg1->smax_value = std::min(reg1->smax_value, reg2->smax_value);
        reg2->smin_value = std::max(reg1->smin_value, reg2->smin_value);
      }
      break;
    case BPF_JSLT:
      if (is_jmp32) {
        reg1->s32_max_value = std::min(reg1->s32_max_value, wrap_add32(reg2->s32_max_value, -1));
        reg2->s32_min_value = std::max(wrap_add32(reg1->s32_min_value, 1), reg2->s32_min_value);
      } else {
        reg1->smax_value = std::min(reg1->smax_value, wrap_add(reg2->smax_value, -1));
        reg2->smin_value = std::max(wrap_add(reg1->smin_value, 1), reg2->smin_value);
      }
      break;
    default:
      return;
  }
}

void set_sext64_default_val(bpf_reg_state& r, int size) {
  if (size == 1) {
    r.smin_value = r.s32_min_value = std::numeric_limits<int8_t>::min();
    r.smax_value = r.s32_max_value = std::numeric_limits<int8_t>::max();
  } else if (size == 2) {
    r.smin_value = r.s32_min_value = std::numeric_limits<int16_t>::min();
    r.smax_value = r.s32_max_value = std::numeric_limits<int16_t>::max();
  } else {
    r.smin_value = r.s32_min_value = S32_MIN;
    r.smax_value = r.s32_max_value = S32_MAX;
  }
  r.umin_value = 0;
  r.u32_min_value = 0;
  r.umax_value = U64_MAX;
  r.u32_max_value = U32_MAX;
  r.var_off = tnum_unknown;
}

void set_sext32_default_val(bpf_reg_state& r, int size) {
  if (size == 1) {
    r.s32_min_value = std::numeric_limits<int8_t>::min();
    r.s32_max_value = std::numeric_limits<int8_t>::max();
  } else {
    r.s32_min_value = std::numeric_limits<int16_t>::min();
    r.s32_max_value = std::numeric_limits<int16_t>::max();
  }
  r.u32_min_value = 0;
  r.u32_max_value = U32_MAX;
  r.var_off = tnum_subreg(tnum_unknown);
}

// Sign-extension of the low `size` bytes.
int64_t sext(uint64_t v, int size) {
  switch (size) {
    case 1:
      return static_cast<int8_t>(v);
    case 2:
      return static_cast<int16_t>(v);
    case 4:
      return static_cast<int32_t>(v);
    default:
      return static_cast<int64_t>(v);
  }
}

}  // namespace

void mark_reg_known(bpf_reg_state& r, uint64_t imm) {
  r.type = SCALAR_VALUE;
  r.off = 0;
  r.map_ptr = nullptr;
  r.btf_id = 0;
  r.mem_size = 0;
  r.subprogno = 0;
  r.id = 0;
  r.ref_obj_id = 0;
  ___mark_reg_known(r, imm);
}

void mark_reg_unknown(bpf_reg_state& r) {
  r = bpf_reg_state{};
  r.type = SCALAR_VALUE;
  r.var_off = tnum_unknown;
  mark_reg_unbounded(r);
}

void mark_reg_unbounded(bpf_reg_state& r) {
  __mark_reg64_unbounded(r);
  __mark_reg32_unbounded(r);
}

void reg_bounds_sync(bpf_reg_state& r) {
  // Bounds from the tnum, then between the domains (twice: a second round can use what the
  // first learned), the tnum from the bounds, and the bounds again from the refined tnum.
  __update_reg_bounds(r);
  __reg_deduce_bounds(r);
  __reg_deduce_bounds(r);
  __reg_bound_offset(r);
  __update_reg_bounds(r);
}

bool reg_bounds_sane(const bpf_reg_state& r) {
  if (r.umin_value > r.umax_value || r.smin_value > r.smax_value ||
      r.u32_min_value > r.u32_max_value || r.s32_min_value > r.s32_max_value)
    return false;
  if (tnum_is_const(r.var_off)) {
    uint64_t uval = r.var_off.value;
    int64_t sval = static_cast<int64_t>(uval);
    if (r.umin_value != uval || r.umax_value != uval || r.smin_value != sval ||
        r.smax_value != sval)
      return false;
  }
  if (tnum_subreg_is_const(r.var_off)) {
    uint32_t uval32 = static_cast<uint32_t>(r.var_off.value);
    int32_t sval32 = static_cast<int32_t>(uval32);
    if (r.u32_min_value != uval32 || r.u32_max_value != uval32 || r.s32_min_value != sval32 ||
        r.s32_max_value != sval32)
      return false;
  }
  return true;
}

void scalar_alu(bpf_reg_state& dst, const bpf_reg_state& src_in, uint8_t op, bool alu32,
                int16_t off) {
  const bpf_reg_state src = src_in;  // dst and src may be the same register
  if (!is_safe_to_compute_dst_reg_range(op, alu32, off, src)) {
    mark_reg_unknown(dst);
    return;
  }

  switch (op) {
    case BPF_ADD:
      scalar32_min_max_add(dst, src);
      scalar_min_max_add(dst, src);
      dst.var_off = tnum_add(dst.var_off, src.var_off);
      break;
    case BPF_SUB:
      scalar32_min_max_sub(dst, src);
      scalar_min_max_sub(dst, src);
      dst.var_off = tnum_sub(dst.var_off, src.var_off);
      break;
    case BPF_NEG: {
      // 0 - dst
      const bpf_reg_state old = dst;
      ___mark_reg_known(dst, 0);
      scalar32_min_max_sub(dst, old);
      scalar_min_max_sub(dst, old);
      dst.var_off = tnum_neg(old.var_off);
      break;
    }
    case BPF_MUL:
      dst.var_off = tnum_mul(dst.var_off, src.var_off);
      scalar32_min_max_mul(dst, src);
      scalar_min_max_mul(dst, src);
      break;
    case BPF_AND:
      dst.var_off = tnum_and(dst.var_off, src.var_off);
      scalar32_min_max_and(dst, src);
      scalar_min_max_and(dst, src);
      break;
    case BPF_OR:
      dst.var_off = tnum_or(dst.var_off, src.var_off);
      scalar32_min_max_or(dst, src);
      scalar_min_max_or(dst, src);
      break;
    case BPF_XOR:
      dst.var_off = tnum_xor(dst.var_off, src.var_off);
      scalar32_min_max_xor(dst, src);
      scalar_min_max_xor(dst, src);
      break;
    case BPF_LSH:
      if (alu32)
        scalar32_min_max_lsh(dst, src);
      else
        scalar_min_max_lsh(dst, src);
      break;
    case BPF_RSH:
      if (alu32)
        scalar32_min_max_rsh(dst, src);
      else
        scalar_min_max_rsh(dst, src);
      break;
    case BPF_ARSH:
      if (alu32)
        scalar32_min_max_arsh(dst, src);
      else
        scalar_min_max_arsh(dst, src);
      break;
    case BPF_DIV:
      if (alu32)
        scalar32_min_max_udiv(dst, static_cast<uint32_t>(src.var_off.value));
      else
        scalar_min_max_udiv(dst, src.var_off.value);
      break;
    case BPF_MOD:
      if (alu32)
        scalar32_min_max_umod(dst, static_cast<uint32_t>(src.var_off.value));
      else
        scalar_min_max_umod(dst, src.var_off.value);
      break;
    default:
      break;
  }

  if (alu32) zext_32_to_64(dst);
  reg_bounds_sync(dst);
}

void scalar_mov(bpf_reg_state& dst, const bpf_reg_state& src_in, bool alu32, int16_t off) {
  const bpf_reg_state src = src_in;
  if (!alu32) {
    dst = src;  // copy_register_state
    if (off == 8 || off == 16 || off == 32) {
      // movsx: the value is unchanged (and may keep the id) only if src's sign bit is clear.
      bool no_sext = src.umax_value < (uint64_t{1} << (off - 1));
      if (!no_sext) dst.id = 0;
      coerce_reg_to_size_sx(dst, off >> 3);
    }
    return;
  }
  dst = src;
  if (off == 8 || off == 16) {
    bool no_sext = src.umax_value < (uint64_t{1} << (off - 1));
    if (!no_sext) dst.id = 0;
    coerce_subreg_to_size_sx(dst, off >> 3);
  } else if (src.umax_value > U32_MAX) {
    dst.id = 0;  // truncation changes the value
  }
  zext_32_to_64(dst);
  reg_bounds_sync(dst);
}

void scalar_end(bpf_reg_state& dst, bool to_be, bool alu64, int32_t imm) {
  // Little-endian host: only be and bswap swap bytes.
  bool need_bswap = alu64 || to_be;
  if (need_bswap || imm == 16 || imm == 32) dst.id = 0;
  if (need_bswap) {
    dst.var_off = tnum_bswap(dst.var_off, imm);
    mark_reg_unbounded(dst);  // re-derived from the swapped tnum
  }
  if (imm == 16 || imm == 32)
    coerce_reg_to_size(dst, imm / 8);
  else
    reg_bounds_sync(dst);
}

void coerce_reg_to_size(bpf_reg_state& r, int size) {
  if (size >= 8) return;
  r.var_off = tnum_cast(r.var_off, static_cast<uint8_t>(size));
  uint64_t mask = (uint64_t{1} << (size * 8)) - 1;
  if ((r.umin_value & ~mask) == (r.umax_value & ~mask)) {
    r.umin_value &= mask;
    r.umax_value &= mask;
  } else {
    r.umin_value = 0;
    r.umax_value = mask;
  }
  r.smin_value = static_cast<int64_t>(r.umin_value);
  r.smax_value = static_cast<int64_t>(r.umax_value);
  // Below 32 bits the subregister is truncated too; its bounds come back from the 64-bit ones.
  if (size < 4) __mark_reg32_unbounded(r);
  reg_bounds_sync(r);
}

void coerce_reg_to_size_sx(bpf_reg_state& r, int size) {
  if (size >= 8) return;
  if (tnum_is_const(r.var_off)) {
    ___mark_reg_known(r, static_cast<uint64_t>(sext(r.var_off.value, size)));
    return;
  }
  const int num_bits = size * 8;
  // The bits above the loaded ones must be the same over the whole s64 range; then the low
  // parts form a range, and sign-extend monotonically if they are all on one side of the sign.
  uint64_t top_smax = (static_cast<uint64_t>(r.smax_value) >> num_bits) << num_bits;
  uint64_t top_smin = (static_cast<uint64_t>(r.smin_value) >> num_bits) << num_bits;
  if (top_smax == top_smin) {
    int64_t init_max = sext(static_cast<uint64_t>(r.smax_value), size);
    int64_t init_min = sext(static_cast<uint64_t>(r.smin_value), size);
    int64_t s64_max = std::max(init_max, init_min);
    int64_t s64_min = std::min(init_max, init_min);
    if ((s64_max >= 0) == (s64_min >= 0)) {
      r.smin_value = s64_min;
      r.smax_value = s64_max;
      r.s32_min_value = static_cast<int32_t>(s64_min);
      r.s32_max_value = static_cast<int32_t>(s64_max);
      r.umin_value = static_cast<uint64_t>(s64_min);
      r.umax_value = static_cast<uint64_t>(s64_max);
      r.u32_min_value = static_cast<uint32_t>(s64_min);
      r.u32_max_value = static_cast<uint32_t>(s64_max);
      r.var_off = tnum_range(r.umin_value, r.umax_value);
      reg_bounds_sync(r);
      return;
    }
  }
  set_sext64_default_val(r, size);
  reg_bounds_sync(r);
}

void coerce_subreg_to_size_sx(bpf_reg_state& r, int size) {
  if (size >= 4) return;
  if (tnum_is_const(r.var_off)) {
    uint64_t v = static_cast<uint64_t>(sext(r.var_off.value, size));
    r.var_off = tnum_const(v);
    r.s32_min_value = r.s32_max_value = static_cast<int32_t>(v);
    r.u32_min_value = r.u32_max_value = static_cast<uint32_t>(v);
    return;
  }
  const int num_bits = size * 8;
  uint32_t top_smax = (static_cast<uint32_t>(r.s32_max_value) >> num_bits) << num_bits;
  uint32_t top_smin = (static_cast<uint32_t>(r.s32_min_value) >> num_bits) << num_bits;
  if (top_smax == top_smin) {
    int32_t init_max = static_cast<int32_t>(sext(static_cast<uint32_t>(r.s32_max_value), size));
    int32_t init_min = static_cast<int32_t>(sext(static_cast<uint32_t>(r.s32_min_value), size));
    int32_t s32_max = std::max(init_max, init_min);
    int32_t s32_min = std::min(init_max, init_min);
    if ((s32_min >= 0) == (s32_max >= 0)) {
      r.s32_min_value = s32_min;
      r.s32_max_value = s32_max;
      r.u32_min_value = static_cast<uint32_t>(s32_min);
      r.u32_max_value = static_cast<uint32_t>(s32_max);
      r.var_off = tnum_subreg(tnum_range(static_cast<uint64_t>(static_cast<int64_t>(s32_min)),
                                         static_cast<uint64_t>(static_cast<int64_t>(s32_max))));
      return;
    }
  }
  set_sext32_default_val(r, size);
}

int is_scalar_branch_taken(const bpf_reg_state& a, const bpf_reg_state& b, uint8_t op, bool jmp32) {
  const bpf_reg_state* reg1 = &a;
  const bpf_reg_state* reg2 = &b;
  tnum t1 = jmp32 ? tnum_subreg(reg1->var_off) : reg1->var_off;
  tnum t2 = jmp32 ? tnum_subreg(reg2->var_off) : reg2->var_off;
  const uint64_t umin1 = jmp32 ? uint64_t{reg1->u32_min_value} : reg1->umin_value;
  const uint64_t umax1 = jmp32 ? uint64_t{reg1->u32_max_value} : reg1->umax_value;
  const int64_t smin1 = jmp32 ? int64_t{reg1->s32_min_value} : reg1->smin_value;
  const int64_t smax1 = jmp32 ? int64_t{reg1->s32_max_value} : reg1->smax_value;
  const uint64_t umin2 = jmp32 ? uint64_t{reg2->u32_min_value} : reg2->umin_value;
  const uint64_t umax2 = jmp32 ? uint64_t{reg2->u32_max_value} : reg2->umax_value;
  const int64_t smin2 = jmp32 ? int64_t{reg2->s32_min_value} : reg2->smin_value;
  const int64_t smax2 = jmp32 ? int64_t{reg2->s32_max_value} : reg2->smax_value;

  switch (op) {
    case BPF_JEQ:
    case BPF_JNE: {
      const int differ = op == BPF_JEQ ? 0 : 1;
      if (tnum_is_const(t1) && tnum_is_const(t2))
        return (t1.value == t2.value) ? 1 - differ : differ;
      // Disjoint ranges or contradicting known bits: never equal.
      if (!tnum_overlap(t1, t2)) return differ;
      if (umin1 > umax2 || umax1 < umin2) return differ;
      if (smin1 > smax2 || smax1 < smin2) return differ;
      if (!jmp32) {
        if (reg1->u32_min_value > reg2->u32_max_value || reg1->u32_max_value < reg2->u32_min_value)
          return differ;
        if (reg1->s32_min_value > reg2->s32_max_value || reg1->s32_max_value < reg2->s32_min_value)
          return differ;
      }
      break;
    }
    case BPF_JSET:
      if (!is_reg_const(*reg2, jmp32)) {
        std::swap(reg1, reg2);
        std::swap(t1, t2);
      }
      if (!is_reg_const(*reg2, jmp32)) return -1;
      if ((~t1.mask & t1.value) & t2.value) return 1;
      if (!((t1.mask | t1.value) & t2.value)) return 0;
      break;
    case BPF_JGT:
      if (umin1 > umax2) return 1;
      if (umax1 <= umin2) return 0;
      break;
    case BPF_JSGT:
      if (smin1 > smax2) return 1;
      if (smax1 <= smin2) return 0;
      break;
    case BPF_JLT:
      if (umax1 < umin2) return 1;
      if (umin1 >= umax2) return 0;
      break;
    case BPF_JSLT:
      if (smax1 < smin2) return 1;
      if (smin1 >= smax2) return 0;
      break;
    case BPF_JGE:
      if (umin1 >= umax2) return 1;
      if (umax1 < umin2) return 0;
      break;
    case BPF_JSGE:
      if (smin1 >= smax2) return 1;
      if (smax1 < smin2) return 0;
      break;
    case BPF_JLE:
      if (umax1 <= umin2) return 1;
      if (umin1 > umax2) return 0;
      break;
    case BPF_JSLE:
      if (smax1 <= smin2) return 1;
      if (smin1 > smax2) return 0;
      break;
    default:
      break;
  }
  return -1;
}

void reg_set_min_max(bpf_reg_state& t1, bpf_reg_state& t2, bpf_reg_state& f1, bpf_reg_state& f2,
                     uint8_t op, bool jmp32) {
  // Nothing is learned about a pointer's offset from a comparison.
  if (f1.type != SCALAR_VALUE || f2.type != SCALAR_VALUE) return;
  // fall-through: the reverse condition holds
  regs_refine_cond_op(&f1, &f2, rev_opcode(op), jmp32);
  reg_bounds_sync(f1);
  reg_bounds_sync(f2);
  // jump taken
  regs_refine_cond_op(&t1, &t2, op, jmp32);
  reg_bounds_sync(t1);
  reg_bounds_sync(t2);
}

bool range_within(const bpf_reg_state& old, const bpf_reg_state& cur) {
  return old.umin_value <= cur.umin_value && old.umax_value >= cur.umax_value &&
         old.smin_value <= cur.smin_value && old.smax_value >= cur.smax_value &&
         old.u32_min_value <= cur.u32_min_value && old.u32_max_value >= cur.u32_max_value &&
         old.s32_min_value <= cur.s32_min_value && old.s32_max_value >= cur.s32_max_value;
}

}  // namespace mmbpf::bpf::verifier
