// Tracked numbers (kernel/bpf/tnum.c): the kernel's operations over (value, mask) pairs, with
// its names and semantics, written anew. tnum_str prints as the kernel's tnum_strn does
// ("(0x%llx; 0x%llx)", the kernel's %#llx, which prints 0 as 0x0).
#include "bpf/verifier/tnum.h"

#include <bit>
#include <cinttypes>
#include <cstdio>

namespace mmbpf::bpf::verifier {

namespace {
constexpr tnum make(uint64_t value, uint64_t mask) {
  return tnum{value, mask};
}
}  // namespace

tnum tnum_const(uint64_t value) {
  return make(value, 0);
}

tnum tnum_range(uint64_t min, uint64_t max) {
  // Every bit from the highest one where min and max differ downwards is unknown.
  uint64_t chi = min ^ max;
  int bits = 64 - std::countl_zero(chi);  // fls64
  if (bits > 63) return tnum_unknown;
  uint64_t delta = (uint64_t{1} << bits) - 1;
  return make(min & ~delta, delta);
}

tnum tnum_lshift(tnum a, uint8_t shift) {
  if (shift >= 64) return make(0, 0);
  return make(a.value << shift, a.mask << shift);
}

tnum tnum_rshift(tnum a, uint8_t shift) {
  if (shift >= 64) return make(0, 0);
  return make(a.value >> shift, a.mask >> shift);
}

tnum tnum_arshift(tnum a, uint8_t min_shift, uint8_t insn_bitness) {
  // An unknown sign bit shifts in unknown bits (the mask is shifted arithmetically too).
  if (insn_bitness == 32) {
    uint8_t s = min_shift > 31 ? 31 : min_shift;
    return make(static_cast<uint32_t>(static_cast<int32_t>(a.value) >> s),
                static_cast<uint32_t>(static_cast<int32_t>(a.mask) >> s));
  }
  uint8_t s = min_shift > 63 ? 63 : min_shift;
  return make(static_cast<uint64_t>(static_cast<int64_t>(a.value) >> s),
              static_cast<uint64_t>(static_cast<int64_t>(a.mask) >> s));
}

tnum tnum_add(tnum a, tnum b) {
  uint64_t sm = a.mask + b.mask;
  uint64_t sv = a.value + b.value;
  uint64_t sigma = sm + sv;
  uint64_t chi = sigma ^ sv;  // bits a carry from an unknown bit can reach
  uint64_t mu = chi | a.mask | b.mask;
  return make(sv & ~mu, mu);
}

tnum tnum_sub(tnum a, tnum b) {
  uint64_t dv = a.value - b.value;
  uint64_t alpha = dv + a.mask;
  uint64_t beta = dv - b.mask;
  uint64_t chi = alpha ^ beta;  // bits a borrow from an unknown bit can reach
  uint64_t mu = chi | a.mask | b.mask;
  return make(dv & ~mu, mu);
}

tnum tnum_neg(tnum a) {
  return tnum_sub(make(0, 0), a);
}

tnum tnum_and(tnum a, tnum b) {
  uint64_t alpha = a.value | a.mask;
  uint64_t beta = b.value | b.mask;
  uint64_t v = a.value & b.value;
  return make(v, alpha & beta & ~v);
}

tnum tnum_or(tnum a, tnum b) {
  uint64_t v = a.value | b.value;
  uint64_t mu = a.mask | b.mask;
  return make(v, mu & ~v);
}

tnum tnum_xor(tnum a, tnum b) {
  uint64_t v = a.value ^ b.value;
  uint64_t mu = a.mask | b.mask;
  return make(v & ~mu, mu);
}

tnum tnum_mul(tnum a, tnum b) {
  // The kernel's shift-and-add multiplication: the product of the known parts, plus, for every
  // bit of a, the partial product it may contribute — b's unknown bits where a's bit is a known
  // 1, all of b's possibly-set bits where a's bit is unknown — accumulated as unknowns.
  uint64_t acc_v = a.value * b.value;
  tnum acc_m = make(0, 0);
  while (a.value || a.mask) {
    if (a.value & 1)
      acc_m = tnum_add(acc_m, make(0, b.mask));
    else if (a.mask & 1)
      acc_m = tnum_add(acc_m, make(0, b.value | b.mask));
    a = tnum_rshift(a, 1);
    b = tnum_lshift(b, 1);
  }
  return tnum_add(make(acc_v, 0), acc_m);
}

tnum tnum_intersect(tnum a, tnum b) {
  uint64_t v = a.value | b.value;
  uint64_t mu = a.mask & b.mask;
  return make(v & ~mu, mu);
}

tnum tnum_cast(tnum a, uint8_t size) {
  if (size >= 8) return a;
  uint64_t keep = (uint64_t{1} << (size * 8)) - 1;
  return make(a.value & keep, a.mask & keep);
}

bool tnum_is_aligned(tnum a, uint64_t size) {
  if (!size) return true;
  return !((a.value | a.mask) & (size - 1));
}

bool tnum_in(tnum a, tnum b) {
  if (b.mask & ~a.mask) return false;
  b.value &= ~a.mask;
  return a.value == b.value;
}

tnum tnum_subreg(tnum a) {
  return tnum_cast(a, 4);
}

tnum tnum_clear_subreg(tnum a) {
  return tnum_lshift(tnum_rshift(a, 32), 32);
}

tnum tnum_with_subreg(tnum reg, tnum subreg) {
  return tnum_or(tnum_clear_subreg(reg), tnum_subreg(subreg));
}

tnum tnum_const_subreg(tnum a, uint32_t value) {
  return tnum_with_subreg(a, tnum_const(value));
}

std::string tnum_str(tnum a) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "(0x%" PRIx64 "; 0x%" PRIx64 ")", a.value, a.mask);
  return buf;
}

}  // namespace mmbpf::bpf::verifier
