// `mmbpf run` end to end: the scripting form on an oracleGeneral trace whose answer is known
// (a cyclic scan one page larger than memory misses every time under LRU and FIFO), the JSON
// object's fields, generator workloads with a config, determinism, the one-line errors with
// their exit codes (2 usage, 1 input), and the showcase with no arguments.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>  // header-only, from /usr/include
#include <string>
#include <tuple>
#include <vector>

#include "run_mmbpf.h"

namespace {

using mmbpf::test::outcome;
using json = nlohmann::json;

outcome mmbpf(const std::string& args) {
  return mmbpf::test::run_mmbpf(args);
}

using mmbpf::test::temp_file;

// oracleGeneral records (24 bytes, fields at 0/4/12/16) for the given object ids.
std::string oracle_general(const std::vector<uint64_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    char b[24];
    const uint32_t t = static_cast<uint32_t>(i), size = 4096;
    const int64_t next = -1;
    std::memcpy(b, &t, 4);
    std::memcpy(b + 4, &ids[i], 8);
    std::memcpy(b + 12, &size, 4);
    std::memcpy(b + 16, &next, 8);
    s.append(b, 24);
  }
  return s;
}

// `pages` distinct ids, cycled `rounds` times.
std::vector<uint64_t> cyclic(uint64_t pages, int rounds) {
  std::vector<uint64_t> ids;
  for (int r = 0; r < rounds; ++r)
    for (uint64_t p = 0; p < pages; ++p) ids.push_back(1000 + p * 7);
  return ids;
}

json parse_one_object(const outcome& o) {
  // Exactly one line: one JSON object.
  EXPECT_EQ(o.out.find('\n'), o.out.size() - 1) << o.out;
  json j = json::parse(o.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(j.is_object()) << o.out;
  return j;
}

constexpr uint64_t kPages = 8;
constexpr int kRounds = 3;

TEST(Run, ScriptingFormOnOracleGeneral) {
  temp_file trace(".oracleGeneral.bin", oracle_general(cyclic(kPages, kRounds)));
  // Memory one page short of the cycle: LRU and FIFO evict each page just before its reuse.
  const std::string mem = std::to_string((kPages - 1) * 4) + "K";
  auto o = mmbpf("run --trace " + trace.path + " --trace-format oracleGeneral --memory " + mem +
                 " --exact --policy lru --policy fifo --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  json j = parse_one_object(o);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["memory_bytes"], (kPages - 1) * 4096);
  EXPECT_EQ(j["workload"], trace.path);
  EXPECT_EQ(j["trace_format"], "oracleGeneral");
  // two policies compared: Belady's MIN joins them, the limit each is measured against
  ASSERT_EQ(j["policies"].size(), 3u);
  const uint64_t n = kPages * kRounds;
  for (size_t i = 0; i < 2; ++i) {
    const json& p = j["policies"][i];
    SCOPED_TRACE(p["policy"].get<std::string>());
    EXPECT_EQ(p["events"], n);
    EXPECT_EQ(p["lookups"], n);
    EXPECT_EQ(p["misses"], n);
    EXPECT_EQ(p["miss_ratio"], 1.0);
    EXPECT_EQ(p["io_read_bytes"], n * 4096);
    EXPECT_EQ(p["pgmajfault"], 0u);  // reads, not faults
    for (const char* k :
         {"events_per_second", "workingset_refault_file", "workingset_refault_anon",
          "workingset_activate_file", "pgscan", "pgsteal", "oom_kill", "runtime_ns",
          "latency_p50_ns", "latency_p99_ns", "io_write_bytes", "pgscan_kswapd", "pgsteal_direct"})
      EXPECT_TRUE(p.contains(k)) << k;
    EXPECT_GT(p["runtime_ns"].get<uint64_t>(), 0u);
    EXPECT_GT(p["events_per_second"].get<double>(), 0.0);
  }
  EXPECT_EQ(j["policies"][0]["policy"], "lru");
  EXPECT_EQ(j["policies"][1]["policy"], "fifo");  // the in-tree BPF fifo
  EXPECT_GT(j["policies"][1]["bpf_prog_runs"].get<uint64_t>(), n);
  EXPECT_EQ(j["policies"][1]["bpf_prog_errors"], 0u);
  EXPECT_EQ(j["policies"][2]["policy"], "belady");
  EXPECT_EQ(j["policies"][2]["misses"], 10u);
  EXPECT_DOUBLE_EQ(j["policies"][0]["misses_over_min"].get<double>(), 1.4);  // 24 vs 10
  EXPECT_EQ(o.err, "");  // no progress line: stderr is not a terminal
}

// The same cycle one page too big for memory: LRU misses every time; MIN keeps all but the
// page used furthest ahead. With 8 pages, 7 frames and 3 rounds (lookups 0..23): 8 cold misses
// (page 6 leaves at lookup 7), then page 6 misses at 14 (page 5 leaves) and page 5 at 21.
TEST(Run, BeladyIsTheOptimumOnACycle) {
  temp_file trace(".oracleGeneral.bin", oracle_general(cyclic(kPages, kRounds)));
  const std::string mem = std::to_string((kPages - 1) * 4) + "K";
  auto o = mmbpf("run --trace " + trace.path + " --memory " + mem +
                 " --exact --policy lru,belady --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  json j = parse_one_object(o);
  const uint64_t n = kPages * kRounds;
  EXPECT_EQ(j["policies"][0]["misses"], n);
  EXPECT_EQ(j["policies"][1]["policy"], "belady");
  static_assert(kPages == 8 && kRounds == 3, "the count below is worked out for these");
  EXPECT_EQ(j["policies"][1]["misses"], 10u);
}

TEST(Run, FormatFromTheNameAndDefaultPolicy) {
  temp_file trace(".oracleGeneral.bin", oracle_general(cyclic(4, 2)));
  auto o = mmbpf("run --trace " + trace.path + " --memory 1M --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  json j = parse_one_object(o);
  ASSERT_EQ(j["policies"].size(), 1u);
  const auto& p = j["policies"][0];
  EXPECT_EQ(p["policy"], "default");
  EXPECT_EQ(p["events"], 8u);
  EXPECT_EQ(p["lookups"], 8u);
  // Everything fits: only the first touch of each page can miss (readahead may fetch the
  // others before they are asked for).
  EXPECT_LE(p["misses"].get<uint64_t>(), 4u);
  EXPECT_GE(p["misses"].get<uint64_t>(), 1u);
}

TEST(Run, TableHasAColumnPerPolicy) {
  temp_file trace(".oracleGeneral.bin", oracle_general(cyclic(kPages, kRounds)));
  auto o = mmbpf("run --trace " + trace.path + " --memory 28K --exact --policy default,lru");
  ASSERT_EQ(o.rc, 0) << o.err;
  for (const char* row :
       {"events", "lookups", "misses", "miss ratio", "hit ratio", "pgmajfault", "io_read_bytes",
        "io_write_bytes", "workingset_refault_file", "workingset_refault_anon",
        "workingset_activate_file", "pgscan", "pgsteal", "oom_kill", "modelled run time",
        "throughput (modelled)", "latency p50", "latency p99", "events_per_second (wall)"})
    EXPECT_NE(o.out.find("\n" + std::string(row) + " "), std::string::npos) << row << "\n" << o.out;
  EXPECT_NE(o.out.find("default"), std::string::npos);
  EXPECT_NE(o.out.find("lru"), std::string::npos);
  EXPECT_NE(o.out.find("\nlookups "), std::string::npos);
}

TEST(Run, GeneratorWithConfigAndCgroups) {
  temp_file cfg(".conf",
                "memory 4M   # small\n"
                "cgroup 1 /a memory.max=2M\n"
                "cgroup 2 /b memory.low=1M\n");
  const std::string spec = "'zipf:pages=2000,events=20K,cg=1;scan:pages=3000,cg=2,pid=2,ino=2'";
  auto o =
      mmbpf("run --workload " + spec + " --config " + cfg.path + " --policy default,lru --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  json j = parse_one_object(o);
  EXPECT_EQ(j["memory_bytes"], 4u << 20);
  EXPECT_EQ(j["config"], cfg.path);
  ASSERT_EQ(j["policies"].size(), 3u);  // and belady
  for (const auto& p : j["policies"]) {
    EXPECT_EQ(p["events"], 23000u);
    EXPECT_GT(p["misses"].get<uint64_t>(), 0u);
    // each cgroup as its files read: the limit holds, the tasks' misses add up
    const auto& cgs = p["cgroups"];
    ASSERT_EQ(cgs.size(), 3u);
    EXPECT_EQ(cgs[0]["path"], "/");
    EXPECT_EQ(cgs[0]["memory.max"], "max");
    EXPECT_EQ(cgs[1]["path"], "/a");
    EXPECT_EQ(cgs[1]["memory.max"], 2u << 20);
    EXPECT_LE(cgs[1]["memory.current"].get<uint64_t>(), 2u << 20);
    EXPECT_GT(cgs[1]["memory.events"]["max"].get<uint64_t>(), 0u);
    EXPECT_EQ(cgs[2]["memory.low"], 1u << 20);
    EXPECT_EQ(cgs[0]["misses"].get<uint64_t>() + cgs[1]["misses"].get<uint64_t>() +
                  cgs[2]["misses"].get<uint64_t>(),
              p["misses"].get<uint64_t>());
    // memory.events is hierarchical: the root sees its children's
    EXPECT_GE(cgs[0]["memory.events"]["max"].get<uint64_t>(),
              cgs[1]["memory.events"]["max"].get<uint64_t>());
  }
  // --memory overrides the config's memory line.
  auto o2 = mmbpf("run --workload " + spec + " --config " + cfg.path + " --memory 8M --json");
  ASSERT_EQ(o2.rc, 0) << o2.err;
  EXPECT_EQ(parse_one_object(o2)["memory_bytes"], 8u << 20);
}

// Per-cgroup policies (cache_ext's rule: each governs its own cgroup only) as one more
// column beside a global one, by in-tree name, native twin and object path.
TEST(Run, PerCgroupAttachAndObjectPaths) {
  temp_file cfg(".conf",
                "memory 8M\n"
                "cgroup 1 /a memory.max=2M\n"
                "cgroup 2 /b memory.max=2M\n");
  const std::string spec = "'zipf:pages=2000,events=20K,cg=1,pid=1;zipf:pages=2000,events=20K,cg=2,pid=2,ino=2'";
  const std::string fifo = std::string(MMBPF_BPF_OBJ_DIR) + "/bpf/policies/cache/fifo.bpf.o";
  auto o = mmbpf("run --workload " + spec + " --config " + cfg.path + " --policy " + fifo +
                 " --attach /a=fifo --attach /b=native:lru --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  json j = parse_one_object(o);
  ASSERT_EQ(j["policies"].size(), 3u);
  EXPECT_EQ(j["policies"][0]["policy"], fifo);
  EXPECT_EQ(j["policies"][1]["policy"], "/a=fifo,/b=native:lru");
  EXPECT_EQ(j["policies"][2]["policy"], "belady");
  // only /a runs BPF in the per-cgroup column, all of the tree in the global one
  EXPECT_GT(j["policies"][0]["bpf_prog_runs"].get<uint64_t>(),
            j["policies"][1]["bpf_prog_runs"].get<uint64_t>());
  EXPECT_GT(j["policies"][1]["bpf_prog_runs"].get<uint64_t>(), 0u);
  for (const auto& p : j["policies"]) {
    EXPECT_LE(p["cgroups"][1]["memory.current"].get<uint64_t>(), 2u << 20);
    EXPECT_LE(p["cgroups"][2]["memory.current"].get<uint64_t>(), 2u << 20);
    EXPECT_GE(p["misses_over_min"].get<double>(), 0.0);
  }
}

// Every deterministic in-tree BPF policy against its C++ twin, through the command: the
// host sizes the policies' maps as their loaders would (S3-FIFO's ghost to 90 % of the
// cgroup's limit), so the miss counts are equal.
TEST(Run, InTreeBpfPoliciesMissLikeTheirNativeTwins) {
  temp_file cfg(".conf", "memory 64M\ncgroup 1 /app memory.max=4M\n");
  auto o = mmbpf("run --workload zipf:pages=8000,events=60K,cg=1 --config " + cfg.path +
                 " --exact --no-belady --json --policy "
                 "fifo,native:fifo,mru,native:mru,lfu,native:lfu_sampled,s3fifo,native:s3fifo");
  ASSERT_EQ(o.rc, 0) << o.err;
  json j = parse_one_object(o);
  ASSERT_EQ(j["policies"].size(), 8u);
  for (size_t i = 0; i < 8; i += 2) {
    const json& bpf = j["policies"][i];
    const json& twin = j["policies"][i + 1];
    SCOPED_TRACE(bpf["policy"].get<std::string>());
    EXPECT_EQ(bpf["misses"], twin["misses"]);
    EXPECT_GT(bpf["misses"].get<uint64_t>(), 10000u);
    EXPECT_EQ(bpf["bpf_prog_errors"], 0u);
    EXPECT_EQ(bpf["cache_candidates_invalid"], 0u);
  }
}

TEST(Run, MemorySweep) {
  temp_file trace(".oracleGeneral.bin", oracle_general(cyclic(kPages, kRounds)));
  auto o = mmbpf("run --trace " + trace.path + " --memory 28K,32K --exact --policy lru --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  json j = parse_one_object(o);
  ASSERT_EQ(j["sweep"].size(), 2u);
  EXPECT_EQ(j["sweep"][0]["memory_bytes"], 28u << 10);
  EXPECT_EQ(j["sweep"][0]["policies"][0]["misses"], kPages * kRounds);  // one page short
  EXPECT_EQ(j["sweep"][1]["memory_bytes"], 32u << 10);
  EXPECT_EQ(j["sweep"][1]["policies"][0]["misses"], kPages);  // all fit: cold misses only
}

TEST(Run, DeterministicAndSeeded) {
  auto a = mmbpf("run --workload zipf:pages=5000,events=20K --memory 8M --json");
  auto b = mmbpf("run --workload zipf:pages=5000,events=20K --memory 8M --json");
  ASSERT_EQ(a.rc, 0) << a.err;
  ASSERT_EQ(b.rc, 0) << b.err;
  json ja = parse_one_object(a), jb = parse_one_object(b);
  EXPECT_EQ(ja["policies"][0]["misses"], jb["policies"][0]["misses"]);
  EXPECT_EQ(ja["policies"][0]["runtime_ns"], jb["policies"][0]["runtime_ns"]);
  auto c = mmbpf("run --workload zipf:pages=5000,events=20K --memory 8M --seed 7 --json");
  ASSERT_EQ(c.rc, 0) << c.err;
  json jc = parse_one_object(c);
  EXPECT_EQ(jc["workload"], "zipf:pages=5000,events=20K,seed=7");
  EXPECT_NE(jc["policies"][0]["misses"], ja["policies"][0]["misses"]);
}

// ---- errors: one line, "mmbpf: run: ...", exit 2 for usage and 1 for input

void expect_error(const outcome& o, int rc, const std::string& prefix) {
  EXPECT_EQ(o.rc, rc) << o.err;
  EXPECT_EQ(o.err.rfind("mmbpf: run: " + prefix, 0), 0u) << o.err;
  EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << o.err;  // one line
  EXPECT_EQ(o.out, "");
}

TEST(RunErrors, MissingTraceFile) {
  const std::string missing = ::testing::TempDir() + "/no_such_trace.oracleGeneral.bin";
  expect_error(mmbpf("run --trace " + missing + " --memory 1G"), 1,
               missing + ": No such file or directory");
  auto o = mmbpf("run --trace " + missing + " --trace-format oracleGeneral --memory 1G --json");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("No such file or directory"), std::string::npos) << o.err;
}

TEST(RunErrors, CorruptTrace) {
  // 2.5 records of oracleGeneral.
  temp_file trace(".oracleGeneral.bin", oracle_general({1, 2, 3}).substr(0, 60));
  auto o = mmbpf("run --trace " + trace.path + " --memory 1G --json");
  expect_error(o, 1, trace.path + ": truncated");
  // A binary trace with a bad header.
  temp_file bin(".trace", std::string("MMBPFTRC") + std::string(24, '\x7f'));
  auto b = mmbpf("run --trace " + bin.path + " --trace-format mmbpf --memory 1G");
  expect_error(b, 1, bin.path);
}

TEST(RunErrors, UnknownPolicy) {
  auto o = mmbpf("run --workload zipf:pages=10,events=10 --policy nope");
  expect_error(o, 2, "--policy: unknown policy 'nope' (known: default, ");
  EXPECT_NE(o.err.find("lru"), std::string::npos);
}

TEST(RunErrors, BadSizes) {
  expect_error(mmbpf("run --workload zipf:pages=10,events=10 --memory -1G"), 2,
               "--memory: '-1G' is not a size");
  expect_error(mmbpf("run --workload zipf:pages=10,events=10 --memory=4X"), 2,
               "--memory: '4X' is not a size");
  expect_error(mmbpf("run --workload zipf:pages=10,events=10 --memory 100"), 2,
               "--memory: '100' is less than one page (4096 bytes)");
  expect_error(mmbpf("run --workload zipf:pages=10,events=10 --swap lots"), 2,
               "--swap: 'lots' is not a size");
  expect_error(mmbpf("run --workload zipf:pages=10,events=10 --swappiness 300"), 2,
               "--swappiness: '300' must be in 0..200");
  expect_error(mmbpf("run --workload zipf:pages=10,events=10 --seed x"), 2,
               "--seed: 'x' is not a number");
}

TEST(RunErrors, BadConfig) {
  temp_file cfg(".conf", "memory 1G\nswapiness 10\n");
  expect_error(mmbpf("run --workload zipf:pages=10,events=10 --config " + cfg.path), 1,
               cfg.path + ": config line 2: unknown setting 'swapiness'");
  temp_file cfg2(".conf", "cgroup 2 /a/b\n");
  expect_error(mmbpf("run --workload zipf:pages=10,events=10 --config " + cfg2.path), 1,
               cfg2.path + ": config line 1: cgroup 2 /a/b: parent /a does not exist");
  expect_error(mmbpf("run --workload zipf:pages=10,events=10 --config /no/such.conf"), 1,
               "/no/such.conf: No such file or directory");
}

TEST(RunErrors, UnknownCgroupInTheTrace) {
  temp_file trace(".txt",
                  "read pid=1 cg=0 ino=1 off=0 len=4096\n"
                  "read pid=1 cg=3 ino=1 off=0 len=4096\n");
  expect_error(mmbpf("run --trace " + trace.path + " --memory 1M"), 1,
               trace.path +
                   ": event 2: cgroup 3 does not exist (create it in the config or with a "
                   "cgroup_create event)");
  // With the cgroup in the config it runs.
  temp_file cfg(".conf", "cgroup 3 /three\n");
  auto o = mmbpf("run --trace " + trace.path + " --config " + cfg.path + " --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(parse_one_object(o)["policies"][0]["events"], 2u);
}

TEST(RunErrors, UsageMistakes) {
  expect_error(mmbpf("run --trace x --workload zipf"), 2, "give --trace or --workload, not both");
  expect_error(mmbpf("run --trace-format csv"), 2, "--trace-format needs --trace");
  temp_file trace(".oracleGeneral.bin", oracle_general({1}));
  expect_error(mmbpf("run --trace " + trace.path + " --trace-format parquet"), 2,
               "--trace-format: unknown trace format 'parquet'");
  expect_error(mmbpf("run --workload zipf:thta=1"), 2, "--workload: zipf: unknown key 'thta'");
  expect_error(mmbpf("run --config x.conf"), 2, "--config needs --trace or --workload");
  temp_file odd(".dat", std::string("\x01\x02\x00\x03", 4));
  expect_error(mmbpf("run --trace " + odd.path), 2, odd.path + ": cannot tell the trace format");
}

TEST(RunErrors, BadAttachAndBadObjects) {
  temp_file cfg(".conf", "cgroup 1 /a\n");
  const std::string w = "--workload zipf:pages=10,events=10 --config " + cfg.path;
  expect_error(mmbpf("run " + w + " --attach a=fifo"), 2,
               "--attach: 'a=fifo' is not CGROUP=POLICY (e.g. /web=lfu)");
  expect_error(mmbpf("run " + w + " --attach /a=nope"), 2, "--attach: unknown policy 'nope'");
  expect_error(mmbpf("run " + w + " --attach /zz=fifo"), 1,
               "--attach /zz=fifo: no such cgroup in the config or the workload");
  temp_file junk(".bpf.o", "not an ELF file");
  auto o = mmbpf("run " + w + " --policy " + junk.path);
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find(junk.path), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << o.err;  // one line
  EXPECT_EQ(o.out, "");  // nothing half-written
}

TEST(Run, ShowcaseWithNoArguments) {
  auto o = mmbpf("run");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.err, "");
  for (const char* s : {"== zipf", "== scan vs hot set", "== ycsb-b", "== oom", "default", "lru",
                        "lfu", "s3fifo", "mglru", "belady", "misses over MIN", "miss ratio",
                        "oom_kill", "events_per_second (wall)"})
    EXPECT_NE(o.out.find(s), std::string::npos) << s << "\n" << o.out;
}

TEST(Run, ShowcaseAsJson) {
  auto o = mmbpf("run --policy default --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  json j = parse_one_object(o);
  ASSERT_TRUE(j["showcase"].is_array());
  EXPECT_EQ(j["showcase"].size(), 4u);
  bool killed = false;
  for (const auto& w : j["showcase"]) {
    ASSERT_EQ(w["policies"].size(), 1u);
    killed |= w["policies"][0]["oom_kill"].get<uint64_t>() > 0;
  }
  EXPECT_TRUE(killed) << "the oom workload kills a hog";
}

}  // namespace
