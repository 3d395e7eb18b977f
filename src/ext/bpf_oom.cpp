// The BPF OOM family: struct_ops "bpf_oom_ops", the OOM kfuncs and the per-memcg links (see
// bpf_oom.h). The kfuncs find the link whose handler is running through a thread-local
// pointer, and the family of a runtime (for bpf_out_of_memory() outside a handler) through a
// small table, as the kernel's would through current and oom_lock.
#include "ext/bpf_oom.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bpf/btf_handle.h"
#include "bpf/memory.h"
#include "bpf/object.h"
#include "bpf/runtime.h"
#include "ext/memcg_kfuncs.h"
#include "mm/oom_badness.h"

namespace mmbpf::ext {
namespace {

thread_local bpf_oom_link* current_link = nullptr;

// The family of each runtime (one per runtime, at most).
std::vector<std::pair<const bpf::runtime*, bpf_oom*>>& families() {
  static std::vector<std::pair<const bpf::runtime*, bpf_oom*>> f;
  return f;
}

uint64_t ret(int64_t v) { return static_cast<uint64_t>(v); }

}  // namespace

struct bpf_oom_link::kfunc_api {
  static bpf_oom_link* link() { return current_link; }
  static ::oom_control* running_oc(bpf_oom_link* l) { return l->running_oc_; }
  static mm::model& model(bpf_oom_link* l) { return l->m_; }
  static uint64_t refuse(bpf_oom_link* l, int64_t v) {
    if (l) ++l->stats_.kfunc_refused;
    return ret(v);
  }
  static void killed(bpf_oom_link* l) { ++l->stats_.kills; }
};

struct bpf_oom::kfunc_api {
  static mm::model* model_of_current_run() {
    const bpf::run_ctx* rc = bpf::current_run();
    if (!rc) return nullptr;
    for (auto& [rt, f] : families())
      if (rt == rc->rt) return &f->m_;
    return nullptr;
  }
};

namespace {

using api = bpf_oom_link::kfunc_api;

// The model task whose task_struct is at p, or null.
mm::task* task_of(mm::model& m, uint64_t p) {
  if (!p) return nullptr;
  const auto* ts = reinterpret_cast<const ::task_struct*>(p);
  mm::task* t = m.find_task(static_cast<uint32_t>(ts->pid));
  return t && reinterpret_cast<uint64_t>(&t->ts) == p ? t : nullptr;
}

// int bpf_oom_kill_process(struct oom_control *oc, struct task_struct *task,
//                          const char *message__str)
uint64_t k_oom_kill_process(uint64_t oc, uint64_t task, uint64_t msg, uint64_t, uint64_t) {
  bpf_oom_link* l = api::link();
  if (!l || reinterpret_cast<uint64_t>(api::running_oc(l)) != oc) return api::refuse(l, -EINVAL);
  mm::model& m = api::model(l);
  mm::task* t = task_of(m, task);
  if (!t) return api::refuse(l, -EINVAL);
  // oom_unkillable_task(), and what oom_kill_process() would not kill
  if (!t->alive || t->signal.oom_score_adj == mm::OOM_SCORE_ADJ_MIN) return api::refuse(l, -EPERM);
  auto* o = reinterpret_cast<::oom_control*>(oc);
  o->chosen = &t->ts;
  m.oom_kill_process(*o, *t, msg ? reinterpret_cast<const char*>(msg) : "");
  o->chosen = nullptr;  // as the series' kfunc leaves it
  api::killed(l);
  return 0;
}

// bool bpf_task_is_oom_victim(struct task_struct *task): tsk_is_oom_victim()
uint64_t k_task_is_oom_victim(uint64_t task, uint64_t, uint64_t, uint64_t, uint64_t) {
  if (!task) return 0;
  const auto* ts = reinterpret_cast<const ::task_struct*>(task);
  return ts->signal && ts->signal->oom_mm ? 1 : 0;
}

// int bpf_out_of_memory(struct mem_cgroup *memcg__nullable, int order, u64 flags)
uint64_t k_out_of_memory(uint64_t memcg, uint64_t order, uint64_t flags, uint64_t, uint64_t) {
  bpf_oom_link* l = api::link();
  mm::model* m = l ? &api::model(l) : bpf_oom::kfunc_api::model_of_current_run();
  if (!m) return ret(-EINVAL);
  const auto ord = static_cast<int32_t>(order);
  if (flags & ~BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK) return api::refuse(l, -EINVAL);
  if (ord < 0 || ord > MAX_PAGE_ORDER) return api::refuse(l, -EINVAL);
  if (m->in_oom_handler()) return api::refuse(l, -EBUSY);  // oom_lock is held by our caller
  mm::memcg* mc = nullptr;
  if (memcg) {
    for (const auto& g : m->memcgs())
      if (reinterpret_cast<uint64_t>(&g->css) == memcg) mc = g.get();
    if (!mc) return api::refuse(l, -EINVAL);
  }
  return m->out_of_memory(mc, ord) ? 1 : 0;
}

// The name member's offset in the object's own struct bpf_oom_ops.
uint32_t local_name_offset(const bpf::btf_handle& btf, const std::string& local_type) {
  const uint32_t id = btf.find(local_type, BTF_KIND_STRUCT);
  const struct btf_type* t = id ? btf.type(id) : nullptr;
  for (uint16_t k = 0; t && k < btf_vlen(t); ++k)
    if (btf.str(btf_members(t)[k].name_off) == "name") return btf_member_bit_offset(t, k) / 8;
  return offsetof(::bpf_oom_ops, name);
}

// bpf_oom_kfunc_filter: an OOM handler may not declare an OOM (its caller holds oom_lock);
// PSI handlers and other programs may.
bool out_of_memory_filter(std::string_view ops_member) {
  return !ops_member.starts_with("bpf_oom_ops.");
}

}  // namespace

void register_bpf_oom(bpf::runtime& rt) {
  if (rt.struct_ops().find("bpf_oom_ops")) return;
  // bpf_tracing_btf_ctx_access: the context is read-only, and so is everything reached from
  // it (oom_control's bpf_memory_freed and bpf_handler_name included): no writable window.
  (void)rt.struct_ops().add(
      {.name = "bpf_oom_ops",
       .rules = {{.name = "handle_out_of_memory", .required = true, .sleepable = true},
                 {.name = "handle_cgroup_offline", .sleepable = true}},  // v2
       .writable = {},
       .shapes = {"bpf_oom_ops", "bpf_oom_ops___v2"}});
  const bpf::kfunc_desc ks[] = {
      {"bpf_oom_kill_process", k_oom_kill_process, bpf::KF_SLEEPABLE | bpf::KF_TRUSTED_ARGS},
      {.name = "bpf_out_of_memory",
       .fn = k_out_of_memory,
       .flags = bpf::KF_SLEEPABLE | bpf::KF_TRUSTED_ARGS,
       .filter = out_of_memory_filter},
      {"bpf_task_is_oom_victim", k_task_is_oom_victim, 0},
  };
  for (const auto& k : ks) (void)rt.kfuncs().add(k);
}

// ---- the link ----------------------------------------------------------------------------

bpf_oom_link::bpf_oom_link(bpf::runtime& rt, mm::model& m, memcg_kfuncs& mk, mm::memcg& mc,
                           std::string name, const bpf::bpf_prog* prog, bool v2,
                           const bpf::bpf_prog* offline_prog)
    : rt_(rt), mk_(mk), m_(m), mc_(&mc), name_(std::move(name)), prog_(prog), engine_(rt.engine),
      st_link_(std::make_unique<::bpf_struct_ops_link>()), v2_(v2),
      ctx_(std::make_unique<::bpf_oom_ctx>()), offline_prog_(offline_prog) {
  std::memset(st_link_.get(), 0, sizeof(::bpf_struct_ops_link));
  // the cgroup's id as BPF knows it (bpf_cgroup_from_id()); 0 for the root (system-wide)
  st_link_->cgroup_id = mc.parent ? mc.kn.id : 0;
  ctx_->cgroup_id = st_link_->cgroup_id;
}

bpf_oom_link::~bpf_oom_link() = default;

// The oom_control and the link a handler gets, as read-only regions of the runtime while it
// runs (the memcgs and tasks are the memcg kfuncs binding's, synced before the run).
class oom_regions {
 public:
  oom_regions(bpf::runtime& rt, const ::oom_control* oc, const ::bpf_struct_ops_link& st,
              const ::bpf_oom_ctx& ctx)
      : rt_(rt) {
    if (oc) add(oc, sizeof *oc, "oom_control");
    add(&st, sizeof st, "bpf_struct_ops_link");
    add(&ctx, sizeof ctx, "bpf_oom_ctx");
  }
  ~oom_regions() {
    for (uintptr_t s : added_) rt_.regions().remove(s);
  }

 private:
  void add(const void* p, size_t size, const char* name) {
    bpf::mem_region r;
    r.start = reinterpret_cast<uintptr_t>(p);
    r.size = size;
    r.writable = false;
    r.name = name;
    if (rt_.regions().add(r)) added_.push_back(r.start);
  }
  bpf::runtime& rt_;
  std::vector<uintptr_t> added_;
};

result<uint64_t> bpf_oom_link::run(const bpf::bpf_prog& prog, uint64_t a0, uint64_t a1,
                                   ::oom_control* oc) {
  mk_.sync_regions();  // tasks forked since the last run
  oom_regions regions(rt_, oc, *st_link_, *ctx_);
  const uint64_t args[2] = {a0, a1};
  bpf::run_args ra;
  ra.r[0] = reinterpret_cast<uint64_t>(args);
  bpf_oom_link* prev = current_link;
  ::oom_control* prev_oc = running_oc_;
  current_link = this;
  running_oc_ = oc;
  auto r = engine_.run(prog, ra);
  current_link = prev;
  running_oc_ = prev_oc;
  return r;
}

bool bpf_oom_link::handle_out_of_memory(oom_control& oc) {
  const auto oc_arg = reinterpret_cast<uint64_t>(&oc);
  auto r = v2_ ? run(*prog_, reinterpret_cast<uint64_t>(ctx_.get()), oc_arg, &oc)
               : run(*prog_, oc_arg, reinterpret_cast<uint64_t>(st_link_.get()), &oc);
  ++stats_.runs;
  if (!r) {
    ++stats_.prog_errors;
    stats_.last_error = r.err().msg;
    return false;
  }
  const bool claimed = static_cast<int32_t>(*r) != 0;
  if (claimed) ++(oc.bpf_memory_freed ? stats_.handled : stats_.not_believed);
  return claimed;
}

void bpf_oom_link::cgroup_offline(mm::memcg& mc) {
  if (!offline_prog_) return;
  auto r = run(*offline_prog_, reinterpret_cast<uint64_t>(ctx_.get()), mc.kn.id, nullptr);
  if (!r) {
    ++stats_.prog_errors;
    stats_.last_error = r.err().msg;
  }
}

// ---- the family --------------------------------------------------------------------------

bpf_oom::bpf_oom(bpf::runtime& rt, mm::model& m)
    : rt_(rt), m_(m), memcg_(std::make_unique<memcg_kfuncs>(rt, m)) {
  register_bpf_oom(rt);
  if (!rt.find_task) rt.find_task = [&m](int32_t pid) -> void* {
    mm::task* t = pid > 0 ? m.find_task(static_cast<uint32_t>(pid)) : nullptr;
    return t && t->alive ? &t->ts : nullptr;
  };
  if (!rt.ktime_get_ns) rt.ktime_get_ns = [&m] { return m.now_ns(); };
  families().emplace_back(&rt, this);
}

bpf_oom::~bpf_oom() {
  for (auto& l : links_)
    if (l->mc_->oom_ops == l.get()) m_.set_oom_policy(*l->mc_, nullptr);
  auto& f = families();
  f.erase(std::remove_if(f.begin(), f.end(), [&](const auto& e) { return e.second == this; }),
          f.end());
}

bpf_oom_link* bpf_oom::link(const mm::memcg& mc) const {
  for (const auto& l : links_)
    if (l->mc_ == &mc) return l.get();
  return nullptr;
}

result<bpf_oom_link*> bpf_oom::attach(bpf::bpf_object& obj, std::string_view ops, mm::memcg& mc) {
  auto fail = [&](std::string msg) {
    return error{fmt::format("{}: bpf_oom_ops{}{}: {}", obj.name(), ops.empty() ? "" : " ", ops,
                             msg)};
  };
  if (!obj.loaded()) return fail("the object is not loaded");
  auto found = obj.struct_ops_instance("bpf_oom_ops", ops);
  if (!found) return fail(found.err().msg);
  const bpf::obj_struct_ops* inst = *found;
  if (!mc.online) return fail(fmt::format("cgroup {} is offline (ENOENT)", mc.path));
  if (mc.oom_ops || link(mc))
    return fail(fmt::format("cgroup {} already has an OOM handler attached (EEXIST)", mc.path));
  const bool v2 = inst->shape == "bpf_oom_ops___v2";
  const bpf::bpf_prog* prog = nullptr;
  const bpf::bpf_prog* offline_prog = nullptr;
  for (const auto& mp : inst->progs) {
    bpf::obj_prog* p = obj.find_program(mp.prog);
    if (!p || !p->prog) return fail(fmt::format("member '{}' is not bound", mp.member));
    (mp.member == "handle_out_of_memory" ? prog : offline_prog) = p->prog.get();
  }
  if (!prog) return fail("required member 'handle_out_of_memory' has no program");
  // init_member(): the name, "bpf_defined_policy" when empty
  std::string name;
  const uint32_t off = local_name_offset(obj.btf(), inst->local_type);
  for (uint32_t k = off; k < inst->data.size() && k < off + BPF_OOM_NAME_MAX_LEN && inst->data[k]; ++k)
    name.push_back(static_cast<char>(inst->data[k]));
  if (name.empty()) name = bpf_oom_default_name;
  auto l = std::unique_ptr<bpf_oom_link>(new bpf_oom_link(rt_, m_, *memcg_, mc, std::move(name), prog, v2, offline_prog));
  m_.set_oom_policy(mc, l.get());
  links_.push_back(std::move(l));
  return links_.back().get();
}

int bpf_oom::detach(mm::memcg& mc) {
  auto it = std::find_if(links_.begin(), links_.end(), [&](const auto& l) { return l->mc_ == &mc; });
  if (it == links_.end()) return -ENOENT;
  if (mc.oom_ops == it->get()) m_.set_oom_policy(mc, nullptr);
  links_.erase(it);
  return 0;
}

}  // namespace mmbpf::ext
