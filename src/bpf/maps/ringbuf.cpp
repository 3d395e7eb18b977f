// BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c): a multi-producer, single-consumer byte ring of
// max_entries bytes (a power of two, whole pages). Positions only grow; a position's offset in
// the data area is pos & (size - 1).
//
// A producer reserves round_up(size + 8, 8) bytes at the producer position and gets the bytes
// after an 8-byte header {u32 len; u32 pg_off}. While the record is being written, len holds the
// size with BPF_RINGBUF_BUSY_BIT; submit clears the bit, discard clears it and sets
// BPF_RINGBUF_DISCARD_BIT. pg_off is the header's page offset from the start of the kernel's
// struct bpf_ringbuf, whose data area begins after three pages (control page, consumer page,
// producer page), so pg_off = 3 + offset / 4096 as in the kernel (which uses it to find the ring
// from a sample; here the helpers find it from the region, and pg_off is only recorded).
//
// A reservation fails (nullptr) when the record would put the producer more than size - 1 bytes
// ahead of the consumer, or more than size - 1 bytes ahead of the oldest record still being
// written (the kernel's pending_pos rule). Records commit in any order; the consumer stops at
// the first record still BUSY, so a later record committed earlier waits for it, and skips
// discarded records. bpf_ringbuf_output is reserve + copy + submit and returns -EAGAIN when
// full; bpf_ringbuf_reserve with any flag returns NULL; submit and discard ignore flags other
// than the wakeup ones, as the kernel does; bpf_ringbuf_query answers the four BPF_RB_* queries
// and 0 for anything else. The element ops (lookup, update, delete, get_next_key) fail with the
// kernel's -ENOTSUPP.
//
// Simplified: the kernel maps the data pages twice in a row so that a record wrapping past the
// end is contiguous; here the data area is one anonymous mapping of twice the ring size, not
// mirrored: a record that wraps is written and read contiguously past the end, and only the
// positions wrap (the second half's pages are touched only by wrapping records). No waiters, so
// BPF_RB_NO_WAKEUP/BPF_RB_FORCE_WAKEUP are accepted and change nothing; one producer at a time
// (no spinlock); the host is the consumer (consume(), like libbpf's ring_buffer__consume, except
// that a record whose callback returns nonzero stays for the next call, as map.h specifies).
#include <fmt/format.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "bpf/maps/maps.h"

namespace mmbpf::bpf::maps {

namespace {

// RINGBUF_PGOFF (1) + RINGBUF_POS_PAGES (2): data starts at page 3 of struct bpf_ringbuf.
constexpr uint32_t k_data_pgoff = 3;
constexpr uint64_t k_max_record = UINT32_MAX / 4;  // RINGBUF_MAX_RECORD_SZ

struct rec_hdr {
  uint32_t len;
  uint32_t pg_off;
};
static_assert(sizeof(rec_hdr) == BPF_RINGBUF_HDR_SZ);

uint64_t rec_len(uint32_t hdr_len) {
  return round_up8((hdr_len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) +
                   uint64_t{BPF_RINGBUF_HDR_SZ});
}

class ringbuf final : public ringbuf_map {
 public:
  explicit ringbuf(const map_attr& a)
      : ringbuf_map(a), mask_(a.max_entries - 1), mapped_(2 * uint64_t{a.max_entries}) {}
  ~ringbuf() override {
    if (data_) munmap(data_, mapped_);
  }
  ringbuf(const ringbuf&) = delete;
  ringbuf& operator=(const ringbuf&) = delete;

  bool init() {
    void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return false;
    data_ = static_cast<uint8_t*>(p);
    return true;
  }
  uint64_t mapped_bytes() const { return mapped_; }

  void* reserve(uint64_t size, uint64_t flags) override {
    return flags ? nullptr : reserve_record(size);
  }
  bool submit(void* sample, uint64_t) override { return commit(sample, false); }
  bool discard(void* sample, uint64_t) override { return commit(sample, true); }

  long output(const void* data, uint64_t size, uint64_t flags) override {
    if (flags & ~uint64_t{BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP}) return -EINVAL;
    void* rec = reserve_record(size);
    if (!rec) return -EAGAIN;
    if (size) std::memmove(rec, data, size);  // `data` may be null when size is 0
    commit(rec, false);
    return 0;
  }

  uint64_t query(uint64_t flags) override {
    switch (flags) {
      case BPF_RB_AVAIL_DATA:
        return prod_pos_ - cons_pos_;
      case BPF_RB_RING_SIZE:
        return mask_ + 1;
      case BPF_RB_CONS_POS:
        return cons_pos_;
      case BPF_RB_PROD_POS:
        return prod_pos_;
      default:
        return 0;
    }
  }

  long consume(consume_fn fn, void* ctx) override {
    long n = 0;
    while (cons_pos_ < prod_pos_) {
      const rec_hdr* h = header_at(cons_pos_);
      const uint32_t len = h->len;
      if (len & BPF_RINGBUF_BUSY_BIT) break;  // still being written: later records wait
      if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
        if (fn(ctx, h + 1, len)) break;  // left for the next call
        ++n;
      }
      cons_pos_ += rec_len(len);
    }
    return n;
  }

  void* lookup_elem(const void*) override { return nullptr; }
  long lookup_copy(const void*, void*) override { return -k_enotsupp; }
  long update_elem(const void*, const void*, uint64_t) override { return -k_enotsupp; }
  long delete_elem(const void*) override { return -k_enotsupp; }
  long get_next_key(const void*, void*) override { return -k_enotsupp; }
  long for_each_elem(map_elem_cb, void*) override { return -k_enotsupp; }

  size_t mem_usage() const override { return sizeof(*this) + mapped_; }

  std::vector<mem_region> regions() const override {
    return {{.start = reinterpret_cast<uintptr_t>(data_),
             .size = mapped_,
             .writable = true,
             .name = fmt::format("ringbuf '{}' data", attr_.name)}};
  }

 private:
  rec_hdr* header_at(uint64_t pos) const {
    return reinterpret_cast<rec_hdr*>(data_ + (pos & mask_));
  }

  void* reserve_record(uint64_t size) {
    if (size > k_max_record) return nullptr;
    const uint64_t len = round_up8(size + BPF_RINGBUF_HDR_SZ);
    if (len > mask_ + 1) return nullptr;
    // Move pending_pos past the records committed since the last reservation.
    while (pending_pos_ < prod_pos_) {
      const uint32_t l = header_at(pending_pos_)->len;
      if (l & BPF_RINGBUF_BUSY_BIT) break;
      pending_pos_ += rec_len(l);
    }
    const uint64_t new_prod = prod_pos_ + len;
    if (new_prod - cons_pos_ > mask_ || new_prod - pending_pos_ > mask_) return nullptr;
    const uint64_t off = prod_pos_ & mask_;
    rec_hdr* h = header_at(prod_pos_);
    h->len = static_cast<uint32_t>(size) | BPF_RINGBUF_BUSY_BIT;
    h->pg_off = static_cast<uint32_t>(k_data_pgoff + off / k_page_size);
    prod_pos_ = new_prod;
    return h + 1;
  }

  // bpf_ringbuf_commit. A pointer that is not the sample of a record being written (the
  // verifier's reference tracking rules that out for programs) changes nothing: false.
  bool commit(void* sample, bool discard) {
    const auto s = reinterpret_cast<uintptr_t>(sample);
    const auto base = reinterpret_cast<uintptr_t>(data_);
    if (s < base + BPF_RINGBUF_HDR_SZ) return false;
    const uint64_t off = s - BPF_RINGBUF_HDR_SZ - base;
    if (off > mask_ || off % 8) return false;
    if (((off - cons_pos_) & mask_) >= prod_pos_ - cons_pos_) return false;  // not in [cons, prod)
    rec_hdr* h = header_at(off);
    if (!(h->len & BPF_RINGBUF_BUSY_BIT)) return false;
    h->len = (h->len & ~BPF_RINGBUF_BUSY_BIT) | (discard ? uint32_t{BPF_RINGBUF_DISCARD_BIT} : 0U);
    return true;
  }

  const uint64_t mask_;
  const uint64_t mapped_;
  uint8_t* data_ = nullptr;
  uint64_t cons_pos_ = 0;
  uint64_t prod_pos_ = 0;
  uint64_t pending_pos_ = 0;  // no record before it is still BUSY
};

}  // namespace

result<std::unique_ptr<bpf_map>> create_ringbuf(const map_attr& a) {
  auto m = std::make_unique<ringbuf>(a);
  if (!m->init()) return alloc_error(a, m->mapped_bytes(), "the ring");
  return std::unique_ptr<bpf_map>(std::move(m));
}

}  // namespace mmbpf::bpf::maps
