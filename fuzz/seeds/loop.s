# bpf_loop with a callback that writes through its context
*(u64 *)(r10 -8) = 0
r1 = 4
r2 = func[cb]
r3 = r10
r3 += -8
r4 = 0
call bpf_loop#181
r0 = *(u64 *)(r10 -8)
exit
cb:
r3 = *(u64 *)(r2 +0)
r3 += r1
*(u64 *)(r2 +0) = r3
r0 = 0
exit
