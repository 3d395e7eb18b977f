// Workingset detection of Linux 6.6 (mm/workingset.c), classic two-list LRU.
//
// The problem. Per lruvec, file (and anon) folios live on an inactive and an active list.
// New folios enter the inactive list; a second access promotes them to the active list;
// reclaim takes folios from the tail of the inactive list and deactivates from the active
// one. A folio that is accessed twice only at a distance longer than the inactive list is
// evicted before its second access counts, so a working set just larger than the inactive
// list thrashes forever while the active list holds stale folios. To tell such a folio from
// a truly cold one, reclaim leaves a shadow of it in the page-cache slot and measures, on the
// refault, how long it had been gone.
//
// The clock. Each lruvec counts nonresident_age: +nr_pages per eviction and per activation
// (workingset_age_nonresident(), done for the lruvec and every ancestor, since a parent's
// lists are its children's lists together). Both events move a folio one slot further from
// the head of the inactive list: an eviction takes one off the tail, an activation takes one
// out of the middle. So the age difference between a folio's eviction and its refault,
//     refault_distance = nonresident_age(refault) - nonresident_age(eviction),
// is the number of slots the inactive list would have needed beyond its size for the folio
// to still be resident at the refault: it is the folio's minimum access distance minus what
// the inactive list already covered.
//
// The test. Had the inactive list been refault_distance pages longer, the folio would have
// been activated instead of refaulting. The inactive list can only grow by taking from the
// active list, so the refault is "recent" (worth activating, to let it compete with the
// active folios) iff refault_distance <= the active list it would displace. In 6.x the
// competition is across types (workingset_size, at the eviction lruvec):
//   file refault: NR_ACTIVE_FILE
//                 + (swap available ? NR_ACTIVE_ANON + NR_INACTIVE_ANON : 0)
//   anon refault: NR_ACTIVE_FILE + NR_INACTIVE_FILE
//                 + (swap available ? NR_ACTIVE_ANON : 0)
// Anon can only be displaced if it can be swapped out, hence the swap condition
// (mem_cgroup_get_nr_swap_pages() of the eviction memcg > 0). A refault that passes is
// activated, which ages the refaulting lruvec again (an activation). A refault that fails is
// put on the inactive list as a new folio: it was cold, or the memory is too small for it.
//
// Restore. The shadow also keeps PG_workingset: the folio had been active before it was
// evicted. If such a folio refaults and is activated it is an established working set being
// thrashed: it gets PG_workingset back (which makes later waits on it count as memstall for
// PSI), reclaim cost is noted (lru_note_cost_refault()), and WORKINGSET_RESTORE is counted.
//
// Where. The decision is made at the lruvec where the eviction happened (the shadow's memcg
// id and node id), whose LRU order caused the eviction; the counters and the aging on
// activation go to the lruvec of the memcg that is charged for the refault.
//
// The shadow. The eviction timestamp is stored with memcg id, node id and the workingset bit
// in one xarray value word (layout in workingset.h): 64 - EVICTION_SHIFT = 36 bits of time.
// With more RAM than 2^36 pages the clock is kept in buckets of 2^bucket_order pages;
// bucket_order is 0 below 256 TiB of 4 KiB pages. Differences are taken modulo 2^36
// ((refault - eviction) & EVICTION_MASK), so the stored clock may wrap; a folio evicted more
// than 2^36 aged pages ago aliases to a short distance, which the kernel accepts (the shadow
// shrinker normally drops such old shadows first).
#include "mm/workingset.h"

#include <bit>

namespace mmbpf::mm {

shadow_t pack_shadow(unsigned memcgid, unsigned nid, unsigned long eviction, bool workingset) {
  std::uint64_t v = eviction & EVICTION_MASK;
  v = (v << MEM_CGROUP_ID_SHIFT) | memcgid;
  v = (v << NODES_SHIFT) | nid;
  v = (v << WORKINGSET_SHIFT) | (workingset ? 1U : 0U);
  return (v << 1) | 1;  // xa_mk_value()
}

unpacked_shadow unpack_shadow(shadow_t shadow) {
  std::uint64_t entry = shadow >> 1;  // xa_to_value()
  unpacked_shadow s;
  s.workingset = (entry & ((1UL << WORKINGSET_SHIFT) - 1)) != 0;
  entry >>= WORKINGSET_SHIFT;
  s.nid = static_cast<unsigned>(entry & ((1UL << NODES_SHIFT) - 1));
  entry >>= NODES_SHIFT;
  s.memcgid = static_cast<unsigned>(entry & ((1UL << MEM_CGROUP_ID_SHIFT) - 1));
  entry >>= MEM_CGROUP_ID_SHIFT;
  s.eviction = entry;
  return s;
}

unsigned workingset_bucket_order(unsigned long totalram_pages) {
  constexpr unsigned timestamp_bits = WS_BITS_PER_LONG - EVICTION_SHIFT;
  // fls_long(x): index of the highest set bit, 1-based; 0 for x == 0.
  const unsigned max_order =
      totalram_pages <= 1 ? 0U : static_cast<unsigned>(std::bit_width(totalram_pages - 1));
  return max_order > timestamp_bits ? max_order - timestamp_bits : 0U;
}

void workingset_age_nonresident(lruvec_nonresident& lruvec, unsigned long nr_pages) {
  // Simplified: plain adds on a parent chain instead of atomic_long_add + parent_lruvec().
  for (lruvec_nonresident* l = &lruvec; l != nullptr; l = l->parent) l->nonresident_age += nr_pages;
}

shadow_t workingset_eviction(lruvec_nonresident& lruvec, unsigned memcgid, unsigned nid,
                             unsigned long nr_pages, bool workingset, unsigned bucket_order) {
  // The timestamp is read before the eviction itself ages the lruvec.
  const unsigned long eviction = lruvec.nonresident_age >> bucket_order;
  workingset_age_nonresident(lruvec, nr_pages);
  return pack_shadow(memcgid, nid, eviction, workingset);
}

workingset_test workingset_test_recent(shadow_t shadow, bool file, const eviction_lruvec_view& ev,
                                       unsigned bucket_order) {
  const unpacked_shadow s = unpack_shadow(shadow);
  workingset_test t;
  t.workingset = s.workingset;
  // The kernel returns false when mem_cgroup_from_id() finds no memcg (it was deleted).
  if (ev.lruvec == nullptr) return t;
  const unsigned long eviction = s.eviction << bucket_order;
  t.refault_distance = (ev.lruvec->nonresident_age - eviction) & EVICTION_MASK;
  t.workingset_size = ev.sizes.active_file;
  if (!file) t.workingset_size += ev.sizes.inactive_file;
  if (ev.swap_available) {
    t.workingset_size += ev.sizes.active_anon;
    if (file) t.workingset_size += ev.sizes.inactive_anon;
  }
  t.recent = t.refault_distance <= t.workingset_size;
  return t;
}

workingset_refault_result workingset_refault(lruvec_nonresident& lruvec, shadow_t shadow, bool file,
                                             unsigned long nr_pages, const eviction_lruvec_view& ev,
                                             unsigned bucket_order) {
  workingset_refault_result r;
  r.file = file;
  r.refault = nr_pages;
  r.test = workingset_test_recent(shadow, file, ev, bucket_order);
  if (!r.test.recent) return r;
  r.activate = true;
  workingset_age_nonresident(lruvec, nr_pages);
  r.activated = nr_pages;
  if (r.test.workingset) {  // folio was active prior to eviction
    r.set_workingset = true;
    r.restored = nr_pages;
  }
  return r;
}

void workingset_stats::add(const workingset_refault_result& r) {
  (r.file ? workingset_refault_file : workingset_refault_anon) += r.refault;
  (r.file ? workingset_activate_file : workingset_activate_anon) += r.activated;
  (r.file ? workingset_restore_file : workingset_restore_anon) += r.restored;
}

}  // namespace mmbpf::mm
