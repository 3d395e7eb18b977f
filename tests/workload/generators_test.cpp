// Generators: distribution shapes against theory, determinism, YCSB mixes, spec errors.
#include "workload/generators.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "workload/random.h"
#include "workload/spec.h"

using namespace mmbpf::workload;

namespace {

std::vector<event> drain(generator& g) {
  std::vector<event> out, buf(1000);
  for (;;) {
    auto n = g.read(buf);
    EXPECT_TRUE(n);
    if (!n || *n == 0) return out;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
  }
}

std::vector<event> gen(const char* spec) {
  auto g = make_generator(spec);
  EXPECT_TRUE(g) << (g ? "" : g.err().msg);
  if (!g) return {};
  return drain(**g);
}

std::string spec_error(const char* spec) {
  auto g = make_generator(spec);
  return g ? std::string("(no error)") : g.err().msg;
}

}  // namespace

TEST(Zipf, RankOneFrequencyIsOneOverZeta) {
  const uint64_t n = 10000, samples = 1000000;
  const double theta = 0.99;
  auto ev = gen("zipf:pages=10K,theta=0.99,events=1M,scramble=0,seed=7");
  ASSERT_EQ(ev.size(), samples);
  uint64_t rank0 = 0, rank1 = 0;
  for (const auto& e : ev) {
    ASSERT_LT(e.off / page_size, n);
    rank0 += e.off == 0;
    rank1 += e.off == page_size;
  }
  double zn = zeta(0, n, theta, 0);
  double p0 = 1 / zn, p1 = 1 / (zn * std::pow(2.0, theta));
  double sd0 = std::sqrt(samples * p0 * (1 - p0));
  EXPECT_NEAR(static_cast<double>(rank0), samples * p0, 5 * sd0);  // exact in Gray's method
  // Rank 2 is exact too (the second branch of the generator).
  double sd1 = std::sqrt(samples * p1 * (1 - p1));
  EXPECT_NEAR(static_cast<double>(rank1), samples * p1, 5 * sd1);
}

TEST(Zipf, ScrambleIsAPermutation) {
  for (uint64_t n : {1ull, 2ull, 3ull, 1000ull, 4096ull, 4097ull}) {
    scatter s(n, 12345);
    std::vector<bool> seen(n);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t x = s(i);
      ASSERT_LT(x, n);
      ASSERT_FALSE(seen[x]) << n << " " << i;
      seen[x] = true;
    }
  }
}

TEST(Generators, SameSeedSameStreamOtherSeedOtherStream) {
  for (const char* base :
       {"zipf:pages=1000,events=20K", "uniform:pages=1000,events=20K",
        "hotset:pages=1000,events=20K", "ycsb:workload=a,records=1000,ops=20K",
        "ycsb:workload=e,records=1000,ops=5K",
        "zipf:pages=100,events=5K,cg=1;uniform:pages=100,events=5K,cg=2,ino=2"}) {
    std::string s1 = std::string(base) + ",seed=1", s2 = std::string(base) + ",seed=2";
    auto a = gen(s1.c_str()), b = gen(s1.c_str()), c = gen(s2.c_str());
    EXPECT_EQ(a, b) << base;
    EXPECT_NE(a, c) << base;
    EXPECT_FALSE(a.empty()) << base;
  }
}

TEST(Generators, PinnedStreamDoesNotDrift) {
  // Bit-for-bit reproducibility across builds and machines: the first pages of fixed specs.
  auto pages = [](const char* spec) {
    std::vector<uint64_t> v;
    for (const auto& e : gen(spec)) v.push_back(e.off / page_size);
    return v;
  };
  EXPECT_EQ(pages("zipf:pages=1M,events=5,seed=1,scramble=0"),
            (std::vector<uint64_t>{16031, 1159, 2529, 173, 14775}));
  EXPECT_EQ(pages("zipf:pages=1M,events=5,seed=1"),
            (std::vector<uint64_t>{243290, 585253, 266243, 792627, 281440}));
}

TEST(Generators, UniformAndHotset) {
  auto u = gen("uniform:pages=10,events=100K,seed=3");
  std::vector<uint64_t> cnt(10);
  for (const auto& e : u) ++cnt[e.off / page_size];
  for (auto c : cnt) EXPECT_NEAR(static_cast<double>(c), 10000, 500);

  auto h = gen("hotset:pages=1000,events=100K,hot=10%,hot_ops=0.9,seed=3");
  uint64_t hot = 0;
  for (const auto& e : h) hot += e.off / page_size < 100;
  EXPECT_NEAR(static_cast<double>(hot) / 100000, 0.9, 0.01);
}

TEST(Generators, ScanAndRepeatedScans) {
  auto ev = gen("scan:pages=10,passes=3,io=4");
  ASSERT_EQ(ev.size(), 9u);  // 4+4+2 pages per pass
  EXPECT_EQ(ev[0].off, 0u);
  EXPECT_EQ(ev[1].off, 4 * page_size);
  EXPECT_EQ(ev[2].off, 8 * page_size);
  EXPECT_EQ(ev[2].len, 2 * page_size);
  EXPECT_EQ(ev[3].off, 0u);
  EXPECT_EQ(ev[8].len, 2 * page_size);
}

TEST(Ycsb, MixRatios) {
  auto count = [](const std::vector<event>& v, event_kind k) {
    double n = 0;
    for (const auto& e : v) n += e.kind == k;
    return n;
  };
  const double ops = 100000;
  auto a = gen("ycsb:workload=a,records=10K,ops=100K,seed=5");
  ASSERT_EQ(a.size(), 100000u);
  EXPECT_NEAR(count(a, event_kind::write) / ops, 0.5, 0.01);
  for (const auto& e : a) {
    if (e.kind == event_kind::write) {
      ASSERT_EQ(e.len, 102u);  // one field of a 1 KiB record
    }
  }
  auto b = gen("ycsb:workload=b,records=10K,ops=100K,seed=5");
  EXPECT_NEAR(count(b, event_kind::write) / ops, 0.05, 0.005);
  auto c = gen("ycsb:workload=c,records=10K,ops=100K,seed=5");
  EXPECT_EQ(count(c, event_kind::read), ops);
  auto d = gen("ycsb:workload=d,records=10K,ops=100K,seed=5");
  EXPECT_NEAR(count(d, event_kind::write) / ops, 0.05, 0.005);
  auto e = gen("ycsb:workload=e,records=10K,ops=100K,seed=5");
  EXPECT_NEAR(count(e, event_kind::read) / ops, 0.95, 0.005);
  double scan_records = 0;
  for (const auto& x : e)
    if (x.kind == event_kind::read) scan_records += std::ceil(static_cast<double>(x.len) / 1024);
  EXPECT_NEAR(scan_records / count(e, event_kind::read), 50.5, 1.0);  // uniform 1..100
  auto f = gen("ycsb:workload=f,records=10K,ops=100K,seed=5");
  EXPECT_EQ(count(f, event_kind::read), ops);  // every op reads
  EXPECT_NEAR(count(f, event_kind::write) / ops, 0.5, 0.01);
  // A read-modify-write writes the record it just read.
  for (size_t i = 1; i < f.size(); ++i) {
    if (f[i].kind == event_kind::write) {
      ASSERT_EQ(f[i - 1].kind, event_kind::read);
      ASSERT_EQ(f[i - 1].off / 1024, f[i].off / 1024);
    }
  }
}

TEST(Ycsb, RecordsDoNotStraddlePages) {
  auto ev = gen("ycsb:workload=c,records=1000,ops=10K,record_size=1000,seed=1");
  for (const auto& e : ev) EXPECT_EQ(e.off / page_size, (e.off + e.len - 1) / page_size);
}

TEST(Hog, ForkMapTouch) {
  auto ev = gen("hog:procs=2,pages=3,oom_score_adj=-500,pid=100");
  ASSERT_EQ(ev.size(), 10u);
  EXPECT_EQ(ev[0].kind, event_kind::fork);
  EXPECT_EQ(ev[0].pid, 100u);
  EXPECT_EQ(ev[0].oom_score_adj, -500);
  EXPECT_EQ(ev[1].kind, event_kind::mmap_anon);
  EXPECT_EQ(ev[1].len, 3u);
  EXPECT_EQ(ev[4].kind, event_kind::anon_fault);
  EXPECT_EQ(ev[4].off, 2u);
  EXPECT_EQ(ev[5].kind, event_kind::fork);
  EXPECT_EQ(ev[5].pid, 101u);
}

TEST(Mix, InterleavesTenantsWithTheirCgroups) {
  auto ev = gen("zipf:pages=100,events=3K,cg=1,pid=1;scan:pages=1K,cg=2,pid=2,ino=2");
  ASSERT_EQ(ev.size(), 4000u);
  size_t cg1 = 0, cg2_first_half = 0;
  for (size_t i = 0; i < ev.size(); ++i) {
    cg1 += ev[i].cgroup == 1;
    if (i < 2000) cg2_first_half += ev[i].cgroup == 2;
    EXPECT_EQ(ev[i].pid, ev[i].cgroup);
  }
  EXPECT_EQ(cg1, 3000u);
  EXPECT_NEAR(static_cast<double>(cg2_first_half), 500, 100);  // interleaved, not appended
  auto g = make_generator("zipf:pages=100,events=3K,cg=1;scan:pages=1K,cg=2,ino=2");
  ASSERT_TRUE(g);
  EXPECT_EQ((*g)->meta().file_size.size(), 2u);
}

TEST(Spec, Numbers) {
  EXPECT_EQ(*parse_count("10M"), 10000000u);
  EXPECT_EQ(*parse_count("1K"), 1000u);
  EXPECT_EQ(*parse_count("3g"), 3000000000u);
  EXPECT_EQ(*parse_bytes("1K"), 1024u);
  EXPECT_EQ(*parse_bytes("2M"), 2u << 20);
  EXPECT_FALSE(parse_count("1.5M"));
  EXPECT_FALSE(parse_count("M"));
  EXPECT_FALSE(parse_count("99999999999G"));
}

TEST(Spec, PreciseErrors) {
  EXPECT_EQ(spec_error("zipf:pages=1M,theta=0.99,events=10M,seed=1"), "(no error)");
  EXPECT_EQ(spec_error("zipf"), "(no error)");
  EXPECT_EQ(spec_error("zipff:pages=1"),
            "unknown generator 'zipff' (known: zipf, uniform, hotset, scan, ycsb, hog, search)");
  EXPECT_EQ(spec_error(""), "empty generator spec");
  EXPECT_EQ(spec_error("zipf:pages=1M,thta=0.9"),
            "zipf: unknown key 'thta' (known: seed, pid, cg, ino, pages, events, theta, "
            "scramble, write)");
  EXPECT_EQ(spec_error("zipf:theta=1.5"), "zipf: theta '1.5' must be in (0, 1)");
  EXPECT_EQ(spec_error("zipf:theta=1"), "zipf: theta '1' must be in (0, 1)");
  EXPECT_EQ(spec_error("zipf:pages=1Q"),
            "zipf: pages '1Q' is not a count (digits with optional K/M/G)");
  EXPECT_EQ(spec_error("zipf:pages=0"), "zipf: pages '0' must be at least 1");
  EXPECT_EQ(spec_error("zipf:pages"), "zipf: expected key=value, got 'pages'");
  EXPECT_EQ(spec_error("zipf:pages=1,pages=2"), "zipf: key 'pages' given twice");
  EXPECT_EQ(spec_error("hotset:hot=120%"), "hotset: hot '120%' must be in [0, 1]");
  EXPECT_EQ(spec_error("scan:theta=0.5"),
            "scan: unknown key 'theta' (known: seed, pid, cg, ino, pages, passes, io)");
  EXPECT_EQ(spec_error("ycsb:workload=g"), "ycsb: workload 'g' is not a..f");
  EXPECT_EQ(spec_error("hog:oom_score_adj=-1001"),
            "hog: oom_score_adj '-1001' must be an integer in -1000..1000");
  EXPECT_EQ(spec_error("zipf:cg=70000"), "zipf: cg '70000' must be in 0..65535");
  EXPECT_EQ(spec_error("zipf:pages=10;scan:bogus=1"),
            "scan: unknown key 'bogus' (known: seed, pid, cg, ino, pages, passes, io)");
}

// ---- search: grep -r over a directory tree ----

namespace {

search_params small_search() {
  search_params p;
  p.files = 500;
  p.dirs = 7;
  p.size = 8192;
  p.max_size = 64 << 10;
  p.passes = 3;
  p.io = 4096;
  p.c.ino = 100;
  return p;
}

}  // namespace

TEST(Search, SameSeedSameStreamOtherSeedOtherSizes) {
  auto a = gen("search:files=300,passes=2,seed=4"), b = gen("search:files=300,passes=2,seed=4");
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a.empty());
  auto g1 = make_generator("search:files=300,seed=4"),
       g2 = make_generator("search:files=300,seed=5");
  ASSERT_TRUE(g1 && g2);
  auto s1 = (*g1)->meta().file_size, s2 = (*g2)->meta().file_size;
  ASSERT_EQ(s1.size(), 300u);
  ASSERT_EQ(s2.size(), 300u);
  size_t differ = 0;
  for (const auto& [ino, size] : s1) differ += s2.at(ino) != size;
  EXPECT_GT(differ, 290u);
  // The directory size shapes the order only: same sizes with other dirs.
  auto g3 = make_generator("search:files=300,seed=4,dirs=5");
  ASSERT_TRUE(g3);
  EXPECT_EQ((*g3)->meta().file_size, s1);
  EXPECT_NE(gen("search:files=300,passes=1,seed=4,dirs=5"),
            gen("search:files=300,passes=1,seed=4"));
}

TEST(Search, PinnedSizesDoNotDrift) {
  auto t = make_search_tree(search_params{});
  ASSERT_EQ(t.size.size(), 10000u);
  EXPECT_EQ(std::vector<uint64_t>(t.size.begin(), t.size.begin() + 5),
            (std::vector<uint64_t>{2565, 4855, 51742, 11683, 1668}));
}

TEST(Search, EveryFileReadWholeOncePerPassInTreeOrder) {
  search_params p = small_search();
  auto t = make_search_tree(p);
  auto g = make_search(p);
  auto ev = drain(*g);
  ASSERT_EQ(ev.size(), g->expected_events());
  const auto meta = g->meta().file_size;
  ASSERT_EQ(meta.size(), p.files);
  for (uint64_t f = 0; f < p.files; ++f)
    EXPECT_EQ(meta.at(static_cast<uint32_t>(p.c.ino + f)), t.size[f]);

  size_t i = 0;
  for (uint64_t pass = 0; pass < p.passes; ++pass) {
    for (uint32_t f : t.order) {  // the files, in walk order, each read whole from offset 0
      const uint32_t ino = static_cast<uint32_t>(p.c.ino + f);
      uint64_t off = 0;
      while (off < t.size[f]) {
        ASSERT_LT(i, ev.size());
        const event& e = ev[i++];
        ASSERT_EQ(e.kind, event_kind::read);
        ASSERT_EQ(e.ino, ino) << "pass " << pass << " event " << i;
        ASSERT_EQ(e.off, off);
        ASSERT_EQ(e.len, std::min(p.io, t.size[f] - off));  // io bytes, the last one short
        EXPECT_EQ(e.pid, 1u);
        off += e.len;
      }
      ASSERT_EQ(off, t.size[f]);
    }
  }
  EXPECT_EQ(i, ev.size());
}

TEST(Search, TreeIsDepthFirstInCreationAndWalk) {
  search_params p = small_search();
  auto t = make_search_tree(p);
  const size_t ndirs = (p.files + p.dirs - 1) / p.dirs;
  ASSERT_EQ(t.parent.size(), ndirs);
  // Creation order: a directory's files have consecutive inodes, `dirs` per directory.
  for (uint64_t f = 0; f < p.files; ++f) ASSERT_EQ(t.dir_of[f], f / p.dirs);
  // Directories are numbered depth first: every subtree is a contiguous range of numbers
  // starting at its root; fan-out at most search_fanout.
  std::vector<size_t> children(ndirs), subtree_end(ndirs);
  for (size_t d = ndirs; d-- > 1;) {
    ASSERT_LT(t.parent[d], d);
    ++children[t.parent[d]];
  }
  for (size_t d = 0; d < ndirs; ++d) EXPECT_LE(children[d], search_fanout);
  auto in_subtree = [&](size_t d, size_t root) {
    while (d != root && d != 0) d = t.parent[d];
    return d == root;
  };
  for (size_t root = 0; root < ndirs; ++root) {
    size_t end = root + 1;
    while (end < ndirs && in_subtree(end, root)) ++end;
    for (size_t d = end; d < ndirs; ++d) ASSERT_FALSE(in_subtree(d, root)) << root << " " << d;
  }
  // The walk: a permutation of the files in which every subtree's files are contiguous
  // (depth first), not in inode order (readdir hash order within each directory).
  ASSERT_EQ(t.order.size(), p.files);
  std::vector<bool> seen(p.files);
  for (uint32_t f : t.order) {
    ASSERT_FALSE(seen[f]);
    seen[f] = true;
  }
  for (size_t root = 0; root < ndirs; ++root) {
    size_t first = SIZE_MAX, last = 0, count = 0;
    for (size_t i = 0; i < t.order.size(); ++i)
      if (in_subtree(t.dir_of[t.order[i]], root)) {
        first = std::min(first, i);
        last = i;
        ++count;
      }
    EXPECT_EQ(last - first + 1, count) << "subtree of directory " << root << " is split";
  }
  EXPECT_FALSE(std::is_sorted(t.order.begin(), t.order.end()));
  // A one-directory tree is a shuffle of its files.
  search_params one = p;
  one.files = one.dirs = 20;
  auto t1 = make_search_tree(one);
  EXPECT_EQ(std::set<uint32_t>(t1.order.begin(), t1.order.end()).size(), 20u);
  EXPECT_FALSE(std::is_sorted(t1.order.begin(), t1.order.end()));
}

TEST(Search, SizesLognormalAroundTheMedianClampedToMax) {
  search_params p;
  p.files = 10000;
  p.size = 16384;
  p.max_size = 256 << 10;
  auto t = make_search_tree(p);
  std::vector<uint64_t> s = t.size;
  std::sort(s.begin(), s.end());
  EXPECT_NEAR(static_cast<double>(s[s.size() / 2]), 16384, 16384 * 0.1);
  EXPECT_GE(s.front(), 1u);
  EXPECT_EQ(s.back(), p.max_size);  // P(> 16x the median) = 1% at sigma 1.2: some are clamped
  // ln(size) has standard deviation sigma (clamping trims the top slightly).
  double sum = 0, sum2 = 0;
  for (auto x : s) {
    double l = std::log(static_cast<double>(x));
    sum += l;
    sum2 += l * l;
  }
  double mean = sum / 10000, sd = std::sqrt(sum2 / 10000 - mean * mean);
  EXPECT_NEAR(sd, 1.2, 0.06);
  // sigma = 0: every file exactly the median.
  p.sigma = 0;
  for (auto x : make_search_tree(p).size) ASSERT_EQ(x, 16384u);
}

TEST(Search, ExpectedEventsExact) {
  for (const char* spec :
       {"search:files=10,size=10000,sigma=0,io=4K,passes=2", "search:files=1000,passes=3",
        "search:files=777,dirs=1,io=1,size=300,max_size=1K", "search:files=64,io=4K,passes=0",
        "search:files=1", "search:files=3000,dirs=100,size=4K,io=4K,passes=2",
        "search:files=5,io=18446744073709551615"}) {
    auto g = make_generator(spec);
    ASSERT_TRUE(g) << spec;
    uint64_t expected = (*g)->expected_events();
    EXPECT_EQ(drain(**g).size(), expected) << spec;
  }
  auto g = make_generator("search:files=10,size=10000,sigma=0,io=4K,passes=2");
  EXPECT_EQ((*g)->expected_events(), 60u);  // 3 reads per file (4K, 4K, 1808)
}

TEST(Search, SpecErrors) {
  EXPECT_EQ(spec_error("search"), "(no error)");
  EXPECT_EQ(spec_error("search:files=50K,size=16K,passes=3,io=128K,max_size=1M,dirs=10,sigma=0.5"),
            "(no error)");
  EXPECT_EQ(spec_error("search:file=10"),
            "search: unknown key 'file' (known: seed, pid, cg, ino, files, dirs, size, max_size, "
            "sigma, passes, io)");
  EXPECT_EQ(spec_error("search:files=0"), "search: files '0' must be in 1..10000000");
  EXPECT_EQ(spec_error("search:files=11M"), "search: files '11M' must be in 1..10000000");
  EXPECT_EQ(spec_error("search:dirs=0"), "search: dirs '0' must be at least 1");
  EXPECT_EQ(spec_error("search:io=0"), "search: io '0' must be at least 1");
  EXPECT_EQ(spec_error("search:size=16Q"),
            "search: size '16Q' is not a size (digits with optional K/M/G)");
  EXPECT_EQ(spec_error("search:sigma=5"), "search: sigma '5' must be in [0, 4]");
  EXPECT_EQ(spec_error("search:size=64K,max_size=16K"),
            "search: max_size 16384 is below the median size 65536");
  EXPECT_EQ(spec_error("search:ino=4294967290,files=10"),
            "search: inodes 4294967290..4294967299 do not fit in 32 bits");
  EXPECT_EQ(spec_error("search:ino=4294967287,files=9"), "(no error)");
  EXPECT_EQ(gen("search:files=3,dirs=18446744073709551615,passes=1,size=1,max_size=1").size(), 3u);
}
