// The report of `mmbpf run`: table and JSON (run_report.h).
#include "cli/run_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace mmbpf::cli {
namespace {

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


}  // namespace

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


namespace {

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
    {"misses over MIN", true,
     [](const policy_result& r) -> std::string {
       if (!r.min_misses) return "-";
       if (!*r.min_misses) return r.rep.counters.misses ? "inf" : "+0.0%";
       return fmt::format("{:+.1f}%", 100.0 * (static_cast<double>(r.rep.counters.misses) /
                                                   static_cast<double>(*r.min_misses) - 1.0));
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

// With several processes: what each one's lookups missed under each policy (a database's GET
// and SCAN threads, two applications in one cgroup).
void print_processes(const std::vector<policy_result>& results) {
  if (results.empty() || results.front().rep.tasks.size() < 2 ||
      results.front().rep.tasks.size() > 16)
    return;
  auto label = [](const mm::task_report& k, const policy_result& res) {
    return fmt::format("pid {} ({}) {}", k.pid, k.cgroup, res.policy);
  };
  size_t w = 20;
  for (const auto& res : results)
    for (const auto& k : res.rep.tasks) w = std::max(w, label(k, res).size() + 2);
  fmt::print("\n{:<{}}{:>14}{:>12}{:>10}\n", "process / policy", w, "lookups", "misses", "miss");
  for (size_t t = 0; t < results.front().rep.tasks.size(); ++t) {
    for (const auto& res : results) {
      if (t >= res.rep.tasks.size()) continue;
      const mm::task_report& k = res.rep.tasks[t];
      if (!k.lookups) continue;  // an anonymous-memory hog, say
      fmt::print("{:<{}}{:>14}{:>12}{:>10.4f}\n", label(k, res), w, k.lookups, k.misses,
                 k.lookups ? static_cast<double>(k.misses) / static_cast<double>(k.lookups) : 0.0);
    }
  }
}

}  // namespace

// Who the OOM killer (or an OOM handler) killed under each policy, in order, and when.
void print_oom_kills(const std::vector<policy_result>& results) {
  if (std::none_of(results.begin(), results.end(), [](const policy_result& r) { return !r.rep.oom_kills.empty(); }))
    return;
  size_t w = 16, cw = 12;
  for (const auto& res : results) {
    w = std::max(w, res.policy.size() + 2);
    for (const mm::oom_kill_record& k : res.rep.oom_kills) cw = std::max(cw, k.memcg.size() + 2);
  }
  fmt::print("\n{:<{}}{:>10}{:>8}  {:<{}}{}\n", "oom kills / policy", w, "at", "pid", "cgroup", cw, "chosen by");
  for (const auto& res : results)
    for (const mm::oom_kill_record& k : res.rep.oom_kills)
      fmt::print("{:<{}}{:>10}{:>8}  {:<{}}{}\n", res.policy, w, human_ns(k.time_ns), k.pid, k.memcg, cw, k.handler);
  // the work the kills cost: the events the killed processes would still have run, in all and
  // per cgroup, against the first column (the kernel's killer when it is `default`)
  if (std::none_of(results.begin(), results.end(),
                   [](const policy_result& r) { return r.rep.counters.events_of_killed > 0; }))
    return;  // the kills cost no work (the victims had nothing left to do)
  const uint64_t base = results.front().rep.counters.events_of_killed;
  fmt::print("\n{:<{}}{:>12}{:>10}  {}\n", "work lost / policy", w, "events", "vs first", "by cgroup");
  for (const auto& res : results) {
    const uint64_t lost = res.rep.counters.events_of_killed;
    std::string by;
    for (const mm::memcg_report& g : res.rep.cgroups)
      if (g.counters.events_of_killed)
        by += fmt::format("{}{} {}", by.empty() ? "" : ", ", g.path, g.counters.events_of_killed);
    fmt::print("{:<{}}{:>12}{:>10}  {}\n", res.policy, w, lost,
               base ? fmt::format("{:.2f}x", static_cast<double>(lost) / static_cast<double>(base)) : "-",
               by.empty() ? "none" : by);
  }
}

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
  print_processes(results);
  print_oom_kills(results);
  if (results.empty() || results.front().rep.cgroups.size() < 2) return;
  // with a cgroup tree: each cgroup under each policy (memory.current, what its tasks missed,
  // its memory.events)
  size_t w = 16;
  for (const auto& res : results)
    for (const auto& g : res.rep.cgroups) w = std::max(w, g.path.size() + res.policy.size() + 3);
  fmt::print("\n{:<{}}{:>10}{:>12}{:>10}{:>10}{:>12}{:>8}{:>8}{:>9}\n", "cgroup / policy", w,
             "current", "misses", "miss", "refault", "low/high", "max", "oom", "oom_kill");
  for (size_t c = 0; c < results.front().rep.cgroups.size(); ++c) {
    for (const auto& res : results) {
      const mm::memcg_report& g = res.rep.cgroups[c];
      const double ratio = g.counters.lookups ? static_cast<double>(g.counters.misses) /
                                                    static_cast<double>(g.counters.lookups)
                                              : 0.0;
      fmt::print("{:<{}}{:>10}{:>12}{:>10.4f}{:>10}{:>12}{:>8}{:>8}{:>9}\n",
                 fmt::format("{} {}", g.path, res.policy), w, human_bytes(g.current * 4096),
                 g.counters.misses, ratio, g.stat[WORKINGSET_REFAULT_FILE],
                 fmt::format("{}/{}", g.memory_events[MEMCG_LOW], g.memory_events[MEMCG_HIGH]),
                 g.memory_events[MEMCG_MAX], g.memory_events[MEMCG_OOM],
                 g.memory_events[MEMCG_OOM_KILL]);
    }
  }
}


namespace {

// ---- JSON --------------------------------------------------------------------------------------


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
    c["cgroup_id"] = g.cgroup_id;
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
    c["events_of_killed"] = g.counters.events_of_killed;  // its killed tasks' lost events
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
  j["cache_candidates_kept"] = c.cache_candidates_kept;
  // misses relative to Belady's MIN on the same run (0.25: 25 % more), when it ran
  if (r.min_misses)
    j["misses_over_min"] = *r.min_misses ? static_cast<double>(c.misses) / static_cast<double>(*r.min_misses) - 1.0
                                         : 0.0;
  if (r.bpf.runs) {
    j["bpf_prog_runs"] = r.bpf.runs;
    j["bpf_prog_errors"] = r.bpf.prog_errors;
    j["bpf_kfunc_refused"] = r.bpf.kfunc_refused;
  }
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
  json procs = json::array();
  for (const mm::task_report& t : r.rep.tasks)
    procs.push_back({{"pid", t.pid}, {"cgroup", t.cgroup}, {"alive", t.alive},
                     {"lookups", t.lookups}, {"misses", t.misses}});
  j["processes"] = std::move(procs);
  json kills = json::array();  // the OOM killer's victims in order, and who chose them
  for (const mm::oom_kill_record& k : r.rep.oom_kills)
    kills.push_back({{"pid", k.pid}, {"cgroup", k.memcg}, {"handler", k.handler},
                     {"message", k.message}, {"time_ns", k.time_ns}});
  j["oom_kills"] = std::move(kills);
  return j;
}


}  // namespace

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
  j["engine"] = bpf::engine_name(spec.engine);
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


}  // namespace mmbpf::cli
