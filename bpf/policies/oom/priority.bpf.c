// A priority OOM policy, as a fleet's OOM daemon would set it: each cgroup may have a priority
// in the map `priorities` (cgroup id -> u32; the fleet writes it, `mmbpf run --bpf-map
// priorities=ID:PRIO`); on an OOM the leaf cgroup of the OOM's scope with the lowest priority
// dies, the one using the most non-page-cache memory among equals. Cgroups without an entry
// have DEFAULT_PRIORITY; a cgroup with a task at oom_score_adj -1000 is never chosen. Every
// process of the chosen cgroup is killed.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf_memcg.bpf.h"
#include "bpf_oom.bpf.h"

char _license[] SEC("license") = "GPL";

#define DEFAULT_PRIORITY 100

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u64);   /* cgroup id (the cgroup's kernfs node id) */
	__type(value, u32); /* higher: more important, killed later */
} priorities SEC(".maps");

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(priority_handle_oom, struct oom_control *oc, struct bpf_struct_ops_link *link)
{
	struct cgroup_subsys_state *pos;
	struct mem_cgroup *scope, *m;
	u32 best_prio = 0xffffffff;
	unsigned long best_usage = 0;
	u64 victim_id = 0;

	scope = bpf_oom_scope(oc);
	if (!scope)
		return 0;
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &scope->css, BPF_CGROUP_ITER_DESCENDANTS_POST) {
		u64 id = pos->cgroup->kn->id;
		unsigned long usage;
		u32 prio = DEFAULT_PRIORITY, *p;

		if (pos->cgroup->nr_descendants + pos->cgroup->nr_dying_descendants)
			continue;
		m = bpf_get_mem_cgroup(pos);
		if (!m)
			continue;
		usage = bpf_mem_cgroup_usage(m) - bpf_mem_cgroup_page_state(m, NR_FILE_PAGES);
		bpf_put_mem_cgroup(m);
		if (!usage || bpf_oom_css_has_unkillable(pos))
			continue;
		p = bpf_map_lookup_elem(&priorities, &id);
		if (p)
			prio = *p;
		if (prio < best_prio || (prio == best_prio && usage > best_usage)) {
			best_prio = prio;
			best_usage = usage;
			victim_id = id;
		}
	}
	bpf_rcu_read_unlock();
	bpf_put_mem_cgroup(scope);
	if (!victim_id)
		return 0;

	return bpf_oom_kill_cgroup(oc, victim_id, "bpf oom priority policy");
}

SEC(".struct_ops.link")
struct bpf_oom_ops priority = {
	.handle_out_of_memory = (void *)priority_handle_oom,
	.name = "priority",
};
