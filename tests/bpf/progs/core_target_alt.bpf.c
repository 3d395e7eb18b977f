// A second CO-RE target for core_prog.bpf.c (see core_target.bpf.c): x/y as plain members,
// flags widened to an unsigned long (a load can grow), 'gone' present, arr too short for arr[2],
// no core_flavored at all, CORE_ZOMBIE present, two flavors of core_amb that agree.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct core_inner {
	long b;
	int a;
};

enum core_state { CORE_RUNNING = 10, CORE_SLEEPING, CORE_DEAD, CORE_ZOMBIE };

struct core_task {
	int pid;
	int x;
	int y;
	int gone;
	unsigned long flags;
	int prio;
	int arr[2];
	unsigned int bf1 : 3;
	int sbf : 4;
	unsigned int bf2 : 5;
	struct core_inner in;
	struct core_task *parent;
	long state;
};

struct core_amb___a {
	int v;
};

struct core_amb___b {
	int v;
	int w;
};

SEC("core/anchor")
int anchor(struct core_task *t, struct core_amb___a *a, struct core_amb___b *b, enum core_state s)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
