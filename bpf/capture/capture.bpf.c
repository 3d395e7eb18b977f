/* Live capture of a workload's page-cache relevant events, for the LIVE kernel (loaded with
 * Debian's libbpf by src/workload/capture.cpp, not by mmbpf's own runtime).
 *
 * What it records, for tasks whose cgroup v1 memory cgroup is the target (its kernfs id, set
 * in .rodata before load), on files of block-device file systems (MAJOR(s_dev) != 0: not
 * proc, sysfs, tmpfs, pipes or sockets):
 *   - buffered read/pread64/write/pwrite64: the file from the fd table (task->files->fdt->fd),
 *     its inode, device and i_size through BTF (CO-RE against /sys/kernel/btf/vmlinux), the
 *     offset (f_pos after the call minus the bytes done, or the pread/pwrite position) and the
 *     bytes done (the syscall's return value);
 *   - fadvise64, fsync/fdatasync, ftruncate on such files;
 *   - filemap faults (raw mm_filemap_fault) and fault-around (raw mm_filemap_map_pages), with
 *     the file's i_size from the mapping's host inode;
 *   - page-cache insertions and deletions (filemap:mm_filemap_{add_to,delete_from}_page_cache)
 *     with the folio order;
 *   - new processes (raw sched_process_fork, child tgid != parent tgid) and process exits.
 * Every record goes through one ring buffer; a failed reservation is counted (counters map,
 * CAP_CNT_DROPPED), so the loader reports exactly how many records were lost.
 *
 * Simplified: readv/writev, io_uring, AIO and splice/sendfile are not seen; a deletion is
 * seen when it happens in the context of a task of the target cgroup (memcg limit reclaim,
 * truncation), not when kswapd or another cgroup's reclaim removes the folio; the offset of a
 * read(2) on a file shared with another thread can be off if both move f_pos at once.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "capture.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The kernel types read here: only the fields used, relocated by libbpf against the running
 * kernel's BTF. */
struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct cgroup_subsys_state {
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

struct css_set {
	struct cgroup_subsys_state *subsys[16];
} __attribute__((preserve_access_index));

enum cgroup_subsys_id {
	memory_cgrp_id = 4,
};

struct super_block {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode {
	__u16 i_mode;
	unsigned long i_ino;
	long long i_size;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
	long long f_pos;
} __attribute__((preserve_access_index));

struct address_space {
	struct inode *host;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	struct files_struct *files;
	struct css_set *cgroups;
} __attribute__((preserve_access_index));

/* Tracepoint contexts, as /sys/kernel/tracing/events/.../format lays them out. */
struct sys_enter_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

struct sys_exit_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

struct pgcache_ctx { /* mm_filemap_add_to_page_cache, mm_filemap_delete_from_page_cache */
	__u64 common;
	__u64 pfn;
	__u64 i_ino;
	__u64 index;
	__u32 s_dev;
	__u8 order;
};

/* Set by the loader before load: the kernfs id (the directory's inode number) of the target
 * memory cgroup. */
const volatile __u64 target_cgroup_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CAP_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* A read/write in flight: what sys_enter saw, for sys_exit. */
struct pending {
	struct file *file;
	__u64 pos;       /* pread/pwrite position; unused for read/write */
	__u8 kind;       /* CAP_READ or CAP_WRITE */
	__u8 positional; /* pread64/pwrite64 */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct pending);
} inflight SEC(".maps");

static __always_inline void count(__u32 slot, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &slot);

	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline int in_target(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct css_set *cs = BPF_CORE_READ(t, cgroups);
	struct cgroup_subsys_state *css = 0;
	int idx = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

	if (!cs || idx < 0 || idx >= 16)
		return 0;
	bpf_core_read(&css, sizeof(css), &cs->subsys[idx]);
	if (!css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id) == target_cgroup_id;
}

/* A file of a block-device file system: MAJOR(dev) != 0 (anonymous superblocks have 0). */
static __always_inline int real_dev(__u32 dev)
{
	return (dev >> 20) != 0;
}

static __always_inline struct cap_record *reserve(void)
{
	struct cap_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count(CAP_CNT_DROPPED, 1);
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->pid = bpf_get_current_pid_tgid() >> 32;
	return r;
}

static __always_inline void submit(struct cap_record *r)
{
	bpf_ringbuf_submit(r, 0);
	count(CAP_CNT_EMITTED, 1);
}

/* Sends a copy of rec, built on the stack, through the ring buffer; its pid is the current
 * process's unless rec names one. */
static __always_inline int emit(const struct cap_record *rec)
{
	struct cap_record *r = reserve();
	__u32 pid;

	if (!r)
		return 0;
	pid = rec->pid ? rec->pid : r->pid;
	*r = *rec;
	r->pid = pid;
	submit(r);
	return 0;
}

static __always_inline struct file *fd_file(__u64 fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = 0;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_core_read(&f, sizeof(f), &fds[fd]);
	return f;
}

/* Fills dev, ino, size from a regular file of a block-device fs; 0 if it is not one. */
static __always_inline int file_id(struct file *f, struct cap_record *out)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	__u16 mode;

	if (!ino)
		return 0;
	mode = BPF_CORE_READ(ino, i_mode);
	if ((mode & 0170000) != 0100000) /* S_ISREG */
		return 0;
	out->dev = BPF_CORE_READ(ino, i_sb, s_dev);
	if (!real_dev(out->dev))
		return 0;
	out->ino = BPF_CORE_READ(ino, i_ino);
	out->size = BPF_CORE_READ(ino, i_size);
	return 1;
}

static __always_inline int rw_enter(struct sys_enter_ctx *ctx, __u8 kind, __u8 positional)
{
	struct pending p = {};
	__u64 id = bpf_get_current_pid_tgid();

	if (!in_target())
		return 0;
	p.file = fd_file(ctx->args[0]);
	if (!p.file)
		return 0;
	p.kind = kind;
	p.positional = positional;
	p.pos = positional ? ctx->args[3] : 0;
	bpf_map_update_elem(&inflight, &id, &p, BPF_ANY);
	return 0;
}

static __always_inline int rw_exit(struct sys_exit_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&inflight, &id);
	struct cap_record tmp = {};
	__u64 done;

	if (!p)
		return 0;
	if (ctx->ret <= 0 || !file_id(p->file, &tmp)) {
		bpf_map_delete_elem(&inflight, &id);
		return 0;
	}
	done = ctx->ret;
	tmp.kind = p->kind;
	tmp.len = done;
	if (p->positional) {
		tmp.off = p->pos;
	} else { /* f_pos has moved past what was done; O_APPEND writes included */
		struct file *f = p->file;

		tmp.off = BPF_CORE_READ(f, f_pos) - done;
	}
	bpf_map_delete_elem(&inflight, &id);
	return emit(&tmp);
}

SEC("tracepoint/syscalls/sys_enter_read")
int enter_read(struct sys_enter_ctx *ctx) { return rw_enter(ctx, CAP_READ, 0); }
SEC("tracepoint/syscalls/sys_exit_read")
int exit_read(struct sys_exit_ctx *ctx) { return rw_exit(ctx); }
SEC("tracepoint/syscalls/sys_enter_pread64")
int enter_pread64(struct sys_enter_ctx *ctx) { return rw_enter(ctx, CAP_READ, 1); }
SEC("tracepoint/syscalls/sys_exit_pread64")
int exit_pread64(struct sys_exit_ctx *ctx) { return rw_exit(ctx); }
SEC("tracepoint/syscalls/sys_enter_write")
int enter_write(struct sys_enter_ctx *ctx) { return rw_enter(ctx, CAP_WRITE, 0); }
SEC("tracepoint/syscalls/sys_exit_write")
int exit_write(struct sys_exit_ctx *ctx) { return rw_exit(ctx); }
SEC("tracepoint/syscalls/sys_enter_pwrite64")
int enter_pwrite64(struct sys_enter_ctx *ctx) { return rw_enter(ctx, CAP_WRITE, 1); }
SEC("tracepoint/syscalls/sys_exit_pwrite64")
int exit_pwrite64(struct sys_exit_ctx *ctx) { return rw_exit(ctx); }

/* fd-only calls: record at entry (the model needs the intent, not the result). */
static __always_inline int fd_event(__u64 fd, __u8 kind, __u64 off, __u64 len, __u32 aux)
{
	struct cap_record tmp = {};
	struct file *f;

	if (!in_target())
		return 0;
	f = fd_file(fd);
	if (!f || !file_id(f, &tmp))
		return 0;
	tmp.kind = kind;
	tmp.off = off;
	tmp.len = len;
	tmp.aux = aux;
	return emit(&tmp);
}

SEC("tracepoint/syscalls/sys_enter_fadvise64")
int enter_fadvise64(struct sys_enter_ctx *ctx)
{
	return fd_event(ctx->args[0], CAP_FADVISE, ctx->args[1], ctx->args[2], (__u32)ctx->args[3]);
}
SEC("tracepoint/syscalls/sys_enter_fsync")
int enter_fsync(struct sys_enter_ctx *ctx) { return fd_event(ctx->args[0], CAP_FSYNC, 0, 0, 0); }
SEC("tracepoint/syscalls/sys_enter_fdatasync")
int enter_fdatasync(struct sys_enter_ctx *ctx) { return fd_event(ctx->args[0], CAP_FSYNC, 0, 0, 0); }
SEC("tracepoint/syscalls/sys_enter_ftruncate")
int enter_ftruncate(struct sys_enter_ctx *ctx)
{
	return fd_event(ctx->args[0], CAP_FTRUNCATE, 0, ctx->args[1], 0);
}

static __always_inline int page_event(__u8 kind, __u32 dev, __u64 ino, __u64 off, __u64 len,
				      __u32 aux)
{
	struct cap_record rec = {.kind = kind, .dev = dev, .ino = ino, .off = off, .len = len,
				 .aux = aux};

	return emit(&rec);
}

SEC("tracepoint/filemap/mm_filemap_add_to_page_cache")
int pgcache_add(struct pgcache_ctx *ctx)
{
	if (!in_target())
		return 0;
	if (!real_dev(ctx->s_dev)) {
		count(CAP_CNT_PGCACHE_ADD_NODEV_PAGES, 1ULL << (ctx->order & 31));
		return 0;
	}
	count(CAP_CNT_PGCACHE_ADD_PAGES, 1ULL << (ctx->order & 31));
	return page_event(CAP_PGCACHE_ADD, ctx->s_dev, ctx->i_ino, ctx->index, 1ULL << (ctx->order & 31),
			  ctx->order);
}

SEC("tracepoint/filemap/mm_filemap_delete_from_page_cache")
int pgcache_del(struct pgcache_ctx *ctx)
{
	if (!real_dev(ctx->s_dev) || !in_target())
		return 0;
	count(CAP_CNT_PGCACHE_DEL_PAGES, 1ULL << (ctx->order & 31));
	return page_event(CAP_PGCACHE_DEL, ctx->s_dev, ctx->i_ino, ctx->index, 1ULL << (ctx->order & 31),
			  ctx->order);
}

/* Faults as raw tracepoints: their arguments are the mapping (so the inode's i_size too, which
 * the formatted event lacks) and the page index or range. */
static __always_inline int mapping_id(struct address_space *mapping, struct cap_record *out)
{
	struct inode *ino = BPF_CORE_READ(mapping, host);

	if (!ino)
		return 0;
	out->dev = BPF_CORE_READ(ino, i_sb, s_dev);
	if (!real_dev(out->dev))
		return 0;
	out->ino = BPF_CORE_READ(ino, i_ino);
	out->size = BPF_CORE_READ(ino, i_size);
	return 1;
}

static __always_inline int fault_event(__u8 kind, struct address_space *mapping, __u64 first,
				       __u64 last)
{
	struct cap_record tmp = {};

	if (!in_target() || !mapping_id(mapping, &tmp))
		return 0;
	if (kind == CAP_FAULT)
		count(CAP_CNT_FAULTS, 1);
	else
		count(CAP_CNT_MAP_PAGES, last - first + 1);
	tmp.kind = kind;
	tmp.off = first;
	tmp.len = last - first + 1;
	return emit(&tmp);
}

/* trace_mm_filemap_fault(struct address_space *mapping, pgoff_t index) */
SEC("raw_tracepoint/mm_filemap_fault")
int filemap_fault(struct bpf_raw_tracepoint_args *ctx)
{
	return fault_event(CAP_FAULT, (struct address_space *)ctx->args[0], ctx->args[1],
			   ctx->args[1]);
}

/* trace_mm_filemap_map_pages(struct address_space *mapping, pgoff_t index, pgoff_t last) */
SEC("raw_tracepoint/mm_filemap_map_pages")
int filemap_map_pages(struct bpf_raw_tracepoint_args *ctx)
{
	return fault_event(CAP_MAP_PAGES, (struct address_space *)ctx->args[0], ctx->args[1],
			   ctx->args[2]);
}

SEC("raw_tracepoint/sched_process_fork")
int process_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	int ctgid = BPF_CORE_READ(child, tgid);
	int ptgid = BPF_CORE_READ(parent, tgid);
	struct cap_record rec = {.kind = CAP_FORK, .pid = ctgid, .aux = ptgid};

	if (ctgid == ptgid || !in_target()) /* a thread, or not ours */
		return 0;
	return emit(&rec);
}

SEC("tracepoint/sched/sched_process_exit")
int process_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct cap_record rec = {.kind = CAP_EXIT};

	bpf_map_delete_elem(&inflight, &id);
	if ((__u32)id != (__u32)(id >> 32) || !in_target()) /* the group leader only */
		return 0;
	return emit(&rec);
}
