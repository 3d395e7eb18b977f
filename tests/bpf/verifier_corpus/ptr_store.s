# Privileged pointer leaks and non-pointers used as pointers (is_pointer_value with
# allow_ptr_leaks, check_stack_write, check_ptr_to_map_access): root may store a pointer into
# a map value, the stack, the context or helper memory and return one; a scalar, a map
# pointer or an unchecked lookup result cannot be dereferenced.

# case: ctx_pointer_into_map_value
# map: array key=4 value=8 max=1
# expect: accept
r6 = r1
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
*(u64 *)(r0 +0) = r6
out:
r0 = 0
exit

# case: stack_pointer_into_map_value
# map: hash key=4 value=16 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
*(u64 *)(r0 +8) = r10
out:
r0 = 0
exit

# case: map_value_pointer_into_itself_narrow
# A narrow store of a pointer into a map value is accepted for root too.
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
*(u32 *)(r0 +4) = r0
out:
r0 = 0
exit

# case: map_pointer_into_map_value
# map: array key=4 value=8 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r1 = map_fd[0]
*(u64 *)(r0 +0) = r1
out:
r0 = 0
exit

# case: atomic_add_pointer_into_map_value
# map: array key=4 value=8 max=1
# expect: reject R10 leaks addr into mem
# differs: mmbpf refuses pointers as atomic operands; the kernel lets root add one
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
lock *(u64 *)(r0 +0) += r10
out:
r0 = 0
exit

# case: pointer_into_stack
# expect: accept
*(u64 *)(r10 -8) = r1
*(u64 *)(r10 -16) = r10
r0 = 0
exit

# case: pointer_into_stack_narrow
# expect: reject invalid size of register spill
*(u16 *)(r10 -8) = r10
r0 = 0
exit

# case: pointer_into_ctx
# expect: accept
*(u64 *)(r1 +0) = r1
*(u64 *)(r1 +8) = r10
r0 = 0
exit

# case: pointer_into_ctx_narrow
# expect: accept
*(u32 *)(r1 +4) = r10
r0 = 0
exit

# case: pointer_into_ringbuf_record
# map: ringbuf max=4096
# expect: accept
r1 = map_fd[0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
*(u64 *)(r0 +8) = r10
r1 = r0
r2 = 0
call bpf_ringbuf_submit
out:
r0 = 0
exit

# case: return_ctx_pointer
# expect: accept
r0 = r1
exit

# case: return_stack_pointer
# expect: accept
r0 = r10
r0 += -8
exit

# case: return_map_pointer
# map: array key=4 value=8 max=1
# expect: accept
r0 = map_fd[0]
exit

# case: scalar_as_pointer_load
# expect: reject R1 invalid mem access 'scalar'
r1 = 0
r0 = *(u64 *)(r1 +0)
exit

# case: scalar_as_pointer_store
# expect: reject R2 invalid mem access 'scalar'
r2 = 42
r0 = 0
*(u64 *)(r2 +0) = r0
exit

# case: filled_scalar_as_pointer
# expect: reject R3 invalid mem access 'scalar'
r2 = 4096
*(u64 *)(r10 -8) = r2
r3 = *(u64 *)(r10 -8)
*(u8 *)(r3 +0) = 1
r0 = 0
exit

# case: pointer_made_scalar_by_alu32
# expect: reject R2 invalid mem access 'scalar'
w2 = w1
r0 = *(u64 *)(r2 +0)
exit

# case: write_through_map_pointer
# map: array key=4 value=8 max=1
# expect: reject only read from bpf_array is supported
r1 = map_fd[0]
r0 = 0
*(u64 *)(r1 +0) = r0
exit

# case: write_through_hash_map_pointer
# map: hash key=4 value=8 max=1
# expect: reject only read from bpf_htab is supported
r1 = map_fd[0]
*(u32 *)(r1 +8) = 1
r0 = 0
exit

# case: negative_through_map_pointer
# map: array key=4 value=8 max=1
# expect: reject R1 is bpf_array invalid negative access: off=-8
r1 = map_fd[0]
r0 = *(u64 *)(r1 -8)
exit

# case: read_through_map_pointer
# map: array key=4 value=8 max=1
# expect: reject R1 invalid mem access 'map_ptr'
# differs: the kernel reads struct bpf_array through its BTF; mmbpf does not describe it
r1 = map_fd[0]
r0 = *(u32 *)(r1 +0)
exit

# case: unchecked_lookup_as_pointer
# map: hash key=4 value=8 max=1
# expect: reject R0 invalid mem access 'map_value_or_null'
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map_fd[0]
call bpf_map_lookup_elem
*(u64 *)(r0 +0) = r10
r0 = 0
exit

# case: uninit_register_as_pointer
# expect: reject R3 !read_ok
r0 = *(u64 *)(r3 +0)
exit
