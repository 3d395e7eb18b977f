// CO-RE programs written against local type definitions (preserve_access_index), relocated in
// tests/bpf/core_test.cpp against the differently laid out copies in core_target*.bpf.c. Each
// program has its own section so that its relocations form one group.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define __core __attribute__((preserve_access_index))

struct core_inner {
	int a;
	long b;
} __core;

enum core_state { CORE_RUNNING = 0, CORE_SLEEPING = 1, CORE_DEAD = 2, CORE_ZOMBIE = 3 };

struct core_task {
	int pid;
	long state;
	struct core_inner in;
	struct {
		int x;
		int y;
	};
	int arr[4];
	unsigned int flags;
	int prio;
	unsigned int bf1 : 3;
	unsigned int bf2 : 5;
	int sbf : 4;
	struct core_task *parent;
	int gone;
} __core;

struct core_flavored___v2 {
	int legacy;
	int renamed;
} __core;

struct core_absent {
	int nothing;
} __core;

struct core_amb {
	int v;
} __core;

SEC("core/pid")
long get_pid(struct core_task *t) { return t->pid; }

SEC("core/inner_b")
long get_inner_b(struct core_task *t) { return t->in.b; }

SEC("core/anon_y")
long get_y(struct core_task *t) { return t->y; }

SEC("core/arr2")
long get_arr2(struct core_task *t) { return t->arr[2]; }

SEC("core/flags")
long get_flags(struct core_task *t) { return t->flags; }

SEC("core/prio")
long get_prio(struct core_task *t) { return t->prio; }

SEC("core/gone")
long get_gone(struct core_task *t) { return t->gone; }

SEC("core/gone_guarded")
long get_gone_guarded(struct core_task *t)
{
	if (bpf_core_field_exists(t->gone))
		return t->gone;
	return -1;
}

SEC("core/gone_guarded_neg")
long get_gone_guarded_neg(struct core_task *t)
{
	if (!bpf_core_field_exists(t->gone))
		return -1;
	return t->gone + 1;
}

SEC("core/read_chain")
long read_chain(struct core_task *t) { return BPF_CORE_READ(t, parent, in.b); }

SEC("core/sizes")
long sizes(struct core_task *t)
{
	return bpf_core_field_size(t->flags) * 1000000 + bpf_core_field_size(t->in) * 1000 +
	       bpf_core_field_size(t->arr);
}

SEC("core/bitfields")
long bitfields(struct core_task *t)
{
	long bf2 = BPF_CORE_READ_BITFIELD(t, bf2);
	long sbf = BPF_CORE_READ_BITFIELD(t, sbf);
	return bf2 * 1000 + sbf;
}

SEC("core/types")
long types(struct core_task *t)
{
	return bpf_core_type_exists(struct core_flavored___v2) * 100 +
	       bpf_core_type_exists(struct core_absent) * 10 + bpf_core_type_exists(struct core_task);
}

SEC("core/type_size")
long type_size(struct core_task *t) { return bpf_core_type_size(struct core_task); }

SEC("core/type_ids")
long type_ids(struct core_task *t)
{
	return ((long)bpf_core_type_id_kernel(struct core_inner) << 32) |
	       bpf_core_type_id_local(struct core_inner);
}

SEC("core/enums")
long enums(struct core_task *t)
{
	return bpf_core_enum_value(enum core_state, CORE_DEAD) * 100 +
	       bpf_core_enum_value_exists(enum core_state, CORE_ZOMBIE) * 10 +
	       bpf_core_enum_value_exists(enum core_state, CORE_SLEEPING);
}

SEC("core/flavor")
long flavor(struct core_task *t)
{
	struct core_flavored___v2 *f = (void *)t;
	return f->renamed;
}

SEC("core/amb")
long amb(struct core_task *t)
{
	struct core_amb *a = (void *)t;
	return a->v;
}

char LICENSE[] SEC("license") = "GPL";
