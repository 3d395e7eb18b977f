// The MM model end to end through its entry points: LRU transitions, readahead IO, reclaim
// and watermarks, workingset refaults, memcg limits and protection, memory.high, OOM,
// swap, writeback, truncation, and the exact-LRU cross-check.
#include "mm/model.h"

#include <fcntl.h>  // POSIX_FADV_*
#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <random>
#include <unordered_map>

#include "mm/folio.h"
#include "mm/native_policy.h"

namespace mmbpf::mm {
namespace {

config small(uint64_t pages) {
  config c;
  c.memory_pages = pages;
  return c;
}

cgroup_config cg(uint16_t id, std::string path, uint64_t max = PAGE_COUNTER_MAX) {
  cgroup_config g;
  g.id = id;
  g.path = std::move(path);
  g.max = max;
  return g;
}

uint64_t usage(const memcg& m) {
  return static_cast<uint64_t>(m.css.memory.usage.counter);
}

void read_page(model& m, uint64_t idx, uint32_t ino = 1, uint32_t pid = 1, uint16_t cgid = 0) {
  const uint64_t t = m.now_ns();
  m.sys_read(pid, cgid, ino, idx * 4096, 4096);
  m.end_event(t);
}

TEST(Model, FolioIsTheKernelStruct) {
  static_assert(sizeof(::folio) == 64, "page metadata per resident page: 64 bytes");
  static_assert(sizeof(shadow_t) == 8, "a shadow entry is one 8-byte xarray slot");
  config c = small(1024);
  model m(c);
  EXPECT_EQ(m.report().folio_bytes_per_page, 64u);
}

TEST(Model, TwoTouchActivation) {
  config c = small(4096);
  c.read_ahead_kb = 0;  // one page per read
  model m(c);
  m.set_file_size(1, 100 * 4096);
  read_page(m, 7);
  ::folio* f = m.folio_at(7, 1);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(folio_test(f, PG_referenced));
  EXPECT_FALSE(folio_test(f, PG_active));
  EXPECT_EQ(m.node_page_state(NR_INACTIVE_FILE), 1);
  // re-reading the page the last read ended in does not count (pos_same_folio())
  read_page(m, 7);
  EXPECT_FALSE(folio_test(f, PG_active));
  read_page(m, 9);
  read_page(m, 7);
  EXPECT_TRUE(folio_test(f, PG_active));
  EXPECT_FALSE(folio_test(f, PG_referenced));
  EXPECT_EQ(m.vm_events()[PGACTIVATE], 1u);
  read_page(m, 7);
  read_page(m, 9);
  read_page(m, 7);
  EXPECT_TRUE(folio_test(f, PG_referenced));  // active, referenced
  EXPECT_EQ(m.counters().misses, 2u);
  EXPECT_EQ(m.counters().lookups, 7u);
}

TEST(Model, SequentialReadIsServedByReadahead) {
  config c = small(1 << 16);
  model m(c);
  m.set_file_size(1, 1024 * 4096);
  for (uint64_t i = 0; i < 1024; ++i) read_page(m, i);
  // only the first page misses; the ramp 4, 8, 16, 32, 32 ... brings the rest ahead of time
  EXPECT_EQ(m.counters().misses, 1u);
  EXPECT_EQ(m.counters().io_read_bytes, 1024u * 4096);
  EXPECT_EQ(m.node_page_state(NR_FILE_PAGES), 1024);
  EXPECT_EQ(m.counters().readahead_pages, 1023u);
}

// A fault in a file's executable mapping reads from the fault to the mapping's end (6.16+
// VM_EXEC fault readahead); elsewhere in the file it still reads around the fault.
TEST(Model, FaultInExecVmaReadsToTheVmaEnd) {
  config c = small(1 << 16);
  model m(c);
  m.set_file_size(1, 4000 * 4096ull);
  m.set_exec_vma(1, 100, 170);
  m.filemap_fault(1, 0, 1, 150, 1, false);
  EXPECT_EQ(m.folio_at(149, 1), nullptr);  // no read-behind
  EXPECT_NE(m.folio_at(150, 1), nullptr);
  EXPECT_NE(m.folio_at(169, 1), nullptr);
  EXPECT_EQ(m.folio_at(170, 1), nullptr);  // cut at the VMA's end (ra_pages 32 would reach 181)
  EXPECT_EQ(m.node_page_state(NR_FILE_PAGES), 20);
  m.filemap_fault(1, 0, 1, 1000, 1, false);  // outside it: ra_pages (32) centred
  EXPECT_NE(m.folio_at(984, 1), nullptr);
  EXPECT_EQ(m.folio_at(983, 1), nullptr);
  EXPECT_EQ(m.node_page_state(NR_FILE_PAGES), 52);
}

TEST(Model, RandomReadsReadOnlyWhatIsAsked) {
  config c = small(1 << 16);
  model m(c);
  m.set_file_size(1, 100000 * 4096ull);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) read_page(m, rng() % 100000);
  EXPECT_EQ(m.counters().io_read_bytes, m.counters().misses * 4096);
}

TEST(Model, KswapdKeepsFreeMemoryAboveTheMinWatermark) {
  config c = small(25600);  // 100 MiB
  c.read_ahead_kb = 0;
  model m(c);
  const auto& w = m.wmark();
  // min_free_kbytes = int_sqrt(102400 * 16) = 1280 KiB -> 320 pages; tmp = max(80, 25) = 80
  EXPECT_EQ(w.min, 320u);
  EXPECT_EQ(w.low, 400u);
  EXPECT_EQ(w.high, 480u);
  m.set_file_size(1, 100000 * 4096ull);
  for (uint64_t i = 0; i < 100000; ++i) {
    read_page(m, i);
    ASSERT_GE(m.free_pages(), w.low - 1) << i;
  }
  EXPECT_GT(m.vm_events()[PGSCAN_KSWAPD], 0u);
  EXPECT_EQ(m.vm_events()[PGSCAN_DIRECT], 0u);
  EXPECT_EQ(m.vm_events()[ALLOCSTALL], 0u);
  // every page was read once and evicted pages left shadows
  EXPECT_EQ(m.vm_events()[PGSTEAL_KSWAPD] + static_cast<uint64_t>(m.node_page_state(NR_FILE_PAGES)),
            100000u);
  EXPECT_EQ(m.report().shadow_entries, m.vm_events()[PGSTEAL_KSWAPD]);
}

// The active list protects a twice-used set from a once-used stream (the point of the two
// lists), and refaults of the stream are not activated.
TEST(Model, HotSetSurvivesAScan) {
  config c = small(25600);
  c.read_ahead_kb = 0;
  model m(c);
  m.set_file_size(1, 4000 * 4096);
  m.set_file_size(2, 200000 * 4096ull);
  for (int pass = 0; pass < 2; ++pass)
    for (uint64_t i = 0; i < 4000; ++i) read_page(m, i, 1);
  for (uint64_t i = 0; i < 200000; ++i) read_page(m, i, 2);
  uint64_t cached = 0;
  for (uint64_t i = 0; i < 4000; ++i) cached += m.folio_at(i, 1) != nullptr;
  EXPECT_EQ(cached, 4000u);
}

// A file working set slightly larger than the inactive list thrashes on the inactive list
// until refault distances (<= active size) activate it: workingset_activate_file counts it.
TEST(Model, RefaultsActivateAWorkingSetThatFits) {
  config c = small(12800);  // 50 MiB
  c.read_ahead_kb = 0;
  model m(c);
  m.set_file_size(1, 8000 * 4096);
  m.set_file_size(2, 6000 * 4096);
  for (int pass = 0; pass < 2; ++pass)  // an old working set fills the active list
    for (uint64_t i = 0; i < 8000; ++i) read_page(m, i, 1);
  // the new one cycles through an inactive list too short to hold it
  for (int pass = 0; pass < 4; ++pass)
    for (uint64_t i = 0; i < 6000; ++i) read_page(m, i, 2);
  const memcg& r = m.root();
  EXPECT_GT(m.memcg_page_state(r, WORKINGSET_REFAULT_FILE), 0);
  EXPECT_GT(m.memcg_page_state(r, WORKINGSET_ACTIVATE_FILE), 0);
  // once activated on refault it stays: the last pass hits almost always
  const uint64_t misses_before = m.counters().misses;
  for (uint64_t i = 0; i < 6000; ++i) read_page(m, i, 2);
  EXPECT_LT(m.counters().misses - misses_before, 600u);
}

TEST(Model, MemcgMaxIsEnforcedByMemcgReclaim) {
  config c = small(1 << 16);
  c.read_ahead_kb = 0;
  c.cgroups.push_back(cg(1, "/a", 1000));
  model m(c);
  m.set_file_size(1, 5000 * 4096);
  for (uint64_t i = 0; i < 5000; ++i) {
    read_page(m, i, 1, 1, 1);
    ASSERT_LE(usage(*m.find_memcg(1)), 1000u);
  }
  const memcg& a = *m.find_memcg(1);
  EXPECT_GT(m.memcg_memory_events(a, MEMCG_MAX), 0u);
  EXPECT_GT(m.memcg_events(a, PGSCAN_DIRECT), 0u);
  EXPECT_EQ(m.memcg_events(a, PGSCAN_KSWAPD), 0u);
  EXPECT_EQ(usage(m.root()), usage(a));  // charged up the hierarchy
  EXPECT_EQ(m.memcg_page_state(a, NR_FILE_PAGES), static_cast<long>(usage(a)));
}

// Readahead allocates with __GFP_NORETRY: in a cgroup about the size of the window (8 MiB of
// readahead in 8 MiB), where pages under IO cannot be reclaimed, a window that does not fit is
// cut short and nothing is OOM-killed; the reader still gets every page (a 64 MiB file read
// twice, as `cat` does, in 128 KiB reads). Before, the model OOM-killed the reader.
TEST(Model, ReadaheadThatDoesNotFitIsCutShortNotAnOom) {
  config c = small(1 << 16);
  c.read_ahead_kb = 8192;
  c.cgroups.push_back(cg(1, "/a", 2048));
  model m(c);
  const uint64_t pages = 16384;
  m.set_file_size(1, pages * 4096);
  m.fork(1, 0, 1, 0);
  for (int pass = 0; pass < 2; ++pass)
    for (uint64_t off = 0; off < pages * 4096; off += 128 * 1024) {
      const uint64_t t = m.now_ns();
      m.sys_read(1, 1, 1, off, 128 * 1024);
      m.end_event(t);
    }
  const memcg& a = *m.find_memcg(1);
  EXPECT_TRUE(m.find_task(1)->alive);
  EXPECT_TRUE(m.oom_kills().empty());
  EXPECT_EQ(m.memcg_memory_events(a, MEMCG_OOM), 0u);
  EXPECT_LE(usage(a), 2048u);
  // every page came from the device at least once per pass (readahead pages reclaimed before
  // their read are read again, as in the kernel), and the reader saw each of them
  EXPECT_GE(a.counters.io_read_bytes, 2 * pages * 4096);
  EXPECT_EQ(a.counters.lookups, 2 * pages);
}

// memory.low: the protected sibling keeps its pages while the other one is reclaimed.
TEST(Model, MemoryLowProtectsASibling) {
  config c = small(1 << 16);
  c.read_ahead_kb = 0;
  c.cgroups.push_back(cg(1, "/p", 3000));
  c.cgroups.push_back(cg(2, "/p/a"));
  c.cgroups.push_back(cg(3, "/p/b"));
  c.cgroups.back().low = 0;
  c.cgroups[1].low = 2000;
  model m(c);
  m.set_file_size(1, 1500 * 4096);
  m.set_file_size(2, 20000 * 4096);
  for (uint64_t i = 0; i < 1500; ++i) read_page(m, i, 1, 1, 2);
  for (uint64_t i = 0; i < 20000; ++i) read_page(m, i, 2, 2, 3);
  EXPECT_EQ(usage(*m.find_memcg(2)), 1500u);
  EXPECT_LE(usage(*m.find_memcg(1)), 3000u);
  // without protection the same workload evicts a's pages
  config d = c;
  d.cgroups[1].low = 0;
  model n(d);
  n.set_file_size(1, 1500 * 4096);
  n.set_file_size(2, 20000 * 4096);
  for (uint64_t i = 0; i < 1500; ++i) read_page(n, i, 1, 1, 2);
  for (uint64_t i = 0; i < 20000; ++i) read_page(n, i, 2, 2, 3);
  EXPECT_LT(usage(*n.find_memcg(2)), 1500u);
}

TEST(Model, MemoryHighReclaimsAndThrottles) {
  config c = small(1 << 16);
  c.read_ahead_kb = 0;
  c.cgroups.push_back(cg(1, "/a"));
  c.cgroups.back().high = 1000;
  model m(c);
  m.set_file_size(1, 20000 * 4096);
  for (uint64_t i = 0; i < 20000; i += 256) {  // 1 MiB reads: 256 pages over high at once
    const uint64_t t = m.now_ns();
    m.sys_read(1, 1, 1, i * 4096, 256 * 4096);
    m.end_event(t);
    ASSERT_LE(usage(*m.find_memcg(1)), 1000u + 256u);
  }
  const memcg& a = *m.find_memcg(1);
  EXPECT_GT(m.memcg_memory_events(a, MEMCG_HIGH), 0u);
  EXPECT_EQ(m.memcg_memory_events(a, MEMCG_MAX), 0u);
  EXPECT_GT(a.stall_memory_ns, 0u);
}

void touch(model& m, uint32_t pid, uint16_t cgid, uint64_t first, uint64_t n) {
  for (uint64_t v = first; v < first + n; ++v) {
    const uint64_t t = m.now_ns();
    m.handle_mm_fault(pid, cgid, v, 1, true);
    m.end_event(t);
  }
}

TEST(Model, MemcgOomKillsTheBiggestAndFreesItsMemory) {
  config c = small(1 << 16);
  c.cgroups.push_back(cg(1, "/a", 1000));
  model m(c);
  m.fork(1, 0, 1, 0);
  m.fork(2, 0, 1, 0);
  touch(m, 1, 1, 0, 300);
  touch(m, 2, 1, 0, 800);  // the 701st page does not fit: task 2 is the biggest
  const memcg& a = *m.find_memcg(1);
  EXPECT_EQ(m.memcg_memory_events(a, MEMCG_OOM_KILL), 1u);
  EXPECT_GE(m.memcg_memory_events(a, MEMCG_OOM), 1u);
  EXPECT_FALSE(m.find_task(2)->alive);
  EXPECT_TRUE(m.find_task(1)->alive);
  EXPECT_EQ(usage(a), 300u);
  EXPECT_EQ(m.vm_events()[OOM_KILL], 1u);
  // the killed task's later events are skipped
  const uint64_t skipped = m.counters().events_of_killed;  // the rest of its loop above
  EXPECT_EQ(skipped, 99u);
  touch(m, 2, 1, 1000, 5);
  EXPECT_EQ(m.counters().events_of_killed, skipped + 5);
}

TEST(Model, OomScoreAdjMinIsNeverChosen) {
  config c = small(1 << 16);
  c.cgroups.push_back(cg(1, "/a", 1000));
  model m(c);
  m.fork(1, 0, 1, -1000);
  m.fork(2, 0, 1, 0);
  touch(m, 1, 1, 0, 900);
  touch(m, 2, 1, 0, 200);
  EXPECT_TRUE(m.find_task(1)->alive);
  EXPECT_FALSE(m.find_task(2)->alive);
}

TEST(Model, OomGroupKillsTheWholeCgroup) {
  config c = small(1 << 16);
  c.cgroups.push_back(cg(1, "/a", 1000));
  c.cgroups.back().oom_group = true;
  model m(c);
  m.fork(1, 0, 1, 0);
  m.fork(2, 0, 1, 0);
  touch(m, 1, 1, 0, 300);
  touch(m, 2, 1, 0, 800);
  EXPECT_FALSE(m.find_task(1)->alive);
  EXPECT_FALSE(m.find_task(2)->alive);
  EXPECT_EQ(usage(*m.find_memcg(1)), 0u);
  EXPECT_EQ(m.memcg_memory_events(*m.find_memcg(1), MEMCG_OOM_GROUP_KILL), 1u);
}

TEST(Model, GlobalOomWithoutSwap) {
  config c = small(4096);
  model m(c);
  m.fork(1, 0, 0, 0);
  m.fork(2, 0, 0, 500);
  touch(m, 1, 0, 0, 1000);
  touch(m, 2, 0, 0, 4000);
  EXPECT_EQ(m.vm_events()[OOM_KILL], 1u);
  EXPECT_FALSE(m.find_task(2)->alive);
  EXPECT_TRUE(m.find_task(1)->alive);
}

TEST(Model, AnonymousMemorySwapsAndRefaults) {
  config c = small(1 << 16);
  c.swap_pages = 4096;
  c.cgroups.push_back(cg(1, "/a", 1000));
  model m(c);
  m.fork(1, 0, 1, 0);
  touch(m, 1, 1, 0, 1500);  // 500 pages must go to swap
  const memcg& a = *m.find_memcg(1);
  EXPECT_EQ(m.memcg_memory_events(a, MEMCG_OOM_KILL), 0u);
  EXPECT_TRUE(m.find_task(1)->alive);
  EXPECT_GE(m.memcg_events(a, PSWPOUT), 500u);
  EXPECT_LE(usage(a), 1000u);
  const task& t = *m.find_task(1);
  EXPECT_EQ(t.mm.rss_stat[MM_ANONPAGES].count + t.mm.rss_stat[MM_SWAPENTS].count, 1500);
  EXPECT_EQ(m.memcg_page_state(a, MEMCG_SWAP), t.mm.rss_stat[MM_SWAPENTS].count);
  touch(m, 1, 1, 0, 1500);  // the swapped pages come back: major faults and anon refaults
  EXPECT_GT(m.memcg_events(a, PSWPIN), 0u);
  EXPECT_GT(m.memcg_page_state(a, WORKINGSET_REFAULT_ANON), 0);
  EXPECT_EQ(m.memcg_events(a, PGMAJFAULT), m.memcg_events(a, PSWPIN));
  m.exit(1);
  EXPECT_EQ(usage(a), 0u);
  EXPECT_EQ(m.memcg_page_state(a, MEMCG_SWAP), 0);
}

// A cache policy that records every folio leaving the page cache and defers eviction to the
// kernel's LRU.
struct eviction_spy : cache_policy {
  uint64_t evicted = 0, evicted_dirty = 0, evicted_writeback = 0;
  void folio_added(folio*) override {}
  void folio_accessed(folio*) override {}
  void folio_evicted(folio* f) override {
    ++evicted;
    evicted_dirty += folio_test(f, PG_dirty);
    evicted_writeback += folio_test(f, PG_writeback);
  }
  unsigned evict_folios(memcg&, unsigned, folio**) override { return 0; }
};

TEST(Model, DirtyFolioIsNeverFreedBeforeWriteback) {
  config c = small(1 << 16);
  c.read_ahead_kb = 0;
  c.cgroups.push_back(cg(1, "/a", 2000));
  model m(c);
  eviction_spy spy;
  m.set_cache_policy(*m.find_memcg(1), &spy);
  for (uint64_t i = 0; i < 1500; ++i) {  // dirty 1500 pages
    const uint64_t t = m.now_ns();
    m.sys_write(1, 1, 1, i * 4096, 4096);
    m.end_event(t);
  }
  EXPECT_EQ(m.counters().io_write_bytes, 0u);  // under the background threshold: all dirty
  m.set_file_size(2, 20000 * 4096);
  for (uint64_t i = 0; i < 20000; ++i) read_page(m, i, 2, 1, 1);
  EXPECT_GT(spy.evicted, 0u);
  EXPECT_EQ(spy.evicted_dirty, 0u);
  EXPECT_EQ(spy.evicted_writeback, 0u);
  // every dirty page that left the cache was written first
  uint64_t gone = 0;
  for (uint64_t i = 0; i < 1500; ++i) gone += m.folio_at(i, 1) == nullptr;
  EXPECT_GT(gone, 0u);
  EXPECT_GE(m.counters().io_write_bytes, gone * 4096);
  EXPECT_GT(m.node_page_state(NR_VMSCAN_IMMEDIATE), 0);
}

TEST(Model, FsyncWritesAndWaits) {
  config c = small(1 << 16);
  model m(c);
  for (uint64_t i = 0; i < 64; ++i) m.sys_write(1, 0, 1, i * 4096, 4096);
  EXPECT_EQ(m.node_page_state(NR_FILE_DIRTY), 64);
  const uint64_t t0 = m.now_ns();
  m.sys_fsync(1, 0, 1);
  EXPECT_EQ(m.node_page_state(NR_FILE_DIRTY), 0);
  EXPECT_EQ(m.node_page_state(NR_WRITEBACK), 0);
  EXPECT_EQ(m.counters().io_write_bytes, 64u * 4096);
  EXPECT_GT(m.now_ns(), t0);  // the task waited for the device
}

TEST(Model, TruncateAndDontneed) {
  config c = small(1 << 16);
  model m(c);
  m.set_file_size(1, 100 * 4096);
  for (uint64_t i = 0; i < 100; ++i) read_page(m, i);
  EXPECT_EQ(m.node_page_state(NR_FILE_PAGES), 100);
  m.sys_fadvise(1, 0, 1, 0, 50 * 4096, POSIX_FADV_DONTNEED);
  EXPECT_EQ(m.node_page_state(NR_FILE_PAGES), 50);
  EXPECT_EQ(m.folio_at(10, 1), nullptr);
  EXPECT_EQ(m.shadow_at(10, 1), 0u);  // invalidation leaves no shadow
  m.truncate(1, 75 * 4096);
  EXPECT_EQ(m.node_page_state(NR_FILE_PAGES), 25);
  m.unlink(1);
  EXPECT_EQ(m.node_page_state(NR_FILE_PAGES), 0);
  EXPECT_EQ(usage(m.root()), 0u);
}

// The Done-means cross-check: with --exact and the native lru policy, the model's misses are
// an LRU cache's, exactly.
TEST(Model, ExactLruEqualsAnLruCache) {
  const uint64_t capacity = 500, objects = 3000, requests = 60000;
  std::mt19937_64 rng(42);
  std::vector<uint64_t> trace;
  for (uint64_t i = 0; i < requests; ++i) {
    // skewed: half the requests to 10 % of the objects
    trace.push_back(rng() % 2 ? rng() % (objects / 10) : rng() % objects);
  }
  // the reference LRU
  std::list<uint64_t> lru;
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> where;
  uint64_t ref_misses = 0;
  for (uint64_t id : trace) {
    auto it = where.find(id);
    if (it != where.end()) {
      lru.splice(lru.begin(), lru, it->second);
      continue;
    }
    ++ref_misses;
    if (lru.size() == capacity) {
      where.erase(lru.back());
      lru.pop_back();
    }
    lru.push_front(id);
    where[id] = lru.begin();
  }
  config c = small(capacity);
  c.exact_cache = true;
  model m(c);
  auto p = make_native_policy("lru", m);
  ASSERT_TRUE(p.ok());
  m.set_cache_policy(m.root(), p->get());
  m.set_file_size(1, objects * 4096);
  for (uint64_t id : trace) read_page(m, id);
  EXPECT_EQ(m.counters().misses, ref_misses);
  EXPECT_GT(ref_misses, requests / 10);
  EXPECT_EQ(m.node_page_state(NR_FILE_PAGES), static_cast<long>(capacity));
  EXPECT_EQ(m.counters().cache_candidates_invalid, 0u);
  EXPECT_EQ(m.counters().cache_fallback_batches, 0u);
}

TEST(Model, Deterministic) {
  auto run = [] {
    config c = small(8192);
    c.cgroups.push_back(cg(1, "/a", 3000));
    model m(c);
    m.set_file_size(1, 50000 * 4096);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 30000; ++i) read_page(m, rng() % 50000, 1, 1, i % 2 ? 1 : 0);
    return m.report();
  };
  const model_report a = run(), b = run();
  EXPECT_EQ(a.counters.misses, b.counters.misses);
  EXPECT_EQ(a.vm_events, b.vm_events);
  EXPECT_EQ(a.runtime_ns, b.runtime_ns);
}

TEST(Model, ClockAdvancesWithTheDevice) {
  config c = small(1 << 16);
  c.read_ahead_kb = 0;
  model m(c);
  m.set_file_size(1, 1000 * 4096);
  read_page(m, 5);
  const uint64_t miss_time = m.now_ns();
  EXPECT_GE(miss_time, c.device.random_read_ns);
  read_page(m, 5);
  const uint64_t hit_time = m.now_ns() - miss_time;
  EXPECT_LT(hit_time, 10'000u);
  const model_report r = m.report();
  EXPECT_EQ(r.counters.events, 2u);
  EXPECT_GE(r.latency_max_ns, c.device.random_read_ns);
  EXPECT_GT(r.stall_io_ns, 0u);
}

}  // namespace
}  // namespace mmbpf::mm

namespace mmbpf::mm {
namespace {

// Random operations of every kind on a small machine with swap, cgroup limits and memory.high:
// afterwards (and along the way) the books balance: every page frame is free or on exactly
// one LRU list, every allocated page is charged once up the tree, and the page cache holds
// exactly what the LRU lists hold.
TEST(Model, RandomOperationsKeepTheBooksBalanced) {
  config c = small(3000);
  c.swap_pages = 300;
  c.cgroups.push_back(cg(1, "/a", 1200));
  c.cgroups.push_back(cg(2, "/a/b"));
  c.cgroups.back().high = 500;
  c.cgroups.back().low = 200;
  c.cgroups.push_back(cg(3, "/c", 300));
  c.cgroups.back().oom_group = true;
  model m(c);
  std::mt19937_64 rng(11);
  auto check = [&](int step) {
    long lru = 0;
    for (const auto& mc : m.memcgs())
      for (int l = 0; l < NR_LRU_LISTS; ++l) lru += static_cast<long>(mc->vec.nr_pages[l]);
    const long used = static_cast<long>(m.totalram_pages() - m.free_pages());
    ASSERT_EQ(lru, used) << "step " << step;
    ASSERT_EQ(static_cast<long>(usage(m.root())), used) << "step " << step;
    ASSERT_EQ(m.node_page_state(NR_FILE_PAGES) + m.node_page_state(NR_ANON_MAPPED), used)
        << "step " << step;
    ASSERT_GE(m.node_page_state(NR_FILE_DIRTY), 0);
    ASSERT_LE(usage(*m.find_memcg(1)), 1200u);
    ASSERT_LE(usage(*m.find_memcg(3)), 300u);
  };
  for (int step = 0; step < 60000; ++step) {
    const uint32_t pid = 1 + static_cast<uint32_t>(rng() % 6);
    const uint16_t cgid = static_cast<uint16_t>(rng() % 4);
    const uint32_t ino = 1 + static_cast<uint32_t>(rng() % 4);
    const uint64_t off = rng() % 3000;
    const uint64_t t = m.now_ns();
    switch (rng() % 16) {
      case 0: case 1: case 2: case 3:
        m.sys_read(pid, cgid, ino, off * 4096 + rng() % 4096, 1 + rng() % 40000);
        break;
      case 4: case 5:
        m.sys_write(pid, cgid, ino, off * 4096 + rng() % 4096, 1 + rng() % 20000);
        break;
      case 6: m.filemap_fault(pid, cgid, ino, off, 1 + rng() % 8, rng() % 2); break;
      case 7: case 8: m.handle_mm_fault(pid, cgid, off, 1 + rng() % 16, rng() % 4 != 0); break;
      case 9: m.munmap(pid, cgid, off, 1 + rng() % 64); break;
      case 10: m.sys_fsync(pid, cgid, ino); break;
      case 11: m.sys_fadvise(pid, cgid, ino, off * 4096, rng() % 200000, static_cast<int>(rng() % 6)); break;
      case 12: m.sys_madvise(pid, cgid, off, 1 + rng() % 64, rng() % 2 ? 20 : (rng() % 2 ? 21 : 4)); break;
      case 13: if (rng() % 20 == 0) m.truncate(ino, (rng() % 3000) * 4096); break;
      case 14: if (rng() % 10 == 0) m.exit(pid); break;
      case 15: if (rng() % 10 == 0) m.fork(pid, 0, cgid, static_cast<int>(rng() % 2001) - 1000); break;
    }
    m.end_event(t);
    if (step % 97 == 0) check(step);
  }
  check(-1);
  // a hog in the small cgroup with swap mostly used: the OOM killer's path too
  m.fork(99, 0, 3, 0);
  touch(m, 99, 3, 1 << 20, 2000);
  check(-2);
  // the run went through every path worth balancing books for
  EXPECT_GT(m.vm_events()[PSWPOUT], 0u);
  EXPECT_GT(m.vm_events()[PSWPIN], 0u);
  EXPECT_GT(m.vm_events()[OOM_KILL], 0u);
  EXPECT_GT(m.counters().io_write_bytes, 0u);
  EXPECT_GT(m.memcg_memory_events(*m.find_memcg(2), MEMCG_HIGH), 0u);
  EXPECT_GT(m.vm_events()[PGSTEAL_DIRECT] + m.vm_events()[PGSTEAL_KSWAPD], 0u);
}

}  // namespace
}  // namespace mmbpf::mm

namespace mmbpf::mm {
namespace {

// An OOM handler that kills the task it is told to, or pretends to.
struct test_oom_handler : oom_policy {
  model* m = nullptr;
  uint32_t victim = 0;
  bool really_kill = true;
  int calls = 0;
  bool handle_out_of_memory(oom_control& oc) override {
    ++calls;
    if (really_kill)
      if (task* t = m->find_task(victim)) m->oom_kill_process(oc, *t, "test handler");
    return true;
  }
  const char* name() const override { return "test_handler"; }
};

TEST(Hooks, OomHandlerThatFreesMemoryReplacesTheKiller) {
  config c = small(1 << 16);
  c.cgroups.push_back(cg(1, "/a", 1000));
  model m(c);
  test_oom_handler h;
  h.m = &m;
  h.victim = 1;  // the small one, which the kernel would not choose
  m.set_oom_policy(*m.find_memcg(1), &h);
  m.fork(1, 0, 1, 0);
  m.fork(2, 0, 1, 0);
  touch(m, 1, 1, 0, 300);
  touch(m, 2, 1, 0, 800);
  EXPECT_EQ(h.calls, 1);
  EXPECT_FALSE(m.find_task(1)->alive);
  EXPECT_TRUE(m.find_task(2)->alive);
  EXPECT_STREQ(m.last_oom_handler(), "test_handler");
}

// A handler that says it handled the OOM but freed nothing is not believed: the ancestor's
// handler runs next, then the kernel's killer.
TEST(Hooks, OomHandlerThatFreesNothingFallsBackUpTheTree) {
  config c = small(1 << 16);
  c.cgroups.push_back(cg(1, "/a", 1000));
  model m(c);
  test_oom_handler liar, root_handler;
  liar.m = root_handler.m = &m;
  liar.really_kill = false;
  root_handler.really_kill = false;
  m.set_oom_policy(*m.find_memcg(1), &liar);
  m.set_oom_policy(m.root(), &root_handler);
  m.fork(1, 0, 1, 0);
  m.fork(2, 0, 1, 0);
  touch(m, 1, 1, 0, 300);
  touch(m, 2, 1, 0, 800);
  EXPECT_EQ(liar.calls, 1);
  EXPECT_EQ(root_handler.calls, 1);
  EXPECT_FALSE(m.find_task(2)->alive);  // the kernel's choice
  EXPECT_EQ(m.last_oom_handler(), nullptr);
}

struct batch_policy : charge_policy {
  unsigned long batch = 0;
  int calls = 0;
  bool try_charge(try_charge_memcg& tcm) override {
    ++calls;
    tcm.nr_pages = batch;
    return true;
  }
};

TEST(Hooks, ChargePolicySetsTheReclaimBatch) {
  auto run = [](unsigned long batch) {
    config c = small(1 << 16);
    c.read_ahead_kb = 0;
    c.cgroups.push_back(cg(1, "/a", 1000));
    model m(c);
    batch_policy p;
    p.batch = batch;
    m.set_charge_policy(&p);
    m.set_file_size(1, 3000 * 4096);
    for (uint64_t i = 0; i < 3000; ++i) read_page(m, i, 1, 1, 1);
    EXPECT_GT(p.calls, 0);
    // each charge that hit memory.max (a MEMCG_MAX event) ran the hook and one reclaim
    return m.memcg_memory_events(*m.find_memcg(1), MEMCG_MAX);
  };
  // try_to_free_mem_cgroup_pages() reclaims at least SWAP_CLUSTER_MAX: a batch of 1 is 32.
  // (Each reclaim frees somewhat more than asked: a 1000-page memcg has nothing to scan at
  // the first priorities, and the pass that reaches the target adds a whole batch.)
  const uint64_t batch_1 = run(1), batch_32 = run(32), batch_256 = run(256);
  EXPECT_EQ(batch_1, batch_32);
  EXPECT_LE(batch_32, 2000u / 32);
  EXPECT_GE(batch_32, 2000u / 64);
  EXPECT_LE(batch_256, 2000u / 256);
  EXPECT_GE(batch_256, 2000u / 512);
}

struct no_readahead : readahead_policy {
  int calls = 0;
  void adjust_window(const ra_file&, pgoff_t index, ra_decision& d) override {
    ++calls;
    d.io = {index, 1, RA_NO_MARK};  // just the page asked for
  }
};

TEST(Hooks, ReadaheadPolicyChangesTheWindow) {
  config c = small(1 << 16);
  model m(c);
  no_readahead p;
  m.set_readahead_policy(&p);
  m.set_file_size(1, 256 * 4096);
  for (uint64_t i = 0; i < 256; ++i) read_page(m, i);
  EXPECT_EQ(m.counters().misses, 256u);  // every sequential page now misses
  EXPECT_EQ(m.counters().readahead_pages, 0u);
  EXPECT_GT(p.calls, 0);
}

}  // namespace
}  // namespace mmbpf::mm
