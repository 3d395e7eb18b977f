// libFuzzer target: the verifier's soundness. Random bytes as an instruction stream; what the
// decoder loads is verified against a 64-byte flat context (r1 = ctx, r2 = 64) in the harness's
// runtime (fuzz/harness.h); what the verifier accepts is run by the checked interpreter, which
// validates every access. An accepted program that the checked interpreter stops with a fault
// (an access outside every region, a bad callback, ...) is a verifier hole: the target aborts.
// Runs that only exceed the interpreter's instruction budget are not faults.
//
//   fuzz/run.sh fuzz_verifier 3600
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bpf/verifier/verifier.h"
#include "harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mmbpf::bpf;
  if (size < sizeof(insn) || size > 512 * sizeof(insn)) return -1;
  std::vector<insn> insns(size / sizeof(insn));
  std::memcpy(insns.data(), data, insns.size() * sizeof(insn));
  runtime rt;
  mmbpf::fuzz::setup_runtime(rt);
  auto prog = bpf_prog::load(rt, std::move(insns), {.name = "fuzz", .fd_array = {0, 1, 2}});
  if (!prog) return 0;
  verifier::verify_opts vo;
  vo.ctx.k = verifier::prog_context::kind::mem;
  vo.ctx.mem_size = 64;
  if (!verifier::verify(**prog, vo).ok) return 0;
  uint8_t ctx[64];
  std::memset(ctx, 0xa5, sizeof ctx);
  const interpreter vm(/*checked=*/true, /*insn_limit=*/2000000);
  auto r = vm.run_mem(**prog, ctx, sizeof ctx);
  if (!r && r.err().msg.find("instruction limit") == std::string::npos) {
    std::fprintf(stderr, "verified program faulted: %s\n", r.err().msg.c_str());
    std::abort();
  }
  return 0;
}
