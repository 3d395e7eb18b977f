// The BPF PSI family (ext/bpf_psi.h), issue 7's PSI part: bpf_psi_create_trigger validates as
// the kernel's psi_trigger_create(); an init that returns non-zero attaches nothing (and drops
// the triggers it made); one instance system-wide; the model's IO stall (a task re-reading a
// file larger than its memcg's memory.max) fires an IO trigger on that memcg with the trigger's
// cgroup_id, and new cgroups are reported online; and the psi_early policy
// (bpf/policies/oom/psi_early.bpf.c) targeting a memcg whose task is throttled over memory.high
// (memory stall, no OOM of its own) declares an OOM there, so the kill happens in that memcg and
// not in its quiet sibling, which holds the system's biggest task. The model is driven directly.
#include "ext/bpf_psi.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "bpf/object.h"
#include "bpf/runtime.h"
#include "ext/bpf_oom.h"
#include "mm/model.h"

namespace mmbpf::ext {
namespace {

std::string obj_path(const std::string& rel) { return std::string(MMBPF_BPF_OBJ_DIR) + "/" + rel; }

// tests/ext/progs/psi_args.bpf.c
enum { PR_OK, PR_WIN_SMALL, PR_WIN_BIG, PR_THR_ZERO, PR_THR_OVER, PR_BAD_RES, PR_IRQ_SOME,
       PR_NO_CGROUP, PR_EVENTS, PR_EVENT_CGID, PR_EVENT_STATE, PR_ONLINE, PR_ONLINE_CGID,
       PR_OFFLINE, PR_OFFLINE_CGID, PR_OOM_BAD_FLAGS, PR_OOM_BAD_ORDER };

// 256 MiB; /a (memory.max 400 pages) thrashes, /b (no limit) is quiet.
mm::config psi_config() {
  mm::config c;
  c.memory_pages = 1 << 16;
  c.cgroups.push_back({.id = 1, .path = "/a", .max = 400});
  c.cgroups.push_back({.id = 2, .path = "/b"});
  return c;
}

struct psi_harness {
  explicit psi_harness(const mm::config& c = psi_config()) : m(c), fam(rt, m) {}

  result<bpf::bpf_object*> load(const std::string& rel) {
    auto o = bpf::bpf_object::open_file(obj_path(rel));
    if (!o) return o.err();
    if (auto r = (*o)->load(rt); !r) return r.err();
    objs.push_back(std::move(*o));
    return objs.back().get();
  }
  void set(bpf::bpf_object& o, const char* map, uint32_t k, uint64_t v) {
    ASSERT_EQ(rt.map(o.find_map(map)->fd)->update_elem(&k, &v, BPF_ANY), 0);
  }
  // psi_args.bpf.o with its `cgid` set to /a's id: its init creates its triggers on /a.
  result<bpf::bpf_object*> load_args_on_a() {
    auto o = load("tests/ext/progs/psi_args.bpf.o");
    if (o) set(**o, "cgid", 0, cgroup_id(1));
    return o;
  }
  int64_t result_of(bpf::bpf_object& o, uint32_t what) {
    auto* v = static_cast<int64_t*>(rt.map(o.find_map("results")->fd)->lookup_elem(&what));
    return v ? *v : INT64_MIN;
  }
  uint64_t cgroup_id(uint16_t id) { return m.find_memcg(id)->kn.id; }
  mm::memcg& a() { return *m.find_memcg(1); }
  mm::memcg& b() { return *m.find_memcg(2); }

  // Tasks: pid 1 (/a) faults 100 anonymous pages; pid 2 (/b) faults 300 anonymous pages and
  // reads a small file once; then pid 3 (/a) re-reads a 600-page file `rounds` times (it and
  // pid 1 do not fit in /a's 400 pages: refaults).
  void setup_tasks() {
    m.fork(1, 0, 1, 0);
    m.fork(2, 0, 2, 0);
    m.fork(3, 0, 1, 0);
    for (uint64_t v = 0; v < 100; ++v) event([&] { m.handle_mm_fault(1, 1, v, 1, true); });
    for (uint64_t v = 0; v < 300; ++v) event([&] { m.handle_mm_fault(2, 2, v, 1, true); });
    for (uint64_t p = 0; p < 50; ++p) event([&] { m.sys_read(2, 2, 20, p * 4096, 4096); });
  }
  void thrash(int rounds, uint32_t pid = 3) {
    for (int r = 0; r < rounds; ++r)
      for (uint64_t p = 0; p < 600; ++p) {
        if (!m.find_task(pid)->alive) return;
        event([&] { m.sys_read(pid, 1, 10, p * 4096, 4096); });
      }
  }
  template <class Fn>
  void event(Fn&& fn) {
    const uint64_t t = m.now_ns();
    fn();
    m.end_event(t);
  }

  bpf::runtime rt;
  mm::model m;
  bpf_psi fam;
  std::vector<std::unique_ptr<bpf::bpf_object>> objs;
};

TEST(BpfPsi, CreateTriggerValidatesAsPsiTriggerCreate) {
  psi_harness h;
  auto o = h.load_args_on_a();
  ASSERT_TRUE(o.ok()) << o.err().msg;
  auto r = h.fam.attach(**o);
  ASSERT_TRUE(r.ok()) << r.err().msg;
  EXPECT_EQ(h.result_of(**o, PR_WIN_SMALL), -EINVAL);  // window < 500 ms
  EXPECT_EQ(h.result_of(**o, PR_WIN_BIG), -EINVAL);    // window > 10 s
  EXPECT_EQ(h.result_of(**o, PR_THR_ZERO), -EINVAL);
  EXPECT_EQ(h.result_of(**o, PR_THR_OVER), -EINVAL);   // threshold > window
  EXPECT_EQ(h.result_of(**o, PR_BAD_RES), -EINVAL);
  EXPECT_EQ(h.result_of(**o, PR_IRQ_SOME), -EINVAL);   // irq has "full" only
  EXPECT_EQ(h.result_of(**o, PR_NO_CGROUP), -ENOENT);
  EXPECT_EQ(h.result_of(**o, PR_OK), 0);
  EXPECT_EQ(h.result_of(**o, PR_OOM_BAD_FLAGS), -EINVAL);  // BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK only
  EXPECT_EQ(h.result_of(**o, PR_OOM_BAD_ORDER), -EINVAL);  // order > MAX_PAGE_ORDER
  EXPECT_TRUE(h.m.oom_kills().empty());
  ASSERT_EQ(h.fam.triggers().size(), 1u);
  const ::psi_trigger& t = h.fam.triggers()[0]->t;
  EXPECT_EQ(t.state, PSI_IO_SOME);
  EXPECT_EQ(t.cgroup_id, h.cgroup_id(1));
  EXPECT_EQ(t.threshold, 50'000'000u);
  EXPECT_EQ(t.win.size, 500'000'000u);
  EXPECT_EQ(h.fam.stats().kfunc_refused, 7u);
}

TEST(BpfPsi, InitFailureRefusesTheAttachAndDropsItsTriggers) {
  psi_harness h;
  auto o = h.load("tests/ext/progs/psi_args.bpf.o");
  ASSERT_TRUE(o.ok()) << o.err().msg;
  h.set(**o, "cgid", 1, static_cast<uint32_t>(-EPERM));
  auto r = h.fam.attach(**o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().msg.find("init returned -1"), std::string::npos) << r.err().msg;
  EXPECT_FALSE(h.fam.attached());
  EXPECT_TRUE(h.fam.triggers().empty());
  // nothing attached: the model's clock runs without evaluations, and a later attach works
  h.setup_tasks();
  h.set(**o, "cgid", 1, 0);
  EXPECT_TRUE(h.fam.attach(**o).ok());
}

TEST(BpfPsi, OneInstanceSystemWide) {
  psi_harness h;
  auto o1 = h.load("tests/ext/progs/psi_args.bpf.o");
  auto o2 = h.load("tests/ext/progs/psi_args.bpf.o");
  ASSERT_TRUE(o1.ok() && o2.ok());
  ASSERT_TRUE(h.fam.attach(**o1).ok());
  auto r = h.fam.attach(**o2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().msg.find("EEXIST"), std::string::npos) << r.err().msg;
  EXPECT_EQ(h.fam.detach(), 0);
  EXPECT_EQ(h.fam.detach(), -ENOENT);
  EXPECT_TRUE(h.fam.attach(**o2).ok());
}

TEST(BpfPsi, IoTriggerFiresOnTheThrashingCgroupAndNewCgroupsAreReported) {
  psi_harness h;
  auto o = h.load_args_on_a();
  ASSERT_TRUE(o.ok()) << o.err().msg;
  ASSERT_TRUE(h.fam.attach(**o).ok());
  h.setup_tasks();
  h.thrash(100);  // re-reads, ~0.2 s: /a waits for the device most of the time
  ASSERT_GE(h.m.now_ns(), 150'000'000u);
  EXPECT_GE(h.result_of(**o, PR_EVENTS), 1);
  EXPECT_EQ(h.result_of(**o, PR_EVENTS), static_cast<int64_t>(h.fam.stats().events));
  EXPECT_EQ(h.result_of(**o, PR_EVENT_CGID), static_cast<int64_t>(h.cgroup_id(1)));
  EXPECT_EQ(h.result_of(**o, PR_EVENT_STATE), PSI_IO_SOME);
  EXPECT_EQ(h.fam.stats().prog_errors, 0u) << h.fam.stats().last_error;
  // a cgroup created now is reported online at the next evaluation
  ASSERT_TRUE(h.m.cgroup_create(3, 1, "c").ok());
  h.thrash(50);
  EXPECT_EQ(h.result_of(**o, PR_ONLINE), 1);
  EXPECT_EQ(h.result_of(**o, PR_ONLINE_CGID), static_cast<int64_t>(h.cgroup_id(3)));
}

// A cgroup with triggers that goes offline (rmdir once its tasks are gone) is reported to
// handle_cgroup_offline at the next evaluation, once, and its triggers stop.
TEST(BpfPsi, ACgroupGoingOfflineIsReportedAndItsTriggersGo) {
  psi_harness h;
  auto o = h.load_args_on_a();
  ASSERT_TRUE(o.ok()) << o.err().msg;
  ASSERT_TRUE(h.fam.attach(**o).ok());
  h.setup_tasks();
  h.thrash(20);
  EXPECT_EQ(h.result_of(**o, PR_OFFLINE), 0);
  h.m.exit(1);
  h.m.exit(3);
  ASSERT_TRUE(h.m.cgroup_offline(1).ok());
  const int64_t events = h.result_of(**o, PR_EVENTS);
  const uint64_t until = h.m.now_ns() + 300'000'000;  // past the next evaluations
  for (uint64_t p = 0; h.m.now_ns() < until; ++p)
    h.event([&] { h.m.sys_read(2, 2, 30, p * 4096, 4096); });
  EXPECT_EQ(h.result_of(**o, PR_OFFLINE), 1);
  EXPECT_EQ(h.result_of(**o, PR_OFFLINE_CGID), static_cast<int64_t>(h.cgroup_id(1)));
  EXPECT_EQ(h.result_of(**o, PR_EVENTS), events);  // /a's trigger is gone
  EXPECT_EQ(h.fam.stats().offline, 1u);
}

// /a with memory.high 200 pages: pid 1 faulting beyond it is throttled (memory stall) for
// longer and longer; /b's pid 2 is the biggest task of the system but does not stall.
mm::config pressure_config() {
  mm::config c = psi_config();
  c.cgroups[0].max = mm::PAGE_COUNTER_MAX;
  c.cgroups[0].high = 200;
  return c;
}

// pid 2 (/b) faults 3000 pages, pid 3 (/a) 20, then pid 1 (/a) up to 600 (while alive).
void pressure(psi_harness& h) {
  mm::model& m = h.m;
  m.fork(1, 0, 1, 0);
  m.fork(2, 0, 2, 0);
  m.fork(3, 0, 1, 0);
  for (uint64_t v = 0; v < 3000; ++v) h.event([&] { m.handle_mm_fault(2, 2, v, 1, true); });
  for (uint64_t v = 0; v < 20; ++v) h.event([&] { m.handle_mm_fault(3, 1, v, 1, true); });
  for (uint64_t v = 0; v < 600 && m.find_task(1)->alive; ++v)
    h.event([&] { m.handle_mm_fault(1, 1, v, 1, true); });
}

TEST(BpfPsi, WithoutAPolicyThePressuredCgroupOnlyStalls) {
  psi_harness h(pressure_config());
  pressure(h);
  EXPECT_TRUE(h.m.oom_kills().empty());
  EXPECT_GT(h.a().stall_memory_ns, 1'000'000'000u);
  EXPECT_EQ(h.b().stall_memory_ns, 0u);
}

// psi_early targeting /a: its memory "full" trigger (100 ms per 1 s) fires there, the handler
// declares an OOM in /a, and the killer kills /a's biggest task, not /b's (the system's biggest).
TEST(BpfPsi, PsiEarlyKillsInThePressuredCgroup) {
  psi_harness h(pressure_config());
  auto o = h.load("bpf/policies/oom/psi_early.bpf.o");
  ASSERT_TRUE(o.ok()) << o.err().msg;
  h.set(**o, "target_cgroup", 0, h.cgroup_id(1));
  auto r = h.fam.attach(**o);
  ASSERT_TRUE(r.ok()) << r.err().msg;
  ASSERT_EQ(h.fam.triggers().size(), 1u);
  EXPECT_EQ(h.fam.triggers()[0]->t.state, PSI_MEM_FULL);
  pressure(h);
  EXPECT_EQ(h.fam.stats().prog_errors, 0u) << h.fam.stats().last_error;
  EXPECT_GE(h.fam.triggers()[0]->fired, 1u);
  ASSERT_FALSE(h.m.oom_kills().empty());
  for (const auto& k : h.m.oom_kills()) EXPECT_EQ(k.memcg, "/a");
  EXPECT_EQ(h.m.oom_kills()[0].pid, 1u);
  EXPECT_FALSE(h.m.find_task(1)->alive);
  EXPECT_TRUE(h.m.find_task(2)->alive);
  EXPECT_EQ(h.b().stall_memory_ns, 0u);
}

// The same policy with target 0 (system-wide): the global OOM killer takes the system's biggest.
TEST(BpfPsi, PsiEarlySystemWideKillsTheBiggest) {
  psi_harness h(pressure_config());
  auto o = h.load("bpf/policies/oom/psi_early.bpf.o");
  ASSERT_TRUE(o.ok()) << o.err().msg;
  ASSERT_TRUE(h.fam.attach(**o).ok());
  EXPECT_EQ(h.fam.triggers()[0]->t.cgroup_id, 0u);
  pressure(h);
  EXPECT_EQ(h.fam.stats().prog_errors, 0u) << h.fam.stats().last_error;
  ASSERT_FALSE(h.m.oom_kills().empty());
  EXPECT_EQ(h.m.oom_kills()[0].pid, 2u);
}

}  // namespace
}  // namespace mmbpf::ext
