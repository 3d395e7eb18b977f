// One test per structural rule of the decoder: each malformed encoding gets its own precise
// message naming the instruction.
#include "bpf/decoder.h"

#include <gtest/gtest.h>

#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

using namespace ins;

std::string reject(std::vector<insn> p) {
  runtime rt;
  auto r = decode(p, rt);
  return r ? std::string("accepted") : r.err().msg;
}

std::vector<insn> with_exit(std::vector<insn> p) {
  p.push_back(exit());
  return p;
}

TEST(Decoder, AcceptsMinimalProgram) {
  runtime rt;
  std::vector<insn> p{mov64_imm(0, 0), exit()};
  auto r = decode(p, rt);
  ASSERT_TRUE(r) << r.err().msg;
  EXPECT_EQ(r->subprog_starts, std::vector<uint32_t>{0});
  EXPECT_EQ(r->max_call_depth, 1u);
}

TEST(Decoder, EmptyProgram) {
  EXPECT_EQ(reject({}), "empty program");
}

TEST(Decoder, TooLarge) {
  std::vector<insn> p(max_prog_insns + 1, mov64_imm(0, 0));
  EXPECT_EQ(reject(p), "program of 1000001 insns is too large (limit 1000000)");
}

TEST(Decoder, UnknownAluOpcode) {
  EXPECT_EQ(reject(with_exit({make(BPF_ALU64 | 0xe0 | BPF_K, 0, 0, 0, 0)})),
            "insn 0: unknown opcode e7");
}

TEST(Decoder, NegUsesReservedFields) {
  EXPECT_EQ(reject(with_exit({make(BPF_ALU64 | BPF_NEG | BPF_K, 0, 1, 0, 0)})),
            "insn 0: BPF_NEG uses reserved fields");
  EXPECT_EQ(reject(with_exit({make(BPF_ALU64 | BPF_NEG | BPF_X, 0, 0, 0, 0)})),
            "insn 0: BPF_NEG uses reserved fields");
}

TEST(Decoder, EndUsesReservedFields) {
  EXPECT_EQ(reject(with_exit({make(BPF_ALU | BPF_END | BPF_TO_BE, 0, 0, 0, 8)})),
            "insn 0: BPF_END uses reserved fields");
  // ALU64 | END | X is reserved (bswap is ALU64 | END | K only).
  EXPECT_EQ(reject(with_exit({make(BPF_ALU64 | BPF_END | BPF_X, 0, 0, 0, 16)})),
            "insn 0: BPF_END uses reserved fields");
}

TEST(Decoder, MovUsesReservedFields) {
  // movsx from 32 bits exists only in ALU64.
  EXPECT_EQ(reject(with_exit({movsx32(0, 1, 32)})), "insn 0: BPF_MOV uses reserved fields");
  EXPECT_EQ(reject(with_exit({make(BPF_ALU64 | BPF_MOV | BPF_X, 0, 1, 7, 0)})),
            "insn 0: BPF_MOV uses reserved fields");
  EXPECT_EQ(reject(with_exit({make(BPF_ALU64 | BPF_MOV | BPF_K, 0, 1, 0, 0)})),
            "insn 0: BPF_MOV uses reserved fields");
}

TEST(Decoder, AluUsesReservedFields) {
  EXPECT_EQ(reject(with_exit({make(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 1, 0)})),
            "insn 0: BPF_ALU uses reserved fields");  // offset 1 only for div/mod
  EXPECT_EQ(reject(with_exit({make(BPF_ALU64 | BPF_DIV | BPF_K, 0, 0, 2, 1)})),
            "insn 0: BPF_ALU uses reserved fields");
  EXPECT_EQ(reject(with_exit({make(BPF_ALU | BPF_ADD | BPF_X, 0, 1, 0, 5)})),
            "insn 0: BPF_ALU uses reserved fields");
}

TEST(Decoder, InvalidRegister) {
  EXPECT_EQ(reject(with_exit({make(BPF_ALU64 | BPF_MOV | BPF_K, 11, 0, 0, 0)})),
            "insn 0: R11 is invalid");
  EXPECT_EQ(reject(with_exit({make(BPF_ALU64 | BPF_ADD | BPF_X, 0, 12, 0, 0)})),
            "insn 0: R12 is invalid");
}

TEST(Decoder, FramePointerIsReadOnly) {
  EXPECT_EQ(reject(with_exit({mov64_imm(10, 0)})), "insn 0: frame pointer is read only");
  EXPECT_EQ(reject(with_exit({ldx(BPF_DW, 10, 1, 0)})), "insn 0: frame pointer is read only");
}

TEST(Decoder, LdxUsesReservedFields) {
  EXPECT_EQ(reject(with_exit({make(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 0, 1)})),
            "insn 0: BPF_LDX uses reserved fields");
}

TEST(Decoder, SignExtendingLoadOfDoubleWordDoesNotExist) {
  EXPECT_EQ(reject(with_exit({make(BPF_LDX | BPF_MEMSX | BPF_DW, 0, 1, 0, 0)})),
            "insn 0: unknown opcode 99");
}

TEST(Decoder, StUsesReservedFields) {
  EXPECT_EQ(reject(with_exit({make(BPF_ST | BPF_MEM | BPF_W, 10, 1, -4, 0)})),
            "insn 0: BPF_ST uses reserved fields");
}

TEST(Decoder, StxUsesReservedFields) {
  EXPECT_EQ(reject(with_exit({make(BPF_STX | BPF_MEM | BPF_W, 10, 1, -4, 3)})),
            "insn 0: BPF_STX uses reserved fields");
}

TEST(Decoder, AtomicOperandSize) {
  EXPECT_EQ(reject(with_exit({atomic(BPF_B, BPF_ADD, 10, 1, -8)})),
            "insn 0: invalid atomic operand size");
}

TEST(Decoder, AtomicInvalidOpcode) {
  EXPECT_EQ(reject(with_exit({atomic(BPF_DW, BPF_SUB, 10, 1, -8)})),
            "insn 0: BPF_ATOMIC uses invalid atomic opcode 10");
}

TEST(Decoder, LegacyPacketAccess) {
  EXPECT_EQ(reject(with_exit({make(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0)})),
            "insn 0: BPF_LD_[ABS|IND] (legacy packet access) is not supported: there are no "
            "socket buffers here");
}

TEST(Decoder, LdImm64Truncated) {
  EXPECT_EQ(reject({exit(), ld_imm64(0, 1).lo}), "insn 1: invalid bpf_ld_imm64 insn");
}

TEST(Decoder, LdImm64SecondSlotUsed) {
  auto w = ld_imm64(0, 1);
  w.hi.dst_reg = 1;
  EXPECT_EQ(reject({w.lo, w.hi, exit()}), "insn 0: invalid bpf_ld_imm64 insn");
}

TEST(Decoder, LdImm64UnknownPseudoSource) {
  auto w = ld_imm64(0, 1, 7);
  EXPECT_EQ(reject({w.lo, w.hi, exit()}), "insn 0: unrecognized bpf_ld_imm64 insn");
}

TEST(Decoder, LdImm64MapFdWithNextImm) {
  auto w = ld_imm64(1, 0x500000000ULL, BPF_PSEUDO_MAP_FD);
  EXPECT_EQ(reject({w.lo, w.hi, exit()}), "insn 0: unrecognized bpf_ld_imm64 insn");
}

TEST(Decoder, PseudoFuncOutOfRange) {
  auto w = ld_imm64(1, 40, BPF_PSEUDO_FUNC);
  EXPECT_EQ(reject({w.lo, w.hi, exit()}), "insn 0: BPF_PSEUDO_FUNC target 41 out of range");
}

TEST(Decoder, JaUsesReservedFields) {
  EXPECT_EQ(reject({make(BPF_JMP | BPF_JA, 0, 0, 0, 1), exit()}),
            "insn 0: BPF_JA uses reserved fields");
  EXPECT_EQ(reject({make(BPF_JMP32 | BPF_JA, 0, 0, 1, 0), exit()}),
            "insn 0: BPF_JA uses reserved fields");
}

TEST(Decoder, CallUsesReservedFields) {
  EXPECT_EQ(reject(with_exit({make(BPF_JMP | BPF_CALL, 1, 0, 0, BPF_FUNC_ktime_get_ns)})),
            "insn 0: BPF_CALL uses reserved fields");
  EXPECT_EQ(reject(with_exit({make(BPF_JMP | BPF_CALL, 0, 3, 0, 1)})),
            "insn 0: BPF_CALL uses reserved fields");
}

TEST(Decoder, UnknownHelper) {
  EXPECT_EQ(reject(with_exit({call_helper(9)})), "insn 0: invalid func unknown#9");
  EXPECT_EQ(reject(with_exit({call_helper(-1)})), "insn 0: invalid func unknown#-1");
}

TEST(Decoder, UnregisteredKfunc) {
  EXPECT_EQ(reject(with_exit({call_kfunc(12345)})),
            "insn 0: kernel function btf_id 12345 is not registered");
}

TEST(Decoder, CallToInvalidDestination) {
  EXPECT_EQ(reject(with_exit({call_local(5)})), "insn 0: call to invalid destination 6");
  EXPECT_EQ(reject(with_exit({call_local(-2)})), "insn 0: call to invalid destination -1");
}

TEST(Decoder, ExitUsesReservedFields) {
  EXPECT_EQ(reject({make(BPF_JMP | BPF_EXIT, 0, 0, 0, 1)}),
            "insn 0: BPF_EXIT uses reserved fields");
}

TEST(Decoder, JmpUsesReservedFields) {
  EXPECT_EQ(reject(with_exit({make(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0, 0)})),
            "insn 0: BPF_JMP/JMP32 uses reserved fields");
  EXPECT_EQ(reject(with_exit({make(BPF_JMP32 | BPF_JGT | BPF_X, 0, 1, 0, 4)})),
            "insn 0: BPF_JMP/JMP32 uses reserved fields");
}

TEST(Decoder, Jmp32HasNoCallOrExit) {
  EXPECT_EQ(reject(with_exit({make(BPF_JMP32 | BPF_CALL, 0, 0, 0, 1)})),
            "insn 0: unknown opcode 86");
  EXPECT_EQ(reject({make(BPF_JMP32 | BPF_EXIT, 0, 0, 0, 0)}), "insn 0: unknown opcode 96");
}

TEST(Decoder, JumpOutOfRange) {
  EXPECT_EQ(reject({jmp_imm(BPF_JEQ, 0, 0, 5), exit()}),
            "insn 0: jump out of range from insn 0 to 6");
  EXPECT_EQ(reject({ja(-2), exit()}), "insn 0: jump out of range from insn 0 to -1");
  EXPECT_EQ(reject({gotol(70000), exit()}), "insn 0: jump out of range from insn 0 to 70001");
}

TEST(Decoder, JumpIntoMiddleOfLdImm64) {
  auto w = ld_imm64(0, 1);
  EXPECT_EQ(reject({ja(1), w.lo, w.hi, exit()}), "insn 0: jump into the middle of ldimm64 insn 1");
}

TEST(Decoder, CallIntoMiddleOfLdImm64) {
  auto w = ld_imm64(0, 1);
  EXPECT_EQ(reject({call_local(1), w.lo, w.hi, exit()}),
            "insn 0: call into the middle of ldimm64 insn 1");
}

TEST(Decoder, FallsOffTheEnd) {
  EXPECT_EQ(reject({mov64_imm(0, 0)}), "insn 0: last insn is not an exit or jmp");
  EXPECT_EQ(reject({mov64_imm(0, 0), jmp_imm(BPF_JEQ, 0, 0, -2)}),
            "insn 1: last insn is not an exit or jmp");
}

TEST(Decoder, SubprogramFallsIntoNext) {
  // main calls insn 3; insn 2 (the last of main) is not an exit.
  EXPECT_EQ(reject({call_local(2), exit(), mov64_imm(0, 1), mov64_imm(0, 2), exit()}),
            "insn 2: last insn is not an exit or jmp");
}

TEST(Decoder, JumpAcrossSubprograms) {
  EXPECT_EQ(reject({call_local(2), ja(2), exit(), mov64_imm(0, 1), exit()}),
            "insn 1: jump out of range from insn 1 to 4");
}

TEST(Decoder, RecursiveCall) {
  EXPECT_EQ(reject({call_local(1), exit(), call_local(-1), exit()}),
            "insn 2: recursive call from insn 2 to 2");
}

// main -> f1 -> ... -> f(n-1): n frames.
std::vector<insn> call_chain(int frames) {
  std::vector<insn> p;
  for (int f = 0; f < frames; ++f) {
    if (f + 1 < frames) p.push_back(call_local(1));
    p.push_back(exit());
  }
  return p;
}

TEST(Decoder, CallStackTooDeep) {
  EXPECT_EQ(reject(call_chain(9)), "the call stack of 9 frames is too deep (limit 8)");
  runtime rt;
  auto p = call_chain(8);
  auto r = decode(p, rt);
  ASSERT_TRUE(r) << r.err().msg;
  EXPECT_EQ(r->max_call_depth, 8u);
  EXPECT_EQ(r->subprog_starts.size(), 8u);
}

TEST(Decoder, CallbackReferencesCountAsFrames) {
  auto w = ld_imm64(2, 3, BPF_PSEUDO_FUNC);  // insn 4
  runtime rt;
  std::vector<insn> p{w.lo, w.hi, mov64_imm(0, 0), exit(), mov64_imm(0, 0), exit()};
  auto r = decode(p, rt);
  ASSERT_TRUE(r) << r.err().msg;
  EXPECT_EQ(r->subprog_starts, (std::vector<uint32_t>{0, 4}));
  EXPECT_EQ(r->max_call_depth, 2u);
}

}  // namespace
}  // namespace mmbpf::bpf
