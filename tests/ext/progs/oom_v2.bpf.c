// The v2 shape of bpf_oom_ops (2025-10: a struct bpf_oom_ctx first), which the model does not
// support: it loads (the member exists), and attaching it is refused with a one-line error.
// Its own declarations, not vmlinux.h, whose struct bpf_oom_ops is v3.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

struct bpf_oom_ctx {
	__u64 cgroup_id;
};
struct oom_control;

struct bpf_oom_ops {
	int (*handle_out_of_memory)(struct bpf_oom_ctx *ctx, struct oom_control *oc);
	char name[64];
};

SEC("struct_ops.s/handle_out_of_memory")
int v2_handler(unsigned long long *ctx)
{
	return 0;
}

SEC(".struct_ops.link")
struct bpf_oom_ops v2_ops = {
	.handle_out_of_memory = (void *)v2_handler,
	.name = "v2_policy",
};
