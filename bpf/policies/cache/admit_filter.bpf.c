// cache_ext admission filter (the paper's §5.6, RocksDB): admit_folio refuses to cache a page
// read by a thread whose id userspace has put into the map filtered_pids (RocksDB's compaction
// threads), so reads that will not be reused do not push the working set out; the refused
// read behaves like direct IO. Everything else (eviction included) is left to the kernel: the
// policy keeps no list and proposes no candidate.
//
// Differs from the paper's policy: the model has one thread per process, so the id is
// bpf_get_current_pid_tgid()'s low 32 bits (the thread id) and userspace fills the map by pid.
#include "cache_ext.bpf.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);  /* thread id */
	__type(value, u8); /* unused */
	__uint(max_entries, 1024);
} filtered_pids SEC(".maps");

bool BPF_STRUCT_OPS(admit_filter_admit_folio, struct cache_ext_admission_ctx *admission_ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();

	return !bpf_map_lookup_elem(&filtered_pids, &tid);
}

SEC(".struct_ops.link")
struct cache_ext_ops admit_filter_ops = {
	.admit_folio = (void *)admit_filter_admit_folio,
};
