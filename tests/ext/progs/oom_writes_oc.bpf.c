// Fails verification: a handler that tries to claim progress by writing oc->bpf_memory_freed,
// which is read-only to BPF.
#include "oom_common.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(liar, struct oom_control *oc, struct bpf_struct_ops_link *link)
{
	oc->bpf_memory_freed = 1;
	return 1;
}

SEC(".struct_ops.link")
struct bpf_oom_ops liar_ops = {
	.handle_out_of_memory = (void *)liar,
	.name = "liar",
};
