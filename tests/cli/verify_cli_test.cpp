// `mmbpf verify`: the kernel's log for each struct_ops program of an object, with source lines,
// the error as the last line of the failing program's log and a one-line error on stderr.
#include <gtest/gtest.h>

#include <string>

#include "run_mmbpf.h"

namespace {

std::string obj(const std::string& rel) { return std::string(MMBPF_BPF_OBJ_DIR) + "/" + rel; }

TEST(Verify, AnInTreePolicyVerifies) {
  auto o = mmbpf::test::run_mmbpf("verify " + obj("bpf/policies/cache/fifo.bpf.o"));
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.err, "");
  for (const char* s : {"func#0 fifo_init (cache_ext_ops.init):", "fifo_evict_folios (cache_ext_ops.evict_folios)",
                        "call bpf_cache_ext_list_iterate#", "processed ", " insns (limit 1000000)"})
    EXPECT_NE(o.out.find(s), std::string::npos) << s << "\n" << o.out;
}

TEST(Verify, ARejectionNamesTheSourceLineAndTheReason) {
  auto o = mmbpf::test::run_mmbpf("verify " + obj("tests/ext/progs/kfunc_bad_args.bpf.o") + " --log-level 1");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.out.find("; bpf_cache_ext_list_add(l, (struct folio *)0x1000); @ kfunc_bad_args.bpf.c:17\n"),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("\narg#1 pointer type STRUCT folio must point to scalar, or struct with scalar\nprocessed "), std::string::npos)
      << o.out;
  EXPECT_EQ(o.err,
            "mmbpf verify: kfunc_bad_args.bpf.o: program 'bad_folio_added' (cache_ext_ops.folio_added): "
            "verifier: arg#1 pointer type STRUCT folio must point to scalar, or struct with scalar\n");
}

TEST(Verify, BadInput) {
  mmbpf::test::temp_file junk(".bpf.o", "not an ELF");
  auto o = mmbpf::test::run_mmbpf("verify " + junk.path);
  EXPECT_EQ(o.rc, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << o.err;
  o = mmbpf::test::run_mmbpf("verify " + junk.path + " --log-level 7");
  EXPECT_EQ(o.rc, 2);
}

}  // namespace
