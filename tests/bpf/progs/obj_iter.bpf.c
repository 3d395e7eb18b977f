// bpf_for() and bpf_repeat() as clang compiles them: a bpf_dummy_ops instance whose test_1
// sums 0 .. state->val - 1 with the numbers iterator (no bound the verifier could unroll) and
// whose test_sleepable counts a bpf_repeat() inside an RCU read section.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf_iter.bpf.h"

SEC("struct_ops/test_1")
int BPF_PROG(sum_below, struct bpf_dummy_ops_state *state)
{
	int i, sum = 0;

	bpf_for(i, 0, state->val)
		sum += i;
	return sum;
}

SEC("struct_ops/test_2")
int BPF_PROG(first_multiple, struct bpf_dummy_ops_state *state, int a1, unsigned short a2, char a3,
	     unsigned long a4)
{
	int i, found = -1;

	bpf_for(i, a2, a4) {
		if (a1 && (unsigned int)i % (unsigned int)a1 == 0) {
			found = i;
			break;
		}
	}
	return found;
}

SEC("struct_ops.s/test_sleepable")
int BPF_PROG(repeat_in_rcu, struct bpf_dummy_ops_state *state)
{
	int n = 0;

	bpf_rcu_read_lock();
	bpf_repeat(5)
		n++;
	bpf_rcu_read_unlock();
	return n;
}

SEC(".struct_ops.link")
struct bpf_dummy_ops iter_ops = {
	.test_1 = (void *)sum_below,
	.test_2 = (void *)first_multiple,
	.test_sleepable = (void *)repeat_in_rcu,
};

char _license[] SEC("license") = "GPL";
