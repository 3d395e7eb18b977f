// Interpreter throughput on three program shapes (an ALU loop, a map-lookup loop, a call-heavy
// loop) and the fixed cost of one run, each beside the same work in native C++ compiled with the
// project's flags. Prints Google Benchmark's table, then instructions per second and the ratios
// interpreter/native and checked/unchecked, all from this one run (medians when repeated):
//
//   build/bench_interp --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

#include "bpf/interpreter.h"
#include "bpf/prog.h"
#include "bpf/runtime.h"

using namespace mmbpf::bpf;
using namespace mmbpf::bpf::ins;

namespace {

constexpr int iters = 1000;

struct shape {
  runtime rt;
  std::unique_ptr<bpf_prog> prog;
  uint64_t insns_per_run = 0;  // instructions one run executes (ld_imm64 counts once)
};

// xorshift64 loop: 12 instructions per iteration.
std::unique_ptr<shape> alu_loop() {
  auto s = std::make_unique<shape>();
  insn_buf b;
  b << mov64_imm(0, 0) << mov64_imm(1, iters) << mov64_imm(2, 0x12345);
  b << mov64_reg(3, 2) << alu64_imm(BPF_LSH, 3, 13) << alu64_reg(BPF_XOR, 2, 3) << mov64_reg(3, 2)
    << alu64_imm(BPF_RSH, 3, 7) << alu64_reg(BPF_XOR, 2, 3) << mov64_reg(3, 2)
    << alu64_imm(BPF_LSH, 3, 17) << alu64_reg(BPF_XOR, 2, 3) << alu64_reg(BPF_ADD, 0, 2)
    << alu64_imm(BPF_SUB, 1, 1) << jmp_imm(BPF_JNE, 1, 0, -12) << exit();
  s->prog = std::move(bpf_prog::load(s->rt, std::move(b).insns(), {.name = "alu"}).value());
  s->insns_per_run = 3 + 12 * iters + 1;
  return s;
}

uint64_t native_alu() {
  uint64_t r0 = 0, x = 0x12345;
  for (int i = 0; i < iters; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r0 += x;
    benchmark::DoNotOptimize(r0);
  }
  return r0;
}

// Sum of array[i & 63] over 1000 bpf_map_lookup_elem calls: 12 instructions per iteration.
std::unique_ptr<shape> map_loop(int* fd_out) {
  auto s = std::make_unique<shape>();
  const int fd = *s->rt.create_map({.map_type = BPF_MAP_TYPE_ARRAY,
                                    .key_size = 4,
                                    .value_size = 8,
                                    .max_entries = 64,
                                    .name = "arr"});
  for (uint32_t k = 0; k < 64; ++k) {
    uint64_t v = k;
    s->rt.map(fd)->update_elem(&k, &v, BPF_ANY);
  }
  insn_buf b;
  b << mov64_imm(6, 0) << mov64_imm(7, 0) << ld_imm64(8, fd, BPF_PSEUDO_MAP_FD);
  b << mov64_reg(1, 6) << alu64_imm(BPF_AND, 1, 63) << stx(BPF_W, 10, 1, -4) << mov64_reg(1, 8)
    << mov64_reg(2, 10) << alu64_imm(BPF_ADD, 2, -4) << call_helper(BPF_FUNC_map_lookup_elem)
    << jmp_imm(BPF_JEQ, 0, 0, 2) << ldx(BPF_DW, 1, 0, 0) << alu64_reg(BPF_ADD, 7, 1)
    << alu64_imm(BPF_ADD, 6, 1) << jmp_imm(BPF_JLT, 6, iters, -12);
  b << mov64_reg(0, 7) << exit();
  s->prog = std::move(bpf_prog::load(s->rt, std::move(b).insns(), {.name = "map"}).value());
  s->insns_per_run = 3 + 12 * iters + 2;
  *fd_out = fd;
  return s;
}

uint64_t native_map(bpf_map* m) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < iters; ++i) {
    const uint32_t key = i & 63;
    if (auto* v = static_cast<uint64_t*>(m->lookup_elem(&key))) sum += *v;
    benchmark::DoNotOptimize(sum);
  }
  return sum;
}

// A bpf-to-bpf call and a helper call per iteration: 11 instructions per iteration.
std::unique_ptr<shape> call_loop() {
  auto s = std::make_unique<shape>();
  insn_buf b;
  b << mov64_imm(6, iters) << mov64_imm(7, 0);                                             // 0,1
  b << mov64_reg(1, 6) << call_local(7) << alu64_reg(BPF_ADD, 7, 0)                        // 2,3,4
    << call_helper(BPF_FUNC_get_prandom_u32) << alu64_reg(BPF_XOR, 7, 0)                   // 5,6
    << alu64_imm(BPF_SUB, 6, 1) << jmp_imm(BPF_JNE, 6, 0, -7);                             // 7,8
  b << mov64_reg(0, 7) << exit();                                                          // 9,10
  b << mov64_reg(0, 1) << alu64_imm(BPF_LSH, 0, 1) << alu64_imm(BPF_ADD, 0, 1) << exit();  // 11
  s->prog = std::move(bpf_prog::load(s->rt, std::move(b).insns(), {.name = "calls"}).value());
  s->insns_per_run = 2 + 11 * iters + 2;
  return s;
}

[[gnu::noinline]] uint64_t native_f(uint64_t x) {
  return (x << 1) + 1;
}

uint64_t native_calls(runtime& rt) {
  uint64_t r7 = 0;
  for (uint64_t r6 = iters; r6; --r6) {
    r7 += native_f(r6);
    r7 ^= rt.prandom_u32();
    benchmark::DoNotOptimize(r7);
  }
  return r7;
}

void run_shape(benchmark::State& st, shape& s, bool checked) {
  const interpreter vm(checked);
  for (auto _ : st) {
    auto r = vm.run_mem(*s.prog, nullptr, 0);
    benchmark::DoNotOptimize(r);
  }
  st.counters["insns/s"] = benchmark::Counter(
      static_cast<double>(s.insns_per_run) * st.iterations(), benchmark::Counter::kIsRate);
}

void BM_interp_alu(benchmark::State& st) {
  auto s = alu_loop();
  run_shape(st, *s, false);
}
void BM_checked_alu(benchmark::State& st) {
  auto s = alu_loop();
  run_shape(st, *s, true);
}
void BM_native_alu(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(native_alu());
}
void BM_interp_map(benchmark::State& st) {
  int fd;
  auto s = map_loop(&fd);
  run_shape(st, *s, false);
}
void BM_checked_map(benchmark::State& st) {
  int fd;
  auto s = map_loop(&fd);
  run_shape(st, *s, true);
}
void BM_native_map(benchmark::State& st) {
  int fd;
  auto s = map_loop(&fd);
  for (auto _ : st) benchmark::DoNotOptimize(native_map(s->rt.map(fd)));
}
void BM_interp_calls(benchmark::State& st) {
  auto s = call_loop();
  run_shape(st, *s, false);
}
void BM_checked_calls(benchmark::State& st) {
  auto s = call_loop();
  run_shape(st, *s, true);
}
void BM_native_calls(benchmark::State& st) {
  runtime rt;
  for (auto _ : st) benchmark::DoNotOptimize(native_calls(rt));
}
// The fixed cost of entering and leaving the interpreter: `r0 = 0; exit`.
void BM_interp_empty(benchmark::State& st) {
  runtime rt;
  insn_buf b;
  b << mov64_imm(0, 0) << exit();
  auto p = std::move(bpf_prog::load(rt, std::move(b).insns()).value());
  const interpreter vm(false);
  for (auto _ : st) benchmark::DoNotOptimize(vm.run_mem(*p, nullptr, 0));
}

BENCHMARK(BM_native_alu);
BENCHMARK(BM_interp_alu);
BENCHMARK(BM_checked_alu);
BENCHMARK(BM_native_map);
BENCHMARK(BM_interp_map);
BENCHMARK(BM_checked_map);
BENCHMARK(BM_native_calls);
BENCHMARK(BM_interp_calls);
BENCHMARK(BM_checked_calls);
BENCHMARK(BM_interp_empty);

// Keeps each benchmark's time (the median when repeated) and prints ratios at the end.
class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      ns_[r.run_name.function_name] = r.GetAdjustedRealTime();
      if (auto it = r.counters.find("insns/s"); it != r.counters.end())
        ips_[r.run_name.function_name] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-8s %14s %16s %16s\n", "shape", "interp Minsn/s", "interp/native",
                "checked/interp");
    for (const char* s : {"alu", "map", "calls"}) {
      const std::string n = s;
      const double in = ns_["BM_interp_" + n], na = ns_["BM_native_" + n],
                   ch = ns_["BM_checked_" + n];
      if (in == 0 || na == 0 || ch == 0) continue;
      std::printf("%-8s %14.0f %15.1fx %15.2fx\n", s, ips_["BM_interp_" + n] / 1e6, in / na,
                  ch / in);
    }
    if (ns_.count("BM_interp_empty"))
      std::printf("one run of an empty program: %.1f ns\n", ns_["BM_interp_empty"]);
  }

 private:
  std::map<std::string, double> ns_, ips_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ratio_reporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  benchmark::Shutdown();
  return 0;
}
