// The generic kfuncs at run time: bpf_for()'s numbers iterator yields [start, end) and ends,
// refuses a reversed or oversized range as the kernel does, and runs under the checked
// interpreter after the verifier accepted the loop; tasks come from the host.
#include "bpf/kfuncs_generic.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "bpf/assembler.h"
#include "bpf/interpreter.h"
#include "bpf/prog.h"
#include "bpf/runtime.h"
#include "bpf/verifier/verifier.h"

namespace mmbpf::bpf {
namespace {

// Sums the numbers bpf_iter_num yields for [start, end); -1000 + the error when new() fails.
std::string sum_program(int start, int end) {
  return fmt::format(
      "r6 = 0\n"
      "r1 = r10\n"
      "r1 += -8\n"
      "r2 = {}\n"
      "r3 = {}\n"
      "call bpf_iter_num_new\n"
      "if r0 == 0 goto loop\n"
      "r6 = r0\n"
      "r6 += -1000\n"
      "loop:\n"
      "r1 = r10\n"
      "r1 += -8\n"
      "call bpf_iter_num_next\n"
      "if r0 == 0 goto done\n"
      "r1 = *(s32 *)(r0 +0)\n"
      "r6 += r1\n"
      "goto loop\n"
      "done:\n"
      "r1 = r10\n"
      "r1 += -8\n"
      "call bpf_iter_num_destroy\n"
      "r0 = r6\n"
      "exit\n",
      start, end);
}

int64_t run(runtime& rt, const std::string& text) {
  asm_opts ao;
  ao.kfunc_id = [&rt](std::string_view n) -> int32_t {
    const kfunc_desc* k = rt.kfuncs().by_name(n);
    return k ? static_cast<int32_t>(k->btf_id) : -1;
  };
  auto insns = assemble(text, ao);
  EXPECT_TRUE(insns.ok()) << (insns.ok() ? "" : insns.err().msg);
  auto p = bpf_prog::load(rt, *insns);
  EXPECT_TRUE(p.ok());
  verifier::verify_opts vo;
  vo.ctx.k = verifier::prog_context::kind::syscall;
  vo.ctx.sleepable = true;
  const auto v = verifier::verify(**p, vo);
  EXPECT_TRUE(v.ok) << v.error;
  auto r = interpreter(true).run_mem(**p, nullptr, 0);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().msg);
  return r.ok() ? static_cast<int64_t>(*r) : INT64_MIN;
}

TEST(IterNum, YieldsTheHalfOpenRange) {
  runtime rt;
  EXPECT_EQ(run(rt, sum_program(0, 10)), 45);
  EXPECT_EQ(run(rt, sum_program(-3, 3)), -3);
  EXPECT_EQ(run(rt, sum_program(5, 5)), 0);  // empty
}

TEST(IterNum, ReversedRangeIsEinvalAndEmpty) {
  runtime rt;
  EXPECT_EQ(run(rt, sum_program(3, 1)), -1000 - 22);
}

TEST(IterNum, MoreThanBpfMaxLoopsIsE2big) {
  runtime rt;
  EXPECT_EQ(run(rt, sum_program(0, (8 << 20) + 1)), -1000 - 7);
}

TEST(TaskFromPid, AskTheHostAndNullWithoutOne) {
  runtime rt;
  const std::string prog =
      "r1 = 42\n"
      "call bpf_task_from_pid\n"
      "if r0 == 0 goto none\n"
      "r1 = r0\n"
      "call bpf_task_release\n"
      "r0 = 1\n"
      "exit\n"
      "none:\n"
      "r0 = 0\n"
      "exit\n";
  EXPECT_EQ(run(rt, prog), 0);
  alignas(8) static char task[64];
  int32_t asked = 0;
  rt.find_task = [&](int32_t pid) -> void* {
    asked = pid;
    return task;
  };
  EXPECT_EQ(run(rt, prog), 1);
  EXPECT_EQ(asked, 42);
}

}  // namespace
}  // namespace mmbpf::bpf
