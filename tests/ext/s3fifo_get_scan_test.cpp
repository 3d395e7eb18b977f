// The shipped cache_ext policies S3-FIFO and GET-SCAN, loaded from clang-built objects:
// s3fifo must miss exactly where its native C++ twin ("s3fifo", libCacheSim semantics) misses
// on the same traces (exact_config model, policy on the root); get_scan must reproduce the
// paper's GET-SCAN finding (§5.4) in a small model: a zipfian GET workload mixed with a rare
// large sequential SCAN, in a cgroup smaller than GET's working set, keeps a higher GET hit
// ratio under get_scan (SCAN threads named in scan_pids) than under the kernel's LRU.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "cache_ext_harness.h"
#include "mm/native_policy.h"
#include "workload/generators.h"
#include "workload/replay.h"

namespace mmbpf::ext {
namespace {

using testing::exact_config;
using testing::harness;
using testing::policy_object;
using testing::run_native;
using testing::skewed_trace;

// ---- S3-FIFO: BPF vs native ------------------------------------------------------------------

struct s3_outcome {
  uint64_t misses = 0;
  mm::model_counters counters;
  long file_pages = 0;
  uint64_t listed = 0;  // folios on the policy's lists (small + main + pending)
  cache_ext_stats stats;
};

// The main FIFO's share of a cache of `capacity` pages, as both implementations compute it.
uint64_t main_share(uint64_t capacity) { return capacity - capacity / 10; }

s3_outcome run_bpf_s3fifo(uint64_t capacity, uint64_t objects, const std::vector<uint64_t>& trace) {
  harness h(exact_config(capacity));
  auto o = bpf::bpf_object::open_file(policy_object("s3fifo"));
  EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.err().msg);
  if (!o.ok()) return {};
  // the loader sizes the ghost to main's capacity (bpf_map__set_max_entries before load)
  bpf::obj_map* ghost = (*o)->find_map("ghost");
  EXPECT_NE(ghost, nullptr);
  if (!ghost) return {};
  ghost->attr.max_entries = static_cast<uint32_t>(main_share(capacity));
  auto r = (*o)->load(h.rt);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().msg);
  if (!r.ok()) return {};
  h.objs.push_back(std::move(*o));
  auto l = h.ce.attach(*h.objs.back(), "", h.m.root(), attach_mode::effective);
  EXPECT_TRUE(l.ok()) << (l.ok() ? "" : l.err().msg);
  if (!l.ok()) return {};
  h.m.set_file_size(1, objects * 4096);
  for (uint64_t p : trace) h.read_page(p);
  s3_outcome out{h.m.counters().misses, h.m.counters(), h.m.node_page_state(NR_FILE_PAGES)};
  for (int i = 0; i < (*l)->nr_lists(); ++i) out.listed += (*l)->list_length((*l)->list_id(i));
  out.stats = (*l)->stats();
  return out;
}

// Zipfian page ids (theta 0.99, rank order scattered over the file), from the ycsb/zipf
// generator, as a page trace.
std::vector<uint64_t> zipf_trace(uint64_t objects, uint64_t requests, uint64_t seed) {
  workload::page_read_params p;
  p.c.seed = seed;
  p.pages = objects;
  p.events = requests;
  auto g = workload::make_page_reads(p);
  std::vector<uint64_t> t;
  std::vector<workload::event> buf(4096);
  for (;;) {
    auto n = g->read(std::span(buf));
    if (!n.ok() || !*n) break;
    for (size_t i = 0; i < *n; ++i) t.push_back(buf[i].off / 4096);
  }
  return t;
}

TEST(S3Fifo, MissesExactlyWhereTheNativeS3FifoMisses) {
  struct cfg {
    const char* trace;
    uint64_t capacity, objects, requests, seed;
  };
  const cfg cfgs[] = {
      {"skewed", 400, 3000, 40000, 1}, {"skewed", 400, 3000, 40000, 2},
      {"skewed", 200, 3000, 40000, 3}, {"skewed", 1000, 5000, 60000, 4},
      {"zipf", 300, 5000, 50000, 5},   {"zipf", 1000, 20000, 80000, 6},
  };
  for (const cfg& c : cfgs) {
    const auto trace = std::string_view(c.trace) == "zipf"
                           ? zipf_trace(c.objects, c.requests, c.seed)
                           : skewed_trace(c.objects, c.requests, c.seed);
    const s3_outcome bpf = run_bpf_s3fifo(c.capacity, c.objects, trace);
    const uint64_t native = run_native("s3fifo", c.capacity, c.objects, trace).misses;
    std::printf("s3fifo %s capacity %lu objects %lu requests %lu: bpf misses %lu, native %lu\n",
                c.trace, c.capacity, c.objects, trace.size(), bpf.misses, native);
    EXPECT_EQ(bpf.misses, native) << c.trace << " seed " << c.seed;
    EXPECT_GT(bpf.misses, trace.size() / 20);
    EXPECT_EQ(bpf.file_pages, static_cast<long>(c.capacity));
    EXPECT_EQ(bpf.listed, c.capacity);  // every cached folio is on one of its lists
    EXPECT_EQ(bpf.counters.cache_candidates_invalid, 0u);
    EXPECT_EQ(bpf.counters.cache_fallback_batches, 0u);
    EXPECT_EQ(bpf.stats.prog_errors, 0u) << bpf.stats.last_error;
    EXPECT_EQ(bpf.stats.kfunc_refused, 0u);
  }
}

// S3-FIFO's point: a one-hit-wonder scan goes through small and leaves main's hot pages alone,
// where FIFO loses them.
TEST(S3Fifo, KeepsTheHotSetThroughAScan) {
  std::vector<uint64_t> trace;
  for (int round = 0; round < 20; ++round) {
    for (uint64_t p = 0; p < 200; ++p) trace.push_back(p);         // hot: 200 pages, reused
    for (uint64_t p = 0; p < 300; ++p) trace.push_back(1000 + round * 300 + p);  // scan
  }
  const s3_outcome s3 = run_bpf_s3fifo(400, 8000, trace);
  const uint64_t fifo = run_native("fifo", 400, 8000, trace).misses;
  std::printf("hot set + scan, 400 pages: s3fifo misses %lu, fifo %lu\n", s3.misses, fifo);
  EXPECT_EQ(s3.misses, run_native("s3fifo", 400, 8000, trace).misses);
  EXPECT_LT(s3.misses, fifo);
  // the scan misses every time (6000); the hot set is read from disk only at the start, then
  // survives in main (200 x a few)
  EXPECT_LT(s3.misses, 6000u + 200u * 3);
  EXPECT_EQ(s3.stats.prog_errors, 0u) << s3.stats.last_error;
}

// ---- GET-SCAN --------------------------------------------------------------------------------

constexpr uint32_t get_pid = 1, scan_pid = 2;
constexpr uint16_t db_cgroup = 1;

struct get_scan_result {
  uint64_t get_lookups = 0, get_misses = 0;
  uint64_t scan_lookups = 0, scan_misses = 0;
  double get_hit_ratio() const {
    return get_lookups ? 1.0 - static_cast<double>(get_misses) / static_cast<double>(get_lookups) : 0;
  }
  double scan_hit_ratio() const {
    return scan_lookups ? 1.0 - static_cast<double>(scan_misses) / static_cast<double>(scan_lookups) : 0;
  }
  mm::model_counters counters;
  cache_ext_stats stats;
};

// The workload: GET = zipfian reads (theta 0.99) of 4 KiB pages of a 32 MiB file by pid 1;
// SCAN = sequential reads of 1 MiB each over a 100 MiB file by pid 2; 99.95 % of the events are
// GETs, interleaved at random (seeded). Both in a 16 MiB cgroup, a quarter of GET's file.
constexpr uint64_t get_pages = 8192, get_events = 199900;
constexpr uint64_t scan_io = 256, scan_pages = 25600;  // 100 scan events of 256 pages
constexpr uint64_t cgroup_bytes = 16ull << 20;

std::unique_ptr<workload::generator> get_scan_workload() {
  workload::page_read_params g;
  g.c = {.seed = 11, .pid = get_pid, .cgroup = db_cgroup, .ino = 1};
  g.pages = get_pages;
  g.events = get_events;
  workload::scan_params s;
  s.c = {.seed = 12, .pid = scan_pid, .cgroup = db_cgroup, .ino = 2};
  s.pages = scan_pages;
  s.io = scan_io;
  std::vector<std::unique_ptr<workload::generator>> t;
  t.push_back(workload::make_page_reads(g));
  t.push_back(workload::make_scan(s));
  return workload::make_mix(std::move(t), 13);
}

mm::config get_scan_config() {
  mm::config c;
  c.memory_pages = 65536;  // 256 MiB: only the cgroup's limit binds
  return c;
}

enum class gs_policy { kernel, get_scan, get_scan_no_pids };

// Replays the workload; GET's and SCAN's lookups and misses are the model's counters diffed
// around each of their reads.
get_scan_result run_get_scan(gs_policy policy) {
  harness h(get_scan_config());
  get_scan_result out;
  EXPECT_TRUE(h.m.cgroup_create(db_cgroup, 0, "db").ok());
  EXPECT_TRUE(h.m.cgroup_set_limit(db_cgroup, 0, cgroup_bytes).ok());
  mm::memcg* db = h.m.find_memcg(db_cgroup);
  if (!db) return out;
  cache_ext_link* link = nullptr;
  if (policy != gs_policy::kernel) {
    bpf::bpf_object* o = h.load(policy_object("get_scan"));
    if (!o) return out;
    if (policy == gs_policy::get_scan) {
      bpf::obj_map* pids = o->find_map("scan_pids");
      EXPECT_NE(pids, nullptr);
      if (!pids) return out;
      const uint32_t pid = scan_pid;
      const uint8_t one = 1;
      EXPECT_EQ(h.rt.map(pids->fd)->update_elem(&pid, &one, BPF_ANY), 0);
    }
    auto l = h.ce.attach(*o, "", *db, attach_mode::own_cgroup);
    EXPECT_TRUE(l.ok()) << (l.ok() ? "" : l.err().msg);
    if (!l.ok()) return out;
    link = *l;
  }
  auto w = get_scan_workload();
  workload::apply_trace_files(w->meta(), h.m);
  std::vector<workload::event> buf(4096);
  for (;;) {
    auto n = w->read(std::span(buf));
    EXPECT_TRUE(n.ok());
    if (!n.ok() || !*n) break;
    for (size_t i = 0; i < *n; ++i) {
      const workload::event& e = buf[i];
      const uint64_t lookups = h.m.counters().lookups, misses = h.m.counters().misses;
      const uint64_t t = h.m.now_ns();
      h.m.sys_read(e.pid, e.cgroup, e.ino, e.off, e.len);
      h.m.end_event(t);
      const uint64_t dl = h.m.counters().lookups - lookups, dm = h.m.counters().misses - misses;
      if (e.pid == get_pid) {
        out.get_lookups += dl;
        out.get_misses += dm;
      } else {
        out.scan_lookups += dl;
        out.scan_misses += dm;
      }
    }
  }
  out.counters = h.m.counters();
  if (link) out.stats = link->stats();
  return out;
}

TEST(GetScan, ScanListKeepsTheGetHitRatioAboveTheKernelsLru) {
  const get_scan_result kernel = run_get_scan(gs_policy::kernel);
  const get_scan_result informed = run_get_scan(gs_policy::get_scan);
  const get_scan_result blind = run_get_scan(gs_policy::get_scan_no_pids);
  std::printf("GET-SCAN (%lu GET reads of a %lu-page zipf file, %lu SCAN reads of %lu pages, "
              "%lu-page cgroup)\n",
              get_events, get_pages, scan_pages / scan_io, scan_io, cgroup_bytes / 4096);
  std::printf("  kernel LRU:                GET hit ratio %.4f (%lu/%lu misses), SCAN %.4f\n",
              kernel.get_hit_ratio(), kernel.get_misses, kernel.get_lookups,
              kernel.scan_hit_ratio());
  std::printf("  get_scan, pid 2 in scan_pids: GET hit ratio %.4f (%lu/%lu misses), SCAN %.4f\n",
              informed.get_hit_ratio(), informed.get_misses, informed.get_lookups,
              informed.scan_hit_ratio());
  std::printf("  get_scan, scan_pids empty:    GET hit ratio %.4f (%lu/%lu misses), SCAN %.4f\n",
              blind.get_hit_ratio(), blind.get_misses, blind.get_lookups, blind.scan_hit_ratio());
  EXPECT_EQ(kernel.get_lookups, get_events);
  EXPECT_EQ(informed.get_lookups, get_events);
  EXPECT_EQ(informed.scan_lookups, scan_pages);
  EXPECT_GT(informed.get_hit_ratio(), kernel.get_hit_ratio());
  EXPECT_EQ(informed.stats.prog_errors, 0u) << informed.stats.last_error;
  EXPECT_EQ(informed.counters.cache_candidates_invalid, 0u);
  EXPECT_EQ(blind.stats.prog_errors, 0u) << blind.stats.last_error;
}

}  // namespace
}  // namespace mmbpf::ext
