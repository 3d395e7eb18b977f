// The replay driver of replay.h: one switch per event onto the model's entry points, with the
// checks the model REQUIRES of its caller (the event's cgroup exists) done here, once per event.
#include "workload/replay.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "workload/spec.h"
#include "workload/trace_text.h"

namespace mmbpf::workload {

namespace {

// Why the model cannot take event e, or empty. Cold: only called when a quick check failed or
// for the rare kinds that need more than one.
std::string check_event(const event& e, const mm::model& m) {
  switch (e.kind) {
    case event_kind::cgroup_create:
      if (e.cgroup == 0) return "cgroup_create: cgroup 0 is the root, which exists already";
      if (m.find_memcg(e.cgroup))
        return fmt::format("cgroup_create: cgroup {} exists already", e.cgroup);
      if (e.ino > UINT16_MAX || !m.find_memcg(static_cast<uint16_t>(e.ino)))
        return fmt::format("cgroup_create {}: parent cgroup {} does not exist", e.cgroup, e.ino);
      return {};
    case event_kind::cgroup_set_limit:
      if (e.advice > cgroup_limit_last)
        return fmt::format(
            "cgroup_set_limit: unknown limit {} (0..{}: memory.max, memory.high, "
            "memory.low, memory.min, memory.swap.max)",
            e.advice, cgroup_limit_last);
      break;
    case event_kind::fork:
      if (e.oom_score_adj < -1000 || e.oom_score_adj > 1000)
        return fmt::format("fork: oom_score_adj {} must be in -1000..1000", e.oom_score_adj);
      break;
    default:
      break;
  }
  if (!m.find_memcg(e.cgroup))
    return fmt::format(
        "cgroup {} does not exist (create it in the config or with a cgroup_create event)",
        e.cgroup);
  return {};
}

}  // namespace

result<replay_stats> replay(event_source& src, mm::model& m, const replay_options& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<event> buf(opt.batch);
  replay_stats st;
  uint64_t next_progress = opt.progress_every && opt.progress ? opt.progress_every : UINT64_MAX;
  auto fail = [&](uint64_t nr, const std::string& why) {
    return error{opt.name.empty() ? fmt::format("event {}: {}", nr, why)
                                  : fmt::format("{}: event {}: {}", opt.name, nr, why)};
  };
  while (opt.max_events == 0 || st.events < opt.max_events) {
    std::span<event> out(buf);
    if (opt.max_events && opt.max_events - st.events < out.size())
      out = out.first(opt.max_events - st.events);
    auto n = src.read(out);
    if (!n) return n.err();
    if (*n == 0) break;
    for (size_t i = 0; i < *n; ++i) {
      // Memory-level parallelism: bring in the page-cache slot of the read 8 events ahead
      // and its folio 4 ahead, so the model's dependent loads hit the cache
      // (model::prefetch_page).
      if (i + 8 < *n && buf[i + 8].kind == event_kind::read)
        m.prefetch_page(buf[i + 8].ino, buf[i + 8].off >> 12, 0);
      if (i + 4 < *n && buf[i + 4].kind == event_kind::read)
        m.prefetch_page(buf[i + 4].ino, buf[i + 4].off >> 12, 1);
      const event& e = buf[i];
      const uint64_t nr = st.events + i + 1;
      // The common kinds need only their cgroup to exist; the rest get the full check.
      const bool simple = e.kind <= event_kind::madvise;
      if (!simple || !m.find_memcg(e.cgroup)) [[unlikely]] {
        if (std::string why = check_event(e, m); !why.empty()) return fail(nr, why);
      }
      const uint64_t start = m.now_ns();
      const bool write = e.flags & fault_write;
      switch (e.kind) {
        case event_kind::read:
          m.sys_read(e.pid, e.cgroup, e.ino, e.off, e.len);
          break;
        case event_kind::write:
          m.sys_write(e.pid, e.cgroup, e.ino, e.off, e.len);
          break;
        case event_kind::mmap_fault_file:
          m.filemap_fault(e.pid, e.cgroup, e.ino, e.off, e.len, write);
          break;
        case event_kind::anon_fault:
          m.handle_mm_fault(e.pid, e.cgroup, e.off, e.len, write);
          break;
        case event_kind::mmap_anon:
          m.mmap_anon(e.pid, e.cgroup, e.off, e.len);
          break;
        case event_kind::munmap:
          m.munmap(e.pid, e.cgroup, e.off, e.len);
          break;
        case event_kind::fsync:
          m.sys_fsync(e.pid, e.cgroup, e.ino);
          break;
        case event_kind::fadvise:
          m.sys_fadvise(e.pid, e.cgroup, e.ino, e.off, e.len, e.advice);
          break;
        case event_kind::madvise:
          m.sys_madvise(e.pid, e.cgroup, e.off, e.len, e.advice);
          break;
        case event_kind::unlink:
          m.unlink(e.ino);
          break;
        case event_kind::truncate:
          m.truncate(e.ino, e.len);
          break;
        case event_kind::fork:
          m.fork(e.pid, e.ino, e.cgroup, e.oom_score_adj);
          break;
        case event_kind::exit:
          m.exit(e.pid);
          break;
        case event_kind::cgroup_create: {
          if (auto r = m.cgroup_create(e.cgroup, static_cast<uint16_t>(e.ino)); !r)
            return fail(nr, r.err().msg);
          if (opt.on_cgroup_create)
            if (mm::memcg* mc = m.find_memcg(e.cgroup)) opt.on_cgroup_create(*mc);
          break;
        }
        case event_kind::cgroup_set_limit:
          if (auto r = m.cgroup_set_limit(e.cgroup, e.advice, e.len); !r)
            return fail(nr, r.err().msg);
          break;
      }
      m.end_event(start);
    }
    st.events += *n;
    if (st.events >= next_progress) {
      opt.progress(st.events);
      next_progress = (st.events / opt.progress_every + 1) * opt.progress_every;
    }
  }
  if (opt.progress_every && opt.progress) opt.progress(st.events);
  st.wall_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  return st;
}

namespace {

// capture.exec_vma.<ino>=first-end,...: the files' executable mappings, for fault readahead.
void apply_exec_vmas(const trace_meta& meta, mm::model& model) {
  constexpr std::string_view prefix = "capture.exec_vma.";
  for (const auto& [k, v] : meta.entries) {
    if (!k.starts_with(prefix)) continue;
    uint32_t ino = 0;
    const std::string_view id = std::string_view(k).substr(prefix.size());
    if (std::from_chars(id.data(), id.data() + id.size(), ino).ec != std::errc()) continue;
    const char* p = v.data();
    const char* const end = v.data() + v.size();
    while (p < end) {
      uint64_t first = 0, last = 0;
      auto a = std::from_chars(p, end, first);
      if (a.ec != std::errc() || a.ptr == end || *a.ptr != '-') break;
      auto b = std::from_chars(a.ptr + 1, end, last);
      if (b.ec != std::errc()) break;
      model.set_exec_vma(ino, first, last);
      p = b.ptr < end && *b.ptr == ',' ? b.ptr + 1 : end;
    }
  }
}

}  // namespace

void apply_trace_files(const trace_meta& meta, mm::model& m) {
  for (const auto& [ino, bytes] : meta.file_size) m.set_file_size(ino, bytes);
  apply_exec_vmas(meta, m);
}

result<std::vector<mm::page_ref>> page_lookups(event_source& src, const trace_meta& meta) {
  // i_size as the model keeps it: known from the metadata or a truncate, else growing with
  // what is read (mapping::size_known)
  struct file {
    uint64_t size = 0;
    bool known = false;
  };
  std::unordered_map<uint32_t, file> files;
  for (const auto& [ino, bytes] : meta.file_size) files[ino] = {bytes, true};
  std::vector<mm::page_ref> refs;
  std::vector<event> buf(4096);
  for (;;) {
    auto n = src.read(buf);
    if (!n) return n.err();
    if (*n == 0) break;
    for (size_t i = 0; i < *n; ++i) {
      const event& e = buf[i];
      switch (e.kind) {
        case event_kind::read: {  // sys_read(): cut at EOF
          file& f = files[e.ino];
          if (!e.len) break;
          if (!f.known) f.size = std::max(f.size, e.off + e.len);
          if (e.off >= f.size) break;
          const uint64_t end = std::min(e.off + e.len, f.size);
          for (uint64_t p = e.off / page_size; p < (end + page_size - 1) / page_size; ++p)
            refs.push_back({e.ino, p});
          break;
        }
        case event_kind::write: {  // sys_write(): every page; the file grows
          file& f = files[e.ino];
          if (!e.len) break;
          f.size = std::max(f.size, e.off + e.len);
          for (uint64_t p = e.off / page_size; p < (e.off + e.len + page_size - 1) / page_size; ++p)
            refs.push_back({e.ino, p});
          break;
        }
        case event_kind::mmap_fault_file: {  // filemap_fault(): pages within the file
          file& f = files[e.ino];
          for (uint64_t p = e.off; p < e.off + e.len; ++p) {
            if (!f.known) f.size = std::max(f.size, (p + 1) * page_size);
            if (p >= (f.size + page_size - 1) / page_size) break;
            refs.push_back({e.ino, p});
          }
          break;
        }
        case event_kind::truncate: files[e.ino] = {e.len, true}; break;
        case event_kind::unlink: files[e.ino] = {0, true}; break;
        default: break;
      }
    }
  }
  return refs;
}

namespace {

uint64_t file_bytes(const std::string& path) {
  struct stat sb {};
  return ::stat(path.c_str(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
}

}  // namespace

result<workload_source> open_trace_workload(const std::string& path, trace_format fmt,
                                            const import_options& opt) {
  workload_source w;
  switch (fmt) {
    case trace_format::mmbpf: {
      auto r = trace_reader::open(path);
      if (!r) return r.err();
      w.meta = (*r)->meta();
      const uint64_t head = trace_header_size + w.meta.encode().size();  // about: the blob's size
      const uint64_t size = file_bytes(path);
      w.expected_events = size > head ? (size - head) / sizeof(event) : 0;
      w.events = std::move(*r);
      return w;
    }
    case trace_format::text: {
      auto r = text_trace_reader::open(path);
      if (!r) return r.err();
      w.meta = (*r)->meta();
      w.expected_events = (*r)->events().size();
      w.events = std::move(*r);
      return w;
    }
    case trace_format::oracle_general: {
      auto r = oracle_general_reader::open(path, opt);
      if (!r) return r.err();
      w.expected_events = file_bytes(path) / sizeof(oracle_general_record);
      w.events = std::move(*r);
      return w;
    }
    case trace_format::csv: {
      auto r = csv_reader::open(path, opt);
      if (!r) return r.err();
      w.events = std::move(*r);
      return w;
    }
  }
  return error{"unknown trace format"};
}

result<workload_source> open_generator_workload(std::string_view spec) {
  auto g = make_generator(spec);
  if (!g) return g.err();
  workload_source w;
  w.meta = (*g)->meta();
  w.expected_events = (*g)->expected_events();
  w.events = std::move(*g);
  return w;
}

}  // namespace mmbpf::workload
