/* Shared by the BPF OOM test programs (tests/ext/bpf_oom_test.cpp): a map the test fills with
 * the pid a handler should kill (key 0), and one the handler writes results into (key = what,
 * see below), both read by the test through the runtime. */
#ifndef __OOM_COMMON_H
#define __OOM_COMMON_H

#include "bpf_oom.bpf.h"
#include "bpf_iter.bpf.h"

enum { RES_CALLS, RES_KILL_RET, RES_VICTIM_BEFORE, RES_VICTIM_AFTER, RES_CGROUP_ID,
       RES_HAS_MEMCG, RES_OOM_RET, RES_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, s32);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RES_MAX);
	__type(key, u32);
	__type(value, s64);
} results SEC(".maps");

static __always_inline void put(u32 what, s64 v)
{
	s64 *r = bpf_map_lookup_elem(&results, &what);

	if (r)
		*r = v;
}

static __always_inline void count_call(void)
{
	u32 k = RES_CALLS;
	s64 *r = bpf_map_lookup_elem(&results, &k);

	if (r)
		*r += 1;
}

static __always_inline s32 victim_pid(void)
{
	u32 k = 0;
	s32 *p = bpf_map_lookup_elem(&pids, &k);

	return p ? *p : 0;
}

#endif
