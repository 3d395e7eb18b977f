// oracleGeneral and CSV import (mapping in import.h).
#include "workload/import.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "workload/trace_text.h"

namespace mmbpf::workload {

namespace {

inline event read_event(const import_options& o, uint64_t page) {
  event e{};
  e.kind = event_kind::read;
  e.pid = o.pid;
  e.cgroup = o.cgroup;
  e.ino = o.ino;
  e.off = page * page_size;
  e.len = page_size;
  return e;
}

trace_meta import_meta(const char* source, uint32_t ino, uint64_t pages) {
  trace_meta m;
  m.entries.emplace_back("source", source);
  m.file_size[ino] = pages * page_size;
  return m;
}

}  // namespace

uint64_t dense_id_map::map(uint64_t id) {
  if ((n_ + 1) * 2 > slots_.size()) grow();
  size_t mask = slots_.size() - 1;
  for (size_t i = dense_id_map::mix(id) & mask;; i = (i + 1) & mask) {
    slot& s = slots_[i];
    if (s.val == 0) {
      s = {id, ++n_};
      return n_ - 1;
    }
    if (s.key == id) return s.val - 1;
  }
}

void dense_id_map::grow() {
  size_t cap = slots_.empty() ? 1024 : slots_.size() * 2;
  std::vector<slot> t(cap);
  for (const slot& s : slots_) {
    if (s.val == 0) continue;
    for (size_t j = dense_id_map::mix(s.key) & (cap - 1);; j = (j + 1) & (cap - 1))
      if (t[j].val == 0) {
        t[j] = s;
        break;
      }
  }
  slots_ = std::move(t);
}

// ---- oracleGeneral ----

oracle_general_reader::~oracle_general_reader() {
  if (fd_ >= 0) ::close(fd_);
}

result<std::unique_ptr<oracle_general_reader>> oracle_general_reader::open(const std::string& path,
                                                                           import_options opt) {
  std::unique_ptr<oracle_general_reader> r(new oracle_general_reader);
  r->name_ = path;
  r->opt_ = opt;
  r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) return error{fmt::format("{}: {}", path, std::strerror(errno))};
  r->buf_.resize(4096);
  return r;
}

result<size_t> oracle_general_reader::read(std::span<event> out) {
  if (done_) return size_t{0};
  size_t want = std::min(out.size(), buf_.size()) * sizeof(oracle_general_record);
  char* dst = reinterpret_cast<char*>(buf_.data());
  size_t got = 0;
  while (got < want) {
    ssize_t k = ::read(fd_, dst + got, want - got);
    if (k < 0) {
      if (errno == EINTR) continue;
      return error{fmt::format("{}: {}", name_, std::strerror(errno))};
    }
    if (k == 0) break;
    got += static_cast<size_t>(k);
  }
  size_t n = got / sizeof(oracle_general_record), rem = got % sizeof(oracle_general_record);
  for (size_t i = 0; i < n; ++i) {
    const auto& r = buf_[i];
    if (i + 16 < n) ids_.prefetch(buf_[i + 16].obj_id);
    out[i] = read_event(opt_, ids_.map(r.obj_id));
    if (opt_.next_access)
      opt_.next_access->push_back(r.next_access_vtime < 0 ? no_next_access : r.next_access_vtime);
  }
  nr_read_ += n;
  if (rem != 0) {
    done_ = true;
    return error{fmt::format("{}: truncated after record {} ({} of {} bytes)", name_, nr_read_, rem,
                             sizeof(oracle_general_record))};
  }
  if (got < want) done_ = true;
  return n;
}

trace_meta oracle_general_reader::meta() const {
  return import_meta("oracleGeneral", opt_.ino, ids_.size());
}

// ---- CSV ----

namespace {

std::vector<std::string_view> split_csv(std::string_view l) {
  std::vector<std::string_view> c;
  size_t i = 0;
  for (;;) {
    size_t j = l.find(',', i);
    std::string_view f = l.substr(i, j == std::string_view::npos ? l.npos : j - i);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t' || f.back() == '\r'))
      f.remove_suffix(1);
    c.push_back(f);
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return c;
}

bool parse_u64(std::string_view s, uint64_t& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

result<std::unique_ptr<csv_reader>> csv_reader::open(const std::string& path, import_options opt) {
  std::unique_ptr<csv_reader> r(new csv_reader);
  r->name_ = path;
  r->opt_ = opt;
  r->in_.open(path, std::ios::binary);
  if (!r->in_) return error{fmt::format("{}: cannot open", path)};
  return r;
}

result<size_t> csv_reader::read(std::span<event> out) {
  size_t n = 0;
  std::string l;
  while (!done_ && n < out.size()) {
    if (!std::getline(in_, l)) {
      done_ = true;
      break;
    }
    ++line_;
    std::string_view v = l;
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    if (v.empty() || v.front() == '#') continue;
    auto cols = split_csv(v);
    if (line_ == 1) {
      uint64_t dummy;
      int guess = cols.size() == 1 ? 0 : 1;
      if (!parse_u64(cols[static_cast<size_t>(guess)], dummy)) {  // a header line
        for (size_t i = 0; i < cols.size(); ++i)
          if (cols[i] == "obj_id" || cols[i] == "id") id_col_ = static_cast<int>(i);
        if (id_col_ < 0)
          return error{fmt::format("{}: line 1: header has no obj_id column", name_)};
        continue;
      }
    }
    int col = id_col_ >= 0 ? id_col_ : (cols.size() == 1 ? 0 : 1);
    if (static_cast<size_t>(col) >= cols.size())
      return error{fmt::format("{}: line {}: no column {} (obj_id), only {}", name_, line_, col + 1,
                               cols.size())};
    uint64_t id;
    if (!parse_u64(cols[static_cast<size_t>(col)], id))
      return error{fmt::format("{}: line {}: obj_id '{}' is not a number", name_, line_,
                               cols[static_cast<size_t>(col)])};
    out[n++] = read_event(opt_, ids_.map(id));
  }
  return n;
}

trace_meta csv_reader::meta() const {
  return import_meta("csv", opt_.ino, ids_.size());
}

// ---- any format ----

result<trace_format> trace_format_from_name(std::string_view s) {
  if (s == "mmbpf") return trace_format::mmbpf;
  if (s == "text") return trace_format::text;
  if (s == "oracleGeneral") return trace_format::oracle_general;
  if (s == "csv") return trace_format::csv;
  return error{
      fmt::format("unknown trace format '{}' (known: mmbpf, text, oracleGeneral, csv)", s)};
}

std::string_view trace_format_name(trace_format f) {
  switch (f) {
    case trace_format::mmbpf:
      return "mmbpf";
    case trace_format::text:
      return "text";
    case trace_format::oracle_general:
      return "oracleGeneral";
    case trace_format::csv:
      return "csv";
  }
  return "?";
}

std::optional<trace_format> trace_format_from_path(const std::string& path) {
  std::string_view base = path;
  if (size_t slash = base.rfind('/'); slash != std::string_view::npos)
    base.remove_prefix(slash + 1);
  if (base.find("oracleGeneral") != std::string_view::npos) return trace_format::oracle_general;
  if (base.ends_with(".txt")) return trace_format::text;
  if (base.ends_with(".csv")) return trace_format::csv;
  return std::nullopt;
}

result<trace_format> guess_trace_format(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error{fmt::format("{}: {}", path, std::strerror(errno))};
  std::string head(65536, '\0');
  size_t got = 0;
  while (got < head.size()) {
    ssize_t k = ::read(fd, head.data() + got, head.size() - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += static_cast<size_t>(k);
  }
  ::close(fd);
  head.resize(got);
  if (head.starts_with(std::string_view(trace_magic, sizeof trace_magic)))
    return trace_format::mmbpf;
  if (head.starts_with("\x28\xb5\x2f\xfd"))
    return error{fmt::format("{}: zstd-compressed; decompress it first (zstd -d)", path)};
  if (auto f = trace_format_from_path(path)) return *f;
  // Text or CSV, by the first line with content. A NUL byte means binary.
  std::string_view rest = head;
  while (rest.find('\0') == std::string_view::npos && !rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos && got == 65536) break;  // a partial line
    std::string_view l = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (size_t h = l.find('#'); h != std::string_view::npos) l = l.substr(0, h);
    size_t b = l.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) continue;
    l.remove_prefix(b);
    std::string_view word = l.substr(0, l.find_first_of(" \t\r"));
    if (word == "file" || word == "meta" || event_kind_from_name(word)) return trace_format::text;
    if (l.find_first_not_of("0123456789,. \t\r-") == std::string_view::npos)
      return trace_format::csv;
    for (auto c : split_csv(l))
      if (c == "obj_id" || c == "id") return trace_format::csv;
    break;
  }
  return error{fmt::format(
      "{}: cannot tell the trace format: no mmbpf magic, not text or CSV, and the name does "
      "not say which",
      path)};
}

result<std::unique_ptr<event_source>> open_trace(const std::string& path, trace_format f,
                                                 import_options opt) {
  auto up = [](auto r) -> result<std::unique_ptr<event_source>> {
    if (!r) return r.err();
    return std::unique_ptr<event_source>(std::move(*r));
  };
  switch (f) {
    case trace_format::mmbpf:
      return up(trace_reader::open(path));
    case trace_format::text:
      return up(text_trace_reader::open(path));
    case trace_format::oracle_general:
      return up(oracle_general_reader::open(path, opt));
    case trace_format::csv:
      return up(csv_reader::open(path, opt));
  }
  return error{"unknown trace format"};
}

}  // namespace mmbpf::workload
