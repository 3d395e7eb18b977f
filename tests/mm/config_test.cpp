// The config file format of mm/config.h: sizes, every setting, cgroup lines, and the one-line
// errors (line number, setting, value) for bad input; validate_config on configs built in code.
#include "mm/config.h"

#include <gtest/gtest.h>

#include <string>

namespace mmbpf::mm {
namespace {

constexpr uint64_t KiB = 1024, MiB = KiB << 10, GiB = MiB << 10;

uint64_t size_ok(std::string_view s, bool allow_max = false) {
  auto r = parse_size(s, allow_max);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.err().msg);
  return r.ok() ? *r : 0;
}

std::string size_err(std::string_view s, bool allow_max = false) {
  auto r = parse_size(s, allow_max);
  EXPECT_FALSE(r.ok()) << s;
  return r.ok() ? "" : r.err().msg;
}

std::string config_err(std::string_view text) {
  auto r = parse_config(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.err().msg;
}

TEST(ParseSize, SuffixesArePowersOf1024) {
  EXPECT_EQ(size_ok("4096"), 4096u);
  EXPECT_EQ(size_ok("0"), 0u);
  EXPECT_EQ(size_ok("4K"), 4 * KiB);
  EXPECT_EQ(size_ok("512M"), 512 * MiB);
  EXPECT_EQ(size_ok("512m"), 512 * MiB);
  EXPECT_EQ(size_ok("4G"), 4 * GiB);
  EXPECT_EQ(size_ok("2T"), 2 * 1024 * GiB);
}

TEST(ParseSize, FractionsRoundDownToBytes) {
  EXPECT_EQ(size_ok("1.5G"), GiB + GiB / 2);
  EXPECT_EQ(size_ok("0.25M"), 256 * KiB);
  EXPECT_EQ(size_ok("1.1K"), 1126u);  // 1126.4 bytes
  EXPECT_EQ(size_ok("2.5"), 2u);
}

TEST(ParseSize, MaxOnlyWhereAllowed) {
  EXPECT_EQ(size_ok("max", true), UINT64_MAX);
  EXPECT_EQ(size_err("max"), "'max' is not a size (bytes with an optional K/M/G/T suffix)");
}

TEST(ParseSize, RejectsWhatIsNotASize) {
  EXPECT_EQ(size_err("-5G"), "'-5G' is not a size (bytes with an optional K/M/G/T suffix)");
  for (const char* s : {"", "G", "4X", "4GB", "+4G", "1.G", ".5G", "1.5.2G", "4 G", "0x10"})
    EXPECT_NE(size_err(s).find("is not a size"), std::string::npos) << s;
  EXPECT_EQ(size_err("99999999T"), "'99999999T' is too large");
  EXPECT_EQ(size_err("99999999999999999999"),
            "'99999999999999999999' is not a size (bytes with an optional K/M/G/T suffix)");
}

TEST(ParseConfig, EmptyGivesTheDefaults) {
  auto c = parse_config("# nothing here\n\n   \n");
  ASSERT_TRUE(c.ok()) << c.err().msg;
  config d;
  EXPECT_EQ(c->memory_pages, d.memory_pages);
  EXPECT_EQ(c->swappiness, 60);
  EXPECT_TRUE(c->cgroups.empty());
}

TEST(ParseConfig, EverySetting) {
  auto c = parse_config(R"(
memory 4G                    # RAM
swap 1G
swappiness 100
read_ahead_kb 256
min_free_kbytes 67584
watermark_scale_factor 20
memory_recursiveprot 1
device random_read_ns=90000 seq_read_ns=9000 write_ns=30000 read_bw=1.5G write_bw=512M
cpu syscall_ns=200 page_copy_ns=80 fault_ns=400 reclaim_page_ns=40
cgroup 1 /web memory.max=2G memory.high=1536M memory.low=512M
cgroup 2 /web/cache memory.min=64M memory.oom.group=1 memory.swap.max=max
	cgroup 3 /batch	memory.max=max
)");
  ASSERT_TRUE(c.ok()) << c.err().msg;
  EXPECT_EQ(c->memory_pages, 4 * GiB / 4096);
  EXPECT_EQ(c->swap_pages, GiB / 4096);
  EXPECT_EQ(c->swappiness, 100);
  EXPECT_EQ(c->read_ahead_kb, 256u);
  EXPECT_EQ(c->min_free_kbytes, 67584u);
  EXPECT_EQ(c->watermark_scale_factor, 20u);
  EXPECT_TRUE(c->memory_recursiveprot);
  EXPECT_EQ(c->device.random_read_ns, 90000u);
  EXPECT_EQ(c->device.seq_read_ns, 9000u);
  EXPECT_EQ(c->device.write_ns, 30000u);
  EXPECT_EQ(c->device.read_bw, GiB + GiB / 2);
  EXPECT_EQ(c->device.write_bw, 512 * MiB);
  EXPECT_EQ(c->cpu.syscall_ns, 200u);
  EXPECT_EQ(c->cpu.page_copy_ns, 80u);
  EXPECT_EQ(c->cpu.fault_ns, 400u);
  EXPECT_EQ(c->cpu.reclaim_page_ns, 40u);
  ASSERT_EQ(c->cgroups.size(), 3u);
  const auto& web = c->cgroups[0];
  EXPECT_EQ(web.id, 1);
  EXPECT_EQ(web.path, "/web");
  EXPECT_EQ(web.max, 2 * GiB / 4096);
  EXPECT_EQ(web.high, 1536 * MiB / 4096);
  EXPECT_EQ(web.low, 512 * MiB / 4096);
  EXPECT_EQ(web.min, 0u);
  EXPECT_EQ(web.swap_max, PAGE_COUNTER_MAX);
  EXPECT_FALSE(web.oom_group);
  const auto& cache = c->cgroups[1];
  EXPECT_EQ(cache.id, 2);
  EXPECT_EQ(cache.path, "/web/cache");
  EXPECT_EQ(cache.min, 64 * MiB / 4096);
  EXPECT_EQ(cache.max, PAGE_COUNTER_MAX);
  EXPECT_TRUE(cache.oom_group);
  EXPECT_EQ(c->cgroups[2].path, "/batch");
  EXPECT_EQ(c->cgroups[2].max, PAGE_COUNTER_MAX);
}

TEST(ParseConfig, LimitsRoundDownToPages) {
  auto c = parse_config("cgroup 7 /a memory.max=10000 memory.low=4095 memory.high=1.5K\n");
  ASSERT_TRUE(c.ok()) << c.err().msg;
  EXPECT_EQ(c->cgroups[0].max, 2u);
  EXPECT_EQ(c->cgroups[0].low, 0u);
  EXPECT_EQ(c->cgroups[0].high, 0u);
  auto m = parse_config("memory 6000\nswap 4095\n");
  ASSERT_TRUE(m.ok()) << m.err().msg;
  EXPECT_EQ(m->memory_pages, 1u);
  EXPECT_EQ(m->swap_pages, 0u);
}

TEST(ParseConfig, ErrorsNameTheLineAndTheSetting) {
  EXPECT_EQ(config_err("memory 4G\n\ncgroup 1 /a memory.max=-5G\n"),
            "config line 3: memory.max: '-5G' is not a size (bytes with an optional K/M/G/T "
            "suffix, or max)");
  EXPECT_EQ(config_err("memory 4G\ncgroup 1 /a\n# c\ncgroup 2 /x/b\n"),
            "config line 4: cgroup 2 /x/b: parent /x does not exist");
  EXPECT_EQ(config_err("memory 4G\ncgroup 2 /a/b\n"),
            "config line 2: cgroup 2 /a/b: parent /a does not exist");
  EXPECT_EQ(
      config_err("memory 1G\nswap 0\n\n\nswapiness 10\n")
          .rfind("config line 5: unknown setting 'swapiness' (known: memory, swap, swappiness,", 0),
      0u);
  EXPECT_EQ(config_err("memory lots\n"),
            "config line 1: memory: 'lots' is not a size (bytes with an optional K/M/G/T "
            "suffix)");
  EXPECT_EQ(config_err("memory 100\n"),
            "config line 1: memory: '100' is less than one page (4096 bytes)");
  EXPECT_EQ(config_err("memory 4G 5G\n"), "config line 1: memory: expected one value, got 2");
  EXPECT_EQ(config_err("swappiness 201\n"), "config line 1: swappiness: '201' must be in 0..200");
  EXPECT_EQ(config_err("swappiness -1\n"), "config line 1: swappiness: '-1' is not a number");
  EXPECT_EQ(config_err("memory_recursiveprot 2\n"),
            "config line 1: memory_recursiveprot: '2' must be in 0..1");
  EXPECT_EQ(config_err("watermark_scale_factor 0\n"),
            "config line 1: watermark_scale_factor: '0' must be in 1..3000");
  EXPECT_EQ(config_err("device read_bw=0\n"),
            "config line 1: device read_bw: must be at least 1 byte per second");
  EXPECT_EQ(config_err("device rand=1\n"),
            "config line 1: device: unknown key 'rand' (known: random_read_ns, seq_read_ns, "
            "write_ns, read_bw, write_bw)");
  EXPECT_EQ(config_err("cpu syscall_ns\n"),
            "config line 1: cpu: expected key=value, got 'syscall_ns'");
  EXPECT_EQ(config_err("cpu fault_ns=fast\n"),
            "config line 1: cpu fault_ns: 'fast' is not a number");
}

TEST(ParseConfig, CgroupErrors) {
  EXPECT_EQ(config_err("cgroup 1\n"),
            "config line 1: cgroup: expected 'cgroup ID PATH [file=value ...]'");
  EXPECT_EQ(config_err("cgroup 0 /a\n"),
            "config line 1: cgroup: id '0' must be in 1..65535 (0 is the root)");
  EXPECT_EQ(config_err("cgroup 65536 /a\n"),
            "config line 1: cgroup: id '65536' must be in 1..65535 (0 is the root)");
  EXPECT_EQ(config_err("cgroup x /a\n"),
            "config line 1: cgroup: id 'x' must be in 1..65535 (0 is the root)");
  EXPECT_EQ(config_err("cgroup 1 /a\ncgroup 1 /b\n"),
            "config line 2: cgroup 1 /b: id 1 is already /a");
  EXPECT_EQ(config_err("cgroup 1 /a\ncgroup 2 /a\n"),
            "config line 2: cgroup 2 /a: /a already has id 1");
  EXPECT_EQ(config_err("cgroup 1 a\n"), "config line 1: cgroup 1 a: the path must start with '/'");
  EXPECT_EQ(config_err("cgroup 1 /\n"),
            "config line 1: cgroup 1 /: the path is the root, which exists already (id 0)");
  EXPECT_EQ(config_err("cgroup 1 /a/\n"),
            "config line 1: cgroup 1 /a/: the path must not end with '/'");
  EXPECT_EQ(config_err("cgroup 1 /a//b\n"),
            "config line 1: cgroup 1 /a//b: the path has an empty component");
  EXPECT_EQ(config_err("cgroup 1 /a memory.maxx=1G\n"),
            "config line 1: cgroup 1 /a: unknown file 'memory.maxx' (known: memory.max, "
            "memory.high, memory.low, memory.min, memory.swap.max, memory.oom.group)");
  EXPECT_EQ(config_err("cgroup 1 /a memory.max=1G memory.max=2G\n"),
            "config line 1: cgroup 1 /a: memory.max given twice");
  EXPECT_EQ(config_err("cgroup 1 /a memory.oom.group=yes\n"),
            "config line 1: memory.oom.group: 'yes' is not a number");
  EXPECT_EQ(config_err("cgroup 1 /a memory.max\n"),
            "config line 1: cgroup 1 /a: expected file=value, got 'memory.max'");
}

TEST(ValidateConfig, AcceptsTheDefaultsAndATree) {
  config c;
  EXPECT_TRUE(validate_config(c).ok());
  c.cgroups.push_back({.id = 1, .path = "/a"});
  c.cgroups.push_back({.id = 2, .path = "/a/b"});
  c.cgroups.push_back({.id = 65535, .path = "/c"});
  auto r = validate_config(c);
  EXPECT_TRUE(r.ok()) << r.err().msg;
}

std::string validate_err(const config& c) {
  auto r = validate_config(c);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.err().msg;
}

TEST(ValidateConfig, CatchesWhatCodeCanGetWrong) {
  config c;
  c.memory_pages = 0;
  EXPECT_EQ(validate_err(c), "config: memory must be at least one page");
  c = {};
  c.swappiness = 201;
  EXPECT_EQ(validate_err(c), "config: swappiness 201 must be in 0..200");
  c.swappiness = -1;
  EXPECT_EQ(validate_err(c), "config: swappiness -1 must be in 0..200");
  c = {};
  c.device.read_bw = 0;
  EXPECT_EQ(validate_err(c), "config: device bandwidths must be at least 1 byte per second");
  c = {};
  c.cgroups.push_back({.id = 2, .path = "/a/b"});
  c.cgroups.push_back({.id = 1, .path = "/a"});
  EXPECT_EQ(validate_err(c),
            "config: cgroup 2 /a/b: parent /a does not exist (parents must come before children)");
  c = {};
  c.cgroups.push_back({.id = 1, .path = "/a"});
  c.cgroups.push_back({.id = 1, .path = "/b"});
  EXPECT_EQ(validate_err(c), "config: cgroup 1 /b: id 1 is already /a");
  c = {};
  c.cgroups.push_back({.id = 1, .path = "/a"});
  c.cgroups.push_back({.id = 2, .path = "/a"});
  EXPECT_EQ(validate_err(c), "config: cgroup 2 /a: /a already has id 1");
  c = {};
  c.cgroups.push_back({.id = 0, .path = "/a"});
  EXPECT_EQ(validate_err(c), "config: cgroup 0 /a: id 0 is the root, which exists already");
  c = {};
  c.cgroups.push_back({.id = 3, .path = "rel"});
  EXPECT_EQ(validate_err(c), "config: cgroup 3 rel: the path must start with '/'");
  c = {};
  c.cgroups.push_back({.id = 3, .path = "/x", .max = PAGE_COUNTER_MAX + 1});
  EXPECT_NE(validate_err(c).find("above PAGE_COUNTER_MAX"), std::string::npos);
}

}  // namespace
}  // namespace mmbpf::mm
