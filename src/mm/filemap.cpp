// The page cache's paths (mm/filemap.c, mm/readahead.c's IO side, mm/page-writeback.c,
// mm/truncate.c): buffered read and write, file faults, insertion with refault detection,
// deletion with a shadow entry, dirtying, writeback and the background flusher, truncation and
// fadvise. readahead.cpp decides the windows; this file reads them.
//
// A read(2) walks its pages in order, as filemap_read() does: for each page it asks the
// ondemand algorithm what to do (sync readahead at an absent page, async readahead at a
// PG_readahead page), reads the window's absent pages as one device request per contiguous
// run (page_cache_ra_unbounded() + read_pages()), waits for the page it needs, copies it and
// marks it accessed (not the first page when the previous read ended in it: pos_same_folio()).
// A page refused by the cache policy or left without memory is read like direct IO.
//
// Inserting a page over a shadow entry is a refault: workingset_refault() decides at the
// eviction lruvec whether the page goes straight to the active list. Reclaim removes a clean
// file page leaving a shadow (workingset_eviction()); truncation and invalidation leave none.
//
// Dirty pages are written by writeback only: fsync (waits), fadvise DONTNEED (starts), the
// background flusher when dirty pages exceed dirty_background_ratio (10 %) of dirtyable
// memory (starts, oldest dirtied first), and reclaim meeting a dirty page (wakes the flusher
// for it). A page under writeback cannot be freed; it is clean when the write completes.
//
// Simplified: no balance_dirty_pages() throttling of writers, no dirty_expire_centisecs
// timer; a file mapping is "mapped" once (no per-process file rmap); large folios are not
// created. As in 6.x, buffered writes do not mark their folios accessed (write_begin's
// FGP_WRITEBEGIN has no FGP_ACCESSED); only reads and faults age the LRU.
#include <fcntl.h>  // POSIX_FADV_* (kept out of headers: workload/event.h names them too)

#include <algorithm>

#include "mm/folio.h"
#include "mm/model.h"

namespace mmbpf::mm {

namespace {

constexpr uint64_t DIRTY_BACKGROUND_RATIO = 10;  // vm.dirty_background_ratio

// The page cache of one mapping as readahead sees it.
class cache_view final : public ra_page_cache {
 public:
  cache_view(const xarray& xa, uint32_t space) : xa_(xa), space_(space) {}
  bool present(pgoff_t i) const {
    const uint64_t e = xa_.load(space_, i);
    return e && !xa_is_value(e);
  }
  unsigned long present_before(pgoff_t index, unsigned long max) const override {
    unsigned long n = 0;
    while (n < max && n < index && present(index - 1 - n)) ++n;
    return n;
  }
  unsigned long present_from(pgoff_t index, unsigned long max) const override {
    unsigned long n = 0;
    while (n < max && present(index + n)) ++n;
    return n;
  }

 private:
  const xarray& xa_;
  uint32_t space_;
};

mapping* mapping_of(const ::folio* f) {
  auto* as = reinterpret_cast<char*>(f->mapping);
  return reinterpret_cast<mapping*>(as - offsetof(::inode, i_data));
}

}  // namespace

mapping& model::get_mapping(uint32_t ino) {
  if (ino < mapping_by_ino_.size() && mapping_by_ino_[ino]) return *mapping_by_ino_[ino];
  auto& slot = mappings_[ino];
  if (!slot) {
    slot = std::make_unique<mapping>();
    mapping& m = *slot;
    m.inode.i_ino = ino;
    m.inode.i_mode = 0100644;
    m.inode.i_mapping = &m.inode.i_data;
    m.inode.i_data.host = &m.inode;
    m.space = next_space_++;
    if (ino < (1u << 20)) {
      if (mapping_by_ino_.size() <= ino) mapping_by_ino_.resize(ino + 1u, nullptr);
      mapping_by_ino_[ino] = &m;
    }
  }
  return *slot;
}

mapping* model::find_mapping(uint32_t ino) const {
  auto it = mappings_.find(ino);
  return it == mappings_.end() ? nullptr : it->second.get();
}

void model::set_exec_vma(uint32_t ino, uint64_t first, uint64_t end) {
  if (end > first) exec_vmas_[ino].emplace_back(first, end);
}

void model::set_file_size(uint32_t ino, uint64_t bytes) {
  mapping& m = get_mapping(ino);
  m.inode.i_size = static_cast<loff_t>(bytes);
  m.size_known = true;
}

uint64_t model::file_pages(const mapping& m) const {
  return (static_cast<uint64_t>(m.inode.i_size) + PAGE_SIZE - 1) / PAGE_SIZE;
}

::folio* model::folio_at(pgoff_t index, uint32_t ino) const {
  const mapping* m = find_mapping(ino);
  if (!m) return nullptr;
  const uint64_t e = pages_.load(m->space, index);
  return e && !xa_is_value(e) ? const_cast<::folio*>(&folios_[entry_folio_id(e)]) : nullptr;
}

uint64_t model::shadow_at(pgoff_t index, uint32_t ino) const {
  const mapping* m = find_mapping(ino);
  if (!m) return 0;
  const uint64_t e = pages_.load(m->space, index);
  return xa_is_value(e) ? e : 0;
}

open_file& model::get_file(task& t, mapping& m) {
  const uint64_t key = (static_cast<uint64_t>(t.pid) << 32) | m.inode.i_ino;
  if (key == last_file_key_) return *last_file_;
  auto [it, fresh] = files_.try_emplace(key);
  if (fresh) {
    it->second.m = &m;
    const unsigned long ra_pages = cfg_.exact_cache ? 0 : cfg_.read_ahead_kb / (PAGE_SIZE / 1024);
    file_ra_state_init(it->second.ra, ra_pages);
  }
  last_file_key_ = key;
  last_file_ = &it->second;
  return it->second;
}

::folio* model::filemap_lookup(mapping& m, pgoff_t index) {
  const uint64_t e = pages_.load(m.space, index);
  return e && !xa_is_value(e) ? &folios_[entry_folio_id(e)] : nullptr;
}

// filemap_add_folio(): admission, allocation and charge, insertion over a possible shadow
// (workingset_refault()), then folio_add_lru(). The folio comes back locked and !uptodate.
::folio* model::filemap_add_folio(mapping& m, pgoff_t index, memcg* mc, bool& refused,
                                  bool may_oom) {
  refused = false;
  if (mc->cache_ops &&
      !mc->cache_ops->admit_folio({m.inode.i_ino, index * PAGE_SIZE, PAGE_SIZE})) {
    refused = true;
    ++counters_.admission_refused;
    ++mc->counters.admission_refused;
    return nullptr;
  }
  ::folio* f = alloc_folio(mc, may_oom);
  if (!f) return nullptr;
  // reclaim inside alloc_folio may have filled the slot? No: only this task inserts here.
  f->mapping = &m.inode.i_data;
  f->index = index;
  folio_set(f, PG_locked);
  const uint64_t old = pages_.store(m.space, index, folio_entry(folio_id(f)));
  if (xa_is_value(old)) {
    --m.nrshadows;
    const workingset_refault_result r =
        workingset_refault(mc->vec.ws, old, /*file=*/true, 1, eviction_view(old), bucket_order_);
    mod_lruvec_state(mc, WORKINGSET_REFAULT_FILE, static_cast<long>(r.refault));
    mod_lruvec_state(mc, WORKINGSET_ACTIVATE_FILE, static_cast<long>(r.activated));
    mod_lruvec_state(mc, WORKINGSET_RESTORE_FILE, static_cast<long>(r.restored));
    if (r.activate) folio_set(f, PG_active);
    if (r.set_workingset) {
      folio_set(f, PG_workingset);
      lru_note_cost_hierarchy(mc, true, 1, 0);  // lru_note_cost_refault()
    }
  }
  ++m.inode.i_data.nrpages;
  mod_lruvec_state(mc, NR_FILE_PAGES, 1);
  folio_add_lru(f);
  if (mc->cache_ops) mc->cache_ops->folio_added(f);
  return f;
}

// Reads the absent pages of window w: page_cache_ra_unbounded() allocating and inserting
// them, read_pages() submitting one request per contiguous run. With `demand` inside the
// window, the run holding it is waited for (the read needs that page); other runs complete
// in the background. Returns the pages submitted.
// Readahead allocates with readahead_gfp_mask() (may_oom false): a charge or an allocation that
// fails stops the window there and kills nothing; the caller then reads its page alone with the
// mapping's gfp (filemap_create_folio()), which may OOM.
unsigned long model::page_cache_ra(task& t, mapping& m, const ra_window& w, pgoff_t demand,
                                   bool may_oom) {
  unsigned long submitted = 0;
  std::vector<uint32_t>& run = ra_run_;
  run.clear();
  ::folio* pinned = nullptr;
  pgoff_t run_start = 0;
  auto flush = [&]() {
    if (run.empty()) return;
    const uint64_t n = run.size();
    const uint64_t done = dev_.submit_read(now_, {0, m.inode.i_ino, run_start}, n);
    counters_.io_read_bytes += n * PAGE_SIZE;
    t.mc->counters.io_read_bytes += n * PAGE_SIZE;
    count_memcg_events(t.mc, PGPGIN, n * (PAGE_SIZE / 1024));
    submitted += n;
    if (demand >= run_start && demand < run_start + n) {
      bool memstall = false;
      for (uint32_t id : run) memstall |= folio_test(&folios_[id], PG_workingset);
      wait_until(done, t.mc, memstall);
      for (uint32_t id : run) {
        folio_clear(&folios_[id], PG_locked);
        folio_set(&folios_[id], PG_uptodate);
      }
    } else {
      inflight_.push_back({done, 0, run, false});
    }
    run.clear();
  };
  for (pgoff_t i = w.start; i < w.start + w.nr; ++i) {
    if (filemap_lookup(m, i)) {
      flush();
      continue;
    }
    bool refused = false;
    ::folio* f = filemap_add_folio(m, i, t.mc, refused, may_oom);
    if (!f) {
      flush();
      if (refused) continue;
      break;  // out of memory: readahead stops here
    }
    if (i == w.mark) folio_set(f, PG_readahead);
    if (i == demand) {  // the caller's page: pinned until the window is read
      pinned = f;
      ++f->_refcount.counter;
    }
    if (run.empty()) run_start = i;
    run.push_back(folio_id(f));
  }
  flush();
  if (pinned) --pinned->_refcount.counter;
  return submitted;
}

// __filemap_remove_folio() and the rest of __remove_mapping() / truncation for a file folio
// off the LRU or on it: with a shadow entry when reclaim evicts it, without otherwise.
void model::filemap_remove_folio(::folio* f, bool keep_shadow) {
  memcg* mc = folio_memcg(f);
  mapping* m = mapping_of(f);
  if (mc->cache_ops) mc->cache_ops->folio_evicted(f);
  if (folio_test(f, PG_lru)) lruvec_del_folio(mc->vec, f);
  if (keep_shadow) {
    const shadow_t sh =
        workingset_eviction(mc->vec.ws, static_cast<unsigned>(mc->css.id.id), 0, 1,
                            folio_test(f, PG_workingset), bucket_order_);
    pages_.store(m->space, f->index, sh);
    ++m->nrshadows;
  } else {
    pages_.erase(m->space, f->index);
  }
  --m->inode.i_data.nrpages;
  mod_lruvec_state(mc, NR_FILE_PAGES, -1);
  if (folio_mapped(f)) mod_lruvec_state(mc, NR_FILE_MAPPED, -1);
  if (folio_test(f, PG_dirty)) mod_lruvec_state(mc, NR_FILE_DIRTY, -1);
  free_folio(f);
}

void model::folio_mark_dirty(::folio* f) {
  if (folio_test(f, PG_dirty)) return;
  folio_set(f, PG_dirty);
  mod_lruvec_state(folio_memcg(f), NR_FILE_DIRTY, 1);
  mod_lruvec_state(folio_memcg(f), NR_DIRTIED, 1);
  if (dirty_fifo_.size() - dirty_head_ >= 2 * folios_.size()) {
    // most entries are stale (cleaned by fsync or reclaim, then dirtied again): keep the
    // order of the ones still dirty, drop the rest
    std::erase_if(dirty_fifo_, [&](uint32_t id) { return !folio_test(&folios_[id], PG_dirty); });
    dirty_head_ = 0;
  }
  dirty_fifo_.push_back(folio_id(f));
}

// Starts writeback of a contiguous run of dirty folios of one file as one write request
// (folio_clear_dirty_for_io() + folio_start_writeback()); waits for it when asked.
void model::start_writeback(std::vector<::folio*>& run, bool wait, memcg* waiter) {
  if (run.empty()) return;
  const mapping* m = mapping_of(run.front());
  const uint64_t n = run.size();
  const uint64_t done = dev_.submit_write(now_, {0, m->inode.i_ino, run.front()->index}, n);
  inflight io{done, 0, {}, true};
  for (::folio* f : run) {
    memcg* mc = folio_memcg(f);
    folio_clear(f, PG_dirty);
    mod_lruvec_state(mc, NR_FILE_DIRTY, -1);
    folio_set(f, PG_writeback);
    mod_lruvec_state(mc, NR_WRITEBACK, 1);
    mod_lruvec_state(mc, NR_WRITTEN, 1);
    io.ids.push_back(folio_id(f));
  }
  counters_.io_write_bytes += n * PAGE_SIZE;
  count_memcg_events(folio_memcg(run.front()), PGPGOUT, n * (PAGE_SIZE / 1024));
  inflight_.push_back(std::move(io));
  run.clear();
  if (wait) {
    wait_until(done, waiter, false);
    complete_io(now_);
  }
}

// Starts writeback of dirty folios, one write request per run of consecutive pages of a file
// (the flusher's and do_writepages()' batching). Sorts and empties `folios`.
void model::writeback_folios(std::vector<::folio*>& folios) {
  std::sort(folios.begin(), folios.end(), [](const ::folio* a, const ::folio* b) {
    return a->mapping != b->mapping ? a->mapping < b->mapping : a->index < b->index;
  });
  folios.erase(std::unique(folios.begin(), folios.end()), folios.end());
  std::vector<::folio*> run;
  for (::folio* f : folios) {
    if (!run.empty() && (run.back()->mapping != f->mapping || run.back()->index + 1 != f->index))
      start_writeback(run, false, nullptr);
    run.push_back(f);
  }
  start_writeback(run, false, nullptr);
  folios.clear();
}

// Writes every dirty page of m, one request per contiguous run (do_writepages()).
void model::writeback_mapping(mapping& m, bool wait, memcg* waiter) {
  std::vector<::folio*> dirty;
  const uint64_t end = std::max<uint64_t>(file_pages(m), 1);
  pages_.for_each(m.space, 0, end - 1, [&](uint64_t, uint64_t e) {
    if (xa_is_value(e)) return;
    ::folio* f = &folios_[entry_folio_id(e)];
    if (folio_test(f, PG_dirty) && !folio_test(f, PG_writeback)) dirty.push_back(f);
  });
  writeback_folios(dirty);
  if (wait && !inflight_.empty()) {
    // fsync waits for every write it started (the device is FIFO: the last one ends last)
    wait_until(inflight_.back().done, waiter, false);
    complete_io(now_);
  }
}

// The background flusher (wb_check_background_flush()): while dirty pages exceed the
// background threshold, write the oldest dirtied ones, grouped into runs per file.
void model::balance_dirty() {
  const long dirty = node_state_[NR_FILE_DIRTY];
  if (dirty <= 0) return;
  const uint64_t dirtyable = nr_free_ + static_cast<uint64_t>(node_state_[NR_INACTIVE_FILE] +
                                                             node_state_[NR_ACTIVE_FILE]);
  const uint64_t thresh = dirtyable * DIRTY_BACKGROUND_RATIO / 100;
  if (static_cast<uint64_t>(dirty) <= thresh) return;
  std::vector<::folio*> batch;
  while (node_state_[NR_FILE_DIRTY] > 0 &&
         static_cast<uint64_t>(node_state_[NR_FILE_DIRTY]) > thresh &&
         dirty_head_ < dirty_fifo_.size()) {
    batch.clear();
    while (batch.size() < 1024 && dirty_head_ < dirty_fifo_.size()) {
      ::folio* f = &folios_[dirty_fifo_[dirty_head_++]];
      if (folio_test(f, PG_dirty) && !folio_test(f, PG_writeback) && !folio_test_anon(f) &&
          f->mapping)
        batch.push_back(f);
    }
    writeback_folios(batch);
  }
  if (dirty_head_ > 4096 && dirty_head_ * 2 > dirty_fifo_.size()) {
    dirty_fifo_.erase(dirty_fifo_.begin(), dirty_fifo_.begin() + static_cast<long>(dirty_head_));
    dirty_head_ = 0;
  }
}

// truncate_inode_pages_range() (truncate: everything, waiting for IO, shadows too) or
// invalidate_mapping_pages() (clean, unmapped, idle pages only; shadows stay).
void model::invalidate_mapping_pages(mapping& m, pgoff_t first, pgoff_t last, bool truncate) {
  std::vector<uint64_t> shadows;
  std::vector<::folio*> victims;
  pages_.for_each(m.space, first, last, [&](uint64_t index, uint64_t e) {
    if (xa_is_value(e)) {
      if (truncate) shadows.push_back(index);
      return;
    }
    ::folio* f = &folios_[entry_folio_id(e)];
    if (!truncate && (folio_test(f, PG_dirty) || folio_test(f, PG_writeback) ||
                      folio_test(f, PG_locked) || folio_mapped(f)))
      return;
    victims.push_back(f);
  });
  for (uint64_t index : shadows) {
    pages_.erase(m.space, index);
    --m.nrshadows;
  }
  for (::folio* f : victims) {
    while (folio_test(f, PG_locked) || folio_test(f, PG_writeback)) {
      // truncation waits for the IO (folio_wait_locked / folio_wait_writeback)
      if (inflight_.empty()) break;
      complete_io(inflight_.front().done);
    }
    filemap_remove_folio(f, /*keep_shadow=*/false);
  }
}

// The common part of the read and fault paths once readahead has decided `d` for page idx
// (fo: the folio found there, or null): the readahead policy's say, the marker, then either
// the miss (read the window, or the page alone when the window missed it) or the hit (async
// readahead, waiting for a page still being read). Returns the uptodate folio, or null when
// the page could not be cached (refused by the policy, no memory).
::folio* model::filemap_get_page(task& t, open_file& f, mapping& m, pgoff_t idx, ra_decision d,
                                 ::folio* fo) {
  if (ra_ops_ && d.path != ra_path::none) ra_ops_->adjust_window(f.ra, idx, d);
  if (d.clear_marker && fo) folio_clear(fo, PG_readahead);
  if (fo) {
    if (d.io.nr) {  // the reader holds its folio: reclaim for the window cannot take it
      ++fo->_refcount.counter;
      counters_.readahead_pages += page_cache_ra(t, m, d.io, ~0UL);
      --fo->_refcount.counter;
    }
    if (folio_test(fo, PG_locked)) wait_folio(fo, t.mc);
    return fo;
  }
  ++counters_.misses;
  ++t.mc->counters.misses;
  ++t.misses;
  unsigned long n = d.io.nr ? page_cache_ra(t, m, d.io, idx) : 0;
  fo = filemap_lookup(m, idx);
  if (!fo) {  // the window did not cover it: filemap_create_folio() reads it alone
    n += page_cache_ra(t, m, {idx, 1, RA_NO_MARK}, idx, /*may_oom=*/true);
    fo = filemap_lookup(m, idx);
  }
  counters_.readahead_pages += n ? n - 1 : 0;
  return fo;
}

task* model::current(uint32_t pid, uint16_t cg) {
  task& t = get_task(pid, cg);
  if (!t.alive) {
    ++counters_.events_of_killed;
    ++t.mc->counters.events_of_killed;
    return nullptr;
  }
  last_task_ = &t;
  return &t;
}

void model::sys_read(uint32_t pid, uint16_t cg, uint32_t ino, uint64_t pos, uint64_t len) {
  task* t = current(pid, cg);
  if (!t) return;
  advance(cfg_.cpu.syscall_ns);
  mapping& m = get_mapping(ino);
  if (!len) return;
  if (!m.size_known)
    m.inode.i_size = std::max<loff_t>(m.inode.i_size, static_cast<loff_t>(pos + len));
  const uint64_t isize = static_cast<uint64_t>(m.inode.i_size);
  if (pos >= isize) return;
  len = std::min(len, isize - pos);
  open_file& f = get_file(*t, m);
  const pgoff_t first = pos >> PAGE_SHIFT;
  const pgoff_t last_index = (pos + len + PAGE_SIZE - 1) >> PAGE_SHIFT;
  const loff_t prev_pos = f.ra.ra.prev_pos;
  const uint64_t fpages = file_pages(m);
  memcg* mc = t->mc;
  const cache_view view(pages_, m.space);
  for (pgoff_t idx = first; idx < last_index; ++idx) {
    ++counters_.lookups;
    ++mc->counters.lookups;
    ++t->lookups;
    ::folio* fo = filemap_lookup(m, idx);
    ra_input in;
    in.index = idx;
    in.req_count = last_index - idx;
    in.file_pages = fpages;
    in.present = fo != nullptr;
    in.marker = fo && folio_test(fo, PG_readahead);
    in.writeback = fo && folio_test(fo, PG_writeback);
    fo = filemap_get_page(*t, f, m, idx, ondemand_read(f.ra, view, in), fo);
    if (!fo) {  // refused by the policy or no memory: read it like direct IO
      wait_until(dev_.submit_read(now_, {0, ino, idx}, 1), mc, false);
      counters_.io_read_bytes += PAGE_SIZE;
      mc->counters.io_read_bytes += PAGE_SIZE;
      advance(cfg_.cpu.page_copy_ns);
      continue;
    }
    advance(cfg_.cpu.page_copy_ns);
    // pos_same_folio(): the first page is not marked again when the last read ended in it
    if (!(idx == first && prev_pos > 0 &&
          static_cast<uint64_t>(prev_pos - 1) >> PAGE_SHIFT == idx))
      folio_mark_accessed(fo);
  }
  ra_read_done(f.ra, static_cast<loff_t>(pos + len));
  mem_cgroup_handle_over_high(*t);
}

void model::sys_write(uint32_t pid, uint16_t cg, uint32_t ino, uint64_t pos, uint64_t len) {
  task* t = current(pid, cg);
  if (!t) return;
  advance(cfg_.cpu.syscall_ns);
  mapping& m = get_mapping(ino);
  if (!len) return;
  const uint64_t old_size = static_cast<uint64_t>(m.inode.i_size);
  m.inode.i_size = std::max<loff_t>(m.inode.i_size, static_cast<loff_t>(pos + len));
  memcg* mc = t->mc;
  const pgoff_t first = pos >> PAGE_SHIFT;
  const pgoff_t last_index = (pos + len + PAGE_SIZE - 1) >> PAGE_SHIFT;
  for (pgoff_t idx = first; idx < last_index; ++idx) {
    ++counters_.lookups;
    ++mc->counters.lookups;
    ++t->lookups;
    ::folio* fo = filemap_lookup(m, idx);
    if (!fo) {
      const uint64_t pstart = idx * PAGE_SIZE;
      const bool partial = pos > pstart || pos + len < pstart + PAGE_SIZE;
      const bool need_read = partial && pstart < old_size;  // write_begin reads the old data
      bool refused = false;
      fo = filemap_add_folio(m, idx, mc, refused, /*may_oom=*/true);
      if (need_read) {
        ++counters_.misses;
        ++mc->counters.misses;
        ++t->misses;
        wait_until(dev_.submit_read(now_, {0, ino, idx}, 1), mc, false);
        counters_.io_read_bytes += PAGE_SIZE;
        mc->counters.io_read_bytes += PAGE_SIZE;
      }
      if (!fo) {  // like O_DIRECT: straight to the device
        dev_.submit_write(now_, {0, ino, idx}, 1);
        counters_.io_write_bytes += PAGE_SIZE;
        continue;
      }
      folio_clear(fo, PG_locked);
      folio_set(fo, PG_uptodate);
    } else if (folio_test(fo, PG_locked)) {
      wait_folio(fo, mc);
    }
    advance(cfg_.cpu.page_copy_ns);
    folio_mark_dirty(fo);  // no folio_mark_accessed(): FGP_WRITEBEGIN has no FGP_ACCESSED
  }
  mem_cgroup_handle_over_high(*t);
}

void model::filemap_fault(uint32_t pid, uint16_t cg, uint32_t ino, uint64_t pgoff, uint64_t nr,
                          bool write, bool exec, uint64_t vma_start, uint64_t vma_end) {
  task* t = current(pid, cg);
  if (!t) return;
  mapping& m = get_mapping(ino);
  memcg* mc = t->mc;
  open_file& f = get_file(*t, m);
  const cache_view view(pages_, m.space);
  const auto* vmas = exec || exec_vmas_.empty() ? nullptr : [&] {
    auto it = exec_vmas_.find(ino);
    return it == exec_vmas_.end() ? nullptr : &it->second;
  }();
  for (pgoff_t idx = pgoff; idx < pgoff + nr; ++idx) {
    if (!m.size_known)
      m.inode.i_size = std::max<loff_t>(m.inode.i_size, static_cast<loff_t>((idx + 1) * PAGE_SIZE));
    if (idx >= file_pages(m)) break;  // SIGBUS beyond EOF
    advance(cfg_.cpu.fault_ns);
    count_memcg_events(mc, PGFAULT, 1);
    ++counters_.lookups;
    ++mc->counters.lookups;
    ++t->lookups;
    ::folio* fo = filemap_lookup(m, idx);
    ra_fault in;
    in.pgoff = idx;
    in.file_pages = file_pages(m);
    in.present = fo != nullptr;
    in.marker = fo && folio_test(fo, PG_readahead);
    in.writeback = fo && folio_test(fo, PG_writeback);
    in.exec = exec;
    in.vma_start = vma_start;
    in.vma_end = vma_end;
    if (vmas)
      for (const auto& [first, end] : *vmas)
        if (idx >= first && idx < end) {
          in.exec = true;
          in.vma_start = first;
          in.vma_end = end;
        }
    const bool major = !fo;
    if (major) count_memcg_events(mc, PGMAJFAULT, 1);
    fo = filemap_get_page(*t, f, m, idx, filemap_fault_ra(f.ra, view, in), fo);
    if (!fo) {
      ++counters_.charge_failed;
      continue;  // VM_FAULT_OOM: nothing mapped
    }
    if (!folio_mapped(fo)) {
      fo->_mapcount.counter = 0;
      mod_lruvec_state(folio_memcg(fo), NR_FILE_MAPPED, 1);
    }
    folio_set(fo, PG_young);
    if (write) folio_mark_dirty(fo);
    if (memcg* fmc = folio_memcg(fo); fmc->cache_ops) fmc->cache_ops->folio_accessed(fo);
  }
  mem_cgroup_handle_over_high(*t);
}

void model::sys_fsync(uint32_t pid, uint16_t cg, uint32_t ino) {
  task* t = current(pid, cg);
  if (!t) return;
  advance(cfg_.cpu.syscall_ns);
  writeback_mapping(get_mapping(ino), /*wait=*/true, t->mc);
}

void model::sys_fadvise(uint32_t pid, uint16_t cg, uint32_t ino, uint64_t off, uint64_t len,
                        int advice) {
  task* t = current(pid, cg);
  if (!t) return;
  advance(cfg_.cpu.syscall_ns);
  mapping& m = get_mapping(ino);
  open_file& f = get_file(*t, m);
  switch (advice) {
    case POSIX_FADV_NORMAL:
    case POSIX_FADV_RANDOM:
    case POSIX_FADV_SEQUENTIAL: fadvise_mode(f.ra, advice); break;
    case POSIX_FADV_WILLNEED: {
      const ra_window w = fadvise_willneed(f.ra, static_cast<loff_t>(off),
                                           static_cast<loff_t>(len), m.inode.i_size);
      if (w.nr) counters_.readahead_pages += page_cache_ra(*t, m, w, ~0UL);
      break;
    }
    case POSIX_FADV_DONTNEED: {
      writeback_mapping(m, /*wait=*/false, t->mc);  // __filemap_fdatawrite_range(WB_SYNC_NONE)
      const page_range r =
          fadvise_dontneed(static_cast<loff_t>(off), static_cast<loff_t>(len), m.inode.i_size);
      if (!r.empty) invalidate_mapping_pages(m, r.first, r.last, /*truncate=*/false);
      break;
    }
    default: break;  // NOREUSE: nothing for the classic LRU
  }
}

void model::truncate(uint32_t ino, uint64_t size) {
  mapping& m = get_mapping(ino);
  const pgoff_t first = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
  const uint64_t end = file_pages(m);
  if (end > first) invalidate_mapping_pages(m, first, end - 1, /*truncate=*/true);
  m.inode.i_size = static_cast<loff_t>(size);
  m.size_known = true;
}

void model::unlink(uint32_t ino) {
  truncate(ino, 0);
}

}  // namespace mmbpf::mm
