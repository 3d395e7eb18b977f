// Synthetic workloads, each a pull-style event_source that is reproducible bit for bit from
// its parameters and seed (randomness from random.h only). Build them from a spec string with
// make_generator() (spec.h) or directly from these parameter structs.
//
//   zipf      reads of a file of `pages` pages, page ranks zipfian(theta) (YCSB/Gray et al.),
//             scattered over the file unless scramble=0
//   uniform   reads, pages uniform
//   hotset    hot_ops of the reads go to the first hot x pages pages, the rest uniform over
//             the others
//   scan      sequential reads of the whole file, `io` pages per read, `passes` times
//   ycsb      YCSB core workloads A-F over a key-value file (layout in ycsb_params)
//   hog       anonymous memory hogs: fork with oom_score_adj, mmap_anon, touch every page
//   search    a recursive file search (grep -r) over a directory tree: every file read whole,
//             sequentially, `passes` times, in the order the tree walk visits them
//
// Simplified: every generator is one process in one cgroup (use a mix, spec.h, for several);
// ycsb models the record store as one flat file (no LSM levels, no compaction, no log);
// search has no metadata I/O (directories and inodes cost no page cache) and no open/close.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "workload/random.h"
#include "workload/source.h"
#include "workload/trace.h"

namespace mmbpf::workload {

// Parameters every generator takes.
struct common_params {
  uint64_t seed = 1;
  uint32_t pid = 1;
  uint16_t cgroup = 0;
  uint32_t ino = 1;
};

// A source that also knows the files it touches (inode -> size).
class generator : public event_source {
 public:
  virtual trace_meta meta() const = 0;
  // How many events the whole stream holds (exact except ycsb F, where it is an estimate).
  virtual uint64_t expected_events() const = 0;
};

enum class page_dist { zipf, uniform, hotset };

struct page_read_params {
  common_params c;
  page_dist dist = page_dist::zipf;
  uint64_t pages = 1000000;
  uint64_t events = 10000000;
  double theta = 0.99;   // zipf
  bool scramble = true;  // zipf: hot ranks scattered over the file
  double hot = 0.2;      // hotset: fraction of pages that are hot
  double hot_ops = 0.8;  // hotset: fraction of accesses to them
  double write = 0.0;    // fraction of accesses that are write() instead of read()
};
std::unique_ptr<generator> make_page_reads(const page_read_params& p);

struct scan_params {
  common_params c;
  uint64_t pages = 1000000;
  uint64_t passes = 1;
  uint64_t io = 1;  // pages per read()
};
std::unique_ptr<generator> make_scan(const scan_params& p);

// YCSB core workloads (site.ycsb.workloads.CoreWorkload and workloads/workload[a-f]):
//   A read .5 update .5; B read .95 update .05; C read 1; D read .95 insert .05 (latest);
//   E scan .95 insert .05 (scan length uniform 1..max_scan); F read .5 read-modify-write .5.
// Keys are chosen zipfian (scrambled) except D ("latest": zipfian over recency of insert).
// Layout: record k at page k / per_page, slot k % per_page, with per_page = 4096 / record_size
// (records never straddle a page; a record larger than a page starts on a page boundary);
// inserts append (insertorder=ordered). read = read() of the record (readallfields);
// update = write() of one field (writeallfields=false: 10 fields, field = record_size / 10);
// read-modify-write = read then update of the same record; scan = one read() from the start
// record through the end of the last record.
struct ycsb_params {
  common_params c;
  char workload = 'a';  // a..f
  uint64_t records = 1000000;
  uint64_t ops = 10000000;
  uint64_t record_size = 1024;  // bytes
  double theta = 0.99;
  uint64_t max_scan = 100;
};
std::unique_ptr<generator> make_ycsb(const ycsb_params& p);

struct hog_params {
  common_params c;  // pid: first hog's pid (others follow); ino unused
  uint64_t procs = 1;
  uint64_t pages = 262144;  // anonymous pages per hog
  int16_t oom_score_adj = 0;
  uint64_t passes = 1;  // touches of every page
};
std::unique_ptr<generator> make_hog(const hog_params& p);

// File search: `grep -r PATTERN DIR` over a source tree, `passes` times (a developer re-running
// searches; a build or indexer re-reading the tree). Every file is read whole, sequentially,
// from offset 0, by read() calls of `io` bytes (the last one short); the final read() that
// returns 0 at EOF is not an event (it touches no page).
//
// Tree: ceil(files / dirs) directories of `dirs` files each (the last may hold fewer), a
// complete tree of fan-out search_fanout. Inodes follow creation order, as `git checkout` or
// `tar x` of a sorted tree creates them: depth first, a directory's files before its
// subdirectories, so the files of one directory have consecutive inodes. The walk
// (fts_read() in GNU grep, without sorting) is depth first too, but visits each directory's
// entries in readdir() order, which on ext4 is htree hash order (fs/ext4/dir.c:
// ext4_dx_readdir, used even for one-block directories), unrelated to names or inode numbers:
// here a seeded shuffle of the directory's files and subdirectories together. The order is a
// property of the tree, so every pass visits the files in the same order.
//
// Sizes: lognormal with median `size` and shape `sigma` (ln-space standard deviation; file
// sizes are close to lognormal, Downey 2001, Agrawal et al. FAST'07), rounded to bytes and
// clamped to [1, max_size]; drawn per file in inode order, so `dirs` does not change them.
//
// Simplified: no empty files; readdir order is not recomputed when files change (they do not).
inline constexpr uint64_t search_fanout = 8;

struct search_params {
  common_params c;  // ino: the first file's inode; the others follow in creation order
  uint64_t files = 10000;
  uint64_t dirs = 32;           // files per directory
  uint64_t size = 16384;        // median file size in bytes
  uint64_t max_size = 4 << 20;  // larger draws are clamped to this
  double sigma = 1.2;           // 95% of files within median x/÷ e^2.35: 1.5K..170K at 16K
  uint64_t passes = 3;
  // Bytes per read(): GNU grep fills its buffer of INITIAL_BUFSIZE = 96 KiB (src/grep.c;
  // 32 KiB in old releases) page-aligned, so each read() asks for 96 KiB; ripgrep's buffer
  // is 64 KiB.
  uint64_t io = 96 << 10;
};

// The tree behind a search, for tests and tools. Files are numbered 0..files-1 in inode
// (creation) order; directories 0..D-1 in creation order, 0 the root.
struct search_tree {
  std::vector<uint64_t> size;    // per file, bytes
  std::vector<uint32_t> dir_of;  // per file, its directory
  std::vector<uint32_t> parent;  // per directory, its parent (the root: itself)
  std::vector<uint32_t> order;   // the files in the order one pass visits them
};
// REQUIRES: 1 <= files <= search_max_files, dirs >= 1, 1 <= size <= max_size.
search_tree make_search_tree(const search_params& p);
inline constexpr uint64_t search_max_files = 10000000;

// REQUIRES: as make_search_tree, io >= 1, c.ino + files - 1 <= UINT32_MAX.
std::unique_ptr<generator> make_search(const search_params& p);

// Multi-tenant mix: interleaves tenants' streams, each event taken from a tenant chosen at
// random (seeded) with weight its remaining expected_events(), so all end together. Tenants
// keep their own pid, cgroup and inodes. REQUIRES: !tenants.empty().
std::unique_ptr<generator> make_mix(std::vector<std::unique_ptr<generator>> tenants, uint64_t seed);

}  // namespace mmbpf::workload
