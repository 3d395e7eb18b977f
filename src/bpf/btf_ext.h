// .BTF.ext: the per-section side tables clang emits next to .BTF (include/uapi/linux/btf.h's
// struct btf_ext_header, and libbpf's btf_ext_info_sec layout): function info (which BTF FUNC
// each subprogram is), line info (source file, line and column per instruction) and CO-RE
// relocations. Offsets here are byte offsets within the ELF section, as clang writes them.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/btf_handle.h"
#include "bpf/error.h"

namespace mmbpf::bpf {

struct func_info_rec {
  uint32_t insn_off;  // bytes from the section start
  uint32_t type_id;   // a BTF_KIND_FUNC in the object's BTF
};

struct line_info_rec {
  uint32_t insn_off;  // bytes from the section start
  std::string_view file, line;  // into the object's BTF strings (valid while that BTF lives)
  uint32_t line_num, line_col;
};

struct core_relo_rec {
  uint32_t insn_off;        // bytes from the section start
  uint32_t type_id;         // root type in the object's (local) BTF
  std::string_view access;  // access string "0:1:2" (into the object's BTF strings)
  uint32_t kind;            // enum bpf_core_relo_kind
};

struct btf_ext_info {
  // Keyed by ELF section name ("struct_ops/evict_folios", ".text", ...).
  std::map<std::string, std::vector<func_info_rec>, std::less<>> func_info;
  std::map<std::string, std::vector<line_info_rec>, std::less<>> line_info;
  std::map<std::string, std::vector<core_relo_rec>, std::less<>> core_relos;
};

// Parses raw .BTF.ext against the object's BTF (section names and strings live there). Errors
// name the part at fault: ".BTF.ext: line_info record size 12 is smaller than 16".
result<btf_ext_info> parse_btf_ext(std::span<const uint8_t> raw, const btf_handle& btf);

}  // namespace mmbpf::bpf
