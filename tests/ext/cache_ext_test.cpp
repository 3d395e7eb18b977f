// The cache_ext family: BPF policies loaded from clang-built objects, attached to cgroups and
// run against the model. A deterministic policy must miss exactly where its native C++ twin
// misses; a policy that decides nothing must leave the kernel's behaviour untouched.
#include "ext/cache_ext.h"

#include <gtest/gtest.h>

#include "cache_ext_harness.h"
#include "mm/native_policy.h"

namespace mmbpf::ext {
namespace {

using testing::harness;
using testing::policy_object;
using testing::run_bpf;
using testing::run_native;
using testing::run_outcome;
using testing::skewed_trace;

TEST(CacheExt, FifoMissesExactlyWhereTheNativeFifoMisses) {
  for (uint64_t seed : {1, 2, 3}) {
    const auto trace = skewed_trace(3000, 40000, seed);
    const run_outcome bpf = run_bpf("fifo", 400, 3000, trace);
    const run_outcome native = run_native("fifo", 400, 3000, trace);
    const cache_ext_stats& st = bpf.stats;
    EXPECT_EQ(bpf.misses, native.misses) << "seed " << seed;
    EXPECT_GT(bpf.misses, 4000u);
    EXPECT_EQ(bpf.file_pages, 400);
    EXPECT_EQ(bpf.counters.cache_candidates_invalid, 0u);
    EXPECT_EQ(bpf.counters.cache_fallback_batches, 0u);
    EXPECT_EQ(st.prog_errors, 0u) << st.last_error;
  }
}

// The no-op policy keeps its list but proposes nothing: the kernel's LRU evicts everything,
// exactly as with no policy, on the full (non-exact) model with readahead.
TEST(CacheExt, NoopPolicyLeavesTheKernelsChoicesUnchanged) {
  mm::config c;
  c.memory_pages = 4096;
  const auto trace = skewed_trace(20000, 30000, 7);
  mm::model plain(c);
  testing::read_pages(plain, 20000, trace);
  harness h(c);
  cache_ext_link* l = h.attach(policy_object("noop"), h.m.root(), attach_mode::effective);
  ASSERT_NE(l, nullptr);
  testing::read_pages(h.m, 20000, trace);
  EXPECT_EQ(h.m.counters().misses, plain.counters().misses);
  EXPECT_EQ(h.m.counters().io_read_bytes, plain.counters().io_read_bytes);
  EXPECT_GT(h.m.counters().cache_fallback_batches, 0u);
  // its list holds exactly the cached file folios: added on insertion, removed on eviction
  EXPECT_EQ(static_cast<long>(l->list_length(l->list_id(0))), h.m.node_page_state(NR_FILE_PAGES));
  EXPECT_EQ(l->stats().prog_errors, 0u) << l->stats().last_error;
}


// ---- the registry's rules, init, attach ----------------------------------------------------

mm::config two_tenants(uint64_t max_pages) {
  mm::config c;
  c.memory_pages = 16384;
  for (auto [id, path] : {std::pair<uint16_t, const char*>{1, "/a"}, {2, "/b"}}) {
    mm::cgroup_config g;
    g.id = id;
    g.path = path;
    g.max = max_pages;
    c.cgroups.push_back(g);
  }
  return c;
}

TEST(CacheExt, KfuncsEnforceTheRegistrysRules) {
  harness h(two_tenants(512));
  bpf::bpf_object* o = h.load(testing::test_object("kfunc_rules"));
  ASSERT_NE(o, nullptr);
  auto l = h.ce.attach(*o, "", *h.m.find_memcg(1), attach_mode::own_cgroup);
  ASSERT_TRUE(l.ok()) << l.err().msg;
  h.m.set_file_size(1, 100 * 4096);
  h.read_page(3, 1, 1, 1);
  bpf::bpf_map* res = h.rt.map(o->find_map("results")->fd);
  auto get = [&](uint32_t i) {
    int64_t v = 0;
    EXPECT_EQ(res->lookup_copy(&i, &v), 0);
    return v;
  };
  EXPECT_EQ(get(0), 1);   // five lists
  EXPECT_EQ(get(1), 0);   // not a sixth
  EXPECT_EQ((*l)->nr_lists(), 5);
  ASSERT_EQ(get(10), 1);  // folio_added ran
  EXPECT_EQ(get(3), -1);  // bad list id
  EXPECT_EQ(get(5), -1);  // del: on no list
  EXPECT_EQ(get(6), 0);
  EXPECT_EQ(get(7), -1);  // add: already on a list
  EXPECT_EQ(get(8), 0);   // move to another list
  EXPECT_EQ((*l)->list_length((*l)->list_id(0)), 0u);
  EXPECT_EQ((*l)->list_length((*l)->list_id(1)), 1u);
  EXPECT_GE((*l)->stats().kfunc_refused, 3u);
}

// A pointer that is not a folio cannot reach a kfunc: the verifier refuses the program.
TEST(CacheExt, ObjectsNotOfTheKfuncsTypeAreRefusedAtLoad) {
  auto o = bpf::bpf_object::open_file(testing::test_object("kfunc_bad_args"));
  ASSERT_TRUE(o.ok()) << o.err().msg;
  bpf::runtime rt;
  register_cache_ext(rt);
  auto r = (*o)->load(rt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().msg,
            "kfunc_bad_args.bpf.o: program 'bad_folio_added' (cache_ext_ops.folio_added): "
            "verifier: arg#1 pointer type STRUCT folio must point to scalar, or struct with scalar");
}

TEST(CacheExt, OnlyInitMayCreateLists) {
  auto o = bpf::bpf_object::open_file(testing::test_object("new_list_outside_init"));
  ASSERT_TRUE(o.ok()) << o.err().msg;
  bpf::runtime rt;
  register_cache_ext(rt);
  auto r = (*o)->load(rt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().msg.find("program must be sleepable to call sleepable kfunc "
                             "bpf_cache_ext_ds_registry_new_list"),
            std::string::npos)
      << r.err().msg;
}

TEST(CacheExt, InitFailureUndoesEverything) {
  harness h(two_tenants(512));
  bpf::bpf_object* o = h.load(testing::test_object("init_fails"));
  ASSERT_NE(o, nullptr);
  auto l = h.ce.attach(*o, "", *h.m.find_memcg(1), attach_mode::own_cgroup);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.err().msg.find("init returned -12"), std::string::npos) << l.err().msg;
  EXPECT_EQ(h.ce.link(*h.m.find_memcg(1)), nullptr);
  EXPECT_EQ(h.m.find_memcg(1)->cache_ops, nullptr);
  EXPECT_EQ(h.at.attached(*h.m.find_memcg(1)), nullptr);
  // and the cgroup can take a working policy afterwards
  EXPECT_NE(h.attach(policy_object("fifo"), *h.m.find_memcg(1)), nullptr);
}

TEST(CacheExt, OneLinkPerCgroupAndDetachWhileRunning) {
  harness h(two_tenants(512));
  ASSERT_NE(h.attach(policy_object("fifo"), *h.m.find_memcg(1)), nullptr);
  bpf::bpf_object* second = h.load(policy_object("noop"));
  ASSERT_NE(second, nullptr);
  auto dup = h.ce.attach(*second, "", *h.m.find_memcg(1), attach_mode::own_cgroup);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.err().msg.find("EEXIST"), std::string::npos) << dup.err().msg;
  // own-cgroup mode: /b is not governed
  EXPECT_EQ(h.m.find_memcg(2)->cache_ops, nullptr);
  h.m.set_file_size(1, 4000 * 4096ull);
  for (uint64_t i = 0; i < 3000; ++i) h.read_page(i * 7919 % 4000, 1, 1, 1);
  const uint64_t steal = h.m.memcg_events(*h.m.find_memcg(1), mm::PGSTEAL_DIRECT);
  EXPECT_GT(steal, 0u);
  EXPECT_EQ(h.m.counters().cache_fallback_batches, 0u);  // fifo evicted everything itself
  EXPECT_EQ(h.ce.detach(*h.m.find_memcg(1)), 0);
  EXPECT_EQ(h.ce.detach(*h.m.find_memcg(1)), -ENOENT);
  EXPECT_EQ(h.m.find_memcg(1)->cache_ops, nullptr);
  for (uint64_t i = 3000; i < 6000; ++i) h.read_page(i * 7919 % 4000, 1, 1, 1);
  EXPECT_GT(h.m.memcg_events(*h.m.find_memcg(1), mm::PGSTEAL_DIRECT), steal);
  EXPECT_LE(h.m.find_memcg(1)->css.memory.usage.counter, 512);
  // and a new policy attaches to the running cgroup
  EXPECT_NE(h.attach(policy_object("noop"), *h.m.find_memcg(1)), nullptr);
  for (uint64_t i = 0; i < 1000; ++i) h.read_page(i * 13 % 4000, 1, 1, 1);
}

// ---- hostile policies --------------------------------------------------------------------

enum hostile_mode : uint32_t { GARBAGE, OTHER_CGROUP, DUPLICATE, TOO_MANY, NOTHING, DIRTY };

struct hostile_run {
  mm::model_counters counters;
  uint64_t max_usage[2] = {};
  uint64_t dirty_written = 0;  // pages the DIRTY run wrote with write()
  uint64_t write_bytes = 0;
  long dirty_left = 0;
  uint64_t prog_errors = 0;
};

// Two tenants of 512 pages under one hostile link (effective mode at the root): each reads a
// file 8x its limit, interleaved; in DIRTY mode tenant /a also writes 2000 pages of its file
// (one op in four: the model has no balance_dirty_pages() throttling, so a writer that only
// writes outruns the flusher and meets the OOM killer), then fsyncs.
hostile_run run_hostile(hostile_mode mode) {
  harness h(two_tenants(512));
  auto o = bpf::bpf_object::open_file(testing::test_object("hostile"));
  EXPECT_TRUE(o.ok());
  if (!o.ok()) return {};
  const uint32_t v = mode;
  EXPECT_TRUE((*o)->set_global("mode", {reinterpret_cast<const uint8_t*>(&v), 4}).ok());
  EXPECT_TRUE((*o)->load(h.rt).ok());
  auto l = h.ce.attach(**o, "", h.m.root(), attach_mode::effective);
  EXPECT_TRUE(l.ok()) << (l.ok() ? "" : l.err().msg);
  if (!l.ok()) return {};
  hostile_run r;
  h.m.set_file_size(1, 4096 * 4096ull);
  h.m.set_file_size(2, 4096 * 4096ull);
  for (uint64_t i = 0; i < 8000; ++i) {
    const uint64_t page = i * 7919 % 4096;
    if (mode == DIRTY && i % 4 == 0) {  // every page written once
      const uint64_t t = h.m.now_ns();
      h.m.sys_write(1, 1, 1, (i / 4) * 4096, 4096);
      h.m.end_event(t);
      ++r.dirty_written;
    } else {
      h.read_page(page, 1, 1, 1);
    }
    h.read_page(page, 2, 2, 2);
    for (int g = 0; g < 2; ++g)
      r.max_usage[g] = std::max<uint64_t>(r.max_usage[g], h.m.find_memcg(g + 1)->css.memory.usage.counter);
  }
  if (mode == DIRTY) {
    const uint64_t t = h.m.now_ns();
    h.m.sys_fsync(1, 1, 1);
    h.m.end_event(t);
  }
  r.counters = h.m.counters();
  r.write_bytes = h.m.counters().io_write_bytes;
  r.dirty_left = h.m.node_page_state(NR_FILE_DIRTY);
  r.prog_errors = (*l)->stats().prog_errors;
  h.ce_detach_all();
  return r;
}

void expect_contained(const hostile_run& r) {
  EXPECT_LE(r.max_usage[0], 512u);
  EXPECT_LE(r.max_usage[1], 512u);
  EXPECT_GT(r.counters.misses, 2000u);  // the workload ran and missed (readahead hides most)
  EXPECT_EQ(r.counters.events_of_killed, 0u);
  EXPECT_EQ(r.counters.charge_failed, 0u);
  EXPECT_EQ(r.prog_errors, 0u);
}

TEST(CacheExtHostile, PointersThatAreNotFoliosAreRefused) {
  const hostile_run r = run_hostile(GARBAGE);
  expect_contained(r);
  EXPECT_GT(r.counters.cache_candidates_invalid, 1000u);
  EXPECT_GT(r.counters.cache_fallback_batches, 100u);
}

TEST(CacheExtHostile, FoliosOfAnotherCgroupAreRefused) {
  const hostile_run r = run_hostile(OTHER_CGROUP);
  expect_contained(r);
  EXPECT_GT(r.counters.cache_candidates_invalid, 1000u);
}

TEST(CacheExtHostile, TheSameFolioTwiceIsEvictedOnce) {
  const hostile_run r = run_hostile(DUPLICATE);
  expect_contained(r);
  EXPECT_GT(r.counters.cache_candidates_invalid, 1000u);  // 31 of every 32
}

TEST(CacheExtHostile, MoreThan32CandidatesRejectTheBatch) {
  const hostile_run r = run_hostile(TOO_MANY);
  expect_contained(r);
  EXPECT_GE(r.counters.cache_candidates_invalid, 1000u);
  EXPECT_GT(r.counters.cache_fallback_batches, 100u);
}

TEST(CacheExtHostile, NoCandidatesLeaveEvictionToTheKernel) {
  const hostile_run r = run_hostile(NOTHING);
  expect_contained(r);
  EXPECT_EQ(r.counters.cache_candidates_invalid, 0u);
  EXPECT_GT(r.counters.cache_fallback_batches, 100u);
}

TEST(CacheExtHostile, DirtyCandidatesAreWrittenBackNotLost) {
  const hostile_run r = run_hostile(DIRTY);
  expect_contained(r);
  EXPECT_GT(r.counters.cache_candidates_kept, 0u);  // proposed dirty, handed to writeback
  // every page written reached the device once, none is dirty after fsync
  EXPECT_EQ(r.write_bytes, r.dirty_written * 4096);
  EXPECT_EQ(r.dirty_left, 0);
}

}  // namespace
}  // namespace mmbpf::ext
