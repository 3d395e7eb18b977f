// A CO-RE target: BTF describing the types of core_prog.bpf.c laid out differently, as another
// kernel would (tests/bpf/core_test.cpp relocates core_prog against this object's .BTF).
// Differences: fields reordered and padded, x/y moved into an anonymous union of an anonymous
// struct, flags narrowed to u16 (unsigned: a load can shrink), prio widened to a signed long (a
// load cannot be resized), wider and moved bitfields, a longer array, no field 'gone', the
// flavored struct under its plain name, enum values changed and CORE_ZOMBIE missing, two
// flavors of core_amb that disagree. core_test.cpp mirrors struct core_task in C++.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct core_inner {
	long pad;
	long b;
	int a;
};

enum core_state { CORE_DEAD = 7, CORE_RUNNING = 5, CORE_SLEEPING = 6 };

struct core_task {
	long extra0;
	struct core_task *parent;
	unsigned short flags;
	long prio;
	union {
		struct {
			int y;
			int x;
		};
		long xy;
	};
	int pid;
	unsigned int bf_pad : 7;
	unsigned int bf2 : 5;
	unsigned int bf1 : 3;
	int sbf : 6;
	struct core_inner in;
	int arr[8];
	long state;
};

struct core_flavored {
	int renamed;
	int legacy;
};

struct core_amb___a {
	int pad;
	int v;
};

struct core_amb___b {
	int v;
};

SEC("core/anchor")
int anchor(struct core_task *t, struct core_flavored *f, struct core_amb___a *a,
	   struct core_amb___b *b, enum core_state s)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
