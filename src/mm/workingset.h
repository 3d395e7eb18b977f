// Workingset detection: the refault-distance rule of mm/workingset.c (Linux 6.6, classic
// active/inactive LRU, not MGLRU), as pure decisions over a per-lruvec counter and an 8-byte
// shadow entry. The caller owns the page cache, the LRU lists and the memcg tree: it stores
// the shadow workingset_eviction() returns in the evicted folio's page-cache (or swap-cache)
// slot, and on a fault that finds a shadow it unpacks it, resolves the eviction lruvec
// (memcg id x node id) and calls workingset_refault(). workingset.cpp opens with the
// algorithm in prose.
//
// Simplified (each also said where it applies in workingset.cpp):
// - nonresident_age is a plain unsigned long, not atomic_long_t (the model is single-threaded).
// - memcg ids and the memcg tree are the caller's: parent_lruvec() is a parent pointer, and a
//   shadow whose memcg no longer exists is passed as a null eviction lruvec.
// - No stats flush / rcu; lru_note_cost_refault() is reported to the caller, not done here.
// - The shadow-node shrinker (count/scan_shadow_nodes) is not modelled here.
#pragma once

#include <cstdint>

namespace mmbpf::mm {

// The layout constants of mm/workingset.c for a 64-bit kernel, NODES_SHIFT 10 (MAX_NUMNODES
// 1024, as bpf/include/vmlinux.h assumes).
inline constexpr unsigned WS_BITS_PER_LONG = 64;
inline constexpr unsigned BITS_PER_XA_VALUE = WS_BITS_PER_LONG - 1;  // xa_mk_value() tag bit
inline constexpr unsigned MEM_CGROUP_ID_SHIFT = 16;                  // include/linux/memcontrol.h
inline constexpr unsigned NODES_SHIFT = 10;                          // CONFIG_NODES_SHIFT
inline constexpr unsigned WORKINGSET_SHIFT = 1;
inline constexpr unsigned EVICTION_SHIFT =
    (WS_BITS_PER_LONG - BITS_PER_XA_VALUE) + WORKINGSET_SHIFT + NODES_SHIFT + MEM_CGROUP_ID_SHIFT;
inline constexpr unsigned long EVICTION_MASK = ~0UL >> EVICTION_SHIFT;  // 36 timestamp bits

// A shadow entry: one xarray value word, 8 bytes (the Done-means budget is 16). Bit layout,
// least significant first:
//   bit  0       1 (xa_mk_value tag: "a value, not a folio pointer")
//   bit  1       workingset: PG_workingset of the folio when it was evicted
//   bits 2..11   node id (NODES_SHIFT)
//   bits 12..27  memcg id (MEM_CGROUP_ID_SHIFT; 0 = root / memcg disabled)
//   bits 28..63  eviction timestamp: (nonresident_age >> bucket_order) & EVICTION_MASK
using shadow_t = std::uint64_t;
static_assert(sizeof(shadow_t) <= 16, "Done-means: at most 16 bytes per shadow entry");

// xa_is_value(): a page-cache slot holding this word is a shadow, not a folio.
constexpr bool xa_is_value(shadow_t entry) {
  return (entry & 1) != 0;
}

// pack_shadow(): eviction is masked to EVICTION_MASK. REQUIRES memcgid < 2^16, nid < 2^10.
shadow_t pack_shadow(unsigned memcgid, unsigned nid, unsigned long eviction, bool workingset);

struct unpacked_shadow {
  unsigned memcgid = 0;
  unsigned nid = 0;
  unsigned long eviction = 0;  // still >> bucket_order; workingset_test_recent() shifts it back
  bool workingset = false;
};
// unpack_shadow(): the inverse of pack_shadow(). REQUIRES xa_is_value(shadow).
unpacked_shadow unpack_shadow(shadow_t shadow);

// workingset_init()'s bucket_order: the timestamp keeps EVICTION_SHIFT fewer bits than a long,
// so with more than 2^36 pages of RAM evictions are counted in buckets of 2^bucket_order.
// max(0, fls_long(totalram_pages - 1) - (BITS_PER_LONG - EVICTION_SHIFT)).
unsigned workingset_bucket_order(unsigned long totalram_pages);

// The part of struct lruvec this module owns. One per memcg x node; parent is
// parent_lruvec(): the same node's lruvec of the parent memcg, null at the root (or with
// memcg disabled). Non-owning; the caller keeps parents alive as long as children.
struct lruvec_nonresident {
  unsigned long nonresident_age = 0;  // wraps; only differences masked by EVICTION_MASK matter
  lruvec_nonresident* parent = nullptr;
};

// workingset_age_nonresident(): adds nr_pages to this lruvec's nonresident_age and to every
// ancestor's. Called for each eviction (inside workingset_eviction()) and each activation.
void workingset_age_nonresident(lruvec_nonresident& lruvec, unsigned long nr_pages);

// workingset_activation(): a resident folio of nr_pages was activated on the LRU
// (folio_mark_accessed() promoting it): ages its lruvec like an eviction does.
inline void workingset_activation(lruvec_nonresident& lruvec, unsigned long nr_pages) {
  workingset_age_nonresident(lruvec, nr_pages);
}

// workingset_eviction(): a folio of nr_pages leaves the lruvec of (memcgid, nid). Reads the
// timestamp, then ages the lruvec (and ancestors), and returns the shadow to store.
// workingset is folio_test_workingset(). REQUIRES the folio's memcg id and node as above.
shadow_t workingset_eviction(lruvec_nonresident& lruvec, unsigned memcgid, unsigned nid,
                             unsigned long nr_pages, bool workingset, unsigned bucket_order);

// lruvec_page_state() of the four evictable lists of the eviction lruvec, in pages.
struct workingset_lru_sizes {
  unsigned long inactive_anon = 0;  // NR_INACTIVE_ANON
  unsigned long active_anon = 0;    // NR_ACTIVE_ANON
  unsigned long inactive_file = 0;  // NR_INACTIVE_FILE
  unsigned long active_file = 0;    // NR_ACTIVE_FILE
};

// The eviction lruvec as the refault test reads it: resolved by the caller from the shadow's
// memcg id and node id (mem_cgroup_from_id() + mem_cgroup_lruvec()).
struct eviction_lruvec_view {
  const lruvec_nonresident* lruvec = nullptr;  // null: the memcg is gone, never recent
  workingset_lru_sizes sizes;
  bool swap_available = false;  // mem_cgroup_get_nr_swap_pages(eviction memcg) > 0
};

struct workingset_test {
  bool recent = false;      // refault_distance <= workingset_size
  bool workingset = false;  // the shadow's workingset bit
  unsigned long refault_distance = 0;
  unsigned long workingset_size = 0;
};

// workingset_test_recent(): was the folio evicted recently enough that it would have stayed
// resident had the inactive list been refault_distance pages longer? file says which LRU the
// refaulting folio belongs to. See workingset.cpp for the workingset_size rule.
workingset_test workingset_test_recent(shadow_t shadow, bool file, const eviction_lruvec_view& ev,
                                       unsigned bucket_order);

// What workingset_refault() did, in pages (folio_nr_pages), to be added by the caller to the
// refaulting lruvec's counters (mod_lruvec_state(): node and memcg up the hierarchy).
struct workingset_refault_result {
  bool file = false;
  bool activate = false;        // folio_set_active() before it goes on the LRU
  bool set_workingset = false;  // folio_set_workingset() and lru_note_cost_refault()
  unsigned long refault = 0;    // WORKINGSET_REFAULT_{ANON,FILE}
  unsigned long activated = 0;  // WORKINGSET_ACTIVATE_{ANON,FILE}
  unsigned long restored = 0;   // WORKINGSET_RESTORE_{ANON,FILE}
  workingset_test test;
};

// workingset_refault(): a folio of nr_pages read back in over `shadow`. Counts the refault,
// decides activation at the eviction lruvec (ev), and if activating ages the refaulting
// lruvec `lruvec` (that of the memcg now charged, on the folio's node) by nr_pages. A restore
// (shadow had the workingset bit) is counted only together with an activation.
workingset_refault_result workingset_refault(lruvec_nonresident& lruvec, shadow_t shadow, bool file,
                                             unsigned long nr_pages, const eviction_lruvec_view& ev,
                                             unsigned bucket_order);

// The memory.stat / vmstat counters of this module, under the kernel's names.
struct workingset_stats {
  unsigned long workingset_refault_anon = 0;
  unsigned long workingset_refault_file = 0;
  unsigned long workingset_activate_anon = 0;
  unsigned long workingset_activate_file = 0;
  unsigned long workingset_restore_anon = 0;
  unsigned long workingset_restore_file = 0;
  void add(const workingset_refault_result& r);
};

}  // namespace mmbpf::mm
