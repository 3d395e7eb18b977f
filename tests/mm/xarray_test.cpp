// The page-cache index: both leaf paths (directory and hash), erase freeing leaves, range
// walks, and the memory a dense file costs per entry.
#include "mm/xarray.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace mmbpf::mm {
namespace {

TEST(Xarray, StoreLoadEraseAgainstAMap) {
  xarray xa;
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> ref;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200000; ++i) {
    const uint32_t space = static_cast<uint32_t>(rng() % 5);
    // a mix of small indexes (directory) and huge ones (hashed leaves)
    const uint64_t index = rng() % 3 ? rng() % 5000 : (1ull << 30) + rng() % 5000;
    const auto key = std::make_pair(space, index);
    if (rng() % 3 == 0) {
      const auto it = ref.find(key);
      EXPECT_EQ(xa.erase(space, index), it == ref.end() ? 0 : it->second);
      if (it != ref.end()) ref.erase(it);
    } else {
      const uint64_t v = (rng() | 2) & ~1ull;
      const auto it = ref.find(key);
      EXPECT_EQ(xa.store(space, index, v), it == ref.end() ? 0 : it->second);
      ref[key] = v;
    }
  }
  EXPECT_EQ(xa.nr_entries(), ref.size());
  for (const auto& [k, v] : ref) ASSERT_EQ(xa.load(k.first, k.second), v);
  // everything erased: every leaf is released
  for (const auto& [k, v] : ref) xa.erase(k.first, k.second);
  EXPECT_EQ(xa.nr_entries(), 0u);
  EXPECT_EQ(xa.nr_leaves(), 0u);
}

TEST(Xarray, ForEachVisitsInIndexOrderAndMayErase) {
  xarray xa;
  for (uint64_t i : {3ull, 64ull, 65ull, 1000ull, (1ull << 27) + 5})
    xa.store(7, i, (i + 1) << 1);
  std::vector<uint64_t> seen;
  xa.for_each(7, 0, ~0ull >> 8, [&](uint64_t i, uint64_t e) {
    EXPECT_EQ(e, (i + 1) << 1);
    seen.push_back(i);
    xa.erase(7, i);
  });
  EXPECT_EQ(seen, (std::vector<uint64_t>{3, 64, 65, 1000, (1ull << 27) + 5}));
  EXPECT_EQ(xa.nr_entries(), 0u);
  xa.store(7, 10, 2);
  seen.clear();
  xa.for_each(7, 11, 20, [&](uint64_t i, uint64_t) { seen.push_back(i); });
  EXPECT_TRUE(seen.empty());
}

// A densely cached file costs one 8-byte slot per page plus a small directory: the bound
// behind "at most 16 bytes per shadow entry".
TEST(Xarray, DenseFileCostsAboutEightBytesPerEntry) {
  xarray xa;
  const uint64_t n = 1 << 20;
  for (uint64_t i = 0; i < n; ++i) xa.store(1, i, (i << 1) | 1);
  const double per_entry = static_cast<double>(xa.memory_bytes()) / static_cast<double>(n);
  EXPECT_LE(per_entry, 16.0);
  EXPECT_GE(per_entry, 8.0);
}

}  // namespace
}  // namespace mmbpf::mm
