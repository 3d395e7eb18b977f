// `mmbpf run --workload oom_test`: the BPF OOM series' selftest tree as a built-in scenario.
// With no handler the kernel's killer chooses by oom_score_adj as the kernel would: cg1's
// process (+1000) first, then, the tree still over its 80 MiB, the largest remaining task
// that is not -1000 (cg4's 30 MiB); cg2's -1000 task is never chosen.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "run_mmbpf.h"

namespace {

using json = nlohmann::json;

json run_json(const std::string& args) {
  const auto o = mmbpf::test::run_mmbpf("run --workload oom_test --json " + args);
  EXPECT_EQ(o.rc, 0) << o.err;
  return json::parse(o.out);
}

const json& cgroup(const json& policy, const std::string& path) {
  for (const json& g : policy["cgroups"])
    if (g["path"] == path) return g;
  static const json none;
  ADD_FAILURE() << "no cgroup " << path;
  return none;
}

TEST(OomTest, TheKernelsKillerChoosesByOomScoreAdj) {
  const json j = run_json("");
  const json& p = j["policies"][0];
  EXPECT_EQ(cgroup(p, "/oom_test/cg1")["memory.events"]["oom_kill"], 1);
  EXPECT_EQ(cgroup(p, "/oom_test/cg2")["memory.events"]["oom_kill"], 0);
  EXPECT_EQ(cgroup(p, "/oom_test/cg3/cg4")["memory.events"]["oom_kill"], 1);
  EXPECT_EQ(cgroup(p, "/oom_test/cg3/cg5")["memory.events"]["oom_kill"], 0);
  EXPECT_EQ(cgroup(p, "/oom_test")["memory.events"]["oom"], 2);
  EXPECT_EQ(cgroup(p, "/oom_test")["memory.max"], 80 * 1024 * 1024);
}

// The kills in order, with who chose them: the scripting form's oom_kills.
TEST(OomTest, OomKillsListsVictimsInOrderWithTheirHandler) {
  const json j = run_json("");
  const json& kills = j["policies"][0]["oom_kills"];
  ASSERT_EQ(kills.size(), 2u);
  EXPECT_EQ(kills[0]["pid"], 101);
  EXPECT_EQ(kills[0]["cgroup"], "/oom_test/cg1");
  EXPECT_EQ(kills[0]["handler"], "default");
  EXPECT_EQ(kills[1]["pid"], 104);
  EXPECT_LT(kills[0]["time_ns"].get<uint64_t>(), kills[1]["time_ns"].get<uint64_t>());
}

// The series' selftest: with the reference policy attached to /oom_test, cg4's process dies
// first (the largest leaf without a -1000 task; cg2 is larger but exempt) and, the tree then
// under its limit, nothing else; memory.events shows oom_kill 1 in cg4 only.
TEST(OomTest, TheReferencePolicyKillsCg4First) {
  const json j = run_json("--attach /oom_test=oom:reference --no-belady");
  ASSERT_EQ(j["policies"].size(), 2u);
  const json& p = j["policies"][1];
  EXPECT_EQ(p["policy"], "/oom_test=oom:reference");
  const json& kills = p["oom_kills"];
  ASSERT_GE(kills.size(), 1u);
  EXPECT_EQ(kills[0]["pid"], 104);
  EXPECT_EQ(kills[0]["cgroup"], "/oom_test/cg3/cg4");
  EXPECT_EQ(kills[0]["handler"], "bpf_test_policy");
  EXPECT_EQ(kills[0]["message"], "bpf oom reference policy");
  EXPECT_EQ(kills.size(), 1u);
  EXPECT_EQ(cgroup(p, "/oom_test/cg3/cg4")["memory.events"]["oom_kill"], 1);
  EXPECT_EQ(cgroup(p, "/oom_test/cg1")["memory.events"]["oom_kill"], 0);
  EXPECT_EQ(cgroup(p, "/oom_test/cg2")["memory.events"]["oom_kill"], 0);
}

// The priority policy: the fleet marks cg4 important (by its cgroup id, as BPF sees it); the
// lowest-priority leaf goes first, the largest among equals: cg5 (20 MiB).
TEST(OomTest, ThePriorityPolicyFollowsTheFleetsPriorities) {
  const json ids = run_json("--no-belady")["policies"][0]["cgroups"];
  uint64_t cg4_id = 0;
  for (const json& g : ids)
    if (g["path"] == "/oom_test/cg3/cg4") cg4_id = g["cgroup_id"];
  ASSERT_NE(cg4_id, 0u);
  const json j = run_json("--attach /oom_test=oom:priority --no-belady --bpf-map priorities=" +
                          std::to_string(cg4_id) + ":200");
  const json& kills = j["policies"][1]["oom_kills"];
  ASSERT_GE(kills.size(), 1u);
  EXPECT_EQ(kills[0]["cgroup"], "/oom_test/cg3/cg5");
  EXPECT_EQ(kills[0]["handler"], "priority");
}

// The series' PSI test through the command: /a's task is throttled over memory.high (memory
// stall) while /b holds the system's largest task. Without a policy nobody dies; with
// psi_early attached system-wide and targeting /a (its cgroup id in target_cgroup), the memory
// "full" trigger fires there and the OOM it declares kills in /a, not /b.
TEST(OomTest, PsiEarlyKillsInThePressuredCgroup) {
  mmbpf::test::temp_file cfg(".conf", "memory 256M\ncgroup 1 /a memory.high=800K\ncgroup 2 /b\n");
  const std::string base = "run --config " + cfg.path +
                            " --workload 'hog:procs=1,pages=3000,pid=2,cg=2;"
                            "hog:procs=1,pages=600,pid=1,cg=1,passes=3' --no-belady --json ";
  auto o = mmbpf::test::run_mmbpf(base);
  ASSERT_EQ(o.rc, 0) << o.err;
  const json plain = json::parse(o.out);
  EXPECT_TRUE(plain["policies"][0]["oom_kills"].empty());
  uint64_t a_id = 0;
  for (const json& g : plain["policies"][0]["cgroups"])
    if (g["path"] == "/a") a_id = g["cgroup_id"];
  o = mmbpf::test::run_mmbpf(base + "--attach /=oom:psi_early --bpf-map target_cgroup=0:" +
                             std::to_string(a_id));
  ASSERT_EQ(o.rc, 0) << o.err;
  const json with = json::parse(o.out);
  const json& kills = with["policies"][1]["oom_kills"];
  ASSERT_GE(kills.size(), 1u);
  for (const json& k : kills) EXPECT_EQ(k["cgroup"], "/a");
  EXPECT_EQ(kills[0]["pid"], 1);
}

TEST(OomTest, ItsCgroupsAreItsOwn) {
  mmbpf::test::temp_file cfg(".conf", "cgroup 1 /other memory.max=10M\n");
  const auto o = mmbpf::test::run_mmbpf("run --workload oom_test --config " + cfg.path);
  EXPECT_EQ(o.rc, 2);
  EXPECT_EQ(o.err, "mmbpf: run: --workload oom_test brings its own cgroups; the config may not add any\n");
}

// `--workload oom_tenants`, OOM policies compared in one run (each at the root): the kernel's
// killer takes db, the biggest process at the first OOM, then the leak anyway; the priority
// policy, told batch matters least (cgroup id 5), kills only the leak, so the other tenants
// lose no work; the text report breaks the lost work down by cgroup.
TEST(OomTenants, PoliciesAreComparedOnTheWorkTheOthersLose) {
  const auto o = mmbpf::test::run_mmbpf(
      "run --workload oom_tenants --policy default,oom:priority --bpf-map priorities=5:1 --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const json j = json::parse(o.out);
  ASSERT_EQ(j["policies"].size(), 2u);  // no Belady column for OOM policies
  const json& def = j["policies"][0];
  const json& prio = j["policies"][1];
  EXPECT_EQ(prio["policy"], "oom:priority");
  ASSERT_GE(def["oom_kills"].size(), 1u);
  EXPECT_EQ(def["oom_kills"][0]["cgroup"], "/tenants/db");
  EXPECT_EQ(def["oom_kills"][0]["handler"], "default");
  EXPECT_GT(cgroup(def, "/tenants/db")["events_of_killed"].get<uint64_t>(), 0u);
  ASSERT_EQ(prio["oom_kills"].size(), 1u);
  EXPECT_EQ(prio["oom_kills"][0]["cgroup"], "/tenants/batch");
  EXPECT_EQ(prio["oom_kills"][0]["handler"], "priority");
  EXPECT_EQ(cgroup(prio, "/tenants/db")["events_of_killed"], 0);
  EXPECT_EQ(cgroup(prio, "/tenants/web")["events_of_killed"], 0);
  EXPECT_EQ(prio["events_of_killed"], cgroup(prio, "/tenants/batch")["events_of_killed"]);

  const auto t = mmbpf::test::run_mmbpf(
      "run --workload oom_tenants --policy default,oom:priority --bpf-map priorities=5:1");
  ASSERT_EQ(t.rc, 0) << t.err;
  EXPECT_NE(t.out.find("work lost / policy"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("/tenants/db " + std::to_string(cgroup(def, "/tenants/db")["events_of_killed"].get<uint64_t>())),
            std::string::npos) << t.out;
}

TEST(OomTenants, AnUnknownOomPolicyIsAUsageError) {
  const auto o = mmbpf::test::run_mmbpf("run --workload oom_tenants --policy oom:nope");
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("unknown OOM policy 'oom:nope'"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find('\n'), o.err.size() - 1);
}

}  // namespace
