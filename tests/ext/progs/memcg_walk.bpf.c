// The memcg kfuncs from BPF C (src/ext/memcg_kfuncs.*, bpf/include/bpf_memcg.bpf.h), as a
// bpf_dummy_ops instance whose members a test runs against a model:
//   test_1          walk: the css iterator from the root in the order state->val gives; records
//                   the cgroup ids in visit order and sums bpf_mem_cgroup_usage() over them
//   test_2          pick: the reference BPF OOM policy's choice (selftest test_oom.c): the leaf
//                   memcg with the largest usage minus page cache, skipping cgroups with an
//                   OOM-immune task (oom_score_adj -1000); counts the victim's processes
//   test_sleepable  stats: the memcg whose cgroup id is state->val, found by a pre-order walk,
//                   flushed (sleepable) and read through every stats kfunc
// Results land in globals the test reads back. Sequences are folded into one number (ids in
// base 8, pids in base 100) rather than stored by a counter-indexed array: a counter that
// decides a bounds check stays precise, so every iteration would look new to the verifier
// (here as in the kernel) and the loop would never converge.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf_memcg.bpf.h"

#define OOM_SCORE_ADJ_MIN (-1000)

// What the programs found, for the test (memcg_kfuncs_test.cpp mirrors this struct).
struct memcg_walk_results {
	u64 visit_sig;	/* ids in visit order, base 8 */
	u64 nr_visits;
	u64 usage_sum;
	u64 root_usage;
	u64 victim_id;
	u64 victim_score;
	u64 victim_procs;
	u64 victim_pid_sig;	/* pids in iteration order, base 100 */
	u64 from_id;
	u64 st_usage, st_file, st_anon, st_pgfault, st_oom, st_bad_state, st_bad_event, st_bad_vm;
} res;

SEC("struct_ops/test_1")
int BPF_PROG(walk, struct bpf_dummy_ops_state *state)
{
	struct mem_cgroup *root = bpf_get_root_mem_cgroup();
	struct cgroup_subsys_state *pos;
	u64 n = 0, sig = 0, sum = 0;

	if (!root)
		return -1;
	res.root_usage = bpf_mem_cgroup_usage(root);
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &root->css, state->val) {
		struct mem_cgroup *m;

		sig = sig * 8 + pos->cgroup->kn->id;
		n++;
		m = bpf_get_mem_cgroup(pos);
		if (!m)
			continue;
		sum += bpf_mem_cgroup_usage(m);
		bpf_put_mem_cgroup(m);
	}
	bpf_rcu_read_unlock();
	bpf_put_mem_cgroup(root);
	res.nr_visits = n;
	res.visit_sig = sig;
	res.usage_sum = sum;
	return n;
}

// Whether a task of css is immune (oom_score_adj == OOM_SCORE_ADJ_MIN).
static bool has_immune_task(struct cgroup_subsys_state *css)
{
	struct task_struct *t;
	bool immune = false;

	bpf_for_each(css_task, t, css, CSS_TASK_ITER_PROCS) {
		if (t->signal->oom_score_adj == OOM_SCORE_ADJ_MIN) {
			immune = true;
			break;
		}
	}
	return immune;
}

SEC("struct_ops/test_2")
int BPF_PROG(pick, struct bpf_dummy_ops_state *state, int a1, unsigned short a2, char a3,
	     unsigned long a4)
{
	struct mem_cgroup *root = bpf_get_root_mem_cgroup();
	struct cgroup_subsys_state *pos;
	struct task_struct *t;
	u64 best = 0, best_id = 0, pid_sig = 0;
	u32 procs = 0;

	if (!root)
		return -1;
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &root->css, BPF_CGROUP_ITER_DESCENDANTS_POST) {
		struct mem_cgroup *m;
		u64 usage, file;

		if (pos->cgroup->nr_descendants + pos->cgroup->nr_dying_descendants)
			continue;
		m = bpf_get_mem_cgroup(pos);
		if (!m)
			continue;
		usage = bpf_mem_cgroup_usage(m);
		file = bpf_mem_cgroup_page_state(m, NR_FILE_PAGES);
		bpf_put_mem_cgroup(m);
		usage = usage > file ? usage - file : 0;
		if (usage <= best || has_immune_task(pos))
			continue;
		best = usage;
		best_id = pos->cgroup->kn->id;
	}
	// the victim's processes, found again by id
	bpf_for_each(css, pos, &root->css, BPF_CGROUP_ITER_DESCENDANTS_PRE) {
		if (pos->cgroup->kn->id != best_id)
			continue;
		bpf_for_each(css_task, t, pos, CSS_TASK_ITER_PROCS) {
			pid_sig = pid_sig * 100 + t->pid;
			procs++;
		}
		break;
	}
	bpf_rcu_read_unlock();
	bpf_put_mem_cgroup(root);
	res.victim_id = best_id;
	res.victim_score = best;
	res.victim_procs = procs;
	res.victim_pid_sig = pid_sig;
	return procs;
}

SEC("struct_ops.s/test_sleepable")
int BPF_PROG(stats, struct bpf_dummy_ops_state *state)
{
	struct mem_cgroup *root = bpf_get_root_mem_cgroup();
	struct mem_cgroup *m = NULL;
	struct cgroup_subsys_state *pos;
	struct cgroup *cg;
	u64 id = state->val;

	if (!root)
		return -1;
	cg = bpf_cgroup_from_id(id);
	if (cg) {
		res.from_id = cg->kn->id;
		bpf_cgroup_release(cg);
	}
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &root->css, BPF_CGROUP_ITER_DESCENDANTS_PRE) {
		if (pos->cgroup->kn->id == id) {
			m = bpf_get_mem_cgroup(pos);
			break;
		}
	}
	bpf_rcu_read_unlock();
	bpf_put_mem_cgroup(root);
	if (!m)
		return -2;
	bpf_mem_cgroup_flush_stats(m);
	res.st_usage = bpf_mem_cgroup_usage(m);
	res.st_file = bpf_mem_cgroup_page_state(m, NR_FILE_PAGES);
	res.st_anon = bpf_mem_cgroup_page_state(m, NR_ANON_MAPPED);
	res.st_pgfault = bpf_mem_cgroup_vm_events(m, MMBPF_PGFAULT);
	res.st_oom = bpf_mem_cgroup_memory_events(m, MEMCG_OOM);
	res.st_bad_state = bpf_mem_cgroup_page_state(m, MEMCG_NR_STAT);
	res.st_bad_event = bpf_mem_cgroup_memory_events(m, MEMCG_NR_MEMORY_EVENTS);
	res.st_bad_vm = bpf_mem_cgroup_vm_events(m, MMBPF_NR_VM_EVENT_ITEMS);
	bpf_put_mem_cgroup(m);
	return 0;
}

SEC(".struct_ops.link")
struct bpf_dummy_ops memcg_walk = {
	.test_1 = (void *)walk,
	.test_2 = (void *)pick,
	.test_sleepable = (void *)stats,
};

char _license[] SEC("license") = "GPL";
