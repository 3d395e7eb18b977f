// Attaching page-cache policies to the cgroup tree: which memcg a policy governs in each mode,
// one attachment per cgroup, detach, cgroups created later, and attach/detach during a run.
#include "ext/attach.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "mm/native_policy.h"

namespace mmbpf::ext {
namespace {

mm::config tree() {
  mm::config c;
  c.memory_pages = 1 << 14;
  c.read_ahead_kb = 0;
  for (auto [id, path] : {std::pair<uint16_t, const char*>{1, "/a"}, {2, "/a/b"}, {3, "/a/b/c"},
                          {4, "/d"}}) {
    mm::cgroup_config g;
    g.id = id;
    g.path = path;
    c.cgroups.push_back(g);
  }
  return c;
}

struct null_policy : mm::cache_policy {
  void folio_added(folio*) override {}
  void folio_accessed(folio*) override {}
  void folio_evicted(folio*) override {}
  unsigned evict_folios(mm::memcg&, unsigned, folio**) override { return 0; }
};

TEST(CacheAttach, EffectiveModeGovernsTheSubtree) {
  mm::model m(tree());
  cache_attachments at(m);
  null_policy p;
  ASSERT_EQ(at.attach(*m.find_memcg(1), &p, attach_mode::effective), 0);
  EXPECT_EQ(m.find_memcg(1)->cache_ops, &p);
  EXPECT_EQ(m.find_memcg(2)->cache_ops, &p);
  EXPECT_EQ(m.find_memcg(3)->cache_ops, &p);
  EXPECT_EQ(m.find_memcg(4)->cache_ops, nullptr);
  EXPECT_EQ(m.root().cache_ops, nullptr);
}

TEST(CacheAttach, OwnCgroupModeGovernsThatCgroupOnly) {
  mm::model m(tree());
  cache_attachments at(m);
  null_policy p;
  ASSERT_EQ(at.attach(*m.find_memcg(1), &p, attach_mode::own_cgroup), 0);
  EXPECT_EQ(m.find_memcg(1)->cache_ops, &p);
  EXPECT_EQ(m.find_memcg(2)->cache_ops, nullptr);
  EXPECT_EQ(m.find_memcg(3)->cache_ops, nullptr);
}

TEST(CacheAttach, OneAttachmentPerCgroupAndTheNearestWins) {
  mm::model m(tree());
  cache_attachments at(m);
  null_policy p, q;
  ASSERT_EQ(at.attach(m.root(), &p, attach_mode::effective), 0);
  EXPECT_EQ(at.attach(m.root(), &q, attach_mode::effective), -EEXIST);
  EXPECT_EQ(at.attach(*m.find_memcg(2), nullptr, attach_mode::effective), -EINVAL);
  ASSERT_EQ(at.attach(*m.find_memcg(2), &q, attach_mode::effective), 0);
  EXPECT_EQ(m.find_memcg(1)->cache_ops, &p);
  EXPECT_EQ(m.find_memcg(2)->cache_ops, &q);
  EXPECT_EQ(m.find_memcg(3)->cache_ops, &q);
  EXPECT_EQ(m.find_memcg(4)->cache_ops, &p);
  // an own-cgroup attachment below stops the inheritance for its subtree
  ASSERT_EQ(at.detach(*m.find_memcg(2)), 0);
  ASSERT_EQ(at.attach(*m.find_memcg(2), &q, attach_mode::own_cgroup), 0);
  EXPECT_EQ(m.find_memcg(2)->cache_ops, &q);
  EXPECT_EQ(m.find_memcg(3)->cache_ops, nullptr);
  // detaching restores what the ancestors give
  ASSERT_EQ(at.detach(*m.find_memcg(2)), 0);
  EXPECT_EQ(at.detach(*m.find_memcg(2)), -ENOENT);
  EXPECT_EQ(m.find_memcg(2)->cache_ops, &p);
  EXPECT_EQ(m.find_memcg(3)->cache_ops, &p);
  EXPECT_EQ(at.attached(*m.find_memcg(2)), nullptr);
  EXPECT_EQ(at.attached(m.root()), &p);
}

TEST(CacheAttach, CgroupsCreatedLaterInherit) {
  mm::model m(tree());
  cache_attachments at(m);
  null_policy p;
  ASSERT_EQ(at.attach(*m.find_memcg(1), &p, attach_mode::effective), 0);
  ASSERT_TRUE(m.cgroup_create(7, 3).ok());
  at.on_cgroup_create(*m.find_memcg(7));
  EXPECT_EQ(m.find_memcg(7)->cache_ops, &p);
  ASSERT_TRUE(m.cgroup_create(8, 4).ok());
  at.on_cgroup_create(*m.find_memcg(8));
  EXPECT_EQ(m.find_memcg(8)->cache_ops, nullptr);
}

// Attach and detach in the middle of a workload: the policy starts with folios it never saw
// added, the model validates what it proposes, and the kernel's LRU evicts the rest.
TEST(CacheAttach, AttachAndDetachWhileAWorkloadRuns) {
  mm::config c = tree();
  c.cgroups[0].max = 2000;  // /a
  mm::model m(c);
  cache_attachments at(m);
  auto lru = std::move(*mm::make_native_policy("lru", m));
  m.set_file_size(1, 20000 * 4096ull);
  auto read = [&](uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; ++i) {
      const uint64_t t = m.now_ns();
      m.sys_read(1, 2, 1, (i * 7919 % 20000) * 4096, 4096);
      m.end_event(t);
    }
  };
  const auto steal = [&] {
    return m.memcg_events(*m.find_memcg(1), mm::PGSTEAL_DIRECT);
  };
  read(0, 5000);
  const uint64_t before = steal();
  ASSERT_EQ(at.attach(*m.find_memcg(1), lru.get(), attach_mode::effective), 0);
  read(5000, 10000);
  // the policy evicted what it knew; nothing it proposed was refused
  EXPECT_GT(steal(), before);
  EXPECT_EQ(m.counters().cache_candidates_invalid, 0u);
  EXPECT_LE(static_cast<uint64_t>(m.find_memcg(1)->css.memory.usage.counter), 2000u);
  ASSERT_EQ(at.detach(*m.find_memcg(1)), 0);
  EXPECT_EQ(m.find_memcg(2)->cache_ops, nullptr);
  const uint64_t misses = m.counters().misses;
  read(10000, 15000);  // the kernel's LRU again, over folios the policy had listed
  EXPECT_GT(m.counters().misses, misses);
  EXPECT_LE(static_cast<uint64_t>(m.find_memcg(1)->css.memory.usage.counter), 2000u);
}

}  // namespace
}  // namespace mmbpf::ext
