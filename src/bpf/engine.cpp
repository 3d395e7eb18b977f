// Engine selection and dispatch; see engine.h.
#include "bpf/engine.h"

#include <fmt/format.h>

#include <cstdlib>

#include "bpf/jit.h"

namespace mmbpf::bpf {

engine_kind default_engine_kind() {
  // MMBPF_ENGINE=interp (or jit) in the environment overrides it: the test suites run once per
  // engine that way (CMakeLists.txt, mmbpf_discover_both_engines). Other values are ignored.
  static const engine_kind k = [] {
    const char* e = std::getenv("MMBPF_ENGINE");
    if (e && std::string_view(e) == "interp") return engine_kind::interp;
    return jit_available() ? engine_kind::jit : engine_kind::interp;
  }();
  return k;
}

result<engine_kind> parse_engine(std::string_view name) {
  if (name == "interp") return engine_kind::interp;
  if (name == "jit") return engine_kind::jit;
  return error{fmt::format("unknown engine '{}' (expected 'interp' or 'jit')", name)};
}

const char* engine_name(engine_kind k) {
  return k == engine_kind::jit ? "jit" : "interp";
}

engine::engine(engine_kind k, bool checked, uint64_t insn_limit)
    : interp_(checked, insn_limit),
      kind_(k),
      jit_(k == engine_kind::jit && !checked && jit_available()) {}

result<uint64_t> engine::run_jit(const bpf_prog& prog, const run_args& args) const {
  const jit_image* img = prog.jited ? prog.jited.get() : nullptr;
  if (__builtin_expect(!img, 0)) {
    (void)jit_compile(prog);  // sets prog.jited, to an empty image if it fails
    img = prog.jited.get();
  }
  if (__builtin_expect(!img->code(), 0)) return interp_.run(prog, args);  // could not compile
  return img->run(prog, args);
}

result<uint64_t> engine::run_mem(const bpf_prog& prog, void* mem, size_t len) const {
  return run(prog, run_args::mem(mem, len));
}

result<void> engine::prepare(const bpf_prog& prog) const {
  if (!jit_) return {};
  auto c = jit_compile(prog);
  if (!c) return c.err();
  return {};
}

}  // namespace mmbpf::bpf
