// The block device and latency histogram of device.h.
#include "mm/device.h"

#include <algorithm>
#include <bit>

namespace mmbpf::mm {

namespace {
constexpr uint64_t page_bytes = 4096;
uint64_t transfer_ns(uint64_t bytes, uint64_t bw) {
  return bw ? static_cast<uint64_t>((static_cast<unsigned __int128>(bytes) * 1'000'000'000) / bw)
            : 0;
}
}  // namespace

block_device::block_device(const device_params& p) : p_(p) {}

uint64_t block_device::submit(uint64_t now, const io_target& t, uint64_t nr_pages, bool write) {
  const bool seq = t.dev == next_.dev && t.ino == next_.ino && t.index == next_.index;
  const uint64_t bytes = nr_pages * page_bytes;
  const uint64_t access = write ? p_.write_ns : (seq ? p_.seq_read_ns : p_.random_read_ns);
  const uint64_t service = access + transfer_ns(bytes, write ? p_.write_bw : p_.read_bw);
  const uint64_t start = std::max(now, busy_until_);
  busy_until_ = start + service;
  busy_ns_ += service;
  seq_requests_ += seq;
  if (write) {
    ++write_requests_;
    write_bytes_ += bytes;
  } else {
    ++read_requests_;
    read_bytes_ += bytes;
  }
  next_ = {t.dev, t.ino, t.index + nr_pages};
  return busy_until_;
}

uint64_t block_device::submit_read(uint64_t now, const io_target& t, uint64_t nr_pages) {
  return submit(now, t, nr_pages, false);
}

uint64_t block_device::submit_write(uint64_t now, const io_target& t, uint64_t nr_pages) {
  return submit(now, t, nr_pages, true);
}

// Bucket b = (e << sub_bits) | m covers values whose top bit is e (e >= sub_bits) and next
// sub_bits bits are m; values below 2^sub_bits get exact buckets.
int latency_histogram::bucket_of(uint64_t ns) {
  if (ns < (1u << sub_bits)) return static_cast<int>(ns);
  const int e = 63 - std::countl_zero(ns);
  const int m = static_cast<int>((ns >> (e - sub_bits)) & ((1u << sub_bits) - 1));
  return ((e - sub_bits + 1) << sub_bits) | m;
}

uint64_t latency_histogram::bucket_upper(int b) {
  if (b < (1 << sub_bits)) return static_cast<uint64_t>(b);
  const int e = (b >> sub_bits) + sub_bits - 1;
  const uint64_t m = static_cast<uint64_t>(b & ((1 << sub_bits) - 1));
  const uint64_t lo = (uint64_t{1} << e) | (m << (e - sub_bits));
  return lo + (uint64_t{1} << (e - sub_bits)) - 1;
}

void latency_histogram::record(uint64_t ns) {
  ++buckets_[static_cast<size_t>(bucket_of(ns))];
  ++count_;
  sum_ += ns;
  max_ = std::max(max_, ns);
}

uint64_t latency_histogram::quantile(double q) const {
  if (!count_) return 0;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_));
  if (rank >= count_) rank = count_ - 1;
  uint64_t seen = 0;
  for (int b = 0; b < nr_buckets; ++b) {
    seen += buckets_[static_cast<size_t>(b)];
    if (seen > rank) return std::min(bucket_upper(b), max_);
  }
  return max_;
}

}  // namespace mmbpf::mm
