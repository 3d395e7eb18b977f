# hash update/lookup/delete, array direct value, ringbuf reserve/submit
*(u32 *)(r10 -4) = 3
*(u64 *)(r10 -16) = 7
r1 = map_idx[1]
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r4 = 0
call bpf_map_update_elem#2
r1 = map_idx[1]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0x0 goto pc+2
r1 = *(u64 *)(r0 +0)
*(u64 *)(r0 +0) = r1
r6 = map_idx_value[0]+8
lock *(u64 *)(r6 +0) += r1
r1 = map_idx[2]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto pc+4
*(u64 *)(r0 +8) = 1
r1 = r0
r2 = 0
call bpf_ringbuf_submit#132
r0 = 0
exit
