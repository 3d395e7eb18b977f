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

TEST(OomTest, ItsCgroupsAreItsOwn) {
  mmbpf::test::temp_file cfg(".conf", "cgroup 1 /other memory.max=10M\n");
  const auto o = mmbpf::test::run_mmbpf("run --workload oom_test --config " + cfg.path);
  EXPECT_EQ(o.rc, 2);
  EXPECT_EQ(o.err, "mmbpf: run: --workload oom_test brings its own cgroups; the config may not add any\n");
}

}  // namespace
