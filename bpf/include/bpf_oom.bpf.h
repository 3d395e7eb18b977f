/* BPF OOM's interface (Roman Gushchin's series, v3; mm/oom_kill.c and include/linux/bpf_oom.h
 * of the series), as an OOM policy sees it: the OOM kfuncs, their flags, and the struct_ops
 * wrappers. The types (struct bpf_oom_ops, oom_control, bpf_struct_ops_link, task_struct,
 * mem_cgroup) come from vmlinux.h.
 *
 *   SEC("struct_ops.s/handle_out_of_memory")
 *   int BPF_PROG(my_handler, struct oom_control *oc, struct bpf_struct_ops_link *link)
 *   {
 *           ... choose a task, bpf_oom_kill_process(oc, task, "my policy") ...
 *           return 1;      freed memory; believed only if a kill really freed some
 *   }
 *   SEC(".struct_ops.link")
 *   struct bpf_oom_ops my_ops = { .handle_out_of_memory = (void *)my_handler, .name = "mine" };
 *
 * The handler is required and sleepable; oc is read-only. Only the v3 shape is supported. */
#ifndef __BPF_OOM_BPF_H
#define __BPF_OOM_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* enum bpf_oom_flags (include/linux/oom.h of the series) */
#define BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK (1 << 0)
#define BPF_OOM_NAME_MAX_LEN 64
#define OOM_SCORE_ADJ_MIN (-1000)

/* Kills task as the kernel's OOM killer would (memory.oom.group respected); message__str must
 * be a constant string (a literal). 0, or -EPERM for an unkillable task. Sleepable only. */
int bpf_oom_kill_process(struct oom_control *oc, struct task_struct *task,
			 const char *message__str) __ksym;
/* Declares an OOM in memcg (NULL: system-wide) and runs the OOM killer: 1 on progress.
 * Refused (-EBUSY) from inside an OOM handler. */
int bpf_out_of_memory(struct mem_cgroup *memcg__nullable, int order, u64 flags) __ksym;
/* Whether the OOM killer has already killed task (tsk_is_oom_victim()). */
bool bpf_task_is_oom_victim(struct task_struct *task) __ksym;

#ifndef BPF_STRUCT_OPS
#define BPF_STRUCT_OPS(name, args...) \
	SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#endif
#ifndef BPF_STRUCT_OPS_SLEEPABLE
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) \
	SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)
#endif

/* ---- helpers the in-tree OOM policies share (they need bpf_memcg.bpf.h's iterators) ---- */
#ifdef __BPF_MEMCG_BPF_H

/* The OOM's scope, acquired (bpf_put_mem_cgroup() releases it): the OOMing memcg, or the root
 * for a global OOM. NULL if it cannot be had. */
static __always_inline struct mem_cgroup *bpf_oom_scope(struct oom_control *oc)
{
	struct mem_cgroup *memcg = oc->memcg; /* read once: it is maybe-NULL */

	return memcg ? bpf_get_mem_cgroup(&memcg->css) : bpf_get_root_mem_cgroup();
}

/* Whether a process of css is exempt from the OOM killer (oom_score_adj -1000). */
static __always_inline bool bpf_oom_css_has_unkillable(struct cgroup_subsys_state *css)
{
	struct task_struct *t;

	bpf_for_each(css_task, t, css, CSS_TASK_ITER_PROCS) {
		if (t->signal->oom_score_adj == OOM_SCORE_ADJ_MIN)
			return true;
	}
	return false;
}

/* Kills every process of the cgroup whose id is cgroup_id that the OOM killer has not killed
 * yet; message must be a string literal. 1 when it killed one, else 0. */
static __always_inline int bpf_oom_kill_cgroup(struct oom_control *oc, u64 cgroup_id,
					       const char *message)
{
	struct task_struct *t;
	struct cgroup *cg;
	int killed = 0;

	cg = bpf_cgroup_from_id(cgroup_id);
	if (!cg)
		return 0;
	bpf_for_each(css_task, t, &cg->self, CSS_TASK_ITER_PROCS) {
		if (!bpf_task_is_oom_victim(t) && !bpf_oom_kill_process(oc, t, message))
			killed = 1; /* a flag, not a count: the loop's states converge */
	}
	bpf_cgroup_release(cg);
	return killed;
}

#endif /* __BPF_MEMCG_BPF_H */

#endif /* __BPF_OOM_BPF_H */
