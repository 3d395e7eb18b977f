// Passes a made-up pointer where a kfunc expects a folio: the verifier must refuse to load it
// (a program cannot hand the registry something that is not a kernel object of that type).
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

static u64 l;

s32 BPF_STRUCT_OPS_SLEEPABLE(bad_init, struct mem_cgroup *memcg)
{
	l = bpf_cache_ext_ds_registry_new_list(memcg);
	return 0;
}

void BPF_STRUCT_OPS(bad_folio_added, struct folio *folio)
{
	bpf_cache_ext_list_add(l, (struct folio *)0x1000);
}

SEC(".struct_ops.link")
struct cache_ext_ops bad_ops = {
	.init = (void *)bad_init,
	.folio_added = (void *)bad_folio_added,
};
