# Bounds refinement from conditional jumps (reg_set_min_max, regs_refine_cond_op): both
# directions of unsigned and signed, 64- and 32-bit compares, JSET and register-register
# compares narrow the ranges of what is compared, so that a later map value access is proven in
# range (accept) or not (reject, off by one); branches a constant condition decides are never
# explored. r6 is an unknown scalar (a word of the context), r7 a 16-byte map value; a dead
# branch "traps" by reading r9, never written.

# case: jgt_unsigned
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 > 15 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jgt_unsigned_off_by_one
# map: array key=4 value=16 max=1
# expect: reject R7 max value is outside of the allowed memory range
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 > 16 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jge_unsigned
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 >= 16 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jge_unsigned_off_by_one
# map: array key=4 value=16 max=1
# expect: reject R7 max value is outside of the allowed memory range
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 >= 17 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jlt_taken_branch
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 < 16 goto use
r0 = 0
exit
use:
r7 += r6
r0 = *(u8 *)(r7 +0)
exit

# case: jlt_taken_branch_off_by_one
# map: array key=4 value=16 max=1
# expect: reject R7 max value is outside of the allowed memory range
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 < 17 goto use
r0 = 0
exit
use:
r7 += r6
r0 = *(u8 *)(r7 +0)
exit

# case: jle_taken_branch
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 <= 12 goto use
r0 = 0
exit
use:
r7 += r6
r0 = *(u32 *)(r7 +0)
exit

# case: jle_taken_branch_off_by_one
# map: array key=4 value=16 max=1
# expect: reject R7 max value is outside of the allowed memory range
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 <= 13 goto use
r0 = 0
exit
use:
r7 += r6
r0 = *(u32 *)(r7 +0)
exit

# case: signed_upper_only
# map: array key=4 value=16 max=1
# expect: reject math between map_value pointer and register with unbounded min value is not allowed
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 s> 15 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: signed_both_bounds
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 s> 15 goto out
if r6 s< 0 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: signed_lower_off_by_one
# map: array key=4 value=16 max=1
# expect: reject R7 min value is negative, either use unsigned index or do a if (index >=0) check.
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 s> 15 goto out
if r6 s< -1 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: signed_jsge_jsle
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 s>= 16 goto out
if r6 s<= -1 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jmp32_leaves_upper_unbounded
# map: array key=4 value=16 max=1
# expect: reject math between map_value pointer and register with unbounded min value is not allowed
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if w6 > 15 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jmp32_after_zext
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
w6 = w6
r7 = map_value[0]
if w6 > 15 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jmp32_after_zext_off_by_one
# map: array key=4 value=16 max=1
# expect: reject R7 max value is outside of the allowed memory range
r6 = *(u64 *)(r1 +0)
w6 = w6
r7 = map_value[0]
if w6 >= 17 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jmp32_signed_after_zext
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
w6 = w6
r7 = map_value[0]
if w6 s> 15 goto out
if w6 s< 0 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jset_clears_bit
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r6 &= 0x1f
r7 = map_value[0]
if r6 & 0x10 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jset_wrong_bit
# map: array key=4 value=16 max=1
# expect: reject R7 max value is outside of the allowed memory range
r6 = *(u64 *)(r1 +0)
r6 &= 0x1f
r7 = map_value[0]
if r6 & 0x8 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: jset_known_bit_dead
# expect: accept
r6 = *(u64 *)(r1 +0)
r6 |= 4
if r6 & 4 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: reg_reg_const
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r8 = 16
r7 = map_value[0]
if r6 >= r8 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: reg_reg_const_off_by_one
# map: array key=4 value=16 max=1
# expect: reject R7 max value is outside of the allowed memory range
r6 = *(u64 *)(r1 +0)
r8 = 17
r7 = map_value[0]
if r6 >= r8 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: reg_reg_both_unknown
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r8 = *(u64 *)(r1 +8)
r8 &= 15
r7 = map_value[0]
if r6 > r8 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: reg_reg_both_unknown_off_by_one
# map: array key=4 value=16 max=1
# expect: reject R7 max value is outside of the allowed memory range
r6 = *(u64 *)(r1 +0)
r8 = *(u64 *)(r1 +8)
r8 &= 31
r7 = map_value[0]
if r6 > r8 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: reg_reg_lower_bound_from_src
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r8 = 4
r7 = map_value[0]
if r6 > 15 goto out
if r8 s> r6 goto out
r7 += r6
r0 = *(u8 *)(r7 -4)
out:
r0 = 0
exit

# case: jeq_makes_constant
# map: array key=4 value=4 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 == 3 goto use
r0 = 0
exit
use:
r7 += r6
r0 = *(u8 *)(r7 +0)
exit

# case: jeq_makes_constant_too_wide
# map: array key=4 value=4 max=1
# expect: reject invalid access to map value, value_size=4 off=3 size=2
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 == 3 goto use
r0 = 0
exit
use:
r7 += r6
r0 = *(u16 *)(r7 +0)
exit

# case: jne_fallthrough_constant
# map: array key=4 value=16 max=1
# expect: reject invalid access to map value, value_size=16 off=20 size=1
r6 = *(u64 *)(r1 +0)
r7 = map_value[0]
if r6 != 20 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: copy_shares_bounds
# map: array key=4 value=16 max=1
# expect: accept
r6 = *(u64 *)(r1 +0)
r8 = r6
r7 = map_value[0]
if r8 > 15 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: copy_after_change_does_not_share
# map: array key=4 value=16 max=1
# expect: reject math between map_value pointer and register with unbounded min value is not allowed
r6 = *(u64 *)(r1 +0)
r8 = r6
r8 *= 2
r7 = map_value[0]
if r8 > 15 goto out
r7 += r6
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit

# case: const_condition_dead_branch
# expect: accept
r0 = 0
if r0 == 0 goto ok
r0 = *(u64 *)(r9 +0)
ok:
exit

# case: unknown_condition_both_explored
# expect: reject R9 !read_ok
r0 = *(u64 *)(r1 +0)
if r0 == 0 goto ok
r0 = *(u64 *)(r9 +0)
ok:
exit

# case: range_decides_branch
# expect: accept
r6 = *(u64 *)(r1 +0)
r6 &= 7
if r6 > 7 goto trap
r0 = 0
exit
trap:
r0 = *(u64 *)(r9 +0)
exit

# case: range_does_not_decide_branch
# expect: reject R9 !read_ok
r6 = *(u64 *)(r1 +0)
r6 &= 7
if r6 > 6 goto trap
r0 = 0
exit
trap:
r0 = *(u64 *)(r9 +0)
exit

# case: jmp32_compares_low_half
# expect: accept
r6 = 0x100000001 ll
if w6 == 1 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: jmp64_compares_whole
# expect: reject R9 !read_ok
r6 = 0x100000001 ll
if r6 == 1 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: signed_vs_unsigned_const
# expect: accept
r6 = -1
if r6 s< 0 goto ok
r0 = *(u64 *)(r9 +0)
ok:
if r6 > 5 goto ok2
r0 = *(u64 *)(r9 +0)
ok2:
r0 = 0
exit

# case: nested_bounds_decide_inner
# expect: accept
r6 = *(u64 *)(r1 +0)
if r6 > 10 goto out
if r6 < 5 goto out
if r6 s< 5 goto trap
r0 = 0
exit
trap:
r0 = *(u64 *)(r9 +0)
exit
out:
r0 = 0
exit
