// Creates a list from folio_added, which is not sleepable: the loader must refuse it (the
// registry's only way in is init).
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

static u64 l;

void BPF_STRUCT_OPS(late_folio_added, struct folio *folio)
{
	if (!l)
		l = bpf_cache_ext_ds_registry_new_list((struct mem_cgroup *)folio->memcg_data);
}

SEC(".struct_ops.link")
struct cache_ext_ops late_ops = {
	.folio_added = (void *)late_folio_added,
};
