# Pointer arithmetic (adjust_ptr_min_max_vals, check_reg_sane_offset): pointer +/- scalar on
# stack, map value and context pointers (a constant folds into the fixed offset, a bounded
# unknown into the variable one), no subtraction from the frame pointer, no 32-bit pointer
# arithmetic but the root loader's subtraction (a scalar), pointer - pointer a scalar for root,
# no other operator on pointers, nothing on map_value_or_null before its null check nor on a
# map pointer (but += 0), and pointer comparisons allowed for root.

# case: stack_ptr_add_const
# expect: accept
r1 = r10
r1 += -16
r0 = 0
*(u64 *)(r1 +8) = r0
exit

# case: stack_ptr_sub_const
# expect: reject R1 subtraction from stack pointer prohibited
r1 = r10
r1 -= 8
r0 = 0
*(u64 *)(r1 +0) = r0
exit

# case: scalar_plus_stack_ptr
# expect: accept
r2 = -8
r2 += r10
r0 = 0
*(u64 *)(r2 +0) = r0
exit

# case: stack_ptr_add_const_out_of_frame
# expect: reject invalid write to stack R1 off=-520 size=8
r1 = r10
r1 += -520
r0 = 0
*(u64 *)(r1 +0) = r0
exit

# case: map_value_add_const
# map: array key=4 value=16 max=1
# expect: accept
r1 = map_value[0]
r1 += 8
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_add_const_oob
# map: array key=4 value=16 max=1
# expect: reject invalid access to map value, value_size=16 off=9 size=8
r1 = map_value[0]
r1 += 9
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_sub_const_back
# map: array key=4 value=16 max=1
# expect: accept
r1 = map_value[0]
r1 += 12
r1 -= 4
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_sub_const_below
# map: array key=4 value=16 max=1
# expect: reject invalid access to map value, value_size=16 off=-1 size=8
r1 = map_value[0]
r1 -= 1
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_add_known_reg
# map: array key=4 value=16 max=1
# expect: accept
r1 = map_value[0]
r2 = 8
r1 += r2
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_sub_known_reg
# map: array key=4 value=16 max=1
# expect: accept
r1 = map_value[0]
r1 += 12
r2 = 4
r1 -= r2
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_add_bounded
# map: array key=4 value=16 max=1
# expect: accept
r2 = *(u64 *)(r1 +0)
r2 &= 8
r1 = map_value[0]
r1 += r2
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_add_bounded_oob
# map: array key=4 value=16 max=1
# expect: reject R1 max value is outside of the allowed memory range
r2 = *(u64 *)(r1 +0)
r2 &= 9
r1 = map_value[0]
r1 += r2
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_add_unbounded
# map: array key=4 value=16 max=1
# expect: reject math between map_value pointer and register with unbounded min value is not allowed
r2 = *(u64 *)(r1 +0)
r1 = map_value[0]
r1 += r2
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_add_huge_const
# map: array key=4 value=16 max=1
# expect: reject math between map_value pointer and 536870912 is not allowed
r1 = map_value[0]
r1 += 0x20000000
r0 = 0
exit

# case: map_value_add_large_const_ok
# map: array key=4 value=16 max=1
# expect: accept
r1 = map_value[0]
r1 += 0x1fffffff
r1 -= 0x1fffffff
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_sub_var_unsigned_unbounded
# map: array key=4 value=16 max=1
# expect: reject R1 unbounded memory access, make sure to bounds check any such access
r2 = *(u64 *)(r1 +0)
r2 &= 8
r1 = map_value[0]
r1 += 8
r1 -= r2
r0 = *(u64 *)(r1 +0)
exit

# case: map_value_sub_bounded_below
# map: array key=4 value=16 max=1
# expect: reject R1 min value is negative, either use unsigned index or do a if (index >=0) check.
r2 = *(u64 *)(r1 +0)
r2 &= 8
r1 = map_value[0]
r1 += 7
r1 -= r2
r0 = *(u8 *)(r1 +0)
exit

# case: ctx_add_const
# expect: reject dereference of modified ctx ptr R1 off=8 disallowed
r1 += 8
r0 = *(u64 *)(r1 +0)
exit

# case: ctx_add_const_then_back
# expect: accept
r1 += 8
r1 += -8
r0 = *(u64 *)(r1 +0)
exit

# case: ctx_add_var
# expect: reject variable ctx access var_off=(0x0; 0x8) disallowed
r2 = *(u64 *)(r1 +0)
r2 &= 8
r1 += r2
r0 = *(u64 *)(r1 +0)
exit

# case: alu32_add_on_pointer
# expect: reject R1 32-bit pointer arithmetic prohibited
r1 = r10
w1 += 4
r0 = 0
exit

# case: alu32_sub_on_pointer_root
# expect: accept
r1 = r10
w1 -= 4
r0 = r1
exit

# case: alu32_sub_pointer_result_is_scalar
# expect: reject R1 invalid mem access 'scalar'
r1 = r10
w1 -= 8
r0 = *(u64 *)(r1 +0)
exit

# case: alu32_mov_pointer_root
# expect: accept
w2 = w10
r0 = r2
exit

# case: ptr_minus_ptr_root
# expect: accept
r1 = r10
r2 = r10
r2 += -8
r1 -= r2
r0 = r1
exit

# case: ptr_minus_ptr_different_kinds
# map: array key=4 value=16 max=1
# expect: accept
r2 = map_value[0]
r2 -= r10
r0 = r2
exit

# case: ptr_plus_ptr
# expect: reject R1 pointer += pointer prohibited
r1 = r10
r2 = r10
r1 += r2
r0 = 0
exit

# case: ptr_and_imm
# expect: reject R1 bitwise operator &= on pointer prohibited
r1 = r10
r1 &= -8
r0 = 0
exit

# case: ptr_xor_reg
# expect: reject R1 bitwise operator ^= on pointer prohibited
r1 = r10
r2 = 4
r1 ^= r2
r0 = 0
exit

# case: ptr_mul
# expect: reject R1 pointer arithmetic with *= operator prohibited
r1 = r10
r1 *= 2
r0 = 0
exit

# case: ptr_lsh
# expect: reject R1 pointer arithmetic with <<= operator prohibited
r1 = r10
r1 <<= 1
r0 = 0
exit

# case: scalar_minus_ptr
# expect: reject R2 tried to subtract pointer from scalar
r2 = 0
r2 -= r10
r0 = 0
exit

# case: scalar_and_ptr
# expect: reject R2 bitwise operator |= on pointer prohibited
r2 = 0
r2 |= r10
r0 = 0
exit

# case: map_or_null_arith
# map: hash key=4 value=16 max=1
# expect: reject R0 pointer arithmetic on map_value_or_null prohibited, null-check it first
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 += 8
r0 = 0
exit

# case: map_or_null_arith_after_check
# map: hash key=4 value=16 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r0 += 8
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit

# case: map_or_null_copy_checked
# map: hash key=4 value=16 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r6 = r0
if r0 == 0 goto out
r6 += 8
r0 = *(u64 *)(r6 +0)
out:
r0 = 0
exit

# case: map_ptr_add
# map: array key=4 value=16 max=1
# expect: reject R1 pointer arithmetic on map_ptr prohibited
r1 = map_fd[0]
r1 += 8
r0 = 0
exit

# case: map_ptr_add_zero
# map: array key=4 value=16 max=1
# expect: accept
r1 = map_fd[0]
r1 += 0
r0 = 0
exit

# case: compare_pointers_root
# map: array key=4 value=16 max=1
# expect: accept
r1 = r10
r2 = map_value[0]
if r1 > r2 goto l
r0 = 1
exit
l:
r0 = 0
exit

# case: compare_pointer_with_scalar
# expect: accept
r1 = r10
if r1 > 5 goto l
r0 = 1
exit
l:
r0 = 0
exit

# case: return_pointer_root
# expect: accept
r0 = r10
exit
