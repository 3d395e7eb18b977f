// Exercises the registry's rules from inside a policy and records each kfunc's answer in
// `results` (index: the check below): at most 5 lists per cgroup, list ids are checked, a folio
// sits on one list at a time. (Pointers that are not folios or memcgs cannot be passed at all:
// the verifier refuses the program; see kfunc_bad_args.bpf.c.)
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, s64);
} results SEC(".maps");

static u64 lists[6];
static u32 added;

static void put(u32 i, s64 v)
{
	bpf_map_update_elem(&results, &i, &v, BPF_ANY);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(rules_init, struct mem_cgroup *memcg)
{
	for (int i = 0; i < 6; i++)
		lists[i] = bpf_cache_ext_ds_registry_new_list(memcg);
	put(0, lists[4] != 0);                                        /* 5th list: created */
	put(1, lists[5]);                                             /* 6th list: 0 */
	return 0;
}

void BPF_STRUCT_OPS(rules_folio_added, struct folio *folio)
{
	if (added++)
		return;
	put(3, bpf_cache_ext_list_add(lists[0] + 8, folio));               /* bad list id: -1 */
	put(5, bpf_cache_ext_list_del(folio));                             /* on no list: -1 */
	put(6, bpf_cache_ext_list_add(lists[0], folio));                   /* 0 */
	put(7, bpf_cache_ext_list_add(lists[1], folio));                   /* already on a list: -1 */
	put(8, bpf_cache_ext_list_move(lists[1], folio, true));           /* 0 */
	put(10, 1);
}

SEC(".struct_ops.link")
struct cache_ext_ops rules_ops = {
	.init = (void *)rules_init,
	.folio_added = (void *)rules_folio_added,
};
