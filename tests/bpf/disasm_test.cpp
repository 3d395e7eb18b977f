// The disassembler and assembler: every valid RFC 9669 encoding round-trips through text
// (disassemble, assemble, compare bytes), the kernel's print_bpf_insn forms are printed exactly,
// malformed encodings print as "invalid", labels resolve, and each assembler error has its own
// message. Also the helper id table generated from <linux/bpf.h>.
#include "bpf/disasm.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bpf/assembler.h"
#include "bpf/helper_ids.h"

namespace mmbpf::bpf {
namespace {

using namespace ins;

bool same(const std::vector<insn>& a, const std::vector<insn>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(insn)) == 0;
}

std::string hex(const std::vector<insn>& v) {
  std::string s;
  for (const insn& i : v)
    s += fmt::format("[{:02x} d{} s{} off {} imm {}] ", i.code, i.dst_reg, i.src_reg, i.off, i.imm);
  return s;
}

std::vector<insn> wide_vec(const wide& w) {
  return {w.lo, w.hi};
}

// The text of the one instruction in `p` (two slots for ld_imm64).
std::string dis(const std::vector<insn>& p, const disasm_opts& o = {}) {
  return disasm_insn(p.data(), p.size(), 0, o);
}
std::string dis(const insn& i, const disasm_opts& o = {}) {
  return dis(std::vector<insn>{i}, o);
}

// Assembles `src`, failing the test on error.
std::vector<insn> as(std::string_view src, const asm_opts& o = {}) {
  auto r = assemble(src, o);
  EXPECT_TRUE(r) << r.err().msg;
  return r ? *r : std::vector<insn>{};
}

// The assembler's error for `src`, or "accepted".
std::string asm_error(std::string_view src, const asm_opts& o = {}) {
  auto r = assemble(src, o);
  return r ? std::string("accepted") : r.err().msg;
}

// kfunc names for both directions.
constexpr int32_t task_acquire_id = 77;
disasm_opts kfunc_dopts() {
  disasm_opts o;
  o.kfunc_name = [](int32_t id) -> const char* {
    return id == task_acquire_id ? "bpf_task_acquire" : nullptr;
  };
  return o;
}
asm_opts kfunc_aopts() {
  asm_opts o;
  o.kfunc_id = [](std::string_view n) { return n == "bpf_task_acquire" ? task_acquire_id : -1; };
  return o;
}

// ---- helper ids ----

TEST(HelperIds, FromUapiHeader) {
  EXPECT_EQ(kernel_helper_count, __BPF_FUNC_MAX_ID);
  EXPECT_STREQ(kernel_helper_name(BPF_FUNC_map_lookup_elem), "bpf_map_lookup_elem");
  EXPECT_STREQ(kernel_helper_name(BPF_FUNC_ktime_get_ns), "bpf_ktime_get_ns");
  EXPECT_STREQ(kernel_helper_name(BPF_FUNC_loop), "bpf_loop");
  EXPECT_STREQ(kernel_helper_name(0), "bpf_unspec");
  EXPECT_EQ(kernel_helper_name(-1), nullptr);
  EXPECT_EQ(kernel_helper_name(__BPF_FUNC_MAX_ID), nullptr);
  EXPECT_EQ(kernel_helper_id("bpf_map_lookup_elem"), BPF_FUNC_map_lookup_elem);
  EXPECT_EQ(kernel_helper_id("bpf_ringbuf_output"), BPF_FUNC_ringbuf_output);
  EXPECT_EQ(kernel_helper_id("map_lookup_elem"), -1);
  EXPECT_EQ(kernel_helper_id(""), -1);
  EXPECT_EQ(kernel_helper_id("bpf_no_such_helper"), -1);
  for (int id = 0; id < kernel_helper_count; ++id)
    EXPECT_EQ(kernel_helper_id(kernel_helper_name(id)), id) << id;
}

// ---- round trip over every valid encoding ----

// One program per form: a single instruction, or the two slots of an ld_imm64.
std::vector<std::vector<insn>> valid_forms() {
  std::vector<std::vector<insn>> v;
  auto one = [&](insn i) { v.push_back({i}); };
  const int32_t imms[] = {0, 1, -1, 5, -8, INT32_MAX, INT32_MIN};
  const int16_t offs[] = {0, 4, -8, 1, -1, INT16_MAX, INT16_MIN};

  // ALU and ALU64: every op with K and X.
  const uint8_t arith[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,  BPF_AND,
                           BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH};
  for (uint8_t c : {BPF_ALU, BPF_ALU64}) {
    for (uint8_t o : arith) {
      for (int32_t imm : imms) one(make(c | o | BPF_K, 3, 0, 0, imm));
      one(make(c | o | BPF_X, 3, 4, 0, 0));
    }
    // Signed division and modulo (offset 1).
    for (uint8_t o : {BPF_DIV, BPF_MOD}) {
      one(make(c | o | BPF_K, 1, 0, 1, -7));
      one(make(c | o | BPF_K, 1, 0, 1, 3));
      one(make(c | o | BPF_X, 1, 2, 1, 0));
    }
    one(make(c | BPF_NEG | BPF_K, 6, 0, 0, 0));
  }
  for (int bits : {8, 16, 32}) one(movsx64(1, 2, bits));
  for (int bits : {8, 16}) one(movsx32(1, 2, bits));
  one(sdiv64_imm(1, 3));
  one(smod64_imm(1, -3));
  one(sdiv64_reg(1, 2));
  one(smod64_reg(1, 2));
  one(sdiv32_reg(1, 2));
  one(smod32_reg(1, 2));
  for (int bits : {16, 32, 64}) {
    one(to_le(1, bits));
    one(to_be(2, bits));
    one(bswap(3, bits));
  }
  // Every register in every position.
  for (uint8_t d = 0; d < max_reg; ++d)
    for (uint8_t s = 0; s < max_reg; ++s) {
      one(mov64_reg(d, s));
      one(alu32_reg(BPF_ADD, d, s));
      one(ldx(BPF_DW, d, s, -8));
      one(stx(BPF_W, d, s, 4));
      one(jmp32_reg(BPF_JNE, d, s, 2));
    }

  // Loads and stores.
  for (uint8_t sz : {BPF_B, BPF_H, BPF_W, BPF_DW}) {
    for (int16_t off : offs) {
      one(ldx(sz, 1, 10, off));
      one(stx(sz, 10, 1, off));
      one(st(sz, 10, off, 5));
    }
    for (int32_t imm : imms) one(st(sz, 1, 0, imm));
    if (sz != BPF_DW)
      for (int16_t off : offs) one(ldsx(sz, 1, 2, off));
  }

  // Atomics.
  for (uint8_t sz : {BPF_W, BPF_DW})
    for (int32_t aop : {BPF_ADD, BPF_OR, BPF_AND, BPF_XOR})
      for (int32_t fetch : {0, BPF_FETCH})
        for (int16_t off : {0, -16, 8}) one(atomic(sz, aop | fetch, 1, 2, off));
  for (uint8_t sz : {BPF_W, BPF_DW})
    for (int16_t off : {0, 24}) {
      one(atomic(sz, BPF_XCHG, 1, 3, off));
      one(atomic(sz, BPF_CMPXCHG, 1, 3, off));
    }

  // Jumps: every condition, K and X, 64- and 32-bit.
  const uint8_t conds[] = {BPF_JEQ,  BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
                           BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE};
  for (uint8_t o : conds) {
    for (int32_t imm : imms) {
      one(jmp_imm(o, 1, imm, 3));
      one(jmp32_imm(o, 1, imm, -4));
    }
    for (int16_t off : offs) {
      one(jmp_reg(o, 1, 2, off));
      one(jmp32_reg(o, 1, 2, off));
    }
  }
  for (int16_t off : offs) one(ja(off));
  for (int32_t imm : {0, 70000, -70000, INT32_MAX, INT32_MIN}) one(gotol(imm));
  for (int32_t id : {1, 5, 0, int32_t{BPF_FUNC_loop}, 9999, -1}) one(call_helper(id));
  for (int32_t rel : {3, -5, 0}) one(call_local(rel));
  for (int32_t id : {task_acquire_id, 12345}) one(call_kfunc(id));
  one(exit());

  // ld_imm64 with every source.
  for (uint64_t k : {uint64_t{0}, uint64_t{1}, uint64_t{0x1234}, ~uint64_t{0},
                     uint64_t{0x8000000000000000}, uint64_t{0xffffffff}, uint64_t{0x100000000}})
    v.push_back(wide_vec(ld_imm64(1, k)));
  for (uint8_t src : {BPF_PSEUDO_MAP_FD, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_MAP_IDX})
    for (uint32_t imm : {0u, 3u, 77u, 0xffffffffu}) v.push_back(wide_vec(ld_imm64(2, imm, src)));
  for (int32_t rel : {5, -3, 0}) v.push_back(wide_vec(ld_imm64(3, uint32_t(rel), BPF_PSEUDO_FUNC)));
  for (uint8_t src : {BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_MAP_IDX_VALUE})
    for (uint64_t off : {uint64_t{0}, uint64_t{16}, uint64_t{0xffffffff}})
      v.push_back(wide_vec(ld_imm64(4, off << 32 | 3, src)));
  return v;
}

TEST(DisasmRoundTrip, EveryValidEncoding) {
  const auto dopts = kfunc_dopts();
  const auto aopts = kfunc_aopts();
  const auto forms = valid_forms();
  ASSERT_GT(forms.size(), 700u);
  for (const auto& p : forms) {
    const std::string text = dis(p, dopts);
    ASSERT_EQ(text.find("invalid"), std::string::npos) << hex(p);
    ASSERT_EQ(text.substr(0, 5), fmt::format("({:02x}) ", p[0].code));
    // With the opcode annotation and without it.
    for (const std::string& src : {text, text.substr(5)}) {
      auto r = assemble(src, aopts);
      ASSERT_TRUE(r) << src << ": " << r.err().msg;
      EXPECT_TRUE(same(*r, p)) << src << "\n  want " << hex(p) << "\n  got  " << hex(*r);
    }
  }
}

TEST(DisasmRoundTrip, WholeProgramWithIndices) {
  std::vector<insn> prog;
  for (const auto& p : valid_forms()) prog.insert(prog.end(), p.begin(), p.end());
  const std::string text = disasm(prog, kfunc_dopts());
  auto r = assemble(text, kfunc_aopts());
  ASSERT_TRUE(r) << r.err().msg;
  EXPECT_TRUE(same(*r, prog));
}

// Random encodings: the disassembler never crashes, and whatever it does not call invalid
// re-assembles to the same bytes.
TEST(DisasmRoundTrip, RandomEncodings) {
  std::mt19937 rng(12345);
  std::vector<uint8_t> codes;  // half the time, an opcode some valid form uses
  for (const auto& p : valid_forms()) codes.push_back(p[0].code);
  const int16_t offs[] = {0, 0, 0, 1, 8, 16, 32, -1, 7, INT16_MIN};
  const int32_t imms[] = {0, 0, 0, 1, 16, 32, 64, -1, 0xe1, 0xf1, 0x41, 0x51, 0xa1, 0x11, 7};
  size_t valid = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    std::vector<insn> p(2);
    const uint8_t code = rng() % 2 ? codes[rng() % codes.size()] : static_cast<uint8_t>(rng());
    p[0] = make(code, rng() % 12, rng() % 12, offs[rng() % std::size(offs)],
                imms[rng() % std::size(imms)]);
    if (rng() % 4 == 0) p[0].src_reg = rng() % 16;
    if (rng() % 8 == 0) p[0].imm = static_cast<int32_t>(rng());
    if (rng() % 8 == 0)
      p[1] = make(rng() % 2, rng() % 2, 0, 0, static_cast<int32_t>(rng()));
    else
      p[1].imm = rng() % 2 ? 0 : static_cast<int32_t>(rng());
    const std::string text = dis(p);
    ASSERT_EQ(text.substr(0, 5), fmt::format("({:02x}) ", p[0].code));
    if (text.ends_with(" invalid")) continue;
    ++valid;
    p.resize(is_ld_imm64(p[0]) ? 2 : 1);
    auto r = assemble(text);
    ASSERT_TRUE(r) << text << ": " << r.err().msg;
    ASSERT_TRUE(same(*r, p)) << text << "\n  want " << hex(p) << "\n  got  " << hex(*r);
  }
  EXPECT_GT(valid, 10000u);  // enough of them are valid to mean something
}

// ---- exact kernel text ----

TEST(Disasm, KernelForms) {
  struct {
    std::vector<insn> p;
    const char* text;
  } cases[] = {
      {{mov64_imm(0, 0)}, "(b7) r0 = 0"},
      {{mov64_imm(0, -1)}, "(b7) r0 = -1"},
      {{mov32_imm(0, -1)}, "(b4) w0 = -1"},
      {{ldx(BPF_DW, 1, 10, -8)}, "(79) r1 = *(u64 *)(r10 -8)"},
      {{ldx(BPF_W, 1, 2, 0)}, "(61) r1 = *(u32 *)(r2 +0)"},
      {{stx(BPF_W, 1, 2, 4)}, "(63) *(u32 *)(r1 +4) = r2"},
      {{st(BPF_B, 10, -1, 5)}, "(72) *(u8 *)(r10 -1) = 5"},
      {{st(BPF_DW, 10, -16, -1)}, "(7a) *(u64 *)(r10 -16) = -1"},
      {{alu64_reg(BPF_ADD, 0, 1)}, "(0f) r0 += r1"},
      {{alu32_imm(BPF_ADD, 0, 5)}, "(04) w0 += 5"},
      {{alu64_imm(BPF_ARSH, 0, 3)}, "(c7) r0 s>>= 3"},
      {{alu32_reg(BPF_LSH, 1, 2)}, "(6c) w1 <<= w2"},
      {{mov32_reg(1, 2)}, "(bc) w1 = w2"},
      {{neg64(0)}, "(87) r0 = -r0"},
      {{neg32(3)}, "(84) w3 = -w3"},
      {wide_vec(ld_imm64(1, 0x1234)), "(18) r1 = 0x1234 ll"},
      {wide_vec(ld_imm64(1, ~uint64_t{0})), "(18) r1 = 0xffffffffffffffff ll"},
      {wide_vec(ld_imm64(1, 3, BPF_PSEUDO_MAP_FD)), "(18) r1 = map_fd[3]"},
      {wide_vec(ld_imm64(1, uint64_t{16} << 32 | 3, BPF_PSEUDO_MAP_VALUE)),
       "(18) r1 = map_value[3]+16"},
      {wide_vec(ld_imm64(1, 77, BPF_PSEUDO_BTF_ID)), "(18) r1 = btf_id[77]"},
      {wide_vec(ld_imm64(1, 5, BPF_PSEUDO_FUNC)), "(18) r1 = func[+5]"},
      {wide_vec(ld_imm64(1, uint32_t(-3), BPF_PSEUDO_FUNC)), "(18) r1 = func[-3]"},
      {wide_vec(ld_imm64(1, 0, BPF_PSEUDO_MAP_IDX)), "(18) r1 = map_idx[0]"},
      {wide_vec(ld_imm64(1, uint64_t{8} << 32, BPF_PSEUDO_MAP_IDX_VALUE)),
       "(18) r1 = map_idx_value[0]+8"},
      {{jmp_imm(BPF_JSGT, 1, 5, 3)}, "(65) if r1 s> 0x5 goto pc+3"},
      {{jmp_imm(BPF_JEQ, 1, -1, 0)}, "(15) if r1 == 0xffffffff goto pc+0"},
      {{jmp32_reg(BPF_JEQ, 1, 2, -4)}, "(1e) if w1 == w2 goto pc-4"},
      {{jmp32_imm(BPF_JSET, 1, 8, 1)}, "(46) if w1 & 0x8 goto pc+1"},
      {{jmp_reg(BPF_JSLE, 1, 2, 7)}, "(dd) if r1 s<= r2 goto pc+7"},
      {{ja(2)}, "(05) goto pc+2"},
      {{ja(-1)}, "(05) goto pc-1"},
      {{gotol(70000)}, "(06) gotol pc+70000"},
      {{call_helper(BPF_FUNC_map_lookup_elem)}, "(85) call bpf_map_lookup_elem#1"},
      {{call_helper(9999)}, "(85) call unknown#9999"},
      {{call_local(3)}, "(85) call pc+3"},
      {{call_local(-5)}, "(85) call pc-5"},
      {{call_kfunc(12345)}, "(85) call kernel-function#12345"},
      {{exit()}, "(95) exit"},
      {{atomic(BPF_DW, BPF_ADD, 1, 2, 0)}, "(db) lock *(u64 *)(r1 +0) += r2"},
      {{atomic(BPF_W, BPF_OR, 1, 2, 8)}, "(c3) lock *(u32 *)(r1 +8) |= r2"},
      {{atomic(BPF_DW, BPF_AND, 1, 2, 0)}, "(db) lock *(u64 *)(r1 +0) &= r2"},
      {{atomic(BPF_DW, BPF_XOR, 1, 2, -8)}, "(db) lock *(u64 *)(r1 -8) ^= r2"},
      {{atomic(BPF_DW, BPF_ADD | BPF_FETCH, 1, 2, 0)},
       "(db) r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)"},
      {{atomic(BPF_W, BPF_ADD | BPF_FETCH, 1, 2, 0)},
       "(c3) r2 = atomic_fetch_add((u32 *)(r1 +0), r2)"},
      {{atomic(BPF_W, BPF_OR | BPF_FETCH, 1, 2, 0)},
       "(c3) r2 = atomic_fetch_or((u32 *)(r1 +0), r2)"},
      {{atomic(BPF_DW, BPF_AND | BPF_FETCH, 1, 2, 0)},
       "(db) r2 = atomic64_fetch_and((u64 *)(r1 +0), r2)"},
      {{atomic(BPF_DW, BPF_XOR | BPF_FETCH, 1, 2, 0)},
       "(db) r2 = atomic64_fetch_xor((u64 *)(r1 +0), r2)"},
      {{atomic(BPF_DW, BPF_CMPXCHG, 1, 2, 0)},
       "(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)"},
      {{atomic(BPF_W, BPF_CMPXCHG, 1, 2, 0)}, "(c3) r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)"},
      {{atomic(BPF_W, BPF_XCHG, 1, 2, 0)}, "(c3) r2 = atomic_xchg((u32 *)(r1 +0), r2)"},
      {{atomic(BPF_DW, BPF_XCHG, 1, 2, 0)}, "(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)"},
      {{sdiv64_reg(1, 2)}, "(3f) r1 s/= r2"},
      {{smod64_reg(1, 2)}, "(9f) r1 s%= r2"},
      {{make(BPF_ALU | BPF_DIV | BPF_K, 1, 0, 1, 3)}, "(34) w1 s/= 3"},
      {{sdiv32_reg(1, 2)}, "(3c) w1 s/= w2"},
      {{movsx64(1, 2, 8)}, "(bf) r1 = (s8)r2"},
      {{movsx64(1, 2, 32)}, "(bf) r1 = (s32)r2"},
      {{movsx32(1, 2, 16)}, "(bc) w1 = (s16)w2"},
      {{ldsx(BPF_B, 1, 2, 1)}, "(91) r1 = *(s8 *)(r2 +1)"},
      {{ldsx(BPF_H, 1, 2, -2)}, "(89) r1 = *(s16 *)(r2 -2)"},
      {{ldsx(BPF_W, 1, 2, 0)}, "(81) r1 = *(s32 *)(r2 +0)"},
      {{bswap(1, 16)}, "(d7) r1 = bswap16 r1"},
      {{to_be(1, 32)}, "(dc) r1 = be32 r1"},
      {{to_le(1, 64)}, "(d4) r1 = le64 r1"},
  };
  for (const auto& c : cases) EXPECT_EQ(dis(c.p), c.text);
}

TEST(Disasm, NameResolvers) {
  EXPECT_EQ(dis(call_kfunc(task_acquire_id), kfunc_dopts()), "(85) call bpf_task_acquire#77");
  EXPECT_EQ(dis(call_kfunc(5), kfunc_dopts()), "(85) call kernel-function#5");
  disasm_opts o;
  o.helper_name = [](int32_t id) -> const char* { return id == 1 ? "lookup" : nullptr; };
  EXPECT_EQ(dis(call_helper(1), o), "(85) call lookup#1");
  EXPECT_EQ(dis(call_helper(2), o), "(85) call unknown#2");
  o.helper_name = nullptr;
  EXPECT_EQ(dis(call_helper(1), o), "(85) call unknown#1");
}

TEST(Disasm, ProgramListing) {
  insn_buf b;
  b << mov64_imm(0, 0) << ld_imm64(1, 3, BPF_PSEUDO_MAP_FD) << jmp_imm(BPF_JNE, 0, 0, 1)
    << call_helper(1) << exit();
  EXPECT_EQ(disasm(b.insns()),
            "   0: (b7) r0 = 0\n"
            "   1: (18) r1 = map_fd[3]\n"
            "   3: (55) if r0 != 0x0 goto pc+1\n"
            "   4: (85) call bpf_map_lookup_elem#1\n"
            "   5: (95) exit\n");
  EXPECT_EQ(disasm({}), "");
}

TEST(Disasm, MalformedPrintsInvalid) {
  struct {
    std::vector<insn> p;
    const char* text;
  } cases[] = {
      {{make(BPF_ALU64 | 0xe0 | BPF_K, 0, 0, 0, 0)}, "(e7) invalid"},      // no such ALU op
      {{make(BPF_ALU64 | BPF_NEG | BPF_K, 0, 1, 0, 0)}, "(87) invalid"},   // NEG with src
      {{make(BPF_ALU64 | BPF_NEG | BPF_X, 0, 0, 0, 0)}, "(8f) invalid"},   // NEG with X
      {{make(BPF_ALU64 | BPF_END | BPF_X, 1, 0, 0, 16)}, "(df) invalid"},  // bswap with X
      {{make(BPF_ALU | BPF_END | BPF_K, 1, 0, 0, 8)}, "(d4) invalid"},     // 8-bit swap
      {{movsx32(1, 2, 32)}, "(bc) invalid"},                               // (s32) on w
      {{movsx64(1, 2, 7)}, "(bf) invalid"},
      {{make(BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 0, 1)}, "(bf) invalid"},  // X with imm
      {{make(BPF_ALU64 | BPF_ADD | BPF_K, 1, 2, 0, 1)}, "(07) invalid"},  // K with src
      {{make(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 1, 1)}, "(07) invalid"},  // offset on add
      {{make(BPF_ALU64 | BPF_DIV | BPF_K, 1, 0, 2, 1)}, "(37) invalid"},  // offset 2 on div
      {{mov64_imm(11, 0)}, "(b7) invalid"},                               // r11
      {{mov64_reg(1, 12)}, "(bf) invalid"},
      {{make(BPF_LDX | BPF_MEMSX | BPF_DW, 1, 2, 0, 0)}, "(99) invalid"},
      {{make(BPF_LDX | BPF_MEM | BPF_W, 1, 2, 0, 1)}, "(61) invalid"},  // imm on ldx
      {{make(BPF_ST | BPF_MEM | BPF_W, 1, 2, 0, 1)}, "(62) invalid"},   // src on st
      {{make(BPF_STX | BPF_MEM | BPF_W, 1, 2, 0, 1)}, "(63) invalid"},  // imm on stx
      {{atomic(BPF_B, BPF_ADD, 1, 2, 0)}, "(d3) invalid"},
      {{atomic(BPF_DW, BPF_XCHG & ~BPF_FETCH, 1, 2, 0)}, "(db) invalid"},
      {{atomic(BPF_DW, 0x02, 1, 2, 0)}, "(db) invalid"},
      {{atomic(BPF_DW, BPF_ADD | 0x100, 1, 2, 0)}, "(db) invalid"},
      {{make(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, 0)}, "(18) invalid"},  // no second slot
      {{make(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, 0), make(1, 0, 0, 0, 0)}, "(18) invalid"},
      {{make(BPF_LD | BPF_IMM | BPF_DW, 1, 7, 0, 0), make(0, 0, 0, 0, 0)}, "(18) invalid"},
      {{make(BPF_LD | BPF_IMM | BPF_DW, 1, 1, 0, 0), make(0, 0, 0, 0, 1)}, "(18) invalid"},
      {{make(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 1, 0), make(0, 0, 0, 0, 0)}, "(18) invalid"},
      {{make(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0)}, "(20) invalid"},  // legacy packet load
      {{make(0, 0, 0, 0, 0)}, "(00) invalid"},
      {{make(BPF_JMP32 | BPF_CALL, 0, 0, 0, 1)}, "(86) invalid"},
      {{make(BPF_JMP32 | BPF_EXIT, 0, 0, 0, 0)}, "(96) invalid"},
      {{make(BPF_JMP | BPF_EXIT, 0, 0, 0, 1)}, "(95) invalid"},
      {{make(BPF_JMP | BPF_JA, 0, 0, 1, 1)}, "(05) invalid"},          // ja with imm
      {{make(BPF_JMP32 | BPF_JA, 0, 0, 1, 1)}, "(06) invalid"},        // gotol with off
      {{make(BPF_JMP | BPF_JA | BPF_X, 1, 0, 0, 0)}, "(0d) invalid"},  // gotox
      {{make(BPF_JMP | BPF_CALL, 0, 3, 0, 1)}, "(85) invalid"},
      {{make(BPF_JMP | BPF_CALL, 1, 0, 0, 1)}, "(85) invalid"},
      {{make(BPF_JMP | BPF_JCOND, 0, 0, 1, 0)}, "(e5) invalid"},  // may_goto
      {{make(BPF_JMP | BPF_JEQ | BPF_K, 1, 2, 0, 0)}, "(15) invalid"},
      {{make(BPF_JMP | BPF_JEQ | BPF_X, 1, 2, 0, 3)}, "(1d) invalid"},
      {{make(BPF_JMP | BPF_JEQ | BPF_K, 14, 0, 0, 0)}, "(15) invalid"},
  };
  for (const auto& c : cases) EXPECT_EQ(dis(c.p), c.text) << hex(c.p);
  // The second slot of a malformed ld_imm64 is still skipped in a listing.
  const std::vector<insn> bad{make(BPF_LD | BPF_IMM | BPF_DW, 1, 7, 0, 0), make(0, 0, 0, 0, 0),
                              exit()};
  EXPECT_EQ(disasm(bad), "   0: (18) invalid\n   2: (95) exit\n");
  EXPECT_EQ(disasm_insn(bad.data(), bad.size(), 3), "");
}

// ---- assembler ----

TEST(Assembler, KernelLogLines) {
  // Indices, annotations and the kernel's "r1 = 0x..." ld_imm64 (annotated (18)).
  const auto p =
      as("0: (b7) r0 = 0\n"
         "1: (18) r1 = 0xffff888003a1c000\n"
         "3: (85) call bpf_map_lookup_elem#1\n"
         "4: (95) exit\n");
  insn_buf b;
  b << mov64_imm(0, 0) << ld_imm64(1, 0xffff888003a1c000) << call_helper(1) << exit();
  EXPECT_TRUE(same(p, b.insns())) << hex(p);
}

TEST(Assembler, LenientForms) {
  EXPECT_TRUE(same(as("r1 = *(u64 *)(r10 - 8)"), {ldx(BPF_DW, 1, 10, -8)}));
  EXPECT_TRUE(same(as("r1 = *(u64 *)(r10)"), {ldx(BPF_DW, 1, 10, 0)}));
  EXPECT_TRUE(same(as("*(u32 *)(r1 + 4) = w2"), {stx(BPF_W, 1, 2, 4)}));
  EXPECT_TRUE(same(as("w1 = *(u16 *)(r2 +0)"), {ldx(BPF_H, 1, 2, 0)}));
  EXPECT_TRUE(same(as("lock *(u32 *)(r1 +0) += w2"), {atomic(BPF_W, BPF_ADD, 1, 2, 0)}));
  EXPECT_TRUE(same(as("w2 = atomic_fetch_or((u32 *)(r1 +0), w2)"),
                   {atomic(BPF_W, BPF_OR | BPF_FETCH, 1, 2, 0)}));
  EXPECT_TRUE(same(as("goto +2; goto -1; goto pc+0"), {ja(2), ja(-1), ja(0)}));
  EXPECT_TRUE(same(as("if r1 > 5 goto +1"), {jmp_imm(BPF_JGT, 1, 5, 1)}));
  EXPECT_TRUE(same(as("if r1 s> 0x5 goto +3; if w1 == w2 goto -4; gotol +70000"),
                   {jmp_imm(BPF_JSGT, 1, 5, 3), jmp32_reg(BPF_JEQ, 1, 2, -4), gotol(70000)}));
  EXPECT_TRUE(same(as("if r1 s< -1 goto +1"), {jmp_imm(BPF_JSLT, 1, -1, 1)}));
  EXPECT_TRUE(same(as("call 1; call bpf_ktime_get_ns; call unknown#9999"),
                   {call_helper(1), call_helper(BPF_FUNC_ktime_get_ns), call_helper(9999)}));
  EXPECT_TRUE(same(as("r1 = -5; w1 = 0xffffffff; r1 = 0x7fffffff"),
                   {mov64_imm(1, -5), mov32_imm(1, -1), mov64_imm(1, INT32_MAX)}));
  EXPECT_TRUE(same(as("r1 = 1 ll"), wide_vec(ld_imm64(1, 1))));
  EXPECT_TRUE(same(as("r1 = -1 ll"), wide_vec(ld_imm64(1, ~uint64_t{0}))));
  EXPECT_TRUE(same(as("r1 = map_value[3]"), wide_vec(ld_imm64(1, 3, BPF_PSEUDO_MAP_VALUE))));
  EXPECT_TRUE(same(as("call kernel-function#5"), {call_kfunc(5)}));
  EXPECT_TRUE(same(as("call bpf_task_acquire", kfunc_aopts()), {call_kfunc(task_acquire_id)}));
  EXPECT_TRUE(same(as("call bpf_task_acquire#77", kfunc_aopts()), {call_kfunc(task_acquire_id)}));
}

TEST(Assembler, CommentsBlankLinesAndSeparators) {
  const auto p =
      as("# a comment line\n"
         "\n"
         "   r0 = 0   // trailing comment\n"
         "call bpf_map_lookup_elem#1 # '#' after a space starts a comment\n"
         "r1 = 1; r2 = 2 ;; exit  \r\n");
  EXPECT_TRUE(same(p, {mov64_imm(0, 0), call_helper(1), mov64_imm(1, 1), mov64_imm(2, 2), exit()}))
      << hex(p);
  EXPECT_TRUE(as("").empty());
  EXPECT_TRUE(as("// nothing\n\n# here").empty());
}

TEST(Assembler, Labels) {
  const auto p =
      as("start: r0 = 0\n"
         "loop:\n"
         "  r0 += 1\n"
         "  if r0 < 10 goto loop\n"
         "  if w0 == w1 goto .Lout\n"
         "  gotol loop\n"
         "  r1 = func[callback]\n"
         "  call helper_fn\n"
         "  goto start\n"
         ".Lout: exit\n"
         "callback: r0 = 0; exit\n"
         "helper_fn:\n"
         "bpf_map_lookup_elem: exit  // a label shadows the helper of the same name\n"
         "tail: pc: goto pc\n");
  insn_buf b;
  b << mov64_imm(0, 0)                  // 0 start
    << alu64_imm(BPF_ADD, 0, 1)         // 1 loop
    << jmp_imm(BPF_JLT, 0, 10, -2)      // 2
    << jmp32_reg(BPF_JEQ, 0, 1, 5)      // 3 -> 9
    << gotol(-4)                        // 4 -> 1
    << ld_imm64(1, 4, BPF_PSEUDO_FUNC)  // 5, 6 -> 10
    << call_local(4)                    // 7 -> 12
    << ja(-9)                           // 8 -> 0
    << exit()                           // 9 .Lout
    << mov64_imm(0, 0) << exit()        // 10 callback, 11
    << exit()                           // 12 helper_fn, bpf_map_lookup_elem
    << ja(-1);                          // 13 tail, pc
  const auto& want = b.insns();
  EXPECT_TRUE(same(p, want)) << "\n  want " << hex(want) << "\n  got  " << hex(p);
  EXPECT_TRUE(
      same(as("call bpf_map_lookup_elem\nbpf_map_lookup_elem: exit"), {call_local(0), exit()}));
}

TEST(Assembler, Errors) {
  struct {
    std::string src;
    const char* msg;
    bool again = false;  // a second case for the same message
  } cases[] = {
      {"r11 = 0", "line 1: unknown register 'r11'"},
      {"if x > 0 goto +1", "line 1: expected register, found 'x'"},
      {"*(u64 *)(w1 +0) = r1", "line 1: expected a 64-bit register, found 'w1'"},
      {"w1 = 1 ll", "line 1: expected a 64-bit register, found 'w1'", true},
      {"w1 += r2", "line 1: register 'r2' does not match the width of 'w1'"},
      {"r1 = 0x1ffffffffffffffff ll",
       "line 1: number '0x1ffffffffffffffff' does not fit in 64 bits"},
      {"r1 = 12ab", "line 1: malformed number '12ab'"},
      {"r1 = 0x", "line 1: malformed number '0x'", true},
      {"w1 = 0x100000000", "line 1: immediate '0x100000000' does not fit in 32 bits"},
      {"r1 += 0x80000000",
       "line 1: immediate '0x80000000' does not fit in a sign-extended 32-bit field"},
      {"r1 = 0xffffffff",
       "line 1: immediate '0xffffffff' does not fit in a sign-extended 32-bit field; use "
       "'r1 = 0xffffffff ll'"},
      {"r1 = *(u128 *)(r2 +0)", "line 1: expected access size u8, u16, u32 or u64, found 'u128'"},
      {"*(s8 *)(r1 +0) = r2", "line 1: sign-extending access 's8' is only valid in a load"},
      {"r1 = *(u8 *)(r1 +40000)", "line 1: offset '+40000' does not fit in 16 bits"},
      {"gotol +0x100000000", "line 1: offset '+0x100000000' does not fit in 32 bits"},
      {"goto 5", "line 1: expected jump target (pc+N, +N, -N or a label), found '5'"},
      {"goto pc+", "line 1: expected offset, found end of line"},
      {"(b7) r0 = r1",
       "line 1: opcode annotation (b7) does not match the instruction's opcode (bf)"},
      {"goto +40000", "line 1: jump offset 40000 does not fit in 16 bits; use gotol"},
      {"if r1 > 0 goto -40000", "line 1: conditional jump offset -40000 does not fit in 16 bits"},
      {"3 r0 = 0", "line 1: expected ':' after the instruction index, found '3'"},
      {"3a: r0 = 0", "line 1: malformed instruction index '3a'"},
      {"exit\n3: r0 = 0", "line 2: index 3 does not match the instruction's position 1"},
      {"r1: exit", "line 1: label 'r1' is a register name"},
      {"a: exit\n\na: exit", "line 3: duplicate label 'a' (first defined on line 1)"},
      {"(zz) exit", "line 1: expected opcode annotation '(xx)', found 'zz'"},
      {"(95)", "line 1: expected instruction after opcode annotation, found end of line"},
      {"foo bar", "line 1: expected instruction, found 'foo'"},
      {"call (", "line 1: expected function, found '('"},
      {"call bpf_map_lookup_elem#2", "line 1: helper 'bpf_map_lookup_elem' has id 1, not 2"},
      {"call nope#3", "line 1: unknown function 'nope'"},
      {"if r1 = r2 goto +1", "line 1: expected comparison operator, found '='"},
      {"if r1 > r2 jump +1", "line 1: expected 'goto', found 'jump'"},
      {"lock *(u8 *)(r1 +0) += r2", "line 1: atomic operations are 32 or 64 bits wide, not 'u8'"},
      {"lock *(u64 *)(r1 +0) -= r2",
       "line 1: expected atomic operator +=, |=, &= or ^=, found '-='"},
      {"r1 r2", "line 1: expected ALU operator, found 'r2'"},
      {"r1 = -r2", "line 1: negation is in place: expected 'r1 = -r1', found '-r2'"},
      {"r1 = (u8)r2", "line 1: expected cast (s8), (s16) or (s32), found 'u8'"},
      {"w1 = (s32)w2", "line 1: (s32) sign extension needs 64-bit registers"},
      {"r1 = be32 r2", "line 1: 'be32' is in place: expected 'r1 = be32 r1', found 'r2'"},
      {"r2 = atomic64_fetch_sub((u64 *)(r1 +0), r2)",
       "line 1: unknown atomic operation 'atomic64_fetch_sub'"},
      {"r2 = atomic_fetch_add((u64 *)(r1 +0), r2)",
       "line 1: 'atomic_fetch_add' does not match access size 'u64'"},
      {"r1 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)",
       "line 1: cmpxchg compares with and returns in r0: expected "
       "'r0 = atomic64_cmpxchg(..., r0, rN)'"},
      {"r3 = atomic64_xchg((u64 *)(r1 +0), r2)",
       "line 1: 'atomic64_xchg' returns the old value in its operand register: expected "
       "'r2 = atomic64_xchg(..., r2)'"},
      {"r1 = map[3]",
       "line 1: unknown ld_imm64 operand 'map' (expected map_fd, map_value, btf_id, func, "
       "map_idx or map_idx_value)"},
      {"exit r2", "line 1: expected end of instruction, found 'r2'"},
      {"r1 = *(u64 *)(r10 -8", "line 1: expected ')', found end of line"},
      {"r1 = foo", "line 1: expected register, immediate or operand, found 'foo'"},
      {"*(u8 *)(r1 +0) = foo", "line 1: expected immediate, found 'foo'"},
      {"r0 = 0\ngoto nowhere", "line 2: undefined label 'nowhere'"},
      {"call nope", "line 1: unknown function or label 'nope'"},
  };
  std::set<std::string> seen;
  for (const auto& c : cases) {
    EXPECT_EQ(asm_error(c.src), c.msg) << c.src;
    // Each message is distinct up to the quoted tokens.
    std::string shape;
    bool quoted = false;
    for (char ch : std::string(c.msg)) {
      if (ch == '\'')
        quoted = !quoted;
      else if (!quoted)
        shape += ch;
    }
    if (!c.again) {
      EXPECT_TRUE(seen.insert(shape).second) << "duplicate message shape: " << c.msg;
    }
  }
  EXPECT_EQ(asm_error("call bpf_task_acquire#78", kfunc_aopts()),
            "line 1: kfunc 'bpf_task_acquire' has BTF id 77, not 78");
}

TEST(Assembler, LabelJumpOutOfRange) {
  std::string far = "goto far\nif r1 > r2 goto far\n";
  for (int i = 0; i < 40000; ++i) far += "r0 = 0\n";
  far += "far: exit\n";
  EXPECT_EQ(asm_error(far),
            "line 1: jump offset 40001 to 'far' does not fit in 16 bits; use gotol");
  far.replace(0, 9, "gotol far\n");
  EXPECT_EQ(asm_error(far), "line 2: jump offset 40000 to 'far' does not fit in 16 bits");
}

}  // namespace
}  // namespace mmbpf::bpf
