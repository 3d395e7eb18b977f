// memory.min / memory.low effective protection (mm/page_counter.c effective_protection() and
// page_counter_calculate_protection(), driven by mm/memcontrol.c
// mem_cgroup_calculate_protection()), and the checks reclaim makes with it
// (mem_cgroup_below_min/low, mem_cgroup_protection).
//
// How the kernel distributes protection, in prose. A cgroup's memory.min/low only protects
// what its parent can pass down. Each reclaim walks the memcg tree top-down from the reclaim
// root and computes for every cgroup an effective value (emin, elow) from four numbers: its
// own usage and setting, its parent's effective value, and the sum over its siblings of
// min(usage, setting) (the parent's children_min_usage / children_low_usage, the protection
// the children actually claim and use).
//   - Children of the reclaim root get their raw setting: the root's own limit is what is
//     being enforced, so nothing above can dilute them.
//   - If siblings claim more than the parent has (overcommit), each gets a share proportional
//     to what it claims: min(usage, setting) * parent_effective / siblings_protected. Using
//     usage rather than the setting is work-conserving: unused protection flows to siblings.
//   - Otherwise a child keeps min(usage, setting); with the memory_recursiveprot mount option
//     the parent's unclaimed remainder is also spread over the children in proportion to
//     their unprotected usage, so a subtree is protected as a whole from its neighbours.
// Reclaim then skips a cgroup whose usage is within emin, skips one within elow unless this
// is the memcg_low_reclaim retry, and scales the pressure on the rest (get_scan_count).
//
// Simplified: counters are plain structs in a vector (parents before children) instead of
// struct page_counter with atomics; children_min_usage / children_low_usage are recomputed
// from the children instead of maintained by propagate_protected_usage() on each charge (the
// same sums when protection tracking is on).
#pragma once

#include <cstddef>
#include <span>

namespace mmbpf::mm {

// The fields of one memcg's struct page_counter (memory) that protection reads and writes.
struct page_counter_prot {
  int parent = -1;          // index of the parent in the same span; -1 for root_mem_cgroup
  unsigned long usage = 0;  // page_counter_read()
  unsigned long min = 0;    // memory.min, pages
  unsigned long low = 0;    // memory.low, pages
  unsigned long emin = 0;   // effective min: written by the calculation, stale if not reached
  unsigned long elow = 0;   // effective low
};

// mm/page_counter.c effective_protection(): the effective protection of one counter given
// its usage, its parent's usage, its own setting (min or low), the parent's effective value
// and the siblings' summed min(usage, setting) (including this counter's own).
unsigned long effective_protection(unsigned long usage, unsigned long parent_usage,
                                   unsigned long setting, unsigned long parent_effective,
                                   unsigned long siblings_protected, bool recursive_protection);

// The parent's children_min_usage / children_low_usage: sum of min(usage, min|low) over the
// children of `parent`.
unsigned long children_min_usage(std::span<const page_counter_prot> counters, int parent);
unsigned long children_low_usage(std::span<const page_counter_prot> counters, int parent);

// mm/page_counter.c page_counter_calculate_protection(): update emin/elow of `counter` for a
// reclaim rooted at `root`. As in the kernel: nothing for the root itself or for a counter with
// zero usage (their values stay stale); raw min/low for children of the root. REQUIRES the
// parent's emin/elow already computed for this root (a top-down walk).
void page_counter_calculate_protection(std::span<page_counter_prot> counters, int root, int counter,
                                       bool recursive_protection);

// mem_cgroup_calculate_protection() for every cgroup below `root` (root_mem_cgroup when root
// is -1), in index order (a top-down walk since parents precede children), as
// shrink_node_memcgs() does while iterating. REQUIRES counters[i].parent < i.
void mem_cgroup_calculate_protection(std::span<page_counter_prot> counters, int root,
                                     bool recursive_protection);

// mem_cgroup_protection(): the {emin, elow} reclaim of `root` honours for `memcg` ({0, 0}
// when memcg is the reclaim target itself).
struct memcg_protection {
  unsigned long min = 0;
  unsigned long low = 0;
};
memcg_protection mem_cgroup_protection(std::span<const page_counter_prot> counters, int root,
                                       int memcg);

// mem_cgroup_below_min() / mem_cgroup_below_low(): usage within the effective protection.
// False for root_mem_cgroup and for the reclaim target (mem_cgroup_unprotected()).
bool mem_cgroup_below_min(std::span<const page_counter_prot> counters, int target, int memcg);
bool mem_cgroup_below_low(std::span<const page_counter_prot> counters, int target, int memcg);

}  // namespace mmbpf::mm
