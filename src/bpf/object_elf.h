// What the object loader keeps of an ELF file between open and load: sections (name, type,
// flags, contents), the symbol table, REL relocations by target section, .BTF.ext, and the
// functions of each executable section. Internal to object_open.cpp and object_load.cpp.
#pragma once

#include <elf.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bpf/btf_ext.h"
#include "bpf/object.h"

// LLVM's BPF relocation types that glibc's elf.h does not name.
#ifndef R_BPF_64_ABS64
#define R_BPF_64_ABS64 2
#endif
#ifndef R_BPF_64_ABS32
#define R_BPF_64_ABS32 3
#endif
#ifndef R_BPF_64_NODYLD32
#define R_BPF_64_NODYLD32 4
#endif

namespace mmbpf::bpf {

struct elf_section {
  std::string name;
  uint32_t type = 0;
  uint64_t flags = 0;
  std::vector<uint8_t> data;  // NOBITS: zeros of sh_size
  bool exec() const { return type == SHT_PROGBITS && (flags & SHF_EXECINSTR); }
};

struct elf_symbol {
  std::string name;
  uint64_t value = 0, size = 0;
  uint16_t shndx = 0;
  uint8_t bind = 0, type = 0;
};

struct elf_reloc {
  uint64_t offset = 0;  // in the target section
  uint32_t sym = 0;
  uint32_t type = 0;
};

struct elf_func {
  uint32_t sym;           // index in the symbol table
  uint32_t start, end;    // instruction indices in the section
};

struct bpf_object::elf_state {
  std::vector<elf_section> secs;
  std::vector<elf_symbol> syms;
  std::map<size_t, std::vector<elf_reloc>> relocs;  // by target section index
  std::map<size_t, std::vector<elf_func>> funcs;    // by executable section index, by start
  btf_ext_info ext;
  std::map<size_t, size_t> data_map;  // global-data section index -> index in maps_
};

}  // namespace mmbpf::bpf
