// `mmbpf trace`: workload traces on the command line (wiring only; the logic is in
// src/workload/export.h).
//   trace generate SPEC -o FILE [--format mmbpf|text|oracleGeneral]
//                                  a generator's stream (SPEC as in spec.h) written to FILE
//   trace convert IN -o OUT [--from mmbpf|text|oracleGeneral|csv] [--to mmbpf|text|oracleGeneral]
//                                  one format to another
//   trace info FILE [--from ...] [--json]
//                                  format, events per kind, distinct inodes and pages, files
// Without --from the input format is guessed (mmbpf magic, name, first line); without
// --format/--to the output format follows the name (*.txt text, *oracleGeneral* oracleGeneral,
// else mmbpf). Output is written to FILE.tmp and renamed, so a failed run leaves nothing.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "workload/export.h"
#include "workload/spec.h"

namespace mmbpf::cli {
namespace {

using namespace mmbpf::workload;

struct trace_opts {
  std::string spec, in, out, from, to;
  bool json = false;
};

int fail(const std::string& msg) {
  fmt::print(stderr, "mmbpf trace: {}\n", msg);
  return 1;
}

// --from/--to/--format given, or nullopt.
result<std::optional<trace_format>> format_opt(const std::string& name, const char* flag) {
  if (name.empty()) return std::optional<trace_format>{};
  auto f = trace_format_from_name(name);
  if (!f) return error{fmt::format("{}: {}", flag, f.err().msg)};
  return std::optional<trace_format>{*f};
}

result<trace_format> input_format(const std::string& path, const std::string& from) {
  auto f = format_opt(from, "--from");
  if (!f) return f.err();
  if (*f) return **f;
  auto g = guess_trace_format(path);
  if (!g && g.err().msg.find("cannot tell the trace format") != std::string::npos)
    return error{g.err().msg + " (give --from mmbpf|text|oracleGeneral|csv)"};
  return g;
}

result<trace_format> output_format(const std::string& path, const std::string& to,
                                   const char* flag) {
  auto f = format_opt(to, flag);
  if (!f) return f.err();
  trace_format t = *f ? **f : output_format_for(path);
  if (t == trace_format::csv)
    return error{fmt::format("{}: csv is an input format only; give {} mmbpf|text|oracleGeneral",
                             path, flag)};
  return t;
}

void print_written(const std::string& path, trace_format f, const write_stats& st) {
  if (f == trace_format::oracle_general)
    fmt::print("{}: {} requests from {} events (oracleGeneral)\n", path, st.records, st.events);
  else
    fmt::print("{}: {} events ({})\n", path, st.events, trace_format_name(f));
}

int run_generate(const trace_opts& o) {
  auto to = output_format(o.out, o.to, "--format");
  if (!to) return fail(to.err().msg);
  auto g = make_generator(o.spec);
  if (!g) return fail(fmt::format("spec '{}': {}", o.spec, g.err().msg));
  trace_meta meta = (*g)->meta();
  meta.entries.emplace_back("generator", o.spec);
  auto st = write_trace(o.out, *to, meta, **g, o.spec);
  if (!st) return fail(st.err().msg);
  print_written(o.out, *to, *st);
  return 0;
}

int run_convert(const trace_opts& o) {
  auto from = input_format(o.in, o.from);
  if (!from) return fail(from.err().msg);
  auto to = output_format(o.out, o.to, "--to");
  if (!to) return fail(to.err().msg);
  auto st = convert_trace(o.in, *from, o.out, *to);
  if (!st) return fail(st.err().msg);
  print_written(o.out, *to, *st);
  return 0;
}

int run_info(const trace_opts& o) {
  auto from = input_format(o.in, o.from);
  if (!from) return fail(from.err().msg);
  auto s = summarize_trace(o.in, *from);
  if (!s) return fail(s.err().msg);
  uint64_t file_bytes = 0;
  for (const auto& [ino, size] : s->meta.file_size) file_bytes += size;
  if (o.json) {
    nlohmann::ordered_json kinds = nlohmann::ordered_json::object(),
                           files = nlohmann::ordered_json::object(),
                           meta = nlohmann::ordered_json::object();
    for (uint8_t k = event_kind_first; k <= event_kind_last; ++k)
      if (s->per_kind[k])
        kinds[std::string(event_kind_name(static_cast<event_kind>(k)))] = s->per_kind[k];
    for (const auto& [ino, size] : s->meta.file_size) files[std::to_string(ino)] = size;
    for (const auto& [k, v] : s->meta.entries) meta[k] = v;
    nlohmann::ordered_json j = {{"file", o.in},
                                {"format", trace_format_name(s->format)},
                                {"events", s->events},
                                {"kinds", kinds},
                                {"inodes", s->inodes},
                                {"pages", s->pages},
                                {"page_accesses", s->page_accesses},
                                {"file_bytes", file_bytes},
                                {"files", files},
                                {"meta", meta}};
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("file     {}\nformat   {}\nevents   {}\n", o.in, trace_format_name(s->format),
             s->events);
  for (uint8_t k = event_kind_first; k <= event_kind_last; ++k)
    if (s->per_kind[k])
      fmt::print("  {:<18} {}\n", event_kind_name(static_cast<event_kind>(k)), s->per_kind[k]);
  fmt::print("inodes   {}\npages    {} distinct, {} accesses\n", s->inodes, s->pages,
             s->page_accesses);
  fmt::print("files    {} in metadata, {} bytes\n", s->meta.file_size.size(), file_bytes);
  constexpr size_t list_max = 20;  // beyond this, --json has them all
  if (s->meta.file_size.size() <= list_max)
    for (const auto& [ino, size] : s->meta.file_size)
      fmt::print("  ino {:<14} {} bytes\n", ino, size);
  for (const auto& [k, v] : s->meta.entries) fmt::print("meta     {}={}\n", k, v);
  return 0;
}

}  // namespace

void add_trace_command(CLI::App& app, int* rc) {
  auto o = std::make_shared<trace_opts>();
  CLI::App* trace = app.add_subcommand("trace", "Generate, convert and inspect workload traces");
  trace->require_subcommand(1);
  const std::string in_formats = "mmbpf|text|oracleGeneral|csv (default: guessed)";
  const std::string out_formats = "mmbpf|text|oracleGeneral (default: from the file name)";

  CLI::App* gen = trace->add_subcommand("generate", "Write a generator's events to a trace file");
  gen->add_option("SPEC", o->spec, "Generator spec, e.g. zipf:pages=1M,events=10M")->required();
  gen->add_option("-o,--output", o->out, "Output trace file")->required();
  gen->add_option("--format", o->to, "Output format: " + out_formats);
  gen->callback([o, rc] { *rc = run_generate(*o); });

  CLI::App* conv = trace->add_subcommand("convert", "Convert a trace to another format");
  conv->add_option("IN", o->in, "Input trace file")->required();
  conv->add_option("-o,--output", o->out, "Output trace file")->required();
  conv->add_option("--from", o->from, "Input format: " + in_formats);
  conv->add_option("--to", o->to, "Output format: " + out_formats);
  conv->callback([o, rc] { *rc = run_convert(*o); });

  CLI::App* info = trace->add_subcommand("info", "Summarise a trace: events, inodes, pages, files");
  info->add_option("FILE", o->in, "Trace file")->required();
  info->add_option("--from", o->from, "Input format: " + in_formats);
  info->add_flag("--json", o->json, "One JSON object");
  info->callback([o, rc] { *rc = run_info(*o); });
}

}  // namespace mmbpf::cli
