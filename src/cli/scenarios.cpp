// Built-in scenarios (scenarios.h).
#include "cli/scenarios.h"

#include <fmt/format.h>

namespace mmbpf::cli {

std::optional<scenario> builtin_scenario(std::string_view name) {
  constexpr uint64_t MiB = 256;  // pages
  if (name == "oom_test") {
    scenario s;
    s.about = "the BPF OOM selftest tree: 100 MiB of hogs in an 80 MiB /oom_test, no swap";
    s.cgroups = {
        {.id = 1, .path = "/oom_test", .max = 80 * MiB, .swap_max = 0},
        {.id = 2, .path = "/oom_test/cg1"},
        {.id = 3, .path = "/oom_test/cg2"},
        {.id = 4, .path = "/oom_test/cg3"},
        {.id = 5, .path = "/oom_test/cg3/cg4"},
        {.id = 6, .path = "/oom_test/cg3/cg5"},
    };
    // one process per leaf, touching its memory once and then holding it (a second pass)
    s.spec = fmt::format(
        "hog:procs=1,pages={},pid=101,cg=2,oom_score_adj=1000,passes=2;"
        "hog:procs=1,pages={},pid=102,cg=3,oom_score_adj=-1000,passes=2;"
        "hog:procs=1,pages={},pid=104,cg=5,passes=2;"
        "hog:procs=1,pages={},pid=105,cg=6,passes=2",
        10 * MiB, 40 * MiB, 30 * MiB, 20 * MiB);
    return s;
  }
  if (name == "oom_tenants") {
    scenario s;
    s.about = "three tenants in a 160 MiB /tenants, no swap: web (a heap and file reads), db "
              "(the biggest heap, touched three times), batch (a leak that grows until OOM)";
    s.cgroups = {
        {.id = 1, .path = "/tenants", .max = 160 * MiB, .swap_max = 0},
        {.id = 2, .path = "/tenants/web"},    // cgroup id 3
        {.id = 3, .path = "/tenants/db"},     // cgroup id 4
        {.id = 4, .path = "/tenants/batch"},  // cgroup id 5
    };
    // The mix ends every tenant together, so the leak grows at its steady rate while db
    // re-touches its heap: at the first OOM db is the biggest process, and the kernel's
    // killer takes it; the leak is what a policy should kill.
    s.spec = fmt::format(
        "hog:procs=1,pages={},pid=201,cg=2,passes=6;"
        "zipf:pages={},events=60K,theta=0.9,pid=202,cg=2,ino=10;"
        "hog:procs=1,pages={},pid=301,cg=3,passes=3;"
        "hog:procs=1,pages={},pid=401,cg=4,passes=1",
        20 * MiB, 40 * MiB, 90 * MiB, 200 * MiB);
    return s;
  }
  return std::nullopt;
}

}  // namespace mmbpf::cli
