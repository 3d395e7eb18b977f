// cache_ext FIFO (the shipped cache_ext_fifo): one list in insertion order; eviction walks it
// from the head (the oldest) and proposes folios that can be evicted now, passing over those
// that are not uptodate, not on an LRU, dirty or under writeback. Accesses are ignored. The
// kernel takes an evicted folio off the list, so folio_evicted has nothing to do.
//
// Differs from the shipped policy: no directory watch list (every file folio of the cgroup is
// the policy's), and it proposes as many folios as were requested, not always 32 (the kernel's
// iterate fills the whole array; a batch is usually 32 anyway).
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

static u64 main_list;
static u64 to_propose;  /* left in this batch */

static int fifo_iterate(int idx, struct cache_ext_list_node *node)
{
	if (!to_propose)
		return CACHE_EXT_STOP_ITER;
	if (!folio_evictable_now(node->folio))
		return CACHE_EXT_CONTINUE_ITER;
	to_propose--;
	return CACHE_EXT_EVICT_NODE;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(fifo_init, struct mem_cgroup *memcg)
{
	main_list = bpf_cache_ext_ds_registry_new_list(memcg);
	return main_list ? 0 : -1;
}

void BPF_STRUCT_OPS(fifo_folio_added, struct folio *folio)
{
	bpf_cache_ext_list_add_tail(main_list, folio);
}

void BPF_STRUCT_OPS(fifo_evict_folios, struct cache_ext_eviction_ctx *eviction_ctx, struct mem_cgroup *memcg)
{
	to_propose = eviction_ctx->request_nr_folios_to_evict;
	bpf_cache_ext_list_iterate(memcg, main_list, fifo_iterate, eviction_ctx);
}

SEC(".struct_ops.link")
struct cache_ext_ops fifo_ops = {
	.init = (void *)fifo_init,
	.evict_folios = (void *)fifo_evict_folios,
	.folio_added = (void *)fifo_folio_added,
};
