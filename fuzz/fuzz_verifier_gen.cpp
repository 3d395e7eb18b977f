// libFuzzer target: the verifier's soundness on STRUCTURED programs. Where fuzz_verifier feeds
// random bytes (which the decoder or the verifier nearly always refuses), here the input drives
// a generator of plausible programs, written as assembler text (assembler.h): map lookups with
// and without null checks, loads/stores/atomics at the edges of the map value, stack frame and
// 64-byte context (and one byte past them), variable offsets bounded by conditional jumps
// (signed, unsigned, 32-bit, register compares, jset, off-by-one bounds), ALU ops (32-bit,
// shifts, mul/div/mod, neg, sign extension, byte swaps) on the bounded scalars, spills and fills
// of pointers and scalars (with partial overwrites and helper writes in between), bounded loops
// and occasional unbounded ones, helpers (map lookup/update/delete, probe_read_kernel with
// constant and variable sizes, ktime, prandom), bpf_loop callbacks, bpf-to-bpf calls and ringbuf
// reserve/submit/discard. Each decision has a small chance of being a flaw (a missing check, an
// off-by-one bound or offset, a clobbered spill, a leaked reference), so a fair share of the
// programs is accepted and the rest probes the verifier's rejections.
//
// An input's last 64 bytes (in inputs of 128 bytes or more) are the context the program runs on
// (so the fuzzer steers the values the verifier could only bound); the rest drives the
// generator (0xa5 bytes otherwise). An accepted program runs
// in the checked interpreter (as in fuzz_verifier: a fault is a verifier hole and aborts with the
// program; exceeding the instruction budget is not a fault) on that context, then on contexts of
// 0x00, 0xff and 0xa5 bytes.
//
// Simplified: the generator's own bound tracking is a rough interval per scalar (it only steers
// toward valid programs; the verifier is the judge); programs use one shape (r6 = the frame's
// base object, r7 = a map value, r8 = a source scalar, r9 = the bounded working scalar); calls
// nest at most three frames deep. Loops whose counter the verifier can only walk to its
// 1M-instruction limit (a context byte decremented to 0, an odd counter stepped by 2 over 0 with
// "!= 0") are not generated: under ASan such a verify() takes minutes (see the report).
//
// Statistics (programs generated, refused by the assembler/decoder, rejected, accepted,
// accepted-but-out-of-budget, the commonest rejection messages) print at exit.
// MMBPF_GEN_DUMP=1 prints every program with its verdict.
//
//   fuzz/run.sh fuzz_verifier_gen 1200
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bpf/assembler.h"
#include "bpf/disasm.h"
#include "bpf/verifier/verifier.h"
#include "gen.h"
#include "harness.h"

namespace {

using mmbpf::bpf::insn;

// ---- statistics --------------------------------------------------------------------------------

struct stats_t {
  uint64_t generated = 0, asm_failed = 0, load_failed = 0, rejected = 0, accepted = 0,
           budget = 0, faults = 0;
  std::map<std::string, uint64_t> reasons;  // rejection message with numbers masked
  std::string first_asm_error;
};
stats_t stats;
bool dump_programs = false;

std::string mask_numbers(const std::string& s) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i])) ||
        (s[i] == '-' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      o += 'N';
      while (i + 1 < s.size() && (std::isalnum(static_cast<unsigned char>(s[i + 1])))) ++i;
    } else {
      o += s[i];
    }
  }
  return o;
}

void print_stats() {
  const stats_t& s = stats;
  const uint64_t verified = s.rejected + s.accepted;
  std::fprintf(stderr,
               "\nfuzz_verifier_gen: %llu programs generated, %llu assembler errors, %llu decoder "
               "errors, %llu rejected, %llu accepted (%.1f%% of verified), %llu of them out of "
               "budget, %llu faults\n",
               (unsigned long long)s.generated, (unsigned long long)s.asm_failed,
               (unsigned long long)s.load_failed, (unsigned long long)s.rejected,
               (unsigned long long)s.accepted, verified ? 100.0 * s.accepted / verified : 0.0,
               (unsigned long long)s.budget, (unsigned long long)s.faults);
  if (!s.first_asm_error.empty())
    std::fprintf(stderr, "  first assembler error: %s\n", s.first_asm_error.c_str());
  std::vector<std::pair<uint64_t, std::string>> top;
  for (const auto& [k, v] : s.reasons) top.emplace_back(v, k);
  std::sort(top.rbegin(), top.rend());
  if (top.size() > 20) top.resize(20);
  for (const auto& [n, k] : top) std::fprintf(stderr, "  %8llu  %s\n", (unsigned long long)n, k.c_str());
}


bool faulted(const mmbpf::result<uint64_t>& r) {
  return !r && r.err().msg.find("instruction limit") == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  dump_programs = std::getenv("MMBPF_GEN_DUMP") != nullptr;
  std::atexit(print_stats);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mmbpf::bpf;
  uint8_t ctx_in[64];
  input in{nullptr, 0};
  if (!split_fuzz_input(data, size, in, ctx_in)) return -1;
  generator g(in);
  const std::string text = g.program();
  ++stats.generated;
  auto insns = assemble(text);
  if (!insns) {
    if (stats.first_asm_error.empty()) stats.first_asm_error = insns.err().msg + "\n" + text;
    ++stats.asm_failed;
    return 0;
  }
  runtime rt;
  mmbpf::fuzz::setup_runtime(rt);
  std::vector<insn> prog_insns = *insns;
  auto prog = bpf_prog::load(rt, std::move(prog_insns), {.name = "fuzz", .fd_array = {0, 1, 2}});
  if (!prog) {
    ++stats.load_failed;
    stats.reasons["(decoder) " + mask_numbers(prog.err().msg)]++;
    return 0;
  }
  verifier::verify_opts vo;
  vo.ctx.k = verifier::prog_context::kind::mem;
  vo.ctx.mem_size = 64;
  if (dump_programs) std::fprintf(stderr, "----\n%s", text.c_str());
  const auto vr = verifier::verify(**prog, vo);
  if (dump_programs) std::fprintf(stderr, "=> %s\n", vr.ok ? "accepted" : vr.error.c_str());
  if (!vr.ok) {
    ++stats.rejected;
    stats.reasons[mask_numbers(vr.error)]++;
    return 0;
  }
  ++stats.accepted;
  if (stats.accepted % 20000 == 0) print_stats();
  const interpreter vm(/*checked=*/true, /*insn_limit=*/2000000);
  const uint8_t fills[] = {0x00, 0xff, 0xa5};
  for (int run = 0; run < 4; ++run) {
    uint8_t ctx[64];
    if (run == 0)
      std::memcpy(ctx, ctx_in, sizeof ctx);
    else
      std::memset(ctx, fills[run - 1], sizeof ctx);
    auto r = vm.run_mem(**prog, ctx, sizeof ctx);
    if (faulted(r)) {
      ++stats.faults;
      std::fprintf(stderr, "verified program faulted (run %d): %s\n--- program ---\n%s--- disasm ---\n%s",
                   run, r.err().msg.c_str(), text.c_str(), disasm(*insns).c_str());
      std::fprintf(stderr, "--- ctx ---\n");
      for (int i = 0; i < 64; ++i) std::fprintf(stderr, "%02x%s", ctx[i], i % 16 == 15 ? "\n" : " ");
      std::abort();
    }
    if (!r) {
      ++stats.budget;
      break;
    }
  }
  return 0;
}
