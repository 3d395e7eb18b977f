// The generic kfuncs every program type may call (kernel/bpf/helpers.c, kernel/bpf/bpf_iter.c):
// RCU read sections, the numbers iterator behind bpf_for()/bpf_repeat(), and task references.
//
// Simplified: an RCU read section has no effect at run time (the model has no grace periods;
// the verifier enforces its rules). Tasks come from the host (runtime::find_task, the model's
// processes); a reference does not pin the task, which the host keeps alive for the run.
#include "bpf/kfuncs_generic.h"

#include <cstdint>
#include <cstring>

#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

// struct bpf_iter_num_kern: the state behind struct bpf_iter_num on the program's stack.
struct iter_num_kern {
  int32_t cur;  // the value next() last returned
  int32_t end;  // exclusive
};
static_assert(sizeof(iter_num_kern) == 8);

constexpr int64_t BPF_MAX_LOOPS = 8 * 1024 * 1024;

uint64_t rcu_read_lock(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) { return 0; }
uint64_t rcu_read_unlock(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) { return 0; }

// bpf_iter_num_new(it, start, end): [start, end); an empty iterator and -EINVAL if start > end,
// -E2BIG beyond BPF_MAX_LOOPS elements.
uint64_t iter_num_new(uint64_t it, uint64_t start, uint64_t end, uint64_t, uint64_t) {
  auto* s = reinterpret_cast<iter_num_kern*>(it);
  const int32_t b = static_cast<int32_t>(start), e = static_cast<int32_t>(end);
  if (b > e) {
    s->cur = s->end = 0;
    return static_cast<uint64_t>(-22);
  }
  if (int64_t{e} - b > BPF_MAX_LOOPS) {
    s->cur = s->end = 0;
    return static_cast<uint64_t>(-7);
  }
  s->cur = b - 1;  // next() pre-increments
  s->end = e;
  return 0;
}

// bpf_iter_num_next(it): a pointer to the next number (inside the iterator), NULL when done.
uint64_t iter_num_next(uint64_t it, uint64_t, uint64_t, uint64_t, uint64_t) {
  auto* s = reinterpret_cast<iter_num_kern*>(it);
  if (int64_t{s->cur} + 1 >= s->end) return 0;
  ++s->cur;
  return reinterpret_cast<uint64_t>(&s->cur);
}

uint64_t iter_num_destroy(uint64_t it, uint64_t, uint64_t, uint64_t, uint64_t) {
  std::memset(reinterpret_cast<void*>(it), 0, sizeof(iter_num_kern));
  return 0;
}

uint64_t task_from_pid(uint64_t pid, uint64_t, uint64_t, uint64_t, uint64_t) {
  runtime* rt = current_run() ? current_run()->rt : nullptr;
  if (!rt || !rt->find_task) return 0;
  return reinterpret_cast<uint64_t>(rt->find_task(static_cast<int32_t>(pid)));
}

uint64_t task_acquire(uint64_t p, uint64_t, uint64_t, uint64_t, uint64_t) { return p; }
uint64_t task_release(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) { return 0; }

}  // namespace

void register_generic_kfuncs(runtime& rt) {
  const kfunc_desc ks[] = {
      {.name = "bpf_rcu_read_lock", .fn = rcu_read_lock},
      {.name = "bpf_rcu_read_unlock", .fn = rcu_read_unlock},
      {.name = "bpf_iter_num_new", .fn = iter_num_new, .flags = KF_ITER_NEW},
      {.name = "bpf_iter_num_next", .fn = iter_num_next, .flags = KF_ITER_NEXT | KF_RET_NULL},
      {.name = "bpf_iter_num_destroy", .fn = iter_num_destroy, .flags = KF_ITER_DESTROY},
      {.name = "bpf_task_from_pid", .fn = task_from_pid, .flags = KF_ACQUIRE | KF_RET_NULL},
      {.name = "bpf_task_acquire", .fn = task_acquire, .flags = KF_ACQUIRE | KF_RCU | KF_RET_NULL},
      {.name = "bpf_task_release", .fn = task_release, .flags = KF_RELEASE},
  };
  for (const kfunc_desc& k : ks) (void)rt.kfuncs().add(k);
}

}  // namespace mmbpf::bpf
