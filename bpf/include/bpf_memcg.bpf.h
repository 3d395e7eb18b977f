/* The memcg and cgroup kfuncs for BPF C (mm/bpf_memcontrol.c, kernel/bpf/helpers.c,
 * kernel/bpf/cgroup_iter.c, kernel/bpf/task_iter.c), and bpf_for_each() for the open-coded
 * css and css_task iterators, as a newer libbpf's bpf_helpers.h has it (libbpf 1.1 does not;
 * when it does, its definition is used):
 *
 *   struct cgroup_subsys_state *pos;
 *   struct task_struct *t;
 *
 *   bpf_rcu_read_lock();
 *   bpf_for_each(css, pos, &root->css, BPF_CGROUP_ITER_DESCENDANTS_POST) {
 *           struct mem_cgroup *m = bpf_get_mem_cgroup(pos);
 *           ...
 *           bpf_put_mem_cgroup(m);
 *   }
 *   bpf_rcu_read_unlock();
 *   bpf_for_each(css_task, t, pos, CSS_TASK_ITER_PROCS)
 *           ...t->signal->oom_score_adj...
 *
 * Units: bpf_mem_cgroup_usage() and bpf_mem_cgroup_page_state() are bytes (page counts times
 * the page size, as memory.stat prints them), events are counts, and an index out of range
 * returns (unsigned long)-1. vm_events takes mmbpf's enum vm_event_item numbering (see
 * MMBPF_PGFAULT ... below), not the kernel's config-dependent one. The iterator is destroyed
 * when the loop's scope ends (clang's cleanup attribute), also on break. */
#ifndef __BPF_MEMCG_BPF_H
#define __BPF_MEMCG_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "bpf_iter.bpf.h"

struct mem_cgroup *bpf_get_root_mem_cgroup(void) __ksym;
struct mem_cgroup *bpf_get_mem_cgroup(struct cgroup_subsys_state *css) __ksym;
void bpf_put_mem_cgroup(struct mem_cgroup *memcg) __ksym;
unsigned long bpf_mem_cgroup_vm_events(struct mem_cgroup *memcg, int event) __ksym;
unsigned long bpf_mem_cgroup_memory_events(struct mem_cgroup *memcg,
					   enum memcg_memory_event event) __ksym;
unsigned long bpf_mem_cgroup_usage(struct mem_cgroup *memcg) __ksym;
unsigned long bpf_mem_cgroup_page_state(struct mem_cgroup *memcg, int idx) __ksym;
void bpf_mem_cgroup_flush_stats(struct mem_cgroup *memcg) __ksym;

struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
void bpf_cgroup_release(struct cgroup *cgrp) __ksym;

int bpf_iter_css_new(struct bpf_iter_css *it, struct cgroup_subsys_state *start,
		     unsigned int flags) __ksym;
struct cgroup_subsys_state *bpf_iter_css_next(struct bpf_iter_css *it) __ksym;
void bpf_iter_css_destroy(struct bpf_iter_css *it) __ksym;
int bpf_iter_css_task_new(struct bpf_iter_css_task *it, struct cgroup_subsys_state *css,
			  unsigned int flags) __ksym;
struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task *it) __ksym;
void bpf_iter_css_task_destroy(struct bpf_iter_css_task *it) __ksym;

/* mmbpf's enum vm_event_item (src/mm/model.h), the index space of bpf_mem_cgroup_vm_events(). */
enum mmbpf_vm_event_item {
	MMBPF_PGPGIN = 0,
	MMBPF_PGPGOUT = 1,
	MMBPF_PSWPIN = 2,
	MMBPF_PSWPOUT = 3,
	MMBPF_PGFAULT = 4,
	MMBPF_PGMAJFAULT = 5,
	MMBPF_PGACTIVATE = 6,
	MMBPF_PGDEACTIVATE = 7,
	MMBPF_PGREFILL = 8,
	MMBPF_PGSCAN_KSWAPD = 9,
	MMBPF_PGSCAN_DIRECT = 10,
	MMBPF_PGSTEAL_KSWAPD = 11,
	MMBPF_PGSTEAL_DIRECT = 12,
	MMBPF_PGSCAN_ANON = 13,
	MMBPF_PGSCAN_FILE = 14,
	MMBPF_PGSTEAL_ANON = 15,
	MMBPF_PGSTEAL_FILE = 16,
	MMBPF_PGROTATED = 17,
	MMBPF_ALLOCSTALL = 18,
	MMBPF_PAGEOUTRUN = 19,
	MMBPF_OOM_KILL = 20,
	MMBPF_NR_VM_EVENT_ITEMS = 21,
};

#ifndef bpf_for_each
/* bpf_for_each(type, cur, args...): cur takes each element of the open-coded iterator
 * struct bpf_iter_<type> made with bpf_iter_<type>_new(&it, args...), until next() returns
 * NULL. (void)bpf_iter_<type>_destroy works around clang not emitting BTF for a function
 * used only in a cleanup attribute, as libbpf's definition does. */
#define bpf_for_each(type, cur, args...)                                                     \
	for (struct bpf_iter_##type __MMBPF_ITER_NAME                                       \
		     __attribute__((aligned(8), cleanup(bpf_iter_##type##_destroy))),            \
	     *__MMBPF_ITER_CAT(__MMBPF_ITER_NAME, _init) __attribute__((unused)) =            \
		     (bpf_iter_##type##_new(&__MMBPF_ITER_NAME, ##args),                         \
		      (void)bpf_iter_##type##_destroy, (void *)0);                              \
	     (((cur) = bpf_iter_##type##_next(&__MMBPF_ITER_NAME)));)
#endif

#endif /* __BPF_MEMCG_BPF_H */
