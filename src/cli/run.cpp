// `mmbpf run`: a workload (trace file or generator spec) replayed against the MM model once
// per page-cache policy, each on a fresh model, with the kernel's counters side by side.
//
//   mmbpf run --trace FILE [--trace-format F] --memory SIZE [--policy NAME]... [--json]
//   mmbpf run --workload SPEC [--config FILE] [--swap SIZE] [--swappiness N] [--exact] ...
//   mmbpf run                  the built-in showcase: built-in workloads under default, the
//                              native lru, the BPF lfu, s3fifo and mglru, and belady
//
// Policies: "default" is the kernel's LRU (no hook attached); "belady" is the offline optimum
// (mm/belady.h), fed by a first pass over the workload; any other name is a native policy
// (mm/native_policy.h). Both are attached at the root in effective mode (ext/attach.h), so
// they govern every memcg, including the ones cgroup_create events make. With --json, stdout
// is exactly one JSON object (run_json); counters keep their kernel names (/proc/vmstat,
// memory.stat), memory.stat sizes are in bytes.
// Wiring only: parsing is in mm/config.*, replay in workload/replay.*.
//
// Simplified: policies run one after another on one thread (each simulation is
// single-threaded and deterministic; parallel runs are for later).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bpf/object.h"
#include "cli/commands.h"
#include "cli/run_report.h"
#include "cli/scenarios.h"
#include "ext/attach.h"
#include "ext/policy_host.h"
#include "mm/config.h"
#include "mm/model.h"
#include "mm/native_policy.h"
#include "workload/replay.h"
#include "workload/spec.h"

namespace mmbpf::cli {
namespace {

struct run_opts {
  std::string trace, trace_format, workload, config, memory, swap, swappiness, seed, engine;
  std::vector<std::string> policies;
  std::vector<std::string> attach;  // CGROUP=POLICY
  std::vector<std::string> bpf_maps;  // MAP=KEY[:VALUE]
  bool no_belady = false;
  bool exact = false;
  bool json = false;
};

// A usage error (exit 2) or an input error (exit 1), already worded.
struct failure {
  int rc;
  std::string msg;
};

int report_failure(const failure& f) {
  fmt::print(stderr, "mmbpf: run: {}\n", f.msg);
  return f.rc;
}


// A progress line on stderr when it is a terminal and the run is long.
class progress_line {
 public:
  explicit progress_line(bool enabled) : enabled_(enabled) {}
  ~progress_line() { clear(); }
  void start(std::string label, uint64_t expected) {
    label_ = std::move(label);
    expected_ = expected;
    t0_ = last_ = std::chrono::steady_clock::now();
  }
  void update(uint64_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    const double since_start = std::chrono::duration<double>(now - t0_).count();
    if (since_start < 1.0 || std::chrono::duration<double>(now - last_).count() < 0.2) return;
    last_ = now;
    std::string pct = expected_ ? fmt::format(" ({:.0f}%)", 100.0 * static_cast<double>(done) /
                                                                static_cast<double>(expected_))
                                : "";
    fmt::print(stderr, "\r\033[Kmmbpf run: {}: {} events{}, {}", label_, done, pct,
               human_rate(static_cast<double>(done) / since_start));
    std::fflush(stderr);
    shown_ = true;
  }
  void clear() {
    if (!shown_) return;
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::string label_;
  uint64_t expected_ = 0;
  std::chrono::steady_clock::time_point t0_, last_;
};

// Where the in-tree BPF policies are: $MMBPF_POLICY_DIR, else the build's.
std::string policy_dir() {
  if (const char* d = std::getenv("MMBPF_POLICY_DIR"); d && *d) return d;
  return MMBPF_POLICY_DIR;
}

// What one column of the comparison attaches: one policy for the whole tree (at the root, in
// effective mode), or one per named cgroup (own-cgroup mode, cache_ext's rule).
// An OOM handler for --attach: "oom:NAME" (an in-tree policy in bpf/policies/oom/) or the
// path of an object whose struct_ops is bpf_oom_ops or bpf_psi_ops (a PSI policy, at /).
bool is_oom_policy(std::string_view name) {
  if (name.starts_with("oom:")) return true;
  if (!name.ends_with(".o")) return false;
  auto o = bpf::bpf_object::open_file(std::string(name));
  if (!o) return false;
  return std::any_of((*o)->struct_ops().begin(), (*o)->struct_ops().end(),
                     [](const bpf::obj_struct_ops& s) {
                       return s.type_name == "bpf_oom_ops" || s.type_name == "bpf_psi_ops";
                     });
}
std::string_view oom_policy_name(std::string_view name) {
  return name.starts_with("oom:") ? name.substr(4) : name;
}

struct policy_config {
  std::string label;
  std::string global = "default";
  std::vector<std::pair<std::string, std::string>> per_cgroup;  // cgroup path, policy
};

result<policy_result> run_one(const run_spec& spec, const policy_config& pc,
                              const std::vector<ext::map_update>& updates,
                              std::vector<bool>& updates_used, progress_line& progress) {
  auto w = spec.open();
  if (!w) return w.err();
  auto m = mm::model::create(spec.cfg);
  if (!m) return m.err();
  mm::model& model = **m;
  workload::apply_trace_files(w->meta, model);
  ext::policy_host host(model, policy_dir());
  host.set_engine(spec.engine);
  host.set_map_updates(updates);
  // the offline optimum reads the workload's future first
  const ext::policy_host::future_fn future = [&]() -> result<std::vector<mm::page_ref>> {
    auto ahead = spec.open();
    if (!ahead) return ahead.err();
    return workload::page_lookups(*ahead->events, ahead->meta);
  };
  // an OOM policy for the whole tree is the root's handler (system-wide and every memcg OOM
  // that no handler below took); the page cache keeps the kernel's LRU
  if (is_oom_policy(pc.global)) {
    if (auto r = host.attach_oom(oom_policy_name(pc.global), model.root()); !r)
      return error{fmt::format("{}: {}", pc.label, r.err().msg)};
  } else if (auto r = host.attach(pc.global, model.root(), ext::attach_mode::effective, future); !r) {
    return error{fmt::format("{}: {}", pc.label, r.err().msg)};
  }
  // per-cgroup policies: now for cgroups of the config, at creation for the others
  std::vector<bool> done(pc.per_cgroup.size());
  std::optional<error> late;
  auto attach_named = [&](mm::memcg& mc) {
    for (size_t k = 0; k < pc.per_cgroup.size(); ++k) {
      if (done[k] || pc.per_cgroup[k].first != mc.path) continue;
      done[k] = true;
      const std::string& name = pc.per_cgroup[k].second;
      auto r = is_oom_policy(name) ? host.attach_oom(oom_policy_name(name), mc)
                                   : host.attach(name, mc, ext::attach_mode::own_cgroup, future);
      if (!r && !late)
        late = error{fmt::format("--attach {}={}: {}", mc.path, pc.per_cgroup[k].second, r.err().msg)};
    }
  };
  for (const auto& mc : model.memcgs()) attach_named(*mc);
  if (late) return *late;
  workload::replay_options opt;
  opt.name = spec.workload;
  opt.progress_every = 1 << 16;
  opt.progress = [&](uint64_t n) { progress.update(n); };
  opt.on_cgroup_create = [&](mm::memcg& mc) {
    host.on_cgroup_create(mc);
    attach_named(mc);
  };
  progress.start(spec.title.empty() ? pc.label : spec.title + ", " + pc.label, w->expected_events);
  auto st = workload::replay(*w->events, model, opt);
  progress.clear();
  if (!st) return st.err();
  if (late) return *late;
  for (size_t k = 0; k < done.size(); ++k)
    if (!done[k])
      return error{fmt::format("--attach {}={}: no such cgroup in the config or the workload",
                               pc.per_cgroup[k].first, pc.per_cgroup[k].second)};
  for (size_t k = 0; k < host.map_updates_used().size(); ++k)
    if (host.map_updates_used()[k]) updates_used[k] = true;
  policy_result r{pc.label, model.report(), *st, host.bpf_stats(), std::nullopt};
  if (r.bpf.prog_errors)
    fmt::print(stderr, "mmbpf: run: {}: {} BPF program runs faulted (counted as no decision); last: {}\n",
               pc.label, r.bpf.prog_errors, r.bpf.last_error);
  return r;
}

// ---- options -----------------------------------------------------------------------------------

result<uint64_t> size_option(const char* flag, const std::string& v, uint64_t min_bytes) {
  auto b = mm::parse_size(v);
  if (!b) return error{fmt::format("{}: {}", flag, b.err().msg)};
  if (*b < min_bytes)
    return error{fmt::format("{}: '{}' is less than one page (4096 bytes)", flag, v)};
  return *b;
}

// Adds seed=N to every tenant of a generator spec that does not set its own.
std::string with_seed(std::string_view spec, uint64_t seed) {
  std::string out;
  while (true) {
    const size_t semi = spec.find(';');
    std::string_view t = spec.substr(0, semi);
    const size_t colon = t.find(':');
    bool has_seed = false;
    if (colon != std::string_view::npos) {
      std::string_view body = t.substr(colon + 1);
      while (!body.empty()) {
        const size_t c = body.find(',');
        has_seed |= body.substr(0, c).starts_with("seed=");
        body = c == std::string_view::npos ? std::string_view{} : body.substr(c + 1);
      }
    }
    out += t;
    if (!has_seed) {
      const bool empty_body = colon == std::string_view::npos || colon + 1 == t.size();
      out += fmt::format("{}seed={}",
                         colon == std::string_view::npos ? ":"
                         : empty_body                    ? ""
                                                         : ",",
                         seed);
    }
    if (semi == std::string_view::npos) break;
    out += ';';
    spec = spec.substr(semi + 1);
  }
  return out;
}

std::optional<failure> check_policies(const std::vector<std::string>& policies,
                                      const char* flag) {
  for (const auto& p : policies)
    if (auto r = ext::check_policy_name(p, policy_dir()); !r)
      return failure{2, fmt::format("{}: {}", flag, r.err().msg)};
  return std::nullopt;
}

// What the comparison runs: each --policy for the whole tree, then the --attach set, then
// Belady's MIN when two or more configurations are compared (the limit every policy is
// measured against), unless it is there already, --no-belady, or the comparison is of OOM
// policies (where a page-cache optimum says nothing).
result<std::vector<policy_config>> policy_configs(const run_opts& o,
                                                  std::vector<std::string> policies) {
  std::vector<policy_config> out;
  for (const auto& p : policies) out.push_back({p, p, {}});
  if (!o.attach.empty()) {
    policy_config pc;
    for (const auto& a : o.attach) {
      const size_t eq = a.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == a.size() || a[0] != '/')
        return error{fmt::format("--attach: '{}' is not CGROUP=POLICY (e.g. /web=lfu)", a)};
      pc.per_cgroup.emplace_back(a.substr(0, eq), a.substr(eq + 1));
      pc.label += (pc.label.empty() ? "" : ",") + a;
    }
    out.push_back(std::move(pc));
  }
  const bool has_min = std::any_of(out.begin(), out.end(), [](const auto& c) { return c.global == "belady"; });
  const bool of_oom = std::any_of(out.begin(), out.end(), [](const policy_config& c) {
    return is_oom_policy(c.global) ||
           std::any_of(c.per_cgroup.begin(), c.per_cgroup.end(),
                       [](const auto& a) { return is_oom_policy(a.second); });
  });
  if (out.size() >= 2 && !has_min && !o.no_belady && !of_oom) out.push_back({"belady", "belady", {}});
  return out;
}

// --memory SIZE[,SIZE...] in bytes.
result<std::vector<uint64_t>> memory_sizes(const run_opts& o) {
  std::vector<uint64_t> out;
  std::string_view rest = o.memory;
  while (true) {
    const size_t comma = rest.find(',');
    auto b = size_option("--memory", std::string(rest.substr(0, comma)), 4096);
    if (!b) return b.err();
    out.push_back(*b);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

// Overrides from the command line onto a config. Usage errors only.
std::optional<failure> apply_overrides(const run_opts& o, mm::config& c) {
  if (!o.memory.empty()) {  // a list is a sweep: each size in turn, the first here
    auto sizes = memory_sizes(o);
    if (!sizes) return failure{2, sizes.err().msg};
    c.memory_pages = sizes->front() / 4096;
  }
  if (!o.swap.empty()) {
    auto b = size_option("--swap", o.swap, 0);
    if (!b) return failure{2, b.err().msg};
    c.swap_pages = *b / 4096;
  }
  if (!o.swappiness.empty()) {
    int v = -1;
    auto [p, ec] =
        std::from_chars(o.swappiness.data(), o.swappiness.data() + o.swappiness.size(), v);
    if (ec != std::errc() || p != o.swappiness.data() + o.swappiness.size() || v < 0 || v > 200)
      return failure{2, fmt::format("--swappiness: '{}' must be in 0..200", o.swappiness)};
    c.swappiness = v;
  }
  if (o.exact) c.exact_cache = true;
  return std::nullopt;
}

// ---- the showcase ------------------------------------------------------------------------------

// Built-in workloads at 32 MiB of memory, so the page cache holds a fraction of what they
// touch and the policy matters; small enough to finish in a few seconds.
std::vector<run_spec> showcase(const run_opts& o, uint64_t seed) {
  constexpr uint64_t MiB_pages = 256;
  auto base = [&] {
    mm::config c;
    c.memory_pages = 32 * MiB_pages;
    return c;
  };
  std::vector<run_spec> out;
  auto add = [&](std::string title, std::string spec, mm::config c) {
    run_spec s;
    s.title = std::move(title);
    s.workload = with_seed(spec, seed);
    s.cfg = std::move(c);
    const std::string w = s.workload;
    s.open = [w] { return workload::open_generator_workload(w); };
    out.push_back(std::move(s));
  };
  add("zipf: reads, zipfian 0.99 over a 100 MiB file", "zipf:pages=25600,events=1M", base());
  {
    // A scan in /scan pollutes the cache that /hot's zipfian hot set (23 MiB) lives in;
    // memory.low protects 16 MiB of /hot.
    mm::config c = base();
    c.cgroups.push_back({.id = 1, .path = "/hot", .low = 16 * MiB_pages});
    c.cgroups.push_back({.id = 2, .path = "/scan"});
    add("scan vs hot set: two tenants, memory.low=16M on /hot",
        "zipf:pages=6000,events=500K,cg=1,pid=1,ino=1;scan:pages=25600,passes=4,cg=2,pid=2,ino=2",
        c);
  }
  add("ycsb-b: 95% reads, 5% updates of 100K 1 KiB records",
      "ycsb:workload=b,records=100K,ops=1M,record_size=1K", base());
  add("oom: two 23 MiB anonymous hogs beside a zipfian reader, no swap",
      "hog:procs=2,pages=6000,pid=100;zipf:pages=4096,events=300K,pid=1,ino=1", base());
  for (auto& s : out) (void)apply_overrides(o, s.cfg);  // the caller checked them already
  return out;
}

// ---- the command -------------------------------------------------------------------------------

result<std::vector<policy_result>> run_policies(const run_spec& spec,
                                                const std::vector<policy_config>& configs,
                                                const std::vector<ext::map_update>& updates,
                                                progress_line& progress) {
  std::vector<policy_result> results;
  std::vector<bool> used(updates.size());
  for (const auto& pc : configs) {
    auto r = run_one(spec, pc, updates, used, progress);
    if (!r) return r.err();
    results.push_back(std::move(*r));
  }
  for (size_t k = 0; k < updates.size(); ++k)
    if (!used[k])
      return error{fmt::format("--bpf-map {}: no BPF policy of the run has a map '{}'",
                               updates[k].map, updates[k].map)};
  // every configuration's distance to the optimum on the same run
  for (const auto& r : results)
    if (r.policy == "belady")
      for (auto& other : results) other.min_misses = r.rep.counters.misses;
  return results;
}

int run_run(const run_opts& o) {
  auto fail = [](int rc, std::string msg) { return report_failure({rc, std::move(msg)}); };
  // Usage first: nothing runs on a command line with a mistake in it.
  if (!o.trace.empty() && !o.workload.empty())
    return fail(2, "give --trace or --workload, not both");
  if (!o.trace_format.empty() && o.trace.empty()) return fail(2, "--trace-format needs --trace");
  const bool show = o.trace.empty() && o.workload.empty();
  if (show && !o.config.empty())
    return fail(2, "--config needs --trace or --workload (the showcase brings its own)");
  std::vector<std::string> policies = o.policies;
  if (policies.empty())
    policies = show ? std::vector<std::string>{"default", "lru",   "lfu",
                                               "s3fifo",  "mglru", "belady"}
                    : std::vector<std::string>{"default"};
  if (auto f = check_policies(policies, "--policy")) return report_failure(*f);
  for (const auto& a : o.attach)
    if (const size_t eq = a.find('='); eq != std::string::npos && !is_oom_policy(a.substr(eq + 1)))
      if (auto f = check_policies({a.substr(eq + 1)}, "--attach")) return report_failure(*f);
  auto configs = policy_configs(o, policies);
  if (!configs) return fail(2, configs.err().msg);
  std::vector<ext::map_update> updates;
  for (const auto& m : o.bpf_maps) {
    auto u = ext::parse_map_update(m);
    if (!u) return fail(2, "--bpf-map: " + u.err().msg);
    updates.push_back(std::move(*u));
  }
  if (show && !o.attach.empty()) return fail(2, "--attach needs --trace or --workload");
  uint64_t seed = 1;
  if (!o.seed.empty()) {
    auto [p, ec] = std::from_chars(o.seed.data(), o.seed.data() + o.seed.size(), seed);
    if (ec != std::errc() || p != o.seed.data() + o.seed.size())
      return fail(2, fmt::format("--seed: '{}' is not a number", o.seed));
  }
  bpf::engine_kind engine = bpf::default_engine_kind();
  if (!o.engine.empty()) {
    auto e = bpf::parse_engine(o.engine);
    if (!e) return fail(2, "--engine: " + e.err().msg);
    engine = *e;
  }
  mm::config cfg;
  if (auto f = apply_overrides(o, cfg)) return report_failure(*f);
  std::optional<workload::trace_format> fmt_given;
  if (!o.trace_format.empty()) {
    auto f = workload::trace_format_from_name(o.trace_format);
    if (!f) return fail(2, "--trace-format: " + f.err().msg);
    fmt_given = *f;
  }

  progress_line progress(isatty(STDERR_FILENO) == 1);
  if (show) {
    json all = json::array();
    for (auto& spec : showcase(o, seed)) {
      spec.engine = engine;
      auto results = run_policies(spec, *configs, updates, progress);
      if (!results) return fail(1, results.err().msg);
      if (o.json) {
        all.push_back(run_json(spec, *results));
      } else {
        print_heading(spec);
        print_table(*results, /*compact=*/true);
        fmt::print("\n");
      }
    }
    if (o.json)
      fmt::print("{}\n", dump(json{{"showcase", std::move(all)}}));
    else
      fmt::print(
          "Run 'mmbpf run --help' to replay your own trace (--trace) or generator "
          "(--workload).\n");
    return 0;
  }

  // Input: the config file, then the workload (each opened once here to report errors early).
  run_spec spec;
  if (!o.config.empty()) {
    std::ifstream in(o.config);
    if (!in) return fail(1, fmt::format("{}: {}", o.config, std::strerror(errno)));
    std::stringstream ss;
    ss << in.rdbuf();
    auto c = mm::parse_config(ss.str());
    if (!c) return fail(1, fmt::format("{}: {}", o.config, c.err().msg));
    cfg = std::move(*c);
    if (auto f = apply_overrides(o, cfg)) return report_failure(*f);
    spec.config_path = o.config;
  }
  spec.cfg = cfg;
  spec.engine = engine;
  // a built-in scenario brings its cgroup tree
  std::string workload_spec = o.workload;
  if (auto sc = builtin_scenario(o.workload)) {
    if (!o.config.empty() && !spec.cfg.cgroups.empty())
      return fail(2, fmt::format("--workload {} brings its own cgroups; the config may not add any", o.workload));
    spec.cfg.cgroups = sc->cgroups;
    workload_spec = sc->spec;
  }
  if (auto r = mm::validate_config(spec.cfg); !r) return fail(2, r.err().msg);
  if (!o.trace.empty()) {
    workload::trace_format tf;
    if (fmt_given) {
      tf = *fmt_given;
    } else {
      if (access(o.trace.c_str(), R_OK) != 0)
        return fail(1, fmt::format("{}: {}", o.trace, std::strerror(errno)));
      auto g = workload::guess_trace_format(o.trace);
      if (!g) {
        if (g.err().msg.find("cannot tell") == std::string::npos) return fail(1, g.err().msg);
        return fail(2, g.err().msg + "; give --trace-format (mmbpf, text, oracleGeneral, csv)");
      }
      tf = *g;
    }
    spec.trace_format = std::string(workload::trace_format_name(tf));
    spec.workload = o.trace;
    const std::string path = o.trace;
    spec.open = [path, tf] { return workload::open_trace_workload(path, tf); };
  } else {
    spec.workload = o.seed.empty() ? workload_spec : with_seed(workload_spec, seed);
    if (auto g = workload::open_generator_workload(spec.workload); !g)
      return fail(2, "--workload: " + g.err().msg);
    const std::string w = spec.workload;
    spec.open = [w] { return workload::open_generator_workload(w); };
  }
  if (auto first = spec.open(); !first) return fail(1, first.err().msg);

  // one run per memory size (--memory A,B,... sweeps); the stable form is one object
  std::vector<uint64_t> sizes{spec.cfg.memory_pages * 4096};
  if (!o.memory.empty()) sizes = *memory_sizes(o);
  json sweep = json::array();
  for (size_t k = 0; k < sizes.size(); ++k) {
    spec.cfg.memory_pages = sizes[k] / 4096;
    if (auto r = mm::validate_config(spec.cfg); !r) return fail(2, r.err().msg);
    auto results = run_policies(spec, *configs, updates, progress);
    if (!results) return fail(1, results.err().msg);
    if (o.json) {
      sweep.push_back(run_json(spec, *results));
    } else {
      if (k) fmt::print("\n");
      print_heading(spec);
      print_table(*results, /*compact=*/false);
    }
  }
  if (o.json) fmt::print("{}\n", dump(sizes.size() == 1 ? sweep[0] : json{{"sweep", std::move(sweep)}}));
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app, int* rc) {
  auto o = std::make_shared<run_opts>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Replay a workload against the MM model once per policy and compare the kernel's "
      "counters; with no arguments, a built-in showcase");
  cmd->add_option("--trace", o->trace, "Trace file to replay")->type_name("FILE");
  cmd->add_option("--trace-format", o->trace_format,
                  "Trace format: mmbpf, text, oracleGeneral, csv (default: from the file's "
                  "first bytes and name)")
      ->type_name("FORMAT");
  cmd->add_option("--workload", o->workload,
                  "Generator spec, e.g. zipf:pages=1M,events=10M or ycsb:workload=b, or a "
                  "built-in scenario with its cgroups: oom_test (the BPF OOM selftest tree), "
                  "oom_tenants (tenants with hogs, for comparing OOM policies)")
      ->type_name("SPEC");
  cmd->add_option("--config", o->config, "Model config file (memory, swap, cgroups, ...)")
      ->type_name("FILE");
  cmd->add_option("--memory", o->memory,
                  "RAM of the model, e.g. 4G (K/M/G/T, powers of 1024; "
                  "overrides the config's memory line); a list (1G,2G,4G) sweeps the sizes")
      ->type_name("SIZE");
  cmd->add_option("--swap", o->swap, "Swap size (default 0: no swap)")->type_name("SIZE");
  cmd->add_option("--swappiness", o->swappiness, "vm.swappiness, 0..200 (default 60)")
      ->type_name("N");
  cmd->add_flag("--exact", o->exact,
                "Plain cache mode, for cross-checks with cache simulators: no watermark "
                "headroom, no readahead, one page reclaimed per miss");
  cmd->add_option("--policy", o->policies,
                  "Page-cache policy for the whole cgroup tree, repeatable or comma-separated: "
                  "default (the kernel's LRU), belady (the offline optimum), an in-tree BPF "
                  "policy (fifo, mru, lfu, s3fifo, lhd, mglru, get_scan, admit_filter, noop), "
                  "native:NAME (a C++ twin: lru, fifo, mru, lfu, lfu_sampled, s3fifo, sieve), "
                  "a path to a .bpf.o with one cache_ext_ops, or an OOM policy for the whole "
                  "tree (oom:reference, oom:priority, oom:psi_early, or a .bpf.o with "
                  "bpf_oom_ops or bpf_psi_ops), attached at the root. Each runs on a fresh model")
      ->type_name("NAME")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--attach", o->attach,
                  "A policy for one cgroup, CGROUP=POLICY (e.g. /ycsb=lfu), repeatable or "
                  "comma-separated: all of them together are one more column, each attached "
                  "to its cgroup only (cache_ext's rule); the other cgroups keep the kernel's LRU")
      ->type_name("CG=NAME")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--bpf-map", o->bpf_maps,
                  "Put KEY:VALUE (integers; VALUE 1 if omitted) into map MAP of every BPF "
                  "policy that has one, after load and before attach, as the policy's loader "
                  "would: e.g. scan_pids=2 for get_scan, filtered_pids=7 for admit_filter. "
                  "Repeatable")
      ->type_name("MAP=K[:V]")
      ->allow_extra_args(false);
  cmd->add_flag("--no-belady", o->no_belady,
                "Do not add Belady's MIN (the offline optimum) to a comparison of two or more "
                "policies");
  cmd->add_option("--seed", o->seed, "Seed for generated workloads that do not set seed=")
      ->type_name("N");
  cmd->add_option("--engine", o->engine,
                  "What runs BPF policies: jit (x86-64 machine code, the default where it "
                  "exists) or interp (the interpreter, the reference semantics)")
      ->type_name("ENGINE");
  cmd->add_flag("--json", o->json, "Print one JSON object (stable field names) instead of a table");
  cmd->callback([o, rc] { *rc = run_run(*o); });
}

}  // namespace mmbpf::cli
