// The runtime around the ISA: program loading (ld_imm64 resolution, kfunc binding), the standard
// helpers with maps, callbacks (bpf_loop, bpf_for_each_map_elem), the ring buffer from a
// program, trace_printk, kfunc calls, stats, and the checked mode's faults in helpers. Every
// test runs on every engine (interpreter unchecked and checked, JIT) unless it is about
// checked-only behaviour.
#include "bpf/runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "bpf/core.h"
#include "bpf/engine.h"
#include "bpf/helpers.h"
#include "bpf/interpreter.h"

namespace mmbpf::bpf {
namespace {

using namespace ins;
using ::testing::HasSubstr;

struct engine_cfg {
  engine_kind kind;
  bool checked;
};

class Runtime : public ::testing::TestWithParam<engine_cfg> {
 protected:
  runtime rt;
  engine vm{GetParam().kind, GetParam().checked};

  int map(uint32_t type, uint32_t ks, uint32_t vs, uint32_t n, const char* name = "m") {
    auto fd = rt.create_map(
        {.map_type = type, .key_size = ks, .value_size = vs, .max_entries = n, .name = name});
    EXPECT_TRUE(fd) << fd.err().msg;
    return fd ? *fd : -1;
  }
  std::unique_ptr<bpf_prog> load(insn_buf b, prog_load_opts o = {}) {
    auto p = bpf_prog::load(rt, std::move(b).insns(), std::move(o));
    EXPECT_TRUE(p) << p.err().msg;
    return p ? std::move(p.value()) : nullptr;
  }
  uint64_t run(const bpf_prog& p, void* mem = nullptr, size_t len = 0) {
    auto r = vm.run_mem(p, mem, len);
    EXPECT_TRUE(r) << r.err().msg;
    return r ? *r : ~0ULL;
  }
};

INSTANTIATE_TEST_SUITE_P(Engines, Runtime,
                         ::testing::Values(engine_cfg{engine_kind::interp, false},
                                           engine_cfg{engine_kind::interp, true},
                                           engine_cfg{engine_kind::jit, false}),
                         [](const auto& i) {
                           return i.param.checked                       ? "Checked"
                                  : i.param.kind == engine_kind::jit ? "Jit"
                                                                       : "Interp";
                         });

// key = 3 on the stack at r10-4, r2 = &key, r1 = map.
void key_on_stack(insn_buf& b, int fd, int32_t key) {
  b << st(BPF_W, 10, -4, key) << mov64_reg(2, 10) << alu64_imm(BPF_ADD, 2, -4)
    << ld_imm64(1, fd, BPF_PSEUDO_MAP_FD);
}

TEST_P(Runtime, HashMapUpdateLookupDeleteFromProgram) {
  const int fd = map(BPF_MAP_TYPE_HASH, 4, 8, 4);
  insn_buf b;
  // value 0x1234 at r10-16; update(map, &key, &value, BPF_NOEXIST)
  b << st(BPF_DW, 10, -16, 0x1234);
  key_on_stack(b, fd, 3);
  b << mov64_reg(3, 10) << alu64_imm(BPF_ADD, 3, -16) << mov64_imm(4, BPF_NOEXIST)
    << call_helper(BPF_FUNC_map_update_elem) << mov64_reg(6, 0);  // r6 = 0
  // the same again: -EEXIST
  key_on_stack(b, fd, 3);
  b << mov64_reg(3, 10) << alu64_imm(BPF_ADD, 3, -16) << mov64_imm(4, BPF_NOEXIST)
    << call_helper(BPF_FUNC_map_update_elem) << mov64_reg(7, 0);  // r7 = -EEXIST
  // lookup, add 1 through the pointer
  key_on_stack(b, fd, 3);
  b << call_helper(BPF_FUNC_map_lookup_elem) << jmp_imm(BPF_JEQ, 0, 0, 3) << ldx(BPF_DW, 1, 0, 0)
    << alu64_imm(BPF_ADD, 1, 1) << stx(BPF_DW, 0, 1, 0);
  // r0 = r6 + r7 (0 + -EEXIST)
  b << mov64_reg(0, 6) << alu64_reg(BPF_ADD, 0, 7) << exit();
  auto p = load(std::move(b));
  ASSERT_TRUE(p);
  EXPECT_EQ(static_cast<int64_t>(run(*p)), -EEXIST);
  const uint32_t key = 3;
  uint64_t v = 0;
  ASSERT_EQ(rt.map(fd)->lookup_copy(&key, &v), 0);
  EXPECT_EQ(v, 0x1235u);

  insn_buf d;
  key_on_stack(d, fd, 3);
  d << call_helper(BPF_FUNC_map_delete_elem) << mov64_reg(6, 0);
  key_on_stack(d, fd, 3);
  d << call_helper(BPF_FUNC_map_delete_elem) << alu64_reg(BPF_ADD, 0, 6) << exit();
  auto pd = load(std::move(d));
  EXPECT_EQ(static_cast<int64_t>(run(*pd)), -ENOENT);
}

TEST_P(Runtime, LookupMissReturnsNull) {
  const int fd = map(BPF_MAP_TYPE_HASH, 4, 8, 4);
  insn_buf b;
  key_on_stack(b, fd, 9);
  b << call_helper(BPF_FUNC_map_lookup_elem) << exit();
  EXPECT_EQ(run(*load(std::move(b))), 0u);
}

TEST_P(Runtime, DirectMapValueAccess) {
  const int fd = map(BPF_MAP_TYPE_ARRAY, 4, 16, 1, "globals");
  insn_buf b;
  b << ld_imm64(1, static_cast<uint64_t>(fd) | (8ULL << 32), BPF_PSEUDO_MAP_VALUE)
    << st(BPF_DW, 1, 0, 77) << ldx(BPF_DW, 0, 1, 0) << exit();
  EXPECT_EQ(run(*load(std::move(b))), 77u);
  const uint32_t key = 0;
  uint8_t v[16];
  ASSERT_EQ(rt.map(fd)->lookup_copy(&key, v), 0);
  uint64_t at8;
  std::memcpy(&at8, v + 8, 8);
  EXPECT_EQ(at8, 77u);
}

TEST_P(Runtime, MapByIndexThroughFdArray) {
  map(BPF_MAP_TYPE_ARRAY, 4, 8, 1, "unused");
  const int fd = map(BPF_MAP_TYPE_ARRAY, 4, 8, 1, "used");
  insn_buf b;
  b << ld_imm64(1, 0, BPF_PSEUDO_MAP_IDX_VALUE) << st(BPF_DW, 1, 0, 5) << mov64_imm(0, 1) << exit();
  auto p = load(std::move(b), {.name = "idx", .fd_array = {fd}});
  EXPECT_EQ(run(*p), 1u);
  const uint32_t key = 0;
  uint64_t v = 0;
  rt.map(fd)->lookup_copy(&key, &v);
  EXPECT_EQ(v, 5u);
}

TEST_P(Runtime, KsymVariable) {
  static uint64_t jiffies = 4242;
  auto id = rt.kfuncs().add_var({.name = "jiffies", .addr = &jiffies, .size = 8});
  ASSERT_TRUE(id);
  ASSERT_TRUE(rt.regions().add({.start = reinterpret_cast<uintptr_t>(&jiffies),
                                .size = 8,
                                .writable = false,
                                .name = "jiffies"}));
  insn_buf b;
  b << ld_imm64(1, *id, BPF_PSEUDO_BTF_ID) << ldx(BPF_DW, 0, 1, 0) << exit();
  EXPECT_EQ(run(*load(std::move(b))), 4242u);
}

uint64_t kf_add3(uint64_t a, uint64_t b, uint64_t c, uint64_t, uint64_t) {
  return a + b + c;
}

TEST_P(Runtime, KfuncCallById) {
  auto id = rt.kfuncs().add({.name = "bpf_test_add3", .fn = kf_add3});
  ASSERT_TRUE(id);
  EXPECT_EQ(rt.kfuncs().by_name("bpf_test_add3")->btf_id, *id);
  insn_buf b;
  b << mov64_imm(1, 1) << mov64_imm(2, 20) << mov64_imm(3, 300)
    << call_kfunc(static_cast<int32_t>(*id)) << exit();
  EXPECT_EQ(run(*load(std::move(b))), 321u);
}

TEST_P(Runtime, BpfLoopCallsBackAndStopsOnOne) {
  // callback(i, ctx): *ctx += i; return i == 5
  insn_buf b;
  b << st(BPF_DW, 10, -8, 0)                                 // 0: sum = 0
    << mov64_imm(1, 10)                                      // 1: nr_loops
    << ld_imm64(2, 9, BPF_PSEUDO_FUNC)                       // 2: callback at insn 12
    << mov64_reg(3, 10) << alu64_imm(BPF_ADD, 3, -8)         // 4,5: ctx = &sum
    << mov64_imm(4, 0)                                       // 6: flags
    << call_helper(BPF_FUNC_loop)                            // 7: r0 = iterations
    << ldx(BPF_DW, 1, 10, -8)                                // 8
    << alu64_imm(BPF_LSH, 0, 32) << alu64_reg(BPF_OR, 0, 1)  // 9,10: r0 = iters << 32 | sum
    << exit()                                                // 11
    << ldx(BPF_DW, 3, 2, 0) << alu64_reg(BPF_ADD, 3, 1) << stx(BPF_DW, 2, 3, 0)    // 12-14
    << mov64_imm(0, 0) << jmp_imm(BPF_JNE, 1, 5, 1) << mov64_imm(0, 1) << exit();  // 15-18
  auto p = load(std::move(b));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subprog_starts, (std::vector<uint32_t>{0, 12}));
  EXPECT_EQ(run(*p), (6ULL << 32) | 15);  // i = 0..5 visited, sum 15
}

TEST_P(Runtime, BpfLoopRejectsFlagsAndTooManyLoops) {
  insn_buf b;
  b << mov64_imm(1, 1) << ld_imm64(2, 5, BPF_PSEUDO_FUNC) << mov64_imm(3, 0) << mov64_imm(4, 1)
    << call_helper(BPF_FUNC_loop) << exit()  // 0..6
    << mov64_imm(0, 0) << exit();            // 7,8
  EXPECT_EQ(static_cast<int64_t>(run(*load(std::move(b)))), -EINVAL);
  insn_buf c;
  c << ld_imm64(1, (1u << 23) + 1) << ld_imm64(2, 5, BPF_PSEUDO_FUNC) << mov64_imm(3, 0)
    << mov64_imm(4, 0) << call_helper(BPF_FUNC_loop) << exit()  // 0..7
    << mov64_imm(0, 0) << exit();
  EXPECT_EQ(static_cast<int64_t>(run(*load(std::move(c)))), -E2BIG);
}

TEST_P(Runtime, ForEachMapElemVisitsArrayInIndexOrder) {
  const int fd = map(BPF_MAP_TYPE_ARRAY, 4, 8, 4);
  for (uint32_t k = 0; k < 4; ++k) {
    uint64_t v = 10 * (k + 1);
    ASSERT_EQ(rt.map(fd)->update_elem(&k, &v, BPF_ANY), 0);
  }
  // callback(map, key, value, ctx): *ctx = *ctx * 100 + *value; stop after key 2.
  insn_buf b;
  b << st(BPF_DW, 10, -8, 0)                                                           // 0
    << ld_imm64(1, fd, BPF_PSEUDO_MAP_FD)                                              // 1,2
    << ld_imm64(2, 9, BPF_PSEUDO_FUNC)                                                 // 3,4 -> 13
    << mov64_reg(3, 10) << alu64_imm(BPF_ADD, 3, -8)                                   // 5,6
    << mov64_imm(4, 0) << call_helper(BPF_FUNC_for_each_map_elem)                      // 7,8
    << ldx(BPF_DW, 1, 10, -8) << alu64_imm(BPF_LSH, 0, 32) << alu64_reg(BPF_OR, 0, 1)  // 9-11
    << exit()                                                                          // 12
    << ldx(BPF_DW, 5, 4, 0) << alu64_imm(BPF_MUL, 5, 100)                              // 13,14
    << ldx(BPF_DW, 6, 3, 0) << alu64_reg(BPF_ADD, 5, 6) << stx(BPF_DW, 4, 5, 0)        // 15-17
    << ldx(BPF_W, 6, 2, 0) << mov64_imm(0, 0) << jmp_imm(BPF_JNE, 6, 2, 1)             // 18-20
    << mov64_imm(0, 1) << exit();                                                      // 21,22
  EXPECT_EQ(run(*load(std::move(b))), (3ULL << 32) | 102030);
}

TEST_P(Runtime, RingbufReserveSubmitOutputConsumed) {
  const int fd = map(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, "events");
  insn_buf b;
  b << ld_imm64(1, fd, BPF_PSEUDO_MAP_FD) << mov64_imm(2, 8) << mov64_imm(3, 0)
    << call_helper(BPF_FUNC_ringbuf_reserve) << jmp_imm(BPF_JEQ, 0, 0, 5) << st(BPF_DW, 0, 0, 0xabc)
    << mov64_reg(1, 0) << mov64_imm(2, 0) << call_helper(BPF_FUNC_ringbuf_submit)
    << mov64_imm(0, 0)
    // output 4 bytes from the stack
    << st(BPF_W, 10, -4, 0x55) << ld_imm64(1, fd, BPF_PSEUDO_MAP_FD) << mov64_reg(2, 10)
    << alu64_imm(BPF_ADD, 2, -4) << mov64_imm(3, 4) << mov64_imm(4, 0)
    << call_helper(BPF_FUNC_ringbuf_output) << exit();
  EXPECT_EQ(run(*load(std::move(b))), 0u);
  auto* rb = static_cast<ringbuf_map*>(rt.map(fd));
  std::vector<std::vector<uint8_t>> got;
  auto n = rb->consume(
      [](void* ctx, const void* d, size_t sz) {
        auto* g = static_cast<std::vector<std::vector<uint8_t>>*>(ctx);
        g->emplace_back(static_cast<const uint8_t*>(d), static_cast<const uint8_t*>(d) + sz);
        return 0;
      },
      &got);
  EXPECT_EQ(n, 2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(got[0].size(), 8u);
  uint64_t v;
  std::memcpy(&v, got[0].data(), 8);
  EXPECT_EQ(v, 0xabcu);
  EXPECT_EQ(got[1], (std::vector<uint8_t>{0x55, 0, 0, 0}));
}

TEST_P(Runtime, TracePrintkFormatsIntoTheLog) {
  insn_buf b;
  // "v=%d %llx %s\n" is 14 bytes with the NUL; the %s argument is "ok".
  const char fmt[] = "v=%d %llx %s\n";
  static_assert(sizeof fmt == 14);
  uint8_t mem[32] = {};
  std::memcpy(mem, fmt, sizeof fmt);
  std::memcpy(mem + 16, "ok", 3);
  b << mov64_reg(6, 1) << mov64_imm(2, sizeof fmt) << mov64_imm(3, -7)
    << ld_imm64(4, 0xdeadbeef12ULL) << mov64_reg(5, 6) << alu64_imm(BPF_ADD, 5, 16)
    << call_helper(BPF_FUNC_trace_printk) << exit();
  EXPECT_EQ(run(*load(std::move(b)), mem, sizeof mem), 19u);
  EXPECT_EQ(rt.trace_log(), "v=-7 deadbeef12 ok\n");
}

TEST(Bprintf, RejectsWhatTheKernelRejects) {
  const uint64_t a[3] = {1, 2, 3};
  std::string out;
  auto no_str = [](uint64_t, std::string&) { return false; };
  EXPECT_FALSE(bprintf_format("%d %d %d %d", 11, a, out, no_str));  // four conversions
  EXPECT_FALSE(bprintf_format("%f", 2, a, out, no_str));
  EXPECT_FALSE(bprintf_format("%", 1, a, out, no_str));
  out.clear();
  EXPECT_TRUE(bprintf_format("%05u|%-3x|%%|%c", 15, a, out, no_str));
  EXPECT_EQ(out, "00001|2  |%|\x03");
}

TEST_P(Runtime, ClockPidAndRandomComeFromTheHost) {
  rt.ktime_get_ns = [] { return uint64_t{1000}; };
  rt.get_current_pid_tgid = [] { return (uint64_t{7} << 32) | 9; };
  insn_buf b;
  b << call_helper(BPF_FUNC_ktime_get_ns) << mov64_reg(6, 0)
    << call_helper(BPF_FUNC_get_current_pid_tgid) << alu64_reg(BPF_ADD, 0, 6) << exit();
  EXPECT_EQ(run(*load(std::move(b))), (uint64_t{7} << 32) + 1009);

  insn_buf r;
  r << call_helper(BPF_FUNC_get_prandom_u32) << exit();
  auto p = load(std::move(r));
  rt.seed_prandom(42);
  const uint64_t a = run(*p), a2 = run(*p);
  rt.seed_prandom(42);
  EXPECT_EQ(run(*p), a);
  EXPECT_EQ(run(*p), a2);
  EXPECT_NE(a, a2);
}

TEST_P(Runtime, ProbeReadKernelFaultsSoftly) {
  insn_buf b;
  // probe_read_kernel(r10-8, 8, 0x10) -> -EFAULT and the destination zeroed
  b << st(BPF_DW, 10, -8, -1) << mov64_reg(1, 10) << alu64_imm(BPF_ADD, 1, -8) << mov64_imm(2, 8)
    << mov64_imm(3, 0x10) << call_helper(BPF_FUNC_probe_read_kernel) << ldx(BPF_DW, 1, 10, -8)
    << alu64_reg(BPF_ADD, 0, 1) << exit();
  EXPECT_EQ(static_cast<int64_t>(run(*load(std::move(b)))), -EFAULT);
  // and from a known region it copies
  uint64_t src = 0x1122334455667788ULL;
  insn_buf c;
  c << mov64_reg(3, 1) << mov64_reg(1, 10) << alu64_imm(BPF_ADD, 1, -8) << mov64_imm(2, 8)
    << call_helper(BPF_FUNC_probe_read_kernel) << ldx(BPF_DW, 0, 10, -8) << exit();
  EXPECT_EQ(run(*load(std::move(c)), &src, sizeof src), src);
}

TEST_P(Runtime, StatsCountRunsWhenEnabled) {
  insn_buf b;
  b << mov64_imm(0, 0) << exit();
  auto p = load(std::move(b));
  run(*p);
  EXPECT_EQ(p->run_cnt, 0u);
  rt.stats_enabled = true;
  run(*p);
  run(*p);
  EXPECT_EQ(p->run_cnt, 2u);
}

TEST_P(Runtime, CallbackFramesCountTowardTheCallDepthLimit) {
  // Eight nested frames, the last of which passes a callback to bpf_loop: the callback would run
  // as a ninth frame, so the load is refused.
  insn_buf b;
  for (int f = 0; f < 7; ++f) b << call_local(1) << exit();  // frames 1..7 at insns 0..13
  // frame 8 (insn 14): bpf_loop(1, cb) -> the callback would be frame 9
  b << mov64_imm(1, 1) << ld_imm64(2, 5, BPF_PSEUDO_FUNC) << mov64_imm(3, 0) << mov64_imm(4, 0)
    << call_helper(BPF_FUNC_loop) << exit()  // 14..20
    << mov64_imm(0, 0) << exit();            // 21,22
  auto p = bpf_prog::load(rt, std::move(b).insns());
  ASSERT_FALSE(p);  // statically nine frames
  EXPECT_THAT(p.err().msg, HasSubstr("the call stack of 9 frames is too deep"));
}

TEST_P(Runtime, CorePoisonedInstructionLoadsAndFaultsOnlyIfReached) {
  // if r1 == 0 (no memory) the poisoned call is skipped.
  const insn poison = call_helper(core_poison_imm);
  insn_buf b;
  b << mov64_imm(0, 7) << jmp_imm(BPF_JEQ, 1, 0, 1) << poison << exit();
  auto p = load(std::move(b));
  ASSERT_TRUE(p);
  EXPECT_EQ(run(*p), 7u);
  uint8_t mem[8] = {};
  auto r = vm.run_mem(*p, mem, sizeof mem);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("insn 2: reached an instruction poisoned by a failed CO-RE "
                                     "relocation"));
}

// ---- load-time resolution errors ----

TEST(ProgLoad, ResolutionErrorsNameTheInstruction) {
  runtime rt;
  auto hash = rt.create_map({.map_type = BPF_MAP_TYPE_HASH,
                             .key_size = 4,
                             .value_size = 8,
                             .max_entries = 1,
                             .name = "h"});
  auto arr = rt.create_map({.map_type = BPF_MAP_TYPE_ARRAY,
                            .key_size = 4,
                            .value_size = 8,
                            .max_entries = 1,
                            .name = "a"});
  ASSERT_TRUE(hash && arr);
  auto err = [&](ins::wide w, prog_load_opts o = {}) {
    insn_buf b;
    b << mov64_imm(0, 0) << w << exit();
    auto p = bpf_prog::load(rt, std::move(b).insns(), std::move(o));
    return p ? std::string("loaded") : p.err().msg;
  };
  EXPECT_EQ(err(ld_imm64(1, 99, BPF_PSEUDO_MAP_FD)),
            "prog 'prog': insn 1: fd 99 is not pointing to valid bpf_map");
  EXPECT_EQ(err(ld_imm64(1, 2, BPF_PSEUDO_MAP_IDX), {.name = "x", .fd_array = {*arr}}),
            "prog 'x': insn 1: map index 2 is outside fd_array of 1");
  EXPECT_EQ(err(ld_imm64(1, *hash, BPF_PSEUDO_MAP_VALUE)),
            "prog 'prog': insn 1: map 'h' does not support direct value access");
  EXPECT_EQ(err(ld_imm64(1, *arr | (8ULL << 32), BPF_PSEUDO_MAP_VALUE)),
            "prog 'prog': insn 1: invalid access to map value pointer, value_size=8 off=8");
  EXPECT_EQ(err(ld_imm64(1, 5, BPF_PSEUDO_BTF_ID)),
            "prog 'prog': insn 1: btf_id 5 is not a registered kernel variable");
  EXPECT_EQ(err(ld_imm64(1, *arr, BPF_PSEUDO_MAP_FD)), "loaded");
}

TEST(MapMemory, CreationBeyondTheLimitIsRefused) {
  runtime rt;
  rt.map_memory_limit = 1 << 20;
  auto a = rt.create_map({.map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8,
                          .max_entries = 1000, .name = "small"});
  ASSERT_TRUE(a) << a.err().msg;
  EXPECT_GE(rt.map_memory_used(), 8000u);
  auto b = rt.create_map({.map_type = BPF_MAP_TYPE_HASH, .key_size = 8, .value_size = 64,
                          .max_entries = 1 << 20, .name = "huge"});
  ASSERT_FALSE(b);
  EXPECT_THAT(b.err().msg, HasSubstr("map 'huge': needs up to"));
  EXPECT_THAT(b.err().msg, HasSubstr("of the runtime's map memory limit of 1048576 are in use "
                                     "(-ENOMEM)"));
}

TEST(KfuncRegistry, NamesAndIdsAreUnique) {
  kfunc_registry r;
  auto a = r.add({.name = "a", .fn = kf_add3});
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, kfunc_registry::first_id);
  EXPECT_FALSE(r.add({.name = "a", .fn = kf_add3}));
  EXPECT_FALSE(r.add({.name = "b", .fn = kf_add3, .btf_id = *a}));
  EXPECT_FALSE(r.add({.name = "c"}));
  EXPECT_EQ(r.index_of(*a), 0);
  EXPECT_EQ(r.index_of(1), -1);
}

// ---- checked mode: helpers validate their pointers ----

TEST(CheckedHelpers, MapKeyOutsideMemoryFaults) {
  runtime rt;
  auto fd = rt.create_map({.map_type = BPF_MAP_TYPE_HASH,
                           .key_size = 4,
                           .value_size = 8,
                           .max_entries = 1,
                           .name = "h"});
  ASSERT_TRUE(fd);
  insn_buf b;
  b << ld_imm64(1, *fd, BPF_PSEUDO_MAP_FD) << mov64_imm(2, 64)
    << call_helper(BPF_FUNC_map_lookup_elem) << exit();
  auto p = bpf_prog::load(rt, std::move(b).insns());
  ASSERT_TRUE(p);
  auto r = interpreter(true).run_mem(**p, nullptr, 0);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("insn 3: bpf_map_lookup_elem key: invalid read of 4 bytes "
                                     "at 0x40 outside every region"));
}

TEST(CheckedHelpers, ForgedMapPointerFaults) {
  runtime rt;
  insn_buf b;
  b << mov64_reg(1, 10) << mov64_reg(2, 10) << alu64_imm(BPF_ADD, 2, -8)
    << call_helper(BPF_FUNC_map_lookup_elem) << exit();
  auto p = bpf_prog::load(rt, std::move(b).insns());
  auto r = interpreter(true).run_mem(**p, nullptr, 0);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("bpf_map_lookup_elem: R1 is not a map pointer"));
}

TEST(CheckedHelpers, ForgedCallbackFaults) {
  runtime rt;
  insn_buf b;
  b << mov64_imm(1, 1) << mov64_reg(2, 10) << mov64_imm(3, 0) << mov64_imm(4, 0)
    << call_helper(BPF_FUNC_loop) << exit();
  auto p = bpf_prog::load(rt, std::move(b).insns());
  for (const engine& vm : {engine(engine_kind::interp, false), engine(engine_kind::interp, true),
                           engine(engine_kind::jit, false)}) {
    auto r = vm.run_mem(**p, nullptr, 0);
    ASSERT_FALSE(r);
    EXPECT_THAT(r.err().msg, HasSubstr("is not a subprogram of this program"));
  }
}

TEST(CheckedHelpers, SpinLockMisuse) {
  runtime rt;
  auto fd = rt.create_map({.map_type = BPF_MAP_TYPE_ARRAY,
                           .key_size = 4,
                           .value_size = 8,
                           .max_entries = 1,
                           .name = "locks"});
  auto prog = [&](int locks, int unlocks) {
    insn_buf b;
    b << ld_imm64(6, *fd, BPF_PSEUDO_MAP_VALUE);
    for (int i = 0; i < locks; ++i) b << mov64_reg(1, 6) << call_helper(BPF_FUNC_spin_lock);
    for (int i = 0; i < unlocks; ++i) b << mov64_reg(1, 6) << call_helper(BPF_FUNC_spin_unlock);
    b << mov64_imm(0, 0) << exit();
    return std::move(bpf_prog::load(rt, std::move(b).insns()).value());
  };
  const interpreter checked(true);
  EXPECT_TRUE(checked.run_mem(*prog(1, 1), nullptr, 0));
  auto r = checked.run_mem(*prog(2, 2), nullptr, 0);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("insn 5: bpf_spin_lock: a lock is already held"));
  r = checked.run_mem(*prog(0, 1), nullptr, 0);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("bpf_spin_unlock: the lock is not held"));
  r = checked.run_mem(*prog(1, 0), nullptr, 0);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("bpf_spin_lock is still held at exit"));
}

TEST(CheckedHelpers, DoubleRingbufSubmitFaults) {
  runtime rt;
  auto fd = rt.create_map({.map_type = BPF_MAP_TYPE_RINGBUF, .max_entries = 4096, .name = "rb"});
  ASSERT_TRUE(fd);
  insn_buf b;
  b << ld_map_fd(1, *fd) << mov64_imm(2, 8) << mov64_imm(3, 0)
    << call_helper(BPF_FUNC_ringbuf_reserve) << mov64_reg(6, 0) << mov64_reg(1, 6)
    << mov64_imm(2, 0) << call_helper(BPF_FUNC_ringbuf_submit) << mov64_reg(1, 6)
    << mov64_imm(2, 0) << call_helper(BPF_FUNC_ringbuf_discard) << mov64_imm(0, 0) << exit();
  auto p = bpf_prog::load(rt, std::move(b).insns());
  ASSERT_TRUE(p);
  EXPECT_TRUE(interpreter(false).run_mem(**p, nullptr, 0));  // the verifier's job there
  EXPECT_TRUE(engine(engine_kind::jit).run_mem(**p, nullptr, 0));
  auto r = interpreter(true).run_mem(**p, nullptr, 0);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("insn 11: bpf_ringbuf_discard: 0x"));
  EXPECT_THAT(r.err().msg, HasSubstr("is not a reserved ringbuf sample"));
}

TEST(CheckedHelpers, DeadCalleeStackFrameIsNotAddressable) {
  // The callee returns its r10; the caller then reads through it: the frame is gone.
  runtime rt;
  insn_buf b;
  b << call_local(2) << ldx(BPF_DW, 0, 0, -8) << exit() << mov64_reg(0, 10) << exit();
  auto p = bpf_prog::load(rt, std::move(b).insns());
  auto r = interpreter(true).run_mem(**p, nullptr, 0);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("insn 1: invalid read of 8 bytes at stack offset -520"));
}

TEST(CheckedHelpers, WriteToReadOnlyRegionFaults) {
  runtime rt;
  static uint64_t ro = 1;
  ASSERT_TRUE(rt.regions().add(
      {.start = reinterpret_cast<uintptr_t>(&ro), .size = 8, .writable = false, .name = "const"}));
  insn_buf b;
  b << ld_imm64(1, reinterpret_cast<uint64_t>(&ro)) << st(BPF_DW, 1, 0, 2) << mov64_imm(0, 0)
    << exit();
  auto p = bpf_prog::load(rt, std::move(b).insns());
  auto r = interpreter(true).run_mem(**p, nullptr, 0);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.err().msg, HasSubstr("insn 2: invalid write of 8 bytes at"));
  EXPECT_THAT(r.err().msg, HasSubstr("to read-only const"));
  EXPECT_EQ(ro, 1u);
}

}  // namespace
}  // namespace mmbpf::bpf
