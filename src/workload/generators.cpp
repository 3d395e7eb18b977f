// Synthetic workload generators (see generators.h).
#include "workload/generators.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mmbpf::workload {

namespace {

event base_event(const common_params& c, event_kind k) {
  event e{};
  e.kind = k;
  e.pid = c.pid;
  e.cgroup = c.cgroup;
  e.ino = c.ino;
  return e;
}

trace_meta one_file(uint32_t ino, uint64_t bytes) {
  trace_meta m;
  m.file_size[ino] = bytes;
  return m;
}

// ---- zipf / uniform / hotset ----

class page_reads final : public generator {
 public:
  explicit page_reads(const page_read_params& p)
      : p_(p), r_(p.c.seed), sc_(p.pages, p.c.seed ^ 0x5ca77e5ULL) {
    if (p.dist == page_dist::zipf) z_ = std::make_unique<zipfian>(p.pages, p.theta);
    hot_pages_ = std::clamp<uint64_t>(static_cast<uint64_t>(p.hot * static_cast<double>(p.pages)),
                                      1, p.pages);
  }
  trace_meta meta() const override { return one_file(p_.c.ino, p_.pages * page_size); }
  uint64_t expected_events() const override { return p_.events; }

  result<size_t> read(std::span<event> out) override {
    size_t n = std::min<uint64_t>(out.size(), p_.events - done_);
    event e = base_event(p_.c, event_kind::read);
    e.len = page_size;
    for (size_t i = 0; i < n; ++i) {
      uint64_t page = 0;
      switch (p_.dist) {
        case page_dist::zipf: {
          uint64_t rank = z_->next(r_);
          page = p_.scramble ? sc_(rank) : rank;
          break;
        }
        case page_dist::uniform:
          page = r_.below(p_.pages);
          break;
        case page_dist::hotset:
          if (r_.uniform01() < p_.hot_ops || hot_pages_ == p_.pages)
            page = r_.below(hot_pages_);
          else
            page = hot_pages_ + r_.below(p_.pages - hot_pages_);
          break;
      }
      e.kind = p_.write > 0 && r_.uniform01() < p_.write ? event_kind::write : event_kind::read;
      e.off = page * page_size;
      out[i] = e;
    }
    done_ += n;
    return n;
  }

 private:
  page_read_params p_;
  rng r_;
  scatter sc_;
  std::unique_ptr<zipfian> z_;
  uint64_t hot_pages_ = 0, done_ = 0;
};

// ---- sequential scans ----

class scan_gen final : public generator {
 public:
  explicit scan_gen(const scan_params& p)
      : p_(p), per_pass_(p.pages / p.io + (p.pages % p.io != 0)) {}
  trace_meta meta() const override { return one_file(p_.c.ino, p_.pages * page_size); }
  uint64_t expected_events() const override { return per_pass_ * p_.passes; }

  result<size_t> read(std::span<event> out) override {
    size_t n = 0;
    event e = base_event(p_.c, event_kind::read);
    while (n < out.size() && pass_ < p_.passes) {
      e.off = page_ * page_size;
      e.len = std::min(p_.io, p_.pages - page_) * page_size;
      out[n++] = e;
      page_ += p_.io;
      if (page_ >= p_.pages) {
        page_ = 0;
        ++pass_;
      }
    }
    return n;
  }

 private:
  scan_params p_;
  uint64_t per_pass_, page_ = 0, pass_ = 0;
};

// ---- YCSB ----

class ycsb_gen final : public generator {
 public:
  enum op : uint8_t { op_read, op_update, op_insert, op_scan, op_rmw };

  explicit ycsb_gen(const ycsb_params& p)
      : p_(p),
        r_(p.c.seed),
        z_(p.records, p.theta),
        sc_(p.records, p.c.seed ^ 0x9c5bULL),
        records_(p.records) {
    switch (p.workload) {
      case 'a':
        mix_ = {{op_read, 0.5}, {op_update, 0.5}};
        break;
      case 'b':
        mix_ = {{op_read, 0.95}, {op_update, 0.05}};
        break;
      case 'c':
        mix_ = {{op_read, 1.0}};
        break;
      case 'd':
        mix_ = {{op_read, 0.95}, {op_insert, 0.05}};
        break;
      case 'e':
        mix_ = {{op_scan, 0.95}, {op_insert, 0.05}};
        break;
      default:
        mix_ = {{op_read, 0.5}, {op_rmw, 0.5}};
        break;  // 'f'
    }
    if (p.record_size <= page_size) {
      per_page_ = page_size / p.record_size;
      stride_ = page_size;
    } else {
      per_page_ = 1;
      stride_ = (p.record_size + page_size - 1) / page_size * page_size;
    }
    field_ = std::max<uint64_t>(1, p.record_size / 10);
  }
  trace_meta meta() const override { return one_file(p_.c.ino, offset(records_)); }
  uint64_t expected_events() const override {
    return p_.workload == 'f' ? p_.ops + p_.ops / 2 : p_.ops;
  }

  result<size_t> read(std::span<event> out) override {
    size_t n = 0;
    if (pending_ && n < out.size()) {
      out[n++] = pending_event_;
      pending_ = false;
    }
    while (n < out.size() && ops_ < p_.ops) {
      op o = choose();
      ++ops_;
      switch (o) {
        case op_read:
          out[n++] = rw(event_kind::read, key(), 0, p_.record_size);
          break;
        case op_update:
          out[n++] = update(key());
          break;
        case op_insert: {
          uint64_t k = records_++;
          if (p_.workload == 'd') z_.grow(records_);  // latest: zipfian over recency
          out[n++] = rw(event_kind::write, k, 0, p_.record_size);
          break;
        }
        case op_scan: {
          uint64_t start = key();
          uint64_t len = 1 + r_.below(p_.max_scan);
          uint64_t last = std::min(start + len, records_) - 1;
          out[n++] = rw(event_kind::read, start, 0, offset(last) + p_.record_size - offset(start));
          break;
        }
        case op_rmw: {
          uint64_t k = key();
          out[n++] = rw(event_kind::read, k, 0, p_.record_size);
          event u = update(k);
          if (n < out.size()) {
            out[n++] = u;
          } else {
            pending_event_ = u;
            pending_ = true;
          }
          break;
        }
      }
    }
    return n;
  }

 private:
  op choose() {
    double u = r_.uniform01(), acc = 0;
    for (const auto& [o, w] : mix_) {
      acc += w;
      if (u < acc) return o;
    }
    return mix_.back().first;
  }
  uint64_t key() {
    if (p_.workload == 'd') return records_ - 1 - z_.next(r_);  // SkewedLatestGenerator
    // Scrambled zipfian over the initial records (YCSB draws keys below the loaded count).
    return sc_(z_.next(r_));
  }
  uint64_t offset(uint64_t k) const {
    return k / per_page_ * stride_ + k % per_page_ * p_.record_size;
  }
  event rw(event_kind kind, uint64_t k, uint64_t within, uint64_t len) const {
    event e = base_event(p_.c, kind);
    e.off = offset(k) + within;
    e.len = len;
    return e;
  }
  event update(uint64_t k) {
    uint64_t f = r_.below(10);
    return rw(event_kind::write, k, f * field_, std::min(field_, p_.record_size - f * field_));
  }

  ycsb_params p_;
  rng r_;
  zipfian z_;
  scatter sc_;
  std::vector<std::pair<op, double>> mix_;
  uint64_t records_, per_page_ = 1, stride_ = page_size, field_ = 1, ops_ = 0;
  bool pending_ = false;
  event pending_event_{};
};

// ---- anonymous memory hogs ----

class hog_gen final : public generator {
 public:
  explicit hog_gen(const hog_params& p) : p_(p) {}
  trace_meta meta() const override { return {}; }
  uint64_t expected_events() const override { return p_.procs * (2 + p_.pages * p_.passes); }

  result<size_t> read(std::span<event> out) override {
    size_t n = 0;
    while (n < out.size() && proc_ < p_.procs) {
      common_params c = p_.c;
      c.pid = p_.c.pid + static_cast<uint32_t>(proc_);
      c.ino = 0;
      if (step_ == 0) {
        event e = base_event(c, event_kind::fork);
        e.ino = 1;  // parent: init
        e.oom_score_adj = p_.oom_score_adj;
        out[n++] = e;
      } else if (step_ == 1) {
        event e = base_event(c, event_kind::mmap_anon);
        e.len = p_.pages;
        out[n++] = e;
      } else {
        event e = base_event(c, event_kind::anon_fault);
        e.flags = fault_write;
        e.off = (step_ - 2) % p_.pages;
        e.len = 1;
        out[n++] = e;
      }
      if (++step_ == 2 + p_.pages * p_.passes) {
        step_ = 0;
        ++proc_;
      }
    }
    return n;
  }

 private:
  hog_params p_;
  uint64_t proc_ = 0, step_ = 0;
};

// ---- file search over a directory tree ----

// A standard normal deviate by Box-Muller (the cosine half only, so each draw takes exactly
// two uniforms and streams do not depend on how many were drawn before).
double normal(rng& r) {
  double u1 = 1.0 - r.uniform01(), u2 = r.uniform01();  // u1 in (0, 1]: log(u1) is finite
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

class search_gen final : public generator {
 public:
  explicit search_gen(const search_params& p) : p_(p), t_(make_search_tree(p)) {
    for (uint64_t s : t_.size) per_pass_ += s / p.io + (s % p.io != 0);
  }
  trace_meta meta() const override {
    trace_meta m;
    for (size_t i = 0; i < t_.size.size(); ++i)
      m.file_size[p_.c.ino + static_cast<uint32_t>(i)] = t_.size[i];
    return m;
  }
  uint64_t expected_events() const override { return per_pass_ * p_.passes; }

  result<size_t> read(std::span<event> out) override {
    size_t n = 0;
    event e = base_event(p_.c, event_kind::read);
    while (n < out.size() && pass_ < p_.passes && !t_.order.empty()) {
      uint32_t f = t_.order[pos_];
      uint64_t size = t_.size[f];
      e.ino = p_.c.ino + f;
      e.off = off_;
      e.len = std::min(p_.io, size - off_);
      out[n++] = e;
      off_ += e.len;
      if (off_ == size) {
        off_ = 0;
        if (++pos_ == t_.order.size()) {
          pos_ = 0;
          ++pass_;
        }
      }
    }
    return n;
  }

 private:
  search_params p_;
  search_tree t_;
  uint64_t per_pass_ = 0, pass_ = 0, pos_ = 0, off_ = 0;
};

// ---- multi-tenant mix ----

class mix_gen final : public generator {
 public:
  mix_gen(std::vector<std::unique_ptr<generator>> t, uint64_t seed) : r_(seed) {
    for (auto& g : t) {
      tenant x;
      x.remaining = g->expected_events();
      x.g = std::move(g);
      x.buf.resize(256);
      tenants_.push_back(std::move(x));
    }
  }
  trace_meta meta() const override {
    trace_meta m;
    for (const auto& t : tenants_)
      for (const auto& [ino, size] : t.g->meta().file_size) m.file_size[ino] = size;
    return m;
  }
  uint64_t expected_events() const override {
    uint64_t s = 0;
    for (const auto& t : tenants_) s += t.g->expected_events();
    return s;
  }

  result<size_t> read(std::span<event> out) override {
    size_t n = 0;
    while (n < out.size()) {
      uint64_t total = 0;
      for (const auto& t : tenants_)
        if (!t.ended) total += std::max<uint64_t>(t.remaining, 1);
      if (total == 0) break;
      uint64_t pick = r_.below(total);
      tenant* t = nullptr;
      for (auto& x : tenants_) {
        if (x.ended) continue;
        uint64_t w = std::max<uint64_t>(x.remaining, 1);
        if (pick < w) {
          t = &x;
          break;
        }
        pick -= w;
      }
      if (t->pos == t->len) {
        auto k = t->g->read(t->buf);
        if (!k) return k.err();
        t->pos = 0;
        t->len = *k;
        if (*k == 0) {
          t->ended = true;
          continue;
        }
      }
      out[n++] = t->buf[t->pos++];
      if (t->remaining) --t->remaining;
    }
    return n;
  }

 private:
  struct tenant {
    std::unique_ptr<generator> g;
    std::vector<event> buf;
    size_t pos = 0, len = 0;
    uint64_t remaining = 0;
    bool ended = false;
  };
  rng r_;
  std::vector<tenant> tenants_;
};

}  // namespace

search_tree make_search_tree(const search_params& p) {
  search_tree t;
  const uint64_t nfiles = p.files, ndirs = p.files / p.dirs + (p.files % p.dirs != 0),
                 fan = search_fanout;

  // Sizes, in inode order, from the seed alone.
  rng sr(p.c.seed);
  t.size.resize(nfiles);
  for (auto& s : t.size) {
    double x = std::round(static_cast<double>(p.size) * std::exp(p.sigma * normal(sr)));
    s = x < 1 ? 1 : x >= static_cast<double>(p.max_size) ? p.max_size : static_cast<uint64_t>(x);
  }

  // The directory tree is the complete fan-out tree in heap numbering (children of h are
  // fan*h+1 .. fan*h+fan); creation order numbers it depth first (pre-order).
  std::vector<uint32_t> pre(ndirs);      // heap number -> creation number
  std::vector<uint64_t> heap_of(ndirs);  // creation number -> heap number
  t.parent.resize(ndirs);
  std::vector<uint64_t> stack{0};
  uint32_t next = 0;
  while (!stack.empty()) {
    uint64_t h = stack.back();
    stack.pop_back();
    pre[h] = next;
    heap_of[next] = h;
    t.parent[next] = h == 0 ? 0 : pre[(h - 1) / fan];
    ++next;
    for (uint64_t c = std::min(fan * h + fan, ndirs - 1); c > fan * h; --c) stack.push_back(c);
  }
  t.dir_of.resize(nfiles);
  for (uint64_t f = 0; f < nfiles; ++f) t.dir_of[f] = static_cast<uint32_t>(f / p.dirs);

  // The walk: depth first, each directory's entries in a seeded order (readdir hash order).
  // An entry is a file index, or ~dir for a subdirectory; each directory is shuffled once,
  // when the walk enters it.
  rng orng(p.c.seed ^ 0x6e7e5ea7c4ULL);
  t.order.reserve(nfiles);
  struct frame {
    std::vector<uint64_t> entries;
    size_t next = 0;
  };
  auto enter = [&](uint32_t d) {
    frame fr;
    for (uint64_t f = d * p.dirs; f < std::min<uint64_t>((d + 1) * p.dirs, nfiles); ++f)
      fr.entries.push_back(f);
    uint64_t h = heap_of[d];
    for (uint64_t c = fan * h + 1; c <= fan * h + fan && c < ndirs; ++c)
      fr.entries.push_back(~uint64_t{pre[c]});
    for (size_t i = fr.entries.size(); i > 1; --i)
      std::swap(fr.entries[i - 1], fr.entries[orng.below(i)]);
    return fr;
  };
  std::vector<frame> walk;
  walk.push_back(enter(0));
  while (!walk.empty()) {
    frame& fr = walk.back();
    if (fr.next == fr.entries.size()) {
      walk.pop_back();
      continue;
    }
    uint64_t x = fr.entries[fr.next++];
    if (x < nfiles)
      t.order.push_back(static_cast<uint32_t>(x));
    else
      walk.push_back(enter(static_cast<uint32_t>(~x)));  // invalidates fr
  }
  return t;
}

std::unique_ptr<generator> make_page_reads(const page_read_params& p) {
  return std::make_unique<page_reads>(p);
}
std::unique_ptr<generator> make_scan(const scan_params& p) {
  return std::make_unique<scan_gen>(p);
}
std::unique_ptr<generator> make_ycsb(const ycsb_params& p) {
  return std::make_unique<ycsb_gen>(p);
}
std::unique_ptr<generator> make_hog(const hog_params& p) {
  return std::make_unique<hog_gen>(p);
}
std::unique_ptr<generator> make_search(const search_params& p) {
  return std::make_unique<search_gen>(p);
}
std::unique_ptr<generator> make_mix(std::vector<std::unique_ptr<generator>> tenants,
                                    uint64_t seed) {
  return std::make_unique<mix_gen>(std::move(tenants), seed);
}

}  // namespace mmbpf::workload
