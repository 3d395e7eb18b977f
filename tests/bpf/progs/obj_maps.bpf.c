// Maps of every type, declared the BTF way (__uint/__type in .maps), used from one program.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct key2 { __u32 a, b; };

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } arr SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 2); __type(key, __u32); __type(value, __u64); } pcpu SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, struct key2); __type(value, __u64); } hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u32); } phash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 2); __type(key, __u32); __type(value, __u32); } lru SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __uint(key_size, 4); __uint(value_size, 12); __uint(map_flags, BPF_F_NO_PREALLOC); } sized SEC(".maps");

SEC("syscall")
int use_maps(void *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&arr, &k);
	if (!v)
		return -1;
	*v += 10;

	__u64 *pv = bpf_map_lookup_elem(&pcpu, &k);
	if (pv)
		*pv = 7;

	struct key2 hk = { .a = 3, .b = 4 };
	__u64 hv = 100;
	if (bpf_map_update_elem(&hash, &hk, &hv, BPF_NOEXIST))
		return -2;
	__u64 *got = bpf_map_lookup_elem(&hash, &hk);
	if (!got || *got != 100)
		return -3;

	__u32 lk, lv = 1;
	for (lk = 0; lk < 3; lk++)  /* three inserts into an LRU of two: key 0 is evicted */
		bpf_map_update_elem(&lru, &lk, &lv, BPF_ANY);
	lk = 0;
	if (bpf_map_lookup_elem(&lru, &lk))
		return -4;

	__u64 *rec = bpf_ringbuf_reserve(&events, 8, 0);
	if (!rec)
		return -5;
	*rec = 0xfeed;
	bpf_ringbuf_submit(rec, 0);
	return *v + *got;  /* 10 + 100 */
}

char LICENSE[] SEC("license") = "GPL";
