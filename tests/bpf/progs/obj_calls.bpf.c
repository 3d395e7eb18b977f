// bpf-to-bpf calls: a static subprogram and a global one in .text shared by two programs in
// different sections, a subprogram calling another, and a bpf_loop callback.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) __u64 square(__u64 x)
{
	return x * x;
}

__attribute__((noinline)) __u64 sum_squares(__u64 n)
{
	__u64 s = 0;
	for (__u64 i = 1; i <= n; i++)
		s += square(i);
	return s;
}

static int add_index(__u32 i, void *ctx)
{
	*(__u64 *)ctx += i;
	return 0;
}

SEC("syscall")
int calls_a(void *ctx)
{
	return sum_squares(4) + square(2);  /* 30 + 4 */
}

SEC("syscall.alt")
int calls_b(void *ctx)
{
	__u64 acc = 0;
	bpf_loop(5, add_index, &acc, 0);   /* 0+1+2+3+4 */
	return acc * 100 + sum_squares(2); /* 1000 + 5 */
}

char LICENSE[] SEC("license") = "GPL";
