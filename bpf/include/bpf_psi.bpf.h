/* BPF PSI's interface (part of the BPF OOM series, v2; include/linux/bpf_psi.h and
 * kernel/sched/bpf_psi.c of the series), as a PSI policy sees it: the trigger kfunc, the
 * "full" flag, and the OOM and memcg kfuncs a handler uses to act on an event. The types
 * (struct bpf_psi_ops, struct psi_trigger with cgroup_id, enum psi_res / psi_states) come
 * from vmlinux.h.
 *
 *   SEC("struct_ops.s/init")
 *   int BPF_PROG(my_init, struct bpf_psi *bpf_psi)
 *   {
 *           return bpf_psi_create_trigger(bpf_psi, cgid, PSI_MEM | BPF_PSI_FULL,
 *                                         100000, 1000000);   100 ms per 1 s window
 *   }
 *   SEC("struct_ops.s/handle_psi_event")
 *   void BPF_PROG(my_event, struct bpf_psi *bpf_psi, struct psi_trigger *t) { ... t->cgroup_id ... }
 *   SEC(".struct_ops.link")
 *   struct bpf_psi_ops my_ops = { .init = (void *)my_init, .handle_psi_event = (void *)my_event };
 *
 * Every member is optional and may be sleepable; init returning non-zero refuses the attach.
 * One instance system-wide. In mmbpf, "some" and "full" read the same modelled stall (see
 * src/ext/bpf_psi.h). */
#ifndef __BPF_PSI_BPF_H
#define __BPF_PSI_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf_memcg.bpf.h"
#include "bpf_oom.bpf.h"

#define BPF_PSI_FULL 0x80000000

/* Creates a trigger on cgroup_id (0: system-wide) for resource (PSI_IO, PSI_MEM, ...; | BPF_PSI_FULL
 * for "full"): an event when the stall grows by threshold_us within window_us (500 ms .. 10 s).
 * 0, or -EINVAL (bad resource, window, threshold), -ENOENT (no such cgroup). */
int bpf_psi_create_trigger(struct bpf_psi *bpf_psi, u64 cgroup_id, u32 resource,
			   u32 threshold_us, u32 window_us) __ksym;

/* Declares an OOM in the memcg of the cgroup whose id is cgroup_id (bpf_out_of_memory(), the
 * caller waiting for the OOM lock): 1 when memory was freed, 0 when not, < 0 on error (no such
 * cgroup: -ENOENT). */
static __always_inline int bpf_psi_oom_in_cgroup(u64 cgroup_id)
{
	struct mem_cgroup *memcg;
	struct cgroup *cg;
	int ret;

	cg = bpf_cgroup_from_id(cgroup_id);
	if (!cg)
		return -2;
	memcg = bpf_get_mem_cgroup(&cg->self);
	bpf_cgroup_release(cg);
	if (!memcg)
		return -2;
	ret = bpf_out_of_memory(memcg, 0, BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK);
	bpf_put_mem_cgroup(memcg);
	return ret;
}

#endif /* __BPF_PSI_BPF_H */
