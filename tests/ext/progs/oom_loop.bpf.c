// A handler that loops (a bounded loop, proven by the iterator rules) over pids and kills
// nothing, then claims success.
#include "oom_common.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(loop_no_kill, struct oom_control *oc, struct bpf_struct_ops_link *link)
{
	s64 sum = 0;
	int i;

	count_call();
	bpf_for(i, 0, 1000)
		sum += i;
	put(RES_KILL_RET, sum);
	return 1;
}

SEC(".struct_ops.link")
struct bpf_oom_ops loop_ops = {
	.handle_out_of_memory = (void *)loop_no_kill,
	.name = "loop_policy",
};
