// The text form of a trace, for tests and hand-written cases: one event per line, the kind's
// kernel name then key=value fields, e.g.
//
//   read pid=1 cg=0 ino=5 off=0 len=4096
//   fadvise pid=1 cg=0 ino=5 off=0 len=0 advice=POSIX_FADV_DONTNEED
//   mmap_fault_file pid=1 cg=0 ino=5 off=3 len=1 write=1
//   fork pid=7 cg=2 ppid=1 oom_score_adj=-500
//   cgroup_set_limit pid=0 cg=2 limit=memory.max bytes=max
//
// Keys per kind follow the table in event.h (ppid and parent are the ino field of fork and
// cgroup_create; limit and bytes the advice and len of cgroup_set_limit). Every key is
// required except write= and oom_score_adj= (default 0). `#` starts a comment; blank lines are
// skipped; `file ino=5 size=1048576` gives a file's size (the metadata's inode table) and
// `meta key=value` any other metadata entry.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "workload/source.h"
#include "workload/trace.h"

namespace mmbpf::workload {

// One line, no newline.
std::string format_event(const event& e);
// Parses one event line (no comments). The error names the problem but not the line.
result<event> parse_event(std::string_view line);

// Directives for meta, then one line per event.
std::string format_text_trace(const trace_meta& meta, std::span<const event> events);

// Parses a whole text trace up front (text traces are small), then streams it.
class text_trace_reader final : public event_source {
 public:
  // Errors: "<name>: line 3: read: missing len".
  static result<std::unique_ptr<text_trace_reader>> open(const std::string& path);
  static result<std::unique_ptr<text_trace_reader>> from_string(const std::string& name,
                                                                std::string_view text);
  const trace_meta& meta() const { return meta_; }
  const std::vector<event>& events() const { return events_; }
  result<size_t> read(std::span<event> out) override;

 private:
  trace_meta meta_;
  std::vector<event> events_;
  size_t pos_ = 0;
};

}  // namespace mmbpf::workload
