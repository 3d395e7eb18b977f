/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The model's vmlinux.h: the kernel types mmbpf's MM model exposes to BPF programs, with the
 * kernel's names for types, fields and enum values, written in the style of a bpftool-generated
 * vmlinux.h. Policies include it as they include a real kernel's:
 *
 *	#include "vmlinux.h"
 *	#include <bpf/bpf_helpers.h>
 *	#include <bpf/bpf_tracing.h>
 *	#include <bpf/bpf_core_read.h>
 *
 * The build compiles this header with clang for the BPF target and embeds the resulting BTF in
 * the runtime (bpf/include/vmlinux_btf.c, src/bpf/vmlinux_btf.cpp): it is the model's
 * /sys/kernel/btf/vmlinux, what CO-RE relocations, kfunc and struct_ops prototypes are resolved
 * against. The C++ MM model defines its objects with these same structs (this header is also
 * valid C++20), and a generated file of static_asserts checks that g++'s x86-64 layout equals
 * the BTF's (tools/btf_layout_gen.cpp).
 *
 * What it simplifies:
 * - A kernel struct keeps only the fields policies read, in the kernel's order, and its
 *   comment says "the model's subset"; the BPF-interface structs (cache_ext, bpf_*_ops) are
 *   complete. Offsets are therefore the model's, not a real kernel's; CO-RE (field access by
 *   name, preserve_access_index below) makes that invisible to a policy, which is the point:
 *   a policy written against a real kernel's vmlinux.h with BPF_CORE_READ loads here when the
 *   fields it reads exist, and vice versa.
 * - Kernel-internal padding (CACHELINE_PADDING, ____cacheline_aligned), locks, RCU heads and
 *   work structs are left out; __rcu/__percpu/__user annotations are not expressed.
 * - Fields named with a C++ keyword (the kernel's folio->private, page->private) are left out,
 *   so that the header compiles as C++.
 * - Config-dependent enums (pageflags, node_stat_item, psi_states) take the values of an
 *   x86-64 distribution kernel 6.6 (the base of the cache_ext kernel): CONFIG_MMU, CONFIG_SWAP,
 *   CONFIG_NUMA_BALANCING, CONFIG_IRQ_TIME_ACCOUNTING on; CONFIG_SHADOW_CALL_STACK off. Use
 *   bpf_core_enum_value() where a kernel may differ.
 * - The uapi part (map types, map flags, struct bpf_spin_lock), bool and true/false are only
 *   visible to C (BPF) code, the uapi part only when <linux/bpf.h> was not included first:
 *   C++ has its own bool and gets the rest from <linux/bpf.h>. The uapi part is not in the
 *   model's BTF (a program's own BTF describes its maps and spin locks).
 * - The kernel's __kernel_* typedef layer is not reproduced (size_t, pid_t, ... are defined
 *   directly), and in C++ loff_t is glibc's 64-bit type, so that C++ code may include this
 *   header together with <sys/types.h> and <linux/types.h>.
 */
#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#if defined(__bpf__) && !defined(BPF_NO_PRESERVE_ACCESS_INDEX)
#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
#endif
#ifdef __cplusplus
/* Anonymous structs in unions, as in the kernel: a GNU extension to C++ that g++ and clang++
 * accept, warned about only under -Wpedantic. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif

/* ---- Kernel typedefs ------------------------------------------------------------------ */

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;

typedef __s8 s8;
typedef __u8 u8;
typedef __s16 s16;
typedef __u16 u16;
typedef __s32 s32;
typedef __u32 u32;
typedef __s64 s64;
typedef __u64 u64;

/* Byte-order and checksum types, for the prototypes in libbpf's bpf_helper_defs.h. */
typedef __u16 __le16;
typedef __u16 __be16;
typedef __u32 __le32;
typedef __u32 __be32;
typedef __u64 __le64;
typedef __u64 __be64;
typedef __u32 __wsum;

#if !defined(__cplusplus) && !defined(bool)
typedef _Bool bool;
#endif
#if !defined(__cplusplus) && !defined(true)
enum {
	false = 0,
	true = 1,
};
#endif

/* size_t, pid_t, ... without the kernel's __kernel_* layer, whose uapi definitions depend on
 * __BITS_PER_LONG (32 for the BPF target) and would then disagree with these. */
typedef unsigned long size_t;
typedef long ssize_t;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
#ifdef __cplusplus
/* glibc's <sys/types.h> declares loff_t as its own 64-bit type (long on x86-64); C++ sees both
 * declarations, so it gets that one. Same size and alignment as the kernel's long long. */
typedef __INT64_TYPE__ loff_t;
#else
typedef long long loff_t;
#endif
typedef unsigned long pgoff_t;
typedef unsigned int gfp_t;
typedef unsigned int fmode_t;
typedef unsigned short umode_t;

/* The model is single-threaded: atomics are plain counters with the kernel's names. */
typedef struct {
	int counter;
} atomic_t;

typedef struct {
	s64 counter;
} atomic64_t;

typedef atomic64_t atomic_long_t;

typedef struct refcount_struct {
	atomic_t refs;
} refcount_t;

/* ---- Opaque types (pointers only) ------------------------------------------------------ */

struct address_space;
struct bpf_map;
struct cgroup;
struct inode;
struct mem_cgroup;
struct mm_struct;
struct super_block;
struct task_struct;
struct zonelist;

/* ---- Lists ------------------------------------------------------------------------------ */

struct list_head {
	struct list_head *next;
	struct list_head *prev;
};

/* ---- Page flags, LRU lists, node and memcg statistics ---------------------------------- */

/* include/linux/page-flags.h, 6.6 numbering (PG_writeback and PG_head moved into the bottom
 * byte in 6.6; PG_error was removed in 6.12 and later flags shift). The model uses the flags
 * up to PG_mlocked; __NR_PAGEFLAGS is the model's count. */
enum pageflags {
	PG_locked = 0,
	PG_writeback = 1,
	PG_referenced = 2,
	PG_uptodate = 3,
	PG_dirty = 4,
	PG_lru = 5,
	PG_head = 6,
	PG_waiters = 7,
	PG_active = 8,
	PG_workingset = 9,
	PG_error = 10,
	PG_slab = 11,
	PG_owner_priv_1 = 12,
	PG_arch_1 = 13,
	PG_reserved = 14,
	PG_private = 15,
	PG_private_2 = 16,
	PG_mappedtodisk = 17,
	PG_reclaim = 18,
	PG_swapbacked = 19,
	PG_unevictable = 20,
	PG_mlocked = 21,
	__NR_PAGEFLAGS = 22,

	PG_readahead = PG_reclaim,
	PG_anon_exclusive = PG_mappedtodisk,
	PG_checked = PG_owner_priv_1,
	PG_swapcache = PG_owner_priv_1,
	PG_fscache = PG_private_2,
	PG_isolated = PG_reclaim,
	PG_reported = PG_uptodate,
	PG_has_hwpoisoned = PG_error,
	PG_large_rmappable = PG_workingset,
};

/* include/linux/mmzone.h */
enum lru_list {
	LRU_INACTIVE_ANON = 0,
	LRU_ACTIVE_ANON = 1,
	LRU_INACTIVE_FILE = 2,
	LRU_ACTIVE_FILE = 3,
	LRU_UNEVICTABLE = 4,
	NR_LRU_LISTS = 5,
};

/* include/linux/mmzone.h, 6.6 (the index space of bpf_mem_cgroup_page_state()). */
enum node_stat_item {
	NR_LRU_BASE = 0,
	NR_INACTIVE_ANON = 0,
	NR_ACTIVE_ANON = 1,
	NR_INACTIVE_FILE = 2,
	NR_ACTIVE_FILE = 3,
	NR_UNEVICTABLE = 4,
	NR_SLAB_RECLAIMABLE_B = 5,
	NR_SLAB_UNRECLAIMABLE_B = 6,
	NR_ISOLATED_ANON = 7,
	NR_ISOLATED_FILE = 8,
	WORKINGSET_NODES = 9,
	WORKINGSET_REFAULT_BASE = 10,
	WORKINGSET_REFAULT_ANON = 10,
	WORKINGSET_REFAULT_FILE = 11,
	WORKINGSET_ACTIVATE_BASE = 12,
	WORKINGSET_ACTIVATE_ANON = 12,
	WORKINGSET_ACTIVATE_FILE = 13,
	WORKINGSET_RESTORE_BASE = 14,
	WORKINGSET_RESTORE_ANON = 14,
	WORKINGSET_RESTORE_FILE = 15,
	WORKINGSET_NODERECLAIM = 16,
	NR_ANON_MAPPED = 17,
	NR_FILE_MAPPED = 18,
	NR_FILE_PAGES = 19,
	NR_FILE_DIRTY = 20,
	NR_WRITEBACK = 21,
	NR_WRITEBACK_TEMP = 22,
	NR_SHMEM = 23,
	NR_SHMEM_THPS = 24,
	NR_SHMEM_PMDMAPPED = 25,
	NR_FILE_THPS = 26,
	NR_FILE_PMDMAPPED = 27,
	NR_ANON_THPS = 28,
	NR_VMSCAN_WRITE = 29,
	NR_VMSCAN_IMMEDIATE = 30,
	NR_DIRTIED = 31,
	NR_WRITTEN = 32,
	NR_THROTTLED_WRITTEN = 33,
	NR_KERNEL_MISC_RECLAIMABLE = 34,
	NR_FOLL_PIN_ACQUIRED = 35,
	NR_FOLL_PIN_RELEASED = 36,
	NR_KERNEL_STACK_KB = 37,
	NR_PAGETABLE = 38,
	NR_SECONDARY_PAGETABLE = 39,
	NR_SWAPCACHE = 40,
	PGPROMOTE_SUCCESS = 41,
	PGPROMOTE_CANDIDATE = 42,
	NR_VM_NODE_STAT_ITEMS = 43,
};

/* include/linux/memcontrol.h: memcg-only items continue the node_stat_item index space. */
enum memcg_stat_item {
	MEMCG_SWAP = NR_VM_NODE_STAT_ITEMS,
	MEMCG_SOCK,
	MEMCG_PERCPU_B,
	MEMCG_VMALLOC,
	MEMCG_KMEM,
	MEMCG_ZSWAP_B,
	MEMCG_ZSWAPPED,
	MEMCG_NR_STAT,
};

/* include/linux/memcontrol.h: memory.events (bpf_mem_cgroup_memory_events()). */
enum memcg_memory_event {
	MEMCG_LOW = 0,
	MEMCG_HIGH = 1,
	MEMCG_MAX = 2,
	MEMCG_OOM = 3,
	MEMCG_OOM_KILL = 4,
	MEMCG_OOM_GROUP_KILL = 5,
	MEMCG_SWAP_HIGH = 6,
	MEMCG_SWAP_MAX = 7,
	MEMCG_SWAP_FAIL = 8,
	MEMCG_NR_MEMORY_EVENTS = 9,
};

/* include/linux/mm_types_task.h: indexes of mm_struct.rss_stat. */
enum {
	MM_FILEPAGES = 0,
	MM_ANONPAGES = 1,
	MM_SWAPENTS = 2,
	MM_SHMEMPAGES = 3,
	NR_MM_COUNTERS = 4,
};

/* include/linux/cgroup-defs.h: cgroup_subsys_state.flags bits. */
enum {
	CSS_NO_REF = 1,
	CSS_ONLINE = 2,
	CSS_RELEASED = 4,
	CSS_VISIBLE = 8,
	CSS_DYING = 16,
};

/* ---- Folios and the page cache --------------------------------------------------------- */

typedef struct {
	unsigned long val;
} swp_entry_t;

/* The model's subset of struct page: the head-page view that struct folio overlays (policies
 * reach page->flags as &folio->page). The kernel's page continues with private, _mapcount,
 * _refcount and memcg_data; the model reads those through struct folio. */
struct page {
	unsigned long flags;
	union {
		struct {
			struct list_head lru;
			struct address_space *mapping;
			pgoff_t index;
		};
		struct {
			unsigned long compound_head;
		};
	};
};

/* The model's subset of struct folio (include/linux/mm_types.h, 6.x): its first page only.
 * memcg_data is the kernel 6.x field: for the page cache and anonymous folios the model uses,
 * it holds the charged struct mem_cgroup pointer with no MEMCG_DATA_* flag bits, as in the
 * kernel. Large-folio fields (_flags_1, _folio_nr_pages, ...) are not modelled. */
struct folio {
	union {
		struct {
			unsigned long flags;
			union {
				struct list_head lru;
			};
			struct address_space *mapping;
			pgoff_t index;
			union {
				/* the kernel's union also has void *private */
				swp_entry_t swap;
			};
			atomic_t _mapcount;
			atomic_t _refcount;
			unsigned long memcg_data;
		};
		struct page page;
	};
};

/* The model's subset of struct address_space (include/linux/fs.h). */
struct address_space {
	struct inode *host;
	gfp_t gfp_mask;
	unsigned long nrpages;
	pgoff_t writeback_index;
	unsigned long flags;
};

/* The model's subset of struct inode (include/linux/fs.h); i_mapping points at i_data, as for
 * every regular file in the kernel. struct super_block is opaque. */
struct inode {
	umode_t i_mode;
	unsigned int i_flags;
	struct super_block *i_sb;
	struct address_space *i_mapping;
	unsigned long i_ino;
	loff_t i_size;
	unsigned long i_state;
	struct address_space i_data;
};

/* struct file_ra_state (include/linux/fs.h, 6.x), complete: the readahead window. */
struct file_ra_state {
	pgoff_t start;
	unsigned int size;
	unsigned int async_size;
	unsigned int ra_pages;
	unsigned int mmap_miss;
	loff_t prev_pos;
};

/* The model's subset of struct file (include/linux/fs.h). */
struct file {
	struct inode *f_inode;
	unsigned int f_flags;
	fmode_t f_mode;
	loff_t f_pos;
	struct file_ra_state f_ra;
	struct address_space *f_mapping;
};

/* ---- Cgroups and memcg ----------------------------------------------------------------- */

/* The model's subset of struct kernfs_node (include/linux/kernfs.h): id is the cgroup id
 * (cgroup_id(cgrp) == cgrp->kn->id), as BPF programs read it. */
struct kernfs_node {
	struct kernfs_node *parent;
	const char *name;
	u64 id;
};

/* The model's subset of struct cgroup_subsys_state (include/linux/cgroup-defs.h). */
struct cgroup_subsys_state {
	struct cgroup *cgroup;
	struct list_head sibling;
	struct list_head children;
	int id;
	unsigned int flags;
	u64 serial_nr;
	struct cgroup_subsys_state *parent;
};

/* The model's subset of struct cgroup (include/linux/cgroup-defs.h). The id is kn->id. */
struct cgroup {
	struct cgroup_subsys_state self;
	unsigned long flags;
	int level;
	int nr_descendants;
	int nr_dying_descendants;
	struct kernfs_node *kn;
};

/* The model's subset of struct css_set: a task's default-hierarchy cgroup. */
struct css_set {
	struct cgroup *dfl_cgrp;
};

/* The model's subset of struct page_counter (include/linux/page_counter.h, 6.6), in pages,
 * without the cacheline padding. */
struct page_counter {
	atomic_long_t usage;
	unsigned long emin;
	atomic_long_t min_usage;
	atomic_long_t children_min_usage;
	unsigned long elow;
	atomic_long_t low_usage;
	atomic_long_t children_low_usage;
	unsigned long watermark;
	unsigned long failcnt;
	unsigned long min;
	unsigned long low;
	unsigned long high;
	unsigned long max;
	struct page_counter *parent;
};

struct mem_cgroup_id {
	int id;
	refcount_t ref;
};

/* The model's subset of struct mem_cgroup (include/linux/memcontrol.h, 6.6). Statistics are
 * read through the memcg kfuncs, not fields. */
struct mem_cgroup {
	struct cgroup_subsys_state css;
	struct mem_cgroup_id id;
	struct page_counter memory;
	union {
		struct page_counter swap;
		struct page_counter memsw;
	};
	unsigned long soft_limit;
	bool oom_group;
	int swappiness;
	atomic_long_t memory_events[MEMCG_NR_MEMORY_EVENTS];
	atomic_long_t memory_events_local[MEMCG_NR_MEMORY_EVENTS];
};

/* ---- Tasks and address spaces ---------------------------------------------------------- */

/* The model's subset of struct percpu_counter: the model keeps the exact count. */
struct percpu_counter {
	s64 count;
};

/* The model's subset of struct mm_struct (include/linux/mm_types.h): the counters
 * oom_badness() reads (rss_stat[MM_*].count, pgtables_bytes) and the owner task. */
struct mm_struct {
	atomic_long_t pgtables_bytes;
	int map_count;
	unsigned long hiwater_rss;
	unsigned long hiwater_vm;
	unsigned long total_vm;
	unsigned long locked_vm;
	unsigned long data_vm;
	unsigned long exec_vm;
	unsigned long stack_vm;
	struct percpu_counter rss_stat[NR_MM_COUNTERS];
	unsigned long flags;
	struct task_struct *owner;
};

/* The model's subset of struct signal_struct (include/linux/sched/signal.h): the OOM fields.
 * tsk_is_oom_victim(tsk) is tsk->signal->oom_mm != NULL. */
struct signal_struct {
	int nr_threads;
	bool oom_flag_origin;
	short oom_score_adj;
	short oom_score_adj_min;
	struct mm_struct *oom_mm;
};

/* The model's subset of struct task_struct (include/linux/sched.h). */
struct task_struct {
	unsigned int __state;
	unsigned int flags;
	struct mm_struct *mm;
	int exit_state;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	char comm[16];
	struct signal_struct *signal;
	struct css_set *cgroups;
};

/* ---- OOM: struct oom_control and bpf_oom_ops (BPF OOM series, v3) ---------------------- */

/* include/linux/nodemask.h with MAX_NUMNODES = 1024 (NODES_SHIFT 10). */
typedef struct {
	unsigned long bits[16];
} nodemask_t;

enum oom_constraint {
	CONSTRAINT_NONE = 0,
	CONSTRAINT_CPUSET = 1,
	CONSTRAINT_MEMORY_POLICY = 2,
	CONSTRAINT_MEMCG = 3,
};

/* struct oom_control (include/linux/oom.h) with the BPF OOM series' fields, which BPF may only
 * read. The kernel's gfp_mask and order are const; here they are not, so that the C++ model
 * can assign them. */
struct oom_control {
	struct zonelist *zonelist;
	nodemask_t *nodemask;
	struct mem_cgroup *memcg;
	gfp_t gfp_mask;
	int order;
	unsigned long totalpages;
	struct task_struct *chosen;
	long chosen_points;
	enum oom_constraint constraint;
	bool bpf_memory_freed;
	const char *bpf_handler_name;
};

/* The model's subset of struct bpf_link (include/linux/bpf.h). */
struct bpf_link {
	atomic64_t refcnt;
	u32 id;
};

/* The model's subset of struct bpf_struct_ops_link: the BPF OOM series' cgroup_id, the cgroup
 * the struct_ops is attached to (0 for the root, i.e. system-wide). */
struct bpf_struct_ops_link {
	struct bpf_link link;
	u64 cgroup_id;
};

/* include/linux/bpf_oom.h (v3): struct_ops "bpf_oom_ops". */
struct bpf_oom_ops {
	int (*handle_out_of_memory)(struct oom_control *oc, struct bpf_struct_ops_link *st_link);
	char name[64];
};

/* The v2 interface (2025-10), which the model accepts too: a context struct first, and a
 * callback when the cgroup the ops is attached to goes offline. A kernel had one or the other;
 * here the v2 layout carries libbpf's flavor suffix, so a policy may declare
 * `struct bpf_oom_ops___v2 ops = {...}` and it binds to bpf_oom_ops. */
struct bpf_oom_ctx {
	u64 cgroup_id; /* the cgroup the ops is attached to; 0 for the root (system-wide) */
};
struct bpf_oom_ops___v2 {
	int (*handle_out_of_memory)(struct bpf_oom_ctx *ctx, struct oom_control *oc);
	void (*handle_cgroup_offline)(struct bpf_oom_ctx *ctx, u64 cgroup_id);
	char name[64];
};

/* ---- PSI: struct psi_trigger and bpf_psi_ops (BPF OOM series, v2) ---------------------- */

/* include/linux/psi_types.h (CONFIG_IRQ_TIME_ACCOUNTING=y). */
enum psi_res {
	PSI_IO = 0,
	PSI_MEM = 1,
	PSI_CPU = 2,
	PSI_IRQ = 3,
	NR_PSI_RESOURCES = 4,
};

enum psi_states {
	PSI_IO_SOME = 0,
	PSI_IO_FULL = 1,
	PSI_MEM_SOME = 2,
	PSI_MEM_FULL = 3,
	PSI_CPU_SOME = 4,
	PSI_CPU_FULL = 5,
	PSI_IRQ_FULL = 6,
	PSI_NONIDLE = 7,
	NR_PSI_STATES = 8,
};

enum psi_aggregators {
	PSI_AVGS = 0,
	PSI_POLL = 1,
	NR_PSI_AGGREGATORS = 2,
};

struct psi_window {
	u64 size;
	u64 start_time;
	u64 start_value;
	u64 prev_growth;
};

/* The model's subset of struct psi_trigger, with the BPF PSI series' cgroup_id (0 for the
 * system-wide group). struct bpf_psi is the series' private per-ops state: opaque. */
struct psi_trigger {
	enum psi_states state;
	u64 threshold;
	struct psi_window win;
	u64 last_event_time;
	bool pending_event;
	enum psi_aggregators aggregator;
	u64 cgroup_id;
};

/* The series' private per-ops PSI state, opaque to programs: they only pass it back to
 * bpf_psi_create_trigger(). */
struct bpf_psi {
	u64 __opaque;
};

/* include/linux/bpf_psi.h: struct_ops "bpf_psi_ops". bpf_psi is set by the kernel. */
struct bpf_psi_ops {
	int (*init)(struct bpf_psi *bpf_psi);
	void (*handle_psi_event)(struct bpf_psi *bpf_psi, struct psi_trigger *t);
	void (*handle_cgroup_online)(struct bpf_psi *bpf_psi, u64 cgroup_id);
	void (*handle_cgroup_offline)(struct bpf_psi *bpf_psi, u64 cgroup_id);
	struct bpf_psi *bpf_psi;
};

/* ---- cache_ext (SOSP '25, linux-cache-ext include/linux/mm_types.h, mm/cache_ext_ds.c) --- */

struct cache_ext_eviction_ctx {
	unsigned long request_nr_folios_to_evict;	/* in */
	unsigned long nr_folios_to_evict;		/* out */
	struct folio *folios_to_evict[32];		/* out: candidates */
	s64 scores[32];					/* out: filled by list_sample */
};

struct cache_ext_admission_ctx {
	u64 ino;
	u64 offset;
	u64 size;
};

/* A node of a BPF eviction list (include/linux/cache_ext.h); BPF reads node->folio. */
struct cache_ext_list_node {
	struct folio *folio;
	struct list_head node;
};

struct sampling_options {
	__u32 sample_size;
	__u32 select_size;
};

struct cache_ext_iterate_opts {
	u64 continue_list;
	u64 continue_mode;
	u64 evict_list;
	u64 evict_mode;
	u64 nr_folios_continue;	/* out */
	u64 nr_folios_evict;	/* out */
};

/* mm/cache_ext_ds.c. The callback and iterate return codes (enum cache_ext_iter_callback_ret,
 * enum cache_ext_iter_ret) are not here: the shipped policies declare them themselves. */
enum cache_ext_iterate_mode {
	CACHE_EXT_ITERATE_SKIP = 0,
	CACHE_EXT_ITERATE_HEAD = 1,
	CACHE_EXT_ITERATE_TAIL = 2,
	CACHE_EXT_ITERATE_MAX = 3,
};

enum cache_ext_iterate_list {
	CACHE_EXT_ITERATE_SELF = 0,
};

/* struct_ops "cache_ext_ops", code names (not the paper's). */
struct cache_ext_ops {
	s32 (*init)(struct mem_cgroup *memcg);
	void (*evict_folios)(struct cache_ext_eviction_ctx *ctx, struct mem_cgroup *memcg);
	void (*folio_added)(struct folio *folio);
	void (*folio_accessed)(struct folio *folio);
	void (*folio_evicted)(struct folio *folio);
	bool (*admit_folio)(struct cache_ext_admission_ctx *ctx);
};

/* ---- bpf_dummy_ops: the kernel's struct_ops test type (include/linux/bpf.h) ------------ */

struct bpf_dummy_ops_state {
	int val;
};

struct bpf_dummy_ops {
	int (*test_1)(struct bpf_dummy_ops_state *cb);
	int (*test_2)(struct bpf_dummy_ops_state *cb, int a1, unsigned short a2, char a3,
		      unsigned long a4);
	int (*test_sleepable)(struct bpf_dummy_ops_state *cb);
};

/* ---- open-coded iterators (kernel/bpf/bpf_iter.c): opaque to programs ----------------- */

struct bpf_iter_num {
	u64 __opaque[1];
} __attribute__((aligned(8)));

/* kernel/bpf/cgroup_iter.c: a css's descendants (pre or post order), its ancestors, or itself. */
struct bpf_iter_css {
	u64 __opaque[3];
} __attribute__((aligned(8)));

/* kernel/bpf/task_iter.c: the tasks (or, with CSS_TASK_ITER_PROCS, the processes) of a css. */
struct bpf_iter_css_task {
	u64 __opaque[1];
} __attribute__((aligned(8)));

/* include/linux/cgroup.h */
#define CSS_TASK_ITER_PROCS (1U << 0)
#define CSS_TASK_ITER_THREADED (1U << 1)

/* ---- uapi (include/uapi/linux/bpf.h): for BPF C only, not in the model's BTF ----------- */

#if !defined(__cplusplus) && !defined(__LINUX_BPF_H__) && !defined(_UAPI__LINUX_BPF_H__)
enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC = 0,
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PROG_ARRAY = 3,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_STACK_TRACE = 7,
	BPF_MAP_TYPE_CGROUP_ARRAY = 8,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_LRU_PERCPU_HASH = 10,
	BPF_MAP_TYPE_LPM_TRIE = 11,
	BPF_MAP_TYPE_ARRAY_OF_MAPS = 12,
	BPF_MAP_TYPE_HASH_OF_MAPS = 13,
	BPF_MAP_TYPE_DEVMAP = 14,
	BPF_MAP_TYPE_SOCKMAP = 15,
	BPF_MAP_TYPE_CPUMAP = 16,
	BPF_MAP_TYPE_XSKMAP = 17,
	BPF_MAP_TYPE_SOCKHASH = 18,
	BPF_MAP_TYPE_CGROUP_STORAGE = 19,
	BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20,
	BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21,
	BPF_MAP_TYPE_QUEUE = 22,
	BPF_MAP_TYPE_STACK = 23,
	BPF_MAP_TYPE_SK_STORAGE = 24,
	BPF_MAP_TYPE_DEVMAP_HASH = 25,
	BPF_MAP_TYPE_STRUCT_OPS = 26,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_INODE_STORAGE = 28,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
	BPF_MAP_TYPE_BLOOM_FILTER = 30,
	BPF_MAP_TYPE_USER_RINGBUF = 31,
};

/* BPF_MAP_UPDATE_ELEM flags */
enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
	BPF_F_LOCK = 4,
};

/* BPF_MAP_CREATE flags */
enum {
	BPF_F_NO_PREALLOC = 1,
	BPF_F_NO_COMMON_LRU = 2,
	BPF_F_NUMA_NODE = 4,
	BPF_F_RDONLY = 8,
	BPF_F_WRONLY = 16,
	BPF_F_STACK_BUILD_ID = 32,
	BPF_F_ZERO_SEED = 64,
	BPF_F_RDONLY_PROG = 128,
	BPF_F_WRONLY_PROG = 256,
	BPF_F_CLONE = 512,
	BPF_F_MMAPABLE = 1024,
	BPF_F_PRESERVE_ELEMS = 2048,
	BPF_F_INNER_MAP = 4096,
};

/* bpf_ringbuf_output/submit flags and bpf_ringbuf_query flags */
enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};

enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
	BPF_RB_CONS_POS = 2,
	BPF_RB_PROD_POS = 3,
};

enum bpf_cgroup_iter_order {
	BPF_CGROUP_ITER_ORDER_UNSPEC = 0,
	BPF_CGROUP_ITER_SELF_ONLY = 1,
	BPF_CGROUP_ITER_DESCENDANTS_PRE = 2,
	BPF_CGROUP_ITER_DESCENDANTS_POST = 3,
	BPF_CGROUP_ITER_ANCESTORS_UP = 4,
};

struct bpf_spin_lock {
	__u32 val;
};
#endif /* !__cplusplus && !<linux/bpf.h> */

#ifdef __cplusplus
#pragma GCC diagnostic pop
#endif
#if defined(__bpf__) && !defined(BPF_NO_PRESERVE_ACCESS_INDEX)
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
