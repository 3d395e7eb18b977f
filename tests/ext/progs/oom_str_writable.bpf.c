// Fails verification: the message of bpf_oom_kill_process() is a __str argument; a string in
// writable global data (.data) is not a constant string.
#include "oom_common.h"

char _license[] SEC("license") = "GPL";

char msg[8] = "data";

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(data_msg, struct oom_control *oc, struct bpf_struct_ops_link *link)
{
	struct task_struct *t = bpf_task_from_pid(victim_pid());

	if (!t)
		return 0;
	bpf_oom_kill_process(oc, t, msg);
	bpf_task_release(t);
	return 1;
}

SEC(".struct_ops.link")
struct bpf_oom_ops data_msg_ops = {
	.handle_out_of_memory = (void *)data_msg,
	.name = "data_msg",
};
