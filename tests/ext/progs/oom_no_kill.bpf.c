// A handler that claims success (returns 1) without killing anything: the model must not
// believe it. Its ops has no name, so it is "bpf_defined_policy".
#include "oom_common.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(no_kill, struct oom_control *oc, struct bpf_struct_ops_link *link)
{
	count_call();
	return 1;
}

SEC(".struct_ops.link")
struct bpf_oom_ops no_kill_ops = {
	.handle_out_of_memory = (void *)no_kill,
};
