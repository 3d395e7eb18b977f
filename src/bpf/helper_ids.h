// The kernel's helper function ids and names (bpf_map_lookup_elem is #1, ...), generated from
// the uapi __BPF_FUNC_MAPPER list in <linux/bpf.h> rather than written by hand, so the table is
// exactly the header's. Simplifies: the list is the build machine's header (Debian 6.1), so
// helpers added by later kernels are unknown; which helpers the runtime implements is the
// runtime's business (runtime.h), not this table's.
#pragma once

#include <linux/bpf.h>

#include <string_view>

namespace mmbpf::bpf {

// Number of ids in the header's list (__BPF_FUNC_MAX_ID); ids are 0..kernel_helper_count-1.
constexpr int kernel_helper_count = __BPF_FUNC_MAX_ID;

// The helper's kernel name ("bpf_map_lookup_elem" for 1), or nullptr for an id outside the list.
// Id 0 is "bpf_unspec", as the kernel's disassembler and verifier print it.
const char* kernel_helper_name(int id);

// The inverse: the id of a kernel helper name such as "bpf_map_lookup_elem", or -1 if unknown.
int kernel_helper_id(std::string_view name);

}  // namespace mmbpf::bpf
