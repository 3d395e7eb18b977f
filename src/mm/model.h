// The MM model: one NUMA node of Linux memory management, single-threaded and deterministic.
// Page cache (per-inode index of folios and shadow entries), anonymous memory and swap, the
// per-memcg lruvecs with the classic active/inactive LRU, workingset refault detection, memcg
// charging with memory.max/high/low/min, kswapd and direct reclaim, the OOM killer, ondemand
// readahead, dirty pages and writeback, and a clock with a block device, so that a workload
// replayed here gives the kernel's counters (memory.stat, memory.events, /proc/vmstat) plus
// modelled time.
//
// The operations are the kernel's entry points in its words: a read(2) is sys_read(), a touch
// of an anonymous page handle_mm_fault(), ... (src/workload/replay.* turns trace events into
// these calls). The objects BPF sees are the kernel's structs from bpf/include/vmlinux.h,
// embedded in the model's own (a folio is exactly struct folio, 64 bytes; a memcg embeds
// struct mem_cgroup first; a task embeds task_struct, signal_struct and mm_struct), so a
// policy reads them with the layout its BTF was relocated against.
//
// The algorithms, each in the file a kernel developer would look in:
//   filemap.cpp      read/write/fault paths, page-cache insertion and deletion, writeback
//   swap.cpp         LRU insertion, folio_mark_accessed, activation; swap slots
//   vmscan.cpp       shrink_node / shrink_lruvec / shrink_{in,}active_list, kswapd
//   memcontrol.cpp   the memcg tree, try_charge / uncharge, memory.high throttling, stats
//   oom_kill.cpp     out_of_memory(), OOM handlers, oom_kill_process, memory.oom.group
//   memory.cpp       tasks, anonymous faults, swap-in, madvise, fork/exit
//   model.cpp        the node: folio allocation, watermarks, the clock and IO completion
//
// Simplified, model-wide (each file lists its own):
// - One node, one zone (ZONE_NORMAL); no per-CPU lists or batches: LRU moves happen at once.
// - Order-0 folios only (large folios are not modelled: a file system without large folio
//   support, as ext4 before 6.16).
// - No page-table sharing: a forked child starts with an empty address space; file mappings
//   are tracked per folio (mapcount, young bit), not per process, so a task's rss counts its
//   anonymous pages and swap entries only.
// - The clock serializes events in trace order: a task waiting for IO holds the clock.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../../bpf/include/vmlinux.h"
#include "mm/config.h"
#include "mm/device.h"
#include "mm/hooks.h"
#include "mm/hugepage_alloc.h"
#include "mm/readahead.h"
#include "mm/vmscan_policy.h"
#include "mm/workingset.h"
#include "mm/xarray.h"

namespace mmbpf::mm {

// ---- Counters under the kernel's names -------------------------------------------------------

// The /proc/vmstat and memory.stat events the model counts (include/linux/vm_event_item.h
// names; the model's own numbering).
enum vm_event_item : int {
  PGPGIN,  // KiB read from the device (vmstat counts pages here; memory.stat has no pgpgin)
  PGPGOUT,
  PSWPIN,
  PSWPOUT,
  PGFAULT,
  PGMAJFAULT,
  PGACTIVATE,
  PGDEACTIVATE,
  PGREFILL,
  PGSCAN_KSWAPD,
  PGSCAN_DIRECT,
  PGSTEAL_KSWAPD,
  PGSTEAL_DIRECT,
  PGSCAN_ANON,
  PGSCAN_FILE,
  PGSTEAL_ANON,
  PGSTEAL_FILE,
  PGROTATED,
  ALLOCSTALL,
  PAGEOUTRUN,
  OOM_KILL,
  NR_VM_EVENT_ITEMS
};
std::string_view vm_event_name(vm_event_item i);  // "pgscan_kswapd", ...

// memory.stat names of the node_stat_item counters the model keeps ("inactive_anon", ...);
// empty for the ones it does not report.
std::string_view node_stat_name(int item);

// The model's own counters, per memcg and global. `misses` is ours: pages a read() or a file
// fault looked up and had to read from the device.
struct model_counters {
  uint64_t events = 0;
  uint64_t lookups = 0;  // page-cache lookups by read(), write() and file faults, in pages
  uint64_t misses = 0;
  uint64_t io_read_bytes = 0;
  uint64_t io_write_bytes = 0;
  uint64_t readahead_pages = 0;   // pages read beyond the one a read missed
  uint64_t admission_refused = 0;  // reads served like direct IO by a cache policy
  uint64_t charge_failed = 0;      // charges that failed after reclaim and OOM
  uint64_t events_of_killed = 0;   // events of a task killed earlier, skipped
  uint64_t cache_candidates_invalid = 0;  // cache policy candidates the model refused
  uint64_t cache_candidates_kept = 0;     // valid candidates kept (locked, pinned, dirty, writeback)
  uint64_t cache_fallback_batches = 0;    // shrinks where the kernel's LRU evicted the rest
};

// ---- Objects ----------------------------------------------------------------------------------

struct memcg;

// One lruvec (memcg x node): the five LRU lists with their sizes, the workingset clock and the
// reclaim cost record.
struct lruvec {
  list_head lists[NR_LRU_LISTS];
  unsigned long nr_pages[NR_LRU_LISTS] = {};
  lruvec_nonresident ws;      // nonresident_age, propagated to the parent's lruvec
  lru_cost cost;              // anon_cost / file_cost
  unsigned long refaults[2] = {};  // WORKINGSET_ACTIVATE_{ANON,FILE} at the last reclaim end
  memcg* mc = nullptr;
};

// A memory cgroup. struct mem_cgroup comes first so a memcg* is a struct mem_cgroup* for BPF;
// its page_counters hold usage and the limits (memory.max = memory.max, ...), in pages.
struct memcg {
  ::mem_cgroup css{};
  ::cgroup cgrp{};
  ::kernfs_node kn{};
  memcg* parent = nullptr;
  std::vector<memcg*> children;
  std::string path;   // "/", "/web", ...
  uint16_t model_id = 0;  // the events' cgroup id
  uint32_t index = 0;     // position in model::memcgs_ (creation order: parents first)
  lruvec vec;
  std::array<long, MEMCG_NR_STAT> state{};  // local node_stat_item counters, pages
  std::array<uint64_t, NR_VM_EVENT_ITEMS> events{};  // local vm events
  std::array<uint64_t, MEMCG_NR_MEMORY_EVENTS> memory_events_local{};
  model_counters counters;  // local
  uint64_t stall_memory_ns = 0;  // reclaim, workingset refaults and memory.high throttling
  uint64_t stall_io_ns = 0;      // waiting for reads
  cache_policy* cache_ops = nullptr;  // effective page-cache policy, null: the kernel's LRU
  oom_policy* oom_ops = nullptr;      // OOM handler attached to this memcg
  bool online = true;
  uint32_t nr_tasks = 0;
};

// A process. The kernel structs BPF reads come first.
struct task {
  ::task_struct ts{};
  ::signal_struct signal{};
  ::mm_struct mm{};
  ::css_set cset{};
  uint32_t pid = 0;
  uint32_t space = 0;  // the page-table space in model::ptes_
  memcg* mc = nullptr;
  uint64_t seq = 0;    // fork order, for the OOM killer's scan order
  bool alive = true;
  uint64_t vpn_lo = ~0ull, vpn_hi = 0;  // the range of virtual pages ever mapped
  unsigned long memcg_nr_pages_over_high = 0;  // charged over memory.high in this event
  uint64_t lookups = 0, misses = 0;  // its page-cache lookups, and those that read the device
};

// An inode with its page cache. struct inode (with i_data) comes first.
struct mapping {
  ::inode inode{};
  uint32_t space = 0;  // the page-cache space in model::pages_
  bool size_known = false;  // false: the file grows to whatever is read (imported traces)
  uint64_t nrshadows = 0;
};

// One open file: (pid, inode) has one struct file with its readahead state.
struct open_file {
  ra_file ra;
  mapping* m = nullptr;
};

// What one reclaim invocation is asked to do and what it did (struct scan_control).
struct scan_control {
  unsigned long nr_to_reclaim = SWAP_CLUSTER_MAX;
  memcg* target_mem_cgroup = nullptr;  // null: global reclaim
  int priority = DEF_PRIORITY;
  bool may_swap = true;
  bool kswapd = false;
  bool memcg_low_reclaim = false;
  bool memcg_low_skipped = false;
  bool force_deactivate = false;
  bool skipped_deactivate = false;
  unsigned may_deactivate = 0;
  bool cache_trim_mode = false;
  bool file_is_tiny = false;
  unsigned long anon_cost = 0;
  unsigned long file_cost = 0;
  unsigned long nr_scanned = 0;
  unsigned long nr_reclaimed = 0;
};

// One cgroup at the end of a run, as its files would read: memory.current and the limits
// (pages), memory.stat and memory.events (hierarchical, as the kernel's files are), and the
// model's own counters for the cgroup's tasks (local).
struct memcg_report {
  std::string path;
  uint16_t id = 0;         // the model's (the events' cgroup field)
  uint64_t cgroup_id = 0;  // the kernel's (kernfs node id; the root's is 1): what BPF sees
  uint64_t current = 0, max = 0, high = 0, low = 0, min = 0;
  std::array<long, MEMCG_NR_STAT> stat{};
  std::array<uint64_t, NR_VM_EVENT_ITEMS> events{};
  std::array<uint64_t, MEMCG_NR_MEMORY_EVENTS> memory_events{};
  model_counters counters;
  uint64_t stall_memory_ns = 0, stall_io_ns = 0;
};
// One process at the end of a run: what its reads, writes and file faults looked up and missed
// (threads of one application in one cgroup, told apart: a database's GET and SCAN threads).
struct task_report {
  uint32_t pid = 0;
  std::string cgroup;
  bool alive = true;
  uint64_t lookups = 0, misses = 0;
};
// memory.events names ("low", "high", "max", "oom", "oom_kill", "oom_group_kill", ...).
std::string_view memory_event_name(int event);

// One task killed by the OOM killer, in the order kills happened (`mmbpf run --json`'s
// oom_kills). A memory.oom.group kill records every task of the group.
struct oom_kill_record {
  uint32_t pid = 0;
  std::string memcg;     // the victim's cgroup path ("/", "/a/b")
  std::string handler;   // the BPF OOM handler (bpf_oom_ops name) that killed, or "default"
  std::string message;   // oom_kill_process()'s message ("Out of memory", a handler's __str)
  uint64_t time_ns = 0;  // the model clock at the kill
};

// The end-of-run report: everything `mmbpf run` prints.
struct model_report {
  model_counters counters;
  std::array<uint64_t, NR_VM_EVENT_ITEMS> vm_events{};
  std::array<long, MEMCG_NR_STAT> vm_state{};
  uint64_t runtime_ns = 0;
  uint64_t stall_memory_ns = 0, stall_io_ns = 0;
  uint64_t latency_p50_ns = 0, latency_p99_ns = 0, latency_max_ns = 0;
  double latency_mean_ns = 0;
  uint64_t free_pages = 0, file_pages = 0, anon_pages = 0, shadow_entries = 0;
  uint64_t folio_bytes_per_page = sizeof(::folio);
  uint64_t index_bytes = 0;  // page-cache and page-table index memory
  std::vector<memcg_report> cgroups;  // every cgroup, the root first, parents before children
  std::vector<task_report> tasks;     // every process, by pid
  std::vector<oom_kill_record> oom_kills;
};

// ---- The model --------------------------------------------------------------------------------

class model {
 public:
  // REQUIRES validate_config(c) succeeded (create() checks).
  explicit model(const config& c);
  ~model();
  model(const model&) = delete;
  model& operator=(const model&) = delete;
  static result<std::unique_ptr<model>> create(const config& c);

  // -- entry points (one per workload event kind). pid and cgroup ids are the model's; a pid
  //    seen for the first time becomes a task in that cgroup. REQUIRES the cgroup exists
  //    (find_memcg), which the caller checks.
  void sys_read(uint32_t pid, uint16_t cg, uint32_t ino, uint64_t pos, uint64_t len);
  void sys_write(uint32_t pid, uint16_t cg, uint32_t ino, uint64_t pos, uint64_t len);
  // exec: the VMA is VM_EXEC and maps file pages [vma_start, vma_end) (vma_end 0: unknown)
  void filemap_fault(uint32_t pid, uint16_t cg, uint32_t ino, uint64_t pgoff, uint64_t nr,
                     bool write, bool exec = false, uint64_t vma_start = 0, uint64_t vma_end = 0);
  void handle_mm_fault(uint32_t pid, uint16_t cg, uint64_t vpn, uint64_t nr, bool write);
  void mmap_anon(uint32_t pid, uint16_t cg, uint64_t vpn, uint64_t nr);
  void munmap(uint32_t pid, uint16_t cg, uint64_t vpn, uint64_t nr);
  void sys_fsync(uint32_t pid, uint16_t cg, uint32_t ino);
  void sys_fadvise(uint32_t pid, uint16_t cg, uint32_t ino, uint64_t off, uint64_t len,
                   int advice);
  void sys_madvise(uint32_t pid, uint16_t cg, uint64_t vpn, uint64_t nr, int advice);
  void unlink(uint32_t ino);
  void truncate(uint32_t ino, uint64_t size);
  void fork(uint32_t child, uint32_t parent, uint16_t cg, int oom_score_adj);
  void exit(uint32_t pid);
  result<void> cgroup_create(uint16_t id, uint16_t parent, std::string_view name = {});
  // rmdir: the memcg goes offline (mem_cgroup_css_offline()). Refused (-EBUSY in the kernel)
  // while it has live tasks or online children, and for the root. Its OOM handler is told
  // (oom_policy::cgroup_offline) and detached. Simplified: its pages stay charged to it and
  // on its LRU, still reclaimable, where the kernel reparents them.
  result<void> cgroup_offline(uint16_t id);
  // which: 0 max, 1 high, 2 low, 3 min, 4 swap.max (workload::cgroup_limit); bytes or ~0 "max".
  result<void> cgroup_set_limit(uint16_t id, int which, uint64_t bytes);
  // Memory-level parallelism for replay: the driver calls prefetch_page(ino, index, 0) a few
  // events ahead (brings the page-cache slot in) and with stage 1 closer (brings the folio
  // in). No effect on the model's state.
  void prefetch_page(uint32_t ino, uint64_t index, int stage) const {
    const mapping* m = ino < mapping_by_ino_.size() ? mapping_by_ino_[ino] : nullptr;
    if (!m) return;
    const uint64_t* slot = pages_.slot_if_present(m->space, index);
    if (!slot) return;
    // inline asm: GCC 12 drops a __builtin_prefetch whose address comes from loads here
    if (stage == 0) {
      asm volatile("prefetcht0 %0" : : "m"(*slot));
    } else if (const uint64_t e = *slot; e && !(e & 1)) {
      asm volatile("prefetcht0 %0" : : "m"(folios_[(e >> 1) - 1]));
    }
  }
  // i_size of an inode, from the trace's metadata. Unknown files grow as they are read.
  void set_file_size(uint32_t ino, uint64_t bytes);
  // A VM_EXEC VMA maps file pages [first, end) of ino: a fault there that gives no VMA of its
  // own reads ahead as in an exec VMA. Simplified: per file, not per process and mmap time.
  void set_exec_vma(uint32_t ino, uint64_t first, uint64_t end);

  // -- objects
  memcg* find_memcg(uint16_t id) const {
    return id < memcg_by_id_.size() ? memcg_by_id_[id] : nullptr;
  }
  memcg& root() { return *root_; }
  task* find_task(uint32_t pid) const;
  mapping* find_mapping(uint32_t ino) const;
  ::folio* folio_at(pgoff_t index, uint32_t ino) const;  // the cached folio, or null
  uint64_t shadow_at(pgoff_t index, uint32_t ino) const;  // the shadow entry, or 0
  const std::vector<std::unique_ptr<memcg>>& memcgs() const { return memcgs_; }
  // fn(m) for top and every descendant, parents before children (the order reclaim walks).
  template <class Fn>
  static void for_each_memcg_preorder(memcg& top, Fn&& fn) {
    fn(top);
    for (memcg* c : top.children) for_each_memcg_preorder(*c, fn);
  }
  // A folio's memcg (folio->memcg_data).
  static memcg* folio_memcg(const ::folio* f) {
    return reinterpret_cast<memcg*>(f->memcg_data);
  }
  // Whether f points at a folio of this model's arena (for validating policy candidates).
  bool is_folio(const ::folio* f) const;
  uint32_t folio_id(const ::folio* f) const { return static_cast<uint32_t>(f - folios_.data()); }
  ::folio* folio_by_id(uint32_t id) { return &folios_[id]; }
  uint64_t nr_folio_frames() const { return folios_.size(); }

  // ---- memcg kfuncs block (ext/memcg_kfuncs.*); they also use for_each_task() below -------
  // Task objects created so far (a task is freed only when its pid is reused by a fork, which
  // creates one): a change means the task table changed.
  uint64_t nr_tasks_created() const { return task_seq_; }
  // ---- end of the memcg kfuncs block

  // -- hooks (hooks.h). The cache policy set here is the memcg's effective one.
  void set_cache_policy(memcg& mc, cache_policy* p) { mc.cache_ops = p; }
  void set_oom_policy(memcg& mc, oom_policy* p) { mc.oom_ops = p; }
  void set_charge_policy(charge_policy* p) { charge_ops_ = p; }
  void set_readahead_policy(readahead_policy* p) { ra_ops_ = p; }

  // -- actions hooks may take
  // oom_kill_process(): kills the task (and, with memory.oom.group, its group), frees its
  // memory; returns the pages freed. Sets oc.bpf_memory_freed when it freed any.
  unsigned long oom_kill_process(oom_control& oc, task& victim, const char* message);
  // out_of_memory() for memcg (null: global). Returns true when memory was freed.
  bool out_of_memory(memcg* mc, int order = 0);
  // try_to_free_mem_cgroup_pages(): reclaim at least nr_pages from mc's subtree.
  unsigned long try_to_free_mem_cgroup_pages(memcg& mc, unsigned long nr_pages, bool may_swap);

  // -- state and statistics
  uint64_t now_ns() const { return now_; }
  // The pid of the task whose event is being served (what bpf_get_current_pid_tgid() sees in a
  // hook; reclaim runs in that task's context, as direct reclaim does), 0 before any.
  uint32_t current_pid() const { return last_task_ ? last_task_->pid : 0; }
  uint64_t free_pages() const { return nr_free_; }
  uint64_t totalram_pages() const { return folios_.size(); }
  struct watermarks {
    uint64_t min = 0, low = 0, high = 0;
  };
  const watermarks& wmark() const { return wmark_; }
  const model_counters& counters() const { return counters_; }
  const std::array<uint64_t, NR_VM_EVENT_ITEMS>& vm_events() const { return vm_events_; }
  // node-wide node_stat_item counter (sum over memcgs), pages.
  long node_page_state(int item) const { return node_state_[static_cast<size_t>(item)]; }
  // memory.stat of mc: hierarchical (mc and descendants), as the kernel's memory.stat file.
  long memcg_page_state(const memcg& mc, int item) const;
  uint64_t memcg_events(const memcg& mc, vm_event_item i) const;
  uint64_t memcg_memory_events(const memcg& mc, int event) const;  // hierarchical memory.events
  model_report report() const;
  const config& cfg() const { return cfg_; }
  const char* last_oom_handler() const { return last_oom_handler_; }
  // ---- BPF OOM family support (ext/bpf_oom.*, issue 7) -------------------------------------
  // The tasks the OOM killer killed so far (also in report()).
  const std::vector<oom_kill_record>& oom_kills() const { return oom_kills_; }
  // Whether an OOM handler (memcg->oom_ops) is running: bpf_out_of_memory() refuses then.
  bool in_oom_handler() const { return in_oom_handler_; }
  // fn(t) for every task the model knows, alive or not (in no particular order).
  template <class Fn>
  void for_each_task(Fn&& fn) const {
    for (const auto& [pid, t] : tasks_) fn(*t);
  }
  // ---- end of BPF OOM family support ----------------------------------------------------------
  // ---- BPF PSI family support (ext/bpf_psi.*, issue 7) -------------------------------------
  // A hook that end_event() calls once the model clock reaches its deadline (the PSI family
  // evaluates its triggers there, as the kernel's psi poll worker does); psi_update() returns
  // the next deadline (~0: never). With no hook the deadline is ~0: one compare per event.
  struct psi_hook {
    virtual ~psi_hook() = default;
    virtual uint64_t psi_update(uint64_t now_ns) = 0;
  };
  void set_psi_hook(psi_hook* h, uint64_t first_ns) {
    psi_hook_ = h;
    psi_next_ns_ = h ? first_ns : ~uint64_t{0};
  }
  // ---- end of BPF PSI family support ----------------------------------------------------------
  // Called after each event by the replay driver: finishes IO whose time has come, runs the
  // flusher, records the event's latency.
  void end_event(uint64_t started_ns);

 private:
  friend struct model_test_access;
  // model.cpp
  void setup_watermarks();
  ::folio* alloc_folio(memcg* mc, bool may_oom);  // takes a free frame; reclaims as needed
  void free_folio(::folio* f);
  void wakeup_kswapd();
  void advance(uint64_t ns) { now_ += ns; }
  void wait_until(uint64_t t, memcg* mc, bool memstall);
  void complete_io(uint64_t upto);
  void prewalk_lru();
  void wait_folio(::folio* f, memcg* mc);  // a locked folio: wait for its read
  struct inflight {
    uint64_t done = 0;
    uint32_t first_folio = 0;  // a contiguous run recorded as folio ids
    std::vector<uint32_t> ids;
    bool write = false;
  };
  // filemap.cpp
  mapping& get_mapping(uint32_t ino);
  open_file& get_file(task& t, mapping& m);
  task* current(uint32_t pid, uint16_t cg);
  ::folio* filemap_lookup(mapping& m, pgoff_t index);
  // may_oom false: readahead_gfp_mask()'s __GFP_NORETRY (no OOM kill; one reclaim attempt
  // for the charge, then failure).
  ::folio* filemap_add_folio(mapping& m, pgoff_t index, memcg* mc, bool& refused, bool may_oom);
  unsigned long page_cache_ra(task& t, mapping& m, const ra_window& w, pgoff_t demand,
                              bool may_oom = false);
  ::folio* filemap_get_page(task& t, open_file& f, mapping& m, pgoff_t idx, ra_decision d,
                            ::folio* fo);
  void filemap_remove_folio(::folio* f, bool keep_shadow);
  void folio_mark_dirty(::folio* f);
  void start_writeback(std::vector<::folio*>& run, bool wait, memcg* waiter);
  void writeback_folios(std::vector<::folio*>& folios);
  void writeback_mapping(mapping& m, bool wait, memcg* waiter);
  void balance_dirty();
  void invalidate_mapping_pages(mapping& m, pgoff_t first, pgoff_t last, bool truncate);
  uint64_t file_pages(const mapping& m) const;
  // swap.cpp
  void lruvec_add_folio(lruvec& v, ::folio* f, bool tail = false);
  void lruvec_del_folio(lruvec& v, ::folio* f);
  void folio_add_lru(::folio* f);
  void folio_mark_accessed(::folio* f);
  void folio_activate(::folio* f);
  void folio_deactivate(::folio* f);
  int folio_lru_list(const ::folio* f) const;
  eviction_lruvec_view eviction_view(shadow_t shadow) const;
  uint64_t get_swap_slot();
  void free_swap_slot(uint64_t slot);
  // vmscan.cpp
  unsigned long shrink_node(scan_control& sc);
  void shrink_node_memcgs(scan_control& sc);
  void shrink_lruvec(lruvec& v, scan_control& sc);
  unsigned long shrink_list(int lru, unsigned long nr, lruvec& v, scan_control& sc);
  unsigned long shrink_inactive_list(unsigned long nr, lruvec& v, scan_control& sc, int lru);
  void shrink_active_list(unsigned long nr, lruvec& v, scan_control& sc, int lru);
  unsigned long shrink_folio_list(std::vector<::folio*>& list, lruvec& v, scan_control& sc,
                                  unsigned long& nr_pageout);
  // shrink_folio_list() in two halves: the decision for one isolated folio (true: freed;
  // else it is queued on `keep`, and on `dirty` when it needs writeback), and the putback.
  bool shrink_folio(::folio* f, lruvec& v, scan_control& sc, unsigned long& nr_pageout,
                    std::vector<::folio*>& keep, std::vector<::folio*>& dirty);
  void putback_folios(lruvec& v, std::vector<::folio*>& keep, std::vector<::folio*>& dirty);
  unsigned long shrink_cache_policy(lruvec& v, scan_control& sc, unsigned long nr_to_evict);
  bool reclaim_folio(::folio* f, scan_control& sc, unsigned long& nr_pageout);
  unsigned long do_try_to_free_pages(scan_control& sc);
  void lru_note_cost_hierarchy(memcg* mc, bool file, unsigned long nr_io,
                               unsigned long nr_rotated);
  void prepare_scan_control(scan_control& sc);
  void snapshot_refaults(memcg* target);
  void balance_pgdat();
  bool folio_referenced(::folio* f);
  // memcontrol.cpp
  void init_memcg(memcg& mc, memcg* parent, uint16_t id, std::string path);
  // may_oom false is __GFP_NORETRY: after one reclaim attempt that leaves no room, fail.
  bool try_charge(memcg* mc, unsigned long nr_pages, bool may_oom = true);
  void uncharge(memcg* mc, unsigned long nr_pages);
  void mem_cgroup_handle_over_high(task& t);
  void mod_lruvec_state(memcg* mc, int item, long nr);
  void count_memcg_events(memcg* mc, vm_event_item i, uint64_t nr);
  void memcg_memory_event(memcg* mc, int event);
  unsigned long mem_cgroup_margin(const memcg& mc) const;
  memcg* mem_over_limit(memcg* mc, unsigned long nr_pages) const;
  void calculate_protection(memcg* target);

  // oom_kill.cpp
  bool mem_cgroup_oom(memcg& mc);
  // memory.cpp
  task& get_task(uint32_t pid, uint16_t cg);
  void zap_range(task& t, uint64_t vpn, uint64_t nr);
  void do_anonymous_page(task& t, uint64_t vpn, bool write);
  void do_swap_page(task& t, uint64_t vpn, uint64_t swp);
  unsigned long exit_mm(task& t);
  void add_mm_counter(task& t, int member, long nr) { t.mm.rss_stat[member].count += nr; }
  void unmap_anon_folio(::folio* f, uint64_t pte);

  config cfg_;
  block_device dev_;
  latency_histogram latency_;
  uint64_t now_ = 0;
  // the node's memory: page frames as struct folio, free ones chained on free_list_
  std::vector<::folio, hugepage_allocator<::folio>> folios_;
  list_head free_list_{};
  uint64_t nr_free_ = 0;
  watermarks wmark_;
  bool in_kswapd_ = false;
  int reclaim_depth_ = 0;
  unsigned bucket_order_ = 0;
  // indexes
  xarray pages_;  // page cache: (mapping space, index) -> folio or shadow
  xarray ptes_;   // page tables: (task space, vpn) -> folio or swap entry
  std::unordered_map<uint32_t, std::unique_ptr<mapping>> mappings_;
  // set_exec_vma(): ino -> [first, end) file page ranges of its executable mappings
  std::unordered_map<uint32_t, std::vector<std::pair<uint64_t, uint64_t>>> exec_vmas_;
  std::vector<mapping*> mapping_by_ino_;  // the same for inodes below 2^20, for fast lookup
  std::vector<mapping*> mapping_by_space_;
  std::unordered_map<uint64_t, open_file> files_;  // (pid << 32 | ino)
  open_file* last_file_ = nullptr;
  uint64_t last_file_key_ = ~0ull;
  std::unordered_map<uint32_t, std::unique_ptr<task>> tasks_;
  task* last_task_ = nullptr;
  uint64_t task_seq_ = 0;
  uint32_t next_space_ = 1;
  std::vector<std::unique_ptr<memcg>> memcgs_;
  std::vector<memcg*> memcg_by_id_;
  memcg* root_ = nullptr;
  // swap: per slot the swap_map count (0 free) and the shadow of the folio swapped out
  std::vector<uint8_t> swap_map_;
  std::vector<uint64_t> swap_shadow_;
  std::vector<uint64_t> swap_free_;
  // IO in flight (locked folios being read, folios under writeback), in completion order
  std::vector<inflight> inflight_;
  std::vector<uint32_t> dirty_fifo_;  // folio ids in the order they were dirtied
  size_t dirty_head_ = 0;
  // counters
  model_counters counters_;
  std::array<uint64_t, NR_VM_EVENT_ITEMS> vm_events_{};
  std::array<long, MEMCG_NR_STAT> node_state_{};
  // hooks
  charge_policy* charge_ops_ = nullptr;
  readahead_policy* ra_ops_ = nullptr;
  const char* last_oom_handler_ = nullptr;
  std::vector<::folio*> scratch_;
  std::vector<uint32_t> ra_run_;
  // prewalk_lru()'s cursors: walking the file lists of the current memcg from the tail
  struct {
    lruvec* v = nullptr;
    list_head* p[2] = {};
    unsigned steps[2] = {};
  } prewalk_;
  bool in_oom_handler_ = false;
  std::vector<oom_kill_record> oom_kills_;  // BPF OOM family support: oom_kills()
  psi_hook* psi_hook_ = nullptr;            // BPF PSI family support: set_psi_hook()
  uint64_t psi_next_ns_ = ~uint64_t{0};
};

}  // namespace mmbpf::mm
