// A handler that declares an OOM itself with bpf_out_of_memory(): the kfunc set's filter
// refuses the call from bpf_oom_ops programs, so the object does not load.
#include "oom_common.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(recursive, struct oom_control *oc, struct bpf_struct_ops_link *link)
{
	count_call();
	put(RES_OOM_RET, bpf_out_of_memory(0, 0, BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK));
	return 1;
}

SEC(".struct_ops.link")
struct bpf_oom_ops recursive_ops = {
	.handle_out_of_memory = (void *)recursive,
	.name = "recursive_policy",
};
