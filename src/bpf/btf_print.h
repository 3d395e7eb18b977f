// C declarations of BTF types, as bpftool prints them ("int test_1(unsigned long long * ctx)"),
// through libbpf's btf_dump.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bpf/btf_handle.h"

namespace mmbpf::bpf {

// The declaration of type `id` named `name` (for a FUNC: its prototype with the function's name).
std::string btf_decl(const btf_handle& btf, uint32_t id, std::string_view name = {});

}  // namespace mmbpf::bpf
