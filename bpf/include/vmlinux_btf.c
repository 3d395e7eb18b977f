// SPDX-License-Identifier: GPL-2.0
/*
 * The source of the model's BTF: compiled with the BPF clang flags (cmake/bpf.cmake), its .BTF
 * section is extracted and embedded in the runtime (src/bpf/vmlinux_btf.cpp). Not a .bpf.c
 * file, so the rule for policies does not build it as a program.
 *
 * clang emits BTF only for types that something in the object uses. To emit every type of
 * vmlinux.h, the one function below asks for each type's local BTF id
 * (__builtin_btf_type_id(..., BPF_TYPE_ID_LOCAL), i.e. libbpf's bpf_core_type_id_local()): that
 * forces the complete type into .BTF. The relocations it creates go to .BTF.ext, which is not
 * embedded. What it adds to the BTF: FUNC 'vmlinux_btf_anchor', its FUNC_PROTO and the INT
 * 'int' (which vmlinux.h uses anyway). Add a line here for each new top-level type of
 * vmlinux.h: a type no one lists is missing from the BTF, and from the layout check.
 *
 * Types that only vmlinux.h's other types reference (list_head, atomic_t, page, ...) would be
 * emitted anyway; they are listed too so that the list reads as the header's contents.
 */
#include "vmlinux.h"

#define T(type) (int)__builtin_btf_type_id(*(type *)0, 0)

int vmlinux_btf_anchor(void)
{
	return 0
		/* typedefs */
		+ T(atomic_t) + T(atomic64_t) + T(atomic_long_t) + T(refcount_t) + T(swp_entry_t)
		+ T(nodemask_t) + T(size_t) + T(ssize_t) + T(pid_t) + T(uid_t) + T(gid_t)
		+ T(loff_t) + T(pgoff_t) + T(gfp_t) + T(fmode_t) + T(umode_t)
		+ T(s8) + T(u8) + T(s16) + T(u16) + T(s32) + T(u32) + T(s64) + T(u64) + T(bool)
		/* enums */
		+ T(enum pageflags) + T(enum lru_list) + T(enum node_stat_item)
		+ T(enum memcg_stat_item) + T(enum memcg_memory_event) + T(enum oom_constraint)
		+ T(enum psi_res) + T(enum psi_states) + T(enum psi_aggregators)
		+ T(enum cache_ext_iterate_mode) + T(enum cache_ext_iterate_list)
		/* lists, folios, the page cache */
		+ T(struct list_head) + T(struct page) + T(struct folio)
		+ T(struct address_space) + T(struct inode) + T(struct file_ra_state)
		+ T(struct file)
		/* cgroups and memcg */
		+ T(struct kernfs_node) + T(struct cgroup_subsys_state) + T(struct cgroup)
		+ T(struct css_set) + T(struct page_counter) + T(struct mem_cgroup_id)
		+ T(struct mem_cgroup)
		/* tasks */
		+ T(struct percpu_counter) + T(struct mm_struct) + T(struct signal_struct)
		+ T(struct task_struct)
		/* OOM */
		+ T(struct oom_control) + T(struct bpf_link) + T(struct bpf_struct_ops_link)
		+ T(struct bpf_oom_ops) + T(struct bpf_oom_ctx) + T(struct bpf_oom_ops___v2)
		/* PSI */
		+ T(struct psi_window) + T(struct psi_trigger) + T(struct bpf_psi) + T(struct bpf_psi_ops)
		/* cache_ext */
		+ T(struct cache_ext_eviction_ctx) + T(struct cache_ext_admission_ctx)
		+ T(struct cache_ext_list_node) + T(struct sampling_options)
		+ T(struct cache_ext_iterate_opts) + T(struct cache_ext_ops)
		/* struct_ops test type */
		+ T(struct bpf_dummy_ops_state) + T(struct bpf_dummy_ops)
		/* open-coded iterators */
		+ T(struct bpf_iter_num) + T(struct bpf_iter_css) + T(struct bpf_iter_css_task);
}

/*
 * Kernel functions (kfuncs) as the kernel's BTF declares them: a FUNC with its FUNC_PROTO and
 * parameter names, which the verifier checks kfunc calls against (argument types, __nullable,
 * __sz, callbacks as pointers to a FUNC_PROTO, the return type). The bodies are never run:
 * the runtime binds each name to its C++ implementation (src/ext/...).
 */
#define KFUNC __attribute__((noinline, used))

/* kernel/bpf/helpers.c and kernel/bpf/bpf_iter.c: the generic set every program type has */
KFUNC void bpf_rcu_read_lock(void) {}
KFUNC void bpf_rcu_read_unlock(void) {}
KFUNC int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) { return 0; }
KFUNC int *bpf_iter_num_next(struct bpf_iter_num *it) { return 0; }
KFUNC void bpf_iter_num_destroy(struct bpf_iter_num *it) {}
KFUNC struct task_struct *bpf_task_from_pid(s32 pid) { return 0; }
KFUNC struct task_struct *bpf_task_acquire(struct task_struct *p) { return 0; }
KFUNC void bpf_task_release(struct task_struct *p) {}

/* cgroups (kernel/bpf/helpers.c, cgroup_iter.c, task_iter.c) */
KFUNC struct cgroup *bpf_cgroup_from_id(u64 cgid) { return 0; }
KFUNC void bpf_cgroup_release(struct cgroup *cgrp) {}
KFUNC int bpf_iter_css_new(struct bpf_iter_css *it, struct cgroup_subsys_state *start,
			   unsigned int flags) { return 0; }
KFUNC struct cgroup_subsys_state *bpf_iter_css_next(struct bpf_iter_css *it) { return 0; }
KFUNC void bpf_iter_css_destroy(struct bpf_iter_css *it) {}
KFUNC int bpf_iter_css_task_new(struct bpf_iter_css_task *it, struct cgroup_subsys_state *css,
				unsigned int flags) { return 0; }
KFUNC struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task *it) { return 0; }
KFUNC void bpf_iter_css_task_destroy(struct bpf_iter_css_task *it) {}

/* memcg (mm/bpf_memcontrol.c, upstream) */
KFUNC struct mem_cgroup *bpf_get_root_mem_cgroup(void) { return 0; }
KFUNC struct mem_cgroup *bpf_get_mem_cgroup(struct cgroup_subsys_state *css) { return 0; }
KFUNC void bpf_put_mem_cgroup(struct mem_cgroup *memcg) {}
KFUNC unsigned long bpf_mem_cgroup_vm_events(struct mem_cgroup *memcg, int event) { return 0; }
KFUNC unsigned long bpf_mem_cgroup_memory_events(struct mem_cgroup *memcg,
						 enum memcg_memory_event event) { return 0; }
KFUNC unsigned long bpf_mem_cgroup_usage(struct mem_cgroup *memcg) { return 0; }
KFUNC unsigned long bpf_mem_cgroup_page_state(struct mem_cgroup *memcg, int idx) { return 0; }
KFUNC void bpf_mem_cgroup_flush_stats(struct mem_cgroup *memcg) {}

/* BPF OOM (mm/oom_kill.c of the series, v3) */
KFUNC int bpf_oom_kill_process(struct oom_control *oc, struct task_struct *task,
			       const char *message__str) { return 0; }
KFUNC int bpf_out_of_memory(struct mem_cgroup *memcg__nullable, int order, u64 flags) { return 0; }
KFUNC bool bpf_task_is_oom_victim(struct task_struct *task) { return 0; }

/* BPF PSI (kernel/sched/bpf_psi.c of the BPF OOM series, v2) */
KFUNC int bpf_psi_create_trigger(struct bpf_psi *bpf_psi, u64 cgroup_id, u32 resource,
				 u32 threshold_us, u32 window_us) { return 0; }

/* cache_ext (mm/cache_ext_ds.c) */
KFUNC u64 bpf_cache_ext_ds_registry_new_list(struct mem_cgroup *memcg) { return 0; }
KFUNC int bpf_cache_ext_list_add(u64 list, struct folio *folio) { return 0; }
KFUNC int bpf_cache_ext_list_add_tail(u64 list, struct folio *folio) { return 0; }
KFUNC int bpf_cache_ext_list_move(u64 list, struct folio *folio, bool tail) { return 0; }
KFUNC int bpf_cache_ext_list_del(struct folio *folio) { return 0; }
KFUNC int bpf_cache_ext_list_iterate(struct mem_cgroup *memcg, u64 list,
				     int (*iter_fn)(int idx, struct cache_ext_list_node *node),
				     struct cache_ext_eviction_ctx *ctx) { return 0; }
KFUNC int bpf_cache_ext_list_iterate_extended(struct mem_cgroup *memcg, u64 list,
					      int (*iter_fn)(int idx, struct cache_ext_list_node *node),
					      struct cache_ext_iterate_opts *opts,
					      struct cache_ext_eviction_ctx *ctx) { return 0; }
KFUNC int bpf_cache_ext_list_sample(struct mem_cgroup *memcg, u64 list,
				    s64 (*score_fn)(struct cache_ext_list_node *a),
				    struct sampling_options *opts,
				    struct cache_ext_eviction_ctx *ctx) { return 0; }
