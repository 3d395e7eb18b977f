// Validation without the live kernel: a synthetic "capture" (events plus the metadata a capture
// writes) replayed in the model, checking the metric table (names, kernel figures read back
// from the metadata, model figures, relative errors), the model's limit and the errors.
#include "workload/validate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "workload/event.h"

namespace mmbpf::workload {
namespace {

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/validate_test_" + std::to_string(getpid()) + "_" + name;
}

// A capture of one process reading a 16 MiB file sequentially twice in 64 KiB reads, under an
// 8 MiB limit, with the kernel's figures as given.
trace_meta capture_meta(uint64_t io_read_bytes, uint64_t refaults) {
  trace_meta m;
  m.entries = {{"source", "mmbpf_capture"},
               {"capture.records", "600"},
               {"capture.lost", "3"},
               {"capture.memory_limit", std::to_string(8u << 20)},
               {"capture.noncache_mean_bytes", std::to_string(2u << 20)},
               {"read_ahead_kb", "128"},
               {"kernel.pgcache_add_pages", "8192"},
               {"kernel.pgcache_add_folios.order0", "100"},
               {"kernel.pgcache_add_folios.order2", "10"},
               {"io.read_bytes", std::to_string(io_read_bytes)},
               {"memory.stat.before.pgmajfault", "0"},
               {"memory.stat.after.pgmajfault", "0"},
               {"memory.stat.before.workingset_refault_file", "0"},
               {"memory.stat.after.workingset_refault_file", std::to_string(refaults)},
               {"memory.stat.after.cache", std::to_string(6u << 20)}};
  m.file_size[1] = 16u << 20;
  return m;
}

std::string write_capture(const std::string& name, const trace_meta& meta) {
  const std::string path = temp_path(name);
  auto w = trace_writer::create(path, meta);
  EXPECT_TRUE(w.ok());
  for (int pass = 0; pass < 2; ++pass)
    for (uint64_t off = 0; off < (16u << 20); off += 64 << 10) {
      event e{};
      e.kind = event_kind::read;
      e.pid = 100;
      e.ino = 1;
      e.off = off;
      e.len = 64 << 10;
      EXPECT_TRUE(w->write(e).ok());
    }
  EXPECT_TRUE(w->close().ok());
  return path;
}

const metric* find(const validation& v, const std::string& name) {
  for (const auto& m : v.metrics)
    if (m.name == name) return &m;
  return nullptr;
}

TEST(Validate, RelativeError) {
  EXPECT_DOUBLE_EQ(*relative_error(100.0, 110.0), 0.1);
  EXPECT_DOUBLE_EQ(*relative_error(200.0, 150.0), -0.25);
  EXPECT_EQ(*relative_error(0.0, 0.0), 0.0);
  EXPECT_FALSE(relative_error(0.0, 5.0).has_value());  // undefined, not infinite
  EXPECT_FALSE(relative_error(std::nullopt, 5.0).has_value());
}

TEST(Validate, KernelFiguresFromTheMetadata) {
  trace_meta m = capture_meta(123456, 77);
  EXPECT_EQ(*kernel_metric(m, "io_read_bytes"), 123456.0);
  EXPECT_EQ(*kernel_metric(m, "workingset_refault_file"), 77.0);
  EXPECT_EQ(*kernel_metric(m, "pgmajfault"), 0.0);
  EXPECT_EQ(*kernel_metric(m, "pgcache_add_pages"), 8192.0);
  EXPECT_EQ(*kernel_metric(m, "cache_bytes"), static_cast<double>(6u << 20));
  EXPECT_FALSE(kernel_metric(trace_meta{}, "io_read_bytes").has_value());
  EXPECT_FALSE(kernel_metric(m, "no_such_metric").has_value());
}

TEST(Validate, ModelLimitIsTheLimitLessWhatWasNotPageCache) {
  validation v;
  const mm::config c = validation_config(capture_meta(0, 0), {}, v);
  EXPECT_EQ(v.limit_bytes, 8u << 20);
  EXPECT_EQ(v.noncache_bytes, 2u << 20);
  EXPECT_EQ(v.model_limit_bytes, 6u << 20);
  EXPECT_EQ(v.read_ahead_kb, 128u);
  ASSERT_EQ(c.cgroups.size(), 1u);
  EXPECT_EQ(c.cgroups[0].id, 1);
  EXPECT_EQ(c.cgroups[0].max, (6u << 20) / 4096);
  EXPECT_GT(c.memory_pages, c.cgroups[0].max);  // the node never reclaims on its own
  validate_options o;
  o.limit = 4u << 20;
  o.read_ahead_kb = 512;
  validation w;
  const mm::config d = validation_config(capture_meta(0, 0), o, w);
  EXPECT_EQ(d.cgroups[0].max, (4u << 20) / 4096);
  EXPECT_EQ(d.read_ahead_kb, 512u);
}

TEST(Validate, TwoScansOverTwiceTheLimitMissEverythingAndRefault) {
  // 16 MiB read twice through a 6 MiB cache: every page is read both times (LRU scan), and the
  // second pass refaults the pages the first evicted.
  const std::string path = write_capture("scan", capture_meta(32u << 20, 4096));
  auto v = validate_trace(path);
  std::remove(path.c_str());
  ASSERT_TRUE(v.ok()) << v.err().msg;
  EXPECT_EQ(v->events, 512u);
  EXPECT_EQ(v->lost, 3u);
  for (const char* name : {"io_read_bytes", "pgmajfault", "workingset_refault_file",
                           "pgcache_add_pages", "cache_bytes"})
    ASSERT_NE(find(*v, name), nullptr) << name;
  const metric& io = *find(*v, "io_read_bytes");
  EXPECT_EQ(io.model, static_cast<double>(32u << 20));
  EXPECT_EQ(*io.kernel, static_cast<double>(32u << 20));
  EXPECT_EQ(*io.relative_error, 0.0);
  const metric& refaults = *find(*v, "workingset_refault_file");
  EXPECT_GT(refaults.model, 2000.0);
  EXPECT_LE(refaults.model, 4096.0);
  const metric& cache = *find(*v, "cache_bytes");
  EXPECT_LE(cache.model, static_cast<double>(6u << 20));
  EXPECT_GT(cache.model, static_cast<double>(5u << 20));
  const metric& adds = *find(*v, "pgcache_add_pages");
  EXPECT_EQ(adds.model, 8192.0);  // every page read is inserted
  EXPECT_EQ(find(*v, "pgmajfault")->model, 0.0);
  // the notes name the losses and the large folios
  bool lost_note = false, folio_note = false;
  for (const auto& n : v->notes) {
    lost_note |= n.find("lost 3 ring buffer records") != std::string::npos;
    folio_note |= n.find("10 of its 110 folios as large folios") != std::string::npos;
  }
  EXPECT_TRUE(lost_note);
  EXPECT_TRUE(folio_note);
}

TEST(Validate, ATraceThatIsNotACaptureIsRefused) {
  trace_meta m;
  m.entries = {{"generator", "zipf"}};
  const std::string path = temp_path("gen");
  auto w = trace_writer::create(path, m);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->close().ok());
  auto v = validate_trace(path);
  std::remove(path.c_str());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.err().msg.find("not a capture"), std::string::npos) << v.err().msg;
  auto missing = validate_trace(temp_path("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.err().msg.find("No such file"), std::string::npos) << missing.err().msg;
}

}  // namespace
}  // namespace mmbpf::workload
