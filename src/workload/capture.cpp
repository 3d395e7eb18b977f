// Live capture (capture.h): the loader side. Loads bpf/capture/capture.bpf.o with libbpf
// (CO-RE against /sys/kernel/btf/vmlinux), points it at the target memory cgroup (the kernfs
// id of its directory, in .rodata), runs the command in that cgroup, drains the ring buffer
// while it runs, and writes the trace: records are turned into events as they arrive and
// spilled to OUTPUT.tmp.events; at the end the header with the metadata (known only then: file
// sizes, counters) is written to OUTPUT.tmp, the spilled events are appended (leaving out the
// precached files' ones) and OUTPUT.tmp is renamed to OUTPUT.
//
// Simplified: one ring buffer polled every 100 ms by one thread; the command's IO counters
// come from wait4()'s rusage (its whole waited-for process tree: ru_inblock, 512-byte units,
// what /proc/PID/io read_bytes counts); in watch mode (no command) from /proc/PID/io of the
// cgroup's processes at start and end, so processes that come and go in between are missed.
#include "workload/capture.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <unordered_map>
#include <utility>

#include "../../bpf/capture/capture.bpf.h"
#include "workload/event.h"

#ifndef MMBPF_CAPTURE_OBJ_DEFAULT
#define MMBPF_CAPTURE_OBJ_DEFAULT "bpf/capture/capture.bpf.o"
#endif

namespace mmbpf::workload {

static_assert(sizeof(cap_record) == 48, "cap_record is shared with capture.bpf.c");

std::string default_capture_object() {
  if (const char* p = std::getenv("MMBPF_CAPTURE_OBJ"); p && *p) return p;
  return MMBPF_CAPTURE_OBJ_DEFAULT;
}

namespace {

std::atomic<int> g_stop{0};
void on_signal(int) { g_stop = 1; }

// libbpf's messages: kept (the last warning explains a failed load), not printed.
std::string g_libbpf_last;
int libbpf_print(enum libbpf_print_level level, const char* fmt_, va_list ap) {
  static const bool debug = std::getenv("MMBPF_CAPTURE_DEBUG") != nullptr;
  if (level == LIBBPF_DEBUG && !debug) return 0;
  static char buf[1 << 16];
  vsnprintf(buf, sizeof buf, fmt_, ap);
  std::string s(buf);
  if (debug) std::fputs(buf, stderr);
  // the verifier's or the relocation's reason, not libbpf's closing summary
  if (s.find("failed to load object") != std::string::npos) return 0;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.find("RLIMIT_MEMLOCK") == std::string::npos && !s.empty()) g_libbpf_last = s;
  return 0;
}

result<void> ensure_tracefs() {
  if (::access("/sys/kernel/tracing/events", F_OK) == 0 ||
      ::access("/sys/kernel/debug/tracing/events", F_OK) == 0)
    return {};
  if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0)
    return error{fmt::format("tracefs is not mounted and mounting it on /sys/kernel/tracing "
                             "failed: {}",
                             std::strerror(errno))};
  return {};
}

// The loaded and attached BPF side.
class bpf_session {
 public:
  ~bpf_session() {
    if (rb_) ring_buffer__free(rb_);
    for (bpf_link* l : links_) bpf_link__destroy(l);
    if (obj_) bpf_object__close(obj_);
  }
  result<void> open(const std::string& path, uint64_t cgroup_id, uint64_t ring_bytes,
                    ring_buffer_sample_fn fn, void* ctx) {
    libbpf_set_print(libbpf_print);
    g_libbpf_last.clear();
    if (::access(path.c_str(), R_OK) != 0)
      return error{fmt::format("{}: {} (build mmbpf, or set MMBPF_CAPTURE_OBJ)", path,
                               std::strerror(errno))};
    obj_ = bpf_object__open_file(path.c_str(), nullptr);
    if (!obj_) return error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
    bool set = false;
    bpf_map* m;
    bpf_object__for_each_map(m, obj_) {
      const std::string name = bpf_map__name(m);
      if (name.size() >= 7 && name.compare(name.size() - 7, 7, ".rodata") == 0) {
        size_t sz = 0;
        const void* p = bpf_map__initial_value(m, &sz);
        if (p && sz >= sizeof(uint64_t)) {
          std::vector<char> data(static_cast<const char*>(p), static_cast<const char*>(p) + sz);
          std::memcpy(data.data(), &cgroup_id, sizeof cgroup_id);  // target_cgroup_id, the only one
          set = bpf_map__set_initial_value(m, data.data(), sz) == 0;
        }
      }
    }
    if (!set) return error{fmt::format("{}: no .rodata target_cgroup_id", path)};
    if (ring_bytes) {
      bpf_map* rb = bpf_object__find_map_by_name(obj_, "events");
      if (!rb || bpf_map__set_max_entries(rb, static_cast<uint32_t>(ring_bytes)) != 0)
        return error{fmt::format("ring buffer size {}: {}", ring_bytes, std::strerror(errno))};
    }
    if (bpf_object__load(obj_) != 0)
      return error{fmt::format("{}: the kernel refused it: {}", path,
                               g_libbpf_last.empty() ? std::strerror(errno) : g_libbpf_last)};
    bpf_program* p;
    bpf_object__for_each_program(p, obj_) {
      bpf_link* l = bpf_program__attach(p);
      if (!l)
        return error{fmt::format("{}: attaching {}: {}", path, bpf_program__name(p),
                                 g_libbpf_last.empty() ? std::strerror(errno) : g_libbpf_last)};
      links_.push_back(l);
    }
    bpf_map* events = bpf_object__find_map_by_name(obj_, "events");
    counters_ = bpf_object__find_map_by_name(obj_, "counters");
    if (!events || !counters_) return error{fmt::format("{}: no events/counters map", path)};
    rb_ = ring_buffer__new(bpf_map__fd(events), fn, ctx, nullptr);
    if (!rb_) return error{fmt::format("ring buffer: {}", std::strerror(errno))};
    return {};
  }
  int poll(int ms) { return ring_buffer__poll(rb_, ms); }
  void drain() { ring_buffer__consume(rb_); }
  uint64_t counter(uint32_t slot) const {
    uint64_t v = 0;
    bpf_map_lookup_elem(bpf_map__fd(counters_), &slot, &v);
    return v;
  }

 private:
  bpf_object* obj_ = nullptr;
  std::vector<bpf_link*> links_;
  ring_buffer* rb_ = nullptr;
  bpf_map* counters_ = nullptr;
};

struct file_info {
  uint32_t id = 0;
  uint32_t dev = 0;
  uint64_t size = 0;
  bool size_known = false;
  bool inserted = false;  // the cgroup inserted a page of it
  uint64_t inserted_pages = 0;
  uint64_t deleted_pages = 0;
  uint64_t read_bytes = 0;
  // per page: inserted by the cgroup (so far); found resident without that (pre-resident)
  std::vector<bool> ins, pre;
  uint64_t nr_pre = 0;
  std::vector<uint64_t> faulted;  // page indexes of file faults
  void mark_inserted(uint64_t first, uint64_t n) {
    if (ins.size() < first + n) ins.resize(first + n);
    for (uint64_t p = first; p < first + n; ++p) ins[p] = true;
  }
  // An access to pages [first, first + n): those the cgroup never inserted were in the page
  // cache already (charged elsewhere: shared libraries, files another process keeps cached).
  void accessed(uint64_t first, uint64_t n) {
    if (n > (1u << 20)) return;  // no 4 GiB single reads; guards the bitmaps
    if (pre.size() < first + n) pre.resize(first + n);
    for (uint64_t p = first; p < first + n; ++p)
      if ((p >= ins.size() || !ins[p]) && !pre[p]) {
        pre[p] = true;
        ++nr_pre;
      }
  }
};

// The pid of the warm-up events that put pre-resident pages in the model's cache (above the
// kernel's PID_MAX_LIMIT, so it is no real process).
constexpr uint32_t warmup_pid = 4194305;
// The cgroup they are charged to: a sibling of the captured cgroup (cgroup 0 of the trace).
constexpr uint16_t warmup_cgroup = 1;

// Turns records into events and spills them.
struct collector {
  std::FILE* spill = nullptr;
  std::map<std::pair<uint32_t, uint64_t>, file_info> files;
  std::vector<file_info*> by_id{nullptr};
  uint64_t records = 0, events = 0;
  uint64_t per_kind[CAP_NR_KINDS] = {};
  uint64_t add_folios_by_order[32] = {};
  bool write_failed = false;

  file_info& file(uint32_t dev, uint64_t ino) {
    auto [it, fresh] = files.try_emplace({dev, ino});
    if (fresh) {
      it->second.id = static_cast<uint32_t>(by_id.size());
      it->second.dev = dev;
      by_id.push_back(&it->second);
    }
    return it->second;
  }
  void put(const event& e) {
    if (std::fwrite(&e, sizeof e, 1, spill) != 1) write_failed = true;
    ++events;
  }
  std::FILE* raw = nullptr;  // capture_options::records_path
  void take(const cap_record& r) {
    ++records;
    if (raw)
      std::fprintf(raw, "%u %u %u %llu %llu %llu %u\n", r.kind, r.pid, r.dev, r.ino, r.off, r.len,
                   r.aux);
    if (r.kind < CAP_NR_KINDS) ++per_kind[r.kind];
    event e{};
    e.pid = r.pid;
    switch (r.kind) {
      case CAP_READ:
      case CAP_WRITE:
      case CAP_FADVISE:
      case CAP_FSYNC:
      case CAP_FTRUNCATE: {
        file_info& f = file(r.dev, r.ino);
        f.size = std::max<uint64_t>(f.size, r.size);
        f.size_known = true;
        e.ino = f.id;
        if (r.kind == CAP_READ) {
          e.kind = event_kind::read;
          e.off = r.off;
          e.len = r.len;
          f.read_bytes += r.len;
          if (r.len) f.accessed(r.off / page_size, (r.off + r.len + page_size - 1) / page_size - r.off / page_size);
        } else if (r.kind == CAP_WRITE) {
          e.kind = event_kind::write;
          e.off = r.off;
          e.len = r.len;
          f.size = std::max<uint64_t>(f.size, r.off + r.len);
        } else if (r.kind == CAP_FADVISE) {
          e.kind = event_kind::fadvise;
          e.off = r.off;
          e.len = r.len;
          e.advice = static_cast<uint8_t>(r.aux);
        } else if (r.kind == CAP_FSYNC) {
          e.kind = event_kind::fsync;
        } else {
          e.kind = event_kind::truncate;
          e.len = r.len;
        }
        put(e);
        break;
      }
      case CAP_FAULT: {
        file_info& f = file(r.dev, r.ino);
        f.size = std::max<uint64_t>(f.size, r.size);
        f.size_known = true;
        e.kind = event_kind::mmap_fault_file;
        e.ino = f.id;
        e.off = r.off;
        e.len = 1;
        f.faulted.push_back(r.off);  // judged at the end: the tracepoint precedes the insertion
        put(e);
        break;
      }
      case CAP_PGCACHE_ADD:
        file(r.dev, r.ino).inserted = true;
        file(r.dev, r.ino).inserted_pages += r.len;
        file(r.dev, r.ino).mark_inserted(r.off, r.len);
        ++add_folios_by_order[r.aux & 31];
        break;
      case CAP_FORK:
        e.kind = event_kind::fork;
        e.ino = r.aux;
        put(e);
        break;
      case CAP_EXIT:
        e.kind = event_kind::exit;
        put(e);
        break;
      case CAP_PGCACHE_DEL: {
        file_info& f = file(r.dev, r.ino);
        f.deleted_pages += r.len;
        break;
      }
      case CAP_MAP_PAGES: {  // fault-around: not an event (counted); the file's size
        file_info& f = file(r.dev, r.ino);
        f.size = std::max<uint64_t>(f.size, r.size);
        f.size_known = true;
        break;
      }
      default:
        break;
    }
  }
};

int on_record(void* ctx, void* data, size_t size) {
  if (size < sizeof(cap_record)) return 0;
  cap_record r;
  std::memcpy(&r, data, sizeof r);
  static_cast<collector*>(ctx)->take(r);
  return 0;
}

void add_stat(trace_meta& m, const std::string& prefix, const std::map<std::string, uint64_t>& st) {
  for (const auto& [k, v] : st)
    if (!k.starts_with("total_") && !k.starts_with("hierarchical_"))
      m.entries.emplace_back(prefix + k, std::to_string(v));
}

// Metadata values stay one word (the text trace form splits its lines at blanks and '#'):
// blanks, '#', '%' and control characters are percent-encoded.
std::string meta_word(std::string_view v) {
  std::string out;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '#' || c == '%' || u == 0x7f)
      out += fmt::format("%{:02X}", u);
    else
      out += c;
  }
  return out;
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    const bool quote = a.empty() || a.find_first_of(" \t'\"\\$") != std::string::npos;
    if (!quote) {
      s += a;
      continue;
    }
    s += '\'';
    for (char c : a) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
    s += '\'';
  }
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

uint64_t sum_read_bytes(const std::vector<int>& pids, std::map<int, uint64_t>* per_pid) {
  uint64_t sum = 0;
  for (int pid : pids) {
    auto io = read_proc_io(pid);
    const uint64_t v = io.count("read_bytes") ? io["read_bytes"] : 0;
    if (per_pid) (*per_pid)[pid] = v;
    sum += v;
  }
  return sum;
}

// (kernel dev_t, inode) -> file page ranges [first, end) of its executable mappings
using exec_vma_map =
    std::map<std::pair<uint32_t, uint64_t>, std::set<std::pair<uint64_t, uint64_t>>>;

// (kernel dev_t, inode) -> path of every file mapped by the pids (/proc/PID/maps), so the
// files a workload maps can be opened again at the end (mincore); and the executable mappings
// (fault readahead in a VM_EXEC VMA reads from the fault to the VMA's end).
void collect_mapped_files(const std::vector<int>& pids,
                          std::map<std::pair<uint32_t, uint64_t>, std::string>& out,
                          exec_vma_map& exec) {
  for (int pid : pids) {
    std::ifstream in(fmt::format("/proc/{}/maps", pid));
    std::string line;
    while (std::getline(in, line)) {
      // "start-end perms offset maj:min inode   /path"
      char dev[32] = {}, perms[8] = {};
      unsigned long long start = 0, end = 0, offset = 0, inode = 0;
      int path_at = 0;
      if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %31s %llu %n", &start, &end, perms,
                      &offset, dev, &inode, &path_at) < 6 ||
          !inode || path_at <= 0 || static_cast<size_t>(path_at) >= line.size() ||
          line[static_cast<size_t>(path_at)] != '/')
        continue;
      unsigned maj = 0, min = 0;
      if (std::sscanf(dev, "%x:%x", &maj, &min) != 2) continue;
      const auto key = std::make_pair((maj << 20) | min, static_cast<uint64_t>(inode));
      out.emplace(key, line.substr(static_cast<size_t>(path_at)));
      if (perms[2] == 'x' && end > start)
        exec[key].emplace(offset / page_size, offset / page_size + (end - start) / page_size);
    }
  }
}

// Pages of `path` in the page cache now (mincore of a shared mapping), or empty.
std::vector<bool> resident_pages(const std::string& path, uint32_t kdev, uint64_t ino) {
  std::vector<bool> out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat sb {};
  if (::fstat(fd, &sb) != 0 || sb.st_ino != ino || major(sb.st_dev) != (kdev >> 20) ||
      minor(sb.st_dev) != (kdev & 0xfffff) || sb.st_size <= 0) {
    ::close(fd);
    return out;
  }
  const size_t len = static_cast<size_t>(sb.st_size);
  void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return out;
  std::vector<unsigned char> vec((len + page_size - 1) / page_size);
  if (::mincore(p, len, vec.data()) == 0) {
    out.resize(vec.size());
    for (size_t i = 0; i < vec.size(); ++i) out[i] = vec[i] & 1;
  }
  ::munmap(p, len);
  return out;
}

// The parts a failed capture must undo: the fresh cgroup, the temporary files.
struct cleanup {
  std::string cgroup;  // to remove (fresh only)
  std::vector<std::string> files;
  ~cleanup() {
    for (const auto& f : files) ::unlink(f.c_str());
    if (!cgroup.empty()) remove_memory_cgroup(cgroup);
  }
};

}  // namespace

result<void> capture_supported(const std::string& bpf_object) {
  if (::geteuid() != 0)
    return error{"capture needs root (BPF programs, cgroup creation, drop_caches)"};
  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return error{"the kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE cannot relocate"};
  if (auto r = ensure_tracefs(); !r) return r.err();
  auto root = memory_cgroup_root();
  if (!root) return root.err();
  const std::string obj = bpf_object.empty() ? default_capture_object() : bpf_object;
  if (::access(obj.c_str(), R_OK) != 0)
    return error{fmt::format("{}: {}", obj, std::strerror(errno))};
  return {};
}

result<capture_result> capture(const capture_options& opt) {
  auto say = [&](const std::string& s) {
    if (opt.log) opt.log(s);
  };
  if (opt.output.empty()) return error{"no output file given (--output TRACE)"};
  if (opt.command.empty() && opt.cgroup.empty())
    return error{"nothing to capture: give a command (after --) or --cgroup PATH"};
  if (!opt.cgroup.empty() && opt.memory_limit)
    return error{"--memory-limit applies to the fresh cgroup a command runs in, not to an "
                 "existing --cgroup (set its memory.limit_in_bytes yourself)"};
  if (opt.ring_buffer_bytes &&
      (opt.ring_buffer_bytes < 4096 || (opt.ring_buffer_bytes & (opt.ring_buffer_bytes - 1)) ||
       opt.ring_buffer_bytes > (1ull << 30)))
    return error{fmt::format("ring buffer size {}: must be a power of two from 4K to 1G",
                             opt.ring_buffer_bytes)};
  if (auto r = capture_supported(opt.bpf_object); !r) return r.err();

  cleanup undo;
  const std::string tmp = opt.output + ".tmp";
  const std::string spill_path = opt.output + ".tmp.events";
  // the output must be writable before the workload runs
  {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return error{fmt::format("{}: {}", tmp, std::strerror(errno))};
    ::close(fd);
    undo.files.push_back(tmp);
  }
  collector col;
  if (!opt.records_path.empty()) {
    col.raw = std::fopen(opt.records_path.c_str(), "we");
    if (!col.raw) return error{fmt::format("{}: {}", opt.records_path, std::strerror(errno))};
  }
  struct raw_closer {
    std::FILE*& f;
    ~raw_closer() {
      if (f) std::fclose(f);
    }
  } close_raw{col.raw};
  col.spill = std::fopen(spill_path.c_str(), "w+e");
  if (!col.spill) return error{fmt::format("{}: {}", spill_path, std::strerror(errno))};
  undo.files.push_back(spill_path);
  struct closer {
    std::FILE*& f;
    ~closer() {
      if (f) std::fclose(f);
    }
  } close_spill{col.spill};

  // the cgroup
  std::string cg = opt.cgroup;
  bool fresh = false;
  if (cg.empty()) {
    auto parent = own_memory_cgroup();
    if (!parent) return parent.err();
    auto made = create_memory_cgroup(*parent, fmt::format("mmbpf-capture-{}", ::getpid()),
                                     opt.memory_limit);
    if (!made) return made.err();
    cg = *made;
    fresh = true;
    undo.cgroup = cg;
  } else {
    while (cg.size() > 1 && cg.back() == '/') cg.pop_back();
    if (::access((cg + "/memory.stat").c_str(), R_OK) != 0) {
      auto root = memory_cgroup_root();
      const std::string alt = root ? *root + (cg.starts_with("/") ? "" : "/") + cg : cg;
      if (root && ::access((alt + "/memory.stat").c_str(), R_OK) == 0)
        cg = alt;
      else
        return error{fmt::format("--cgroup {}: not a cgroup v1 memory cgroup directory (no "
                                 "memory.stat)",
                                 opt.cgroup)};
    }
  }
  struct stat sb {};
  if (::stat(cg.c_str(), &sb) != 0) return error{fmt::format("{}: {}", cg, std::strerror(errno))};

  bpf_session bpf;
  if (auto r = bpf.open(opt.bpf_object.empty() ? default_capture_object() : opt.bpf_object,
                        sb.st_ino, opt.ring_buffer_bytes, on_record, &col);
      !r)
    return r.err();

  if (opt.drop_caches) {
    ::sync();
    std::ofstream dc("/proc/sys/vm/drop_caches");
    dc << "3\n";
    if (!dc.flush()) return error{"/proc/sys/vm/drop_caches: cannot write"};
  }

  trace_meta meta;
  auto before = read_memory_stat(cg);
  if (!before) return before.err();
  const uint64_t limit = read_cgroup_u64(cg, "memory.limit_in_bytes").ok()
                             ? *read_cgroup_u64(cg, "memory.limit_in_bytes")
                             : 0;
  std::map<int, uint64_t> io_before_pid;
  const uint64_t io_before =
      opt.command.empty() ? sum_read_bytes(cgroup_pids(cg), &io_before_pid) : 0;

  // signals: the command gets the terminal's SIGINT itself; we only note it
  struct sigaction sa {}, old_int {}, old_term {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  g_stop = 0;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  struct restore {
    struct sigaction a, b;
    ~restore() {
      sigaction(SIGINT, &a, nullptr);
      sigaction(SIGTERM, &b, nullptr);
    }
  } restore_signals{old_int, old_term};

  std::map<std::pair<uint32_t, uint64_t>, std::string> mapped_files;  // for mincore at the end
  exec_vma_map exec_vmas;
  // what the cgroup charges besides its page cache (anon, kernel memory), sampled each poll
  uint64_t nc_sum = 0, nc_n = 0, nc_max = 0;
  auto last_sample = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  // woken by records (at most 100 ms apart), or every drain_interval_ms
  auto wait_for_records = [&] {
    if (!opt.drain_interval_ms) {
      bpf.poll(100);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(opt.drain_interval_ms));
    bpf.drain();
  };
  auto sample = [&] {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sample < std::chrono::milliseconds(100)) return;
    last_sample = now;
    collect_mapped_files(cgroup_pids(cg), mapped_files, exec_vmas);
    auto usage = read_cgroup_u64(cg, "memory.usage_in_bytes");
    auto st = read_memory_stat(cg);
    if (!usage || !st) return;
    const uint64_t cache = (*st)["cache"];
    const uint64_t nc = *usage > cache ? *usage - cache : 0;
    nc_sum += nc;
    ++nc_n;
    nc_max = std::max(nc_max, nc);
  };
  const auto t0 = std::chrono::steady_clock::now();
  capture_result res;
  rusage ru{};
  if (!opt.command.empty()) {
    int errpipe[2];
    if (::pipe2(errpipe, O_CLOEXEC) != 0) return error{fmt::format("pipe: {}", std::strerror(errno))};
    std::vector<char*> argv;
    for (const auto& a : opt.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const std::string procs = cg + "/cgroup.procs";
    const pid_t child = ::fork();
    if (child < 0) return error{fmt::format("fork: {}", std::strerror(errno))};
    if (child == 0) {
      ::close(errpipe[0]);
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      int code[2] = {0, 0};
      const int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      char pidbuf[32];
      const int n = std::snprintf(pidbuf, sizeof pidbuf, "%d", ::getpid());
      if (fd < 0 || ::write(fd, pidbuf, static_cast<size_t>(n)) != n) {
        code[0] = 1;
        code[1] = errno;
      } else {
        ::close(fd);
        ::execvp(argv[0], argv.data());
        code[0] = 2;
        code[1] = errno;
      }
      (void)!::write(errpipe[1], code, sizeof code);
      ::_exit(127);
    }
    ::close(errpipe[1]);
    int code[2] = {0, 0};
    const ssize_t got = ::read(errpipe[0], code, sizeof code);
    ::close(errpipe[0]);
    if (got == static_cast<ssize_t>(sizeof code)) {
      ::waitpid(child, nullptr, 0);
      if (code[0] == 1)
        return error{fmt::format("{}: cannot move the command into the cgroup: {}", procs,
                                 std::strerror(code[1]))};
      return error{fmt::format("{}: {}", opt.command[0], std::strerror(code[1]))};
    }
    say(fmt::format("capture: running {} in {}", join_command(opt.command), cg));
    int status = 0;
    while (true) {
      wait_for_records();
      sample();
      const pid_t w = ::wait4(child, &status, WNOHANG, &ru);
      if (w == child) break;
      if (w < 0 && errno != EINTR) return error{fmt::format("wait4: {}", std::strerror(errno))};
    }
    res.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else {
    say(fmt::format("capture: watching {} ({})", cg,
                    opt.duration_s > 0 ? fmt::format("{} s", opt.duration_s) : "until Ctrl-C"));
    while (!g_stop) {
      wait_for_records();
      sample();
      if (opt.duration_s > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                                        .count() >= opt.duration_s)
        break;
    }
  }
  bpf.drain();
  const uint64_t wall_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  if (col.write_failed || std::fflush(col.spill) != 0)
    return error{fmt::format("{}: write failed: {}", spill_path, std::strerror(errno))};

  // the kernel's figures after
  auto after = read_memory_stat(cg);
  if (!after) return after.err();
  res.records = col.records;
  res.lost = bpf.counter(CAP_CNT_DROPPED);
  utsname un{};
  ::uname(&un);
  meta.entries.emplace_back("source", "mmbpf_capture");
  meta.entries.emplace_back("capture.command",
                            meta_word(opt.command.empty() ? "" : join_command(opt.command)));
  meta.entries.emplace_back("capture.cgroup", meta_word(cg));
  meta.entries.emplace_back("capture.cgroup_fresh", fresh ? "1" : "0");
  meta.entries.emplace_back("capture.memory_limit", std::to_string(limit >= (1ull << 62) ? 0 : limit));
  meta.entries.emplace_back("capture.kernel", meta_word(fmt::format("{} {}", un.sysname, un.release)));
  meta.entries.emplace_back("capture.exit_status", std::to_string(res.exit_status));
  meta.entries.emplace_back("capture.wall_ns", std::to_string(wall_ns));
  meta.entries.emplace_back("capture.drop_caches", opt.drop_caches ? "1" : "0");
  meta.entries.emplace_back("capture.records", std::to_string(res.records));
  meta.entries.emplace_back("capture.lost", std::to_string(res.lost));
  meta.entries.emplace_back("capture.noncache_samples", std::to_string(nc_n));
  meta.entries.emplace_back("capture.noncache_mean_bytes", std::to_string(nc_n ? nc_sum / nc_n : 0));
  meta.entries.emplace_back("capture.noncache_max_bytes", std::to_string(nc_max));
  meta.entries.emplace_back("capture.bpf_emitted", std::to_string(bpf.counter(CAP_CNT_EMITTED)));
  static const char* kind_names[CAP_NR_KINDS] = {"",      "read",          "write",
                                                 "fadvise", "fsync",       "ftruncate",
                                                 "fault", "map_pages",     "pgcache_add",
                                                 "pgcache_delete", "fork", "exit"};
  for (int k = 1; k < CAP_NR_KINDS; ++k)
    meta.entries.emplace_back(fmt::format("capture.records.{}", kind_names[k]),
                              std::to_string(col.per_kind[k]));
  // read_ahead_kb of the device most bytes were read from
  std::map<uint32_t, uint64_t> dev_bytes;
  for (const auto& [key, f] : col.files) dev_bytes[f.dev] += f.read_bytes;
  uint32_t main_dev = 0;
  uint64_t best = 0;
  for (const auto& [dev, b] : dev_bytes)
    if (!main_dev || b > best) main_dev = dev, best = b;
  if (main_dev) {
    meta.entries.emplace_back("capture.device", fmt::format("{}:{}", main_dev >> 20, main_dev & 0xfffff));
    if (const uint64_t ra = device_read_ahead_kb(main_dev))
      meta.entries.emplace_back("read_ahead_kb", std::to_string(ra));
  }
  // the kernel's page-cache figures from the tracepoints (BPF counters: lossless)
  meta.entries.emplace_back("kernel.pgcache_add_pages",
                            std::to_string(bpf.counter(CAP_CNT_PGCACHE_ADD_PAGES)));
  meta.entries.emplace_back("kernel.pgcache_add_pages_nodev",
                            std::to_string(bpf.counter(CAP_CNT_PGCACHE_ADD_NODEV_PAGES)));
  meta.entries.emplace_back("kernel.pgcache_delete_pages",
                            std::to_string(bpf.counter(CAP_CNT_PGCACHE_DEL_PAGES)));
  meta.entries.emplace_back("kernel.filemap_faults", std::to_string(bpf.counter(CAP_CNT_FAULTS)));
  meta.entries.emplace_back("kernel.map_pages", std::to_string(bpf.counter(CAP_CNT_MAP_PAGES)));
  for (int o = 0; o < 32; ++o)
    if (col.add_folios_by_order[o])
      meta.entries.emplace_back(fmt::format("kernel.pgcache_add_folios.order{}", o),
                                std::to_string(col.add_folios_by_order[o]));
  // the files the cgroup inserted most pages of (ring buffer records; for diagnosis)
  {
    std::vector<const file_info*> top;
    for (size_t id = 1; id < col.by_id.size(); ++id)
      if (col.by_id[id]->inserted_pages) top.push_back(col.by_id[id]);
    std::sort(top.begin(), top.end(), [](const file_info* a, const file_info* b) {
      return a->inserted_pages > b->inserted_pages;
    });
    if (top.size() > 8) top.resize(8);
    for (const file_info* f : top) {
      meta.entries.emplace_back(fmt::format("kernel.pgcache_add_pages.ino{}", f->id),
                                std::to_string(f->inserted_pages));
      meta.entries.emplace_back(fmt::format("kernel.pgcache_delete_pages.ino{}", f->id),
                                std::to_string(f->deleted_pages));
    }
  }
  // IO of the process tree
  if (!opt.command.empty()) {
    meta.entries.emplace_back("io.source", "wait4_rusage");  // the command's process tree
    meta.entries.emplace_back("io.read_bytes", std::to_string(static_cast<uint64_t>(ru.ru_inblock) * 512));
    meta.entries.emplace_back("io.write_bytes", std::to_string(static_cast<uint64_t>(ru.ru_oublock) * 512));
    meta.entries.emplace_back("io.majflt", std::to_string(static_cast<uint64_t>(ru.ru_majflt)));
    meta.entries.emplace_back("io.minflt", std::to_string(static_cast<uint64_t>(ru.ru_minflt)));
  } else {
    std::map<int, uint64_t> io_after_pid;
    sum_read_bytes(cgroup_pids(cg), &io_after_pid);
    uint64_t delta = 0;
    for (const auto& [pid, v] : io_after_pid) {
      auto it = io_before_pid.find(pid);
      delta += v - std::min(v, it == io_before_pid.end() ? 0 : it->second);
    }
    (void)io_before;
    meta.entries.emplace_back("io.source", "proc_pid_io");  // the cgroup's processes, start/end
    meta.entries.emplace_back("io.read_bytes", std::to_string(delta));
  }
  add_stat(meta, "memory.stat.before.", *before);
  add_stat(meta, "memory.stat.after.", *after);
  for (const char* f : {"memory.usage_in_bytes", "memory.max_usage_in_bytes",
                        "memory.kmem.usage_in_bytes", "memory.kmem.max_usage_in_bytes",
                        "memory.failcnt"})
    if (auto v = read_cgroup_u64(cg, f)) meta.entries.emplace_back(fmt::format("cgroup.{}", f), std::to_string(*v));

  // which files' events stay: those the cgroup inserted pages of, and files it wrote
  std::vector<bool> keep(col.by_id.size(), true);
  uint64_t precached_files = 0;
  for (size_t id = 1; id < col.by_id.size(); ++id) {
    const file_info& f = *col.by_id[id];
    if (!f.inserted) {
      keep[id] = false;
      ++precached_files;
    }
    if (f.size_known) meta.file_size[f.id] = f.size;
  }
  // the trace: header with the metadata, then the spilled events that stay
  uint64_t dropped = 0;
  std::vector<event> out;
  out.reserve(1 << 16);
  std::rewind(col.spill);
  // a first pass counts the events left out, for the metadata the header carries
  {
    event buf[4096];
    size_t n;
    while ((n = std::fread(buf, sizeof(event), 4096, col.spill)) > 0)
      for (size_t i = 0; i < n; ++i)
        if (buf[i].ino && buf[i].kind != event_kind::fork && !keep[buf[i].ino]) ++dropped;
  }
  for (auto it = meta.file_size.begin(); it != meta.file_size.end();)
    it = keep[it->first] ? std::next(it) : meta.file_size.erase(it);
  res.events = col.events - dropped;
  meta.entries.emplace_back("capture.events", std::to_string(res.events));
  meta.entries.emplace_back("capture.events_precached", std::to_string(dropped));
  meta.entries.emplace_back("capture.files", std::to_string(col.by_id.size() - 1));
  meta.entries.emplace_back("capture.files_precached", std::to_string(precached_files));
  // A faulted page the cgroup never inserted was resident before. (mm_filemap_fault fires
  // before a major fault inserts its page, so a fault cannot be judged when it is seen.)
  // A mapped file's pages resident now that the cgroup never inserted were resident before
  // too (charged elsewhere; the cgroup's reclaim cannot evict them): a fault read-around in
  // the kernel skipped them. mincore() finds them, for the files whose path /proc/PID/maps
  // showed while the command ran.
  uint64_t mincore_files = 0;
  for (const auto& [key, path] : mapped_files) {
    auto it = col.files.find(key);
    if (it == col.files.end() || it->second.faulted.empty()) continue;
    file_info& f = it->second;
    const std::vector<bool> res = resident_pages(path, key.first, key.second);
    if (res.empty()) continue;
    ++mincore_files;
    for (uint64_t p = 0; p < res.size(); ++p)
      if (res[p] && (p >= f.ins.size() || !f.ins[p])) f.accessed(p, 1);
  }
  meta.entries.emplace_back("capture.mincore_files", std::to_string(mincore_files));
  // capture.exec_vma.<ino>=first-end,...: the file pages its executable mappings covered
  for (const auto& [key, ranges] : exec_vmas) {
    auto it = col.files.find(key);
    if (it == col.files.end() || !keep[it->second.id]) continue;
    std::string v;
    for (const auto& [first, end] : ranges)
      v += fmt::format("{}{}-{}", v.empty() ? "" : ",", first, end);
    meta.entries.emplace_back(fmt::format("capture.exec_vma.{}", it->second.id), v);
  }
  for (size_t id = 1; id < col.by_id.size(); ++id) {
    file_info& f = *col.by_id[id];
    for (uint64_t p : f.faulted)
      if (p >= f.ins.size() || !f.ins[p]) f.accessed(p, 1);
  }
  // the warm-up: the pages that were resident before the capture, read into a sibling cgroup
  // first (fadvise RANDOM: exactly those pages, no readahead), so the model starts with them
  std::vector<event> warm;
  uint64_t warm_pages = 0;
  for (size_t id = 1; id < col.by_id.size(); ++id) {
    const file_info& f = *col.by_id[id];
    if (!keep[id] || !f.nr_pre) continue;
    event e{};
    e.pid = warmup_pid;
    e.cgroup = warmup_cgroup;
    e.ino = f.id;
    if (warm.empty()) {
      event c{};
      c.kind = event_kind::cgroup_create;
      c.cgroup = warmup_cgroup;
      c.ino = 0;
      warm.push_back(c);
    }
    e.kind = event_kind::fadvise;
    e.advice = POSIX_FADV_RANDOM;
    warm.push_back(e);
    for (uint64_t p = 0; p < f.pre.size();) {
      if (!f.pre[p]) {
        ++p;
        continue;
      }
      uint64_t q = p;
      while (q < f.pre.size() && f.pre[q]) ++q;
      e.kind = event_kind::read;
      e.advice = 0;
      e.off = p * page_size;
      e.len = (q - p) * page_size;
      warm.push_back(e);
      warm_pages += q - p;
      p = q;
    }
  }
  if (!warm.empty()) {
    event x{};
    x.kind = event_kind::exit;
    x.pid = warmup_pid;
    x.cgroup = warmup_cgroup;
    warm.push_back(x);
  }
  meta.entries.emplace_back("capture.preresident_pages", std::to_string(warm_pages));
  meta.entries.emplace_back("capture.warmup_events", std::to_string(warm.size()));
  meta.entries.emplace_back("capture.warmup_cgroup", warm.empty() ? "" : std::to_string(warmup_cgroup));
  res.events += warm.size();
  auto w = trace_writer::create(tmp, meta);
  if (!w) return w.err();
  if (auto r = w->write(warm); !r) return r.err();
  std::rewind(col.spill);
  {
    event buf[4096];
    size_t n;
    while ((n = std::fread(buf, sizeof(event), 4096, col.spill)) > 0) {
      out.clear();
      for (size_t i = 0; i < n; ++i)
        if (!(buf[i].ino && buf[i].kind != event_kind::fork && !keep[buf[i].ino]))
          out.push_back(buf[i]);
      if (auto r = w->write(out); !r) return r.err();
    }
  }
  if (auto r = w->close(); !r) return r.err();
  if (::rename(tmp.c_str(), opt.output.c_str()) != 0)
    return error{fmt::format("{}: {}", opt.output, std::strerror(errno))};
  undo.files.erase(undo.files.begin());  // tmp is the output now
  res.meta = std::move(meta);
  say(fmt::format("capture: {} events ({} records, {} lost) -> {}", res.events, res.records,
                  res.lost, opt.output));
  return res;
}

}  // namespace mmbpf::workload
