// `mmbpf exec` end to end, through the real binary: results on stdout, one-line errors on stderr,
// exit codes, and no crash on programs that touch memory they do not own.
#include <gtest/gtest.h>

#include <string>

#include "run_mmbpf.h"

namespace {

using mmbpf::test::outcome;

using mmbpf::test::slurp;

outcome mmbpf(const std::string& args, const std::string& input) {
  return mmbpf::test::run_mmbpf(args, input);
}

const std::string fib = slurp(std::string(MMBPF_SOURCE_DIR) + "/samples/fib.hex");

TEST(Exec, RunsTheSampleWithAndWithoutMemory) {
  auto o = mmbpf("exec '14 00 00 00'", fib);
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out, "0x1a6d\n");  // fib(20)
  EXPECT_EQ(o.err, "");
  o = mmbpf("exec", fib);
  EXPECT_EQ(o.out, "0x37\n");  // fib(10): no memory, r2 = 0
  o = mmbpf("exec --checked '14 00 00 00'", fib);
  EXPECT_EQ(o.out, "0x1a6d\n");
}

TEST(Exec, ReadsMemoryThroughR1AndR2) {
  // r0 = *(u8 *)(r1 + 2) + r2
  const std::string prog =
      "71 10 02 00 00 00 00 00\n0f 20 00 00 00 00 00 00\n95 00 00 00 00 00 00 00\n";
  auto o = mmbpf("exec '01 02 f0 04'", prog);
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out, "0xf4\n");
}

TEST(Exec, BadHexOnStdin) {
  auto o = mmbpf("exec", "b7 00 zz 00");
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "mmbpf exec: program on stdin: byte 2: 'zz' is not a two-digit hex byte\n");
}

TEST(Exec, PartialInstruction) {
  auto o = mmbpf("exec", "b7 00 00 00 00");
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.err,
            "mmbpf exec: program on stdin: 5 bytes is not a whole number of 8-byte instructions\n");
}

TEST(Exec, EmptyProgram) {
  auto o = mmbpf("exec", "\n");
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.err, "mmbpf exec: program on stdin: no instructions\n");
}

TEST(Exec, BadMemoryArgument) {
  auto o = mmbpf("exec '1 2'", fib);
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.err, "mmbpf exec: memory argument: byte 0: '1' is not a two-digit hex byte\n");
}

TEST(Exec, DecoderRejection) {
  auto o = mmbpf("exec", "b7 00 00 00 00 00 00 00\n");
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.err, "mmbpf exec: prog 'exec': insn 0: last insn is not an exit or jmp\n");
}

// r0 = *(u64 *)(r1 + 0x100): outside the 4 bytes of memory given.
const std::string oob = "79 10 00 01 00 00 00 00\n95 00 00 00 00 00 00 00\n";

TEST(Exec, CheckedModeNamesTheBadAccess) {
  auto o = mmbpf("exec --checked '01 02 03 04'", oob);
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find("mmbpf exec: prog 'exec': insn 0: invalid read of 8 bytes at 0x"),
            std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("outside every region"), std::string::npos) << o.err;
}

TEST(Exec, UncheckedWildPointerIsAnErrorNotACrash) {
  // r1 = 0x10; r0 = *(u64 *)(r1 + 0)
  auto o =
      mmbpf("exec", "b7 01 00 00 10 00 00 00\n79 10 00 00 00 00 00 00\n95 00 00 00 00 00 00 00\n");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("the program faulted"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("--checked"), std::string::npos) << o.err;
}

// Both engines, by name, agree; the JIT is the default; --checked is the interpreter's.
TEST(Exec, RunsOnEitherEngine) {
  for (const char* e : {"interp", "jit"}) {
    auto o = mmbpf(std::string("exec --engine ") + e + " '14 00 00 00'", fib);
    EXPECT_EQ(o.rc, 0) << e << ": " << o.err;
    EXPECT_EQ(o.out, "0x1a6d\n") << e;
  }
  auto o = mmbpf("exec --engine jit --checked", fib);
  EXPECT_EQ(o.rc, 2);
  EXPECT_EQ(o.err, "mmbpf exec: --checked runs in the interpreter; drop --engine jit\n");
  o = mmbpf("exec --engine interp --checked", fib);
  EXPECT_EQ(o.rc, 0) << o.err;
}

TEST(Exec, WrongFlags) {
  auto o = mmbpf("exec --engine warp", fib);
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("--engine"), std::string::npos) << o.err;
  o = mmbpf("exec --bogus", fib);
  EXPECT_EQ(o.rc, 2);
  o = mmbpf("", "");
  EXPECT_EQ(o.rc, 2);
}

}  // namespace
