// A struct_ops instance of the kernel's test type bpf_dummy_ops, with BPF_PROG callbacks, one of
// them sleepable. The types are declared here as a kernel's vmlinux.h would.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct bpf_dummy_ops_state { int val; };
struct bpf_dummy_ops {
	int (*test_1)(struct bpf_dummy_ops_state *cb);
	int (*test_2)(struct bpf_dummy_ops_state *cb, int a1, unsigned short a2, char a3, unsigned long a4);
	int (*test_sleepable)(struct bpf_dummy_ops_state *cb);
};

SEC("struct_ops/test_1")
int BPF_PROG(test_1, struct bpf_dummy_ops_state *state)
{
	return state ? state->val + 1 : 0;
}

SEC("struct_ops/test_2")
int BPF_PROG(test_2, struct bpf_dummy_ops_state *state, int a1, unsigned short a2, char a3, unsigned long a4)
{
	return a1 + a2 + a3 + a4;
}

SEC("struct_ops.s/test_sleepable")
int BPF_PROG(test_sleepable, struct bpf_dummy_ops_state *state)
{
	return 0;
}

SEC(".struct_ops.link")
struct bpf_dummy_ops dummy = {
	.test_1 = (void *)test_1,
	.test_2 = (void *)test_2,
	.test_sleepable = (void *)test_sleepable,
};

char LICENSE[] SEC("license") = "GPL";
