// Workingset detection (src/mm/workingset.h) against worked examples of mm/workingset.c:
// shadow packing, the nonresident_age clock up the hierarchy, and the refault activation
// test for file and anon with and without swap, including timestamp wrap-around.
#include "mm/workingset.h"

#include <gtest/gtest.h>

namespace mmbpf::mm {
namespace {

TEST(Workingset, LayoutConstants) {
  EXPECT_EQ(EVICTION_SHIFT, 28U);  // 1 (xa tag) + 1 + 10 + 16
  EXPECT_EQ(EVICTION_MASK, (1UL << 36) - 1);
  EXPECT_EQ(sizeof(shadow_t), 8U);
}

TEST(Workingset, PackUnpackRoundTripEdgeValues) {
  const struct {
    unsigned memcgid, nid;
    unsigned long eviction;
    bool ws;
  } cases[] = {{0, 0, 0, false},
               {0xffff, 0x3ff, EVICTION_MASK, true},
               {1, 0, 1, false},
               {0, 1, EVICTION_MASK - 1, true},
               {0x8000, 0x200, 1UL << 35, false}};
  for (const auto& c : cases) {
    const shadow_t s = pack_shadow(c.memcgid, c.nid, c.eviction, c.ws);
    EXPECT_TRUE(xa_is_value(s));
    const unpacked_shadow u = unpack_shadow(s);
    EXPECT_EQ(u.memcgid, c.memcgid);
    EXPECT_EQ(u.nid, c.nid);
    EXPECT_EQ(u.eviction, c.eviction);
    EXPECT_EQ(u.workingset, c.ws);
  }
  // All ones in every field fills the word.
  EXPECT_EQ(pack_shadow(0xffff, 0x3ff, EVICTION_MASK, true), ~0ULL);
  // The timestamp is masked to 36 bits on packing.
  EXPECT_EQ(unpack_shadow(pack_shadow(3, 2, (1UL << 36) + 5, false)).eviction, 5UL);
  // Bit layout: tag bit 0, workingset bit 1, nid from bit 2, memcg id from 12, time from 28.
  EXPECT_EQ(pack_shadow(0, 0, 0, true), 0b11ULL);
  EXPECT_EQ(pack_shadow(0, 1, 0, false), (1ULL << 2) | 1);
  EXPECT_EQ(pack_shadow(1, 0, 0, false), (1ULL << 12) | 1);
  EXPECT_EQ(pack_shadow(0, 0, 1, false), (1ULL << 28) | 1);
}

TEST(Workingset, BucketOrder) {
  EXPECT_EQ(workingset_bucket_order(0), 0U);
  EXPECT_EQ(workingset_bucket_order(1), 0U);
  EXPECT_EQ(workingset_bucket_order(1UL << 22), 0U);  // 16 GiB of 4 KiB pages
  EXPECT_EQ(workingset_bucket_order(1UL << 36), 0U);  // fls_long(2^36 - 1) = 36
  EXPECT_EQ(workingset_bucket_order((1UL << 36) + 1), 1U);
  EXPECT_EQ(workingset_bucket_order(1UL << 40), 4U);
}

TEST(Workingset, AgeNonresidentPropagatesToAncestors) {
  lruvec_nonresident root, parent{0, &root}, child{0, &parent}, sibling{0, &parent};
  workingset_age_nonresident(child, 3);
  workingset_activation(sibling, 2);
  EXPECT_EQ(child.nonresident_age, 3UL);
  EXPECT_EQ(sibling.nonresident_age, 2UL);
  EXPECT_EQ(parent.nonresident_age, 5UL);
  EXPECT_EQ(root.nonresident_age, 5UL);
}

TEST(Workingset, EvictionReadsTimestampThenAges) {
  lruvec_nonresident root, cg{100, &root};
  const shadow_t s = workingset_eviction(cg, 7, 1, 4, true, 0);
  const unpacked_shadow u = unpack_shadow(s);
  EXPECT_EQ(u.eviction, 100UL);
  EXPECT_EQ(u.memcgid, 7U);
  EXPECT_EQ(u.nid, 1U);
  EXPECT_TRUE(u.workingset);
  EXPECT_EQ(cg.nonresident_age, 104UL);
  EXPECT_EQ(root.nonresident_age, 4UL);
  // With buckets the timestamp is stored shifted down.
  lruvec_nonresident big{1000, nullptr};
  EXPECT_EQ(unpack_shadow(workingset_eviction(big, 0, 0, 1, false, 3)).eviction, 125UL);
}

// A file folio evicted, then `gap` pages of evictions/activations later refaulting.
workingset_refault_result file_refault_after(unsigned long gap, workingset_lru_sizes sizes,
                                             bool swap, bool file = true) {
  lruvec_nonresident lru{1000, nullptr};
  const shadow_t s = workingset_eviction(lru, 0, 0, 1, false, 0);  // age 1000 -> 1001
  workingset_age_nonresident(lru, gap - 1);                        // age 1000 + gap
  return workingset_refault(lru, s, file, 1, {&lru, sizes, swap}, 0);
}

TEST(Workingset, FileRefaultBelowActiveFileActivates) {
  const workingset_lru_sizes sizes{
      .inactive_anon = 0, .active_anon = 0, .inactive_file = 500, .active_file = 100};
  auto r = file_refault_after(100, sizes, false);
  EXPECT_EQ(r.test.refault_distance, 100UL);
  EXPECT_EQ(r.test.workingset_size, 100UL);
  EXPECT_TRUE(r.activate);  // distance == workingset size: <= activates
  EXPECT_EQ(r.refault, 1UL);
  EXPECT_EQ(r.activated, 1UL);
  EXPECT_EQ(r.restored, 0UL);

  r = file_refault_after(101, sizes, false);
  EXPECT_FALSE(r.activate);  // inactive file does not count for a file refault
  EXPECT_EQ(r.refault, 1UL);
  EXPECT_EQ(r.activated, 0UL);
}

TEST(Workingset, FileRefaultCountsAnonOnlyWithSwap) {
  const workingset_lru_sizes sizes{
      .inactive_anon = 300, .active_anon = 200, .inactive_file = 50, .active_file = 100};
  // Without swap anon cannot be displaced: workingset_size = active file = 100.
  auto r = file_refault_after(400, sizes, false);
  EXPECT_EQ(r.test.workingset_size, 100UL);
  EXPECT_FALSE(r.activate);
  // With swap: active file + active anon + inactive anon = 600.
  r = file_refault_after(400, sizes, true);
  EXPECT_EQ(r.test.workingset_size, 600UL);
  EXPECT_TRUE(r.activate);
  EXPECT_TRUE(file_refault_after(600, sizes, true).activate);
  EXPECT_FALSE(file_refault_after(601, sizes, true).activate);
}

TEST(Workingset, AnonRefaultMirrored) {
  const workingset_lru_sizes sizes{
      .inactive_anon = 300, .active_anon = 200, .inactive_file = 50, .active_file = 100};
  // Anon refault: active file + inactive file, plus active anon (not inactive) with swap.
  auto r = file_refault_after(150, sizes, false, /*file=*/false);
  EXPECT_EQ(r.test.workingset_size, 150UL);
  EXPECT_TRUE(r.activate);
  EXPECT_FALSE(file_refault_after(151, sizes, false, false).activate);
  r = file_refault_after(350, sizes, true, false);
  EXPECT_EQ(r.test.workingset_size, 350UL);
  EXPECT_TRUE(r.activate);
  EXPECT_FALSE(file_refault_after(351, sizes, true, false).activate);

  workingset_stats st;
  st.add(r);
  st.add(file_refault_after(351, sizes, true, false));
  EXPECT_EQ(st.workingset_refault_anon, 2UL);
  EXPECT_EQ(st.workingset_activate_anon, 1UL);
  EXPECT_EQ(st.workingset_refault_file, 0UL);
  EXPECT_EQ(st.workingset_activate_file, 0UL);
}

TEST(Workingset, ActivationAgesRefaultingLruvecOnly) {
  lruvec_nonresident root, evict_cg{10, &root}, fault_cg{20, &root};
  const shadow_t s = workingset_eviction(evict_cg, 1, 0, 1, false, 0);
  const workingset_lru_sizes sizes{.active_file = 10};
  const auto r = workingset_refault(fault_cg, s, true, 2, {&evict_cg, sizes, false}, 0);
  EXPECT_TRUE(r.activate);
  EXPECT_EQ(r.test.refault_distance, 1UL);  // measured on the eviction lruvec's clock
  EXPECT_EQ(r.refault, 2UL);                // folio_nr_pages
  EXPECT_EQ(fault_cg.nonresident_age, 22UL);
  EXPECT_EQ(evict_cg.nonresident_age, 11UL);
  EXPECT_EQ(root.nonresident_age, 3UL);
}

TEST(Workingset, TimestampWrapsWithEvictionMask) {
  // Stored clock wraps: evicted at 2^36 - 6, refault at 2^36 + 9 (stored as 9): distance 15.
  lruvec_nonresident lru{EVICTION_MASK - 5, nullptr};
  const shadow_t s = workingset_eviction(lru, 0, 0, 1, false, 0);
  workingset_age_nonresident(lru, 14);
  EXPECT_EQ(lru.nonresident_age, (1UL << 36) + 9);
  const workingset_lru_sizes sizes{.active_file = 15};
  auto t = workingset_test_recent(s, true, {&lru, sizes, false}, 0);
  EXPECT_EQ(t.refault_distance, 15UL);
  EXPECT_TRUE(t.recent);

  // The 64-bit counter itself wraps.
  lruvec_nonresident w{~0UL - 2, nullptr};
  const shadow_t s2 = workingset_eviction(w, 0, 0, 1, false, 0);
  workingset_age_nonresident(w, 9);  // age wrapped to 7
  EXPECT_EQ(w.nonresident_age, 7UL);
  t = workingset_test_recent(s2, true, {&w, sizes, false}, 0);
  EXPECT_EQ(t.refault_distance, 10UL);
  EXPECT_TRUE(t.recent);

  // A distance of 2^36 + 3 aliases to 3 (the kernel's accepted ambiguity).
  lruvec_nonresident a{0, nullptr};
  const shadow_t s3 = workingset_eviction(a, 0, 0, 1, false, 0);
  workingset_age_nonresident(a, (1UL << 36) + 2);
  EXPECT_EQ(workingset_test_recent(s3, true, {&a, sizes, false}, 0).refault_distance, 3UL);
}

TEST(Workingset, BucketedDistance) {
  // bucket_order 4: eviction at age 100 stored as 6, restored as 96.
  lruvec_nonresident lru{100, nullptr};
  const shadow_t s = workingset_eviction(lru, 0, 0, 1, false, 4);
  workingset_age_nonresident(lru, 19);  // age 120
  const auto t = workingset_test_recent(s, true, {&lru, {.active_file = 24}, false}, 4);
  EXPECT_EQ(t.refault_distance, 24UL);
  EXPECT_TRUE(t.recent);
}

TEST(Workingset, RestoreWhenWorkingsetBitSet) {
  lruvec_nonresident lru{0, nullptr};
  const workingset_lru_sizes sizes{.active_file = 10};
  const shadow_t ws = workingset_eviction(lru, 0, 0, 1, true, 0);
  auto r = workingset_refault(lru, ws, true, 1, {&lru, sizes, false}, 0);
  EXPECT_TRUE(r.activate);
  EXPECT_TRUE(r.set_workingset);
  EXPECT_EQ(r.restored, 1UL);
  workingset_stats st;
  st.add(r);
  EXPECT_EQ(st.workingset_refault_file, 1UL);
  EXPECT_EQ(st.workingset_activate_file, 1UL);
  EXPECT_EQ(st.workingset_restore_file, 1UL);

  // Workingset bit but not recent: no activation, so no restore either.
  const shadow_t old = workingset_eviction(lru, 0, 0, 1, true, 0);
  workingset_age_nonresident(lru, 100);
  r = workingset_refault(lru, old, true, 1, {&lru, sizes, false}, 0);
  EXPECT_TRUE(r.test.workingset);
  EXPECT_FALSE(r.activate);
  EXPECT_FALSE(r.set_workingset);
  EXPECT_EQ(r.restored, 0UL);

  // Recent but never active before eviction: activated, not restored.
  const shadow_t cold = workingset_eviction(lru, 0, 0, 1, false, 0);
  r = workingset_refault(lru, cold, false, 1, {&lru, sizes, false}, 0);
  EXPECT_TRUE(r.activate);
  EXPECT_EQ(r.restored, 0UL);
}

TEST(Workingset, ShadowOfAnotherMemcgAndNodeDecoded) {
  // Evicted from memcg 42 on node 3; refaults into memcg 5 on node 0.
  lruvec_nonresident root, cg42_n3{5000, &root}, cg5_n0{7, &root};
  const shadow_t s = workingset_eviction(cg42_n3, 42, 3, 1, true, 0);
  const unpacked_shadow u = unpack_shadow(s);
  EXPECT_EQ(u.memcgid, 42U);
  EXPECT_EQ(u.nid, 3U);
  EXPECT_EQ(u.eviction, 5000UL);
  EXPECT_TRUE(u.workingset);
  workingset_age_nonresident(cg42_n3, 9);  // eviction lruvec now at 5010
  const auto r = workingset_refault(cg5_n0, s, true, 1, {&cg42_n3, {.active_file = 10}, false}, 0);
  EXPECT_EQ(r.test.refault_distance, 10UL);
  EXPECT_TRUE(r.activate);
  EXPECT_EQ(cg5_n0.nonresident_age, 8UL);

  // The eviction memcg was deleted: counted as a refault, never activated.
  const auto gone = workingset_refault(cg5_n0, s, true, 1, {nullptr, {}, true}, 0);
  EXPECT_FALSE(gone.activate);
  EXPECT_EQ(gone.refault, 1UL);
  EXPECT_TRUE(gone.test.workingset);
}

}  // namespace
}  // namespace mmbpf::mm
