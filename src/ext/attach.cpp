// The cgroup attachment of hot-path policies (attach.h): effective pointers recomputed for
// the subtree at each change, so the model's hot path reads one pointer.
#include "ext/attach.h"

#include <cerrno>

namespace mmbpf::ext {

const cache_attachments::attachment* cache_attachments::own(const mm::memcg& mc) const {
  if (mc.index >= by_index_.size() || !by_index_[mc.index].p) return nullptr;
  return &by_index_[mc.index];
}

mm::cache_policy* cache_attachments::attached(const mm::memcg& mc) const {
  const attachment* a = own(mc);
  return a ? a->p : nullptr;
}

// Its own attachment, else the nearest attached ancestor's if that one is effective.
mm::cache_policy* cache_attachments::effective(const mm::memcg& mc) const {
  if (const attachment* a = own(mc)) return a->p;
  for (const mm::memcg* p = mc.parent; p; p = p->parent)
    if (const attachment* a = own(*p)) return a->mode == attach_mode::effective ? a->p : nullptr;
  return nullptr;
}

void cache_attachments::recompute(mm::memcg& top) {
  mm::model::for_each_memcg_preorder(top, [&](mm::memcg& m) {
    m_.set_cache_policy(m, effective(m));
  });
}

int cache_attachments::attach(mm::memcg& mc, mm::cache_policy* p, attach_mode mode) {
  if (!p) return -EINVAL;
  if (own(mc)) return -EEXIST;
  if (by_index_.size() <= mc.index) by_index_.resize(mc.index + 1u);
  by_index_[mc.index] = {p, mode};
  recompute(mc);
  return 0;
}

int cache_attachments::detach(mm::memcg& mc) {
  if (!own(mc)) return -ENOENT;
  by_index_[mc.index] = {};
  recompute(mc);
  return 0;
}

void cache_attachments::on_cgroup_create(mm::memcg& mc) {
  m_.set_cache_policy(mc, effective(mc));
}

}  // namespace mmbpf::ext
