// The page-cache index (the kernel's i_pages xarray) and, with the same structure, the model's
// page tables: a map from (space, index) to one 8-byte entry, where a space is a mapping (an
// inode's address_space) or an address space (an mm_struct's page tables).
//
// An entry is 0 (empty), a pointer-like value with bit 0 clear (a folio: (folio id + 1) << 1)
// or a value entry with bit 0 set (a shadow entry or a swap entry; xa_is_value()). As in the
// kernel's xarray, entries live in 64-slot leaf nodes (XA_CHUNK_SHIFT = 6), so a densely used
// file costs 8 bytes per page plus one node header per 64 pages, and a leaf is freed when its
// last entry is erased.
//
// Simplified: the kernel's xarray is a radix tree of such nodes per mapping; here each space
// has a flat directory of leaf numbers for its first 2^20 chunks (indexes below 2^26: files
// up to 256 GiB), so a lookup is two dependent loads, and leaves beyond that (sparse page
// tables, huge files) hang off one open-addressing hash keyed by (space, index >> 6).
// Multi-index entries (large folios) are not represented; marks (dirty, writeback tags) are
// not kept (the folio flags are).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "mm/hugepage_alloc.h"

namespace mmbpf::mm {

inline constexpr unsigned XA_CHUNK_SHIFT = 6;
inline constexpr unsigned XA_CHUNK_SIZE = 1u << XA_CHUNK_SHIFT;

class xarray {
 public:
  xarray();

  // The entry at (space, index), 0 when empty.
  uint64_t load(uint32_t space, uint64_t index) const {
    const uint64_t chunk = index >> XA_CHUNK_SHIFT;
    uint32_t leaf;
    if (space < dirs_.size() && chunk < dirs_[space].size()) [[likely]]
      leaf = dirs_[space][chunk];
    else if (chunk < dir_limit)
      return 0;
    else
      leaf = find_leaf(space, chunk);
    return leaf == nil ? 0 : leaves_[leaf].slots[index & (XA_CHUNK_SIZE - 1)];
  }
  // The slot of (space, index) if its leaf exists (for prefetching), else null.
  const uint64_t* slot_if_present(uint32_t space, uint64_t index) const {
    const uint64_t chunk = index >> XA_CHUNK_SHIFT;
    if (space >= dirs_.size() || chunk >= dirs_[space].size()) return nullptr;
    const uint32_t leaf = dirs_[space][chunk];
    return leaf == nil ? nullptr : &leaves_[leaf].slots[index & (XA_CHUNK_SIZE - 1)];
  }
  // Stores entry (non-zero) at (space, index); returns the previous entry.
  uint64_t store(uint32_t space, uint64_t index, uint64_t entry);
  // Empties (space, index); returns the previous entry.
  uint64_t erase(uint32_t space, uint64_t index);

  // Calls fn(index, entry) for every non-empty entry of `space` with first <= index <= last,
  // in index order. fn may erase the entry it is given (and only that one).
  template <class Fn>
  void for_each(uint32_t space, uint64_t first, uint64_t last, Fn&& fn);

  uint64_t nr_entries() const { return nr_entries_; }
  uint64_t nr_leaves() const { return nr_leaves_; }
  // Bytes of index memory now in use: leaves and the hash table.
  uint64_t memory_bytes() const;

 private:
  static constexpr uint32_t nil = ~0u;
  static constexpr uint64_t dir_limit = 1u << 20;  // chunks kept in a space's directory
  struct leaf {
    uint64_t slots[XA_CHUNK_SIZE];
  };
  struct bucket {
    uint64_t key;   // (space << 40) | chunk, ~0 = empty
    uint32_t leaf;  // index into leaves_
  };
  static uint64_t key_of(uint32_t space, uint64_t chunk) {
    return (static_cast<uint64_t>(space) << 40) | chunk;
  }
  static uint64_t hash(uint64_t key) {
    key ^= key >> 31;
    key *= 0x9e3779b97f4a7c15ull;
    return key ^ (key >> 29);
  }
  uint32_t find_bucket(uint64_t key) const;  // bucket index or nil
  uint32_t find_leaf(uint32_t space, uint64_t chunk) const {
    const uint32_t b = find_bucket(key_of(space, chunk));
    return b == nil ? nil : buckets_[b].leaf;
  }
  void erase_bucket(uint32_t b);
  void grow();
  // The leaf of (space, chunk), nil when none; with `create`, a new empty one when none.
  uint32_t leaf_of(uint32_t space, uint64_t chunk, bool create);
  void release_leaf(uint32_t space, uint64_t chunk);
  uint32_t new_leaf();

  std::vector<std::vector<uint32_t>> dirs_;  // per space: chunk -> leaf (nil: none)

  std::vector<bucket> buckets_;
  uint64_t mask_ = 0;
  uint64_t nr_used_ = 0;
  std::vector<leaf, hugepage_allocator<leaf>> leaves_;
  std::vector<uint32_t> counts_;  // non-empty slots per leaf (apart: a small, hot array)
  std::vector<uint32_t> free_leaves_;
  uint64_t nr_entries_ = 0;
  uint64_t nr_leaves_ = 0;
};

template <class Fn>
void xarray::for_each(uint32_t space, uint64_t first, uint64_t last, Fn&& fn) {
  if (first > last) return;
  const uint64_t first_chunk = first >> XA_CHUNK_SHIFT, last_chunk = last >> XA_CHUNK_SHIFT;
  auto walk_leaf = [&](uint64_t chunk) {
    const uint32_t l = leaf_of(space, chunk, false);
    if (l == nil) return;
    const uint64_t base = chunk << XA_CHUNK_SHIFT;
    for (uint64_t i = chunk == first_chunk ? first - base : 0; i < XA_CHUNK_SIZE; ++i) {
      const uint64_t index = base + i;
      if (index > last) return;
      const uint64_t e = leaves_[l].slots[i];
      if (!e) continue;
      fn(index, e);
      // fn may have erased the last entry and freed the leaf
      if (leaf_of(space, chunk, false) != l) return;
    }
  };
  // the directory's chunks, then the hashed ones in order (only those that exist)
  const uint64_t dir_end = space < dirs_.size() ? dirs_[space].size() : 0;
  for (uint64_t c = first_chunk; c <= last_chunk && c < dir_end; ++c) walk_leaf(c);
  if (last_chunk < dir_limit || nr_used_ == 0) return;
  std::vector<uint64_t> chunks;
  for (const bucket& b : buckets_) {
    if (b.key == ~0ull || (b.key >> 40) != space) continue;
    const uint64_t c = b.key & ((uint64_t{1} << 40) - 1);
    if (c >= first_chunk && c <= last_chunk) chunks.push_back(c);
  }
  std::sort(chunks.begin(), chunks.end());
  for (uint64_t c : chunks) walk_leaf(c);
}

}  // namespace mmbpf::mm
