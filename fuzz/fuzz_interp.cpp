// libFuzzer target: random bytes as an instruction stream through the decoder and, whatever
// loads, through the checked interpreter (fuzz/harness.h). The checked interpreter must turn
// every bad access into an error; ASan, UBSan and the fuzzer catch anything that escapes.
//
//   fuzz/run.sh 3600      (builds, seeds the corpus from fuzz/seeds/*.s, fuzzes for an hour)
#include "harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < sizeof(mmbpf::bpf::insn) || size > 4096 * sizeof(mmbpf::bpf::insn)) return -1;
  (void)mmbpf::fuzz::run_bytes(data, size);
  return 0;
}
