// Generator spec strings, so a command line can name a workload:
//
//   zipf:pages=1M,theta=0.99,events=10M,seed=1
//   scan:pages=100K,passes=3,io=32
//   search:files=50K,size=16K,passes=3
//   ycsb:workload=e,records=1M,ops=1M,record_size=1K
//   zipf:pages=1M,cg=1,pid=1,ino=1;scan:pages=1M,cg=2,pid=2,ino=2    (a multi-tenant mix)
//
// `name:key=value,...`; tenants of a mix are separated by ';' (the mix is seeded by the
// first tenant's seed). Counts (pages, events, ops, records, passes, procs) take K/M/G as
// powers of 1000 (1M pages = 1,000,000, as in the literature's trace sizes); byte sizes
// (record_size; search's size, max_size, io) take K/M/G as powers of 1024; fractions take 0.9
// or 90%.
//
// Keys common to all: seed (1), pid (1), cg (0), ino (1).
//   zipf     pages (1M), events (10M), theta (0.99, in (0,1)), scramble (1), write (0)
//   uniform  pages, events, write
//   hotset   pages, events, hot (0.2), hot_ops (0.8), write
//   scan     pages (1M), passes (1), io (1 page per read)
//   ycsb     workload (a..f), records (1M), ops (10M), record_size (1K), theta, max_scan (100)
//   hog      procs (1), pages (256K), oom_score_adj (0, -1000..1000), passes (1)
//   search   files (10K, up to 10M), dirs (32 files per directory), size (16K median bytes),
//            max_size (4M), sigma (1.2, in [0, 4]), passes (3), io (96K bytes per read);
//            files get inodes ino, ino+1, ...
#pragma once

#include <memory>
#include <string_view>

#include "bpf/error.h"
#include "workload/generators.h"

namespace mmbpf::workload {

// Errors are one line naming the generator, key and value:
//   "zipf: unknown key 'thta' (known: seed, pid, cg, ino, pages, events, theta, scramble, write)"
//   "zipf: theta '1.5' must be in (0, 1)"
result<std::unique_ptr<generator>> make_generator(std::string_view spec);

// Helpers, exposed for the command's own size options: "10M" -> 10000000; "1K" bytes -> 1024.
result<uint64_t> parse_count(std::string_view s);
result<uint64_t> parse_bytes(std::string_view s);

}  // namespace mmbpf::workload
