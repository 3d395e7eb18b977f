// Belady's MIN of belady.h: next-use times computed backwards over the lookup sequence, and a
// max-heap of (next use, folio) with lazy invalidation.
#include "mm/belady.h"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <utility>

#include "mm/folio.h"
#include "mm/model.h"

namespace mmbpf::mm {

namespace {

constexpr uint64_t never = UINT64_MAX;

class belady_policy final : public cache_policy {
 public:
  belady_policy(model& m, const std::vector<page_ref>& accesses)
      : m_(m), refs_(accesses), last_(m.nr_folio_frames(), 0), tracked_(m.nr_folio_frames(), 0) {
    next_.assign(accesses.size(), never);
    std::unordered_map<uint64_t, uint64_t> seen;  // page -> the next lookup of it
    seen.reserve(accesses.size() / 4);
    for (uint64_t t = accesses.size(); t-- > 0;) {
      const uint64_t key = (static_cast<uint64_t>(accesses[t].ino) << 40) ^ accesses[t].index;
      auto [it, fresh] = seen.try_emplace(key, t);
      if (!fresh) {
        next_[t] = it->second;
        it->second = t;
      }
    }
  }

  void folio_added(folio* f) override { note(f); }
  void folio_accessed(folio* f) override { note(f); }
  void folio_evicted(folio* f) override { tracked_[m_.folio_id(f)] = 0; }

  unsigned evict_folios(memcg& mc, unsigned request, folio** out) override {
    sweep();
    unsigned n = 0;
    keep_.clear();
    ++epoch_;
    while (n < request && !heap_.empty()) {
      const auto [when, id] = heap_.top();
      heap_.pop();
      if (!tracked_[id] || stamp_[id] == epoch_) continue;  // evicted since, or a duplicate
      const uint64_t now_next = next_use(id);
      if (now_next != when) {  // stale: it was used again since this entry
        heap_.emplace(now_next, id);
        continue;
      }
      keep_.emplace_back(when, id);  // proposed or skipped, it stays known until evicted
      stamp_[id] = epoch_;
      folio* f = m_.folio_by_id(id);
      if (model::folio_memcg(f) != &mc || folio_test(f, PG_locked) || folio_test(f, PG_dirty) ||
          folio_test(f, PG_writeback) || f->_refcount.counter > 1)
        continue;
      out[n++] = f;
    }
    for (const auto& e : keep_) heap_.push(e);
    return n;
  }

 private:
  // The lookup being served: the model counts a lookup before it serves it.
  uint64_t now() const { return m_.counters().lookups ? m_.counters().lookups - 1 : 0; }
  uint64_t next_of(uint64_t t) const { return t < next_.size() ? next_[t] : never; }
  // The folio's next use after its last known lookup.
  uint64_t next_use(uint32_t id) const { return next_of(last_[id]); }
  // Lookups the policy was not told of (a re-read of the page the last read ended in gets no
  // access notification): walk the sequence since the last sweep and give every cached page
  // its latest use, so the heap holds each folio's true next use (an entry's key only grows,
  // so older, smaller keys are stale and skipped when they come up).
  void sweep() {
    const uint64_t cur = std::min<uint64_t>(now() + 1, refs_.size());
    for (; swept_ < cur; ++swept_) {
      const page_ref& r = refs_[swept_];
      const folio* f = m_.folio_at(r.index, r.ino);
      if (!f) continue;
      const uint32_t id = m_.folio_id(f);
      if (!tracked_[id] || last_[id] >= swept_) continue;
      last_[id] = swept_;
      heap_.emplace(next_of(swept_), id);
    }
  }
  void note(folio* f) {
    const uint32_t id = m_.folio_id(f);
    last_[id] = now();
    tracked_[id] = 1;
    heap_.emplace(next_of(last_[id]), id);
    if (heap_.size() > 4 * tracked_.size() + 1024) rebuild();
  }
  // Every access adds an entry and old ones go only when they reach the top: rebuild from the
  // folios tracked now, one entry each, when stale ones dominate.
  void rebuild() {
    std::vector<std::pair<uint64_t, uint32_t>> entries;
    for (uint32_t id = 0; id < tracked_.size(); ++id)
      if (tracked_[id]) entries.emplace_back(next_use(id), id);
    heap_ = std::priority_queue<std::pair<uint64_t, uint32_t>>(entries.begin(), entries.end());
  }

  model& m_;
  std::vector<page_ref> refs_;
  uint64_t swept_ = 0;          // lookups before this one have been swept
  std::vector<uint64_t> next_;  // lookup t -> the next lookup of the same page, or never
  std::vector<uint64_t> last_;  // folio id -> its last known lookup
  std::vector<uint8_t> tracked_;
  std::vector<uint32_t> stamp_ = std::vector<uint32_t>(tracked_.size(), 0);
  uint32_t epoch_ = 0;
  std::priority_queue<std::pair<uint64_t, uint32_t>> heap_;  // furthest next use on top
  std::vector<std::pair<uint64_t, uint32_t>> keep_;
};

}  // namespace

std::unique_ptr<cache_policy> make_belady_policy(model& m, const std::vector<page_ref>& accesses) {
  return std::make_unique<belady_policy>(m, accesses);
}

}  // namespace mmbpf::mm
