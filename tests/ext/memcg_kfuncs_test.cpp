// The memcg and cgroup kfuncs (src/ext/memcg_kfuncs.*): each kfunc's units and index spaces
// against the model's counters, the css / css_task iterators' orders and their robustness to
// an overwritten iterator, and BPF C programs (tests/ext/progs/memcg_walk.bpf.c) that walk
// the tree, sum usage, count processes and pick the reference BPF OOM policy's victim.
//
// The cgroup tree is the BPF OOM selftest's (test_oom.c), scaled to pages:
//   /oom_test            (id 1, kn 2)
//     cg1  adj +1000     (id 2, kn 3)   100 anon pages
//     cg2  adj -1000     (id 3, kn 4)   400 anon pages: the largest, but immune
//     cg3                (id 4, kn 5)
//       cg4              (id 5, kn 6)   2 processes x 150 anon pages: the expected victim
//       cg5              (id 6, kn 7)   200 anon pages + 400 file pages (usage above cg4's)
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bpf/interpreter.h"
#include "bpf/object.h"
#include "bpf/runtime.h"
#include "ext/memcg_kfuncs.h"
#include "mm/model.h"

namespace mmbpf::ext {
namespace {

constexpr uint64_t ULONG_ERR = ~uint64_t{0};

std::string test_object(const std::string& name) {
  return std::string(MMBPF_BPF_OBJ_DIR) + "/tests/ext/progs/" + name + ".bpf.o";
}

mm::config small_config() {
  mm::config c;
  c.memory_pages = 16384;
  return c;
}

struct fixture : ::testing::Test {
  fixture() : m(small_config()) {
    EXPECT_TRUE(m.cgroup_create(1, 0, "oom_test"));
    EXPECT_TRUE(m.cgroup_create(2, 1, "cg1"));
    EXPECT_TRUE(m.cgroup_create(3, 1, "cg2"));
    EXPECT_TRUE(m.cgroup_create(4, 1, "cg3"));
    EXPECT_TRUE(m.cgroup_create(5, 4, "cg4"));
    EXPECT_TRUE(m.cgroup_create(6, 4, "cg5"));
    spawn(11, 2, 1000, 100);
    spawn(12, 3, -1000, 400);
    spawn(13, 5, 0, 150);
    spawn(14, 5, 0, 150);
    spawn(15, 6, 0, 200);
    m.set_file_size(7, 400 * 4096);
    event([&] { m.sys_read(15, 6, 7, 0, 400 * 4096); });
  }
  template <class Fn>
  void event(Fn&& fn) {
    const uint64_t t = m.now_ns();
    fn();
    m.end_event(t);
  }
  void spawn(uint32_t pid, uint16_t cg, int adj, uint64_t anon_pages) {
    event([&] { m.fork(pid, 0, cg, adj); });
    event([&] { m.mmap_anon(pid, cg, 0x1000, anon_pages); });
    event([&] { m.handle_mm_fault(pid, cg, 0x1000, anon_pages, true); });
  }
  mm::memcg& cg(uint16_t id) { return *m.find_memcg(id); }
  static uint64_t css(mm::memcg& mc) { return reinterpret_cast<uint64_t>(&mc.css.css); }

  // Calls kfunc `name` as a program run on rt would.
  uint64_t call(const char* name, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0) {
    const bpf::kfunc_desc* k = rt.kfuncs().by_name(name);
    EXPECT_NE(k, nullptr) << name;
    if (!k) return 0;
    bpf::run_ctx rc;
    rc.rt = &rt;
    bpf::run_ctx_guard g(&rc);
    return k->fn(a1, a2, a3, 0, 0);
  }
  // The cgroup ids (kn->id) a css iterator from start in `order` returns.
  std::vector<uint64_t> walk(uint64_t start, uint32_t order) {
    alignas(8) uint64_t it[3];
    std::vector<uint64_t> ids;
    EXPECT_EQ(call("bpf_iter_css_new", reinterpret_cast<uint64_t>(it), start, order), 0u);
    for (int i = 0; i < 100; ++i) {
      const uint64_t p = call("bpf_iter_css_next", reinterpret_cast<uint64_t>(it));
      if (!p) break;
      ids.push_back(reinterpret_cast<::cgroup_subsys_state*>(p)->cgroup->kn->id);
    }
    call("bpf_iter_css_destroy", reinterpret_cast<uint64_t>(it));
    return ids;
  }
  std::vector<uint32_t> procs(uint64_t css_ptr, uint32_t flags = CSS_TASK_ITER_PROCS) {
    uint64_t it = 0;
    std::vector<uint32_t> pids;
    EXPECT_EQ(call("bpf_iter_css_task_new", reinterpret_cast<uint64_t>(&it), css_ptr, flags), 0u);
    while (const uint64_t t = call("bpf_iter_css_task_next", reinterpret_cast<uint64_t>(&it)))
      pids.push_back(static_cast<uint32_t>(reinterpret_cast<::task_struct*>(t)->pid));
    call("bpf_iter_css_task_destroy", reinterpret_cast<uint64_t>(&it));
    return pids;
  }

  bpf::runtime rt;
  mm::model m;
  std::unique_ptr<memcg_kfuncs> kf = std::make_unique<memcg_kfuncs>(rt, m);
};

using MemcgKfuncs = fixture;

TEST_F(MemcgKfuncs, RegisteredWithTheKernelsFlags) {
  using namespace bpf;
  const std::pair<const char*, uint32_t> want[] = {
      {"bpf_get_root_mem_cgroup", KF_ACQUIRE | KF_RET_NULL},
      {"bpf_get_mem_cgroup", KF_ACQUIRE | KF_RET_NULL | KF_RCU},
      {"bpf_put_mem_cgroup", KF_RELEASE},
      {"bpf_mem_cgroup_vm_events", KF_TRUSTED_ARGS},
      {"bpf_mem_cgroup_memory_events", KF_TRUSTED_ARGS},
      {"bpf_mem_cgroup_usage", KF_TRUSTED_ARGS},
      {"bpf_mem_cgroup_page_state", KF_TRUSTED_ARGS},
      {"bpf_mem_cgroup_flush_stats", KF_TRUSTED_ARGS | KF_SLEEPABLE},
      {"bpf_cgroup_from_id", KF_ACQUIRE | KF_RET_NULL},
      {"bpf_cgroup_release", KF_RELEASE},
      {"bpf_iter_css_new", KF_ITER_NEW | KF_TRUSTED_ARGS},
      {"bpf_iter_css_next", KF_ITER_NEXT | KF_RET_NULL},
      {"bpf_iter_css_destroy", KF_ITER_DESTROY},
      {"bpf_iter_css_task_new", KF_ITER_NEW | KF_TRUSTED_ARGS},
      {"bpf_iter_css_task_next", KF_ITER_NEXT | KF_RET_NULL},
      {"bpf_iter_css_task_destroy", KF_ITER_DESTROY},
  };
  for (const auto& [name, flags] : want) {
    const kfunc_desc* k = rt.kfuncs().by_name(name);
    ASSERT_NE(k, nullptr) << name;
    EXPECT_EQ(k->flags, flags) << name;
  }
  register_memcg_kfuncs(rt);  // a second registration changes nothing
}

TEST_F(MemcgKfuncs, UsageIsBytesOfThePageCounterAndTheRootSumsTheHierarchy) {
  for (uint16_t id = 1; id <= 6; ++id) {
    mm::memcg& mc = cg(id);
    EXPECT_EQ(call("bpf_mem_cgroup_usage", css(mc)),
              static_cast<uint64_t>(mc.css.memory.usage.counter) * mm::PAGE_SIZE)
        << mc.path;
  }
  EXPECT_EQ(call("bpf_mem_cgroup_usage", css(cg(5))), 300 * mm::PAGE_SIZE);
  // root: mem_cgroup_usage() of the root is NR_FILE_PAGES + NR_ANON_MAPPED of the hierarchy;
  // with no page charged to the root itself, that is its children's usage
  mm::memcg& root = m.root();
  const uint64_t want = static_cast<uint64_t>(m.memcg_page_state(root, NR_FILE_PAGES) +
                                              m.memcg_page_state(root, NR_ANON_MAPPED)) *
                        mm::PAGE_SIZE;
  EXPECT_EQ(call("bpf_mem_cgroup_usage", css(root)), want);
  EXPECT_EQ(call("bpf_mem_cgroup_usage", css(root)),
            call("bpf_mem_cgroup_usage", css(cg(1))));
  EXPECT_EQ(call("bpf_mem_cgroup_usage", 0x1234), 0u);  // not a memcg
}

TEST_F(MemcgKfuncs, PageStateIsMemoryStatOutputInBytes) {
  mm::memcg& cg5 = cg(6);
  EXPECT_GE(m.memcg_page_state(cg5, NR_FILE_PAGES), 400);
  EXPECT_EQ(call("bpf_mem_cgroup_page_state", css(cg5), NR_FILE_PAGES),
            static_cast<uint64_t>(m.memcg_page_state(cg5, NR_FILE_PAGES)) * mm::PAGE_SIZE);
  EXPECT_EQ(call("bpf_mem_cgroup_page_state", css(cg5), NR_ANON_MAPPED), 200 * mm::PAGE_SIZE);
  // hierarchical: cg3 holds cg4's and cg5's anonymous pages
  EXPECT_EQ(call("bpf_mem_cgroup_page_state", css(cg(4)), NR_ANON_MAPPED), 500 * mm::PAGE_SIZE);
  // memcg_page_state_output_unit(): events count 1, _B items are bytes, KERNEL_STACK_KB KiB
  cg5.state[WORKINGSET_REFAULT_FILE] += 7;
  cg5.state[NR_SLAB_RECLAIMABLE_B] += 100;
  cg5.state[NR_KERNEL_STACK_KB] += 3;
  EXPECT_EQ(call("bpf_mem_cgroup_page_state", css(cg5), WORKINGSET_REFAULT_FILE),
            static_cast<uint64_t>(m.memcg_page_state(cg5, WORKINGSET_REFAULT_FILE)));
  EXPECT_EQ(call("bpf_mem_cgroup_page_state", css(cg5), NR_SLAB_RECLAIMABLE_B), 100u);
  EXPECT_EQ(call("bpf_mem_cgroup_page_state", css(cg5), NR_KERNEL_STACK_KB), 3u * 1024);
  cg5.state[MEMCG_KMEM] = -5;  // a negative sum reads 0, as memcg_page_state()
  EXPECT_EQ(call("bpf_mem_cgroup_page_state", css(cg5), MEMCG_KMEM), 0u);
  EXPECT_EQ(call("bpf_mem_cgroup_page_state", css(cg5), MEMCG_NR_STAT), ULONG_ERR);
  EXPECT_EQ(call("bpf_mem_cgroup_page_state", css(cg5), static_cast<uint64_t>(-1)), ULONG_ERR);
}

TEST_F(MemcgKfuncs, VmEventsUseTheModelsNumberingAndMemoryEventsTheKernels) {
  mm::memcg& cg4 = cg(5);
  EXPECT_EQ(mm::PGFAULT, 4);  // bpf_memcg.bpf.h: MMBPF_PGFAULT
  EXPECT_EQ(mm::OOM_KILL, 20);
  EXPECT_EQ(mm::NR_VM_EVENT_ITEMS, 21);
  for (int e = 0; e < mm::NR_VM_EVENT_ITEMS; ++e)
    EXPECT_EQ(call("bpf_mem_cgroup_vm_events", css(cg4), static_cast<uint64_t>(e)),
              m.memcg_events(cg4, static_cast<mm::vm_event_item>(e)))
        << mm::vm_event_name(static_cast<mm::vm_event_item>(e));
  EXPECT_GE(call("bpf_mem_cgroup_vm_events", css(cg4), mm::PGFAULT), 300u);
  EXPECT_EQ(call("bpf_mem_cgroup_vm_events", css(cg4), mm::NR_VM_EVENT_ITEMS), ULONG_ERR);
  EXPECT_EQ(call("bpf_mem_cgroup_vm_events", css(cg4), static_cast<uint64_t>(-3)), ULONG_ERR);

  cg4.css.memory_events[MEMCG_OOM_KILL].counter = 2;
  cg4.css.memory_events[MEMCG_HIGH].counter = 5;
  EXPECT_EQ(call("bpf_mem_cgroup_memory_events", css(cg4), MEMCG_OOM_KILL), 2u);
  EXPECT_EQ(call("bpf_mem_cgroup_memory_events", css(cg4), MEMCG_HIGH), 5u);
  EXPECT_EQ(call("bpf_mem_cgroup_memory_events", css(cg4), MEMCG_NR_MEMORY_EVENTS), ULONG_ERR);
  call("bpf_mem_cgroup_flush_stats", css(cg4));  // nothing to do; must not disturb anything
  EXPECT_EQ(call("bpf_mem_cgroup_memory_events", css(cg4), MEMCG_OOM_KILL), 2u);
}

TEST_F(MemcgKfuncs, GetMemCgroupTakesAnyCssOfTheCgroup) {
  mm::memcg& cg4 = cg(5);
  EXPECT_EQ(call("bpf_get_root_mem_cgroup"), reinterpret_cast<uint64_t>(&m.root().css));
  EXPECT_EQ(call("bpf_get_mem_cgroup", css(cg4)), reinterpret_cast<uint64_t>(&cg4.css));
  EXPECT_EQ(call("bpf_get_mem_cgroup", reinterpret_cast<uint64_t>(&cg4.cgrp.self)),
            reinterpret_cast<uint64_t>(&cg4.css));
  EXPECT_EQ(call("bpf_get_mem_cgroup", css(cg4) + 8), 0u);
  EXPECT_EQ(call("bpf_get_mem_cgroup", 0xdead0000), 0u);
  call("bpf_put_mem_cgroup", css(cg4));
  // bpf_cgroup_from_id: kernfs ids, the root's is 1
  EXPECT_EQ(call("bpf_cgroup_from_id", 1), reinterpret_cast<uint64_t>(&m.root().cgrp));
  EXPECT_EQ(call("bpf_cgroup_from_id", 6), reinterpret_cast<uint64_t>(&cg4.cgrp));
  EXPECT_EQ(call("bpf_cgroup_from_id", 99), 0u);
  EXPECT_EQ(call("bpf_cgroup_from_id", 0), 0u);
  // the model keeps the fields a policy reads
  EXPECT_EQ(cg(4).cgrp.nr_descendants, 2);
  EXPECT_EQ(cg(1).cgrp.nr_descendants, 5);
  EXPECT_EQ(cg4.cgrp.nr_descendants, 0);
  EXPECT_EQ(cg4.css.css.cgroup, &cg4.cgrp);
}

TEST_F(MemcgKfuncs, CssIteratorWalksInTheKernelsOrders) {
  const uint64_t root = css(m.root());
  EXPECT_EQ(walk(root, BPF_CGROUP_ITER_DESCENDANTS_PRE), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(walk(root, BPF_CGROUP_ITER_DESCENDANTS_POST), (std::vector<uint64_t>{3, 4, 6, 7, 5, 2, 1}));
  EXPECT_EQ(walk(root, BPF_CGROUP_ITER_ANCESTORS_UP), (std::vector<uint64_t>{1}));
  EXPECT_EQ(walk(css(cg(5)), BPF_CGROUP_ITER_ANCESTORS_UP), (std::vector<uint64_t>{6, 5, 2, 1}));
  EXPECT_EQ(walk(css(cg(4)), BPF_CGROUP_ITER_DESCENDANTS_PRE), (std::vector<uint64_t>{5, 6, 7}));
  EXPECT_EQ(walk(css(cg(4)), BPF_CGROUP_ITER_DESCENDANTS_POST), (std::vector<uint64_t>{6, 7, 5}));
  EXPECT_EQ(walk(css(cg(6)), BPF_CGROUP_ITER_DESCENDANTS_POST), (std::vector<uint64_t>{7}));
  // from a cgroup's own css, the walk returns cgroups' own csses
  alignas(8) uint64_t it[3];
  ASSERT_EQ(call("bpf_iter_css_new", reinterpret_cast<uint64_t>(it),
                 reinterpret_cast<uint64_t>(&cg(4).cgrp.self), BPF_CGROUP_ITER_DESCENDANTS_PRE),
            0u);
  EXPECT_EQ(call("bpf_iter_css_next", reinterpret_cast<uint64_t>(it)),
            reinterpret_cast<uint64_t>(&cg(4).cgrp.self));
  call("bpf_iter_css_destroy", reinterpret_cast<uint64_t>(it));
}

TEST_F(MemcgKfuncs, CssIteratorRefusesBadArgumentsAndSurvivesAnOverwrittenState) {
  alignas(8) uint64_t it[3];
  const auto p = reinterpret_cast<uint64_t>(it);
  // SELF_ONLY and UNSPEC are for the cgroup iter link; the open-coded iterator refuses them
  for (uint64_t bad : {0, 1, 5, 0x102}) {
    EXPECT_EQ(call("bpf_iter_css_new", p, css(m.root()), bad), static_cast<uint64_t>(-EINVAL)) << bad;
    EXPECT_EQ(call("bpf_iter_css_next", p), 0u);
    call("bpf_iter_css_destroy", p);
  }
  EXPECT_EQ(call("bpf_iter_css_new", p, 0xdead000, BPF_CGROUP_ITER_DESCENDANTS_PRE),
            static_cast<uint64_t>(-EINVAL));
  EXPECT_EQ(call("bpf_iter_css_next", p), 0u);
  // a program that overwrites its iterator gets NULL, never a made-up pointer
  ASSERT_EQ(call("bpf_iter_css_new", p, css(cg(4)), BPF_CGROUP_ITER_DESCENDANTS_PRE), 0u);
  ASSERT_NE(call("bpf_iter_css_next", p), 0u);
  uint64_t saved[3];
  std::memcpy(saved, it, sizeof it);
  it[2] = 1000;  // a position past the model's memcgs
  EXPECT_EQ(call("bpf_iter_css_next", p), 0u);
  std::memcpy(it, saved, sizeof it);
  it[2] = cg(2).index + 1;  // a real memcg outside the walk's subtree
  EXPECT_EQ(call("bpf_iter_css_next", p), 0u);
  std::memcpy(it, saved, sizeof it);
  it[1] = ~0ull;  // the start
  EXPECT_EQ(call("bpf_iter_css_next", p), 0u);
  std::memcpy(it, saved, sizeof it);
  it[0] ^= 0x10000;  // the magic
  EXPECT_EQ(call("bpf_iter_css_next", p), 0u);
  std::memcpy(it, saved, sizeof it);
  it[0] = (it[0] & ~uint64_t{0xff}) | 7;  // an unknown order
  EXPECT_EQ(call("bpf_iter_css_next", p), 0u);
  std::memcpy(it, saved, sizeof it);
  EXPECT_EQ(call("bpf_iter_css_next", p), css(cg(5)));  // the untouched state goes on
  call("bpf_iter_css_destroy", p);
  EXPECT_EQ(call("bpf_iter_css_next", p), 0u);
}

TEST_F(MemcgKfuncs, CssTaskIteratorReturnsTheMemcgsAliveProcessesInForkOrder) {
  EXPECT_EQ(procs(css(cg(5))), (std::vector<uint32_t>{13, 14}));
  EXPECT_EQ(procs(css(cg(5)), 0), (std::vector<uint32_t>{13, 14}));
  EXPECT_EQ(procs(css(cg(5)), CSS_TASK_ITER_PROCS | CSS_TASK_ITER_THREADED),
            (std::vector<uint32_t>{13, 14}));
  EXPECT_EQ(procs(css(cg(4))), (std::vector<uint32_t>{}));  // that exact memcg, not below
  EXPECT_EQ(procs(reinterpret_cast<uint64_t>(&cg(3).cgrp.self)), (std::vector<uint32_t>{12}));
  event([&] { m.exit(13); });
  EXPECT_EQ(procs(css(cg(5))), (std::vector<uint32_t>{14}));
  event([&] { m.fork(16, 14, 5, 0); });  // a new task is visible and readable
  EXPECT_EQ(procs(css(cg(5))), (std::vector<uint32_t>{14, 16}));
  const mm::task* t = m.find_task(16);
  const bpf::mem_region* r = rt.regions().find(reinterpret_cast<uintptr_t>(&t->signal));
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->writable);

  uint64_t it = 0;
  const auto p = reinterpret_cast<uint64_t>(&it);
  EXPECT_EQ(call("bpf_iter_css_task_new", p, css(cg(5)), 4), static_cast<uint64_t>(-EINVAL));
  EXPECT_EQ(call("bpf_iter_css_task_next", p), 0u);
  EXPECT_EQ(call("bpf_iter_css_task_new", p, 0x5000, CSS_TASK_ITER_PROCS),
            static_cast<uint64_t>(-EINVAL));
  // overwritten handles end the walk
  ASSERT_EQ(call("bpf_iter_css_task_new", p, css(cg(5)), CSS_TASK_ITER_PROCS), 0u);
  const uint64_t good = it;
  for (uint64_t bad : {good ^ (uint64_t{1} << 40), good + 1, uint64_t{0}, ~uint64_t{0}}) {
    it = bad;
    EXPECT_EQ(call("bpf_iter_css_task_next", p), 0u) << bad;
  }
  it = good;
  EXPECT_NE(call("bpf_iter_css_task_next", p), 0u);
  call("bpf_iter_css_task_destroy", p);
  it = good;  // a destroyed walk's handle is dead
  EXPECT_EQ(call("bpf_iter_css_task_next", p), 0u);
  // walks a program never destroyed (a faulted run) are recycled, not leaked
  for (size_t i = 0; i < 3 * memcg_kfuncs::max_task_walks; ++i)
    ASSERT_EQ(call("bpf_iter_css_task_new", p, css(cg(5)), CSS_TASK_ITER_PROCS), 0u);
  EXPECT_NE(call("bpf_iter_css_task_next", p), 0u);
}

TEST_F(MemcgKfuncs, RegionsFollowTheModelAndYieldToAFamilysOwn) {
  EXPECT_EQ(call("bpf_get_root_mem_cgroup"), reinterpret_cast<uint64_t>(&m.root().css));
  ASSERT_TRUE(m.cgroup_create(7, 4, "cg6"));
  mm::memcg& cg6 = cg(7);
  const auto a = reinterpret_cast<uintptr_t>(&cg6);
  // a family registered the whole object for one run: ours waits, then takes over
  ASSERT_TRUE(rt.regions().add({.start = a, .size = sizeof cg6, .writable = false, .name = "x"}));
  EXPECT_EQ(call("bpf_get_mem_cgroup", css(cg6)), reinterpret_cast<uint64_t>(&cg6.css));
  ASSERT_TRUE(rt.regions().remove(a));
  EXPECT_EQ(rt.regions().find(a), nullptr);
  EXPECT_EQ(call("bpf_mem_cgroup_usage", css(cg6)), 0u);
  const bpf::mem_region* r = rt.regions().find(reinterpret_cast<uintptr_t>(&cg6.cgrp.nr_descendants));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "mem_cgroup");
  EXPECT_EQ(rt.regions().find(reinterpret_cast<uintptr_t>(&cg6.parent)), nullptr);  // host part
}

TEST_F(MemcgKfuncs, WithoutABindingEveryKfuncFindsNothing) {
  kf.reset();
  alignas(8) uint64_t it[3];
  EXPECT_EQ(call("bpf_get_root_mem_cgroup"), 0u);
  EXPECT_EQ(call("bpf_get_mem_cgroup", css(cg(5))), 0u);
  EXPECT_EQ(call("bpf_mem_cgroup_usage", css(cg(5))), 0u);
  EXPECT_EQ(call("bpf_mem_cgroup_page_state", css(cg(5)), NR_FILE_PAGES), ULONG_ERR);
  EXPECT_EQ(call("bpf_cgroup_from_id", 1), 0u);
  EXPECT_EQ(call("bpf_iter_css_new", reinterpret_cast<uint64_t>(it), css(m.root()),
                 BPF_CGROUP_ITER_DESCENDANTS_PRE),
            static_cast<uint64_t>(-EINVAL));
  EXPECT_EQ(call("bpf_iter_css_next", reinterpret_cast<uint64_t>(it)), 0u);
  // and the binding's regions went with it
  EXPECT_EQ(rt.regions().find(reinterpret_cast<uintptr_t>(&cg(5).css)), nullptr);
  EXPECT_FALSE(rt.find_task);
}

// ---- BPF C ----------------------------------------------------------------------------------

// tests/ext/progs/memcg_walk.bpf.c's struct memcg_walk_results
struct walk_results {
  uint64_t visit_sig;  // kn ids in visit order, base 8
  uint64_t nr_visits, usage_sum, root_usage;
  uint64_t victim_id, victim_score, victim_procs;
  uint64_t victim_pid_sig;  // base 100
  uint64_t from_id;
  uint64_t st_usage, st_file, st_anon, st_pgfault, st_oom, st_bad_state, st_bad_event, st_bad_vm;
};

struct programs : fixture {
  void SetUp() override {
    auto o = bpf::bpf_object::open_file(test_object("memcg_walk"));
    ASSERT_TRUE(o) << o.err().msg;
    obj = std::move(*o);
    // the load verifies every struct_ops program (the verifier's log on a rejection)
    auto r = obj->load(rt, {.verify = true, .log_level = 1});
    if (!r)
      for (const auto& p : obj->programs()) ADD_FAILURE() << p.name << ":\n" << p.verifier_log;
    ASSERT_TRUE(r) << r.err().msg;
    ASSERT_TRUE(rt.regions().add({.start = reinterpret_cast<uintptr_t>(&state),
                                  .size = sizeof state, .name = "bpf_dummy_ops_state"}));
  }
  // Runs member `prog` (checked interpreter) with state.val = val; the results it left.
  int64_t run(const char* prog, int val) {
    state = val;
    uint64_t args[5] = {reinterpret_cast<uint64_t>(&state), 0, 0, 0, 0};
    auto r = bpf::interpreter(true).run_mem(*obj->find_program(prog)->prog, args, sizeof args);
    EXPECT_TRUE(r) << r.err().msg;
    const bpf::obj_map* bss = obj->find_map("memcg_wa.bss");
    EXPECT_NE(bss, nullptr);
    const uint32_t key = 0;
    if (bss) std::memcpy(&res, rt.map(bss->fd)->lookup_elem(&key), sizeof res);
    return r ? static_cast<int32_t>(*r) : INT64_MIN;  // the members return int
  }
  int state = 0;
  walk_results res{};
  std::unique_ptr<bpf::bpf_object> obj;
};

using MemcgKfuncPrograms = programs;

// &root->css for a css, iterators in loops that converge, references released on every path,
// a sleepable kfunc outside the RCU section: what the kernel's verifier would check too.
TEST_F(MemcgKfuncPrograms, ProgramsVerify) {
  for (const auto& p : obj->programs()) {
    EXPECT_TRUE(p.prog) << p.name;
    EXPECT_NE(p.verifier_log.find("processed"), std::string::npos) << p.name;
  }
}

TEST_F(MemcgKfuncPrograms, WalkPostOrderSumsUsage) {
  ASSERT_EQ(run("walk", BPF_CGROUP_ITER_DESCENDANTS_POST), 7);
  EXPECT_EQ(res.nr_visits, 7u);
  EXPECT_EQ(res.visit_sig, 03467521u);  // octal: 3, 4, 6, 7, 5, 2, 1
  uint64_t sum = 0;
  for (const auto& mc : m.memcgs()) sum += call("bpf_mem_cgroup_usage", css(*mc));
  EXPECT_EQ(res.usage_sum, sum);
  EXPECT_EQ(res.root_usage, call("bpf_mem_cgroup_usage", css(m.root())));
  ASSERT_EQ(run("walk", BPF_CGROUP_ITER_DESCENDANTS_PRE), 7);
  EXPECT_EQ(res.visit_sig, 01234567u);  // octal: 1 .. 7
  EXPECT_EQ(run("walk", BPF_CGROUP_ITER_SELF_ONLY), 0);  // -EINVAL: an empty walk
}

TEST_F(MemcgKfuncPrograms, ReferenceOomPolicyPicksTheLargestEligibleLeafWithoutPageCache) {
  // cg5's usage is above cg4's, but most of it is page cache; cg2 is larger but immune
  ASSERT_GT(cg(6).css.memory.usage.counter, cg(5).css.memory.usage.counter);
  ASSERT_EQ(run("pick", 0), 2);
  EXPECT_EQ(res.victim_id, 6u);  // cg4
  const long cg4_pages = cg(5).css.memory.usage.counter - m.memcg_page_state(cg(5), NR_FILE_PAGES);
  EXPECT_EQ(res.victim_score, static_cast<uint64_t>(cg4_pages) * mm::PAGE_SIZE);
  EXPECT_EQ(res.victim_procs, 2u);
  EXPECT_EQ(res.victim_pid_sig, 1314u);  // 13, then 14
}

TEST_F(MemcgKfuncPrograms, SleepableProgramReadsEveryStat) {
  mm::memcg& cg5 = cg(6);
  cg5.css.memory_events[MEMCG_OOM].counter = 3;
  ASSERT_EQ(run("stats", 7), 0);
  EXPECT_EQ(res.from_id, 7u);
  EXPECT_EQ(res.st_usage, static_cast<uint64_t>(cg5.css.memory.usage.counter) * mm::PAGE_SIZE);
  EXPECT_EQ(res.st_file, static_cast<uint64_t>(m.memcg_page_state(cg5, NR_FILE_PAGES)) * mm::PAGE_SIZE);
  EXPECT_EQ(res.st_anon, 200 * mm::PAGE_SIZE);
  EXPECT_EQ(res.st_pgfault, m.memcg_events(cg5, mm::PGFAULT));
  EXPECT_EQ(res.st_oom, 3u);
  EXPECT_EQ(res.st_bad_state, ULONG_ERR);
  EXPECT_EQ(res.st_bad_event, ULONG_ERR);
  EXPECT_EQ(res.st_bad_vm, ULONG_ERR);
  EXPECT_EQ(run("stats", 99), -2);  // no such cgroup
}

}  // namespace
}  // namespace mmbpf::ext
