// The cache_ext paper's findings (SOSP '25 §5; shared/reference/mm-bpf-interfaces.md §3.7),
// reproduced through `mmbpf run` with the in-tree BPF policies on workloads generated here,
// scaled down so the suite stays fast (scripts/cache_ext_paper.sh runs them at full size):
//   file search   a tree 1.4x the cgroup, searched repeatedly: MRU reads at most half of what
//                 the kernel's LRU reads
//   YCSB C        zipf 0.99, the cgroup 10 % of the data: LFU beats the default in hit ratio
//                 and modelled throughput
//   GET-SCAN      99.95 % GETs, 0.05 % SCANs of the same file: get_scan, told which thread
//                 scans, raises the GET hit ratio over the default
//   isolation     YCSB C and file search side by side in two cgroups: per-cgroup policies (LFU
//                 for YCSB, MRU for search) do at least as well as any one global policy for
//                 both tenants and better than each for one of them
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "run_mmbpf.h"

namespace {

using json = nlohmann::json;
using mmbpf::test::temp_file;

json run_json(const std::string& args) {
  auto o = mmbpf::test::run_mmbpf("run " + args + " --json");
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.err, "");
  return json::parse(o.out, nullptr, false);
}

const json& policy(const json& j, const std::string& name) {
  for (const auto& p : j["policies"])
    if (p["policy"] == name) return p;
  ADD_FAILURE() << "no policy " << name;
  static const json none;
  return none;
}

const json& cgroup(const json& p, const std::string& path) {
  for (const auto& c : p["cgroups"])
    if (c["path"] == path) return c;
  ADD_FAILURE() << "no cgroup " << path;
  static const json none;
  return none;
}

uint64_t u(const json& v) { return v.get<uint64_t>(); }

double hit_ratio(const json& c) {
  return 1.0 - static_cast<double>(u(c["misses"])) / static_cast<double>(u(c["lookups"]));
}

// 1000 files (33 MiB) searched 5 times in a 24 MiB cgroup.
TEST(CacheExtFindings, FileSearchMruNeedsAtMostHalfTheReadIo) {
  temp_file cfg(".conf", "memory 1G\ncgroup 1 /search memory.max=24M\n");
  json j = run_json("--workload search:files=1000,passes=5,cg=1 --config " + cfg.path +
                    " --policy default,mru --no-belady");
  const uint64_t def = u(policy(j, "default")["io_read_bytes"]);
  const uint64_t mru = u(policy(j, "mru")["io_read_bytes"]);
  std::printf("file search read IO: default %lu MiB, mru %lu MiB (%.2fx)\n", def >> 20, mru >> 20,
              static_cast<double>(mru) / static_cast<double>(def));
  EXPECT_GT(def, 5u * (30u << 20));  // every pass reads (nearly) the whole tree
  EXPECT_LE(2 * mru, def);
  EXPECT_EQ(u(policy(j, "mru")["bpf_prog_errors"]), 0u);
}

// 200K 1 KiB records (200 MiB), 400K reads, cgroup 20 MiB.
TEST(CacheExtFindings, YcsbCLfuBeatsTheDefault) {
  temp_file cfg(".conf", "memory 1G\ncgroup 1 /ycsb memory.max=20M\n");
  json j = run_json("--workload ycsb:workload=c,records=200K,ops=400K,cg=1 --config " + cfg.path +
                    " --policy default,lfu --no-belady");
  const json& def = policy(j, "default");
  const json& lfu = policy(j, "lfu");
  std::printf("YCSB C hit ratio: default %.4f, lfu %.4f; modelled ops/s: %.0f, %.0f\n",
              def["hit_ratio"].get<double>(), lfu["hit_ratio"].get<double>(),
              def["modelled_events_per_second"].get<double>(),
              lfu["modelled_events_per_second"].get<double>());
  EXPECT_GT(lfu["hit_ratio"].get<double>(), def["hit_ratio"].get<double>() + 0.003);
  EXPECT_GT(lfu["modelled_events_per_second"].get<double>(),
            def["modelled_events_per_second"].get<double>());
  EXPECT_EQ(u(lfu["bpf_prog_errors"]), 0u);
}

// GETs by pid 1 (YCSB C), a rare SCAN by pid 2 of the same file: 400K GETs, 200 scan reads of
// 256 pages; one cgroup of 20 MiB.
TEST(CacheExtFindings, GetScanRaisesTheGetHitRatio) {
  temp_file cfg(".conf", "memory 1G\ncgroup 1 /db memory.max=20M\n");
  json j = run_json(
      "--workload 'ycsb:workload=c,records=200K,ops=400K,cg=1,pid=1,ino=1;"
      "scan:pages=51200,io=256,cg=1,pid=2,ino=1' --config " + cfg.path +
      " --policy default,get_scan --bpf-map scan_pids=2 --no-belady");
  auto get = [&](const std::string& p) {
    for (const auto& t : policy(j, p)["processes"])
      if (t["pid"] == 1) return hit_ratio(t);
    ADD_FAILURE();
    return 0.0;
  };
  std::printf("GET hit ratio: default %.4f, get_scan %.4f\n", get("default"), get("get_scan"));
  EXPECT_GT(get("get_scan"), get("default") + 0.004);
  EXPECT_EQ(u(policy(j, "get_scan")["bpf_prog_errors"]), 0u);
  // without the hint the policy cannot tell the scan apart: the map entry is what helps
  json k = run_json(
      "--workload 'ycsb:workload=c,records=200K,ops=400K,cg=1,pid=1,ino=1;"
      "scan:pages=51200,io=256,cg=1,pid=2,ino=1' --config " + cfg.path +
      " --policy get_scan --bpf-map scan_pids=99");
  for (const auto& t : policy(k, "get_scan")["processes"])
    if (t["pid"] == 1) EXPECT_LT(hit_ratio(t), get("get_scan"));
}

// Both tenants at once: /ycsb (200 MiB of records, 20 MiB) and /search (33 MiB tree, 24 MiB).
TEST(CacheExtFindings, PerCgroupPoliciesBeatOneGlobalPolicyForBothTenants) {
  temp_file cfg(".conf",
                "memory 1G\ncgroup 1 /ycsb memory.max=20M\ncgroup 2 /search memory.max=24M\n");
  json j = run_json(
      "--workload 'ycsb:workload=c,records=200K,ops=400K,cg=1,pid=1,ino=1;"
      "search:files=1000,passes=5,cg=2,pid=2,ino=100' --config " + cfg.path +
      " --policy default,lfu,mru --attach /ycsb=lfu,/search=mru --no-belady");
  const std::string tailored = "/ycsb=lfu,/search=mru";
  auto misses = [&](const std::string& p, const std::string& cg) {
    return u(cgroup(policy(j, p), cg)["misses"]);
  };
  for (const char* cg : {"/ycsb", "/search"})
    std::printf("%s misses: default %lu, global lfu %lu, global mru %lu, per-cgroup %lu\n", cg,
                misses("default", cg), misses("lfu", cg), misses("mru", cg),
                misses(tailored, cg));
  for (const char* cg : {"/ycsb", "/search"}) {
    EXPECT_LT(misses(tailored, cg), misses("default", cg)) << cg;
    for (const char* global : {"lfu", "mru"}) EXPECT_LE(misses(tailored, cg), misses(global, cg)) << cg;
  }
  // each global policy hurts one of the tenants
  EXPECT_LT(misses(tailored, "/ycsb") * 2, misses("mru", "/ycsb"));
  EXPECT_LT(misses(tailored, "/search") * 2, misses("lfu", "/search"));
}

TEST(CacheExtFindings, BpfMapNamesMustExist) {
  auto o = mmbpf::test::run_mmbpf("run --workload zipf:pages=100,events=100 --policy fifo "
                                  "--bpf-map nosuch=1 --json");
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.err, "mmbpf: run: --bpf-map nosuch: no BPF policy of the run has a map 'nosuch'\n");
  EXPECT_EQ(o.out, "");
  o = mmbpf::test::run_mmbpf("run --workload zipf:pages=100,events=100 --bpf-map x=y");
  EXPECT_EQ(o.rc, 2);
  EXPECT_EQ(o.err, "mmbpf: run: --bpf-map: 'x=y' is not MAP=KEY[:VALUE] with integer KEY and VALUE\n");
}

}  // namespace
