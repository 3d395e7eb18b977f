// LRU list management (mm/swap.c, include/linux/mm_inline.h) and swap slots (mm/swapfile.c).
//
// Which list a folio is on follows from its flags, as folio_lru_list() says: unevictable, else
// (file ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON) + active. New folios enter at the head of
// their list (lruvec_add_folio); reclaim takes from the tail. folio_mark_accessed() is the
// two-touch rule of buffered IO: the first access sets PG_referenced, the second activates
// (moves to the active list, ages the workingset clock via workingset_activation()), and on
// the active list a second access only sets PG_referenced again.
//
// Simplified: no per-CPU folio batches (lru_add, lru_activate, lru_deactivate...): every
// move happens at once, so "not yet on the LRU" never occurs. Swap slots are a free stack;
// no clusters, no swap cache beyond the swap entry of a folio being written out.
#include <algorithm>

#include "mm/folio.h"
#include "mm/model.h"

namespace mmbpf::mm {

int model::folio_lru_list(const ::folio* f) const {
  if (folio_test(f, PG_unevictable)) return LRU_UNEVICTABLE;
  int lru = folio_is_file_lru(f) ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON;
  if (folio_test(f, PG_active)) lru += 1;
  return lru;
}

void model::lruvec_add_folio(lruvec& v, ::folio* f, bool tail) {
  const int lru = folio_lru_list(f);
  if (tail)
    list_add_tail(&f->lru, &v.lists[lru]);
  else
    list_add(&f->lru, &v.lists[lru]);
  ++v.nr_pages[lru];
  folio_set(f, PG_lru);
  mod_lruvec_state(v.mc, NR_LRU_BASE + lru, 1);
}

void model::lruvec_del_folio(lruvec& v, ::folio* f) {
  const int lru = folio_lru_list(f);
  list_del(&f->lru);
  --v.nr_pages[lru];
  folio_clear(f, PG_lru);
  mod_lruvec_state(v.mc, NR_LRU_BASE + lru, -1);
}

// folio_add_lru(): onto the charged memcg's lruvec, at the head.
void model::folio_add_lru(::folio* f) {
  lruvec_add_folio(folio_memcg(f)->vec, f);
}

// folio_activate(): inactive -> active head, PGACTIVATE.
void model::folio_activate(::folio* f) {
  if (!folio_test(f, PG_lru) || folio_test(f, PG_active) || folio_test(f, PG_unevictable))
    return;
  memcg* mc = folio_memcg(f);
  lruvec_del_folio(mc->vec, f);
  folio_set(f, PG_active);
  lruvec_add_folio(mc->vec, f);
  count_memcg_events(mc, PGACTIVATE, 1);
}

// lru_deactivate_fn() (MADV_COLD): active -> inactive head, clearing the reference bits.
void model::folio_deactivate(::folio* f) {
  if (!folio_test(f, PG_lru) || folio_test(f, PG_unevictable)) return;
  memcg* mc = folio_memcg(f);
  const bool active = folio_test(f, PG_active);
  lruvec_del_folio(mc->vec, f);
  folio_clear(f, PG_active);
  folio_clear(f, PG_referenced);
  folio_clear(f, PG_young);
  lruvec_add_folio(mc->vec, f);
  if (active) {
    count_memcg_events(mc, PGDEACTIVATE, 1);
  }
}

// folio_mark_accessed() (mm/swap.c), classic LRU.
void model::folio_mark_accessed(::folio* f) {
  if (!folio_test(f, PG_referenced)) {
    folio_set(f, PG_referenced);
  } else if (folio_test(f, PG_unevictable)) {
    // unevictable folios stay where they are
  } else if (!folio_test(f, PG_active)) {
    folio_activate(f);
    folio_clear(f, PG_referenced);
    workingset_activation(folio_memcg(f)->vec.ws, 1);
  }
  if (memcg* mc = folio_memcg(f); mc->cache_ops) mc->cache_ops->folio_accessed(f);
}

// The eviction lruvec a shadow names (its memcg id; one node), as workingset_refault() reads
// it: lruvec_page_state() of its lists and whether that memcg has swap to reclaim anon to.
eviction_lruvec_view model::eviction_view(shadow_t shadow) const {
  eviction_lruvec_view ev;
  const unpacked_shadow sh = unpack_shadow(shadow);
  // the memcg id is the memcg's creation index + 1 (mem_cgroup_id(); 0: none)
  const memcg* emc =
      sh.memcgid && sh.memcgid <= memcgs_.size() ? memcgs_[sh.memcgid - 1].get() : nullptr;
  if (!emc) return ev;  // the memcg is gone: never recent
  ev.lruvec = &emc->vec.ws;
  // hierarchical, as lruvec_page_state() of a memcg lruvec is
  const auto size = [&](int item) { return static_cast<unsigned long>(memcg_page_state(*emc, item)); };
  ev.sizes.inactive_anon = size(NR_INACTIVE_ANON);
  ev.sizes.active_anon = size(NR_ACTIVE_ANON);
  ev.sizes.inactive_file = size(NR_INACTIVE_FILE);
  ev.sizes.active_file = size(NR_ACTIVE_FILE);
  ev.swap_available = !swap_free_.empty();
  return ev;
}

uint64_t model::get_swap_slot() {
  if (swap_free_.empty()) return ~0ull;
  const uint64_t s = swap_free_.back();
  swap_free_.pop_back();
  swap_map_[s] = 1;
  return s;
}

void model::free_swap_slot(uint64_t slot) {
  swap_map_[slot] = 0;
  swap_shadow_[slot] = 0;
  swap_free_.push_back(slot);
}

}  // namespace mmbpf::mm
