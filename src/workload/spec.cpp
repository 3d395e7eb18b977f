// Spec string parser for generators (see spec.h).
#include "workload/spec.h"

#include <fmt/format.h>

#include <charconv>
#include <string>
#include <vector>

namespace mmbpf::workload {

namespace {

result<uint64_t> parse_scaled(std::string_view s, uint64_t k, const char* what) {
  uint64_t mult = 1;
  std::string_view digits = s;
  if (!s.empty()) {
    switch (s.back()) {
      case 'k':
      case 'K':
        mult = k;
        break;
      case 'm':
      case 'M':
        mult = k * k;
        break;
      case 'g':
      case 'G':
        mult = k * k * k;
        break;
      default:
        break;
    }
    if (mult != 1) digits.remove_suffix(1);
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size())
    return error{fmt::format("'{}' is not {} (digits with optional K/M/G)", s, what)};
  if (v > UINT64_MAX / mult) return error{fmt::format("'{}' is too large", s)};
  return v * mult;
}

// Key=value arguments of one generator; remembers which keys were asked for, so it can name
// the known ones when a key is unknown, and keeps the first error.
class args {
 public:
  explicit args(std::string_view gen) : gen_(gen) {}

  result<void> parse(std::string_view body) {
    while (!body.empty()) {
      size_t c = body.find(',');
      std::string_view kv = body.substr(0, c);
      body = c == std::string_view::npos ? std::string_view{} : body.substr(c + 1);
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0)
        return error{fmt::format("{}: expected key=value, got '{}'", gen_, kv)};
      std::string_view k = kv.substr(0, eq);
      for (const auto& x : kv_)
        if (x.first == k) return error{fmt::format("{}: key '{}' given twice", gen_, k)};
      kv_.emplace_back(k, kv.substr(eq + 1));
    }
    return {};
  }

  template <class F>
  void get(std::string_view key, F&& f) {
    known_.push_back(key);
    for (auto& [k, v] : kv_)
      if (k == key) {
        used_.push_back(k);
        if (err_.empty()) {
          std::string why = f(v);
          if (!why.empty()) err_ = fmt::format("{}: {} '{}' {}", gen_, key, v, why);
        }
      }
  }

  void count(std::string_view key, uint64_t& out, uint64_t min = 0, uint64_t max = UINT64_MAX) {
    get(key, [&](std::string_view v) -> std::string {
      auto r = parse_scaled(v, 1000, "a count");
      if (!r) return "is not a count (digits with optional K/M/G)";
      if (*r < min || *r > max)
        return max == UINT64_MAX ? fmt::format("must be at least {}", min)
                                 : fmt::format("must be in {}..{}", min, max);
      out = *r;
      return {};
    });
  }
  void bytes(std::string_view key, uint64_t& out, uint64_t min) {
    get(key, [&](std::string_view v) -> std::string {
      auto r = parse_scaled(v, 1024, "a size");
      if (!r) return "is not a size (digits with optional K/M/G)";
      if (*r < min) return fmt::format("must be at least {}", min);
      out = *r;
      return {};
    });
  }
  void real(std::string_view key, double& out, double lo, double hi, bool open_lo, bool open_hi,
            bool percent) {
    get(key, [&](std::string_view v) -> std::string {
      std::string s(v);
      double scale = 1;
      if (percent && !s.empty() && s.back() == '%') {
        s.pop_back();
        scale = 0.01;
      }
      double d = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return "is not a number";
      d *= scale;
      if ((open_lo ? d <= lo : d < lo) || (open_hi ? d >= hi : d > hi))
        return fmt::format("must be in {}{}, {}{}", open_lo ? '(' : '[', lo, hi,
                           open_hi ? ')' : ']');
      out = d;
      return {};
    });
  }
  void fraction(std::string_view key, double& out) { real(key, out, 0, 1, false, false, true); }
  void flag(std::string_view key, bool& out) {
    get(key, [&](std::string_view v) -> std::string {
      if (v != "0" && v != "1") return "must be 0 or 1";
      out = v == "1";
      return {};
    });
  }
  void common(common_params& c) {
    count("seed", c.seed);
    uint64_t pid = c.pid, cg = c.cgroup, ino = c.ino;
    count("pid", pid, 0, UINT32_MAX);
    count("cg", cg, 0, UINT16_MAX);
    count("ino", ino, 0, UINT32_MAX);
    c.pid = static_cast<uint32_t>(pid);
    c.cgroup = static_cast<uint16_t>(cg);
    c.ino = static_cast<uint32_t>(ino);
  }

  // The first value error, else the first unknown key.
  result<void> finish() const {
    if (!err_.empty()) return error{err_};
    for (const auto& [k, v] : kv_) {
      bool used = false;
      for (auto u : used_) used |= u == k;
      if (!used) {
        std::string known;
        for (auto x : known_) known += (known.empty() ? "" : ", ") + std::string(x);
        return error{fmt::format("{}: unknown key '{}' (known: {})", gen_, k, known)};
      }
    }
    return {};
  }

  std::string_view gen_;
  std::vector<std::pair<std::string_view, std::string_view>> kv_;
  std::vector<std::string_view> known_, used_;
  std::string err_;
};

result<std::unique_ptr<generator>> make_one(std::string_view spec, uint64_t* seed_out) {
  size_t colon = spec.find(':');
  std::string_view name = spec.substr(0, colon);
  std::string_view body =
      colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  args a(name);
  std::unique_ptr<generator> g;
  if (name == "zipf" || name == "uniform" || name == "hotset") {
    if (auto r = a.parse(body); !r) return r.err();
    page_read_params p;
    p.dist = name == "zipf"      ? page_dist::zipf
             : name == "uniform" ? page_dist::uniform
                                 : page_dist::hotset;
    a.common(p.c);
    a.count("pages", p.pages, 1);
    a.count("events", p.events);
    if (p.dist == page_dist::zipf) {
      a.real("theta", p.theta, 0, 1, true, true, false);
      a.flag("scramble", p.scramble);
    }
    if (p.dist == page_dist::hotset) {
      a.fraction("hot", p.hot);
      a.fraction("hot_ops", p.hot_ops);
    }
    a.fraction("write", p.write);
    if (auto r = a.finish(); !r) return r.err();
    *seed_out = p.c.seed;
    return make_page_reads(p);
  }
  if (name == "scan") {
    if (auto r = a.parse(body); !r) return r.err();
    scan_params p;
    a.common(p.c);
    a.count("pages", p.pages, 1);
    a.count("passes", p.passes);
    a.count("io", p.io, 1);
    if (auto r = a.finish(); !r) return r.err();
    *seed_out = p.c.seed;
    return make_scan(p);
  }
  if (name == "ycsb") {
    if (auto r = a.parse(body); !r) return r.err();
    ycsb_params p;
    a.common(p.c);
    a.get("workload", [&](std::string_view v) -> std::string {
      if (v.size() != 1 || (v[0] | 0x20) < 'a' || (v[0] | 0x20) > 'f') return "is not a..f";
      p.workload = static_cast<char>(v[0] | 0x20);
      return {};
    });
    a.count("records", p.records, 1);
    a.count("ops", p.ops);
    a.bytes("record_size", p.record_size, 10);
    a.real("theta", p.theta, 0, 1, true, true, false);
    a.count("max_scan", p.max_scan, 1);
    if (auto r = a.finish(); !r) return r.err();
    *seed_out = p.c.seed;
    return make_ycsb(p);
  }
  if (name == "hog") {
    if (auto r = a.parse(body); !r) return r.err();
    hog_params p;
    a.common(p.c);
    a.count("procs", p.procs, 1, 100000);
    a.count("pages", p.pages, 1);
    a.count("passes", p.passes, 1);
    a.get("oom_score_adj", [&](std::string_view v) -> std::string {
      int x = 0;
      auto [q, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (v.empty() || ec != std::errc() || q != v.data() + v.size() || x < -1000 || x > 1000)
        return "must be an integer in -1000..1000";
      p.oom_score_adj = static_cast<int16_t>(x);
      return {};
    });
    if (auto r = a.finish(); !r) return r.err();
    *seed_out = p.c.seed;
    return make_hog(p);
  }
  if (name == "search") {
    if (auto r = a.parse(body); !r) return r.err();
    search_params p;
    a.common(p.c);
    a.count("files", p.files, 1, search_max_files);
    a.count("dirs", p.dirs, 1);
    a.bytes("size", p.size, 1);
    a.bytes("max_size", p.max_size, 1);
    a.real("sigma", p.sigma, 0, 4, false, false, false);
    a.count("passes", p.passes);
    a.bytes("io", p.io, 1);
    if (auto r = a.finish(); !r) return r.err();
    if (p.max_size < p.size)
      return error{
          fmt::format("search: max_size {} is below the median size {}", p.max_size, p.size)};
    if (p.c.ino + p.files - 1 > UINT32_MAX)
      return error{fmt::format("search: inodes {}..{} do not fit in 32 bits", p.c.ino,
                               p.c.ino + p.files - 1)};
    *seed_out = p.c.seed;
    return make_search(p);
  }
  if (name.empty()) return error{"empty generator spec"};
  return error{fmt::format(
      "unknown generator '{}' (known: zipf, uniform, hotset, scan, ycsb, hog, search)", name)};
}

}  // namespace

result<uint64_t> parse_count(std::string_view s) {
  return parse_scaled(s, 1000, "a count");
}
result<uint64_t> parse_bytes(std::string_view s) {
  return parse_scaled(s, 1024, "a size");
}

result<std::unique_ptr<generator>> make_generator(std::string_view spec) {
  std::vector<std::unique_ptr<generator>> tenants;
  uint64_t first_seed = 0;
  while (true) {
    size_t semi = spec.find(';');
    uint64_t seed = 0;
    auto g = make_one(spec.substr(0, semi), &seed);
    if (!g) return g.err();
    if (tenants.empty()) first_seed = seed;
    tenants.push_back(std::move(*g));
    if (semi == std::string_view::npos) break;
    spec = spec.substr(semi + 1);
  }
  if (tenants.size() == 1) return std::move(tenants[0]);
  return make_mix(std::move(tenants), first_seed);
}

}  // namespace mmbpf::workload
