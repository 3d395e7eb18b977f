# Map-value-or-null pointers (mark_ptr_or_null_regs): bpf_map_lookup_elem returns a
# map_value_or_null that cannot be dereferenced, offset or passed on until a comparison with
# zero proves it non-null; the proof applies to every copy with the same id (registers and
# stack spills), on the branch where it holds. The maps are hash maps: a lookup of an array
# map with a constant in-range key cannot fail, and the kernel returns a map_value for it.

# case: deref_before_check
# map: hash key=4 value=8 max=4
# expect: reject R0 invalid mem access 'map_value_or_null'
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = *(u64 *)(r0 +0)
exit

# case: store_before_check
# map: hash key=4 value=8 max=4
# expect: reject R0 invalid mem access 'map_value_or_null'
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
*(u64 *)(r0 +0) = 1
r0 = 0
exit

# case: check_eq_zero
# map: hash key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r0 = *(u64 *)(r0 +0)
out:
exit

# case: check_ne_zero
# map: hash key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 != 0 goto found
exit
found:
*(u64 *)(r0 +0) = 1
r0 = 0
exit

# case: deref_on_null_branch_eq
# On the branch where r0 == 0 it is the scalar 0.
# map: hash key=4 value=8 max=4
# expect: reject R0 invalid mem access 'scalar'
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 != 0 goto out
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit

# case: deref_on_null_branch_ne
# map: hash key=4 value=8 max=4
# expect: reject R0 invalid mem access 'scalar'
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto null
r0 = 0
exit
null:
r0 = *(u64 *)(r0 +0)
exit

# case: null_branch_is_zero
# On the null branch r0 is a known 0, a valid return value.
# map: hash key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 != 0 goto found
exit
found:
r0 = 1
exit

# case: check_copy_deref_original
# map: hash key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r6 = r0
if r6 == 0 goto out
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit

# case: check_original_deref_copy
# map: hash key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r6 = r0
r7 = r6
if r0 == 0 goto out
r1 = *(u64 *)(r7 +0)
*(u64 *)(r6 +0) = r1
out:
r0 = 0
exit

# case: check_copy_made_after_check
# map: hash key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r6 = r0
r0 = *(u64 *)(r6 +0)
out:
exit

# case: check_spilled_copy
# A null check applies to the copy spilled to the stack too.
# map: hash key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
*(u64 *)(r10 -16) = r0
if r0 == 0 goto out
r1 = *(u64 *)(r10 -16)
r0 = *(u64 *)(r1 +0)
out:
r0 = 0
exit

# case: check_filled_copy
# map: hash key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
*(u64 *)(r10 -16) = r0
r6 = *(u64 *)(r10 -16)
if r6 == 0 goto out
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit

# case: spilled_copy_unchecked
# map: hash key=4 value=8 max=4
# expect: reject R1 invalid mem access 'map_value_or_null'
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
*(u64 *)(r10 -16) = r0
r1 = *(u64 *)(r10 -16)
r0 = *(u64 *)(r1 +0)
exit

# case: second_lookup_unchecked
# Two lookups have two ids: checking the first proves nothing of the second.
# map: hash key=4 value=8 max=4
# expect: reject R7 invalid mem access 'map_value_or_null'
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r6 = r0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r7 = r0
if r6 == 0 goto out
r0 = *(u64 *)(r6 +0)
r0 = *(u64 *)(r7 +0)
out:
r0 = 0
exit

# case: both_lookups_checked
# map: hash key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r6 = r0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r7 = r0
if r6 == 0 goto out
if r7 == 0 goto out
r0 = *(u64 *)(r6 +0)
r1 = *(u64 *)(r7 +0)
r0 += r1
out:
r0 = 0
exit

# case: same_map_lookups_not_aliased
# The same key in the same map: still two pointers, each checked on its own.
# map: hash key=4 value=8 max=4
# expect: reject R0 invalid mem access 'map_value_or_null'
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r6 = r0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r6 == 0 goto out
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit

# case: arith_before_check
# map: hash key=4 value=8 max=4
# expect: reject R0 pointer arithmetic on map_value_or_null prohibited, null-check it first
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 += 4
if r0 == 0 goto out
r0 = *(u32 *)(r0 +0)
out:
r0 = 0
exit

# case: arith_after_check
# map: hash key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r0 += 4
r0 = *(u32 *)(r0 +0)
out:
r0 = 0
exit

# case: arith_reg_before_check
# map: hash key=4 value=8 max=4
# expect: reject R0 pointer arithmetic on map_value_or_null prohibited, null-check it first
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r1 = 4
r0 += r1
r0 = 0
exit

# case: jmp32_check_is_no_check
# A 32-bit comparison does not prove a pointer non-null.
# map: hash key=4 value=8 max=4
# expect: reject R0 invalid mem access 'map_value_or_null'
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if w0 == 0 goto out
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit

# case: compare_nonzero_is_no_check
# map: hash key=4 value=8 max=4
# expect: reject R0 invalid mem access 'map_value_or_null'
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 1 goto out
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit

# case: array_const_key_not_null
# An array lookup with a constant key below max_entries cannot fail (a zeroed key).
# map: array key=4 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = *(u64 *)(r0 +0)
exit

# case: array_const_key_out_of_range
# map: array key=4 value=8 max=4
# expect: reject R0 invalid mem access 'map_value_or_null'
r1 = 4
*(u64 *)(r10 -8) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = *(u64 *)(r0 +0)
exit

# case: array_spilled_const_key
# The key is the upper half of a spilled constant, which the kernel takes for the constant.
# map: array key=4 value=8 max=4
# expect: accept
r1 = 2
*(u64 *)(r10 -8) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = *(u64 *)(r0 +0)
exit

# case: array_misc_key
# A non-zero constant stored as data (not at a slot's start) is not a known key.
# map: array key=4 value=8 max=4
# expect: reject R0 invalid mem access 'map_value_or_null'
*(u32 *)(r10 -4) = 3
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = *(u64 *)(r0 +0)
exit

# case: array_narrow_spilled_key
# The kernel tracks a 4-byte spill of a constant at a slot's start; mmbpf tracks whole 8-byte
# spills only, so to it the key is data.
# map: array key=4 value=8 max=4
# expect: reject R0 invalid mem access 'map_value_or_null'
# differs: the kernel knows the key is 2 (a 4-byte register spill) and returns a map_value
r1 = 2
*(u32 *)(r10 -8) = r1
r2 = r10
r2 += -8
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = *(u64 *)(r0 +0)
exit

# case: array_unknown_key
# map: array key=4 value=8 max=4
# expect: reject R0 invalid mem access 'map_value_or_null'
call bpf_get_prandom_u32
*(u32 *)(r10 -4) = r0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = *(u64 *)(r0 +0)
exit

# case: null_to_helper_key
# map: hash key=4 value=8 max=4
# expect: reject R2 type=map_value_or_null expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r2 = r0
r1 = map_fd[0]
call bpf_map_delete_elem
r0 = 0
exit

# case: compared_with_register_holding_zero
# (the kernel takes only `if rX == 0` against the immediate as a null check)
# map: hash key=4 value=8 max=4
# expect: reject R0 invalid mem access 'map_value_or_null'
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r1 = 0
if r0 == r1 goto out
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit
