// cache_ext MRU (the shipped cache_ext_mru): one list, the most recently used folio at the
// head. A new folio goes to the head and an accessed one is moved there; eviction walks from
// the head and proposes the most recently used folios first, which keeps the older part of a
// loop or scan larger than the cache (file search) resident. Folios that cannot be evicted now
// (not uptodate, not on an LRU, dirty, under writeback) are passed over, at most MAX_SKIP of
// them per call; after that the walk stops and the kernel's LRU evicts what is missing. The
// kernel takes an evicted folio off the list, so folio_evicted has nothing to do.
//
// Differs from the shipped policy: no directory watch list (every file folio of the cgroup is
// the policy's); the shipped callback passes over non-uptodate / non-LRU folios among the first
// 200 visited and proposes every other one, this one passes over up to 200 folios that
// folio_evictable_now() rejects (dirty and writeback ones too) and never proposes one; and it
// proposes as many folios as were requested, not always 32. The native twin is "mru"
// (src/mm/native_policy.cpp).
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

#define MAX_SKIP 200

static u64 mru_list;
static u64 to_propose;  /* left in this batch */
static u64 skipped;     /* passed over in this batch */

static int mru_iterate(int idx, struct cache_ext_list_node *node)
{
	if (!to_propose)
		return CACHE_EXT_STOP_ITER;
	if (!folio_evictable_now(node->folio)) {
		if (skipped >= MAX_SKIP)
			return CACHE_EXT_STOP_ITER;
		skipped++;
		return CACHE_EXT_CONTINUE_ITER;
	}
	to_propose--;
	return CACHE_EXT_EVICT_NODE;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(mru_init, struct mem_cgroup *memcg)
{
	mru_list = bpf_cache_ext_ds_registry_new_list(memcg);
	return mru_list ? 0 : -1;
}

void BPF_STRUCT_OPS(mru_folio_added, struct folio *folio)
{
	bpf_cache_ext_list_add(mru_list, folio);
}

void BPF_STRUCT_OPS(mru_folio_accessed, struct folio *folio)
{
	bpf_cache_ext_list_move(mru_list, folio, false);
}

void BPF_STRUCT_OPS(mru_evict_folios, struct cache_ext_eviction_ctx *eviction_ctx, struct mem_cgroup *memcg)
{
	to_propose = eviction_ctx->request_nr_folios_to_evict;
	skipped = 0;
	bpf_cache_ext_list_iterate(memcg, mru_list, mru_iterate, eviction_ctx);
}

SEC(".struct_ops.link")
struct cache_ext_ops mru_ops = {
	.init = (void *)mru_init,
	.evict_folios = (void *)mru_evict_folios,
	.folio_added = (void *)mru_folio_added,
	.folio_accessed = (void *)mru_folio_accessed,
};
