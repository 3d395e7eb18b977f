// A hostile page-cache policy: evict_folios proposes what `mode` says, never a sound batch.
// The model must refuse what is not a valid folio of the memcg being shrunk, never lose a
// dirty page, and keep the cgroup within its limit through the kernel's LRU.
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

enum {
	GARBAGE = 0,       /* pointers that are not folios */
	OTHER_CGROUP = 1,  /* folios charged to another memcg */
	DUPLICATE = 2,     /* the same folio 32 times */
	TOO_MANY = 3,      /* nr_folios_to_evict = 1000 */
	NOTHING = 4,       /* no candidate at all */
	DIRTY = 5,         /* dirty folios only */
};
const volatile u32 mode = GARBAGE;

#define RING 256
static struct folio *ring[RING];  /* folios seen added, most recent at pos - 1 */
static u32 pos;
static u64 junk;

void BPF_STRUCT_OPS(hostile_folio_added, struct folio *folio)
{
	ring[pos % RING] = folio;
	pos++;
}

void BPF_STRUCT_OPS(hostile_evict_folios, struct cache_ext_eviction_ctx *eviction_ctx,
		    struct mem_cgroup *memcg)
{
	u32 n = 0;

	if (mode == NOTHING)
		return;
	if (mode == TOO_MANY) {
		for (u32 i = 0; i < 32 && i < RING; i++)
			eviction_ctx->folios_to_evict[i] = ring[i];
		eviction_ctx->nr_folios_to_evict = 1000;
		return;
	}
	if (mode == GARBAGE) {
		struct folio *f = ring[(pos - 1) % RING];

		eviction_ctx->folios_to_evict[n++] = (struct folio *)0x1000;
		eviction_ctx->folios_to_evict[n++] = (struct folio *)((u64)f + 8);  /* inside a folio */
		eviction_ctx->folios_to_evict[n++] = (struct folio *)&junk;
		eviction_ctx->folios_to_evict[n++] = 0;
		eviction_ctx->folios_to_evict[n++] = (struct folio *)((u64)f - 64 * 1000000000ULL);
		eviction_ctx->nr_folios_to_evict = n;
		return;
	}
	if (mode == DUPLICATE) {
		struct folio *f = ring[(pos - 200) % RING];

		for (u32 i = 0; i < 32; i++)
			eviction_ctx->folios_to_evict[i] = f;
		eviction_ctx->nr_folios_to_evict = 32;
		return;
	}
	for (u32 i = 0; i < RING && n < 32; i++) {
		struct folio *f = ring[i];

		if (!f)
			continue;
		if (mode == OTHER_CGROUP && f->memcg_data == (u64)memcg)
			continue;
		if (mode == DIRTY && !folio_test_bit(f, PG_dirty))
			continue;
		eviction_ctx->folios_to_evict[n++] = f;
	}
	eviction_ctx->nr_folios_to_evict = n;
}

SEC(".struct_ops.link")
struct cache_ext_ops hostile_ops = {
	.evict_folios = (void *)hostile_evict_folios,
	.folio_added = (void *)hostile_folio_added,
};
