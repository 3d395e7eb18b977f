// Tasks and their anonymous memory (mm/memory.c, mm/mmap.c, mm/madvise.c, kernel/fork.c,
// kernel/exit.c): first-touch faults (do_anonymous_page()), swap-in (do_swap_page()), unmap
// and zap, madvise, fork and exit. A task's page tables are entries in model::ptes_: a folio
// or a swap entry per virtual page.
//
// A write fault on an untouched page allocates a zeroed folio charged to the task's memcg and
// puts it on the inactive anon list (new anon pages start inactive since 5.9); a read fault
// maps the shared zero page and allocates nothing. A touch of a present page only sets its
// young bit (the MMU's accessed bit), which reclaim reads. A fault on a swap entry reads the
// page back (a major fault), tests the shadow left in the swap slot for a refault, and frees
// the slot.
//
// Simplified: no VMAs (any page of a task may be touched; mmap_anon only counts total_vm); no
// copy-on-write sharing after fork (the child starts empty); no swap cache after swap-in (the
// slot is freed at once and the folio is dirty); page table pages cost 8 bytes per mapped or
// swapped page in pgtables_bytes (one PTE), not whole 4 KiB PTE pages.
#include <algorithm>
#include <string>

#include "mm/folio.h"
#include "mm/model.h"

namespace mmbpf::mm {

task* model::find_task(uint32_t pid) const {
  auto it = tasks_.find(pid);
  return it == tasks_.end() ? nullptr : it->second.get();
}

task& model::get_task(uint32_t pid, uint16_t cg) {
  memcg* mc = find_memcg(cg);
  if (!mc) mc = root_;
  task* t = last_task_ && last_task_->pid == pid ? last_task_ : nullptr;
  if (!t) {
    auto& slot = tasks_[pid];
    if (!slot) {
      slot = std::make_unique<task>();
      task& n = *slot;
      n.pid = pid;
      n.ts.pid = n.ts.tgid = static_cast<pid_t>(pid);
      n.ts.mm = &n.mm;
      n.ts.signal = &n.signal;
      n.ts.cgroups = &n.cset;
      n.ts.group_leader = &n.ts;
      n.signal.nr_threads = 1;
      n.mm.owner = &n.ts;
      const std::string comm = "task" + std::to_string(pid);
      std::copy_n(comm.c_str(), std::min<size_t>(comm.size() + 1, sizeof(n.ts.comm) - 1),
                  n.ts.comm);
      n.space = next_space_++;
      n.seq = task_seq_++;
      n.mc = mc;
      n.cset.dfl_cgrp = &mc->cgrp;
      ++mc->nr_tasks;
    }
    t = slot.get();
  }
  if (t->mc != mc && t->alive) {  // cgroup migration: charges stay where they were made
    --t->mc->nr_tasks;
    t->mc = mc;
    t->cset.dfl_cgrp = &mc->cgrp;
    ++mc->nr_tasks;
  }
  return *t;
}

// Takes an anonymous folio off its page table: the PTE becomes `pte` (a swap entry, or 0).
void model::unmap_anon_folio(::folio* f, uint64_t pte) {
  auto* mm = reinterpret_cast<::mm_struct*>(reinterpret_cast<uintptr_t>(f->mapping) &
                                            ~PAGE_MAPPING_ANON);
  task& t = *reinterpret_cast<task*>(mm->owner);
  if (pte)
    ptes_.store(t.space, f->index, pte);
  else
    ptes_.erase(t.space, f->index);
  add_mm_counter(t, MM_ANONPAGES, -1);
  if (pte) add_mm_counter(t, MM_SWAPENTS, 1);
  t.mm.pgtables_bytes.counter -= pte ? 0 : 8;
  f->_mapcount.counter = -1;
  mod_lruvec_state(folio_memcg(f), NR_ANON_MAPPED, -1);
}

// A new anonymous folio of t at vpn: owned through its mm (PAGE_MAPPING_ANON), swap-backed,
// dirty (it has no copy anywhere else) and just accessed.
static void folio_init_anon(::folio* f, task& t, uint64_t vpn) {
  f->mapping = reinterpret_cast<address_space*>(reinterpret_cast<uintptr_t>(&t.mm) |
                                                PAGE_MAPPING_ANON);
  f->index = vpn;
  folio_set(f, PG_swapbacked);
  folio_set(f, PG_uptodate);
  folio_set(f, PG_dirty);
  folio_set(f, PG_young);
}

void model::do_anonymous_page(task& t, uint64_t vpn, bool write) {
  if (!write) return;  // the zero page
  ::folio* f = alloc_folio(t.mc, /*may_oom=*/true);
  if (!f || !t.alive) {
    if (f) free_folio(f);
    ++counters_.charge_failed;
    return;  // VM_FAULT_OOM
  }
  folio_init_anon(f, t, vpn);
  f->_mapcount.counter = 0;
  ptes_.store(t.space, vpn, folio_entry(folio_id(f)));
  add_mm_counter(t, MM_ANONPAGES, 1);
  t.mm.pgtables_bytes.counter += 8;
  mod_lruvec_state(t.mc, NR_ANON_MAPPED, 1);
  folio_add_lru(f);
}

void model::do_swap_page(task& t, uint64_t vpn, uint64_t slot) {
  count_memcg_events(t.mc, PGMAJFAULT, 1);
  ::folio* f = alloc_folio(t.mc, /*may_oom=*/true);
  if (!f || !t.alive) {
    if (f) free_folio(f);
    ++counters_.charge_failed;
    return;
  }
  const uint64_t shadow = swap_shadow_[slot];
  const uint64_t done = dev_.submit_read(now_, {1, 0, slot}, 1);
  counters_.io_read_bytes += PAGE_SIZE;
  count_memcg_events(t.mc, PSWPIN, 1);
  folio_init_anon(f, t, vpn);
  if (xa_is_value(shadow)) {
    const workingset_refault_result r = workingset_refault(
        t.mc->vec.ws, shadow, /*file=*/false, 1, eviction_view(shadow), bucket_order_);
    mod_lruvec_state(t.mc, WORKINGSET_REFAULT_ANON, static_cast<long>(r.refault));
    mod_lruvec_state(t.mc, WORKINGSET_ACTIVATE_ANON, static_cast<long>(r.activated));
    mod_lruvec_state(t.mc, WORKINGSET_RESTORE_ANON, static_cast<long>(r.restored));
    if (r.activate) folio_set(f, PG_active);
    if (r.set_workingset) {
      folio_set(f, PG_workingset);
      lru_note_cost_hierarchy(t.mc, false, 1, 0);  // lru_note_cost_refault()
    }
  }
  wait_until(done, t.mc, folio_test(f, PG_workingset));
  free_swap_slot(slot);
  t.mc->css.swap.usage.counter -= 1;
  mod_lruvec_state(t.mc, MEMCG_SWAP, -1);
  add_mm_counter(t, MM_SWAPENTS, -1);
  add_mm_counter(t, MM_ANONPAGES, 1);
  f->_mapcount.counter = 0;
  ptes_.store(t.space, vpn, folio_entry(folio_id(f)));
  mod_lruvec_state(t.mc, NR_ANON_MAPPED, 1);
  folio_add_lru(f);
}

void model::handle_mm_fault(uint32_t pid, uint16_t cg, uint64_t vpn, uint64_t nr, bool write) {
  task* t = current(pid, cg);
  if (!t) return;
  if (nr) {
    t->vpn_lo = std::min(t->vpn_lo, vpn);
    t->vpn_hi = std::max(t->vpn_hi, vpn + nr - 1);
  }
  for (uint64_t v = vpn; v < vpn + nr && t->alive; ++v) {
    const uint64_t e = ptes_.load(t->space, v);
    if (e && !xa_is_value(e)) {  // present: the access sets the young bit, no fault
      folio_set(&folios_[entry_folio_id(e)], PG_young);
      continue;
    }
    advance(cfg_.cpu.fault_ns);
    count_memcg_events(t->mc, PGFAULT, 1);
    if (e)
      do_swap_page(*t, v, swp_offset(e));
    else
      do_anonymous_page(*t, v, write);
  }
  if (t->alive) mem_cgroup_handle_over_high(*t);
}

void model::mmap_anon(uint32_t pid, uint16_t cg, uint64_t vpn, uint64_t nr) {
  task* t = current(pid, cg);
  if (!t) return;
  advance(cfg_.cpu.syscall_ns);
  t->mm.total_vm += nr;
}

// zap_page_range(): frees the present folios and swap entries of [vpn, vpn + nr).
void model::zap_range(task& t, uint64_t vpn, uint64_t nr) {
  if (!nr || t.vpn_lo > t.vpn_hi) return;
  const uint64_t first = std::max(vpn, t.vpn_lo);
  const uint64_t last = std::min(vpn + nr - 1, t.vpn_hi);
  if (first > last) return;
  std::vector<std::pair<uint64_t, uint64_t>> entries;
  ptes_.for_each(t.space, first, last, [&](uint64_t v, uint64_t e) { entries.emplace_back(v, e); });
  for (auto [v, e] : entries) {
    if (xa_is_value(e)) {
      const uint64_t slot = swp_offset(e);
      free_swap_slot(slot);
      t.mc->css.swap.usage.counter -= 1;
      mod_lruvec_state(t.mc, MEMCG_SWAP, -1);
      add_mm_counter(t, MM_SWAPENTS, -1);
      ptes_.erase(t.space, v);
      continue;
    }
    ::folio* f = &folios_[entry_folio_id(e)];
    if (folio_test(f, PG_lru)) lruvec_del_folio(folio_memcg(f)->vec, f);
    unmap_anon_folio(f, 0);
    free_folio(f);
  }
  t.mm.pgtables_bytes.counter = 8 * (t.mm.rss_stat[MM_ANONPAGES].count +
                                     t.mm.rss_stat[MM_SWAPENTS].count);
}

void model::munmap(uint32_t pid, uint16_t cg, uint64_t vpn, uint64_t nr) {
  task* t = current(pid, cg);
  if (!t) return;
  advance(cfg_.cpu.syscall_ns);
  zap_range(*t, vpn, nr);
  t->mm.total_vm -= std::min<unsigned long>(t->mm.total_vm, nr);
}

void model::sys_madvise(uint32_t pid, uint16_t cg, uint64_t vpn, uint64_t nr, int advice) {
  task* t = current(pid, cg);
  if (!t) return;
  advance(cfg_.cpu.syscall_ns);
  if (advice == 4 /*MADV_DONTNEED*/ || advice == 8 /*MADV_FREE*/ || advice == 9 /*MADV_REMOVE*/) {
    zap_range(*t, vpn, nr);
    return;
  }
  if (advice != 20 /*MADV_COLD*/ && advice != 21 /*MADV_PAGEOUT*/) return;
  if (!nr || t->vpn_lo > t->vpn_hi) return;
  const uint64_t first = std::max(vpn, t->vpn_lo);
  const uint64_t last = std::min(vpn + nr - 1, t->vpn_hi);
  if (first > last) return;
  std::vector<::folio*> list;
  ptes_.for_each(t->space, first, last, [&](uint64_t, uint64_t e) {
    if (!xa_is_value(e)) list.push_back(&folios_[entry_folio_id(e)]);
  });
  if (advice == 20) {  // MADV_COLD: deactivate_folio()
    for (::folio* f : list) folio_deactivate(f);
    return;
  }
  // MADV_PAGEOUT: reclaim_pages() on the isolated folios, references ignored
  scan_control sc;
  ++reclaim_depth_;
  for (::folio* f : list) {
    if (!folio_test(f, PG_lru)) continue;
    memcg* mc = folio_memcg(f);
    lruvec_del_folio(mc->vec, f);
    folio_clear(f, PG_young);
    folio_clear(f, PG_referenced);
    std::vector<::folio*> one{f};
    unsigned long nr_pageout = 0;
    shrink_folio_list(one, mc->vec, sc, nr_pageout);
  }
  --reclaim_depth_;
}

// exit_mmap(): everything the task maps or has in swap. Returns the pages freed.
unsigned long model::exit_mm(task& t) {
  const uint64_t before = nr_free_;
  if (t.vpn_lo <= t.vpn_hi) zap_range(t, t.vpn_lo, t.vpn_hi - t.vpn_lo + 1);
  return nr_free_ - before;
}

void model::fork(uint32_t child, uint32_t parent, uint16_t cg, int oom_score_adj) {
  if (last_task_ && last_task_->pid == child) last_task_ = nullptr;
  if (task* old = find_task(child); old && !old->alive) tasks_.erase(child);  // pid reuse
  task& t = get_task(child, cg);
  t.signal.oom_score_adj = static_cast<short>(oom_score_adj);
  if (const task* p = parent ? find_task(parent) : nullptr) t.ts.real_parent = const_cast<::task_struct*>(&p->ts);
  advance(cfg_.cpu.syscall_ns);
}

void model::exit(uint32_t pid) {
  task* t = find_task(pid);
  if (!t || !t->alive) return;
  exit_mm(*t);
  t->alive = false;
  --t->mc->nr_tasks;
  if (last_file_ && (last_file_key_ >> 32) == pid) {
    last_file_ = nullptr;
    last_file_key_ = ~0ull;
  }
  std::erase_if(files_, [pid](const auto& kv) { return (kv.first >> 32) == pid; });
}

}  // namespace mmbpf::mm
