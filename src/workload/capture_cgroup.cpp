// The cgroup v1 memory controller and /proc as live capture uses them: finding this process's
// memory cgroup, making a child with memory.limit_in_bytes, reading memory.stat, the tasks'
// IO counters and a block device's read_ahead_kb.
//
// Simplified: v1 only (the project's machines bind memory to the v1 hierarchy); the mount
// point is found in /proc/self/mounts by the "memory" option.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "workload/capture.h"

namespace mmbpf::workload {

namespace {

result<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return error{fmt::format("{}: {}", path, std::strerror(errno))};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

result<void> write_file(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return error{fmt::format("{}: {}", path, std::strerror(errno))};
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int e = errno;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed)
    return error{fmt::format("{}: writing '{}': {}", path, text, std::strerror(ok ? errno : e))};
  return {};
}

}  // namespace

result<std::string> memory_cgroup_root() {
  auto mounts = read_file("/proc/self/mounts");
  if (!mounts) return mounts.err();
  std::istringstream in(*mounts);
  std::string dev, dir, type, opts;
  std::string rest;
  while (in >> dev >> dir >> type >> opts) {
    std::getline(in, rest);
    if (type != "cgroup") continue;
    std::istringstream o(opts);
    for (std::string tok; std::getline(o, tok, ',');)
      if (tok == "memory") return dir;
  }
  return error{"no cgroup v1 memory controller is mounted (capture needs memory.limit_in_bytes "
               "and memory.stat of cgroup v1)"};
}

result<std::string> own_memory_cgroup() {
  auto root = memory_cgroup_root();
  if (!root) return root.err();
  auto text = read_file("/proc/self/cgroup");
  if (!text) return text.err();
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    // "4:memory:/a/b"
    const size_t c1 = line.find(':');
    const size_t c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    std::istringstream ctrls(line.substr(c1 + 1, c2 - c1 - 1));
    for (std::string tok; std::getline(ctrls, tok, ',');)
      if (tok == "memory") {
        std::string path = line.substr(c2 + 1);
        return *root + (path == "/" ? "" : path);
      }
  }
  return error{"/proc/self/cgroup has no memory controller line"};
}

result<std::string> create_memory_cgroup(const std::string& parent, const std::string& name,
                                         uint64_t limit) {
  const std::string dir = parent + "/" + name;
  if (::mkdir(dir.c_str(), 0755) != 0)
    return error{fmt::format("{}: {}", dir, std::strerror(errno))};
  if (limit) {
    if (auto r = write_file(dir + "/memory.limit_in_bytes", std::to_string(limit)); !r) {
      ::rmdir(dir.c_str());
      return r.err();
    }
  }
  return dir;
}

void remove_memory_cgroup(const std::string& dir) {
  const size_t slash = dir.rfind('/');
  if (slash != std::string::npos)
    for (int pid : cgroup_pids(dir))
      (void)write_file(dir.substr(0, slash) + "/cgroup.procs", std::to_string(pid));
  ::rmdir(dir.c_str());
}

result<std::map<std::string, uint64_t>> read_memory_stat(const std::string& dir) {
  auto text = read_file(dir + "/memory.stat");
  if (!text) return text.err();
  std::map<std::string, uint64_t> out;
  std::istringstream in(*text);
  std::string k;
  uint64_t v;
  while (in >> k >> v) out[k] = v;
  return out;
}

result<uint64_t> read_cgroup_u64(const std::string& dir, const std::string& file) {
  auto text = read_file(dir + "/" + file);
  if (!text) return text.err();
  try {
    return static_cast<uint64_t>(std::stoull(*text));
  } catch (...) {
    return error{fmt::format("{}/{}: not a number", dir, file)};
  }
}

std::vector<int> cgroup_pids(const std::string& dir) {
  std::vector<int> out;
  std::ifstream in(dir + "/cgroup.procs");
  for (int pid; in >> pid;) out.push_back(pid);
  return out;
}

std::map<std::string, uint64_t> read_proc_io(int pid) {
  std::map<std::string, uint64_t> out;
  std::ifstream in(fmt::format("/proc/{}/io", pid));
  std::string k;
  uint64_t v;
  while (in >> k >> v) {
    if (!k.empty() && k.back() == ':') k.pop_back();
    out[k] = v;
  }
  return out;
}

uint64_t device_read_ahead_kb(uint32_t kdev) {
  const std::string base = fmt::format("/sys/dev/block/{}:{}", kdev >> 20, kdev & 0xfffff);
  for (const char* rel : {"/queue/read_ahead_kb", "/../queue/read_ahead_kb"}) {
    std::ifstream in(base + rel);
    uint64_t v;
    if (in >> v) return v;
  }
  return 0;
}

}  // namespace mmbpf::workload
