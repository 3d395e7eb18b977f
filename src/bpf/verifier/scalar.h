// The verifier's scalar arithmetic core (kernel/bpf/verifier.c): bounds bookkeeping for
// SCALAR_VALUE registers — known/unknown marking, reg_bounds_sync (the kernel 6.8+ deduction
// between tnum, 64- and 32-bit signed/unsigned bounds), the ALU transfer functions of
// adjust_scalar_min_max_vals, mov/movsx, BPF_END, load-size coercion, is_branch_taken for two
// scalars, branch refinement (reg_set_min_max / regs_refine_cond_op) and regsafe's range_within.
// Every function works on value fields only (var_off and the eight bounds); ids, precision and
// pointer handling are the caller's (the main loop's), except where noted.
#pragma once

#include <cstdint>

#include "bpf/verifier/reg_state.h"

namespace mmbpf::bpf::verifier {

// __mark_reg_known: a SCALAR_VALUE of exactly imm; clears off, the pointer fields, id and
// ref_obj_id (keeps frameno and precise, as the kernel does).
void mark_reg_known(bpf_reg_state& r, uint64_t imm);
// __mark_reg_unknown: a SCALAR_VALUE with nothing known; everything else reset (precise=false).
void mark_reg_unknown(bpf_reg_state& r);
// __mark_reg_unbounded: the eight bounds only (var_off untouched).
void mark_reg_unbounded(bpf_reg_state& r);
// reg_bounds_sync: __update_reg_bounds, __reg_deduce_bounds twice, __reg_bound_offset,
// __update_reg_bounds.
void reg_bounds_sync(bpf_reg_state& r);
// reg_bounds_sanity_check's conditions: min <= max in all four domains, and the bounds equal the
// constant when var_off (or its subregister) is constant.
bool reg_bounds_sane(const bpf_reg_state& r);

// adjust_scalar_min_max_vals: dst = dst OP src on two scalars (for BPF_K, src is a
// mark_reg_known register of the sign-extended imm). op is BPF_OP(code); alu32 for class
// BPF_ALU; off is insn->off (1: sdiv/smod). BPF_NEG ignores src. Ends with reg_bounds_sync.
void scalar_alu(bpf_reg_state& dst, const bpf_reg_state& src, uint8_t op, bool alu32, int16_t off);
// BPF_MOV between scalars: off 0 a copy (the whole register, as copy_register_state), off
// 8/16/32 movsx (alu64) and 8/16 (alu32); alu32 zero-extends. id is cleared where the kernel
// clears it (the value may differ from src's); giving src a fresh id is the caller's.
void scalar_mov(bpf_reg_state& dst, const bpf_reg_state& src, bool alu32, int16_t off);
// BPF_END (scalar_byte_swap): to_be is BPF_SRC == BPF_TO_BE, alu64 is class BPF_ALU64 (bswap);
// imm 16/32/64. Little-endian host: le is a truncation to imm bits; be and bswap permute the
// bytes of var_off (tnum_bswap*), bounds re-derived from it.
void scalar_end(bpf_reg_state& dst, bool to_be, bool alu64, int32_t imm);
// coerce_reg_to_size: a zero-extending load (or truncation) of size 1/2/4/8 bytes.
void coerce_reg_to_size(bpf_reg_state& r, int size);
// coerce_reg_to_size_sx: a sign-extending load of size 1/2/4 bytes (ldsx, movsx alu64).
void coerce_reg_to_size_sx(bpf_reg_state& r, int size);
// coerce_subreg_to_size_sx: movsx alu32 (w = (s8/s16)w), on the subregister; callers zext.
void coerce_subreg_to_size_sx(bpf_reg_state& r, int size);

// is_scalar_branch_taken: for `if a OP b` (op a BPF_J* condition, not JA/CALL/EXIT), 1 if
// always taken, 0 if never, -1 if unknown; jmp32 compares the low 32 bits.
int is_scalar_branch_taken(const bpf_reg_state& a, const bpf_reg_state& b, uint8_t op, bool jmp32);
// reg_set_min_max: t1/t2 and f1/f2 enter as copies of a and b; on return t1/t2 are refined by
// `a OP b` holding (the jump taken) and f1/f2 by it failing (fall-through), each reg_bounds_sync'd.
// Registers that are not both SCALAR_VALUE are left unchanged. A path that no concrete pair
// can take may come out inconsistent (!reg_bounds_sane); callers should first ask
// is_scalar_branch_taken.
void reg_set_min_max(bpf_reg_state& t1, bpf_reg_state& t2, bpf_reg_state& f1, bpf_reg_state& f2,
                     uint8_t op, bool jmp32);

// regsafe's range_within: every bound of cur lies within old's.
bool range_within(const bpf_reg_state& old, const bpf_reg_state& cur);

}  // namespace mmbpf::bpf::verifier
