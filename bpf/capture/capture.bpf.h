/* The record the live-capture programs (capture.bpf.c) put on their ring buffer, shared with
 * the loader (src/workload/capture.cpp). Plain C with fixed-width types, so the BPF side and
 * the C++ side see one layout (48 bytes, no padding holes).
 *
 * What it carries, per kind:
 *   CAP_READ, CAP_WRITE     dev, ino, off = byte offset, len = bytes done (syscall ret),
 *                           size = i_size at syscall exit
 *   CAP_FADVISE             dev, ino, off, len, aux = advice
 *   CAP_FSYNC, CAP_FTRUNCATE dev, ino (ftruncate: len = new size)
 *   CAP_FAULT               dev, ino, off = page index (mm_filemap_fault), size = i_size
 *   CAP_MAP_PAGES           dev, ino, off = first index, len = pages (fault-around), size
 *   CAP_PGCACHE_ADD/DEL     dev, ino, off = page index, aux = folio order
 *   CAP_FORK                pid = child tgid, aux = parent tgid
 *   CAP_EXIT                pid
 * Simplified: dev is the kernel's internal dev_t (MAJOR << 20 | MINOR).
 */
#ifndef MMBPF_CAPTURE_BPF_H
#define MMBPF_CAPTURE_BPF_H

enum cap_kind {
	CAP_READ = 1,
	CAP_WRITE,
	CAP_FADVISE,
	CAP_FSYNC,
	CAP_FTRUNCATE,
	CAP_FAULT,
	CAP_MAP_PAGES,
	CAP_PGCACHE_ADD,
	CAP_PGCACHE_DEL,
	CAP_FORK,
	CAP_EXIT,
	CAP_NR_KINDS,
};

struct cap_record {
	unsigned char kind;
	unsigned char pad[3];
	unsigned int dev;
	unsigned int pid; /* tgid */
	unsigned int aux;
	unsigned long long ino;
	unsigned long long off;
	unsigned long long len;
	unsigned long long size;
};

/* Slots of the counters array map (index: what). */
enum cap_counter {
	CAP_CNT_DROPPED = 0,  /* bpf_ringbuf_reserve() failed: the record was lost */
	CAP_CNT_EMITTED,      /* records submitted */
	CAP_CNT_PGCACHE_ADD_PAGES, /* sum of 1 << order over the cgroup's insertions */
	CAP_CNT_PGCACHE_DEL_PAGES,
	CAP_CNT_MAP_PAGES,    /* pages mapped by fault-around */
	CAP_CNT_FAULTS,       /* mm_filemap_fault hits */
	CAP_CNT_PGCACHE_ADD_NODEV_PAGES, /* insertions into files of no block device (the bdev
					  * inode's metadata blocks, tmpfs, ...): not in the trace */
	CAP_NR_COUNTERS,
};

#endif
