# Map value access (check_map_access, check_mem_region_access, check_map_access_type): after
# bpf_map_lookup_elem and a null check, r0 points at value_size bytes; constant and bounded
# variable offsets must stay inside; BPF_F_RDONLY_PROG values are not writable by the program;
# ld_imm64 map_value[N]+off gives the same pointer for an array map.

# case: read_u64_whole
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u64 *)(r0 +0)
out:
r0 = 0
exit

# case: read_last_byte
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +7)
out:
r0 = 0
exit

# case: read_one_past_end
# map: array key=4 value=8 max=1
# expect: reject invalid access to map value, value_size=8 off=8 size=1
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +8)
out:
r0 = 0
exit

# case: read_u64_straddles_end
# map: array key=4 value=8 max=1
# expect: reject invalid access to map value, value_size=8 off=4 size=8
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u64 *)(r0 +4)
out:
r0 = 0
exit

# case: read_u32_unaligned
# Map values allow unaligned access (the kernel here has efficient unaligned access).
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u32 *)(r0 +3)
out:
r0 = 0
exit

# case: read_negative_offset
# map: array key=4 value=8 max=1
# expect: reject invalid access to map value, value_size=8 off=-1 size=1
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 -1)
out:
r0 = 0
exit

# case: write_last_byte
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
*(u8 *)(r0 +7) = 1
out:
r0 = 0
exit

# case: write_u32_past_end
# map: array key=4 value=8 max=1
# expect: reject invalid access to map value, value_size=8 off=6 size=4
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
*(u32 *)(r0 +6) = 1
out:
r0 = 0
exit

# case: write_u16_last_half
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = 5
*(u16 *)(r0 +6) = r1
out:
r0 = 0
exit

# case: no_null_check
# map: hash key=4 value=8 max=1
# expect: reject R0 invalid mem access 'map_value_or_null'
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r1 = *(u64 *)(r0 +0)
r0 = 0
exit

# case: arith_then_last_byte
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r0 += 8
r1 = *(u8 *)(r0 -1)
out:
r0 = 0
exit

# case: arith_past_end
# map: array key=4 value=8 max=1
# expect: reject invalid access to map value, value_size=8 off=8 size=1
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r0 += 4
r1 = *(u8 *)(r0 +4)
out:
r0 = 0
exit

# case: arith_negative
# map: array key=4 value=8 max=1
# expect: reject invalid access to map value, value_size=8 off=-2 size=2
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r0 += -4
r1 = *(u16 *)(r0 +2)
out:
r0 = 0
exit

# case: var_index_bounded
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +0)
if r1 > 7 goto out
r0 += r1
r2 = *(u8 *)(r0 +0)
out:
r0 = 0
exit

# case: var_index_off_by_one
# map: array key=4 value=8 max=1
# expect: reject R0 max value is outside of the allowed memory range
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +0)
if r1 > 8 goto out
r0 += r1
r2 = *(u8 *)(r0 +0)
out:
r0 = 0
exit

# case: var_index_u32_bounded
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +0)
if r1 > 4 goto out
r0 += r1
r2 = *(u32 *)(r0 +0)
out:
r0 = 0
exit

# case: var_index_u32_off_by_one
# map: array key=4 value=8 max=1
# expect: reject R0 max value is outside of the allowed memory range
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +0)
if r1 > 5 goto out
r0 += r1
r2 = *(u32 *)(r0 +0)
out:
r0 = 0
exit

# case: var_index_masked
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u32 *)(r0 +0)
r1 &= 7
r0 += r1
*(u8 *)(r0 +0) = 1
out:
r0 = 0
exit

# case: var_index_plus_const
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +0)
if r1 > 3 goto out
r0 += 4
r0 += r1
r2 = *(u8 *)(r0 +0)
out:
r0 = 0
exit

# case: var_index_plus_const_off_by_one
# map: array key=4 value=8 max=1
# expect: reject R0 max value is outside of the allowed memory range
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +0)
if r1 > 4 goto out
r0 += 4
r0 += r1
r2 = *(u8 *)(r0 +0)
out:
r0 = 0
exit

# case: var_index_unbounded
# map: array key=4 value=8 max=1
# expect: reject R0 unbounded memory access, make sure to bounds check any such access
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u32 *)(r0 +0)
r0 += r1
r2 = *(u8 *)(r0 +0)
out:
r0 = 0
exit

# case: var_index_maybe_negative
# map: array key=4 value=8 max=1
# expect: reject R0 min value is negative, either use unsigned index or do a if (index >=0) check.
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +0)
r1 += -4
if r1 s> 3 goto out
r0 += r1
r2 = *(u8 *)(r0 +0)
out:
r0 = 0
exit

# case: var_index_signed_range_is_unbounded
# Signed bounds [-4, 3] leave the unsigned maximum unbounded, even with the constant offset bringing it back inside.
# map: array key=4 value=8 max=1
# expect: reject R0 unbounded memory access, make sure to bounds check any such access
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +0)
r1 += -4
if r1 s> 3 goto out
if r1 s< -4 goto out
r0 += r1
r2 = *(u8 *)(r0 +4)
out:
r0 = 0
exit

# case: var_index_signed_checked
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u64 *)(r0 +0)
if r1 s> 7 goto out
if r1 s< 0 goto out
r0 += r1
r2 = *(u8 *)(r0 +0)
out:
r0 = 0
exit

# case: rdonly_prog_read
# map: array key=4 value=8 max=1 flags=rdonly_prog
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u64 *)(r0 +0)
out:
r0 = 0
exit

# case: rdonly_prog_store
# map: array key=4 value=8 max=1 flags=rdonly_prog
# expect: reject write into map forbidden, value_size=8 off=0 size=8
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = 1
*(u64 *)(r0 +0) = r1
out:
r0 = 0
exit

# case: rdonly_prog_store_imm
# map: hash key=4 value=8 max=1 flags=rdonly_prog
# expect: reject write into map forbidden, value_size=8 off=4 size=4
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
*(u32 *)(r0 +4) = 1
out:
r0 = 0
exit

# case: rdonly_prog_store_out_of_bounds
# The read-only check comes before the bounds check.
# map: array key=4 value=8 max=1 flags=rdonly_prog
# expect: reject write into map forbidden, value_size=8 off=64 size=1
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
*(u8 *)(r0 +64) = 1
out:
r0 = 0
exit

# case: rdonly_prog_atomic
# map: array key=4 value=8 max=1 flags=rdonly_prog
# expect: reject write into map forbidden, value_size=8 off=0 size=8
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = 1
lock *(u64 *)(r0 +0) += r1
out:
r0 = 0
exit

# case: atomic_aligned
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = 1
lock *(u64 *)(r0 +0) += r1
out:
r0 = 0
exit

# case: atomic_misaligned
# Atomics are always strictly aligned.
# map: array key=4 value=16 max=1
# expect: reject misaligned value access off 0+0+4 size 8
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = 1
lock *(u64 *)(r0 +4) += r1
out:
r0 = 0
exit

# case: direct_value_read
# map: array key=4 value=8 max=1
# expect: accept
r1 = map_value[0]+4
r0 = *(u32 *)(r1 +0)
exit

# case: direct_value_past_end
# map: array key=4 value=8 max=1
# expect: reject invalid access to map value, value_size=8 off=4 size=8
r1 = map_value[0]+4
r0 = *(u64 *)(r1 +0)
exit

# case: direct_value_write
# map: array key=4 value=8 max=1
# expect: accept
r1 = map_value[0]+0
r0 = 0
*(u64 *)(r1 +0) = r0
exit

# case: direct_value_rdonly_write
# map: array key=4 value=8 max=1 flags=rdonly_prog
# expect: reject write into map forbidden, value_size=8 off=0 size=1
r1 = map_value[0]+0
r0 = 0
*(u8 *)(r1 +0) = r0
exit

# case: value_size_1_byte
# map: array key=4 value=1 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +0)
*(u8 *)(r0 +0) = 1
out:
r0 = 0
exit

# case: value_size_1_u16
# map: array key=4 value=1 max=1
# expect: reject invalid access to map value, value_size=1 off=0 size=2
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u16 *)(r0 +0)
out:
r0 = 0
exit

# case: value_size_13_last_u32
# map: hash key=4 value=13 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u32 *)(r0 +9)
out:
r0 = 0
exit

# case: value_size_13_past_end
# map: hash key=4 value=13 max=1
# expect: reject invalid access to map value, value_size=13 off=10 size=4
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u32 *)(r0 +10)
out:
r0 = 0
exit

# case: percpu_array_bounds
# map: percpu_array key=4 value=16 max=1
# expect: reject invalid access to map value, value_size=16 off=16 size=1
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u8 *)(r0 +15)
r1 = *(u8 *)(r0 +16)
out:
r0 = 0
exit

# case: lru_hash_last_u64
# map: lru_hash key=4 value=32 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = *(u64 *)(r0 +24)
out:
r0 = 0
exit
