// Validation of the model against the live kernel: a trace from `mmbpf capture` (capture.h)
// replayed in the model with the kernel's default policy, in a memory cgroup with the
// capture's limit and the device's read_ahead_kb, and the kernel's measured figures (from the
// trace's metadata) beside the model's, with the relative error of each.
//
// The metrics (name: kernel side / model side):
//   io_read_bytes            bytes the command's process tree read from the device (wait4
//                            rusage ru_inblock * 512, what /proc/PID/io read_bytes counts) /
//                            the model's device reads (model_counters::io_read_bytes)
//   pgmajfault               memory.stat pgmajfault, after - before / memory.stat pgmajfault
//   workingset_refault_file  memory.stat workingset_refault_file (pages) / the same counter
//   pgcache_add_pages        pages inserted into the page cache by the cgroup's tasks (the sum
//                            of 1 << order over filemap:mm_filemap_add_to_page_cache) / pages
//                            the model inserted (file pages at the end + file pages reclaimed)
//   cache_bytes              memory.stat cache at the end (v1; bytes) / NR_FILE_PAGES * 4096
//   device_read_fraction     io_read_bytes / the bytes the workload read (read events, file
//                            faults as pages): the share of reads served from the device
//
// The model's limit: the kernel's memory.limit_in_bytes charges the page cache *and* the rest
// (anonymous memory, kernel memory: the dentries and inodes a file tree costs), which the
// model does not see; so by default the model's memory.max is the limit minus the mean of
// what the cgroup charged besides its page cache while the capture ran (sampled; in the
// metadata as capture.noncache_mean_bytes). validate_options::limit overrides.
//
// Simplified: one memory cgroup; the model's insertion count is exact only for workloads that
// neither truncate nor drop cache with fadvise (their removals are not counted).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bpf/error.h"
#include "mm/config.h"
#include "workload/trace.h"

namespace mmbpf::workload {

struct validate_options {
  uint64_t limit = 0;          // bytes for the model's memory.max; 0: derived from the trace
  uint64_t read_ahead_kb = 0;  // 0: the trace's read_ahead_kb, else the model's default
};

struct metric {
  std::string name;  // kernel counter name where one exists
  std::string unit;  // "bytes", "pages", "events"
  std::optional<double> kernel;  // nullopt: the trace does not have it
  double model = 0;
  // (model - kernel) / kernel; nullopt when the kernel's figure is missing, or 0 while the
  // model's is not
  std::optional<double> relative_error;
};

struct validation {
  std::vector<metric> metrics;
  uint64_t limit_bytes = 0;        // the capture's memory.limit_in_bytes (0: none)
  uint64_t model_limit_bytes = 0;  // the model's memory.max
  uint64_t noncache_bytes = 0;     // what was subtracted
  uint64_t read_ahead_kb = 0;
  uint64_t events = 0;             // events replayed
  uint64_t lost = 0;               // ring buffer records the capture lost
  std::vector<std::string> notes;  // what differs between kernel and model, in words
  // the model's own figures behind the metrics (misses, pgscan_file, pgsteal_file,
  // pgactivate, pgdeactivate, workingset_activate_file, readahead_pages, ...), for diagnosis
  std::vector<std::pair<std::string, double>> model_detail;
};

// The model's config for a capture's metadata: node memory, read_ahead_kb, and cgroup 1
// ("/capture") with the limit as memory.max. REQUIRES nothing of meta (missing keys: defaults).
mm::config validation_config(const trace_meta& meta, const validate_options& opt,
                             validation& out);

// The kernel's figure for a metric from a capture's metadata, if it has it.
std::optional<double> kernel_metric(const trace_meta& meta, const std::string& name);

// relative_error as defined above.
std::optional<double> relative_error(std::optional<double> kernel, double model);

// Replays the trace at `path` (cgroup 0's events into cgroup 1) and compares. Errors: the
// trace's own (unreadable, corrupt), or "not a capture" when it has no capture metadata.
result<validation> validate_trace(const std::string& path, const validate_options& opt = {});

}  // namespace mmbpf::workload
