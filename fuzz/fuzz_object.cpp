// libFuzzer target: random bytes as a BPF ELF object through open, set_global, load (maps,
// CO-RE, relocation, kfunc and struct_ops binding) and, for whatever loads, a checked run of each
// program. Seeds are the test objects (tests/bpf/progs/*.bpf.o). Every malformed input must end
// in an error value; ASan, UBSan and the fuzzer catch anything else.
//
//   fuzz/run.sh fuzz_object 3600
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "bpf/interpreter.h"
#include "bpf/object.h"
#include "bpf/runtime.h"

namespace {
uint64_t mul(uint64_t a, uint64_t b, uint64_t, uint64_t, uint64_t) { return a * b; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace bpf = mmbpf::bpf;  // (libbpf declares a struct bpf_object too)
  using bpf::interpreter, bpf::obj_prog, bpf::runtime;
  if (size > (1u << 20)) return -1;
  auto o = bpf::bpf_object::open_mem({data, size}, "fuzz.o");
  if (!o) return 0;
  const uint64_t v = 3;
  (void)(*o)->set_global("scale", {reinterpret_cast<const uint8_t*>(&v), sizeof v});
  runtime rt;
  rt.map_memory_limit = 64 << 20;  // objects may ask for any size; the fuzzer's RSS is bounded
  (void)rt.kfuncs().add({.name = "bpf_test_mul", .fn = mul});
  if (!(*o)->load(rt)) return 0;
  const interpreter vm(/*checked=*/true, /*insn_limit=*/100000);
  for (const obj_prog& p : (*o)->programs()) {
    uint64_t ctx[8];
    std::memset(ctx, 0, sizeof ctx);
    (void)vm.run_mem(*p.prog, ctx, sizeof ctx);
  }
  return 0;
}
