// The verifier (kernel/bpf/verifier.c): proves a loaded program safe before it runs, by
// path-sensitive abstract interpretation over the register and stack state of every path,
// with the kernel's rules for a privileged loader (CAP_BPF + CAP_PERFMON), and explains a
// rejection in the kernel's words and log format.
//
// What it proves: every instruction is reachable and jumps stay inside the program; every
// register read was written; every load and store is inside the object its pointer points to
// (stack frame, map value, context field, kernel object field, helper-returned memory), with
// pointer arithmetic tracked (tnum + bounds, verifier/scalar.h); map-value-or-null pointers are
// checked before use (the check propagates to copies); helper and kfunc arguments have the
// types their prototypes ask for; acquired references are released on every path; bpf-to-bpf
// calls respect the 8-frame and 512-byte stack limits; loops terminate within the 1M
// processed-instruction budget (states are pruned when a visited, fully explored state at the
// same instruction covers the current one). What a context offers is the program's context
// description (prog_context below): struct_ops members read their arguments from a u64 array
// typed by the member's BTF prototype.
//
// Pruning compares only what matters: scalars are precise only when their range decided
// something about safety (precision.cpp backtracks them, as __mark_chain_precision does), and
// registers dead at the instruction (a static liveness analysis) are ignored. Loads through
// kernel-object pointers are reported for the loader's PROBE_MEM rewrite (a fault reads 0).
//
// Simplified against the kernel: liveness is static per instruction, not per path, and covers
// registers, not stack slots; precision backtracking gives up at bpf-to-bpf call boundaries
// (everything on the path becomes precise); up to 1024 states are kept per prune point where
// the kernel keeps 64 and drops unhelpful ones; no speculative-execution sanitation
// (privileged); no packet, sockets, dynptrs or kptrs in maps; programs that are not
// struct_ops are not verified at load yet.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bpf/error.h"

namespace mmbpf::bpf {

struct bpf_prog;

namespace verifier {

// A writable window of a kernel object a program's pointer may store to (all other fields of
// kernel objects are read-only), by the object's BTF struct name and byte range.
struct writable_field {
  std::string type;  // "cache_ext_eviction_ctx"
  uint32_t off = 0, size = 0;
};

// What the program's context (r1 at entry) is.
struct prog_context {
  enum class kind {
    mem,        // a flat buffer of mem_size bytes, readable and writable (mmbpf exec: r1 = mem,
                // r2 = its length)
    struct_ops, // a u64 array of the member's arguments, read-only, typed by func_proto_id
    syscall,    // BPF_PROG_TYPE_SYSCALL: the caller's buffer, any aligned offset below 64K
                // readable and writable (syscall_prog_is_valid_access; its size is checked
                // when the program runs); only r1 is set at entry
  };
  kind k = kind::mem;
  uint32_t mem_size = 0;       // mem: bytes; r2 = mem_size at entry
  uint32_t func_proto_id = 0;  // struct_ops: BTF_KIND_FUNC_PROTO in the kernel's (vmlinux) BTF
  std::string name;            // "cache_ext_ops.evict_folios", for messages
  bool sleepable = false;
  std::vector<writable_field> writable;
  // struct_ops: the member returns void, so R0 need not be set at exit (check_return_code).
};

struct verify_opts {
  prog_context ctx;
  int log_level = 0;  // 0: the error line only; 1: the path that failed; 2: state per insn
  // Source lines from .BTF.ext, by instruction (empty where none starts): the log prints
  // "; <source> @ <file>:<line>" before an instruction whose line differs from the last one
  // printed, as the kernel's verbose_linfo() does.
  std::vector<std::string> line_info;
};

struct verify_stats {
  uint64_t insn_processed = 0;
  uint32_t max_states_per_insn = 0;
  uint32_t total_states = 0;
  uint32_t peak_states = 0;
};

// The verifier's log and outcome. `log` is what the kernel would print at opts.log_level,
// ending with the "processed N insns ..." line; on rejection `error` is its last message line
// ("R1 invalid mem access 'scalar'").
struct verify_result {
  bool ok = false;
  // Loads through kernel-object pointers, which the loader rewrites to BPF_PROBE_MEM (a fault
  // reads zero), as the kernel's convert_ctx_accesses() does.
  std::vector<uint32_t> probe_mem_insns;
  std::string error;
  std::string log;
  verify_stats stats;
};

// Verifies prog (its loaded instructions, resolved against prog.rt) for the given context.
verify_result verify(const bpf_prog& prog, const verify_opts& opts);

inline constexpr uint64_t BPF_COMPLEXITY_LIMIT_INSNS = 1000000;

}  // namespace verifier
}  // namespace mmbpf::bpf
