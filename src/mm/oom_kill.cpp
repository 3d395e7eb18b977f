// The OOM killer's flow (mm/oom_kill.c out_of_memory(), oom_kill_process(),
// mm/memcontrol.c mem_cgroup_oom() and mem_cgroup_get_oom_group()); the victim choice itself
// is oom_badness.h.
//
// out_of_memory() first offers the OOM to the handlers attached along the memcg hierarchy
// (the BPF OOM series' contract: walk from the OOMing memcg, or the root for a global OOM,
// up to the root; a handler counts only if it returned true *and* really freed memory through
// the kill path), then runs the kernel's choice: every eligible task of the OOM domain (the
// memcg subtree in pre-order, each memcg's tasks in fork order; all tasks in fork order for a
// global OOM) scored by oom_badness() against totalpages (RAM + swap globally, the memcg's
// max (+ swap.max when it has swap) for a memcg OOM). oom_kill_process() kills the victim,
// and with memory.oom.group every task of the highest ancestor (within the OOM domain) that
// has oom.group set.
//
// Simplified: the kill is immediate: the victim's anonymous memory and swap are freed at once
// (exit_mmap() plus the OOM reaper), no MMF_OOM_SKIP wait; file pages stay cached (they are
// not the task's to free); an OOM with no eligible task fails the allocation (the kernel
// panics for a global OOM with nothing to kill).
#include <algorithm>

#include "mm/folio.h"
#include "mm/model.h"
#include "mm/oom_badness.h"

namespace mmbpf::mm {

bool model::mem_cgroup_oom(memcg& mc) {
  return out_of_memory(&mc);
}

bool model::out_of_memory(memcg* mc, int order) {
  ::oom_control oc{};
  oc.memcg = mc ? &mc->css : nullptr;
  oc.order = order;
  oc.constraint = mc ? CONSTRAINT_MEMCG : CONSTRAINT_NONE;
  oc.chosen_points = LONG_MIN;
  if (mc) {
    oc.totalpages = std::min<unsigned long>(mc->css.memory.max, folios_.size());
    if (cfg_.swap_pages)
      oc.totalpages += std::min<unsigned long>(mc->css.swap.max, cfg_.swap_pages);
  } else {
    oc.totalpages = folios_.size() + cfg_.swap_pages;
  }
  oc.totalpages = std::max(oc.totalpages, 1UL);

  if (!in_oom_handler_) {
    for (memcg* m = mc ? mc : root_; m; m = m->parent) {
      if (!m->oom_ops) continue;
      oc.bpf_memory_freed = false;
      oc.bpf_handler_name = m->oom_ops->name();
      in_oom_handler_ = true;
      const bool handled = m->oom_ops->handle_out_of_memory(oc);
      in_oom_handler_ = false;
      if (handled && oc.bpf_memory_freed) {
        last_oom_handler_ = m->oom_ops->name();
        return true;
      }
    }
    oc.bpf_handler_name = nullptr;
  }

  // the OOM domain's tasks in the kernel's scan order
  std::vector<task*> order_tasks;
  std::vector<const memcg*> domain;
  if (mc) for_each_memcg_preorder(*mc, [&](memcg& m) { domain.push_back(&m); });
  for (auto& [pid, t] : tasks_)
    if (t->alive) order_tasks.push_back(t.get());
  const auto rank = [&](const task* t) -> long {
    if (!mc) return 0;
    auto it = std::find(domain.begin(), domain.end(), t->mc);
    return it == domain.end() ? -1 : static_cast<long>(it - domain.begin());
  };
  std::erase_if(order_tasks, [&](const task* t) { return rank(t) < 0; });
  std::sort(order_tasks.begin(), order_tasks.end(), [&](const task* a, const task* b) {
    const long ra = rank(a), rb = rank(b);
    return ra != rb ? ra < rb : a->seq < b->seq;
  });
  std::vector<oom_task> cands;
  cands.reserve(order_tasks.size());
  for (const task* t : order_tasks) {
    oom_task c;
    c.pid = static_cast<int>(t->pid);
    c.rss = static_cast<unsigned long>(t->mm.rss_stat[MM_ANONPAGES].count +
                                       t->mm.rss_stat[MM_FILEPAGES].count +
                                       t->mm.rss_stat[MM_SHMEMPAGES].count);
    c.swapents = static_cast<unsigned long>(t->mm.rss_stat[MM_SWAPENTS].count);
    c.pgtables_bytes = static_cast<unsigned long>(t->mm.pgtables_bytes.counter);
    c.oom_score_adj = t->signal.oom_score_adj;
    c.oom_victim = t->signal.oom_mm != nullptr;
    cands.push_back(c);
  }
  const oom_choice choice = select_bad_process(cands, oc.totalpages);
  if (choice.kind != oom_choice::chosen) return false;
  task& victim = *order_tasks[choice.index];
  oc.chosen = &victim.ts;
  oc.chosen_points = choice.points;
  oom_kill_process(oc, victim, "Out of memory");
  return true;
}

unsigned long model::oom_kill_process(oom_control& oc, task& victim, const char* message) {
  if (!victim.alive) return 0;
  // mem_cgroup_get_oom_group(): the highest ancestor of the victim's memcg, up to the OOM
  // domain, with memory.oom.group set
  memcg* group = nullptr;
  const memcg* domain = oc.memcg ? reinterpret_cast<const memcg*>(oc.memcg) : root_;
  for (memcg* m = victim.mc; m; m = m->parent) {
    if (m->css.oom_group) group = m;
    if (m == domain) break;
  }
  const auto kill = [&](task& t) -> unsigned long {
    t.signal.oom_mm = &t.mm;
    const unsigned long freed = exit_mm(t);
    t.alive = false;
    --t.mc->nr_tasks;
    count_memcg_events(t.mc, OOM_KILL, 1);
    memcg_memory_event(t.mc, MEMCG_OOM_KILL);
    oom_kills_.push_back({t.pid, t.mc->path,
                          oc.bpf_handler_name ? oc.bpf_handler_name : "default",
                          message ? message : "", now_});
    return freed;
  };
  unsigned long freed = kill(victim);
  if (group) {
    memcg_memory_event(group, MEMCG_OOM_GROUP_KILL);
    for (auto& [pid, t] : tasks_) {
      if (!t->alive || t->signal.oom_score_adj == OOM_SCORE_ADJ_MIN) continue;
      for (const memcg* m = t->mc; m; m = m->parent)
        if (m == group) {
          freed += kill(*t);
          break;
        }
    }
  }
  if (freed) oc.bpf_memory_freed = true;
  return freed;
}

}  // namespace mmbpf::mm
