# for_each_map_elem over the array map
r1 = map_idx[0]
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_for_each_map_elem#164
exit
cb:
r0 = *(u64 *)(r3 +0)
r0 += 1
*(u64 *)(r3 +0) = r0
r0 = 0
exit
