// Helper names from <linux/bpf.h>'s __BPF_FUNC_MAPPER(FN): the macro applies FN(name) to each
// helper in id order, comma-separated (6.1 and later headers alike), so expanding it into a
// string array indexes the names by id; the static_assert catches a header that does otherwise.
#include "bpf/helper_ids.h"

#include <algorithm>
#include <array>
#include <utility>

namespace mmbpf::bpf {
namespace {

#define MMBPF_HELPER_NAME(name) "bpf_" #name
constexpr const char* helper_names[] = {__BPF_FUNC_MAPPER(MMBPF_HELPER_NAME)};
#undef MMBPF_HELPER_NAME

static_assert(std::size(helper_names) == kernel_helper_count);

// (name, id) sorted by name, built once.
const std::array<std::pair<std::string_view, int>, std::size(helper_names)>& by_name() {
  static const auto table = [] {
    std::array<std::pair<std::string_view, int>, std::size(helper_names)> t{};
    for (size_t i = 0; i < t.size(); ++i) t[i] = {helper_names[i], static_cast<int>(i)};
    std::sort(t.begin(), t.end());
    return t;
  }();
  return table;
}

}  // namespace

const char* kernel_helper_name(int id) {
  return id >= 0 && id < kernel_helper_count ? helper_names[id] : nullptr;
}

int kernel_helper_id(std::string_view name) {
  const auto& t = by_name();
  auto it = std::lower_bound(t.begin(), t.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  return it != t.end() && it->first == name ? it->second : -1;
}

}  // namespace mmbpf::bpf
