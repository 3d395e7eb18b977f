// libFuzzer target: the JIT against the interpreter (unchecked), differentially, on structured
// programs the verifier accepts. The input drives fuzz_verifier_gen's generator (gen.h; its last
// 64 bytes, in inputs of 128 bytes or more, are the context); every accepted program runs in
// both engines (jit_diff.h) and any difference in r0 or the fault message, the context, the
// maps, the ring buffer or the trace log aborts with the program.
//
// Simplified: programs the checked interpreter cannot finish within its budget, or that fault in
// it (verifier holes, fuzz_verifier_gen's subject), or whose outcome depends on addresses (they
// compute with a leaked pointer) are not compared (jit_diff.h).
//
// Statistics (programs generated, accepted, compared, skipped) print at exit.
//
//   fuzz/run.sh fuzz_jit 600
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bpf/assembler.h"
#include "bpf/disasm.h"
#include "gen.h"
#include "jit_diff.h"

namespace {

struct {
  unsigned long long generated = 0, asm_failed = 0, not_accepted = 0, compared = 0, skipped = 0;
} stats;

void print_stats() {
  std::fprintf(stderr,
               "\nfuzz_jit: %llu programs generated, %llu assembler errors, %llu not loaded or "
               "rejected, %llu compared (JIT = interpreter), %llu skipped (budget or fault in "
               "the checked interpreter, or an outcome that depends on addresses)\n",
               stats.generated, stats.asm_failed, stats.not_accepted, stats.compared,
               stats.skipped);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit(print_stats);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mmbpf::bpf;
  uint8_t ctx[64];
  input in{nullptr, 0};
  if (!split_fuzz_input(data, size, in, ctx)) return -1;
  generator g(in);
  const std::string text = g.program();
  ++stats.generated;
  auto insns = assemble(text);
  if (!insns) {
    ++stats.asm_failed;
    return 0;
  }
  const auto d = mmbpf::fuzz::diff_program(*insns, ctx);
  switch (d.kind) {
    case mmbpf::fuzz::diff_kind::not_loaded:
    case mmbpf::fuzz::diff_kind::rejected:
      ++stats.not_accepted;
      return 0;
    case mmbpf::fuzz::diff_kind::skipped:
      ++stats.skipped;
      return 0;
    case mmbpf::fuzz::diff_kind::same:
      ++stats.compared;
      if (stats.compared % 20000 == 0) print_stats();
      return 0;
    case mmbpf::fuzz::diff_kind::differ:
      break;
  }
  std::fprintf(stderr, "JIT and interpreter differ: %s\n--- program ---\n%s--- disasm ---\n%s",
               d.what.c_str(), text.c_str(), disasm(*insns).c_str());
  std::fprintf(stderr, "--- ctx ---\n");
  for (int i = 0; i < 64; ++i) std::fprintf(stderr, "%02x%s", ctx[i], i % 16 == 15 ? "\n" : " ");
  std::abort();
}
