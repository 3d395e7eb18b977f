// The engines against each other and against native C++ (compiled with the project's flags,
// -O2), in one run: the x86-64 JIT, the interpreter, and (alu, map, hmap, calls) the
// interpreter's checked mode, on:
//   alu     an xorshift64 loop (12 instructions per iteration, 1000 iterations)
//   alu4    four independent xorshift64 lanes (42 instructions per iteration, 1000 iterations):
//           alu is one chain of dependent operations, so every engine that is not far slower than
//           the chain's latency runs it at the same speed (the JIT does, at native speed) and
//           interp/jit there measures the interpreter; alu4 gives the ALUs parallel work, so it
//           measures instruction throughput
//   map     1000 bpf_map_lookup_elem calls on an array map (inlined by the JIT) and a sum
//   hmap    the same on a hash map (a helper call per lookup)
//   calls   a bpf-to-bpf call and a helper call (get_prandom_u32) per iteration
//   lfu     bpf/policies/cache/lfu.bpf.c's folio_accessed hook (a hash lookup of the folio and
//           an atomic increment), one struct_ops call per iteration, on 4096 folios in the map;
//           native: the same logic in C++ (the same hash map's lookup_elem, an atomic add) in a
//           function called through a pointer, as a native hook is called
//   empty   one call of an empty struct_ops member (`r0 = 0; exit`) through engine::run with a
//           struct_ops context, as a family calls a hook: the fixed cost of a hook call;
//           native: an indirect call of an empty function
//   kfunc   one call of a member that passes its argument to one kfunc (an empty C++ function):
//           a hook that reaches host code runs with a run_ctx, and this is its fixed cost;
//           native: an indirect call of a function that calls the kfunc
// Prints Google Benchmark's table, then per shape: interp/jit (the JIT's speedup), jit/native,
// checked/interp (what checking every access costs), and ns per call for the per-call shapes,
// all from this one run (medians when repeated):
//
//   build/bench_jit --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// The lfu native twin in src/mm/native_policy.cpp (lfu_sampled) keeps frequencies in an array
// indexed by folio id, not in a hash map, so it is not the same logic; it is not measured here.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bpf/engine.h"
#include "bpf/jit.h"
#include "bpf/object.h"
#include "bpf/prog.h"
#include "bpf/runtime.h"
#include "ext/cache_ext.h"

using namespace mmbpf;
using namespace mmbpf::bpf;
using namespace mmbpf::bpf::ins;

namespace {

constexpr int iters = 1000;

struct shape {
  runtime rt;
  std::unique_ptr<bpf_prog> prog;
  int fd = -1;
};

std::unique_ptr<shape> alu_loop() {
  auto s = std::make_unique<shape>();
  insn_buf b;
  b << mov64_imm(0, 0) << mov64_imm(1, iters) << mov64_imm(2, 0x12345);
  b << mov64_reg(3, 2) << alu64_imm(BPF_LSH, 3, 13) << alu64_reg(BPF_XOR, 2, 3) << mov64_reg(3, 2)
    << alu64_imm(BPF_RSH, 3, 7) << alu64_reg(BPF_XOR, 2, 3) << mov64_reg(3, 2)
    << alu64_imm(BPF_LSH, 3, 17) << alu64_reg(BPF_XOR, 2, 3) << alu64_reg(BPF_ADD, 0, 2)
    << alu64_imm(BPF_SUB, 1, 1) << jmp_imm(BPF_JNE, 1, 0, -12) << exit();
  s->prog = std::move(bpf_prog::load(s->rt, std::move(b).insns(), {.name = "alu"}).value());
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

// Four independent xorshift64 lanes per iteration (42 instructions): where alu's one chain of
// dependent shifts and xors bounds any engine by its latency, these give the CPU's ALUs work in
// parallel, so the figure is the engine's instruction throughput.
std::unique_ptr<shape> alu4_loop() {
  auto s = std::make_unique<shape>();
  insn_buf b;
  b << mov64_imm(0, 0) << mov64_imm(1, iters);
  constexpr int lane[4] = {2, 4, 6, 8};  // x in lane[k], its temporary in lane[k] + 1
  for (int k = 0; k < 4; ++k) b << mov64_imm(lane[k], 0x12345 + k);
  const size_t top = b.size();
  for (int k = 0; k < 4; ++k) {
    const int x = lane[k], t = lane[k] + 1;
    b << mov64_reg(t, x) << alu64_imm(BPF_LSH, t, 13) << alu64_reg(BPF_XOR, x, t) << mov64_reg(t, x)
      << alu64_imm(BPF_RSH, t, 7) << alu64_reg(BPF_XOR, x, t) << mov64_reg(t, x)
      << alu64_imm(BPF_LSH, t, 17) << alu64_reg(BPF_XOR, x, t) << alu64_reg(BPF_ADD, 0, x);
  }
  b << alu64_imm(BPF_SUB, 1, 1);
  b << jmp_imm(BPF_JNE, 1, 0, static_cast<int16_t>(static_cast<int64_t>(top) -
                                                   static_cast<int64_t>(b.size()) - 1));
  b << exit();
  s->prog = std::move(bpf_prog::load(s->rt, std::move(b).insns(), {.name = "alu4"}).value());
  return s;
}

inline void xorshift(uint64_t& v, uint64_t& sum) {
  v ^= v << 13;
  v ^= v >> 7;
  v ^= v << 17;
  sum += v;
}
uint64_t native_alu4() {
  uint64_t r0 = 0, a = 0x12345, b = 0x12346, c = 0x12347, d = 0x12348;
  for (int i = 0; i < iters; ++i) {
    xorshift(a, r0);
    xorshift(b, r0);
    xorshift(c, r0);
    xorshift(d, r0);
    benchmark::DoNotOptimize(r0);
  }
  return r0;
}

std::unique_ptr<shape> map_loop(uint32_t type) {
  auto s = std::make_unique<shape>();
  s->fd = *s->rt.create_map({.map_type = type,
                             .key_size = 4,
                             .value_size = 8,
                             .max_entries = 64,
                             .name = "m"});
  for (uint32_t k = 0; k < 64; ++k) {
    uint64_t v = k;
    (void)s->rt.map(s->fd)->update_elem(&k, &v, BPF_ANY);
  }
  insn_buf b;
  b << mov64_imm(6, 0) << mov64_imm(7, 0);
  b << mov64_reg(1, 6) << alu64_imm(BPF_AND, 1, 63) << stx(BPF_W, 10, 1, -4)
    << ld_map_fd(1, s->fd) << mov64_reg(2, 10) << alu64_imm(BPF_ADD, 2, -4)
    << call_helper(BPF_FUNC_map_lookup_elem) << jmp_imm(BPF_JEQ, 0, 0, 2) << ldx(BPF_DW, 1, 0, 0)
    << alu64_reg(BPF_ADD, 7, 1) << alu64_imm(BPF_ADD, 6, 1) << jmp_imm(BPF_JLT, 6, iters, -13);
  b << mov64_reg(0, 7) << exit();
  s->prog = std::move(bpf_prog::load(s->rt, std::move(b).insns(), {.name = "map"}).value());
  return s;
}

uint64_t native_map(bpf::bpf_map* m) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < iters; ++i) {
    const uint32_t key = i & 63;
    if (auto* v = static_cast<uint64_t*>(m->lookup_elem(&key))) sum += *v;
    benchmark::DoNotOptimize(sum);
  }
  return sum;
}

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

void run_shape(benchmark::State& st, shape& s, engine_kind k, bool checked = false) {
  const engine vm(k, checked);
  if (!vm.prepare(*s.prog)) {
    st.SkipWithError("the JIT could not compile the program");
    return;
  }
  for (auto _ : st) {
    auto r = vm.run_mem(*s.prog, nullptr, 0);
    benchmark::DoNotOptimize(r);
  }
}

void BM_native_alu(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(native_alu());
}
void BM_interp_alu(benchmark::State& st) {
  auto s = alu_loop();
  run_shape(st, *s, engine_kind::interp);
}
void BM_jit_alu(benchmark::State& st) {
  auto s = alu_loop();
  run_shape(st, *s, engine_kind::jit);
}
void BM_checked_alu(benchmark::State& st) {
  auto s = alu_loop();
  run_shape(st, *s, engine_kind::interp, /*checked=*/true);
}
void BM_native_alu4(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(native_alu4());
}
void BM_interp_alu4(benchmark::State& st) {
  auto s = alu4_loop();
  run_shape(st, *s, engine_kind::interp);
}
void BM_jit_alu4(benchmark::State& st) {
  auto s = alu4_loop();
  run_shape(st, *s, engine_kind::jit);
}
void BM_checked_alu4(benchmark::State& st) {
  auto s = alu4_loop();
  run_shape(st, *s, engine_kind::interp, /*checked=*/true);
}
void BM_native_map(benchmark::State& st) {
  auto s = map_loop(BPF_MAP_TYPE_ARRAY);
  for (auto _ : st) benchmark::DoNotOptimize(native_map(s->rt.map(s->fd)));
}
void BM_interp_map(benchmark::State& st) {
  auto s = map_loop(BPF_MAP_TYPE_ARRAY);
  run_shape(st, *s, engine_kind::interp);
}
void BM_jit_map(benchmark::State& st) {
  auto s = map_loop(BPF_MAP_TYPE_ARRAY);
  run_shape(st, *s, engine_kind::jit);
}
void BM_checked_map(benchmark::State& st) {
  auto s = map_loop(BPF_MAP_TYPE_ARRAY);
  run_shape(st, *s, engine_kind::interp, /*checked=*/true);
}
void BM_native_hmap(benchmark::State& st) {
  auto s = map_loop(BPF_MAP_TYPE_HASH);
  for (auto _ : st) benchmark::DoNotOptimize(native_map(s->rt.map(s->fd)));
}
void BM_interp_hmap(benchmark::State& st) {
  auto s = map_loop(BPF_MAP_TYPE_HASH);
  run_shape(st, *s, engine_kind::interp);
}
void BM_jit_hmap(benchmark::State& st) {
  auto s = map_loop(BPF_MAP_TYPE_HASH);
  run_shape(st, *s, engine_kind::jit);
}
void BM_checked_hmap(benchmark::State& st) {
  auto s = map_loop(BPF_MAP_TYPE_HASH);
  run_shape(st, *s, engine_kind::interp, /*checked=*/true);
}
void BM_native_calls(benchmark::State& st) {
  runtime rt;
  for (auto _ : st) benchmark::DoNotOptimize(native_calls(rt));
}
void BM_interp_calls(benchmark::State& st) {
  auto s = call_loop();
  run_shape(st, *s, engine_kind::interp);
}
void BM_jit_calls(benchmark::State& st) {
  auto s = call_loop();
  run_shape(st, *s, engine_kind::jit);
}
void BM_checked_calls(benchmark::State& st) {
  auto s = call_loop();
  run_shape(st, *s, engine_kind::interp, /*checked=*/true);
}

// ---- lfu.bpf.c's folio_accessed ----

struct lfu_setup {
  runtime rt;
  std::unique_ptr<bpf::bpf_object> obj;
  const bpf_prog* accessed = nullptr;
  bpf::bpf_map* freq = nullptr;
  std::vector<std::array<uint64_t, 8>> folios = std::vector<std::array<uint64_t, 8>>(4096);
  std::string error;
};

std::unique_ptr<lfu_setup> lfu() {
  auto s = std::make_unique<lfu_setup>();
  ext::register_cache_ext(s->rt);
  auto o = bpf::bpf_object::open_file(MMBPF_BPF_OBJ_DIR "/bpf/policies/cache/lfu.bpf.o");
  if (!o) {
    s->error = o.err().msg;
    return s;
  }
  s->obj = std::move(o.value());
  if (auto r = s->obj->load(s->rt); !r) {
    s->error = r.err().msg;
    return s;
  }
  obj_prog* p = s->obj->find_program("lfu_folio_accessed");
  obj_map* m = s->obj->find_map("folio_freq");
  if (!p || !p->prog || !m) {
    s->error = "lfu.bpf.o has no lfu_folio_accessed or folio_freq";
    return s;
  }
  s->accessed = p->prog.get();
  s->freq = s->rt.map(m->fd);
  for (auto& f : s->folios) {
    const uint64_t key = reinterpret_cast<uint64_t>(&f), one = 1;
    (void)s->freq->update_elem(&key, &one, BPF_ANY);
  }
  return s;
}

void run_lfu(benchmark::State& st, engine_kind k) {
  auto s = lfu();
  if (!s->error.empty()) {
    st.SkipWithError(s->error.c_str());
    return;
  }
  const engine vm(k);
  if (!vm.prepare(*s->accessed)) {
    st.SkipWithError("the JIT could not compile the program");
    return;
  }
  uint64_t args[1];
  run_args ra;
  ra.r[0] = reinterpret_cast<uint64_t>(args);  // the struct_ops context: the member's arguments
  size_t i = 0;
  for (auto _ : st) {
    args[0] = reinterpret_cast<uint64_t>(&s->folios[i++ & 4095]);
    auto r = vm.run(*s->accessed, ra);
    benchmark::DoNotOptimize(r);
  }
}

// The same logic as lfu_folio_accessed in C++, called as a hook is (an indirect call of a
// function taking the member's arguments), as a native struct_ops member would be.
[[gnu::noinline]] void native_lfu_accessed(bpf::bpf_map* m, const void* folio) {
  const uint64_t key = reinterpret_cast<uint64_t>(folio);
  if (auto* v = static_cast<uint64_t*>(m->lookup_elem(&key))) __sync_fetch_and_add(v, 1);
}

void BM_native_lfu(benchmark::State& st) {
  auto s = lfu();
  if (!s->error.empty()) {
    st.SkipWithError(s->error.c_str());
    return;
  }
  void (*volatile hook)(bpf::bpf_map*, const void*) = native_lfu_accessed;
  bpf::bpf_map* m = s->freq;
  size_t i = 0;
  for (auto _ : st) {
    hook(m, &s->folios[i++ & 4095]);
    benchmark::ClobberMemory();
  }
}
void BM_interp_lfu(benchmark::State& st) {
  run_lfu(st, engine_kind::interp);
}
void BM_jit_lfu(benchmark::State& st) {
  run_lfu(st, engine_kind::jit);
}

// ---- an empty struct_ops member ----

[[gnu::noinline]] uint64_t native_empty_member(uint64_t) {
  return 0;
}

void BM_native_empty(benchmark::State& st) {
  uint64_t (*volatile fn)(uint64_t) = native_empty_member;
  uint64_t args[2] = {};
  for (auto _ : st) benchmark::DoNotOptimize(fn(reinterpret_cast<uint64_t>(args)));
}

// Calls the member p once per iteration as a family calls a hook: engine::run with the
// struct_ops context (the member's arguments) in r1.
void run_member(benchmark::State& st, const bpf_prog& p, engine_kind k) {
  const engine vm(k);
  (void)vm.prepare(p);
  uint64_t args[2] = {};
  run_args ra;
  ra.r[0] = reinterpret_cast<uint64_t>(args);
  for (auto _ : st) {
    auto r = vm.run(p, ra);
    benchmark::DoNotOptimize(r);
  }
}

void run_empty(benchmark::State& st, engine_kind k) {
  runtime rt;
  insn_buf b;
  b << mov64_imm(0, 0) << exit();
  run_member(st, *bpf_prog::load(rt, std::move(b).insns(), {.name = "empty"}).value(), k);
}
void BM_interp_empty(benchmark::State& st) {
  run_empty(st, engine_kind::interp);
}
void BM_jit_empty(benchmark::State& st) {
  run_empty(st, engine_kind::jit);
}

// ---- a struct_ops member that calls one kfunc ----
// A hook that reaches host code runs with a run_ctx (the kfunc may look at the run): the fixed
// cost of such a hook call, with the kfunc an empty C++ function taking the member's argument.

[[gnu::noinline]] uint64_t empty_kfunc(uint64_t a, uint64_t, uint64_t, uint64_t, uint64_t) {
  benchmark::DoNotOptimize(a);
  return 0;
}
[[gnu::noinline]] uint64_t native_kfunc_member(const uint64_t* args) {
  return empty_kfunc(args[0], 0, 0, 0, 0);
}

void BM_native_kfunc(benchmark::State& st) {
  uint64_t (*volatile fn)(const uint64_t*) = native_kfunc_member;
  uint64_t args[2] = {};
  for (auto _ : st) benchmark::DoNotOptimize(fn(args));
}

void run_kfunc(benchmark::State& st, engine_kind k) {
  runtime rt;
  auto id = rt.kfuncs().add({.name = "empty_kfunc", .fn = empty_kfunc});
  insn_buf b;
  b << ldx(BPF_DW, 1, 1, 0) << call_kfunc(static_cast<int32_t>(*id)) << exit();
  run_member(st, *bpf_prog::load(rt, std::move(b).insns(), {.name = "kfunc"}).value(), k);
}
void BM_interp_kfunc(benchmark::State& st) {
  run_kfunc(st, engine_kind::interp);
}
void BM_jit_kfunc(benchmark::State& st) {
  run_kfunc(st, engine_kind::jit);
}

BENCHMARK(BM_native_alu);
BENCHMARK(BM_interp_alu);
BENCHMARK(BM_jit_alu);
BENCHMARK(BM_checked_alu);
BENCHMARK(BM_native_alu4);
BENCHMARK(BM_interp_alu4);
BENCHMARK(BM_jit_alu4);
BENCHMARK(BM_checked_alu4);
BENCHMARK(BM_native_map);
BENCHMARK(BM_interp_map);
BENCHMARK(BM_jit_map);
BENCHMARK(BM_checked_map);
BENCHMARK(BM_native_hmap);
BENCHMARK(BM_interp_hmap);
BENCHMARK(BM_jit_hmap);
BENCHMARK(BM_checked_hmap);
BENCHMARK(BM_native_calls);
BENCHMARK(BM_interp_calls);
BENCHMARK(BM_jit_calls);
BENCHMARK(BM_checked_calls);
BENCHMARK(BM_native_lfu);
BENCHMARK(BM_interp_lfu);
BENCHMARK(BM_jit_lfu);
BENCHMARK(BM_native_empty);
BENCHMARK(BM_interp_empty);
BENCHMARK(BM_jit_empty);
BENCHMARK(BM_native_kfunc);
BENCHMARK(BM_interp_kfunc);
BENCHMARK(BM_jit_kfunc);

// Keeps each benchmark's time (the median when repeated) and prints ratios at the end.
class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      if (r.error_occurred) continue;
      ns_[r.run_name.function_name] = r.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-6s %12s %12s %12s %14s %14s %16s\n", "shape", "native ns", "interp ns",
                "jit ns", "interp/jit", "jit/native", "checked/interp");
    for (const char* s : {"alu", "alu4", "map", "hmap", "calls", "lfu", "empty", "kfunc"}) {
      const std::string n = s;
      const double na = ns_["BM_native_" + n], in = ns_["BM_interp_" + n], ji = ns_["BM_jit_" + n];
      const double ch = ns_["BM_checked_" + n];
      if (in == 0 || ji == 0) continue;
      std::printf("%-6s %12.1f %12.1f %12.1f %13.1fx %13.2fx", s, na, in, ji, in / ji,
                  na ? ji / na : 0.0);
      if (ch > 0)
        std::printf(" %15.2fx", ch / in);
      std::printf("\n");
    }
    std::printf(
        "targets: alu interp/jit >= 10x; lfu (policy hook) jit/native <= 1.5x; empty struct_ops "
        "member <= 5 ns per call (jit: %.1f ns)\n",
        ns_["BM_jit_empty"]);
  }

 private:
  std::map<std::string, double> ns_;
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
