// The driver (DESIGN §1, workload ──► driver ──► mm model): pulls events from a source in
// batches and turns each into the model's entry point for it (a read into sys_read(), an
// anonymous touch into handle_mm_fault(), ...), then lets the model finish the event
// (end_event: IO completion, flusher, the event's latency). Also opens the workloads the
// command names (a trace file or a generator spec) together with what they say about their
// files.
//
// Simplified: events run strictly in trace order, one at a time (the model's clock serializes
// them); an event that names a cgroup that does not exist stops the replay with an error
// rather than being skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "bpf/error.h"
#include "mm/belady.h"
#include "mm/model.h"
#include "workload/import.h"
#include "workload/source.h"
#include "workload/trace.h"

namespace mmbpf::workload {

struct replay_options {
  size_t batch = 4096;  // events pulled from the source per read()
  // Prefixes the driver's own errors ("trace.bin: event 17: ..."); empty: no prefix. Errors
  // of the source (corrupt input) carry their own name.
  std::string name;
  // Called with the number of events replayed so far, every `progress_every` events (at batch
  // granularity) and once at the end. 0 or no callback: never.
  uint64_t progress_every = 0;
  std::function<void(uint64_t events_done)> progress;
  // Called after a cgroup_create event created `mc` (e.g. to attach a policy to it).
  std::function<void(mm::memcg& mc)> on_cgroup_create;
  // Stop after this many events (0: the whole stream).
  uint64_t max_events = 0;
};

struct replay_stats {
  uint64_t events = 0;   // events replayed
  uint64_t wall_ns = 0;  // wall-clock time of the replay loop, reading included
  double events_per_second() const {
    return wall_ns ? static_cast<double>(events) * 1e9 / static_cast<double>(wall_ns) : 0.0;
  }
};

// Replays src into m until the stream ends. Errors are one line: a source error as the source
// words it, or "event N: ..." (events numbered from 1) for an event the model cannot take:
//   "event 17: cgroup 3 does not exist (create it in the config or with a cgroup_create event)"
// REQUIRES opt.batch > 0.
result<replay_stats> replay(event_source& src, mm::model& m, const replay_options& opt = {});

// The page-cache lookups the model will make replaying src, in order (one per page a read,
// write or file fault touches, cut at EOF as the model cuts them): what Belady's MIN
// (mm/belady.h) needs to know the future. Assumes no task is OOM-killed (a killed task's
// later events make no lookups).
result<std::vector<mm::page_ref>> page_lookups(event_source& src, const trace_meta& meta);

// Applies what a trace or generator knows of its files to m: their sizes (meta.file_size, with
// m.set_file_size()) and, from a live capture, their executable mappings
// ("capture.exec_vma.<ino>=first-end,...", page ranges, with m.set_exec_vma()), which decide
// fault readahead there.
void apply_trace_files(const trace_meta& meta, mm::model& m);

// A workload ready to replay: its events, what it says about its files, and how many events
// it holds (0: unknown; approximate for a binary trace), for a progress line.
struct workload_source {
  std::unique_ptr<event_source> events;
  trace_meta meta;
  uint64_t expected_events = 0;
};

// Opens a trace file of the given format (import.h's guess_trace_format() tells it). For
// imported formats (oracleGeneral, csv) the metadata is empty: the synthetic file's size is
// known only at the end, and the model lets a file of unknown size grow as it is read.
result<workload_source> open_trace_workload(const std::string& path, trace_format fmt,
                                            const import_options& opt = {});
// Builds a generator from a spec (spec.h).
result<workload_source> open_generator_workload(std::string_view spec);

}  // namespace mmbpf::workload
