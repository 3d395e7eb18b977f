// The model's clock and block device: how long things take, so the model reports modelled run
// time, throughput, per-event latency and stall time (the input PSI needs), not only counts.
//
// The device serves one request at a time in submission order (a single queue, as a simple
// SSD or disk under one writer). A request is a contiguous run of pages of one file (or of
// swap): a readahead window, one page read, or a writeback run; contiguous pages submitted
// together are one request, which is how the block layer's merging shows up here. Its service
// time is a fixed access latency (random_read_ns, or seq_read_ns when it starts exactly where
// the previous request of the device ended, i.e. the head or the FTL's stream continues) plus
// bytes / bandwidth. A request submitted at `now` starts when the device is free
// (max(now, busy_until)) and completes at start + service time.
//
// Simplified: no queue depth or parallelism inside the device; no request reordering; writes
// and reads share the one queue; no write cache. CPU costs are fixed per kind of operation.
#pragma once

#include <array>
#include <cstdint>

namespace mmbpf::mm {

struct device_params {
  // Access latency of a request that does not continue the previous one (ns).
  uint64_t random_read_ns = 80'000;
  // Access latency of a request that starts where the previous one ended (ns).
  uint64_t seq_read_ns = 10'000;
  uint64_t write_ns = 20'000;
  // Transfer bandwidth, bytes per second.
  uint64_t read_bw = 2'000'000'000;
  uint64_t write_bw = 1'000'000'000;
};

// Modelled CPU time per operation (ns), charged to the clock as the event runs.
struct cpu_params {
  uint64_t syscall_ns = 300;   // entering read()/write()/a fault, per event
  uint64_t page_copy_ns = 100;  // copying one page to or from user space
  uint64_t fault_ns = 500;      // minor fault work (map a present page, zero a new anon page)
  uint64_t reclaim_page_ns = 50;  // scanning one folio in reclaim
};

// Where a request's pages live: (file, first page) or (swap device, first slot).
struct io_target {
  uint32_t dev = 0;    // 0: the file system's device; 1: the swap device
  uint64_t ino = 0;    // file (0 for swap)
  uint64_t index = 0;  // first page (or swap slot)
};

class block_device {
 public:
  explicit block_device(const device_params& p = {});

  // Submits a read of nr_pages contiguous pages at `t`, issued at `now` (ns). Returns the
  // completion time. REQUIRES nr_pages > 0.
  uint64_t submit_read(uint64_t now, const io_target& t, uint64_t nr_pages);
  // Same for a write (writeback or swap-out).
  uint64_t submit_write(uint64_t now, const io_target& t, uint64_t nr_pages);

  uint64_t busy_until() const { return busy_until_; }
  uint64_t read_requests() const { return read_requests_; }
  uint64_t write_requests() const { return write_requests_; }
  uint64_t sequential_requests() const { return seq_requests_; }
  uint64_t read_bytes() const { return read_bytes_; }
  uint64_t write_bytes() const { return write_bytes_; }
  uint64_t busy_ns() const { return busy_ns_; }  // total service time

 private:
  uint64_t submit(uint64_t now, const io_target& t, uint64_t nr_pages, bool write);

  device_params p_;
  uint64_t busy_until_ = 0;
  io_target next_{~0u, ~0ull, ~0ull};  // where a sequential request would start
  uint64_t read_requests_ = 0, write_requests_ = 0, seq_requests_ = 0;
  uint64_t read_bytes_ = 0, write_bytes_ = 0, busy_ns_ = 0;
};

// A latency distribution with log2-spaced buckets refined 8 ways (HdrHistogram-like, 12.5 %
// relative error), fixed size, no allocation when recording.
class latency_histogram {
 public:
  void record(uint64_t ns);
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0.0; }
  // The q-quantile (0 <= q <= 1), as the upper bound of its bucket clamped to max(); 0 when
  // empty.
  uint64_t quantile(double q) const;

 private:
  static constexpr int sub_bits = 3;
  static constexpr int nr_buckets = 64 << sub_bits;
  static int bucket_of(uint64_t ns);
  static uint64_t bucket_upper(int b);
  std::array<uint64_t, nr_buckets> buckets_{};
  uint64_t count_ = 0, sum_ = 0, max_ = 0;
};

}  // namespace mmbpf::mm
