// The v2 shape of bpf_oom_ops with its handle_cgroup_offline callback: refused at load, the
// model's struct bpf_oom_ops (v3) has no such member.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

struct bpf_oom_ctx {
	__u64 cgroup_id;
};
struct oom_control;

struct bpf_oom_ops {
	int (*handle_out_of_memory)(struct bpf_oom_ctx *ctx, struct oom_control *oc);
	void (*handle_cgroup_offline)(struct bpf_oom_ctx *ctx, __u64 cgroup_id);
	char name[64];
};

SEC("struct_ops.s/handle_out_of_memory")
int v2_handler(unsigned long long *ctx)
{
	return 0;
}

SEC("struct_ops/handle_cgroup_offline")
void v2_offline(unsigned long long *ctx)
{
}

SEC(".struct_ops.link")
struct bpf_oom_ops v2_offline_ops = {
	.handle_out_of_memory = (void *)v2_handler,
	.handle_cgroup_offline = (void *)v2_offline,
	.name = "v2_offline_policy",
};
