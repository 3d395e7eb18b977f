// Test harness for cache_ext policies: a runtime, a model, the family, and helpers to load an
// in-tree policy (bpf/policies/cache/NAME.bpf.c) or a test program (tests/ext/progs/) and to
// replay page reads.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bpf/object.h"
#include "bpf/runtime.h"
#include "ext/attach.h"
#include "ext/cache_ext.h"
#include "mm/model.h"
#include "mm/native_policy.h"

namespace mmbpf::ext::testing {

inline std::string policy_object(const std::string& name) {
  return std::string(MMBPF_BPF_OBJ_DIR) + "/bpf/policies/cache/" + name + ".bpf.o";
}
inline std::string test_object(const std::string& name) {
  return std::string(MMBPF_BPF_OBJ_DIR) + "/tests/ext/progs/" + name + ".bpf.o";
}

// One model with the cache_ext family. Objects opened through load() live as long as it.
struct harness {
  explicit harness(const mm::config& c) : m(c), at(m), ce(rt, m, at) {}
  ~harness() { ce_detach_all(); }

  // Opens and loads an object (register_cache_ext has run, so its kfuncs bind).
  bpf::bpf_object* load(const std::string& path) {
    auto o = bpf::bpf_object::open_file(path);
    EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.err().msg);
    if (!o.ok()) return nullptr;
    auto r = (*o)->load(rt);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().msg);
    if (!r.ok()) return nullptr;
    objs.push_back(std::move(*o));
    return objs.back().get();
  }
  // Loads and attaches an object to mc; null (with a test failure) if that fails.
  cache_ext_link* attach(const std::string& path, mm::memcg& mc,
                         attach_mode mode = attach_mode::own_cgroup) {
    bpf::bpf_object* o = load(path);
    if (!o) return nullptr;
    auto l = ce.attach(*o, "", mc, mode);
    EXPECT_TRUE(l.ok()) << (l.ok() ? "" : l.err().msg);
    return l.ok() ? *l : nullptr;
  }
  void ce_detach_all() {
    for (const auto& mc : m.memcgs()) (void)ce.detach(*mc);
  }
  // One read() of page `page` of inode `ino` by pid in cgroup cg, as one event.
  void read_page(uint64_t page, uint32_t ino = 1, uint32_t pid = 1, uint16_t cg = 0) {
    const uint64_t t = m.now_ns();
    m.sys_read(pid, cg, ino, page * 4096, 4096);
    m.end_event(t);
  }

  bpf::runtime rt;
  mm::model m;
  cache_attachments at;
  cache_ext ce;
  std::vector<std::unique_ptr<bpf::bpf_object>> objs;
};

// A model of `pages` page frames that caches exactly that many pages (no readahead, no
// watermark slack), as the differential tests of native policies use.
inline mm::config exact_config(uint64_t pages) {
  mm::config c;
  c.memory_pages = pages;
  c.exact_cache = true;
  return c;
}

// What a run of page reads left: misses, the model's counters, file pages cached at the end.
struct run_outcome {
  uint64_t misses = 0;
  mm::model_counters counters;
  long file_pages = 0;
  cache_ext_stats stats;  // BPF runs only
};

// read() of each page of inode 1 (a file of `objects` pages) by pid 1 in the root cgroup.
inline void read_pages(mm::model& m, uint64_t objects, const std::vector<uint64_t>& trace) {
  m.set_file_size(1, objects * 4096);
  for (uint64_t p : trace) {
    const uint64_t t = m.now_ns();
    m.sys_read(1, 0, 1, p * 4096, 4096);
    m.end_event(t);
  }
}

// The trace under a native policy (mm/native_policy.h), in an exact cache of `capacity` pages.
inline run_outcome run_native(const std::string& policy, uint64_t capacity, uint64_t objects,
                              const std::vector<uint64_t>& trace) {
  mm::model m(exact_config(capacity));
  auto p = mm::make_native_policy(policy, m);
  EXPECT_TRUE(p.ok()) << policy;
  if (!p.ok()) return {};
  m.set_cache_policy(m.root(), p->get());
  read_pages(m, objects, trace);
  return {m.counters().misses, m.counters(), m.node_page_state(NR_FILE_PAGES), {}};
}

// The trace under an in-tree BPF policy attached at the root, in an exact cache.
inline run_outcome run_bpf(const std::string& policy, uint64_t capacity, uint64_t objects,
                           const std::vector<uint64_t>& trace) {
  harness h(exact_config(capacity));
  cache_ext_link* l = h.attach(policy_object(policy), h.m.root(), attach_mode::effective);
  if (!l) return {};
  read_pages(h.m, objects, trace);
  return {h.m.counters().misses, h.m.counters(), h.m.node_page_state(NR_FILE_PAGES), l->stats()};
}

// Half the requests to the first tenth of the objects, half uniform.
inline std::vector<uint64_t> skewed_trace(uint64_t objects, uint64_t requests, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> t;
  for (uint64_t i = 0; i < requests; ++i) t.push_back(rng() % 2 ? rng() % (objects / 10) : rng() % objects);
  return t;
}

}  // namespace mmbpf::ext::testing
