// File readahead: the kernel's ondemand algorithm (mm/readahead.c, Linux 6.6, with the
// fault-time read-around of mm/filemap.c and the fadvise advice of mm/fadvise.c), as pure
// decisions over struct file_ra_state. The caller owns the page cache: it asks here which
// window to read on a miss or on a PG_readahead hit, then reads the pages of that window that
// are absent and sets PG_readahead on the window's mark page if it allocated it. readahead.cpp
// opens with the algorithm in prose.
//
// Simplified (each also said where it applies in readahead.cpp):
// - Order-0 windows only: modelled as a file system without large folio support (ext4 before
//   6.16), where page_cache_ra_order() falls back to do_page_cache_ra(). Windows, marks and
//   file_ra_state are the kernel's for that case; large-folio rounding is not modelled.
// - blk_cgroup_congested() is never true; no VM_HUGEPAGE fault special case. The VM_EXEC one
//   applies only when the caller says the VMA is executable (traces do not record it yet).
// - The caller drives the read loop of filemap_read() page by page (see ondemand_read()).
#pragma once

#include <cstdint>

#include "../../bpf/include/vmlinux.h"  // struct file_ra_state: the layout BPF sees
#include "mm/page_size.h"

namespace mmbpf::mm {

// VM_READAHEAD_PAGES (include/linux/pagemap.h): the default bdi->ra_pages, 128 KiB.
inline constexpr unsigned long VM_READAHEAD_PAGES = (128UL * 1024) / PAGE_SIZE;
// MMAP_LOTSAMISS (mm/filemap.c): fault read-around stops once mmap_miss exceeds it.
inline constexpr unsigned MMAP_LOTSAMISS = 100;
// force_page_cache_ra() submits its range in chunks of 2 MiB.
inline constexpr unsigned long RA_FORCE_CHUNK_PAGES = (2UL * 1024 * 1024) / PAGE_SIZE;
// ra_window::mark when no page of the window gets PG_readahead.
inline constexpr pgoff_t RA_NO_MARK = ~0UL;

// The page cache as readahead sees it. "Present" means a folio is at the index (uptodate or
// still being read), not a shadow entry. Counts stop at `max`.
class ra_page_cache {
 public:
  virtual ~ra_page_cache() = default;
  // Contiguous present pages at index-1, index-2, ... (count_history_pages(index, max)).
  // Reaching page 0 (all of [0, index) present) returns index when index <= max.
  virtual unsigned long present_before(pgoff_t index, unsigned long max) const = 0;
  // Contiguous present pages at index, index+1, ... (page_cache_next_miss(index, max) - index).
  virtual unsigned long present_from(pgoff_t index, unsigned long max) const = 0;
};

// One open file's readahead context: f_ra plus what the kernel reads from the file and bdi.
struct ra_file {
  file_ra_state ra{};            // f_ra: start, size, async_size, ra_pages, mmap_miss, prev_pos
  unsigned long bdi_ra_pages{};  // bdi->ra_pages (read_ahead_kb / 4); fadvise resets to it
  unsigned long io_pages{};      // bdi->io_pages (max_sectors_kb / 4 on a block device):
                                 // a big read may grow to it; caps forced readahead
  bool fmode_random{};           // FMODE_RANDOM, set by POSIX_FADV_RANDOM
};

// file_ra_state_init(): ra_pages = bdi_ra_pages, prev_pos = -1, the rest zero.
void file_ra_state_init(ra_file& f, unsigned long bdi_ra_pages, unsigned long io_pages = 0);

// Pages to bring into the page cache: [start, start + nr), already cut at EOF. The caller
// reads only the absent pages and sets PG_readahead on `mark` only if it allocated that page
// (page_cache_ra_unbounded(): the flag is never set on a page that was already cached).
struct ra_window {
  pgoff_t start = 0;
  unsigned long nr = 0;
  pgoff_t mark = RA_NO_MARK;
};

// Which branch of the kernel decided (for tests, stats and later the readahead hook).
enum class ra_path : std::uint8_t {
  none,            // no IO: readahead off, marker page under writeback, marker run too long
  forced,          // force_page_cache_ra(): FMODE_RANDOM, or ra_pages == 0 (one page)
  initial,         // new window at index: read at 0, sequential miss or oversize read
  sequential,      // index is the one the last window expected: ramp up and push forward
  marker_context,  // PG_readahead hit whose window is not f_ra's (interleaved streams)
  history,         // try_context_readahead(): enough cached pages before index
  random,          // small random read: just the request, f_ra untouched
  mmap_around,     // fault read-around, ra_pages centred on the fault
  mmap_off,        // fault: mmap_miss > MMAP_LOTSAMISS or VM_RAND_READ, no readahead
};

struct ra_decision {
  ra_window io;
  ra_path path = ra_path::none;
  bool clear_marker = false;  // the PG_readahead page at the index was cleared
};

// page_cache_sync_ra(): a read of req_count pages at index found index absent. file_pages is
// i_size in pages (DIV_ROUND_UP(i_size, PAGE_SIZE)). Updates f.ra. If index is still absent
// after the window is read, the caller reads that one page alone (filemap_create_folio()).
ra_decision page_cache_sync_ra(ra_file& f, const ra_page_cache& pc, pgoff_t index,
                               unsigned long req_count, unsigned long file_pages);

// page_cache_async_ra(): the page at index is present with PG_readahead; req_count pages
// remain in the read from index. writeback: the page is under writeback (PG_readahead and
// PG_reclaim share a bit, so the kernel then ignores the flag and leaves it set).
ra_decision page_cache_async_ra(ra_file& f, const ra_page_cache& pc, pgoff_t index,
                                unsigned long req_count, unsigned long file_pages,
                                bool writeback = false);

// One step of filemap_read()'s loop: the first page of the rest of a read(2).
struct ra_input {
  pgoff_t index = 0;             // first page not yet copied
  unsigned long req_count = 1;   // pages left in the read: last_index - index
  unsigned long file_pages = 0;  // i_size in pages
  bool present = false;          // a folio is at index
  bool marker = false;           // ... with PG_readahead
  bool writeback = false;        // ... under writeback
};

// Absent -> page_cache_sync_ra; present with marker -> page_cache_async_ra; else nothing.
// A read(2) calls this for each page in order (the kernel's read batch ends at a marker page
// and the sync call is made at the first absent page), then ra_read_done().
ra_decision ondemand_read(ra_file& f, const ra_page_cache& pc, const ra_input& in);

// filemap_read() ends with prev_pos = ki_pos, the byte after the last one copied.
inline void ra_read_done(ra_file& f, loff_t end_pos) {
  f.ra.prev_pos = end_pos;
}

// madvise() hint of the faulting VMA (VM_SEQ_READ / VM_RAND_READ, or neither).
enum class vm_read_hint : std::uint8_t { normal, seq_read, rand_read };

struct ra_fault {
  pgoff_t pgoff = 0;
  unsigned long file_pages = 0;
  bool present = false;  // filemap_get_folio() found a folio at pgoff
  bool marker = false;
  bool writeback = false;
  vm_read_hint hint = vm_read_hint::normal;
  // VM_EXEC VMA and its file pages [vma_start, vma_end) (vma_end 0: unknown, to EOF)
  bool exec = false;
  pgoff_t vma_start = 0;
  pgoff_t vma_end = 0;
};

// filemap_fault()'s readahead: do_sync_mmap_readahead() on a major fault (mmap_miss counting,
// read-around, or in a VM_EXEC VMA a window from pgoff to at most the VMA's end),
// do_async_mmap_readahead() on a present page (mmap_miss decrement, async readahead on a
// marker). A major fault that gets no window reads pgoff alone.
ra_decision filemap_fault_ra(ra_file& f, const ra_page_cache& pc, const ra_fault& in);

// filemap_map_pages() (fault-around) maps `mapped` present pages without a fault: each one
// lowers mmap_miss by one, not below zero.
void ra_mmap_pages_mapped(ra_file& f, unsigned long mapped);

// fadvise(): NORMAL, RANDOM, SEQUENTIAL change f (SEQUENTIAL: ra_pages = 2 * bdi_ra_pages);
// other advice leaves it alone (use the two functions below for WILLNEED and DONTNEED).
void fadvise_mode(ra_file& f, int advice);

// POSIX_FADV_WILLNEED: force_page_cache_readahead() of the pages touching
// [offset, offset + len) (len 0: to the end), at most max(io_pages, ra_pages) pages, cut at
// EOF, no mark; submitted in RA_FORCE_CHUNK_PAGES chunks. REQUIRES offset >= 0, len >= 0.
ra_window fadvise_willneed(const ra_file& f, loff_t offset, loff_t len, loff_t i_size);

// POSIX_FADV_DONTNEED: the pages to invalidate, [first, last]; partial pages are kept unless
// the range ends at EOF. empty when no whole page is covered. REQUIRES offset >= 0, len >= 0.
struct page_range {
  pgoff_t first = 0;
  pgoff_t last = 0;
  bool empty = true;
};
page_range fadvise_dontneed(loff_t offset, loff_t len, loff_t i_size);

// The window formulas, exposed for tests and policies.
unsigned long get_init_ra_size(unsigned long size, unsigned long max);
unsigned long get_next_ra_size(const file_ra_state& ra, unsigned long max);

}  // namespace mmbpf::mm
