// Tracked numbers (kernel/bpf/tnum.c): a 64-bit value of which some bits are known. `value`
// holds the known bits, `mask` has a 1 for every unknown bit; value & mask == 0. The operations
// are the kernel's, with its names, and are sound: the result contains every value the
// operation can produce from values contained in the operands.
#pragma once

#include <cstdint>
#include <string>

namespace mmbpf::bpf::verifier {

struct tnum {
  uint64_t value = 0;
  uint64_t mask = 0;
  bool operator==(const tnum&) const = default;
};

inline constexpr tnum tnum_unknown{0, ~uint64_t{0}};

tnum tnum_const(uint64_t value);
// The smallest tnum containing every value in [min, max] (unsigned).
tnum tnum_range(uint64_t min, uint64_t max);
tnum tnum_lshift(tnum a, uint8_t shift);
tnum tnum_rshift(tnum a, uint8_t shift);
// Arithmetic right shift of the low insn_bitness (32 or 64) bits.
tnum tnum_arshift(tnum a, uint8_t min_shift, uint8_t insn_bitness);
tnum tnum_add(tnum a, tnum b);
tnum tnum_sub(tnum a, tnum b);
tnum tnum_neg(tnum a);
tnum tnum_and(tnum a, tnum b);
tnum tnum_or(tnum a, tnum b);
tnum tnum_xor(tnum a, tnum b);
tnum tnum_mul(tnum a, tnum b);
// Values both contain (a and b must agree on bits both know).
tnum tnum_intersect(tnum a, tnum b);
// The low `size` bytes (zero-extended).
tnum tnum_cast(tnum a, uint8_t size);
bool tnum_is_aligned(tnum a, uint64_t size);
// Whether every value b contains is contained in a.
bool tnum_in(tnum a, tnum b);
inline bool tnum_is_const(tnum a) { return !a.mask; }
inline bool tnum_equals_const(tnum a, uint64_t b) { return tnum_is_const(a) && a.value == b; }
inline bool tnum_is_unknown(tnum a) { return !~a.mask; }
// The low 32 bits; the value with its low 32 bits unknown/cleared/replaced.
tnum tnum_subreg(tnum a);
tnum tnum_clear_subreg(tnum a);
tnum tnum_with_subreg(tnum reg, tnum subreg);
tnum tnum_const_subreg(tnum a, uint32_t value);
inline bool tnum_subreg_is_const(tnum a) { return !(a.mask & 0xffffffffu); }
// "(0x0; 0xff)" as the kernel's verifier log prints var_off.
std::string tnum_str(tnum a);

}  // namespace mmbpf::bpf::verifier
