// The standard helpers; see helpers.h. Each takes five u64 registers and returns r0. In checked
// runs every pointer a helper dereferences is validated first (run_ctx::check_access) and a bad
// one faults the run; in unchecked runs the verifier's proof is trusted, as in the kernel.
#include "bpf/helpers.h"

#include <fmt/format.h>
#include <fmt/printf.h>

#include <cerrno>
#include <cstring>

#include "bpf/map.h"
#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

constexpr uint64_t neg(long e) {
  return static_cast<uint64_t>(-e);
}
constexpr uint32_t bpf_max_loops = 1u << 23;  // BPF_MAX_LOOPS

run_ctx& rc() {
  return *current_run();
}

// A map argument (ARG_CONST_MAP_PTR). Checked runs confirm it is one of the runtime's maps.
bpf_map* map_arg(uint64_t p, const char* helper) {
  auto* m = reinterpret_cast<bpf_map*>(p);
  run_ctx& r = rc();
  if (r.checked && r.rt->map_fd(m) < 0) {
    r.set_fault(fmt::format("{}: R1 is not a map pointer (0x{:x})", helper, p));
    return nullptr;
  }
  return m;
}

bool mem_arg(uint64_t p, uint64_t size, bool write, const char* what) {
  run_ctx& r = rc();
  return !r.checked || r.check_access(p, size, write, what);
}

uint64_t map_lookup_elem(uint64_t m, uint64_t key, uint64_t, uint64_t, uint64_t) {
  bpf_map* map = map_arg(m, "bpf_map_lookup_elem");
  if (!map || !mem_arg(key, map->attr().key_size, false, "bpf_map_lookup_elem key")) return 0;
  return reinterpret_cast<uint64_t>(map->lookup_elem(reinterpret_cast<const void*>(key)));
}

uint64_t map_update_elem(uint64_t m, uint64_t key, uint64_t value, uint64_t flags, uint64_t) {
  bpf_map* map = map_arg(m, "bpf_map_update_elem");
  if (!map || !mem_arg(key, map->attr().key_size, false, "bpf_map_update_elem key") ||
      !mem_arg(value, map->attr().value_size, false, "bpf_map_update_elem value"))
    return 0;
  return static_cast<uint64_t>(map->update_elem(reinterpret_cast<const void*>(key),
                                                reinterpret_cast<const void*>(value), flags));
}

uint64_t map_delete_elem(uint64_t m, uint64_t key, uint64_t, uint64_t, uint64_t) {
  bpf_map* map = map_arg(m, "bpf_map_delete_elem");
  if (!map || !mem_arg(key, map->attr().key_size, false, "bpf_map_delete_elem key")) return 0;
  return static_cast<uint64_t>(map->delete_elem(reinterpret_cast<const void*>(key)));
}

// bpf_probe_read_kernel: copies from any address the address space knows, else zeroes the
// destination and returns -EFAULT (copy_from_kernel_nofault).
uint64_t probe_read_kernel(uint64_t dst, uint64_t size, uint64_t src, uint64_t, uint64_t) {
  run_ctx& r = rc();
  size = static_cast<uint32_t>(size);
  if (!mem_arg(dst, size, true, "bpf_probe_read_kernel dst")) return 0;
  if (size == 0) return 0;
  if (!r.check_access(src, size, false, "", /*fault_on_error=*/false)) {
    std::memset(reinterpret_cast<void*>(dst), 0, size);
    return neg(EFAULT);
  }
  std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), size);
  return 0;
}

uint64_t ktime_get_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  return rc().rt->now_ns();
}

uint64_t get_prandom_u32(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  return rc().rt->prandom_u32();
}

uint64_t get_smp_processor_id(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  return 0;
}

uint64_t get_current_pid_tgid(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  return rc().rt->pid_tgid();
}

bool read_str_arg(uint64_t addr, std::string& s) {
  run_ctx& r = rc();
  s.clear();
  for (size_t n = 0; n < 512; ++n) {  // MAX_BPRINTF_BUF
    if (!r.check_access(addr + n, 1, false, "", false)) return false;
    const char c = *reinterpret_cast<const char*>(addr + n);
    if (!c) return true;
    s.push_back(c);
  }
  return true;
}

uint64_t trace_printk(uint64_t fmt, uint64_t fmt_size, uint64_t a1, uint64_t a2, uint64_t a3) {
  run_ctx& r = rc();
  fmt_size = static_cast<uint32_t>(fmt_size);
  if (fmt_size == 0 || !mem_arg(fmt, fmt_size, false, "bpf_trace_printk fmt")) return neg(EINVAL);
  const char* f = reinterpret_cast<const char*>(fmt);
  const size_t len = strnlen(f, fmt_size);
  if (len == fmt_size) return neg(EINVAL);  // not NUL-terminated within fmt_size
  const uint64_t args[3] = {a1, a2, a3};
  std::string out;
  if (!bprintf_format(f, len, args, out, read_str_arg)) return neg(EINVAL);
  r.rt->trace_log() += out;
  return out.size();
}

// Spin locks: one thread runs a simulation, so a lock is a word and a count. Checked runs
// catch the misuse the verifier forbids (nesting, unlocking what is not held, exiting locked).
uint64_t spin_lock(uint64_t lock, uint64_t, uint64_t, uint64_t, uint64_t) {
  run_ctx& r = rc();
  if (!mem_arg(lock, 4, true, "bpf_spin_lock")) return 0;
  if (r.checked && r.spin_locks_held) {
    r.set_fault("bpf_spin_lock: a lock is already held (would deadlock)");
    return 0;
  }
  *reinterpret_cast<uint32_t*>(lock) = 1;
  ++r.spin_locks_held;
  return 0;
}

uint64_t spin_unlock(uint64_t lock, uint64_t, uint64_t, uint64_t, uint64_t) {
  run_ctx& r = rc();
  if (!mem_arg(lock, 4, true, "bpf_spin_unlock")) return 0;
  if (r.checked && (!r.spin_locks_held || *reinterpret_cast<uint32_t*>(lock) != 1)) {
    r.set_fault("bpf_spin_unlock: the lock is not held");
    return 0;
  }
  *reinterpret_cast<uint32_t*>(lock) = 0;
  --r.spin_locks_held;
  return 0;
}

// ---- ring buffer ----

ringbuf_map* ringbuf_arg(uint64_t m, const char* helper) {
  bpf_map* map = map_arg(m, helper);
  if (!map) return nullptr;
  if (map->type() != BPF_MAP_TYPE_RINGBUF) {
    rc().set_fault(fmt::format("{}: map '{}' is not a ringbuf", helper, map->name()));
    return nullptr;
  }
  return static_cast<ringbuf_map*>(map);
}

// The ring buffer a reserved sample belongs to: the owner of the region holding it.
ringbuf_map* sample_owner(uint64_t sample, const char* helper) {
  const mem_region* reg = rc().rt->regions().find(sample);
  auto* m = reg ? static_cast<const bpf_map*>(reg->owner) : nullptr;
  if (!m || m->type() != BPF_MAP_TYPE_RINGBUF) {
    rc().set_fault(fmt::format("{}: 0x{:x} is not a reserved ringbuf sample", helper, sample));
    return nullptr;
  }
  return static_cast<ringbuf_map*>(const_cast<bpf_map*>(m));
}

uint64_t ringbuf_output(uint64_t m, uint64_t data, uint64_t size, uint64_t flags, uint64_t) {
  ringbuf_map* rb = ringbuf_arg(m, "bpf_ringbuf_output");
  if (!rb || !mem_arg(data, size, false, "bpf_ringbuf_output data")) return 0;
  return static_cast<uint64_t>(rb->output(reinterpret_cast<const void*>(data), size, flags));
}

uint64_t ringbuf_reserve(uint64_t m, uint64_t size, uint64_t flags, uint64_t, uint64_t) {
  ringbuf_map* rb = ringbuf_arg(m, "bpf_ringbuf_reserve");
  return rb ? reinterpret_cast<uint64_t>(rb->reserve(size, flags)) : 0;
}

// A sample that is not one being written is the verifier's to reject; checked runs fault on it.
uint64_t ringbuf_commit(uint64_t sample, uint64_t flags, bool discard) {
  const char* name = discard ? "bpf_ringbuf_discard" : "bpf_ringbuf_submit";
  ringbuf_map* rb = sample_owner(sample, name);
  if (!rb) return 0;
  void* p = reinterpret_cast<void*>(sample);
  const bool ok = discard ? rb->discard(p, flags) : rb->submit(p, flags);
  if (!ok && rc().checked)
    rc().set_fault(fmt::format("{}: 0x{:x} is not a reserved ringbuf sample", name, sample));
  return 0;
}

uint64_t ringbuf_submit(uint64_t sample, uint64_t flags, uint64_t, uint64_t, uint64_t) {
  return ringbuf_commit(sample, flags, false);
}

uint64_t ringbuf_discard(uint64_t sample, uint64_t flags, uint64_t, uint64_t, uint64_t) {
  return ringbuf_commit(sample, flags, true);
}

uint64_t ringbuf_query(uint64_t m, uint64_t flags, uint64_t, uint64_t, uint64_t) {
  ringbuf_map* rb = ringbuf_arg(m, "bpf_ringbuf_query");
  return rb ? rb->query(flags) : 0;
}

// ---- callbacks ----

// bpf_loop: calls fn(i, ctx) for i in [0, nr_loops) until it returns 1; returns the number of
// calls made.
uint64_t loop(uint64_t nr_loops, uint64_t fn, uint64_t ctx, uint64_t flags, uint64_t) {
  run_ctx& r = rc();
  if (flags) return neg(EINVAL);
  nr_loops = static_cast<uint32_t>(nr_loops);
  if (nr_loops > bpf_max_loops) return neg(E2BIG);
  for (uint64_t i = 0; i < nr_loops; ++i) {
    const uint64_t ret = r.call_fn(&r, fn, i, ctx, 0, 0, 0);
    if (r.faulted) return 0;
    if (ret) return i + 1;
  }
  return nr_loops;
}

struct for_each_closure {
  run_ctx* r;
  uint64_t map, fn, ctx;
};

uint64_t for_each_cb(void* c, void* key, void* value) {
  auto* cl = static_cast<for_each_closure*>(c);
  const uint64_t ret = cl->r->call_fn(cl->r, cl->fn, cl->map, reinterpret_cast<uint64_t>(key),
                                      reinterpret_cast<uint64_t>(value), cl->ctx, 0);
  return cl->r->faulted ? 1 : ret;
}

// bpf_for_each_map_elem: calls fn(map, key, value, ctx) per element until it returns 1.
uint64_t for_each_map_elem(uint64_t m, uint64_t fn, uint64_t ctx, uint64_t flags, uint64_t) {
  bpf_map* map = map_arg(m, "bpf_for_each_map_elem");
  if (!map) return 0;
  if (flags) return neg(EINVAL);
  for_each_closure cl{&rc(), m, fn, ctx};
  const long n = map->for_each_elem(for_each_cb, &cl);
  return rc().faulted ? 0 : static_cast<uint64_t>(n);
}

}  // namespace

bool bprintf_format(const char* f, size_t len, const uint64_t args[3], std::string& out,
                    bool (*read_str)(uint64_t, std::string&)) {
  int argi = 0;
  for (size_t i = 0; i < len; ++i) {
    if (f[i] != '%') {
      out.push_back(f[i]);
      continue;
    }
    if (++i >= len) return false;
    if (f[i] == '%') {
      out.push_back('%');
      continue;
    }
    if (argi == 3) return false;  // MAX_TRACE_PRINTK_VARARGS
    std::string spec = "%";
    while (i < len && (f[i] == '0' || f[i] == '-' || f[i] == '+' || f[i] == ' ')) spec += f[i++];
    while (i < len && f[i] >= '0' && f[i] <= '9') spec += f[i++];
    if (i >= len) return false;
    const uint64_t a = args[argi++];
    if (f[i] == 'c') {
      out += fmt::sprintf(spec + "c", static_cast<char>(a));
      continue;
    }
    if (f[i] == 's') {
      std::string s;
      if (!read_str(a, s)) s.clear();
      out += fmt::sprintf(spec + "s", s);
      continue;
    }
    if (f[i] == 'p') {
      if (i + 1 < len && (f[i + 1] == 'x' || f[i + 1] == 'K')) ++i;
      out += fmt::format("0x{:x}", a);
      continue;
    }
    int longs = 0;
    while (i < len && f[i] == 'l' && longs < 2) ++longs, ++i;
    if (i >= len) return false;
    const char conv = f[i];
    if (conv != 'd' && conv != 'i' && conv != 'u' && conv != 'x' && conv != 'X' && conv != 'o')
      return false;
    const bool is_signed = conv == 'd' || conv == 'i';
    // Without l, the argument is an int; with l or ll, a 64-bit long on x86-64.
    if (longs == 0) {
      out += is_signed ? fmt::sprintf(spec + conv, static_cast<int32_t>(a))
                       : fmt::sprintf(spec + conv, static_cast<uint32_t>(a));
    } else {
      out += is_signed ? fmt::sprintf(spec + "ll" + conv, static_cast<long long>(a))
                       : fmt::sprintf(spec + "ll" + conv, static_cast<unsigned long long>(a));
    }
  }
  return true;
}

void register_standard_helpers(runtime& rt) {
  rt.register_helper(BPF_FUNC_map_lookup_elem, {nullptr, map_lookup_elem});
  rt.register_helper(BPF_FUNC_map_update_elem, {nullptr, map_update_elem});
  rt.register_helper(BPF_FUNC_map_delete_elem, {nullptr, map_delete_elem});
  rt.register_helper(BPF_FUNC_probe_read, {nullptr, probe_read_kernel});
  rt.register_helper(BPF_FUNC_ktime_get_ns, {nullptr, ktime_get_ns});
  rt.register_helper(BPF_FUNC_trace_printk, {nullptr, trace_printk});
  rt.register_helper(BPF_FUNC_get_prandom_u32, {nullptr, get_prandom_u32});
  rt.register_helper(BPF_FUNC_get_smp_processor_id, {nullptr, get_smp_processor_id});
  rt.register_helper(BPF_FUNC_get_current_pid_tgid, {nullptr, get_current_pid_tgid});
  rt.register_helper(BPF_FUNC_spin_lock, {nullptr, spin_lock});
  rt.register_helper(BPF_FUNC_spin_unlock, {nullptr, spin_unlock});
  rt.register_helper(BPF_FUNC_probe_read_kernel, {nullptr, probe_read_kernel});
  rt.register_helper(BPF_FUNC_ringbuf_output, {nullptr, ringbuf_output});
  rt.register_helper(BPF_FUNC_ringbuf_reserve, {nullptr, ringbuf_reserve});
  rt.register_helper(BPF_FUNC_ringbuf_submit, {nullptr, ringbuf_submit});
  rt.register_helper(BPF_FUNC_ringbuf_discard, {nullptr, ringbuf_discard});
  rt.register_helper(BPF_FUNC_ringbuf_query, {nullptr, ringbuf_query});
  rt.register_helper(BPF_FUNC_loop, {nullptr, loop});
  rt.register_helper(BPF_FUNC_for_each_map_elem, {nullptr, for_each_map_elem});
}

}  // namespace mmbpf::bpf
