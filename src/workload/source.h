// A pull-style stream of workload events: trace readers, importers and generators all fill a
// caller's buffer in batches, so the model can replay billions of events without holding them
// and pays one virtual call per batch, not per event.
#pragma once

#include <cstddef>
#include <span>

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

}  // namespace mmbpf::workload
