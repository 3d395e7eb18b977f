/* cache_ext's BPF interface (SOSP '25; mm/cache_ext_ds.c of linux-cache-ext), as a policy
 * sees it: the list kfuncs, their callback and return codes, and the struct_ops wrappers the
 * shipped policies use. The types (struct cache_ext_ops, cache_ext_eviction_ctx,
 * cache_ext_list_node, sampling_options, cache_ext_iterate_opts) come from vmlinux.h. */
#ifndef __CACHE_EXT_BPF_H
#define __CACHE_EXT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* enum cache_ext_iter_callback_ret */
#define CACHE_EXT_CONTINUE_ITER 0
#define CACHE_EXT_STOP_ITER 1
#define CACHE_EXT_EVICT_NODE 2
/* enum cache_ext_iter_ret */
#define CACHE_EXT_DONE_ITER 0
#define CACHE_EXT_MAX_ITER_REACHED 8
#define CACHE_EXT_EVICT_ARRAY_FILLED 9

u64 bpf_cache_ext_ds_registry_new_list(struct mem_cgroup *memcg) __ksym;
int bpf_cache_ext_list_add(u64 list, struct folio *folio) __ksym;
int bpf_cache_ext_list_add_tail(u64 list, struct folio *folio) __ksym;
int bpf_cache_ext_list_move(u64 list, struct folio *folio, bool tail) __ksym;
int bpf_cache_ext_list_del(struct folio *folio) __ksym;
int bpf_cache_ext_list_iterate(struct mem_cgroup *memcg, u64 list,
			       int (iter_fn)(int idx, struct cache_ext_list_node *node),
			       struct cache_ext_eviction_ctx *ctx) __ksym;
int bpf_cache_ext_list_iterate_extended(struct mem_cgroup *memcg, u64 list,
					int (iter_fn)(int idx, struct cache_ext_list_node *node),
					struct cache_ext_iterate_opts *opts,
					struct cache_ext_eviction_ctx *ctx) __ksym;
int bpf_cache_ext_list_sample(struct mem_cgroup *memcg, u64 list,
			      s64 (score_fn)(struct cache_ext_list_node *a),
			      struct sampling_options *opts,
			      struct cache_ext_eviction_ctx *ctx) __ksym;

/* Map sizes, as the policies' userspace loaders set them (mmbpf's policy_host does it for
 * every policy it loads, by name): a map whose name contains "folio" holds one entry per cached
 * folio and is sized to the node's page frames; a map named "ghost" is sized to 90 % of the
 * cache the policy manages (S3-FIFO's main queue). Other maps keep their declared size. */

#define BPF_STRUCT_OPS(name, args...) \
	SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) \
	SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

/* Page flags the shipped policies test (include/linux/page-flags.h, enum pageflags). */
static __always_inline bool folio_test_bit(struct folio *folio, int bit)
{
	return (folio->flags >> bit) & 1;
}

/* Whether eviction may take the folio now: uptodate, on an LRU, clean, not under writeback
 * (the shipped fifo / mru callbacks skip the others). */
static __always_inline bool folio_evictable_now(struct folio *folio)
{
	return folio_test_bit(folio, PG_uptodate) && folio_test_bit(folio, PG_lru) &&
	       !folio_test_bit(folio, PG_dirty) && !folio_test_bit(folio, PG_writeback);
}

#endif
