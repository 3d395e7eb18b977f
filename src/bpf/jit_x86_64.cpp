// The x86-64 JIT (see jit.h): compiles bpf_prog::xlated into native code, lays it out in a few
// passes (jumps shrink to rel8 where they reach, calls to helpers become rel32 when the image
// lands within 2 GB of them), and runs it with the interpreter's run_ctx and stack.
//
// Image layout: one entry trampoline per subprogram (the C-callable entry, which saves the
// host's callee-saved registers, loads the run state into r12 and r10 into rbp, and calls the
// subprogram; the main program's trampoline runs straight into subprogram 0's code, whose exits
// are the trampoline's tail), then the other subprograms' code, then out-of-line fault stubs. A
// subprogram other than 0 saves only the BPF callee-saved registers (r6-r9) it writes. BPF stack
// frames are not among the native frames but in the run's 8 x 512-byte stack buffer, as in the
// interpreter (for a program that calls no host code, the trampoline reserves it, with the frame
// state, on the native stack; else a per-thread buffer per nesting level): a bpf-to-bpf call
// moves rbp down 512 bytes (after checking the call depth against the buffer's floor) and back.
// After every helper or kfunc call the code tests run_ctx::faulted; a fault jumps to a stub that
// records the instruction, restores rsp saved by the trampoline, and returns 0 from the
// trampoline, so a fault unwinds every native frame of the run in one step.
//
// Scratch registers: r9, r10, r11 (caller-saved, never BPF registers); r12 holds the run state.
//
// Simplified: every BPF frame takes 512 bytes (the interpreter's layout; no per-subprogram stack
// depth); no constant blinding; the divisor is tested at run time even for immediates.
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "bpf/jit.h"
#include "bpf/map.h"
#include "bpf/runtime.h"
#include "bpf/x86_64_emit.h"

namespace mmbpf::bpf {

// What JIT-ed code itself reads and writes of a run's state (through r12).
struct jit_frame_state {
  uint64_t saved_rsp = 0;  // the trampoline's rsp, for unwinding on a fault
  uint64_t fp = 0;         // r10 of the frame that made the current host call
  uint64_t fp_limit = 0;   // a bpf-to-bpf call from a frame with r10 <= this is too deep
  uint64_t stack_top = 0;  // r10 of frame 0
};

// The state of one JIT run; r12 points at it during the run. A program that calls no host code
// that could look at run_ctx runs with a bare jit_frame_state (its first member) instead.
struct jit_run : jit_frame_state {
  const jit_image* img = nullptr;
  const bpf_prog* prog = nullptr;
  uint64_t last_fn = 0;  // the callback jit_call_fn resolved last, and its entry
  jit_image::entry_fn last_entry = nullptr;
  run_ctx rc;
};

namespace {

using namespace x86;

constexpr int stack_bytes = stack_size * max_call_frames;
constexpr uint64_t probe_mem_floor = 64 * 1024;  // as interpreter.cpp

// BPF register -> x86 register (the kernel's mapping).
constexpr uint8_t reg_map[max_reg] = {rax, rdi, rsi, rdx, rcx, r8, rbx, r13, r14, r15, rbp};

struct state_offsets {
  int32_t saved_rsp, fp, fp_limit, stack_top, faulted;
};
const state_offsets& offs() {
  static const state_offsets o = [] {
    auto j = std::make_unique<jit_run>();
    const auto* b = reinterpret_cast<const char*>(j.get());
    auto at = [&](const void* p) { return static_cast<int32_t>(static_cast<const char*>(p) - b); };
    const state_offsets so{at(&j->saved_rsp), at(&j->fp), at(&j->fp_limit), at(&j->stack_top),
                           at(&j->rc.faulted)};
    // The bare jit_frame_state must have the same offsets (it is jit_run's base).
    const jit_frame_state* base = j.get();
    if (reinterpret_cast<const void*>(base) != j.get() ||
        so.saved_rsp != static_cast<int32_t>(offsetof(jit_frame_state, saved_rsp)) ||
        so.fp != static_cast<int32_t>(offsetof(jit_frame_state, fp)) ||
        so.fp_limit != static_cast<int32_t>(offsetof(jit_frame_state, fp_limit)) ||
        so.stack_top != static_cast<int32_t>(offsetof(jit_frame_state, stack_top)))
      std::abort();
    return so;
  }();
  return o;
}

// A helper faulted at insn: name the instruction as the interpreter does.
void jit_fault_at(jit_run* st, uint32_t insn_idx) {
  std::string& f = st->rc.fault;
  if (f.rfind("insn ", 0) != 0) f = fmt::format("insn {}: {}", insn_idx, f);
}

void jit_depth_fault(jit_run* st, uint32_t insn_idx, uint64_t fp) {
  const uint64_t depth = (st->stack_top - fp) / stack_size;
  st->rc.set_fault(
      fmt::format("insn {}: the call stack of {} frames is too deep", insn_idx, depth + 2));
}

uint64_t missing_helper(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  current_run()->set_fault("call to a helper that is not registered");
  return 0;
}

// run_ctx::call_fn for the JIT: fn is the address of a subprogram's first xlated instruction.
uint64_t jit_call_fn(run_ctx* rc, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                     uint64_t a5) {
  auto& st = *static_cast<jit_run*>(rc->engine);
  jit_image::entry_fn entry = st.last_fn == fn ? st.last_entry : nullptr;
  if (!entry) {
    const auto base = reinterpret_cast<uint64_t>(st.prog->xlated.data());
    const uint64_t idx = (fn - base) / sizeof(insn);
    if (fn >= base && (fn - base) % sizeof(insn) == 0 && idx <= UINT32_MAX)
      entry = st.img->entry_of(static_cast<uint32_t>(idx));
    if (!entry) {
      rc->set_fault(fmt::format("callback 0x{:x} is not a subprogram of this program", fn));
      return 0;
    }
    st.last_fn = fn;  // a kfunc calls one callback many times
    st.last_entry = entry;
  }
  const uint64_t depth = (st.stack_top - st.fp) / stack_size;
  if (depth + 1 >= static_cast<uint64_t>(max_call_frames)) {
    rc->set_fault(fmt::format("the call stack of {} frames is too deep", depth + 2));
    return 0;
  }
  const uint64_t saved_rsp = st.saved_rsp, saved_fp = st.fp;
  st.fp = saved_fp - stack_size;
  const uint64_t r0 = entry(a1, a2, a3, a4, a5, &st);
  st.saved_rsp = saved_rsp;
  st.fp = saved_fp;
  return r0;
}

// bpf_map_lookup_elem as the standard helper does it in an unchecked run (no checks, no fault),
// without its run_ctx lookups: the JIT calls this directly.
uint64_t jit_map_lookup(uint64_t map, uint64_t key, uint64_t, uint64_t, uint64_t) {
  return reinterpret_cast<uint64_t>(
      reinterpret_cast<bpf_map*>(map)->lookup_elem(reinterpret_cast<const void*>(key)));
}

// An array map reached through a constant pointer: what an inlined lookup needs.
struct array_info {
  uint64_t base = 0;
  uint32_t stride = 0, max_entries = 0;
};

}  // namespace

struct jit_compiler {
  const bpf_prog& prog;
  const std::vector<insn>& x;
  const size_t n;
  const size_t nsub;
  emitter e;

  // Labels: insn i (0..n), fault stub of insn i, depth stub of insn i, trampoline k, and the
  // three common tails. Positions of this pass and of the previous one (-1: not yet placed).
  std::vector<int64_t> cur, prev;
  bool force_long = false;
  uint64_t base = 0;  // the image's address once mapped; 0 before

  std::vector<uint8_t> subprog_saves;  // per subprog: bitmask of r6..r9 written
  std::vector<bool> needs_fault_stub, needs_depth_stub;
  std::vector<array_info> inline_lookup;  // per insn: a lookup to inline (stride 0: none)
  bool std_lookup = false;  // helper 1 is the standard bpf_map_lookup_elem
  bool needs_run_ctx = false;  // some call reaches host code that may use run_ctx
  uint8_t used_callee_saved = 0;  // r6..r9 mentioned anywhere (bit k: r6+k)
  size_t cur_sub = 0;  // the subprogram being emitted

  explicit jit_compiler(const bpf_prog& p)
      : prog(p), x(p.xlated), n(p.xlated.size()), nsub(p.subprog_starts.size()) {
    const size_t nl = label_count();
    cur.assign(nl, -1);
    prev.assign(nl, -1);
    needs_fault_stub.assign(n, false);
    needs_depth_stub.assign(n, false);
    inline_lookup.assign(n, {});
  }

  size_t L_insn(size_t i) const { return i; }
  size_t L_fault(size_t i) const { return n + 1 + i; }
  size_t L_depth(size_t i) const { return 2 * n + 1 + i; }
  size_t L_tramp(size_t k) const { return 3 * n + 1 + k; }
  size_t L_exit() const { return 3 * n + 1 + nsub; }
  size_t L_common_fault() const { return L_exit() + 1; }
  size_t L_common_depth() const { return L_exit() + 2; }
  size_t L_entry(size_t k) const { return L_exit() + 3 + k; }
  size_t label_count() const { return L_exit() + 3 + nsub; }

  // The subprogram that starts at insn t.
  size_t sub_of_start(size_t t) const {
    const auto& s = prog.subprog_starts;
    return static_cast<size_t>(std::lower_bound(s.begin(), s.end(), t) - s.begin());
  }

  size_t sub_end(size_t k) const { return k + 1 < nsub ? prog.subprog_starts[k + 1] : n; }

  // ---- analysis ----

  void analyze() {
    // Registers r6..r9 each subprogram writes (it saves and restores those).
    subprog_saves.assign(nsub, 0);
    for (size_t k = 0; k < nsub; ++k) {
      uint8_t m = 0;
      for (size_t i = prog.subprog_starts[k]; i < sub_end(k); ++i) {
        const insn& in = x[i];
        const uint8_t c = cls(in.code);
        int w = -1;
        if (c == BPF_ALU || c == BPF_ALU64 || c == BPF_LDX || c == BPF_LD) w = in.dst_reg;
        if (c == BPF_STX && mode(in.code) == BPF_ATOMIC && (in.imm & BPF_FETCH) &&
            in.imm != BPF_CMPXCHG)
          w = in.src_reg;
        if (w >= BPF_REG_6 && w <= BPF_REG_9) m |= 1 << (w - BPF_REG_6);
        if (is_ld_imm64(in)) ++i;
      }
      subprog_saves[k] = m;
    }
    // Jump targets end what is known about registers.
    std::vector<bool> target(n + 1, false);
    for (size_t i = 0; i < n; ++i) {
      const insn& in = x[i];
      const uint8_t c = cls(in.code), o = op(in.code);
      if ((c == BPF_JMP || c == BPF_JMP32) && o != BPF_CALL && o != BPF_EXIT) {
        const int64_t off = (c == BPF_JMP32 && o == BPF_JA) ? in.imm : in.off;
        const int64_t t = static_cast<int64_t>(i) + 1 + off;
        if (t >= 0 && t <= static_cast<int64_t>(n)) target[t] = true;
      }
      if (is_ld_imm64(in)) ++i;
    }
    for (uint32_t s : prog.subprog_starts) target[s] = true;
    // Which registers hold a constant array-map pointer (ld_imm64 of a map, moved around).
    const bpf_map* known[max_reg] = {};
    const helper_proto* lookup = prog.rt->helper(BPF_FUNC_map_lookup_elem);
    std_lookup = lookup && std::string_view(lookup->name) == "bpf_map_lookup_elem";
    for (size_t i = 0; i < n; ++i) {
      const insn& in = x[i];
      if (is_call(in) && in.src_reg != BPF_PSEUDO_CALL &&
          !(in.src_reg == 0 && in.imm == BPF_FUNC_map_lookup_elem && std_lookup))
        needs_run_ctx = true;
      for (int r : {int(in.dst_reg), int(in.src_reg)})
        if (r >= BPF_REG_6 && r <= BPF_REG_9 && !is_call(in)) used_callee_saved |= 1 << (r - BPF_REG_6);
      if (is_ld_imm64(in)) ++i;
    }
    for (size_t i = 0; i < n; ++i) {
      if (target[i]) std::fill(std::begin(known), std::end(known), nullptr);
      const insn& in = x[i];
      const uint8_t c = cls(in.code);
      if (is_ld_imm64(in)) {
        const insn& orig = prog.insns[i];
        const bool is_map =
            orig.src_reg == BPF_PSEUDO_MAP_FD || orig.src_reg == BPF_PSEUDO_MAP_IDX;
        known[in.dst_reg] =
            is_map ? reinterpret_cast<const bpf_map*>(static_cast<uint64_t>(
                                                          static_cast<uint32_t>(in.imm)) |
                                                      uint64_t{static_cast<uint32_t>(x[i + 1].imm)}
                                                          << 32)
                   : nullptr;
        ++i;
        continue;
      }
      if (is_call(in)) {
        if (in.src_reg == 0 && in.imm == BPF_FUNC_map_lookup_elem && std_lookup && known[1] &&
            known[1]->type() == BPF_MAP_TYPE_ARRAY && known[1]->attr().max_entries > 0) {
          auto* m = const_cast<bpf_map*>(known[1]);
          const uint32_t zero = 0;
          array_info a;
          a.base = reinterpret_cast<uint64_t>(m->lookup_elem(&zero));
          a.stride = static_cast<uint32_t>((uint64_t{m->attr().value_size} + 7) & ~uint64_t{7});
          a.max_entries = m->attr().max_entries;
          if (a.base && a.stride) inline_lookup[i] = a;
        }
        for (int r = 0; r <= 5; ++r) known[r] = nullptr;
        continue;
      }
      if (c == BPF_ALU64 && op(in.code) == BPF_MOV && src_bit(in.code) == BPF_X && in.off == 0) {
        known[in.dst_reg] = known[in.src_reg];
        continue;
      }
      if (c == BPF_ALU || c == BPF_ALU64 || c == BPF_LDX) known[in.dst_reg] = nullptr;
      if (c == BPF_STX && mode(in.code) == BPF_ATOMIC) {
        if (in.imm & BPF_FETCH) known[in.src_reg] = nullptr;
        if (in.imm == BPF_CMPXCHG) known[0] = nullptr;
      }
    }
  }

  // ---- label-relative jumps and calls ----

  int64_t where(size_t l) const { return cur[l] >= 0 ? cur[l] : prev[l]; }
  void place(size_t l) { cur[l] = static_cast<int64_t>(e.pos()); }

  void jcc(int cc, size_t l) {
    const int64_t t = where(l);
    if (!force_long && t >= 0 && fits8(t - static_cast<int64_t>(e.pos() + 2))) {
      e.u8(0x70 | cc);
      e.u8(static_cast<uint8_t>(t - static_cast<int64_t>(e.pos() + 1)));
      return;
    }
    e.u8(0x0f);
    e.u8(0x80 | cc);
    e.u32(static_cast<uint32_t>(t >= 0 ? t - static_cast<int64_t>(e.pos() + 4) : 0));
  }
  void jmp(size_t l) {
    const int64_t t = where(l);
    if (!force_long && t >= 0 && fits8(t - static_cast<int64_t>(e.pos() + 2))) {
      e.u8(0xeb);
      e.u8(static_cast<uint8_t>(t - static_cast<int64_t>(e.pos() + 1)));
      return;
    }
    e.u8(0xe9);
    e.u32(static_cast<uint32_t>(t >= 0 ? t - static_cast<int64_t>(e.pos() + 4) : 0));
  }
  void call_label(size_t l) {
    const int64_t t = where(l);
    e.u8(0xe8);
    e.u32(static_cast<uint32_t>(t >= 0 ? t - static_cast<int64_t>(e.pos() + 4) : 0));
  }
  // A call to host code: rel32 when the mapped image reaches it (with a margin, so that the
  // choice does not flip while the layout settles), else through r11.
  void call_abs(uint64_t fn) {
    if (base) {
      const int64_t d = static_cast<int64_t>(fn) - static_cast<int64_t>(base + e.pos() + 5);
      if (d > -(int64_t{1} << 31) + (1 << 24) && d < (int64_t{1} << 31) - (1 << 24)) {
        e.u8(0xe8);
        e.u32(static_cast<uint32_t>(d));
        return;
      }
    }
    e.movabs(r11, fn);
    e.call_r(r11);
  }

  // ---- one pass over the program ----

  // Returns true when every label landed where it did in the previous pass (the layout is final).
  bool pass() {
    e.b.clear();
    std::fill(cur.begin(), cur.end(), -1);
    trampolines();
    for (size_t k = 0; k < nsub; ++k) subprog(k);  // subprog 0 first: trampoline 0 runs into it
    place(L_insn(n));
    stubs();
    const bool same = cur == prev;
    prev = cur;
    return same;
  }

  // The host registers a trampoline saves: rbp and r12 always, rbx/r13/r14/r15 when the
  // program uses the BPF register living there.
  std::vector<int> tramp_saves() const {
    std::vector<int> v = {rbp, r12};
    for (int k = 0; k < 4; ++k)
      if ((used_callee_saved >> k) & 1) v.push_back(saved_regs[k]);
    return v;
  }

  // Bytes a trampoline reserves below its pushes: 8 to keep rsp 16-aligned at its calls, and a
  // bare run's frame state and stack (state at rsp, the 8 frames above it).
  static constexpr int32_t bare_state_bytes = 32;
  static_assert(sizeof(jit_frame_state) <= bare_state_bytes && stack_bytes % 16 == 0);
  int32_t tramp_frame() const {
    const int32_t pad = tramp_saves().size() % 2 == 0 ? 8 : 0;
    return pad + (needs_run_ctx ? 0 : bare_state_bytes + stack_bytes);
  }

  // A trampoline's head: saves the host's registers, sets r12 to the run state (r9, the sixth
  // argument; or, for a program that runs bare, a jit_frame_state it builds on the native stack
  // under the run's 8 frames), r10 (rbp) to the frame's, and r0 and the used r6-r9 to 0.
  void tramp_head() {
    const state_offsets& o = offs();
    const std::vector<int> saves = tramp_saves();
    for (int r : saves) e.push(r);
    if (const int32_t f = tramp_frame()) e.alu_ri(true, 5, rsp, f);  // sub rsp, f
    if (needs_run_ctx) {
      e.mov_rr(true, r12, r9);
      e.rm(true, {0x89}, rsp, r12, o.saved_rsp);  // mov [r12+saved_rsp], rsp
      e.rm(true, {0x8b}, rbp, r12, o.fp);         // mov rbp, [r12+fp]
    } else {
      e.mov_rr(true, r12, rsp);
      e.rm(true, {0x8d}, rbp, rsp, bare_state_bytes + stack_bytes);  // lea rbp, [top]
      e.rm(true, {0x8d}, r11, rsp, bare_state_bytes + stack_size);   // lea r11, [frame 7 + 512]
      e.rm(true, {0x89}, rsp, r12, o.saved_rsp);
      e.rm(true, {0x89}, rbp, r12, o.fp);
      e.rm(true, {0x89}, rbp, r12, o.stack_top);
      e.rm(true, {0x89}, r11, r12, o.fp_limit);
    }
    e.alu_rr(false, 0x31, rax, rax);  // r0 = 0; r6-r9 = 0 where used
    for (int r : saves)
      if (r != rbp && r != r12) e.alu_rr(false, 0x31, r, r);
  }

  // A trampoline's tail: frees what the head reserved, restores the host's registers, returns.
  void tramp_tail() {
    if (const int32_t f = tramp_frame()) e.alu_ri(true, 0, rsp, f);  // add rsp, f
    const std::vector<int> saves = tramp_saves();
    for (auto it = saves.rbegin(); it != saves.rend(); ++it) e.pop(*it);
    e.ret();
  }

  // Subprogram k > 0's trampoline calls its code (callbacks enter there); the program's entry,
  // trampoline 0, is followed by subprogram 0's code itself, which ends in the trampoline's
  // tail: subprogram 0 is never called from BPF (no recursion), so its registers are saved once.
  void trampolines() {
    for (size_t k = 1; k < nsub; ++k) {
      place(L_tramp(k));
      tramp_head();
      call_label(L_entry(k));
      jmp(L_exit());
    }
    place(L_exit());
    tramp_tail();
    place(L_tramp(0));
    tramp_head();
  }

  static constexpr uint8_t saved_regs[4] = {rbx, r13, r14, r15};

  void subprog(size_t k) {
    cur_sub = k;
    const uint8_t m = k ? subprog_saves[k] : 0;
    int pushed = 0;
    for (int r = 0; r < 4; ++r) pushed += (m >> r) & 1;
    const bool pad = k && pushed % 2 == 0;  // keeps rsp 16-aligned at calls
    // The entry (what calls reach) is the prologue; jumps to the first instruction land after it.
    if (k) place(L_entry(k));
    for (int r = 0; r < 4; ++r)
      if ((m >> r) & 1) e.push(saved_regs[r]);
    if (pad) e.alu_ri(true, 5, rsp, 8);
    for (size_t i = prog.subprog_starts[k]; i < sub_end(k); ++i) {
      one(i, m, pad);
      if (is_ld_imm64(x[i])) place(L_insn(++i));
    }
  }

  void epilogue(uint8_t m, bool pad) {
    if (cur_sub == 0) {
      tramp_tail();
      return;
    }
    if (pad) e.alu_ri(true, 0, rsp, 8);
    for (int r = 3; r >= 0; --r)
      if ((m >> r) & 1) e.pop(saved_regs[r]);
    e.ret();
  }

  void stubs() {
    for (size_t i = 0; i < n; ++i) {
      if (needs_fault_stub[i]) {
        place(L_fault(i));
        e.mov_ri32(rsi, static_cast<uint32_t>(i));
        jmp(L_common_fault());
      }
      if (needs_depth_stub[i]) {
        place(L_depth(i));
        e.mov_ri32(rsi, static_cast<uint32_t>(i));
        e.mov_rr(true, rdx, rbp);
        jmp(L_common_depth());
      }
    }
    const state_offsets& o = offs();
    for (int which = 0; which < 2; ++which) {
      place(which == 0 ? L_common_fault() : L_common_depth());
      e.mov_rr(true, rdi, r12);
      e.rm(true, {0x8b}, rsp, r12, o.saved_rsp);  // mov rsp, [r12+saved_rsp]
      e.movabs(rax, which == 0 ? reinterpret_cast<uint64_t>(&jit_fault_at)
                               : reinterpret_cast<uint64_t>(&jit_depth_fault));
      e.call_r(rax);
      e.alu_rr(false, 0x31, rax, rax);
      jmp(L_exit());
    }
  }

  // ---- instructions ----

  // The jump target of the conditional/unconditional jump at i.
  static size_t jump_target(const insn& in, size_t i) {
    const int64_t off = (cls(in.code) == BPF_JMP32 && op(in.code) == BPF_JA) ? in.imm : in.off;
    return static_cast<size_t>(static_cast<int64_t>(i) + 1 + off);
  }

  void one(size_t i, uint8_t saves, bool pad) {
    place(L_insn(i));
    const insn& in = x[i];
    switch (cls(in.code)) {
      case BPF_ALU:
      case BPF_ALU64:
        alu(in);
        break;
      case BPF_LDX:
        ldx(in);
        break;
      case BPF_ST:
        st(in);
        break;
      case BPF_STX:
        if (mode(in.code) == BPF_ATOMIC)
          atomic(in);
        else
          store_reg(size_of(in.code), reg_map[in.dst_reg], in.off, reg_map[in.src_reg]);
        break;
      case BPF_LD: {
        const uint64_t v = static_cast<uint32_t>(in.imm) |
                           (uint64_t{static_cast<uint32_t>(x[i + 1].imm)} << 32);
        e.mov_ri64(reg_map[in.dst_reg], v);
        break;
      }
      default:
        jump(in, i, saves, pad);
        break;
    }
  }

  void alu(const insn& in) {
    const bool w = cls(in.code) == BPF_ALU64;
    const bool xsrc = src_bit(in.code) == BPF_X;
    const int d = reg_map[in.dst_reg];
    const int s = xsrc ? reg_map[in.src_reg] : 0;
    const int32_t imm = in.imm;
    auto arith = [&](uint8_t opc, int ext) {
      if (xsrc)
        e.alu_rr(w, opc, d, s);
      else
        e.alu_ri(w, ext, d, imm);
    };
    switch (op(in.code)) {
      case BPF_ADD: arith(0x01, 0); break;
      case BPF_SUB: arith(0x29, 5); break;
      case BPF_OR: arith(0x09, 1); break;
      case BPF_AND: arith(0x21, 4); break;
      case BPF_XOR: arith(0x31, 6); break;
      case BPF_MUL:
        if (xsrc)
          e.imul_rr(w, d, s);
        else
          e.imul_ri(w, d, imm);
        break;
      case BPF_MOV:
        if (!xsrc) {
          if (w)
            e.mov_ri64(d, static_cast<uint64_t>(static_cast<int64_t>(imm)));
          else
            e.mov_ri32(d, static_cast<uint32_t>(imm));
        } else if (in.off == 0) {
          if (!w || d != s) e.mov_rr(w, d, s);
        } else if (in.off == 8) {
          e.rr(w, {0x0f, 0xbe}, d, s, emitter::byte_needs_rex(s));
        } else if (in.off == 16) {
          e.rr(w, {0x0f, 0xbf}, d, s);
        } else if (w) {  // 32
          e.rr(true, {0x63}, d, s);
        } else {  // movsx32 with off 32 is not loadable; keep the interpreter's meaning anyway
          e.mov_rr(false, d, s);
        }
        break;
      case BPF_NEG:
        e.neg(w, d);
        break;
      case BPF_LSH: shift(in, w, 4, d, s, xsrc); break;
      case BPF_RSH: shift(in, w, 5, d, s, xsrc); break;
      case BPF_ARSH: shift(in, w, 7, d, s, xsrc); break;
      case BPF_DIV:
      case BPF_MOD:
        divmod(w, in.off == 1, op(in.code) == BPF_MOD, d, xsrc, s, imm);
        break;
      case BPF_END:
        end(in, d);
        break;
    }
  }

  void shift(const insn& in, bool w, int ext, int d, int s, bool xsrc) {
    if (!xsrc) {
      const uint8_t c = static_cast<uint8_t>(in.imm & (w ? 63 : 31));
      if (c)
        e.shift_ri(w, ext, d, c);
      else if (!w)
        e.mov_rr(false, d, d);  // still zero-extends
      return;
    }
    if (s == rcx) {
      e.shift_cl(w, ext, d);
    } else if (d == rcx) {
      e.mov_rr(true, r11, rcx);
      e.mov_rr(true, rcx, s);
      e.shift_cl(w, ext, r11);
      e.mov_rr(true, rcx, r11);
    } else {
      e.mov_rr(true, r11, rcx);
      e.mov_rr(true, rcx, s);
      e.shift_cl(w, ext, d);
      e.mov_rr(true, rcx, r11);
    }
  }

  // dst = dst / src or dst % src, unsigned or signed, with the RFC's answers for 0 and -1.
  void divmod(bool w, bool sgn, bool is_mod, int d, bool xsrc, int s, int32_t imm) {
    if (xsrc)
      e.mov_rr(w, r11, s);
    else if (w)
      e.mov_ri64(r11, static_cast<uint64_t>(static_cast<int64_t>(imm)));
    else
      e.mov_ri32(r11, static_cast<uint32_t>(imm));
    e.alu_rr(w, 0x85, r11, r11);  // test
    const size_t jz = e.jcc8(cc_e);
    size_t jm1 = 0;
    if (sgn) {
      e.alu_ri(w, 7, r11, -1);
      jm1 = e.jcc8(cc_e);
    }
    if (d != rax) e.mov_rr(true, r10, rax);
    if (d != rdx) e.mov_rr(true, r9, rdx);
    if (d != rax) e.mov_rr(true, rax, d);
    if (sgn) {
      if (w) e.u8(0x48);
      e.u8(0x99);  // cqo / cdq
    } else {
      e.alu_rr(false, 0x31, rdx, rdx);
    }
    e.rr(w, {0xf7}, sgn ? 7 : 6, r11);  // (i)div r11
    e.mov_rr(true, r11, is_mod ? rdx : rax);
    if (d != rax) e.mov_rr(true, rax, r10);
    if (d != rdx) e.mov_rr(true, rdx, r9);
    e.mov_rr(true, d, r11);
    const size_t done1 = e.jmp8();
    e.patch8(jz);
    if (!is_mod)
      e.alu_rr(false, 0x31, d, d);  // x / 0 = 0
    else if (!w)
      e.mov_rr(false, d, d);  // x % 0 = x, zero-extended for ALU32
    size_t done2 = 0;
    if (sgn) {
      done2 = e.jmp8();
      e.patch8(jm1);
      if (!is_mod)
        e.neg(w, d);  // x / -1 = -x (INT_MIN stays INT_MIN)
      else
        e.alu_rr(false, 0x31, d, d);  // x % -1 = 0
    }
    e.patch8(done1);
    if (sgn) e.patch8(done2);
  }

  void end(const insn& in, int d) {
    const bool swap = cls(in.code) == BPF_ALU64 || src_bit(in.code) == BPF_TO_BE;
    if (!swap) {
      if (in.imm == 16)
        e.rr(false, {0x0f, 0xb7}, d, d);  // movzx d32, d16
      else if (in.imm == 32)
        e.mov_rr(false, d, d);
      return;
    }
    if (in.imm == 16) {
      e.u8(0x66);
      e.rr(false, {0xc1}, 1, d);  // ror d16, 8
      e.u8(8);
      e.rr(false, {0x0f, 0xb7}, d, d);
    } else {
      e.bswap(in.imm == 64, d);
    }
  }

  void load(int sz, int d, int b, int32_t off) {
    switch (sz) {
      case BPF_B: e.rm(false, {0x0f, 0xb6}, d, b, off); break;
      case BPF_H: e.rm(false, {0x0f, 0xb7}, d, b, off); break;
      case BPF_W: e.rm(false, {0x8b}, d, b, off); break;
      default: e.rm(true, {0x8b}, d, b, off); break;
    }
  }

  void ldx(const insn& in) {
    const int d = reg_map[in.dst_reg], s = reg_map[in.src_reg];
    const int sz = size_of(in.code);
    switch (mode(in.code)) {
      case BPF_MEM:
        load(sz, d, s, in.off);
        break;
      case BPF_MEMSX:
        switch (sz) {
          case BPF_B: e.rm(true, {0x0f, 0xbe}, d, s, in.off); break;
          case BPF_H: e.rm(true, {0x0f, 0xbf}, d, s, in.off); break;
          default: e.rm(true, {0x63}, d, s, in.off); break;
        }
        break;
      case BPF_PROBE_MEM: {
        // An address below the null-page floor reads 0, as in the interpreter.
        e.lea(r11, s, in.off);
        e.alu_ri(true, 7, r11, static_cast<int32_t>(probe_mem_floor));
        const size_t ok = e.jcc8(cc_ae);
        e.alu_rr(false, 0x31, d, d);
        const size_t done = e.jmp8();
        e.patch8(ok);
        load(sz, d, r11, 0);
        e.patch8(done);
        break;
      }
    }
  }

  void st(const insn& in) {
    const int d = reg_map[in.dst_reg];
    switch (size_of(in.code)) {
      case BPF_B:
        e.rm(false, {0xc6}, 0, d, in.off);
        e.u8(static_cast<uint8_t>(in.imm));
        break;
      case BPF_H:
        e.rm(false, {0xc7}, 0, d, in.off, false, /*p66=*/true);
        e.u16(static_cast<uint16_t>(in.imm));
        break;
      case BPF_W:
        e.rm(false, {0xc7}, 0, d, in.off);
        e.u32(static_cast<uint32_t>(in.imm));
        break;
      default:
        e.rm(true, {0xc7}, 0, d, in.off);
        e.u32(static_cast<uint32_t>(in.imm));
        break;
    }
  }

  void store_reg(int sz, int d, int32_t off, int s) {
    switch (sz) {
      case BPF_B: e.rm(false, {0x88}, s, d, off, emitter::byte_needs_rex(s)); break;
      case BPF_H: e.rm(false, {0x89}, s, d, off, false, true); break;
      case BPF_W: e.rm(false, {0x89}, s, d, off); break;
      default: e.rm(true, {0x89}, s, d, off); break;
    }
  }

  void atomic(const insn& in) {
    const bool w = size_of(in.code) == BPF_DW;
    const int d = reg_map[in.dst_reg], s = reg_map[in.src_reg];
    const int32_t off = in.off;
    auto lock_op = [&](std::initializer_list<uint8_t> opc) {
      e.rm(w, opc, s, d, off, false, false, /*lock=*/true);
    };
    switch (in.imm) {
      case BPF_ADD: lock_op({0x01}); return;
      case BPF_OR: lock_op({0x09}); return;
      case BPF_AND: lock_op({0x21}); return;
      case BPF_XOR: lock_op({0x31}); return;
      case BPF_ADD | BPF_FETCH: lock_op({0x0f, 0xc1}); return;  // xadd: s = old
      case BPF_XCHG: e.rm(w, {0x87}, s, d, off); return;       // xchg: s = old
      case BPF_CMPXCHG:
        lock_op({0x0f, 0xb1});  // compares rax (r0); r0 = old
        if (!w) e.mov_rr(false, rax, rax);
        return;
      default: break;
    }
    // OR/AND/XOR with FETCH: a cmpxchg loop. r11 = address, r10 = r0, r9 = the new value.
    const uint8_t opc = (in.imm & ~BPF_FETCH) == BPF_OR ? 0x09 : (in.imm & ~BPF_FETCH) == BPF_AND ? 0x21 : 0x31;
    e.lea(r11, d, off);
    e.mov_rr(true, r10, rax);
    const int src = s == rax ? r10 : s;
    load(w ? BPF_DW : BPF_W, rax, r11, 0);
    const size_t loop = e.pos();
    e.mov_rr(w, r9, rax);
    e.alu_rr(w, opc, r9, src);
    e.rm(w, {0x0f, 0xb1}, r9, r11, 0, false, false, true);
    e.jcc8_back(cc_ne, loop);
    if (s != rax) {
      e.mov_rr(true, s, rax);
      e.mov_rr(true, rax, r10);
    }
  }

  void jump(const insn& in, size_t i, uint8_t saves, bool pad) {
    const bool j32 = cls(in.code) == BPF_JMP32;
    const uint8_t o = op(in.code);
    if (o == BPF_JA) {
      const size_t t = jump_target(in, i);
      if (t != i + 1) jmp(L_insn(t));
      return;
    }
    if (o == BPF_EXIT) {
      epilogue(saves, pad);
      return;
    }
    if (o == BPF_CALL) {
      call(in, i);
      return;
    }
    const size_t t = jump_target(in, i);
    if (t == i + 1) return;  // both ways lead to the next instruction
    const bool w = !j32;
    const int d = reg_map[in.dst_reg];
    const bool xsrc = src_bit(in.code) == BPF_X;
    if (o == BPF_JSET) {
      if (xsrc)
        e.alu_rr(w, 0x85, d, reg_map[in.src_reg]);
      else
        e.test_ri(w, d, in.imm);
    } else if (xsrc) {
      e.alu_rr(w, 0x39, d, reg_map[in.src_reg]);
    } else if (in.imm == 0 && (o == BPF_JEQ || o == BPF_JNE)) {
      e.alu_rr(w, 0x85, d, d);
    } else {
      e.alu_ri(w, 7, d, in.imm);
    }
    int cc = cc_e;
    switch (o) {
      case BPF_JEQ: cc = cc_e; break;
      case BPF_JNE: cc = cc_ne; break;
      case BPF_JSET: cc = cc_ne; break;
      case BPF_JGT: cc = cc_a; break;
      case BPF_JGE: cc = cc_ae; break;
      case BPF_JLT: cc = cc_b; break;
      case BPF_JLE: cc = cc_be; break;
      case BPF_JSGT: cc = cc_g; break;
      case BPF_JSGE: cc = cc_ge; break;
      case BPF_JSLT: cc = cc_l; break;
      case BPF_JSLE: cc = cc_le; break;
    }
    jcc(cc, L_insn(t));
  }

  void call(const insn& in, size_t i) {
    const state_offsets& o = offs();
    if (in.src_reg == BPF_PSEUDO_CALL) {
      needs_depth_stub[i] = true;
      e.rm(true, {0x3b}, rbp, r12, o.fp_limit);  // cmp rbp, [r12+fp_limit]
      jcc(cc_be, L_depth(i));
      e.alu_ri(true, 5, rbp, stack_size);
      call_label(L_entry(sub_of_start(i + 1 + in.imm)));
      e.alu_ri(true, 0, rbp, stack_size);
      return;
    }
    if (const array_info& a = inline_lookup[i]; a.stride) {
      // r0 = key < max_entries ? base + key * stride : NULL
      e.rm(false, {0x8b}, rax, rsi, 0);  // mov eax, [r2]
      e.u8(0x3d);                        // cmp eax, imm32
      e.u32(a.max_entries);
      const size_t miss = e.jcc8(cc_ae);
      if ((a.stride & (a.stride - 1)) == 0) {
        const int sh = __builtin_ctz(a.stride);
        if (sh) e.shift_ri(true, 4, rax, static_cast<uint8_t>(sh));
      } else {
        e.imul_ri(true, rax, static_cast<int32_t>(a.stride));
      }
      e.movabs(r11, a.base);
      e.alu_rr(true, 0x01, rax, r11);
      const size_t done = e.jmp8();
      e.patch8(miss);
      e.alu_rr(false, 0x31, rax, rax);
      e.patch8(done);
      return;
    }
    if (in.src_reg == 0 && in.imm == BPF_FUNC_map_lookup_elem && std_lookup) {
      call_abs(reinterpret_cast<uint64_t>(&jit_map_lookup));  // cannot fault
      return;
    }
    bpf_func fn = nullptr;
    if (in.src_reg == 0) {
      const helper_proto* h = prog.rt->helper(in.imm);
      fn = h ? h->fn : nullptr;
    } else if (in.imm >= 0 && static_cast<size_t>(in.imm) < prog.rt->kfuncs().size()) {
      fn = prog.rt->kfuncs().at(in.imm).fn;
    }
    if (!fn) fn = missing_helper;
    needs_fault_stub[i] = true;
    e.rm(true, {0x89}, rbp, r12, o.fp);  // mov [r12+fp], rbp: the frame callbacks go below
    call_abs(reinterpret_cast<uint64_t>(fn));
    e.rm(false, {0x80}, 7, r12, o.faulted);  // cmp byte [r12+faulted], 0
    e.u8(0);
    jcc(cc_ne, L_fault(i));
  }
};

// ---- jit_image ----

bool jit_available() {
#if defined(__x86_64__) && defined(__linux__)
  return true;
#else
  return false;
#endif
}

result<std::shared_ptr<jit_image>> jit_image::compile(const bpf_prog& prog) {
  if (!jit_available()) return error{"the JIT needs an x86-64 Linux host"};
  if (prog.xlated.empty() || prog.subprog_starts.empty())
    return error{fmt::format("prog '{}': nothing to compile", prog.name)};
  for (size_t i = 0; i < prog.xlated.size(); ++i) {
    const insn& in = prog.xlated[i];
    // Subprogram 0's code follows its trampoline and returns through it (verified programs do
    // not recurse).
    if (is_call(in) && in.src_reg == BPF_PSEUDO_CALL && static_cast<int64_t>(i) + 1 + in.imm == 0)
      return error{fmt::format("prog '{}': insn {}: a call of the main program", prog.name, i)};
  }
  jit_compiler c(prog);
  c.analyze();
  auto settle = [&]() {
    for (int p = 0; p < 16; ++p)
      if (c.pass()) return true;
    c.force_long = true;  // all jumps rel32: the layout settles in two passes
    for (int p = 0; p < 4; ++p)
      if (c.pass()) return true;
    return false;
  };
  if (!settle()) return error{fmt::format("prog '{}': the JIT's layout did not settle", prog.name)};

  auto img = std::shared_ptr<jit_image>(new jit_image());
  img->prog_ = &prog;
  const long page = sysconf(_SC_PAGESIZE);
  const size_t bound = c.e.b.size();
  img->mapped_ = (bound + page - 1) / page * page;
  // Ask for memory near this code so that calls to helpers fit in rel32.
  const auto near = reinterpret_cast<uintptr_t>(&jit_available);
  void* hint = reinterpret_cast<void*>((near - (uintptr_t{256} << 20)) & ~uintptr_t(page - 1));
  void* mem = mmap(hint, img->mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return error{fmt::format("prog '{}': cannot map the JIT image", prog.name)};
  img->code_ = static_cast<uint8_t*>(mem);
  c.base = reinterpret_cast<uint64_t>(mem);
  c.force_long = false;
  if (!settle() || c.e.b.size() > img->mapped_)
    return error{fmt::format("prog '{}': the JIT's layout did not settle", prog.name)};
  img->size_ = c.e.b.size();
  std::memcpy(img->code_, c.e.b.data(), img->size_);
  if (mprotect(img->code_, img->mapped_, PROT_READ | PROT_EXEC) != 0)
    return error{fmt::format("prog '{}': cannot make the JIT image executable", prog.name)};
  for (size_t k = 0; k < c.nsub; ++k)
    img->entries_.push_back(reinterpret_cast<entry_fn>(img->code_ + c.cur[c.L_tramp(k)]));
  img->entry0_ = img->entries_[0];
  img->stats_enabled_ = &prog.rt->stats_enabled;
  img->needs_run_ctx_ = c.needs_run_ctx;
  img->inlined_lookups_ = 0;
  for (const auto& a : c.inline_lookup)
    if (a.stride) ++img->inlined_lookups_;
  return img;
}

jit_image::~jit_image() {
  if (code_) munmap(code_, mapped_);
}

jit_image::entry_fn jit_image::entry_of(uint32_t insn_idx) const {
  const auto& starts = prog_->subprog_starts;
  auto it = std::lower_bound(starts.begin(), starts.end(), insn_idx);
  if (it == starts.end() || *it != insn_idx) return nullptr;
  return entries_[it - starts.begin()];
}

namespace {

// Run states, one per nesting level of JIT runs on this thread (a helper or kfunc may run
// another program), each with its own 8-frame stack: the run_ctx with its strings is built when
// a level first runs a program, and a run of the same program again at the same level (a hook
// called repeatedly) only resets what a run changes.
constexpr int max_nested_runs = 8;
struct jit_level {
  alignas(16) uint8_t stack[stack_bytes];
  jit_run st;
};
struct jit_run_pool {
  jit_level levels[max_nested_runs];
  int depth = 0;
};
// This thread's pool. The pointer is constant-initialized, so a run reaches it with one %fs load
// (a thread_local with a constructor would go through a TLS init call on every access); the
// pool itself is made on the thread's first run and freed when the thread ends.
thread_local jit_run_pool* tls_pool = nullptr;
struct pool_owner {
  std::unique_ptr<jit_run_pool> pool;
  ~pool_owner() { tls_pool = nullptr; }
};
[[gnu::noinline]] jit_run_pool& make_thread_pool() {
  thread_local pool_owner owner;
  if (!owner.pool) owner.pool = std::make_unique<jit_run_pool>();
  return *(tls_pool = owner.pool.get());
}
inline jit_run_pool& thread_pool() {
  jit_run_pool* p = tls_pool;
  return __builtin_expect(p != nullptr, 1) ? *p : make_thread_pool();
}

// The error of a run that faulted; clears the fault, as the state is reused by the next run.
[[gnu::noinline, gnu::cold]] error take_fault(const bpf_prog& prog, run_ctx& rc) {
  error e{fmt::format("prog '{}': {}", prog.name, rc.fault)};
  rc.faulted = false;
  rc.fault.clear();
  return e;
}

// Everything in st that depends only on the program, the image and the stack buffer.
void init_run(jit_run& st, uint8_t* stack, const jit_image* img, const bpf_prog& prog) {
  st.fp = reinterpret_cast<uint64_t>(stack + stack_bytes);
  st.stack_top = st.fp;
  st.fp_limit = reinterpret_cast<uint64_t>(stack + stack_size);
  st.img = img;
  st.prog = &prog;
  st.last_fn = 0;
  st.last_entry = nullptr;
  run_ctx& rc = st.rc;
  rc.rt = prog.rt;
  rc.prog = &prog;
  rc.checked = false;
  rc.call_fn = jit_call_fn;
  rc.engine = &st;
  rc.local[0].start = 0;  // the default, empty region
  rc.local[0].size = 0;
  rc.local[1].start = reinterpret_cast<uintptr_t>(stack);
  rc.local[1].size = stack_bytes;
  rc.local[1].name = "stack";
  rc.n_local = 2;
  rc.faulted = false;
  rc.fault.clear();
}

}  // namespace

void jit_clear_stacks() {
  for (jit_level& l : thread_pool().levels) std::memset(l.stack, 0, sizeof l.stack);
}

bool jit_stack_contains(uint64_t addr) {
  for (const jit_level& l : thread_pool().levels) {
    const auto lo = reinterpret_cast<uint64_t>(l.stack);
    if (addr >= lo && addr < lo + sizeof l.stack) return true;
  }
  return false;
}

result<uint64_t> jit_image::run_bare(const bpf_prog& prog, const run_args& args) const {
  // No helper or kfunc can see the run (only inlined or context-free map lookups), no callback
  // can re-enter it, and the decoder's bound on static call depth means no depth fault: the
  // entry's own frame state and stack are all the run needs.
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t r0 = entry0_(args.r[0], args.r[1], args.r[2], args.r[3], args.r[4], nullptr);
  ++prog.run_cnt;
  prog.run_time_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
  return r0;
}

// Runs the program on a state and stack of a nesting level (inlined into run_with_ctx).
[[gnu::always_inline]] inline result<uint64_t> jit_image::run_on(const bpf_prog& prog,
                                                                 const run_args& args,
                                                                 jit_run& st,
                                                                 uint8_t* stack) const {
  // Everything init_run() writes follows from these four: when they are the last run's, the
  // state already holds it (addresses of freed objects may come back; the values still match).
  if (__builtin_expect(st.img != this || st.prog != &prog || st.rc.rt != prog.rt ||
                           st.rc.local[1].start != reinterpret_cast<uintptr_t>(stack),
                       0))
    init_run(st, stack, this, prog);
  run_ctx& rc = st.rc;
  if (args.ctx.size) {
    rc.local[0] = args.ctx;
  } else if (__builtin_expect(rc.local[0].size != 0, 0)) {
    rc.local[0].start = 0;
    rc.local[0].size = 0;
  }
  rc.spin_locks_held = 0;
  st.fp = st.stack_top;  // helper calls leave the r10 of the frame that made them here

  run_ctx_guard guard(&rc);
  uint64_t r0;
  if (__builtin_expect(!*stats_enabled_, 1)) {
    r0 = entry0_(args.r[0], args.r[1], args.r[2], args.r[3], args.r[4], &st);
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    r0 = entry0_(args.r[0], args.r[1], args.r[2], args.r[3], args.r[4], &st);
    ++prog.run_cnt;
    prog.run_time_ns +=
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count();
  }
  if (__builtin_expect(rc.faulted, 0)) return take_fault(prog, rc);
  return r0;
}

result<uint64_t> jit_image::run_with_ctx(const bpf_prog& prog, const run_args& args) const {
  jit_run_pool& pool = thread_pool();
  if (__builtin_expect(pool.depth >= max_nested_runs, 0)) {
    // Deeper than the pool: a state and stack of its own.
    auto level = std::make_unique<jit_level>();
    return run_on(prog, args, level->st, level->stack);
  }
  jit_level& l = pool.levels[pool.depth++];
  struct leave {
    jit_run_pool& p;
    ~leave() { --p.depth; }
  } leave_pool{pool};
  return run_on(prog, args, l.st, l.stack);
}

result<const jit_image*> jit_compile(const bpf_prog& prog) {
  if (prog.jited) {
    if (prog.jited->code()) return static_cast<const jit_image*>(prog.jited.get());
    return error{fmt::format("prog '{}': the JIT could not compile it", prog.name)};
  }
  auto img = jit_image::compile(prog);
  if (!img) {
    prog.jited = std::shared_ptr<jit_image>(new jit_image());  // remembers the failure
    return img.err();
  }
  prog.jited = std::move(img.value());
  return static_cast<const jit_image*>(prog.jited.get());
}

}  // namespace mmbpf::bpf
