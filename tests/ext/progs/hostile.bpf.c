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
static u64 ring[RING];  /* folios seen added (their addresses), most recent at pos - 1 */
static u32 pos;

/* A field of a folio known only by its address (a scalar once stored in a map): read it as
 * the kernel would let a program, with bpf_probe_read_kernel(). */
static __always_inline u64 read_u64(u64 addr)
{
	u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)addr);
	return v;
}

void BPF_STRUCT_OPS(hostile_folio_added, struct folio *folio)
{
	ring[pos % RING] = (u64)folio;
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
			eviction_ctx->folios_to_evict[i] = (struct folio *)ring[i];
		eviction_ctx->nr_folios_to_evict = 1000;
		return;
	}
	if (mode == GARBAGE) {
		u64 f = ring[(pos - 1) % RING];

		eviction_ctx->folios_to_evict[n++] = (struct folio *)0x1000;
		eviction_ctx->folios_to_evict[n++] = (struct folio *)(f + 8);  /* inside a folio */
		eviction_ctx->folios_to_evict[n++] = (struct folio *)0xffffffffffffffffULL;
		eviction_ctx->folios_to_evict[n++] = 0;
		eviction_ctx->folios_to_evict[n++] = (struct folio *)(f - 64 * 1000000000ULL);
		eviction_ctx->nr_folios_to_evict = n;
		return;
	}
	if (mode == DUPLICATE) {
		u64 f = ring[(pos - 200) % RING];

		for (u32 i = 0; i < 32; i++)
			eviction_ctx->folios_to_evict[i] = (struct folio *)f;
		eviction_ctx->nr_folios_to_evict = 32;
		return;
	}
	/* fixed slots (a kernel object takes constant offsets only): a folio that does not fit
	 * the mode is proposed as NULL, which the model refuses like any other non-folio */
#pragma unroll
	for (u32 i = 0; i < 32; i++) {
		u64 f = ring[(pos - 1 - i) % RING];  /* the 32 most recent */
		bool take = f != 0;

		if (mode == OTHER_CGROUP &&
		    read_u64(f + __builtin_offsetof(struct folio, memcg_data)) == (u64)memcg)
			take = false;
		if (mode == DIRTY &&
		    !((read_u64(f + __builtin_offsetof(struct folio, flags)) >> PG_dirty) & 1))
			take = false;
		eviction_ctx->folios_to_evict[i] = take ? (struct folio *)f : 0;
	}
	n = 32;
	eviction_ctx->nr_folios_to_evict = n;
}

SEC(".struct_ops.link")
struct cache_ext_ops hostile_ops = {
	.evict_folios = (void *)hostile_evict_folios,
	.folio_added = (void *)hostile_folio_added,
};
