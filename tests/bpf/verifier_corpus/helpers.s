# Helper calls (check_helper_call, check_func_arg, check_mem_size_reg,
# check_map_func_compatibility): each argument register must have the type its prototype asks
# for (a map, a key or value of the map's size, memory with a bounded size), the helper must
# exist for the program type and accept the map's type, R0 gets the prototype's return type,
# and R1-R5 are unreadable after the call.
# Out-of-bounds helper memory is matched on its key part ("stack R2 off=-4 size=8"): the
# kernel says "invalid read from stack ..." / "invalid write to stack ..." where mmbpf still says
# "invalid indirect access to stack ...".

# case: lookup_stack_key
# map: array key=4 value=8 max=1
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = 0
exit

# case: map_arg_scalar
# map: array key=4 value=8 max=1
# expect: reject R1 type=scalar expected=map_ptr
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = 0
call bpf_map_lookup_elem
r0 = 0
exit

# case: map_arg_stack_pointer
# map: array key=4 value=8 max=1
# expect: reject R1 type=fp expected=map_ptr
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = r10
call bpf_map_lookup_elem
r0 = 0
exit

# case: map_arg_map_value
# A pointer into a map's value is not the map.
# map: array key=4 value=8 max=1
# expect: reject R1 type=map_value expected=map_ptr
r1 = map_value[0]
r2 = r10
r2 += -4
*(u32 *)(r10 -4) = 0
call bpf_map_lookup_elem
r0 = 0
exit

# case: map_arg_ctx
# R1 holds the context at entry.
# map: array key=4 value=8 max=1
# expect: reject R1 type=ctx expected=map_ptr
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
call bpf_map_lookup_elem
r0 = 0
exit

# case: arg_uninit
# expect: reject R3 !read_ok
r1 = r10
r1 += -8
r2 = 8
call bpf_probe_read_kernel
r0 = 0
exit

# case: key_uninit_stack_privileged
# A privileged loader may pass uninitialized stack as a key (allow_uninit_stack).
# map: hash key=8 value=8 max=4
# expect: accept
r2 = r10
r2 += -8
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = 0
exit

# case: key_too_short
# An 8-byte key from a 4-byte slot at the top of the frame runs past r10.
# map: hash key=8 value=8 max=4
# expect: reject stack R2 off=-4 size=8
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = 0
exit

# case: key_below_frame
# map: hash key=8 value=8 max=4
# expect: reject stack R2 off=-516 size=8
r2 = r10
r2 += -516
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = 0
exit

# case: key_scalar
# map: hash key=8 value=8 max=4
# expect: reject R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
r2 = 0
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = 0
exit

# case: key_in_map_value
# A value of one map is a key of another.
# map: array key=4 value=8 max=1
# map: hash key=8 value=8 max=4
# expect: accept
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r2 = r0
r1 = map_fd[1]
call bpf_map_lookup_elem
out:
r0 = 0
exit

# case: key_in_map_value_too_short
# map: array key=4 value=4 max=1
# map: hash key=8 value=8 max=4
# expect: reject invalid access to map value, value_size=4 off=0 size=8
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r2 = r0
r1 = map_fd[1]
call bpf_map_lookup_elem
out:
r0 = 0
exit

# case: key_map_value_or_null
# map: hash key=4 value=8 max=1
# map: hash key=8 value=8 max=4
# expect: reject R2 type=map_value_or_null expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r2 = r0
r1 = map_fd[1]
call bpf_map_lookup_elem
r0 = 0
exit

# case: key_in_map_value_at_offset
# map: array key=4 value=16 max=1
# map: hash key=8 value=8 max=4
# expect: accept
r2 = map_value[0]+8
r1 = map_fd[1]
call bpf_map_lookup_elem
r0 = 0
exit

# case: key_past_map_value_end
# map: array key=4 value=16 max=1
# map: hash key=8 value=8 max=4
# expect: reject invalid access to map value, value_size=16 off=12 size=8
r2 = map_value[0]+12
r1 = map_fd[1]
call bpf_map_lookup_elem
r0 = 0
exit

# case: update_stack_key_value
# map: hash key=4 value=16 max=4
# expect: accept
*(u32 *)(r10 -4) = 1
r1 = 0
*(u64 *)(r10 -24) = r1
*(u64 *)(r10 -16) = r1
r2 = r10
r2 += -4
r3 = r10
r3 += -24
r1 = map_fd[0]
r4 = 0
call bpf_map_update_elem
r0 = 0
exit

# case: update_value_too_short
# A 16-byte value from 8 bytes at the top of the frame.
# map: hash key=4 value=16 max=4
# expect: reject stack R3 off=-8 size=16
*(u32 *)(r10 -12) = 1
r1 = 0
*(u64 *)(r10 -8) = r1
r2 = r10
r2 += -12
r3 = r10
r3 += -8
r1 = map_fd[0]
r4 = 0
call bpf_map_update_elem
r0 = 0
exit

# case: update_value_scalar
# map: hash key=4 value=16 max=4
# expect: reject R3 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
*(u32 *)(r10 -4) = 1
r2 = r10
r2 += -4
r3 = 0
r1 = map_fd[0]
r4 = 0
call bpf_map_update_elem
r0 = 0
exit

# case: update_value_from_map_value
# map: hash key=4 value=16 max=4
# map: array key=4 value=16 max=1
# expect: accept
*(u32 *)(r10 -4) = 1
r2 = r10
r2 += -4
r3 = map_value[1]
r1 = map_fd[0]
r4 = 0
call bpf_map_update_elem
r0 = 0
exit

# case: update_flags_uninit
# map: hash key=4 value=16 max=4
# map: array key=4 value=16 max=1
# expect: reject R4 !read_ok
*(u32 *)(r10 -4) = 1
r2 = r10
r2 += -4
r3 = map_value[1]
r1 = map_fd[0]
call bpf_map_update_elem
r0 = 0
exit

# case: delete_stack_key
# map: hash key=4 value=16 max=4
# expect: accept
*(u32 *)(r10 -4) = 1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_delete_elem
r0 = 0
exit

# case: probe_read_to_stack
# expect: accept
r1 = r10
r1 += -16
r2 = 16
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_zero_size
# ARG_CONST_SIZE_OR_ZERO: a zero size is allowed.
# expect: accept
r1 = r10
r1 += -16
r2 = 0
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_negative_size
# expect: reject R2 min value is negative, either use unsigned or 'var &= const'
r1 = r10
r1 += -16
r2 = -1
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_unbounded_size
# A u32 size may be 4G: too big for any buffer.
# expect: reject R2 unbounded memory access, use 'var &= const' or 'if (var < const)'
call bpf_get_prandom_u32
w2 = w0
r1 = r10
r1 += -16
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_signed_unknown_size
# An unknown 64-bit size may be negative.
# expect: reject R2 min value is negative, either use unsigned or 'var &= const'
call bpf_ktime_get_ns
r2 = r0
r1 = r10
r1 += -16
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_masked_size
# expect: accept
call bpf_get_prandom_u32
r0 &= 15
r2 = r0
r1 = r10
r1 += -16
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_masked_size_too_big
# The size may be up to 31: more than the 16 bytes below r10-16 reach.
# expect: reject stack R1 off=-16 size=31
call bpf_get_prandom_u32
r0 &= 31
r2 = r0
r1 = r10
r1 += -16
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_size_past_buffer
# expect: reject stack R1 off=-16 size=24
r1 = r10
r1 += -16
r2 = 24
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_into_map_value
# map: array key=4 value=16 max=1
# expect: accept
r1 = map_value[0]
r2 = 16
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_past_map_value
# map: array key=4 value=16 max=1
# expect: reject invalid access to map value, value_size=16
r1 = map_value[0]+8
r2 = 16
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_into_rdonly_map
# map: array key=4 value=16 max=1 flags=rdonly_prog
# expect: reject write into map forbidden
r1 = map_value[0]
r2 = 8
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_dst_scalar
# expect: reject R1 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
r1 = 0
r2 = 8
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: probe_read_size_pointer
# expect: reject R2 type=fp expected=scalar
r1 = r10
r1 += -16
r2 = r10
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: ringbuf_output_from_stack
# map: ringbuf max=4096
# expect: accept
r1 = 0
*(u64 *)(r10 -8) = r1
r1 = map_fd[0]
r2 = r10
r2 += -8
r3 = 8
r4 = 0
call bpf_ringbuf_output
r0 = 0
exit

# case: ringbuf_output_zero_size
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = r10
r2 += -8
r3 = 0
r4 = 0
call bpf_ringbuf_output
r0 = 0
exit

# case: ringbuf_output_past_stack
# map: ringbuf max=4096
# expect: reject stack R2 off=-8 size=16
r1 = 0
*(u64 *)(r10 -8) = r1
r1 = map_fd[0]
r2 = r10
r2 += -8
r3 = 16
r4 = 0
call bpf_ringbuf_output
r0 = 0
exit

# case: trace_printk_zero_size
# ARG_CONST_SIZE: zero is not a size.
# expect: reject R2 invalid zero-sized read: u64=[0,0]
r1 = 0
*(u64 *)(r10 -8) = r1
r1 = r10
r1 += -8
r2 = 0
call bpf_trace_printk
r0 = 0
exit

# case: unknown_helper_id
# expect: reject invalid func unknown#100000
call 100000
r0 = 0
exit

# case: lookup_on_ringbuf
# A ring buffer has no keys: the key's size is zero, which fails before the map's type.
# map: ringbuf max=4096
# expect: reject invalid zero-sized read
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = 0
exit

# case: ringbuf_output_on_array
# map: array key=4 value=8 max=1
# expect: reject cannot pass map_type 2 into func bpf_ringbuf_output#130
r1 = 0
*(u64 *)(r10 -8) = r1
r1 = map_fd[0]
r2 = r10
r2 += -8
r3 = 8
r4 = 0
call bpf_ringbuf_output
r0 = 0
exit

# case: scalar_return_used
# expect: accept
call bpf_get_prandom_u32
r6 = r0
call bpf_ktime_get_ns
r0 += r6
exit

# case: scalar_return_dereferenced
# expect: reject R0 invalid mem access 'scalar'
call bpf_ktime_get_ns
r0 = *(u64 *)(r0 +0)
exit

# case: prandom_is_not_u32
# bpf_get_prandom_u32's R0 is an unknown 64-bit scalar (RET_INTEGER), not a u32.
# expect: reject R2 min value is negative, either use unsigned or 'var &= const'
call bpf_get_prandom_u32
r2 = r0
r1 = r10
r1 += -16
r3 = 0
call bpf_probe_read_kernel
r0 = 0
exit

# case: lookup_return_is_pointer
# map: array key=4 value=8 max=1
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

# case: r1_clobbered
# expect: reject R1 !read_ok
r1 = 1
call bpf_ktime_get_ns
r0 = r1
exit

# case: r5_clobbered
# expect: reject R5 !read_ok
r5 = 1
call bpf_get_prandom_u32
r0 = r5
exit

# case: r6_preserved
# expect: accept
r6 = 1
r9 = 2
call bpf_ktime_get_ns
r0 = r6
r0 += r9
exit

# case: stack_preserved
# expect: accept
r1 = 7
*(u64 *)(r10 -8) = r1
call bpf_ktime_get_ns
r0 = *(u64 *)(r10 -8)
exit

# case: void_return_unreadable
# map: ringbuf max=4096
# expect: reject R0 !read_ok
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r1 = r0
r2 = 0
call bpf_ringbuf_discard
exit
out:
exit

# case: key_ctx
# The context is not memory a helper takes.
# map: hash key=4 value=8 max=4
# expect: reject R2 type=ctx expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
r2 = r1
r1 = map_fd[0]
call bpf_map_lookup_elem
r0 = 0
exit

# case: key_in_ringbuf_record
# map: ringbuf max=4096
# map: hash key=4 value=8 max=4
# expect: accept
r1 = map_fd[0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r6 = r0
*(u32 *)(r0 +0) = 0
r2 = r0
r1 = map_fd[1]
call bpf_map_lookup_elem
r1 = r6
r2 = 0
call bpf_ringbuf_discard
out:
r0 = 0
exit

# case: trace_printk_from_stack
# expect: accept
r1 = 0x0a7825
*(u64 *)(r10 -8) = r1
r1 = r10
r1 += -8
r2 = 8
r3 = 1
call bpf_trace_printk
r0 = 0
exit
