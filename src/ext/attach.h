// Attaching a hot-path family (the page cache's cache_policy) to the cgroup hierarchy
// (DESIGN §4). One attachment per cgroup (a second is -EEXIST), in one of two modes:
//   own_cgroup  the policy governs that memcg only (cache_ext's rule: get_cache_ext_ops()
//               looks at the folio's own memcg, no inheritance);
//   effective   the policy also governs every descendant that has no attachment of its own,
//               as cgroup-bpf's effective programs do.
// The hot path never walks the tree: at attach, detach and cgroup creation the effective
// policy of every memcg concerned is recomputed and stored in memcg::cache_ops, so a page-cache
// event costs one load and one branch. A memcg's effective policy is its own attachment if it
// has one, else that of its nearest attached ancestor if that one was attached in effective
// mode, else none (the kernel's LRU). Attach and detach are allowed while a workload runs:
// folios cached before the attach are unknown to the policy, which proposes only what it
// knows; the kernel's LRU evicts any shortfall.
//
// Simplified: no attach flags beyond the mode (cgroup-bpf's ALLOW_OVERRIDE / ALLOW_MULTI);
// a policy is not told it was detached (the BPF family will run its struct_ops unreg there),
// so a detached policy object must not be attached again: its lists went stale, which is why
// cache_ext's unreg deletes them.
#pragma once

#include <vector>

#include "mm/hooks.h"
#include "mm/model.h"

namespace mmbpf::ext {

enum class attach_mode { own_cgroup, effective };

class cache_attachments {
 public:
  explicit cache_attachments(mm::model& m) : m_(m) {}

  // 0, or -EEXIST when mc has an attachment already, -EINVAL for a null policy.
  int attach(mm::memcg& mc, mm::cache_policy* p, attach_mode mode);
  // 0, or -ENOENT when mc has no attachment.
  int detach(mm::memcg& mc);
  // A memcg just created (cgroup_create): give it its effective policy.
  void on_cgroup_create(mm::memcg& mc);
  // The attachment of mc itself, or null.
  mm::cache_policy* attached(const mm::memcg& mc) const;

 private:
  struct attachment {
    mm::cache_policy* p = nullptr;
    attach_mode mode = attach_mode::effective;
  };
  const attachment* own(const mm::memcg& mc) const;
  mm::cache_policy* effective(const mm::memcg& mc) const;
  void recompute(mm::memcg& top);

  mm::model& m_;
  std::vector<attachment> by_index_;  // by memcg::index
};

}  // namespace mmbpf::ext
