// The x86-64 JIT (the kernel's arch/x86/net/bpf_jit_comp.c in spirit, written here from the ISA):
// a program's translated instructions become one image of native code in executable memory
// mapped W^X (written while read-write, then made read+execute; unmapped with the image).
//
// Model: BPF registers live in x86 registers with the kernel's mapping (r0 rax, r1 rdi, r2 rsi,
// r3 rdx, r4 rcx, r5 r8, r6 rbx, r7 r13, r8 r14, r9 r15, r10 rbp), so helpers and kfuncs
// (runtime.h's five-u64 bpf_func) are called directly through the SysV ABI; bpf-to-bpf calls are
// native calls; ld_imm64 pseudo values are the constants prog.cpp resolved; array-map lookups
// through a constant map pointer are inlined (bounds check, base + index * slot) and other
// bpf_map_lookup_elem calls go straight to the map (what the helper does in an unchecked run);
// a callback (bpf_loop, for_each_map_elem, kfunc callbacks) re-enters the image through
// run_ctx::call_fn. The image agrees with the interpreter's unchecked mode: same r0, same memory
// effects, same fault messages ("insn N: ..."), same stack layout (each run's 8 frames of 512
// bytes, frame 0 at the top, r10 of a frame at depth d = top - d * 512), same call-depth check.
//
// The cost of a run (a struct_ops hook call): a program whose calls never reach host code that
// could look at the run (helpers, kfuncs) needs no run_ctx: its entry builds the frame state and
// the stack in its own native frame, so such a run is one call from engine::run; the others run
// with a run_ctx and a stack kept per thread and nesting level, set up when a level first runs
// the program, so that a hook called repeatedly pays only for what a run changes.
//
// Simplified: no constant blinding, no tail calls, no exception tables (PROBE_MEM loads compare
// the address against the interpreter's null-page floor instead); r1-r5 after a helper call
// hold what the native callee left (the interpreter keeps them; verified programs cannot read
// them); the image is compiled from prog.xlated as it is at the first run, so rewrites of xlated
// after that (the loader's PROBE_MEM marking happens before any run) are not seen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "bpf/error.h"
#include "bpf/interpreter.h"
#include "bpf/prog.h"

namespace mmbpf::bpf {

struct jit_run;

// One compiled program. Owns its executable mapping.
class jit_image {
 public:
  // The native entry of a subprogram: r1..r5 in the SysV argument registers, the run's state in
  // the sixth.
  using entry_fn = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, jit_run*);

  // Compiles prog.xlated. Errors: not an x86-64 host, mmap/mprotect failure, a program the
  // compiler cannot lay out.
  static result<std::shared_ptr<jit_image>> compile(const bpf_prog& prog);

  ~jit_image();
  jit_image(const jit_image&) = delete;
  jit_image& operator=(const jit_image&) = delete;

  // Runs prog (which must be the program this image was compiled from) as the unchecked
  // interpreter would: same run_ctx, stats, result and fault messages.
  result<uint64_t> run(const bpf_prog& prog, const run_args& args) const {
    if (__builtin_expect(!needs_run_ctx_ && !*stats_enabled_, 1))
      return entry0_(args.r[0], args.r[1], args.r[2], args.r[3], args.r[4], nullptr);
    return needs_run_ctx_ ? run_with_ctx(prog, args) : run_bare(prog, args);
  }

  const uint8_t* code() const { return code_; }
  size_t code_size() const { return size_; }    // bytes of machine code
  size_t mapped_size() const { return mapped_; }  // bytes mapped (whole pages)
  // How many bpf_map_lookup_elem calls were inlined (array maps through a constant pointer).
  int inlined_lookups() const { return inlined_lookups_; }

  // The entry of the subprogram that starts at xlated index `insn_idx`, or nullptr.
  entry_fn entry_of(uint32_t insn_idx) const;

 private:
  jit_image() = default;
  // A run of a program that reaches no host code that could look at run_ctx, with stats: the
  // code builds its own frame state and stack (no run_ctx), so a run without stats is a call.
  result<uint64_t> run_bare(const bpf_prog& prog, const run_args& args) const;
  result<uint64_t> run_with_ctx(const bpf_prog& prog, const run_args& args) const;
  result<uint64_t> run_on(const bpf_prog& prog, const run_args& args, jit_run& st,
                          uint8_t* stack) const;
  friend struct jit_compiler;
  friend result<const jit_image*> jit_compile(const bpf_prog& prog);

  uint8_t* code_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;
  int inlined_lookups_ = 0;
  bool needs_run_ctx_ = true;  // false: no call reaches host code that may use run_ctx
  std::vector<entry_fn> entries_;  // per subprogram, in subprog_starts order
  entry_fn entry0_ = nullptr;      // entries_[0], without the vector's load on a hook call
  const bool* stats_enabled_ = nullptr;  // the program's runtime's
  const bpf_prog* prog_ = nullptr;
};

// Whether this build can JIT (x86-64 Linux).
bool jit_available();

// Zeroes this thread's JIT stacks. JIT runs keep their 8 x 512-byte stacks per thread (one per
// nesting level) and, like the unchecked interpreter, never clear them: a program that reads a
// stack slot it did not write sees what an earlier run left. Differential tests call this so
// that such reads see zeros, as they make the interpreter's stack zeros.
void jit_clear_stacks();
// Whether addr lies in one of this thread's JIT stacks (differential tests use it to recognize
// stack pointers a program leaked).
bool jit_stack_contains(uint64_t addr);

// The program's image, compiled on first use and kept in prog.jited. nullptr (with the error)
// if the JIT cannot compile it; the failure is remembered so that it is not retried every run.
// Not thread-safe for the first call on a program (the model is single-threaded).
result<const jit_image*> jit_compile(const bpf_prog& prog);

}  // namespace mmbpf::bpf
