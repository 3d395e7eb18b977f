// Reads a field the model's task_struct lacks, unguarded: the load must fail naming the field.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	long not_in_the_model;
} __attribute__((preserve_access_index));

SEC("syscall")
int read_missing(__u64 *ctx)
{
	struct task_struct *t = (void *)ctx[0];
	return BPF_CORE_READ(t, not_in_the_model);
}

char LICENSE[] SEC("license") = "GPL";
