// Worked examples pinning the kernel's reclaim, protection and OOM formulas (reference
// kernel-mm-model.md §1.1, §1.4, §1.5): inactive_is_low's ratio table, get_scan_count's split
// at several swappiness values, effective protection with overcommitted siblings, and
// oom_badness / select_bad_process ordering. Every expected number is derived by hand in a
// comment from the kernel formula.
#include <gtest/gtest.h>

#include <vector>

#include "mm/memcontrol_protection.h"
#include "mm/oom_badness.h"
#include "mm/vmscan_policy.h"

namespace mmbpf::mm {
namespace {

constexpr unsigned long GB = 1UL << (30 - PAGE_SHIFT);  // pages per GiB

// ---------------------------------------------------------------- inactive_is_low

TEST(InactiveIsLow, RatioTableFromTheKernelComment) {
  // mm/vmscan.c: "total target max inactive": 10MB 1 5MB, 100MB 1 50MB, 1GB 3 250MB,
  // 10GB 10 0.9GB, 100GB 31 3GB, 1TB 101 10GB, 10TB 320 32GB. ratio = int_sqrt(10 * gb) or 1.
  EXPECT_EQ(inactive_ratio(10 * GB / 1024), 1u);   // 10 MB: gb = 0
  EXPECT_EQ(inactive_ratio(100 * GB / 1024), 1u);  // 100 MB: gb = 0
  EXPECT_EQ(inactive_ratio(1 * GB), 3u);           // int_sqrt(10) = 3
  EXPECT_EQ(inactive_ratio(10 * GB), 10u);         // int_sqrt(100) = 10
  EXPECT_EQ(inactive_ratio(100 * GB), 31u);        // int_sqrt(1000) = 31
  EXPECT_EQ(inactive_ratio(1024 * GB), 101u);      // 1 TB: int_sqrt(10240) = 101
  EXPECT_EQ(inactive_ratio(10240 * GB), 320u);     // 10 TB: int_sqrt(102400) = 320
}

TEST(InactiveIsLow, BoundaryAtOneGigabyte) {
  // 1 GB = 262144 pages, ratio 3: low iff inactive * 3 < active.
  // 65536 * 3 = 196608, not < 196608: balanced (inactive is exactly a quarter).
  EXPECT_FALSE(inactive_is_low(65536, 196608));
  // 65535 * 3 = 196605 < 196609: low.
  EXPECT_TRUE(inactive_is_low(65535, 196609));
  // Below 1 GB the ratio is 1: low iff inactive < active.
  EXPECT_FALSE(inactive_is_low(1000, 1000));
  EXPECT_TRUE(inactive_is_low(999, 1001));
}

TEST(InactiveIsLow, IntSqrtIsFloor) {
  for (unsigned long x : {0UL, 1UL, 2UL, 3UL, 4UL, 15UL, 16UL, 17UL, 99UL, 100UL, 10239UL}) {
    unsigned long r = int_sqrt(x);
    EXPECT_LE(r * r, x) << x;
    EXPECT_GT((r + 1) * (r + 1), x) << x;
  }
  EXPECT_EQ(int_sqrt(~0UL), 0xFFFFFFFFUL);
}

// ---------------------------------------------------------------- get_scan_count

// Lists: inactive_anon 40000, active_anon 20000, inactive_file 80000, active_file 40000;
// priority 2, so each list's base scan is size >> 2 = 10000, 5000, 20000, 10000.
// Costs: anon_cost 100, file_cost 300 (file has been the costlier type to reclaim).
//   total_cost = 100 + 300 = 400
//   anon_cost' = 400 + 100 = 500;  file_cost' = 400 + 300 = 700;  total_cost' = 1200
//   ap = swappiness * 1201 / 501;  fp = (200 - swappiness) * 1201 / 701
//   nr[lru] = (size >> 2) * fraction[type] / (ap + fp), integer division throughout.
scan_count_control base_control(int swappiness) {
  scan_count_control sc;
  sc.lru_size = {40000, 20000, 80000, 40000};
  sc.priority = 2;
  sc.swappiness = swappiness;
  sc.anon_cost = 100;
  sc.file_cost = 300;
  return sc;
}

TEST(GetScanCount, Swappiness60) {
  // ap = 60 * 1201 / 501 = 72060 / 501 = 143;  fp = 140 * 1201 / 701 = 168140 / 701 = 239
  // denominator 382:  10000*143/382 = 3743,  5000*143/382 = 1871,
  //                   20000*239/382 = 12513, 10000*239/382 = 6256
  auto r = get_scan_count(base_control(60));
  EXPECT_EQ(r.balance, SCAN_FRACT);
  EXPECT_EQ(r.nr[LRU_INACTIVE_ANON], 3743u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_ANON], 1871u);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 12513u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_FILE], 6256u);
}

TEST(GetScanCount, Swappiness100EqualIoCost) {
  // ap = 100 * 1201 / 501 = 120100 / 501 = 239;  fp = 100 * 1201 / 701 = 120100 / 701 = 171
  // denominator 410:  10000*239/410 = 5829,  5000*239/410 = 2914,
  //                   20000*171/410 = 8341,  10000*171/410 = 4170
  // Anon gets the larger fraction because file has been the costlier type.
  auto r = get_scan_count(base_control(100));
  EXPECT_EQ(r.balance, SCAN_FRACT);
  EXPECT_EQ(r.nr[LRU_INACTIVE_ANON], 5829u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_ANON], 2914u);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 8341u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_FILE], 4170u);
}

TEST(GetScanCount, Swappiness0GlobalReclaimIsFractWithNoAnon) {
  // Global reclaim does not special-case swappiness 0 before priority 0: SCAN_FRACT with
  // ap = 0, fp = 200 * 1201 / 701 = 342, denominator 342: file lists get their full base.
  auto r = get_scan_count(base_control(0));
  EXPECT_EQ(r.balance, SCAN_FRACT);
  EXPECT_EQ(r.nr[LRU_INACTIVE_ANON], 0u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_ANON], 0u);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 20000u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_FILE], 10000u);
}

TEST(GetScanCount, Swappiness0CgroupReclaimIsScanFile) {
  auto sc = base_control(0);
  sc.cgroup_reclaim = true;
  auto r = get_scan_count(sc);
  EXPECT_EQ(r.balance, SCAN_FILE);
  EXPECT_EQ(r.nr[LRU_INACTIVE_ANON], 0u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_ANON], 0u);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 20000u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_FILE], 10000u);
}

TEST(GetScanCount, Swappiness200AnonOnlyFraction) {
  // ap = 200 * 1201 / 501 = 240200 / 501 = 479;  fp = 0 * ... = 0;  denominator 479.
  auto r = get_scan_count(base_control(200));
  EXPECT_EQ(r.balance, SCAN_FRACT);
  EXPECT_EQ(r.nr[LRU_INACTIVE_ANON], 10000u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_ANON], 5000u);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 0u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_FILE], 0u);
}

TEST(GetScanCount, NoCostHistoryGivesSwappinessSplit) {
  // Costs 0: every cost term is 0, ap = 60 * 1 / 1 = 60, fp = 140 * 1 / 1 = 140, denom 200.
  // 10000*60/200 = 3000, 5000*60/200 = 1500, 20000*140/200 = 14000, 10000*140/200 = 7000.
  auto sc = base_control(60);
  sc.anon_cost = sc.file_cost = 0;
  auto r = get_scan_count(sc);
  EXPECT_EQ(r.nr[LRU_INACTIVE_ANON], 3000u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_ANON], 1500u);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 14000u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_FILE], 7000u);
}

TEST(GetScanCount, NoSwapScansFileOnly) {
  auto sc = base_control(200);
  sc.can_reclaim_anon = false;
  auto r = get_scan_count(sc);
  EXPECT_EQ(r.balance, SCAN_FILE);
  EXPECT_EQ(r.nr[LRU_INACTIVE_ANON], 0u);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 20000u);
  sc = base_control(60);
  sc.may_swap = false;
  EXPECT_EQ(get_scan_count(sc).balance, SCAN_FILE);
}

TEST(GetScanCount, PriorityZeroScansEqually) {
  // Near OOM (priority 0) with swappiness > 0: every list by its full size.
  auto sc = base_control(60);
  sc.priority = 0;
  auto r = get_scan_count(sc);
  EXPECT_EQ(r.balance, SCAN_EQUAL);
  EXPECT_EQ(r.nr[LRU_INACTIVE_ANON], 40000u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_ANON], 20000u);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 80000u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_FILE], 40000u);
  // Swappiness 0 disagrees with swapping: still SCAN_FRACT with ap = 0 at priority 0.
  sc.swappiness = 0;
  r = get_scan_count(sc);
  EXPECT_EQ(r.balance, SCAN_FRACT);
  EXPECT_EQ(r.nr[LRU_INACTIVE_ANON], 0u);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 80000u);
}

TEST(GetScanCount, FileIsTinyAndCacheTrimMode) {
  auto sc = base_control(60);
  sc.file_is_tiny = true;
  sc.cache_trim_mode = true;  // file_is_tiny is tested first
  auto r = get_scan_count(sc);
  EXPECT_EQ(r.balance, SCAN_ANON);
  EXPECT_EQ(r.nr[LRU_INACTIVE_ANON], 10000u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_ANON], 5000u);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 0u);
  sc.file_is_tiny = false;
  r = get_scan_count(sc);
  EXPECT_EQ(r.balance, SCAN_FILE);
  EXPECT_EQ(r.nr[LRU_ACTIVE_ANON], 0u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_FILE], 10000u);
}

TEST(GetScanCount, MemcgProtectionScalesPressure) {
  // Only file (no swap), priority 0 -> SCAN_FILE. elow 600 of cgroup_size 1000:
  // scan = 1000 - 1000 * 600 / 1001 = 1000 - 599 = 401 for a 1000-page list; the empty anon
  // lists still get max(0, SWAP_CLUSTER_MAX) = 32 before SCAN_FILE zeroes them.
  scan_count_control sc;
  sc.lru_size = {0, 0, 1000, 0};
  sc.priority = 0;
  sc.can_reclaim_anon = false;
  sc.low = 600;
  sc.cgroup_size = 1000;
  auto r = get_scan_count(sc);
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 401u);
  EXPECT_EQ(r.nr[LRU_ACTIVE_FILE], SWAP_CLUSTER_MAX);  // 0 - 0 = 0, raised to 32
  EXPECT_TRUE(r.memcg_low_skipped);
  // The memcg_low_reclaim retry scales by min instead of low; with min = 100:
  sc.memcg_low_reclaim = true;
  sc.min = 100;
  r = get_scan_count(sc);
  // 1000 - 1000 * 100 / 1001 = 1000 - 99 = 901
  EXPECT_EQ(r.nr[LRU_INACTIVE_FILE], 901u);
  EXPECT_FALSE(r.memcg_low_skipped);
}

TEST(PrepareScanControl, CacheTrimModeAndFileIsTiny) {
  // inactive_file >> priority must be non-zero and the file list must not need deactivation.
  EXPECT_TRUE(compute_cache_trim_mode(4096, DEF_PRIORITY, 0));         // 4096 >> 12 = 1
  EXPECT_FALSE(compute_cache_trim_mode(4095, DEF_PRIORITY, 0));        // 0
  EXPECT_FALSE(compute_cache_trim_mode(1 << 20, 0, DEACTIVATE_FILE));  // file is thrashing
  EXPECT_FALSE(compute_cache_trim_mode(1 << 20, 0, 0, /*no_cache_trim_mode=*/true));
  // file + free <= high watermarks, anon not being deactivated, inactive anon >> prio != 0.
  EXPECT_TRUE(compute_file_is_tiny(100, 50, 150, 0, 4096, DEF_PRIORITY));
  EXPECT_FALSE(compute_file_is_tiny(100, 51, 150, 0, 4096, DEF_PRIORITY));
  EXPECT_FALSE(compute_file_is_tiny(100, 50, 150, DEACTIVATE_ANON, 4096, DEF_PRIORITY));
  EXPECT_FALSE(compute_file_is_tiny(100, 50, 150, 0, 4095, DEF_PRIORITY));
  EXPECT_FALSE(compute_file_is_tiny(100, 50, 150, 0, 4096, DEF_PRIORITY, /*cgroup=*/true));
}

TEST(LruNoteCost, IoWeighsAClusterAndCostsDecay) {
  lru_cost c;
  // One refaulted page: cost 1 * 32 + 0 = 32; lrusize 1000 -> 32 <= 250, no decay.
  lru_note_cost(c, /*file=*/true, 1, 0, 1000);
  EXPECT_EQ(c.file_cost, 32u);
  // 200 rotations of anon: anon 200, sum 232 <= 250.
  lru_note_cost(c, false, 0, 200, 1000);
  EXPECT_EQ(c.anon_cost, 200u);
  // One more refault: file 64, sum 264 > 250 -> both halve: file 32, anon 100.
  lru_note_cost(c, true, 1, 0, 1000);
  EXPECT_EQ(c.file_cost, 32u);
  EXPECT_EQ(c.anon_cost, 100u);
}

// ---------------------------------------------------------------- effective protection

TEST(EffectiveProtection, OvercommittedSiblingsShareProportionally) {
  // Parent elow 100; children low 100 and 50, both using 100.
  // siblings_protected = min(100,100) + min(100,50) = 150 > 100: overcommit.
  //   child 1: 100 * 100 / 150 = 66;  child 2: 50 * 100 / 150 = 33.
  EXPECT_EQ(effective_protection(100, 200, 100, 100, 150, false), 66u);
  EXPECT_EQ(effective_protection(100, 200, 50, 100, 150, false), 33u);
  // Work-conserving: shares follow use, not claims. Child 1 uses 30 of its 100:
  // siblings = 30 + 100 = 130 > 100: child 1: 30 * 100 / 130 = 23; child 2: 100*100/130 = 76.
  EXPECT_EQ(effective_protection(30, 130, 100, 100, 130, false), 23u);
  EXPECT_EQ(effective_protection(100, 130, 100, 100, 130, false), 76u);
}

TEST(EffectiveProtection, TreeWalkWithOvercommit) {
  // root_mem_cgroup -> P (low 100, usage 200) -> C1 (low 100, usage 100), C2 (low 50, 100).
  // Global reclaim: P is a child of the root and takes its raw low; then the example above.
  std::vector<page_counter_prot> t(4);
  t[0] = {-1, 200, 0, 0};
  t[1] = {0, 200, 0, 100};
  t[2] = {1, 100, 0, 100};
  t[3] = {1, 100, 0, 50};
  mem_cgroup_calculate_protection(t, -1, false);
  EXPECT_EQ(t[1].elow, 100u);
  EXPECT_EQ(t[2].elow, 66u);
  EXPECT_EQ(t[3].elow, 33u);
  EXPECT_EQ(children_low_usage(t, 1), 150u);
  // Reclaim of P itself (memcg limit hit in P): P's own protection is ignored, its children
  // are children of the reclaim root and take their raw low.
  mem_cgroup_calculate_protection(t, 1, false);
  EXPECT_EQ(t[2].elow, 100u);
  EXPECT_EQ(t[3].elow, 50u);
  EXPECT_EQ(mem_cgroup_protection(t, 1, 1).low, 0u);  // the target is unprotected
  EXPECT_EQ(mem_cgroup_protection(t, 1, 2).low, 100u);
  EXPECT_TRUE(mem_cgroup_below_low(t, 1, 2));    // usage 100 <= elow 100
  EXPECT_FALSE(mem_cgroup_below_low(t, 1, 1));   // the target itself
  EXPECT_FALSE(mem_cgroup_below_low(t, -1, 0));  // root_mem_cgroup
}

TEST(EffectiveProtection, SelftestMemcgMinInitialState) {
  // tools/testing/selftests/cgroup/test_memcontrol.c test_memcg_min, before pressure (MB):
  // A (reclaim target) -> B (min 50) -> C (min 75, usage 50), D (min 25, 50), E (0, 50),
  // F (min 500, usage 0). B is a child of the reclaim root: emin 50.
  // siblings = min(50,75) + min(50,25) + 0 + min(0,500) = 75 > 50:
  //   C = 50 * 50 / 75 = 33, D = 25 * 50 / 75 = 16, E = 0; F has no usage (left stale).
  std::vector<page_counter_prot> t(7);
  t[0] = {-1, 150, 0, 0};         // root_mem_cgroup
  t[1] = {0, 150, 0, 0};          // A
  t[2] = {1, 150, 50, 0};         // B
  t[3] = {2, 50, 75, 0};          // C
  t[4] = {2, 50, 25, 0};          // D
  t[5] = {2, 50, 0, 0};           // E
  t[6] = {2, 0, 500, 0, 123, 0};  // F, stale emin 123
  mem_cgroup_calculate_protection(t, 1, false);
  EXPECT_EQ(t[2].emin, 50u);
  EXPECT_EQ(t[3].emin, 33u);
  EXPECT_EQ(t[4].emin, 16u);
  EXPECT_EQ(t[5].emin, 0u);
  EXPECT_EQ(t[6].emin, 123u);
  EXPECT_FALSE(mem_cgroup_below_min(t, 1, 3));  // 50 > 33: reclaimable down to 33
}

TEST(EffectiveProtection, RecursiveProtDistributesUnclaimed) {
  // Parent elow 100, usage 200; C1 low 40 usage 100, C2 low 0 usage 100.
  // siblings = 40 <= 100. Without memory_recursiveprot: C1 = 40, C2 = 0.
  // With it: unclaimed 100 - 40 = 60 spread by unprotected usage over (200 - 40) = 160:
  //   C1 = 40 + 60 * (100 - 40) / 160 = 40 + 3600/160 = 40 + 22 = 62
  //   C2 = 0 + 60 * 100 / 160 = 6000/160 = 37
  EXPECT_EQ(effective_protection(100, 200, 40, 100, 40, false), 40u);
  EXPECT_EQ(effective_protection(100, 200, 0, 100, 40, false), 0u);
  EXPECT_EQ(effective_protection(100, 200, 40, 100, 40, true), 62u);
  EXPECT_EQ(effective_protection(100, 200, 0, 100, 40, true), 37u);
}

// ---------------------------------------------------------------- OOM

TEST(OomBadness, PointsAndAdjScaling) {
  // totalpages 1,000,000: one adj point = 1000 pages.
  oom_task a{.pid = 1, .rss = 100000, .swapents = 500, .pgtables_bytes = 40960};
  // 100000 + 500 + 40960/4096 = 100510
  EXPECT_EQ(oom_badness(a, 1000000), 100510);
  a.oom_score_adj = 1000;  // + 1000 * 1000 = 1,000,000
  EXPECT_EQ(oom_badness(a, 1000000), 1100510);
  a.oom_score_adj = -500;  // - 500,000: negative but still eligible
  EXPECT_EQ(oom_badness(a, 1000000), -399490);
  a.oom_score_adj = OOM_SCORE_ADJ_MIN;
  EXPECT_EQ(oom_badness(a, 1000000), LONG_MIN);
  // totalpages < 1000: totalpages / 1000 = 0, adj has no effect.
  a.oom_score_adj = 1000;
  EXPECT_EQ(oom_badness(a, 999), 100510);
  a.oom_score_adj = 0;
  a.unkillable = true;
  EXPECT_EQ(oom_badness(a, 1000000), LONG_MIN);
  a.unkillable = false;
  a.in_vfork = true;
  EXPECT_EQ(oom_badness(a, 1000000), LONG_MIN);
}

TEST(SelectBadProcess, OrderingWithOomScoreAdj) {
  const unsigned long total = 1000000;
  std::vector<oom_task> t = {
      {.pid = 10, .rss = 100000},                          // 100000
      {.pid = 11, .rss = 50000, .oom_score_adj = 1000},    // 50000 + 1,000,000 = 1,050,000
      {.pid = 12, .rss = 900000, .oom_score_adj = -1000},  // never
      {.pid = 13, .rss = 200000, .oom_score_adj = -500},   // 200000 - 500000 = -300000
  };
  auto c = select_bad_process(t, total);
  ASSERT_EQ(c.kind, oom_choice::chosen);
  EXPECT_EQ(t[c.index].pid, 11);
  EXPECT_EQ(c.points, 1050000);
  // Without the +1000 task the biggest wins, even against a far larger -1000 task.
  std::vector<oom_task> u = {t[0], t[2], t[3]};
  c = select_bad_process(u, total);
  EXPECT_EQ(u[c.index].pid, 10);
  // A negative score is still chosen over none.
  std::vector<oom_task> v = {t[2], t[3]};
  c = select_bad_process(v, total);
  ASSERT_EQ(c.kind, oom_choice::chosen);
  EXPECT_EQ(v[c.index].pid, 13);
  EXPECT_EQ(c.points, -300000);
  // Only -1000 tasks: nothing to kill.
  std::vector<oom_task> w = {t[2]};
  EXPECT_EQ(select_bad_process(w, total).kind, oom_choice::none);
}

TEST(SelectBadProcess, TiesGoToTheLastTaskInIterationOrder) {
  // oom_evaluate_task skips only `points < chosen_points`: an equal score replaces the chosen.
  std::vector<oom_task> t = {{.pid = 1, .rss = 500}, {.pid = 2, .rss = 500}, {.pid = 3, .rss = 10}};
  auto c = select_bad_process(t, 1000000);
  EXPECT_EQ(t[c.index].pid, 2);
}

TEST(SelectBadProcess, OriginVictimAndAbort) {
  std::vector<oom_task> t = {{.pid = 1, .rss = 100000, .oom_score_adj = 1000},
                             {.pid = 2, .rss = 1, .oom_task_origin = true}};
  auto c = select_bad_process(t, 1000000);
  EXPECT_EQ(t[c.index].pid, 2);
  EXPECT_EQ(c.points, LONG_MAX);
  // An earlier victim still dying aborts the scan; once reaped (MMF_OOM_SKIP) it is skipped.
  std::vector<oom_task> u = {{.pid = 1, .rss = 100}, {.pid = 2, .rss = 5, .oom_victim = true}};
  EXPECT_EQ(select_bad_process(u, 1000000).kind, oom_choice::abort);
  EXPECT_EQ(select_bad_process(u, 1000000, /*sysrq=*/true).kind, oom_choice::chosen);
  u[1].mmf_oom_skip = true;
  c = select_bad_process(u, 1000000);
  ASSERT_EQ(c.kind, oom_choice::chosen);
  EXPECT_EQ(u[c.index].pid, 1);
}

}  // namespace
}  // namespace mmbpf::mm
