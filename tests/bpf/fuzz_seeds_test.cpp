// The fuzzer's seed programs (fuzz/seeds/*.s) assemble, load and run to completion under the
// fuzzing harness, so the fuzzer starts from programs that reach maps, callbacks, calls, kfuncs
// and helpers rather than from bytes that mostly fail to decode.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../../fuzz/harness.h"
#include "bpf/assembler.h"

namespace {

TEST(FuzzSeeds, EverySeedLoadsAndRunsWithoutFault) {
  const std::filesystem::path dir = std::filesystem::path(MMBPF_SOURCE_DIR) / "fuzz" / "seeds";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".s") continue;
    SCOPED_TRACE(e.path().filename().string());
    std::ifstream f(e.path());
    std::stringstream ss;
    ss << f.rdbuf();
    auto p = mmbpf::bpf::assemble(ss.str());
    ASSERT_TRUE(p) << p.err().msg;
    auto o = mmbpf::fuzz::run_bytes(reinterpret_cast<const uint8_t*>(p->data()),
                                    p->size() * sizeof(mmbpf::bpf::insn));
    EXPECT_TRUE(o.loaded);
    EXPECT_TRUE(o.run) << o.run.err().msg;
    ++n;
  }
  EXPECT_GE(n, 5);
}

}  // namespace
