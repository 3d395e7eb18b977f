// Runs the mmbpf binary as a user would and captures what it says: exit code, stdout, stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace mmbpf::test {

struct outcome {
  int rc;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// `mmbpf ARGS` (ARGS as a shell would split them) with `input` on stdin. Files are unique per
// process and call: CTest runs tests in parallel processes.
inline outcome run_mmbpf(const std::string& args, const std::string& input = "") {
  static int n = 0;
  const std::string base = ::testing::TempDir() + "/mmbpf_cli_" + std::to_string(getpid()) +
                           "_" + std::to_string(n++);
  const std::string in = base + ".in", out = base + ".out", err = base + ".err";
  std::ofstream(in) << input;
  const std::string cmd =
      std::string(MMBPF_BIN) + " " + args + " <" + in + " >" + out + " 2>" + err;
  const int st = std::system(cmd.c_str());
  outcome o{WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), slurp(out), slurp(err)};
  std::remove(in.c_str());
  std::remove(out.c_str());
  std::remove(err.c_str());
  return o;
}

// A file under the test temp dir, unique per process and call, removed at scope exit.
struct temp_file {
  std::string path;
  explicit temp_file(const std::string& suffix, const std::string& content = "") {
    static int n = 0;
    path = ::testing::TempDir() + "/mmbpf_file_" + std::to_string(getpid()) + "_" +
           std::to_string(n++) + suffix;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

}  // namespace mmbpf::test
