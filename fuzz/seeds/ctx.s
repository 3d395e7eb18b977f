# reads and writes of the 64-byte context, probe_read_kernel, printk
r6 = r1
r0 = *(u32 *)(r6 +60)
*(u16 *)(r6 +2) = r0
r1 = r10
r1 += -8
r2 = 8
r3 = r6
call bpf_probe_read_kernel#113
*(u64 *)(r10 -16) = 25637
r1 = r10
r1 += -16
r2 = 3
r3 = 7
call bpf_trace_printk#6
exit
