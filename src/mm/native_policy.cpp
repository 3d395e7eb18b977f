// The native policies of native_policy.h. lru/fifo: one intrusive doubly linked list per memcg
// over folio ids, stored in two arrays (prev, next) with one sentinel per memcg. sieve, s3fifo,
// lfu, mru and lfu_sampled use the same kind of lists (id_lists) with more sentinels per memcg
// and per-folio state in arrays indexed by folio id.
#include "mm/native_policy.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

#include "mm/folio.h"
#include "mm/model.h"

namespace mmbpf::mm {

namespace {

// ---- Shared pieces of the policies ----------------------------------------------------------

// Whether the model would accept f as an eviction candidate (shrink_cache_policy()'s checks
// that can change while the folio is cached); the policies skip such folios and keep them.
bool evictable(const folio* f) {
  return !folio_test(f, PG_locked) && !folio_test(f, PG_dirty) && !folio_test(f, PG_writeback) &&
         f->_refcount.counter <= 1;
}


// Intrusive doubly linked lists over node ids: ids below the number of folio frames are
// folios, the rest are sentinels handed out by add_sentinel() (one per list).
struct id_lists {
  static constexpr uint32_t nil = ~0u;
  std::vector<uint32_t> prev, next;

  explicit id_lists(uint32_t n) : prev(n, nil), next(n, nil) {}
  uint32_t add_sentinel() {
    const uint32_t s = static_cast<uint32_t>(prev.size());
    prev.push_back(s);
    next.push_back(s);
    return s;
  }
  // The sentinel heads[index] (one list per memcg index), made on first use.
  uint32_t head_of(std::vector<uint32_t>& heads, uint32_t index) {
    while (heads.size() <= index) heads.push_back(add_sentinel());
    return heads[index];
  }
  bool linked(uint32_t id) const { return prev[id] != nil; }
  bool empty(uint32_t s) const { return next[s] == s; }
  uint32_t tail(uint32_t s) const { return prev[s]; }
  void link_head(uint32_t s, uint32_t id) {
    const uint32_t first = next[s];
    next[id] = first;
    prev[id] = s;
    prev[first] = id;
    next[s] = id;
  }
  void link_tail(uint32_t s, uint32_t id) {
    const uint32_t last = prev[s];
    prev[id] = last;
    next[id] = s;
    next[last] = id;
    prev[s] = id;
  }
  void unlink(uint32_t id) {
    next[prev[id]] = next[id];
    prev[next[id]] = prev[id];
    prev[id] = next[id] = nil;
  }
};

// lru / fifo / mru: one list per memcg, new folios at the head. lru and mru move an accessed
// folio to the head; lru and fifo evict from the tail, skipping folios the model would refuse;
// mru (the twin of cache_ext_mru) evicts from the head, proposing folios that are evictable
// now and passing over at most max_skip of the others in one call (then it stops: the
// kernel's LRU evicts what is still missing).
class list_policy final : public cache_policy {
 public:
  enum class order { lru, fifo, mru };
  static constexpr unsigned max_skip = 200;  // mru.bpf.c's MAX_SKIP

  list_policy(model& m, order o) : m_(m), order_(o), l_(static_cast<uint32_t>(m.nr_folio_frames())) {}

  void folio_added(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (!l_.linked(id)) l_.link_head(sentinel(model::folio_memcg(f)->index), id);
  }
  void folio_accessed(folio* f) override {
    if (order_ == order::fifo) return;
    const uint32_t id = m_.folio_id(f);
    if (!l_.linked(id)) return;  // not on a list (added before the policy was attached)
    l_.unlink(id);
    l_.link_head(sentinel(model::folio_memcg(f)->index), id);
  }
  void folio_evicted(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (l_.linked(id)) l_.unlink(id);
  }
  unsigned evict_folios(memcg& mc, unsigned request, folio** out) override {
    const uint32_t s = sentinel(mc.index);
    const bool mru = order_ == order::mru;
    unsigned n = 0, skipped = 0, visited = 0;
    for (uint32_t id = mru ? l_.next[s] : l_.tail(s); id != s && n < request && visited < 4096;
         id = mru ? l_.next[id] : l_.prev[id], ++visited) {
      folio* f = m_.folio_by_id(id);
      if (mru ? folio_evictable_now(f) : evictable(f))
        out[n++] = f;
      else if (mru && skipped++ >= max_skip)
        break;
    }
    return n;
  }

 private:
  uint32_t sentinel(uint32_t memcg_index) { return l_.head_of(sentinels_, memcg_index); }

  model& m_;
  order order_;
  id_lists l_;
  std::vector<uint32_t> sentinels_;  // per memcg index
};

// The first access notification after folio_added() is the request that inserted the folio
// (filemap_read() and filemap_fault() mark the folio they just added accessed; for a
// readahead folio it is the first demand access): the policies below count re-references
// only, as the cache simulators do (a new object starts unvisited / with frequency 0).
// `fresh` holds that one-shot flag per folio id.

// ---- SIEVE ---------------------------------------------------------------------------------

class sieve_policy final : public cache_policy {
 public:
  explicit sieve_policy(model& m)
      : m_(m),
        n_(static_cast<uint32_t>(m.nr_folio_frames())),
        l_(n_),
        visited_(n_, 0),
        fresh_(n_, 0),
        stamp_(n_, 0) {}

  void folio_added(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    per_memcg& s = state(model::folio_memcg(f)->index);
    if (l_.linked(id)) return;
    l_.link_head(s.sentinel, id);  // new objects at the head
    visited_[id] = 0;
    fresh_[id] = 1;
  }
  void folio_accessed(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (!l_.linked(id)) return;
    if (fresh_[id]) {
      fresh_[id] = 0;
      return;
    }
    visited_[id] = 1;
  }
  void folio_evicted(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (!l_.linked(id)) return;
    per_memcg& s = state(model::folio_memcg(f)->index);
    if (s.hand == id) s.hand = l_.prev[id] == s.sentinel ? id_lists::nil : l_.prev[id];
    l_.unlink(id);
  }
  // The hand walks from where it stopped (or the tail) towards the head, clearing visited
  // bits, and proposes the first unvisited folios; past the head it wraps to the tail.
  unsigned evict_folios(memcg& mc, unsigned request, folio** out) override {
    per_memcg& s = state(mc.index);
    if (l_.empty(s.sentinel)) return 0;
    ++epoch_;
    unsigned n = 0;
    uint32_t cur = s.hand == id_lists::nil ? l_.tail(s.sentinel) : s.hand;
    // every folio is passed at most twice (once clearing, once proposing) plus the wrap
    uint64_t steps = 0;
    const uint64_t limit = 2 * static_cast<uint64_t>(n_) + 4;
    while (n < request && steps++ < limit) {
      if (cur == s.sentinel) {
        cur = l_.tail(s.sentinel);
        continue;
      }
      if (visited_[cur]) {
        visited_[cur] = 0;
      } else if (stamp_[cur] != epoch_) {
        folio* f = m_.folio_by_id(cur);
        if (evictable(f)) {
          stamp_[cur] = epoch_;
          out[n++] = f;
        }
      }
      cur = l_.prev[cur];
    }
    s.hand = cur == s.sentinel ? id_lists::nil : cur;
    return n;
  }

 private:
  struct per_memcg {
    uint32_t sentinel = id_lists::nil;
    uint32_t hand = id_lists::nil;  // next folio the hand looks at, nil: the tail
  };
  per_memcg& state(uint32_t memcg_index) {
    if (memcg_index >= memcgs_.size()) memcgs_.resize(memcg_index + 1);
    per_memcg& s = memcgs_[memcg_index];
    if (s.sentinel == id_lists::nil) s.sentinel = l_.add_sentinel();
    return s;
  }

  model& m_;
  uint32_t n_;
  id_lists l_;
  std::vector<uint8_t> visited_, fresh_;
  std::vector<uint32_t> stamp_;  // epoch_ of the evict_folios() call that proposed the folio
  uint32_t epoch_ = 0;
  std::vector<per_memcg> memcgs_;
};

// ---- S3-FIFO -------------------------------------------------------------------------------

class s3fifo_policy final : public cache_policy {
 public:
  explicit s3fifo_policy(model& m)
      : m_(m),
        n_(static_cast<uint32_t>(m.nr_folio_frames())),
        l_(n_),
        freq_(n_, 0),
        queue_(n_, none),
        fresh_(n_, 0) {}

  void folio_added(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (l_.linked(id)) return;
    per_memcg& s = state(*model::folio_memcg(f));
    freq_[id] = 0;
    fresh_[id] = 1;
    // new folios go to small, or to main when the ghost remembers them
    if (auto it = s.ghost.find(key_of(f)); it != s.ghost.end()) {
      s.ghost.erase(it);  // its ring slot goes stale
      link(s, main_q, id);
    } else {
      link(s, small_q, id);
    }
  }
  void folio_accessed(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (queue_[id] != small_q && queue_[id] != main_q) return;
    if (fresh_[id]) {
      fresh_[id] = 0;
      return;
    }
    if (freq_[id] < 3) ++freq_[id];
  }
  void folio_evicted(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (queue_[id] == none) return;
    per_memcg& s = state(*model::folio_memcg(f));
    // only folios this policy evicted from small are remembered (not truncated ones)
    if (queue_[id] == pending_small) ghost_insert(s, key_of(f));
    unlink(s, id);
  }
  unsigned evict_folios(memcg& mc, unsigned request, folio** out) override {
    per_memcg& s = state(mc);
    // candidates of an earlier call the model did not evict go back to their queue's head
    while (!l_.empty(s.pending)) {
      const uint32_t id = l_.tail(s.pending);
      const uint8_t q = queue_[id] == pending_small ? small_q : main_q;
      unlink(s, id);
      link(s, q, id);
    }
    const uint64_t cap = capacity(mc);
    const uint64_t main_cap = cap - cap / 10;  // small: 10 % (fifo-size-ratio=0.10)
    unsigned n = 0;
    // a folio is moved at most 3 times in main (freq 3 -> 0) and once from small, and an
    // unevictable one is rotated once per pass: bound the walk
    uint64_t steps = 0;
    const uint64_t limit = 6 * (s.nr[small_q] + s.nr[main_q]) + 8;
    while (n < request && (s.nr[small_q] || s.nr[main_q]) && steps++ < limit) {
      if (s.nr[main_q] > main_cap || !s.nr[small_q]) {
        const uint32_t id = l_.tail(s.queue[main_q]);
        if (freq_[id] >= 1) {  // reinsert at main's head, one access forgotten
          --freq_[id];
          l_.unlink(id);
          l_.link_head(s.queue[main_q], id);
          continue;
        }
        propose_or_rotate(s, main_q, id, out, n);
      } else {
        const uint32_t id = l_.tail(s.queue[small_q]);
        if (freq_[id] >= 2) {  // move-to-main-threshold=2: to main with a fresh counter
          unlink(s, id);
          link(s, main_q, id);
          freq_[id] = 0;
          continue;
        }
        propose_or_rotate(s, small_q, id, out, n);
      }
    }
    return n;
  }

 private:
  enum : uint8_t { small_q, main_q, none, pending_small, pending_main };
  struct page_key {
    const void* mapping;
    uint64_t index;
    bool operator==(const page_key& o) const { return mapping == o.mapping && index == o.index; }
  };
  struct key_hash {
    size_t operator()(const page_key& k) const {
      uint64_t h = reinterpret_cast<uintptr_t>(k.mapping) * 0x9e3779b97f4a7c15ull;
      h ^= k.index + 0x7f4a7c159e3779b9ull + (h << 6) + (h >> 2);
      return static_cast<size_t>(h ^ (h >> 31));
    }
  };
  struct per_memcg {
    uint32_t queue[2] = {id_lists::nil, id_lists::nil};  // small, main sentinels
    uint32_t pending = id_lists::nil;  // proposed, not yet evicted
    uint64_t nr[2] = {0, 0};           // folios on small, main
    // ghost: key -> sequence number of its live ring entry; the ring keeps insertion order
    // and may hold stale entries (keys re-admitted since), dropped as they reach the front
    std::unordered_map<page_key, uint64_t, key_hash> ghost;
    std::deque<std::pair<page_key, uint64_t>> ring;
    uint64_t seq = 0;
    uint64_t ghost_cap = 0;
  };

  static page_key key_of(const folio* f) { return {f->mapping, f->index}; }

  // The cache size the 10 % / 90 % split is taken of: the memcg's memory.max when it is below
  // the machine's page frames, else the page frames. The policy cannot know how many pages the
  // memcg will end up holding (that depends on the other memcgs and on anon memory), and the
  // limit is what bounds it; in exact_cache mode on the root memcg it is exactly the cache size.
  uint64_t capacity(const memcg& mc) const {
    const uint64_t frames = m_.nr_folio_frames();
    const uint64_t max = static_cast<uint64_t>(mc.css.memory.max);
    return std::max<uint64_t>(1, std::min(frames, max));
  }

  void propose_or_rotate(per_memcg& s, uint8_t q, uint32_t id, folio** out, unsigned& n) {
    folio* f = m_.folio_by_id(id);
    unlink(s, id);
    if (!evictable(f)) {  // keep it: back to the head of its queue
      link(s, q, id);
      return;
    }
    l_.link_head(s.pending, id);
    queue_[id] = q == small_q ? pending_small : pending_main;
    out[n++] = f;
  }
  void link(per_memcg& s, uint8_t q, uint32_t id) {
    l_.link_head(s.queue[q], id);
    queue_[id] = q;
    ++s.nr[q];
  }
  void unlink(per_memcg& s, uint32_t id) {
    if (queue_[id] == small_q || queue_[id] == main_q) --s.nr[queue_[id]];
    l_.unlink(id);
    queue_[id] = none;
  }
  void ghost_insert(per_memcg& s, const page_key& k) {
    if (!s.ghost_cap) return;
    const uint64_t seq = ++s.seq;
    s.ghost[k] = seq;
    s.ring.emplace_back(k, seq);
    while (s.ghost.size() > s.ghost_cap) {
      const auto [key, kseq] = s.ring.front();
      s.ring.pop_front();
      if (auto it = s.ghost.find(key); it != s.ghost.end() && it->second == kseq) s.ghost.erase(it);
    }
    // bound the ring: drop stale entries once they outnumber the live ones
    if (s.ring.size() > 2 * s.ghost.size() + 64) {
      std::deque<std::pair<page_key, uint64_t>> live;
      for (const auto& e : s.ring)
        if (auto it = s.ghost.find(e.first); it != s.ghost.end() && it->second == e.second)
          live.push_back(e);
      s.ring.swap(live);
    }
  }
  per_memcg& state(const memcg& mc) {
    if (mc.index >= memcgs_.size()) memcgs_.resize(mc.index + 1);
    per_memcg& s = memcgs_[mc.index];
    if (s.pending == id_lists::nil) {
      s.queue[small_q] = l_.add_sentinel();
      s.queue[main_q] = l_.add_sentinel();
      s.pending = l_.add_sentinel();
    }
    // ghost-size-ratio=0.90: as many ids as main holds
    const uint64_t cap = capacity(mc);
    s.ghost_cap = cap - cap / 10;
    return s;
  }

  model& m_;
  uint32_t n_;
  id_lists l_;
  std::vector<uint8_t> freq_, queue_, fresh_;
  std::vector<per_memcg> memcgs_;
};

// ---- LFU -----------------------------------------------------------------------------------

// Frequency buckets: per memcg a list of buckets in increasing frequency (only non-empty ones),
// each a list of its folios, most recently entered at the head. A folio enters a bucket when it
// is added (frequency 1) or accessed (one up), so within a bucket the tail is the least recently
// used: evicting from the tail of the lowest bucket is LFU with LRU among equals. Buckets come
// from a pool with a free list (at most one per tracked folio plus one per memcg).
class lfu_policy final : public cache_policy {
 public:
  explicit lfu_policy(model& m)
      : m_(m),
        n_(static_cast<uint32_t>(m.nr_folio_frames())),
        l_(n_),
        freq_(n_, 0),
        bucket_of_(n_, id_lists::nil),
        fresh_(n_, 0) {}

  void folio_added(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (l_.linked(id)) return;
    const uint32_t head = memcg_bucket(model::folio_memcg(f)->index);
    fresh_[id] = 1;
    enter(id, head, 1);
  }
  void folio_accessed(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (!l_.linked(id)) return;
    if (fresh_[id]) {
      fresh_[id] = 0;
      return;
    }
    const uint32_t b = bucket_of_[id];
    l_.unlink(id);
    enter(id, b, freq_[id] + 1);
    if (l_.empty(bucket_[b].folios)) free_bucket(b);
  }
  void folio_evicted(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (!l_.linked(id)) return;
    const uint32_t b = bucket_of_[id];
    l_.unlink(id);
    bucket_of_[id] = id_lists::nil;
    if (l_.empty(bucket_[b].folios)) free_bucket(b);
  }
  unsigned evict_folios(memcg& mc, unsigned request, folio** out) override {
    const uint32_t head = memcg_bucket(mc.index);
    unsigned n = 0;
    unsigned visited = 0;
    for (uint32_t b = bucket_[head].next; b != head && n < request; b = bucket_[b].next) {
      const uint32_t s = bucket_[b].folios;
      for (uint32_t id = l_.tail(s); id != s && n < request && visited < 4096;
           id = l_.prev[id], ++visited) {
        folio* f = m_.folio_by_id(id);
        if (evictable(f)) out[n++] = f;
      }
    }
    return n;
  }

 private:
  struct bucket {
    uint64_t freq = 0;  // 0: a memcg's head of the bucket list
    uint32_t prev = 0, next = 0;
    uint32_t folios = id_lists::nil;  // sentinel of its folio list
  };

  // Puts folio id with frequency `freq` into the bucket after `after` (or `after` itself when
  // it has that frequency), creating the bucket when missing.
  void enter(uint32_t id, uint32_t after, uint64_t freq) {
    uint32_t b = bucket_[after].freq == freq ? after : bucket_[after].next;
    if (bucket_[b].freq != freq) {
      b = new_bucket(freq);
      const uint32_t nx = bucket_[after].next;
      bucket_[b].prev = after;
      bucket_[b].next = nx;
      bucket_[nx].prev = b;
      bucket_[after].next = b;
    }
    freq_[id] = freq;
    bucket_of_[id] = b;
    l_.link_head(bucket_[b].folios, id);
  }
  uint32_t new_bucket(uint64_t freq) {
    uint32_t b;
    if (!free_.empty()) {
      b = free_.back();
      free_.pop_back();
    } else {
      b = static_cast<uint32_t>(bucket_.size());
      bucket_.emplace_back();
      bucket_[b].folios = l_.add_sentinel();
    }
    bucket_[b].freq = freq;
    bucket_[b].prev = bucket_[b].next = b;
    return b;
  }
  void free_bucket(uint32_t b) {
    bucket_[bucket_[b].prev].next = bucket_[b].next;
    bucket_[bucket_[b].next].prev = bucket_[b].prev;
    free_.push_back(b);
  }
  uint32_t memcg_bucket(uint32_t memcg_index) {
    if (memcg_index >= heads_.size()) heads_.resize(memcg_index + 1, id_lists::nil);
    if (heads_[memcg_index] == id_lists::nil) heads_[memcg_index] = new_bucket(0);
    return heads_[memcg_index];
  }

  model& m_;
  uint32_t n_;
  id_lists l_;
  std::vector<uint64_t> freq_;
  std::vector<uint32_t> bucket_of_;
  std::vector<uint8_t> fresh_;
  std::vector<bucket> bucket_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> heads_;  // per memcg index: its head bucket
};

// ---- sampled LFU (the twin of cache_ext_sampling) -------------------------------------------

// bpf_cache_ext_list_sample() over one list per memcg with score = frequency, done in C++:
// the same list order (new folios at the tail, sampled ones back at the tail), the same runs
// and the same tie-break, so it proposes the folios the BPF policy proposes.
class lfu_sampled_policy final : public cache_policy {
 public:
  static constexpr uint32_t sample_size = 20;         // lfu.bpf.c's sampling_options
  static constexpr uint64_t max_sample_folios = 2048;  // the kfunc's per-CPU array

  explicit lfu_sampled_policy(model& m)
      : m_(m), n_(static_cast<uint32_t>(m.nr_folio_frames())), l_(n_), freq_(n_, 0) {}

  void folio_added(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (l_.linked(id)) return;
    l_.link_tail(sentinel(model::folio_memcg(f)->index), id);
    freq_[id] = 1;
  }
  void folio_accessed(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (l_.linked(id)) ++freq_[id];
  }
  void folio_evicted(folio* f) override {
    const uint32_t id = m_.folio_id(f);
    if (l_.linked(id)) l_.unlink(id);
  }
  unsigned evict_folios(memcg& mc, unsigned request, folio** out) override {
    const uint32_t s = sentinel(mc.index);
    const uint64_t req = std::min<uint64_t>(request, CACHE_EVICT_BATCH);
    const uint64_t want = req * sample_size;
    if (!want || want > max_sample_folios) return 0;
    sampled_.clear();
    for (uint32_t id = l_.next[s]; id != s && sampled_.size() < want; id = l_.next[id])
      sampled_.push_back(id);
    // too few: the kfunc puts back all it took, in order (the list is unchanged), and fails
    if (sampled_.size() < want) return 0;
    unsigned n = 0;
    for (uint64_t k = 0; k < want; k += sample_size) {
      uint32_t best = sampled_[k];
      int64_t best_score = score(best);
      for (uint64_t j = k + 1; j < k + sample_size; ++j) {
        const int64_t sc = score(sampled_[j]);
        if (sc < best_score) best = sampled_[j], best_score = sc;
      }
      out[n++] = m_.folio_by_id(best);
    }
    for (uint32_t id : sampled_) {  // all of them back at the tail, in sampling order
      l_.unlink(id);
      l_.link_tail(s, id);
    }
    return n;
  }

 private:
  int64_t score(uint32_t id) {
    if (!folio_evictable_now(m_.folio_by_id(id))) return INT64_MAX;
    return static_cast<int64_t>(freq_[id]);
  }
  uint32_t sentinel(uint32_t memcg_index) { return l_.head_of(sentinels_, memcg_index); }

  model& m_;
  uint32_t n_;
  id_lists l_;
  std::vector<uint64_t> freq_;
  std::vector<uint32_t> sentinels_;  // per memcg index
  std::vector<uint32_t> sampled_;
};

}  // namespace

bool folio_evictable_now(const folio* f) {
  return folio_test(f, PG_uptodate) && folio_test(f, PG_lru) && !folio_test(f, PG_dirty) &&
         !folio_test(f, PG_writeback);
}

std::vector<std::string_view> native_policy_names() {
  return {"lru", "fifo", "sieve", "s3fifo", "lfu", "mru", "lfu_sampled"};
}

result<std::unique_ptr<cache_policy>> make_native_policy(std::string_view name, model& m) {
  if (name == "lru") return std::unique_ptr<cache_policy>(new list_policy(m, list_policy::order::lru));
  if (name == "fifo") return std::unique_ptr<cache_policy>(new list_policy(m, list_policy::order::fifo));
  if (name == "sieve") return std::unique_ptr<cache_policy>(new sieve_policy(m));
  if (name == "s3fifo") return std::unique_ptr<cache_policy>(new s3fifo_policy(m));
  if (name == "lfu") return std::unique_ptr<cache_policy>(new lfu_policy(m));
  if (name == "mru") return std::unique_ptr<cache_policy>(new list_policy(m, list_policy::order::mru));
  if (name == "lfu_sampled") return std::unique_ptr<cache_policy>(new lfu_sampled_policy(m));
  std::string known;
  for (auto n : native_policy_names()) known += (known.empty() ? "" : ", ") + std::string(n);
  return error{"unknown policy '" + std::string(name) + "' (known: default, " + known + ")"};
}

}  // namespace mmbpf::mm
