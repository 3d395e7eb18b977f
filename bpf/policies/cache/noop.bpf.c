// A cache_ext policy that decides nothing (the paper's overhead baseline, Table 4): it keeps
// its data structure as a real policy would (one list, new folios at the tail, accessed ones
// moved to the tail) and always defers eviction to the kernel by proposing no candidate.
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

static u64 main_list;

s32 BPF_STRUCT_OPS_SLEEPABLE(noop_init, struct mem_cgroup *memcg)
{
	main_list = bpf_cache_ext_ds_registry_new_list(memcg);
	return main_list ? 0 : -1;
}

void BPF_STRUCT_OPS(noop_folio_added, struct folio *folio)
{
	bpf_cache_ext_list_add_tail(main_list, folio);
}

void BPF_STRUCT_OPS(noop_folio_accessed, struct folio *folio)
{
	bpf_cache_ext_list_move(main_list, folio, true);
}

void BPF_STRUCT_OPS(noop_folio_evicted, struct folio *folio)
{
}

void BPF_STRUCT_OPS(noop_evict_folios, struct cache_ext_eviction_ctx *eviction_ctx, struct mem_cgroup *memcg)
{
}

SEC(".struct_ops.link")
struct cache_ext_ops noop_ops = {
	.init = (void *)noop_init,
	.evict_folios = (void *)noop_evict_folios,
	.folio_added = (void *)noop_folio_added,
	.folio_accessed = (void *)noop_folio_accessed,
	.folio_evicted = (void *)noop_folio_evicted,
};
