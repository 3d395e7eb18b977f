// The mmbpf subcommands: each registers its options on the CLI11 app and runs from there.
#pragma once

#include <CLI/CLI.hpp>

namespace mmbpf::cli {

// Each adds a subcommand whose callback sets the process exit code in *rc.
void add_exec_command(CLI::App& app, int* rc);
void add_asm_commands(CLI::App& app, int* rc);
void add_prog_command(CLI::App& app, int* rc);
void add_trace_command(CLI::App& app, int* rc);
void add_run_command(CLI::App& app, int* rc);
void add_verify_command(CLI::App& app, int* rc);
void add_capture_command(CLI::App& app, int* rc);
void add_validate_command(CLI::App& app, int* rc);

}  // namespace mmbpf::cli
