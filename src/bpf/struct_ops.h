// The struct_ops registry: the ops types families declare (the kernel's struct bpf_struct_ops)
// and that objects' .struct_ops / .struct_ops.link instances bind their programs to. A type's
// layout and member prototypes come from the model's BTF (struct <name> in vmlinux.h); the
// family adds what BTF cannot say: which function members are required and which may be
// sleepable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/error.h"
#include "bpf/verifier/verifier.h"

namespace mmbpf::bpf {

struct struct_ops_member_rule {
  std::string name;
  bool required = false;  // check_member: a program must be given
  bool sleepable = false; // may (not must) be bound to a struct_ops.s/ program
};

struct struct_ops_type {
  std::string name;                           // "bpf_dummy_ops", "cache_ext_ops", ...
  std::vector<struct_ops_member_rule> rules;  // function members; others are optional, not sleepable
  // Fields of kernel objects the type's programs may store to (the struct_ops' btf_struct_access);
  // everything else they reach through BTF pointers is read-only.
  std::vector<verifier::writable_field> writable;
  // The kernel structs (in the model's BTF) the type may be laid out as, the first being the
  // current interface and the rest earlier versions the model also accepts (e.g.
  // "bpf_oom_ops___v2"); empty means just `name`. The loader binds an instance to the first
  // shape whose members include all of the object's own struct's members and whose function
  // members take the same kinds of struct pointers (struct_ops_shape_matches()).
  std::vector<std::string> shapes;
  const struct_ops_member_rule* rule(std::string_view member) const;
};

class struct_ops_registry {
 public:
  // An error if the name is taken.
  result<void> add(struct_ops_type t);
  const struct_ops_type* find(std::string_view name) const;

 private:
  std::vector<struct_ops_type> types_;
};

}  // namespace mmbpf::bpf
