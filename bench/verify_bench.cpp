// Verifier cost per in-tree policy: for every BPF object under ${MMBPF_BPF_OBJ_DIR}/bpf/policies
// (found by a directory scan at startup, so new policies are picked up), the time to open the
// ELF, load it (maps, relocations, CO-RE, struct_ops binding) and verify every struct_ops
// program, as `mmbpf verify` does (log level 0). One benchmark per object, named
// verify/<family>/<policy>. Counters: insn_processed and total_states (the verifier's, summed
// over the object's programs), progs (programs verified), ms_per_load and cpu_ms_per_load (this
// repetition's mean wall-clock and thread CPU time), target_ms = 50 and within_target (1 when
// cpu_ms_per_load < 50, CPU time so that a loaded machine does not decide it): the goal is
// under 50 ms per policy.
//
//   build/bench_verify --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Simplified: the runtime is created and the struct_ops families registered outside the timed
// region (only cache_ext exists, registered as src/cli/verify.cpp does; register a new family
// here too); the statistics come from one extra untimed load at log level 1, from the
// "processed N insns ..." line ending each program's verifier log.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bpf/object.h"
#include "bpf/runtime.h"
#include "ext/families.h"

namespace {

namespace fs = std::filesystem;
using namespace mmbpf;

constexpr double target_ms = 50;

// The struct_ops families a policy may implement, registered as the command line does.
void register_families(bpf::runtime& rt) {
  ext::register_families(rt);
}

// "processed 123 insns (limit 1000000) max_states_per_insn 2 total_states 17 ..."
uint64_t log_stat(const std::string& log, const char* key) {
  const size_t p = log.rfind(key);
  if (p == std::string::npos) return 0;
  return std::strtoull(log.c_str() + p + std::string(key).size(), nullptr, 10);
}

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct verifier_stats {
  uint64_t insn_processed = 0, total_states = 0, progs = 0;
};

// One untimed load with log level 1 (at level 0 the log is empty) for the verifier's statistics.
result<verifier_stats> stats_of(const fs::path& path) {
  bpf::runtime rt;
  register_families(rt);
  auto obj = bpf::bpf_object::open_file(path);
  if (!obj) return obj.err();
  if (auto r = (*obj)->load(rt, {.verify = true, .log_level = 1}); !r) return r.err();
  verifier_stats v;
  for (const auto& p : (*obj)->programs()) {
    if (p.verifier_log.empty()) continue;
    ++v.progs;
    v.insn_processed += log_stat(p.verifier_log, "processed ");
    v.total_states += log_stat(p.verifier_log, "total_states ");
  }
  return v;
}

void BM_verify(benchmark::State& state, const fs::path& path) {
  const auto vs = stats_of(path);
  if (!vs) {
    state.SkipWithError(vs.err().msg.c_str());
    for (auto _ : state) {
    }
    return;
  }
  double total_ms = 0, total_cpu_ms = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto rt = std::make_unique<bpf::runtime>();
    register_families(*rt);
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_ms();
    auto obj = bpf::bpf_object::open_file(path);
    if (!obj) {
      state.SkipWithError(obj.err().msg.c_str());
      break;
    }
    if (auto r = (*obj)->load(*rt, {.verify = true, .log_level = 0}); !r) {
      state.SkipWithError(r.err().msg.c_str());
      break;
    }
    total_cpu_ms += thread_cpu_ms() - c0;
    total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    state.PauseTiming();
    obj->reset();
    rt.reset();
    state.ResumeTiming();
  }
  const double n = state.iterations() ? static_cast<double>(state.iterations()) : 1;
  state.counters["insn_processed"] = static_cast<double>(vs->insn_processed);
  state.counters["total_states"] = static_cast<double>(vs->total_states);
  state.counters["progs"] = static_cast<double>(vs->progs);
  state.counters["ms_per_load"] = total_ms / n;
  state.counters["cpu_ms_per_load"] = total_cpu_ms / n;
  state.counters["target_ms"] = target_ms;
  state.counters["within_target"] = total_cpu_ms / n < target_ms ? 1 : 0;
  state.SetLabel("target: < 50 ms per policy");
}

void BM_no_policies(benchmark::State& state) {
  for (auto _ : state) {
  }
  state.SkipWithError("no *.bpf.o under " MMBPF_BPF_OBJ_DIR "/bpf/policies");
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path root = fs::path(MMBPF_BPF_OBJ_DIR) / "bpf" / "policies";
  std::vector<fs::path> objs;
  std::error_code ec;
  if (fs::is_directory(root, ec))
    for (const auto& e : fs::recursive_directory_iterator(root, ec))
      if (e.is_regular_file() && e.path().filename().string().ends_with(".bpf.o"))
        objs.push_back(e.path());
  std::sort(objs.begin(), objs.end());
  for (const fs::path& p : objs) {
    std::string name = fs::relative(p, root).string();  // cache/lfu.bpf.o
    name.resize(name.size() - std::string(".bpf.o").size());
    benchmark::RegisterBenchmark(("verify/" + name).c_str(),
                                 [p](benchmark::State& s) { BM_verify(s, p); })
        ->Unit(benchmark::kMillisecond);
  }
  if (objs.empty()) benchmark::RegisterBenchmark("verify/none", BM_no_policies);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
