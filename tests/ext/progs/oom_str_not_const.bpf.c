// Fails verification: the message of bpf_oom_kill_process() is a __str argument, which must be
// a constant string; this one is on the stack.
#include "oom_common.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(stack_msg, struct oom_control *oc, struct bpf_struct_ops_link *link)
{
	char msg[8] = "stack";
	struct task_struct *t = bpf_task_from_pid(victim_pid());

	if (!t)
		return 0;
	bpf_oom_kill_process(oc, t, msg);
	bpf_task_release(t);
	return 1;
}

SEC(".struct_ops.link")
struct bpf_oom_ops stack_msg_ops = {
	.handle_out_of_memory = (void *)stack_msg,
	.name = "stack_msg",
};
