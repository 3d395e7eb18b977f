// BTF, through libbpf's BTF API (struct btf, btf__*): an owning handle and the few queries the
// loader, CO-RE and struct_ops binding share. Type ids and kinds are the kernel's (<linux/btf.h>).
#pragma once

#include <bpf/btf.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "bpf/error.h"

namespace mmbpf::bpf {

class btf_handle {
 public:
  btf_handle() = default;
  // Parses raw BTF (a .BTF section or a vmlinux blob). `what` names the source in errors:
  // "obj.bpf.o: .BTF: invalid BTF (...)".
  static result<btf_handle> parse(std::span<const uint8_t> raw, std::string_view what);

  explicit operator bool() const { return p_ != nullptr; }
  const struct btf* get() const { return p_.get(); }
  struct btf* get() { return p_.get(); }

  uint32_t type_cnt() const;  // ids are 1..type_cnt-1 plus 0 (void)
  const struct btf_type* type(uint32_t id) const;
  std::string_view name(uint32_t id) const;        // "" for anonymous types
  std::string_view str(uint32_t off) const;        // a string of the string section
  // The id of the named type of this kind (BTF_KIND_*), or 0.
  uint32_t find(std::string_view name, uint32_t kind) const;
  // Follows typedefs and modifiers (const, volatile, restrict, type tags) to the underlying type;
  // 0 (void) for a chain that loops.
  uint32_t skip_mods_and_typedefs(uint32_t id) const;
  // The type's size in bytes (btf__resolve_size), or an error for types without one.
  result<uint32_t> size_of(uint32_t id) const;

 private:
  struct deleter {
    void operator()(struct btf* b) const { btf__free(b); }
  };
  std::unique_ptr<struct btf, deleter> p_;
};

}  // namespace mmbpf::bpf
