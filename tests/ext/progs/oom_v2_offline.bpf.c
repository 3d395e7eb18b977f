// The v2 shape of bpf_oom_ops with its handle_cgroup_offline callback, declared as a program
// built against a v2 kernel's headers would see it (its own struct bpf_oom_ops, no vmlinux.h).
// The handler frees nothing; the offline callback records the ids it was given.
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

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

enum { SEEN_CALLS, SEEN_CTX_ID, SEEN_OFFLINE_ID, SEEN_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SEEN_MAX);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void seen_put(__u32 k, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&seen, &k);

	if (p)
		*p = v;
}

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(v2_handler, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	return 0;
}

SEC("struct_ops/handle_cgroup_offline")
void BPF_PROG(v2_offline, struct bpf_oom_ctx *octx, __u64 cgroup_id)
{
	__u32 k = SEEN_CALLS;
	__u64 *calls = bpf_map_lookup_elem(&seen, &k);

	if (calls)
		*calls += 1;
	seen_put(SEEN_CTX_ID, octx->cgroup_id);
	seen_put(SEEN_OFFLINE_ID, cgroup_id);
}

SEC(".struct_ops.link")
struct bpf_oom_ops v2_offline_ops = {
	.handle_out_of_memory = (void *)v2_handler,
	.handle_cgroup_offline = (void *)v2_offline,
	.name = "v2_offline_policy",
};
