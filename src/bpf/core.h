// CO-RE (compile once, run everywhere) relocation: libbpf's rules for resolving a program's
// bpf_core_relo records against a target BTF (here the model's vmlinux BTF) and patching the
// instructions. Candidates are found by name with "___flavor" suffixes ignored and checked for
// compatible shape; field offset/size/existence/signedness/bitfield shifts, type
// id/existence/size/match and enum value existence/value relocations are all supported.
//
// A relocation that cannot be resolved poisons its instruction as libbpf does; the load then
// fails, naming the relocation, only if a poisoned instruction is reachable once branches on
// constants patched in by existence relocations (bpf_core_field_exists & co) are folded.
// Simplified: that folding only sees constants set within the branch's basic block (clang's
// pattern `r1 = <0/1>; if w1 == 0 goto ...`); the kernel verifier's full dead-code elimination
// is the project verifier's job and will subsume it. Relocations that are malformed or
// ambiguous (candidates that disagree) fail the load outright, as in libbpf.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "bpf/btf_ext.h"
#include "bpf/btf_handle.h"
#include "bpf/error.h"
#include "bpf/insn.h"

namespace mmbpf::bpf {

// libbpf's poisoned instruction: `call 0xbad2310` ("bad relo"), an invalid helper call put in
// place of an instruction whose relocation failed (both slots of an ld_imm64). The kernel
// verifier rejects it as "invalid func unknown#195896080" if reachable, ignores it if dead.
inline constexpr int32_t core_poison_imm = 0xbad2310;
constexpr bool is_core_poison(const insn& i) {
  return i.code == (BPF_JMP | BPF_CALL) && i.src_reg == 0 && i.imm == core_poison_imm;
}

// Applies one section's CO-RE relocations to that section's instructions (indexed from the
// section start: record insn_off / 8). `local` is the object's BTF, `target` the kernel's.
// Errors name the section, instruction and relocation, e.g.
// "struct_ops/x: insn 4: CO-RE relocation #2 (field_byte_offset of struct task_struct.foo):
//  field 'foo' not found in target struct task_struct".
//
// `entries` are the instruction indices where the section's functions start (from the symbol
// table); reachability of poisoned instructions is checked from each of them and from the
// targets of bpf-to-bpf calls and callback references (ld_imm64 BPF_PSEUDO_FUNC) within the
// section. Empty means instruction 0 only.
result<void> core_relocate(std::span<insn> sec_insns, std::span<const core_relo_rec> relos,
                           const btf_handle& local, const btf_handle& target,
                           std::string_view sec_name, std::span<const uint32_t> entries = {});

}  // namespace mmbpf::bpf
