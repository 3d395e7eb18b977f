# bpf-to-bpf calls, stack passing, a kfunc, v4 ALU and atomics on the stack
r1 = 5
r2 = r10
r2 += -16
call f
r6 = r0
r1 = 1
r2 = 2
r3 = 3
r4 = 4
r5 = 5
call kernel-function#1
r0 += r6
exit
f:
*(u64 *)(r2 +0) = r1
r3 = 0
r1 = atomic64_fetch_add((u64 *)(r2 +0), r1)
r0 = atomic64_cmpxchg((u64 *)(r2 +0), r0, r3)
r1 s/= r3
r1 s%= r3
r1 = (s16)r1
r1 = bswap32 r1
r0 = *(s8 *)(r2 +0)
r0 += r1
exit
