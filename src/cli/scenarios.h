// Built-in scenarios for `mmbpf run --workload NAME`: a generator spec together with the
// cgroup tree it runs in, for workloads whose meaning is the tree (the BPF OOM series'
// selftest). A spec of another name is a plain generator (workload/spec.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mm/config.h"

namespace mmbpf::cli {

struct scenario {
  std::string spec;                       // the generator mix
  std::vector<mm::cgroup_config> cgroups;  // parents first
  std::string about;
};

// The scenario called `name`, if there is one:
//   oom_test  the BPF OOM series' selftest tree (tools/testing/selftests/bpf/prog_tests/
//             test_oom.c): /oom_test with memory.max=80M and no swap; cg1 a 10 MiB hog with
//             oom_score_adj +1000, cg2 a 40 MiB hog with -1000, cg3/cg4 30 MiB and cg3/cg5
//             20 MiB hogs. 100 MiB of anonymous memory in 80: an OOM in /oom_test. The kernel's
//             killer takes cg1's process (adj +1000); the series' reference policy the largest
//             leaf without a -1000 task, cg4.
//   oom_tenants  several tenants with hogs, for comparing OOM policies on the work they cost:
//             /tenants (160M, no swap) holds web (a 20 MiB heap and zipfian file reads), db
//             (a 90 MiB heap touched three times) and batch (a leak growing to 200 MiB). The
//             kernel's killer takes db, the biggest at the first OOM, then the leak; a policy
//             that knows the leak's cgroup (oom:priority with batch lowest) kills only it.
std::optional<scenario> builtin_scenario(std::string_view name);

}  // namespace mmbpf::cli
