// CO-RE (compile once, run everywhere) relocation: libbpf's rules for resolving a program's
// bpf_core_relo records against a target BTF (here the model's vmlinux BTF) and patching the
// instructions. Candidates are found by name with "___flavor" suffixes ignored and checked for
// compatible shape; field offset/size/existence/signedness/bitfield shifts, type
// id/existence/size/match and enum value existence/value relocations are all supported.
//
// A relocation that cannot be resolved poisons its instruction as libbpf does; the load then
// fails, naming the relocation, only if a poisoned instruction is reachable once branches on
// constants patched in by existence relocations (bpf_core_field_exists & co) are folded.
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

// Applies one section's CO-RE relocations to that section's instructions (indexed from the
// section start: record insn_off / 8). `local` is the object's BTF, `target` the kernel's.
// Errors name the section, instruction and relocation, e.g.
// "struct_ops/x: insn 4: CO-RE relocation #2 (field_byte_offset of struct task_struct.foo):
//  field 'foo' not found in target struct task_struct".
result<void> core_relocate(std::span<insn> sec_insns, std::span<const core_relo_rec> relos,
                           const btf_handle& local, const btf_handle& target,
                           std::string_view sec_name);

}  // namespace mmbpf::bpf
