// A loaded BPF program (the kernel's struct bpf_prog): the instructions as given, the
// translated form the engines run (pseudo ld_imm64 sources resolved to addresses, kfunc ids to
// registry indices, as the kernel's fixups do), its subprograms, and bpf_stats-style counters.
// Loading runs the decoder (decoder.h); a program that loads is structurally valid, which is
// all the engines assume until the verifier (a later layer) proves more.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bpf/error.h"
#include "bpf/insn.h"

namespace mmbpf::bpf {

class runtime;
class jit_image;

struct prog_load_opts {
  std::string name = "prog";
  // Maps for BPF_PSEUDO_MAP_IDX / BPF_PSEUDO_MAP_IDX_VALUE (imm indexes this array of fds).
  std::vector<int> fd_array;
};

struct bpf_prog {
  std::string name;
  runtime* rt = nullptr;
  std::vector<insn> insns;               // as loaded
  std::vector<insn> xlated;              // what engines run
  std::vector<uint32_t> subprog_starts;  // sorted; [0] == 0
  uint32_t max_call_depth = 1;           // frames on the deepest static call chain

  // bpf_stats: runs and time spent, filled by whoever runs the program with stats enabled.
  mutable uint64_t run_cnt = 0;
  mutable uint64_t run_time_ns = 0;

  // The JIT's image of xlated (jit.h), made on the first JIT run; empty until then.
  mutable std::shared_ptr<jit_image> jited;

  // Decodes and resolves `insns` against rt (helpers, kfuncs, maps). Errors name the
  // instruction index and the rule broken.
  static result<std::unique_ptr<bpf_prog>> load(runtime& rt, std::vector<insn> insns,
                                                prog_load_opts opts = {});
};

}  // namespace mmbpf::bpf
