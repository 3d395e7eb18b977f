// The BPF PSI family: struct_ops "bpf_psi_ops", bpf_psi_create_trigger and the model's PSI
// triggers (see bpf_psi.h). The kfunc finds the family whose program is running through a
// thread-local pointer; triggers are evaluated from the model's psi_hook (end_event()).
#include "ext/bpf_psi.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "bpf/memory.h"
#include "bpf/object.h"
#include "bpf/runtime.h"
#include "ext/bpf_oom.h"

namespace mmbpf::ext {
namespace {

thread_local bpf_psi* current_psi = nullptr;

constexpr const char* member_names[] = {"init", "handle_psi_event", "handle_cgroup_online",
                                        "handle_cgroup_offline"};
constexpr uint64_t NSEC_PER_USEC = 1000;
constexpr uint64_t default_poll_ns = 100'000'000;  // without triggers: online/offline only

uint64_t ret(int64_t v) { return static_cast<uint64_t>(v); }

// window_reset() and window_update() of kernel/sched/psi.c
void window_reset(::psi_window& win, uint64_t now, uint64_t value, uint64_t prev_growth) {
  win.start_time = now;
  win.start_value = value;
  win.prev_growth = prev_growth;
}

uint64_t window_update(::psi_window& win, uint64_t now, uint64_t value) {
  const uint64_t elapsed = now - win.start_time;
  uint64_t growth = value - win.start_value;
  if (elapsed > win.size) {
    window_reset(win, now, value, growth);
  } else {
    const uint64_t remaining = win.size - elapsed;
    growth += win.prev_growth * remaining / win.size;
  }
  return growth;
}

}  // namespace

struct bpf_psi::kfunc_api {
  static bpf_psi* family() { return current_psi; }
  static uint64_t handle(bpf_psi* f) { return reinterpret_cast<uint64_t>(&f->handle_); }
  static int create(bpf_psi* f, uint64_t cg, uint32_t res, uint32_t thr, uint32_t win) {
    const int r = f->create_trigger(cg, res, thr, win);
    if (r) ++f->stats_.kfunc_refused;
    return r;
  }
};

namespace {

// int bpf_psi_create_trigger(struct bpf_psi *bpf_psi, u64 cgroup_id, u32 resource,
//                            u32 threshold_us, u32 window_us)
uint64_t k_psi_create_trigger(uint64_t psi, uint64_t cgroup_id, uint64_t resource,
                              uint64_t threshold_us, uint64_t window_us) {
  bpf_psi* f = bpf_psi::kfunc_api::family();
  if (!f || psi != bpf_psi::kfunc_api::handle(f)) return ret(-EINVAL);
  return ret(bpf_psi::kfunc_api::create(f, cgroup_id, static_cast<uint32_t>(resource),
                                        static_cast<uint32_t>(threshold_us),
                                        static_cast<uint32_t>(window_us)));
}

// The trigger a handler gets, as a read-only region of the runtime while it runs.
class trigger_region {
 public:
  trigger_region(bpf::runtime& rt, const ::psi_trigger& t) : rt_(rt) {
    bpf::mem_region r;
    r.start = reinterpret_cast<uintptr_t>(&t);
    r.size = sizeof t;
    r.writable = false;
    r.name = "psi_trigger";
    if (rt_.regions().add(r)) start_ = r.start;
  }
  ~trigger_region() {
    if (start_) rt_.regions().remove(start_);
  }

 private:
  bpf::runtime& rt_;
  uintptr_t start_ = 0;
};

}  // namespace

void register_bpf_psi(bpf::runtime& rt) {
  if (rt.struct_ops().find("bpf_psi_ops")) return;
  // The context (and the trigger it points to) is read-only: no writable window.
  (void)rt.struct_ops().add({.name = "bpf_psi_ops",
                             .rules = {{.name = "init", .sleepable = true},
                                       {.name = "handle_psi_event", .sleepable = true},
                                       {.name = "handle_cgroup_online", .sleepable = true},
                                       {.name = "handle_cgroup_offline", .sleepable = true}},
                             .writable = {}});
  (void)rt.kfuncs().add({"bpf_psi_create_trigger", k_psi_create_trigger, bpf::KF_SLEEPABLE});
}

// ---- the family --------------------------------------------------------------------------

bpf_psi::bpf_psi(bpf::runtime& rt, mm::model& m)
    : rt_(rt), m_(m), oom_(std::make_unique<bpf_oom>(rt, m)), engine_(rt.engine) {
  register_bpf_psi(rt);
}

bpf_psi::~bpf_psi() { (void)detach(); }

uint64_t bpf_psi::group_total(const mm::memcg& mc, int state) {
  const int res = state / 2;  // PSI_IO_SOME/FULL -> PSI_IO, PSI_MEM_* -> PSI_MEM
  if (state >= PSI_NONIDLE || (res != PSI_IO && res != PSI_MEM)) return 0;
  uint64_t total = 0;
  mm::model::for_each_memcg_preorder(const_cast<mm::memcg&>(mc), [&](mm::memcg& g) {
    total += res == PSI_MEM ? g.stall_memory_ns : g.stall_io_ns;
  });
  return total;
}

int bpf_psi::create_trigger(uint64_t cgroup_id, uint32_t resource, uint32_t threshold_us,
                            uint32_t window_us) {
  // psi_trigger_create()
  const bool full = resource & BPF_PSI_FULL;
  const uint32_t res = resource & ~BPF_PSI_FULL;
  if (res >= NR_PSI_RESOURCES) return -EINVAL;
  int state = PSI_IO_SOME + static_cast<int>(res) * 2 + (full ? 1 : 0);
  if (res == PSI_IRQ && --state != PSI_IRQ_FULL) return -EINVAL;  // CONFIG_IRQ_TIME_ACCOUNTING
  if (state >= PSI_NONIDLE) return -EINVAL;
  if (window_us < PSI_WINDOW_MIN_US || window_us > PSI_WINDOW_MAX_US) return -EINVAL;
  if (threshold_us == 0 || threshold_us > window_us) return -EINVAL;
  mm::memcg* mc = nullptr;
  if (cgroup_id == 0) {
    mc = &m_.root();
  } else {
    for (const auto& g : m_.memcgs())
      if (g->kn.id == cgroup_id) mc = g.get();
    if (!mc || !mc->online) return -ENOENT;
  }
  auto t = std::make_unique<bpf_psi_trigger>();
  t->mc = mc;
  t->t.state = static_cast<enum psi_states>(state);
  t->t.threshold = uint64_t{threshold_us} * NSEC_PER_USEC;
  t->t.win.size = uint64_t{window_us} * NSEC_PER_USEC;
  t->polled_total = group_total(*mc, state);
  window_reset(t->t.win, m_.now_ns(), t->polled_total, 0);
  t->t.last_event_time = 0;
  t->t.pending_event = false;
  t->t.aggregator = PSI_POLL;
  t->t.cgroup_id = cgroup_id;
  triggers_.push_back(std::move(t));
  ++stats_.triggers_created;
  if (attached_) m_.set_psi_hook(this, m_.now_ns() + poll_period());  // a shorter window
  return 0;
}

uint64_t bpf_psi::poll_period() const {
  uint64_t p = default_poll_ns;
  for (const auto& t : triggers_) p = std::min<uint64_t>(p, t->t.win.size / PSI_UPDATES_PER_WINDOW);
  return std::max<uint64_t>(p, 1);
}

uint64_t bpf_psi::run(member which, uint64_t a0, uint64_t a1) {
  const bpf::bpf_prog* prog = progs_[which];
  if (!prog) return 0;
  const uint64_t args[2] = {a0, a1};
  bpf::run_args ra;
  ra.r[0] = reinterpret_cast<uint64_t>(args);
  bpf_psi* prev = current_psi;
  current_psi = this;
  auto r = engine_.run(*prog, ra);
  current_psi = prev;
  if (!r) {
    ++stats_.prog_errors;
    stats_.last_error = r.err().msg;
    return 0;
  }
  return *r;
}

// update_triggers() of kernel/sched/psi.c (the rtpoll side), plus the cgroup callbacks.
uint64_t bpf_psi::psi_update(uint64_t now) {
  const uint64_t h = kfunc_api::handle(this);
  // cgroups created since the last update (the model never frees a memcg)
  while (known_memcgs_ < m_.memcgs().size()) {
    const mm::memcg& g = *m_.memcgs()[known_memcgs_++];
    ++stats_.online;
    run(ONLINE, h, g.kn.id);
  }
  // cgroups with triggers that went offline: callback, then the triggers go
  for (size_t i = 0; i < triggers_.size();) {
    mm::memcg* mc = triggers_[i]->mc;
    if (mc->online) {
      ++i;
      continue;
    }
    ++stats_.offline;
    run(OFFLINE, h, mc->kn.id);
    std::erase_if(triggers_, [&](const auto& t) { return t->mc == mc; });
  }
  // Handlers may create triggers (the vector grows): iterate by index over the current ones.
  const size_t n = triggers_.size();
  for (size_t i = 0; i < n && i < triggers_.size(); ++i) {
    bpf_psi_trigger& tr = *triggers_[i];
    ::psi_trigger& t = tr.t;
    const uint64_t total = group_total(*tr.mc, t.state);
    // no stall activity since the last update and no breach pending (rtpoll_total)
    if (total == tr.polled_total && !t.pending_event) continue;
    tr.polled_total = total;
    const uint64_t growth = window_update(t.win, now, total);
    if (!t.pending_event) {
      if (growth < t.threshold) continue;
      t.pending_event = true;
    }
    // at most one event per window (last_event_time 0: never fired; the model clock starts at 0)
    if (t.last_event_time && now < t.last_event_time + t.win.size) continue;
    t.last_event_time = now;
    t.pending_event = false;
    ++tr.fired;
    ++stats_.events;
    trigger_region region(rt_, t);
    run(EVENT, h, reinterpret_cast<uint64_t>(&t));
  }
  return now + poll_period();
}

result<void> bpf_psi::attach(bpf::bpf_object& obj, std::string_view ops) {
  auto fail = [&](std::string msg) {
    return error{fmt::format("{}: bpf_psi_ops{}{}: {}", obj.name(), ops.empty() ? "" : " ", ops,
                             msg)};
  };
  if (!obj.loaded()) return fail("the object is not loaded");
  engine_ = bpf::engine(rt_.engine);
  auto found = obj.struct_ops_instance("bpf_psi_ops", ops);
  if (!found) return fail(found.err().msg);
  if (attached_) return fail("a bpf_psi_ops instance is attached already (EEXIST)");
  const bpf::bpf_prog* progs[NR_MEMBERS] = {};
  for (const auto& mp : (*found)->progs) {
    const auto* it = std::find(std::begin(member_names), std::end(member_names), mp.member);
    bpf::obj_prog* p = obj.find_program(mp.prog);
    if (it == std::end(member_names) || !p || !p->prog)
      return fail(fmt::format("member '{}' is not bound", mp.member));
    progs[it - std::begin(member_names)] = p->prog.get();
  }
  std::copy(std::begin(progs), std::end(progs), std::begin(progs_));
  triggers_.clear();
  const uint64_t errors_before = stats_.prog_errors;
  const uint64_t r = run(INIT, kfunc_api::handle(this), 0);
  auto refuse = [&](std::string msg) {
    triggers_.clear();
    std::fill(std::begin(progs_), std::end(progs_), nullptr);
    return fail(std::move(msg));
  };
  if (stats_.prog_errors != errors_before)
    return refuse(fmt::format("init faulted: {}", stats_.last_error));
  if (static_cast<int32_t>(r) != 0)
    return refuse(fmt::format("init returned {}; nothing attached", static_cast<int32_t>(r)));
  attached_ = true;
  known_memcgs_ = m_.memcgs().size();
  m_.set_psi_hook(this, m_.now_ns() + poll_period());
  return {};
}

int bpf_psi::detach() {
  if (!attached_) return -ENOENT;
  m_.set_psi_hook(nullptr, 0);
  attached_ = false;
  triggers_.clear();
  std::fill(std::begin(progs_), std::end(progs_), nullptr);
  return 0;
}

}  // namespace mmbpf::ext
