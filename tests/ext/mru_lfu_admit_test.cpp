// Three in-tree cache_ext policies against the model: MRU and the sampled LFU must miss exactly
// where their native C++ twins (mm/native_policy.cpp "mru", "lfu_sampled") miss, in exact_cache
// mode, with dirty folios in the mix for MRU; the admission filter must keep a filtered
// thread's reads out of the page cache and leave everyone else's alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bpf/map.h"
#include "cache_ext_harness.h"
#include "ext/cache_ext.h"
#include "mm/native_policy.h"

namespace mmbpf::ext {
namespace {

using testing::exact_config;
using testing::harness;
using testing::policy_object;
using testing::skewed_trace;

// One request: a read of a page, or a write of it when `write`.
struct op {
  uint64_t page;
  bool write = false;
};

std::vector<op> reads(const std::vector<uint64_t>& pages) {
  std::vector<op> t;
  for (uint64_t p : pages) t.push_back({p, false});
  return t;
}

struct outcome {
  uint64_t misses = 0;
  mm::model_counters counters;
  long file_pages = 0;
  cache_ext_stats stats;
  uint64_t map_entries = 0;  // elements of the map `count_map` at the end
};

void replay(mm::model& m, const std::vector<op>& trace) {
  for (const op& o : trace) {
    const uint64_t t = m.now_ns();
    if (o.write)
      m.sys_write(1, 0, 1, o.page * 4096, 4096);
    else
      m.sys_read(1, 0, 1, o.page * 4096, 4096);
    m.end_event(t);
  }
}

uint64_t map_size(bpf::bpf_map& map) {
  uint64_t n = 0, key = 0, next = 0;
  for (const void* k = nullptr; map.get_next_key(k, &next) == 0; k = &key, key = next) ++n;
  return n;
}

outcome run_bpf(const std::string& policy, uint64_t capacity, uint64_t objects,
                const std::vector<op>& trace, const char* count_map = nullptr) {
  harness h(exact_config(capacity));
  cache_ext_link* l = h.attach(policy_object(policy), h.m.root(), attach_mode::effective);
  if (!l) return {};
  h.m.set_file_size(1, objects * 4096);
  replay(h.m, trace);
  outcome o{h.m.counters().misses, h.m.counters(), h.m.node_page_state(NR_FILE_PAGES), l->stats()};
  if (count_map) {
    bpf::obj_map* om = h.objs.back()->find_map(count_map);
    EXPECT_NE(om, nullptr) << count_map;
    if (om) o.map_entries = map_size(*h.rt.map(om->fd));
  }
  return o;
}

outcome run_native(const std::string& policy, uint64_t capacity, uint64_t objects,
                   const std::vector<op>& trace) {
  mm::model m(exact_config(capacity));
  auto p = mm::make_native_policy(policy, m);
  EXPECT_TRUE(p.ok()) << policy;
  if (!p.ok()) return {};
  m.set_cache_policy(m.root(), p->get());
  m.set_file_size(1, objects * 4096);
  replay(m, trace);
  return {m.counters().misses, m.counters(), m.node_page_state(NR_FILE_PAGES), {}};
}

// ---- MRU -----------------------------------------------------------------------------------

TEST(CacheExtMru, MissesExactlyWhereTheNativeMruMisses) {
  for (uint64_t seed : {1, 2, 3}) {
    const auto trace = reads(skewed_trace(3000, 40000, seed));
    const outcome bpf = run_bpf("mru", 400, 3000, trace);
    const outcome native = run_native("mru", 400, 3000, trace);
    EXPECT_EQ(bpf.misses, native.misses) << "seed " << seed;
    EXPECT_GT(bpf.misses, 20000u);  // MRU is poor on a skewed trace
    EXPECT_EQ(bpf.file_pages, 400);
    EXPECT_EQ(bpf.counters.cache_candidates_invalid, 0u);
    EXPECT_EQ(bpf.counters.cache_fallback_batches, 0u);
    EXPECT_EQ(bpf.stats.prog_errors, 0u) << bpf.stats.last_error;
  }
}

// A loop over 500 pages with 400 cached: the kernel's LRU (and an exact LRU) misses every read,
// MRU keeps most of the loop.
TEST(CacheExtMru, KeepsALoopLargerThanTheCache) {
  std::vector<uint64_t> pages;
  for (int pass = 0; pass < 20; ++pass)
    for (uint64_t i = 0; i < 500; ++i) pages.push_back(i);
  const auto trace = reads(pages);
  const outcome bpf = run_bpf("mru", 400, 500, trace);
  const outcome native = run_native("mru", 400, 500, trace);
  const outcome lru = run_native("lru", 400, 500, trace);
  EXPECT_EQ(bpf.misses, native.misses);
  EXPECT_EQ(lru.misses, 10000u);
  EXPECT_LT(bpf.misses, 3000u);
  EXPECT_GT(bpf.misses, 500u);
  EXPECT_EQ(bpf.stats.prog_errors, 0u) << bpf.stats.last_error;
}

// Writes leave dirty folios at the head of the list: both MRUs must pass over them (bounded)
// and still agree read for read.
TEST(CacheExtMru, PassesOverDirtyFoliosAsTheNativeMruDoes) {
  std::mt19937_64 rng(9);
  std::vector<op> trace;
  for (uint64_t p : skewed_trace(2000, 20000, 4)) trace.push_back({p, rng() % 8 == 0});
  const outcome bpf = run_bpf("mru", 300, 2000, trace);
  const outcome native = run_native("mru", 300, 2000, trace);
  EXPECT_EQ(bpf.misses, native.misses);
  EXPECT_EQ(bpf.counters.cache_candidates_kept, 0u);  // never proposes a dirty folio
  EXPECT_EQ(native.counters.cache_candidates_kept, 0u);
  EXPECT_EQ(bpf.counters.cache_fallback_batches, native.counters.cache_fallback_batches);
  EXPECT_GT(bpf.misses, 5000u);
  EXPECT_EQ(bpf.stats.prog_errors, 0u) << bpf.stats.last_error;
}

// ---- sampled LFU ---------------------------------------------------------------------------

TEST(CacheExtLfu, SampledLfuMatchesItsNativeTwin) {
  for (uint64_t seed : {1, 2, 3}) {
    const auto trace = reads(skewed_trace(3000, 40000, seed));
    const outcome bpf = run_bpf("lfu", 400, 3000, trace, "folio_freq");
    const outcome native = run_native("lfu_sampled", 400, 3000, trace);
    // the same algorithm on the same list order: exact, which is within 1 % a fortiori
    EXPECT_EQ(bpf.misses, native.misses) << "seed " << seed;
    EXPECT_LE(bpf.misses, native.misses + native.misses / 100);
    EXPECT_GE(bpf.misses + native.misses / 100, native.misses);
    EXPECT_GT(bpf.misses, 4000u);
    EXPECT_EQ(bpf.file_pages, 400);
    // a frequency per cached folio: set on insertion, deleted on eviction
    EXPECT_EQ(bpf.map_entries, 400u);
    EXPECT_EQ(bpf.counters.cache_candidates_invalid, 0u);
    EXPECT_EQ(bpf.counters.cache_fallback_batches, 0u);
    EXPECT_EQ(bpf.stats.prog_errors, 0u) << bpf.stats.last_error;
  }
}

std::vector<uint64_t> zipf_trace(uint64_t objects, uint64_t requests, double alpha, uint64_t seed) {
  std::vector<double> cdf(objects);
  double sum = 0;
  for (uint64_t i = 0; i < objects; ++i) cdf[i] = sum += 1.0 / std::pow(double(i + 1), alpha);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, sum);
  std::vector<uint64_t> page(objects);  // ranks scattered over the file
  for (uint64_t i = 0; i < objects; ++i) page[i] = i;
  std::shuffle(page.begin(), page.end(), rng);
  std::vector<uint64_t> trace;
  for (uint64_t i = 0; i < requests; ++i) {
    const auto r = static_cast<uint64_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
    trace.push_back(page[std::min(r, objects - 1)]);
  }
  return trace;
}

// zipf 0.99, cache = 10 % of the objects (the trace of NativePolicy.ZipfMissRatios...): the
// BPF policy equals its twin; the exact LFU's ratio is printed for comparison.
TEST(CacheExtLfu, SampledLfuMatchesItsNativeTwinOnZipf) {
  const uint64_t objects = 5000, capacity = 500, requests = 200000;
  const auto trace = reads(zipf_trace(objects, requests, 0.99, 5));
  const outcome bpf = run_bpf("lfu", capacity, objects, trace);
  const outcome twin = run_native("lfu_sampled", capacity, objects, trace);
  const outcome exact = run_native("lfu", capacity, objects, trace);
  EXPECT_EQ(bpf.misses, twin.misses);
  EXPECT_GT(bpf.misses, requests / 10);
  EXPECT_EQ(bpf.stats.prog_errors, 0u) << bpf.stats.last_error;
  std::printf("  zipf 0.99: BPF lfu %.4f, native lfu_sampled %.4f, exact lfu %.4f miss ratio\n",
              double(bpf.misses) / requests, double(twin.misses) / requests,
              double(exact.misses) / requests);
}

// It is LFU: on the skewed trace it misses less than FIFO, which ignores frequency.
TEST(CacheExtLfu, SampledLfuMissesLessThanFifo) {
  const auto trace = reads(skewed_trace(3000, 40000, 5));
  const outcome lfu = run_bpf("lfu", 400, 3000, trace);
  const outcome fifo = run_native("fifo", 400, 3000, trace);
  EXPECT_LT(lfu.misses * 100, fifo.misses * 95);
}

// With fewer folios than one sample of 20, list_sample proposes nothing and the kernel's LRU
// evicts; the twin does the same.
TEST(CacheExtLfu, ShortListFallsBackToTheKernelLikeTheTwin) {
  const auto trace = reads(skewed_trace(200, 5000, 6));
  const outcome bpf = run_bpf("lfu", 12, 200, trace);
  const outcome native = run_native("lfu_sampled", 12, 200, trace);
  EXPECT_EQ(bpf.misses, native.misses);
  EXPECT_GT(bpf.counters.cache_fallback_batches, 1000u);
  EXPECT_EQ(bpf.counters.cache_fallback_batches, native.counters.cache_fallback_batches);
  EXPECT_EQ(bpf.stats.prog_errors, 0u) << bpf.stats.last_error;
}

// ---- admission filter ----------------------------------------------------------------------

TEST(CacheExtAdmitFilter, FilteredThreadsReadsAreNotCached) {
  mm::config c;
  c.memory_pages = 4096;
  harness h(c);
  bpf::bpf_object* o = h.load(policy_object("admit_filter"));
  ASSERT_NE(o, nullptr);
  bpf::obj_map* om = o->find_map("filtered_pids");
  ASSERT_NE(om, nullptr);
  bpf::bpf_map* pids = h.rt.map(om->fd);
  ASSERT_NE(pids, nullptr);
  const uint32_t compaction = 2;
  const uint8_t one = 1;
  ASSERT_EQ(pids->update_elem(&compaction, &one, BPF_ANY), 0);
  auto l = h.ce.attach(*o, "", h.m.root(), attach_mode::effective);
  ASSERT_TRUE(l.ok()) << l.err().msg;

  h.m.set_file_size(1, 1000 * 4096ull);
  h.m.set_file_size(2, 1000 * 4096ull);
  // pid 2 (filtered) reads file 2: nothing is cached (readahead's pages are refused too), so
  // every read misses, on the second pass as on the first
  for (uint64_t p = 0; p < 300; ++p) h.read_page(p, 2, compaction);
  const uint64_t refused = h.m.counters().admission_refused;
  EXPECT_GE(refused, 300u);
  EXPECT_EQ(h.m.node_page_state(NR_FILE_PAGES), 0);
  const uint64_t misses = h.m.counters().misses;
  EXPECT_GE(misses, 300u);
  for (uint64_t p = 0; p < 300; ++p) h.read_page(p, 2, compaction);
  EXPECT_GE(h.m.counters().admission_refused, refused + 300);
  EXPECT_GE(h.m.counters().misses, misses + 300);
  EXPECT_EQ(h.m.node_page_state(NR_FILE_PAGES), 0);
  const uint64_t refused2 = h.m.counters().admission_refused;

  // pid 1 reads file 1: cached (no admission refused), a second pass hits
  for (uint64_t p = 0; p < 300; ++p) h.read_page(p, 1, 1);
  EXPECT_EQ(h.m.counters().admission_refused, refused2);
  EXPECT_GE(h.m.node_page_state(NR_FILE_PAGES), 300);
  const uint64_t before = h.m.counters().misses;
  for (uint64_t p = 0; p < 300; ++p) h.read_page(p, 1, 1);
  EXPECT_EQ(h.m.counters().misses, before);

  // and pid 2 reading what pid 1 cached hits without inserting anything
  const long cached = h.m.node_page_state(NR_FILE_PAGES);
  for (uint64_t p = 0; p < 300; ++p) h.read_page(p, 1, compaction);
  EXPECT_EQ(h.m.counters().misses, before);
  EXPECT_EQ(h.m.node_page_state(NR_FILE_PAGES), cached);
  const uint64_t refused3 = h.m.counters().admission_refused;

  // taking pid 2 out of the map admits its reads again
  ASSERT_EQ(pids->delete_elem(&compaction), 0);
  for (uint64_t p = 500; p < 600; ++p) h.read_page(p, 2, compaction);
  EXPECT_EQ(h.m.counters().admission_refused, refused3);
  EXPECT_GE(h.m.node_page_state(NR_FILE_PAGES), cached + 100);
  EXPECT_EQ((*l)->stats().prog_errors, 0u) << (*l)->stats().last_error;
}

}  // namespace
}  // namespace mmbpf::ext
