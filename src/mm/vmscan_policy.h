// The reclaim balance formulas of mm/vmscan.c, as pure functions over page counts: which LRU
// list is "low" (inactive_is_low), how hard each of the four evictable lists is scanned at a
// given priority (get_scan_count), the two scan_control modes prepare_scan_control derives
// (cache_trim_mode, file_is_tiny) and the decaying cost record that steers the anon/file split
// (lru_note_cost).
//
// How the kernel balances reclaim, in prose. Each lruvec (memcg x node) keeps its pages on an
// inactive and an active list per type (anon, file). Reclaim evicts only from inactive lists
// and refills them from the active ones when the inactive list is "low": inactive_is_low()
// allows the active list to be inactive_ratio times the inactive one, where the ratio grows
// with the square root of the lruvec size (1 below 1 GB, 3 at 1 GB, 10 at 10 GB, 31 at 100 GB,
// 101 at 1 TB) so large machines keep a bigger share of their memory active.
//
// get_scan_count() decides how many pages of each list one pass scans. Every list gets
// size >> priority (priority runs DEF_PRIORITY = 12 down to 0), possibly reduced for a memcg
// under memory.low/min protection, and then split between anon and file:
//   - SCAN_FILE when anon cannot be reclaimed (no swap, !may_swap), when a cgroup reclaim
//     runs with swappiness 0, or when there is plenty of non-thrashing inactive file cache
//     (cache_trim_mode);
//   - SCAN_EQUAL at priority 0 with swappiness > 0 (near OOM: no cleverness, scan all);
//   - SCAN_ANON when the file LRU plus free memory is at the high watermarks (file_is_tiny);
//   - otherwise SCAN_FRACT: each type's pressure is inversely proportional to its recent
//     reclaim cost (refaults and rotations recorded by lru_note_cost), weighted by swappiness
//     (anon) and 200 - swappiness (file); adding total_cost to both costs guarantees each type
//     at least a third of the pressure before swappiness.
//
// Simplified: the caller supplies the lruvec's list sizes, costs and flags instead of a
// struct lruvec / scan_control; lruvec_lru_size()'s zone filtering (reclaim_idx) is the
// caller's; MGLRU is not modelled here; SWAPPINESS_ANON_ONLY (memory.reclaim swappiness=max,
// 6.15+) is not modelled.
#pragma once

#include <array>
#include <cstdint>

#include "../../bpf/include/vmlinux.h"
#include "mm/page_size.h"

namespace mmbpf::mm {

// include/linux/mmzone.h: enum lru_list (LRU_INACTIVE_ANON ... NR_LRU_LISTS) comes from the
// model's vmlinux.h, the one BPF programs see.
using ::lru_list;
inline constexpr int NR_EVICTABLE_LRU_LISTS = 4;  // for_each_evictable_lru()
constexpr bool is_file_lru(lru_list lru) {
  return lru == LRU_INACTIVE_FILE || lru == LRU_ACTIVE_FILE;
}
constexpr bool is_active_lru(lru_list lru) {
  return lru == LRU_ACTIVE_ANON || lru == LRU_ACTIVE_FILE;
}

// mm/vmscan.c: how get_scan_count() splits pressure between anon and file.
enum scan_balance : int {
  SCAN_EQUAL,  // scan each list by its size >> priority
  SCAN_FRACT,  // scale by the swappiness/cost fractions
  SCAN_ANON,   // scan anon lists only
  SCAN_FILE,   // scan file lists only
};

inline constexpr int DEF_PRIORITY = 12;                // mm/vmscan.c
inline constexpr unsigned long SWAP_CLUSTER_MAX = 32;  // include/linux/swap.h
inline constexpr int MAX_SWAPPINESS = 200;             // include/linux/swap.h
inline constexpr int DEFAULT_SWAPPINESS = 60;          // vm_swappiness

// sc->may_deactivate bits (mm/vmscan.c).
inline constexpr unsigned DEACTIVATE_ANON = 1;
inline constexpr unsigned DEACTIVATE_FILE = 2;

// lib/math/int_sqrt.c: floor(sqrt(x)).
unsigned long int_sqrt(unsigned long x);

// The ratio inactive_is_low() allows between active and inactive pages of one type, for a
// type with inactive + active = `total_pages`: int_sqrt(10 * gb) when gb >= 1, else 1.
unsigned long inactive_ratio(unsigned long total_pages);

// mm/vmscan.c inactive_is_low(): true when `active` exceeds `inactive` * inactive_ratio, i.e.
// the active list should be aged (shrink_active_list) to refill the inactive one. Counts are
// pages of one type (anon or file) in one lruvec.
bool inactive_is_low(unsigned long inactive, unsigned long active);

// The inputs get_scan_count() reads from the lruvec, its memcg and the scan_control.
struct scan_count_control {
  std::array<unsigned long, NR_EVICTABLE_LRU_LISTS> lru_size{};  // lruvec_lru_size(lru)
  int priority = DEF_PRIORITY;                                   // sc->priority, 0..12
  int swappiness = DEFAULT_SWAPPINESS;                           // sc_swappiness(), 0..200
  unsigned long anon_cost = 0;   // sc->anon_cost (the reclaim target's lruvec->anon_cost)
  unsigned long file_cost = 0;   // sc->file_cost
  bool may_swap = true;          // sc->may_swap
  bool can_reclaim_anon = true;  // can_reclaim_anon_pages(): swap space (or demotion) left
  bool cgroup_reclaim = false;   // cgroup_reclaim(sc): reclaim targets a memcg, not the node
  bool file_is_tiny = false;     // sc->file_is_tiny (see compute_file_is_tiny)
  bool cache_trim_mode = false;  // sc->cache_trim_mode (see compute_cache_trim_mode)
  // mem_cgroup_protection() of this lruvec's memcg relative to the reclaim target: its
  // effective memory.min / memory.low (0 and 0 when unprotected or when it is the target).
  unsigned long min = 0;
  unsigned long low = 0;
  unsigned long cgroup_size = 0;   // mem_cgroup_size(memcg): its page_counter usage
  bool memcg_low_reclaim = false;  // sc->memcg_low_reclaim: the retry that breaches memory.low
  bool memcg_online = true;        // mem_cgroup_online(memcg)
};

struct scan_count {
  scan_balance balance = SCAN_FRACT;
  std::array<unsigned long, NR_EVICTABLE_LRU_LISTS> nr{};  // pages to scan, by lru_list
  bool memcg_low_skipped = false;  // sc->memcg_low_skipped was set (low scaling applied)
};

// mm/vmscan.c get_scan_count(): the scan balance and the number of pages to scan from each
// evictable list this pass. REQUIRES swappiness in [0, MAX_SWAPPINESS], priority in
// [0, DEF_PRIORITY].
scan_count get_scan_count(const scan_count_control& sc);

// prepare_scan_control(): plenty of inactive file cache that is not thrashing, so leave anon
// alone. inactive_file of the reclaim target's lruvec; may_deactivate as DEACTIVATE_* bits.
bool compute_cache_trim_mode(unsigned long inactive_file, int priority, unsigned may_deactivate,
                             bool no_cache_trim_mode = false);

// prepare_scan_control() (global reclaim only; false for cgroup reclaim): the node's file LRU
// plus free pages are at or below the sum of its zones' high watermarks while inactive anon is
// not tiny, so force anon scanning. Node-wide page counts.
bool compute_file_is_tiny(unsigned long file, unsigned long free, unsigned long total_high_wmark,
                          unsigned may_deactivate, unsigned long inactive_anon, int priority,
                          bool cgroup_reclaim = false);

// One lruvec's reclaim cost record (lruvec->anon_cost / file_cost).
struct lru_cost {
  unsigned long anon_cost = 0;
  unsigned long file_cost = 0;
};

// mm/swap.c lru_note_cost() at one level of the hierarchy: add nr_io * SWAP_CLUSTER_MAX +
// nr_rotated to the type's cost, then halve both costs when their sum exceeds a quarter of
// the lruvec's evictable pages (`lrusize`), a floating average. The kernel repeats this for
// every ancestor lruvec; the caller does that walk.
void lru_note_cost(lru_cost& cost, bool file, unsigned long nr_io, unsigned long nr_rotated,
                   unsigned long lrusize);

}  // namespace mmbpf::mm
