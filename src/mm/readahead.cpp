// The ondemand readahead of Linux 6.6 (mm/readahead.c), fault read-around (mm/filemap.c) and
// fadvise (mm/fadvise.c), as decisions over struct file_ra_state.
//
// The state. f_ra remembers the most recent readahead window of the open file:
//
//                        |<------- async_size --------|
//     |-------------------------- size -------------->|
//     |==================#============================|
//     ^start             ^mark: the page given PG_readahead = start + size - async_size
//
// Reading a window is partly synchronous (the pages the reader waits for) and partly
// asynchronous (async_size pages ahead of it). The first page of the asynchronous part gets
// PG_readahead; when the reader reaches that page it is present, and the flag says "the
// reader has used up the window up to here: read the next one now", so IO for the next
// window overlaps the reader's work on this one. A steady stream therefore never waits.
//
// Two triggers. A read that finds its page absent calls page_cache_sync_ra(); a read that
// finds a present page with PG_readahead calls page_cache_async_ra(), which first clears the
// flag. Both decide a window in ondemand_readahead(), in this order:
//   1. index 0: the start of the file promises a whole-file read: initial window.
//   2. index is the page the last window expected (its mark, or the page just after it):
//      the stream continues; the new window starts where the last one ended, ramped up by
//      get_next_ra_size(), and is entirely asynchronous (async_size = size, mark on its
//      first page).
//   3. a PG_readahead hit that does not match f_ra: another stream on the same file moved
//      f_ra (interleaved reads). The present run after index is that stream's old
//      asynchronous part; the new window starts at the first absent page after it and is
//      sized get_next_ra_size(run + 1 + req).
//   4. a read larger than the maximum, or one at or just after the previous read's last page
//      (prev_pos): initial window.
//   5. try_context_readahead(): the pages cached just before index are the trace a
//      sequential reader leaves; if there are more of them than the request, read
//      min(history + req, max) pages (history doubled when it reaches page 0) with
//      async_size 1.
//   6. otherwise a random read: read the request only and leave f_ra alone.
// The initial window is get_init_ra_size(req): the request rounded up to a power of two,
// times 4 when small (<= max/32), times 2 when medium (<= max/4), else max; its async part
// is what exceeds the request. The ramp-up is x4 below max/16, x2 up to max/2, then max.
// With the default max of 32 pages, 1-page reads from page 0 read windows of 4, 8, 16, 32,
// 32, ... pages: [0,4) mark 1, [4,12) mark 4, [12,28) mark 12, [28,60) mark 28, ...
// Last ("readit"): a window that would put its mark on the page being read now (index ==
// start, size == async_size) is merged with its successor at once, keeping size <= max.
//
// The maximum is ra_pages (bdi->ra_pages, read_ahead_kb/4; fadvise SEQUENTIAL doubles it),
// raised to min(req, io_pages) for a read bigger than ra_pages on a device whose optimal IO
// is bigger. ra_pages == 0 or FMODE_RANDOM (fadvise RANDOM) bypass all of this:
// force_page_cache_ra() reads exactly the request (one page when ra_pages is 0), capped at
// max(io_pages, ra_pages) per call, in 2 MiB chunks, without a mark.
//
// Faults (filemap_fault). A major fault counts mmap_miss (capped at 10 * MMAP_LOTSAMISS); a
// fault on a present page uncounts one, as does each page fault-around maps. While mmap_miss
// <= MMAP_LOTSAMISS the fault reads around: ra_pages centred on the fault (start ra_pages/2
// before it), async_size ra_pages/4; beyond it the file is deemed random and only the
// faulting page is read. VM_SEQ_READ VMAs use the sync readahead with req = ra_pages;
// VM_RAND_READ VMAs never read ahead (unless also VM_EXEC). A VM_EXEC VMA (6.16+) reads
// ra_pages starting at the fault, cut at the VMA's end, with no async part: no read-behind,
// no mark. A fault on a PG_readahead page triggers the async path.
//
// Every window is cut at EOF when read (do_page_cache_ra()), which moves the mark with the
// cut or drops it; f_ra keeps the uncut size, as the kernel's does.
//
// Simplified: order-0 windows only. 6.6 reads windows with page_cache_ra_order(), which on a
// mapping with large folio support allocates folios of the previous order + 2, aligned, and
// rounds the expected index and the mark to the folio; we model a mapping without large folio
// support (ext4 before 6.16), where it falls back to do_page_cache_ra() and is exactly this.
// try_context_readahead() was folded into page_cache_sync_ra() in 6.10 with the same result.
#include <fcntl.h>  // POSIX_FADV_* (kept out of headers: workload/event.h names them too)

#include "mm/readahead.h"

#include <algorithm>
#include <climits>

namespace mmbpf::mm {

namespace {

unsigned long roundup_pow_of_two(unsigned long n) {
  unsigned long p = 1;
  while (p < n) p <<= 1;
  return p;
}

// do_page_cache_ra(): read nr pages from start with the mark lookahead pages before the end,
// cut at the page holding the last byte of the file. A mark that falls outside the cut window
// is never set (page_cache_ra_unbounded() compares an unsigned index with nr - lookahead).
ra_window do_page_cache_ra(pgoff_t start, unsigned long nr, unsigned long lookahead,
                           unsigned long file_pages) {
  ra_window w;
  if (file_pages == 0) return w;
  const pgoff_t end_index = file_pages - 1;
  if (start > end_index) return w;
  if (nr > end_index - start) nr = end_index - start + 1;
  w.start = start;
  w.nr = nr;
  if (lookahead != 0 && lookahead <= nr) w.mark = start + nr - lookahead;
  return w;
}

// force_page_cache_ra(): the request as is, capped at max(io_pages, ra_pages), no mark. The
// kernel submits it in RA_FORCE_CHUNK_PAGES chunks; the pages read are the same.
ra_window force_page_cache_ra(const ra_file& f, pgoff_t index, unsigned long nr_to_read,
                              unsigned long file_pages) {
  const unsigned long max_pages = std::max<unsigned long>(f.io_pages, f.ra.ra_pages);
  return do_page_cache_ra(index, std::min(nr_to_read, max_pages), 0, file_pages);
}

ra_decision ondemand_readahead(ra_file& f, const ra_page_cache& pc, pgoff_t index,
                               unsigned long req_size, unsigned long file_pages, bool hit_marker) {
  file_ra_state& ra = f.ra;
  unsigned long max_pages = ra.ra_pages;
  ra_decision d;

  // A read bigger than the window may grow to the device's optimal IO size.
  if (req_size > max_pages && f.io_pages > max_pages) max_pages = std::min(req_size, f.io_pages);

  if (index == 0) goto initial_readahead;

  // The expected index (the mark, order 0) or the page after the window: push forward.
  if (index == ra.start + ra.size - ra.async_size || index == ra.start + ra.size) {
    ra.start += ra.size;
    ra.size = get_next_ra_size(ra, max_pages);
    ra.async_size = ra.size;
    d.path = ra_path::sequential;
    goto readit;
  }

  // A marker hit that f_ra does not explain: another stream's window. Its asynchronous part
  // is the present run after index; page_cache_next_miss() finds where it ends.
  if (hit_marker) {
    const unsigned long run = pc.present_from(index + 1, max_pages);
    if (run >= max_pages) return d;  // no hole within max_pages: start - index > max_pages
    const pgoff_t start = index + 1 + run;
    ra.start = start;
    ra.size = static_cast<unsigned>(start - index + req_size);
    ra.size = get_next_ra_size(ra, max_pages);
    ra.async_size = ra.size;
    d.path = ra_path::marker_context;
    goto readit;
  }

  if (req_size > max_pages) goto initial_readahead;  // oversize read

  {
    // Sequential miss: at the previous read's last page (unaligned) or just after it.
    const pgoff_t prev_index = static_cast<unsigned long long>(ra.prev_pos) >> PAGE_SHIFT;
    if (index - prev_index <= 1UL) goto initial_readahead;
  }

  {
    // try_context_readahead(): the cached history before index.
    unsigned long size = pc.present_before(index, max_pages);
    if (size > req_size) {
      if (size >= index) size *= 2;  // cached from the start of the file: a long stream
      ra.start = index;
      ra.size = static_cast<unsigned>(std::min(size + req_size, max_pages));
      ra.async_size = 1;
      d.path = ra_path::history;
      goto readit;
    }
  }

  // A small random read: read as is, leave f_ra alone.
  d.io = do_page_cache_ra(index, req_size, 0, file_pages);
  d.path = ra_path::random;
  return d;

initial_readahead:
  ra.start = index;
  ra.size = static_cast<unsigned>(get_init_ra_size(req_size, max_pages));
  ra.async_size = ra.size > req_size ? static_cast<unsigned>(ra.size - req_size) : ra.size;
  d.path = ra_path::initial;

readit:
  // The window would mark the page being read: merge the next window now (size <= max).
  if (index == ra.start && ra.size == ra.async_size) {
    const unsigned long add = get_next_ra_size(ra, max_pages);
    if (ra.size + add <= max_pages) {
      ra.async_size = static_cast<unsigned>(add);
      ra.size += static_cast<unsigned>(add);
    } else {
      ra.size = static_cast<unsigned>(max_pages);
      ra.async_size = static_cast<unsigned>(max_pages >> 1);
    }
  }
  d.io = do_page_cache_ra(ra.start, ra.size, ra.async_size, file_pages);
  return d;
}

}  // namespace

unsigned long get_init_ra_size(unsigned long size, unsigned long max) {
  unsigned long newsize = roundup_pow_of_two(size);
  if (newsize <= max / 32)
    newsize *= 4;
  else if (newsize <= max / 4)
    newsize *= 2;
  else
    newsize = max;
  return newsize;
}

unsigned long get_next_ra_size(const file_ra_state& ra, unsigned long max) {
  const unsigned long cur = ra.size;
  if (cur < max / 16) return 4 * cur;
  if (cur <= max / 2) return 2 * cur;
  return max;
}

void file_ra_state_init(ra_file& f, unsigned long bdi_ra_pages, unsigned long io_pages) {
  f.ra = file_ra_state{};
  f.ra.ra_pages = static_cast<unsigned>(bdi_ra_pages);
  f.ra.prev_pos = -1;
  f.bdi_ra_pages = bdi_ra_pages;
  f.io_pages = io_pages;
  f.fmode_random = false;
}

ra_decision page_cache_sync_ra(ra_file& f, const ra_page_cache& pc, pgoff_t index,
                               unsigned long req_count, unsigned long file_pages) {
  bool forced = f.fmode_random;
  // Readahead off: still read the page the reader needs, as forced readahead of one page.
  if (f.ra.ra_pages == 0) {
    req_count = 1;
    forced = true;
  }
  if (forced) {
    ra_decision d;
    d.io = force_page_cache_ra(f, index, req_count, file_pages);
    d.path = ra_path::forced;
    return d;
  }
  return ondemand_readahead(f, pc, index, req_count, file_pages, false);
}

ra_decision page_cache_async_ra(ra_file& f, const ra_page_cache& pc, pgoff_t index,
                                unsigned long req_count, unsigned long file_pages, bool writeback) {
  if (f.ra.ra_pages == 0) return {};
  if (writeback) return {};  // the shared bit means PG_reclaim here
  ra_decision d = ondemand_readahead(f, pc, index, req_count, file_pages, true);
  d.clear_marker = true;
  return d;
}

ra_decision ondemand_read(ra_file& f, const ra_page_cache& pc, const ra_input& in) {
  if (!in.present) return page_cache_sync_ra(f, pc, in.index, in.req_count, in.file_pages);
  if (in.marker)
    return page_cache_async_ra(f, pc, in.index, in.req_count, in.file_pages, in.writeback);
  return {};
}

ra_decision filemap_fault_ra(ra_file& f, const ra_page_cache& pc, const ra_fault& in) {
  file_ra_state& ra = f.ra;
  ra_decision d;
  if (in.present) {
    // do_async_mmap_readahead()
    if (in.hint == vm_read_hint::rand_read || ra.ra_pages == 0) return d;
    if (ra.mmap_miss) --ra.mmap_miss;
    if (in.marker)
      return page_cache_async_ra(f, pc, in.pgoff, ra.ra_pages, in.file_pages, in.writeback);
    return d;
  }
  // do_sync_mmap_readahead()
  if (in.hint == vm_read_hint::rand_read && !in.exec) {
    d.path = ra_path::mmap_off;
    return d;
  }
  if (ra.ra_pages == 0) return d;
  if (in.hint == vm_read_hint::seq_read)
    return page_cache_sync_ra(f, pc, in.pgoff, ra.ra_pages, in.file_pages);
  if (ra.mmap_miss < MMAP_LOTSAMISS * 10) ++ra.mmap_miss;
  if (ra.mmap_miss > MMAP_LOTSAMISS) {
    d.path = ra_path::mmap_off;
    return d;
  }
  if (in.exec) {
    // 6.16+ VM_EXEC: ra_pages from the fault (order 0 on x86), cut at the VMA end, no async
    const pgoff_t start = std::max(in.pgoff, in.vma_start);
    pgoff_t end = start + ra.ra_pages;
    if (in.vma_end) end = std::min(end, in.vma_end);
    if (end <= start) end = start + 1;  // a fault outside [vma_start, vma_end): the caller's bug
    ra.start = start;
    ra.size = static_cast<unsigned>(end - start);
    ra.async_size = 0;
    d.io = do_page_cache_ra(ra.start, ra.size, 0, in.file_pages);
    d.path = ra_path::mmap_around;
    return d;
  }
  // Read-around: ra_pages centred on the fault, a quarter of it asynchronous.
  const long start = static_cast<long>(in.pgoff) - static_cast<long>(ra.ra_pages / 2);
  ra.start = static_cast<pgoff_t>(std::max(0L, start));
  ra.size = ra.ra_pages;
  ra.async_size = ra.ra_pages / 4;
  d.io = do_page_cache_ra(ra.start, ra.size, ra.async_size, in.file_pages);
  d.path = ra_path::mmap_around;
  return d;
}

void ra_mmap_pages_mapped(ra_file& f, unsigned long mapped) {
  f.ra.mmap_miss = mapped >= f.ra.mmap_miss ? 0 : f.ra.mmap_miss - static_cast<unsigned>(mapped);
}

void fadvise_mode(ra_file& f, int advice) {
  switch (advice) {
    case POSIX_FADV_NORMAL:
      f.ra.ra_pages = static_cast<unsigned>(f.bdi_ra_pages);
      f.fmode_random = false;
      break;
    case POSIX_FADV_RANDOM:
      f.fmode_random = true;
      break;
    case POSIX_FADV_SEQUENTIAL:
      f.ra.ra_pages = static_cast<unsigned>(f.bdi_ra_pages * 2);
      f.fmode_random = false;
      break;
    default:
      break;
  }
}

namespace {

// generic_fadvise(): the inclusive last byte; len 0 (or overflow) means "to the end".
unsigned long long fadvise_endbyte(loff_t offset, loff_t len) {
  unsigned long long endbyte =
      static_cast<unsigned long long>(offset) + static_cast<unsigned long long>(len);
  if (len == 0 || endbyte < static_cast<unsigned long long>(len)) return LLONG_MAX;
  return endbyte - 1;
}

unsigned long pages_of(loff_t i_size) {
  return i_size <= 0 ? 0 : (static_cast<unsigned long>(i_size) + PAGE_SIZE - 1) >> PAGE_SHIFT;
}

}  // namespace

ra_window fadvise_willneed(const ra_file& f, loff_t offset, loff_t len, loff_t i_size) {
  if (offset < 0 || len < 0) return {};
  const unsigned long long endbyte = fadvise_endbyte(offset, len);
  // First and last partial page.
  const pgoff_t start_index = static_cast<unsigned long long>(offset) >> PAGE_SHIFT;
  const pgoff_t end_index = endbyte >> PAGE_SHIFT;
  unsigned long nrpages = end_index - start_index + 1;
  if (nrpages == 0) nrpages = ~0UL;
  return force_page_cache_ra(f, start_index, nrpages, pages_of(i_size));
}

page_range fadvise_dontneed(loff_t offset, loff_t len, loff_t i_size) {
  page_range r;
  if (offset < 0 || len < 0) return r;
  const unsigned long long endbyte = fadvise_endbyte(offset, len);
  // First and last whole page: partial pages are kept...
  const pgoff_t start_index =
      (static_cast<unsigned long long>(offset) + PAGE_SIZE - 1) >> PAGE_SHIFT;
  pgoff_t end_index = endbyte >> PAGE_SHIFT;
  // ... unless the range ends on a page boundary or at EOF.
  if ((endbyte & (PAGE_SIZE - 1)) != PAGE_SIZE - 1 &&
      endbyte != static_cast<unsigned long long>(i_size - 1)) {
    if (end_index == 0) return r;
    --end_index;
  }
  if (end_index >= start_index) {
    r.first = start_index;
    r.last = end_index;
    r.empty = false;
  }
  return r;
}

}  // namespace mmbpf::mm
