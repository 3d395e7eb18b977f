// The decisions a struct_ops family can take over (DESIGN §4), as plain C++ interfaces the
// model calls. Each has the kernel's behaviour as its default: with nothing attached the model
// runs its own code and a hook point costs one load and one predictable branch (a null
// pointer). src/ext/ implements these by running attached BPF programs; native C++ policies
// (baselines) implement them directly.
//
// Hooks are per memcg where the proposal attaches per cgroup (page cache, OOM) and global
// where it is a single instance (readahead, memcg charging). The model resolves which hook
// applies: a memcg's cache_policy pointer is the *effective* one, written by whoever attaches
// (own-cgroup-only or inherited, ext/'s choice); OOM handlers are walked from the OOMing memcg
// up to the root.
#pragma once

#include <cstdint>

#include "mm/readahead.h"

struct folio;
struct oom_control;

namespace mmbpf::mm {

struct memcg;

// cache_ext_admission_ctx: the page a read is about to insert into the page cache.
struct admission_ctx {
  uint64_t ino = 0;
  uint64_t offset = 0;  // bytes
  uint64_t size = 0;    // bytes
};

inline constexpr unsigned CACHE_EVICT_BATCH = 32;  // cache_ext_eviction_ctx.folios_to_evict[32]

// Page-cache eviction and admission for the file LRU of one memcg (cache_ext_ops' shape).
// Notifications come for every file folio of the memcgs the policy is effective for.
class cache_policy {
 public:
  virtual ~cache_policy() = default;
  // A folio entered the page cache (and the memcg's file LRU).
  virtual void folio_added(folio* f) = 0;
  // A cached folio was accessed by read() (folio_mark_accessed()) or a file fault.
  virtual void folio_accessed(folio* f) = 0;
  // The folio leaves the page cache (evicted, truncated, invalidated). The model removes it
  // from the memcg's valid set itself; the policy forgets it.
  virtual void folio_evicted(folio* f) = 0;
  // Shrinking the memcg's file LRU: propose `request` (<= 32) folios to evict in out[32],
  // return how many. More than 32 rejects the batch. The model validates every candidate (a
  // folio of this memcg's file LRU), skips and counts the rest, reclaims the valid ones as
  // reclaim_pages() does (dirty ones go to writeback, locked or pinned ones stay), and, when
  // less than 80 % of the scan target was evicted this way, lets the kernel's LRU evict the
  // remainder.
  virtual unsigned evict_folios(memcg& mc, unsigned request, folio** out) = 0;
  // Whether a page read at ctx may enter the page cache; false makes the read behave like
  // direct IO (read from the device, nothing cached).
  virtual bool admit_folio(const admission_ctx& ctx) { return true; }
};

// An OOM handler attached to a memcg (bpf_oom_ops' shape). Returns true when it handled the
// OOM; the model believes it only if it really freed memory through the model's kill path
// (oc.bpf_memory_freed), else it goes on to the next ancestor and finally the kernel's OOM
// killer.
class oom_policy {
 public:
  virtual ~oom_policy() = default;
  virtual bool handle_out_of_memory(oom_control& oc) = 0;
  virtual const char* name() const = 0;
  // The memcg it is attached to goes offline (model::cgroup_offline); the model detaches it
  // right after.
  virtual void cgroup_offline(memcg& mc) {}
};

// memcg_ops.try_charge_memcg: runs at the start of a charge that would exceed a limit;
// returning true with a new nr_pages (1 .. 512) sets the reclaim batch of that charge.
struct try_charge_memcg {
  memcg* mc = nullptr;
  unsigned long nr_pages = 0;  // what the charge reclaims for; the only field a policy sets
  memcg* mem_over_limit = nullptr;
};
class charge_policy {
 public:
  virtual ~charge_policy() = default;
  virtual bool try_charge(try_charge_memcg& tcm) = 0;
};

// File readahead: may change the window the ondemand algorithm chose (d.io) for a read of
// `f` at `index`; a window of 0 pages means no readahead (the missing page is read alone).
class readahead_policy {
 public:
  virtual ~readahead_policy() = default;
  virtual void adjust_window(const ra_file& f, pgoff_t index, ra_decision& d) = 0;
};

}  // namespace mmbpf::mm
