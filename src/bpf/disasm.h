// The disassembler: eBPF instructions as text in the kernel's syntax, the one print_bpf_insn()
// in kernel/bpf/disasm.c writes into verifier logs and `bpftool prog dump xlated`
// ("(61) r1 = *(u32 *)(r2 +4)", "(25) if r1 > 0x5 goto pc+3", "(85) call bpf_map_lookup_elem#1").
// The assembler (assembler.h) reads all of it back, so every line printed here re-assembles to
// the same bytes.
//
// Where it departs from disasm.c, each for round-tripping:
// - A plain ld_imm64 prints as "r1 = 0x1234 ll" (disasm.c: "r1 = 0x1234"; the " ll" is
//   llvm-objdump's), so it reads differently from a mov of a small constant.
// - ld_imm64 with a pseudo source prints the loader's operand instead of a pointer:
//     src 1 BPF_PSEUDO_MAP_FD        r1 = map_fd[3]           (imm = map fd)
//     src 2 BPF_PSEUDO_MAP_VALUE     r1 = map_value[3]+16     (imm = fd, second imm = offset)
//     src 3 BPF_PSEUDO_BTF_ID        r1 = btf_id[77]          (imm = BTF id of a ksym)
//     src 4 BPF_PSEUDO_FUNC          r1 = func[+5]            (imm = insn offset from the next)
//     src 5 BPF_PSEUDO_MAP_IDX       r1 = map_idx[0]          (imm = index into the fd array)
//     src 6 BPF_PSEUDO_MAP_IDX_VALUE r1 = map_idx_value[0]+8  (imm = index, second imm = offset)
// - Only valid RFC 9669 encodings are printed (those decoder.h accepts, less its checks against
//   the runtime and the program's shape); anything else, including nonzero reserved fields,
//   registers above r10 and the kernel's internal or post-RFC forms (may_goto, addr_space_cast,
//   BPF_NOSPEC, legacy packet loads), prints as "(xx) invalid" where disasm.c prints BUG_...
//   or ignores the field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "bpf/helper_ids.h"
#include "bpf/insn.h"

namespace mmbpf::bpf {

// Name resolvers return names that stay valid at least until disasm_insn() returns.
struct disasm_opts {
  // Name of helper `id` for "call <name>#<id>"; nullptr prints "unknown", as the kernel does.
  std::function<const char*(int32_t id)> helper_name = [](int32_t id) {
    return kernel_helper_name(id);
  };
  // Name of the kfunc with BTF id `btf_id`; empty or nullptr prints "kernel-function".
  std::function<const char*(int32_t btf_id)> kfunc_name;
};

// The instruction at insns[pc] as print_bpf_insn writes it: "(b7) r0 = 0", without the index.
// An ld_imm64 reads its second slot at pc + 1 (a missing or malformed one makes it invalid).
// REQUIRES: pc < n; otherwise returns "".
std::string disasm_insn(const insn* insns, size_t n, size_t pc, const disasm_opts& opts = {});

// The whole program, one line per instruction as bpftool prints it ("   0: (b7) r0 = 0\n"):
// the index counts slots, so the line after an ld_imm64 at 4 is numbered 6.
std::string disasm(std::span<const insn> insns, const disasm_opts& opts = {});

}  // namespace mmbpf::bpf
