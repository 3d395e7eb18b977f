// The struct_ops registry; see struct_ops.h.
#include "bpf/struct_ops.h"

#include <fmt/format.h>

namespace mmbpf::bpf {

const struct_ops_member_rule* struct_ops_type::rule(std::string_view member) const {
  for (const auto& r : rules)
    if (r.name == member) return &r;
  return nullptr;
}

result<void> struct_ops_registry::add(struct_ops_type t) {
  if (find(t.name)) return error{fmt::format("struct_ops type '{}' is already registered", t.name)};
  types_.push_back(std::move(t));
  return {};
}

const struct_ops_type* struct_ops_registry::find(std::string_view name) const {
  for (const auto& t : types_)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace mmbpf::bpf
