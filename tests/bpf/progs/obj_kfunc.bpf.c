// kfunc externs: one the registry has, one __weak that it lacks, guarded as libbpf users do.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef bpf_ksym_exists  /* libbpf >= 1.2 has it; Debian 12's 1.1 does not */
#define bpf_ksym_exists(sym) (!!(sym))
#endif

extern __u64 bpf_test_mul(__u64 a, __u64 b) __ksym;
extern __u64 bpf_not_in_kernel(__u64 a) __ksym __weak;

SEC("syscall")
int use_kfunc(void *ctx)
{
	__u64 r = bpf_test_mul(6, 7);
	if (bpf_ksym_exists(bpf_not_in_kernel))
		r += bpf_not_in_kernel(1);
	return r;
}

char LICENSE[] SEC("license") = "GPL";
