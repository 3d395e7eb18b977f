// The node: page frames and their allocation (mm/page_alloc.c's watermarks, the slow path's
// kswapd wakeup, direct reclaim and OOM), the model clock and IO completion, and reporting.
//
// Watermarks as __setup_per_zone_wmarks() sets them for one zone: min from min_free_kbytes
// (by default int_sqrt(lowmem_kbytes * 16), clamped to [128, 262144] KiB, as
// calculate_min_free_kbytes()), then low = min + tmp and high = min + 2 * tmp with
// tmp = max(min / 4, managed * watermark_scale_factor / 10000). An allocation that leaves
// free memory below low wakes kswapd; one that finds it at or below min reclaims directly
// (ALLOCSTALL) and, when reclaim makes no progress MAX_RECLAIM_RETRIES times, invokes the OOM
// killer.
//
// Simplified: kswapd runs synchronously when woken and balances the node to the high
// watermark before the allocating task continues (its time is not charged to the task);
// no watermark boosting, no highatomic reserves, no per-CPU page lists.
#include "mm/model.h"

#include <algorithm>

#include "mm/folio.h"

namespace mmbpf::mm {

namespace {
constexpr int MAX_RECLAIM_RETRIES = 16;  // mm/internal.h
}

std::string_view vm_event_name(vm_event_item i) {
  static constexpr std::string_view names[NR_VM_EVENT_ITEMS] = {
      "pgpgin",         "pgpgout",        "pswpin",         "pswpout",     "pgfault",
      "pgmajfault",     "pgactivate",     "pgdeactivate",   "pgrefill",    "pgscan_kswapd",
      "pgscan_direct",  "pgsteal_kswapd", "pgsteal_direct", "pgscan_anon", "pgscan_file",
      "pgsteal_anon",   "pgsteal_file",   "pgrotated",      "allocstall",  "pageoutrun",
      "oom_kill"};
  return i >= 0 && i < NR_VM_EVENT_ITEMS ? names[i] : std::string_view{};
}

std::string_view node_stat_name(int item) {
  switch (item) {
    case NR_INACTIVE_ANON: return "inactive_anon";
    case NR_ACTIVE_ANON: return "active_anon";
    case NR_INACTIVE_FILE: return "inactive_file";
    case NR_ACTIVE_FILE: return "active_file";
    case NR_UNEVICTABLE: return "unevictable";
    case WORKINGSET_REFAULT_ANON: return "workingset_refault_anon";
    case WORKINGSET_REFAULT_FILE: return "workingset_refault_file";
    case WORKINGSET_ACTIVATE_ANON: return "workingset_activate_anon";
    case WORKINGSET_ACTIVATE_FILE: return "workingset_activate_file";
    case WORKINGSET_RESTORE_ANON: return "workingset_restore_anon";
    case WORKINGSET_RESTORE_FILE: return "workingset_restore_file";
    case NR_ANON_MAPPED: return "anon";
    case NR_FILE_MAPPED: return "file_mapped";
    case NR_FILE_PAGES: return "file";
    case NR_FILE_DIRTY: return "file_dirty";
    case NR_WRITEBACK: return "file_writeback";
    case NR_SWAPCACHE: return "swapcached";
    case MEMCG_SWAP: return "swap";
    default: return {};
  }
}

std::string_view memory_event_name(int event) {
  switch (event) {
    case MEMCG_LOW: return "low";
    case MEMCG_HIGH: return "high";
    case MEMCG_MAX: return "max";
    case MEMCG_OOM: return "oom";
    case MEMCG_OOM_KILL: return "oom_kill";
    case MEMCG_OOM_GROUP_KILL: return "oom_group_kill";
    case MEMCG_SWAP_HIGH: return "swap_high";
    case MEMCG_SWAP_MAX: return "swap_max";
    case MEMCG_SWAP_FAIL: return "swap_fail";
    default: return {};
  }
}

model::model(const config& c)
    : cfg_(c), dev_(c.device), folios_(c.memory_pages) {
  INIT_LIST_HEAD(&free_list_);
  for (auto& f : folios_) {
    f._mapcount.counter = -1;
    list_add_tail(&f.lru, &free_list_);
  }
  nr_free_ = folios_.size();
  bucket_order_ = workingset_bucket_order(folios_.size());
  setup_watermarks();
  swap_map_.assign(c.swap_pages, 0);
  swap_shadow_.assign(c.swap_pages, 0);
  swap_free_.reserve(c.swap_pages);
  for (uint64_t s = c.swap_pages; s-- > 0;) swap_free_.push_back(s);
  memcgs_.push_back(std::make_unique<memcg>());
  root_ = memcgs_.back().get();
  init_memcg(*root_, nullptr, 0, "/");
  for (const cgroup_config& cg : c.cgroups) {
    const auto slash = cg.path.find_last_of('/');
    const std::string parent_path = slash == 0 ? "/" : cg.path.substr(0, slash);
    memcg* parent = root_;
    for (auto& m : memcgs_)
      if (m->path == parent_path) parent = m.get();
    memcgs_.push_back(std::make_unique<memcg>());
    memcg& mc = *memcgs_.back();
    init_memcg(mc, parent, cg.id, cg.path);
    mc.css.memory.max = cg.max;
    mc.css.memory.high = cg.high;
    mc.css.memory.low = cg.low;
    mc.css.memory.min = cg.min;
    mc.css.swap.max = cg.swap_max;
    mc.css.oom_group = cg.oom_group;
  }
  scratch_.reserve(SWAP_CLUSTER_MAX);
}

model::~model() = default;

result<std::unique_ptr<model>> model::create(const config& c) {
  if (auto r = validate_config(c); !r) return r.err();
  return std::make_unique<model>(c);
}

void model::setup_watermarks() {
  if (cfg_.exact_cache) {
    wmark_ = {};
    return;
  }
  const uint64_t managed = folios_.size();
  uint64_t min_kb = cfg_.min_free_kbytes;
  if (!min_kb) {
    min_kb = int_sqrt(managed * (PAGE_SIZE / 1024) * 16);
    min_kb = std::clamp<uint64_t>(min_kb, 128, 262144);
  }
  const uint64_t min = std::min<uint64_t>(min_kb / (PAGE_SIZE / 1024), managed / 2);
  const uint64_t tmp = std::max<uint64_t>(min / 4, managed * cfg_.watermark_scale_factor / 10000);
  wmark_.min = min;
  wmark_.low = std::min(min + tmp, managed);
  wmark_.high = std::min(min + 2 * tmp, managed);
}

bool model::is_folio(const ::folio* f) const {
  const auto* base = folios_.data();
  if (f < base || f >= base + folios_.size()) return false;
  return (reinterpret_cast<uintptr_t>(f) - reinterpret_cast<uintptr_t>(base)) % sizeof(::folio) ==
         0;
}

// The page allocator for one order-0 page charged to mc: __alloc_pages() with its slow path,
// then the memcg charge. Returns null when neither reclaim nor the OOM killer found memory
// (or the charge failed); the caller then works without caching.
::folio* model::alloc_folio(memcg* mc, bool may_oom) {
  if (cfg_.exact_cache) {
    if (!nr_free_) {
      scan_control sc;
      sc.nr_to_reclaim = 1;
      do_try_to_free_pages(sc);
    }
  } else if (nr_free_ <= wmark_.min) {
    wakeup_kswapd();
    for (int retries = 0; nr_free_ <= wmark_.min && retries < MAX_RECLAIM_RETRIES; ++retries) {
      count_memcg_events(mc, ALLOCSTALL, 1);
      scan_control sc;
      const uint64_t t0 = now_;
      const unsigned long got = do_try_to_free_pages(sc);
      mc->stall_memory_ns += now_ - t0;
      if (!got) {
        if (!may_oom || !out_of_memory(nullptr)) break;
      }
    }
  }
  if (!nr_free_ && may_oom) out_of_memory(nullptr);
  if (!nr_free_) return nullptr;
  ::folio* f = lru_to_folio(free_list_.next);
  list_del(&f->lru);
  --nr_free_;
  if (nr_free_ < wmark_.low) wakeup_kswapd();
  if (!try_charge(mc, 1, may_oom)) {
    list_add(&f->lru, &free_list_);
    ++nr_free_;
    ++counters_.charge_failed;
    ++mc->counters.charge_failed;
    return nullptr;
  }
  f->flags = 0;
  f->mapping = nullptr;
  f->index = 0;
  f->swap.val = 0;
  f->_mapcount.counter = -1;
  f->_refcount.counter = 1;
  f->memcg_data = reinterpret_cast<unsigned long>(mc);
  return f;
}

// Frees an isolated, uncharged-by-the-caller folio: uncharge and back to the free list.
void model::free_folio(::folio* f) {
  uncharge(folio_memcg(f), 1);
  f->flags = 0;
  f->mapping = nullptr;
  f->memcg_data = 0;
  f->_refcount.counter = 0;
  f->_mapcount.counter = -1;
  list_add(&f->lru, &free_list_);
  ++nr_free_;
}

void model::wakeup_kswapd() {
  if (in_kswapd_ || cfg_.exact_cache || nr_free_ >= wmark_.high) return;
  in_kswapd_ = true;
  balance_pgdat();
  in_kswapd_ = false;
}

void model::wait_until(uint64_t t, memcg* mc, bool memstall) {
  if (t <= now_) return;
  const uint64_t d = t - now_;
  now_ = t;
  if (mc) {
    mc->stall_io_ns += d;
    if (memstall) mc->stall_memory_ns += d;
  }
}

// IO completion in time order: reads unlock their folios (PG_locked -> PG_uptodate), writes
// end writeback and rotate folios marked PG_reclaim to the inactive tail
// (folio_end_writeback() -> folio_rotate_reclaimable()).
void model::complete_io(uint64_t upto) {
  size_t n = 0;
  for (; n < inflight_.size() && inflight_[n].done <= upto; ++n) {
    const inflight& io = inflight_[n];
    for (uint32_t id : io.ids) {
      ::folio* f = &folios_[id];
      if (!io.write) {
        folio_clear(f, PG_locked);
        folio_set(f, PG_uptodate);
        continue;
      }
      folio_clear(f, PG_writeback);
      mod_lruvec_state(folio_memcg(f), NR_WRITEBACK, -1);
      if (folio_test_clear(f, PG_reclaim) && folio_test(f, PG_lru) &&
          !folio_test(f, PG_active)) {
        lruvec& v = folio_memcg(f)->vec;
        lruvec_del_folio(v, f);
        lruvec_add_folio(v, f, /*tail=*/true);
        count_memcg_events(folio_memcg(f), PGROTATED, 1);
      }
    }
  }
  if (n) inflight_.erase(inflight_.begin(), inflight_.begin() + static_cast<long>(n));
}

// A folio whose read is in flight (PG_locked): wait for it (folio_wait_locked()).
void model::wait_folio(::folio* f, memcg* mc) {
  const uint32_t id = folio_id(f);
  for (const inflight& io : inflight_) {
    if (io.write) continue;
    if (std::find(io.ids.begin(), io.ids.end(), id) != io.ids.end()) {
      wait_until(io.done, mc, false);
      complete_io(io.done);
      return;
    }
  }
}

// Reclaim walks the file lists from their tails one dependent load per folio, which is most
// of its cost. Between reclaim runs every event takes one step along each list from its tail
// (off the event's critical path) and prefetches the folio there, so when kswapd or direct
// reclaim comes, the folios it will isolate are in the cache. A hint only: the cursor never
// changes the model's state, and a folio that moved meanwhile just sends it back to the tail.
void model::prewalk_lru() {
  if (!last_task_) return;
  lruvec* v = &last_task_->mc->vec;
  if (v != prewalk_.v) {
    prewalk_.v = v;
    prewalk_.p[0] = prewalk_.p[1] = nullptr;
  }
  // the lists take turns, so each step's load has two events' time to arrive
  constexpr unsigned depth = 256;
  const int k = static_cast<int>(counters_.events & 1);
  list_head* head = &v->lists[k ? LRU_ACTIVE_FILE : LRU_INACTIVE_FILE];
  list_head*& p = prewalk_.p[k];
  if (!p || p == head || prewalk_.steps[k] >= depth) {
    p = head;
    prewalk_.steps[k] = 0;
  }
  p = p->prev;  // a list_head of the arena or a list head: always valid memory (or null)
  ++prewalk_.steps[k];
  if (p && p != head) asm volatile("prefetcht0 %0" : : "m"(*lru_to_folio(p)));
}

void model::end_event(uint64_t started_ns) {
  prewalk_lru();
  if (!inflight_.empty() && inflight_.front().done <= now_) complete_io(now_);
  balance_dirty();
  latency_.record(now_ - started_ns);
  ++counters_.events;
  // BPF PSI family support (set_psi_hook()): evaluate the PSI triggers when their time comes.
  if (now_ >= psi_next_ns_) [[unlikely]] psi_next_ns_ = psi_hook_->psi_update(now_);
}

model_report model::report() const {
  model_report r;
  r.counters = counters_;
  r.vm_events = vm_events_;
  r.vm_state = node_state_;
  r.runtime_ns = std::max(now_, dev_.busy_until());
  for (const auto& m : memcgs_) {
    r.stall_memory_ns += m->stall_memory_ns;
    r.stall_io_ns += m->stall_io_ns;
  }
  r.latency_p50_ns = latency_.quantile(0.5);
  r.latency_p99_ns = latency_.quantile(0.99);
  r.latency_max_ns = latency_.max();
  r.latency_mean_ns = latency_.mean();
  r.free_pages = nr_free_;
  r.file_pages = static_cast<uint64_t>(node_state_[NR_FILE_PAGES]);
  r.anon_pages = static_cast<uint64_t>(node_state_[NR_ANON_MAPPED]);
  for (const auto& [ino, m] : mappings_) r.shadow_entries += m->nrshadows;
  r.index_bytes = pages_.memory_bytes() + ptes_.memory_bytes();
  for (const auto& m : memcgs_) {
    memcg_report c;
    c.path = m->path;
    c.id = m->model_id;
    c.cgroup_id = m->kn.id;
    c.current = static_cast<uint64_t>(m->css.memory.usage.counter);
    c.max = m->css.memory.max;
    c.high = m->css.memory.high;
    c.low = m->css.memory.low;
    c.min = m->css.memory.min;
    for (int i = 0; i < MEMCG_NR_STAT; ++i) c.stat[static_cast<size_t>(i)] = memcg_page_state(*m, i);
    for (int i = 0; i < NR_VM_EVENT_ITEMS; ++i)
      c.events[static_cast<size_t>(i)] = memcg_events(*m, static_cast<vm_event_item>(i));
    for (int i = 0; i < MEMCG_NR_MEMORY_EVENTS; ++i)
      c.memory_events[static_cast<size_t>(i)] = memcg_memory_events(*m, i);
    c.counters = m->counters;
    c.stall_memory_ns = m->stall_memory_ns;
    c.stall_io_ns = m->stall_io_ns;
    r.cgroups.push_back(std::move(c));
  }
  for (const auto& [pid, t] : tasks_)
    r.tasks.push_back({pid, t->mc ? t->mc->path : std::string(), t->alive, t->lookups, t->misses});
  std::sort(r.tasks.begin(), r.tasks.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  r.oom_kills = oom_kills_;
  return r;
}

}  // namespace mmbpf::mm
