// Writing traces out, and summarising them: what `mmbpf trace generate|convert|info` do.
//
// Output formats: our binary trace, its text form, and libCacheSim's oracleGeneral (csv is an
// input format only). oracleGeneral is an object-cache trace, so the writer turns page-cache
// accesses into requests: one request per page that a read(), write() or file mmap fault
// touches (a 3-page read is 3 requests), obj_id = ((ino << 40) | page index) + 1 (+1 so that no
// id is 0), obj_size = 4096, clock_time = the request's number (from 1, saturating at 2^32-1;
// the model has no wall clock). next_access_vtime follows libCacheSim's traceConv
// (traceConvOracleGeneral.cpp): requests are counted from 1, and the field holds the number of
// the next request for the same obj_id, or -1 when there is none (a Belady simulator computes
// next_access_vtime - n_req, which is then >= 1).
//
// Simplified: the oracleGeneral writer keeps every request in memory (24 bytes each) to compute
// next_access_vtime by a backward scan, so it is for traces of up to some hundred million
// requests; events other than page accesses (faults on anonymous memory, fsync, fadvise,
// cgroups, ...) have no request and are dropped; importing the result back maps each obj_id
// to a page of one synthetic file (import.h), so inode identity and offsets are not restored.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "workload/import.h"
#include "workload/source.h"
#include "workload/trace.h"

namespace mmbpf::workload {

// The libCacheSim object id of a page. REQUIRES: page < page_obj_id_pages.
inline constexpr uint64_t page_obj_id_pages = uint64_t{1} << 40;  // 4 PiB files
inline uint64_t page_obj_id(uint32_t ino, uint64_t page) {
  return ((uint64_t{ino} << 40) | page) + 1;
}

// The file pages an event accesses through the page cache: read/write bytes [off, off+len),
// mmap_fault_file pages [off, off+len). count = 0 for every other kind and for len = 0.
struct page_range {
  uint32_t ino = 0;
  uint64_t first = 0, count = 0;
};
page_range pages_of(const event& e);
// One event may touch at most this many pages (4 TiB): a larger range is an error (a corrupt
// record, most likely), not hours of enumerating pages.
inline constexpr uint64_t max_pages_per_event = uint64_t{1} << 30;

// All of src as oracleGeneral requests, next_access_vtime computed. `events` (if set) receives
// the number of events read. Errors: the source's, or "NAME: event N: ..." (counted from 1;
// "NAME: " only if a name is given) for a range over max_pages_per_event or beyond
// page_obj_id_pages.
result<std::vector<oracle_general_record>> to_oracle_general(event_source& src,
                                                             uint64_t* events = nullptr,
                                                             std::string_view name = {});

// The format an output file's name asks for: "*.txt" text, a name containing "oracleGeneral"
// oracleGeneral, anything else our binary trace.
trace_format output_format_for(const std::string& path);

struct write_stats {
  uint64_t events = 0;   // read from the source
  uint64_t records = 0;  // written: events, or oracleGeneral requests
};

// Writes all of src to `path` in format `to` (not csv). `meta` goes into the binary header or
// the text directives; oracleGeneral has no room for it. Nothing is half-written: the data
// goes to `path.tmp`, renamed over `path` on success and removed on any error. `src_name`
// names the source in errors about its events.
result<write_stats> write_trace(const std::string& path, trace_format to, const trace_meta& meta,
                                event_source& src, std::string_view src_name = {});

// Reads `in` (format `from`) and writes it to `out` (format `to`), as write_trace. Metadata is
// carried over; for oracleGeneral and csv input it is known only at the end of the stream, so
// such input is read twice when the output has a header.
result<write_stats> convert_trace(const std::string& in, trace_format from, const std::string& out,
                                  trace_format to);

// What `mmbpf trace info` prints.
struct trace_summary {
  trace_format format{};
  uint64_t events = 0;
  std::array<uint64_t, event_kind_last + 1> per_kind{};  // indexed by event_kind
  uint64_t inodes = 0;         // distinct inodes named by file events (read ... truncate)
  uint64_t pages = 0;          // distinct (inode, page) pairs that page_range() covers
  uint64_t page_accesses = 0;  // pages touched, with repeats (= oracleGeneral requests)
  trace_meta meta;             // for oracleGeneral and csv: what the importer derives
};
result<trace_summary> summarize_trace(const std::string& path, trace_format fmt);

}  // namespace mmbpf::workload
