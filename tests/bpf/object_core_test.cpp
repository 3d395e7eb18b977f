// CO-RE end to end: objects compiled against their own layouts of kernel types load through the
// object loader against the model's BTF and read the right fields of C++ objects built from the
// model's vmlinux.h; a read of a field the model lacks fails the load, naming the field, unless
// bpf_core_field_exists guards it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "../../bpf/include/vmlinux.h"
#include "bpf/interpreter.h"
#include "bpf/object.h"
#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

std::unique_ptr<bpf_object> load(const char* name, runtime& rt, std::string* err = nullptr) {
  auto o = bpf_object::open_file(std::string(MMBPF_BPF_OBJ_DIR) + "/tests/bpf/progs/" + name +
                                 ".bpf.o");
  EXPECT_TRUE(o) << o.err().msg;
  if (!o) return nullptr;
  auto r = (*o)->load(rt);
  if (!r) {
    if (err) *err = r.err().msg;
    return nullptr;
  }
  return std::move(o.value());
}

class ObjectCore : public ::testing::Test {
 protected:
  void SetUp() override {
    std::memset(&task, 0, sizeof task);
    std::memset(&sig, 0, sizeof sig);
    task.pid = 42;
    task.tgid = 7;
    std::strcpy(task.comm, "kswapd0");
    task.signal = &sig;
    sig.oom_score_adj = -300;
    // The model's objects are memory programs may read.
    ASSERT_TRUE(rt.regions().add({.start = reinterpret_cast<uintptr_t>(&task),
                                  .size = sizeof task, .writable = false, .name = "task_struct"}));
    ASSERT_TRUE(rt.regions().add({.start = reinterpret_cast<uintptr_t>(&sig), .size = sizeof sig,
                                  .writable = false, .name = "signal_struct"}));
  }
  uint64_t run(const obj_prog& p) {
    uint64_t ctx[1] = {reinterpret_cast<uint64_t>(&task)};
    auto r = interpreter(true).run_mem(*p.prog, ctx, sizeof ctx);
    EXPECT_TRUE(r) << r.err().msg;
    return r ? *r : ~0ULL;
  }
  runtime rt;
  struct task_struct task;
  struct signal_struct sig;
};

TEST_F(ObjectCore, DifferentLayoutReadsTheModelsFields) {
  auto o = load("obj_core", rt);
  ASSERT_TRUE(o);
  EXPECT_EQ(static_cast<int32_t>(run(*o->find_program("read_task"))), 42 * 1000000 + 7 * 1000 + 200);
}

TEST_F(ObjectCore, GuardedReadOfAMissingFieldLoadsAndTakesTheOtherBranch) {
  auto o = load("obj_core", rt);
  ASSERT_TRUE(o);
  EXPECT_EQ(run(*o->find_program("read_guarded")), 16u + 100u);  // sizeof comm, pid exists
}

TEST_F(ObjectCore, UnguardedReadOfAMissingFieldFailsNamingIt) {
  std::string err;
  EXPECT_FALSE(load("obj_core_missing", rt, &err));
  EXPECT_THAT(err, ::testing::HasSubstr("obj_core_missing.bpf.o: syscall: insn"));
  EXPECT_THAT(err, ::testing::HasSubstr("field 'not_in_the_model' not found in target struct "
                                        "task_struct"));
}

}  // namespace
}  // namespace mmbpf::bpf
