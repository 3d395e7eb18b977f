// The memcg and cgroup kfuncs over the MM model (see memcg_kfuncs.h): mm/bpf_memcontrol.c,
// bpf_cgroup_from_id/release, and the css and css_task open-coded iterators.
//
// Iterator state on the BPF stack is never trusted. struct bpf_iter_css (24 bytes) holds a
// magic word with the order, and the model's indexes (memcg::index) of the start and of the
// last position; next() checks the magic and the indexes against the model before it uses
// them. struct bpf_iter_css_task (8 bytes) holds a handle (generation, slot) of a snapshot the
// binding keeps; a handle that names no live snapshot ends the walk. A program that overwrites
// its iterator gets NULL (or another valid element), never a host pointer it made up.
//
// Simplified (besides what the header lists): the walk orders are the kernel's
// (css_next_descendant_pre/post, parent pointers up), children in creation order; css_task
// returns the memcg's alive tasks in fork order, as a snapshot of the pids taken by new() and
// rechecked (alive, still in that memcg) by next(). Every task is a process with one thread
// (tgid == pid), so CSS_TASK_ITER_PROCS and CSS_TASK_ITER_THREADED change nothing.
#include "ext/memcg_kfuncs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "bpf/memory.h"
#include "bpf/runtime.h"
#include "mm/model.h"

namespace mmbpf::ext {
namespace {

// ---- the binding registry: runtime -> its (latest) binding --------------------------------

std::mutex registry_mu;
std::vector<std::pair<const bpf::runtime*, memcg_kfuncs*>>& registry() {
  static std::vector<std::pair<const bpf::runtime*, memcg_kfuncs*>> r;
  return r;
}

memcg_kfuncs* binding() {
  bpf::run_ctx* rc = bpf::current_run();
  return rc ? memcg_kfuncs_binding(rc->rt) : nullptr;
}

uint64_t ret(int64_t v) { return static_cast<uint64_t>(v); }

// bpf/include/bpf_memcg.bpf.h spells the model's vm_event_item numbering out for BPF C
static_assert(mm::PGPGIN == 0 && mm::PGFAULT == 4 && mm::PGMAJFAULT == 5 && mm::OOM_KILL == 20 &&
                  mm::NR_VM_EVENT_ITEMS == 21,
              "keep enum mmbpf_vm_event_item in bpf/include/bpf_memcg.bpf.h in step");
constexpr uint64_t ULONG_ERR = ~uint64_t{0};  // (unsigned long)-1

// An iterator argument must be writable memory of the run (the verifier proves it is the
// stack; the checked interpreter double-checks).
bool iter_ok(uint64_t it, uint64_t size, const char* what) {
  if (!it) return false;
  bpf::run_ctx* rc = bpf::current_run();
  return !rc || !rc->checked || rc->check_access(it, size, true, what);
}

mm::memcg* memcg_at(memcg_kfuncs* b, uint64_t memcg) {
  if (!b) return nullptr;
  b->sync_regions();
  return b->memcg_of_css(memcg);
}

uint64_t css_ptr(mm::memcg* mc) { return reinterpret_cast<uint64_t>(&mc->css.css); }

// ---- mm/bpf_memcontrol.c ---------------------------------------------------------------------

// struct mem_cgroup *bpf_get_root_mem_cgroup(void): KF_ACQUIRE | KF_RET_NULL; no reference is
// taken (the root is never freed), so passing it to bpf_put_mem_cgroup() is harmless.
uint64_t k_get_root_mem_cgroup(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  memcg_kfuncs* b = binding();
  if (!b) return 0;
  b->sync_regions();
  return reinterpret_cast<uint64_t>(&b->model().root().css);
}

// struct mem_cgroup *bpf_get_mem_cgroup(struct cgroup_subsys_state *css): the memcg of the
// cgroup css belongs to, whichever controller's css it is (here: the memcg's own css or the
// cgroup's self css). KF_ACQUIRE | KF_RET_NULL | KF_RCU.
uint64_t k_get_mem_cgroup(uint64_t css, uint64_t, uint64_t, uint64_t, uint64_t) {
  mm::memcg* mc = memcg_at(binding(), css);
  return mc ? reinterpret_cast<uint64_t>(&mc->css) : 0;
}

// void bpf_put_mem_cgroup(struct mem_cgroup *memcg): KF_RELEASE; no reference counts here.
uint64_t k_put_mem_cgroup(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) { return 0; }

// unsigned long bpf_mem_cgroup_vm_events(memcg, enum vm_event_item event): hierarchical
// memcg_events(), the model's numbering (mm::vm_event_item); (unsigned long)-1 out of range.
uint64_t k_vm_events(uint64_t memcg, uint64_t event, uint64_t, uint64_t, uint64_t) {
  memcg_kfuncs* b = binding();
  mm::memcg* mc = memcg_at(b, memcg);
  const auto e = static_cast<int32_t>(event);
  if (!mc || e < 0 || e >= mm::NR_VM_EVENT_ITEMS) return ULONG_ERR;
  return b->model().memcg_events(*mc, static_cast<mm::vm_event_item>(e));
}

// unsigned long bpf_mem_cgroup_memory_events(memcg, enum memcg_memory_event event):
// memcg->memory_events[event] (hierarchical, as memory.events reads); -1 out of range.
uint64_t k_memory_events(uint64_t memcg, uint64_t event, uint64_t, uint64_t, uint64_t) {
  memcg_kfuncs* b = binding();
  mm::memcg* mc = memcg_at(b, memcg);
  const auto e = static_cast<int32_t>(event);
  if (!mc || e < 0 || e >= MEMCG_NR_MEMORY_EVENTS) return ULONG_ERR;
  return b->model().memcg_memory_events(*mc, e);
}

// unsigned long bpf_mem_cgroup_usage(memcg): mem_cgroup_usage(memcg, false) * PAGE_SIZE, in
// bytes. The root's page counter is not charged in the kernel, so for the root it is the
// whole hierarchy's NR_FILE_PAGES + NR_ANON_MAPPED, as mem_cgroup_usage() computes it.
uint64_t k_usage(uint64_t memcg, uint64_t, uint64_t, uint64_t, uint64_t) {
  memcg_kfuncs* b = binding();
  mm::memcg* mc = memcg_at(b, memcg);
  if (!mc) return 0;
  long pages;
  if (!mc->parent)
    pages = b->model().memcg_page_state(*mc, NR_FILE_PAGES) +
            b->model().memcg_page_state(*mc, NR_ANON_MAPPED);
  else
    pages = static_cast<long>(mc->css.memory.usage.counter);
  return static_cast<uint64_t>(std::max(pages, 0L)) * mm::PAGE_SIZE;
}

// memcg_page_state_output_unit(): bytes per unit of a memcg_stat item as memory.stat prints it.
uint64_t page_state_output_unit(int item) {
  switch (item) {
    case WORKINGSET_REFAULT_ANON:
    case WORKINGSET_REFAULT_FILE:
    case WORKINGSET_ACTIVATE_ANON:
    case WORKINGSET_ACTIVATE_FILE:
    case WORKINGSET_RESTORE_ANON:
    case WORKINGSET_RESTORE_FILE:
    case WORKINGSET_NODERECLAIM:
      return 1;  // events, counted in pages
    case MEMCG_PERCPU_B:
    case MEMCG_ZSWAP_B:
    case NR_SLAB_RECLAIMABLE_B:
    case NR_SLAB_UNRECLAIMABLE_B:
      return 1;  // already bytes
    case NR_KERNEL_STACK_KB:
      return 1024;
    default:
      return mm::PAGE_SIZE;
  }
}

// unsigned long bpf_mem_cgroup_page_state(memcg, int idx): memcg_page_state_output(memcg, idx),
// hierarchical, negative sums read as 0 (memcg_page_state()); -1 for idx outside
// [0, MEMCG_NR_STAT).
uint64_t k_page_state(uint64_t memcg, uint64_t idx, uint64_t, uint64_t, uint64_t) {
  memcg_kfuncs* b = binding();
  mm::memcg* mc = memcg_at(b, memcg);
  const auto i = static_cast<int32_t>(idx);
  if (!mc || i < 0 || i >= MEMCG_NR_STAT) return ULONG_ERR;
  const long v = b->model().memcg_page_state(*mc, i);
  return static_cast<uint64_t>(std::max(v, 0L)) * page_state_output_unit(i);
}

// void bpf_mem_cgroup_flush_stats(memcg): the model's stats are exact; nothing to flush.
uint64_t k_flush_stats(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) { return 0; }

// ---- cgroups ---------------------------------------------------------------------------------

// struct cgroup *bpf_cgroup_from_id(u64 cgid): the cgroup whose kernfs id is cgid (the root is
// 1), or NULL. KF_ACQUIRE | KF_RET_NULL.
uint64_t k_cgroup_from_id(uint64_t cgid, uint64_t, uint64_t, uint64_t, uint64_t) {
  memcg_kfuncs* b = binding();
  if (!b) return 0;
  b->sync_regions();
  for (const auto& mc : b->model().memcgs())
    if (mc->kn.id == cgid) return reinterpret_cast<uint64_t>(&mc->cgrp);
  return 0;
}

uint64_t k_cgroup_release(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) { return 0; }

// ---- bpf_iter_css ----------------------------------------------------------------------------

// struct bpf_iter_css's 24 bytes, as this runtime lays them out.
struct iter_css_kern {
  uint64_t tag;    // css_magic | self << 8 | order; 0: nothing to walk
  uint64_t start;  // memcg::index of the start
  uint64_t pos;    // memcg::index + 1 of the last element returned; 0: none yet
};
static_assert(sizeof(iter_css_kern) == sizeof(::bpf_iter_css));
constexpr uint64_t css_magic = 0x6373735f69746572ull & ~0xffffull;  // "css_iter", low bits free
constexpr uint64_t css_self_bit = 0x100;

// the child after c among its parent's children, or null
mm::memcg* next_sibling(const mm::memcg* c) {
  if (!c->parent) return nullptr;
  const auto& ch = c->parent->children;
  auto it = std::find(ch.begin(), ch.end(), c);
  return it != ch.end() && it + 1 != ch.end() ? *(it + 1) : nullptr;
}

// whether a is d or one of its ancestors
bool is_ancestor_or_self(const mm::memcg* a, const mm::memcg* d) {
  for (; d; d = d->parent)
    if (d == a) return true;
  return false;
}

// css_next_descendant_pre(pos, root)
mm::memcg* next_pre(mm::memcg* pos, mm::memcg* root) {
  if (!pos) return root;
  if (!pos->children.empty()) return pos->children.front();
  for (; pos && pos != root; pos = pos->parent)
    if (mm::memcg* s = next_sibling(pos)) return s;
  return nullptr;
}

mm::memcg* leftmost_descendant(mm::memcg* pos) {
  while (!pos->children.empty()) pos = pos->children.front();
  return pos;
}

// css_next_descendant_post(pos, root)
mm::memcg* next_post(mm::memcg* pos, mm::memcg* root) {
  if (!pos) return leftmost_descendant(root);
  if (pos == root) return nullptr;
  if (mm::memcg* s = next_sibling(pos)) return leftmost_descendant(s);
  return pos->parent;
}

// int bpf_iter_css_new(it, struct cgroup_subsys_state *start, unsigned int flags):
// KF_ITER_NEW | KF_TRUSTED_ARGS (| KF_RCU_PROTECTED in the kernel). flags is
// BPF_CGROUP_ITER_DESCENDANTS_PRE, _POST or _ANCESTORS_UP; anything else (SELF_ONLY and
// ORDER_UNSPEC included, as in kernel/bpf/cgroup_iter.c) is -EINVAL with an empty walk.
uint64_t k_iter_css_new(uint64_t it, uint64_t start, uint64_t flags, uint64_t, uint64_t) {
  if (!iter_ok(it, sizeof(iter_css_kern), "bpf_iter_css_new")) return ret(-EINVAL);
  auto* k = reinterpret_cast<iter_css_kern*>(it);
  *k = {};
  const auto order = static_cast<uint32_t>(flags);
  if (order != BPF_CGROUP_ITER_DESCENDANTS_PRE && order != BPF_CGROUP_ITER_DESCENDANTS_POST &&
      order != BPF_CGROUP_ITER_ANCESTORS_UP)
    return ret(-EINVAL);
  memcg_kfuncs* b = binding();
  mm::memcg* mc = memcg_at(b, start);
  if (!mc) return ret(-EINVAL);  // the kernel cannot be given a css that is not one
  // the walk returns csses of the same kind as start: memcg css or cgroup self css
  const bool self = start == reinterpret_cast<uint64_t>(&mc->cgrp.self);
  k->tag = css_magic | (self ? css_self_bit : 0) | order;
  k->start = mc->index;
  k->pos = 0;
  return 0;
}

// struct cgroup_subsys_state *bpf_iter_css_next(it): KF_ITER_NEXT | KF_RET_NULL.
uint64_t k_iter_css_next(uint64_t it, uint64_t, uint64_t, uint64_t, uint64_t) {
  if (!iter_ok(it, sizeof(iter_css_kern), "bpf_iter_css_next")) return 0;
  auto* k = reinterpret_cast<iter_css_kern*>(it);
  memcg_kfuncs* b = binding();
  if (!b || (k->tag & ~uint64_t{0x1ff}) != css_magic) return 0;
  b->sync_regions();
  const auto& all = b->model().memcgs();
  if (k->start >= all.size() || k->pos > all.size()) return 0;
  mm::memcg* root = all[k->start].get();
  mm::memcg* pos = k->pos ? all[k->pos - 1].get() : nullptr;
  // a position the walk cannot have reached (an overwritten iterator) ends it
  if (pos && ((k->tag & 0xff) == BPF_CGROUP_ITER_ANCESTORS_UP ? !is_ancestor_or_self(pos, root)
                                                             : !is_ancestor_or_self(root, pos)))
    return 0;
  mm::memcg* next = nullptr;
  switch (k->tag & 0xff) {
    case BPF_CGROUP_ITER_DESCENDANTS_PRE: next = next_pre(pos, root); break;
    case BPF_CGROUP_ITER_DESCENDANTS_POST: next = next_post(pos, root); break;
    case BPF_CGROUP_ITER_ANCESTORS_UP: next = pos ? pos->parent : root; break;
    default: return 0;
  }
  k->pos = next ? next->index + 1u : 0;  // after NULL, a further next() starts over (kernel)
  if (!next) return 0;
  return k->tag & css_self_bit ? reinterpret_cast<uint64_t>(&next->cgrp.self) : css_ptr(next);
}

uint64_t k_iter_css_destroy(uint64_t it, uint64_t, uint64_t, uint64_t, uint64_t) {
  if (iter_ok(it, sizeof(iter_css_kern), "bpf_iter_css_destroy"))
    std::memset(reinterpret_cast<void*>(it), 0, sizeof(iter_css_kern));
  return 0;
}

// ---- bpf_iter_css_task -----------------------------------------------------------------------

// int bpf_iter_css_task_new(it, struct cgroup_subsys_state *css, unsigned int flags):
// KF_ITER_NEW | KF_TRUSTED_ARGS. flags 0, CSS_TASK_ITER_PROCS or PROCS | THREADED, else
// -EINVAL (kernel/bpf/task_iter.c).
uint64_t k_iter_css_task_new(uint64_t it, uint64_t css, uint64_t flags, uint64_t, uint64_t) {
  if (!iter_ok(it, sizeof(uint64_t), "bpf_iter_css_task_new")) return ret(-EINVAL);
  auto* h = reinterpret_cast<uint64_t*>(it);
  *h = 0;
  const auto f = static_cast<uint32_t>(flags);
  if (f != 0 && f != CSS_TASK_ITER_PROCS && f != (CSS_TASK_ITER_PROCS | CSS_TASK_ITER_THREADED))
    return ret(-EINVAL);
  memcg_kfuncs* b = binding();
  mm::memcg* mc = memcg_at(b, css);
  if (!mc) return ret(-EINVAL);
  *h = b->open_task_walk(*mc);
  return *h ? 0 : ret(-ENOMEM);
}

// struct task_struct *bpf_iter_css_task_next(it): KF_ITER_NEXT | KF_RET_NULL. The next task of
// the snapshot that is still alive and still in the memcg.
uint64_t k_iter_css_task_next(uint64_t it, uint64_t, uint64_t, uint64_t, uint64_t) {
  if (!iter_ok(it, sizeof(uint64_t), "bpf_iter_css_task_next")) return 0;
  memcg_kfuncs* b = binding();
  memcg_kfuncs::task_walk* w = b ? b->find_task_walk(*reinterpret_cast<uint64_t*>(it)) : nullptr;
  if (!w) return 0;
  const auto& all = b->model().memcgs();
  if (w->memcg_index >= all.size()) return 0;
  const mm::memcg* mc = all[w->memcg_index].get();
  while (w->next < w->pids.size()) {
    mm::task* t = b->model().find_task(w->pids[w->next++]);
    if (!t || !t->alive || t->mc != mc) continue;
    b->ensure_task_region(*t);
    return reinterpret_cast<uint64_t>(&t->ts);
  }
  return 0;
}

uint64_t k_iter_css_task_destroy(uint64_t it, uint64_t, uint64_t, uint64_t, uint64_t) {
  if (!iter_ok(it, sizeof(uint64_t), "bpf_iter_css_task_destroy")) return 0;
  auto* h = reinterpret_cast<uint64_t*>(it);
  if (memcg_kfuncs* b = binding()) b->close_task_walk(*h);
  *h = 0;
  return 0;
}

}  // namespace

// ---- registration ----------------------------------------------------------------------------

void register_memcg_kfuncs(bpf::runtime& rt) {
  if (rt.kfuncs().by_name("bpf_get_mem_cgroup")) return;
  using namespace bpf;
  const kfunc_desc ks[] = {
      {"bpf_get_root_mem_cgroup", k_get_root_mem_cgroup, KF_ACQUIRE | KF_RET_NULL},
      {"bpf_get_mem_cgroup", k_get_mem_cgroup, KF_ACQUIRE | KF_RET_NULL | KF_RCU},
      {"bpf_put_mem_cgroup", k_put_mem_cgroup, KF_RELEASE},
      {"bpf_mem_cgroup_vm_events", k_vm_events, KF_TRUSTED_ARGS},
      {"bpf_mem_cgroup_memory_events", k_memory_events, KF_TRUSTED_ARGS},
      {"bpf_mem_cgroup_usage", k_usage, KF_TRUSTED_ARGS},
      {"bpf_mem_cgroup_page_state", k_page_state, KF_TRUSTED_ARGS},
      {"bpf_mem_cgroup_flush_stats", k_flush_stats, KF_TRUSTED_ARGS | KF_SLEEPABLE},
      {"bpf_cgroup_from_id", k_cgroup_from_id, KF_ACQUIRE | KF_RET_NULL},
      {"bpf_cgroup_release", k_cgroup_release, KF_RELEASE},
      // the kernel adds KF_RCU_PROTECTED to bpf_iter_css_new; our verifier has no such rule
      {"bpf_iter_css_new", k_iter_css_new, KF_ITER_NEW | KF_TRUSTED_ARGS},
      {"bpf_iter_css_next", k_iter_css_next, KF_ITER_NEXT | KF_RET_NULL},
      {"bpf_iter_css_destroy", k_iter_css_destroy, KF_ITER_DESTROY},
      {"bpf_iter_css_task_new", k_iter_css_task_new, KF_ITER_NEW | KF_TRUSTED_ARGS},
      {"bpf_iter_css_task_next", k_iter_css_task_next, KF_ITER_NEXT | KF_RET_NULL},
      {"bpf_iter_css_task_destroy", k_iter_css_task_destroy, KF_ITER_DESTROY},
  };
  for (const kfunc_desc& k : ks) (void)rt.kfuncs().add(k);
}

memcg_kfuncs* memcg_kfuncs_binding(const bpf::runtime* rt) {
  if (!rt) return nullptr;
  std::lock_guard lk(registry_mu);
  const auto& r = registry();
  for (auto it = r.rbegin(); it != r.rend(); ++it)
    if (it->first == rt) return it->second;
  return nullptr;
}

// ---- the binding -----------------------------------------------------------------------------

// bpf_task_from_pid()'s lookup when no family set one: the model's alive tasks.
struct memcg_kfuncs::find_task_fn {
  memcg_kfuncs* self;
  void* operator()(int32_t pid) const {
    mm::task* t = pid > 0 ? self->m_.find_task(static_cast<uint32_t>(pid)) : nullptr;
    if (!t || !t->alive) return nullptr;
    self->ensure_task_region(*t);
    return &t->ts;
  }
};

memcg_kfuncs::memcg_kfuncs(bpf::runtime& rt, mm::model& m) : rt_(rt), m_(m) {
  register_memcg_kfuncs(rt);
  if (!rt.find_task) rt.find_task = find_task_fn{this};
  sync_regions(true);
  std::lock_guard lk(registry_mu);
  registry().emplace_back(&rt, this);
}

memcg_kfuncs::~memcg_kfuncs() {
  {
    std::lock_guard lk(registry_mu);
    auto& r = registry();
    r.erase(std::remove_if(r.begin(), r.end(), [&](const auto& e) { return e.second == this; }),
            r.end());
  }
  for (const auto& [start, size] : regions_) rt_.regions().remove(start);
  if (const auto* f = rt_.find_task.target<find_task_fn>(); f && f->self == this)
    rt_.find_task = nullptr;
}

void memcg_kfuncs::add_region(uintptr_t start, size_t size, const char* name) {
  if (regions_.count(start)) return;
  bpf::mem_region r;
  r.start = start;
  r.size = size;
  r.writable = false;
  r.name = name;
  r.owner = this;
  // a region someone else registered (a family's, for one run) may cover it for now: retry
  // at the next sync, since it may be gone then
  if (rt_.regions().add(r))
    regions_.emplace(start, size);
  else
    retry_ = true;
}

namespace {
// the kernel structs at the front of the model's objects: [first, last + 1)
std::pair<uintptr_t, size_t> memcg_span(const mm::memcg& mc) {
  const auto a = reinterpret_cast<uintptr_t>(&mc.css);
  const auto e = reinterpret_cast<uintptr_t>(&mc.kn + 1);
  return {a, e - a};
}
std::pair<uintptr_t, size_t> task_span(const mm::task& t) {
  const auto a = reinterpret_cast<uintptr_t>(&t.ts);
  const auto e = reinterpret_cast<uintptr_t>(&t.cset + 1);
  return {a, e - a};
}
}  // namespace

void memcg_kfuncs::ensure_task_region(mm::task& t) {
  const auto [a, n] = task_span(t);
  const bpf::mem_region* r = rt_.regions().find(a);
  if (r && r->start <= a && a + n <= r->end()) return;
  add_region(a, n, "task_struct");
  if (!regions_.count(a)) sync_regions(true);  // a stale region of a freed task was in the way
}

void memcg_kfuncs::sync_regions(bool force) {
  const auto& all = m_.memcgs();
  const bool memcgs_changed = all.size() != synced_memcgs_;
  const bool tasks_changed = m_.nr_tasks_created() != synced_tasks_;
  if (!force && !retry_ && !memcgs_changed && !tasks_changed) return;
  if (retry_) force = true;
  retry_ = false;
  if (force || tasks_changed) {
    // drop the regions of task objects the model freed (their pid was reused)
    std::unordered_map<uintptr_t, size_t> live;
    m_.for_each_task([&](const mm::task& t) { live.insert(task_span(t)); });
    for (auto it = regions_.begin(); it != regions_.end();) {
      const bool is_memcg = css_.count(it->first) != 0;
      if (!is_memcg && !live.count(it->first)) {
        rt_.regions().remove(it->first);
        it = regions_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [a, n] : live) add_region(a, n, "task_struct");
    synced_tasks_ = m_.nr_tasks_created();
  }
  for (size_t i = force ? 0 : synced_memcgs_; i < all.size(); ++i) {
    mm::memcg& mc = *all[i];
    const auto [a, n] = memcg_span(mc);
    add_region(a, n, "mem_cgroup");
    css_[reinterpret_cast<uintptr_t>(&mc.css)] = &mc;  // == &mc.css.css
    css_[reinterpret_cast<uintptr_t>(&mc.cgrp.self)] = &mc;
    cgroups_[reinterpret_cast<uintptr_t>(&mc.cgrp)] = &mc;
  }
  synced_memcgs_ = all.size();
}

mm::memcg* memcg_kfuncs::memcg_of_css(uint64_t p) const {
  auto it = css_.find(static_cast<uintptr_t>(p));
  return it == css_.end() ? nullptr : it->second;
}

mm::memcg* memcg_kfuncs::memcg_of_cgroup(uint64_t p) const {
  auto it = cgroups_.find(static_cast<uintptr_t>(p));
  return it == cgroups_.end() ? nullptr : it->second;
}

uint64_t memcg_kfuncs::open_task_walk(const mm::memcg& mc) {
  size_t slot = walks_.size();
  for (size_t i = 0; i < walks_.size(); ++i)
    if (!walks_[i].gen) {
      slot = i;
      break;
    }
  if (slot == walks_.size()) {
    if (walks_.size() < max_task_walks) {
      walks_.emplace_back();
    } else {  // recycle the oldest (a run that faulted never destroyed its iterators)
      slot = 0;
      for (size_t i = 1; i < walks_.size(); ++i)
        if (walks_[i].gen < walks_[slot].gen) slot = i;
    }
  }
  task_walk& w = walks_[slot];
  if (next_gen_ == 0) next_gen_ = 1;  // 0 marks a free slot
  w.gen = next_gen_++;
  w.memcg_index = mc.index;
  w.next = 0;
  w.pids.clear();
  std::vector<std::pair<uint64_t, uint32_t>> by_seq;  // fork order
  m_.for_each_task([&](const mm::task& t) {
    if (t.alive && t.mc == &mc) by_seq.emplace_back(t.seq, t.pid);
  });
  std::sort(by_seq.begin(), by_seq.end());
  for (const auto& [seq, pid] : by_seq) w.pids.push_back(pid);
  return uint64_t{w.gen} << 32 | slot;
}

memcg_kfuncs::task_walk* memcg_kfuncs::find_task_walk(uint64_t handle) {
  const uint32_t gen = static_cast<uint32_t>(handle >> 32);
  const uint64_t slot = handle & 0xffffffffu;
  if (!gen || slot >= walks_.size() || walks_[slot].gen != gen) return nullptr;
  return &walks_[slot];
}

void memcg_kfuncs::close_task_walk(uint64_t handle) {
  if (task_walk* w = find_task_walk(handle)) {
    w->gen = 0;
    w->pids.clear();
  }
}

}  // namespace mmbpf::ext
