// Page reclaim (mm/vmscan.c, classic LRU): do_try_to_free_pages() and kswapd's
// balance_pgdat() drive shrink_node(), which walks the memcgs below the reclaim target with
// their memory.min/low protection and shrinks each lruvec by the get_scan_count() split
// (vmscan_policy.h), list by list in SWAP_CLUSTER_MAX batches.
//
// In prose. A reclaim pass at priority p scans size >> p pages of each evictable list, so the
// first passes (p = 12) are gentle and each failed pass doubles the pressure. The inactive
// lists are where pages are freed: shrink_inactive_list() isolates a batch from the tail and
// shrink_folio_list() decides each folio: a mapped folio whose page tables saw an access
// (young bit) is kept once and activated if it was already referenced; an unmapped file folio
// only loses its PG_referenced; a dirty file folio is handed to writeback and activated
// (PG_reclaim brings it back to the inactive tail when the write ends); an anonymous folio
// needs a swap slot, else it is activated. A freed file folio leaves a shadow entry
// (workingset_eviction()), a swapped-out anon folio leaves it in its swap slot. The active
// lists only feed the inactive ones: shrink_active_list() deactivates from the tail (setting
// PG_workingset) when inactive_is_low() or refaults say the active list is too big
// (sc->may_deactivate). Costs of rotated and written pages steer the anon/file balance
// (lru_note_cost()). A memcg with a cache policy is asked for eviction candidates first
// (cache_ext's flow: batches of at most 32, each candidate validated, the kernel's LRU
// evicting the rest unless the policy evicted more than 80 % of the scan target).
//
// Simplified: no scan-target adjustment once nr_to_reclaim is met (shrink_lruvec() stops
// there, except for the proportional first pass of global direct reclaim); no VM_EXEC
// protection (file mappings carry no VMA flags); no reclaim throttling
// (reclaim_throttle()); swap-out frees the folio as soon as its write is submitted; kswapd's
// CPU time is not charged to the clock (it runs beside the tasks).
#include <algorithm>

#include "mm/folio.h"
#include "mm/model.h"

namespace mmbpf::mm {


// mm/swap.c lru_note_cost(): the cost record of mc's lruvec and every ancestor's, each decayed
// against that lruvec's evictable pages (hierarchical, as lruvec_page_state() reads them).
void model::lru_note_cost_hierarchy(memcg* mc, bool file, unsigned long nr_io,
                                    unsigned long nr_rotated) {
  for (memcg* p = mc; p; p = p->parent) {
    const auto size = [&](int item) { return memcg_page_state(*p, item); };
    const long lrusize = size(NR_INACTIVE_ANON) + size(NR_ACTIVE_ANON) + size(NR_INACTIVE_FILE) +
                         size(NR_ACTIVE_FILE);
    lru_note_cost(p->vec.cost, file, nr_io, nr_rotated, static_cast<unsigned long>(lrusize));
  }
}

unsigned long model::try_to_free_mem_cgroup_pages(memcg& mc, unsigned long nr_pages,
                                                  bool may_swap) {
  scan_control sc;
  sc.nr_to_reclaim = cfg_.exact_cache ? std::max(nr_pages, 1UL)
                                      : std::max<unsigned long>(nr_pages, SWAP_CLUSTER_MAX);
  sc.target_mem_cgroup = &mc;
  sc.may_swap = may_swap;
  return do_try_to_free_pages(sc);
}

// do_try_to_free_pages(): priority passes until enough is reclaimed; then the two retries of
// the kernel: with forced deactivation when active lists were skipped, and breaching
// memory.low when every memcg was protected by it.
unsigned long model::do_try_to_free_pages(scan_control& sc) {
  if (reclaim_depth_) return 0;
  ++reclaim_depth_;
  for (;;) {
    sc.priority = DEF_PRIORITY;
    do {
      sc.nr_scanned = 0;
      shrink_node(sc);
      if (sc.nr_reclaimed >= sc.nr_to_reclaim) break;
    } while (--sc.priority >= 0);
    snapshot_refaults(sc.target_mem_cgroup);
    if (sc.nr_reclaimed) break;
    if (sc.skipped_deactivate) {
      sc.force_deactivate = true;
      sc.skipped_deactivate = false;
      continue;
    }
    if (sc.memcg_low_skipped) {
      sc.force_deactivate = false;
      sc.memcg_low_reclaim = true;
      sc.memcg_low_skipped = false;
      continue;
    }
    break;
  }
  --reclaim_depth_;
  return sc.nr_reclaimed;
}

// balance_pgdat(): kswapd reclaims until free memory is above the high watermark, raising the
// priority when a pass scanned less than it was asked to reclaim or freed nothing.
void model::balance_pgdat() {
  if (reclaim_depth_) return;
  ++reclaim_depth_;
  count_memcg_events(nullptr, PAGEOUTRUN, 1);
  scan_control sc;
  sc.kswapd = true;
  sc.priority = DEF_PRIORITY;
  while (nr_free_ < wmark_.high && sc.priority >= 1) {
    sc.nr_to_reclaim = std::max<unsigned long>(wmark_.high, SWAP_CLUSTER_MAX);
    sc.nr_reclaimed = 0;
    sc.nr_scanned = 0;
    shrink_node(sc);
    const bool raise_priority = sc.nr_scanned < sc.nr_to_reclaim;
    if (raise_priority || !sc.nr_reclaimed) --sc.priority;
  }
  snapshot_refaults(nullptr);
  --reclaim_depth_;
}

// snapshot_refaults(): remember the target's workingset activations, so the next reclaim can
// tell whether the file or anon working set is being refaulted in (may_deactivate).
void model::snapshot_refaults(memcg* target) {
  memcg& t = target ? *target : *root_;
  t.vec.refaults[0] = static_cast<unsigned long>(memcg_page_state(t, WORKINGSET_ACTIVATE_ANON));
  t.vec.refaults[1] = static_cast<unsigned long>(memcg_page_state(t, WORKINGSET_ACTIVATE_FILE));
}

// prepare_scan_control(): costs, may_deactivate, cache_trim_mode and file_is_tiny from the
// target lruvec (hierarchical counts) and the node.
void model::prepare_scan_control(scan_control& sc) {
  memcg& t = sc.target_mem_cgroup ? *sc.target_mem_cgroup : *root_;
  sc.anon_cost = t.vec.cost.anon_cost;
  sc.file_cost = t.vec.cost.file_cost;
  const auto state = [&](int item) {
    return static_cast<unsigned long>(memcg_page_state(t, item));
  };
  if (sc.force_deactivate) {
    sc.may_deactivate = DEACTIVATE_ANON | DEACTIVATE_FILE;
  } else {
    sc.may_deactivate = 0;
    if (state(WORKINGSET_ACTIVATE_ANON) != t.vec.refaults[0] ||
        inactive_is_low(state(NR_INACTIVE_ANON), state(NR_ACTIVE_ANON)))
      sc.may_deactivate |= DEACTIVATE_ANON;
    if (state(WORKINGSET_ACTIVATE_FILE) != t.vec.refaults[1] ||
        inactive_is_low(state(NR_INACTIVE_FILE), state(NR_ACTIVE_FILE)))
      sc.may_deactivate |= DEACTIVATE_FILE;
  }
  sc.cache_trim_mode =
      compute_cache_trim_mode(state(NR_INACTIVE_FILE), sc.priority, sc.may_deactivate);
  sc.file_is_tiny = false;
  if (!sc.target_mem_cgroup) {
    const unsigned long file = static_cast<unsigned long>(node_state_[NR_ACTIVE_FILE] +
                                                          node_state_[NR_INACTIVE_FILE]);
    sc.file_is_tiny = compute_file_is_tiny(file, nr_free_, wmark_.high, sc.may_deactivate,
                                           static_cast<unsigned long>(node_state_[NR_INACTIVE_ANON]),
                                           sc.priority, false);
  }
}

unsigned long model::shrink_node(scan_control& sc) {
  const unsigned long before = sc.nr_reclaimed;
  prepare_scan_control(sc);
  shrink_node_memcgs(sc);
  return sc.nr_reclaimed - before;
}

// shrink_node_memcgs(): every memcg below the target, pre-order, minus the protected ones.
void model::shrink_node_memcgs(scan_control& sc) {
  memcg& target = sc.target_mem_cgroup ? *sc.target_mem_cgroup : *root_;
  calculate_protection(sc.target_mem_cgroup);
  for_each_memcg_preorder(target, [&](memcg& m) {
    if (&m != &target && &m != root_) {
      const unsigned long u = static_cast<unsigned long>(m.css.memory.usage.counter);
      if (m.css.memory.emin >= u) return;  // mem_cgroup_below_min()
      if (m.css.memory.elow >= u) {        // mem_cgroup_below_low()
        if (!sc.memcg_low_reclaim) {
          sc.memcg_low_skipped = true;
          return;
        }
        memcg_memory_event(&m, MEMCG_LOW);
      }
    }
    shrink_lruvec(m.vec, sc);
  });
}

void model::shrink_lruvec(lruvec& v, scan_control& sc) {
  memcg& mc = *v.mc;
  scan_count_control scc;
  for (int lru = 0; lru < NR_EVICTABLE_LRU_LISTS; ++lru)
    scc.lru_size[static_cast<size_t>(lru)] = v.nr_pages[lru];
  scc.priority = sc.priority;
  scc.swappiness = cfg_.swappiness;
  scc.anon_cost = sc.anon_cost;
  scc.file_cost = sc.file_cost;
  scc.may_swap = sc.may_swap;
  scc.can_reclaim_anon = !swap_free_.empty();
  scc.cgroup_reclaim = sc.target_mem_cgroup != nullptr;
  scc.file_is_tiny = sc.file_is_tiny;
  scc.cache_trim_mode = sc.cache_trim_mode;
  const memcg* target = sc.target_mem_cgroup ? sc.target_mem_cgroup : root_;
  if (&mc != target && &mc != root_) {  // mem_cgroup_protection()
    scc.min = mc.css.memory.emin;
    scc.low = mc.css.memory.elow;
  }
  scc.cgroup_size = static_cast<unsigned long>(mc.css.memory.usage.counter);
  scc.memcg_low_reclaim = sc.memcg_low_reclaim;
  const scan_count sco = get_scan_count(scc);
  if (sco.memcg_low_skipped) sc.memcg_low_skipped = true;
  std::array<unsigned long, NR_EVICTABLE_LRU_LISTS> nr = sco.nr;

  unsigned long nr_reclaimed = 0;
  const unsigned long nr_to_reclaim = sc.nr_to_reclaim;
  // exact_cache reclaims exactly what is asked, never proportionally
  const bool proportional_reclaim = !sc.target_mem_cgroup && !sc.kswapd &&
                                    sc.priority == DEF_PRIORITY && !cfg_.exact_cache;
  if (mc.cache_ops && nr[LRU_INACTIVE_FILE]) {
    const unsigned long target_nr = nr[LRU_INACTIVE_FILE];
    const unsigned long evicted = shrink_cache_policy(v, sc, target_nr);
    nr_reclaimed += evicted;
    const bool enough = nr_reclaimed >= nr_to_reclaim && !proportional_reclaim;
    if (evicted * 5 > target_nr * 4 || enough) {
      nr[LRU_INACTIVE_FILE] = nr[LRU_ACTIVE_FILE] = 0;
    } else {
      ++counters_.cache_fallback_batches;
      nr[LRU_INACTIVE_FILE] -= std::min(evicted, nr[LRU_INACTIVE_FILE]);
    }
  }
  // nr_reclaimed is this lruvec's own: every lruvec of the walk gets at least one batch
  while (nr[LRU_INACTIVE_ANON] || nr[LRU_ACTIVE_FILE] || nr[LRU_INACTIVE_FILE]) {
    for (int lru = 0; lru < NR_EVICTABLE_LRU_LISTS; ++lru) {
      auto& left = nr[static_cast<size_t>(lru)];
      if (!left) continue;
      unsigned long batch = std::min<unsigned long>(left, SWAP_CLUSTER_MAX);
      if (cfg_.exact_cache) {
        batch = std::min(batch, nr_to_reclaim - std::min(nr_to_reclaim, nr_reclaimed));
        if (!batch) break;
      }
      left -= batch;
      nr_reclaimed += shrink_list(lru, batch, v, sc);
    }
    if (nr_reclaimed >= nr_to_reclaim && !proportional_reclaim) break;
  }
  sc.nr_reclaimed += nr_reclaimed;
  if (sc.may_swap && !swap_free_.empty() &&
      inactive_is_low(v.nr_pages[LRU_INACTIVE_ANON], v.nr_pages[LRU_ACTIVE_ANON]))
    shrink_active_list(SWAP_CLUSTER_MAX, v, sc, LRU_ACTIVE_ANON);
}

unsigned long model::shrink_list(int lru, unsigned long nr, lruvec& v, scan_control& sc) {
  if (is_active_lru(static_cast<lru_list>(lru))) {
    if (sc.may_deactivate & (1u << is_file_lru(static_cast<lru_list>(lru))))
      shrink_active_list(nr, v, sc, lru);
    else
      sc.skipped_deactivate = true;
    return 0;
  }
  return shrink_inactive_list(nr, v, sc, lru);
}

// Reclaim walks a list from its tail, one dependent load per folio: keep the next two tail
// folios on their way into the cache (the second one's address is in the first).
static inline void prefetch_lru_tail(list_head* head) {
  list_head* p1 = head->prev;
  if (p1 == head) return;
  list_head* p2 = p1->prev;
  asm volatile("prefetcht0 %0" : : "m"(*lru_to_folio(p1)));
  if (p2 != head) asm volatile("prefetcht0 %0" : : "m"(*lru_to_folio(p2)));
}

// folio_referenced(): the young bits of the page tables mapping f, test-and-cleared.
bool model::folio_referenced(::folio* f) {
  return folio_mapped(f) && folio_test_clear(f, PG_young);
}

// Isolation and the per-folio decision are interleaved: the kernel isolates the whole batch
// first, but nothing a decision does touches this list before the putback at the end, so the
// result is the same, and the next tail's cache miss overlaps this folio's work.
unsigned long model::shrink_inactive_list(unsigned long nr_to_scan, lruvec& v, scan_control& sc,
                                          int lru) {
  static thread_local std::vector<::folio*> keep, dirty;
  keep.clear();
  dirty.clear();
  const bool file = is_file_lru(static_cast<lru_list>(lru));
  unsigned long scanned = 0, reclaimed = 0, nr_pageout = 0;
  list_head* head = &v.lists[lru];
  ::folio* pending = nullptr;  // isolated one step earlier, decided one step later
  while (scanned < nr_to_scan && !list_empty(head)) {
    ::folio* f = lru_to_folio(head->prev);
    lruvec_del_folio(v, f);
    prefetch_lru_tail(head);
    ++scanned;
    if (folio_is_file_lru(f))  // the page-cache slot its shadow goes to
      prefetch_page(static_cast<uint32_t>(f->mapping->host->i_ino), f->index, 0);
    if (pending) reclaimed += shrink_folio(pending, v, sc, nr_pageout, keep, dirty);
    pending = f;
  }
  if (pending) reclaimed += shrink_folio(pending, v, sc, nr_pageout, keep, dirty);
  if (!scanned) return 0;
  putback_folios(v, keep, dirty);
  count_memcg_events(v.mc, sc.kswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT, scanned);
  count_memcg_events(v.mc, file ? PGSCAN_FILE : PGSCAN_ANON, scanned);
  sc.nr_scanned += scanned;
  if (!sc.kswapd) advance(scanned * cfg_.cpu.reclaim_page_ns);
  count_memcg_events(v.mc, sc.kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, reclaimed);
  count_memcg_events(v.mc, file ? PGSTEAL_FILE : PGSTEAL_ANON, reclaimed);
  lru_note_cost_hierarchy(v.mc, file, nr_pageout, scanned - reclaimed);
  return reclaimed;
}

// Frees one isolated folio that shrink_folio_list() decided to reclaim, or returns false when
// it must stay (activated or kept). Dirty file folios go to writeback through `dirty`.
bool model::reclaim_folio(::folio* f, scan_control& sc, unsigned long& nr_pageout) {
  memcg* mc = folio_memcg(f);
  if (folio_test(f, PG_swapbacked)) {
    if (!f->swap.val) {  // add_to_swap()
      if (!sc.may_swap || swap_free_.empty()) return false;
      const uint64_t slot = get_swap_slot();
      f->swap.val = slot + 1;
    }
    const uint64_t slot = f->swap.val - 1;
    // pageout() to swap, then __remove_mapping() leaves the shadow in the swap slot
    dev_.submit_write(now_, {1, 0, slot}, 1);
    counters_.io_write_bytes += PAGE_SIZE;
    count_memcg_events(mc, PSWPOUT, 1);
    ++nr_pageout;
    swap_shadow_[slot] = workingset_eviction(mc->vec.ws, static_cast<unsigned>(mc->css.id.id), 0,
                                             1, folio_test(f, PG_workingset), bucket_order_);
    unmap_anon_folio(f, swp_entry(slot));
    mc->css.swap.usage.counter += 1;
    mod_lruvec_state(mc, MEMCG_SWAP, 1);
    f->swap.val = 0;
    free_folio(f);
    return true;
  }
  if (folio_mapped(f)) {  // try_to_unmap()
    f->_mapcount.counter = -1;
    mod_lruvec_state(mc, NR_FILE_MAPPED, -1);
  }
  filemap_remove_folio(f, /*keep_shadow=*/true);
  return true;
}

// shrink_folio_list(): the per-folio decision; kept and activated folios go back to their
// lists (move_folios_to_lru()).
unsigned long model::shrink_folio_list(std::vector<::folio*>& list, lruvec& v, scan_control& sc,
                                       unsigned long& nr_pageout) {
  std::vector<::folio*> keep, dirty;
  unsigned long reclaimed = 0;
  for (::folio* f : list) reclaimed += shrink_folio(f, v, sc, nr_pageout, keep, dirty);
  putback_folios(v, keep, dirty);
  return reclaimed;
}

bool model::shrink_folio(::folio* f, lruvec& v, scan_control& sc, unsigned long& nr_pageout,
                         std::vector<::folio*>& keep, std::vector<::folio*>& dirty) {
  enum { ACTIVATE, KEEP, RECLAIM } ref = RECLAIM;
  if (folio_test(f, PG_locked) || f->_refcount.counter > 1) {
    ref = KEEP;  // IO in flight, or somebody holds it (folio_ref_freeze() would fail)
  } else if (folio_test(f, PG_writeback)) {
    folio_set(f, PG_reclaim);  // rotated to the tail when the write ends
    ref = KEEP;
  } else {
    // folio_check_references()
    const bool referenced_ptes = folio_referenced(f);
    const bool referenced_folio = folio_test_clear(f, PG_referenced);
    if (referenced_ptes) {
      folio_set(f, PG_referenced);
      ref = referenced_folio ? ACTIVATE : KEEP;
    }
  }
  if (ref == RECLAIM && folio_test(f, PG_dirty) && folio_is_file_lru(f)) {
    // a dirty file folio: the flusher writes it; reclaim skips it (NR_VMSCAN_IMMEDIATE)
    mod_lruvec_state(v.mc, NR_VMSCAN_IMMEDIATE, 1);
    folio_set(f, PG_reclaim);
    dirty.push_back(f);
    ref = ACTIVATE;
  }
  if (ref == RECLAIM) {
    if (reclaim_folio(f, sc, nr_pageout)) return true;
    ref = ACTIVATE;  // anon without swap: activate_locked
  }
  if (ref == ACTIVATE && !folio_test(f, PG_active)) {
    folio_set(f, PG_active);
    count_memcg_events(v.mc, PGACTIVATE, 1);
  }
  keep.push_back(f);
  return false;
}

void model::putback_folios(lruvec& v, std::vector<::folio*>& keep, std::vector<::folio*>& dirty) {
  for (::folio* f : keep) lruvec_add_folio(v, f);
  keep.clear();
  writeback_folios(dirty);  // wakeup_flusher_threads(): the dirty ones found here
}

void model::shrink_active_list(unsigned long nr_to_scan, lruvec& v, scan_control& sc, int lru) {
  static thread_local std::vector<::folio*> list;
  list.clear();
  list_head* head = &v.lists[lru];
  while (list.size() < nr_to_scan && !list_empty(head)) {
    ::folio* f = lru_to_folio(head->prev);
    lruvec_del_folio(v, f);
    prefetch_lru_tail(head);
    list.push_back(f);
  }
  if (list.empty()) return;
  count_memcg_events(v.mc, PGREFILL, list.size());
  for (::folio* f : list) {
    folio_referenced(f);  // clears the young bits; only VM_EXEC file folios would stay active
    folio_clear(f, PG_active);
    folio_set(f, PG_workingset);
    lruvec_add_folio(v, f);
  }
  count_memcg_events(v.mc, PGDEACTIVATE, list.size());
  const bool file = is_file_lru(static_cast<lru_list>(lru));
  lru_note_cost_hierarchy(v.mc, file, 0, 0);
}

// cache_ext's eviction flow for a memcg with a cache policy (see the file comment), as
// shrink_lruvec() runs it in the cache_ext kernel: batches of min(32, target) requested; a
// batch of more than 32 candidates is rejected whole; each candidate must be a folio in the
// memcg's valid set (here: a page-cache folio of this memcg on its file LRU; a folio proposed
// twice is off the LRU the second time) or it is skipped and counted; the valid ones are
// isolated and go through reclaim_pages(), i.e. shrink_folio_list() with references ignored:
// locked or pinned folios are kept, writeback ones get PG_reclaim, dirty ones are handed to
// the flusher and activated (NR_VMSCAN_IMMEDIATE), clean ones are freed with a shadow.
unsigned long model::shrink_cache_policy(lruvec& v, scan_control& sc, unsigned long nr_to_evict) {
  memcg& mc = *v.mc;
  ::folio* cand[CACHE_EVICT_BATCH];
  static thread_local std::vector<::folio*> keep, dirty;
  unsigned long evicted = 0, nr_pageout = 0;
  const unsigned long batch = std::min<unsigned long>(CACHE_EVICT_BATCH, nr_to_evict);
  while (evicted < nr_to_evict && evicted < sc.nr_to_reclaim) {
    unsigned long request = std::min(batch, nr_to_evict - evicted);
    if (cfg_.exact_cache) request = std::min(request, sc.nr_to_reclaim - evicted);
    const unsigned long n = mc.cache_ops->evict_folios(mc, static_cast<unsigned>(request), cand);
    if (n > CACHE_EVICT_BATCH) {  // a malformed batch is rejected whole
      counters_.cache_candidates_invalid += n;
      break;
    }
    keep.clear();
    dirty.clear();
    unsigned long got = 0, valid = 0;
    for (unsigned i = 0; i < n; ++i) {
      ::folio* f = cand[i];
      if (!is_folio(f) || !folio_test(f, PG_lru) || folio_memcg(f) != &mc ||
          !folio_is_file_lru(f) || !f->mapping) {
        ++counters_.cache_candidates_invalid;
        continue;
      }
      lruvec_del_folio(v, f);  // folio_isolate_lru()
      ++valid;
      if (folio_test(f, PG_locked) || f->_refcount.counter > 1) {
        ++counters_.cache_candidates_kept;  // trylock or folio_ref_freeze() would fail
        keep.push_back(f);
      } else if (folio_test(f, PG_writeback)) {
        folio_set(f, PG_reclaim);
        ++counters_.cache_candidates_kept;
        keep.push_back(f);
      } else if (folio_test(f, PG_dirty)) {
        mod_lruvec_state(&mc, NR_VMSCAN_IMMEDIATE, 1);
        folio_set(f, PG_reclaim);
        if (!folio_test(f, PG_active)) {
          folio_set(f, PG_active);
          count_memcg_events(&mc, PGACTIVATE, 1);
        }
        ++counters_.cache_candidates_kept;
        dirty.push_back(f);
        keep.push_back(f);
      } else {
        got += reclaim_folio(f, sc, nr_pageout);
      }
    }
    putback_folios(v, keep, dirty);
    count_memcg_events(&mc, sc.kswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT, valid);
    count_memcg_events(&mc, PGSCAN_FILE, valid);
    count_memcg_events(&mc, sc.kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, got);
    count_memcg_events(&mc, PGSTEAL_FILE, got);
    sc.nr_scanned += valid;
    evicted += got;
    if (!got) break;
  }
  return evicted;
}

}  // namespace mmbpf::mm
