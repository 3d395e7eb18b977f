// The generic kfuncs every program type may call: bpf_rcu_read_lock/unlock, the bpf_iter_num
// iterator (bpf_for), bpf_task_from_pid/acquire/release. See kfuncs_generic.cpp.
#pragma once

namespace mmbpf::bpf {

class runtime;

// Adds them to rt's kfunc registry (the runtime does so at construction).
void register_generic_kfuncs(runtime& rt);

}  // namespace mmbpf::bpf
