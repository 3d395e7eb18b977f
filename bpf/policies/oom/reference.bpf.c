// The BPF OOM series' reference policy (selftest progs/test_oom.c, "bpf_test_policy"), written
// for mmbpf: on an OOM, among the leaf cgroups of the OOM's scope (the OOMing memcg, or the
// root for a global OOM), take the one using the most memory that is not page cache
// (usage - NR_FILE_PAGES), skipping any cgroup with a task at oom_score_adj -1000, and kill
// every process in it. Returns 1 when it killed; the model believes it only if a kill freed
// memory, else the next ancestor's handler or the kernel's killer runs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf_memcg.bpf.h"
#include "bpf_oom.bpf.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(reference_handle_oom, struct oom_control *oc, struct bpf_struct_ops_link *link)
{
	struct cgroup_subsys_state *pos;
	struct mem_cgroup *scope, *m;
	unsigned long best = 0;
	u64 victim_id = 0;

	scope = bpf_oom_scope(oc);
	if (!scope)
		return 0;
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &scope->css, BPF_CGROUP_ITER_DESCENDANTS_POST) {
		unsigned long usage;

		if (pos->cgroup->nr_descendants + pos->cgroup->nr_dying_descendants)
			continue; /* leaves only */
		m = bpf_get_mem_cgroup(pos);
		if (!m)
			continue;
		usage = bpf_mem_cgroup_usage(m) - bpf_mem_cgroup_page_state(m, NR_FILE_PAGES);
		if (usage > best && !bpf_oom_css_has_unkillable(pos)) {
			best = usage;
			victim_id = pos->cgroup->kn->id;
		}
		bpf_put_mem_cgroup(m);
	}
	bpf_rcu_read_unlock();
	bpf_put_mem_cgroup(scope);
	if (!victim_id)
		return 0;

	return bpf_oom_kill_cgroup(oc, victim_id, "bpf oom reference policy");
}

SEC(".struct_ops.link")
struct bpf_oom_ops reference = {
	.handle_out_of_memory = (void *)reference_handle_oom,
	.name = "bpf_test_policy",
};
