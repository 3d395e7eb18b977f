// What `mmbpf run` reports: the result of one workload under one policy configuration, the
// table (one column per configuration) and the JSON object (stable field names: the kernel's
// where one exists). Shared by run.cpp; formatting only.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bpf/engine.h"
#include "ext/cache_ext.h"
#include "mm/config.h"
#include "mm/model.h"
#include "workload/replay.h"

namespace mmbpf::cli {

// One workload under one policy configuration.
struct policy_result {
  std::string policy;  // the configuration's label: a policy name or "/a=lfu,/b=mru"
  mm::model_report rep;
  workload::replay_stats st;
  ext::cache_ext_stats bpf;              // BPF programs' runs and faults, if any ran
  std::optional<uint64_t> min_misses;    // Belady's misses on the same run, when it ran
};

// What to replay: a way to open the events afresh for each policy, and how to describe them.
struct run_spec {
  std::string title;         // the showcase's heading; empty for a normal run
  std::string workload;      // trace path or generator spec, as given
  std::string trace_format;  // empty for a generator
  std::string config_path;
  std::function<result<workload::workload_source>()> open;
  mm::config cfg;
  bpf::engine_kind engine = bpf::default_engine_kind();  // what runs BPF policies
};

std::string human_bytes(uint64_t b);
std::string human_ns(uint64_t ns);
std::string human_rate(double r);

void print_heading(const run_spec& spec);
// One column per result; the compact form (the showcase) shows fewer rows.
void print_table(const std::vector<policy_result>& results, bool compact);

using json = nlohmann::ordered_json;
json run_json(const run_spec& spec, const std::vector<policy_result>& results);
// One line; bytes of a path that are not UTF-8 become U+FFFD rather than an exception.
std::string dump(const json& j);

}  // namespace mmbpf::cli
