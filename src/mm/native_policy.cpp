// The native list policies of native_policy.h: one intrusive doubly linked list per memcg over
// folio ids, stored in two arrays (prev, next) with one sentinel per memcg.
#include "mm/native_policy.h"

#include <string>

#include "mm/folio.h"
#include "mm/model.h"

namespace mmbpf::mm {

namespace {

class list_policy final : public cache_policy {
 public:
  list_policy(model& m, bool move_on_access)
      : m_(m),
        move_on_access_(move_on_access),
        n_(static_cast<uint32_t>(m.nr_folio_frames())),
        prev_(n_, nil),
        next_(n_, nil) {}

  void folio_added(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    link_head(sentinel(f), id);
  }
  void folio_accessed(folio* f) override {
    if (!move_on_access_) return;
    const uint32_t id = m_.folio_id(f);
    if (prev_[id] == nil) return;  // not on a list (added before the policy was attached)
    unlink(id);
    link_head(sentinel(f), id);
  }
  void folio_evicted(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (prev_[id] != nil) unlink(id);
  }
  // From the tail (least recently used / first in), skipping folios the model would refuse.
  unsigned evict_folios(memcg& mc, unsigned request, folio** out) override {
    const uint32_t s = sentinel_of(mc.index);
    unsigned n = 0;
    unsigned visited = 0;
    for (uint32_t id = prev_at(s); id != s && n < request && visited < 4096;
         id = prev_at(id), ++visited) {
      folio* f = m_.folio_by_id(id);
      if (folio_test(f, PG_locked) || folio_test(f, PG_dirty) || folio_test(f, PG_writeback) ||
          f->_refcount.counter > 1)
        continue;
      out[n++] = f;
    }
    return n;
  }

 private:
  static constexpr uint32_t nil = ~0u;
  // Ids below n_ are folios; n_ + memcg index are the per-memcg sentinels.
  uint32_t sentinel_of(uint32_t memcg_index) {
    const uint32_t s = n_ + memcg_index;
    if (s >= prev_.size()) {
      const size_t old = prev_.size();
      prev_.resize(s + 1, nil);
      next_.resize(s + 1, nil);
      for (size_t i = old; i <= s; ++i) prev_[i] = next_[i] = static_cast<uint32_t>(i);
    }
    return s;
  }
  uint32_t sentinel(folio* f) { return sentinel_of(model::folio_memcg(f)->index); }
  uint32_t prev_at(uint32_t id) const { return prev_[id]; }
  void link_head(uint32_t s, uint32_t id) {
    const uint32_t first = next_[s];
    next_[id] = first;
    prev_[id] = s;
    prev_[first] = id;
    next_[s] = id;
  }
  void unlink(uint32_t id) {
    next_[prev_[id]] = next_[id];
    prev_[next_[id]] = prev_[id];
    prev_[id] = next_[id] = nil;
  }

  model& m_;
  bool move_on_access_;
  uint32_t n_;
  std::vector<uint32_t> prev_, next_;
};

}  // namespace

std::vector<std::string_view> native_policy_names() {
  return {"lru", "fifo"};
}

result<std::unique_ptr<cache_policy>> make_native_policy(std::string_view name, model& m) {
  if (name == "lru") return std::unique_ptr<cache_policy>(new list_policy(m, true));
  if (name == "fifo") return std::unique_ptr<cache_policy>(new list_policy(m, false));
  std::string known;
  for (auto n : native_policy_names()) known += (known.empty() ? "" : ", ") + std::string(n);
  return error{"unknown policy '" + std::string(name) + "' (known: default, " + known + ")"};
}

}  // namespace mmbpf::mm
