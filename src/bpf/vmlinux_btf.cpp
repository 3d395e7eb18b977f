// The model's kernel BTF (see vmlinux_btf.h). The build compiles bpf/include/vmlinux_btf.c for
// the BPF target, extracts its .BTF section into a file (cmake/bpf.cmake: mmbpf_vmlinux_btf) and
// this file pulls that file into .rodata with the assembler's .incbin; CMake passes its path as
// MMBPF_VMLINUX_BTF_PATH and rebuilds this file when the blob changes. The blob is part of the
// build, not input: if libbpf rejects it, that is a build bug, and the process aborts with a
// message rather than returning an error.
#include "bpf/vmlinux_btf.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#ifndef MMBPF_VMLINUX_BTF_PATH
#error "MMBPF_VMLINUX_BTF_PATH must name the extracted .BTF blob (set by CMakeLists.txt)"
#endif

// The blob between two hidden symbols, 8-byte aligned as an ELF section of it would be.
asm(".pushsection .rodata.mmbpf_vmlinux_btf, \"a\"\n"
    ".balign 8\n"
    ".globl mmbpf_vmlinux_btf_begin\n"
    ".hidden mmbpf_vmlinux_btf_begin\n"
    "mmbpf_vmlinux_btf_begin:\n"
    ".incbin \"" MMBPF_VMLINUX_BTF_PATH
    "\"\n"
    ".globl mmbpf_vmlinux_btf_end\n"
    ".hidden mmbpf_vmlinux_btf_end\n"
    "mmbpf_vmlinux_btf_end:\n"
    ".popsection\n");

extern "C" const uint8_t mmbpf_vmlinux_btf_begin[];
extern "C" const uint8_t mmbpf_vmlinux_btf_end[];

namespace mmbpf::bpf {

std::span<const uint8_t> vmlinux_btf_raw() {
  return {mmbpf_vmlinux_btf_begin, mmbpf_vmlinux_btf_end};
}

const btf_handle& vmlinux_btf() {
  static const btf_handle h = [] {
    auto r = btf_handle::parse(vmlinux_btf_raw(), "the model's vmlinux BTF (embedded at build)");
    if (!r) {
      std::fprintf(stderr, "mmbpf: %s; this is a build bug: rebuild, and check %s\n",
                   r.err().msg.c_str(), MMBPF_VMLINUX_BTF_PATH);
      std::abort();
    }
    return std::move(r).value();
  }();
  return h;
}

}  // namespace mmbpf::bpf
