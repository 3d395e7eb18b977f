// The ondemand readahead (src/mm/readahead.h) against the kernel's worked examples: window
// sizes and PG_readahead marks for sequential reads, interleaved streams, random reads,
// fadvise and fault read-around with mmap_miss. A tiny page cache here plays filemap_read().
#include "mm/readahead.h"

#include <fcntl.h>  // POSIX_FADV_*
#include <gtest/gtest.h>

#include <vector>

namespace mmbpf::mm {
namespace {

// A file's page cache: present and PG_readahead bits, and the windows the reads produced.
struct sim_file final : ra_page_cache {
  unsigned long pages;
  std::vector<bool> present, marker;
  std::vector<ra_window> windows;  // each non-empty window, in order
  ra_file f;

  explicit sim_file(unsigned long npages, unsigned long ra_pages = VM_READAHEAD_PAGES,
                    unsigned long io_pages = 0)
      : pages(npages), present(npages), marker(npages) {
    file_ra_state_init(f, ra_pages, io_pages);
  }

  unsigned long present_before(pgoff_t index, unsigned long max) const override {
    unsigned long n = 0;
    while (n < max && n < index && present[index - 1 - n]) ++n;
    return n;
  }
  unsigned long present_from(pgoff_t index, unsigned long max) const override {
    unsigned long n = 0;
    while (n < max && index + n < pages && present[index + n]) ++n;
    return n;
  }

  void apply(const ra_decision& d, pgoff_t index) {
    if (d.clear_marker) marker[index] = false;
    if (d.io.nr == 0) return;
    windows.push_back(d.io);
    for (pgoff_t i = d.io.start; i < d.io.start + d.io.nr; ++i) {
      if (present[i]) continue;  // already cached: no IO, and never marked
      present[i] = true;
      if (i == d.io.mark) marker[i] = true;
    }
  }

  // read(2) of count pages at index, page by page as filemap_read() meets them.
  void read(pgoff_t index, unsigned long count) {
    for (pgoff_t i = index; i < index + count && i < pages; ++i) {
      ra_input in{i, index + count - i, pages, present[i], marker[i], false};
      apply(ondemand_read(f, *this, in), i);
      present[i] = true;  // filemap_create_folio() when readahead left it absent
    }
    ra_read_done(f, static_cast<loff_t>(index + count) << PAGE_SHIFT);
  }

  ra_decision fault(pgoff_t pgoff, vm_read_hint hint = vm_read_hint::normal) {
    ra_fault in{pgoff, pages, present[pgoff], marker[pgoff], false, hint};
    ra_decision d = filemap_fault_ra(f, *this, in);
    apply(d, pgoff);
    present[pgoff] = true;
    return d;
  }
};

struct win {
  pgoff_t start;
  unsigned long nr;
  pgoff_t mark;
};

void expect_windows(const sim_file& s, const std::vector<win>& want) {
  ASSERT_GE(s.windows.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(s.windows[i].start, want[i].start);
    EXPECT_EQ(s.windows[i].nr, want[i].nr);
    EXPECT_EQ(s.windows[i].mark, want[i].mark);
  }
}

TEST(Readahead, InitAndNextSizes) {
  // max 32: 1-2 pages -> 4, 3-4 -> 8, 5-8 -> 16, > 8 -> 32 (the kernel's own comment).
  EXPECT_EQ(get_init_ra_size(1, 32), 4u);
  EXPECT_EQ(get_init_ra_size(2, 32), 4u);
  EXPECT_EQ(get_init_ra_size(3, 32), 8u);
  EXPECT_EQ(get_init_ra_size(4, 32), 8u);
  EXPECT_EQ(get_init_ra_size(8, 32), 16u);
  EXPECT_EQ(get_init_ra_size(9, 32), 32u);
  EXPECT_EQ(get_init_ra_size(1, 2048), 4u);
  EXPECT_EQ(get_init_ra_size(32, 2048), 128u);
  EXPECT_EQ(get_init_ra_size(1024, 2048), 2048u);
  file_ra_state ra{};
  const unsigned want32[][2] = {{1, 4}, {4, 8}, {8, 16}, {16, 32}, {32, 32}};
  for (auto [cur, next] : want32) {
    ra.size = cur;
    EXPECT_EQ(get_next_ra_size(ra, 32), next) << cur;
  }
  const unsigned want2048[][2] = {{4, 16}, {64, 256}, {127, 508}, {128, 256}, {1024, 2048}};
  for (auto [cur, next] : want2048) {
    ra.size = cur;
    EXPECT_EQ(get_next_ra_size(ra, 2048), next) << cur;
  }
}

TEST(Readahead, Sequential1PageReads32) {
  sim_file s(1000);
  s.read(0, 1);
  // Initial window: get_init_ra_size(1, 32) = 4, async_size = 4 - 1 = 3: mark on page 1.
  EXPECT_EQ(s.f.ra.start, 0u);
  EXPECT_EQ(s.f.ra.size, 4u);
  EXPECT_EQ(s.f.ra.async_size, 3u);
  for (pgoff_t i = 1; i < 200; ++i) s.read(i, 1);
  // Each mark hit starts the next window at start + size, all asynchronous (mark on its
  // first page): 4, 8, 16, 32, 32, ...
  expect_windows(s, {{0, 4, 1},
                     {4, 8, 4},
                     {12, 16, 12},
                     {28, 32, 28},
                     {60, 32, 60},
                     {92, 32, 92},
                     {124, 32, 124},
                     {156, 32, 156},
                     {188, 32, 188},
                     {220, 32, 220}});
  EXPECT_EQ(s.windows.size(), 10u);  // the read of page 188 hit the last mark
  EXPECT_EQ(s.f.ra.start, 220u);
  EXPECT_EQ(s.f.ra.size, 32u);
  EXPECT_EQ(s.f.ra.async_size, 32u);
}

TEST(Readahead, SequentialLargerRequests) {
  sim_file s4(1000);  // 16 KiB reads: init 8 (async 4), then 16, 32, 32
  for (pgoff_t i = 0; i < 64; i += 4) s4.read(i, 4);
  expect_windows(s4, {{0, 8, 4}, {8, 16, 8}, {24, 32, 24}, {56, 32, 56}});

  sim_file s16(1000);  // 64 KiB reads: init 32 (async 16)
  for (pgoff_t i = 0; i < 96; i += 16) s16.read(i, 16);
  expect_windows(s16, {{0, 32, 16}, {32, 32, 32}, {64, 32, 64}, {96, 32, 96}});

  // 256 KiB read (oversize, 64 > 32): window 32 merged with its successor at once, capped:
  // size 32, async 16; the rest of the read then rides the marks.
  sim_file big(1000);
  big.read(0, 64);
  expect_windows(big, {{0, 32, 16}, {32, 32, 32}, {64, 32, 64}});
  // With io_pages 256 the same read may use max_pages = min(64, 256) = 64.
  sim_file io(1000, 32, 256);
  io.read(0, 64);
  expect_windows(io, {{0, 64, 32}});
}

TEST(Readahead, Sequential8MiB) {
  sim_file s(10000, 2048);  // ra_pages 2048 (read_ahead_kb 8192)
  for (pgoff_t i = 0; i < 4000; ++i) s.read(i, 1);
  // x4 while size < 2048/16 = 128, then x2 up to 1024, then 2048.
  expect_windows(s, {{0, 4, 1},
                     {4, 16, 4},
                     {20, 64, 20},
                     {84, 256, 84},
                     {340, 512, 340},
                     {852, 1024, 852},
                     {1876, 2048, 1876},
                     {3924, 2048, 3924}});
  sim_file s32(10000, 2048);  // 128 KiB reads
  for (pgoff_t i = 0; i < 2000; i += 32) s32.read(i, 32);
  expect_windows(
      s32, {{0, 128, 32}, {128, 256, 128}, {384, 512, 384}, {896, 1024, 896}, {1920, 2048, 1920}});
}

TEST(Readahead, SequentialMissAtWindowEndMerges) {
  sim_file s(1000);
  s.read(0, 1);  // [0,4) mark 1
  s.read(4, 1);  // skips the mark; index == start + size: next window, which would mark
                 // page 4 itself, so it is merged with its successor: 8 + 16 = 24, async 16
  expect_windows(s, {{0, 4, 1}, {4, 24, 12}});
}

TEST(Readahead, WindowCutAtEof) {
  sim_file s(10);
  for (pgoff_t i = 0; i < 10; ++i) s.read(i, 1);
  // [0,4) mark 1, then [4,12) cut to [4,10): lookahead 8 > 6 pages, so no page is marked
  // (page_cache_ra_unbounded() compares i with nr - lookahead, which wraps).
  expect_windows(s, {{0, 4, 1}, {4, 6, RA_NO_MARK}});
  EXPECT_EQ(s.windows.size(), 2u);
  EXPECT_EQ(s.f.ra.size, 8u);  // f_ra keeps the uncut size
}

TEST(Readahead, InterleavedStreamsKeepProgress) {
  sim_file s(20000);
  for (pgoff_t k = 0; k < 300; ++k) {
    s.read(k, 1);
    s.read(10000 + k, 1);
  }
  expect_windows(s, {
                        {0, 4, 1},               // A: initial
                        {10000, 1, RA_NO_MARK},  // B: random (no history yet)
                        {4, 8, 4},               // A: its mark, f_ra still A's
                        {10001, 1, RA_NO_MARK},  // B: history 1 <= req 1: random
                        {10002, 3, 10004},       // B: history 2 > 1: min(2+1, 32)
                        {12, 18, 12},            // A: mark 4, f_ra is B's: context
                        {10005, 4, 10005},       // B: mark 10004, f_ra is A's
                        {10009, 8, 10009},       // B: mark 10005 = expected
                        {10017, 16, 10017},      // B: mark 10009 = expected
                        {30, 32, 30},            // A: mark 12: run 13..29 + 1 + 1
                    });
  // After the start-up both streams read ahead: every page of both ranges came from a
  // window, and no stream fell back to page-sized random reads.
  unsigned long small = 0;
  for (size_t i = 5; i < s.windows.size(); ++i)
    if (s.windows[i].nr < 4) ++small;
  EXPECT_EQ(small, 0u);
  for (pgoff_t k = 0; k < 300; ++k) {
    EXPECT_TRUE(s.present[k]);
    EXPECT_TRUE(s.present[10000 + k]);
  }
  EXPECT_LT(s.windows.size(), 40u);  // 600 pages read in large windows
}

TEST(Readahead, RandomReadsReadOnlyTheRequest) {
  sim_file s(100000);
  const pgoff_t at[] = {5000, 90000, 123, 47000, 3};
  for (pgoff_t i : at) s.read(i, 1);
  s.read(60000, 3);
  ASSERT_EQ(s.windows.size(), 6u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(s.windows[i].start, at[i]);
    EXPECT_EQ(s.windows[i].nr, 1u);
    EXPECT_EQ(s.windows[i].mark, RA_NO_MARK);
  }
  EXPECT_EQ(s.windows[5].start, 60000u);
  EXPECT_EQ(s.windows[5].nr, 3u);
  EXPECT_EQ(s.f.ra.size, 0u);  // f_ra untouched
  // The next read right after the previous one is a sequential miss: initial window.
  s.read(60003, 1);
  expect_windows(s, {{5000, 1, RA_NO_MARK}});
  EXPECT_EQ(s.windows.back().start, 60003u);
  EXPECT_EQ(s.windows.back().nr, 4u);
  EXPECT_EQ(s.windows.back().mark, 60004u);
}

TEST(Readahead, FadviseRandomReadsExactly) {
  sim_file s(1000);
  fadvise_mode(s.f, POSIX_FADV_RANDOM);
  for (pgoff_t i = 0; i < 8; ++i) s.read(i, 1);
  ASSERT_EQ(s.windows.size(), 8u);
  for (pgoff_t i = 0; i < 8; ++i) {
    EXPECT_EQ(s.windows[i].start, i);
    EXPECT_EQ(s.windows[i].nr, 1u);
    EXPECT_EQ(s.windows[i].mark, RA_NO_MARK);
  }
  s.windows.clear();
  s.read(100, 100);  // capped at max(io_pages, ra_pages) = 32 per call, the loop continues
  expect_windows(
      s,
      {{100, 32, RA_NO_MARK}, {132, 32, RA_NO_MARK}, {164, 32, RA_NO_MARK}, {196, 4, RA_NO_MARK}});
  EXPECT_EQ(s.windows.size(), 4u);
}

TEST(Readahead, FadviseSequentialDoublesAndNormalRestores) {
  sim_file s(1000);
  fadvise_mode(s.f, POSIX_FADV_SEQUENTIAL);
  EXPECT_EQ(s.f.ra.ra_pages, 64u);
  for (pgoff_t i = 0; i < 200; ++i) s.read(i, 1);
  expect_windows(s,
                 {{0, 4, 1}, {4, 8, 4}, {12, 16, 12}, {28, 32, 28}, {60, 64, 60}, {124, 64, 124}});
  fadvise_mode(s.f, POSIX_FADV_NORMAL);
  EXPECT_EQ(s.f.ra.ra_pages, 32u);
  EXPECT_FALSE(s.f.fmode_random);
}

TEST(Readahead, ReadaheadOffReadsOnePage) {
  // read_ahead_kb = 0: each miss is forced readahead of one page, which needs a non-zero
  // cap max(io_pages, ra_pages): io_pages 320 (max_sectors_kb 1280).
  sim_file s(1000, 0, 320);
  s.read(0, 4);
  expect_windows(s,
                 {{0, 1, RA_NO_MARK}, {1, 1, RA_NO_MARK}, {2, 1, RA_NO_MARK}, {3, 1, RA_NO_MARK}});
}

TEST(Readahead, FadviseWillneedAndDontneed) {
  ra_file f;
  file_ra_state_init(f, 32);
  const loff_t isize = 1000 * 4096;
  ra_window w = fadvise_willneed(f, 0, 256 * 4096, isize);
  EXPECT_EQ(w.start, 0u);
  EXPECT_EQ(w.nr, 32u);  // capped at max(io_pages, ra_pages)
  EXPECT_EQ(w.mark, RA_NO_MARK);
  w = fadvise_willneed(f, 4095, 2, isize);  // partial pages count: pages 0 and 1
  EXPECT_EQ(w.nr, 2u);
  w = fadvise_willneed(f, 990 * 4096, 100 * 4096, isize);  // cut at EOF
  EXPECT_EQ(w.start, 990u);
  EXPECT_EQ(w.nr, 10u);
  file_ra_state_init(f, 32, 1024);
  w = fadvise_willneed(f, 0, 0, isize);  // len 0: to the end, capped at io_pages 1024
  EXPECT_EQ(w.nr, 1000u);

  page_range r = fadvise_dontneed(0, 8192, isize);
  EXPECT_FALSE(r.empty);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 1u);
  r = fadvise_dontneed(100, 8192, isize);  // partial first and last pages kept
  EXPECT_EQ(r.first, 1u);
  EXPECT_EQ(r.last, 1u);
  EXPECT_TRUE(fadvise_dontneed(0, 100, isize).empty);
  r = fadvise_dontneed(0, 100, 100);  // ends at EOF: the partial page goes
  EXPECT_FALSE(r.empty);
  EXPECT_EQ(r.last, 0u);
  r = fadvise_dontneed(4096, 0, isize);
  EXPECT_EQ(r.first, 1u);
  EXPECT_EQ(r.last, static_cast<pgoff_t>(LLONG_MAX >> PAGE_SHIFT));
}

// A VM_EXEC VMA (6.16+ do_sync_mmap_readahead()) reads ra_pages from the fault, cut at the
// VMA's end, with no async part. Captured: at fio's exit each library's .fini page (the last
// page of its text VMA) faulted in alone, where a centred read-around re-read ~1000 pages.
TEST(Readahead, MmapExecFromFaultToVmaEnd) {
  sim_file s(1000);
  ra_fault in{100, s.pages, false, false, false, vm_read_hint::normal, true, 40, 110};
  ra_decision d = filemap_fault_ra(s.f, s, in);
  EXPECT_EQ(d.path, ra_path::mmap_around);
  EXPECT_EQ(d.io.start, 100u);  // no read-behind (read-around would start at 84)
  EXPECT_EQ(d.io.nr, 10u);      // cut at the VMA's end
  EXPECT_EQ(d.io.mark, RA_NO_MARK);
  EXPECT_EQ(s.f.ra.async_size, 0u);
  EXPECT_EQ(s.f.ra.mmap_miss, 1u);
  in = {109, s.pages, false, false, false, vm_read_hint::normal, true, 40, 110};
  d = filemap_fault_ra(s.f, s, in);  // the VMA's last page: that page alone
  EXPECT_EQ(d.io.start, 109u);
  EXPECT_EQ(d.io.nr, 1u);
  in = {500, s.pages, false, false, false, vm_read_hint::normal, true, 0, 0};
  d = filemap_fault_ra(s.f, s, in);  // VMA unknown: ra_pages from the fault
  EXPECT_EQ(d.io.start, 500u);
  EXPECT_EQ(d.io.nr, 32u);
  in = {990, s.pages, false, false, false, vm_read_hint::rand_read, true, 0, 1000};
  d = filemap_fault_ra(s.f, s, in);  // VM_RAND_READ does not stop an exec VMA; EOF cuts
  EXPECT_EQ(d.io.start, 990u);
  EXPECT_EQ(d.io.nr, 10u);
}

TEST(Readahead, MmapReadAround) {
  sim_file s(1000);
  ra_decision d = s.fault(100);
  // ra_pages 32 centred: start 100 - 16 = 84, size 32, async 8: mark 84 + 32 - 8 = 108.
  EXPECT_EQ(d.path, ra_path::mmap_around);
  expect_windows(s, {{84, 32, 108}});
  EXPECT_EQ(s.f.ra.mmap_miss, 1u);
  d = s.fault(101);  // present: mmap_miss back to 0, no IO
  EXPECT_EQ(d.io.nr, 0u);
  EXPECT_EQ(s.f.ra.mmap_miss, 0u);
  d = s.fault(108);  // the mark: async readahead, expected index: [116,148) all async
  EXPECT_TRUE(d.clear_marker);
  EXPECT_EQ(d.path, ra_path::sequential);
  expect_windows(s, {{84, 32, 108}, {116, 32, 116}});
  s.fault(5);  // near the start: clamped to 0
  EXPECT_EQ(s.windows.back().start, 0u);
  EXPECT_EQ(s.windows.back().nr, 32u);
  EXPECT_EQ(s.windows.back().mark, 24u);

  sim_file seq(1000);  // VM_SEQ_READ: sync readahead with req = ra_pages at 0
  seq.fault(0, vm_read_hint::seq_read);
  expect_windows(seq, {{0, 32, 16}});
  sim_file rnd(1000);  // VM_RAND_READ: nothing, mmap_miss untouched
  d = rnd.fault(500, vm_read_hint::rand_read);
  EXPECT_EQ(d.io.nr, 0u);
  EXPECT_EQ(rnd.f.ra.mmap_miss, 0u);
}

TEST(Readahead, MmapMissDisablesReadAround) {
  sim_file s(300000);
  pgoff_t at = 0;
  auto miss = [&] { return s.fault(at += 1000); };
  for (int i = 1; i <= 100; ++i) {
    ra_decision d = miss();
    EXPECT_EQ(d.path, ra_path::mmap_around) << i;  // 100 > 100 is false: still reads around
  }
  EXPECT_EQ(s.f.ra.mmap_miss, 100u);
  EXPECT_EQ(miss().path, ra_path::mmap_off);  // 101 > MMAP_LOTSAMISS
  EXPECT_EQ(s.f.ra.mmap_miss, 101u);
  // A hit lowers mmap_miss by one (the kernel decrements; it does not reset).
  s.fault(at);
  EXPECT_EQ(s.f.ra.mmap_miss, 100u);
  EXPECT_EQ(miss().path, ra_path::mmap_off);  // back to 101
  s.fault(at);
  s.fault(at);
  EXPECT_EQ(s.f.ra.mmap_miss, 99u);
  EXPECT_EQ(miss().path, ra_path::mmap_around);  // 100 again: read-around resumes
  // Capped at 10 * MMAP_LOTSAMISS; fault-around mapping pages brings it down.
  for (int i = 0; i < 1500; ++i) (void)filemap_fault_ra(s.f, s, {7, s.pages, false});
  EXPECT_EQ(s.f.ra.mmap_miss, 1000u);
  ra_mmap_pages_mapped(s.f, 950);
  EXPECT_EQ(s.f.ra.mmap_miss, 50u);
  ra_mmap_pages_mapped(s.f, 5000);
  EXPECT_EQ(s.f.ra.mmap_miss, 0u);
}

}  // namespace
}  // namespace mmbpf::mm
