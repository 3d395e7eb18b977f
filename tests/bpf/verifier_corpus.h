// The verifier corpus (tests/bpf/verifier_corpus/*.s): small programs in the kernel's log
// syntax, each with its expected verdict, that run through mmbpf's verifier and, where the
// machine allows BPF loading, through the live kernel's as BPF_PROG_TYPE_SYSCALL programs.
//
// A file holds cases; each starts with a header of "#" lines, then the program:
//   # case: stack_write_below_frame           a name, unique in its file
//   # map: array key=4 value=8 max=1          map_fd[0] (the Nth "# map:" is map_fd[N]);
//                                             types: array hash lru_hash percpu_array
//                                             percpu_hash ringbuf; flags=rdonly_prog
//   # prog: socket_filter                     a non-sleepable program (default: a syscall
//                                             program, which the kernel loads only sleepable);
//                                             it must not touch its context (__sk_buff is
//                                             not modelled)
//   # expect: accept
//   # expect: reject invalid write to stack   a phrase both verifiers' logs must contain
//   # differs: <why>                          the kernel's verdict is the opposite one, for
//                                             the documented reason (never a safety reason
//                                             where mmbpf accepts)
// Kfuncs are called by name ("call bpf_task_release"); each side resolves the name in its own
// BTF.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace mmbpf::bpf::corpus {

struct map_spec {
  uint32_t type = 0;  // BPF_MAP_TYPE_*
  uint32_t key = 0, value = 0, max = 0, flags = 0;
};

struct corpus_case {
  std::string file, name;  // name is "<file stem>.<case>"
  int line = 0;            // of the "# case:" line
  std::string text;        // the program
  std::vector<map_spec> maps;
  bool sleepable = true;  // false: BPF_PROG_TYPE_SOCKET_FILTER
  bool expect_accept = false;
  std::string phrase;   // rejection: in both logs
  std::string differs;  // non-empty: the kernel's verdict is the opposite, for this reason
};

// GoogleTest prints a case by its name and place.
inline void PrintTo(const corpus_case& c, std::ostream* os) { *os << c.file << ":" << c.line << " " << c.name; }

// Every case of every *.s file in dir, in file and line order; a malformed header throws
// std::runtime_error naming the file and line.
std::vector<corpus_case> load_corpus(const std::string& dir);

struct verdict {
  bool ok = false;
  std::string error;  // the rejection's message line
  std::string log;
};

// mmbpf's verifier on the case (log level 1).
verdict mmbpf_verdict(const corpus_case& c);

// Why the live kernel's verifier cannot be asked here ("" if it can): not root, no bpf().
std::string kernel_unavailable();
// The live kernel's verifier on the case (loaded as BPF_PROG_TYPE_SYSCALL, log level 1).
verdict kernel_verdict(const corpus_case& c);

}  // namespace mmbpf::bpf::corpus
