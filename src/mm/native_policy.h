// Native C++ page-cache policies behind the cache_policy hook (hooks.h): baselines that run
// inside the same engine as the kernel's default LRU and, later, BPF policies, so the only
// difference between two runs is the policy. Each keeps its own intrusive list over folio ids
// (4 + 4 bytes per page frame), like cache_ext's per-policy lists.
//
//   lru    one list, an access moves the folio to the head, evict from the tail (exact LRU)
//   fifo   one list in insertion order, accesses ignored
//   sieve  SIEVE (NSDI'24): one FIFO, new folios at the head, a visited bit set on access; a
//          hand moving from the tail towards the head clears visited bits and evicts the first
//          unvisited folio, keeps its position between evictions and wraps to the tail
//   s3fifo S3-FIFO (SOSP'23), libCacheSim's defaults: small FIFO (10 %), main FIFO (90 %), a
//          ghost FIFO of evicted pages' identities (mapping + index, as many as main holds);
//          2-bit frequency per folio; new folios go to small, or to main when in the ghost;
//          small's tail moves to main when freq >= 2, else is evicted into the ghost; main's
//          tail is reinserted with freq - 1 while freq > 0, else evicted. The cache size split
//          is min(page frames, memcg memory.max).
//   lfu    exact LFU (access count per folio, least recently used among equal counts),
//          with frequency buckets (O(1) per access)
//   mru    the twin of cache_ext_mru (bpf/policies/cache/mru.bpf.c): one list, new and
//          accessed folios at the head, evict from the head (most recently used first),
//          passing over at most 200 folios that are not evictable now
//   lfu_sampled
//          the twin of cache_ext_sampling (bpf/policies/cache/lfu.bpf.c): a frequency per
//          folio (1 when added, +1 per access), one list with new folios at the tail; eviction
//          does what bpf_cache_ext_list_sample() with sample_size 20 does: takes request x 20
//          folios from the head, proposes the lowest frequency of each run of 20 (the first on
//          ties; folios not evictable now score INT64_MAX), puts all of them back at the tail
//          in the same order, and proposes nothing when the list holds fewer
//
// An access counts from the second notification after folio_added(): the read or fault that
// inserts a folio also marks it accessed, and that is the insertion, not a re-reference.
// Folios the model would refuse (locked, dirty, writeback, pinned) are skipped and kept.
// Exceptions, as the BPF policies they mirror: mru moves a folio on every notification (the
// one after insertion finds it at the head already), lfu_sampled counts every notification
// (the inserting one adds 1 to every folio alike), and both test what the BPF helper
// folio_evictable_now() tests (uptodate, on an LRU, clean, not under writeback).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "bpf/error.h"
#include "mm/hooks.h"

namespace mmbpf::mm {

class model;

// What the BPF helper folio_evictable_now() (bpf/include/cache_ext.bpf.h) tests: uptodate, on
// an LRU, clean, not under writeback. The twins of BPF policies skip by this, as those do.
bool folio_evictable_now(const folio* f);

// The policies make_native_policy() knows, for help texts.
std::vector<std::string_view> native_policy_names();

// A policy for `m`'s folios; attach it with m.set_cache_policy() on every memcg it governs.
// Errors name the unknown policy and list the known ones.
result<std::unique_ptr<cache_policy>> make_native_policy(std::string_view name, model& m);

}  // namespace mmbpf::mm
