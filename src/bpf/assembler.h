// The assembler: eBPF programs written in the kernel's verifier-log syntax (disasm.h), for tests
// and hand-written programs. It reads back everything the disassembler prints, so
// assemble(disasm(p)) == p for any valid program (given the same helper and kfunc names).
//
// Syntax, one instruction per line or separated by ';':
//   r0 = 0                      w1 += w2          r1 s/= r2        r1 = (s8)r2     r0 = -r0
//   r1 = be32 r1                r1 = bswap64 r1   r1 = *(u64 *)(r10 -8)   r1 = *(s16 *)(r2 +4)
//   *(u32 *)(r1 +4) = r2        *(u8 *)(r10 -1) = 5
//   lock *(u64 *)(r1 +0) += r2  r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)
//   r2 = atomic_xchg((u32 *)(r1 +0), r2)   r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)
//   r1 = 0x1234 ll              r1 = map_fd[3]    r1 = map_value[3]+16   r1 = func[+5] ...
//   if r1 s> 0x5 goto pc+3      if w1 == w2 goto -4   goto pc+2   gotol +70000   goto out
//   call bpf_map_lookup_elem#1  call bpf_map_lookup_elem   call 1   call pc+3   call my_func
//   call kernel-function#77     call bpf_task_acquire (with asm_opts::kfunc_id)   exit
// - Comments: "//" anywhere, "#" at the start of a line or after whitespace ("call foo#1" keeps
//   its '#'). Blank lines are ignored.
// - A statement may start with labels "name:" (jump and call targets; not a register name),
//   the index "N:" that disasm() prints (it must equal the instruction's slot index) and the
//   opcode annotation "(xx)" (it must equal the assembled opcode).
// - Jump targets are "pc+N", "+N", "pc-N", "-N" (relative to the next instruction) or a label.
// - Numbers are decimal or 0x hex, optionally signed. A 32-bit immediate that is zero- or
//   sign-extended by its operation (w-register ALU, jumps, stores narrower than u64) accepts
//   -2^31..2^32-1; one sign-extended to 64 bits (r-register ALU, u64 stores) accepts only the
//   signed range, so "r1 = 0xffffffff" is an error (write "r1 = 0xffffffff ll").
// - "rN = <number>" is a mov; with " ll" or the annotation "(18)" (as in kernel logs, which
//   print ld_imm64 without " ll") it is an ld_imm64.
// - Accepted beyond what disasm() prints (llvm-objdump habits): "(r1 + 8)" spacing, wN as the
//   value register of 8/16/32-bit loads, stores and 32-bit atomics, bare helper names and ids.
//
// Errors name the line, the offending token and what was expected:
// "line 3: unknown register 'r11'".
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "bpf/error.h"
#include "bpf/helper_ids.h"
#include "bpf/insn.h"

namespace mmbpf::bpf {

struct asm_opts {
  // Id of the helper called `name` ("call <name>" or "call <name>#<id>"), or -1 if unknown.
  std::function<int32_t(std::string_view name)> helper_id = [](std::string_view name) {
    return kernel_helper_id(name);
  };
  // BTF id of the kfunc called `name`, or -1 if unknown; empty: no kfuncs by name (only
  // "call kernel-function#<id>").
  std::function<int32_t(std::string_view name)> kfunc_id;
};

// The program in `text`; an ld_imm64 takes two slots. An empty text gives an empty program.
// The result is encoded, not validated: decode() (decoder.h) still checks it.
result<std::vector<insn>> assemble(std::string_view text, const asm_opts& opts = {});

}  // namespace mmbpf::bpf
