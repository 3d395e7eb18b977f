// BPF objects: an ELF file as clang writes it with libbpf's conventions, opened and loaded the
// way libbpf's bpf_object__open / bpf_object__load do.
//
// Open parses everything and creates nothing: program sections (any SEC() name kept, with
// struct_ops/ and struct_ops.s/ marking struct_ops callbacks, the latter sleepable), .text
// subprograms, the license, BTF-defined maps in .maps, global data (.data*, .rodata*, .bss) as
// one-element array maps, externs (__ksym kfuncs and variables, __weak allowed), struct_ops
// instances in .struct_ops / .struct_ops.link, .BTF and .BTF.ext. Globals may then be set
// (`const volatile` rodata included), as through a libbpf skeleton before load.
//
// Load creates the maps in a runtime, applies CO-RE relocations against the model's BTF,
// resolves map, global-data, subprogram, callback and extern relocations (appending the
// subprograms each program calls, as libbpf does), binds kfuncs by name through the kfunc
// registry, loads each program, and binds struct_ops instances to their programs member by
// member. Every error names the object, the section or symbol and what is wrong.
//
// Not supported (refused with a message): map-in-map, BPF_MAP_TYPE_* beyond the runtime's,
// .kconfig externs, program types that need a kernel (they load but nothing attaches them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/btf_handle.h"
#include "bpf/error.h"
#include "bpf/insn.h"
#include "bpf/map.h"
#include "bpf/prog.h"

namespace mmbpf::bpf {

class runtime;

struct obj_line {
  uint32_t insn;  // index in obj_prog::insns
  std::string file, src;
  uint32_t line, col;
};

struct obj_prog {
  std::string name;      // the function's symbol
  std::string sec_name;  // "struct_ops/test_1", "syscall", ...
  bool sleepable = false;
  bool struct_ops = false;
  uint32_t func_btf_id = 0;        // BTF_KIND_FUNC in the object's BTF, or 0
  std::vector<insn> insns;         // after load: relocated, subprograms appended
  std::vector<obj_line> lines;     // after load: line info by final instruction index
  std::vector<std::string> kfuncs; // kfuncs it calls, by name
  std::unique_ptr<bpf_prog> prog;  // after load
  // struct_ops binding (after load): the ops type, member and its argument count, and the
  // member's prototype (BTF_KIND_FUNC_PROTO in the kernel's BTF).
  std::string ops_type, ops_member;
  uint32_t ops_nargs = 0;
  uint32_t ops_func_proto_id = 0;
  // The verifier's log for this program (at the log level load was given), after load.
  std::string verifier_log;
};

enum class obj_map_kind { user, data, rodata, bss };

struct obj_map {
  std::string name;  // variable name, or "<obj>.rodata"-style for global data (libbpf's)
  std::string sec_name;
  obj_map_kind kind = obj_map_kind::user;
  map_attr attr;
  uint32_t key_type_id = 0, value_type_id = 0;  // BTF types, when given by __type()
  std::vector<uint8_t> image;  // global data: the initial contents, settable before load
  int fd = -1;                 // after load
};

struct obj_struct_ops {
  std::string name;       // the variable's name
  std::string type_name;  // "bpf_dummy_ops": the kernel's name, any ___flavor suffix dropped
  std::string local_type; // the object's own struct: type_name, or type_name___flavor (libbpf)
  // The kernel struct the instance was bound to at load: type_name, or one of the other shapes
  // the struct_ops type accepts (struct_ops_type::shapes), chosen by the object's own layout.
  std::string shape;
  bool link = false;      // .struct_ops.link
  std::vector<uint8_t> data;  // the instance as compiled (data members included)
  struct member_prog {
    std::string member;
    std::string prog;  // program (function) name
  };
  std::vector<member_prog> progs;
};

class bpf_object {
 public:
  ~bpf_object();
  static result<std::unique_ptr<bpf_object>> open_file(const std::filesystem::path& path);
  // `name` stands for the file in errors and global-data map names.
  static result<std::unique_ptr<bpf_object>> open_mem(std::span<const uint8_t> elf,
                                                      std::string name);

  // Before load: sets a global variable (in .data*, .rodata* or .bss) by name. The size must
  // match the variable's.
  result<void> set_global(std::string_view var, std::span<const uint8_t> value);

  // Creates maps, relocates and loads every program, binds struct_ops, and proves every
  // struct_ops program safe for its member's prototype (verifier/verifier.h), keeping each
  // program's verifier log at `log_level`; a rejection fails the load. Other program types
  // (syscall, ...) are not verified yet. Once only.
  struct load_opts {
    bool verify = true;
    int log_level = 0;
  };
  result<void> load(runtime& rt, load_opts opts);
  result<void> load(runtime& rt) { return load(rt, load_opts{}); }
  bool loaded() const { return loaded_; }

  const std::string& name() const { return name_; }
  const std::string& license() const { return license_; }
  const btf_handle& btf() const { return btf_; }
  std::vector<obj_prog>& programs() { return progs_; }
  const std::vector<obj_prog>& programs() const { return progs_; }
  std::vector<obj_map>& maps() { return maps_; }
  const std::vector<obj_map>& maps() const { return maps_; }
  const std::vector<obj_struct_ops>& struct_ops() const { return ops_; }
  // The one struct_ops instance of type `type` (named `name`, or the only one when empty);
  // an error says why there is none ("no such T instance in the object", "several; name one").
  result<const obj_struct_ops*> struct_ops_instance(std::string_view type, std::string_view name) const;
  obj_prog* find_program(std::string_view name);
  obj_map* find_map(std::string_view name);

  struct elf_state;  // the ELF file's sections, symbols and relocations (object_elf.h)

 private:
  bpf_object() = default;

  std::string name_;
  std::string license_;
  btf_handle btf_;
  std::vector<obj_prog> progs_;
  std::vector<obj_map> maps_;
  std::vector<obj_struct_ops> ops_;
  std::unique_ptr<elf_state> elf_;  // sections, symbols, relocations kept for load
  bool loaded_ = false;
};

}  // namespace mmbpf::bpf
