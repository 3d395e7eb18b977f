// `mmbpf prog` end to end on the test objects: list, show, dump, run (text and JSON), and the
// errors for a missing program, a bad context and an object that does not load.
#include <gtest/gtest.h>

#include <string>

#include "run_mmbpf.h"

namespace {

using mmbpf::test::outcome;

outcome mmbpf(const std::string& args) { return mmbpf::test::run_mmbpf(args); }

std::string obj(const char* name) {
  return std::string(MMBPF_BPF_OBJ_DIR) + "/tests/bpf/progs/" + name + ".bpf.o";
}

TEST(Prog, ListShowsProgramsMapsAndStructOps) {
  auto o = mmbpf("prog list " + obj("obj_struct_ops"));
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out,
            "prog test_1  sec struct_ops/test_1\n"
            "prog test_2  sec struct_ops/test_2\n"
            "prog test_sleepable  sec struct_ops.s/test_sleepable  sleepable\n"
            "struct_ops dummy  bpf_dummy_ops  link\n"
            "  .test_1 = test_1\n"
            "  .test_2 = test_2\n"
            "  .test_sleepable = test_sleepable\n");
  o = mmbpf("prog list " + obj("obj_maps"));
  EXPECT_NE(o.out.find("map lru  lru_hash  key 4B  value 4B  max_entries 2  flags 0x0\n"),
            std::string::npos) << o.out;
}

TEST(Prog, ShowGivesSectionSizePrototypeAndBinding) {
  auto o = mmbpf("prog show " + obj("obj_struct_ops") + " test_2");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("section struct_ops/test_2\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("btf int test_2(unsigned long long *ctx)\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("struct_ops bpf_dummy_ops.test_2 (5 args)\n"), std::string::npos) << o.out;
}

TEST(Prog, DumpInterleavesSourceLines) {
  auto o = mmbpf("prog dump " + obj("obj_calls") + " calls_a");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out.rfind("int calls_a(void *ctx):\n", 0), 0u) << o.out;
  EXPECT_NE(o.out.find("; return sum_squares(4) + square(2);"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("line_num:"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("   0: (b7) r1 = 4\n"), std::string::npos) << o.out;
}

TEST(Prog, RunPrintsRetvalAndDuration) {
  auto o = mmbpf("prog run " + obj("obj_calls") + " calls_b --repeat 10");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out.rfind("retval: 1005\nduration: ", 0), 0u) << o.out;
  EXPECT_EQ(o.out.substr(o.out.size() - 4), " ns\n");
  o = mmbpf("prog run " + obj("obj_calls") + " calls_a --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out.rfind("{\"duration_ns\":", 0), 0u) << o.out;
  EXPECT_NE(o.out.find("\"retval\":34}"), std::string::npos) << o.out;
}

TEST(Prog, RunPassesTheContext) {
  // test_2 sums its four integer arguments: ctx is five u64s.
  const std::string ctx =
      "00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 "
      "03 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00";
  auto o = mmbpf("prog run " + obj("obj_struct_ops") + " test_2 --ctx '" + ctx + "'");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out.rfind("retval: 10\n", 0), 0u) << o.out;
}

TEST(Prog, Errors) {
  auto o = mmbpf("prog run " + obj("obj_calls") + " nope");
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.err, "mmbpf prog: obj_calls.bpf.o: no program 'nope'\n");
  o = mmbpf("prog run " + obj("obj_calls") + " calls_a --ctx 'q'");
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.err, "mmbpf prog: --ctx: byte 0: 'q' is not a two-digit hex byte\n");
  o = mmbpf("prog show " + obj("obj_struct_ops_bad") + " test_1");
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.err,
            "mmbpf prog: obj_struct_ops_bad.bpf.o: struct_ops 'bad': program 'test_1' reads "
            "argument 3 of member 'test_1', whose prototype has 1\n");
  o = mmbpf("prog list /nonexistent.o");
  EXPECT_EQ(o.rc, 2);  // CLI11's ExistingFile check
}

}  // namespace
