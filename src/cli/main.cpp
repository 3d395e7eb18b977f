// mmbpf: BPF for Linux memory management, in userspace. Wiring only: each subcommand lives in
// its own file under src/cli/.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "mmbpf: eBPF memory-management policies, verified and run against a model of "
      "Linux MM"};
  app.require_subcommand(1);
  int rc = 0;
  mmbpf::cli::add_exec_command(app, &rc);
  mmbpf::cli::add_asm_commands(app, &rc);
  mmbpf::cli::add_prog_command(app, &rc);
  mmbpf::cli::add_trace_command(app, &rc);
  mmbpf::cli::add_run_command(app, &rc);
  mmbpf::cli::add_verify_command(app, &rc);
  mmbpf::cli::add_capture_command(app, &rc);
  mmbpf::cli::add_validate_command(app, &rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) {
      std::fprintf(stderr, "mmbpf: %s\n", e.what());
      std::fprintf(stderr, "Run 'mmbpf --help' for usage.\n");
      return 2;
    }
    return app.exit(e);
  }
  return rc;
}
