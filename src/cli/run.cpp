// `mmbpf run`: a workload (trace file or generator spec) replayed against the MM model once
// per page-cache policy, each on a fresh model, with the kernel's counters side by side.
//
//   mmbpf run --trace FILE [--trace-format F] --memory SIZE [--policy NAME]... [--json]
//   mmbpf run --workload SPEC [--config FILE] [--swap SIZE] [--swappiness N] [--exact] ...
//   mmbpf run                  the built-in showcase: built-in workloads under default, lru,
//                              fifo, sieve, s3fifo and belady
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
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "ext/attach.h"
#include "mm/config.h"
#include "mm/model.h"
#include "mm/native_policy.h"
#include "workload/replay.h"
#include "workload/spec.h"

namespace mmbpf::cli {
namespace {

struct run_opts {
  std::string trace, trace_format, workload, config, memory, swap, swappiness, seed;
  std::vector<std::string> policies;
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

// ---- what one run produced ---------------------------------------------------------------------

struct policy_result {
  std::string policy;
  mm::model_report rep;
  workload::replay_stats st;
};

uint64_t vm_event(const policy_result& r, mm::vm_event_item i) {
  return r.rep.vm_events[i];
}
long node_stat(const policy_result& r, int item) {
  return r.rep.vm_state[item];
}
double miss_ratio(const policy_result& r) {
  const auto& c = r.rep.counters;
  return c.lookups ? static_cast<double>(c.misses) / static_cast<double>(c.lookups) : 0.0;
}
double modelled_rate(const policy_result& r) {
  return r.rep.runtime_ns ? static_cast<double>(r.rep.counters.events) * 1e9 /
                                static_cast<double>(r.rep.runtime_ns)
                          : 0.0;
}

// ---- human formatting ------------------------------------------------------------------------

std::string human_bytes(uint64_t b) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (b < 1024) return fmt::format("{} B", b);
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  const int digits = v < 10 ? 2 : v < 100 ? 1 : 0;
  return fmt::format("{:.{}f} {}", v, digits, units[u]);
}

std::string human_ns(uint64_t ns) {
  if (ns < 1000) return fmt::format("{} ns", ns);
  const double v = static_cast<double>(ns);
  if (ns < 1'000'000) return fmt::format("{:.1f} us", v / 1e3);
  if (ns < 1'000'000'000) return fmt::format("{:.2f} ms", v / 1e6);
  return fmt::format("{:.2f} s", v / 1e9);
}

std::string human_rate(double r) {
  if (r >= 1e9) return fmt::format("{:.2f}G/s", r / 1e9);
  if (r >= 1e6) return fmt::format("{:.2f}M/s", r / 1e6);
  if (r >= 1e3) return fmt::format("{:.1f}K/s", r / 1e3);
  return fmt::format("{:.0f}/s", r);
}

// One row of the table: label, whether the showcase's compact table shows it, the value.
struct row {
  const char* label;
  bool compact;
  std::string (*value)(const policy_result&);
};

const row rows[] = {
    {"events", false,
     [](const policy_result& r) { return fmt::format("{}", r.rep.counters.events); }},
    {"lookups", false,
     [](const policy_result& r) { return fmt::format("{}", r.rep.counters.lookups); }},
    {"misses", true,
     [](const policy_result& r) { return fmt::format("{}", r.rep.counters.misses); }},
    {"miss ratio", true,
     [](const policy_result& r) { return fmt::format("{:.4f}", miss_ratio(r)); }},
    {"hit ratio", false,
     [](const policy_result& r) {
       return fmt::format("{:.4f}", r.rep.counters.lookups ? 1.0 - miss_ratio(r) : 0.0);
     }},
    {"pgmajfault", false,
     [](const policy_result& r) { return fmt::format("{}", vm_event(r, mm::PGMAJFAULT)); }},
    {"io_read_bytes", true,
     [](const policy_result& r) { return human_bytes(r.rep.counters.io_read_bytes); }},
    {"io_write_bytes", false,
     [](const policy_result& r) { return human_bytes(r.rep.counters.io_write_bytes); }},
    {"workingset_refault_file", true,
     [](const policy_result& r) {
       return fmt::format("{}", node_stat(r, WORKINGSET_REFAULT_FILE));
     }},
    {"workingset_refault_anon", false,
     [](const policy_result& r) {
       return fmt::format("{}", node_stat(r, WORKINGSET_REFAULT_ANON));
     }},
    {"workingset_activate_file", false,
     [](const policy_result& r) {
       return fmt::format("{}", node_stat(r, WORKINGSET_ACTIVATE_FILE));
     }},
    {"pgscan", true,
     [](const policy_result& r) {
       return fmt::format("{}", vm_event(r, mm::PGSCAN_KSWAPD) + vm_event(r, mm::PGSCAN_DIRECT));
     }},
    {"pgsteal", false,
     [](const policy_result& r) {
       return fmt::format("{}", vm_event(r, mm::PGSTEAL_KSWAPD) + vm_event(r, mm::PGSTEAL_DIRECT));
     }},
    {"oom_kill", true,
     [](const policy_result& r) { return fmt::format("{}", vm_event(r, mm::OOM_KILL)); }},
    {"modelled run time", true, [](const policy_result& r) { return human_ns(r.rep.runtime_ns); }},
    {"throughput (modelled)", false,
     [](const policy_result& r) { return human_rate(modelled_rate(r)); }},
    {"latency p50", false, [](const policy_result& r) { return human_ns(r.rep.latency_p50_ns); }},
    {"latency p99", true, [](const policy_result& r) { return human_ns(r.rep.latency_p99_ns); }},
    {"events_per_second (wall)", true,
     [](const policy_result& r) { return human_rate(r.st.events_per_second()); }},
};

void print_table(const std::vector<policy_result>& results, bool compact) {
  size_t label_w = 0;
  for (const auto& r : rows)
    if (!compact || r.compact) label_w = std::max(label_w, std::strlen(r.label));
  std::vector<size_t> col_w;
  for (const auto& res : results) {
    size_t w = std::max<size_t>(res.policy.size(), 10);
    for (const auto& r : rows) w = std::max(w, r.value(res).size());
    col_w.push_back(w);
  }
  std::string line = fmt::format("{:<{}}", "", label_w);
  for (size_t i = 0; i < results.size(); ++i)
    line += fmt::format("  {:>{}}", results[i].policy, col_w[i]);
  fmt::print("{}\n", line);
  for (const auto& r : rows) {
    if (compact && !r.compact) continue;
    line = fmt::format("{:<{}}", r.label, label_w);
    for (size_t i = 0; i < results.size(); ++i)
      line += fmt::format("  {:>{}}", r.value(results[i]), col_w[i]);
    fmt::print("{}\n", line);
  }
  if (results.empty() || results.front().rep.cgroups.size() < 2) return;
  // with a cgroup tree: each cgroup under each policy (memory.current, what its tasks missed,
  // its memory.events)
  fmt::print("\n{:<16}{:>10}{:>12}{:>10}{:>10}{:>12}{:>8}{:>8}{:>9}\n", "cgroup / policy",
             "current", "misses", "miss", "refault", "low/high", "max", "oom", "oom_kill");
  for (size_t c = 0; c < results.front().rep.cgroups.size(); ++c) {
    for (const auto& res : results) {
      const mm::memcg_report& g = res.rep.cgroups[c];
      const double ratio = g.counters.lookups ? static_cast<double>(g.counters.misses) /
                                                    static_cast<double>(g.counters.lookups)
                                              : 0.0;
      fmt::print("{:<16}{:>10}{:>12}{:>10.4f}{:>10}{:>12}{:>8}{:>8}{:>9}\n",
                 fmt::format("{} {}", g.path, res.policy), human_bytes(g.current * 4096),
                 g.counters.misses, ratio, g.stat[WORKINGSET_REFAULT_FILE],
                 fmt::format("{}/{}", g.memory_events[MEMCG_LOW], g.memory_events[MEMCG_HIGH]),
                 g.memory_events[MEMCG_MAX], g.memory_events[MEMCG_OOM],
                 g.memory_events[MEMCG_OOM_KILL]);
    }
  }
}

// ---- JSON --------------------------------------------------------------------------------------

using json = nlohmann::ordered_json;

// Every cgroup as its files would read at the end: memory.current and the limits in bytes
// ("max" when unlimited), memory.stat (sizes in bytes, events as counts), memory.events, and
// what the cgroup's own tasks saw (lookups, misses, bytes read, stall time).
json cgroups_json(const mm::model_report& rep) {
  json all = json::array();
  const auto limit = [](uint64_t pages) -> json {
    if (pages >= mm::PAGE_COUNTER_MAX) return "max";
    return pages * 4096;
  };
  for (const mm::memcg_report& g : rep.cgroups) {
    json c;
    c["path"] = g.path;
    c["id"] = g.id;
    c["memory.current"] = g.current * 4096;
    c["memory.max"] = limit(g.max);
    c["memory.high"] = limit(g.high);
    c["memory.low"] = g.low * 4096;
    c["memory.min"] = g.min * 4096;
    json stat;
    for (int item = 0; item < MEMCG_NR_STAT; ++item) {
      auto name = mm::node_stat_name(item);
      if (name.empty()) continue;
      const long v = g.stat[static_cast<size_t>(item)];
      stat[std::string(name)] = name.starts_with("workingset_") ? v : v * 4096L;
    }
    for (int i = 0; i < mm::NR_VM_EVENT_ITEMS; ++i)
      if (auto name = mm::vm_event_name(static_cast<mm::vm_event_item>(i)); !name.empty())
        stat[std::string(name)] = g.events[static_cast<size_t>(i)];
    c["memory.stat"] = stat;
    json events;
    for (int e = 0; e < MEMCG_NR_MEMORY_EVENTS; ++e)
      if (auto name = mm::memory_event_name(e); !name.empty())
        events[std::string(name)] = g.memory_events[static_cast<size_t>(e)];
    c["memory.events"] = events;
    c["lookups"] = g.counters.lookups;
    c["misses"] = g.counters.misses;
    c["io_read_bytes"] = g.counters.io_read_bytes;
    c["stall_memory_ns"] = g.stall_memory_ns;
    c["stall_io_ns"] = g.stall_io_ns;
    all.push_back(std::move(c));
  }
  return all;
}

json policy_json(const policy_result& r) {
  const auto& c = r.rep.counters;
  json j;
  j["policy"] = r.policy;
  j["events"] = c.events;
  j["lookups"] = c.lookups;
  j["misses"] = c.misses;
  j["miss_ratio"] = miss_ratio(r);
  j["hit_ratio"] = c.lookups ? 1.0 - miss_ratio(r) : 0.0;
  j["io_read_bytes"] = c.io_read_bytes;
  j["io_write_bytes"] = c.io_write_bytes;
  j["readahead_pages"] = c.readahead_pages;
  j["admission_refused"] = c.admission_refused;
  j["charge_failed"] = c.charge_failed;
  j["events_of_killed"] = c.events_of_killed;
  j["cache_candidates_invalid"] = c.cache_candidates_invalid;
  j["cache_fallback_batches"] = c.cache_fallback_batches;
  // /proc/vmstat events under their names (pgmajfault counts major faults only), plus the
  // memory.stat sums pgscan and pgsteal.
  for (int i = 0; i < mm::NR_VM_EVENT_ITEMS; ++i) {
    const auto item = static_cast<mm::vm_event_item>(i);
    if (auto name = mm::vm_event_name(item); !name.empty())
      j[std::string(name)] = r.rep.vm_events[i];
  }
  j["pgscan"] = vm_event(r, mm::PGSCAN_KSWAPD) + vm_event(r, mm::PGSCAN_DIRECT);
  j["pgsteal"] = vm_event(r, mm::PGSTEAL_KSWAPD) + vm_event(r, mm::PGSTEAL_DIRECT);
  // memory.stat of the root at the end: workingset_* are event counts, the rest sizes in
  // bytes as the file reports them.
  for (int item = 0; item < MEMCG_NR_STAT; ++item) {
    auto name = mm::node_stat_name(item);
    if (name.empty()) continue;
    const long v = r.rep.vm_state[item];
    if (name.starts_with("workingset_"))
      j[std::string(name)] = v;
    else
      j[std::string(name)] = v * 4096L;
  }
  j["shadow_entries"] = r.rep.shadow_entries;
  j["runtime_ns"] = r.rep.runtime_ns;
  j["stall_memory_ns"] = r.rep.stall_memory_ns;
  j["stall_io_ns"] = r.rep.stall_io_ns;
  j["modelled_events_per_second"] = modelled_rate(r);
  j["latency_p50_ns"] = r.rep.latency_p50_ns;
  j["latency_p99_ns"] = r.rep.latency_p99_ns;
  j["latency_max_ns"] = r.rep.latency_max_ns;
  j["latency_mean_ns"] = r.rep.latency_mean_ns;
  j["wall_ns"] = r.st.wall_ns;
  j["events_per_second"] = r.st.events_per_second();
  j["cgroups"] = cgroups_json(r.rep);
  return j;
}

// ---- one workload against the policies ---------------------------------------------------------

// What to replay: a way to open the events afresh for each policy, and how to describe them.
struct run_spec {
  std::string title;         // the showcase's heading; empty for a normal run
  std::string workload;      // trace path or generator spec, as given
  std::string trace_format;  // empty for a generator
  std::string config_path;
  std::function<result<workload::workload_source>()> open;
  mm::config cfg;
};

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

result<policy_result> run_one(const run_spec& spec, const std::string& policy,
                              progress_line& progress) {
  auto w = spec.open();
  if (!w) return w.err();
  auto m = mm::model::create(spec.cfg);
  if (!m) return m.err();
  mm::model& model = **m;
  workload::apply_file_sizes(w->meta, model);
  std::unique_ptr<mm::cache_policy> p;
  if (policy == "belady") {  // the offline optimum reads the workload's future first
    auto ahead = spec.open();
    if (!ahead) return ahead.err();
    auto refs = workload::page_lookups(*ahead->events, ahead->meta);
    if (!refs) return refs.err();
    p = mm::make_belady_policy(model, *refs);
  } else if (policy != "default") {
    auto made = mm::make_native_policy(policy, model);
    if (!made) return made.err();
    p = std::move(*made);
  }
  // the policy governs the whole tree: attached at the root, inherited (ext/attach.h)
  ext::cache_attachments attachments(model);
  if (p) attachments.attach(model.root(), p.get(), ext::attach_mode::effective);
  workload::replay_options opt;
  opt.name = spec.workload;
  opt.progress_every = 1 << 16;
  opt.progress = [&](uint64_t n) { progress.update(n); };
  opt.on_cgroup_create = [&](mm::memcg& mc) { attachments.on_cgroup_create(mc); };
  progress.start(spec.title.empty() ? policy : spec.title + ", " + policy, w->expected_events);
  auto st = workload::replay(*w->events, model, opt);
  progress.clear();
  if (!st) return st.err();
  policy_result r{policy, model.report(), *st};
  // The policy goes before the model: detach it first.
  if (p) attachments.detach(model.root());
  return r;
}

// One line; bytes of a path that are not UTF-8 become U+FFFD rather than an exception.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json run_json(const run_spec& spec, const std::vector<policy_result>& results) {
  json j;
  if (!spec.title.empty()) j["name"] = spec.title;
  j["workload"] = spec.workload;
  if (!spec.trace_format.empty()) j["trace_format"] = spec.trace_format;
  if (!spec.config_path.empty()) j["config"] = spec.config_path;
  j["memory_bytes"] = spec.cfg.memory_pages * 4096;
  j["swap_bytes"] = spec.cfg.swap_pages * 4096;
  j["swappiness"] = spec.cfg.swappiness;
  j["exact_cache"] = spec.cfg.exact_cache;
  json ps = json::array();
  for (const auto& r : results) ps.push_back(policy_json(r));
  j["policies"] = std::move(ps);
  return j;
}

void print_heading(const run_spec& spec) {
  std::string extra;
  if (spec.cfg.swap_pages)
    extra += fmt::format(", swap {}", human_bytes(spec.cfg.swap_pages * 4096));
  if (!spec.cfg.cgroups.empty()) extra += fmt::format(", {} cgroups", spec.cfg.cgroups.size());
  if (spec.cfg.exact_cache) extra += ", exact cache";
  if (spec.title.empty())
    fmt::print("workload {}, memory {}{}\n", spec.workload,
               human_bytes(spec.cfg.memory_pages * 4096), extra);
  else
    fmt::print("== {}  ({}, memory {}{})\n", spec.title, spec.workload,
               human_bytes(spec.cfg.memory_pages * 4096), extra);
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

std::optional<failure> check_policies(const std::vector<std::string>& policies) {
  auto names = mm::native_policy_names();
  names.push_back("belady");
  for (const auto& p : policies) {
    bool known = p == "default";
    for (auto n : names) known |= p == n;
    if (!known) {
      std::string list = "default";
      for (auto n : names) list += fmt::format(", {}", n);
      return failure{2, fmt::format("--policy: unknown policy '{}' (known: {})", p, list)};
    }
  }
  return std::nullopt;
}

// Overrides from the command line onto a config. Usage errors only.
std::optional<failure> apply_overrides(const run_opts& o, mm::config& c) {
  if (!o.memory.empty()) {
    auto b = size_option("--memory", o.memory, 4096);
    if (!b) return failure{2, b.err().msg};
    c.memory_pages = *b / 4096;
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
                                                const std::vector<std::string>& policies,
                                                progress_line& progress) {
  std::vector<policy_result> results;
  for (const auto& p : policies) {
    auto r = run_one(spec, p, progress);
    if (!r) return r.err();
    results.push_back(std::move(*r));
  }
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
    policies = show ? std::vector<std::string>{"default", "lru",    "fifo",
                                               "sieve",   "s3fifo", "belady"}
                    : std::vector<std::string>{"default"};
  if (auto f = check_policies(policies)) return report_failure(*f);
  uint64_t seed = 1;
  if (!o.seed.empty()) {
    auto [p, ec] = std::from_chars(o.seed.data(), o.seed.data() + o.seed.size(), seed);
    if (ec != std::errc() || p != o.seed.data() + o.seed.size())
      return fail(2, fmt::format("--seed: '{}' is not a number", o.seed));
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
    for (const auto& spec : showcase(o, seed)) {
      auto results = run_policies(spec, policies, progress);
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
    spec.workload = o.seed.empty() ? o.workload : with_seed(o.workload, seed);
    if (auto g = workload::open_generator_workload(spec.workload); !g)
      return fail(2, "--workload: " + g.err().msg);
    const std::string w = spec.workload;
    spec.open = [w] { return workload::open_generator_workload(w); };
  }
  if (auto first = spec.open(); !first) return fail(1, first.err().msg);

  auto results = run_policies(spec, policies, progress);
  if (!results) return fail(1, results.err().msg);
  if (o.json) {
    fmt::print("{}\n", dump(run_json(spec, *results)));
  } else {
    print_heading(spec);
    print_table(*results, /*compact=*/false);
  }
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
                  "Generator spec, e.g. zipf:pages=1M,events=10M or ycsb:workload=b")
      ->type_name("SPEC");
  cmd->add_option("--config", o->config, "Model config file (memory, swap, cgroups, ...)")
      ->type_name("FILE");
  cmd->add_option("--memory", o->memory,
                  "RAM of the model, e.g. 4G (K/M/G/T, powers of 1024; "
                  "overrides the config's memory line)")
      ->type_name("SIZE");
  cmd->add_option("--swap", o->swap, "Swap size (default 0: no swap)")->type_name("SIZE");
  cmd->add_option("--swappiness", o->swappiness, "vm.swappiness, 0..200 (default 60)")
      ->type_name("N");
  cmd->add_flag("--exact", o->exact,
                "Plain cache mode, for cross-checks with cache simulators: no watermark "
                "headroom, no readahead, one page reclaimed per miss");
  cmd->add_option("--policy", o->policies,
                  "Page-cache policy, repeatable or comma-separated: default (the kernel's "
                  "LRU), lru, fifo, ... Each runs on a fresh model")
      ->type_name("NAME")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--seed", o->seed, "Seed for generated workloads that do not set seed=")
      ->type_name("N");
  cmd->add_flag("--json", o->json, "Print one JSON object (stable field names) instead of a table");
  cmd->callback([o, rc] { *rc = run_run(*o); });
}

}  // namespace mmbpf::cli
