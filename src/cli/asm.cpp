// `mmbpf asm` and `mmbpf disasm`: the assembler and disassembler on the command line, so that
// programs can be written by hand in the kernel verifier log's syntax and fed to `mmbpf exec`:
//
//   mmbpf asm < prog.s | mmbpf exec
//   mmbpf disasm < prog.hex
#include <fmt/format.h>

#include <cstring>
#include <iostream>
#include <iterator>
#include <string>

#include "bpf/assembler.h"
#include "bpf/disasm.h"
#include "cli/commands.h"
#include "cli/hex.h"

namespace mmbpf::cli {
namespace {

std::string read_stdin() {
  return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
}

int run_asm() {
  auto p = bpf::assemble(read_stdin());
  if (!p) {
    fmt::print(stderr, "mmbpf asm: stdin: {}\n", p.err().msg);
    return 1;
  }
  std::string out;
  for (const bpf::insn& i : *p) {
    uint8_t b[sizeof i];
    std::memcpy(b, &i, sizeof i);
    out += fmt::format("{:02x}\n", fmt::join(b, b + sizeof b, " "));
  }
  fmt::print("{}", out);
  return 0;
}

int run_disasm() {
  auto bytes = parse_hex_bytes(read_stdin());
  if (!bytes) {
    fmt::print(stderr, "mmbpf disasm: stdin: {}\n", bytes.err().msg);
    return 1;
  }
  if (bytes->size() % sizeof(bpf::insn)) {
    fmt::print(stderr,
               "mmbpf disasm: stdin: {} bytes is not a whole number of 8-byte "
               "instructions\n",
               bytes->size());
    return 1;
  }
  std::vector<bpf::insn> insns(bytes->size() / sizeof(bpf::insn));
  std::memcpy(insns.data(), bytes->data(), bytes->size());
  fmt::print("{}", bpf::disasm(insns));
  return 0;
}

}  // namespace

void add_asm_commands(CLI::App& app, int* rc) {
  app.add_subcommand("asm", "Assemble eBPF in the kernel verifier log's syntax (stdin) into hex")
      ->callback([rc] { *rc = run_asm(); });
  app.add_subcommand("disasm", "Disassemble a raw eBPF program given as hex bytes (stdin)")
      ->callback([rc] { *rc = run_disasm(); });
}

}  // namespace mmbpf::cli
