// The binary and text trace forms: round trips of every event kind and the exact one-line
// errors for corrupt and truncated input.
#include "workload/trace.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "workload/trace_text.h"

using namespace mmbpf::workload;

namespace {

event ev(event_kind k) {
  event e{};
  e.kind = k;
  e.pid = 7;
  e.cgroup = 3;
  return e;
}

// One event of every kind, with every field its kind uses set to something non-trivial.
std::vector<event> every_kind() {
  std::vector<event> v;
  event e = ev(event_kind::read);
  e.ino = 5, e.off = 8192, e.len = 4096;
  v.push_back(e);
  e.kind = event_kind::write, e.off = 100, e.len = 17;
  v.push_back(e);
  e = ev(event_kind::mmap_fault_file);
  e.ino = 5, e.off = 3, e.len = 1, e.flags = fault_write;
  v.push_back(e);
  e = ev(event_kind::anon_fault);
  e.off = 0x7f000, e.len = 2;
  v.push_back(e);
  e = ev(event_kind::mmap_anon);
  e.off = 0x7f000, e.len = 512;
  v.push_back(e);
  e.kind = event_kind::munmap;
  v.push_back(e);
  e = ev(event_kind::fsync);
  e.ino = 9;
  v.push_back(e);
  e = ev(event_kind::fadvise);
  e.ino = 5, e.off = 0, e.len = 0, e.advice = POSIX_FADV_DONTNEED;
  v.push_back(e);
  e = ev(event_kind::madvise);
  e.off = 0x7f000, e.len = 16, e.advice = MADV_COLD;
  v.push_back(e);
  e = ev(event_kind::unlink);
  e.ino = 5;
  v.push_back(e);
  e = ev(event_kind::truncate);
  e.ino = 5, e.len = 12345;
  v.push_back(e);
  e = ev(event_kind::fork);
  e.ino = 1, e.oom_score_adj = -1000;
  v.push_back(e);
  e = ev(event_kind::exit);
  v.push_back(e);
  e = ev(event_kind::cgroup_create);
  e.ino = 1;
  v.push_back(e);
  e = ev(event_kind::cgroup_set_limit);
  e.advice = static_cast<uint8_t>(cgroup_limit::memory_high), e.len = limit_max;
  v.push_back(e);
  return v;
}

std::string bytes_of(const std::vector<event>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(event));
}

std::string read_all_error(const std::string& bytes) {
  auto r = trace_reader::from_memory("trace.bin", bytes);
  if (!r) return r.err().msg;
  std::vector<event> buf(4);
  for (;;) {
    auto n = (*r)->read(buf);
    if (!n) return n.err().msg;
    if (*n == 0) return "";
  }
}

std::string tmp_path(const char* name) {
  return std::string(::testing::TempDir()) + "/" + name;
}

}  // namespace

TEST(Event, IsThirtyTwoBytesAndEveryKindHasAName) {
  static_assert(sizeof(event) == 32);
  auto v = every_kind();
  EXPECT_EQ(v.size(), size_t{event_kind_last});
  for (uint8_t k = event_kind_first; k <= event_kind_last; ++k) {
    auto name = event_kind_name(static_cast<event_kind>(k));
    ASSERT_FALSE(name.empty()) << int(k);
    EXPECT_EQ(event_kind_from_name(name), static_cast<event_kind>(k));
  }
  EXPECT_FALSE(event_kind_from_name("mmap"));
}

TEST(BinaryTrace, RoundTripEveryKindThroughAFile) {
  auto v = every_kind();
  trace_meta m;
  m.entries = {{"source", "test"}, {"note", "a b"}};
  m.file_size = {{5, 1 << 20}, {9, 4096}};
  std::string path = tmp_path("rt.trace");
  {
    auto w = trace_writer::create(path, m);
    ASSERT_TRUE(w) << w.err().msg;
    for (const auto& e : v) ASSERT_TRUE(w->write(e));
    ASSERT_TRUE(w->close());
  }
  auto r = trace_reader::open(path);
  ASSERT_TRUE(r) << r.err().msg;
  EXPECT_EQ((*r)->meta(), m);
  std::vector<event> got, buf(4);  // a small buffer: several reads, last one short
  for (;;) {
    auto n = (*r)->read(buf);
    ASSERT_TRUE(n) << n.err().msg;
    if (*n == 0) break;
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
  }
  EXPECT_EQ(got, v);
  EXPECT_EQ((*r)->records_read(), v.size());
}

TEST(BinaryTrace, HeaderLayout) {
  std::string h = encode_trace_header({});
  ASSERT_EQ(h.size(), trace_header_size);
  EXPECT_EQ(h.substr(0, 8), "MMBPFTRC");
  uint32_t version, rec;
  std::memcpy(&version, h.data() + 8, 4);
  std::memcpy(&rec, h.data() + 16, 4);
  EXPECT_EQ(version, 1u);
  EXPECT_EQ(rec, 32u);
}

TEST(BinaryTrace, CorruptAndTruncatedInputsSayWhereAndWhat) {
  auto v = every_kind();
  std::string good = encode_trace_header({}) + bytes_of(v);
  EXPECT_EQ(read_all_error(good), "");

  EXPECT_EQ(read_all_error("NOTATRACE" + good.substr(9)),
            "trace.bin: bad magic (not an mmbpf trace)");
  EXPECT_EQ(read_all_error(good.substr(0, 10)), "trace.bin: truncated header (10 of 32 bytes)");
  EXPECT_EQ(read_all_error("MMB"), "trace.bin: truncated header (3 of 32 bytes)");

  std::string bad = good;
  bad[8] = 2;
  EXPECT_EQ(read_all_error(bad), "trace.bin: unsupported trace version 2 (this build reads 1)");
  bad = good;
  bad[12] = 4;
  EXPECT_EQ(read_all_error(bad), "trace.bin: unknown header flags 0x4");
  bad = good;
  bad[16] = 40;
  EXPECT_EQ(read_all_error(bad), "trace.bin: record size 40 (version 1 records are 32 bytes)");

  // Record 17 (1-based) has kind 99.
  std::vector<event> many(20, v[0]);
  std::string body = bytes_of(many);
  body[16 * sizeof(event)] = 99;
  EXPECT_EQ(read_all_error(encode_trace_header({}) + body),
            "trace.bin: record 17: unknown event kind 99");
  body = bytes_of(many);
  body[2 * sizeof(event)] = 0;
  EXPECT_EQ(read_all_error(encode_trace_header({}) + body),
            "trace.bin: record 3: unknown event kind 0");
  body = bytes_of(many);
  body[4 * sizeof(event) + 3] = 1;
  EXPECT_EQ(read_all_error(encode_trace_header({}) + body),
            "trace.bin: record 5: reserved byte is 1, expected 0");

  // Three whole records, then 12 bytes of the fourth.
  std::string t = encode_trace_header({}) + bytes_of(v).substr(0, 3 * 32 + 12);
  EXPECT_EQ(read_all_error(t), "trace.bin: truncated after record 3 (12 of 32 bytes)");

  // Metadata: length past the end, and a line that is not key=value.
  trace_meta m;
  m.entries = {{"k", "v"}};
  std::string hm = encode_trace_header(m);
  EXPECT_EQ(read_all_error(hm.substr(0, hm.size() - 1)),
            "trace.bin: truncated metadata (3 of 4 bytes)");
  std::string hb = hm;
  hb[32 + 1] = 'x';  // "kxv\n"
  EXPECT_EQ(read_all_error(hb), "trace.bin: metadata line 1: expected key=value");
}

TEST(BinaryTrace, MissingFile) {
  auto r = trace_reader::open("/nonexistent/t.bin");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().msg, "/nonexistent/t.bin: No such file or directory");
}

TEST(TextTrace, RoundTripEveryKind) {
  auto v = every_kind();
  trace_meta m;
  m.entries = {{"source", "hand"}};
  m.file_size = {{5, 1 << 20}};
  std::string text = format_text_trace(m, v);
  auto r = text_trace_reader::from_string("t.txt", text);
  ASSERT_TRUE(r) << r.err().msg;
  EXPECT_EQ((*r)->events(), v);
  EXPECT_EQ((*r)->meta(), m);
  EXPECT_EQ(format_text_trace((*r)->meta(), (*r)->events()), text);
}

TEST(TextTrace, Examples) {
  EXPECT_EQ(format_event(every_kind()[0]), "read pid=7 cg=3 ino=5 off=8192 len=4096");
  EXPECT_EQ(format_event(every_kind()[7]),
            "fadvise pid=7 cg=3 ino=5 off=0 len=0 advice=POSIX_FADV_DONTNEED");
  EXPECT_EQ(format_event(every_kind()[11]), "fork pid=7 cg=3 ppid=1 oom_score_adj=-1000");
  EXPECT_EQ(format_event(every_kind()[14]),
            "cgroup_set_limit pid=7 cg=3 limit=memory.high bytes=max");
  auto e = parse_event("  read   pid=1 cg=0 ino=5 off=0x1000 len=4096 ");
  ASSERT_TRUE(e) << e.err().msg;
  EXPECT_EQ(e->off, 4096u);
  e = parse_event("mmap_fault_file pid=1 cg=0 ino=5 off=3 len=1");  // write= optional
  ASSERT_TRUE(e) << e.err().msg;
  EXPECT_EQ(e->flags, 0);
}

TEST(TextTrace, ErrorsNameLineAndProblem) {
  auto err = [](const char* text) {
    auto r = text_trace_reader::from_string("t.txt", text);
    return r ? std::string() : r.err().msg;
  };
  EXPECT_EQ(err("# comment\n\nread pid=1 cg=0 ino=1 off=0 len=1\n"), "");
  EXPECT_EQ(err("read pid=1 cg=0 ino=1 off=0 len=1\nreed pid=1\n"),
            "t.txt: line 2: unknown event kind 'reed'");
  EXPECT_EQ(err("read pid=1 cg=0 ino=1 off=0\n"), "t.txt: line 1: read: missing len");
  EXPECT_EQ(err("read pid=1 ino=1 off=0 len=1\n"), "t.txt: line 1: read: missing cg");
  EXPECT_EQ(err("read pid=1 cg=0 ino=1 off=0 len=1 advice=MADV_COLD\n"),
            "t.txt: line 1: read: unknown key 'advice'");
  EXPECT_EQ(err("read pid=1 cg=0 ino=1 off=x len=1\n"),
            "t.txt: line 1: read: off 'x' is not a number");
  EXPECT_EQ(err("read pid=1 cg=70000 ino=1 off=0 len=1\n"),
            "t.txt: line 1: read: cg '70000' is not a cgroup id (0..65535)");
  EXPECT_EQ(err("read pid=1 cg=0 cg=0 ino=1 off=0 len=1\n"),
            "t.txt: line 1: read: duplicate key 'cg'");
  EXPECT_EQ(err("read pid=1 cg=0 ino=1 off 0 len=1\n"),
            "t.txt: line 1: read: expected key=value, got 'off'");
  EXPECT_EQ(err("madvise pid=1 cg=0 off=0 len=1 advice=POSIX_FADV_RANDOM\n"),
            "t.txt: line 1: madvise: advice 'POSIX_FADV_RANDOM' is not a MADV_* name");
  EXPECT_EQ(err("fork pid=2 cg=0 ppid=1 oom_score_adj=1001\n"),
            "t.txt: line 1: fork: oom_score_adj '1001' is not in -1000..1000");
  EXPECT_EQ(err("file ino=1\n"), "t.txt: line 1: file: needs ino= and size=");
  EXPECT_EQ(err("meta novalue\n"), "t.txt: line 1: meta: expected one key=value");
}
