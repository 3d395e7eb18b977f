// Hex byte text, the form `mmbpf exec` reads programs and memory in: two-digit hex bytes
// separated by white space.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "bpf/error.h"

namespace mmbpf::cli {

// Parses "b7 00 00 00 ..." into bytes. The error names the token's position ("byte 3: 'zz' is
// not a two-digit hex byte").
result<std::vector<uint8_t>> parse_hex_bytes(std::string_view text);

}  // namespace mmbpf::cli
