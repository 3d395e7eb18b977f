# Reference tracking (acquire_reference, release_reference, check_reference_leak) with ring
# buffer records: bpf_ringbuf_reserve returns a ringbuf_mem_or_null holding a reference that
# bpf_ringbuf_submit or bpf_ringbuf_discard must release on every path once the record is
# proven non-null; the record is reserve's constant size, and after the release every copy of
# the pointer is dead.

# case: reserve_submit
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
*(u64 *)(r0 +0) = 1
r1 = r0
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: reserve_discard
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r1 = r0
r2 = 0
call bpf_ringbuf_discard
out:
r0 = 0
exit

# case: submit_or_discard
# Released on both paths, by different helpers.
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r6 = r0
call bpf_get_prandom_u32
r1 = r6
r2 = 0
if r0 > 100 goto discard
call bpf_ringbuf_submit
goto out
discard:
call bpf_ringbuf_discard
out:
r0 = 0
exit

# case: leak_on_one_path
# map: ringbuf max=4096
# expect: reject Unreleased reference id=2 alloc_insn=4
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r6 = r0
call bpf_get_prandom_u32
if r0 > 100 goto out
r1 = r6
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: leak_never_released
# map: ringbuf max=4096
# expect: reject Unreleased reference id=2 alloc_insn=4
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
*(u64 *)(r0 +0) = 1
out:
r0 = 0
exit

# case: leak_unchecked
# Without a null check the reference is held on the only path.
# map: ringbuf max=4096
# expect: reject Unreleased reference id=2 alloc_insn=4
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r0 = 0
exit

# case: leak_second_of_two
# map: ringbuf max=4096
# expect: reject Unreleased reference id=4 alloc_insn=10
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r6 = r0
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r7 = r0
if r6 == 0 goto skip
r1 = r6
r2 = 0
call bpf_ringbuf_submit
skip:
if r7 == 0 goto out
r0 = 0
exit
out:
r0 = 0
exit

# case: two_records_released
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r6 = r0
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r7 = r0
if r6 == 0 goto skip
r1 = r6
r2 = 0
call bpf_ringbuf_submit
skip:
if r7 == 0 goto out
r1 = r7
r2 = 0
call bpf_ringbuf_discard
out:
r0 = 0
exit

# case: double_submit
# After the release the copy in r6 is a scalar.
# map: ringbuf max=4096
# expect: reject R1 type=scalar expected=ringbuf_mem
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r6 = r0
r1 = r0
r2 = 0
call bpf_ringbuf_submit
r1 = r6
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: use_after_submit
# map: ringbuf max=4096
# expect: reject R6 invalid mem access 'scalar'
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r6 = r0
r1 = r0
r2 = 0
call bpf_ringbuf_submit
*(u64 *)(r6 +0) = 1
out:
r0 = 0
exit

# case: spilled_copy_after_submit
# The release reaches copies spilled to the stack.
# map: ringbuf max=4096
# expect: reject R1 invalid mem access 'scalar'
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
*(u64 *)(r10 -8) = r0
r1 = r0
r2 = 0
call bpf_ringbuf_submit
r1 = *(u64 *)(r10 -8)
*(u64 *)(r1 +0) = 1
out:
r0 = 0
exit

# case: submit_copy
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r7 = r0
if r0 == 0 goto out
r1 = r7
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: submit_stack_pointer
# expect: reject R1 type=fp expected=ringbuf_mem
r1 = r10
r1 += -8
r2 = 0
call bpf_ringbuf_submit
r0 = 0
exit

# case: submit_map_value
# map: array key=4 value=8 max=1
# expect: reject R1 type=map_value expected=ringbuf_mem
r1 = map_value[0]
r2 = 0
call bpf_ringbuf_discard
r0 = 0
exit

# case: submit_scalar
# expect: reject R1 type=scalar expected=ringbuf_mem
r1 = 0
r2 = 0
call bpf_ringbuf_submit
r0 = 0
exit

# case: submit_unchecked
# map: ringbuf max=4096
# expect: reject R1 type=ringbuf_mem_or_null expected=ringbuf_mem
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r1 = r0
r2 = 0
call bpf_ringbuf_submit
r0 = 0
exit

# case: write_unchecked
# map: ringbuf max=4096
# expect: reject R0 invalid mem access 'ringbuf_mem_or_null'
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
*(u64 *)(r0 +0) = 1
r0 = 0
exit

# case: submit_with_offset
# map: ringbuf max=4096
# expect: reject R1 must have zero offset when passed to release func or trusted arg to kfunc
r1 = map_fd[0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r0 += 8
r1 = r0
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: reserve_size_not_constant
# map: ringbuf max=4096
# expect: reject R2 is not a known constant'
call bpf_get_prandom_u32
r0 &= 15
r2 = r0
r1 = map_fd[0]
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r1 = r0
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: reserve_size_pointer
# map: ringbuf max=4096
# expect: reject R2 type=fp expected=scalar
r1 = map_fd[0]
r2 = r10
r3 = 0
call bpf_ringbuf_reserve
r0 = 0
exit

# case: write_last_byte
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 12
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
*(u32 *)(r0 +8) = 1
*(u8 *)(r0 +11) = 1
r1 = r0
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: write_past_record
# map: ringbuf max=4096
# expect: reject invalid access to memory, mem_size=12 off=8 size=8
r1 = map_fd[0]
r2 = 12
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
*(u64 *)(r0 +8) = 1
r1 = r0
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: read_before_record
# map: ringbuf max=4096
# expect: reject invalid access to memory, mem_size=8 off=-8 size=8
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r6 = *(u64 *)(r0 -8)
r1 = r0
r2 = 0
call bpf_ringbuf_discard
out:
r0 = 0
exit

# case: record_as_helper_memory
# A record is memory of its size for helpers.
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r6 = r0
r1 = r0
r2 = 16
r3 = 0
call bpf_probe_read_kernel
r1 = r6
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: record_too_small_for_helper
# map: ringbuf max=4096
# expect: reject invalid access to memory, mem_size=16
r1 = map_fd[0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r6 = r0
r1 = r0
r2 = 24
r3 = 0
call bpf_probe_read_kernel
r1 = r6
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: release_in_subprog
# A callee may release its caller's reference.
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r1 = r0
call release
out:
r0 = 0
exit
release:
r2 = 0
call bpf_ringbuf_submit
r0 = 0
exit

# case: reserve_on_array
# map: array key=4 value=8 max=1
# expect: reject cannot pass map_type 2 into func bpf_ringbuf_reserve#131
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r0 = 0
exit

# case: reserve_on_hash
# map: hash key=4 value=8 max=4
# expect: reject cannot pass map_type 1 into func bpf_ringbuf_reserve#131
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r0 = 0
exit

# case: query_on_array
# map: array key=4 value=8 max=1
# expect: reject cannot pass map_type 2 into func bpf_ringbuf_query#134
r1 = map_fd[0]
r2 = 0
call bpf_ringbuf_query
r0 = 0
exit

# case: query_ringbuf
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 0
call bpf_ringbuf_query
r0 = 0
exit

# case: reserve_zero_size
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 0
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r1 = r0
r2 = 0
call bpf_ringbuf_discard
out:
r0 = 0
exit

# case: reserve_map_scalar
# expect: reject R1 type=scalar expected=map_ptr
r1 = 0
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r0 = 0
exit

# case: submit_with_variable_offset
# map: ringbuf max=4096
# expect: reject variable ringbuf_mem access var_off=
r1 = map_fd[0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r6 = r0
call bpf_get_prandom_u32
r0 &= 8
r6 += r0
r1 = r6
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: leak_two_records
# Both are named; the last one is the error.
# map: ringbuf max=4096
# expect: reject Unreleased reference id=4 alloc_insn=10
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r6 = r0
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r0 = 0
exit
