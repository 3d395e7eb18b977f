// cache_ext S3-FIFO (the shipped cache_ext_s3fifo; S3-FIFO, SOSP '23): a small FIFO (10 % of
// the cache) and a main FIFO (90 %), a 2-bit frequency per folio in a hash map keyed by folio
// pointer, and a ghost FIFO of the identities {folio->mapping, folio->index} of folios evicted
// from small, kept in a BPF_MAP_TYPE_LRU_HASH that the loader sizes to main's capacity
// (bpf_map__set_max_entries before load; the ghost is only ever inserted into and deleted from,
// so its LRU order is its insertion order: a FIFO). New folios go to small's tail, or to
// main's tail when the ghost remembers them (the hit removes the ghost entry). Eviction walks
// the lists from the head (the oldest) with bpf_cache_ext_list_iterate_extended:
//   - small, while main holds no more than its share: a folio with freq >= 2 moves to main's
//     tail (CONTINUE, continue_list = main) with its counter reset; else it is proposed;
//   - main, while it holds more than its share or small is empty: a folio with freq > 0 goes
//     back to main's tail with freq - 1 (CONTINUE, continue_list = self); else it is proposed.
// The callback re-decides which list to take from before every folio, so one batch switches
// between the lists exactly where the algorithm does (it stops the walk, and evict_folios
// walks the other list). Proposed folios wait on a third, "pending" list (evict_list); the
// kernel takes the ones it evicts off it, and folio_evicted records a folio proposed from
// small in the ghost. Folios the kernel did not evict go back to their list's tail at the next
// evict_folios.
//
// The cache size the split is taken of: min(memcg->memory.max, the most folios this policy has
// held at once). The first eviction happens when the cgroup is full, so in practice it is the
// number of folios the cgroup holds when full (memory.max counts anonymous memory too, and the
// root's is unlimited); it is recomputed at every evict_folios. The native twin
// (mm/native_policy.cpp, "s3fifo") takes min(page frames, memory.max): the same number once a
// cgroup has filled up.
//
// Differs from the shipped policy, to be the textbook algorithm the native twin implements
// (libCacheSim's defaults): the shipped one chooses between its lists once per batch with its
// own thresholds (small >= cache/15 or main <= 2 x small), scores main's folios by subtracting
// from their frequency during up to four iterate passes, does not reset the counter of a folio
// promoted to main, moves proposed folios to their list's tail, records every evicted folio in
// the ghost (main's and truncated ones too, keyed by mapping->host), counts the access that
// inserts a folio, and has a directory watch list. Here: the first folio_accessed after
// folio_added is the insertion itself and is not counted; every file folio of the cgroup is the
// policy's; the list sizes and the peak are per link (one cgroup's: in effective mode over
// several memcgs they are totals, unlike the native twin's per-memcg state); a folio that cannot
// be evicted now (not uptodate or off the LRU, locked, dirty, under writeback, pinned) is
// rotated to its list's tail, as the twin does; it proposes exactly request_nr_folios_to_evict
// folios.
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

enum s3_queue { Q_SMALL, Q_MAIN, Q_PENDING_SMALL, Q_PENDING_MAIN };

struct s3_folio {
	u8 freq;   /* 0..3 */
	u8 queue;  /* enum s3_queue */
	u8 fresh;  /* no access counted since folio_added */
};

struct ghost_key {
	u64 mapping;  /* folio->mapping */
	u64 index;    /* folio->index */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u64);  /* struct folio * */
	__type(value, struct s3_folio);
	__uint(max_entries, 1 << 20);
} folio_meta SEC(".maps");

/* Sized by the loader to main's capacity (90 % of the cache); this default fits a 1 GiB cache. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct ghost_key);
	__type(value, u8);
	__uint(max_entries, 235930);
} ghost SEC(".maps");

static u64 small_list, main_list, pending_list;
static u64 small_nr, main_nr, pending_nr;  /* folios on each list */
static u64 held, peak_held;                /* folios the policy holds, and the most it has */
static u64 main_cap;                       /* main's share of the cache, this batch */
static u64 to_propose;                     /* left in this batch */
static u64 visited;                        /* folios a walk acted on */

#define MAX_WALKS 256  /* iterate calls per batch (each visits at most 4096 nodes) */

static __always_inline struct s3_folio *meta_of(struct folio *folio)
{
	u64 key = (u64)folio;

	return bpf_map_lookup_elem(&folio_meta, &key);
}

/* Whether the kernel would evict the folio now: folio_evictable_now(), and not locked or
 * pinned (the model refuses those candidates as folio_ref_freeze() would fail). */
static __always_inline bool s3_evictable(struct folio *folio)
{
	return folio_evictable_now(folio) && !folio_test_bit(folio, PG_locked) &&
	       folio->_refcount.counter <= 1;
}

/* S3-FIFO's choice before each step: main when it holds more than its share or small is empty. */
static __always_inline bool take_from_main(void)
{
	return main_nr > main_cap || !small_nr;
}

static int small_cb(int idx, struct cache_ext_list_node *node)
{
	struct folio *folio = node->folio;
	struct s3_folio *m;

	if (!to_propose || take_from_main())
		return CACHE_EXT_STOP_ITER;
	m = meta_of(folio);
	if (!m)
		return CACHE_EXT_STOP_ITER;  /* not the policy's: cannot happen */
	visited++;
	if (m->freq >= 2) {  /* promoted: the walk moves it to main's tail */
		m->freq = 0;
		m->queue = Q_MAIN;
		small_nr--;
		main_nr++;
		return CACHE_EXT_CONTINUE_ITER;
	}
	if (!s3_evictable(folio)) {
		/* keep it: back to small's tail (CONTINUE would move it to main) */
		bpf_cache_ext_list_move(small_list, folio, true);
		return CACHE_EXT_STOP_ITER;
	}
	m->queue = Q_PENDING_SMALL;
	small_nr--;
	pending_nr++;
	to_propose--;
	return CACHE_EXT_EVICT_NODE;
}

static int main_cb(int idx, struct cache_ext_list_node *node)
{
	struct folio *folio = node->folio;
	struct s3_folio *m;

	if (!to_propose || !take_from_main())
		return CACHE_EXT_STOP_ITER;
	m = meta_of(folio);
	if (!m)
		return CACHE_EXT_STOP_ITER;
	visited++;
	if (m->freq) {  /* reinserted at main's tail, one access forgotten */
		m->freq--;
		return CACHE_EXT_CONTINUE_ITER;
	}
	if (!s3_evictable(folio))
		return CACHE_EXT_CONTINUE_ITER;  /* rotated to main's tail */
	m->queue = Q_PENDING_MAIN;
	main_nr--;
	pending_nr++;
	to_propose--;
	return CACHE_EXT_EVICT_NODE;
}

/* A candidate of an earlier batch the kernel kept: back to the tail of its list. */
static int restore_cb(int idx, struct cache_ext_list_node *node)
{
	struct folio *folio = node->folio;
	struct s3_folio *m = meta_of(folio);

	if (!m)
		return CACHE_EXT_CONTINUE_ITER;
	pending_nr--;
	if (m->queue == Q_PENDING_SMALL) {
		m->queue = Q_SMALL;
		small_nr++;
		bpf_cache_ext_list_move(small_list, folio, true);
	} else {
		m->queue = Q_MAIN;
		main_nr++;
		bpf_cache_ext_list_move(main_list, folio, true);
	}
	return CACHE_EXT_CONTINUE_ITER;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(s3fifo_init, struct mem_cgroup *memcg)
{
	small_list = bpf_cache_ext_ds_registry_new_list(memcg);
	main_list = bpf_cache_ext_ds_registry_new_list(memcg);
	pending_list = bpf_cache_ext_ds_registry_new_list(memcg);
	return small_list && main_list && pending_list ? 0 : -1;
}

void BPF_STRUCT_OPS(s3fifo_folio_added, struct folio *folio)
{
	struct ghost_key g = { .mapping = (u64)folio->mapping, .index = folio->index };
	struct s3_folio m = { .freq = 0, .queue = Q_SMALL, .fresh = 1 };
	u64 key = (u64)folio;

	/* remembered by the ghost: straight to main (the hit forgets the ghost entry) */
	if (bpf_map_delete_elem(&ghost, &g) == 0)
		m.queue = Q_MAIN;
	if (bpf_map_update_elem(&folio_meta, &key, &m, BPF_ANY))
		return;  /* no room: left to the kernel's LRU */
	if (bpf_cache_ext_list_add_tail(m.queue == Q_MAIN ? main_list : small_list, folio)) {
		bpf_map_delete_elem(&folio_meta, &key);
		return;
	}
	if (m.queue == Q_MAIN)
		main_nr++;
	else
		small_nr++;
	if (++held > peak_held)
		peak_held = held;
}

void BPF_STRUCT_OPS(s3fifo_folio_accessed, struct folio *folio)
{
	struct s3_folio *m = meta_of(folio);

	if (!m || (m->queue != Q_SMALL && m->queue != Q_MAIN))
		return;
	if (m->fresh) {  /* the read that inserted it */
		m->fresh = 0;
		return;
	}
	if (m->freq < 3)
		m->freq++;
}

void BPF_STRUCT_OPS(s3fifo_folio_evicted, struct folio *folio)
{
	struct s3_folio *m = meta_of(folio);
	u64 key = (u64)folio;
	u8 one = 1;

	if (!m)
		return;
	switch (m->queue) {
	case Q_SMALL:
		small_nr--;
		break;
	case Q_MAIN:
		main_nr--;
		break;
	case Q_PENDING_SMALL: {
		/* evicted from small by this policy (not truncated): remembered */
		struct ghost_key g = { .mapping = (u64)folio->mapping, .index = folio->index };

		bpf_map_update_elem(&ghost, &g, &one, BPF_ANY);
		pending_nr--;
		break;
	}
	default:
		pending_nr--;
		break;
	}
	held--;
	bpf_map_delete_elem(&folio_meta, &key);
}

void BPF_STRUCT_OPS(s3fifo_evict_folios, struct cache_ext_eviction_ctx *eviction_ctx,
		    struct mem_cgroup *memcg)
{
	u64 cap = peak_held;
	int i;

	if (pending_nr)
		bpf_cache_ext_list_iterate(memcg, pending_list, restore_cb, eviction_ctx);

	if (memcg->memory.max < cap)
		cap = memcg->memory.max;
	if (!cap)
		cap = 1;
	main_cap = cap - cap / 10;  /* small: 10 % */
	to_propose = eviction_ctx->request_nr_folios_to_evict;

	for (i = 0; i < MAX_WALKS && to_propose && (small_nr || main_nr); i++) {
		struct cache_ext_iterate_opts opts = {
			.evict_list = pending_list,
			.evict_mode = CACHE_EXT_ITERATE_TAIL,
			.continue_mode = CACHE_EXT_ITERATE_TAIL,
		};
		long r;

		visited = 0;
		if (take_from_main()) {
			opts.continue_list = CACHE_EXT_ITERATE_SELF;
			r = bpf_cache_ext_list_iterate_extended(memcg, main_list, main_cb, &opts,
								eviction_ctx);
		} else {
			opts.continue_list = main_list;
			r = bpf_cache_ext_list_iterate_extended(memcg, small_list, small_cb, &opts,
								eviction_ctx);
		}
		if (r < 0)
			break;
		if (!visited)  /* nothing of this memcg on the list */
			break;
	}
}

SEC(".struct_ops.link")
struct cache_ext_ops s3fifo_ops = {
	.init = (void *)s3fifo_init,
	.evict_folios = (void *)s3fifo_evict_folios,
	.folio_added = (void *)s3fifo_folio_added,
	.folio_accessed = (void *)s3fifo_folio_accessed,
	.folio_evicted = (void *)s3fifo_folio_evicted,
};
