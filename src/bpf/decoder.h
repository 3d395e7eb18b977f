// The structural check every program passes at load, before any engine sees it: each
// instruction is a valid RFC 9669 encoding with its reserved fields zero, every jump lands on an
// instruction of the same subprogram (never the second slot of an ld_imm64), every subprogram
// ends in exit or an unconditional jump, calls name known helpers, registered kfuncs and real
// subprograms, and the static call graph is acyclic and at most 8 frames deep.
//
// It is not the verifier: it proves nothing about values, pointers or termination. Messages
// follow the kernel verifier's wording where the kernel has one ("unknown opcode 8d",
// "jump out of range from insn 3 to 9") and are prefixed with the instruction index.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bpf/error.h"
#include "bpf/insn.h"

namespace mmbpf::bpf {

class runtime;

constexpr size_t max_prog_insns = 1'000'000;  // BPF_COMPLEXITY_LIMIT_INSNS

struct decode_info {
  std::vector<uint32_t> subprog_starts;  // sorted, [0] == 0
  uint32_t max_call_depth = 1;           // frames on the deepest static call chain
};

// rt supplies the helper table and kfunc registry that calls are checked against.
result<decode_info> decode(std::span<const insn> insns, const runtime& rt);

}  // namespace mmbpf::bpf
