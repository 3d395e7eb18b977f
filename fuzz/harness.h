// The fuzzing harness, shared by the libFuzzer target and the test that keeps the seed programs
// meaningful: an instruction stream is decoded and, if it loads, run by the checked interpreter
// against a runtime with an array (fd 0), a hash (fd 1) and a ring buffer (fd 2) map, the kfunc
// kf_sum (btf_id 1) and 64 bytes of context. fd_array is {0, 1, 2}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "bpf/interpreter.h"
#include "bpf/prog.h"
#include "bpf/runtime.h"

namespace mmbpf::fuzz {

inline uint64_t kf_sum(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e) {
  return a + b + c + d + e;
}

struct outcome {
  bool loaded = false;
  result<uint64_t> run = error{"not run"};
};

// The harness's maps (fds 0, 1, 2) and kfunc in rt.
inline void setup_runtime(mmbpf::bpf::runtime& rt) {
  using namespace mmbpf::bpf;
  rt.seed_prandom(1);
  (void)rt.create_map({.map_type = BPF_MAP_TYPE_ARRAY,
                       .key_size = 4,
                       .value_size = 16,
                       .max_entries = 4,
                       .name = "arr"});
  (void)rt.create_map({.map_type = BPF_MAP_TYPE_HASH,
                       .key_size = 4,
                       .value_size = 8,
                       .max_entries = 4,
                       .name = "hash"});
  (void)rt.create_map({.map_type = BPF_MAP_TYPE_RINGBUF,
                       .key_size = 0,
                       .value_size = 0,
                       .max_entries = 4096,
                       .name = "rb"});
  (void)rt.kfuncs().add({.name = "kf_sum", .fn = kf_sum, .btf_id = 1});
}

inline outcome run_bytes(const uint8_t* data, size_t size) {
  using namespace mmbpf::bpf;
  outcome o;
  std::vector<insn> insns(size / sizeof(insn));
  std::memcpy(insns.data(), data, insns.size() * sizeof(insn));

  runtime rt;
  setup_runtime(rt);
  auto prog = bpf_prog::load(rt, std::move(insns), {.name = "fuzz", .fd_array = {0, 1, 2}});
  if (!prog) return o;
  o.loaded = true;
  uint8_t ctx[64];
  std::memset(ctx, 0xa5, sizeof ctx);
  const interpreter vm(/*checked=*/true, /*insn_limit=*/100000);
  o.run = vm.run_mem(**prog, ctx, sizeof ctx);
  return o;
}

}  // namespace mmbpf::fuzz
