// `mmbpf capture`: records a workload on the live kernel into an mmbpf trace (wiring only; the
// logic is in src/workload/capture.*).
//   mmbpf capture [--memory-limit SIZE] [--drop-caches] --output TRACE -- COMMAND [ARGS]...
//   mmbpf capture --cgroup PATH [--duration SECONDS] --output TRACE [-- COMMAND [ARGS]...]
// Prints one summary line (events, records, ring buffer losses) on stderr; the command's exit
// status does not change mmbpf's (0 once the trace is written). Errors: one line, exit 1 (2
// for usage), nothing left at TRACE.
#include <fmt/format.h>

#include "cli/commands.h"
#include "mm/config.h"
#include "workload/capture.h"

namespace mmbpf::cli {
namespace {

struct capture_opts {
  std::string output, memory_limit, cgroup, bpf_object, records, ring_buffer;
  double duration = 0;
  bool drop_caches = false;
  std::vector<std::string> command;
};

int run_capture(const capture_opts& o) {
  auto usage = [](const std::string& msg) {
    fmt::print(stderr, "mmbpf capture: {}\n", msg);
    return 2;
  };
  workload::capture_options opt;
  opt.output = o.output;
  opt.command = o.command;
  opt.cgroup = o.cgroup;
  opt.bpf_object = o.bpf_object;
  opt.records_path = o.records;
  opt.duration_s = o.duration;
  opt.drop_caches = o.drop_caches;
  if (!o.memory_limit.empty()) {
    auto b = mm::parse_size(o.memory_limit);
    if (!b) return usage("--memory-limit: " + b.err().msg);
    if (*b < (1u << 20)) return usage(fmt::format("--memory-limit: '{}' is below 1M", o.memory_limit));
    opt.memory_limit = *b;
  }
  if (!o.ring_buffer.empty()) {
    auto b = mm::parse_size(o.ring_buffer);
    if (!b || *b < 4096 || (*b & (*b - 1)) || *b > (1ull << 30))
      return usage(fmt::format("--ring-buffer: '{}' is not a power of two from 4K to 1G",
                               o.ring_buffer));
    opt.ring_buffer_bytes = *b;
  }
  if (o.command.empty() && o.cgroup.empty())
    return usage("give the command to capture after --, e.g. mmbpf capture --output t.trace -- "
                 "grep -r foo /usr/share (or --cgroup PATH to watch a cgroup)");
  if (o.duration < 0) return usage("--duration: must be >= 0");
  opt.log = [](const std::string& s) { fmt::print(stderr, "{}\n", s); };
  auto r = workload::capture(opt);
  if (!r) {
    fmt::print(stderr, "mmbpf capture: {}\n", r.err().msg);
    return 1;
  }
  if (r->lost)
    fmt::print(stderr,
               "mmbpf capture: warning: the ring buffer dropped {} of {} records (counted in "
               "the trace as capture.lost)\n",
               r->lost, r->lost + r->records);
  if (r->exit_status)
    fmt::print(stderr, "mmbpf capture: note: the command exited with status {}\n", r->exit_status);
  return 0;
}

}  // namespace

void add_capture_command(CLI::App& app, int* rc) {
  auto o = std::make_shared<capture_opts>();
  CLI::App* cmd = app.add_subcommand(
      "capture",
      "Run a command in a memory cgroup of the live kernel and record its page-cache events "
      "(BPF tracepoints) into an mmbpf trace, with the kernel's memory.stat and IO counters");
  cmd->add_option("-o,--output", o->output, "Trace file to write")->required()->type_name("TRACE");
  cmd->add_option("--memory-limit", o->memory_limit,
                  "memory.limit_in_bytes of the fresh cgroup (K/M/G, powers of 1024; default: "
                  "no limit)")
      ->type_name("SIZE");
  cmd->add_option("--cgroup", o->cgroup,
                  "Use this existing cgroup v1 memory cgroup (a directory, or a path below the "
                  "memory mount) instead of a fresh one; without a command, watch it")
      ->type_name("PATH");
  cmd->add_option("--duration", o->duration,
                  "With --cgroup and no command: stop after this many seconds (default: Ctrl-C)")
      ->type_name("SECONDS");
  cmd->add_flag("--drop-caches", o->drop_caches,
                "sync and echo 3 > /proc/sys/vm/drop_caches before starting (a cold start)");
  cmd->add_option("--bpf-object", o->bpf_object,
                  "The capture BPF object (default: the one built with mmbpf)")
      ->type_name("FILE");
  cmd->add_option("--ring-buffer", o->ring_buffer,
                  "Ring buffer size (a power of two, 4K..1G; default 16M). Records that do not "
                  "fit are dropped and counted")
      ->type_name("SIZE");
  cmd->add_option("--records", o->records,
                  "Also write every ring buffer record as a text line (kind pid dev ino off len "
                  "aux; kinds as bpf/capture/capture.bpf.h), for diagnosis")
      ->type_name("FILE");
  cmd->add_option("COMMAND", o->command, "The command and its arguments, after --")
      ->type_name("COMMAND [ARGS]...");
  cmd->callback([o, rc] { *rc = run_capture(*o); });
}

}  // namespace mmbpf::cli
