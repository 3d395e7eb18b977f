// Names of event kinds and advice values, as the kernel spells them.
#include "workload/event.h"

#include <array>
#include <cstring>
#include <utility>

namespace mmbpf::workload {

bool operator==(const event& a, const event& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

namespace {

constexpr std::array<std::string_view, event_kind_last + 1> kind_names = {
    "",       "read",  "write",         "mmap_fault_file",  "anon_fault", "mmap_anon",
    "munmap", "fsync", "fadvise",       "madvise",          "unlink",     "truncate",
    "fork",   "exit",  "cgroup_create", "cgroup_set_limit",
};

constexpr std::pair<uint8_t, std::string_view> fadv_names[] = {
    {POSIX_FADV_NORMAL, "POSIX_FADV_NORMAL"},         {POSIX_FADV_RANDOM, "POSIX_FADV_RANDOM"},
    {POSIX_FADV_SEQUENTIAL, "POSIX_FADV_SEQUENTIAL"}, {POSIX_FADV_WILLNEED, "POSIX_FADV_WILLNEED"},
    {POSIX_FADV_DONTNEED, "POSIX_FADV_DONTNEED"},     {POSIX_FADV_NOREUSE, "POSIX_FADV_NOREUSE"},
};

constexpr std::pair<uint8_t, std::string_view> madv_names[] = {
    {MADV_NORMAL, "MADV_NORMAL"},           {MADV_RANDOM, "MADV_RANDOM"},
    {MADV_SEQUENTIAL, "MADV_SEQUENTIAL"},   {MADV_WILLNEED, "MADV_WILLNEED"},
    {MADV_DONTNEED, "MADV_DONTNEED"},       {MADV_FREE, "MADV_FREE"},
    {MADV_REMOVE, "MADV_REMOVE"},           {MADV_MERGEABLE, "MADV_MERGEABLE"},
    {MADV_UNMERGEABLE, "MADV_UNMERGEABLE"}, {MADV_HUGEPAGE, "MADV_HUGEPAGE"},
    {MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE"},   {MADV_COLD, "MADV_COLD"},
    {MADV_PAGEOUT, "MADV_PAGEOUT"},
};

constexpr std::pair<uint8_t, std::string_view> limit_names[] = {
    {static_cast<uint8_t>(cgroup_limit::memory_max), "memory.max"},
    {static_cast<uint8_t>(cgroup_limit::memory_high), "memory.high"},
    {static_cast<uint8_t>(cgroup_limit::memory_low), "memory.low"},
    {static_cast<uint8_t>(cgroup_limit::memory_min), "memory.min"},
    {static_cast<uint8_t>(cgroup_limit::swap_max), "memory.swap.max"},
};

template <size_t N>
std::string_view name_of(const std::pair<uint8_t, std::string_view> (&t)[N], uint8_t v) {
  for (const auto& [k, n] : t)
    if (k == v) return n;
  return {};
}

template <size_t N>
std::optional<uint8_t> value_of(const std::pair<uint8_t, std::string_view> (&t)[N],
                                std::string_view s) {
  for (const auto& [k, n] : t)
    if (n == s) return k;
  return std::nullopt;
}

}  // namespace

std::string_view event_kind_name(event_kind k) {
  auto v = static_cast<uint8_t>(k);
  return valid_event_kind(v) ? kind_names[v] : std::string_view{};
}

std::optional<event_kind> event_kind_from_name(std::string_view s) {
  for (uint8_t v = event_kind_first; v <= event_kind_last; ++v)
    if (kind_names[v] == s) return static_cast<event_kind>(v);
  return std::nullopt;
}

std::string_view fadvise_name(uint8_t a) {
  return name_of(fadv_names, a);
}
std::optional<uint8_t> fadvise_from_name(std::string_view s) {
  return value_of(fadv_names, s);
}
std::string_view madvise_name(uint8_t a) {
  return name_of(madv_names, a);
}
std::optional<uint8_t> madvise_from_name(std::string_view s) {
  return value_of(madv_names, s);
}
std::string_view cgroup_limit_name(uint8_t l) {
  return name_of(limit_names, l);
}
std::optional<uint8_t> cgroup_limit_from_name(std::string_view s) {
  return value_of(limit_names, s);
}

}  // namespace mmbpf::workload
