// The cache_ext family: its struct_ops type, its kfuncs and its links (see cache_ext.h).
// Kfuncs find the link whose program is running through a thread-local pointer, as the
// kernel's would through the folio's or memcg's registry.
#include "ext/cache_ext.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bpf/memory.h"
#include "bpf/object.h"
#include "bpf/runtime.h"
#include "mm/folio.h"

namespace mmbpf::ext {
namespace {

// mm/cache_ext_ds.c: enum cache_ext_iter_callback_ret / cache_ext_iter_ret.
enum : uint64_t { CACHE_EXT_CONTINUE_ITER = 0, CACHE_EXT_STOP_ITER = 1, CACHE_EXT_EVICT_NODE = 2 };
enum : int64_t { CACHE_EXT_DONE_ITER = 0, CACHE_EXT_MAX_ITER_REACHED = 8, CACHE_EXT_EVICT_ARRAY_FILLED = 9 };

thread_local cache_ext_link* current_link = nullptr;

constexpr const char* member_names[] = {"init", "evict_folios", "folio_added", "folio_accessed",
                                        "folio_evicted", "admit_folio"};

uint64_t ret(int64_t v) { return static_cast<uint64_t>(v); }

}  // namespace

// The kfuncs' access to the running link.
struct cache_ext_link::kfunc_api {
  static cache_ext_link* link() { return current_link; }
  static uint64_t refuse(cache_ext_link* l, int64_t v) {
    if (l) ++l->stats_.kfunc_refused;
    return ret(v);
  }
  static list_head* list(cache_ext_link* l, uint64_t id, const mm::memcg& mc) {
    return l->find_list(id, mc);
  }
  static const mm::memcg& shrinking(cache_ext_link* l) { return *l->shrinking_; }
  static ::cache_ext_list_node* node(cache_ext_link* l, uint64_t folio) {
    return l->node_of(reinterpret_cast<const ::folio*>(folio));
  }
  // The memcg argument of iterate / sample: the one being shrunk.
  static bool shrinking(cache_ext_link* l, uint64_t memcg) {
    return l->shrinking_ && memcg == reinterpret_cast<uint64_t>(&l->shrinking_->css);
  }
  static bool in_init(cache_ext_link* l, uint64_t memcg) {
    return l->in_init_ && memcg == reinterpret_cast<uint64_t>(&l->mc_->css);
  }
  static uint64_t new_list(cache_ext_link* l) {
    if (l->nr_lists_ >= CACHE_EXT_REGISTRY_MAX_ENTRIES) return 0;
    return reinterpret_cast<uint64_t>(&l->lists_[l->nr_lists_++].token);
  }
};

namespace {

using api = cache_ext_link::kfunc_api;

::cache_ext_list_node* node_from(list_head* h) {
  return reinterpret_cast<::cache_ext_list_node*>(reinterpret_cast<char*>(h) -
                                                  offsetof(::cache_ext_list_node, node));
}

void list_move(list_head* n, list_head* head, bool tail) {
  mm::list_del(n);
  tail ? mm::list_add_tail(n, head) : mm::list_add(n, head);
}

// u64 bpf_cache_ext_ds_registry_new_list(struct mem_cgroup *memcg): KF_SLEEPABLE, so only from
// init; 0 on failure (not in init, another memcg, 5 lists already).
uint64_t k_new_list(uint64_t memcg, uint64_t, uint64_t, uint64_t, uint64_t) {
  cache_ext_link* l = api::link();
  if (!l || !api::in_init(l, memcg)) return api::refuse(l, 0);
  const uint64_t id = api::new_list(l);
  return id ? id : api::refuse(l, 0);
}

uint64_t add_impl(uint64_t list, uint64_t folio, bool tail) {
  cache_ext_link* l = api::link();
  if (!l) return ret(-1);
  ::cache_ext_list_node* n = api::node(l, folio);
  list_head* h = n ? api::list(l, list, *mm::model::folio_memcg(n->folio)) : nullptr;
  if (!h || !mm::list_empty(&n->node)) return api::refuse(l, -1);
  tail ? mm::list_add_tail(&n->node, h) : mm::list_add(&n->node, h);
  return 0;
}

uint64_t k_list_add(uint64_t list, uint64_t folio, uint64_t, uint64_t, uint64_t) {
  return add_impl(list, folio, false);
}
uint64_t k_list_add_tail(uint64_t list, uint64_t folio, uint64_t, uint64_t, uint64_t) {
  return add_impl(list, folio, true);
}

// int bpf_cache_ext_list_move(u64 list, struct folio *folio, bool tail): onto `list` (from any
// list, or from none) at its head or tail.
uint64_t k_list_move(uint64_t list, uint64_t folio, uint64_t tail, uint64_t, uint64_t) {
  cache_ext_link* l = api::link();
  if (!l) return ret(-1);
  ::cache_ext_list_node* n = api::node(l, folio);
  list_head* h = n ? api::list(l, list, *mm::model::folio_memcg(n->folio)) : nullptr;
  if (!h) return api::refuse(l, -1);
  list_move(&n->node, h, static_cast<uint8_t>(tail) != 0);
  return 0;
}

// int bpf_cache_ext_list_del(struct folio *folio): -ENOENT for a folio that is not valid, -1
// when it is on no list.
uint64_t k_list_del(uint64_t folio, uint64_t, uint64_t, uint64_t, uint64_t) {
  cache_ext_link* l = api::link();
  if (!l) return ret(-ENOENT);
  ::cache_ext_list_node* n = api::node(l, folio);
  if (!n) return api::refuse(l, -ENOENT);
  if (mm::list_empty(&n->node)) return ret(-1);
  mm::list_del(&n->node);
  mm::INIT_LIST_HEAD(&n->node);
  return 0;
}

// The callback of iterate: (idx, node) in the running engine.
uint64_t call_back(uint64_t fn, uint64_t a1, uint64_t a2, bool& faulted) {
  bpf::run_ctx* rc = bpf::current_run();
  const uint64_t r = rc->call_fn(rc, fn, a1, a2, 0, 0, 0);
  faulted = rc->faulted;
  return r;
}

// Nodes one iterate may pass over in all: a callback that moves nodes under the walk (the
// kernel's TODO) must not make it endless.
constexpr uint64_t max_steps = uint64_t{1} << 20;

// The shared body of list_iterate (opts null) and list_iterate_extended.
int64_t iterate(cache_ext_link* l, list_head* h, uint64_t fn, ::cache_ext_iterate_opts* opts,
                list_head* cont, list_head* evict, ::cache_ext_eviction_ctx* ctx) {
  constexpr uint64_t cap = mm::CACHE_EVICT_BATCH;  // ARRAY_SIZE(ctx->folios_to_evict)
  if (ctx->nr_folios_to_evict >= cap) return CACHE_EXT_EVICT_ARRAY_FILLED;
  int64_t r = CACHE_EXT_DONE_ITER;
  uint64_t iter = 0, steps = 0;
  for (list_head *p = h->next, *next = p->next; p != h; p = next, next = p->next) {
    if (++steps > max_steps) {
      r = CACHE_EXT_MAX_ITER_REACHED;
      break;
    }
    ::cache_ext_list_node* n = node_from(p);
    if (iter >= CACHE_EXT_MAX_ITER) {
      r = CACHE_EXT_MAX_ITER_REACHED;
      break;
    }
    bool faulted = false;
    const uint64_t cb = call_back(fn, iter, reinterpret_cast<uint64_t>(n), faulted);
    if (faulted) return -1;
    ++iter;
    if (cb == CACHE_EXT_CONTINUE_ITER) {
      if (opts && opts->continue_mode != CACHE_EXT_ITERATE_SKIP)
        list_move(p, cont, opts->continue_mode == CACHE_EXT_ITERATE_TAIL);
      if (opts) ++opts->nr_folios_continue;
    } else if (cb == CACHE_EXT_STOP_ITER) {
      break;
    } else if (cb == CACHE_EXT_EVICT_NODE) {
      ctx->folios_to_evict[ctx->nr_folios_to_evict++] = n->folio;
      if (opts && opts->evict_mode != CACHE_EXT_ITERATE_SKIP)
        list_move(p, evict, opts->evict_mode == CACHE_EXT_ITERATE_TAIL);
      if (opts) ++opts->nr_folios_evict;
      if (ctx->nr_folios_to_evict == cap) {
        r = CACHE_EXT_EVICT_ARRAY_FILLED;
        break;
      }
    } else {
      break;  // unknown return code: the kernel warns and stops
    }
  }
  return r;
}

// int bpf_cache_ext_list_iterate(memcg, list, iter_fn(int idx, node *), ctx)
uint64_t k_list_iterate(uint64_t memcg, uint64_t list, uint64_t fn, uint64_t ctx, uint64_t) {
  cache_ext_link* l = api::link();
  if (!l) return ret(-1);
  list_head* h = api::shrinking(l, memcg) ? api::list(l, list, api::shrinking(l)) : nullptr;
  if (!h || !ctx) return api::refuse(l, -1);
  return ret(iterate(l, h, fn, nullptr, h, h, reinterpret_cast<::cache_ext_eviction_ctx*>(ctx)));
}

// int bpf_cache_ext_list_iterate_extended(memcg, list, iter_fn, opts, ctx)
uint64_t k_list_iterate_extended(uint64_t memcg, uint64_t list, uint64_t fn, uint64_t o,
                                 uint64_t ctx) {
  cache_ext_link* l = api::link();
  if (!l) return ret(-1);
  auto* opts = reinterpret_cast<::cache_ext_iterate_opts*>(o);
  list_head* h = api::shrinking(l, memcg) ? api::list(l, list, api::shrinking(l)) : nullptr;
  if (!h || !opts || !ctx) return api::refuse(l, -1);
  // cache_ext_validate_iterate_opts()
  if (opts->continue_mode >= CACHE_EXT_ITERATE_MAX || opts->evict_mode >= CACHE_EXT_ITERATE_MAX ||
      (opts->continue_list != CACHE_EXT_ITERATE_SELF && opts->continue_mode == CACHE_EXT_ITERATE_SKIP) ||
      (opts->evict_list != CACHE_EXT_ITERATE_SELF && opts->evict_mode == CACHE_EXT_ITERATE_SKIP))
    return api::refuse(l, -1);
  const mm::memcg& mc = api::shrinking(l);
  list_head* cont = opts->continue_list == CACHE_EXT_ITERATE_SELF ? h : api::list(l, opts->continue_list, mc);
  list_head* evict = opts->evict_list == CACHE_EXT_ITERATE_SELF ? h : api::list(l, opts->evict_list, mc);
  if (!cont || !evict) return api::refuse(l, -1);
  return ret(iterate(l, h, fn, opts, cont, evict, reinterpret_cast<::cache_ext_eviction_ctx*>(ctx)));
}

// int bpf_cache_ext_list_sample(memcg, list, s64 score_fn(node *), sampling_options *, ctx)
uint64_t k_list_sample(uint64_t memcg, uint64_t list, uint64_t fn, uint64_t o, uint64_t c) {
  cache_ext_link* l = api::link();
  if (!l) return ret(-1);
  auto* opts = reinterpret_cast<::sampling_options*>(o);
  auto* ctx = reinterpret_cast<::cache_ext_eviction_ctx*>(c);
  list_head* h = api::shrinking(l, memcg) ? api::list(l, list, api::shrinking(l)) : nullptr;
  if (!h || !opts || !ctx) return api::refuse(l, -1);
  const uint64_t sample_size = opts->sample_size;
  const uint64_t request = std::min<uint64_t>(ctx->request_nr_folios_to_evict,
                                              mm::CACHE_EVICT_BATCH);
  const uint64_t want = request * sample_size;
  if (!sample_size || want > CACHE_EXT_MAX_SAMPLE_FOLIOS) return api::refuse(l, -1);
  thread_local ::cache_ext_list_node* sampled[CACHE_EXT_MAX_SAMPLE_FOLIOS];
  uint64_t got = 0;
  // Snip `want` nodes from the head.
  while (got < want && !mm::list_empty(h)) {
    list_head* p = h->next;
    mm::list_del(p);
    mm::INIT_LIST_HEAD(p);
    sampled[got++] = node_from(p);
  }
  auto putback = [&] {
    for (uint64_t i = 0; i < got; ++i) mm::list_add_tail(&sampled[i]->node, h);
  };
  if (got < want) {  // "ran out of folios to sample"
    putback();
    return ret(-1);
  }
  ctx->nr_folios_to_evict = 0;
  bool faulted = false;
  for (uint64_t i = 0, k = 0; i < request; ++i) {
    ::cache_ext_list_node* best = nullptr;
    int64_t best_score = 0;
    for (uint64_t j = 0; j < sample_size; ++j, ++k) {
      ::cache_ext_list_node* n = sampled[k];
      const auto s = static_cast<int64_t>(call_back(fn, reinterpret_cast<uint64_t>(n), 0, faulted));
      if (faulted) break;
      if (!best || s < best_score) best = n, best_score = s;
    }
    if (faulted) break;
    ctx->folios_to_evict[ctx->nr_folios_to_evict] = best->folio;
    ctx->scores[ctx->nr_folios_to_evict] = best_score;
    ++ctx->nr_folios_to_evict;
  }
  putback();
  return faulted ? ret(-1) : 0;
}

}  // namespace

void register_cache_ext(bpf::runtime& rt) {
  if (rt.struct_ops().find("cache_ext_ops")) return;
  // Programs fill the eviction context's output (as the shipped policies and the kfuncs do);
  // request_nr_folios_to_evict and every other kernel object they reach are read-only.
  constexpr uint32_t cand = sizeof(::cache_ext_eviction_ctx::folios_to_evict);
  (void)rt.struct_ops().add(
      {.name = "cache_ext_ops",
       .rules = {{.name = "init", .sleepable = true}},
       .writable = {{"cache_ext_eviction_ctx", offsetof(::cache_ext_eviction_ctx, nr_folios_to_evict),
                     static_cast<uint32_t>(sizeof(unsigned long) + 2 * cand)}}});
  const bpf::kfunc_desc ks[] = {
      {"bpf_cache_ext_ds_registry_new_list", k_new_list, bpf::KF_SLEEPABLE},
      {"bpf_cache_ext_list_add", k_list_add, 0},
      {"bpf_cache_ext_list_add_tail", k_list_add_tail, 0},
      {"bpf_cache_ext_list_move", k_list_move, 0},
      {"bpf_cache_ext_list_del", k_list_del, 0},
      {"bpf_cache_ext_list_iterate", k_list_iterate, 0},
      {"bpf_cache_ext_list_iterate_extended", k_list_iterate_extended, 0},
      {"bpf_cache_ext_list_sample", k_list_sample, 0},
  };
  for (const auto& k : ks) (void)rt.kfuncs().add(k);
}

// ---- the link ----------------------------------------------------------------------------

cache_ext_link::cache_ext_link(mm::model& m, mm::memcg& mc, std::string name, bpf::engine e)
    : m_(m), mc_(&mc), name_(std::move(name)), engine_(e),
      lists_(new list[CACHE_EXT_REGISTRY_MAX_ENTRIES]),
      nodes_(new ::cache_ext_list_node[m.nr_folio_frames()]) {
  for (uint64_t i = 0; i < m.nr_folio_frames(); ++i) {
    nodes_[i].folio = nullptr;
    mm::INIT_LIST_HEAD(&nodes_[i].node);
  }
}

cache_ext_link::~cache_ext_link() = default;

uint64_t cache_ext_link::run(member mb, uint64_t a0, uint64_t a1) {
  const bpf::bpf_prog* p = progs_[mb];
  const uint64_t args[2] = {a0, a1};  // the struct_ops context: the member's arguments
  bpf::run_args ra;
  ra.r[0] = reinterpret_cast<uint64_t>(args);
  cache_ext_link* prev = current_link;
  current_link = this;
  auto r = engine_.run(*p, ra);
  current_link = prev;
  ++stats_.runs;
  if (!r) {
    ++stats_.prog_errors;
    stats_.last_error = r.err().msg;
    return 0;
  }
  return *r;
}

::cache_ext_list_node* cache_ext_link::node_of(const ::folio* f) const {
  if (!m_.is_folio(f)) return nullptr;
  ::cache_ext_list_node* n = &nodes_[m_.folio_id(f)];
  return n->folio == f ? n : nullptr;
}

const cache_ext_link::list* cache_ext_link::list_by_id(uint64_t id) const {
  for (int i = 0; i < nr_lists_; ++i)
    if (id == reinterpret_cast<uint64_t>(&lists_[i].token)) return &lists_[i];
  return nullptr;
}

::list_head* cache_ext_link::find_list(uint64_t id, const mm::memcg& mc) {
  auto* l = const_cast<list*>(list_by_id(id));
  if (!l) return nullptr;
  if (l->heads.size() <= mc.index) l->heads.resize(mc.index + 1u);
  auto& h = l->heads[mc.index];
  if (!h) {
    h = std::make_unique<::list_head>();
    mm::INIT_LIST_HEAD(h.get());
  }
  return h.get();
}

uint64_t cache_ext_link::list_id(int i) const {
  return i >= 0 && i < nr_lists_ ? reinterpret_cast<uint64_t>(&lists_[i].token) : 0;
}

uint64_t cache_ext_link::list_length(uint64_t id) const {
  return list_folios(id).size();
}

std::vector<::folio*> cache_ext_link::list_folios(uint64_t id) const {
  std::vector<::folio*> out;
  const list* l = list_by_id(id);
  for (size_t k = 0; l && k < l->heads.size(); ++k) {
    const list_head* h = l->heads[k].get();
    for (const list_head* p = h ? h->next : nullptr; p && p != h; p = p->next)
      out.push_back(node_from(const_cast<list_head*>(p))->folio);
  }
  return out;
}

void cache_ext_link::forget_ungoverned() {
  for (uint64_t i = 0; i < m_.nr_folio_frames(); ++i) {
    ::cache_ext_list_node& n = nodes_[i];
    if (!n.folio || mm::model::folio_memcg(n.folio)->cache_ops == this) continue;
    if (!mm::list_empty(&n.node)) mm::list_del(&n.node);
    mm::INIT_LIST_HEAD(&n.node);
    n.folio = nullptr;
  }
}

void cache_ext_link::folio_added(::folio* f) {
  ::cache_ext_list_node& n = nodes_[m_.folio_id(f)];
  n.folio = f;  // into the valid set, on no list
  mm::INIT_LIST_HEAD(&n.node);
  if (progs_[FOLIO_ADDED]) run(FOLIO_ADDED, reinterpret_cast<uint64_t>(f));
}

void cache_ext_link::folio_accessed(::folio* f) {
  if (progs_[FOLIO_ACCESSED] && nodes_[m_.folio_id(f)].folio == f)
    run(FOLIO_ACCESSED, reinterpret_cast<uint64_t>(f));
}

void cache_ext_link::folio_evicted(::folio* f) {
  ::cache_ext_list_node& n = nodes_[m_.folio_id(f)];
  if (n.folio != f) return;  // cached before the attach: never valid here
  if (progs_[FOLIO_EVICTED]) run(FOLIO_EVICTED, reinterpret_cast<uint64_t>(f));
  if (!mm::list_empty(&n.node)) mm::list_del(&n.node);  // the kernel takes it off its list
  mm::INIT_LIST_HEAD(&n.node);
  n.folio = nullptr;
}

unsigned cache_ext_link::evict_folios(mm::memcg& mc, unsigned request, ::folio** out) {
  if (!progs_[EVICT_FOLIOS]) return 0;
  ::cache_ext_eviction_ctx ctx;
  ctx.request_nr_folios_to_evict = request;
  ctx.nr_folios_to_evict = 0;
  shrinking_ = &mc;
  run(EVICT_FOLIOS, reinterpret_cast<uint64_t>(&ctx), reinterpret_cast<uint64_t>(&mc.css));
  shrinking_ = nullptr;
  const uint64_t n = ctx.nr_folios_to_evict;
  if (n > mm::CACHE_EVICT_BATCH) return static_cast<unsigned>(std::min<uint64_t>(n, UINT32_MAX));
  std::copy_n(ctx.folios_to_evict, n, out);
  return static_cast<unsigned>(n);
}

bool cache_ext_link::admit_folio(const mm::admission_ctx& a) {
  if (!progs_[ADMIT_FOLIO]) return true;
  ::cache_ext_admission_ctx ctx{a.ino, a.offset, a.size};
  return static_cast<uint8_t>(run(ADMIT_FOLIO, reinterpret_cast<uint64_t>(&ctx))) != 0;
}

// ---- the family --------------------------------------------------------------------------

cache_ext::cache_ext(bpf::runtime& rt, mm::model& m, cache_attachments& at)
    : rt_(rt), m_(m), at_(at) {
  register_cache_ext(rt);
  // what bpf_get_current_pid_tgid() and bpf_ktime_get_ns() see: the model's current task
  // (one thread per process: tgid == pid) and clock
  rt.get_current_pid_tgid = [&m] {
    const uint64_t pid = m.current_pid();
    return pid << 32 | pid;
  };
  rt.ktime_get_ns = [&m] { return m.now_ns(); };
  // the page frames are kernel memory a program may read with bpf_probe_read_kernel()
  if (m.nr_folio_frames()) {
    bpf::mem_region r;
    r.start = reinterpret_cast<uintptr_t>(m.folio_by_id(0));
    r.size = m.nr_folio_frames() * sizeof(::folio);
    r.writable = false;
    r.name = "folios";
    r.owner = &m;
    if (rt.regions().add(r)) folio_region_ = r.start;
  }
}

cache_ext::~cache_ext() {
  for (auto& l : links_) at_.detach(*l->mc_);
  if (folio_region_) rt_.regions().remove(folio_region_);
}

cache_ext_link* cache_ext::link(const mm::memcg& mc) const {
  for (const auto& l : links_)
    if (l->mc_ == &mc) return l.get();
  return nullptr;
}

result<cache_ext_link*> cache_ext::attach(bpf::bpf_object& obj, std::string_view ops,
                                          mm::memcg& mc, attach_mode mode) {
  auto fail = [&](std::string msg) {
    return error{fmt::format("{}: cache_ext_ops{}{}: {}", obj.name(), ops.empty() ? "" : " ",
                             ops, msg)};
  };
  if (!obj.loaded()) return fail("the object is not loaded");
  auto found = obj.struct_ops_instance("cache_ext_ops", ops);
  if (!found) return fail(found.err().msg);
  const bpf::obj_struct_ops* inst = *found;
  if (at_.attached(mc))
    return fail(fmt::format("cgroup {} already has a page-cache policy attached (EEXIST)", mc.path));

  auto l = std::unique_ptr<cache_ext_link>(new cache_ext_link(m_, mc, inst->name, bpf::engine(rt_.engine)));
  for (const auto& mp : inst->progs) {
    const auto* it = std::find(std::begin(member_names), std::end(member_names), mp.member);
    bpf::obj_prog* p = obj.find_program(mp.prog);
    if (it == std::end(member_names) || !p || !p->prog) return fail(fmt::format("member '{}' is not bound", mp.member));
    l->progs_[it - std::begin(member_names)] = p->prog.get();
  }
  // reg(): init(memcg), the only place lists can be created
  if (l->progs_[cache_ext_link::INIT]) {
    l->in_init_ = true;
    const uint64_t r = l->run(cache_ext_link::INIT, reinterpret_cast<uint64_t>(&mc.css));
    l->in_init_ = false;
    if (l->stats_.prog_errors) return fail(fmt::format("init faulted: {}", l->stats_.last_error));
    if (static_cast<int32_t>(r) != 0)
      return fail(fmt::format("init returned {}; nothing attached", static_cast<int32_t>(r)));
  }
  if (const int e = at_.attach(mc, l.get(), mode); e) return fail(fmt::format("attach failed ({})", e));
  for (auto& other : links_) other->forget_ungoverned();
  links_.push_back(std::move(l));
  return links_.back().get();
}

int cache_ext::detach(mm::memcg& mc) {
  auto it = std::find_if(links_.begin(), links_.end(), [&](const auto& l) { return l->mc_ == &mc; });
  if (it == links_.end()) return -ENOENT;
  at_.detach(mc);
  links_.erase(it);
  return 0;
}

}  // namespace mmbpf::ext
