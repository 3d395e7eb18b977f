// Our binary trace format: a versioned header, an optional metadata blob, then fixed-size
// little-endian records that are byte for byte the in-memory `event` (32 bytes), so decoding
// is a block read plus one range check per record.
//
//   offset  size  field
//   0       8     magic "MMBPFTRC"
//   8       4     version (1)
//   12      4     flags (none defined; non-zero is rejected)
//   16      4     record size (32)
//   20      4     metadata length in bytes (M)
//   24      8     reserved, zero
//   32      M     metadata: "key=value" lines; "file.<ino>=<bytes>" gives a file's size
//   32+M    ...   records until end of file (the count is not stored, so a writer can stream)
//
// Records are numbered from 1 in error messages, as lines are.
// Simplified: little-endian hosts only (a static_assert says so).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "workload/source.h"

namespace mmbpf::workload {

inline constexpr char trace_magic[8] = {'M', 'M', 'B', 'P', 'F', 'T', 'R', 'C'};
inline constexpr uint32_t trace_version = 1;
inline constexpr uint32_t trace_header_size = 32;

// What a trace says about itself besides its events.
struct trace_meta {
  std::vector<std::pair<std::string, std::string>> entries;  // in order; keys are unique
  std::map<uint32_t, uint64_t> file_size;                    // inode -> size in bytes

  // "key=value\n" lines, file sizes last in inode order.
  std::string encode() const;
  // Parses encode()'s form. Errors name the line: "metadata line 2: expected key=value".
  static result<trace_meta> decode(std::string_view blob);
  bool operator==(const trace_meta&) const = default;
};

// Header plus metadata blob, as the file starts.
std::string encode_trace_header(const trace_meta& meta);

// Streams a binary trace from a file or from memory.
class trace_reader final : public event_source {
 public:
  // Reads and checks the header and metadata. `name` prefixes every error message.
  static result<std::unique_ptr<trace_reader>> open(const std::string& path);
  static result<std::unique_ptr<trace_reader>> from_memory(std::string name, std::string bytes);
  ~trace_reader() override;

  const trace_meta& meta() const { return meta_; }
  // Records returned so far.
  uint64_t records_read() const { return nr_read_; }
  // Reads straight into out (no copy through an intermediate buffer when reading a file),
  // then checks each record's kind.
  result<size_t> read(std::span<event> out) override;

 private:
  trace_reader() = default;
  result<void> read_header();
  // Raw bytes into dst; returns count, short only at end of input.
  result<size_t> fill(char* dst, size_t n);

  std::string name_;
  int fd_ = -1;
  std::string mem_;  // from_memory: the whole input
  size_t mem_pos_ = 0;
  trace_meta meta_;
  uint64_t nr_read_ = 0;
  bool done_ = false;
};

// Writes a binary trace; buffered, so events can be appended one at a time cheaply.
class trace_writer {
 public:
  static result<trace_writer> create(const std::string& path, const trace_meta& meta);
  trace_writer(trace_writer&&) noexcept;
  trace_writer& operator=(trace_writer&&) noexcept;
  ~trace_writer();  // closes without reporting errors; call close() to see them

  result<void> write(std::span<const event> events);
  result<void> write(const event& e) { return write(std::span<const event>(&e, 1)); }
  // Flushes and closes. REQUIRES: called at most once.
  result<void> close();

 private:
  trace_writer() = default;
  result<void> flush();
  std::string path_;
  int fd_ = -1;
  std::vector<char> buf_;
};

}  // namespace mmbpf::workload
