// `mmbpf capture` and `mmbpf validate` through the real binary: the stable forms
// (`capture [--memory-limit SIZE] --output TRACE -- COMMAND...`, `validate TRACE --json`), a
// capture replayed by `mmbpf run`, and bad input: one line on stderr, a non-zero exit, and no
// trace (nor its .tmp files) left behind. The live parts skip, with the reason, where the
// machine cannot capture (not root, no BPF, no cgroup v1 memory).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "run_mmbpf.h"

namespace {

using mmbpf::test::outcome;

outcome run(const std::string& args) {
  return mmbpf::test::run_mmbpf(args);
}

std::string tmp(const std::string& name) {
  return "/var/tmp/capture_cli_" + std::to_string(getpid()) + "_" + name;
}

bool exists(const std::string& p) {
  return access(p.c_str(), F_OK) == 0;
}

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

void expect_nothing_written(const std::string& t) {
  EXPECT_FALSE(exists(t)) << t;
  EXPECT_FALSE(exists(t + ".tmp")) << t;
  EXPECT_FALSE(exists(t + ".tmp.events")) << t;
}

// Empty when a live capture works here, else why not (the first line of the error).
std::string live_unavailable() {
  static const std::string why = [] {
    const std::string t = tmp("probe.trace");
    outcome o = run("capture --output " + t + " -- true");
    std::remove(t.c_str());
    if (o.rc == 0) return std::string();
    return o.err.empty() ? std::string("mmbpf capture failed") : o.err.substr(0, o.err.find('\n'));
  }();
  return why;
}

TEST(CaptureCli, UsageErrorsAreOneLineExit2) {
  const std::string t = tmp("usage.trace");
  outcome o = run("capture --output " + t);
  EXPECT_EQ(o.rc, 2);
  EXPECT_EQ(lines(o.err), 1) << o.err;
  EXPECT_NE(o.err.find("give the command to capture after --"), std::string::npos) << o.err;
  expect_nothing_written(t);

  o = run("capture -- true");  // no --output
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("--output"), std::string::npos) << o.err;

  o = run("capture --memory-limit lots --output " + t + " -- true");
  EXPECT_EQ(o.rc, 2);
  EXPECT_EQ(lines(o.err), 1) << o.err;
  EXPECT_NE(o.err.find("mmbpf capture: --memory-limit:"), std::string::npos) << o.err;
  expect_nothing_written(t);
}

TEST(CaptureCli, ValidateErrorsAreOneLineExit1) {
  outcome o = run("validate " + tmp("missing.trace"));
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(lines(o.err), 1) << o.err;
  EXPECT_NE(o.err.find("No such file or directory"), std::string::npos) << o.err;
  EXPECT_EQ(o.out, "");

  const std::string gen = tmp("gen.trace");
  ASSERT_EQ(run("trace generate zipf:pages=100,events=100 -o " + gen).rc, 0);
  o = run("validate " + gen + " --json");
  std::remove(gen.c_str());
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(lines(o.err), 1) << o.err;
  EXPECT_NE(o.err.find("not a capture"), std::string::npos) << o.err;
  EXPECT_EQ(o.out, "");
}

TEST(CaptureCli, ACommandThatCannotRunLeavesNothing) {
  if (std::string why = live_unavailable(); !why.empty()) GTEST_SKIP() << why;
  const std::string t = tmp("nocmd.trace");
  outcome o = run("capture --output " + t + " -- /nonexistent/command arg");
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.err, "mmbpf capture: /nonexistent/command: No such file or directory\n");
  expect_nothing_written(t);

  const std::string bad_dir = "/nonexistent-dir/t.trace";
  o = run("capture --output " + bad_dir + " -- true");
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(lines(o.err), 1) << o.err;
  EXPECT_NE(o.err.find("/nonexistent-dir/t.trace.tmp: No such file or directory"), std::string::npos)
      << o.err;
}

TEST(CaptureCli, CaptureValidateJsonAndRun) {
  if (std::string why = live_unavailable(); !why.empty()) GTEST_SKIP() << why;
  const std::string data = tmp("data");
  // written, synced and dropped from the page cache (dd's nocache advice), so the capture is cold
  ASSERT_EQ(std::system(("head -c 6291456 /dev/zero > " + data + " && sync " + data +
                         " && dd if=" + data + " iflag=nocache count=0 status=none")
                            .c_str()),
            0);
  const std::string t = tmp("cat.trace");
  outcome o = run("capture --memory-limit 16M --output " + t + " -- sh -c 'cat " + data +
                  " > /dev/null; cat " + data + " > /dev/null'");
  std::remove(data.c_str());
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.err.find(" lost) -> " + t), std::string::npos) << o.err;
  EXPECT_FALSE(exists(t + ".tmp"));

  o = run("validate " + t + " --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  auto j = nlohmann::json::parse(o.out);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["memory_limit"], 16u << 20);
  EXPECT_EQ(j["lost"], 0);
  ASSERT_TRUE(j["metrics"].is_array());
  std::set<std::string> names;
  for (const auto& m : j["metrics"]) {
    ASSERT_TRUE(m.contains("name") && m.contains("kernel") && m.contains("model") &&
                m.contains("relative_error"))
        << m.dump();
    names.insert(m["name"].get<std::string>());
    EXPECT_TRUE(m["kernel"].is_number()) << m.dump();
    EXPECT_TRUE(m["model"].is_number()) << m.dump();
  }
  for (const char* n : {"io_read_bytes", "pgmajfault", "workingset_refault_file"})
    EXPECT_TRUE(names.count(n)) << n;

  o = run("validate " + t);  // the table
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("workingset_refault_file"), std::string::npos) << o.out;

  // the metadata stays one word per value: the trace round-trips through the text form
  const std::string txt = t + ".txt", back = t + ".back";
  o = run("trace convert " + t + " -o " + txt);
  EXPECT_EQ(o.rc, 0) << o.err;
  o = run("trace convert " + txt + " -o " + back);
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(mmbpf::test::slurp(back), mmbpf::test::slurp(t));
  std::remove(txt.c_str());
  std::remove(back.c_str());

  o = run("run --trace " + t + " --trace-format mmbpf --memory 16M");
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("io_read_bytes"), std::string::npos) << o.out;
  std::remove(t.c_str());
}

}  // namespace
