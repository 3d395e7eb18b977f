// CO-RE through the object loader: local copies of task_struct and signal_struct laid out unlike
// the model's (fields reordered, extra fields, a ___flavor suffix), read with BPF_CORE_READ
// (nested, through bpf_probe_read_kernel) and with direct preserve_access_index loads, plus a read
// of a field the model lacks, guarded by bpf_core_field_exists.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct signal_struct___mine {
	long padding[4];
	short oom_score_adj;
	int nr_threads;
} __attribute__((preserve_access_index));

struct task_struct___mine {
	char comm[16];
	long not_in_the_model;
	int tgid;
	struct signal_struct___mine *signal;
	int pid;
} __attribute__((preserve_access_index));

/* ctx: one u64, the task's address. */
SEC("syscall")
int read_task(__u64 *ctx)
{
	struct task_struct___mine *t = (void *)ctx[0];
	int pid = BPF_CORE_READ(t, pid);
	int tgid = t->tgid;  /* a direct load, its offset relocated */
	short adj = BPF_CORE_READ(t, signal, oom_score_adj);
	char c0 = BPF_CORE_READ(t, comm[1]);
	return pid * 1000000 + tgid * 1000 + (adj + 500) + c0 * 0;
}

SEC("syscall")
int read_guarded(__u64 *ctx)
{
	struct task_struct___mine *t = (void *)ctx[0];
	if (bpf_core_field_exists(t->not_in_the_model))
		return BPF_CORE_READ(t, not_in_the_model);
	return bpf_core_field_size(t->comm) + bpf_core_field_exists(t->pid) * 100;
}

char LICENSE[] SEC("license") = "GPL";
