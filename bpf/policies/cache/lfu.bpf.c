// cache_ext sampled LFU (the shipped cache_ext_sampling; the paper's Fig. 4): a frequency per
// folio in a hash map keyed by the folio's address, 1 when the folio is added, incremented
// atomically on each access, deleted when the folio leaves the page cache. Folios are kept on
// one list, new ones at the tail. Eviction is batch scoring: bpf_cache_ext_list_sample() takes
// request x 20 folios from the head, proposes the lowest-frequency folio of each run of 20 and
// puts all of them back at the tail. Folios that cannot be evicted now (folio_evictable_now())
// score INT64_MAX so they are not chosen while a run has another. With fewer than request x 20
// folios on the list the kfunc proposes nothing and the kernel's LRU evicts.
//
// Differs from the shipped policy: no directory watch list and no LevelDB index-block bonus;
// the frequency lives in a BPF hash map (as the paper describes) rather than in the list
// node's metadata. The access that inserts a folio counts too, as in the shipped policy (it
// adds 1 to every folio read, so it changes no choice between them). max_entries covers the
// default 1 GiB model; userspace may raise it before load (bpf_map__set_max_entries). A folio
// the map could not hold scores 0 (evicted first). The native twin is "lfu_sampled"
// (src/mm/native_policy.cpp).
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

#define SAMPLE_SIZE 20
#define SCORE_MAX 0x7fffffffffffffffLL  /* INT64_MAX */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u64);    /* struct folio * */
	__type(value, u64);  /* accesses + 1 */
	__uint(max_entries, 1 << 18);
} folio_freq SEC(".maps");

static u64 sampling_list;

static s64 lfu_score(struct cache_ext_list_node *node)
{
	u64 key = (u64)node->folio;
	u64 *freq;

	if (!folio_evictable_now(node->folio))
		return SCORE_MAX;
	freq = bpf_map_lookup_elem(&folio_freq, &key);
	if (!freq)
		return 0;
	return (s64)*freq;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(lfu_init, struct mem_cgroup *memcg)
{
	sampling_list = bpf_cache_ext_ds_registry_new_list(memcg);
	return sampling_list ? 0 : -1;
}

void BPF_STRUCT_OPS(lfu_folio_added, struct folio *folio)
{
	u64 key = (u64)folio;
	u64 one = 1;

	if (bpf_cache_ext_list_add_tail(sampling_list, folio))
		return;
	bpf_map_update_elem(&folio_freq, &key, &one, BPF_ANY);
}

void BPF_STRUCT_OPS(lfu_folio_accessed, struct folio *folio)
{
	u64 key = (u64)folio;
	u64 *freq = bpf_map_lookup_elem(&folio_freq, &key);

	if (freq)
		__sync_fetch_and_add(freq, 1);
}

void BPF_STRUCT_OPS(lfu_folio_evicted, struct folio *folio)
{
	u64 key = (u64)folio;

	bpf_map_delete_elem(&folio_freq, &key);
}

void BPF_STRUCT_OPS(lfu_evict_folios, struct cache_ext_eviction_ctx *eviction_ctx, struct mem_cgroup *memcg)
{
	struct sampling_options opts = {
		.sample_size = SAMPLE_SIZE,
	};

	bpf_cache_ext_list_sample(memcg, sampling_list, lfu_score, &opts, eviction_ctx);
}

SEC(".struct_ops.link")
struct cache_ext_ops lfu_ops = {
	.init = (void *)lfu_init,
	.evict_folios = (void *)lfu_evict_folios,
	.folio_added = (void *)lfu_folio_added,
	.folio_accessed = (void *)lfu_folio_accessed,
	.folio_evicted = (void *)lfu_folio_evicted,
};
