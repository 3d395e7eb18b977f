// The verifier on small programs in the kernel's verifier-log syntax, as the kernel's
// selftests (tools/testing/selftests/bpf/progs/verifier_*.c) write them: each case is accepted,
// or rejected with the kernel's message.
#include "bpf/verifier/verifier.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>

#include "bpf/assembler.h"
#include "bpf/interpreter.h"
#include "bpf/prog.h"
#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

using verifier::prog_context;
using verifier::verify;
using verifier::verify_opts;
using verifier::verify_result;

struct vcase {
  runtime rt;
  std::unique_ptr<bpf_prog> prog;
  verify_result res;
};

// Assembles and verifies `text` with a flat 64-byte context (r1 = ctx, r2 = 64). Maps named
// in the text as map_fd[N] must be created first in `rt` (see with_map).
verify_result check(runtime& rt, const std::string& text, int log_level = 1) {
  auto insns = assemble(text);
  EXPECT_TRUE(insns.ok()) << (insns.ok() ? "" : insns.err().msg);
  if (!insns.ok()) return {};
  auto p = bpf_prog::load(rt, *insns);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.err().msg);
  if (!p.ok()) return {};
  verify_opts o;
  o.ctx.k = prog_context::kind::mem;
  o.ctx.mem_size = 64;
  o.log_level = log_level;
  return verify(**p, o);
}

void accept(const std::string& text) {
  runtime rt;
  const verify_result r = check(rt, text);
  EXPECT_TRUE(r.ok) << r.error << "\n" << r.log;
}

void reject(const std::string& text, const std::string& msg) {
  runtime rt;
  const verify_result r = check(rt, text);
  EXPECT_FALSE(r.ok) << r.log;
  EXPECT_EQ(r.error, msg) << r.log;
}

TEST(Verifier, ReturnsAConstant) { accept("r0 = 0\nexit\n"); }

TEST(Verifier, UninitializedR0AtExit) { reject("exit\n", "R0 !read_ok"); }

TEST(Verifier, UninitializedRegisterRead) { reject("r0 = r3\nexit\n", "R3 !read_ok"); }

TEST(Verifier, ScalarIsNotAPointer) {
  reject("r2 = 5\nr0 = *(u64 *)(r2 +0)\nexit\n", "R2 invalid mem access 'scalar'");
}

TEST(Verifier, StackSpillAndFill) {
  accept(
      "r2 = r1\n"
      "*(u64 *)(r10 -8) = r2\n"
      "r3 = *(u64 *)(r10 -8)\n"
      "r0 = *(u32 *)(r3 +0)\n"  // the filled register is still the context
      "exit\n");
}

TEST(Verifier, StackOutOfBounds) {
  reject("r0 = 0\n*(u64 *)(r10 -520) = r0\nexit\n", "invalid write to stack R10 off=-520 size=8");
  reject("r0 = 0\n*(u64 *)(r10 +0) = r0\nexit\n", "invalid write to stack R10 off=0 size=8");
}

TEST(Verifier, ContextBounds) {
  accept("r0 = *(u64 *)(r1 +56)\nexit\n");
  reject("r0 = *(u64 *)(r1 +60)\nexit\n", "invalid bpf_context access off=60 size=8");
}

TEST(Verifier, UnreachableInstruction) { reject("r0 = 0\nexit\nr0 = 1\nexit\n", "unreachable insn 2"); }

// A map of one value_size-byte value, as map_fd[fd] in the text: an array by default; a hash
// map's lookups may fail whatever the key (an array lookup with a constant key below
// max_entries cannot, and returns a map_value).
int with_map(runtime& rt, uint32_t value_size = 64, uint32_t type = BPF_MAP_TYPE_ARRAY) {
  map_attr a;
  a.map_type = type;
  a.key_size = 4;
  a.value_size = value_size;
  a.max_entries = 1;
  a.name = "m";
  auto fd = rt.create_map(a);
  EXPECT_TRUE(fd.ok());
  return fd.ok() ? *fd : -1;
}

int with_hash(runtime& rt, uint32_t value_size = 64) { return with_map(rt, value_size, BPF_MAP_TYPE_HASH); }

std::string lookup(int fd) {
  return fmt::format(
      "r6 = r1\n"
      "r1 = 0\n"
      "*(u32 *)(r10 -4) = r1\n"
      "r2 = r10\n"
      "r2 += -4\n"
      "r1 = map_fd[{}]\n"
      "call bpf_map_lookup_elem#1\n",
      fd);
}

TEST(Verifier, MapValueNeedsANullCheck) {
  runtime rt;
  const int fd = with_hash(rt);
  verify_result r = check(rt, lookup(fd) + "r0 = *(u64 *)(r0 +0)\nexit\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "R0 invalid mem access 'map_value_or_null'") << r.log;
  r = check(rt, lookup(fd) + "if r0 == 0 goto +1\nr0 = *(u64 *)(r0 +0)\nr0 = 0\nexit\n");
  EXPECT_TRUE(r.ok) << r.error << "\n" << r.log;
}

TEST(Verifier, NullCheckAppliesToCopies) {
  runtime rt;
  const int fd = with_hash(rt);
  const verify_result r = check(rt, lookup(fd) +
                                        "r7 = r0\n"
                                        "if r0 == 0 goto +2\n"
                                        "r0 = *(u64 *)(r7 +8)\n"  // the copy is checked too
                                        "exit\n"
                                        "r0 = 0\n"
                                        "exit\n");
  EXPECT_TRUE(r.ok) << r.error << "\n" << r.log;
}

TEST(Verifier, BranchesBoundAVariableOffset) {
  runtime rt;
  const int fd = with_map(rt);
  const std::string body = lookup(fd) +
                           "if r0 == 0 goto +6\n"
                           "r3 = *(u64 *)(r6 +0)\n"
                           "if r3 > {} goto +4\n"
                           "r0 += r3\n"
                           "r0 = *(u64 *)(r0 +0)\n"
                           "r0 = 0\n"
                           "exit\n"
                           "r0 = 0\n"
                           "exit\n";
  verify_result r = check(rt, fmt::format(fmt::runtime(body), 56));
  EXPECT_TRUE(r.ok) << r.error << "\n" << r.log;
  r = check(rt, fmt::format(fmt::runtime(body), 57));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "R0 max value is outside of the allowed memory range") << r.log;
  // without the bound
  r = check(rt, lookup(fd) +
                    "if r0 == 0 goto +4\n"
                    "r3 = *(u64 *)(r6 +0)\n"
                    "r0 += r3\n"
                    "r0 = *(u64 *)(r0 +0)\n"
                    "exit\n"
                    "r0 = 0\n"
                    "exit\n");
  EXPECT_FALSE(r.ok);
  // the kernel refuses the addition itself (check_reg_sane_offset)
  EXPECT_EQ(r.error,
            "math between map_value pointer and register with unbounded min value is not allowed")
      << r.log;
}

TEST(Verifier, BoundedLoopTerminates) {
  accept(
      "r0 = 0\n"
      "r1 = 0\n"
      "r0 += r1\n"
      "r1 += 1\n"
      "if r1 < 100 goto -3\n"
      "exit\n");
}

TEST(Verifier, InfiniteLoopIsRejected) {
  runtime rt;
  const verify_result r = check(rt, "r0 = 0\nr1 = 0\nif r1 == 0 goto -1\nexit\n", 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "infinite loop detected at insn 2");
}

TEST(Verifier, ComplexityLimit) {
  runtime rt;
  // an unbounded counter: every state differs, none prunes, the budget runs out
  const verify_result r = check(rt, "r0 = 0\nr0 += 1\nif r0 != 0 goto -2\nexit\n", 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "BPF program is too large. Processed 1000001 insn");
}

// The kernel's format: the entry state, each instruction with what it read or changed
// (aligned at column 40), and the summary; at level 1 an accepted program keeps only the
// summary, at level 2 everything.
TEST(Verifier, LogEndsWithTheKernelsSummary) {
  runtime rt;
  verify_result r = check(rt, "r0 = 0\nr1 = r0\nexit\n", 2);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.log.find("0: R1=ctx() R2=64 R10=fp0\n"
                       "0: (b7) r0 = 0                        ; R0=0\n"
                       "1: (bf) r1 = r0                       ; R0=0 R1=0\n"
                       "2: (95) exit\n"),
            std::string::npos)
      << r.log;
  EXPECT_NE(r.log.find("processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0"),
            std::string::npos)
      << r.log;
  r = check(rt, "r0 = 0\nexit\n", 1);
  EXPECT_EQ(r.log.find("0: (b7) r0 = 0"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0"),
            std::string::npos)
      << r.log;
}

int with_ringbuf(runtime& rt) {
  map_attr a;
  a.map_type = BPF_MAP_TYPE_RINGBUF;
  a.max_entries = 4096;
  a.name = "rb";
  auto fd = rt.create_map(a);
  EXPECT_TRUE(fd.ok()) << (fd.ok() ? "" : fd.err().msg);
  return fd.ok() ? *fd : -1;
}

TEST(Verifier, AReservedRecordMustBeSubmittedOnEveryPath) {
  runtime rt;
  const int fd = with_ringbuf(rt);
  const std::string reserve = fmt::format(
      "r1 = map_fd[{}]\n"
      "r2 = 8\n"
      "r3 = 0\n"
      "call bpf_ringbuf_reserve#131\n"
      "if r0 == 0 goto +{}\n",
      fd, "{}");
  // leaked on the non-null path
  verify_result r = check(rt, fmt::format(fmt::runtime(reserve), 1) + "r0 = 0\nr0 = 0\nexit\n");
  EXPECT_FALSE(r.ok);
  // id 1 is the maybe-null id the reference's replaces (the kernel's numbering)
  EXPECT_EQ(r.error, "BPF_EXIT instruction in main prog would lead to reference leak") << r.log;
  EXPECT_NE(r.log.find("Unreleased reference id=2 alloc_insn=4\n"), std::string::npos) << r.log;
  // submitted: fine; the record is writable up to its size
  r = check(rt, fmt::format(fmt::runtime(reserve), 5) +
                    "r1 = 7\n"
                    "*(u64 *)(r0 +0) = r1\n"
                    "r1 = r0\n"
                    "r2 = 0\n"
                    "call bpf_ringbuf_submit#132\n"
                    "r0 = 0\n"
                    "exit\n");
  EXPECT_TRUE(r.ok) << r.error << "\n" << r.log;
  r = check(rt, fmt::format(fmt::runtime(reserve), 5) +
                    "r1 = 7\n"
                    "*(u64 *)(r0 +8) = r1\n"
                    "r1 = r0\n"
                    "r2 = 0\n"
                    "call bpf_ringbuf_submit#132\n"
                    "r0 = 0\n"
                    "exit\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "invalid access to memory, mem_size=8 off=8 size=8") << r.log;
}

// Found by fuzz_verifier: a hash map passed to bpf_ringbuf_reserve was accepted, and the
// helper faulted at run time.
TEST(Verifier, RingbufHelpersTakeRingbufMapsOnly) {
  runtime rt;
  const int fd = with_map(rt);
  const verify_result r = check(rt, fmt::format(
                                        "r1 = map_fd[{}]\n"
                                        "r2 = 8\n"
                                        "r3 = 0\n"
                                        "call bpf_ringbuf_reserve#131\n"
                                        "r0 = 0\n"
                                        "exit\n",
                                        fd));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "cannot pass map_type 2 into func bpf_ringbuf_reserve#131") << r.log;
}

TEST(Verifier, BpfToBpfCalls) {
  // the callee sees r1-r5, returns in r0; the caller's r6-r9 survive
  accept(
      "r6 = 3\n"
      "r1 = 5\n"
      "call pc+2\n"
      "r0 += r6\n"
      "exit\n"
      "r0 = r1\n"
      "r0 += 1\n"
      "exit\n");
  reject(
      "r6 = 3\n"
      "call pc+1\n"
      "exit\n"
      "r0 = r6\n"  // the callee's r6 is not the caller's
      "exit\n",
      "R6 !read_ok");
}

TEST(Verifier, CallbacksAreVerifiedWithTheirReturnRange) {
  const std::string prog =
      "r1 = 10\n"
      "r2 = func[+6]\n"
      "r3 = 0\n"
      "r4 = 0\n"
      "call bpf_loop#181\n"
      "r0 = 0\n"
      "exit\n"
      "r0 = {}\n"
      "exit\n";
  accept(fmt::format(fmt::runtime(prog), 1));
  reject(fmt::format(fmt::runtime(prog), 2),
         "At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]");
}

TEST(Verifier, HelperArgumentTypes) {
  runtime rt;
  const int fd = with_map(rt);
  // a scalar where a map is expected
  verify_result r = check(rt, "r1 = 0\nr2 = r10\nr2 += -8\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "R1 type=scalar expected=map_ptr") << r.log;
  // a key outside the stack
  r = check(rt, fmt::format("r1 = map_fd[{}]\nr2 = r10\nr2 += -2\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit\n", fd));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "invalid indirect access to stack R2 off=-2 size=4") << r.log;
}

// Pruning must not hide a path: two paths join with different constants, one of which later
// goes out of bounds. The first path makes the constant precise when it uses it as an offset,
// back to the join's stored state, so the second path is not pruned against it.
TEST(Verifier, PrecisionKeepsPruningSound) {
  runtime rt;
  const int fd = with_map(rt);
  const std::string head = lookup(fd) +
                           "if r0 == 0 goto +{}\n"
                           "r2 = *(u64 *)(r6 +0)\n"
                           "if r2 == 0 goto +2\n"
                           "r3 = 0\n"
                           "goto +1\n"
                           "r3 = {}\n";  // the join is the next instruction
  // through a register
  verify_result r = check(rt, fmt::format(fmt::runtime(head), 8, 100) +
                                  "r0 += r3\n"
                                  "r0 = *(u64 *)(r0 +0)\n"
                                  "exit\n"
                                  "r0 = 0\n"
                                  "exit\n");
  EXPECT_FALSE(r.ok) << r.log;
  EXPECT_EQ(r.error, "invalid access to map value, value_size=64 off=100 size=8") << r.log;
  r = check(rt, fmt::format(fmt::runtime(head), 8, 56) +
                    "r0 += r3\n"
                    "r0 = *(u64 *)(r0 +0)\n"
                    "exit\n"
                    "r0 = 0\n"
                    "exit\n");
  EXPECT_TRUE(r.ok) << r.error << "\n" << r.log;
  // through a stack spill and fill after the join
  r = check(rt, fmt::format(fmt::runtime(head), 10, 100) +
                    "*(u64 *)(r10 -16) = r3\n"
                    "r4 = *(u64 *)(r10 -16)\n"
                    "r0 += r4\n"
                    "r0 = *(u64 *)(r0 +0)\n"
                    "exit\n"
                    "r0 = 0\n"
                    "exit\n");
  EXPECT_FALSE(r.ok) << r.log;
  EXPECT_EQ(r.error, "invalid access to map value, value_size=64 off=100 size=8") << r.log;
}

// A null check covers the copies of the pointer it tests, and only those: a path where r7 is a
// copy of r8 must not stand in for one where r7 is another lookup's result (check_ids).
TEST(Verifier, NullChecksFollowIdsAcrossPaths) {
  runtime rt;
  const int fd = with_hash(rt);
  const std::string look = fmt::format(
      "r2 = r10\n"
      "r2 += -4\n"
      "r1 = map_fd[{}]\n"
      "call bpf_map_lookup_elem#1\n",
      fd);
  const verify_result r = check(rt,
                                "r6 = r1\n"
                                "r1 = 0\n"
                                "*(u32 *)(r10 -4) = r1\n" +
                                    look + "r8 = r0\n" + look +
                                    "r9 = r0\n"
                                    "r2 = *(u64 *)(r6 +0)\n"
                                    "if r2 == 0 goto +2\n"
                                    "r7 = r8\n"
                                    "goto +1\n"
                                    "r7 = r9\n"
                                    "if r8 == 0 goto +2\n"
                                    "r0 = *(u64 *)(r7 +0)\n"
                                    "exit\n"
                                    "r0 = 0\n"
                                    "exit\n");
  EXPECT_FALSE(r.ok) << r.log;
  EXPECT_EQ(r.error, "R7 invalid mem access 'map_value_or_null'") << r.log;
}

// A value that decided nothing does not stop pruning: both paths reach the join with different
// r3, which is never used for safety; the second path is pruned there.
TEST(Verifier, ImpreciseValuesPrune) {
  runtime rt;
  const int fd = with_map(rt);
  const verify_result r = check(rt, lookup(fd) +
                                        "if r0 == 0 goto +6\n"
                                        "r2 = *(u64 *)(r6 +0)\n"
                                        "if r2 == 0 goto +2\n"
                                        "r3 = 0\n"
                                        "goto +1\n"
                                        "r3 = 100\n"
                                        "*(u64 *)(r0 +8) = r3\n"  // stored as data: no decision
                                        "r0 = 0\n"
                                        "exit\n",
                                2);
  ASSERT_TRUE(r.ok) << r.error << "\n" << r.log;
  EXPECT_NE(r.log.find(": safe"), std::string::npos) << r.log;
}

// A load the verifier marks PROBE_MEM (through a kernel-object pointer) reads 0 from the null
// page instead of faulting, in both interpreter modes.
TEST(Verifier, ProbeMemLoadsReadZeroFromNull) {
  runtime rt;
  auto insns = assemble("r1 = 0\nr0 = *(u64 *)(r1 +16)\nexit\n");
  ASSERT_TRUE(insns.ok());
  auto p = bpf_prog::load(rt, *insns);
  ASSERT_TRUE(p.ok());
  (*p)->xlated[1].code = BPF_LDX | BPF_PROBE_MEM | BPF_DW;
  for (bool checked : {false, true}) {
    auto r = interpreter(checked).run(**p, {});
    ASSERT_TRUE(r.ok()) << r.err().msg;
    EXPECT_EQ(*r, 0u);
  }
}

}  // namespace
}  // namespace mmbpf::bpf
