// The BPF OOM family (ext/bpf_oom.h), issue 7's contract: handlers that return 1 without
// killing, that try to kill an unkillable task, that loop and kill nothing, or that declare an
// OOM from inside, all fall back to the kernel's killer; a program that fails verification
// attaches nothing; a handler on the OOMing memcg that kills is used and its ancestor's is not
// run; a second handler on one memcg is -EEXIST. The model is driven directly: tasks fault
// anonymous pages in a memcg with a memory.max until it OOMs.
#include "ext/bpf_oom.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "bpf/object.h"
#include "bpf/runtime.h"
#include "ext/policy_host.h"
#include "mm/model.h"

namespace mmbpf::ext {
namespace {

std::string prog(const std::string& name) {
  return std::string(MMBPF_BPF_OBJ_DIR) + "/tests/ext/progs/" + name + ".bpf.o";
}

// tests/ext/progs/oom_common.h
enum { RES_CALLS, RES_KILL_RET, RES_VICTIM_BEFORE, RES_VICTIM_AFTER, RES_CGROUP_ID,
       RES_HAS_MEMCG, RES_OOM_RET };

// A node of 256 MiB with /a (memory.max 1000 pages) and /a/b under it (no limit of its own).
mm::config oom_config() {
  mm::config c;
  c.memory_pages = 1 << 16;
  c.cgroups.push_back({.id = 1, .path = "/a", .max = 1000});
  c.cgroups.push_back({.id = 2, .path = "/a/b"});
  return c;
}

struct oom_harness {
  oom_harness() : m(oom_config()), fam(rt, m) {}
  ~oom_harness() {
    for (const auto& mc : m.memcgs()) (void)fam.detach(*mc);
  }

  // Opens and loads; the error message when that fails.
  result<bpf::bpf_object*> load(const std::string& name) {
    auto o = bpf::bpf_object::open_file(prog(name));
    if (!o) return o.err();
    if (auto r = (*o)->load(rt); !r) return r.err();
    objs.push_back(std::move(*o));
    return objs.back().get();
  }
  bpf_oom_link* attach(const std::string& name, mm::memcg& mc, int32_t victim = 0) {
    auto o = load(name);
    EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.err().msg);
    if (!o.ok()) return nullptr;
    set_victim(**o, victim);
    auto l = fam.attach(**o, "", mc);
    EXPECT_TRUE(l.ok()) << (l.ok() ? "" : l.err().msg);
    return l.ok() ? *l : nullptr;
  }
  void set_victim(bpf::bpf_object& o, int32_t pid) {
    const uint32_t k = 0;
    ASSERT_EQ(rt.map(o.find_map("pids")->fd)->update_elem(&k, &pid, BPF_ANY), 0);
  }
  int64_t result_of(bpf::bpf_object& o, uint32_t what) {
    auto* v = static_cast<int64_t*>(rt.map(o.find_map("results")->fd)->lookup_elem(&what));
    return v ? *v : INT64_MIN;
  }
  // pid 1 (small) and pid 2 (big, the kernel's choice) fault anonymous pages in cgroup cg until
  // /a's limit makes it OOM (300 + 800 > 1000 pages).
  void run_to_oom(uint16_t cgid = 1, int adj1 = 0) {
    m.fork(1, 0, cgid, adj1);
    m.fork(2, 0, cgid, 0);
    touch(1, cgid, 0, 300);
    touch(2, cgid, 0, 800);
  }
  void touch(uint32_t pid, uint16_t cgid, uint64_t first, uint64_t n) {
    for (uint64_t v = first; v < first + n; ++v) {
      const uint64_t t = m.now_ns();
      m.handle_mm_fault(pid, cgid, v, 1, true);
      m.end_event(t);
    }
  }
  mm::memcg& a() { return *m.find_memcg(1); }

  bpf::runtime rt;
  mm::model m;
  bpf_oom fam;
  std::vector<std::unique_ptr<bpf::bpf_object>> objs;
};

// The kernel's killer took pid 2 (the biggest), and only it.
void expect_default_kill(const oom_harness& h) {
  EXPECT_TRUE(h.m.find_task(1)->alive);
  EXPECT_FALSE(h.m.find_task(2)->alive);
  ASSERT_EQ(h.m.oom_kills().size(), 1u);
  EXPECT_EQ(h.m.oom_kills()[0].pid, 2u);
  EXPECT_EQ(h.m.oom_kills()[0].handler, "default");
  EXPECT_EQ(h.m.oom_kills()[0].memcg, "/a");
}

TEST(BpfOom, WithNothingAttachedTheKernelKillsAndTheKillIsRecorded) {
  oom_harness h;
  h.run_to_oom();
  expect_default_kill(h);
  EXPECT_EQ(h.m.oom_kills()[0].message, "Out of memory");
}

TEST(BpfOom, HandlerReturningOneWithoutKillingIsNotBelieved) {
  oom_harness h;
  bpf_oom_link* l = h.attach("oom_no_kill", h.a());
  ASSERT_TRUE(l);
  EXPECT_STREQ(l->name(), "bpf_defined_policy");  // the ops has no name
  h.run_to_oom();
  EXPECT_EQ(l->stats().runs, 1u);
  EXPECT_EQ(l->stats().not_believed, 1u);
  EXPECT_EQ(l->stats().handled, 0u);
  EXPECT_EQ(h.result_of(*h.objs[0], RES_CALLS), 1);
  expect_default_kill(h);
}

TEST(BpfOom, KillingAnUnkillableTaskIsEpermAndFallsBack) {
  oom_harness h;
  bpf_oom_link* l = h.attach("oom_kill_pid", h.a(), /*victim=*/1);
  ASSERT_TRUE(l);
  h.run_to_oom(1, /*adj1=*/-1000);  // pid 1: oom_score_adj = OOM_SCORE_ADJ_MIN
  EXPECT_EQ(h.result_of(*h.objs[0], RES_KILL_RET), -EPERM);
  EXPECT_EQ(h.result_of(*h.objs[0], RES_VICTIM_AFTER), 0);
  EXPECT_EQ(l->stats().kills, 0u);
  EXPECT_EQ(l->stats().kfunc_refused, 1u);
  EXPECT_EQ(l->stats().not_believed, 1u);
  expect_default_kill(h);
}

TEST(BpfOom, HandlerThatLoopsAndKillsNothingFallsBack) {
  oom_harness h;
  bpf_oom_link* l = h.attach("oom_loop", h.a());
  ASSERT_TRUE(l);
  EXPECT_STREQ(l->name(), "loop_policy");
  h.run_to_oom();
  EXPECT_EQ(h.result_of(*h.objs[0], RES_KILL_RET), 499500);  // the loop ran to its end
  EXPECT_EQ(l->stats().not_believed, 1u);
  expect_default_kill(h);
}

TEST(BpfOom, ProgramThatFailsVerificationAttachesNothing) {
  oom_harness h;
  // oc is read-only: no writable window of oom_control
  auto o = h.load("oom_writes_oc");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.err().msg.find("verifier: only read is supported"), std::string::npos) << o.err().msg;
  EXPECT_EQ(o.err().msg.find('\n'), std::string::npos) << o.err().msg;
  // a __str argument must be a constant string
  auto s = h.load("oom_str_not_const");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().msg.find("arg#2 doesn't point to a const string"), std::string::npos)
      << s.err().msg;
  // ... in a read-only map (check_reg_const_str)
  auto w = h.load("oom_str_writable");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.err().msg.find("R3 does not point to a readonly map'"), std::string::npos)
      << w.err().msg;
  // the handler is required (check_member)
  auto n = h.load("oom_no_handler");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.err().msg.find("required member 'handle_out_of_memory'"), std::string::npos)
      << n.err().msg;
  EXPECT_EQ(h.a().oom_ops, nullptr);
  EXPECT_EQ(h.fam.link(h.a()), nullptr);
  h.run_to_oom();
  expect_default_kill(h);
}

TEST(BpfOom, HandlerOnTheOomingMemcgKillsAndTheAncestorsIsNotRun) {
  oom_harness h;
  bpf_oom_link* root = h.attach("oom_no_kill", h.m.root());
  bpf_oom_link* l = h.attach("oom_kill_pid", h.a(), /*victim=*/1);  // the small one
  ASSERT_TRUE(root && l);
  EXPECT_STREQ(l->name(), "kill_pid_policy");
  EXPECT_EQ(l->st_link().cgroup_id, h.a().kn.id);  // /a's cgroup id (the root's is 1)
  EXPECT_EQ(l->st_link().cgroup_id, 2u);
  EXPECT_EQ(root->st_link().cgroup_id, 0u);
  h.run_to_oom(/*cgid=*/2);  // tasks in /a/b; /a's limit OOMs
  bpf::bpf_object& o = *h.objs[1];
  EXPECT_EQ(h.result_of(o, RES_CALLS), 1);
  EXPECT_EQ(h.result_of(o, RES_KILL_RET), 0);
  EXPECT_EQ(h.result_of(o, RES_CGROUP_ID), 2);
  EXPECT_EQ(h.result_of(o, RES_HAS_MEMCG), 1);
  EXPECT_EQ(h.result_of(o, RES_VICTIM_BEFORE), 0);
  EXPECT_EQ(h.result_of(o, RES_VICTIM_AFTER), 1);
  EXPECT_EQ(l->stats().handled, 1u);
  EXPECT_EQ(l->stats().kills, 1u);
  EXPECT_EQ(root->stats().runs, 0u);
  EXPECT_FALSE(h.m.find_task(1)->alive);  // the handler's choice, not the kernel's
  EXPECT_TRUE(h.m.find_task(2)->alive);
  ASSERT_EQ(h.m.oom_kills().size(), 1u);
  const auto& k = h.m.oom_kills()[0];
  EXPECT_EQ(k.pid, 1u);
  EXPECT_EQ(k.memcg, "/a/b");
  EXPECT_EQ(k.handler, "kill_pid_policy");
  EXPECT_EQ(k.message, "bpf oom test");
  EXPECT_GT(k.time_ns, 0u);
  EXPECT_STREQ(h.m.last_oom_handler(), "kill_pid_policy");
  EXPECT_EQ(h.m.memcg_events(h.a(), mm::OOM_KILL), 1u);
}

TEST(BpfOom, GlobalOomRunsTheRootsHandler) {
  oom_harness h;
  bpf_oom_link* root = h.attach("oom_kill_pid", h.m.root(), /*victim=*/1);
  ASSERT_TRUE(root);
  h.m.fork(1, 0, 2, 0);
  h.touch(1, 2, 0, 10);
  EXPECT_TRUE(h.m.out_of_memory(nullptr));
  EXPECT_EQ(h.result_of(*h.objs[0], RES_HAS_MEMCG), 0);  // oc->memcg is NULL
  EXPECT_EQ(h.result_of(*h.objs[0], RES_CGROUP_ID), 0);
  EXPECT_FALSE(h.m.find_task(1)->alive);
  ASSERT_EQ(h.m.oom_kills().size(), 1u);
  EXPECT_EQ(h.m.oom_kills()[0].handler, "kill_pid_policy");
}

TEST(BpfOom, SecondHandlerOnOneMemcgIsEexistAndDetachLeavesNothing) {
  oom_harness h;
  ASSERT_TRUE(h.attach("oom_kill_pid", h.a(), 1));
  auto o = h.load("oom_no_kill");
  ASSERT_TRUE(o.ok());
  auto second = h.fam.attach(**o, "", h.a());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.err().msg.find("EEXIST"), std::string::npos) << second.err().msg;
  EXPECT_EQ(second.err().msg.find('\n'), std::string::npos);
  // the root may have its own
  EXPECT_TRUE(h.fam.attach(**o, "", h.m.root()).ok());
  EXPECT_EQ(h.fam.detach(h.a()), 0);
  EXPECT_EQ(h.a().oom_ops, nullptr);
  EXPECT_EQ(h.fam.link(h.a()), nullptr);
  EXPECT_EQ(h.fam.detach(h.a()), -ENOENT);
  EXPECT_EQ(h.fam.detach(h.m.root()), 0);
  h.run_to_oom();
  expect_default_kill(h);
}

// The v2 shape (ctx first), declared through libbpf's flavor (struct bpf_oom_ops___v2): bound
// to bpf_oom_ops, verified against v2's prototype, run with a struct bpf_oom_ctx that names the
// link's cgroup, and its kill counts as a v3 handler's would.
TEST(BpfOom, TheV2ShapeRunsWithItsContext) {
  oom_harness h;
  bpf_oom_link* l = h.attach("oom_v2", h.a(), /*victim=*/1);
  ASSERT_TRUE(l);
  EXPECT_EQ(h.objs[0]->struct_ops_instance("bpf_oom_ops", "").value()->shape, "bpf_oom_ops___v2");
  EXPECT_STREQ(l->name(), "v2_policy");
  h.run_to_oom(/*cgid=*/2);
  bpf::bpf_object& o = *h.objs[0];
  EXPECT_EQ(h.result_of(o, RES_CALLS), 1);
  EXPECT_EQ(h.result_of(o, RES_CGROUP_ID), 2);  // ctx->cgroup_id: /a
  EXPECT_EQ(h.result_of(o, RES_HAS_MEMCG), 1);
  EXPECT_EQ(h.result_of(o, RES_KILL_RET), 0);
  EXPECT_EQ(l->stats().handled, 1u);
  EXPECT_FALSE(h.m.find_task(1)->alive);
  EXPECT_TRUE(h.m.find_task(2)->alive);
  ASSERT_EQ(h.m.oom_kills().size(), 1u);
  EXPECT_EQ(h.m.oom_kills()[0].handler, "v2_policy");
  EXPECT_EQ(h.m.oom_kills()[0].message, "bpf oom v2");
}

// A v2 object built against v2 headers (its own struct bpf_oom_ops with handle_cgroup_offline):
// the offline callback runs when its cgroup goes offline, with the link's ctx and that cgroup's
// id, and then nothing is attached there. rmdir is refused while the cgroup has tasks.
TEST(BpfOom, TheV2OfflineCallbackRunsWhenItsCgroupGoesOffline) {
  oom_harness h;
  mm::memcg& b = *h.m.find_memcg(2);
  auto o = h.load("oom_v2_offline");
  ASSERT_TRUE(o.ok()) << o.err().msg;
  EXPECT_EQ((*o)->struct_ops_instance("bpf_oom_ops", "").value()->shape, "bpf_oom_ops___v2");
  auto l = h.fam.attach(**o, "", b);
  ASSERT_TRUE(l.ok()) << l.err().msg;
  auto seen = [&](uint32_t k) {
    return *static_cast<uint64_t*>(h.rt.map((*o)->find_map("seen")->fd)->lookup_elem(&k));
  };
  h.m.fork(7, 0, 2, 0);
  auto busy = h.m.cgroup_offline(2);
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.err().msg.find("EBUSY"), std::string::npos) << busy.err().msg;
  EXPECT_FALSE(h.m.cgroup_offline(1).ok());  // /a has an online child
  EXPECT_EQ(seen(0), 0u);
  h.m.exit(7);
  ASSERT_TRUE(h.m.cgroup_offline(2).ok());
  EXPECT_EQ(seen(0), 1u);        // calls
  EXPECT_EQ(seen(1), b.kn.id);   // ctx->cgroup_id
  EXPECT_EQ(seen(2), b.kn.id);   // the cgroup going offline
  EXPECT_EQ(b.oom_ops, nullptr);
  EXPECT_EQ((*l)->stats().prog_errors, 0u);
  auto again = h.fam.attach(**o, "", b);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.err().msg.find("offline"), std::string::npos) << again.err().msg;
  EXPECT_FALSE(h.m.cgroup_offline(2).ok());
}

// bpf_oom_kfunc_filter: an OOM handler that calls bpf_out_of_memory() is refused at load (its
// caller holds oom_lock), with the verifier's words; a PSI handler may call it
// (bpf_psi_test.cpp).
TEST(BpfOom, OutOfMemoryFromAnOomHandlerIsRefusedAtLoad) {
  oom_harness h;
  auto o = h.load("oom_recursive");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.err().msg.find("calling kernel function bpf_out_of_memory is not allowed"),
            std::string::npos) << o.err().msg;
  h.run_to_oom();
  expect_default_kill(h);
}

// policy_host::attach_oom: an OOM policy by path, with the map updates a loader would make.
TEST(BpfOom, PolicyHostAttachesAnOomPolicyByPath) {
  mm::model m(oom_config());
  {
    policy_host host(m, "/nonexistent");
    host.set_map_updates({{"pids", 0, 1}});  // kill pid 1
    auto ok = host.attach_oom(prog("oom_kill_pid"), *m.find_memcg(1));
    ASSERT_TRUE(ok.ok()) << ok.err().msg;
    ASSERT_TRUE(host.oom());
    auto again = host.attach_oom(prog("oom_no_kill"), *m.find_memcg(1));
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.err().msg.find("EEXIST"), std::string::npos) << again.err().msg;
    auto unknown = host.attach_oom("no_such_policy", *m.find_memcg(1));
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.err().msg.find("unknown OOM policy 'no_such_policy'"), std::string::npos);
    m.fork(1, 0, 1, 0);
    m.fork(2, 0, 1, 0);
    for (uint32_t pid : {1u, 2u})
      for (uint64_t v = 0; v < (pid == 1 ? 300u : 800u); ++v) {
        const uint64_t t = m.now_ns();
        m.handle_mm_fault(pid, 1, v, 1, true);
        m.end_event(t);
      }
    EXPECT_FALSE(m.find_task(1)->alive);
    EXPECT_TRUE(m.find_task(2)->alive);
    ASSERT_EQ(m.oom_kills().size(), 1u);
    EXPECT_EQ(m.oom_kills()[0].handler, "kill_pid_policy");
    EXPECT_EQ(host.oom()->link(*m.find_memcg(1))->stats().kills, 1u);
  }
  EXPECT_EQ(m.find_memcg(1)->oom_ops, nullptr);  // the host detached it
}

}  // namespace
}  // namespace mmbpf::ext
