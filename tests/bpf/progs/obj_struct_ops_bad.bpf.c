// Wrong on purpose: test_1's program reads three arguments, but the member takes one.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct bpf_dummy_ops_state { int val; };
struct bpf_dummy_ops {
	int (*test_1)(struct bpf_dummy_ops_state *cb);
};

SEC("struct_ops/test_1")
int BPF_PROG(test_1, struct bpf_dummy_ops_state *state, int a, int b)
{
	return a + b;
}

SEC(".struct_ops")
struct bpf_dummy_ops bad = { .test_1 = (void *)test_1 };

char LICENSE[] SEC("license") = "GPL";
