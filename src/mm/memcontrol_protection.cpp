// memory.min / memory.low effective protection (see memcontrol_protection.h): the integer
// arithmetic of mm/page_counter.c in the kernel's order, so every rounding matches.
#include "mm/memcontrol_protection.h"

#include <algorithm>
#include <vector>

namespace mmbpf::mm {

unsigned long effective_protection(unsigned long usage, unsigned long parent_usage,
                                   unsigned long setting, unsigned long parent_effective,
                                   unsigned long siblings_protected, bool recursive_protection) {
  const unsigned long protected_ = std::min(usage, setting);

  // Siblings claim and use more than the parent affords: shares in proportion to use.
  if (siblings_protected > parent_effective)
    return protected_ * parent_effective / siblings_protected;

  // Within the parent's budget: what the child claims and uses is protected.
  unsigned long ep = protected_;
  if (!recursive_protection) return ep;

  // memory_recursiveprot: hand out the parent's unclaimed protection in proportion to each
  // child's unprotected usage. Both differences are checked; they are not read atomically.
  if (parent_effective > siblings_protected && parent_usage > siblings_protected &&
      usage > protected_) {
    unsigned long unclaimed = parent_effective - siblings_protected;
    unclaimed *= usage - protected_;
    unclaimed /= parent_usage - siblings_protected;
    ep += unclaimed;
  }
  return ep;
}

unsigned long children_min_usage(std::span<const page_counter_prot> counters, int parent) {
  unsigned long sum = 0;
  for (const auto& c : counters)
    if (c.parent == parent) sum += std::min(c.usage, c.min);
  return sum;
}

unsigned long children_low_usage(std::span<const page_counter_prot> counters, int parent) {
  unsigned long sum = 0;
  for (const auto& c : counters)
    if (c.parent == parent) sum += std::min(c.usage, c.low);
  return sum;
}

namespace {

int root_mem_cgroup(std::span<const page_counter_prot> counters) {
  for (std::size_t i = 0; i < counters.size(); i++)
    if (counters[i].parent < 0) return static_cast<int>(i);
  return -1;
}

void calculate_one(std::span<page_counter_prot> counters, int root, int counter,
                   bool recursive_protection, unsigned long siblings_min,
                   unsigned long siblings_low) {
  // Effective values of the reclaim target are ignored, so they may stay stale.
  if (root == counter) return;
  page_counter_prot& c = counters[counter];
  if (!c.usage) return;
  if (c.parent == root) {
    c.emin = c.min;
    c.elow = c.low;
    return;
  }
  const page_counter_prot& p = counters[c.parent];
  c.emin =
      effective_protection(c.usage, p.usage, c.min, p.emin, siblings_min, recursive_protection);
  c.elow =
      effective_protection(c.usage, p.usage, c.low, p.elow, siblings_low, recursive_protection);
}

}  // namespace

void page_counter_calculate_protection(std::span<page_counter_prot> counters, int root, int counter,
                                       bool recursive_protection) {
  const int parent = counters[counter].parent;
  const unsigned long smin = parent >= 0 ? children_min_usage(counters, parent) : 0;
  const unsigned long slow = parent >= 0 ? children_low_usage(counters, parent) : 0;
  calculate_one(counters, root, counter, recursive_protection, smin, slow);
}

void mem_cgroup_calculate_protection(std::span<page_counter_prot> counters, int root,
                                     bool recursive_protection) {
  if (root < 0) root = root_mem_cgroup(counters);
  if (root < 0) return;
  const std::size_t n = counters.size();
  // The parents' children_*_usage sums, computed once (they do not change during the walk).
  std::vector<unsigned long> cmin(n, 0), clow(n, 0);
  for (const auto& c : counters) {
    if (c.parent < 0) continue;
    cmin[c.parent] += std::min(c.usage, c.min);
    clow[c.parent] += std::min(c.usage, c.low);
  }
  // Below root: every node whose parent is root or below root (parents precede children).
  std::vector<bool> below(n, false);
  for (std::size_t i = 0; i < n; i++) {
    const int p = counters[i].parent;
    if (p < 0) continue;
    below[i] = p == root || below[p];
    if (below[i])
      calculate_one(counters, root, static_cast<int>(i), recursive_protection, cmin[p], clow[p]);
  }
}

memcg_protection mem_cgroup_protection(std::span<const page_counter_prot> counters, int root,
                                       int memcg) {
  if (root < 0) root = root_mem_cgroup(counters);
  if (root == memcg) return {};
  return {counters[memcg].emin, counters[memcg].elow};
}

namespace {
bool mem_cgroup_unprotected(std::span<const page_counter_prot> counters, int target, int memcg) {
  return counters[memcg].parent < 0 || memcg == target;
}
}  // namespace

bool mem_cgroup_below_min(std::span<const page_counter_prot> counters, int target, int memcg) {
  if (mem_cgroup_unprotected(counters, target, memcg)) return false;
  return counters[memcg].emin >= counters[memcg].usage;
}

bool mem_cgroup_below_low(std::span<const page_counter_prot> counters, int target, int memcg) {
  if (mem_cgroup_unprotected(counters, target, memcg)) return false;
  return counters[memcg].elow >= counters[memcg].usage;
}

}  // namespace mmbpf::mm
