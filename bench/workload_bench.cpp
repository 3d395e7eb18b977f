// Workload layer rates: decoding our binary trace from a file (page cache warm) and from
// memory, the text form, oracleGeneral import, and the zipfian generator. Prints Google
// Benchmark's table, then millions of events per second per benchmark (medians when repeated):
//
//   build/bench_workload --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// The trace is 4M zipfian reads (1M pages, theta 0.99), 128 MiB, written once to TMPDIR.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "workload/generators.h"
#include "workload/import.h"
#include "workload/spec.h"
#include "workload/trace.h"
#include "workload/trace_text.h"

using namespace mmbpf::workload;

namespace {

constexpr uint64_t nr_events = 4000000;
constexpr size_t batch = 16384;  // events per read(): 512 KiB

std::string tmpdir() {
  const char* t = std::getenv("TMPDIR");
  return t ? t : "/tmp";
}

std::vector<event> zipf_events(uint64_t n) {
  page_read_params p;
  p.pages = 1000000;
  p.events = n;
  auto g = make_page_reads(p);
  std::vector<event> v(n);
  size_t got = 0;
  while (got < n) got += *g->read(std::span(v).subspan(got));
  return v;
}

const std::string& trace_file() {
  static std::string path = [] {
    std::string p = tmpdir() + "/mmbpf_bench_" + std::to_string(::getpid()) + ".trace";
    auto v = zipf_events(nr_events);
    trace_meta m;
    m.file_size[1] = 1000000 * page_size;
    auto w = trace_writer::create(p, m);
    if (!w || !w->write(v) || !w->close()) std::abort();
    return p;
  }();
  return path;
}

template <class Src>
uint64_t drain(Src& src, std::vector<event>& buf) {
  uint64_t n = 0, sum = 0;
  for (;;) {
    auto k = src.read(buf);
    if (!k) std::abort();
    if (*k == 0) break;
    for (size_t i = 0; i < *k; ++i) sum += buf[i].off;
    n += *k;
  }
  benchmark::DoNotOptimize(sum);
  return n;
}

void BM_decode_file(benchmark::State& st) {
  const std::string& path = trace_file();
  std::vector<event> buf(batch);
  uint64_t total = 0;
  for (auto _ : st) {
    auto r = trace_reader::open(path);
    if (!r) std::abort();
    total += drain(**r, buf);
  }
  st.counters["events/s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}

void BM_decode_memory(benchmark::State& st) {
  auto v = zipf_events(nr_events);
  std::string bytes = encode_trace_header({}) + std::string(reinterpret_cast<const char*>(v.data()),
                                                            v.size() * sizeof(event));
  std::vector<event> buf(batch);
  uint64_t total = 0;
  for (auto _ : st) {
    st.PauseTiming();
    std::string copy = bytes;
    st.ResumeTiming();
    auto r = trace_reader::from_memory("mem", std::move(copy));
    if (!r) std::abort();
    total += drain(**r, buf);
  }
  st.counters["events/s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}

void BM_oracle_import(benchmark::State& st) {
  static std::string path = [] {
    std::string p = tmpdir() + "/mmbpf_bench_" + std::to_string(::getpid()) + ".oracleGeneral";
    auto v = zipf_events(nr_events);
    std::vector<oracle_general_record> recs(v.size());
    for (size_t i = 0; i < v.size(); ++i)
      recs[i] = {static_cast<uint32_t>(i), v[i].off / page_size * 2654435761ULL + 1, 4096, -1};
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(recs.data()),
               static_cast<std::streamsize>(recs.size() * sizeof recs[0]));
    return p;
  }();
  std::vector<event> buf(batch);
  uint64_t total = 0;
  for (auto _ : st) {
    auto r = oracle_general_reader::open(path);
    if (!r) std::abort();
    total += drain(**r, buf);
  }
  st.counters["events/s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}

void BM_text_parse(benchmark::State& st) {
  auto v = zipf_events(200000);
  std::string text = format_text_trace({}, v);
  uint64_t total = 0;
  for (auto _ : st) {
    auto r = text_trace_reader::from_string("t", text);
    if (!r) std::abort();
    total += (*r)->events().size();
  }
  st.counters["events/s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}

void BM_generate_zipf(benchmark::State& st) {
  std::vector<event> buf(batch);
  uint64_t total = 0;
  auto g = make_generator("zipf:pages=1M,events=1G,theta=0.99,seed=1");  // zeta once
  if (!g) std::abort();
  for (auto _ : st) {
    auto k = (*g)->read(buf);
    total += *k;
    benchmark::DoNotOptimize(buf.data());
  }
  st.counters["events/s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_decode_file)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_decode_memory)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_oracle_import)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_text_parse)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_generate_zipf)->Unit(benchmark::kMicrosecond)->UseRealTime();

class rate_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      if (auto it = r.counters.find("events/s"); it != r.counters.end())
        rate_[r.run_name.function_name] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-20s %16s\n", "benchmark", "M events/s");
    for (const auto& [name, rate] : rate_) std::printf("%-20s %16.1f\n", name.c_str(), rate / 1e6);
  }

 private:
  std::map<std::string, double> rate_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  rate_reporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  benchmark::Shutdown();
  std::string base = tmpdir() + "/mmbpf_bench_" + std::to_string(::getpid());
  std::remove((base + ".trace").c_str());
  std::remove((base + ".oracleGeneral").c_str());
  return 0;
}
