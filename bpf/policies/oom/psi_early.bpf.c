// SPDX-License-Identifier: GPL-2.0
/* Early OOM on memory pressure (the BPF OOM series' progs/test_psi.c, as a policy): init creates
 * a memory "full" PSI trigger, 100 ms of stall per 1 s window, on the cgroup whose id is in the
 * map target_cgroup (key 0; fill it with --bpf-map; 0 means system-wide); when it fires,
 * handle_psi_event declares an OOM in that cgroup (bpf_out_of_memory()), so the OOM killer
 * (or the BPF OOM handler attached there) kills in it before the cgroup thrashes for long.
 * Simplified: one target; the kernel's killer picks the victim. */
#include "bpf_psi.bpf.h"

char _license[] SEC("license") = "GPL";

#define THRESHOLD_US 100000	/* 100 ms */
#define WINDOW_US 1000000	/* per 1 s */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} target_cgroup SEC(".maps");

SEC("struct_ops.s/init")
int BPF_PROG(psi_early_init, struct bpf_psi *bpf_psi)
{
	u32 k = 0;
	u64 *cgid = bpf_map_lookup_elem(&target_cgroup, &k);

	return bpf_psi_create_trigger(bpf_psi, cgid ? *cgid : 0, PSI_MEM | BPF_PSI_FULL,
				      THRESHOLD_US, WINDOW_US);
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(psi_early_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	if (t->cgroup_id)
		bpf_psi_oom_in_cgroup(t->cgroup_id);
	else
		bpf_out_of_memory(NULL, 0, BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK);
}

SEC(".struct_ops.link")
struct bpf_psi_ops psi_early = {
	.init = (void *)psi_early_init,
	.handle_psi_event = (void *)psi_early_event,
};
