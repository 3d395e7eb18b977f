// cache_ext LHD (the shipped cache_ext_lhd): Least Hit Density (Beckmann, Chen, Cidon, NSDI'18).
// Each folio has an age, the "time" since its last hit or its insertion, time being counted in
// insertions and re-references and coarsened by 2^age_shift, and a class, its hit-age class as
// in LHD (log2 of its last two reuse distances; never-hit folios form class 0). Per class, BPF
// array maps hold the histograms of the ages at which folios were hit and evicted; from them a
// reconfiguration computes the hit density of every (class, age):
//     density(a) = P(hit at an age >= a) / E[remaining lifetime | age >= a]
// (hits over the area under the tail of the lifetime distribution, scaled by 2^24 to an
// integer). Eviction samples with bpf_cache_ext_list_sample (16 folios per candidate) and
// proposes the lowest density of each run; folios past the last age bucket score 0 (evicted
// first), folios that cannot be evicted now score S64_MAX. Histograms decay by 9/10 at each
// reconfiguration (LHD's EWMA); at reconfigurations 1, 5 and 25 the age coarsening is re-chosen
// from the number of cached folios and the histograms compressed or stretched to the new unit.
// As in LHD (not in the shipped port), 1 in 32 insertions, while they are under 1 % of the
// cached folios, is an "explorer", kept until its age overflows so that the histograms see the
// long ages too: without them an age nobody reaches has density 0 and nobody ever reaches it
// (measured: 7 % more misses on zipf 0.99 without them).
//
// Differs from the shipped policy: the shipped one triggers reconfiguration through a ring
// buffer every 2^20 accesses and runs it in a BPF_PROG_TYPE_SYSCALL program from its loader;
// here evict_folios reconfigures inline every 1024 evictions, one bpf_loop iteration per class
// with open-coded loops over the ages (bpf_for: verified once, not once per age). Smaller tables than the shipped 16x16 classes x 16384 ages:
// 16 hit-age classes (no per-application classes) x 1024 ages, the histograms spanning about
// 32x the cached folios (LHD's error tolerance spans 100x with 16384 ages). Per-folio state
// lives in a hash map keyed by the folio pointer (the port keeps it in the list node). No
// directory watch list, no locking (the model is single-threaded). The read that inserts a
// folio is not a hit (the first folio_accessed after folio_added is the insertion itself).
#include "cache_ext.bpf.h"
#include "bpf_iter.bpf.h"

char _license[] SEC("license") = "GPL";

#define NR_CLASSES 16
#define MAX_AGE 1024 /* power of two */
#define AGE_MASK (MAX_AGE - 1)
#define MAX_AGE_SHIFT 20
#define INITIAL_AGE_SHIFT 4
#define AGE_SPAN 32 /* histograms cover about AGE_SPAN x the cached folios */
#define EVICTIONS_PER_RECONFIG 1024
#define EVENT_WEIGHT 1024 /* one hit or eviction, in histogram units (EWMA precision) */
#define DENSITY_SCALE (1ULL << 24)
#define SAMPLE_SIZE 16
#define NEVER_HIT MAX_AGE /* last_last_hit_age of a folio never hit */
#define S64_MAX 0x7fffffffffffffffLL
#define EXPLORE_INVERSE_PROBABILITY 32
#define EXPLORER_BUDGET_PERCENT 1

struct lhd_class {
	u64 hits[MAX_AGE];
	u64 evictions[MAX_AGE];
	u64 density[MAX_AGE];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_CLASSES);
	__type(key, u32);
	__type(value, struct lhd_class);
} lhd_classes SEC(".maps");

struct folio_meta {
	u64 last_access; /* timestamp of the insertion or last hit */
	u32 last_hit_age;
	u32 last_last_hit_age;
	u16 fresh;    /* the insertion's own access is still to come */
	u16 explorer; /* kept until its age overflows, to sample the long ages */
	u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 18);
	__type(key, u64); /* struct folio * */
	__type(value, struct folio_meta);
} lhd_folios SEC(".maps");

/* Global state; one element, also read by tests. */
struct lhd_state {
	u64 timestamp;       /* insertions + hits */
	u64 nr_objects;      /* folios on the list */
	u64 age_shift;
	u64 evictions;       /* since the last reconfiguration */
	u64 nr_reconfigs;
	u64 nr_evicted;      /* all time */
	u64 overflows;       /* folios scored at the last age bucket */
	u64 sample_failures; /* list_sample refused (too few folios) */
	u64 nr_explorers;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct lhd_state);
} lhd_state_map SEC(".maps");

static u64 lhd_list;

static __always_inline struct lhd_state *state(void)
{
	u32 k = 0;
	return bpf_map_lookup_elem(&lhd_state_map, &k);
}

static __always_inline struct lhd_class *class_of(u32 id)
{
	id &= NR_CLASSES - 1;
	return bpf_map_lookup_elem(&lhd_classes, &id);
}

/* LHD's hitAgeClass(): folios reused quickly get high classes. */
static __always_inline u32 hit_age_class(u64 hit_age)
{
	u32 c = 0;

	if (hit_age == 0)
		return NR_CLASSES - 1;
	for (int i = 0; i < NR_CLASSES - 1; i++) {
		if (hit_age >= MAX_AGE)
			break;
		hit_age <<= 1;
		c++;
	}
	return c;
}

static __always_inline u32 meta_class(struct folio_meta *m)
{
	if (m->last_last_hit_age == NEVER_HIT)
		return 0;
	return hit_age_class((u64)m->last_hit_age + m->last_last_hit_age);
}

static __always_inline u64 meta_age(struct lhd_state *s, struct folio_meta *m)
{
	u64 age = (s->timestamp - m->last_access) >> (s->age_shift & 63);

	return age >= MAX_AGE - 1 ? MAX_AGE - 1 : age;
}

/* ---- reconfiguration ------------------------------------------------------------------- */

struct reconfig_ctx {
	s64 delta; /* change of age_shift: > 0 coarser, < 0 finer */
};

/* Re-express one histogram in the new age unit. Coarser: bucket j gathers old buckets
 * j<<d .. (j<<d)+2^d-1 (in place, ascending: targets are never ahead of the source). Finer:
 * bucket j gets old bucket j>>d spread evenly over 2^d buckets (descending). */
static __always_inline void rescale(u64 *h, s64 delta)
{
	int k;

	if (delta > 0) {
		u32 d = delta > 10 ? 10 : delta;
		bpf_for(k, 0, MAX_AGE) {
			u32 i = (u32)k & AGE_MASK;
			u64 v = h[i];

			h[i] = 0;
			h[(i >> d) & AGE_MASK] += v;
		}
	} else if (delta < 0) {
		u32 d = -delta > 10 ? 10 : -delta;
		bpf_for(k, 0, MAX_AGE) {
			u32 i = (MAX_AGE - 1 - (u32)k) & AGE_MASK;

			h[i] = h[(i >> d) & AGE_MASK] >> d;
		}
	}
}

/* One class: decay, rescale, and LHD's modelHitDensity(). */
static long reconfigure_class(u32 idx, void *data)
{
	struct reconfig_ctx *rc = data;
	struct lhd_class *c = class_of(idx);
	u64 total_hits = 0, total_events = 0, lifetime = 0;
	int k;

	if (!c)
		return 1;
	bpf_for(k, 0, MAX_AGE) {
		u32 a = (u32)k & AGE_MASK;

		c->hits[a] -= c->hits[a] / 10;
		c->evictions[a] -= c->evictions[a] / 10;
	}
	if (rc->delta) {
		rescale(c->hits, rc->delta);
		rescale(c->evictions, rc->delta);
	}
	bpf_for(k, 0, MAX_AGE) {
		u32 a = (MAX_AGE - 1 - (u32)k) & AGE_MASK;

		total_hits += c->hits[a];
		total_events += c->hits[a] + c->evictions[a];
		lifetime += total_events;
		c->density[a] = total_events && lifetime ? total_hits * DENSITY_SCALE / lifetime : 0;
	}
	return 0;
}

/* The age unit that makes MAX_AGE buckets span AGE_SPAN x the cached folios. */
static __always_inline u64 optimal_age_shift(u64 nr_objects)
{
	u64 unit = nr_objects * AGE_SPAN / MAX_AGE, shift = 0;

	for (int i = 0; i < MAX_AGE_SHIFT; i++) {
		if ((1ULL << shift) >= unit)
			break;
		shift++;
	}
	return shift;
}

static void reconfigure(struct lhd_state *s)
{
	struct reconfig_ctx rc = {};

	s->nr_reconfigs++;
	if (s->nr_reconfigs == 1 || s->nr_reconfigs == 5 || s->nr_reconfigs == 25) {
		u64 shift = optimal_age_shift(s->nr_objects);

		rc.delta = (s64)shift - (s64)s->age_shift;
		s->age_shift = shift;
	}
	bpf_loop(NR_CLASSES, reconfigure_class, &rc, 0);
	s->evictions = 0;
}

/* GDSF-like densities until the first reconfiguration (as the shipped lhd_init). */
static long init_class(u32 idx, void *data)
{
	struct lhd_class *c = class_of(idx);
	int k;

	if (!c)
		return 1;
	bpf_for(k, 0, MAX_AGE) {
		u32 a = (u32)k & AGE_MASK;

		c->density[a] = DENSITY_SCALE * (idx + 1) / (a + 1);
	}
	return 0;
}

/* ---- struct_ops ------------------------------------------------------------------------ */

s32 BPF_STRUCT_OPS_SLEEPABLE(lhd_init, struct mem_cgroup *memcg)
{
	struct lhd_state *s = state();

	if (!s)
		return -1;
	s->age_shift = INITIAL_AGE_SHIFT;
	lhd_list = bpf_cache_ext_ds_registry_new_list(memcg);
	if (!lhd_list)
		return -1;
	bpf_loop(NR_CLASSES, init_class, NULL, 0);
	return 0;
}

static s64 lhd_score(struct cache_ext_list_node *node)
{
	struct folio *folio = node->folio;
	u64 key = (u64)folio;
	struct folio_meta *m;
	struct lhd_state *s;
	struct lhd_class *c;
	u64 age;

	if (!folio_evictable_now(folio))
		return S64_MAX;
	m = bpf_map_lookup_elem(&lhd_folios, &key);
	s = state();
	if (!m || !s)
		return 0;
	age = meta_age(s, m);
	if (age == MAX_AGE - 1) {
		s->overflows++;
		return 0;
	}
	if (m->explorer)
		return S64_MAX - 1;
	c = class_of(meta_class(m));
	if (!c)
		return 0;
	return c->density[age & AGE_MASK];
}

void BPF_STRUCT_OPS(lhd_evict_folios, struct cache_ext_eviction_ctx *eviction_ctx,
		    struct mem_cgroup *memcg)
{
	struct sampling_options opts = { .sample_size = SAMPLE_SIZE };
	struct lhd_state *s = state();

	if (!s)
		return;
	if (s->evictions >= EVICTIONS_PER_RECONFIG)
		reconfigure(s);
	if (bpf_cache_ext_list_sample(memcg, lhd_list, lhd_score, &opts, eviction_ctx))
		s->sample_failures++;
}

void BPF_STRUCT_OPS(lhd_folio_added, struct folio *folio)
{
	struct lhd_state *s = state();
	u64 key = (u64)folio;
	struct folio_meta m = {};

	if (!s || bpf_cache_ext_list_add_tail(lhd_list, folio))
		return;
	m.last_access = s->timestamp++;
	m.last_hit_age = 0;
	m.last_last_hit_age = NEVER_HIT;
	m.fresh = 1;
	if (bpf_get_prandom_u32() % EXPLORE_INVERSE_PROBABILITY == 0 &&
	    s->nr_explorers * 100 < s->nr_objects * EXPLORER_BUDGET_PERCENT) {
		m.explorer = 1;
		s->nr_explorers++;
	}
	bpf_map_update_elem(&lhd_folios, &key, &m, BPF_ANY);
	s->nr_objects++;
}

void BPF_STRUCT_OPS(lhd_folio_accessed, struct folio *folio)
{
	struct lhd_state *s = state();
	u64 key = (u64)folio, age;
	struct folio_meta *m;
	struct lhd_class *c;

	m = bpf_map_lookup_elem(&lhd_folios, &key);
	if (!s || !m)
		return;
	if (m->fresh) { /* the read that inserted it */
		m->fresh = 0;
		return;
	}
	age = meta_age(s, m);
	c = class_of(meta_class(m));
	if (c)
		c->hits[age & AGE_MASK] += EVENT_WEIGHT;
	m->last_last_hit_age = m->last_hit_age;
	m->last_hit_age = age;
	m->last_access = s->timestamp++;
}

void BPF_STRUCT_OPS(lhd_folio_evicted, struct folio *folio)
{
	struct lhd_state *s = state();
	u64 key = (u64)folio, age;
	struct folio_meta *m;
	struct lhd_class *c;

	m = bpf_map_lookup_elem(&lhd_folios, &key);
	if (!s || !m)
		return;
	age = meta_age(s, m);
	c = class_of(meta_class(m));
	if (c)
		c->evictions[age & AGE_MASK] += EVENT_WEIGHT;
	if (m->explorer && s->nr_explorers)
		s->nr_explorers--;
	bpf_map_delete_elem(&lhd_folios, &key);
	if (s->nr_objects)
		s->nr_objects--;
	s->evictions++;
	s->nr_evicted++;
}

SEC(".struct_ops.link")
struct cache_ext_ops lhd_ops = {
	.init = (void *)lhd_init,
	.evict_folios = (void *)lhd_evict_folios,
	.folio_added = (void *)lhd_folio_added,
	.folio_accessed = (void *)lhd_folio_accessed,
	.folio_evicted = (void *)lhd_folio_evicted,
};
