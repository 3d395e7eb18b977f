// A policy whose init fails after creating a list: nothing may stay attached.
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

static u64 l;

s32 BPF_STRUCT_OPS_SLEEPABLE(failing_init, struct mem_cgroup *memcg)
{
	l = bpf_cache_ext_ds_registry_new_list(memcg);
	return -12;
}

void BPF_STRUCT_OPS(failing_folio_added, struct folio *folio)
{
	bpf_cache_ext_list_add_tail(l, folio);
}

SEC(".struct_ops.link")
struct cache_ext_ops failing_ops = {
	.init = (void *)failing_init,
	.folio_added = (void *)failing_folio_added,
};
