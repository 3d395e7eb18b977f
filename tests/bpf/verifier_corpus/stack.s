# Stack access rules (check_stack_access_within_bounds, check_stack_read/write): the frame is
# 512 bytes below r10, accesses must stay inside it, and reads of uninitialized slots are
# allowed for a privileged loader.

# case: write_lowest_slot
# expect: accept
r0 = 0
*(u64 *)(r10 -512) = r0
exit

# case: write_below_frame
# expect: reject invalid write to stack R10 off=-520 size=8
r0 = 0
*(u64 *)(r10 -520) = r0
exit

# case: write_at_fp
# expect: reject invalid write to stack R10 off=0 size=8
r0 = 0
*(u64 *)(r10 +0) = r0
exit

# case: read_uninit_privileged
# expect: accept
r0 = *(u64 *)(r10 -8)
exit

# ---- bounds: [-512, 0), each access size, both ends ----------------------------------------

# case: write_u8_top_byte
# expect: accept
r0 = 0
*(u8 *)(r10 -1) = r0
exit

# case: write_u8_below_frame
# expect: reject invalid write to stack R10 off=-513 size=1
r0 = 0
*(u8 *)(r10 -513) = r0
exit

# case: write_u16_lowest
# expect: accept
*(u16 *)(r10 -512) = 7
r0 = 0
exit

# case: write_u16_below_frame
# expect: reject invalid write to stack R10 off=-514 size=2
*(u16 *)(r10 -514) = 7
r0 = 0
exit

# case: write_u32_top
# expect: accept
*(u32 *)(r10 -4) = 7
r0 = 0
exit

# case: write_u32_below_frame
# expect: reject invalid write to stack R10 off=-516 size=4
*(u32 *)(r10 -516) = 7
r0 = 0
exit

# case: write_u64_top
# expect: accept
*(u64 *)(r10 -8) = 7
r0 = 0
exit

# case: write_u8_at_fp
# expect: reject invalid write to stack R10 off=0 size=1
*(u8 *)(r10 +0) = 7
r0 = 0
exit

# case: write_u8_above_fp
# expect: reject invalid write to stack R10 off=8 size=1
*(u8 *)(r10 +8) = 7
r0 = 0
exit

# case: read_u64_below_frame
# expect: reject invalid read from stack R10 off=-520 size=8
r0 = *(u64 *)(r10 -520)
exit

# case: read_u8_at_fp
# expect: reject invalid read from stack R10 off=0 size=1
r0 = *(u8 *)(r10 +0)
exit

# case: read_uninit_lowest_u32
# expect: accept
r0 = *(u32 *)(r10 -512)
exit

# case: read_uninit_u8_top
# expect: accept
r0 = *(u8 *)(r10 -1)
exit

# ---- alignment: stack accesses are always strictly aligned ---------------------------------

# case: write_u64_misaligned
# expect: reject misaligned stack access off 0+0+-12 size 8
r0 = 0
*(u64 *)(r10 -12) = r0
exit

# case: write_u32_misaligned
# expect: reject misaligned stack access off 0+0+-6 size 4
*(u32 *)(r10 -6) = 1
r0 = 0
exit

# case: read_u16_misaligned
# expect: reject misaligned stack access off 0+0+-3 size 2
r0 = *(u16 *)(r10 -3)
exit

# case: u8_any_offset
# expect: accept
*(u8 *)(r10 -7) = 1
r0 = *(u8 *)(r10 -7)
exit

# case: misaligned_through_pointer
# expect: reject misaligned stack access off 0+-3+0 size 4
r2 = r10
r2 += -3
*(u32 *)(r2 +0) = 1
r0 = 0
exit

# case: misaligned_straddling_top
# expect: reject misaligned stack access off 0+0+-4 size 8
r0 = *(u64 *)(r10 -4)
exit

# ---- spill and fill ------------------------------------------------------------------------

# case: spill_fill_ctx_pointer
# expect: accept
*(u64 *)(r10 -8) = r1
r2 = *(u64 *)(r10 -8)
r0 = *(u64 *)(r2 +0)
exit

# case: spill_fill_stack_pointer
# expect: accept
r1 = r10
r1 += -16
*(u64 *)(r10 -8) = r1
r2 = *(u64 *)(r10 -8)
*(u64 *)(r2 +0) = 3
r0 = *(u64 *)(r2 +0)
exit

# case: spill_pointer_narrow
# expect: reject invalid size of register spill
*(u32 *)(r10 -8) = r1
r0 = 0
exit

# case: fill_pointer_narrow
# expect: reject invalid size of register fill
*(u64 *)(r10 -8) = r1
r0 = *(u32 *)(r10 -8)
exit

# case: fill_pointer_upper_half
# expect: reject invalid size of register fill
*(u64 *)(r10 -8) = r1
r0 = *(u32 *)(r10 -4)
exit

# case: fill_pointer_one_byte
# expect: reject invalid size of register fill
*(u64 *)(r10 -16) = r1
r0 = *(u8 *)(r10 -9)
exit

# case: partial_overwrite_then_fill_is_scalar
# A privileged write over part of a spilled pointer turns the slot into data.
# expect: accept
*(u64 *)(r10 -8) = r1
r0 = 0
*(u32 *)(r10 -4) = r0
r2 = *(u64 *)(r10 -8)
r0 = r2
exit

# case: partial_overwrite_then_deref
# expect: reject R2 invalid mem access 'scalar'
*(u64 *)(r10 -8) = r1
*(u8 *)(r10 -8) = 0
r2 = *(u64 *)(r10 -8)
r0 = *(u64 *)(r2 +0)
exit

# case: overwrite_pointer_with_scalar_then_deref
# expect: reject R2 invalid mem access 'scalar'
*(u64 *)(r10 -8) = r1
*(u64 *)(r10 -8) = 0
r2 = *(u64 *)(r10 -8)
r0 = *(u64 *)(r2 +0)
exit

# case: spill_fill_constant_keeps_value
# The filled constant is exact: fp-16 is a valid stack address.
# expect: accept
r1 = -16
*(u64 *)(r10 -8) = r1
r2 = *(u64 *)(r10 -8)
r3 = r10
r3 += r2
*(u64 *)(r3 +0) = 1
r0 = 0
exit

# case: narrow_spill_keeps_constant
# expect: accept
r1 = 16
*(u32 *)(r10 -8) = r1
r2 = *(u32 *)(r10 -8)
r3 = r10
r3 += -32
r3 += r2
*(u64 *)(r3 +0) = 1
r0 = 0
exit

# case: narrow_fill_of_wide_spill_low_half
# expect: accept
r1 = 16
*(u64 *)(r10 -8) = r1
r2 = *(u32 *)(r10 -8)
r3 = r10
r3 += -32
r3 += r2
*(u64 *)(r3 +0) = 1
r0 = 0
exit

# case: narrow_fill_of_wide_spill_high_half
# The upper half of a spilled constant is not tracked: an unknown u32.
# expect: reject invalid unbounded variable-offset write to stack R3
r1 = 16
*(u64 *)(r10 -8) = r1
r2 = *(u32 *)(r10 -4)
r3 = r10
r3 += -32
r3 += r2
*(u8 *)(r3 +0) = 1
r0 = 0
exit

# case: zero_store_reads_back_zero
# expect: accept
*(u64 *)(r10 -8) = 0
r1 = *(u64 *)(r10 -8)
if r1 == 0 goto +1
r0 = *(u64 *)(r10 +8)
r0 = 0
exit

# case: zero_bytes_read_back_zero
# expect: accept
r1 = 0
*(u8 *)(r10 -3) = r1
*(u8 *)(r10 -4) = 0
r2 = *(u16 *)(r10 -4)
if r2 == 0 goto +1
r0 = *(u64 *)(r10 +8)
r0 = 0
exit

# case: misc_bytes_read_unknown
# expect: reject invalid read from stack R10 off=8 size=8
r1 = 0
*(u8 *)(r10 -3) = r1
*(u8 *)(r10 -4) = 1
r2 = *(u16 *)(r10 -4)
if r2 == 0 goto +1
r0 = *(u64 *)(r10 +8)
r0 = 0
exit

# ---- pointer arithmetic on r10 and variable offsets ----------------------------------------

# case: arith_then_access
# expect: accept
r2 = r10
r2 += -16
*(u64 *)(r2 +8) = 1
r0 = *(u64 *)(r2 +8)
exit

# case: arith_positive_then_negative_off
# expect: accept
r2 = r10
r2 += 8
*(u64 *)(r2 -16) = 1
r0 = 0
exit

# case: arith_below_frame
# expect: reject invalid write to stack R2 off=-528 size=8
r2 = r10
r2 += -16
*(u64 *)(r2 -512) = 1
r0 = 0
exit

# case: arith_above_frame
# expect: reject invalid read from stack R2 off=0 size=4
r2 = r10
r2 += -4
r0 = *(u32 *)(r2 +4)
exit

# case: var_off_write_bounded
# expect: accept
r2 = *(u64 *)(r1 +0)
r2 &= 0x18
r3 = r10
r3 += -32
r3 += r2
r0 = 0
*(u64 *)(r3 +0) = r0
r0 = *(u64 *)(r3 +0)
exit

# case: var_off_write_past_top
# expect: reject invalid variable-offset write to stack R3 var_off=(0x0; 0x18) off=-16 size=8
r2 = *(u64 *)(r1 +0)
r2 &= 0x18
r3 = r10
r3 += -16
r3 += r2
r0 = 0
*(u64 *)(r3 +0) = r0
exit

# case: var_off_read_past_top
# expect: reject invalid variable-offset read from stack R3 var_off=(0x0; 0x18) off=-16 size=8
r2 = *(u64 *)(r1 +0)
r2 &= 0x18
r3 = r10
r3 += -16
r3 += r2
r0 = *(u64 *)(r3 +0)
exit

# case: var_off_misaligned
# expect: reject misaligned stack access off (0x0; 0x1c)+-32+0 size 8
r2 = *(u64 *)(r1 +0)
r2 &= 0x1c
r3 = r10
r3 += -32
r3 += r2
r0 = *(u64 *)(r3 +0)
exit

# case: var_off_byte_whole_frame
# expect: accept
r2 = *(u64 *)(r1 +0)
r2 &= 0x1ff
r3 = r10
r3 += -512
r3 += r2
*(u8 *)(r3 +0) = 0
r0 = *(u8 *)(r3 +0)
exit

# case: var_off_byte_past_top
# expect: reject invalid variable-offset write to stack R3 var_off=(0x0; 0x3ff) off=-512 size=1
r2 = *(u64 *)(r1 +0)
r2 &= 0x3ff
r3 = r10
r3 += -512
r3 += r2
*(u8 *)(r3 +0) = 0
r0 = 0
exit

# case: var_off_unbounded
# expect: reject invalid unbounded variable-offset write to stack R3
r2 = *(u32 *)(r1 +0)
r3 = r10
r3 += r2
*(u8 *)(r3 -1) = 0
r0 = 0
exit

# case: var_off_write_destroys_spilled_pointer
# expect: reject R4 invalid mem access 'scalar'
*(u64 *)(r10 -8) = r1
r2 = *(u64 *)(r1 +0)
r2 &= 8
r3 = r10
r3 += -16
r3 += r2
r0 = 0
*(u64 *)(r3 +0) = r0
r4 = *(u64 *)(r10 -8)
r0 = *(u64 *)(r4 +0)
exit

# case: var_off_read_over_spilled_pointer
# A privileged variable-offset read may cover a spilled pointer; it reads a scalar.
# expect: accept
*(u64 *)(r10 -8) = r1
r2 = *(u64 *)(r1 +0)
r2 &= 8
r3 = r10
r3 += -16
r3 += r2
r0 = *(u64 *)(r3 +0)
exit

# case: var_off_read_zero_spills
# A variable-offset read sees only STACK_ZERO bytes as zero; spilled zeroes read as unknown.
# expect: reject invalid read from stack R10 off=8 size=8
*(u64 *)(r10 -8) = 0
*(u64 *)(r10 -16) = 0
r2 = *(u64 *)(r1 +0)
r2 &= 8
r3 = r10
r3 += -16
r3 += r2
r4 = *(u64 *)(r3 +0)
if r4 == 0 goto +1
r0 = *(u64 *)(r10 +8)
r0 = 0
exit

# case: var_off_read_zero_bytes
# expect: accept
*(u16 *)(r10 -4) = 0
*(u16 *)(r10 -2) = 0
r2 = *(u64 *)(r1 +0)
r2 &= 1
r3 = r10
r3 += -3
r3 += r2
r4 = *(u8 *)(r3 +0)
if r4 == 0 goto +1
r0 = *(u64 *)(r10 +8)
r0 = 0
exit

# case: narrow_spill_sign_extending_fill
# expect: accept
r1 = -16
*(u32 *)(r10 -8) = r1
r2 = *(s32 *)(r10 -8)
r3 = r10
r3 += r2
*(u64 *)(r3 +0) = 1
r0 = 0
exit

# case: narrow_spill_is_not_a_full_spill_when_pruning
# Two paths join with 16 spilled at fp-8, whole on one and in the low half (the upper half
# unknown) on the other: the 8-byte fill is exact only on the first, so the second path must
# not be pruned against it.
# expect: reject math between fp pointer and register with unbounded min value is not allowed
r2 = *(u64 *)(r1 +0)
r3 = 16
if r2 == 0 goto narrow
*(u64 *)(r10 -8) = r3
goto join
narrow:
*(u64 *)(r10 -8) = r2
*(u32 *)(r10 -8) = r3
join:
r4 = *(u64 *)(r10 -8)
r5 = r10
r5 += -32
r5 += r4
*(u64 *)(r5 +0) = 1
r0 = 0
exit
