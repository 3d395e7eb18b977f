# Scalar ALU rules (check_alu_op, adjust_scalar_min_max_vals): ALU64/ALU32 arithmetic with
# 32-bit results zero-extended, v4 sdiv/smod/movsx/bswap, division by a zero register (defined:
# the result is 0 or the dividend) but not by a zero immediate ("div by zero"), constant shifts
# of at least the width ("invalid shift"), reads of unwritten registers ("!read_ok"), writes to
# r10 ("frame pointer is read only"), and opcodes the kernel does not know.
# A known value is checked with a dead branch: "trap" reads r9, never written.

# case: alu64_imm_ops
# expect: accept
r0 = 1
r0 += 2
r0 -= 1
r0 *= 7
r0 |= 8
r0 &= 0xff
r0 ^= 3
r0 /= 3
r0 %= 5
exit

# case: alu32_reg_ops
# expect: accept
w0 = 5
w1 = 3
w0 += w1
w0 <<= 3
w0 >>= 1
w0 s>>= 1
w0 -= w1
w0 *= w1
w0 ^= w1
exit

# case: alu64_known_result
# expect: accept
r1 = 6
r1 *= 7
r1 -= 2
r1 <<= 2
r1 >>= 3
if r1 == 20 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: alu64_known_result_wrong
# expect: reject R9 !read_ok
r1 = 6
r1 *= 7
if r1 == 43 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: neg_known
# expect: accept
r1 = 5
r1 = -r1
if r1 == -5 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: div_by_zero_reg_allowed
# expect: accept
r0 = 10
r1 = 0
r0 /= r1
exit

# case: mod_by_zero_reg_allowed
# expect: accept
r0 = 10
r1 = 0
r0 %= r1
w0 %= w1
exit

# case: sdiv_smod_by_zero_reg_allowed
# expect: accept
r0 = -10
r1 = 0
r0 s/= r1
r0 s%= r1
w0 s/= w1
exit

# case: div_by_zero_imm
# expect: reject div by zero
r0 = 10
r0 /= 0
exit

# case: mod_by_zero_imm_alu32
# expect: reject div by zero
w0 = 10
w0 %= 0
exit

# case: sdiv_by_zero_imm
# expect: reject div by zero
r0 = 10
r0 s/= 0
exit

# case: sdiv_smod_imm
# expect: accept
r0 = -7
r0 s/= 2
r0 s%= -1
r0 s/= -1
w0 s%= 3
exit

# case: div_unknown_by_imm
# expect: accept
r0 = *(u64 *)(r1 +0)
r0 /= 3
r0 %= 7
exit

# case: shift_imm_too_large_64
# expect: reject invalid shift 64
r0 = 1
r0 <<= 64
exit

# case: shift_imm_too_large_32
# expect: reject invalid shift 32
w0 = 1
w0 >>= 32
exit

# case: arsh_imm_negative
# expect: reject invalid shift -1
r0 = 1
r0 s>>= -1
exit

# case: shift_imm_max_ok
# expect: accept
r0 = 1
r0 <<= 63
r0 s>>= 63
w0 >>= 31
w0 <<= 31
exit

# case: shift_reg_too_large_allowed
# expect: accept
r1 = 100
r0 = 1
r0 <<= r1
w0 >>= w1
exit

# case: uninit_src
# expect: reject R2 !read_ok
r0 = 0
r0 += r2
exit

# case: uninit_dst
# expect: reject R3 !read_ok
r3 += 1
r0 = 0
exit

# case: uninit_mov_src
# expect: reject R4 !read_ok
r0 = r4
exit

# case: uninit_alu32_src
# expect: reject R5 !read_ok
w0 = 0
w0 -= w5
exit

# case: uninit_r0_at_exit
# expect: reject R0 !read_ok
r1 = 0
exit

# case: uninit_div_before_zero_check
# expect: reject R0 !read_ok
r0 /= 0
exit

# case: write_r10_mov
# expect: reject frame pointer is read only
r10 = 0
r0 = 0
exit

# case: write_r10_add
# expect: reject frame pointer is read only
r10 += 8
r0 = 0
exit

# case: write_r10_load
# expect: reject frame pointer is read only
r10 = *(u64 *)(r10 -8)
r0 = 0
exit

# case: write_r10_ld_imm64
# expect: reject frame pointer is read only
r10 = 0x1 ll
r0 = 0
exit

# case: write_r10_neg
# expect: reject frame pointer is read only
r10 = -r10
r0 = 0
exit

# case: copy_r10_ok
# expect: accept
r0 = r10
r0 += -8
r0 = 0
exit

# case: neg_pointer_becomes_scalar
# expect: accept
r0 = r10
r0 = -r0
r0 = 0
exit

# case: bswap_pointer_becomes_scalar
# expect: accept
r0 = r10
r0 = be64 r0
r0 = 0
exit

# case: movsx8_known
# expect: accept
r1 = 0x80
r2 = (s8)r1
if r2 == -128 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: movsx16_known_wrong
# expect: reject R9 !read_ok
r1 = 0x8000
r2 = (s16)r1
if r2 == 0x8000 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: movsx32_known
# expect: accept
r1 = 0xffffffff ll
r2 = (s32)r1
if r2 == -1 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: movsx_alu32_zero_extends
# expect: accept
w1 = 0xff
w2 = (s8)w1
r3 = 0xffffffff ll
if r2 == r3 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: movsx_unknown_bounds
# map: array key=4 value=256 max=1
# expect: accept
r2 = *(u64 *)(r1 +0)
r2 = (s8)r2
r2 += 128
r3 = map_value[0]
r3 += r2
r0 = *(u8 *)(r3 +0)
exit

# case: movsx_unknown_bounds_off_by_one
# map: array key=4 value=255 max=1
# expect: reject R3 max value is outside of the allowed memory range
r2 = *(u64 *)(r1 +0)
r2 = (s8)r2
r2 += 128
r3 = map_value[0]
r3 += r2
r0 = *(u8 *)(r3 +0)
exit

# case: bswap16_known
# expect: accept
r1 = 0x10102
r1 = bswap16 r1
if r1 == 0x201 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: le16_truncates
# map: array key=4 value=65536 max=1
# expect: accept
r2 = *(u64 *)(r1 +0)
r2 = le16 r2
r3 = map_value[0]
r3 += r2
r0 = *(u8 *)(r3 +0)
exit

# case: be32_unknown_bounds
# map: array key=4 value=65536 max=1
# expect: reject R3 unbounded memory access, make sure to bounds check any such access
r2 = *(u64 *)(r1 +0)
r2 = be32 r2
r3 = map_value[0]
r3 += r2
r0 = *(u8 *)(r3 +0)
exit

# case: alu32_add_wraps_and_zero_extends
# expect: accept
w2 = -1
w2 += 1
if r2 == 0 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: alu64_add_does_not_wrap_at_32
# expect: reject R9 !read_ok
r2 = 0xffffffff ll
r2 += 1
if r2 == 0 goto ok
r0 = *(u64 *)(r9 +0)
ok:
r0 = 0
exit

# case: mov32_zext_bounds
# map: array key=4 value=8 max=1
# expect: accept
r2 = *(u64 *)(r1 +0)
w2 = w2
r2 >>= 29
r3 = map_value[0]
r3 += r2
r0 = *(u8 *)(r3 +0)
exit

# case: mov32_zext_bounds_off_by_one
# map: array key=4 value=8 max=1
# expect: reject R3 max value is outside of the allowed memory range
r2 = *(u64 *)(r1 +0)
w2 = w2
r2 >>= 28
r3 = map_value[0]
r3 += r2
r0 = *(u8 *)(r3 +0)
exit

# case: alu32_result_upper_bits_zero
# map: array key=4 value=16 max=1
# expect: accept
r2 = *(u64 *)(r1 +0)
w2 &= 15
r3 = map_value[0]
r3 += r2
r0 = *(u8 *)(r3 +0)
exit

# case: alu64_and_keeps_upper
# map: array key=4 value=16 max=1
# expect: accept
r2 = *(u64 *)(r1 +0)
r2 &= 15
r3 = map_value[0]
r3 += r2
r0 = *(u8 *)(r3 +0)
exit

# case: and_mask_off_by_one
# map: array key=4 value=16 max=1
# expect: reject R3 max value is outside of the allowed memory range
r2 = *(u64 *)(r1 +0)
r2 &= 16
r3 = map_value[0]
r3 += r2
r0 = *(u8 *)(r3 +0)
exit

# case: mul_bounds
# map: array key=4 value=16 max=1
# expect: accept
r2 = *(u64 *)(r1 +0)
r2 &= 3
r2 *= 4
r3 = map_value[0]
r3 += r2
r0 = *(u32 *)(r3 +0)
exit

# case: mul_bounds_off_by_one
# map: array key=4 value=15 max=1
# expect: reject R3 max value is outside of the allowed memory range
r2 = *(u64 *)(r1 +0)
r2 &= 3
r2 *= 4
r3 = map_value[0]
r3 += r2
r0 = *(u32 *)(r3 +0)
exit
