// `mmbpf verify OBJ [--log-level N]`: loads a BPF object as `mmbpf run` would (every family's
// struct_ops types and kfuncs registered) and prints each struct_ops program's verifier log, in
// the kernel's format, ending with its "processed N insns ..." line. Exits 1 on a rejection,
// whose message is the last line of the failing program's log (and the one-line error on
// stderr).
#include <fmt/format.h>

#include "bpf/object.h"
#include "bpf/runtime.h"
#include "cli/commands.h"
#include "ext/families.h"

namespace mmbpf::cli {
namespace {

struct verify_opts {
  std::string obj;
  int log_level = 2;
};

int run_verify(const verify_opts& o) {
  auto obj = bpf::bpf_object::open_file(o.obj);
  if (!obj) {
    fmt::print(stderr, "mmbpf verify: {}\n", obj.err().msg);
    return 1;
  }
  bpf::runtime rt;
  ext::register_families(rt);
  auto r = (*obj)->load(rt, {.verify = true, .log_level = o.log_level});
  for (const auto& p : (*obj)->programs()) {
    if (p.verifier_log.empty()) continue;
    fmt::print("func#{} {} ({}.{}):\n{}", &p - (*obj)->programs().data(), p.name, p.ops_type,
               p.ops_member, p.verifier_log);
  }
  if (!r) {
    fmt::print(stderr, "mmbpf verify: {}\n", r.err().msg);
    return 1;
  }
  return 0;
}

}  // namespace

void add_verify_command(CLI::App& app, int* rc) {
  auto o = std::make_shared<verify_opts>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Verify a BPF object's programs and print the verifier's log (the kernel's format)");
  cmd->add_option("OBJ", o->obj, "BPF object (.bpf.o)")->required()->type_name("FILE");
  cmd->add_option("--log-level", o->log_level,
                  "0: the error only; 1: each instruction and what it changed, kept only on a "
                  "rejection (as the kernel does); 2: kept always (default)")
      ->check(CLI::Range(0, 2));
  cmd->callback([o, rc] { *rc = run_verify(*o); });
}

}  // namespace mmbpf::cli
