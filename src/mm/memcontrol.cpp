// Memory cgroups (mm/memcontrol.c, mm/page_counter.c): the tree, charging up the hierarchy,
// memory.max (reclaim, retries, then the memcg OOM killer), memory.high (reclaim on return to
// user space and the throttle penalty), memory.low/min (effective protection, computed with
// memcontrol_protection.h at each reclaim), and the memory.stat / memory.events counters.
//
// try_charge_memcg(), in prose: charge every page_counter from the memcg up to the root; the
// lowest one that would exceed its max is mem_over_limit. Then reclaim from mem_over_limit's
// subtree at least SWAP_CLUSTER_MAX pages (try_to_free_mem_cgroup_pages), retry at once if
// the margin now fits or reclaim made progress, else up to MAX_RECLAIM_RETRIES times, then
// invoke the memcg OOM killer; if it killed, start over with fresh retries, else fail
// (-ENOMEM). Charging over memory.high succeeds but counts the pages; on return to user space
// mem_cgroup_handle_over_high() reclaims them from every ancestor over its high and puts the
// task to sleep for calculate_high_delay(): quadratic in the largest relative overage,
// clamped to 2 s, skipped when at most 10 ms.
//
// Simplified: no per-CPU charge stock (MEMCG_CHARGE_BATCH): charges are exact, so usage never
// runs ahead of what is charged; stats are exact, never waiting for an rstat flush;
// memory.swap.max is stored, swap charges are counted on the memcg's swap page_counter.
#include <algorithm>
#include <vector>

#include "mm/folio.h"
#include "mm/memcontrol_protection.h"
#include "mm/model.h"

namespace mmbpf::mm {

namespace {
constexpr int MAX_RECLAIM_RETRIES = 16;
constexpr uint64_t HZ = 250;  // Debian's CONFIG_HZ_250
constexpr unsigned MEMCG_DELAY_PRECISION_SHIFT = 20;
constexpr unsigned MEMCG_DELAY_SCALING_SHIFT = 14;
constexpr uint64_t MEMCG_CHARGE_BATCH = 64;
constexpr uint64_t MEMCG_MAX_HIGH_DELAY_JIFFIES = 2 * HZ;
constexpr uint64_t NSEC_PER_JIFFY = 1'000'000'000 / HZ;

unsigned long usage(const memcg& m) {
  return static_cast<unsigned long>(m.css.memory.usage.counter);
}

// calculate_overage(): how far usage is over high, in 1/2^20 of high.
uint64_t calculate_overage(unsigned long u, unsigned long high) {
  if (u <= high) return 0;
  high = std::max(high, 1UL);
  return (static_cast<uint64_t>(u - high) << MEMCG_DELAY_PRECISION_SHIFT) / high;
}
}  // namespace

void model::init_memcg(memcg& mc, memcg* parent, uint16_t id, std::string path) {
  mc.parent = parent;
  mc.path = std::move(path);
  mc.model_id = id;
  mc.index = static_cast<uint32_t>(memcgs_.size() - 1);  // REQUIRES mc is memcgs_.back()
  mc.kn.id = static_cast<u64>(id) + 1;  // cgroup ids: the root cgroup is 1, as in the kernel
  mc.kn.name = mc.path.c_str();
  mc.kn.parent = parent ? &parent->kn : nullptr;
  mc.cgrp.kn = &mc.kn;
  mc.cgrp.self.cgroup = &mc.cgrp;
  mc.cgrp.level = parent ? parent->cgrp.level + 1 : 0;
  mc.css.css.cgroup = &mc.cgrp;
  // mem_cgroup_id(): allocated in creation order from 1, as the kernel's idr does; shadow
  // entries carry it in 16 bits (MEM_CGROUP_ID_SHIFT)
  mc.css.css.id = static_cast<int>(mc.index) + 1;
  mc.css.css.parent = parent ? &parent->css.css : nullptr;
  mc.css.id.id = static_cast<int>(mc.index) + 1;
  mc.css.memory.max = PAGE_COUNTER_MAX;
  mc.css.memory.high = PAGE_COUNTER_MAX;
  mc.css.memory.parent = parent ? &parent->css.memory : nullptr;
  mc.css.swap.max = PAGE_COUNTER_MAX;
  mc.css.swap.high = PAGE_COUNTER_MAX;
  mc.css.swap.parent = parent ? &parent->css.swap : nullptr;
  mc.css.swappiness = cfg_.swappiness;
  for (auto& l : mc.vec.lists) INIT_LIST_HEAD(&l);
  mc.vec.ws.parent = parent ? &parent->vec.ws : nullptr;
  mc.vec.mc = &mc;
  if (parent) {
    parent->children.push_back(&mc);
    for (memcg* p = parent; p; p = p->parent) ++p->cgrp.nr_descendants;
  }
  if (memcg_by_id_.size() <= id) memcg_by_id_.resize(id + 1u, nullptr);
  memcg_by_id_[id] = &mc;
}

result<void> model::cgroup_create(uint16_t id, uint16_t parent_id, std::string_view name) {
  if (find_memcg(id)) return error{"cgroup " + std::to_string(id) + " already exists"};
  if (memcgs_.size() > MAX_CGROUPS)
    return error{"cgroup " + std::to_string(id) + ": too many cgroups (memcg ids are 16 bits)"};
  memcg* parent = find_memcg(parent_id);
  if (!parent)
    return error{"cgroup " + std::to_string(id) + ": parent cgroup " + std::to_string(parent_id) +
                 " does not exist"};
  std::string path = parent->path == "/" ? "/" : parent->path + "/";
  path += name.empty() ? "cg" + std::to_string(id) : std::string(name);
  memcgs_.push_back(std::make_unique<memcg>());
  init_memcg(*memcgs_.back(), parent, id, std::move(path));
  return {};
}

result<void> model::cgroup_offline(uint16_t id) {
  memcg* mc = find_memcg(id);
  if (!mc || !mc->online) return error{"cgroup " + std::to_string(id) + " does not exist"};
  if (mc == root_) return error{"the root cgroup cannot go offline"};
  if (mc->nr_tasks) return error{"cgroup " + mc->path + " has live tasks (EBUSY)"};
  for (const memcg* c : mc->children)
    if (c->online) return error{"cgroup " + mc->path + " has online children (EBUSY)"};
  mc->online = false;
  if (oom_policy* p = mc->oom_ops) {
    p->cgroup_offline(*mc);
    mc->oom_ops = nullptr;
  }
  return {};
}

result<void> model::cgroup_set_limit(uint16_t id, int which, uint64_t bytes) {
  memcg* mc = find_memcg(id);
  if (!mc) return error{"cgroup " + std::to_string(id) + " does not exist"};
  if (mc == root_) return error{"the root cgroup has no memory limits"};
  const unsigned long pages = bytes == ~0ull ? PAGE_COUNTER_MAX : bytes / PAGE_SIZE;
  switch (which) {
    case 0: {  // memory_max_write(): reclaim down to the new max, then OOM-kill
      mc->css.memory.max = pages;
      int retries = MAX_RECLAIM_RETRIES;
      while (usage(*mc) > pages) {
        const unsigned long got =
            try_to_free_mem_cgroup_pages(*mc, usage(*mc) - pages, /*may_swap=*/true);
        if (got) continue;
        if (retries-- > 0) continue;
        memcg_memory_event(mc, MEMCG_OOM);
        if (!mem_cgroup_oom(*mc)) break;
      }
      return {};
    }
    case 1: mc->css.memory.high = pages; return {};
    case 2: mc->css.memory.low = pages; return {};
    case 3: mc->css.memory.min = pages; return {};
    case 4: mc->css.swap.max = pages; return {};
    default: return error{"unknown cgroup limit " + std::to_string(which)};
  }
}

memcg* model::mem_over_limit(memcg* mc, unsigned long nr_pages) const {
  for (memcg* m = mc; m; m = m->parent)
    if (usage(*m) + nr_pages > m->css.memory.max) return m;
  return nullptr;
}

unsigned long model::mem_cgroup_margin(const memcg& mc) const {
  const unsigned long u = usage(mc);
  return mc.css.memory.max > u ? mc.css.memory.max - u : 0;
}

bool model::try_charge(memcg* mc, unsigned long nr_pages, bool may_oom) {
  int retries = MAX_RECLAIM_RETRIES;
  for (;;) {
    memcg* over = mem_over_limit(mc, nr_pages);
    if (!over) break;
    memcg_memory_event(over, MEMCG_MAX);
    if (reclaim_depth_ > 0) return false;  // no recursion into reclaim from reclaim
    try_charge_memcg tcm{mc, nr_pages, over};
    unsigned long batch =
        cfg_.exact_cache ? nr_pages : std::max<unsigned long>(nr_pages, SWAP_CLUSTER_MAX);
    if (charge_ops_ && charge_ops_->try_charge(tcm) && tcm.nr_pages > 0 && tcm.nr_pages <= 512)
      batch = tcm.nr_pages;
    const uint64_t t0 = now_;
    const unsigned long got = try_to_free_mem_cgroup_pages(*over, batch, /*may_swap=*/true);
    mc->stall_memory_ns += now_ - t0;
    if (mem_cgroup_margin(*over) >= nr_pages) continue;
    if (!may_oom) return false;  // __GFP_NORETRY: nomem, no OOM
    if (got) continue;
    if (retries-- > 0) continue;
    memcg_memory_event(over, MEMCG_OOM);
    if (mem_cgroup_oom(*over)) {
      retries = MAX_RECLAIM_RETRIES;
      continue;
    }
    return false;
  }
  for (memcg* m = mc; m; m = m->parent) {
    m->css.memory.usage.counter += static_cast<s64>(nr_pages);
    m->css.memory.watermark = std::max<unsigned long>(m->css.memory.watermark, usage(*m));
    if (usage(*m) > m->css.memory.high && last_task_ && last_task_->mc == mc)
      last_task_->memcg_nr_pages_over_high += nr_pages;
  }
  return true;
}

void model::uncharge(memcg* mc, unsigned long nr_pages) {
  for (memcg* m = mc; m; m = m->parent) m->css.memory.usage.counter -= static_cast<s64>(nr_pages);
}

// mem_cgroup_handle_over_high(): reclaim what this event charged over memory.high from every
// ancestor over its high, then sleep the penalty (a memory stall).
void model::mem_cgroup_handle_over_high(task& t) {
  const unsigned long nr_pages = t.memcg_nr_pages_over_high;
  if (!nr_pages) return;
  t.memcg_nr_pages_over_high = 0;
  bool in_retry = false;
  int retries = MAX_RECLAIM_RETRIES;
  for (;;) {
    unsigned long reclaimed = 0;
    uint64_t max_overage = 0;
    for (memcg* m = t.mc; m; m = m->parent) {
      if (usage(*m) <= m->css.memory.high) continue;
      memcg_memory_event(m, MEMCG_HIGH);
      const uint64_t t0 = now_;
      reclaimed += try_to_free_mem_cgroup_pages(*m, in_retry ? SWAP_CLUSTER_MAX : nr_pages, true);
      t.mc->stall_memory_ns += now_ - t0;
    }
    for (memcg* m = t.mc; m && m->parent; m = m->parent)
      max_overage = std::max(max_overage, calculate_overage(usage(*m), m->css.memory.high));
    // calculate_high_delay()
    uint64_t penalty = max_overage * max_overage * HZ;
    penalty >>= MEMCG_DELAY_PRECISION_SHIFT;
    penalty >>= MEMCG_DELAY_SCALING_SHIFT;
    penalty = penalty * nr_pages / MEMCG_CHARGE_BATCH;
    penalty = std::min(penalty, MEMCG_MAX_HIGH_DELAY_JIFFIES);
    if (penalty <= HZ / 100) return;
    if (reclaimed || retries-- > 0) {
      in_retry = true;
      if (reclaimed) continue;
    }
    const uint64_t ns = penalty * NSEC_PER_JIFFY;
    now_ += ns;
    t.mc->stall_memory_ns += ns;
    return;
  }
}

void model::mod_lruvec_state(memcg* mc, int item, long nr) {
  mc->state[static_cast<size_t>(item)] += nr;
  node_state_[static_cast<size_t>(item)] += nr;
}

void model::count_memcg_events(memcg* mc, vm_event_item i, uint64_t nr) {
  vm_events_[i] += nr;
  if (mc) mc->events[i] += nr;
}

void model::memcg_memory_event(memcg* mc, int event) {
  mc->memory_events_local[static_cast<size_t>(event)] += 1;
  for (memcg* m = mc; m; m = m->parent) m->css.memory_events[event].counter += 1;
}

long model::memcg_page_state(const memcg& mc, int item) const {
  long sum = mc.state[static_cast<size_t>(item)];
  for (const memcg* c : mc.children) sum += memcg_page_state(*c, item);
  return sum;
}

uint64_t model::memcg_events(const memcg& mc, vm_event_item i) const {
  uint64_t sum = mc.events[i];
  for (const memcg* c : mc.children) sum += memcg_events(*c, i);
  return sum;
}

uint64_t model::memcg_memory_events(const memcg& mc, int event) const {
  return static_cast<uint64_t>(mc.css.memory_events[event].counter);
}

// mem_cgroup_calculate_protection() for every memcg below the reclaim target, top-down, with
// the formulas of memcontrol_protection.h; results land in css.memory.emin/elow.
void model::calculate_protection(memcg* target) {
  bool any = false;
  for (const auto& m : memcgs_) any |= m->css.memory.min || m->css.memory.low;
  if (!any) return;  // nothing is protected: emin = elow = 0 everywhere
  static thread_local std::vector<page_counter_prot> prot;
  prot.clear();
  int root_index = 0;
  for (size_t i = 0; i < memcgs_.size(); ++i) {
    const memcg& m = *memcgs_[i];
    page_counter_prot p;
    p.usage = usage(m);
    p.min = m.css.memory.min;
    p.low = m.css.memory.low;
    p.emin = m.css.memory.emin;
    p.elow = m.css.memory.elow;
    p.parent = m.parent ? static_cast<int>(m.parent->index) : -1;
    if (&m == target) root_index = static_cast<int>(i);
    prot.push_back(p);
  }
  mem_cgroup_calculate_protection(prot, target && target != root_ ? root_index : -1,
                                  cfg_.memory_recursiveprot);
  for (size_t i = 0; i < memcgs_.size(); ++i) {
    memcgs_[i]->css.memory.emin = prot[i].emin;
    memcgs_[i]->css.memory.elow = prot[i].elow;
  }
}

}  // namespace mmbpf::mm
