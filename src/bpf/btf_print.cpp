// BTF declarations through libbpf's btf_dump; see btf_print.h.
#include "bpf/btf_print.h"

#include <cstdarg>
#include <cstdio>

namespace mmbpf::bpf {
namespace {
void append(void* ctx, const char* fmt, va_list args) {
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, args);
  *static_cast<std::string*>(ctx) += buf;
}
}  // namespace

std::string btf_decl(const btf_handle& btf, uint32_t id, std::string_view name) {
  std::string out;
  const struct btf_type* t = btf.type(id);
  if (!t) return out;
  if (btf_is_func(t)) {
    if (name.empty()) name = btf.name(id);
    id = t->type;  // the FUNC_PROTO
  }
  struct btf_dump* d = btf_dump__new(btf.get(), append, &out, nullptr);
  if (!d) return out;
  const std::string n(name);
  LIBBPF_OPTS(btf_dump_emit_type_decl_opts, opts, .field_name = n.c_str());
  btf_dump__emit_type_decl(d, id, &opts);
  btf_dump__free(d);
  return out;
}

}  // namespace mmbpf::bpf
