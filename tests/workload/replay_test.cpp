// The replay driver: hand-written text traces into a small model, checking that each event
// reaches the model (counters, memcg charges, file sizes), the one-line errors for events the
// model cannot take, the callbacks (progress, cgroup creation), and opening workloads.
#include "workload/replay.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "workload/trace_text.h"

namespace mmbpf::workload {
namespace {

std::unique_ptr<mm::model> small_model(uint64_t pages = 1024) {
  mm::config c;
  c.memory_pages = pages;
  auto m = mm::model::create(c);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.err().msg);
  return m.ok() ? std::move(*m) : nullptr;
}

std::unique_ptr<text_trace_reader> text(std::string_view t) {
  auto r = text_trace_reader::from_string("test", t);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().msg);
  return r.ok() ? std::move(*r) : nullptr;
}

std::string replay_err(std::string_view t, mm::model& m, const replay_options& opt = {}) {
  auto src = text(t);
  auto r = replay(*src, m, opt);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.err().msg;
}

TEST(Replay, ReadingOnePageTwiceMissesOnce) {
  auto m = small_model();
  auto src = text(
      "file ino=5 size=4096\n"
      "read pid=1 cg=0 ino=5 off=0 len=4096\n"
      "read pid=1 cg=0 ino=5 off=0 len=4096\n");
  apply_trace_files(src->meta(), *m);
  auto r = replay(*src, *m);
  ASSERT_TRUE(r.ok()) << r.err().msg;
  EXPECT_EQ(r->events, 2u);
  EXPECT_EQ(m->counters().events, 2u);
  EXPECT_EQ(m->counters().lookups, 2u);
  EXPECT_EQ(m->counters().misses, 1u);
  EXPECT_EQ(m->counters().io_read_bytes, 4096u);
  EXPECT_NE(m->folio_at(0, 5), nullptr);
}

TEST(Replay, AppliesFileSizes) {
  auto m = small_model();
  trace_meta meta;
  meta.file_size[7] = 3 * 4096 + 5;
  apply_trace_files(meta, *m);
  ASSERT_NE(m->find_mapping(7), nullptr);
  EXPECT_EQ(m->find_mapping(7)->inode.i_size, 3 * 4096 + 5);
}

TEST(Replay, EveryKindReachesTheModel) {
  auto m = small_model();
  auto src = text(
      "file ino=2 size=65536\n"
      "cgroup_create pid=0 cg=1 parent=0\n"
      "cgroup_set_limit pid=0 cg=1 limit=memory.max bytes=1048576\n"
      "fork pid=10 cg=1 ppid=0 oom_score_adj=100\n"
      "write pid=10 cg=1 ino=2 off=0 len=8192\n"
      "fsync pid=10 cg=1 ino=2\n"
      "read pid=10 cg=1 ino=2 off=8192 len=4096\n"
      "mmap_fault_file pid=10 cg=1 ino=2 off=4 len=1\n"
      "mmap_anon pid=10 cg=1 off=100 len=4\n"
      "anon_fault pid=10 cg=1 off=100 len=4 write=1\n"
      "madvise pid=10 cg=1 off=100 len=2 advice=MADV_DONTNEED\n"
      "munmap pid=10 cg=1 off=100 len=4\n"
      "fadvise pid=10 cg=1 ino=2 off=0 len=0 advice=POSIX_FADV_DONTNEED\n"
      "truncate pid=10 cg=1 ino=2 len=4096\n"
      "unlink pid=10 cg=1 ino=2\n"
      "exit pid=10 cg=1\n");
  apply_trace_files(src->meta(), *m);
  auto r = replay(*src, *m);
  ASSERT_TRUE(r.ok()) << r.err().msg;
  EXPECT_EQ(r->events, 15u);
  EXPECT_EQ(m->counters().events, 15u);
  mm::memcg* mc = m->find_memcg(1);
  ASSERT_NE(mc, nullptr);
  EXPECT_EQ(mc->css.memory.max, 256u);  // 1 MiB in pages
  EXPECT_GT(m->counters().lookups, 0u);
  EXPECT_GT(m->counters().io_write_bytes, 0u);  // the fsync wrote the two dirty pages
  EXPECT_EQ(m->find_task(10) == nullptr || !m->find_task(10)->alive, true);
}

TEST(Replay, ACreatedCgroupIsCharged) {
  auto m = small_model();
  std::vector<uint16_t> created;
  replay_options opt;
  opt.on_cgroup_create = [&](mm::memcg& mc) { created.push_back(mc.model_id); };
  auto src = text(
      "cgroup_create pid=0 cg=3 parent=0\n"
      "cgroup_create pid=0 cg=4 parent=3\n"
      "read pid=1 cg=4 ino=9 off=0 len=16384\n");
  auto r = replay(*src, *m, opt);
  ASSERT_TRUE(r.ok()) << r.err().msg;
  EXPECT_EQ(created, (std::vector<uint16_t>{3, 4}));
  ASSERT_NE(m->find_memcg(4), nullptr);
  EXPECT_EQ(m->find_memcg(4)->parent, m->find_memcg(3));
  // Four pages (and maybe their readahead) charged to cg 4 and, hierarchically, to cg 3.
  const auto usage4 = m->find_memcg(4)->css.memory.usage.counter;
  EXPECT_GE(usage4, 4);
  EXPECT_EQ(m->find_memcg(3)->css.memory.usage.counter, usage4);
  EXPECT_EQ(m->find_memcg(4)->counters.misses, m->counters().misses);
}

TEST(Replay, UnknownCgroupNamesTheEvent) {
  auto m = small_model();
  EXPECT_EQ(replay_err("read pid=1 cg=0 ino=1 off=0 len=4096\n"
                       "read pid=1 cg=3 ino=1 off=0 len=4096\n",
                       *m),
            "event 2: cgroup 3 does not exist (create it in the config or with a cgroup_create "
            "event)");
  // The event was not replayed: only the first one was.
  EXPECT_EQ(m->counters().events, 1u);
}

TEST(Replay, ErrorsCarryTheName) {
  auto m = small_model();
  replay_options opt;
  opt.name = "t.trace";
  EXPECT_EQ(replay_err("exit pid=1 cg=2\n", *m, opt),
            "t.trace: event 1: cgroup 2 does not exist (create it in the config or with a "
            "cgroup_create event)");
}

TEST(Replay, CgroupEventErrors) {
  auto m = small_model();
  EXPECT_EQ(replay_err("cgroup_create pid=0 cg=5 parent=4\n", *m),
            "event 1: cgroup_create 5: parent cgroup 4 does not exist");
  auto m2 = small_model();
  EXPECT_EQ(
      replay_err("cgroup_create pid=0 cg=5 parent=0\ncgroup_create pid=0 cg=5 parent=0\n", *m2),
      "event 2: cgroup_create: cgroup 5 exists already");
  auto m3 = small_model();
  EXPECT_EQ(replay_err("cgroup_create pid=0 cg=0 parent=0\n", *m3),
            "event 1: cgroup_create: cgroup 0 is the root, which exists already");
  auto m4 = small_model();
  EXPECT_EQ(replay_err("cgroup_set_limit pid=0 cg=6 limit=memory.low bytes=max\n", *m4),
            "event 1: cgroup 6 does not exist (create it in the config or with a cgroup_create "
            "event)");
}

TEST(Replay, ProgressAndLimits) {
  auto m = small_model();
  std::string t = "file ino=1 size=40960\n";
  for (int i = 0; i < 25; ++i)
    t += "read pid=1 cg=0 ino=1 off=" + std::to_string(i % 10 * 4096) + " len=4096\n";
  std::vector<uint64_t> seen;
  replay_options opt;
  opt.batch = 4;
  opt.progress_every = 10;
  opt.progress = [&](uint64_t n) { seen.push_back(n); };
  auto src = text(t);
  auto r = replay(*src, *m, opt);
  ASSERT_TRUE(r.ok()) << r.err().msg;
  EXPECT_EQ(r->events, 25u);
  // At batch granularity: after 12 (>= 10), 20 (>= 20), then the end.
  EXPECT_EQ(seen, (std::vector<uint64_t>{12, 20, 25}));

  auto m2 = small_model();
  replay_options lim;
  lim.batch = 4;
  lim.max_events = 7;
  auto src2 = text(t);
  auto r2 = replay(*src2, *m2, lim);
  ASSERT_TRUE(r2.ok()) << r2.err().msg;
  EXPECT_EQ(r2->events, 7u);
  EXPECT_EQ(m2->counters().events, 7u);
}

TEST(Replay, SourceErrorsPassThrough) {
  auto m = small_model();
  struct broken final : event_source {
    result<size_t> read(std::span<event>) override { return error{"x.bin: record 3: bad"}; }
  } src;
  auto r = replay(src, *m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().msg, "x.bin: record 3: bad");
}

TEST(OpenWorkload, GeneratorsKnowTheirFilesAndLength) {
  auto w = open_generator_workload("zipf:pages=100,events=1000");
  ASSERT_TRUE(w.ok()) << w.err().msg;
  EXPECT_EQ(w->expected_events, 1000u);
  EXPECT_EQ(w->meta.file_size.at(1), 100u * 4096);
  auto bad = open_generator_workload("zipf:pages=x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.err().msg.find("zipf: pages 'x'"), std::string::npos) << bad.err().msg;
}

TEST(OpenWorkload, TracesOfEveryFormat) {
  const std::string dir = ::testing::TempDir();
  const std::string txt = dir + "/replay_test_" + std::to_string(getpid()) + ".txt";
  std::ofstream(txt) << "file ino=1 size=8192\nread pid=1 cg=0 ino=1 off=0 len=4096\n";
  auto w = open_trace_workload(txt, trace_format::text);
  ASSERT_TRUE(w.ok()) << w.err().msg;
  EXPECT_EQ(w->expected_events, 1u);
  EXPECT_EQ(w->meta.file_size.at(1), 8192u);
  std::remove(txt.c_str());

  const std::string bin = dir + "/replay_test_" + std::to_string(getpid()) + ".mmbpf";
  {
    trace_meta meta;
    meta.file_size[1] = 4096;
    auto wr = trace_writer::create(bin, meta);
    ASSERT_TRUE(wr.ok()) << wr.err().msg;
    event e{};
    e.kind = event_kind::read;
    e.ino = 1;
    e.len = 4096;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(wr->write(e).ok());
    ASSERT_TRUE(wr->close().ok());
  }
  auto wb = open_trace_workload(bin, trace_format::mmbpf);
  ASSERT_TRUE(wb.ok()) << wb.err().msg;
  EXPECT_EQ(wb->expected_events, 3u);
  std::remove(bin.c_str());

  EXPECT_FALSE(open_trace_workload(dir + "/no/such", trace_format::mmbpf).ok());
}

}  // namespace
}  // namespace mmbpf::workload

namespace mmbpf::workload {
namespace {

// Belady's MIN is fed the lookups the model will make: for every kind of generator (reads
// past EOF cut, writes growing files, multi-page reads and scans) the pre-pass must count
// exactly the lookups the replay then makes.
TEST(PageLookups, MatchTheModelsLookups) {
  for (const char* spec :
       {"zipf:pages=2000,events=20K", "scan:pages=3000,passes=2,io=5",
        "ycsb:workload=e,records=5K,ops=5K", "ycsb:workload=a,records=5K,ops=5K",
        "search:files=200,size=20K,passes=2"}) {
    SCOPED_TRACE(spec);
    auto ahead = open_generator_workload(spec);
    ASSERT_TRUE(ahead.ok()) << ahead.err().msg;
    auto refs = page_lookups(*ahead->events, ahead->meta);
    ASSERT_TRUE(refs.ok()) << refs.err().msg;
    auto w = open_generator_workload(spec);
    ASSERT_TRUE(w.ok());
    mm::config c;
    c.memory_pages = 1 << 16;
    mm::model m(c);
    apply_trace_files(w->meta, m);
    ASSERT_TRUE(replay(*w->events, m).ok());
    EXPECT_EQ(refs->size(), m.counters().lookups);
    EXPECT_GT(refs->size(), 0u);
  }
}

}  // namespace
}  // namespace mmbpf::workload
