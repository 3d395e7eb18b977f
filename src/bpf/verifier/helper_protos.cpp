// The prototypes of the runtime's helpers (helper_protos.h), as the kernel declares them
// (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c, kernel/bpf/ringbuf.c, kernel/bpf/bpf_iter.c).
#include "bpf/verifier/helper_protos.h"

#include <linux/bpf.h>

namespace mmbpf::bpf::verifier {

const func_proto* helper_proto_of(int id) {
  static const func_proto map_lookup{"bpf_map_lookup_elem", RET_PTR_TO_MAP_VALUE_OR_NULL,
                                     {ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY}};
  static const func_proto map_update{"bpf_map_update_elem", RET_INTEGER,
                                     {ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_PTR_TO_MAP_VALUE,
                                      ARG_ANYTHING}};
  static const func_proto map_delete{"bpf_map_delete_elem", RET_INTEGER,
                                     {ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY}};
  static const func_proto probe_read{"bpf_probe_read_kernel", RET_INTEGER,
                                     {ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING}};
  static const func_proto ktime{"bpf_ktime_get_ns", RET_INTEGER, {}};
  // the format's arguments (R3-R5) are not checked: a format may use fewer
  static const func_proto printk{"bpf_trace_printk", RET_INTEGER, {ARG_PTR_TO_MEM, ARG_CONST_SIZE}};
  static const func_proto prandom{"bpf_get_prandom_u32", RET_INTEGER, {}};
  static const func_proto cpu{"bpf_get_smp_processor_id", RET_INTEGER, {}};
  static const func_proto pid{"bpf_get_current_pid_tgid", RET_INTEGER, {}};
  static const func_proto lock{"bpf_spin_lock", RET_VOID, {ARG_PTR_TO_SPIN_LOCK}};
  static const func_proto unlock{"bpf_spin_unlock", RET_VOID, {ARG_PTR_TO_SPIN_LOCK}};
  static const func_proto rb_output{"bpf_ringbuf_output", RET_INTEGER,
                                    {ARG_CONST_MAP_PTR, ARG_PTR_TO_MEM, ARG_CONST_SIZE_OR_ZERO,
                                     ARG_ANYTHING}};
  static const func_proto rb_reserve{"bpf_ringbuf_reserve", RET_PTR_TO_RINGBUF_MEM_OR_NULL,
                                     {ARG_CONST_MAP_PTR, ARG_CONST_ALLOC_SIZE_OR_ZERO, ARG_ANYTHING}};
  static const func_proto rb_submit{"bpf_ringbuf_submit", RET_VOID,
                                    {ARG_PTR_TO_RINGBUF_MEM, ARG_ANYTHING}, CB_NONE, true};
  static const func_proto rb_discard{"bpf_ringbuf_discard", RET_VOID,
                                     {ARG_PTR_TO_RINGBUF_MEM, ARG_ANYTHING}, CB_NONE, true};
  static const func_proto rb_query{"bpf_ringbuf_query", RET_INTEGER,
                                   {ARG_CONST_MAP_PTR, ARG_ANYTHING}};
  static const func_proto loop{"bpf_loop", RET_INTEGER,
                               {ARG_ANYTHING, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL,
                                ARG_ANYTHING},
                               CB_LOOP};
  static const func_proto for_each{"bpf_for_each_map_elem", RET_INTEGER,
                                   {ARG_CONST_MAP_PTR, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL,
                                    ARG_ANYTHING},
                                   CB_FOR_EACH_MAP};
  switch (id) {
    case BPF_FUNC_map_lookup_elem: return &map_lookup;
    case BPF_FUNC_map_update_elem: return &map_update;
    case BPF_FUNC_map_delete_elem: return &map_delete;
    case BPF_FUNC_probe_read:
    case BPF_FUNC_probe_read_kernel: return &probe_read;
    case BPF_FUNC_ktime_get_ns: return &ktime;
    case BPF_FUNC_trace_printk: return &printk;
    case BPF_FUNC_get_prandom_u32: return &prandom;
    case BPF_FUNC_get_smp_processor_id: return &cpu;
    case BPF_FUNC_get_current_pid_tgid: return &pid;
    case BPF_FUNC_spin_lock: return &lock;
    case BPF_FUNC_spin_unlock: return &unlock;
    case BPF_FUNC_ringbuf_output: return &rb_output;
    case BPF_FUNC_ringbuf_reserve: return &rb_reserve;
    case BPF_FUNC_ringbuf_submit: return &rb_submit;
    case BPF_FUNC_ringbuf_discard: return &rb_discard;
    case BPF_FUNC_ringbuf_query: return &rb_query;
    case BPF_FUNC_loop: return &loop;
    case BPF_FUNC_for_each_map_elem: return &for_each;
    default: return nullptr;
  }
}

}  // namespace mmbpf::bpf::verifier
