// The BTF handle over libbpf; see btf_handle.h.
#include "bpf/btf_handle.h"

#include <fmt/format.h>

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

namespace mmbpf::bpf {

namespace {
// libbpf prints its own diagnostics to stderr; ours are the error values.
int quiet(enum libbpf_print_level, const char*, va_list) { return 0; }
}  // namespace

result<btf_handle> btf_handle::parse(std::span<const uint8_t> raw, std::string_view what) {
  static const bool silenced = (libbpf_set_print(quiet), true);
  (void)silenced;
  errno = 0;
  struct btf* b = btf__new(raw.data(), static_cast<uint32_t>(raw.size()));
  const int err = errno;
  if (!b) {  // libbpf 1.x returns NULL and sets errno
    return error{fmt::format("{}: invalid BTF ({})", what, std::strerror(err ? err : EINVAL))};
  }
  btf_handle h;
  h.p_.reset(b);
  return h;
}

uint32_t btf_handle::type_cnt() const { return btf__type_cnt(p_.get()); }
const struct btf_type* btf_handle::type(uint32_t id) const { return btf__type_by_id(p_.get(), id); }

std::string_view btf_handle::name(uint32_t id) const {
  const struct btf_type* t = type(id);
  if (!t) return {};
  const char* s = btf__name_by_offset(p_.get(), t->name_off);
  return s ? s : "";
}

std::string_view btf_handle::str(uint32_t off) const {
  const char* s = btf__str_by_offset(p_.get(), off);
  return s ? s : "";
}

uint32_t btf_handle::find(std::string_view name, uint32_t kind) const {
  const int id = btf__find_by_name_kind(p_.get(), std::string(name).c_str(), kind);
  return id > 0 ? static_cast<uint32_t>(id) : 0;
}

uint32_t btf_handle::skip_mods_and_typedefs(uint32_t id) const {
  const struct btf_type* t = type(id);
  // libbpf validates ids but not cycles: a chain longer than libbpf's MAX_RESOLVE_DEPTH (32)
  // is a loop, and resolves to void.
  for (int n = 0; t && (btf_is_mod(t) || btf_is_typedef(t)); ++n) {
    if (n == 32) return 0;
    id = t->type;
    t = type(id);
  }
  return id;
}

result<uint32_t> btf_handle::size_of(uint32_t id) const {
  const long long n = btf__resolve_size(p_.get(), id);
  if (n < 0) return error{fmt::format("BTF type [{}] '{}' has no size", id, name(id))};
  return static_cast<uint32_t>(n);
}

}  // namespace mmbpf::bpf
