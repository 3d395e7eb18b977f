// Trace writers, conversion and summaries (see export.h).
#include "workload/export.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <unordered_set>

#include "workload/trace_text.h"

namespace mmbpf::workload {

namespace {

constexpr size_t batch = 4096;  // events per read() from a source

// A buffered output file descriptor; errors name the file.
class out_file {
 public:
  ~out_file() {
    if (fd_ >= 0) ::close(fd_);
  }
  result<void> create(const std::string& path) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return fail();
    return {};
  }
  result<void> write(std::string_view s) {
    buf_.append(s);
    return buf_.size() >= (size_t{1} << 20) ? flush() : result<void>{};
  }
  result<void> write_raw(const void* p, size_t n) {
    if (auto r = flush(); !r) return r;
    return write_all(static_cast<const char*>(p), n);
  }
  result<void> close() {
    auto r = flush();
    int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0 && r) return fail();
    return r;
  }

 private:
  result<void> fail() const { return error{fmt::format("{}: {}", path_, std::strerror(errno))}; }
  result<void> flush() {
    auto r = write_all(buf_.data(), buf_.size());
    buf_.clear();
    return r;
  }
  result<void> write_all(const char* p, size_t n) {
    while (n > 0) {
      ssize_t k = ::write(fd_, p, n);
      if (k < 0) {
        if (errno == EINTR) continue;
        return fail();
      }
      p += k;
      n -= static_cast<size_t>(k);
    }
    return {};
  }
  std::string path_, buf_;
  int fd_ = -1;
};

// Calls f(span of events) for every batch of src; stops at the first error of either.
template <class F>
result<uint64_t> for_each_batch(event_source& src, F&& f) {
  std::vector<event> buf(batch);
  uint64_t n = 0;
  for (;;) {
    auto k = src.read(buf);
    if (!k) return k.err();
    if (*k == 0) return n;
    if (auto r = f(std::span<const event>(buf.data(), *k), n); !r) return r.err();
    n += *k;
  }
}

// pages_of(e) checked against the limits; `number` counts events from 1, `name` (if any) is
// the source's, to prefix the error.
result<page_range> checked_pages(const event& e, uint64_t number, std::string_view name) {
  page_range r = pages_of(e);
  auto fail = [&](const std::string& m) {
    return error{name.empty() ? fmt::format("event {}: {}", number, m)
                              : fmt::format("{}: event {}: {}", name, number, m)};
  };
  if (r.count > max_pages_per_event)
    return fail(fmt::format("{} of {} pages (at most {} per event)", event_kind_name(e.kind),
                            r.count, max_pages_per_event));
  if (r.count > 0 && r.first > page_obj_id_pages - r.count)
    return fail(fmt::format("{} of {} pages from page {} goes beyond the 2^40 pages of a file",
                            event_kind_name(e.kind), r.count, r.first));
  return r;
}

result<write_stats> write_to(const std::string& path, trace_format to, const trace_meta& meta,
                             event_source& src, std::string_view src_name) {
  write_stats st;
  switch (to) {
    case trace_format::mmbpf: {
      auto w = trace_writer::create(path, meta);
      if (!w) return w.err();
      auto n =
          for_each_batch(src, [&](std::span<const event> ev, uint64_t) { return w->write(ev); });
      if (!n) return n.err();
      if (auto r = w->close(); !r) return r.err();
      st.events = st.records = *n;
      return st;
    }
    case trace_format::text: {
      out_file f;
      if (auto r = f.create(path); !r) return r.err();
      if (auto r = f.write(format_text_trace(meta, {})); !r) return r.err();
      std::string line;
      auto n = for_each_batch(src, [&](std::span<const event> ev, uint64_t) -> result<void> {
        line.clear();
        for (const auto& e : ev) {
          line += format_event(e);
          line += '\n';
        }
        return f.write(line);
      });
      if (!n) return n.err();
      if (auto r = f.close(); !r) return r.err();
      st.events = st.records = *n;
      return st;
    }
    case trace_format::oracle_general: {
      auto reqs = to_oracle_general(src, &st.events, src_name);
      if (!reqs) return reqs.err();
      out_file f;
      if (auto r = f.create(path); !r) return r.err();
      if (auto r = f.write_raw(reqs->data(), reqs->size() * sizeof(oracle_general_record)); !r)
        return r.err();
      if (auto r = f.close(); !r) return r.err();
      st.records = reqs->size();
      return st;
    }
    case trace_format::csv:
      break;
  }
  return error{
      fmt::format("{}: cannot write csv (output formats: mmbpf, text, oracleGeneral)", path)};
}

// An input trace and its metadata. For oracleGeneral and csv the metadata is what the importer
// derives, complete only once the stream has ended.
struct input {
  std::unique_ptr<event_source> src;
  std::function<trace_meta()> meta;
};

result<input> open_input(const std::string& path, trace_format f) {
  input in;
  auto take = [&](auto r) -> result<input> {
    if (!r) return r.err();
    auto* p = r->get();
    in.meta = [p] { return p->meta(); };
    in.src = std::move(*r);
    return std::move(in);
  };
  switch (f) {
    case trace_format::mmbpf:
      return take(trace_reader::open(path));
    case trace_format::text:
      return take(text_trace_reader::open(path));
    case trace_format::oracle_general:
      return take(oracle_general_reader::open(path));
    case trace_format::csv:
      return take(csv_reader::open(path));
  }
  return error{"unknown trace format"};
}

}  // namespace

page_range pages_of(const event& e) {
  switch (e.kind) {
    case event_kind::read:
    case event_kind::write: {
      if (e.len == 0) return {};
      uint64_t first = e.off / page_size;
      uint64_t end = e.len - 1 > UINT64_MAX - e.off ? UINT64_MAX : e.off + (e.len - 1);
      return {e.ino, first, end / page_size - first + 1};
    }
    case event_kind::mmap_fault_file:
      return {e.ino, e.off, e.len};
    default:
      return {};
  }
}

result<std::vector<oracle_general_record>> to_oracle_general(event_source& src, uint64_t* events,
                                                             std::string_view name) {
  // Forward: one record per page; next_access_vtime temporarily holds the page's dense index.
  std::vector<oracle_general_record> reqs;
  dense_id_map ids;
  auto n = for_each_batch(src, [&](std::span<const event> ev, uint64_t before) -> result<void> {
    for (size_t i = 0; i < ev.size(); ++i) {
      auto r = checked_pages(ev[i], before + i + 1, name);
      if (!r) return r.err();
      for (uint64_t p = r->first; p < r->first + r->count; ++p) {
        uint64_t id = page_obj_id(r->ino, p);
        uint64_t vtime = reqs.size() + 1;
        reqs.push_back({static_cast<uint32_t>(std::min<uint64_t>(vtime, UINT32_MAX)), id,
                        static_cast<uint32_t>(page_size), static_cast<int64_t>(ids.map(id))});
      }
    }
    return {};
  });
  if (!n) return n.err();
  if (events) *events = *n;
  // Backward: the next request for the same page, counted from 1 (libCacheSim's vtime).
  std::vector<int64_t> next(ids.size(), -1);
  for (size_t i = reqs.size(); i-- > 0;) {
    auto d = static_cast<size_t>(reqs[i].next_access_vtime);
    reqs[i].next_access_vtime = next[d];
    next[d] = static_cast<int64_t>(i + 1);
  }
  return reqs;
}

trace_format output_format_for(const std::string& path) {
  return trace_format_from_path(path).value_or(trace_format::mmbpf);
}

result<write_stats> write_trace(const std::string& path, trace_format to, const trace_meta& meta,
                                event_source& src, std::string_view src_name) {
  if (to == trace_format::csv)
    return error{
        fmt::format("{}: cannot write csv (output formats: mmbpf, text, oracleGeneral)", path)};
  const std::string tmp = path + ".tmp";
  auto st = write_to(tmp, to, meta, src, src_name);
  if (!st) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error e{fmt::format("{}: {}", path, std::strerror(errno))};
    ::unlink(tmp.c_str());
    return e;
  }
  return st;
}

result<write_stats> convert_trace(const std::string& in, trace_format from, const std::string& out,
                                  trace_format to) {
  trace_meta meta;
  bool late_meta = from == trace_format::oracle_general || from == trace_format::csv;
  if (late_meta && to != trace_format::oracle_general) {  // a first pass for the metadata
    auto i = open_input(in, from);
    if (!i) return i.err();
    auto n =
        for_each_batch(*i->src, [](std::span<const event>, uint64_t) { return result<void>{}; });
    if (!n) return n.err();
    meta = i->meta();
  }
  auto i = open_input(in, from);
  if (!i) return i.err();
  if (!late_meta) meta = i->meta();
  return write_trace(out, to, meta, *i->src, in);
}

result<trace_summary> summarize_trace(const std::string& path, trace_format fmt) {
  auto i = open_input(path, fmt);
  if (!i) return i.err();
  trace_summary s;
  s.format = fmt;
  std::unordered_set<uint32_t> inodes;
  dense_id_map pages;
  auto n = for_each_batch(*i->src, [&](std::span<const event> ev, uint64_t before) -> result<void> {
    for (size_t k = 0; k < ev.size(); ++k) {
      const event& e = ev[k];
      ++s.per_kind[static_cast<uint8_t>(e.kind)];
      switch (e.kind) {
        case event_kind::read:
        case event_kind::write:
        case event_kind::mmap_fault_file:
        case event_kind::fsync:
        case event_kind::fadvise:
        case event_kind::unlink:
        case event_kind::truncate:
          inodes.insert(e.ino);
          break;
        default:
          break;
      }
      auto r = checked_pages(e, before + k + 1, path);
      if (!r) return r.err();
      for (uint64_t p = r->first; p < r->first + r->count; ++p) pages.map(page_obj_id(r->ino, p));
      s.page_accesses += r->count;
    }
    return {};
  });
  if (!n) return n.err();
  s.events = *n;
  s.inodes = inodes.size();
  s.pages = pages.size();
  s.meta = i->meta();
  return s;
}

}  // namespace mmbpf::workload
