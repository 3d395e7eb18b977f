// Per-event cost of cache_ext policies in the full MM model (shared/reference/mm-bpf-interfaces.md
// §3.7: the paper's no-op policy costs 0.17-1.66 % CPU per IO in the kernel). One zipfian read
// trace (theta 0.99, 10M events over 200K pages, MMBPF_BENCH_EVENTS to change; memory = 10 % of
// the pages, 20K page frames, otherwise the default config: classic LRU, kswapd, readahead,
// memcg charging, clock) replayed into a fresh model per repetition with:
//   none             no policy: the kernel's LRU
//   bpf_noop         bpf/policies/cache/noop.bpf.c: one list, moves a folio on each access,
//                    proposes nothing, so the kernel's LRU evicts; its misses must equal `none`'s
//   bpf_lfu          bpf/policies/cache/lfu.bpf.c (sampled LFU, list_sample + a BPF hash map)
//   native_lfu       its C++ twin "lfu_sampled" (mm/native_policy.cpp); same misses as bpf_lfu
//   native_lfu_bpf_structs  lfu.bpf.c's logic compiled as C++ on the BPF policy's structures
//                    (lfu_on_bpf_structs below); same misses as bpf_lfu
//   native_lfu_bpf_lists    the same with frequencies in an array by folio (what folio-local
//                    storage would give) instead of the hash map; same misses as bpf_lfu
//   bpf_fifo         bpf/policies/cache/fifo.bpf.c (list_iterate)
//   native_fifo      its C++ twin "fifo"; same misses as bpf_fifo
// BPF policies run in the JIT; the *_interp variants of noop and lfu run the same programs in
// the interpreter.
// A miss count that differs from the one it must equal stops that benchmark with an error.
// Model, runtime, object load and attach happen outside the timed region (manual time: only
// the replay loop is timed). Per benchmark: ns/event, events per second, BPF program runs per
// event (sum of the link's stats().runs). At the end, from the medians: per-event ns of each,
// the no-op's extra cost over no policy (ns/event and %), the extra cost per BPF hook call
// ((noop - none) / noop's runs per event), and BPF vs native twin ratios:
//
//   build/bench_cache_ext --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// What limits the figures: a hook call is cache_ext_link::run() (the thread-local current link,
// stats) around the engine's run and the program's kfuncs; lfu's cost is memory more than
// instructions: each eviction samples 20 folios, one callback each, and each callback reads the
// folio and looks its frequency up in a BPF hash map keyed by the folio's address (slot and
// element), where the native twin reads a dense array indexed by folio id; cache_ext's list nodes
// (24 bytes per folio frame, walked by pointer) against the twin's u32 arrays. bpf_lfu vs
// native_lfu_bpf_structs separates the first (BPF) from the second (the structures). The machine
// is shared: quote medians of at least 5 repetitions.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bpf/object.h"
#include "bpf/runtime.h"
#include "ext/attach.h"
#include "ext/policy_host.h"
#include "ext/cache_ext.h"
#include "mm/folio.h"
#include "mm/model.h"
#include "mm/native_policy.h"
#include "workload/generators.h"
#include "workload/replay.h"

using namespace mmbpf;

namespace {

constexpr uint64_t nr_pages = 200000;
constexpr uint64_t memory_pages = nr_pages / 10;

uint64_t nr_events() {
  static const uint64_t n = [] {
    const char* e = std::getenv("MMBPF_BENCH_EVENTS");
    const uint64_t v = e ? std::strtoull(e, nullptr, 10) : 0;
    return v ? v : uint64_t{10000000};
  }();
  return n;
}

const std::vector<workload::event>& events() {
  static std::vector<workload::event> v = [] {
    workload::page_read_params p;
    p.pages = nr_pages;
    p.events = nr_events();
    p.theta = 0.99;
    return *workload::read_all(*workload::make_page_reads(p));
  }();
  return v;
}


// lfu.bpf.c compiled as C++ (-O2) on the structures the BPF policy works on: a node per folio
// frame laid out as struct cache_ext_list_node, on one list per memcg that is sampled as
// bpf_cache_ext_list_sample() samples it, and the frequency in a BPF hash map (the same map
// implementation and size, keyed by the folio's address, called through bpf_map as the helper
// calls it). Its misses equal the BPF policy's. BPF lfu vs this is what running the policy as
// BPF costs (JIT-ed code, hook and kfunc boundaries, callbacks); this vs lfu_sampled, which
// keeps frequencies in an array indexed by folio and its lists as arrays of u32, is what the
// data structures cost. With per_folio set, the frequency lives in an array indexed by folio
// instead (what folio-local storage, which cache_ext does not have, would give): that splits
// the structures' cost into the hash map's and the list nodes'.
class lfu_on_bpf_structs final : public mm::cache_policy {
 public:
  static constexpr uint64_t sample_size = 20;         // lfu.bpf.c's sampling_options
  static constexpr uint64_t max_sample_folios = 2048;  // the kfunc's per-CPU array

  lfu_on_bpf_structs(mm::model& m, bool per_folio)
      : m_(m), nodes_(m.nr_folio_frames()), per_folio_(per_folio ? m.nr_folio_frames() : 0) {
    bpf::map_attr a;
    a.map_type = BPF_MAP_TYPE_HASH;
    a.key_size = a.value_size = 8;
    a.max_entries = static_cast<uint32_t>(m.totalram_pages());  // as policy_host sizes it
    a.name = "folio_freq";
    freq_ = std::move(bpf::bpf_map::create(a).value());
    for (node& n : nodes_) mm::INIT_LIST_HEAD(&n.link);
  }

  void folio_added(folio* f) override {
    node& n = nodes_[m_.folio_id(f)];
    if (n.f) return;  // on the list already: bpf_cache_ext_list_add_tail() fails
    n.f = f;
    mm::list_add_tail(&n.link, head(mm::model::folio_memcg(f)->index));
    if (!per_folio_.empty()) {
      per_folio_[m_.folio_id(f)] = 1;
      return;
    }
    const uint64_t key = reinterpret_cast<uint64_t>(f), one = 1;
    (void)freq_->update_elem(&key, &one, BPF_ANY);
  }
  void folio_accessed(folio* f) override {
    if (!per_folio_.empty()) {
      if (nodes_[m_.folio_id(f)].f) __sync_fetch_and_add(&per_folio_[m_.folio_id(f)], 1);
      return;
    }
    const uint64_t key = reinterpret_cast<uint64_t>(f);
    if (auto* v = static_cast<uint64_t*>(freq_->lookup_elem(&key))) __sync_fetch_and_add(v, 1);
  }
  void folio_evicted(folio* f) override {
    node& n = nodes_[m_.folio_id(f)];
    if (n.f) {  // the link takes the folio off its list
      mm::list_del(&n.link);
      mm::INIT_LIST_HEAD(&n.link);
      n.f = nullptr;
    }
    if (!per_folio_.empty()) return;
    const uint64_t key = reinterpret_cast<uint64_t>(f);
    (void)freq_->delete_elem(&key);
  }
  unsigned evict_folios(mm::memcg& mc, unsigned request, folio** out) override {
    list_head* h = head(mc.index);
    const uint64_t want = std::min<uint64_t>(request, mm::CACHE_EVICT_BATCH) * sample_size;
    if (!want || want > max_sample_folios) return 0;
    uint64_t got = 0;
    while (got < want && !mm::list_empty(h)) {
      list_head* p = h->next;
      mm::list_del(p);
      mm::INIT_LIST_HEAD(p);
      sampled_[got++] = container_of(p);
    }
    unsigned n = 0;
    if (got == want) {
      for (uint64_t k = 0; k < want; k += sample_size) {
        node* best = nullptr;
        int64_t best_score = 0;
        for (uint64_t j = k; j < k + sample_size; ++j) {
          const int64_t s = score(sampled_[j]->f);
          if (!best || s < best_score) best = sampled_[j], best_score = s;
        }
        out[n++] = best->f;
      }
    }
    for (uint64_t i = 0; i < got; ++i) mm::list_add_tail(&sampled_[i]->link, h);
    return n;
  }

 private:
  struct node {  // struct cache_ext_list_node's layout
    folio* f = nullptr;
    list_head link;
  };
  static node* container_of(list_head* p) {
    return reinterpret_cast<node*>(reinterpret_cast<char*>(p) - offsetof(node, link));
  }
  int64_t score(folio* f) {
    if (!mm::folio_evictable_now(f)) return INT64_MAX;
    if (!per_folio_.empty()) return static_cast<int64_t>(per_folio_[m_.folio_id(f)]);
    const uint64_t key = reinterpret_cast<uint64_t>(f);
    const auto* v = static_cast<const uint64_t*>(freq_->lookup_elem(&key));
    return v ? static_cast<int64_t>(*v) : 0;
  }
  list_head* head(uint32_t memcg_index) {
    while (heads_.size() <= memcg_index) {
      heads_.push_back(std::make_unique<list_head>());
      mm::INIT_LIST_HEAD(heads_.back().get());
    }
    return heads_[memcg_index].get();
  }

  mm::model& m_;
  std::vector<node> nodes_;
  std::vector<std::unique_ptr<list_head>> heads_;
  std::unique_ptr<bpf::bpf_map> freq_;
  std::vector<uint64_t> per_folio_;  // per folio frame, when not in freq_
  node* sampled_[max_sample_folios];
};

// A model with a policy attached to the root in effective mode through ext::policy_host, as
// `mmbpf run --policy` attaches it (maps sized as the policies' loaders would): an in-tree BPF
// policy by name, "native:NAME", or "default" (none).
struct setup {
  std::unique_ptr<mm::model> m;
  std::unique_ptr<ext::policy_host> host;
  std::unique_ptr<mm::cache_policy> local;  // lfu_on_bpf_structs, set on the root
};

// Builds the setup, or returns an error message.
std::string build(setup& s, const std::string& policy, bpf::engine_kind engine) {
  mm::config c;
  c.memory_pages = memory_pages;
  s.m = std::make_unique<mm::model>(c);
  s.m->set_file_size(1, nr_pages * 4096);
  s.host = std::make_unique<ext::policy_host>(*s.m, MMBPF_BPF_OBJ_DIR "/bpf/policies/cache");
  s.host->set_engine(engine);
  if (policy == "lfu_on_bpf_structs" || policy == "lfu_on_bpf_lists") {
    s.local = std::make_unique<lfu_on_bpf_structs>(*s.m, policy == "lfu_on_bpf_lists");
    s.m->set_cache_policy(s.m->root(), s.local.get());
    return {};
  }
  if (auto r = s.host->attach(policy, s.m->root(), ext::attach_mode::effective); !r)
    return r.err().msg;
  return {};
}

struct outcome {
  uint64_t misses = 0;
  uint64_t runs = 0;  // BPF program runs
  double seconds = 0;
  std::string error;
};

outcome replay_once(const std::string& policy,
                    bpf::engine_kind engine = bpf::engine_kind::jit) {
  outcome o;
  setup s;
  if (std::string e = build(s, policy, engine); !e.empty()) {
    o.error = e;
    return o;
  }
  workload::span_source src(events());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = workload::replay(src, *s.m, {});
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r) o.error = r.err().msg;
  o.misses = s.m->counters().misses;
  const ext::cache_ext_stats st = s.host->bpf_stats();
  o.runs = st.runs;
  if (st.prog_errors) o.error = "program faulted: " + st.last_error;
  return o;
}

// Misses of each policy seen so far, so that a benchmark can compare with another's without
// replaying it again.
std::map<std::string, uint64_t>& known_misses() {
  static std::map<std::string, uint64_t> m;
  return m;
}
// The misses of a policy, replaying it (untimed) if no benchmark has run it yet.
uint64_t misses_of(const std::string& policy) {
  if (auto it = known_misses().find(policy); it != known_misses().end()) return it->second;
  return known_misses()[policy] = replay_once(policy).misses;
}

// One benchmark: replays the trace once per iteration into a fresh setup; when must_equal is
// set (another policy), its misses must be the same.
void run(benchmark::State& state, const std::string& policy, const char* must_equal = nullptr,
         bpf::engine_kind engine = bpf::engine_kind::jit) {
  events();  // generated outside any timed region
  outcome o;
  for (auto _ : state) {
    o = replay_once(policy, engine);
    if (!o.error.empty()) {
      state.SkipWithError(o.error.c_str());
      return;
    }
    state.SetIterationTime(o.seconds);
  }
  if (engine == bpf::engine_kind::jit) known_misses()[policy] = o.misses;
  if (must_equal) {
    const uint64_t want = misses_of(must_equal);
    if (o.misses != want) {
      const std::string msg = policy + ": " + std::to_string(o.misses) + " misses, but " +
                              must_equal + " had " + std::to_string(want);
      state.SkipWithError(msg.c_str());
      return;
    }
  }
  const auto ev = static_cast<double>(events().size());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events().size()));
  state.counters["ns/event"] = o.seconds * 1e9 / ev;
  state.counters["runs/event"] = static_cast<double>(o.runs) / ev;
  state.counters["miss_ratio"] = static_cast<double>(o.misses) / ev;
}

void BM_none(benchmark::State& st) { run(st, "default"); }
void BM_bpf_noop(benchmark::State& st) { run(st, "noop", "default"); }
void BM_bpf_noop_interp(benchmark::State& st) {
  run(st, "noop", "default", bpf::engine_kind::interp);
}
void BM_bpf_lfu(benchmark::State& st) { run(st, "lfu"); }
void BM_bpf_lfu_interp(benchmark::State& st) { run(st, "lfu", "lfu", bpf::engine_kind::interp); }
void BM_native_lfu(benchmark::State& st) { run(st, "native:lfu_sampled", "lfu"); }
void BM_native_lfu_bpf_structs(benchmark::State& st) {
  run(st, "lfu_on_bpf_structs", "lfu");
}
void BM_native_lfu_bpf_lists(benchmark::State& st) {
  run(st, "lfu_on_bpf_lists", "lfu");
}
void BM_bpf_fifo(benchmark::State& st) { run(st, "fifo"); }
void BM_native_fifo(benchmark::State& st) { run(st, "native:fifo", "fifo"); }

BENCHMARK(BM_none)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bpf_noop)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bpf_noop_interp)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bpf_lfu)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bpf_lfu_interp)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_native_lfu)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_native_lfu_bpf_structs)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_native_lfu_bpf_lists)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bpf_fifo)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_native_fifo)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// Keeps each benchmark's counters (the medians when repeated) and prints the summary at the end.
class summary_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      auto& c = c_[r.run_name.function_name];
      for (const char* k : {"ns/event", "runs/event", "miss_ratio"})
        if (auto it = r.counters.find(k); it != r.counters.end()) c[k] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    auto ns = [&](const char* b) { return get(b, "ns/event"); };
    std::printf("\n%llu events, zipf 0.99 over %llu pages, memory %llu pages (medians)\n",
                static_cast<unsigned long long>(nr_events()),
                static_cast<unsigned long long>(nr_pages),
                static_cast<unsigned long long>(memory_pages));
    std::printf("%-24s %10s %12s %11s\n", "policy", "ns/event", "runs/event", "miss ratio");
    for (const char* b : {"BM_none", "BM_bpf_noop", "BM_bpf_noop_interp", "BM_bpf_lfu",
                          "BM_bpf_lfu_interp", "BM_native_lfu", "BM_native_lfu_bpf_structs",
                          "BM_native_lfu_bpf_lists",
                          "BM_bpf_fifo", "BM_native_fifo"})
      if (ns(b) > 0)
        std::printf("%-24s %10.1f %12.3f %11.4f\n", b + 3, ns(b), get(b, "runs/event"),
                    get(b, "miss_ratio"));
    const double base = ns("BM_none"), noop = ns("BM_bpf_noop");
    if (base > 0 && noop > 0) {
      std::printf("noop vs no policy: %+.1f ns/event (%+.1f %%)\n", noop - base,
                  100.0 * (noop - base) / base);
      if (const double runs = get("BM_bpf_noop", "runs/event"); runs > 0)
        std::printf("noop: %.3f BPF program runs per event, %.1f ns per BPF hook call\n", runs,
                    (noop - base) / runs);
    }
    ratio("BPF lfu (JIT) vs native lfu_sampled", "BM_bpf_lfu", "BM_native_lfu", base);
    ratio("BPF lfu (JIT) vs lfu.bpf.c in C++ on its structures", "BM_bpf_lfu",
          "BM_native_lfu_bpf_structs", base);
    ratio("lfu.bpf.c in C++ on its structures vs native lfu_sampled", "BM_native_lfu_bpf_structs",
          "BM_native_lfu", base);
    ratio("  of which the hash map (vs frequencies per folio)", "BM_native_lfu_bpf_structs",
          "BM_native_lfu_bpf_lists", base);
    ratio("  and cache_ext's list nodes (vs u32 lists)", "BM_native_lfu_bpf_lists",
          "BM_native_lfu", base);
    ratio("BPF lfu, interpreter vs JIT", "BM_bpf_lfu_interp", "BM_bpf_lfu", base);
    ratio("BPF fifo vs native fifo", "BM_bpf_fifo", "BM_native_fifo", base);
  }

 private:
  double get(const std::string& b, const char* k) {
    auto it = c_.find(b);
    if (it == c_.end()) return 0;
    auto jt = it->second.find(k);
    return jt == it->second.end() ? 0 : jt->second;
  }
  void ratio(const char* what, const char* bpf, const char* native, double base) {
    const double b = get(bpf, "ns/event"), n = get(native, "ns/event");
    if (b <= 0 || n <= 0) return;
    // (No per-run figure: runs count the hooks, not the callbacks list_iterate and
    // list_sample make, which is where lfu's time goes.)
    std::printf("%s: %.2f x per event (%+.1f ns/event)", what, b / n, b - n);
    if (base > 0 && n > base)
      std::printf("; over no policy: %+.1f vs %+.1f ns/event", b - base, n - base);
    std::printf("\n");
  }

  std::map<std::string, std::map<std::string, double>> c_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  summary_reporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  benchmark::Shutdown();
  return 0;
}
