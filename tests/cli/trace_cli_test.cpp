// `mmbpf trace` end to end, through the real binary: generate -> info, oracleGeneral output,
// conversions that round-trip byte for byte, and one-line errors that leave no output file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "run_mmbpf.h"

namespace {

using mmbpf::test::outcome;
using mmbpf::test::slurp;

outcome run(const std::string& args) {
  return mmbpf::test::run_mmbpf(args);
}

// A temp path unique to this process (CTest runs tests in parallel).
std::string tmp(const std::string& name) {
  return ::testing::TempDir() + "/trace_cli_" + std::to_string(getpid()) + "_" + name;
}

bool exists(const std::string& p) {
  return access(p.c_str(), F_OK) == 0;
}

std::string bytes_of(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// An error: exit code 1, nothing on stdout, exactly one line on stderr, no output file left.
void expect_one_line_error(const outcome& o, const std::string& err, const std::string& out_file) {
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "mmbpf trace: " + err + "\n");
  if (!out_file.empty()) {
    EXPECT_FALSE(exists(out_file)) << out_file;
    EXPECT_FALSE(exists(out_file + ".tmp")) << out_file;
  }
}

}  // namespace

TEST(TraceCli, GenerateThenInfo) {
  // 20 files of exactly 10000 bytes: 3 reads (4K, 4K, 1808) of 3 pages per file, 2 passes.
  const std::string t = tmp("gen.trace");
  const std::string spec = "search:files=20,size=10000,sigma=0,io=4K,passes=2,ino=50";
  auto o = run("trace generate " + spec + " -o " + t);
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out, t + ": 120 events (mmbpf)\n");
  EXPECT_EQ(o.err, "");
  EXPECT_FALSE(exists(t + ".tmp"));

  o = run("trace info " + t);
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("format   mmbpf\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("events   120\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("  read               120\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("inodes   20\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("pages    60 distinct, 120 accesses\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("files    20 in metadata, 200000 bytes\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("  ino 50             10000 bytes\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("meta     generator=" + spec + "\n"), std::string::npos) << o.out;

  o = run("trace info --json " + t);
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out.back(), '\n');
  EXPECT_EQ(o.out.find('\n'), o.out.size() - 1);  // one line
  for (const std::string& part :
       {std::string("{\"file\":\"") + t + "\"", std::string("\"format\":\"mmbpf\""),
        std::string("\"events\":120,\"kinds\":{\"read\":120},\"inodes\":20,\"pages\":60,"
                    "\"page_accesses\":120,\"file_bytes\":200000,\"files\":{\"50\":10000,"),
        std::string("\"meta\":{\"generator\":\"") + spec + "\"}}"})
    EXPECT_NE(o.out.find(part), std::string::npos) << part << "\n" << o.out;
  std::remove(t.c_str());
}

TEST(TraceCli, GenerateOracleGeneral) {
  // scan of 3 pages, 2 per read, twice: reads [0,1] [2] [0,1] [2] -> requests 0 1 2 0 1 2.
  const std::string t = tmp("scan.bin");
  auto o = run("trace generate scan:pages=3,io=2,passes=2 --format oracleGeneral -o " + t);
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out, t + ": 6 requests from 4 events (oracleGeneral)\n");
  std::string b = bytes_of(t);
  ASSERT_EQ(b.size(), 6u * 24);
  const int64_t next[] = {4, 5, 6, -1, -1, -1};  // libCacheSim vtime: requests count from 1
  for (size_t i = 0; i < 6; ++i) {
    uint32_t clock, size;
    uint64_t id;
    int64_t nx;
    std::memcpy(&clock, b.data() + 24 * i, 4);
    std::memcpy(&id, b.data() + 24 * i + 4, 8);
    std::memcpy(&size, b.data() + 24 * i + 12, 4);
    std::memcpy(&nx, b.data() + 24 * i + 16, 8);
    EXPECT_EQ(clock, i + 1);
    EXPECT_EQ(id, ((uint64_t{1} << 40) | (i % 3)) + 1) << i;  // ino 1, page i % 3
    EXPECT_EQ(size, 4096u);
    EXPECT_EQ(nx, next[i]) << i;
  }
  // Read back: the name says nothing, so --from is needed; with it, 6 reads of 3 pages.
  o = run("trace info " + t);
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.err, "mmbpf trace: " + t +
                       ": cannot tell the trace format: no mmbpf magic, not text or CSV, and the "
                       "name does not say which (give --from mmbpf|text|oracleGeneral|csv)\n");
  o = run("trace info --from oracleGeneral --json " + t);
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("\"format\":\"oracleGeneral\",\"events\":6,\"kinds\":{\"read\":6},"
                       "\"inodes\":1,\"pages\":3,"),
            std::string::npos)
      << o.out;
  std::remove(t.c_str());
}

TEST(TraceCli, ConvertBinaryTextBinaryIsByteIdentical) {
  const std::string a = tmp("a.trace"), txt = tmp("a.txt"), b = tmp("b.trace");
  auto o = run(
      "trace generate 'zipf:pages=50,events=300,write=0.2;search:files=9,ino=100,cg=2' -o " + a);
  ASSERT_EQ(o.rc, 0) << o.err;
  o = run("trace convert " + a + " -o " + txt);  // --from by magic, --to by the name
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("events (text)"), std::string::npos) << o.out;
  EXPECT_EQ(bytes_of(txt).substr(0, 15), "meta generator=");
  o = run("trace convert --from text --to mmbpf " + txt + " -o " + b);
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(bytes_of(a), bytes_of(b));
  EXPECT_GT(bytes_of(b).size(), 300u * 32);
  for (const auto& p : {a, txt, b}) std::remove(p.c_str());
}

TEST(TraceCli, BadSpecIsOneLineAndWritesNothing) {
  const std::string t = tmp("bad.trace");
  expect_one_line_error(run("trace generate zipf:thta=0.5 -o " + t),
                        "spec 'zipf:thta=0.5': zipf: unknown key 'thta' (known: seed, pid, cg, "
                        "ino, pages, events, theta, scramble, write)",
                        t);
  expect_one_line_error(run("trace generate search:files=10 --format csv -o " + t),
                        t + ": csv is an input format only; give --format mmbpf|text|oracleGeneral",
                        t);
  expect_one_line_error(run("trace generate search:files=10 --format json -o " + t),
                        "--format: unknown trace format 'json' (known: mmbpf, text, oracleGeneral, "
                        "csv)",
                        t);
}

TEST(TraceCli, MissingFileIsOneLine) {
  const std::string in = tmp("missing.trace"), out = tmp("missing_out.trace");
  expect_one_line_error(run("trace convert " + in + " -o " + out),
                        in + ": No such file or directory", out);
  expect_one_line_error(run("trace convert --from mmbpf " + in + " -o " + out),
                        in + ": No such file or directory", out);
  expect_one_line_error(run("trace info " + in), in + ": No such file or directory", "");
}

TEST(TraceCli, CorruptTraceIsOneLineAndWritesNothing) {
  const std::string t = tmp("corrupt.trace"), out = tmp("corrupt_out.txt");
  auto o = run("trace generate scan:pages=10 -o " + t);
  ASSERT_EQ(o.rc, 0) << o.err;
  std::string b = bytes_of(t);
  // Cut the last record short: 9 whole records, then 27 of 32 bytes.
  std::ofstream(t, std::ios::binary | std::ios::trunc) << b.substr(0, b.size() - 5);
  const std::string why = t + ": truncated after record 9 (27 of 32 bytes)";
  expect_one_line_error(run("trace convert " + t + " -o " + out), why, out);
  expect_one_line_error(run("trace info " + t), why, "");
  // A bad event kind in record 3.
  b[b.size() - 10 * 32 + 2 * 32] = 99;
  std::ofstream(t, std::ios::binary | std::ios::trunc) << b;
  expect_one_line_error(run("trace convert " + t + " --to oracleGeneral -o " + out),
                        t + ": record 3: unknown event kind 99", out);
  // An existing output survives a failed conversion untouched.
  std::ofstream(out) << "keep";
  o = run("trace convert " + t + " -o " + out);
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(bytes_of(out), "keep");
  EXPECT_FALSE(exists(out + ".tmp"));
  std::remove(t.c_str());
  std::remove(out.c_str());
}
