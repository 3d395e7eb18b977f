// Validation (validate.h): the capture's metadata read back into the kernel's figures, the
// trace replayed into a fresh model with the default policy, and the two side by side.
//
// Simplified: the model's node is the limit plus 1 GiB, so node-wide reclaim (kswapd) never
// runs and only the cgroup's limit reclaims, as on the capture machine with its 24 GiB.
#include "workload/validate.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "mm/model.h"
#include "workload/replay.h"

namespace mmbpf::workload {

namespace {

std::optional<uint64_t> meta_u64(const trace_meta& meta, std::string_view key) {
  for (const auto& [k, v] : meta.entries)
    if (k == key) {
      uint64_t x = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec == std::errc() && p == v.data() + v.size()) return x;
      return std::nullopt;
    }
  return std::nullopt;
}

bool has_key(const trace_meta& meta, std::string_view key) {
  return std::any_of(meta.entries.begin(), meta.entries.end(),
                     [&](const auto& e) { return e.first == key; });
}

// memory.stat counter after - before (the fresh cgroup's before is zero).
std::optional<double> stat_delta(const trace_meta& meta, const std::string& name) {
  auto a = meta_u64(meta, "memory.stat.after." + name);
  if (!a) return std::nullopt;
  auto b = meta_u64(meta, "memory.stat.before." + name);
  return static_cast<double>(*a - std::min(*a, b.value_or(0)));
}

// The trace's events moved from cgroup 0 (the captured cgroup) into cgroup 1.
class recgroup_source final : public event_source {
 public:
  explicit recgroup_source(event_source& in) : in_(in) {}
  result<size_t> read(std::span<event> out) override {
    auto n = in_.read(out);
    if (!n) return n;
    for (size_t i = 0; i < *n; ++i) {
      // every cgroup id one up; a cgroup_create's parent 0 stays the model's root, so the
      // capture's warm-up cgroup is a sibling of the captured one, outside its limit
      out[i].cgroup = static_cast<uint16_t>(out[i].cgroup + 1);
      if (out[i].kind == event_kind::cgroup_create && out[i].ino) ++out[i].ino;
      if (out[i].cgroup > 1) continue;  // the warm-up's reads are not the workload's
      if (out[i].kind == event_kind::read) read_bytes += out[i].len;
      if (out[i].kind == event_kind::mmap_fault_file) read_bytes += out[i].len * 4096;
    }
    return n;
  }
  uint64_t read_bytes = 0;  // bytes the workload read (read events, file faults as pages)

 private:
  event_source& in_;
};

}  // namespace

std::optional<double> kernel_metric(const trace_meta& meta, const std::string& name) {
  if (name == "io_read_bytes") {
    auto v = meta_u64(meta, "io.read_bytes");
    return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
  }
  if (name == "pgmajfault" || name == "workingset_refault_file") return stat_delta(meta, name);
  if (name == "pgcache_add_pages") {
    auto v = meta_u64(meta, "kernel.pgcache_add_pages");
    return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
  }
  if (name == "cache_bytes") {  // v1 cache counts shmem too, which is not file page cache
    auto v = meta_u64(meta, "memory.stat.after.cache");
    if (!v) return std::nullopt;
    const uint64_t shmem = meta_u64(meta, "memory.stat.after.shmem").value_or(0);
    return static_cast<double>(*v - std::min(*v, shmem));
  }
  return std::nullopt;
}

std::optional<double> relative_error(std::optional<double> kernel, double model) {
  if (!kernel) return std::nullopt;
  if (*kernel == 0) return model == 0 ? std::optional<double>(0.0) : std::nullopt;
  return (model - *kernel) / *kernel;
}

mm::config validation_config(const trace_meta& meta, const validate_options& opt,
                             validation& out) {
  mm::config c;
  out.limit_bytes = meta_u64(meta, "capture.memory_limit").value_or(0);
  out.noncache_bytes = meta_u64(meta, "capture.noncache_mean_bytes").value_or(0);
  uint64_t limit = opt.limit;
  if (!limit && out.limit_bytes)
    limit = out.limit_bytes > out.noncache_bytes + (1u << 20) ? out.limit_bytes - out.noncache_bytes
                                                              : out.limit_bytes;
  out.model_limit_bytes = limit;
  out.read_ahead_kb = opt.read_ahead_kb ? opt.read_ahead_kb
                                        : meta_u64(meta, "read_ahead_kb").value_or(c.read_ahead_kb);
  c.read_ahead_kb = out.read_ahead_kb;
  uint64_t files = 0;
  for (const auto& [ino, size] : meta.file_size) files += size;
  const uint64_t node = limit ? limit + (1ull << 30)
                              : std::clamp<uint64_t>(2 * files + (256ull << 20), 1ull << 30,
                                                     16ull << 30);
  c.memory_pages = node / 4096;
  mm::cgroup_config cg;
  cg.id = 1;
  cg.path = "/capture";
  if (limit) cg.max = limit / 4096;
  c.cgroups.push_back(cg);
  return c;
}

result<validation> validate_trace(const std::string& path, const validate_options& opt) {
  auto r = trace_reader::open(path);
  if (!r) return r.err();
  const trace_meta meta = (*r)->meta();
  if (!has_key(meta, "capture.records"))
    return error{fmt::format("{}: not a capture (no capture.* metadata); record one with "
                             "mmbpf capture --output {} -- COMMAND",
                             path, path)};
  validation v;
  v.lost = meta_u64(meta, "capture.lost").value_or(0);
  mm::config cfg = validation_config(meta, opt, v);
  if (auto ok = mm::validate_config(cfg); !ok) return ok.err();
  auto m = mm::model::create(cfg);
  if (!m) return m.err();
  mm::model& model = **m;
  apply_trace_files(meta, model);
  recgroup_source src(**r);
  replay_options ro;
  ro.name = path;
  auto st = replay(src, model, ro);
  if (!st) return st.err();
  v.events = st->events;

  const mm::memcg& mc = *model.find_memcg(1);
  const double file_pages = static_cast<double>(model.memcg_page_state(mc, NR_FILE_PAGES));
  auto add = [&](std::string name, std::string unit, double model_value) {
    metric x;
    x.name = std::move(name);
    x.unit = std::move(unit);
    x.kernel = kernel_metric(meta, x.name);
    x.model = model_value;
    x.relative_error = relative_error(x.kernel, x.model);
    v.metrics.push_back(std::move(x));
  };
  add("io_read_bytes", "bytes", static_cast<double>(mc.counters.io_read_bytes));
  add("pgmajfault", "events", static_cast<double>(model.memcg_events(mc, mm::PGMAJFAULT)));
  add("workingset_refault_file", "pages",
      static_cast<double>(model.memcg_page_state(mc, WORKINGSET_REFAULT_FILE)));
  add("pgcache_add_pages", "pages",
      file_pages + static_cast<double>(model.memcg_events(mc, mm::PGSTEAL_FILE)));
  add("cache_bytes", "bytes", file_pages * 4096);
  // the share of what the workload read that came from the device (no kernel counter name)
  {
    metric x;
    x.name = "device_read_fraction";
    x.unit = "ratio";
    const double rb = static_cast<double>(src.read_bytes);
    if (rb > 0 && v.metrics[0].kernel) x.kernel = *v.metrics[0].kernel / rb;
    x.model = rb > 0 ? v.metrics[0].model / rb : 0;
    x.relative_error = relative_error(x.kernel, x.model);
    v.metrics.push_back(std::move(x));
  }

  const auto& cnt = mc.counters;
  v.model_detail = {
      {"lookups", static_cast<double>(cnt.lookups)},
      {"misses", static_cast<double>(cnt.misses)},
      {"readahead_pages", static_cast<double>(cnt.readahead_pages)},
      {"charge_failed", static_cast<double>(cnt.charge_failed)},
      {"admission_refused", static_cast<double>(cnt.admission_refused)},
      {"pgpgin_kib", static_cast<double>(model.memcg_events(mc, mm::PGPGIN))},
      {"oom_kill", static_cast<double>(model.memcg_events(mc, mm::OOM_KILL))},
      {"pgscan_file", static_cast<double>(model.memcg_events(mc, mm::PGSCAN_FILE))},
      {"pgsteal_file", static_cast<double>(model.memcg_events(mc, mm::PGSTEAL_FILE))},
      {"pgactivate", static_cast<double>(model.memcg_events(mc, mm::PGACTIVATE))},
      {"pgdeactivate", static_cast<double>(model.memcg_events(mc, mm::PGDEACTIVATE))},
      {"workingset_activate_file",
       static_cast<double>(model.memcg_page_state(mc, WORKINGSET_ACTIVATE_FILE))},
      {"active_file_pages", static_cast<double>(model.memcg_page_state(mc, NR_ACTIVE_FILE))},
      {"inactive_file_pages", static_cast<double>(model.memcg_page_state(mc, NR_INACTIVE_FILE))},
  };
  // what the reader should know about the comparison
  if (v.lost)
    v.notes.push_back(fmt::format("the capture lost {} ring buffer records: the model replays "
                                  "fewer events than the kernel saw",
                                  v.lost));
  if (auto pre = meta_u64(meta, "capture.events_precached"); pre && *pre)
    v.notes.push_back(fmt::format("{} events on files cached before the capture (charged "
                                  "elsewhere, all hits) are not replayed",
                                  *pre));
  uint64_t large = 0, all = 0;
  for (const auto& [k, val] : meta.entries)
    if (k.starts_with("kernel.pgcache_add_folios.order")) {
      uint64_t n = 0;
      std::from_chars(val.data(), val.data() + val.size(), n);
      all += n;
      if (k != "kernel.pgcache_add_folios.order0") large += n;
    }
  if (large)
    v.notes.push_back(fmt::format(
        "the kernel inserted {} of its {} folios as large folios (order > 0); the model "
        "inserts order-0 pages (its counts are in pages, as the kernel's memory.stat is)",
        large, all));
  return v;
}

}  // namespace mmbpf::workload
