// oracleGeneral and CSV import: layout, the id -> page mapping, next_access_vtime, errors.
#include "workload/import.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

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
