// The structured program generator of fuzz_verifier_gen (moved here unchanged so that the JIT's
// differential fuzzer and its test share it): an input's bytes steer the choice of snippets
// (map lookups, accesses at object edges, bounded scalars, spills, loops, helpers, bpf_loop
// callbacks, bpf-to-bpf calls, ringbuf), each with a small chance of a flaw, and the result is
// assembler text (assembler.h). See fuzz_verifier_gen.cpp for what it generates and why.
//
// Everything is in an unnamed namespace: each program that includes it gets its own copy.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

namespace {

// ---- input -------------------------------------------------------------------------------------

struct input {
  const uint8_t* p;
  size_t n;
  uint8_t u8() {
    if (!n) return 0;
    --n;
    return *p++;
  }
  uint32_t u16() { return u8() | (uint32_t{u8()} << 8); }
  uint32_t u32() { return u16() | (u16() << 16); }
  // 0..k-1; an exhausted input gives 0.
  int64_t pick(int64_t k) { return k <= 1 ? 0 : (k <= 256 ? u8() % k : u16() % k); }
  bool coin() { return u8() & 1; }
  // A flaw is rare (about 1 in 8) and never chosen by an exhausted input.
  bool flaw() { return u8() >= 224; }
  bool empty() const { return n == 0; }
};

// A fuzzer's input: at most 8 KB (false beyond, for libFuzzer to drop), whose last 64 bytes are
// the program's context when it has at least 128 (else the context is 0xa5 throughout) and
// whose other bytes drive the generator.
inline bool split_fuzz_input(const uint8_t* data, size_t size, input& gen, uint8_t ctx[64]) {
  if (size > 8192) return false;
  std::memset(ctx, 0xa5, 64);
  if (size >= 128) {
    size -= 64;
    std::memcpy(ctx, data + size, 64);
  }
  gen = input{data, size};
  return true;
}

// ---- the generator -----------------------------------------------------------------------------

// A scalar's value range as the generator believes it (a guide, not a proof).
struct range {
  bool known = false;
  int64_t lo = 0, hi = 0;
  int64_t align = 1;  // a power of two dividing every value
  static range k(int64_t a, int64_t b, int64_t al = 1) { return {true, a, b, al}; }
  static range any() { return {}; }
  bool fits(int64_t lim = (int64_t{1} << 30)) const { return known && lo >= -lim && hi <= lim; }
};

// Where a pointer register may access: bytes [lo, hi) relative to it; strict alignment (stack).
struct obj {
  bool valid = false;
  int64_t lo = 0, hi = 0;
  bool stack = false;
  bool ringbuf = false;
  const char* what = "";
};

struct frame {
  int depth = 0;          // 0: main
  bool callback = false;  // a bpf_loop callback (returns 0 or 1)
  obj base;               // what r6 points to
  int stack_budget = 0;   // bytes of own stack the generator uses
  // r7: map value of the given size; maybe_null until checked on every path
  bool r7_set = false, r7_maybe_null = true;
  int r7_size = 0;
  range r8;  // the source scalar
};

constexpr int arr_value = 16, hash_value = 8;

struct generator {
  input& in;
  std::string subs;         // subprograms, appended after main
  std::string* out = nullptr;
  int labels = 0, nsubs = 0;
  frame* f = nullptr;

  explicit generator(input& i) : in(i) {}

  template <typename... A>
  void e(fmt::format_string<A...> s, A&&... a) {
    *out += fmt::format(s, std::forward<A>(a)...);
    *out += '\n';
  }
  std::string label(const char* p = "l") { return fmt::format("{}{}", p, labels++); }
  void place(const std::string& l) { e("{}:", l); }

  static const char* sz(int s) { return s == 1 ? "u8" : s == 2 ? "u16" : s == 4 ? "u32" : "u64"; }
  static const char* ssz(int s) { return s == 1 ? "s8" : s == 2 ? "s16" : "s32"; }
  static std::string offs(int64_t o) { return o < 0 ? fmt::format("{}", o) : fmt::format("+{}", o); }

  int pick_size() {
    static const int s[] = {1, 2, 4, 8, 8, 4};
    return s[in.pick(6)];
  }

  // One load, store or atomic through `reg`, which points into o with a variable part `var`
  // (already added to reg) in the given range.
  void access(const std::string& reg, const obj& o, range var = range::k(0, 0, 8)) {
    if (!var.known) var = range::k(0, 0, 1);  // the generator cannot help; the verifier judges
    int s = pick_size();
    if (o.stack && !in.flaw())
      while (s > 1 && var.align < s) s /= 2;
    int64_t lo = o.lo - var.lo, hi = o.hi - s - var.hi;
    if (o.stack) {  // stack accesses must be aligned: round lo up and hi down to s
      lo += (s - ((lo % s) + s) % s) % s;
      hi -= ((hi % s) + s) % s;
    }
    if (hi < lo) hi = lo;
    int64_t off;
    switch (in.pick(4)) {
      case 0: off = lo; break;
      case 1: off = hi; break;
      case 2: off = lo + (hi - lo) / 2 / s * s; break;
      default: off = lo + (in.pick((std::min<int64_t>(hi - lo, 255)) + 1) / s) * s; break;
    }
    if (in.flaw()) off += in.coin() ? (in.coin() ? 1 : s) : (in.coin() ? -1 : -s);
    if (!o.stack && in.pick(8) == 0 && off + 1 <= hi) off += 1;  // misaligned but inside
    off = std::clamp<int64_t>(off, -32768, 32767);
    switch (in.pick(8)) {
      case 0:
      case 1:
      case 2: e("r0 = *({} *)({} {})", sz(s), reg, offs(off)); break;
      case 3:
        if (s < 8) { e("r0 = *({} *)({} {})", ssz(s), reg, offs(off)); break; }
        [[fallthrough]];
      case 4: e("*({} *)({} {}) = r8", sz(s), reg, offs(off)); break;
      case 5: e("*({} *)({} {}) = {}", sz(s), reg, offs(off), static_cast<int8_t>(in.u8())); break;
      case 6:
        if (s >= 4) {
          if (in.coin())
            e("lock *({} *)({} {}) += r8", sz(s), reg, offs(off));
          else {  // r8 becomes the old value
            e("r8 = atomic{}_fetch_add(({} *)({} {}), r8)", s == 8 ? "64" : "", sz(s), reg,
              offs(off));
            f->r8 = s == 8 ? range::any() : range::k(0, 0xffffffffLL);
          }
          break;
        }
        [[fallthrough]];
      default: e("*({} *)({} {}) = r8", sz(s), reg, offs(off)); break;
    }
  }

  obj stack_obj() {
    obj o{true, -f->stack_budget, 0, true, false, "stack"};
    if (f->depth == 0 && in.pick(16) == 0) o.lo = -512;  // the frame's real edge
    return o;
  }
  obj map_obj() const { return obj{true, 0, f->r7_size, false, false, "map value"}; }

  // r0 may be uninitialized before a store of it, so every frame sets it early.
  // Makes r7 a map value that is non-null on the fall-through path (jumps to `skip` otherwise).
  void ensure_map_value(const std::string& skip) {
    if (f->r7_set && in.coin()) {
      if (f->r7_maybe_null) null_check("r7", skip);
      return;
    }
    lookup(in.coin() ? 0 : 1);
    null_check("r7", skip);
  }

  void null_check(const char* reg, const std::string& skip) {
    if (in.flaw()) return;  // missing
    switch (in.pick(5)) {
      case 0: e("r1 = {}", reg); e("if r1 == 0 goto {}", skip); break;  // through a copy
      case 1: {
        const std::string ok = label();
        e("if {} != 0 goto {}", reg, ok);
        e("goto {}", skip);
        place(ok);
        break;
      }
      case 2:
        if (in.flaw()) { e("if {} == 1 goto {}", reg, skip); break; }  // not a null check
        [[fallthrough]];
      default: e("if {} == 0 goto {}", reg, skip); break;
    }
  }

  void key(int k) { e("*(u32 *)(r10 -4) = {}", k); }

  // r7 = bpf_map_lookup_elem(map, &key): maybe null.
  void lookup(int map) {
    int k = in.pick(4);
    if (in.flaw()) k = 4 + in.pick(4);  // array: out of range, null at run time
    if (in.pick(8) == 0 && f->base.valid && f->base.lo <= 0 && f->base.hi >= 4) {
      e("r1 = *(u32 *)(r6 +0)");  // only when r6 is the context, else rejected or not
      e("*(u32 *)(r10 -4) = r1");
    } else {
      key(k);
    }
    e("r1 = map_idx[{}]", map);
    e("r2 = r10");
    e("r2 += -4");
    e("call bpf_map_lookup_elem");
    e("r7 = r0");
    f->r7_set = true;
    f->r7_maybe_null = true;
    f->r7_size = map == 0 ? arr_value : hash_value;
    if (in.flaw()) f->r7_size = map == 0 ? hash_value * 3 : arr_value;  // believes the wrong map
  }

  // Snippet: lookup (and for the hash map an update first), null check, accesses.
  void snip_map_access() {
    const int map = in.coin() ? 0 : 1;
    if (map == 1 && !in.flaw()) {
      key(in.pick(4));
      e("*(u64 *)(r10 -16) = r8");
      e("r1 = map_idx[1]");
      e("r2 = r10");
      e("r2 += -4");
      e("r3 = r10");
      e("r3 += -16");
      e("r4 = 0");
      e("call bpf_map_update_elem");
    }
    const std::string end = label();
    lookup(map);
    null_check("r7", end);
    for (int n = 1 + in.pick(3); n--;) access("r7", map_obj());
    place(end);
    f->r7_maybe_null = true;
  }

  void snip_stack_access() {
    for (int n = 1 + in.pick(3); n--;) access("r10", stack_obj());
  }

  void snip_base_access() {
    if (!f->base.valid) return snip_stack_access();
    for (int n = 1 + in.pick(3); n--;) access("r6", f->base);
  }

  // r8 = a fresh scalar from some source.
  void snip_source() {
    switch (in.pick(8)) {
      case 0:
        e("call bpf_get_prandom_u32");
        e("r8 = r0");
        f->r8 = range::k(0, 0xffffffffLL);
        break;
      case 1:
        e("call bpf_ktime_get_ns");
        e("r8 = r0");
        f->r8 = range::any();
        break;
      case 2: {
        const int64_t v = static_cast<int8_t>(in.u8());
        e("r8 = {}", v);
        f->r8 = range::k(v, v);
        break;
      }
      case 3:
        if (f->r7_set && !f->r7_maybe_null) {
          e("r8 = *(u8 *)(r7 +{})", in.pick(f->r7_size));
          f->r8 = range::k(0, 255);
          break;
        }
        [[fallthrough]];
      default: {
        if (!f->base.valid) {
          e("call bpf_get_prandom_u32");
          e("r8 = r0");
          f->r8 = range::k(0, 0xffffffffLL);
          break;
        }
        const int s = pick_size();
        int64_t off = f->base.lo + in.pick((f->base.hi - f->base.lo - s + 1));
        if (f->base.stack) off -= ((off % s) + s) % s;  // aligned
        if (s < 8 && in.pick(4) == 0) {
          e("r8 = *({} *)(r6 {})", ssz(s), offs(off));
          f->r8 = range::k(-(int64_t{1} << (8 * s - 1)), (int64_t{1} << (8 * s - 1)) - 1);
        } else {
          e("r8 = *({} *)(r6 {})", sz(s), offs(off));
          f->r8 = s == 8 ? range::any() : range::k(0, (int64_t{1} << (8 * s)) - 1);
        }
      }
    }
  }

  // r9 = r8 bounded to [0, b] (or what the generator believes), jumping to skip otherwise.
  range bound(int64_t b, const std::string& skip) {
    e("r9 = r8");
    range r = f->r8;
    const bool u32src = r.known && r.lo >= 0 && r.hi <= 0xffffffffLL;
    if (in.flaw()) b += 1;
    switch (in.pick(11)) {
      case 0: e("if r9 > {} goto {}", b, skip); return range::k(0, b);
      case 1: e("if r9 >= {} goto {}", b + (in.flaw() ? 2 : 1), skip); return range::k(0, b);
      case 2: e("r1 = {}", b); e("if r9 > r1 goto {}", skip); return range::k(0, b);
      case 3: {
        const std::string ok = label();
        e("if r9 <= {} goto {}", b, ok);
        e("goto {}", skip);
        place(ok);
        return range::k(0, b);
      }
      case 4:
        e("if r9 s> {} goto {}", b, skip);
        if (!in.flaw()) e("if r9 s< 0 goto {}", skip);
        return range::k(0, b);
      case 5:
        if (!u32src && !in.flaw()) e("w9 = w9");
        e("if w9 > {} goto {}", b, skip);
        return range::k(0, b);
      case 6:
        if (!u32src && !in.flaw()) e("w9 = w9");
        e("if w9 s> {} goto {}", b, skip);
        if (!in.flaw()) e("if w9 s< 0 goto {}", skip);
        return range::k(0, b);
      case 7: {  // and-mask to the next 2^k - 1 not above b
        int64_t m = 1;
        while (m * 2 - 1 <= b) m *= 2;
        e("r9 &= {}", m - 1);
        return range::k(0, m - 1);
      }
      case 8: {  // jset on the bits above the mask
        int64_t m = 1;
        while (m * 2 - 1 <= b) m *= 2;
        e("if {}9 & {} goto {}", in.flaw() ? 'w' : 'r', -m, skip);
        return range::k(0, m - 1);
      }
      case 9: {  // two-sided, then rebased
        const int64_t l = in.pick(8);
        e("if r9 < {} goto {}", l, skip);
        e("if r9 > {} goto {}", l + b, skip);
        e("r9 -= {}", l);
        return range::k(0, b);
      }
      default: {
        const int64_t v = in.pick((b + 1));
        e("if r9 != {} goto {}", v, skip);
        return range::k(v, v);
      }
    }
  }

  // One ALU op on r9, updating the believed range.
  range alu(range r) {
    const bool small = r.fits(1 << 20) && r.lo >= 0 && r.hi < (1 << 20);
    auto unknown = [&] { return range::any(); };
    const int op = in.pick(20);
    const int64_t k = 1 + in.pick(7);
    const char w = (small && in.coin()) ? 'w' : 'r';
    switch (op) {
      case 0: e("{}9 += {}", w, k); return small ? range::k(r.lo + k, r.hi + k) : unknown();
      case 1:
        e("{}9 -= {}", w, std::min<int64_t>(k, r.lo));
        return small ? range::k(r.lo - std::min<int64_t>(k, r.lo), r.hi - std::min<int64_t>(k, r.lo)) : unknown();
      case 2: e("{}9 *= {}", w, k); return small ? range::k(r.lo * k, r.hi * k, k % 2 ? r.align : r.align * (k & -k)) : unknown();
      case 3: {
        const int s = in.pick(4);
        e("{}9 <<= {}", w, s);
        return small ? range::k(r.lo << s, r.hi << s, r.align << s) : unknown();
      }
      case 4: {
        const int s = in.pick(4);
        e("{}9 >>= {}", w, s);
        return small ? range::k(r.lo >> s, r.hi >> s) : unknown();
      }
      case 5: {
        const int s = in.pick(4);
        e("{}9 s>>= {}", w, s);
        return small ? range::k(r.lo >> s, r.hi >> s) : unknown();
      }
      case 6: {
        const int64_t m = in.pick(64);
        e("{}9 &= {}", w, m);
        return r.known && r.lo >= 0 ? range::k(0, std::min(r.hi, m)) : range::k(0, m);
      }
      case 7: {
        const int64_t m = in.pick(8);
        e("{}9 |= {}", w, m);
        return small ? range::k(r.lo, r.hi | m | 7) : unknown();
      }
      case 8: {
        const int64_t m = in.pick(8);
        e("{}9 ^= {}", w, m);
        int64_t p = 1;
        while (p <= std::max(r.hi, m)) p *= 2;
        return small ? range::k(0, p - 1) : unknown();
      }
      case 9: e("{}9 /= {}", w, k); return small ? range::k(r.lo / k, r.hi / k) : unknown();
      case 10: e("{}9 %= {}", w, k); return small ? range::k(0, std::min(r.hi, k - 1)) : unknown();
      case 11: e("w9 = w9"); return small ? r : unknown();
      case 12:
        if (r.known && r.lo >= 0 && r.hi < 128) { e("r9 = (s8)r9"); return r; }
        e("r9 = (s16)r9");
        return r.known && r.lo >= 0 && r.hi < 32768 ? r : range::k(-32768, 32767);
      case 13: e("r9 = -r9"); e("r9 = -r9"); return r;
      case 14: e("r1 = r9"); e("r9 += r1"); return small ? range::k(2 * r.lo, 2 * r.hi, r.align * 2) : unknown();
      case 15: e("r9 = be16 r9"); return range::k(0, 65535);
      case 16:  // large excursion and back: the verifier must keep it exact
        e("r9 += 0x7ffffff0");
        e("r9 -= 0x7ffffff0");
        return r;
      case 17:
        e("w9 += -1");  // 32-bit wrap when r9 is 0
        return small && r.lo >= 1 ? range::k(r.lo - 1, r.hi - 1) : range::k(0, 0xffffffffLL);
      case 18:
        if (f->r8.fits(64) && f->r8.lo >= 0 && small) {
          e("r1 = r8");
          e("r1 &= 7");
          e("r9 += r1");
          return range::k(r.lo, r.hi + 7);
        }
        [[fallthrough]];
      default: e("r9 <<= 32"); e("r9 >>= 32"); return small ? r : range::k(0, 0xffffffffLL);
    }
  }

  // Snippet: r9 = bounded r8 (+ ALU ops), used as a variable offset or size.
  void snip_bounded_use() {
    if (in.coin()) snip_source();
    const std::string end = label();
    int use = in.pick(10);
    if (use == 7 && (f->depth >= 2 || nsubs >= 6)) use = 6;
    int64_t b;
    switch (use) {
      case 0: case 1: case 2: b = arr_value; break;
      case 3: case 4: b = std::min(f->stack_budget, 64); break;
      case 5: b = f->base.valid ? f->base.hi - f->base.lo : 16; break;
      case 6: b = 32; break;   // probe_read size
      case 7: b = 8; break;    // bpf_loop count
      default: b = 16;
    }
    b = std::max<int64_t>(1, in.pick((b)) + (in.coin() ? b / 2 : 0));
    range r = bound(b, end);
    for (int n = in.pick(4); n--;) r = alu(r);
    if (use < 3 || use >= 8) {
      ensure_map_value(end);
      const bool sub = in.pick(6) == 0 && r.known;
      if (sub) {
        // a pointer minus the scalar
        e("r1 = r7");
        e("r1 += {}", f->r7_size);
        e("r1 -= r9");
        obj o = map_obj();
        o.lo -= f->r7_size;
        o.hi -= f->r7_size;
        access("r1", o, range::k(-r.hi, -r.lo));
      } else if (in.pick(6) == 0) {
        e("r1 = r9");
        e("r1 += r7");  // scalar += pointer
        access("r1", map_obj(), r);
      } else {
        e("r1 = r7");
        e("r1 += r9");
        access("r1", map_obj(), r);
      }
    } else if (use < 5) {
      obj o = stack_obj();
      e("r1 = r10");
      const int64_t base = -std::min<int64_t>(f->stack_budget, 64) - (r.known ? 0 : 0);
      e("r1 += {}", base);
      e("r1 += r9");
      o.lo -= base;
      o.hi -= base;
      access("r1", o, r);
    } else if (use == 5) {
      if (f->base.valid) {
        e("r1 = r6");
        e("r1 += r9");
        access("r1", f->base, r);
      }
    } else if (use == 6) {
      const int64_t d = 8 * (1 + in.pick(8));
      e("r1 = r10");
      e("r1 += {}", -d);
      e("r2 = r9");
      e("r3 = r6");
      e("call bpf_probe_read_kernel");
    } else {
      const std::string cb = callback_prog();
      e("r1 = r9");
      e("r2 = func[{}]", cb);
      e("r3 = r10");
      e("r3 += -{}", cb_ctx_off);
      e("r4 = 0");
      e("call bpf_loop");
    }
    place(end);
  }

  // Snippet: a spill and fill of a pointer or a bounded scalar, maybe clobbered in between.
  void snip_spill() {
    const std::string end = label();
    const int budget = f->stack_budget;
    int64_t y = -8 * (1 + in.pick((budget / 8)));
    if (in.flaw()) y += 1 + in.pick(7);  // misaligned
    const bool ptr = in.coin();
    obj o;
    range r;
    if (ptr) {
      switch (in.pick(3)) {
        case 0:
          if (f->base.valid) {
            e("*(u64 *)(r10 {}) = r6", offs(y));
            o = f->base;
            break;
          }
          [[fallthrough]];
        case 1: {
          const int64_t x = 8 * (1 + in.pick((budget / 8)));
          e("r1 = r10");
          e("r1 += {}", -x);
          e("*(u64 *)(r10 {}) = r1", offs(y));
          o = stack_obj();
          o.lo += x;
          o.hi += x;
          break;
        }
        default:
          ensure_map_value(end);
          e("*(u64 *)(r10 {}) = r7", offs(y));
          o = map_obj();
      }
    } else {
      r = bound(8 * (1 + in.pick(2)), end);
      if (in.pick(4) == 0) {
        e("*(u32 *)(r10 {}) = r9", offs(y));
      } else {
        e("*(u64 *)(r10 {}) = r9", offs(y));
      }
    }
    // In between: nothing, or something that clobbers the slot.
    switch (in.pick(12)) {
      case 0: e("*(u8 *)(r10 {}) = -128", offs(y + in.pick(8))); break;
      case 1: e("*(u32 *)(r10 {}) = r8", offs(y + 4 * in.pick(2))); break;
      case 2:
        e("r1 = r10");
        e("r1 += {}", y);
        e("r2 = 8");
        e("r3 = r6");
        e("call bpf_probe_read_kernel");
        break;
      case 3: {
        e("r1 = r10");
        e("r1 += {}", y - 8 * in.pick(2));
        e("r2 = {}", in.coin() ? 8 : 16);
        e("r3 = r6");
        e("call bpf_probe_read_kernel");
        break;
      }
      case 4: e("call bpf_ktime_get_ns"); break;  // clobbers r0-r5, not the stack
      default: break;
    }
    if (ptr) {
      if (in.flaw())
        e("r1 = *(u32 *)(r10 {})", offs(y));
      else
        e("r1 = *(u64 *)(r10 {})", offs(y));
      if (std::string(o.what) == "map value" && in.pick(3) == 0) null_check("r1", end);
      e("r9 = r1");
      for (int n = 1 + in.pick(2); n--;) access("r9", o);
    } else {
      e("r1 = *({} *)(r10 {})", in.pick(4) == 0 ? "u32" : "u64", offs(y));
      e("r9 = r1");
      ensure_map_value(end);
      e("r1 = r7");
      e("r1 += r9");
      access("r1", map_obj(), r);
    }
    place(end);
  }

  // Snippet: a loop counting r9 down to 0 (or, rarely, one that does not end).
  void snip_loop() {
    const std::string top = label("loop"), end = label();
    const bool use_map = in.coin();
    if (use_map) ensure_map_value(end);
    int64_t n = 1 + in.pick(12);
    int step = 1;
    if (in.flaw()) {
      // Counters the verifier cannot bound by walking them: a context byte decremented to 0
      // (0 wraps) or an odd constant stepped by 2 over 0 ("if w9 != 0") make verify() run for
      // minutes (recorded in the report), so the unbounded loops here are ones whose state
      // repeats (infinite loop detection), and the odd counter exits on a signed test.
      switch (in.pick(3)) {
        case 0:
          e("r9 = *(u32 *)(r6 +{})", in.pick(61));
          place(top);
          e("r9 |= 1");
          e("if r9 != 0 goto {}", top);
          place(end);
          return;
        case 1:
          place(top);
          e("call bpf_get_prandom_u32");
          e("if r0 != 7 goto {}", top);  // ends at run time, not provably
          place(end);
          return;
        default:
          e("r9 = {}", n | 1);
          step = 2;
          break;
      }
    } else {
      e("r9 = {}", n);
    }
    if (n > 255) n = 255;
    place(top);
    switch (in.pick(4)) {
      case 0:
        if (use_map) {
          e("r1 = r7");
          e("r1 += r9");
          access("r1", map_obj(), range::k(1, n));
        } else {
          e("r1 = r10");
          e("r1 += -64");
          e("r1 += r9");
          obj o = stack_obj();
          o.lo += 64;
          o.hi += 64;
          access("r1", o, range::k(1, n));
        }
        break;
      case 1: e("r8 += r9"); f->r8 = range::any(); break;
      case 2: e("call bpf_get_prandom_u32"); break;
      default: access(use_map ? "r7" : "r10", use_map ? map_obj() : stack_obj()); break;
    }
    e("r9 -= {}", step);
    if (step == 2) {
      e("if r9 s> 0 goto {}", top);
      place(end);
      return;
    }
    switch (in.pick(4)) {
      case 0: e("if r9 != 0 goto {}", top); break;
      case 1: e("if r9 s> 0 goto {}", top); break;
      case 2: e("if w9 != 0 goto {}", top); break;
      default: e("if r9 > 0 goto {}", top); break;
    }
    place(end);
  }

  // Snippet: a pointer walking a buffer in a bounded loop.
  void snip_walk() {
    const std::string top = label("walk");
    int64_t n = 1 + in.pick(16);
    const int64_t start = 8 * (1 + in.pick(8));
    if (in.flaw()) n = start + 1;
    e("r1 = r10");
    e("r1 += {}", -start);
    e("r9 = {}", n);
    place(top);
    e("*(u8 *)(r1 +0) = {}", in.pick(256));
    e("r1 += 1");
    e("r9 -= 1");
    e("if r9 != 0 goto {}", top);
  }

  // Snippet: helpers with constant sizes and pointer arguments.
  void snip_helper() {
    const std::string end = label();
    switch (in.pick(5)) {
      case 0:
      case 1: {  // probe_read_kernel(dst, size, src)
        int64_t room;
        switch (in.pick(3)) {
          case 0: {
            const int64_t d = 8 * (1 + in.pick((f->stack_budget / 8)));
            e("r1 = r10");
            e("r1 += {}", -d);
            room = d;
            break;
          }
          case 1:
            ensure_map_value(end);
            e("r1 = r7");
            room = f->r7_size;
            break;
          default:
            if (f->base.valid && f->base.lo == 0) {
              e("r1 = r6");
              room = f->base.hi;
            } else {
              e("r1 = r10");
              e("r1 += -8");
              room = 8;
            }
        }
        int64_t size = in.coin() ? room : 1 + in.pick((room));
        if (in.flaw()) size = in.coin() ? room + 1 : -1;
        e("r2 = {}", size);
        switch (in.pick(4)) {
          case 0: e("r3 = r6"); break;
          case 1: e("r3 = r8"); break;  // any address: probe_read fails softly
          case 2: e("r3 = r10"); e("r3 += -64"); break;
          default: e("r3 = r10"); e("r3 += {}", -8 * (1 + in.pick(4))); break;
        }
        e("call bpf_probe_read_kernel");
        break;
      }
      case 2: {  // map update with the value on the stack or in another object
        const int map = in.coin() ? 0 : 1;
        const int vs = map == 0 ? arr_value : hash_value;
        key(in.pick(5));
        int64_t y = -8 - vs;
        if (in.flaw()) y = -vs + 8 * (1 + in.pick(1));
        e("*(u64 *)(r10 {}) = r8", offs(y));
        if (vs > 8) e("*(u64 *)(r10 {}) = r8", offs(y + 8));
        e("r1 = map_idx[{}]", map);
        e("r2 = r10");
        e("r2 += -4");
        if (in.pick(4) == 0 && f->base.valid) {
          e("r3 = r6");
        } else {
          e("r3 = r10");
          e("r3 += {}", y);
        }
        e("r4 = {}", in.flaw() ? 4 : 0);
        e("call bpf_map_update_elem");
        break;
      }
      case 3:
        key(in.pick(5));
        e("r1 = map_idx[1]");
        e("r2 = r10");
        e("r2 += {}", in.flaw() ? -2 : -4);
        e("call bpf_map_delete_elem");
        break;
      default:
        e("call {}", in.coin() ? "bpf_ktime_get_ns" : "bpf_get_prandom_u32");
        e("r8 = r0");
        f->r8 = range::k(0, 0xffffffffLL);
        break;
    }
    place(end);
  }

  // Snippet: ringbuf reserve, accesses, submit or discard.
  void snip_ringbuf() {
    const std::string end = label(), commit = label();
    int64_t size = 8 * (1 + in.pick(8));
    e("r1 = map_idx[2]");
    if (in.flaw()) {
      e("r2 = r8");  // not a constant
    } else {
      e("r2 = {}", size);
    }
    e("r3 = 0");
    e("call bpf_ringbuf_reserve");
    e("r9 = r0");
    if (!in.flaw()) e("if r9 == 0 goto {}", end);
    const obj o{true, 0, size, false, true, "ringbuf"};
    for (int n = 1 + in.pick(3); n--;) access("r9", o);
    if (in.coin()) {  // a bounded variable offset into the sample
      e("r2 = r8");
      e("if r2 > {} goto {}", size - 1 + (in.flaw() ? 1 : 0), commit);
      e("r1 = r9");
      e("r1 += r2");
      e("*(u8 *)(r1 +0) = 1");
    }
    if (in.pick(4) == 0) {  // the sample as a helper's destination
      e("r1 = r9");
      e("r2 = {}", in.flaw() ? size + 8 : size);
      e("r3 = r6");
      e("call bpf_probe_read_kernel");
    }
    place(commit);
    if (!in.flaw()) {
      e("r1 = r9");
      e("r2 = 0");
      e("call {}", in.coin() ? "bpf_ringbuf_submit" : "bpf_ringbuf_discard");
    }
    if (in.flaw()) e("r0 = *(u8 *)(r9 +0)");  // after the release
    place(end);
  }

  int cb_ctx_off = 64;

  // A bpf_loop callback (r1 = index, r2 = the ctx given: a pointer cb_ctx_off bytes below the
  // caller's frame pointer), returning its name.
  std::string callback_prog() {
    const std::string name = label("cb");
    cb_ctx_off = 8 * (1 + in.pick(8));
    obj o{true, -(f->stack_budget - cb_ctx_off), cb_ctx_off, true, false, "caller stack"};
    subprog(name, o, range::any(), /*callback=*/true);
    return name;
  }

  void snip_bpf_loop() {
    const std::string cb = label("cb");
    int64_t n = 1 + in.pick(8);
    if (in.pick(16) == 0) n = (1 << 23) + in.pick(2);  // BPF_MAX_LOOPS and one beyond
    obj o;
    switch (in.pick(3)) {
      case 0: {
        const int64_t x = 8 * (1 + in.pick(8));
        e("r3 = r10");
        e("r3 += {}", -x);
        o = obj{true, -(f->stack_budget - x), x, true, false, "caller stack"};
        break;
      }
      case 1:
        if (f->base.valid) {
          e("r3 = r6");
          o = f->base;
          break;
        }
        [[fallthrough]];
      default: e("r3 = 0"); break;
    }
    subprog(cb, o, range::any(), true);
    e("r1 = {}", n);
    e("r2 = func[{}]", cb);
    e("r4 = 0");
    e("call bpf_loop");
  }

  // Snippet: a bpf-to-bpf call with a pointer and a bounded scalar; the return value is
  // used as an offset.
  void snip_call() {
    const std::string fn = label("fn"), end = label();
    range arg = range::k(0, 0);
    const bool pass_arg = in.coin();
    if (pass_arg) arg = bound(16, end);  // in r9, which the pointer's setup leaves alone
    obj o;
    switch (in.pick(3)) {
      case 0: {
        const int64_t x = 8 * (1 + in.pick(8));
        e("r1 = r10");
        e("r1 += {}", -x);
        o = obj{true, -(f->stack_budget - x), x, true, false, "caller stack"};
        break;
      }
      case 1:
        ensure_map_value(end);
        e("r1 = r7");
        o = map_obj();
        break;
      default:
        if (f->base.valid) {
          e("r1 = r6");
          o = f->base;
        } else {
          e("r1 = 0");
        }
    }
    e("r2 = {}", pass_arg ? "r9" : "0");
    const int64_t ret = subprog(fn, o, arg, false);
    e("call {}", fn);
    if (ret >= 0 && in.coin()) {
      e("r9 = r0");
      ensure_map_value(end);
      e("r1 = r7");
      e("r1 += r9");
      access("r1", map_obj(), range::k(0, ret));
    }
    place(end);
  }

  // Generates a subprogram into subs; returns the bound of its return value (-1 if none).
  int64_t subprog(const std::string& name, const obj& base, range arg, bool callback) {
    frame nf;
    nf.depth = f->depth + 1;
    nf.callback = callback;
    nf.base = base;
    nf.stack_budget = 64;
    nf.r8 = arg;
    std::string body;
    std::string* saved_out = out;
    frame* saved_f = f;
    out = &body;
    f = &nf;
    e("{}:", name);
    e("r6 = {}", callback ? "r2" : "r1");
    e("r8 = {}", callback ? "r1" : "r2");
    e("r9 = 0");
    e("r0 = 0");
    if (!base.valid) f->base = obj{};
    for (int n = 1 + in.pick(3); n-- && !in.empty();) snippet();
    int64_t ret = -1;
    if (callback) {
      if (in.flaw())
        e("r0 = {}", in.coin() ? "2" : "r8");
      else
        e("r0 = {}", in.pick(2));
    } else if (in.coin()) {
      const int64_t m = (int64_t{1} << in.pick(4)) - 1;
      e("r0 = r8");
      e("r0 &= {}", m);
      ret = in.flaw() ? m + 1 : m;
    } else {
      e("r0 = {}", in.pick(16));
      ret = 15;
    }
    e("exit");
    out = saved_out;
    f = saved_f;
    subs += body;
    ++nsubs;
    return ret;
  }

  void snippet() {
    const bool can_call = f->depth < 2 && nsubs < 6;
    switch (in.pick(16)) {
      case 0: case 1: snip_map_access(); break;
      case 2: snip_stack_access(); break;
      case 3: snip_base_access(); break;
      case 4: snip_source(); break;
      case 5: case 6: case 7: snip_bounded_use(); break;
      case 8: case 9: snip_spill(); break;
      case 10: snip_loop(); break;
      case 11: snip_walk(); break;
      case 12: snip_helper(); break;
      case 13: snip_ringbuf(); break;
      case 14: if (can_call) snip_bpf_loop(); else snip_helper(); break;
      default: if (can_call) snip_call(); else snip_bounded_use(); break;
    }
  }

  std::string program() {
    frame mf;
    mf.base = obj{true, 0, 64, false, false, "ctx"};
    mf.stack_budget = 320;  // leaves room for two callee frames below 512
    mf.r8 = range::k(0, 0);
    std::string main;
    out = &main;
    f = &mf;
    e("r6 = r1");
    e("r8 = 0");
    e("r9 = 0");
    e("r0 = 0");
    for (int n = 0; n < 24 && !in.empty(); ++n) snippet();
    switch (in.pick(8)) {
      case 0: e("r0 = r8"); break;
      case 1: e("r0 = r9"); break;
      default: e("r0 = 0");
    }
    e("exit");
    return main + subs;
  }
};

}  // namespace
