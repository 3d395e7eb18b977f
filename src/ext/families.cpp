// Every family, registered at once (families.h).
#include "ext/families.h"

#include "ext/bpf_oom.h"
#include "ext/bpf_psi.h"
#include "ext/cache_ext.h"
#include "ext/memcg_kfuncs.h"

namespace mmbpf::ext {

void register_families(bpf::runtime& rt) {
  register_cache_ext(rt);
  register_bpf_oom(rt);
  register_bpf_psi(rt);
  register_memcg_kfuncs(rt);
}

}  // namespace mmbpf::ext
