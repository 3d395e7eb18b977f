// Import of object-cache traces as page-cache reads: libCacheSim's oracleGeneral binary format
// and a simple CSV. Mapping: every distinct object id becomes one page of one synthetic file
// (inode `ino`, default 1), numbered densely in order of first appearance (the first new id is
// page 0, the next new id page 1, ...); each request becomes
// `read pid cg ino off=page*4096 len=4096`. Renaming ids this way changes no hit or miss of
// any policy that looks only at identity and order, so miss counts stay comparable with
// libCacheSim's (--ignore-obj-size 1).
//
// Simplified: object sizes are ignored (one object = one page); timestamps are dropped (the
// model has its own clock); the synthetic file's size (distinct ids x 4096) is known only once
// the stream has ended.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "workload/source.h"
#include "workload/trace.h"

namespace mmbpf::workload {

// oracleGeneral record (libCacheSim traceReader/customizedReader/oracle/oracleGeneralBin.h):
// packed, little-endian, 24 bytes; offsets 0/4/12/16.
struct oracle_general_record {
  uint32_t clock_time;
  uint64_t obj_id;
  uint32_t obj_size;
  // The next request for obj_id, counted from 1 as libCacheSim's traceConv writes it (so it is
  // the 0-based index of the next request + 1); -1 or INT64_MAX: none.
  int64_t next_access_vtime;
} __attribute__((packed));
static_assert(sizeof(oracle_general_record) == 24);

inline constexpr int64_t no_next_access = INT64_MAX;

struct import_options {
  uint32_t pid = 1;
  uint16_t cgroup = 0;
  uint32_t ino = 1;
  // If set, receives one entry per event: next_access_vtime of its record as the file has it,
  // or no_next_access (oracleGeneral only; -1 is normalised to no_next_access). For Belady's
  // MIN. Not owned.
  std::vector<int64_t>* next_access = nullptr;
};

// Object id -> dense page index, by first appearance. Open addressing; no allocation per id
// beyond amortised growth.
class dense_id_map {
 public:
  uint64_t map(uint64_t id);
  uint64_t size() const { return n_; }
  // Brings the slot map(id) will probe first into the cache (a batch reader calls it a few
  // records ahead: the lookups of a big trace are cache misses otherwise).
  void prefetch(uint64_t id) const {
    // inline asm: GCC 12 drops this __builtin_prefetch (its address comes from loads)
    if (!slots_.empty()) asm volatile("prefetcht0 %0" : : "m"(slots_[mix(id) & (slots_.size() - 1)]));
  }

 private:
  void grow();
  static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    return x ^ (x >> 33);
  }
  struct slot {
    uint64_t key, val;  // val = index + 1; 0 = empty
  };
  std::vector<slot> slots_;  // key and value side by side: one cache miss per lookup
  uint64_t n_ = 0;
};

class oracle_general_reader final : public event_source {
 public:
  static result<std::unique_ptr<oracle_general_reader>> open(const std::string& path,
                                                             import_options opt = {});
  ~oracle_general_reader() override;
  result<size_t> read(std::span<event> out) override;
  uint64_t distinct_pages() const { return ids_.size(); }
  // inode -> distinct_pages() * 4096, plus source=oracleGeneral.
  trace_meta meta() const;

 private:
  oracle_general_reader() = default;
  std::string name_;
  int fd_ = -1;
  import_options opt_;
  dense_id_map ids_;
  std::vector<oracle_general_record> buf_;
  uint64_t nr_read_ = 0;
  bool done_ = false;
};

// CSV: one request per line, `time,obj_id,size` or just `obj_id`; an optional header line
// names the columns (the obj_id column is the one called obj_id or id). Extra columns are
// ignored.
class csv_reader final : public event_source {
 public:
  static result<std::unique_ptr<csv_reader>> open(const std::string& path, import_options opt = {});
  result<size_t> read(std::span<event> out) override;
  uint64_t distinct_pages() const { return ids_.size(); }
  trace_meta meta() const;

 private:
  csv_reader() = default;
  std::string name_;
  std::ifstream in_;
  import_options opt_;
  dense_id_map ids_;
  int id_col_ = -1;  // -1: decided by the first data line's column count
  uint64_t line_ = 0;
  bool done_ = false;
};

enum class trace_format { mmbpf, text, oracle_general, csv };
// "mmbpf", "text", "oracleGeneral", "csv".
result<trace_format> trace_format_from_name(std::string_view s);
std::string_view trace_format_name(trace_format f);
// The format a file's name says, if it says one: "*.txt" text, "*.csv" csv, a name containing
// "oracleGeneral" (libCacheSim's naming, e.g. "w01.oracleGeneral.bin") oracleGeneral.
std::optional<trace_format> trace_format_from_path(const std::string& path);
// The format of an existing file when the user does not give one: the mmbpf magic, else the
// name, else the first line that is not blank or a comment (an event kind, `file` or `meta`:
// text; numbers and commas, or a header naming obj_id: csv). oracleGeneral has no magic, so
// it needs its name or an explicit format. Errors name the file and the reason.
result<trace_format> guess_trace_format(const std::string& path);
// Opens a trace of any supported format as an event stream.
result<std::unique_ptr<event_source>> open_trace(const std::string& path, trace_format fmt,
                                                 import_options opt = {});

}  // namespace mmbpf::workload
