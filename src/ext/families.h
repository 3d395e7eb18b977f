// Every struct_ops family and kfunc set mmbpf models, registered at once in a runtime: what
// loading an arbitrary policy object needs when no model is attached yet (`mmbpf verify`,
// bench_verify). A family that runs programs against a model binds it itself.
#pragma once

namespace mmbpf::bpf {
class runtime;
}

namespace mmbpf::ext {

// cache_ext (cache_ext_ops + list kfuncs), BPF OOM (bpf_oom_ops + OOM kfuncs), and the memcg
// and cgroup kfuncs with their iterators.
void register_families(bpf::runtime& rt);

}  // namespace mmbpf::ext
