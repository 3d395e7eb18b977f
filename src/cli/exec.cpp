// `mmbpf exec`: runs a raw program, for testing this runtime against others (uBPF's test
// convention). The program comes on stdin as hex bytes, 8 per instruction, little-endian; an
// optional positional argument gives input memory in the same form; r1 points to a copy of that
// memory and r2 holds its length. Prints r0 in hex and exits 0, or one error line and exits 1.
//
// It runs in the JIT where there is one (--engine jit|interp); --checked runs the interpreter's
// checked mode. Unchecked runs of unverified programs can dereference anything; a fault there is
// caught with a signal handler and reported as an error rather than a crash. --checked gives the
// precise cause.
#include <fmt/format.h>
#include <setjmp.h>
#include <signal.h>

#include <cstring>
#include <iostream>
#include <iterator>
#include <string>

#include "bpf/engine.h"
#include "bpf/prog.h"
#include "bpf/runtime.h"
#include "cli/commands.h"
#include "cli/hex.h"

namespace mmbpf::cli {
namespace {

sigjmp_buf fault_jmp;
volatile sig_atomic_t fault_sig = 0;
void on_fault(int sig) {
  fault_sig = sig;
  siglongjmp(fault_jmp, 1);
}

struct exec_opts {
  std::string engine;  // empty: the default (jit where it exists)
  bool checked = false;
  std::string mem_hex;
};

int run_exec(const exec_opts& o) {
  auto fail = [](const std::string& msg) {
    fmt::print(stderr, "mmbpf exec: {}\n", msg);
    return 1;
  };
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto code = parse_hex_bytes(text);
  if (!code) return fail("program on stdin: " + code.err().msg);
  if (code->empty()) return fail("program on stdin: no instructions");
  if (code->size() % sizeof(bpf::insn))
    return fail(
        fmt::format("program on stdin: {} bytes is not a whole number of 8-byte "
                    "instructions",
                    code->size()));
  bpf::engine_kind kind = o.checked ? bpf::engine_kind::interp : bpf::default_engine_kind();
  if (!o.engine.empty()) {
    auto k = bpf::parse_engine(o.engine);
    if (!k) {
      fmt::print(stderr, "mmbpf exec: --engine: {}\n", k.err().msg);
      return 2;
    }
    if (*k == bpf::engine_kind::jit && o.checked) {
      fmt::print(stderr, "mmbpf exec: --checked runs in the interpreter; drop --engine jit\n");
      return 2;
    }
    kind = *k;
  }
  auto mem = parse_hex_bytes(o.mem_hex);
  if (!mem) return fail("memory argument: " + mem.err().msg);

  std::vector<bpf::insn> insns(code->size() / sizeof(bpf::insn));
  std::memcpy(insns.data(), code->data(), code->size());
  bpf::runtime rt;
  auto prog = bpf::bpf_prog::load(rt, std::move(insns), {.name = "exec"});
  if (!prog) return fail(prog.err().msg);

  const bpf::engine vm(kind, o.checked);
  struct sigaction sa {
  }, old_segv{}, old_bus{};
  sa.sa_handler = on_fault;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &old_segv);
  sigaction(SIGBUS, &sa, &old_bus);
  result<uint64_t> r = error{};
  if (sigsetjmp(fault_jmp, 1) == 0) {
    r = vm.run_mem(**prog, mem->empty() ? nullptr : mem->data(), mem->size());
  } else {
    r =
        error{fmt::format("prog 'exec': the program faulted ({}) touching memory it does not "
                          "own; rerun with --checked for the instruction and address",
                          strsignal(fault_sig))};
  }
  sigaction(SIGSEGV, &old_segv, nullptr);
  sigaction(SIGBUS, &old_bus, nullptr);
  if (!r) return fail(r.err().msg);
  fmt::print("{:#x}\n", *r);
  return 0;
}

}  // namespace

void add_exec_command(CLI::App& app, int* rc) {
  auto o = std::make_shared<exec_opts>();
  CLI::App* cmd =
      app.add_subcommand("exec", "Run a raw eBPF program read from stdin as hex bytes; print r0");
  cmd->add_option("memory", o->mem_hex,
                  "Input memory as hex bytes (\"01 02 ..\"); r1 points to it, r2 is its length");
  cmd->add_option("--engine", o->engine,
                  "jit (x86-64 machine code; the default where it exists) or interp (the "
                  "interpreter)")
      ->type_name("ENGINE");
  cmd->add_flag("--checked", o->checked,
                "Validate every load, store and helper pointer against known memory");
  cmd->callback([o, rc] { *rc = run_exec(*o); });
}

}  // namespace mmbpf::cli
