// The v2 shape of bpf_oom_ops (2025-10), written as a policy for both interfaces would be:
// libbpf's flavor suffix on the model's struct bpf_oom_ops___v2 binds it to bpf_oom_ops. The
// handler gets a struct bpf_oom_ctx first (the link's cgroup id) and kills the task whose pid
// the test put into `pids`.
#include "oom_common.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(v2_handler, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	struct task_struct *t;
	int ret;

	count_call();
	put(RES_CGROUP_ID, octx->cgroup_id);
	put(RES_HAS_MEMCG, oc->memcg != 0);
	t = bpf_task_from_pid(victim_pid());
	if (!t)
		return 0;
	ret = bpf_oom_kill_process(oc, t, "bpf oom v2");
	put(RES_KILL_RET, ret);
	bpf_task_release(t);
	return 1;
}

SEC(".struct_ops.link")
struct bpf_oom_ops___v2 v2_ops = {
	.handle_out_of_memory = (void *)v2_handler,
	.name = "v2_policy",
};
