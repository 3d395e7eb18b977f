// The cache_ext family: BPF policies loaded from clang-built objects, attached to cgroups and
// run against the model. A deterministic policy must miss exactly where its native C++ twin
// misses; a policy that decides nothing must leave the kernel's behaviour untouched.
#include "ext/cache_ext.h"

#include <gtest/gtest.h>

#include "cache_ext_harness.h"
#include "mm/native_policy.h"

namespace mmbpf::ext {
namespace {

using testing::exact_config;
using testing::harness;
using testing::policy_object;
using testing::skewed_trace;

struct outcome {
  uint64_t misses = 0;
  mm::model_counters counters;
  long file_pages = 0;
};

outcome run_bpf(const std::string& policy, uint64_t capacity, uint64_t objects,
                const std::vector<uint64_t>& trace, cache_ext_stats* stats = nullptr) {
  harness h(exact_config(capacity));
  cache_ext_link* l = h.attach(policy_object(policy), h.m.root(), attach_mode::effective);
  if (!l) return {};
  h.m.set_file_size(1, objects * 4096);
  for (uint64_t p : trace) h.read_page(p);
  if (stats) *stats = l->stats();
  return {h.m.counters().misses, h.m.counters(), h.m.node_page_state(NR_FILE_PAGES)};
}

outcome run_native(const std::string& policy, uint64_t capacity, uint64_t objects,
                   const std::vector<uint64_t>& trace) {
  mm::model m(exact_config(capacity));
  auto p = mm::make_native_policy(policy, m);
  EXPECT_TRUE(p.ok());
  if (!p.ok()) return {};
  m.set_cache_policy(m.root(), p->get());
  m.set_file_size(1, objects * 4096);
  for (uint64_t id : trace) {
    const uint64_t t = m.now_ns();
    m.sys_read(1, 0, 1, id * 4096, 4096);
    m.end_event(t);
  }
  return {m.counters().misses, m.counters(), m.node_page_state(NR_FILE_PAGES)};
}

TEST(CacheExt, FifoMissesExactlyWhereTheNativeFifoMisses) {
  for (uint64_t seed : {1, 2, 3}) {
    const auto trace = skewed_trace(3000, 40000, seed);
    cache_ext_stats st;
    const outcome bpf = run_bpf("fifo", 400, 3000, trace, &st);
    const outcome native = run_native("fifo", 400, 3000, trace);
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
  plain.set_file_size(1, 20000 * 4096ull);
  for (uint64_t p : trace) {
    const uint64_t t = plain.now_ns();
    plain.sys_read(1, 0, 1, p * 4096, 4096);
    plain.end_event(t);
  }
  harness h(c);
  cache_ext_link* l = h.attach(policy_object("noop"), h.m.root(), attach_mode::effective);
  ASSERT_NE(l, nullptr);
  h.m.set_file_size(1, 20000 * 4096ull);
  for (uint64_t p : trace) h.read_page(p);
  EXPECT_EQ(h.m.counters().misses, plain.counters().misses);
  EXPECT_EQ(h.m.counters().io_read_bytes, plain.counters().io_read_bytes);
  EXPECT_GT(h.m.counters().cache_fallback_batches, 0u);
  // its list holds exactly the cached file folios: added on insertion, removed on eviction
  EXPECT_EQ(static_cast<long>(l->list_length(l->list_id(0))), h.m.node_page_state(NR_FILE_PAGES));
  EXPECT_EQ(l->stats().prog_errors, 0u) << l->stats().last_error;
}

}  // namespace
}  // namespace mmbpf::ext
