// A pull-style stream of workload events: trace readers, importers and generators all fill a
// caller's buffer in batches, so the model can replay billions of events without holding them
// and pays one virtual call per batch, not per event.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "bpf/error.h"
#include "workload/event.h"

namespace mmbpf::workload {

class event_source {
 public:
  virtual ~event_source() = default;
  // Fills the front of out with the next events and returns how many; 0 means the stream has
  // ended (and stays ended). An error (corrupt input) is one line naming where and what.
  // REQUIRES: !out.empty().
  virtual result<size_t> read(std::span<event> out) = 0;
};

// Events held in memory (generated once, replayed many times: benchmarks), read in order.
class span_source final : public event_source {
 public:
  explicit span_source(std::span<const event> v) : v_(v) {}
  result<size_t> read(std::span<event> out) override {
    const size_t n = std::min(out.size(), v_.size() - pos_);
    std::copy_n(v_.begin() + static_cast<long>(pos_), n, out.begin());
    pos_ += n;
    return n;
  }

 private:
  std::span<const event> v_;
  size_t pos_ = 0;
};

// Every event of src, in order (for sources that fit in memory).
inline result<std::vector<event>> read_all(event_source& src) {
  std::vector<event> out;
  event buf[4096];
  while (true) {
    auto n = src.read(buf);
    if (!n) return n.err();
    if (!*n) return out;
    out.insert(out.end(), buf, buf + *n);
  }
}

}  // namespace mmbpf::workload
