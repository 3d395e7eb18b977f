// Native C++ page-cache policies behind the cache_policy hook (hooks.h): baselines that run
// inside the same engine as the kernel's default LRU and, later, BPF policies, so the only
// difference between two runs is the policy. Each keeps its own intrusive list over folio ids
// (4 + 4 bytes per page frame), like cache_ext's per-policy lists.
//
//   lru    one list, an access moves the folio to the head, evict from the tail (exact LRU)
//   fifo   one list in insertion order, accesses ignored
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "bpf/error.h"
#include "mm/hooks.h"

namespace mmbpf::mm {

class model;

// The policies make_native_policy() knows, for help texts.
std::vector<std::string_view> native_policy_names();

// A policy for `m`'s folios; attach it with m.set_cache_policy() on every memcg it governs.
// Errors name the unknown policy and list the known ones.
result<std::unique_ptr<cache_policy>> make_native_policy(std::string_view name, model& m);

}  // namespace mmbpf::mm
