// The model's kernel BTF: bpf/include/vmlinux.h compiled by clang for the BPF target and
// embedded in the runtime at build time. It is what CO-RE relocations and kfunc/struct_ops
// prototypes are resolved against, as a real kernel's /sys/kernel/btf/vmlinux is.
#pragma once

#include <cstdint>
#include <span>

#include "bpf/btf_handle.h"

namespace mmbpf::bpf {

// The raw embedded blob (a .BTF section).
std::span<const uint8_t> vmlinux_btf_raw();
// Parsed once, on first use.
const btf_handle& vmlinux_btf();

}  // namespace mmbpf::bpf
