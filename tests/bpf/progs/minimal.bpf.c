// The smallest object: one program in a custom section, a license. Loader smoke test.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("syscall")
int minimal(void *ctx)
{
	return 42;
}

char LICENSE[] SEC("license") = "GPL";
