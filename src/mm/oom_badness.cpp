// The OOM killer's victim choice (see oom_badness.h): the kernel's arithmetic and comparison
// order, so scores and tie-breaking match.
#include "mm/oom_badness.h"

namespace mmbpf::mm {

long oom_badness(const oom_task& p, unsigned long totalpages) {
  if (p.unkillable) return LONG_MIN;
  if (!p.has_mm) return LONG_MIN;
  // Explicitly unkillable, already reaped, or in the middle of vfork.
  long adj = p.oom_score_adj;
  if (adj == OOM_SCORE_ADJ_MIN || p.mmf_oom_skip || p.in_vfork) return LONG_MIN;

  // Baseline: the pages killing the task would free.
  long points = static_cast<long>(p.rss + p.swapents + p.pgtables_bytes / OOM_PAGE_SIZE);
  // One adj point is a thousandth of totalpages (integer division first, as the kernel).
  adj *= static_cast<long>(totalpages / 1000);
  points += adj;
  return points;
}

oom_choice select_bad_process(std::span<const oom_task> tasks, unsigned long totalpages,
                              bool sysrq) {
  oom_choice oc;  // chosen_points = LONG_MIN
  for (std::size_t i = 0; i < tasks.size(); i++) {
    const oom_task& task = tasks[i];
    // oom_evaluate_task()
    if (task.unkillable) continue;
    if (!sysrq && task.oom_victim) {
      if (task.mmf_oom_skip) continue;
      return {oom_choice::abort, 0, LONG_MIN};
    }
    long points;
    if (task.oom_task_origin) {
      points = LONG_MAX;
    } else {
      points = oom_badness(task, totalpages);
      // Strictly lower loses: equal scores go to the task seen later.
      if (points == LONG_MIN || points < oc.points) continue;
    }
    oc = {oom_choice::chosen, i, points};
  }
  return oc;
}

}  // namespace mmbpf::mm
