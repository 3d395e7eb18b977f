// cache_ext GET-SCAN (the shipped cache_ext_get_scan; the paper's application-informed policy,
// §5.4): userspace names the application's SCAN threads in the hash map "scan_pids" (u32 pid ->
// u8); a folio inserted by one of them (bpf_get_current_pid_tgid(), low 32 bits: the thread
// id) goes to the SCAN list, any other to the GET list. Each list is an approximate LFU: an
// access count per folio in a hash map keyed by folio pointer (1 at insertion, +1 per access)
// and eviction by bpf_cache_ext_list_sample, the lowest count of each run of SAMPLE_SIZE
// folios from the head. Eviction takes from the SCAN list first and from the GET list only when
// the SCAN list has nothing to give, so a rare scan of a large file cycles through its own
// pages instead of pushing the GET working set out.
//
// Differs from the shipped policy: the shipped one samples the SCAN list only while it holds
// at least 1000 x sample_size folios (else it samples GET), and adds 100000 to the score of a
// file's last page (LevelDB's index block); here the SCAN list always goes first, and when a
// list holds fewer folios than one sample needs (request x SAMPLE_SIZE, where list_sample
// fails) its folios are proposed from the head in order. Candidates that cannot be evicted now
// (not uptodate or off the LRU, dirty, under writeback, locked, pinned) score S64_MAX and are
// not proposed. No directory watch list (every file folio of the cgroup is the policy's); the
// list sizes are per link (in effective mode over several memcgs they are totals). As in the
// shipped policy, a folio stays on the list it was inserted on whoever reads it later.
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

#define SAMPLE_SIZE 5  /* the shipped policy's sampling_rate */
#define S64_MAX 0x7fffffffffffffffLL

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);  /* pid (thread id) */
	__type(value, u8);
	__uint(max_entries, 1024);
} scan_pids SEC(".maps");

struct gs_folio {
	u64 accesses;
	u8 scan;  /* on the SCAN list */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u64);  /* struct folio * */
	__type(value, struct gs_folio);
	__uint(max_entries, 1 << 20);
} folio_meta SEC(".maps");

static u64 get_list, scan_list;
static u64 get_nr, scan_nr;  /* folios on each list */
static u64 to_propose;       /* left in this batch (the in-order path) */

static __always_inline bool gs_evictable(struct folio *folio)
{
	return folio_evictable_now(folio) && !folio_test_bit(folio, PG_locked) &&
	       folio->_refcount.counter <= 1;
}

static s64 lfu_score(struct cache_ext_list_node *node)
{
	u64 key = (u64)node->folio;
	struct gs_folio *m;

	if (!gs_evictable(node->folio))
		return S64_MAX;
	m = bpf_map_lookup_elem(&folio_meta, &key);
	if (!m)
		return S64_MAX;
	return (s64)m->accesses;
}

static int in_order_cb(int idx, struct cache_ext_list_node *node)
{
	if (!to_propose)
		return CACHE_EXT_STOP_ITER;
	if (!gs_evictable(node->folio))
		return CACHE_EXT_CONTINUE_ITER;
	to_propose--;
	return CACHE_EXT_EVICT_NODE;
}

/* Proposes up to the requested number of folios of one list; how many it proposed. */
static __always_inline u64 evict_from(struct cache_ext_eviction_ctx *ctx, struct mem_cgroup *memcg,
				      u64 list, u64 nr)
{
	u64 request = ctx->request_nr_folios_to_evict;
	u64 i, kept = 0;

	ctx->nr_folios_to_evict = 0;
	if (nr >= request * SAMPLE_SIZE) {
		struct sampling_options opts = { .sample_size = SAMPLE_SIZE };

		if (bpf_cache_ext_list_sample(memcg, list, lfu_score, &opts, ctx))
			return 0;
		/* drop the runs whose best folio cannot be evicted */
		for (i = 0; i < 32; i++) {
			if (i >= ctx->nr_folios_to_evict)
				break;
			if (ctx->scores[i] == S64_MAX)
				continue;
			ctx->folios_to_evict[kept] = ctx->folios_to_evict[i];
			ctx->scores[kept] = ctx->scores[i];
			kept++;
		}
		ctx->nr_folios_to_evict = kept;
		return kept;
	}
	to_propose = request;
	bpf_cache_ext_list_iterate(memcg, list, in_order_cb, ctx);
	return ctx->nr_folios_to_evict;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(get_scan_init, struct mem_cgroup *memcg)
{
	get_list = bpf_cache_ext_ds_registry_new_list(memcg);
	scan_list = bpf_cache_ext_ds_registry_new_list(memcg);
	return get_list && scan_list ? 0 : -1;
}

void BPF_STRUCT_OPS(get_scan_folio_added, struct folio *folio)
{
	u32 pid = (u32)bpf_get_current_pid_tgid();
	struct gs_folio m = { .accesses = 1 };
	u64 key = (u64)folio;

	m.scan = bpf_map_lookup_elem(&scan_pids, &pid) != NULL;
	if (bpf_map_update_elem(&folio_meta, &key, &m, BPF_ANY))
		return;  /* no room: left to the kernel's LRU */
	if (bpf_cache_ext_list_add_tail(m.scan ? scan_list : get_list, folio)) {
		bpf_map_delete_elem(&folio_meta, &key);
		return;
	}
	if (m.scan)
		scan_nr++;
	else
		get_nr++;
}

void BPF_STRUCT_OPS(get_scan_folio_accessed, struct folio *folio)
{
	u64 key = (u64)folio;
	struct gs_folio *m = bpf_map_lookup_elem(&folio_meta, &key);

	if (m)
		m->accesses++;
}

void BPF_STRUCT_OPS(get_scan_folio_evicted, struct folio *folio)
{
	u64 key = (u64)folio;
	struct gs_folio *m = bpf_map_lookup_elem(&folio_meta, &key);

	if (!m)
		return;
	if (m->scan)
		scan_nr--;
	else
		get_nr--;
	bpf_map_delete_elem(&folio_meta, &key);
}

void BPF_STRUCT_OPS(get_scan_evict_folios, struct cache_ext_eviction_ctx *eviction_ctx,
		    struct mem_cgroup *memcg)
{
	/* SCAN folios first; the GET list only when the SCAN list gives nothing */
	if (scan_nr && evict_from(eviction_ctx, memcg, scan_list, scan_nr))
		return;
	if (get_nr)
		evict_from(eviction_ctx, memcg, get_list, get_nr);
}

SEC(".struct_ops.link")
struct cache_ext_ops get_scan_ops = {
	.init = (void *)get_scan_init,
	.evict_folios = (void *)get_scan_evict_folios,
	.folio_added = (void *)get_scan_folio_added,
	.folio_accessed = (void *)get_scan_folio_accessed,
	.folio_evicted = (void *)get_scan_folio_evicted,
};
