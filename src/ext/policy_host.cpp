// Page-cache policies by name (policy_host.h).
#include "ext/policy_host.h"

#include "ext/bpf_psi.h"
#include "ext/families.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "bpf/object.h"
#include "bpf/runtime.h"
#include "ext/cache_ext.h"
#include "mm/native_policy.h"

namespace mmbpf::ext {
namespace {

constexpr std::string_view native_prefix = "native:";
constexpr std::string_view bpf_suffix = ".bpf.o";

bool is_path(std::string_view name) {
  return name.find('/') != std::string_view::npos || name.ends_with(".o");
}

bool is_native(std::string_view name) {
  const auto names = mm::native_policy_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_bpf(std::string_view name, const std::string& dir) {
  const auto b = bpf_policy_names(dir);
  return std::find(b.begin(), b.end(), name) != b.end();
}

std::string known_list(const std::string& dir) {
  std::string s = "default, belady";
  for (const auto& n : bpf_policy_names(dir)) s += ", " + n;
  for (auto n : mm::native_policy_names()) s += fmt::format(", native:{}", n);
  return s;
}

}  // namespace

std::vector<std::string> bpf_policy_names(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.ends_with(bpf_suffix)) out.push_back(f.substr(0, f.size() - bpf_suffix.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

static std::string oom_policy_path(std::string_view name, const std::string& bpf_dir) {
  return fmt::format("{}/../oom/{}{}", bpf_dir, name, bpf_suffix);
}

result<void> check_policy_name(std::string_view name, const std::string& bpf_dir) {
  if (name == "default" || name == "belady" || is_path(name)) return {};
  if (name.starts_with("oom:")) {
    if (std::filesystem::exists(oom_policy_path(name.substr(4), bpf_dir))) return {};
    return error{fmt::format("unknown OOM policy '{}' (in-tree: oom:reference, oom:priority, "
                             "oom:psi_early; or a path to a .bpf.o)", name)};
  }
  if (name.starts_with(native_prefix)) {
    if (is_native(name.substr(native_prefix.size()))) return {};
  } else {
    if (is_bpf(name, bpf_dir) || is_native(name)) return {};
  }
  return error{fmt::format("unknown policy '{}' (known: {}; or a path to a .bpf.o)", name,
                           known_list(bpf_dir))};
}

result<map_update> parse_map_update(std::string_view s) {
  auto bad = [&] {
    return error{fmt::format("'{}' is not MAP=KEY[:VALUE] with integer KEY and VALUE", s)};
  };
  const size_t eq = s.find('=');
  if (eq == std::string_view::npos || eq == 0) return bad();
  map_update u;
  u.map = std::string(s.substr(0, eq));
  std::string_view kv = s.substr(eq + 1);
  const size_t colon = kv.find(':');
  auto num = [](std::string_view t, uint64_t& v) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    return !t.empty() && ec == std::errc() && p == t.data() + t.size();
  };
  if (!num(kv.substr(0, colon), u.key)) return bad();
  u.value = 1;
  if (colon != std::string_view::npos && !num(kv.substr(colon + 1), u.value)) return bad();
  return u;
}

policy_host::policy_host(mm::model& m, std::string bpf_dir)
    : m_(m), bpf_dir_(std::move(bpf_dir)), at_(m) {}

policy_host::~policy_host() {
  for (mm::memcg* mc : attached_) at_.detach(*mc);
  oom_.reset();  // detaches the OOM handlers
  ce_.reset();  // detaches the BPF links
}

result<void> policy_host::attach(std::string_view name, mm::memcg& mc, attach_mode mode,
                                 const future_fn& future) {
  if (name == "default") return {};
  if (auto ok = check_policy_name(name, bpf_dir_); !ok) return ok;
  std::unique_ptr<mm::cache_policy> p;
  if (name == "belady") {
    if (!future) return error{"belady needs the workload's future, which this run cannot give"};
    auto refs = future();
    if (!refs) return refs.err();
    p = mm::make_belady_policy(m_, *refs);
  } else if (name.starts_with(native_prefix) ||
             (!is_path(name) && is_native(name) && !is_bpf(name, bpf_dir_))) {
    if (name.starts_with(native_prefix)) name.remove_prefix(native_prefix.size());
    auto made = mm::make_native_policy(name, m_);
    if (!made) return made.err();
    p = std::move(*made);
  }
  if (p) {
    if (const int e = at_.attach(mc, p.get(), mode); e)
      return error{fmt::format("cgroup {} already has a page-cache policy", mc.path)};
    native_.push_back(std::move(p));
    attached_.push_back(&mc);
    return {};
  }
  // a BPF object: in-tree by name, or a path
  const std::string path =
      is_path(name) ? std::string(name) : fmt::format("{}/{}{}", bpf_dir_, name, bpf_suffix);
  auto o = load_object(path, mc);
  if (!o) return o.err();
  auto l = ce_->attach(**o, "", mc, mode);
  if (!l) return l.err();
  objs_.push_back(std::move(*o));
  return {};
}

void policy_host::ensure_runtime() {
  if (rt_) return;
  rt_ = std::make_unique<bpf::runtime>();
  rt_->engine = engine_;
  ce_ = std::make_unique<cache_ext>(*rt_, m_, at_);
}

result<std::unique_ptr<bpf::bpf_object>> policy_host::load_object(const std::string& path,
                                                                  mm::memcg& mc) {
  ensure_runtime();
  register_bpf_oom(*rt_);  // so that an OOM policy's kfuncs bind whichever family loads it
  auto o = bpf::bpf_object::open_file(path);
  if (!o) return o.err();
  size_maps(**o, mc);
  if (auto r = (*o)->load(*rt_); !r) return r.err();
  used_.resize(updates_.size());
  for (size_t k = 0; k < updates_.size(); ++k) {
    const map_update& u = updates_[k];
    const bpf::obj_map* om = (*o)->find_map(u.map);
    if (!om) continue;
    bpf::bpf_map* bm = rt_->map(om->fd);
    const uint32_t ks = om->attr.key_size, vs = om->attr.value_size;
    auto fits = [](uint64_t v, uint32_t size) { return size >= 8 || v < (uint64_t{1} << (8 * size)); };
    if (ks > 8 || vs > 8 || !fits(u.key, ks) || !fits(u.value, vs))
      return error{fmt::format("{}: map '{}' has {}-byte keys and {}-byte values; {}:{} does not fit",
                               path, u.map, ks, vs, u.key, u.value)};
    uint8_t key[8] = {}, value[8] = {};
    std::memcpy(key, &u.key, ks);  // little-endian: the low bytes
    std::memcpy(value, &u.value, vs);
    if (const long e = bm->update_elem(key, value, BPF_ANY); e)
      return error{fmt::format("{}: map '{}': update {}:{} failed ({})", path, u.map, u.key, u.value, e)};
    used_[k] = true;
  }
  return std::move(*o);
}

result<void> policy_host::attach_oom(std::string_view name, mm::memcg& mc) {
  const std::string path = is_path(name) ? std::string(name) : oom_policy_path(name, bpf_dir_);
  if (!is_path(name) && !std::filesystem::exists(path))
    return error{fmt::format("unknown OOM policy '{}' (no {}; or give a path to a .bpf.o)", name, path)};
  ensure_runtime();
  register_families(*rt_);  // every kfunc an OOM or PSI policy may call, before the load
  auto o = load_object(path, mc);
  if (!o) return o.err();
  if ((*o)->struct_ops_instance("bpf_psi_ops", "")) {  // a PSI policy: system-wide
    if (mc.parent)
      return error{fmt::format("{}: bpf_psi_ops attaches system-wide; attach it to /", (*o)->name())};
    if (!psi_) psi_ = std::make_unique<bpf_psi>(*rt_, m_);
    if (auto r = psi_->attach(**o); !r) return r.err();
  } else {
    if (!oom_) oom_ = std::make_unique<bpf_oom>(*rt_, m_);
    if (auto l = oom_->attach(**o, "", mc); !l) return l.err();
  }
  objs_.push_back(std::move(*o));
  return {};
}

// The cache a link manages: the largest finite memory.max among the memcgs it governs (the
// attach point and, in effective mode, its subtree), else the node's memory.
uint64_t policy_host::cache_pages(const mm::memcg& mc) const {
  uint64_t largest = 0;
  mm::model::for_each_memcg_preorder(const_cast<mm::memcg&>(mc), [&](mm::memcg& g) {
    if (g.css.memory.max < mm::PAGE_COUNTER_MAX) largest = std::max<uint64_t>(largest, g.css.memory.max);
  });
  const uint64_t ram = m_.totalram_pages();
  return largest ? std::min(largest, ram) : ram;
}

void policy_host::size_maps(bpf::bpf_object& obj, const mm::memcg& mc) const {
  for (bpf::obj_map& om : obj.maps()) {
    if (om.kind != bpf::obj_map_kind::user) continue;
    if (om.name.find("folio") != std::string::npos)  // an entry per cached folio, any memcg
      om.attr.max_entries = static_cast<uint32_t>(std::min<uint64_t>(m_.totalram_pages(), UINT32_MAX));
    else if (om.name == "ghost")  // S3-FIFO's ghost: main's share of the cache (all but 10 %)
      om.attr.max_entries = static_cast<uint32_t>(
          std::max<uint64_t>(1, cache_pages(mc) - cache_pages(mc) / 10));
  }
}

cache_ext_stats policy_host::bpf_stats() const {
  cache_ext_stats sum;
  for (const auto& mc : m_.memcgs()) {
    const cache_ext_link* l = ce_ ? ce_->link(*mc) : nullptr;
    if (!l) continue;
    sum.runs += l->stats().runs;
    sum.prog_errors += l->stats().prog_errors;
    sum.kfunc_refused += l->stats().kfunc_refused;
    if (!l->stats().last_error.empty()) sum.last_error = l->stats().last_error;
  }
  return sum;
}

}  // namespace mmbpf::ext
