// Replay speed of the full MM model (the figure): a 10M-event zipfian read trace over
// 1M pages (theta 0.99), memory = 10 % of the pages (100k pages, 400 MiB), the kernel's
// default policy (active/inactive LRU, workingset, kswapd, readahead, memcg charging, clock).
// In the same run, as baselines: the model with the native exact LRU policy (--exact), and a
// minimal hand-written LRU cache (open addressing + index-linked list, the floor of
// kernel-mm-model.md §5.2) on the same requests. Prints events per second and the ratios.
//
//   build/bench_model --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// libCacheSim side by side (not a dependency; build it from its source as §5.1 says):
//   build/mmbpf trace generate zipf:pages=1M,events=10M,theta=0.99 -o zipf.oracleGeneral
//       --format oracleGeneral            (one line)
//   cachesim zipf.oracleGeneral oracleGeneral lru 100000 --ignore-obj-size 1
//   build/mmbpf run --trace zipf.oracleGeneral --memory 400M --json
#include <benchmark/benchmark.h>

#include <cstdio>
#include <span>
#include <vector>

#include "mm/model.h"
#include "mm/native_policy.h"
#include "workload/generators.h"
#include "workload/replay.h"

using namespace mmbpf;

namespace {

constexpr uint64_t nr_pages = 1000000;
constexpr uint64_t nr_events = 10000000;
constexpr uint64_t memory_pages = nr_pages / 10;

const std::vector<workload::event>& events() {
  static std::vector<workload::event> v = [] {
    workload::page_read_params p;
    p.pages = nr_pages;
    p.events = nr_events;
    p.theta = 0.99;
    return *workload::read_all(*workload::make_page_reads(p));
  }();
  return v;
}


void replay_model(benchmark::State& state, bool exact_lru) {
  const auto& ev = events();
  uint64_t misses = 0;
  for (auto _ : state) {
    state.PauseTiming();
    mm::config c;
    c.memory_pages = memory_pages;
    c.exact_cache = exact_lru;
    auto m = std::make_unique<mm::model>(c);
    m->set_file_size(1, nr_pages * 4096);
    std::unique_ptr<mm::cache_policy> lru;
    if (exact_lru) {
      lru = std::move(*mm::make_native_policy("lru", *m));
      m->set_cache_policy(m->root(), lru.get());
    }
    workload::span_source src(ev);
    state.ResumeTiming();
    auto r = workload::replay(src, *m, {});
    if (!r) state.SkipWithError(r.err().msg.c_str());
    misses = m->counters().misses;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ev.size()));
  state.counters["miss_ratio"] = static_cast<double>(misses) / static_cast<double>(ev.size());
}

void BM_model_default(benchmark::State& state) {
  replay_model(state, false);
}
void BM_model_exact_lru(benchmark::State& state) {
  replay_model(state, true);
}

// The floor: a minimal LRU cache on the same page numbers (§5.2's design).
void BM_minimal_lru(benchmark::State& state) {
  const auto& ev = events();
  uint64_t misses = 0;
  for (auto _ : state) {
    constexpr uint32_t nil = ~0u;
    const uint64_t cap = memory_pages;
    std::vector<uint64_t> key(cap);
    std::vector<uint32_t> prev(cap, nil), next(cap, nil);
    const uint64_t slots = 1u << 18;  // > 2 x capacity
    std::vector<uint32_t> table(slots, nil);
    uint32_t head = nil, tail = nil, used = 0;
    misses = 0;
    auto find = [&](uint64_t k) {
      uint64_t i = (k * 0x9e3779b97f4a7c15ull) >> 46;
      while (table[i] != nil && key[table[i]] != k) i = (i + 1) & (slots - 1);
      return i;
    };
    auto unlink = [&](uint32_t n) {
      if (prev[n] != nil) next[prev[n]] = next[n]; else head = next[n];
      if (next[n] != nil) prev[next[n]] = prev[n]; else tail = prev[n];
    };
    auto push = [&](uint32_t n) {
      prev[n] = nil;
      next[n] = head;
      if (head != nil) prev[head] = n;
      head = n;
      if (tail == nil) tail = n;
    };
    for (const auto& e : ev) {
      const uint64_t k = e.off >> 12;
      uint64_t i = find(k);
      if (table[i] != nil) {
        unlink(table[i]);
        push(table[i]);
        continue;
      }
      ++misses;
      uint32_t n;
      if (used < cap) {
        n = used++;
      } else {
        n = tail;
        unlink(n);
        // backward-shift delete of the victim's slot
        uint64_t hole = find(key[n]);
        for (uint64_t j = (hole + 1) & (slots - 1); table[j] != nil; j = (j + 1) & (slots - 1)) {
          const uint64_t home = (key[table[j]] * 0x9e3779b97f4a7c15ull) >> 46;
          if (((j - home) & (slots - 1)) >= ((j - hole) & (slots - 1))) {
            table[hole] = table[j];
            hole = j;
          }
        }
        table[hole] = nil;
        i = find(k);
      }
      key[n] = k;
      table[i] = n;
      push(n);
    }
    benchmark::DoNotOptimize(misses);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ev.size()));
  state.counters["miss_ratio"] = static_cast<double>(misses) / static_cast<double>(ev.size());
}

BENCHMARK(BM_model_default)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_model_exact_lru)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_minimal_lru)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
