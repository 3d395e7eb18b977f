// Live capture (DESIGN §5): runs a command in a memory cgroup of the LIVE kernel (cgroup v1
// memory controller), records its page-cache relevant events with BPF tracepoint programs
// (bpf/capture/capture.bpf.c, loaded by Debian's libbpf, CO-RE against the kernel's BTF) and
// writes them as an mmbpf trace, with the inode -> file size map the model needs and the
// kernel's own figures (memory.stat before and after, the process tree's IO counters, page
// cache insertions by folio order, ring buffer losses) in the trace's metadata.
//
// How captured records become trace events (all in cgroup 0, the captured cgroup; validate.h
// puts them in a cgroup with the capture's limit):
//   read/pread64           read      (model inode id, byte offset, bytes done)
//   write/pwrite64         write
//   fadvise64              fadvise
//   fsync/fdatasync        fsync
//   ftruncate              truncate
//   mm_filemap_fault       mmap_fault_file (one page)
//   sched_process_fork     fork (child tgid, parent tgid); threads are not processes
//   sched_process_exit     exit (thread group leaders)
//   page-cache add/delete  not events: the model makes its own; counted per folio order into
//                          the metadata (kernel.pgcache_*), the kernel's insertion figure
//   mm_filemap_map_pages   fault-around: not an event (the model has no kind that maps
//                          present pages without a fault); counted (kernel.map_pages)
// Inode numbers become model ids 1, 2, ... in order of first appearance ((dev, ino) pairs).
// Events on a file of which the cgroup never inserted a page are left out (counted in
// capture.events_precached): such a file was wholly cached before the capture, charged to
// another cgroup, and all its accesses were hits the model could not reproduce cold.
//
// Pages that were resident before the capture (charged to other cgroups: shared libraries,
// files other processes keep cached) are given to the model by a warm-up at the start of the
// trace: in cgroup 1 (a sibling of the captured cgroup 0), pid 4194305 advises
// POSIX_FADV_RANDOM and reads exactly those pages, then exits. A page counts as pre-resident
// when a read found it without the cgroup having inserted it, when a faulted page was never
// inserted by the cgroup, or when mincore() at the end finds it resident in a file the
// workload mapped (paths from /proc/PID/maps) without the cgroup having inserted it — the
// pages a fault read-around in the kernel skipped. (capture.preresident_pages)
//
// Metadata keys (all values one word; capture.command and capture.cgroup percent-encode
// blanks): capture.* (command, cgroup, memory_limit, records, lost, events, noncache_*
// samples of what the cgroup charged besides page cache, ...), read_ahead_kb of the device
// most bytes were read from, kernel.* (page-cache insertions and deletions in pages, by folio
// order, faults, fault-around pages), io.* (read_bytes, write_bytes, majflt of the command's
// process tree), memory.stat.before.* / memory.stat.after.* (v1 local names), cgroup.*.
// $MMBPF_CAPTURE_DEBUG prints libbpf's messages (relocations, verifier log) on stderr.
//
// Simplified: cgroup v1 memory only (the machines have no cgroup2 memory controller); see
// capture.bpf.c for what the tracepoints do not see (readv/writev, io_uring, deletions by
// kswapd).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/error.h"
#include "workload/trace.h"

namespace mmbpf::workload {

struct capture_options {
  std::vector<std::string> command;  // argv; empty: watch `cgroup` for `duration_s` or SIGINT
  std::string cgroup;        // an existing v1 memory cgroup directory; empty: a fresh one
  uint64_t memory_limit = 0;  // bytes, for a fresh cgroup; 0: no limit
  std::string output;         // trace path; written to output.tmp and renamed at the end
  std::string bpf_object;     // empty: default_capture_object()
  double duration_s = 0;      // watch mode: stop after this long (0: at SIGINT/SIGTERM)
  bool drop_caches = false;   // sync; echo 3 > /proc/sys/vm/drop_caches before starting
  // The ring buffer's size in bytes (a power of two, at least one page); 0: the object's
  // 16 MiB. Small sizes make the loss counting visible (tests).
  uint64_t ring_buffer_bytes = 0;
  // 0: the consumer wakes on every record (epoll). Otherwise it sleeps this long between
  // drains: fewer wakeups for the host, and, with a small ring buffer, losses on purpose (tests).
  unsigned drain_interval_ms = 0;
  // Also write every ring buffer record as a text line "kind pid dev ino off len aux" (kinds
  // and fields as bpf/capture/capture.bpf.h), in arrival order, for diagnosis. Empty: none.
  std::string records_path;
  std::function<void(const std::string&)> log;  // progress lines (stderr), may be empty
};

struct capture_result {
  trace_meta meta;
  uint64_t events = 0;     // trace events written
  uint64_t records = 0;    // ring buffer records received
  uint64_t lost = 0;       // ring buffer records dropped (reservation failed)
  int exit_status = 0;     // the command's exit code (128 + signal when killed)
};

// Captures as described above. Errors are one line ("capture needs root: ...",
// "COMMAND: No such file or directory", ...); on error nothing is left at `output`.
result<capture_result> capture(const capture_options& opt);

// Whether a live capture can run here: root, tracefs (mounted if needed), the v1 memory
// controller, the kernel's BTF and a loadable BPF tracepoint program. The error says what is
// missing, for tests to skip with.
result<void> capture_supported(const std::string& bpf_object = {});

// The capture BPF object built with mmbpf ($MMBPF_CAPTURE_OBJ overrides).
std::string default_capture_object();

// ---- cgroup v1 memory (capture_cgroup.cpp) -----------------------------------------------------

// The mount point of the v1 memory controller ("/sys/fs/cgroup/memory"), or an error.
result<std::string> memory_cgroup_root();
// The v1 memory cgroup directory of this process.
result<std::string> own_memory_cgroup();
// A fresh cgroup below `parent` named `name`, with memory.limit_in_bytes = limit (0: none).
result<std::string> create_memory_cgroup(const std::string& parent, const std::string& name,
                                         uint64_t limit);
// rmdir after moving any remaining task to the parent; errors are ignored (best effort).
void remove_memory_cgroup(const std::string& dir);
// memory.stat as name -> value (bytes for sizes, counts for events; v1 names).
result<std::map<std::string, uint64_t>> read_memory_stat(const std::string& dir);
// A single-number cgroup file (memory.usage_in_bytes, ...).
result<uint64_t> read_cgroup_u64(const std::string& dir, const std::string& file);
// The pids in cgroup.procs.
std::vector<int> cgroup_pids(const std::string& dir);
// /proc/PID/io as name -> value (rchar, read_bytes, ...); empty if the process is gone.
std::map<std::string, uint64_t> read_proc_io(int pid);
// read_ahead_kb of a block device given the kernel's dev_t (MAJOR << 20 | MINOR), looking at
// the whole disk for a partition; 0 if unknown.
uint64_t device_read_ahead_kb(uint32_t kdev);

}  // namespace mmbpf::workload
