// The reclaim balance formulas of mm/vmscan.c and mm/swap.c (see vmscan_policy.h): the same
// integer arithmetic in the same order as the kernel, so every rounding matches.
#include "mm/vmscan_policy.h"

namespace mmbpf::mm {

unsigned long int_sqrt(unsigned long x) {
  // Bitwise integer square root, as lib/math/int_sqrt.c: exact floor(sqrt(x)).
  if (x <= 1) return x;
  unsigned long m = 1UL << ((63 - __builtin_clzl(x)) & ~1);
  unsigned long y = 0;
  while (m != 0) {
    unsigned long b = y + m;
    y >>= 1;
    if (x >= b) {
      x -= b;
      y += m;
    }
    m >>= 2;
  }
  return y;
}

unsigned long inactive_ratio(unsigned long total_pages) {
  unsigned long gb = total_pages >> (30 - PAGE_SHIFT);
  return gb ? int_sqrt(10 * gb) : 1;
}

bool inactive_is_low(unsigned long inactive, unsigned long active) {
  return inactive * inactive_ratio(inactive + active) < active;
}

scan_count get_scan_count(const scan_count_control& sc) {
  scan_count out;
  std::uint64_t fraction[2] = {0, 0};  // [anon, file]
  std::uint64_t denominator = 0;
  const int swappiness = sc.swappiness;

  // The order of the tests is the kernel's: the first that matches decides.
  if (!sc.may_swap || !sc.can_reclaim_anon) {
    out.balance = SCAN_FILE;  // no swap space: do not bother scanning anon
  } else if (sc.cgroup_reclaim && !swappiness) {
    out.balance = SCAN_FILE;  // memcg swappiness 0 disables swapping for the group
  } else if (!sc.priority && swappiness) {
    out.balance = SCAN_EQUAL;  // close to OOM: scan both types by size
  } else if (sc.file_is_tiny) {
    out.balance = SCAN_ANON;  // almost out of file pages: force-scan anon
  } else if (sc.cache_trim_mode) {
    out.balance = SCAN_FILE;  // enough non-thrashing inactive cache: leave anon alone
  } else {
    out.balance = SCAN_FRACT;
    // Pressure inversely proportional to each type's reclaim cost; total_cost added to both
    // so neither type gets less than a third of the pressure before swappiness.
    unsigned long total_cost = sc.anon_cost + sc.file_cost;
    unsigned long anon_cost = total_cost + sc.anon_cost;
    unsigned long file_cost = total_cost + sc.file_cost;
    total_cost = anon_cost + file_cost;

    unsigned long ap = static_cast<unsigned long>(swappiness) * (total_cost + 1);
    ap /= anon_cost + 1;
    unsigned long fp = static_cast<unsigned long>(MAX_SWAPPINESS - swappiness) * (total_cost + 1);
    fp /= file_cost + 1;

    fraction[0] = ap;
    fraction[1] = fp;
    denominator = ap + fp;
  }

  for (int i = 0; i < NR_EVICTABLE_LRU_LISTS; i++) {
    const auto lru = static_cast<lru_list>(i);
    const bool file = is_file_lru(lru);
    const unsigned long lruvec_size = sc.lru_size[i];
    unsigned long scan;

    if (sc.min || sc.low) {
      // Scale a protected cgroup's pressure by how far its usage exceeds its protection.
      unsigned long protection;
      if (!sc.memcg_low_reclaim && sc.low > sc.min) {
        protection = sc.low;
        out.memcg_low_skipped = true;
      } else {
        protection = sc.min;
      }
      const unsigned long cgroup_size = sc.cgroup_size > protection ? sc.cgroup_size : protection;
      scan = lruvec_size - lruvec_size * protection / (cgroup_size + 1);
      if (scan < SWAP_CLUSTER_MAX) scan = SWAP_CLUSTER_MAX;  // keep reclaim moving
    } else {
      scan = lruvec_size;
    }

    scan >>= sc.priority;

    // A deleted cgroup: scrape out the remaining cache.
    if (!scan && !sc.memcg_online)
      scan = lruvec_size < SWAP_CLUSTER_MAX ? lruvec_size : SWAP_CLUSTER_MAX;

    switch (out.balance) {
      case SCAN_EQUAL:
        break;
      case SCAN_FRACT:
        // Offline memcgs round up so the last page is not missed.
        scan = sc.memcg_online ? static_cast<unsigned long>(scan * fraction[file] / denominator)
                               : static_cast<unsigned long>(
                                     (scan * fraction[file] + denominator - 1) / denominator);
        break;
      case SCAN_FILE:
      case SCAN_ANON:
        if ((out.balance == SCAN_FILE) != file) scan = 0;
        break;
    }
    out.nr[i] = scan;
  }
  return out;
}

bool compute_cache_trim_mode(unsigned long inactive_file, int priority, unsigned may_deactivate,
                             bool no_cache_trim_mode) {
  return (inactive_file >> priority) != 0 && !(may_deactivate & DEACTIVATE_FILE) &&
         !no_cache_trim_mode;
}

bool compute_file_is_tiny(unsigned long file, unsigned long free, unsigned long total_high_wmark,
                          unsigned may_deactivate, unsigned long inactive_anon, int priority,
                          bool cgroup_reclaim) {
  if (cgroup_reclaim) return false;
  return file + free <= total_high_wmark && !(may_deactivate & DEACTIVATE_ANON) &&
         (inactive_anon >> priority) != 0;
}

void lru_note_cost(lru_cost& cost, bool file, unsigned long nr_io, unsigned long nr_rotated,
                   unsigned long lrusize) {
  // IO (a refault or a write to swap) weighs SWAP_CLUSTER_MAX times a rotation (CPU work).
  const unsigned long c = nr_io * SWAP_CLUSTER_MAX + nr_rotated;
  if (!c) return;  // 6.x returns early; older kernels still ran the decay below
  (file ? cost.file_cost : cost.anon_cost) += c;
  // Decay: a floating average that weighs recent events more and cannot overflow.
  if (cost.file_cost + cost.anon_cost > lrusize / 4) {
    cost.file_cost /= 2;
    cost.anon_cost /= 2;
  }
}

}  // namespace mmbpf::mm
