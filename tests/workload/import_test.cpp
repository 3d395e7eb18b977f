// oracleGeneral and CSV import: layout, the id -> page mapping, next_access_vtime, errors; and
// export (export.h): the oracleGeneral writer, atomic writes, conversion, summaries, guessing.
#include "workload/import.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "workload/export.h"
#include "workload/spec.h"

using namespace mmbpf::workload;

namespace {

std::string tmp_path(const char* name) {
  return std::string(::testing::TempDir()) + "/" + name;
}

// Writes oracleGeneral records field by field at offsets 0/4/12/16, not through the struct.
void write_oracle(const std::string& path,
                  const std::vector<std::tuple<uint32_t, uint64_t, uint32_t, int64_t>>& recs,
                  size_t extra_bytes = 0) {
  std::string s;
  for (auto [t, id, size, next] : recs) {
    char b[24];
    std::memcpy(b, &t, 4);
    std::memcpy(b + 4, &id, 8);
    std::memcpy(b + 12, &size, 4);
    std::memcpy(b + 16, &next, 8);
    s.append(b, 24);
  }
  s.append(extra_bytes, '\0');
  std::ofstream(path, std::ios::binary) << s;
}

std::vector<event> drain(event_source& src, std::string* err = nullptr) {
  std::vector<event> out, buf(3);
  for (;;) {
    auto n = src.read(buf);
    if (!n) {
      if (err) *err = n.err().msg;
      return out;
    }
    if (*n == 0) return out;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
  }
}

}  // namespace

TEST(OracleGeneral, RecordIs24PackedBytes) {
  static_assert(sizeof(oracle_general_record) == 24);
  static_assert(offsetof(oracle_general_record, obj_id) == 4);
  static_assert(offsetof(oracle_general_record, obj_size) == 12);
  static_assert(offsetof(oracle_general_record, next_access_vtime) == 16);
}

TEST(OracleGeneral, ImportMapsIdsToDensePagesInFirstAppearanceOrder) {
  std::string path = tmp_path("small.oracleGeneral");
  // ids 1000, 7, 1000, 42, 7: pages 0, 1, 0, 2, 1; next_access: 2, 4, -1, INT64_MAX, -1.
  write_oracle(path, {{1, 1000, 4096, 2},
                      {2, 7, 512, 4},
                      {3, 1000, 4096, -1},
                      {4, 42, 100, INT64_MAX},
                      {5, 7, 512, -1}});
  std::vector<int64_t> next;
  import_options o;
  o.pid = 3, o.cgroup = 2, o.ino = 9, o.next_access = &next;
  auto r = oracle_general_reader::open(path, o);
  ASSERT_TRUE(r) << r.err().msg;
  std::string err;
  auto ev = drain(**r, &err);
  ASSERT_EQ(err, "");
  ASSERT_EQ(ev.size(), 5u);
  const uint64_t pages[] = {0, 1, 0, 2, 1};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(ev[i].kind, event_kind::read);
    EXPECT_EQ(ev[i].pid, 3u);
    EXPECT_EQ(ev[i].cgroup, 2);
    EXPECT_EQ(ev[i].ino, 9u);
    EXPECT_EQ(ev[i].off, pages[i] * 4096) << i;
    EXPECT_EQ(ev[i].len, 4096u);
  }
  EXPECT_EQ(next, (std::vector<int64_t>{2, 4, no_next_access, no_next_access, no_next_access}));
  EXPECT_EQ((*r)->distinct_pages(), 3u);
  EXPECT_EQ((*r)->meta().file_size.at(9), 3u * 4096);
}

TEST(OracleGeneral, ManyDistinctIdsGrowTheMap) {
  std::string path = tmp_path("many.oracleGeneral");
  std::vector<std::tuple<uint32_t, uint64_t, uint32_t, int64_t>> recs;
  for (uint64_t i = 0; i < 5000; ++i) recs.emplace_back(0, i * 2654435761u + 1, 1, -1);
  for (uint64_t i = 0; i < 5000; ++i) recs.emplace_back(0, i * 2654435761u + 1, 1, -1);
  write_oracle(path, recs);
  auto r = oracle_general_reader::open(path);
  ASSERT_TRUE(r);
  auto ev = drain(**r);
  ASSERT_EQ(ev.size(), 10000u);
  for (size_t i = 0; i < 10000; ++i) ASSERT_EQ(ev[i].off / 4096, i % 5000);
}

TEST(OracleGeneral, TruncatedRecord) {
  std::string path = tmp_path("trunc.oracleGeneral");
  write_oracle(path, {{1, 1, 1, -1}, {2, 2, 1, -1}}, 10);
  auto r = oracle_general_reader::open(path);
  ASSERT_TRUE(r);
  std::string err;
  auto ev = drain(**r, &err);
  EXPECT_EQ(err, path + ": truncated after record 2 (10 of 24 bytes)");
}

TEST(Csv, WithAndWithoutHeader) {
  std::string a = tmp_path("a.csv"), b = tmp_path("b.csv"), c = tmp_path("c.csv");
  std::ofstream(a) << "time,obj_id,size\n1,10,4096\n2,20,4096\r\n3,10,4096\n";
  std::ofstream(b) << "1,10,4096\n2,20,4096\n\n3,10,4096\n";
  std::ofstream(c) << "10\n20\n10\n";
  for (const auto& p : {a, b, c}) {
    auto r = csv_reader::open(p);
    ASSERT_TRUE(r) << r.err().msg;
    std::string err;
    auto ev = drain(**r, &err);
    ASSERT_EQ(err, "") << p;
    ASSERT_EQ(ev.size(), 3u) << p;
    EXPECT_EQ(ev[0].off, 0u);
    EXPECT_EQ(ev[1].off, 4096u);
    EXPECT_EQ(ev[2].off, 0u);
    EXPECT_EQ((*r)->distinct_pages(), 2u);
  }
}

TEST(Csv, Errors) {
  std::string a = tmp_path("bad.csv"), b = tmp_path("bad2.csv");
  std::ofstream(a) << "time,obj_id,size\n1,10,4096\n2,abc,4096\n";
  std::ofstream(b) << "time,key,size\n1,10,4096\n";
  auto r = csv_reader::open(a);
  ASSERT_TRUE(r);
  std::string err;
  drain(**r, &err);
  EXPECT_EQ(err, a + ": line 3: obj_id 'abc' is not a number");
  r = csv_reader::open(b);
  ASSERT_TRUE(r);
  drain(**r, &err);
  EXPECT_EQ(err, b + ": line 1: header has no obj_id column");
}

TEST(OpenTrace, FormatNames) {
  EXPECT_TRUE(trace_format_from_name("oracleGeneral"));
  auto f = trace_format_from_name("vscsi");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.err().msg, "unknown trace format 'vscsi' (known: mmbpf, text, oracleGeneral, csv)");
}

// ---- export: the oracleGeneral writer, write_trace, convert, summaries, format guessing ----

namespace {

// A fixed list of events, optionally failing after them.
class vec_source final : public event_source {
 public:
  explicit vec_source(std::vector<event> ev, std::string fail = "")
      : ev_(std::move(ev)), fail_(std::move(fail)) {}
  mmbpf::result<size_t> read(std::span<event> out) override {
    size_t n = std::min(out.size(), ev_.size() - pos_);
    std::copy_n(ev_.begin() + static_cast<long>(pos_), n, out.begin());
    pos_ += n;
    if (n == 0 && !fail_.empty()) return mmbpf::error{fail_};
    return n;
  }

 private:
  std::vector<event> ev_;
  std::string fail_;
  size_t pos_ = 0;
};

event ev(event_kind k, uint32_t ino, uint64_t off, uint64_t len) {
  event e{};
  e.kind = k;
  e.pid = 1;
  e.ino = ino;
  e.off = off;
  e.len = len;
  return e;
}

bool exists(const std::string& p) {
  return std::ifstream(p).good();
}

std::string read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST(OracleGeneralWriter, OneRequestPerPageWithNextAccessCountedFromOne) {
  vec_source src({
      ev(event_kind::read, 1, 0, 8192),          // pages 0, 1 of ino 1
      ev(event_kind::fsync, 1, 0, 0),            // no page
      ev(event_kind::read, 1, 4096 + 100, 1),    // page 1
      ev(event_kind::write, 2, 0, 4096),         // page 0 of ino 2
      ev(event_kind::read, 1, 0, 0),             // len 0: no page
      ev(event_kind::mmap_fault_file, 1, 0, 1),  // page 0 (off, len in pages)
      ev(event_kind::anon_fault, 0, 0, 1),       // anonymous: no request
  });
  uint64_t events = 0;
  auto r = to_oracle_general(src, &events);
  ASSERT_TRUE(r) << r.err().msg;
  EXPECT_EQ(events, 7u);
  ASSERT_EQ(r->size(), 5u);
  const uint64_t p10 = (uint64_t{1} << 40) + 1, p11 = (uint64_t{1} << 40 | 1) + 1,
                 p20 = (uint64_t{2} << 40) + 1;
  const uint64_t ids[] = {p10, p11, p11, p20, p10};
  // Requests 1..5: page (1,0) again at request 5, page (1,1) at 3, the others never.
  const int64_t next[] = {5, 3, -1, -1, -1};
  for (size_t i = 0; i < 5; ++i) {
    const oracle_general_record& q = (*r)[i];
    EXPECT_EQ(q.clock_time, i + 1);
    EXPECT_EQ(q.obj_id, ids[i]) << i;
    EXPECT_EQ(q.obj_size, 4096u);
    EXPECT_EQ(q.next_access_vtime, next[i]) << i;
  }
}

TEST(OracleGeneralWriter, NextAccessMatchesBruteForceOnAZipfStream) {
  auto g = make_generator("zipf:pages=300,events=3000,seed=9");
  ASSERT_TRUE(g);
  auto r = to_oracle_general(**g);
  ASSERT_TRUE(r);
  const auto& q = *r;
  ASSERT_EQ(q.size(), 3000u);
  for (size_t i = 0; i < q.size(); ++i) {
    int64_t want = -1;
    for (size_t j = i + 1; j < q.size(); ++j)
      if (q[j].obj_id == q[i].obj_id) {
        want = static_cast<int64_t>(j + 1);
        break;
      }
    ASSERT_EQ(q[i].next_access_vtime, want) << i;
  }
}

TEST(OracleGeneralWriter, FileIs24BytesPerRequestAndImportsBack) {
  const std::string path = tmp_path("w.oracleGeneral");
  // A read of 3 pages, then of the middle one, then the first two again.
  vec_source src({ev(event_kind::read, 7, 0, 3 * 4096), ev(event_kind::read, 7, 4096, 4096),
                  ev(event_kind::read, 7, 0, 2 * 4096)});
  auto st = write_trace(path, trace_format::oracle_general, {}, src);
  ASSERT_TRUE(st) << st.err().msg;
  EXPECT_EQ(st->events, 3u);
  EXPECT_EQ(st->records, 6u);
  std::string bytes = read_file(path);
  ASSERT_EQ(bytes.size(), 6u * 24);
  int64_t next0;  // field at offset 16 of the first record
  std::memcpy(&next0, bytes.data() + 16, 8);
  EXPECT_EQ(next0, 5);  // page 0 is requested again by request 5
  EXPECT_FALSE(exists(path + ".tmp"));
  std::vector<int64_t> next;
  import_options o;
  o.next_access = &next;
  auto r = oracle_general_reader::open(path, o);
  ASSERT_TRUE(r);
  auto evs = drain(**r);
  ASSERT_EQ(evs.size(), 6u);
  const uint64_t pages[] = {0, 1, 2, 1, 0, 1};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(evs[i].off, pages[i] * 4096) << i;
  EXPECT_EQ(next, (std::vector<int64_t>{5, 4, no_next_access, 6, no_next_access, no_next_access}));
}

TEST(OracleGeneralWriter, OversizedRangeIsAnError) {
  vec_source src({ev(event_kind::read, 1, 0, 4096), ev(event_kind::read, 1, 0, uint64_t{1} << 50)});
  auto r = to_oracle_general(src, nullptr, "t");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().msg, "t: event 2: read of 274877906944 pages (at most 1073741824 per event)");
  vec_source far({ev(event_kind::mmap_fault_file, 1, (uint64_t{1} << 40) - 1, 2)});
  r = to_oracle_general(far);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().msg,
            "event 1: mmap_fault_file of 2 pages from page 1099511627775 goes beyond the 2^40 "
            "pages of a file");
}

TEST(WriteTrace, FailedWriteLeavesNothingAndKeepsTheOldFile) {
  const std::string path = tmp_path("atomic.trace");
  std::ofstream(path) << "old";
  for (auto f : {trace_format::mmbpf, trace_format::text, trace_format::oracle_general}) {
    vec_source src({ev(event_kind::read, 1, 0, 4096)}, "src: record 2: unknown event kind 99");
    auto st = write_trace(path, f, {}, src);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.err().msg, "src: record 2: unknown event kind 99");
    EXPECT_EQ(read_file(path), "old");
    EXPECT_FALSE(exists(path + ".tmp"));
  }
  vec_source src({});
  auto st = write_trace(path, trace_format::csv, {}, src);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().msg, path + ": cannot write csv (output formats: mmbpf, text, oracleGeneral)");
  st = write_trace(tmp_path("no/such/dir/x.trace"), trace_format::mmbpf, {}, src);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().msg, tmp_path("no/such/dir/x.trace") + ".tmp: No such file or directory");
}

TEST(ConvertTrace, BinaryTextBinaryIsByteIdentical) {
  const std::string a = tmp_path("conv_a.trace"), t = tmp_path("conv_t.txt"),
                    b = tmp_path("conv_b.trace");
  auto g = make_generator("search:files=40,dirs=6,passes=2;hog:pages=5,pid=9,cg=3");
  ASSERT_TRUE(g);
  trace_meta meta = (*g)->meta();
  meta.entries.emplace_back("generator", "x=y,z");
  ASSERT_TRUE(write_trace(a, trace_format::mmbpf, meta, **g));
  auto st = convert_trace(a, trace_format::mmbpf, t, trace_format::text);
  ASSERT_TRUE(st) << st.err().msg;
  st = convert_trace(t, trace_format::text, b, trace_format::mmbpf);
  ASSERT_TRUE(st) << st.err().msg;
  EXPECT_EQ(read_file(a), read_file(b));
  EXPECT_GT(st->events, 80u);
}

TEST(ConvertTrace, OracleGeneralInputGetsItsMetadata) {
  const std::string in = tmp_path("conv.oracleGeneral"), out = tmp_path("conv_og.trace");
  write_oracle(in, {{1, 1000, 4096, 2}, {2, 7, 512, -1}, {3, 1000, 4096, -1}});
  auto st = convert_trace(in, trace_format::oracle_general, out, trace_format::mmbpf);
  ASSERT_TRUE(st) << st.err().msg;
  EXPECT_EQ(st->events, 3u);
  auto r = trace_reader::open(out);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->meta().file_size.at(1), 2u * 4096);
  EXPECT_EQ((*r)->meta().entries.at(0),
            (std::pair<std::string, std::string>("source", "oracleGeneral")));
}

TEST(SummarizeTrace, CountsKindsInodesAndPages) {
  const std::string path = tmp_path("sum.txt");
  std::ofstream(path) << "meta generator=test\nfile ino=5 size=12288\n"
                         "read pid=1 cg=0 ino=5 off=0 len=8192\n"
                         "read pid=1 cg=0 ino=5 off=4096 len=4096\n"
                         "write pid=1 cg=0 ino=6 off=0 len=1\n"
                         "fsync pid=1 cg=0 ino=7\n"
                         "anon_fault pid=1 cg=0 off=3 len=1\n";
  auto s = summarize_trace(path, trace_format::text);
  ASSERT_TRUE(s) << s.err().msg;
  EXPECT_EQ(s->events, 5u);
  EXPECT_EQ(s->per_kind[static_cast<size_t>(event_kind::read)], 2u);
  EXPECT_EQ(s->per_kind[static_cast<size_t>(event_kind::write)], 1u);
  EXPECT_EQ(s->per_kind[static_cast<size_t>(event_kind::anon_fault)], 1u);
  EXPECT_EQ(s->inodes, 3u);  // 5, 6, 7
  EXPECT_EQ(s->pages, 3u);   // (5,0), (5,1), (6,0)
  EXPECT_EQ(s->page_accesses, 4u);
  EXPECT_EQ(s->meta.file_size.at(5), 12288u);
}

TEST(GuessFormat, MagicNameThenFirstLine) {
  const std::string bin = tmp_path("g_bin"), txt = tmp_path("g_txt"), csv = tmp_path("g_csv"),
                    csvh = tmp_path("g_csvh"), og = tmp_path("g.oracleGeneral.bin"),
                    junk = tmp_path("g_junk"), zst = tmp_path("g_zst");
  vec_source src({ev(event_kind::read, 1, 0, 4096)});
  ASSERT_TRUE(write_trace(bin, trace_format::mmbpf, {}, src));
  std::ofstream(txt) << "# a comment\n\n  read pid=1 cg=0 ino=1 off=0 len=1\n";
  std::ofstream(csv) << "1,10,4096\n";
  std::ofstream(csvh) << "time, obj_id, size\n1,10,4096\n";
  std::ofstream(og) << std::string(48, '\x01');
  std::ofstream(junk) << std::string("\x01\x02\0\x04", 4);
  std::ofstream(zst) << "\x28\xb5\x2f\xfd rest";
  EXPECT_EQ(*guess_trace_format(bin), trace_format::mmbpf);
  EXPECT_EQ(*guess_trace_format(txt), trace_format::text);
  EXPECT_EQ(*guess_trace_format(csv), trace_format::csv);
  EXPECT_EQ(*guess_trace_format(csvh), trace_format::csv);
  EXPECT_EQ(*guess_trace_format(og), trace_format::oracle_general);
  auto j = guess_trace_format(junk);
  ASSERT_FALSE(j);
  EXPECT_EQ(j.err().msg, junk +
                             ": cannot tell the trace format: no mmbpf magic, not text or CSV, "
                             "and the name does not say which");
  auto z = guess_trace_format(zst);
  ASSERT_FALSE(z);
  EXPECT_EQ(z.err().msg, zst + ": zstd-compressed; decompress it first (zstd -d)");
  auto m = guess_trace_format(tmp_path("g_missing"));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.err().msg, tmp_path("g_missing") + ": No such file or directory");
  EXPECT_EQ(output_format_for("a/b.txt"), trace_format::text);
  EXPECT_EQ(output_format_for("x.oracleGeneral"), trace_format::oracle_general);
  EXPECT_EQ(output_format_for("txt.dir/x"), trace_format::mmbpf);
  EXPECT_EQ(trace_format_name(trace_format::oracle_general), "oracleGeneral");
}
