// The choice of engine that runs BPF programs: the interpreter (the reference semantics, with
// its checked mode) or the x86-64 JIT (jit.h), which is the default where it exists. An engine
// is a small value: its kind, whether it is checked, and the instruction limit for checked runs.
//
// Checked runs always go to the interpreter (JIT-ed code is unchecked, like JIT-ed kernel code).
// A JIT run compiles the program on its first run and keeps the image in bpf_prog::jited; if the
// JIT cannot compile a program, that program runs in the unchecked interpreter instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bpf/error.h"
#include "bpf/interpreter.h"
#include "bpf/jit.h"
#include "bpf/prog.h"

namespace mmbpf::bpf {

enum class engine_kind : uint8_t { interp, jit };

// jit on x86-64 Linux, interp elsewhere; MMBPF_ENGINE=interp in the environment makes it interp.
engine_kind default_engine_kind();
// "interp" or "jit"; the error names the bad value and the accepted ones.
result<engine_kind> parse_engine(std::string_view name);
const char* engine_name(engine_kind k);

class engine {
 public:
  // insn_limit: see interpreter (checked runs only). kind jit on a host without the JIT runs
  // the interpreter.
  explicit engine(engine_kind k = default_engine_kind(), bool checked = false,
                  uint64_t insn_limit = 0);

  engine_kind kind() const { return kind_; }
  bool checked() const { return interp_.checked(); }
  // Whether runs go to JIT-ed code (kind jit, unchecked, on a host that has the JIT).
  bool jits() const { return jit_; }

  // Runs prog from instruction 0 with r1..r5 and the context of args; r0 or the fault, with the
  // interpreter's messages ("prog 'NAME': insn N: ...").
  result<uint64_t> run(const bpf_prog& prog, const run_args& args) const;
  // r1 = mem, r2 = len; [mem, mem+len) is the context region (interpreter::run_mem).
  result<uint64_t> run_mem(const bpf_prog& prog, void* mem, size_t len) const;

  // Compiles prog now (a JIT engine), so that its first run does not pay for it. Nothing to do
  // for the interpreter. An error if the JIT cannot compile prog (runs then use the interpreter).
  result<void> prepare(const bpf_prog& prog) const;

 private:
  result<uint64_t> run_jit(const bpf_prog& prog, const run_args& args) const;

  interpreter interp_;
  engine_kind kind_;
  bool jit_;
};

inline result<uint64_t> engine::run(const bpf_prog& prog, const run_args& args) const {
  if (jit_) {
    const jit_image* img = prog.jited.get();
    if (__builtin_expect(img && img->code(), 1)) return img->run(prog, args);
    return run_jit(prog, args);  // compiles, or interprets what the JIT cannot compile
  }
  return interp_.run(prog, args);
}

}  // namespace mmbpf::bpf
