/* The generic kfuncs for BPF C (kernel/bpf/helpers.c, kernel/bpf/bpf_iter.c): RCU read
 * sections, task references, and open-coded loops over the numbers iterator.
 *
 *   int i, sum = 0;
 *   bpf_for(i, 0, n)          i takes 0 .. n-1; the verifier proves the loop without a bound
 *           sum += i;         on its body (KF_ITER_* rules), and no callback is involved
 *   bpf_repeat(8) { ... }     the body 8 times
 *
 * The iterator lives on the stack and is destroyed when the loop's scope ends (clang's cleanup
 * attribute), also on break. */
#ifndef __BPF_ITER_BPF_H
#define __BPF_ITER_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

void bpf_rcu_read_lock(void) __ksym;
void bpf_rcu_read_unlock(void) __ksym;
struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

/* One step: the next number into *out, false once the range is exhausted. */
static __always_inline bool mmbpf_iter_num_step(struct bpf_iter_num *it, int *out)
{
	int *v = bpf_iter_num_next(it);

	if (!v)
		return false;
	*out = *v;
	return true;
}

#define __MMBPF_ITER_CAT2(a, b) a##b
#define __MMBPF_ITER_CAT(a, b) __MMBPF_ITER_CAT2(a, b)
#define __MMBPF_ITER_NAME __MMBPF_ITER_CAT(__mmbpf_iter_, __LINE__)

/* for (i = start; i < end; i++), proven by the iterator rules rather than by unrolling. */
#define bpf_for(i, start, end)                                                               \
	for (struct bpf_iter_num __MMBPF_ITER_NAME                                            \
		     __attribute__((cleanup(bpf_iter_num_destroy))),                           \
	     *__MMBPF_ITER_CAT(__MMBPF_ITER_NAME, _init) __attribute__((unused)) =              \
		     (bpf_iter_num_new(&__MMBPF_ITER_NAME, (start), (end)), (void *)0);        \
	     mmbpf_iter_num_step(&__MMBPF_ITER_NAME, &(i));)

/* The body n times. */
#define bpf_repeat(n)                                                                        \
	for (struct bpf_iter_num __MMBPF_ITER_NAME                                            \
		     __attribute__((cleanup(bpf_iter_num_destroy))),                           \
	     *__MMBPF_ITER_CAT(__MMBPF_ITER_NAME, _init) __attribute__((unused)) =              \
		     (bpf_iter_num_new(&__MMBPF_ITER_NAME, 0, (n)), (void *)0);                \
	     bpf_iter_num_next(&__MMBPF_ITER_NAME);)

#endif /* __BPF_ITER_BPF_H */
