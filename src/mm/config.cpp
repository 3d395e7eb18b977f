// The config file parser and checks of config.h: one setting per line, sizes with K/M/G/T
// suffixes (powers of 1024, fractions allowed: "1.5G"), cgroup lines with their cgroup v2
// files. Every error is one line naming the config line and the setting.
//
// Simplified: no quoting (paths cannot contain blanks or '#'); sizes round down to whole bytes
// and limits down to whole pages, as the kernel's page_counter_memparse() does.
#include "mm/config.h"

#include <fmt/format.h>

#include <charconv>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace mmbpf::mm {

namespace {

constexpr uint64_t page_bytes = 4096;

// Unsigned decimal integer, the whole of s.
bool parse_u64(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> split_blanks(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\r') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// "/a/b" -> "/a"; "/a" -> "/".
std::string_view parent_path(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? std::string_view("/") : path.substr(0, slash);
}

// Why `path` is not a cgroup path below the root, or empty.
std::string bad_path(std::string_view path) {
  if (path.empty() || path[0] != '/') return "must start with '/'";
  if (path == "/") return "is the root, which exists already (id 0)";
  if (path.back() == '/') return "must not end with '/'";
  if (path.find("//") != std::string_view::npos) return "has an empty component";
  return {};
}

uint64_t bytes_to_pages(uint64_t bytes) {
  return bytes == UINT64_MAX ? PAGE_COUNTER_MAX : bytes / page_bytes;
}

const char* const setting_names =
    "memory, swap, swappiness, read_ahead_kb, min_free_kbytes, watermark_scale_factor, "
    "memory_recursiveprot, device, cpu, cgroup";

// One line's parsing; errors come back without the "config line N: " prefix.
class line_parser {
 public:
  line_parser(config& c, std::unordered_map<std::string, uint16_t>& paths) : c_(c), paths_(paths) {}

  result<void> parse(const std::vector<std::string_view>& w) {
    std::string_view key = w[0];
    if (key == "cgroup") return cgroup(w);
    if (key == "device" || key == "cpu") return key_values(w);
    if (w.size() != 2)
      return error{fmt::format("{}: expected one value, got {}", key, w.size() - 1)};
    std::string_view v = w[1];
    if (key == "memory") {
      auto b = size(key, v, false);
      if (!b) return b.err();
      if (*b < page_bytes)
        return error{fmt::format("memory: '{}' is less than one page (4096 bytes)", v)};
      c_.memory_pages = *b / page_bytes;
      return {};
    }
    if (key == "swap") {
      auto b = size(key, v, false);
      if (!b) return b.err();
      c_.swap_pages = *b / page_bytes;
      return {};
    }
    if (key == "swappiness") {
      auto n = number(key, v, 0, 200);
      if (!n) return n.err();
      c_.swappiness = static_cast<int>(*n);
      return {};
    }
    if (key == "read_ahead_kb") return assign(key, v, c_.read_ahead_kb, 0, UINT32_MAX);
    if (key == "min_free_kbytes") return assign(key, v, c_.min_free_kbytes, 0, UINT32_MAX);
    if (key == "watermark_scale_factor") return assign(key, v, c_.watermark_scale_factor, 1, 3000);
    if (key == "memory_recursiveprot") {
      auto n = number(key, v, 0, 1);
      if (!n) return n.err();
      c_.memory_recursiveprot = *n == 1;
      return {};
    }
    return error{fmt::format("unknown setting '{}' (known: {})", key, setting_names)};
  }

 private:
  static result<uint64_t> size(std::string_view what, std::string_view v, bool allow_max) {
    auto b = parse_size(v, allow_max);
    if (!b) return error{fmt::format("{}: {}", what, b.err().msg)};
    return *b;
  }
  static result<uint64_t> number(std::string_view what, std::string_view v, uint64_t lo,
                                 uint64_t hi) {
    uint64_t n = 0;
    if (!parse_u64(v, n)) return error{fmt::format("{}: '{}' is not a number", what, v)};
    if (n < lo || n > hi) return error{fmt::format("{}: '{}' must be in {}..{}", what, v, lo, hi)};
    return n;
  }
  static result<void> assign(std::string_view what, std::string_view v, uint64_t& out, uint64_t lo,
                             uint64_t hi) {
    auto n = number(what, v, lo, hi);
    if (!n) return n.err();
    out = *n;
    return {};
  }

  // device k=v ... / cpu k=v ...
  result<void> key_values(const std::vector<std::string_view>& w) {
    const bool dev = w[0] == "device";
    if (w.size() < 2) return error{fmt::format("{}: expected key=value settings", w[0])};
    for (size_t i = 1; i < w.size(); ++i) {
      size_t eq = w[i].find('=');
      if (eq == std::string_view::npos || eq == 0)
        return error{fmt::format("{}: expected key=value, got '{}'", w[0], w[i])};
      std::string_view k = w[i].substr(0, eq), v = w[i].substr(eq + 1);
      uint64_t* ns = nullptr;
      uint64_t* bw = nullptr;
      if (dev) {
        if (k == "random_read_ns") ns = &c_.device.random_read_ns;
        if (k == "seq_read_ns") ns = &c_.device.seq_read_ns;
        if (k == "write_ns") ns = &c_.device.write_ns;
        if (k == "read_bw") bw = &c_.device.read_bw;
        if (k == "write_bw") bw = &c_.device.write_bw;
      } else {
        if (k == "syscall_ns") ns = &c_.cpu.syscall_ns;
        if (k == "page_copy_ns") ns = &c_.cpu.page_copy_ns;
        if (k == "fault_ns") ns = &c_.cpu.fault_ns;
        if (k == "reclaim_page_ns") ns = &c_.cpu.reclaim_page_ns;
      }
      const std::string what = fmt::format("{} {}", w[0], k);
      if (ns) {
        if (auto r = assign(what, v, *ns, 0, UINT32_MAX); !r) return r;
      } else if (bw) {
        auto b = size(what, v, false);
        if (!b) return b.err();
        if (*b == 0) return error{fmt::format("{}: must be at least 1 byte per second", what)};
        *bw = *b;
      } else {
        return error{fmt::format("{}: unknown key '{}' (known: {})", w[0], k,
                                 dev ? "random_read_ns, seq_read_ns, write_ns, read_bw, write_bw"
                                     : "syscall_ns, page_copy_ns, fault_ns, reclaim_page_ns")};
      }
    }
    return {};
  }

  // cgroup ID PATH [file=value ...]
  result<void> cgroup(const std::vector<std::string_view>& w) {
    if (w.size() < 3) return error{"cgroup: expected 'cgroup ID PATH [file=value ...]'"};
    uint64_t id = 0;
    if (!parse_u64(w[1], id) || id < 1 || id > UINT16_MAX)
      return error{fmt::format("cgroup: id '{}' must be in 1..65535 (0 is the root)", w[1])};
    std::string_view path = w[2];
    const std::string who = fmt::format("cgroup {} {}", id, path);
    if (std::string why = bad_path(path); !why.empty())
      return error{fmt::format("{}: the path {}", who, why)};
    for (const auto& cg : c_.cgroups)
      if (cg.id == id) return error{fmt::format("{}: id {} is already {}", who, id, cg.path)};
    if (auto it = paths_.find(std::string(path)); it != paths_.end())
      return error{fmt::format("{}: {} already has id {}", who, path, it->second)};
    std::string_view parent = parent_path(path);
    if (parent != "/" && !paths_.count(std::string(parent)))
      return error{fmt::format("{}: parent {} does not exist", who, parent)};

    cgroup_config cg;
    cg.id = static_cast<uint16_t>(id);
    cg.path = std::string(path);
    std::unordered_set<std::string_view> seen;
    for (size_t i = 3; i < w.size(); ++i) {
      size_t eq = w[i].find('=');
      if (eq == std::string_view::npos || eq == 0)
        return error{fmt::format("{}: expected file=value, got '{}'", who, w[i])};
      std::string_view f = w[i].substr(0, eq), v = w[i].substr(eq + 1);
      if (!seen.insert(f).second) return error{fmt::format("{}: {} given twice", who, f)};
      uint64_t* limit = f == "memory.max"        ? &cg.max
                        : f == "memory.high"     ? &cg.high
                        : f == "memory.low"      ? &cg.low
                        : f == "memory.min"      ? &cg.min
                        : f == "memory.swap.max" ? &cg.swap_max
                                                 : nullptr;
      if (limit) {
        auto b = size(f, v, true);
        if (!b) return b.err();
        *limit = bytes_to_pages(*b);
      } else if (f == "memory.oom.group") {
        auto n = number(f, v, 0, 1);
        if (!n) return n.err();
        cg.oom_group = *n == 1;
      } else {
        return error{fmt::format(
            "{}: unknown file '{}' (known: memory.max, memory.high, memory.low, memory.min, "
            "memory.swap.max, memory.oom.group)",
            who, f)};
      }
    }
    paths_.emplace(cg.path, cg.id);
    c_.cgroups.push_back(std::move(cg));
    return {};
  }

  config& c_;
  std::unordered_map<std::string, uint16_t>& paths_;
};

}  // namespace

result<uint64_t> parse_size(std::string_view s, bool allow_max) {
  if (allow_max && s == "max") return UINT64_MAX;
  auto bad = [&] {
    return error{fmt::format("'{}' is not a size (bytes with an optional K/M/G/T suffix{})", s,
                             allow_max ? ", or max" : "")};
  };
  std::string_view num = s;
  uint64_t mult = 1;
  if (!num.empty()) {
    switch (num.back()) {
      case 'k':
      case 'K':
        mult = 1ull << 10;
        break;
      case 'm':
      case 'M':
        mult = 1ull << 20;
        break;
      case 'g':
      case 'G':
        mult = 1ull << 30;
        break;
      case 't':
      case 'T':
        mult = 1ull << 40;
        break;
      default:
        break;
    }
    if (mult != 1) num.remove_suffix(1);
  }
  const size_t dot = num.find('.');
  std::string_view whole = num.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : num.substr(dot + 1);
  uint64_t w = 0;
  if (!parse_u64(whole, w)) return bad();
  if (dot != std::string_view::npos) {
    if (frac.empty() || frac.size() > 9) return bad();
    for (char ch : frac)
      if (ch < '0' || ch > '9') return bad();
  }
  if (w > UINT64_MAX / mult) return error{fmt::format("'{}' is too large", s)};
  uint64_t bytes = w * mult;
  if (!frac.empty()) {
    uint64_t f = 0, scale = 1;
    (void)parse_u64(frac, f);
    for (size_t i = 0; i < frac.size(); ++i) scale *= 10;
    const auto part = static_cast<uint64_t>(static_cast<unsigned __int128>(f) * mult / scale);
    if (bytes > UINT64_MAX - part) return error{fmt::format("'{}' is too large", s)};
    bytes += part;
  }
  return bytes;
}

result<config> parse_config(std::string_view text) {
  config c;
  std::unordered_map<std::string, uint16_t> paths;
  line_parser lp(c, paths);
  size_t lineno = 0;
  while (!text.empty()) {
    ++lineno;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto words = split_blanks(line);
    if (words.empty()) continue;
    if (auto r = lp.parse(words); !r)
      return error{fmt::format("config line {}: {}", lineno, r.err().msg)};
  }
  if (auto r = validate_config(c); !r) return r.err();
  return c;
}

result<void> validate_config(const config& c) {
  if (c.memory_pages == 0) return error{"config: memory must be at least one page"};
  if (c.swappiness < 0 || c.swappiness > 200)
    return error{fmt::format("config: swappiness {} must be in 0..200", c.swappiness)};
  if (c.watermark_scale_factor < 1 || c.watermark_scale_factor > 3000)
    return error{fmt::format("config: watermark_scale_factor {} must be in 1..3000",
                             c.watermark_scale_factor)};
  if (c.device.read_bw == 0 || c.device.write_bw == 0)
    return error{"config: device bandwidths must be at least 1 byte per second"};
  if (c.cgroups.size() > MAX_CGROUPS)
    return error{fmt::format("config: {} cgroups, at most {} (memcg ids are 16 bits)",
                             c.cgroups.size(), MAX_CGROUPS)};
  std::unordered_map<std::string_view, uint16_t> paths;
  std::unordered_map<uint16_t, std::string_view> ids;
  for (const auto& cg : c.cgroups) {
    const std::string who = fmt::format("config: cgroup {} {}", cg.id, cg.path);
    if (cg.id == 0) return error{who + ": id 0 is the root, which exists already"};
    if (std::string why = bad_path(cg.path); !why.empty())
      return error{fmt::format("{}: the path {}", who, why)};
    if (auto it = ids.find(cg.id); it != ids.end())
      return error{fmt::format("{}: id {} is already {}", who, cg.id, it->second)};
    if (auto it = paths.find(cg.path); it != paths.end())
      return error{fmt::format("{}: {} already has id {}", who, cg.path, it->second)};
    std::string_view parent = parent_path(cg.path);
    if (parent != "/" && !paths.count(parent))
      return error{fmt::format("{}: parent {} does not exist (parents must come before children)",
                               who, parent)};
    for (uint64_t v : {cg.max, cg.high, cg.low, cg.min, cg.swap_max})
      if (v > PAGE_COUNTER_MAX)
        return error{fmt::format("{}: a limit of {} pages is above PAGE_COUNTER_MAX", who, v)};
    ids.emplace(cg.id, cg.path);
    paths.emplace(cg.path, cg.id);
  }
  return {};
}

}  // namespace mmbpf::mm
