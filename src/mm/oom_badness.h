// The OOM killer's victim choice (mm/oom_kill.c): oom_badness() scores one task and
// select_bad_process() / oom_evaluate_task() pick the victim among the eligible tasks.
//
// How the kernel chooses, in prose. A task's badness is the memory killing it would free, in
// pages: its resident set (file, anon and shmem rss), its swap entries and its page tables.
// oom_score_adj (-1000..1000) then shifts the score by adj thousandths of `totalpages`, the
// memory the OOM is about (RAM + swap for a global OOM, the memcg limit for a memcg OOM), so
// +1000 makes a task worse than any task can be by size and -1000 (OOM_SCORE_ADJ_MIN) makes
// it never eligible (LONG_MIN). init, kernel threads, tasks whose mm was already reaped
// (MMF_OOM_SKIP) and tasks in vfork are never eligible either.
// The scan keeps the task with the highest score. It compares with `points < chosen_points`,
// so of tasks with equal scores the one seen LAST wins: for a global OOM the iteration is
// for_each_process(), the task list in fork order (oldest first), so the most recently forked
// of the tied tasks is chosen; for a memcg OOM it is mem_cgroup_scan_tasks(), the memcg
// subtree pre-order and each memcg's tasks in its css_set order. A task marked
// oom_task_origin (swapoff, ksm unmerge) is chosen with LONG_MAX points. Meeting a task that
// is already an OOM victim and not yet reaped aborts the scan: no new victim until that one
// has freed its memory (not for a sysrq-triggered OOM).
//
// Simplified: a task is a plain struct with its counters; "the task" is the thread group
// (find_lock_task_mm is the has_mm flag); cpuset/mempolicy eligibility is the caller's
// filter; memory.oom.group and oom_kill_process are elsewhere.
#pragma once

#include <climits>
#include <cstddef>
#include <span>

namespace mmbpf::mm {

inline constexpr int OOM_SCORE_ADJ_MIN = -1000;  // include/uapi/linux/oom.h
inline constexpr int OOM_SCORE_ADJ_MAX = 1000;
inline constexpr unsigned long OOM_PAGE_SIZE = 4096;

// What oom_badness() and oom_evaluate_task() read from one task.
struct oom_task {
  int pid = 0;
  unsigned long rss = 0;             // get_mm_rss(): MM_FILEPAGES + MM_ANONPAGES + MM_SHMEMPAGES
  unsigned long swapents = 0;        // get_mm_counter(mm, MM_SWAPENTS)
  unsigned long pgtables_bytes = 0;  // mm_pgtables_bytes(mm)
  int oom_score_adj = 0;             // signal->oom_score_adj, -1000..1000
  bool unkillable = false;           // oom_unkillable_task(): global init or a kthread
  bool has_mm = true;                // find_lock_task_mm() found a thread with an mm
  bool mmf_oom_skip = false;         // MMF_OOM_SKIP: already reaped or being torn down
  bool in_vfork = false;             // in_vfork()
  bool oom_victim = false;           // tsk_is_oom_victim(): killed by an earlier OOM
  bool oom_task_origin = false;      // oom_task_origin(): asked to be killed first
};

// mm/oom_kill.c oom_badness(): the task's score, LONG_MIN when it must never be chosen.
// May be negative (a negative oom_score_adj larger than the task's size).
long oom_badness(const oom_task& p, unsigned long totalpages);

struct oom_choice {
  enum kind_t { none, chosen, abort } kind = none;  // abort: an earlier victim is still dying
  std::size_t index = 0;                            // into the span, when chosen
  long points = LONG_MIN;                           // oc->chosen_points
};

// mm/oom_kill.c select_bad_process(): evaluate `tasks` in the given order (the caller passes
// the kernel's iteration order, see above) and return the victim. `sysrq` is is_sysrq_oom().
oom_choice select_bad_process(std::span<const oom_task> tasks, unsigned long totalpages,
                              bool sysrq = false);

}  // namespace mmbpf::mm
