// `mmbpf validate TRACE [--json] [--limit SIZE] [--read-ahead-kb N]`: replays a capture in the
// model with the capture's limit and the default policy and prints the kernel's figures beside
// the model's with the relative error of each (wiring only; src/workload/validate.*).
// --json prints one object: {"trace", "events", "lost", "memory_limit", "model_limit",
// "read_ahead_kb", "metrics": [{"name", "unit", "kernel", "model", "relative_error"}], "notes"};
// a figure the trace lacks, or an error that is undefined (kernel 0), is null.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "mm/config.h"
#include "workload/validate.h"

namespace mmbpf::cli {
namespace {

struct validate_opts {
  std::string trace, limit;
  uint64_t read_ahead_kb = 0;
  bool json = false;
};

std::string figure(const std::optional<double>& v) {
  return v ? fmt::format("{:.0f}", *v) : "-";
}

int run_validate(const validate_opts& o) {
  workload::validate_options opt;
  if (!o.limit.empty()) {
    auto b = mm::parse_size(o.limit);
    if (!b || *b < 4096) {
      fmt::print(stderr, "mmbpf validate: --limit: '{}' is not a size of at least 4K\n", o.limit);
      return 2;
    }
    opt.limit = *b;
  }
  opt.read_ahead_kb = o.read_ahead_kb;
  auto v = workload::validate_trace(o.trace, opt);
  if (!v) {
    fmt::print(stderr, "mmbpf validate: {}\n", v.err().msg);
    return 1;
  }
  if (o.json) {
    using json = nlohmann::ordered_json;
    auto opt_num = [](const std::optional<double>& x) { return x ? json(*x) : json(nullptr); };
    json metrics = json::array();
    for (const auto& m : v->metrics)
      metrics.push_back({{"name", m.name},
                         {"unit", m.unit},
                         {"kernel", opt_num(m.kernel)},
                         {"model", m.model},
                         {"relative_error", opt_num(m.relative_error)}});
    json j = {{"trace", o.trace},
              {"events", v->events},
              {"lost", v->lost},
              {"memory_limit", v->limit_bytes},
              {"model_limit", v->model_limit_bytes},
              {"noncache_bytes", v->noncache_bytes},
              {"read_ahead_kb", v->read_ahead_kb},
              {"metrics", metrics},
              {"model_detail", [&] {
                 json d = json::object();
                 for (const auto& [k, x] : v->model_detail) d[k] = x;
                 return d;
               }()},
              {"notes", v->notes}};
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("{}: {} events replayed, {} records lost in capture\n", o.trace, v->events, v->lost);
  fmt::print("limit {} bytes (model memory.max {} = limit - {} non-cache), read_ahead_kb {}\n\n",
             v->limit_bytes, v->model_limit_bytes, v->noncache_bytes, v->read_ahead_kb);
  fmt::print("{:<26} {:>16} {:>16} {:>10}  {}\n", "metric", "kernel", "model", "rel.err", "unit");
  for (const auto& m : v->metrics)
    fmt::print("{:<26} {:>16} {:>16} {:>10}  {}\n", m.name,
               m.unit == "ratio" ? (m.kernel ? fmt::format("{:.3f}", *m.kernel) : "-") : figure(m.kernel),
               m.unit == "ratio" ? fmt::format("{:.3f}", m.model) : fmt::format("{:.0f}", m.model),
               m.relative_error ? fmt::format("{:+.1f}%", *m.relative_error * 100) : "-", m.unit);
  fmt::print("\nmodel:");
  for (const auto& [k, x] : v->model_detail) fmt::print(" {}={:.0f}", k, x);
  fmt::print("\n");
  for (const auto& n : v->notes) fmt::print("\nnote: {}", n);
  if (!v->notes.empty()) fmt::print("\n");
  return 0;
}

}  // namespace

void add_validate_command(CLI::App& app, int* rc) {
  auto o = std::make_shared<validate_opts>();
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Replay a trace from `mmbpf capture` in the model (same limit, default policy) and "
      "compare the kernel's measured figures with the model's");
  cmd->add_option("TRACE", o->trace, "Trace written by mmbpf capture")->required()->type_name("TRACE");
  cmd->add_flag("--json", o->json, "Print one JSON object (stable field names)");
  cmd->add_option("--limit", o->limit,
                  "The model's memory.max (default: the capture's limit minus what the cgroup "
                  "charged besides page cache)")
      ->type_name("SIZE");
  cmd->add_option("--read-ahead-kb", o->read_ahead_kb,
                  "The model's read_ahead_kb (default: the captured device's)")
      ->type_name("N");
  cmd->callback([o, rc] { *rc = run_validate(*o); });
}

}  // namespace mmbpf::cli
