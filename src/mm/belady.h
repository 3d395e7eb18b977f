// Belady's MIN, the offline optimum (Belady 1966): on eviction, drop the cached page whose next
// use lies furthest in the future. It needs the workload's future, so it is built from the
// whole sequence of page-cache lookups the model will make, in order (one per page a read(),
// write() or file fault touches). The policy reads the model's lookup counter to know where in
// that sequence it is, so the sequence must be the one the model replays; in exact-cache mode
// (no readahead, one eviction per miss) its misses are the minimum any policy can reach.
//
// A page re-read by the read that just read it (pos_same_folio(): no access notification) is
// caught up with before each eviction by walking the lookups since the last one.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "mm/hooks.h"

namespace mmbpf::mm {

class model;

// One page-cache lookup: the file and the page index.
struct page_ref {
  uint32_t ino = 0;
  uint64_t index = 0;
};

std::unique_ptr<cache_policy> make_belady_policy(model& m, const std::vector<page_ref>& accesses);

}  // namespace mmbpf::mm
