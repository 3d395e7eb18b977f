// A handler that kills the task whose pid the test put into `pids`, found with
// bpf_task_from_pid(); records what it saw (the link's cgroup id, oc->memcg, the kill's return,
// bpf_task_is_oom_victim() before and after) and returns 1.
#include "oom_common.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(kill_pid, struct oom_control *oc, struct bpf_struct_ops_link *link)
{
	struct task_struct *t;
	int ret;

	count_call();
	put(RES_CGROUP_ID, link->cgroup_id);
	put(RES_HAS_MEMCG, oc->memcg != 0);
	t = bpf_task_from_pid(victim_pid());
	if (!t)
		return 0;
	put(RES_VICTIM_BEFORE, bpf_task_is_oom_victim(t));
	ret = bpf_oom_kill_process(oc, t, "bpf oom test");
	put(RES_KILL_RET, ret);
	put(RES_VICTIM_AFTER, bpf_task_is_oom_victim(t));
	bpf_task_release(t);
	return 1;
}

SEC(".struct_ops.link")
struct bpf_oom_ops kill_pid_ops = {
	.handle_out_of_memory = (void *)kill_pid,
	.name = "kill_pid_policy",
};
