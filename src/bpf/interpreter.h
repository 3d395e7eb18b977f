// The eBPF interpreter: the reference semantics of RFC 9669 on the host. Registers are u64,
// each frame has 512 bytes of stack, calls nest at most 8 frames deep, ALU32 results are
// zero-extended, shifts are masked, division and modulo by zero follow the RFC.
//
// Two modes. Unchecked: loads and stores go straight to host memory, as JIT-ed kernel code
// does; safety is the verifier's job. Checked: every load, store and helper pointer argument is
// validated against the run's regions (context, live stack frames) and the runtime's region
// table (maps, host objects); a violation stops the run with an error naming the instruction
// and the access, and nothing outside the regions is touched. Checked mode is for fuzzing and
// for debugging programs that have not been verified.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bpf/error.h"
#include "bpf/memory.h"
#include "bpf/prog.h"

namespace mmbpf::bpf {

struct run_args {
  uint64_t r[5] = {};  // r1..r5
  mem_region ctx{};    // joins the run's address space when ctx.size > 0

  // The uBPF/`mmbpf exec` convention: r1 = mem, r2 = len; [mem, mem+len) is a writable region
  // named "ctx".
  static run_args mem(void* mem, size_t len);
};

class interpreter {
 public:
  // insn_limit (checked mode only; 0 = none) stops a run after that many instructions, so that
  // unverified programs, which may loop forever, can be fuzzed.
  explicit interpreter(bool checked = false, uint64_t insn_limit = 0)
      : checked_(checked), insn_limit_(insn_limit) {}
  bool checked() const { return checked_; }

  // Runs prog from instruction 0; returns r0 at the final exit, or the fault.
  result<uint64_t> run(const bpf_prog& prog, const run_args& args) const;

  // run(prog, run_args::mem(mem, len)).
  result<uint64_t> run_mem(const bpf_prog& prog, void* mem, size_t len) const;

 private:
  bool checked_;
  uint64_t insn_limit_;
};

}  // namespace mmbpf::bpf
