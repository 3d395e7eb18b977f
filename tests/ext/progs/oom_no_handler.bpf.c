// Refused at load: bpf_oom_ops without its required handle_out_of_memory.
#include "oom_common.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(unused_handler, struct oom_control *oc, struct bpf_struct_ops_link *link)
{
	return 0;
}

SEC(".struct_ops.link")
struct bpf_oom_ops no_handler_ops = {
	.name = "no_handler",
};
