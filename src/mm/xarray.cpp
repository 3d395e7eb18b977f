// The leaf directory and hash behind xarray.h.
#include "mm/xarray.h"

namespace mmbpf::mm {

namespace {
constexpr uint64_t empty_key = ~0ull;
}

xarray::xarray() : buckets_(1024, bucket{empty_key, 0}), mask_(1023) {}

uint32_t xarray::find_bucket(uint64_t key) const {
  for (uint64_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
    const bucket& b = buckets_[i];
    if (b.key == key) return static_cast<uint32_t>(i);
    if (b.key == empty_key) return nil;
  }
}

void xarray::grow() {
  std::vector<bucket> old(buckets_.size() * 2, bucket{empty_key, 0});
  old.swap(buckets_);
  mask_ = buckets_.size() - 1;
  for (const bucket& b : old) {
    if (b.key == empty_key) continue;
    uint64_t i = hash(b.key) & mask_;
    while (buckets_[i].key != empty_key) i = (i + 1) & mask_;
    buckets_[i] = b;
  }
}

uint32_t xarray::new_leaf() {
  uint32_t l;
  if (!free_leaves_.empty()) {
    l = free_leaves_.back();
    free_leaves_.pop_back();
  } else {
    l = static_cast<uint32_t>(leaves_.size());
    leaves_.emplace_back();
    counts_.push_back(0);
  }
  leaves_[l] = leaf{};
  counts_[l] = 0;
  ++nr_leaves_;
  return l;
}

uint32_t xarray::leaf_of(uint32_t space, uint64_t chunk, bool create) {
  if (chunk < dir_limit) {
    if (space >= dirs_.size()) {
      if (!create) return nil;
      dirs_.resize(space + 1u);
    }
    auto& dir = dirs_[space];
    if (chunk >= dir.size()) {
      if (!create) return nil;
      // grow geometrically so a file read front to back does not reallocate per chunk
      dir.resize(std::min<uint64_t>(dir_limit, std::max<uint64_t>(chunk + 1, dir.size() * 2)), nil);
    }
    if (dir[chunk] == nil && create) dir[chunk] = new_leaf();
    return dir[chunk];
  }
  const uint64_t key = key_of(space, chunk);
  const uint32_t b = find_bucket(key);
  if (b != nil) return buckets_[b].leaf;
  if (!create) return nil;
  if ((nr_used_ + 1) * 2 > buckets_.size()) grow();
  uint64_t i = hash(key) & mask_;
  while (buckets_[i].key != empty_key) i = (i + 1) & mask_;
  const uint32_t l = new_leaf();
  buckets_[i] = bucket{key, l};
  ++nr_used_;
  return l;
}

uint64_t xarray::store(uint32_t space, uint64_t index, uint64_t entry) {
  const uint32_t l = leaf_of(space, index >> XA_CHUNK_SHIFT, true);
  uint64_t& slot = leaves_[l].slots[index & (XA_CHUNK_SIZE - 1)];
  const uint64_t old = slot;
  slot = entry;
  if (!old) {
    ++counts_[l];
    ++nr_entries_;
  }
  return old;
}

// Backward-shift deletion keeps probe sequences unbroken without tombstones.
void xarray::erase_bucket(uint32_t b) {
  --nr_used_;
  uint64_t hole = b;
  for (uint64_t i = (hole + 1) & mask_;; i = (i + 1) & mask_) {
    if (buckets_[i].key == empty_key) break;
    const uint64_t home = hash(buckets_[i].key) & mask_;
    // move i into the hole if its home is not in (hole, i]
    if (((i - home) & mask_) >= ((i - hole) & mask_)) {
      buckets_[hole] = buckets_[i];
      hole = i;
    }
  }
  buckets_[hole].key = empty_key;
}

void xarray::release_leaf(uint32_t space, uint64_t chunk) {
  uint32_t l;
  if (chunk < dir_limit) {
    l = dirs_[space][chunk];
    dirs_[space][chunk] = nil;
  } else {
    const uint32_t b = find_bucket(key_of(space, chunk));
    l = buckets_[b].leaf;
    erase_bucket(b);
  }
  free_leaves_.push_back(l);
  --nr_leaves_;
}

uint64_t xarray::erase(uint32_t space, uint64_t index) {
  const uint64_t chunk = index >> XA_CHUNK_SHIFT;
  const uint32_t l = leaf_of(space, chunk, false);
  if (l == nil) return 0;
  uint64_t& slot = leaves_[l].slots[index & (XA_CHUNK_SIZE - 1)];
  const uint64_t old = slot;
  if (!old) return 0;
  slot = 0;
  --nr_entries_;
  if (--counts_[l] == 0) release_leaf(space, chunk);
  return old;
}

uint64_t xarray::memory_bytes() const {
  uint64_t dirs = 0;
  for (const auto& d : dirs_) dirs += d.capacity() * sizeof(uint32_t);
  return leaves_.capacity() * sizeof(leaf) + counts_.capacity() * sizeof(uint32_t) +
         buckets_.capacity() * sizeof(bucket) +
         free_leaves_.capacity() * sizeof(uint32_t) + dirs;
}

}  // namespace mmbpf::mm
