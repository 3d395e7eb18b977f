# Helper callbacks (push_callback_call, set_loop_callback_state,
# set_map_elem_callback_state, prepare_func_exit): bpf_loop and bpf_for_each_map_elem take a
# subprogram ("rN = func[label]") that is verified as a call with the helper's argument
# types: bpf_loop's callback gets (u32 index, void *ctx), bpf_for_each_map_elem's gets
# (map, key, value, ctx); both must return 0 or 1. The callback sees only its arguments: the
# caller's stack is reachable through the ctx pointer alone, and its frame starts with R1-R5
# as arguments and R6-R9 unset, as any callee's.

# case: loop_valid
# expect: accept
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = 0
exit

# case: loop_returns_one
# expect: accept
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = 1
exit

# case: loop_returns_two
# expect: reject At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = 2
exit

# case: loop_returns_negative
# expect: reject At callback return the register R0 has smin=-1 smax=-1 should have been in [0, 1]
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = -1
exit

# case: loop_returns_unknown
# expect: reject At callback return the register R0 has unknown scalar value should have been in [0, 1]
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
call bpf_ktime_get_ns
exit

# case: loop_returns_masked
# expect: accept
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
call bpf_get_prandom_u32
r0 &= 1
exit

# case: loop_returns_index_range
# The index is an unknown scalar to the verifier (set_loop_callback_state).
# expect: reject At callback return the register R0 has unknown scalar value should have been in [0, 1]
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = r1
exit

# case: loop_returns_pointer
# map: array key=4 value=8 max=1
# expect: reject R0 not a scalar value
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = map_value[0]
exit

# case: loop_returns_stack_pointer
# expect: reject cannot return stack pointer to the caller
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = r10
exit

# case: loop_zero_iterations
# With nr_loops 0 the callback never runs, and the kernel does not verify it.
# expect: accept
r1 = 0
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = 2
exit

# case: loop_no_return_value
# expect: reject R0 not a scalar value
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
exit

# case: loop_ctx_on_stack_write
# The callback writes the caller's stack through its ctx.
# expect: accept
r1 = 0
*(u64 *)(r10 -8) = r1
r1 = 4
r2 = func[cb]
r3 = r10
r3 += -8
r4 = 0
call bpf_loop
r0 = *(u64 *)(r10 -8)
r0 = 0
exit
cb:
r3 = *(u64 *)(r2 +0)
r3 += r1
*(u64 *)(r2 +0) = r3
r0 = 0
exit

# case: loop_ctx_past_caller_stack
# ctx is r10-8 of the caller: 8 bytes above it is the caller's r10.
# expect: reject invalid write to stack R2 off=0 size=8
r1 = 0
*(u64 *)(r10 -8) = r1
r1 = 4
r2 = func[cb]
r3 = r10
r3 += -8
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
*(u64 *)(r2 +8) = 1
r0 = 0
exit

# case: loop_ctx_below_in_caller_stack
# Below ctx is still the caller's frame.
# expect: accept
r1 = 4
r2 = func[cb]
r3 = r10
r3 += -8
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
*(u64 *)(r2 -8) = 1
r0 = 0
exit

# case: loop_ctx_null_deref
# map: array key=4 value=8 max=1
# expect: reject R2 invalid mem access 'scalar'
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = *(u64 *)(r2 +0)
r0 = 0
exit

# case: loop_ctx_scalar
# expect: reject R3 type=scalar expected=fp
r1 = 4
r2 = func[cb]
r3 = 1
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = 0
exit

# case: loop_ctx_map_value
# map: array key=4 value=8 max=1
# expect: reject R3 type=map_value expected=fp
r1 = 4
r2 = func[cb]
r3 = map_value[0]
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = 0
exit

# case: loop_nr_loops_unknown
# nr_loops is checked when the helper runs (BPF_MAX_LOOPS), not by the verifier.
# expect: accept
call bpf_get_prandom_u32
r1 = r0
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = 0
exit

# case: loop_flags_nonzero
# Non-zero flags fail when the helper runs (-EINVAL), not at load.
# expect: accept
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 1
call bpf_loop
r0 = 0
exit
cb:
r0 = 0
exit

# case: loop_callback_not_func
# expect: reject R2 type=scalar expected=func
r1 = 4
r2 = 0
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit

# case: loop_callback_uninit
# expect: reject R2 !read_ok
r1 = 4
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit

# case: loop_callback_reads_r3
# The callback has two arguments.
# expect: reject R3 !read_ok
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = r3
r0 = 0
exit

# case: loop_callback_reads_r6
# The caller's callee-saved registers are not the callback's.
# expect: reject R6 !read_ok
r6 = 0
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r0 = r6
exit

# case: loop_callback_clobbers_r6
# The callback's R6-R9 are its own: the caller's survive the call.
# expect: accept
r6 = 7
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = r6
r0 &= 1
exit
cb:
r6 = 1
r9 = r6
r0 = 0
exit

# case: loop_caller_r1_clobbered
# expect: reject R1 !read_ok
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = r1
exit
cb:
r0 = 0
exit

# case: loop_returns_count
# bpf_loop returns a scalar (the iterations run).
# expect: accept
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
exit
cb:
r0 = 0
exit

# case: loop_nested
# expect: accept
r1 = 4
r2 = func[outer]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
outer:
r1 = 2
r2 = func[inner]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
inner:
r0 = 1
exit

# case: loop_index_bounded
# The index is below nr_loops only at run time: the verifier knows a u32.
# map: array key=4 value=8 max=1
# expect: reject math between map_value pointer and register with unbounded min value is not allowed
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r2 = map_value[0]
r2 += r1
r0 = *(u8 *)(r2 +0)
r0 = 0
exit

# case: for_each_valid
# map: array key=4 value=8 max=4
# expect: accept
r1 = map_fd[0]
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_for_each_map_elem
r0 = 0
exit
cb:
r0 = *(u32 *)(r2 +0)
r1 = *(u64 *)(r3 +0)
r1 += r0
*(u64 *)(r3 +0) = r1
r0 = 0
exit

# case: for_each_hash
# map: hash key=8 value=16 max=4
# expect: accept
r1 = map_fd[0]
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_for_each_map_elem
r0 = 0
exit
cb:
r0 = *(u64 *)(r2 +0)
*(u64 *)(r3 +8) = r0
r0 = 1
exit

# case: for_each_value_past_end
# map: array key=4 value=8 max=4
# expect: reject invalid access to map value, value_size=8 off=8 size=8
r1 = map_fd[0]
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_for_each_map_elem
r0 = 0
exit
cb:
*(u64 *)(r3 +8) = 0
r0 = 0
exit

# case: for_each_key_past_end
# map: array key=4 value=8 max=4
# expect: reject invalid access to map key, key_size=4 off=4 size=4
r1 = map_fd[0]
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_for_each_map_elem
r0 = 0
exit
cb:
r0 = *(u32 *)(r2 +4)
r0 = 0
exit

# case: for_each_key_write
# map: hash key=8 value=8 max=4
# expect: reject write to change key R2 not allowed
r1 = map_fd[0]
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_for_each_map_elem
r0 = 0
exit
cb:
*(u64 *)(r2 +0) = 0
r0 = 0
exit

# case: for_each_ctx_on_stack
# map: array key=4 value=8 max=4
# expect: accept
r1 = 0
*(u64 *)(r10 -8) = r1
r1 = map_fd[0]
r2 = func[cb]
r3 = r10
r3 += -8
r4 = 0
call bpf_for_each_map_elem
r0 = 0
exit
cb:
r0 = *(u64 *)(r3 +0)
r1 = *(u64 *)(r4 +0)
r1 += r0
*(u64 *)(r4 +0) = r1
r0 = 0
exit

# case: for_each_map_arg_is_map
# The callback's R1 is the map: it may look up another key.
# map: array key=4 value=8 max=4
# expect: accept
r1 = map_fd[0]
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_for_each_map_elem
r0 = 0
exit
cb:
r2 = r10
r2 += -4
*(u32 *)(r10 -4) = 0
call bpf_map_lookup_elem
r0 = 0
exit

# case: for_each_returns_two
# map: array key=4 value=8 max=4
# expect: reject At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]
r1 = map_fd[0]
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_for_each_map_elem
r0 = 0
exit
cb:
r0 = 2
exit

# case: for_each_ringbuf
# map: ringbuf max=4096
# expect: reject callback function not allowed for map
r1 = map_fd[0]
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_for_each_map_elem
r0 = 0
exit
cb:
r0 = 0
exit

# case: for_each_callback_reads_r5
# map: array key=4 value=8 max=4
# expect: reject R5 !read_ok
r1 = 0
r5 = 0
r1 = map_fd[0]
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_for_each_map_elem
r0 = 0
exit
cb:
r0 = r5
r0 = 0
exit

# case: loop_callback_leaks_record
# A record reserved in the callback must be released there.
# map: ringbuf max=4096
# expect: reject Unreleased reference
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
r0 = 0
exit

# case: loop_callback_releases_record
# map: ringbuf max=4096
# expect: accept
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop
r0 = 0
exit
cb:
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r1 = r0
r2 = 0
call bpf_ringbuf_discard
out:
r0 = 0
exit

# case: subprog_without_return_value
# A subprogram need not set R0 when its caller does not read it.
# expect: accept
call sub
r0 = 0
exit
sub:
exit

# case: subprog_return_value_unset
# expect: reject R0 !read_ok
call sub
exit
sub:
exit
