// Differential testing of the verifier against the live kernel's (issue 6): every program of
// tests/bpf/verifier_corpus/ must get its expected verdict from mmbpf, with the kernel's
// message for a rejection, and the same verdict and message from the kernel's verifier when it
// is loaded here as a BPF_PROG_TYPE_SYSCALL program. A case marked "# differs:" documents a
// deliberate difference, and only the safe direction is allowed: mmbpf rejects what the kernel
// accepts.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "verifier_corpus.h"

namespace mmbpf::bpf::corpus {
namespace {

const std::vector<corpus_case>& cases() {
  static const std::vector<corpus_case> all =
      load_corpus(std::string(MMBPF_SOURCE_DIR) + "/tests/bpf/verifier_corpus");
  return all;
}

std::string describe(const verdict& v) {
  return v.ok ? std::string("accepted") : "rejected: " + v.error;
}

class Corpus : public testing::TestWithParam<corpus_case> {};

TEST_P(Corpus, MmbpfAndKernelAgree) {
  const corpus_case& c = GetParam();
  SCOPED_TRACE(c.file + ":" + std::to_string(c.line) + " " + c.name);
  const verdict m = mmbpf_verdict(c);
  EXPECT_EQ(m.ok, c.expect_accept) << "mmbpf " << describe(m) << "\n" << m.log;
  if (!c.expect_accept) {  // the message is the log's last lines (a rule may print several)
    EXPECT_NE(m.log.find(c.phrase), std::string::npos)
        << "mmbpf's log lacks '" << c.phrase << "'\n" << m.log;
  }

  // The only difference allowed is mmbpf being stricter.
  if (!c.differs.empty()) {
    EXPECT_FALSE(c.expect_accept) << "a documented difference where mmbpf accepts";
  }

  if (const std::string why = kernel_unavailable(); !why.empty()) GTEST_SKIP() << why;
  const verdict k = kernel_verdict(c);
  if (std::getenv("MMBPF_CORPUS_VERBOSE"))  // to write a case: both verdicts, one line each
    std::printf("  %s\n    mmbpf:  %s\n    kernel: %s\n", c.name.c_str(), describe(m).c_str(), describe(k).c_str());
  const bool kernel_expected = c.differs.empty() ? c.expect_accept : !c.expect_accept;
  EXPECT_EQ(k.ok, kernel_expected) << "kernel " << describe(k) << "\n" << k.log;
  if (!kernel_expected) {
    EXPECT_NE(k.log.find(c.phrase), std::string::npos)
        << "the kernel's log lacks '" << c.phrase << "'\n" << k.log;
  }
}

std::string test_name(const testing::TestParamInfo<corpus_case>& info) {
  std::string n = info.param.name;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(VerifierCorpus, Corpus, testing::ValuesIn(cases()), test_name);

// Issue 6 asks for at least 300 programs, with both sides of every rule: each file (a rule
// family) holds accepted and rejected programs.
TEST(VerifierCorpus, CoversBothSidesOfEveryRuleFamily) {
  EXPECT_GE(cases().size(), 300u);
  std::map<std::string, std::pair<int, int>> by_file;  // accepted, rejected
  for (const corpus_case& c : cases()) (c.expect_accept ? by_file[c.file].first : by_file[c.file].second)++;
  for (const auto& [file, n] : by_file) {
    EXPECT_GT(n.first, 0) << file << " has no accepted program";
    EXPECT_GT(n.second, 0) << file << " has no rejected program";
  }
}

// The log at level 1, line by line against the kernel's, over every rejection: the same
// instructions, states after each, branch rewinds, subprogram frames and messages. Lines that
// cannot match are where mmbpf prints differently on purpose: ld_imm64 of a map (the kernel
// prints its kernel address, mmbpf map_fd[N]), structural errors the loader finds before the
// verifier runs (they carry "prog 'NAME': insn N:"), and the state counts of the summary.
// Programs whose kernel log runs past 400 lines (loops driven to a limit) are left out.
TEST(VerifierCorpus, LogsMatchTheKernelsLineByLine) {
  if (const std::string why = kernel_unavailable(); !why.empty()) GTEST_SKIP() << why;
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) v.push_back(l);
    return v;
  };
  size_t same = 0, total = 0, rejections = 0, identical = 0;
  for (const corpus_case& c : cases()) {
    if (c.expect_accept || !c.differs.empty()) continue;
    const verdict k = kernel_verdict(c);
    const verdict m = mmbpf_verdict(c);
    const auto kl = split(k.log), ml = split(m.log);
    if (kl.size() > 400) continue;  // loops run to a limit: a long trace, pruned differently
    size_t s = 0;
    for (size_t i = 0; i < kl.size() && i < ml.size(); ++i) s += kl[i] == ml[i];
    same += s;
    total += kl.size();
    identical += s == kl.size() && kl.size() == ml.size();
    ++rejections;
  }
  std::printf("  %zu rejections: %zu logs identical, %zu of %zu lines (%.1f %%)\n", rejections, identical,
              same, total, 100.0 * static_cast<double>(same) / static_cast<double>(total));
  EXPECT_GE(static_cast<double>(same), 0.7 * static_cast<double>(total));
}

}  // namespace
}  // namespace mmbpf::bpf::corpus
