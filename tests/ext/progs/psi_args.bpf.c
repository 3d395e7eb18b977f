/* For tests/ext/bpf_psi_test.cpp: init tries bpf_psi_create_trigger with the arguments of
 * each case below and records its result (results[case]); it creates one valid trigger, IO
 * "some" on the cgroup in cgid[0], and returns cgid[1] (non-zero refuses the attach, after the
 * trigger was created). Events and online callbacks are counted (results[R_EVENTS], ...),
 * the last event's cgroup id and state recorded. */
#include "bpf_psi.bpf.h"

char _license[] SEC("license") = "GPL";

enum { R_OK, R_WIN_SMALL, R_WIN_BIG, R_THR_ZERO, R_THR_OVER, R_BAD_RES, R_IRQ_SOME,
       R_NO_CGROUP, R_EVENTS, R_EVENT_CGID, R_EVENT_STATE, R_ONLINE, R_ONLINE_CGID, R_OFFLINE,
       R_OFFLINE_CGID, R_OOM_BAD_FLAGS, R_OOM_BAD_ORDER, R_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u64);
} cgid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, R_MAX);
	__type(key, u32);
	__type(value, s64);
} results SEC(".maps");

static __always_inline void put(u32 what, s64 v)
{
	s64 *r = bpf_map_lookup_elem(&results, &what);

	if (r)
		*r = v;
}

static __always_inline void inc(u32 what)
{
	s64 *r = bpf_map_lookup_elem(&results, &what);

	if (r)
		*r += 1;
}

static __always_inline u64 arg(u32 k)
{
	u64 *v = bpf_map_lookup_elem(&cgid, &k);

	return v ? *v : 0;
}

SEC("struct_ops.s/init")
int BPF_PROG(args_init, struct bpf_psi *bpf_psi)
{
	u64 cg = arg(0);

	put(R_WIN_SMALL, bpf_psi_create_trigger(bpf_psi, cg, PSI_MEM, 1000, 499999));
	put(R_WIN_BIG, bpf_psi_create_trigger(bpf_psi, cg, PSI_MEM, 1000, 10000001));
	put(R_THR_ZERO, bpf_psi_create_trigger(bpf_psi, cg, PSI_MEM, 0, 1000000));
	put(R_THR_OVER, bpf_psi_create_trigger(bpf_psi, cg, PSI_MEM, 1000001, 1000000));
	put(R_BAD_RES, bpf_psi_create_trigger(bpf_psi, cg, 7 | BPF_PSI_FULL, 1000, 1000000));
	put(R_IRQ_SOME, bpf_psi_create_trigger(bpf_psi, cg, PSI_IRQ, 1000, 1000000));
	put(R_NO_CGROUP, bpf_psi_create_trigger(bpf_psi, 12345, PSI_MEM, 1000, 1000000));
	put(R_OK, bpf_psi_create_trigger(bpf_psi, cg, PSI_IO, 50000, 500000));
	/* a PSI handler may declare an OOM; these are refused before any OOM */
	put(R_OOM_BAD_FLAGS, bpf_out_of_memory(0, 0, 2));
	put(R_OOM_BAD_ORDER, bpf_out_of_memory(0, 11, 0));
	return (int)arg(1);
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(args_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	inc(R_EVENTS);
	put(R_EVENT_CGID, t->cgroup_id);
	put(R_EVENT_STATE, t->state);
}

SEC("struct_ops.s/handle_cgroup_online")
void BPF_PROG(args_online, struct bpf_psi *bpf_psi, u64 cgroup_id)
{
	inc(R_ONLINE);
	put(R_ONLINE_CGID, cgroup_id);
}


SEC("struct_ops.s/handle_cgroup_offline")
void BPF_PROG(args_offline, struct bpf_psi *bpf_psi, u64 cgroup_id)
{
	inc(R_OFFLINE);
	put(R_OFFLINE_CGID, cgroup_id);
}

SEC(".struct_ops.link")
struct bpf_psi_ops psi_args = {
	.init = (void *)args_init,
	.handle_psi_event = (void *)args_event,
	.handle_cgroup_online = (void *)args_online,
	.handle_cgroup_offline = (void *)args_offline,
};
