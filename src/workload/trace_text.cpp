// Text form of traces (see trace_text.h).
#include "workload/trace_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace mmbpf::workload {

namespace {

enum class fld : uint8_t { ino, off, len, advice_fadv, advice_madv, limit, bytes, write, oom };

struct key {
  std::string_view name;
  fld f;
  bool optional = false;
};

constexpr key k_ino{"ino", fld::ino}, k_off{"off", fld::off}, k_len{"len", fld::len},
    k_fadv{"advice", fld::advice_fadv}, k_madv{"advice", fld::advice_madv},
    k_ppid{"ppid", fld::ino}, k_parent{"parent", fld::ino}, k_limit{"limit", fld::limit},
    k_bytes{"bytes", fld::bytes}, k_write{"write", fld::write, true},
    k_oom{"oom_score_adj", fld::oom, true};

struct kind_keys {
  key keys[4];
  int n;
};

kind_keys keys_of(event_kind k) {
  switch (k) {
    case event_kind::read:
    case event_kind::write:
      return {{k_ino, k_off, k_len}, 3};
    case event_kind::mmap_fault_file:
      return {{k_ino, k_off, k_len, k_write}, 4};
    case event_kind::anon_fault:
      return {{k_off, k_len, k_write}, 3};
    case event_kind::mmap_anon:
    case event_kind::munmap:
      return {{k_off, k_len}, 2};
    case event_kind::fsync:
    case event_kind::unlink:
      return {{k_ino}, 1};
    case event_kind::fadvise:
      return {{k_ino, k_off, k_len, k_fadv}, 4};
    case event_kind::madvise:
      return {{k_off, k_len, k_madv}, 3};
    case event_kind::truncate:
      return {{k_ino, k_len}, 2};
    case event_kind::fork:
      return {{k_ppid, k_oom}, 2};
    case event_kind::exit:
      return {{}, 0};
    case event_kind::cgroup_create:
      return {{k_parent}, 1};
    case event_kind::cgroup_set_limit:
      return {{k_limit, k_bytes}, 2};
  }
  return {{}, 0};
}

bool parse_num(std::string_view s, uint64_t& v) {
  if (s.empty()) return false;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_i64(std::string_view s, int64_t& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits on spaces/tabs.
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> w;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\r') ++j;
    if (j > i) w.push_back(s.substr(i, j - i));
    i = j;
  }
  return w;
}

std::string format_field(const event& e, const key& k) {
  switch (k.f) {
    case fld::ino:
      return fmt::format("{}={}", k.name, e.ino);
    case fld::off:
      return fmt::format("{}={}", k.name, e.off);
    case fld::len:
      return fmt::format("{}={}", k.name, e.len);
    case fld::advice_fadv: {
      auto n = fadvise_name(e.advice);
      return n.empty() ? fmt::format("advice={}", e.advice) : fmt::format("advice={}", n);
    }
    case fld::advice_madv: {
      auto n = madvise_name(e.advice);
      return n.empty() ? fmt::format("advice={}", e.advice) : fmt::format("advice={}", n);
    }
    case fld::limit: {
      auto n = cgroup_limit_name(e.advice);
      return n.empty() ? fmt::format("limit={}", e.advice) : fmt::format("limit={}", n);
    }
    case fld::bytes:
      return e.len == limit_max ? std::string("bytes=max") : fmt::format("bytes={}", e.len);
    case fld::write:
      return (e.flags & fault_write) ? "write=1" : "";
    case fld::oom:
      return e.oom_score_adj ? fmt::format("oom_score_adj={}", e.oom_score_adj) : "";
  }
  return "";
}

}  // namespace

std::string format_event(const event& e) {
  auto name = event_kind_name(e.kind);
  std::string s =
      name.empty() ? fmt::format("kind{}", static_cast<int>(e.kind)) : std::string(name);
  s += fmt::format(" pid={} cg={}", e.pid, e.cgroup);
  auto ks = keys_of(e.kind);
  for (int i = 0; i < ks.n; ++i) {
    std::string f = format_field(e, ks.keys[i]);
    if (!f.empty()) s += ' ' + f;
  }
  return s;
}

result<event> parse_event(std::string_view line) {
  auto w = words(line);
  if (w.empty()) return error{"empty event"};
  auto kind = event_kind_from_name(w[0]);
  if (!kind) return error{fmt::format("unknown event kind '{}'", w[0])};
  event e{};
  e.kind = *kind;
  auto ks = keys_of(*kind);
  bool seen[6] = {};  // pid, cg, keys[0..3]
  for (size_t i = 1; i < w.size(); ++i) {
    std::string_view t = w[i];
    size_t eq = t.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return error{fmt::format("{}: expected key=value, got '{}'", w[0], t)};
    std::string_view k = t.substr(0, eq), v = t.substr(eq + 1);
    uint64_t n = 0;
    auto bad = [&](std::string_view why) {
      return error{fmt::format("{}: {} '{}' {}", w[0], k, v, why)};
    };
    int slot = -1;
    if (k == "pid")
      slot = 0;
    else if (k == "cg")
      slot = 1;
    else
      for (int j = 0; j < ks.n; ++j)
        if (ks.keys[j].name == k) slot = 2 + j;
    if (slot < 0) return error{fmt::format("{}: unknown key '{}'", w[0], k)};
    if (seen[slot]) return error{fmt::format("{}: duplicate key '{}'", w[0], k)};
    seen[slot] = true;
    if (slot == 0) {
      if (!parse_num(v, n) || n > UINT32_MAX) return bad("is not a 32-bit number");
      e.pid = static_cast<uint32_t>(n);
      continue;
    }
    if (slot == 1) {
      if (!parse_num(v, n) || n > UINT16_MAX) return bad("is not a cgroup id (0..65535)");
      e.cgroup = static_cast<uint16_t>(n);
      continue;
    }
    switch (ks.keys[slot - 2].f) {
      case fld::ino:
        if (!parse_num(v, n) || n > UINT32_MAX) return bad("is not a 32-bit number");
        e.ino = static_cast<uint32_t>(n);
        break;
      case fld::off:
        if (!parse_num(v, n)) return bad("is not a number");
        e.off = n;
        break;
      case fld::len:
        if (!parse_num(v, n)) return bad("is not a number");
        e.len = n;
        break;
      case fld::advice_fadv: {
        auto a = fadvise_from_name(v);
        if (!a) return bad("is not a POSIX_FADV_* name");
        e.advice = *a;
        break;
      }
      case fld::advice_madv: {
        auto a = madvise_from_name(v);
        if (!a) return bad("is not a MADV_* name");
        e.advice = *a;
        break;
      }
      case fld::limit: {
        auto a = cgroup_limit_from_name(v);
        if (!a) return bad("is not memory.max/high/low/min or memory.swap.max");
        e.advice = *a;
        break;
      }
      case fld::bytes:
        if (v == "max")
          e.len = limit_max;
        else if (!parse_num(v, n))
          return bad("is not a number or max");
        else
          e.len = n;
        break;
      case fld::write:
        if (v != "0" && v != "1") return bad("must be 0 or 1");
        e.flags = v == "1" ? fault_write : 0;
        break;
      case fld::oom: {
        int64_t s;
        if (!parse_i64(v, s) || s < -1000 || s > 1000) return bad("is not in -1000..1000");
        e.oom_score_adj = static_cast<int16_t>(s);
        break;
      }
    }
  }
  if (!seen[0]) return error{fmt::format("{}: missing pid", w[0])};
  if (!seen[1]) return error{fmt::format("{}: missing cg", w[0])};
  for (int j = 0; j < ks.n; ++j)
    if (!seen[2 + j] && !ks.keys[j].optional)
      return error{fmt::format("{}: missing {}", w[0], ks.keys[j].name)};
  return e;
}

std::string format_text_trace(const trace_meta& meta, std::span<const event> events) {
  std::string s;
  for (const auto& [k, v] : meta.entries) s += fmt::format("meta {}={}\n", k, v);
  for (const auto& [ino, size] : meta.file_size)
    s += fmt::format("file ino={} size={}\n", ino, size);
  for (const auto& e : events) {
    s += format_event(e);
    s += '\n';
  }
  return s;
}

result<std::unique_ptr<text_trace_reader>> text_trace_reader::open(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return error{fmt::format("{}: cannot open", path)};
  std::stringstream ss;
  ss << f.rdbuf();
  return from_string(path, ss.str());
}

result<std::unique_ptr<text_trace_reader>> text_trace_reader::from_string(const std::string& name,
                                                                          std::string_view text) {
  auto r = std::make_unique<text_trace_reader>();
  size_t line = 0;
  std::string meta_blob;
  while (!text.empty()) {
    ++line;
    size_t nl = text.find('\n');
    std::string_view l = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (size_t h = l.find('#'); h != std::string_view::npos) l = l.substr(0, h);
    auto w = words(l);
    if (w.empty()) continue;
    auto fail = [&](const std::string& m) {
      return error{fmt::format("{}: line {}: {}", name, line, m)};
    };
    if (w[0] == "meta") {
      if (w.size() != 2 || w[1].find('=') == std::string_view::npos || w[1][0] == '=')
        return fail("meta: expected one key=value");
      if (w[1].starts_with("file.")) return fail("meta: use 'file ino=N size=B' for file sizes");
      meta_blob += std::string(w[1]) + '\n';
      continue;
    }
    if (w[0] == "file") {
      uint64_t ino = 0, size = 0;
      bool has_ino = false, has_size = false;
      for (size_t i = 1; i < w.size(); ++i) {
        if (w[i].starts_with("ino=")) {
          if (!parse_num(w[i].substr(4), ino) || ino > UINT32_MAX)
            return fail(fmt::format("file: ino '{}' is not a 32-bit number", w[i].substr(4)));
          has_ino = true;
        } else if (w[i].starts_with("size=")) {
          if (!parse_num(w[i].substr(5), size))
            return fail(fmt::format("file: size '{}' is not a number", w[i].substr(5)));
          has_size = true;
        } else {
          return fail(fmt::format("file: unknown field '{}'", w[i]));
        }
      }
      if (!has_ino || !has_size) return fail("file: needs ino= and size=");
      if (!r->meta_.file_size.emplace(static_cast<uint32_t>(ino), size).second)
        return fail(fmt::format("file: inode {} given twice", ino));
      continue;
    }
    auto e = parse_event(l);
    if (!e) return fail(e.err().msg);
    r->events_.push_back(*e);
  }
  auto m = trace_meta::decode(meta_blob);
  if (!m) return error{fmt::format("{}: {}", name, m.err().msg)};
  r->meta_.entries = std::move(m->entries);
  return r;
}

result<size_t> text_trace_reader::read(std::span<event> out) {
  size_t n = std::min(out.size(), events_.size() - pos_);
  std::copy_n(events_.begin() + static_cast<ptrdiff_t>(pos_), n, out.begin());
  pos_ += n;
  return n;
}

}  // namespace mmbpf::workload
