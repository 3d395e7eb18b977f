// Global data in every section: .data, .bss, .rodata (const volatile, set before load) and
// string literals (.rodata.str1.1) through bpf_printk.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u64 scale = 3;   /* .rodata: the loader may set it before load */
__u64 counter = 5;                /* .data */
__u64 hits;                       /* .bss */
static volatile __u32 table[4] = { 1, 2, 3, 4 };  /* .data, static */

SEC("syscall")
int globals(void *ctx)
{
	hits++;
	counter += table[2];
	bpf_printk("scale=%llu counter=%llu", scale, counter);
	return scale * 1000 + counter * 10 + hits;
}

char LICENSE[] SEC("license") = "GPL";
