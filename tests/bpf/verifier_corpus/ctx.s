# Context access of a syscall program (check_ctx_access, check_ptr_off_reg,
# syscall_prog_is_valid_access): r1 points at the program's argument buffer; any offset in
# [0, 65535) aligned to the access size may be read or written, through the unmodified
# pointer only; r1 is the only argument register initialized at entry.

# case: read_u64_at_0
# expect: accept
r0 = *(u64 *)(r1 +0)
exit

# case: read_each_size_aligned
# expect: accept
r0 = *(u8 *)(r1 +3)
r0 = *(u16 *)(r1 +6)
r0 = *(u32 *)(r1 +12)
r0 = *(u64 *)(r1 +16)
exit

# case: write_u32_aligned
# expect: accept
r0 = 0
*(u32 *)(r1 +4) = r0
exit

# case: store_imm
# expect: accept
*(u64 *)(r1 +8) = 7
r0 = 0
exit

# case: read_sign_extending
# expect: accept
r0 = *(s16 *)(r1 +2)
exit

# case: read_through_copy
# expect: accept
r6 = r1
r0 = *(u64 *)(r6 +24)
exit

# case: read_u32_misaligned
# expect: reject invalid bpf_context access off=2 size=4
r0 = *(u32 *)(r1 +2)
exit

# case: read_u64_misaligned
# expect: reject invalid bpf_context access off=4 size=8
r0 = *(u64 *)(r1 +4)
exit

# case: write_u16_misaligned
# expect: reject invalid bpf_context access off=1 size=2
r0 = 0
*(u16 *)(r1 +1) = r0
exit

# case: read_negative_offset
# expect: reject invalid bpf_context access off=-1 size=1
r0 = *(u8 *)(r1 -1)
exit

# case: read_most_negative_offset
# expect: reject invalid bpf_context access off=-32768 size=8
r0 = *(u64 *)(r1 -32768)
exit

# case: read_largest_insn_offset
# The instruction's 16-bit offset reaches 32767 only, well inside the 64K limit.
# expect: accept
r0 = *(u8 *)(r1 +32767)
exit

# case: read_u64_near_largest_offset
# expect: accept
r0 = *(u64 *)(r1 +32760)
exit

# case: read_u64_largest_misaligned
# expect: reject invalid bpf_context access off=32764 size=8
r0 = *(u64 *)(r1 +32764)
exit

# case: modified_ctx_deref
# expect: reject dereference of modified ctx ptr R1 off=8 disallowed
r1 += 8
r0 = *(u64 *)(r1 +0)
exit

# case: modified_ctx_store
# expect: reject dereference of modified ctx ptr R1 off=4 disallowed
r1 += 4
*(u32 *)(r1 +0) = 1
r0 = 0
exit

# case: modified_ctx_large
# A pointer moved past 64K is still only "modified".
# expect: reject dereference of modified ctx ptr R1 off=65536 disallowed
r1 += 65536
r0 = *(u8 *)(r1 +0)
exit

# case: negative_ctx_pointer
# expect: reject negative offset ctx ptr R1 off=-8 disallowed
r1 += -8
r0 = *(u64 *)(r1 +8)
exit

# case: modified_then_restored
# expect: accept
r1 += 16
r1 += -16
r0 = *(u64 *)(r1 +0)
exit

# case: variable_ctx_offset
# expect: reject variable ctx access var_off=(0x0; 0x38) disallowed
r2 = *(u64 *)(r1 +0)
r2 &= 0x38
r1 += r2
r0 = *(u64 *)(r1 +0)
exit

# case: atomic_into_ctx
# expect: reject BPF_ATOMIC stores into R1 ctx is not allowed
r2 = 1
lock *(u64 *)(r1 +0) += r2
r0 = 0
exit

# case: r2_not_initialized
# expect: reject R2 !read_ok
r0 = r2
exit

# case: r2_deref_not_initialized
# expect: reject R2 !read_ok
r0 = *(u64 *)(r2 +0)
exit

# case: r5_store_not_initialized
# expect: reject R5 !read_ok
*(u64 *)(r1 +0) = r5
r0 = 0
exit
