// The interpreter (see interpreter.h): one switch over the translated instructions, in the
// manner of the kernel's ___bpf_prog_run, instantiated twice: unchecked and checked.
//
// Stack: one buffer of max_call_frames * 512 bytes per run; frame 0 sits at the top and each
// call takes the next 512 bytes below, so the live stack of a frame at depth d is everything from
// its own frame up to the top (callers' frames stay addressable through pointers passed down).
// Callbacks (bpf_loop, bpf_for_each_map_elem) re-enter exec() one frame deeper.
#include "bpf/interpreter.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

constexpr int stack_bytes = stack_size * max_call_frames;
// Loads the verifier marked as PROBE_MEM read 0 below this address (NULL plus a field offset).
constexpr uint64_t probe_mem_floor = 64 * 1024;

struct interp_state {
  run_ctx rc;
  const bpf_prog* prog;
  const insn* base;
  const helper_proto* helpers;
  const kfunc_registry* kfuncs;
  uint8_t* stack;
  int depth = 0;  // frame of the running instruction, valid during host calls
  bool checked;
  uint64_t budget = 0;  // checked mode: instructions left; 0 = unlimited
};

inline uint8_t* frame_top(uint8_t* stack, int depth) {
  return stack + (max_call_frames - depth) * stack_size;
}

template <class T>
inline T load(uint64_t addr) {
  T v;
  std::memcpy(&v, reinterpret_cast<const void*>(addr), sizeof v);
  return v;
}
template <class T>
inline void store(uint64_t addr, T v) {
  std::memcpy(reinterpret_cast<void*>(addr), &v, sizeof v);
}

inline uint64_t sdiv64(uint64_t a, uint64_t b) {
  const auto x = static_cast<int64_t>(a), y = static_cast<int64_t>(b);
  if (y == 0) return 0;
  if (y == -1) return 0 - a;  // INT64_MIN / -1 wraps to INT64_MIN
  return static_cast<uint64_t>(x / y);
}
inline uint64_t smod64(uint64_t a, uint64_t b) {
  const auto x = static_cast<int64_t>(a), y = static_cast<int64_t>(b);
  if (y == 0) return a;
  if (y == -1) return 0;
  return static_cast<uint64_t>(x % y);
}
inline uint32_t sdiv32(uint32_t a, uint32_t b) {
  const auto x = static_cast<int32_t>(a), y = static_cast<int32_t>(b);
  if (y == 0) return 0;
  if (y == -1) return 0 - a;
  return static_cast<uint32_t>(x / y);
}
inline uint32_t smod32(uint32_t a, uint32_t b) {
  const auto x = static_cast<int32_t>(a), y = static_cast<int32_t>(b);
  if (y == 0) return a;
  if (y == -1) return 0;
  return static_cast<uint32_t>(x % y);
}

// Sign-extends the low `bits` of v to 64 bits.
inline uint64_t sext(uint64_t v, int bits) {
  const int s = 64 - bits;
  return static_cast<uint64_t>(static_cast<int64_t>(v << s) >> s);
}

template <class T>
inline T atomic_op(uint64_t addr, int32_t aop, T val, T& r0) {
  T* p = reinterpret_cast<T*>(addr);
  switch (aop & ~BPF_FETCH) {
    case BPF_ADD:
      return __atomic_fetch_add(p, val, __ATOMIC_SEQ_CST);
    case BPF_OR:
      return __atomic_fetch_or(p, val, __ATOMIC_SEQ_CST);
    case BPF_AND:
      return __atomic_fetch_and(p, val, __ATOMIC_SEQ_CST);
    case BPF_XOR:
      return __atomic_fetch_xor(p, val, __ATOMIC_SEQ_CST);
    case BPF_XCHG & ~BPF_FETCH:
      return __atomic_exchange_n(p, val, __ATOMIC_SEQ_CST);
    default: {  // BPF_CMPXCHG: compare with r0, old value to r0
      T expected = r0;
      __atomic_compare_exchange_n(p, &expected, val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
      return expected;
    }
  }
}

uint64_t call_fn(run_ctx* rc, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                 uint64_t a5);

template <bool checked>
bool check_mem(interp_state& s, const insn* i, int depth, uint64_t addr, int size, bool write) {
  const auto lo = reinterpret_cast<uint64_t>(frame_top(s.stack, depth) - stack_size);
  const auto hi = reinterpret_cast<uint64_t>(s.stack + stack_bytes);
  if (addr >= lo && addr <= hi - size) return true;
  if (addr >= reinterpret_cast<uint64_t>(s.stack) && addr < hi) {
    s.rc.set_fault(fmt::format(
        "insn {}: invalid {} of {} bytes at stack offset {} (frame {}: live stack is [{}, 0))",
        i - s.base, write ? "write" : "read", size,
        static_cast<int64_t>(addr - reinterpret_cast<uint64_t>(frame_top(s.stack, depth))), depth,
        static_cast<int64_t>(lo - hi)));
    return false;
  }
  const std::string what = fmt::format("insn {}", i - s.base);
  return s.rc.check_access(addr, size, write, what.c_str());
}

template <bool checked>
uint64_t exec(interp_state& s, const insn* pc, const uint64_t args[5], int entry_depth) {
  uint64_t reg[max_reg] = {0, args[0], args[1], args[2], args[3], args[4]};
  int depth = entry_depth;
  reg[frame_pointer] = reinterpret_cast<uint64_t>(frame_top(s.stack, depth));
  struct frame {
    const insn* ret;
    uint64_t callee_saved[4];
  } frames[max_call_frames];

#define DST reg[i->dst_reg]
#define SRC reg[i->src_reg]
#define IMM64 static_cast<uint64_t>(static_cast<int64_t>(i->imm))
#define IMM32 static_cast<uint32_t>(i->imm)
#define FAULT_IF(cond) \
  if (cond) return 0
#define MEM_CHECK(addr, size, write) \
  if constexpr (checked) FAULT_IF(!check_mem<checked>(s, i, depth, addr, size, write))

// ALU ops whose 64- and 32-bit forms share an expression over a (dst) and b (src or imm).
#define ALU(OP, E64, E32)              \
  case BPF_ALU64 | OP | BPF_X: {       \
    const uint64_t a = DST, b = SRC;   \
    DST = (E64);                       \
    break;                             \
  }                                    \
  case BPF_ALU64 | OP | BPF_K: {       \
    const uint64_t a = DST, b = IMM64; \
    DST = (E64);                       \
    break;                             \
  }                                    \
  case BPF_ALU | OP | BPF_X: {         \
    const uint32_t a = DST, b = SRC;   \
    DST = static_cast<uint32_t>(E32);  \
    break;                             \
  }                                    \
  case BPF_ALU | OP | BPF_K: {         \
    const uint32_t a = DST, b = IMM32; \
    DST = static_cast<uint32_t>(E32);  \
    break;                             \
  }

#define JMP(OP, COND)                      \
  case BPF_JMP | OP | BPF_X: {             \
    const uint64_t a = DST, b = SRC;       \
    if (COND(a, b, int64_t)) pc += i->off; \
    break;                                 \
  }                                        \
  case BPF_JMP | OP | BPF_K: {             \
    const uint64_t a = DST, b = IMM64;     \
    if (COND(a, b, int64_t)) pc += i->off; \
    break;                                 \
  }                                        \
  case BPF_JMP32 | OP | BPF_X: {           \
    const uint32_t a = DST, b = SRC;       \
    if (COND(a, b, int32_t)) pc += i->off; \
    break;                                 \
  }                                        \
  case BPF_JMP32 | OP | BPF_K: {           \
    const uint32_t a = DST, b = IMM32;     \
    if (COND(a, b, int32_t)) pc += i->off; \
    break;                                 \
  }
#define C_EQ(a, b, S) (a == b)
#define C_NE(a, b, S) (a != b)
#define C_GT(a, b, S) (a > b)
#define C_GE(a, b, S) (a >= b)
#define C_LT(a, b, S) (a < b)
#define C_LE(a, b, S) (a <= b)
#define C_SET(a, b, S) ((a & b) != 0)
#define C_SGT(a, b, S) (static_cast<S>(a) > static_cast<S>(b))
#define C_SGE(a, b, S) (static_cast<S>(a) >= static_cast<S>(b))
#define C_SLT(a, b, S) (static_cast<S>(a) < static_cast<S>(b))
#define C_SLE(a, b, S) (static_cast<S>(a) <= static_cast<S>(b))

#define LDX(SZ, T, EXT)                                                                 \
  case BPF_LDX | BPF_MEM | SZ: {                                                        \
    const uint64_t addr = SRC + i->off;                                                 \
    MEM_CHECK(addr, sizeof(T), false);                                                  \
    DST = load<T>(addr);                                                                \
    break;                                                                              \
  }                                                                                     \
  case BPF_LDX | BPF_PROBE_MEM | SZ: {                                                  \
    /* a load through a kernel-object pointer (the verifier's PROBE_MEM rewrite): an    \
       address in the null page reads 0, as the kernel's exception table makes it */     \
    const uint64_t addr = SRC + i->off;                                                 \
    if (addr < probe_mem_floor ||                                                       \
        (checked && !s.rc.check_access(addr, sizeof(T), false, "probe", false)))        \
      DST = 0;                                                                          \
    else                                                                                \
      DST = load<T>(addr);                                                              \
    break;                                                                              \
  }                                                                                     \
  case BPF_LDX | BPF_MEMSX | SZ: {                                                      \
    if constexpr (sizeof(T) == 8) goto bad_opcode;                                      \
    const uint64_t addr = SRC + i->off;                                                 \
    MEM_CHECK(addr, sizeof(T), false);                                                  \
    DST = static_cast<uint64_t>(static_cast<int64_t>(static_cast<EXT>(load<T>(addr)))); \
    break;                                                                              \
  }                                                                                     \
  case BPF_ST | BPF_MEM | SZ: {                                                         \
    const uint64_t addr = DST + i->off;                                                 \
    MEM_CHECK(addr, sizeof(T), true);                                                   \
    store<T>(addr, static_cast<T>(IMM64));                                              \
    break;                                                                              \
  }                                                                                     \
  case BPF_STX | BPF_MEM | SZ: {                                                        \
    const uint64_t addr = DST + i->off;                                                 \
    MEM_CHECK(addr, sizeof(T), true);                                                   \
    store<T>(addr, static_cast<T>(SRC));                                                \
    break;                                                                              \
  }

  for (;;) {
    const insn* i = pc++;
    if constexpr (checked) {
      if (s.budget && --s.budget == 0) {
        s.rc.set_fault(fmt::format("insn {}: instruction limit reached", i - s.base));
        return 0;
      }
    }
    switch (i->code) {
      ALU(BPF_ADD, a + b, a + b)
      ALU(BPF_SUB, a - b, a - b)
      ALU(BPF_MUL, a * b, a * b)
      ALU(BPF_OR, a | b, a | b)
      ALU(BPF_AND, a & b, a & b)
      ALU(BPF_XOR, a ^ b, a ^ b)
      ALU(BPF_LSH, a << (b & 63), a << (b & 31))
      ALU(BPF_RSH, a >> (b & 63), a >> (b & 31))
      ALU(BPF_ARSH, static_cast<uint64_t>(static_cast<int64_t>(a) >> (b & 63)),
          static_cast<uint32_t>(static_cast<int32_t>(a) >> (b & 31)))
      ALU(BPF_DIV, i->off ? sdiv64(a, b) : (b ? a / b : 0), i->off ? sdiv32(a, b) : (b ? a / b : 0))
      ALU(BPF_MOD, i->off ? smod64(a, b) : (b ? a % b : a), i->off ? smod32(a, b) : (b ? a % b : a))

      case BPF_ALU64 | BPF_MOV | BPF_X:
        DST = i->off ? sext(SRC, i->off) : SRC;
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        DST = IMM64;
        break;
      case BPF_ALU | BPF_MOV | BPF_X:
        DST = static_cast<uint32_t>(i->off ? sext(SRC, i->off) : SRC);
        break;
      case BPF_ALU | BPF_MOV | BPF_K:
        DST = IMM32;
        break;
      case BPF_ALU64 | BPF_NEG:
        DST = 0 - DST;
        break;
      case BPF_ALU | BPF_NEG:
        DST = static_cast<uint32_t>(0 - static_cast<uint32_t>(DST));
        break;
      case BPF_ALU | BPF_END | BPF_TO_LE:  // host is little-endian: truncate only
        DST = i->imm == 16   ? static_cast<uint16_t>(DST)
              : i->imm == 32 ? static_cast<uint32_t>(DST)
                             : DST;
        break;
      case BPF_ALU | BPF_END | BPF_TO_BE:
      case BPF_ALU64 | BPF_END | BPF_K:  // bswap
        DST = i->imm == 16   ? __builtin_bswap16(static_cast<uint16_t>(DST))
              : i->imm == 32 ? __builtin_bswap32(static_cast<uint32_t>(DST))
                             : __builtin_bswap64(DST);
        break;

        LDX(BPF_B, uint8_t, int8_t)
        LDX(BPF_H, uint16_t, int16_t)
        LDX(BPF_W, uint32_t, int32_t)
        LDX(BPF_DW, uint64_t, int64_t)

      case BPF_STX | BPF_ATOMIC | BPF_W: {
        const uint64_t addr = DST + i->off;
        MEM_CHECK(addr, 4, true);
        uint32_t r0 = static_cast<uint32_t>(reg[0]);
        const uint32_t old = atomic_op<uint32_t>(addr, i->imm, static_cast<uint32_t>(SRC), r0);
        if (i->imm == BPF_CMPXCHG)
          reg[0] = old;
        else if (i->imm & BPF_FETCH)
          SRC = old;
        break;
      }
      case BPF_STX | BPF_ATOMIC | BPF_DW: {
        const uint64_t addr = DST + i->off;
        MEM_CHECK(addr, 8, true);
        uint64_t r0 = reg[0];
        const uint64_t old = atomic_op<uint64_t>(addr, i->imm, SRC, r0);
        if (i->imm == BPF_CMPXCHG)
          reg[0] = old;
        else if (i->imm & BPF_FETCH)
          SRC = old;
        break;
      }

      case BPF_LD | BPF_IMM | BPF_DW:
        DST = static_cast<uint32_t>(i->imm) |
              (static_cast<uint64_t>(static_cast<uint32_t>(pc->imm)) << 32);
        ++pc;
        break;

      case BPF_JMP | BPF_JA:
        pc += i->off;
        break;
      case BPF_JMP32 | BPF_JA:
        pc += i->imm;
        break;
        JMP(BPF_JEQ, C_EQ)
        JMP(BPF_JNE, C_NE)
        JMP(BPF_JGT, C_GT)
        JMP(BPF_JGE, C_GE)
        JMP(BPF_JLT, C_LT)
        JMP(BPF_JLE, C_LE)
        JMP(BPF_JSET, C_SET)
        JMP(BPF_JSGT, C_SGT)
        JMP(BPF_JSGE, C_SGE)
        JMP(BPF_JSLT, C_SLT)
        JMP(BPF_JSLE, C_SLE)

      case BPF_JMP | BPF_CALL:
        if (i->src_reg == BPF_PSEUDO_CALL) {
          if (depth + 1 >= max_call_frames) {
            s.rc.set_fault(fmt::format("insn {}: the call stack of {} frames is too deep",
                                       i - s.base, depth + 2));
            return 0;
          }
          frame& f = frames[depth - entry_depth];
          f.ret = pc;
          std::memcpy(f.callee_saved, &reg[BPF_REG_6], sizeof f.callee_saved);
          ++depth;
          reg[frame_pointer] = reinterpret_cast<uint64_t>(frame_top(s.stack, depth));
          pc = i + i->imm + 1;
          break;
        }
        s.depth = depth;
        if constexpr (checked) {
          s.rc.local[1] =
              mem_region{reinterpret_cast<uintptr_t>(frame_top(s.stack, depth) - stack_size),
                         static_cast<size_t>((depth + 1) * stack_size),
                         0,
                         0,
                         0,
                         true,
                         "stack"};
        }
        {
          const bpf_func fn = i->src_reg == 0 ? s.helpers[i->imm].fn : s.kfuncs->at(i->imm).fn;
          reg[0] = fn(reg[1], reg[2], reg[3], reg[4], reg[5]);
        }
        if (s.rc.faulted) {
          if (s.rc.fault.rfind("insn ", 0) != 0)
            s.rc.fault = fmt::format("insn {}: {}", i - s.base, s.rc.fault);
          return 0;
        }
        break;

      case BPF_JMP | BPF_EXIT:
        if (depth == entry_depth) return reg[0];
        --depth;
        {
          const frame& f = frames[depth - entry_depth];
          std::memcpy(&reg[BPF_REG_6], f.callee_saved, sizeof f.callee_saved);
          pc = f.ret;
        }
        reg[frame_pointer] = reinterpret_cast<uint64_t>(frame_top(s.stack, depth));
        break;

      default:
      bad_opcode:
        // Unreachable for decoded programs; kept so a corrupted program cannot run on.
        s.rc.set_fault(fmt::format("insn {}: unknown opcode {:02x}", i - s.base, i->code));
        return 0;
    }
  }
#undef DST
#undef SRC
#undef IMM64
#undef IMM32
#undef FAULT_IF
#undef MEM_CHECK
#undef ALU
#undef JMP
#undef LDX
}

// run_ctx::call_fn for this engine: fn is the address of a subprogram's first instruction.
uint64_t call_fn(run_ctx* rc, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                 uint64_t a5) {
  auto& s = *static_cast<interp_state*>(rc->engine);
  const auto& starts = s.prog->subprog_starts;
  const auto* target = reinterpret_cast<const insn*>(fn);
  const uint64_t idx = static_cast<uint64_t>(target - s.base);
  if (fn < reinterpret_cast<uint64_t>(s.base) ||
      (fn - reinterpret_cast<uint64_t>(s.base)) % sizeof(insn) != 0 ||
      !std::binary_search(starts.begin(), starts.end(), idx)) {
    rc->set_fault(fmt::format("callback 0x{:x} is not a subprogram of this program", fn));
    return 0;
  }
  if (s.depth + 1 >= max_call_frames) {
    rc->set_fault(fmt::format("the call stack of {} frames is too deep", s.depth + 2));
    return 0;
  }
  const int saved = s.depth;
  const uint64_t args[5] = {a1, a2, a3, a4, a5};
  const uint64_t r0 =
      s.checked ? exec<true>(s, target, args, saved + 1) : exec<false>(s, target, args, saved + 1);
  s.depth = saved;
  return r0;
}

}  // namespace

result<uint64_t> interpreter::run(const bpf_prog& prog, const run_args& args) const {
  alignas(16) uint8_t stack[stack_bytes];
  if (checked_) std::memset(stack, 0, sizeof stack);
  interp_state s;  // every field set below or by its initializer: no 300-byte zeroing per run
  s.prog = &prog;
  s.base = prog.xlated.data();
  s.helpers = prog.rt->helper_table();
  s.kfuncs = &prog.rt->kfuncs();
  s.stack = stack;
  s.checked = checked_;
  s.budget = checked_ && insn_limit_ ? insn_limit_ + 1 : 0;
  s.rc.rt = prog.rt;
  s.rc.prog = &prog;
  s.rc.checked = checked_;
  s.rc.call_fn = call_fn;
  s.rc.engine = &s;
  if (args.ctx.size) s.rc.local[0] = args.ctx;  // else the default, empty region
  static const std::string stack_name = "stack";
  s.rc.local[1].start = reinterpret_cast<uintptr_t>(stack);
  s.rc.local[1].size = sizeof stack;
  s.rc.local[1].name = stack_name;
  s.rc.n_local = 2;

  run_ctx_guard guard(&s.rc);
  const bool stats = prog.rt->stats_enabled;
  const auto t0 =
      stats ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  const uint64_t r0 =
      checked_ ? exec<true>(s, s.base, args.r, 0) : exec<false>(s, s.base, args.r, 0);
  if (stats) {
    ++prog.run_cnt;
    prog.run_time_ns +=
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count();
  }
  if (__builtin_expect(s.rc.faulted || (checked_ && s.rc.spin_locks_held), 0)) {
    if (!s.rc.faulted) s.rc.set_fault("bpf_spin_lock is still held at exit");
    return error{fmt::format("prog '{}': {}", prog.name, s.rc.fault)};
  }
  return r0;
}

run_args run_args::mem(void* mem, size_t len) {
  run_args a;
  a.r[0] = reinterpret_cast<uint64_t>(mem);
  a.r[1] = len;
  if (mem && len) a.ctx = mem_region{reinterpret_cast<uintptr_t>(mem), len, 0, 0, 0, true, "ctx"};
  return a;
}

result<uint64_t> interpreter::run_mem(const bpf_prog& prog, void* mem, size_t len) const {
  return run(prog, run_args::mem(mem, len));
}

}  // namespace mmbpf::bpf
