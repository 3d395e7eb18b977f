# bpf-to-bpf calls (check_func_call, prepare_func_exit, check_max_stack_depth): R1-R5 pass
# arguments and are clobbered in the caller, R6-R9 are the caller's and not readable in the
# callee, R0 comes back; each frame has its own 512-byte stack but the frames of a call chain
# share 512 bytes (each rounded up to 16, as with the JIT); at most 8 frames; a stack pointer passed down may be
# written through; no recursion.

# case: pass_args
# expect: accept
r1 = 1
r2 = 2
r3 = 3
r4 = 4
r5 = 5
call f
exit
f:
r0 = r1
r0 += r2
r0 += r3
r0 += r4
r0 += r5
exit

# case: r0_from_callee_known
# expect: accept
call f
if r0 == 5 goto ok
r0 = *(u64 *)(r9 +0)
ok:
exit
f:
r0 = 5
exit

# case: r0_from_callee_wrong
# expect: reject R9 !read_ok
call f
if r0 == 6 goto ok
r0 = *(u64 *)(r9 +0)
ok:
exit
f:
r0 = 5
exit

# case: callee_r0_uninit
# expect: reject R0 !read_ok
call f
exit
f:
exit

# case: callee_reads_uninit_arg
# expect: reject R3 !read_ok
call f
exit
f:
r0 = r3
exit

# case: callee_reads_ctx_arg
# expect: accept
call f
exit
f:
r0 = *(u64 *)(r1 +0)
exit

# case: callee_reads_callee_saved
# expect: reject R6 !read_ok
r6 = 1
call f
exit
f:
r0 = r6
exit

# case: caller_reads_clobbered_arg
# expect: reject R1 !read_ok
r1 = 1
call f
r0 = r1
exit
f:
r0 = 0
exit

# case: caller_reads_clobbered_r5
# expect: reject R5 !read_ok
r5 = 1
call f
r0 = r5
exit
f:
r0 = 0
exit

# case: caller_keeps_r6_r9
# expect: accept
r6 = 6
r7 = 7
r8 = 8
r9 = 9
call f
r0 = r6
r0 += r7
r0 += r8
r0 += r9
exit
f:
r6 = 0
r0 = 0
exit

# case: callee_writes_caller_stack
# expect: accept
r1 = r10
r1 += -8
call f
r0 = *(u64 *)(r10 -8)
exit
f:
*(u64 *)(r1 +0) = 42
r0 = 0
exit

# case: callee_writes_caller_stack_value
# expect: accept
r1 = r10
r1 += -8
call f
r0 = *(u64 *)(r10 -8)
if r0 == 42 goto ok
r0 = *(u64 *)(r9 +0)
ok:
exit
f:
r2 = 42
*(u64 *)(r1 +0) = r2
r0 = 0
exit

# case: callee_writes_past_caller_frame
# expect: reject invalid write to stack R1 off=0 size=8
r1 = r10
r1 += -8
call f
r0 = 0
exit
f:
r0 = 0
*(u64 *)(r1 +8) = r0
exit

# case: callee_own_stack
# expect: accept
call f
exit
f:
r0 = 1
*(u64 *)(r10 -512) = r0
r0 = *(u64 *)(r10 -512)
exit

# case: combined_stack_ok
# expect: accept
r0 = 0
*(u64 *)(r10 -256) = r0
call f
exit
f:
r0 = 0
*(u64 *)(r10 -256) = r0
exit

# case: combined_stack_too_large
# expect: reject combined stack size of 2 calls is 544. Too large
r0 = 0
*(u64 *)(r10 -288) = r0
call f
exit
f:
r0 = 0
*(u64 *)(r10 -256) = r0
exit

# case: combined_stack_rounded_up
# expect: reject combined stack size of 2 calls is 528. Too large
r0 = 0
*(u64 *)(r10 -264) = r0
call f
exit
f:
r0 = 0
*(u64 *)(r10 -256) = r0
exit

# case: combined_stack_caller_after_call
# expect: reject combined stack size of 2 calls is 544. Too large
call f
r0 = 0
*(u64 *)(r10 -288) = r0
exit
f:
r0 = 0
*(u64 *)(r10 -256) = r0
exit

# case: combined_stack_three_frames
# expect: reject combined stack size of 3 calls is 576. Too large
r0 = 0
*(u64 *)(r10 -192) = r0
call f
exit
f:
r0 = 0
*(u64 *)(r10 -192) = r0
call g
exit
g:
r0 = 0
*(u64 *)(r10 -192) = r0
exit

# case: combined_stack_siblings_ok
# expect: accept
r0 = 0
*(u64 *)(r10 -256) = r0
call f
call g
exit
f:
r0 = 0
*(u64 *)(r10 -256) = r0
exit
g:
r0 = 0
*(u64 *)(r10 -256) = r0
exit

# case: eight_frames
# expect: accept
call f1
exit
f1:
call f2
exit
f2:
call f3
exit
f3:
call f4
exit
f4:
call f5
exit
f5:
call f6
exit
f6:
call f7
exit
f7:
r0 = 0
exit

# case: nine_frames
# expect: reject the call stack of 9 frames is too deep
call f1
exit
f1:
call f2
exit
f2:
call f3
exit
f3:
call f4
exit
f4:
call f5
exit
f5:
call f6
exit
f6:
call f7
exit
f7:
call f8
exit
f8:
r0 = 0
exit

# case: subprog_loop_count
# expect: accept
r6 = 0
l:
r1 = r6
call f
r6 += 1
if r6 < 4 goto l
r0 = 0
exit
f:
r0 = r1
exit

# case: callee_returns_scalar_bounds
# map: array key=4 value=16 max=1
# expect: accept
r1 = *(u64 *)(r1 +0)
call f
r1 = map_value[0]
r1 += r0
r0 = *(u8 *)(r1 +0)
exit
f:
r0 = r1
r0 &= 15
exit

# case: callee_returns_scalar_bounds_off_by_one
# map: array key=4 value=16 max=1
# expect: reject R1 max value is outside of the allowed memory range
r1 = *(u64 *)(r1 +0)
call f
r1 = map_value[0]
r1 += r0
r0 = *(u8 *)(r1 +0)
exit
f:
r0 = r1
r0 &= 16
exit

# case: callee_returns_map_value_pointer
# map: array key=4 value=8 max=1
# expect: accept
call get
if r0 == 0 goto out
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit
get:
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
exit

# case: callee_returns_ctx_pointer
# expect: accept
call get
r0 = *(u32 *)(r0 +0)
exit
get:
r0 = r1
exit
