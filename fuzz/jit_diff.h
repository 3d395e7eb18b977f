// The JIT's differential check, shared by the libFuzzer target fuzz_jit and the test that runs it
// in CI (tests/bpf/jit_test.cpp): a program (from gen.h's generator) that the verifier accepts is
// run by the unchecked interpreter and by the JIT, each against its own fresh harness runtime
// (harness.h: array, hash and ring buffer maps, kfunc kf_sum, the same prandom seed) and its own
// copy of the 64-byte context; r0 or the fault message, the context bytes, the maps' contents,
// the records in the ring buffer and the trace log must be the same.
//
// The verifier lets privileged programs read stack slots they never wrote (through a pointer, in
// a callback, ...), and neither engine clears its stack (unchecked runs do not), so such reads
// see whatever the host left there. Before each run the harness paints the stack the engine is
// about to use with zeros (paint_stack for stacks on the native stack: the interpreter's, and
// the JIT's for programs that call no host code; jit_clear_stacks for the JIT's per-thread
// ones), and calls the engine with nothing in between: the JIT's entry for programs that call
// no host code reserves its stack below the caller's frames, where whatever ran after the paint
// (building run_args, say: its strings) would have left values. The interpreter's second run
// (below) paints its stack with 0xa5 instead, so that a program whose outcome visibly depends on
// slots it never wrote is not compared.
//
// A program first runs in the checked interpreter with an instruction budget: one that exceeds
// it (long but verified loops) or faults (a verifier hole, fuzz_verifier_gen's business) is not
// compared, since the unchecked engines would run it without a limit or touch memory outside
// the run's regions. Nor is one whose outcome depends on addresses (it computes with a leaked
// pointer): the interpreter run twice, with its stack, maps and context elsewhere (and its
// stack painted differently), disagrees with itself on such a program.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "bpf/engine.h"
#include "bpf/jit.h"
#include "bpf/verifier/verifier.h"
#include "harness.h"

namespace mmbpf::fuzz {

enum class diff_kind { not_loaded, rejected, skipped, same, differ };

struct diff_result {
  diff_kind kind = diff_kind::not_loaded;
  std::string what;  // for differ: what differs
};

struct run_observation {
  std::string r0;  // "r0=0x..." or "fault: msg"
  std::vector<uint8_t> ctx;
  std::vector<uint8_t> arr;                                    // fd 0's values
  std::vector<std::pair<uint32_t, uint64_t>> hash;             // fd 1's elements, by key
  std::vector<std::vector<uint8_t>> ringbuf;                   // fd 2's committed records
  std::string trace;
};

inline std::string describe_diff(const run_observation& a, const run_observation& b) {
  if (a.r0 != b.r0) return fmt::format("result: interp {} / jit {}", a.r0, b.r0);
  for (size_t i = 0; i < a.ctx.size(); ++i)
    if (a.ctx[i] != b.ctx[i])
      return fmt::format("ctx byte {}: interp {:02x} / jit {:02x}", i, a.ctx[i], b.ctx[i]);
  for (size_t i = 0; i < a.arr.size(); ++i)
    if (a.arr[i] != b.arr[i])
      return fmt::format("array map byte {}: interp {:02x} / jit {:02x}", i, a.arr[i], b.arr[i]);
  if (a.hash != b.hash) return "hash map contents differ";
  if (a.ringbuf != b.ringbuf) return "ring buffer records differ";
  if (a.trace != b.trace) return "trace logs differ";
  return {};
}

// A pointer a program left in r0 or in memory (the verifier lets privileged programs leak
// them) differs between the engines' runs, which use different maps, contexts and stacks: it is
// replaced by what it points to (0xf00d, the kind, the offset), in whole aligned words.
inline uint64_t canonical(uint64_t v, mmbpf::bpf::runtime& rt, const uint8_t* ctx) {
  const auto c = reinterpret_cast<uint64_t>(ctx);
  if (v >= c && v < c + 64) return 0xf00d100000000000ULL | (v - c);
  if (const mmbpf::bpf::mem_region* r = rt.regions().find(v))
    return 0xf00d200000000000ULL | (std::hash<std::string>{}(r->name) & 0xff) << 32 |
           (v - r->start);
  uint64_t here = reinterpret_cast<uint64_t>(&here);
  if ((v > here - (1 << 20) && v < here + (1 << 20)) || mmbpf::bpf::jit_stack_contains(v))
    return 0xf00d300000000000ULL;  // a stack address: frames sit at different places
  return v;
}

inline void canonical_words(std::vector<uint8_t>& bytes, mmbpf::bpf::runtime& rt,
                            const uint8_t* ctx) {
  for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    w = canonical(w, rt, ctx);
    std::memcpy(bytes.data() + i, &w, 8);
  }
}

inline run_observation observe(mmbpf::bpf::runtime& rt, const mmbpf::result<uint64_t>& r,
                               const uint8_t* ctx) {
  using namespace mmbpf::bpf;
  run_observation o;
  o.r0 = r ? fmt::format("r0=0x{:x}", canonical(r.value(), rt, ctx)) : "fault: " + r.err().msg;
  o.ctx.assign(ctx, ctx + 64);
  canonical_words(o.ctx, rt, ctx);
  bpf_map* arr = rt.map(0);
  for (uint32_t k = 0; k < arr->attr().max_entries; ++k) {
    uint8_t v[16];
    (void)arr->lookup_copy(&k, v);
    o.arr.insert(o.arr.end(), v, v + sizeof v);
  }
  canonical_words(o.arr, rt, ctx);
  bpf_map* h = rt.map(1);
  uint32_t key = 0, next = 0;
  const void* prev = nullptr;
  while (h->get_next_key(prev, &next) == 0) {
    uint64_t v = 0;
    (void)h->lookup_copy(&next, &v);
    o.hash.emplace_back(next, canonical(v, rt, ctx));
    key = next;
    prev = &key;
  }
  std::sort(o.hash.begin(), o.hash.end());
  auto* rb = static_cast<ringbuf_map*>(rt.map(2));
  rb->consume(
      [](void* c, const void* d, size_t n) {
        static_cast<std::vector<std::vector<uint8_t>>*>(c)->emplace_back(
            static_cast<const uint8_t*>(d), static_cast<const uint8_t*>(d) + n);
        return 0;
      },
      &o.ringbuf);
  for (auto& rec : o.ringbuf) canonical_words(rec, rt, ctx);
  o.trace = rt.trace_log();
  return o;
}

// Fills the 64 KB of the native stack below the caller's frame (below its return address) with
// the byte `fill`; in assembly, so that it is the real stack and nothing of the caller's.
extern "C" void mmbpf_fill_stack_below(uint64_t fill);
#if defined(__x86_64__)
asm(R"(
  .text
  .p2align 4
  .type mmbpf_fill_stack_below, @function
mmbpf_fill_stack_below:
  mov %rdi, %rax
  lea -65536(%rsp), %rdi
  mov $65536, %ecx
  rep stosb
  ret
  .size mmbpf_fill_stack_below, .-mmbpf_fill_stack_below
)");
#endif

// Fills with `fill` the stack a run started next by the caller uses: the interpreter's is a local
// array, which goes where the caller's locals go (under ASan possibly its fake stack), and the
// JIT's entry reserves its own on the real stack below the host's frames.
[[gnu::noinline]] inline void fill_local_arrays(uint8_t fill) {
  uint8_t buf[64 * 1024];
  std::memset(buf, fill, sizeof buf);
  asm volatile("" : : "r"(buf) : "memory");
}
[[gnu::always_inline]] inline void paint_stack(uint8_t fill = 0) {
  fill_local_arrays(fill);
#if defined(__x86_64__)
  mmbpf_fill_stack_below(fill);
#endif
}

// Runs e with its stack 8 KB deeper than a run made directly from diff_program would have it,
// painted with 0xa5.
[[gnu::noinline]] inline mmbpf::result<uint64_t> run_deeper(const mmbpf::bpf::engine& e,
                                                           const mmbpf::bpf::bpf_prog& p,
                                                           uint8_t* ctx) {
  volatile uint8_t pad[8192];
  pad[0] = 0;
  const mmbpf::bpf::run_args args = mmbpf::bpf::run_args::mem(ctx, 64);
  paint_stack(0xa5);
  auto r = e.run(p, args);
  asm volatile("" : : "r"(pad) : "memory");
  return r;
}

// Loads insns, verifies them as a program over 64 bytes of memory, and compares the engines.
inline diff_result diff_program(const std::vector<mmbpf::bpf::insn>& insns,
                                const uint8_t ctx_in[64], uint64_t budget = 200000) {
  using namespace mmbpf::bpf;
  diff_result d;
  runtime rt_check, rt_interp, rt_interp2, rt_jit;
  for (runtime* rt : {&rt_check, &rt_interp, &rt_interp2, &rt_jit}) setup_runtime(*rt);
  const prog_load_opts opts{.name = "fuzz", .fd_array = {0, 1, 2}};
  auto p_check = bpf_prog::load(rt_check, insns, opts);
  if (!p_check) return d;
  verifier::verify_opts vo;
  vo.ctx.k = verifier::prog_context::kind::mem;
  vo.ctx.mem_size = 64;
  const auto vr = verifier::verify(**p_check, vo);
  if (!vr.ok) {
    d.kind = diff_kind::rejected;
    return d;
  }
  uint8_t ctx[64];
  std::memcpy(ctx, ctx_in, 64);
  if (!engine(engine_kind::interp, true, budget).run_mem(**p_check, ctx, sizeof ctx)) {
    d.kind = diff_kind::skipped;
    return d;
  }
  auto p_interp = bpf_prog::load(rt_interp, insns, opts);
  auto p_interp2 = bpf_prog::load(rt_interp2, insns, opts);
  auto p_jit = bpf_prog::load(rt_jit, insns, opts);
  if (!p_interp || !p_interp2 || !p_jit) return d;
  if (!jit_compile(**p_jit)) {
    d.kind = diff_kind::differ;
    d.what = "the JIT could not compile it: " + jit_compile(**p_jit).err().msg;
    return d;
  }
  uint8_t ctx_a[64], ctx_b[64];
  std::memcpy(ctx_a, ctx_in, 64);
  std::memcpy(ctx_b, ctx_in, 64);
  const engine interp(engine_kind::interp), jit(engine_kind::jit);
  // The arguments are made before painting: whatever runs between the paint and the engine
  // leaves values in the stack the run then uses.
  const run_args args_a = run_args::mem(ctx_a, 64), args_b = run_args::mem(ctx_b, 64);
  paint_stack();
  const auto ra = interp.run(**p_interp, args_a);
  jit_clear_stacks();  // programs that call the host run on per-thread stacks,
  paint_stack();       // the others on the native stack
  const auto rb = jit.run(**p_jit, args_b);
  // A program whose outcome depends on where its stack, maps and context are (it computes with
  // a leaked address, e.g. the low half of a stack pointer) gives different results in any two
  // runs: the interpreter run again with everything elsewhere tells, and such programs are not
  // compared.
  uint8_t ctx_c[64];
  std::memcpy(ctx_c, ctx_in, 64);
  const auto rc = run_deeper(interp, **p_interp2, ctx_c);
  const run_observation oa = observe(rt_interp, ra, ctx_a);
  if (!describe_diff(oa, observe(rt_interp2, rc, ctx_c)).empty()) {
    d.kind = diff_kind::skipped;
    return d;
  }
  d.what = describe_diff(oa, observe(rt_jit, rb, ctx_b));
  d.kind = d.what.empty() ? diff_kind::same : diff_kind::differ;
  return d;
}

}  // namespace mmbpf::fuzz
