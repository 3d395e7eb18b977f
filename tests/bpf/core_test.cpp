// .BTF.ext parsing and CO-RE relocation on clang-compiled objects: tests/bpf/progs/core_prog.bpf.c
// (programs written against local types with preserve_access_index) relocated against the BTF
// of core_target.bpf.c and core_target_alt.bpf.c (the same types laid out differently). Checks
// the patched instructions against the target layouts (mirrored here in C++), runs relocated
// programs in the interpreter on buffers laid out as the target types, checks the errors of
// relocations that fail and that guarded ones load; and parse_btf_ext on malformed input.
#include "bpf/core.h"

#include <fcntl.h>
#include <gelf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libelf.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bpf/btf_ext.h"
#include "bpf/interpreter.h"
#include "bpf/prog.h"
#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

using namespace ins;
using ::testing::HasSubstr;

// ---- objects ---------------------------------------------------------------------------------

std::map<std::string, std::vector<uint8_t>> read_sections(const std::string& path) {
  std::map<std::string, std::vector<uint8_t>> out;
  elf_version(EV_CURRENT);
  const int fd = ::open(path.c_str(), O_RDONLY);
  EXPECT_GE(fd, 0) << path;
  if (fd < 0) return out;
  Elf* e = elf_begin(fd, ELF_C_READ, nullptr);
  size_t shstrndx = 0;
  if (e && elf_getshdrstrndx(e, &shstrndx) == 0) {
    for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn; scn = elf_nextscn(e, scn)) {
      GElf_Shdr sh;
      if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS) continue;
      const char* name = elf_strptr(e, shstrndx, sh.sh_name);
      Elf_Data* d = elf_getdata(scn, nullptr);
      if (!name || !d || !d->d_buf) continue;
      const auto* p = static_cast<const uint8_t*>(d->d_buf);
      out[name].assign(p, p + d->d_size);
    }
  }
  if (e) elf_end(e);
  ::close(fd);
  return out;
}

struct object {
  std::map<std::string, std::vector<uint8_t>> secs;
  btf_handle btf;
  btf_ext_info ext;

  std::vector<insn> code(const std::string& sec) const {
    const auto& d = secs.at(sec);
    std::vector<insn> v(d.size() / sizeof(insn));
    std::memcpy(v.data(), d.data(), v.size() * sizeof(insn));
    return v;
  }
};

std::unique_ptr<object> open_obj(const char* name) {
  auto o = std::make_unique<object>();
  o->secs = read_sections(std::string(MMBPF_BPF_OBJ_DIR) + "/tests/bpf/progs/" + name + ".bpf.o");
  auto b = btf_handle::parse(o->secs.at(".BTF"), name);
  EXPECT_TRUE(b) << b.err().msg;
  o->btf = std::move(b.value());
  if (o->secs.count(".BTF.ext")) {
    auto e = parse_btf_ext(o->secs.at(".BTF.ext"), o->btf);
    EXPECT_TRUE(e) << e.err().msg;
    if (e) o->ext = std::move(e.value());
  }
  return o;
}

// The C++ twins of the target objects' struct core_task (x86-64 and BPF lay these out alike;
// TargetMirrorsMatchTheirBtf checks it).
struct tgt_inner {
  long pad;
  long b;
  int a;
};
struct tgt_task {
  long extra0;
  tgt_task* parent;
  unsigned short flags;
  long prio;
  union {
    struct {
      int y;
      int x;
    };
    long xy;
  };
  int pid;
  unsigned int bf_pad : 7;
  unsigned int bf2 : 5;
  unsigned int bf1 : 3;
  int sbf : 6;
  tgt_inner in;
  int arr[8];
  long state;
};

// ... and of core_prog's own (local) struct core_task.
struct local_inner {
  int a;
  long b;
};
struct local_task {
  int pid;
  long state;
  local_inner in;
  struct {
    int x;
    int y;
  };
  int arr[4];
  unsigned int flags;
  int prio;
  unsigned int bf1 : 3;
  unsigned int bf2 : 5;
  int sbf : 4;
  local_task* parent;
  int gone;
};

struct alt_inner {
  long b;
  int a;
};
struct alt_task {
  int pid;
  int x;
  int y;
  int gone;
  unsigned long flags;
  int prio;
  int arr[2];
  unsigned int bf1 : 3;
  int sbf : 4;
  unsigned int bf2 : 5;
  alt_inner in;
  alt_task* parent;
  long state;
};

class Core : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    prog_ = open_obj("core_prog").release();
    tgt_ = open_obj("core_target").release();
    alt_ = open_obj("core_target_alt").release();
  }
  static void TearDownTestSuite() {
    delete prog_;
    delete tgt_;
    delete alt_;
  }

  // The section's code relocated against `target`.
  struct relocated {
    result<void> r;
    std::vector<insn> code;
  };
  static relocated relocate(const std::string& sec, const object& target) {
    std::vector<insn> code = prog_->code(sec);
    const auto it = prog_->ext.core_relos.find(sec);
    std::span<const core_relo_rec> relos;
    if (it != prog_->ext.core_relos.end()) relos = it->second;
    auto r = core_relocate(code, relos, prog_->btf, target.btf, sec);
    return {std::move(r), std::move(code)};
  }
  static std::vector<insn> relocate_ok(const std::string& sec, const object& target) {
    auto r = relocate(sec, target);
    EXPECT_TRUE(r.r) << sec << ": " << r.r.err().msg;
    return r.code;
  }
  static std::string relocate_err(const std::string& sec, const object& target) {
    auto r = relocate(sec, target);
    EXPECT_FALSE(r.r) << sec << " relocated";
    return r.r ? std::string() : r.r.err().msg;
  }

  // Loads relocated code and runs it in the checked interpreter with r1 = ctx.
  uint64_t run(std::vector<insn> code, void* ctx, size_t len) {
    auto p = bpf_prog::load(rt_, std::move(code));
    EXPECT_TRUE(p) << p.err().msg;
    if (!p) return ~0ULL;
    auto r = interpreter(true).run_mem(**p, ctx, len);
    EXPECT_TRUE(r) << r.err().msg;
    return r ? *r : ~0ULL;
  }

  static const core_relo_rec& relo(const std::string& sec, size_t i) {
    return prog_->ext.core_relos.at(sec).at(i);
  }

  static object* prog_;
  static object* tgt_;
  static object* alt_;
  runtime rt_;
};

object* Core::prog_ = nullptr;
object* Core::tgt_ = nullptr;
object* Core::alt_ = nullptr;

std::vector<insn> with(std::vector<insn> v, size_t i, insn x) {
  v.at(i) = x;
  return v;
}

// ---- .BTF.ext of a real object ---------------------------------------------------------------

TEST_F(Core, BtfExtOfCompiledObject) {
  const btf_ext_info& e = prog_->ext;
  ASSERT_TRUE(e.func_info.count("core/pid"));
  ASSERT_EQ(e.func_info.at("core/pid").size(), 1u);
  EXPECT_EQ(e.func_info.at("core/pid")[0].insn_off, 0u);
  EXPECT_EQ(prog_->btf.name(e.func_info.at("core/pid")[0].type_id), "get_pid");

  ASSERT_TRUE(e.line_info.count("core/pid"));
  const line_info_rec& li = e.line_info.at("core/pid").at(0);
  EXPECT_THAT(std::string(li.file), HasSubstr("core_prog.bpf.c"));
  EXPECT_THAT(std::string(li.line), HasSubstr("t->pid"));
  EXPECT_GT(li.line_num, 0u);

  // t->pid: one byte-offset relocation on the load, access "0:0" from struct core_task.
  ASSERT_EQ(e.core_relos.at("core/pid").size(), 1u);
  const core_relo_rec& r = relo("core/pid", 0);
  EXPECT_EQ(r.insn_off, 0u);
  EXPECT_EQ(r.kind, static_cast<uint32_t>(BPF_CORE_FIELD_BYTE_OFFSET));
  EXPECT_EQ(r.access, "0:0");
  EXPECT_EQ(prog_->btf.name(r.type_id), "core_task");
  // The guarded read: field_exists on the mov, byte_offset on the load.
  ASSERT_EQ(e.core_relos.at("core/gone_guarded").size(), 2u);
  EXPECT_EQ(relo("core/gone_guarded", 0).kind, static_cast<uint32_t>(BPF_CORE_FIELD_EXISTS));
  EXPECT_EQ(relo("core/gone_guarded", 1).kind, static_cast<uint32_t>(BPF_CORE_FIELD_BYTE_OFFSET));
  EXPECT_FALSE(e.core_relos.count("core/anchor"));
}

TEST_F(Core, TargetMirrorsMatchTheirBtf) {
  struct want {
    const object* o;
    std::map<std::string, size_t> bytes;
    size_t size;
  };
  for (const want& w : {want{tgt_,
                             {{"parent", offsetof(tgt_task, parent)},
                              {"flags", offsetof(tgt_task, flags)},
                              {"prio", offsetof(tgt_task, prio)},
                              {"pid", offsetof(tgt_task, pid)},
                              {"in", offsetof(tgt_task, in)},
                              {"arr", offsetof(tgt_task, arr)},
                              {"state", offsetof(tgt_task, state)}},
                             sizeof(tgt_task)},
                        want{alt_,
                             {{"parent", offsetof(alt_task, parent)},
                              {"flags", offsetof(alt_task, flags)},
                              {"prio", offsetof(alt_task, prio)},
                              {"pid", offsetof(alt_task, pid)},
                              {"in", offsetof(alt_task, in)},
                              {"arr", offsetof(alt_task, arr)},
                              {"gone", offsetof(alt_task, gone)},
                              {"state", offsetof(alt_task, state)}},
                             sizeof(alt_task)}}) {
    const uint32_t id = w.o->btf.find("core_task", BTF_KIND_STRUCT);
    ASSERT_NE(id, 0u);
    const struct btf_type* t = w.o->btf.type(id);
    EXPECT_EQ(t->size, w.size);
    size_t seen = 0;
    for (int i = 0; i < btf_vlen(t); ++i) {
      const std::string name(w.o->btf.str(btf_members(t)[i].name_off));
      if (!w.bytes.count(name)) continue;
      EXPECT_EQ(btf_member_bit_offset(t, i), w.bytes.at(name) * 8) << name;
      ++seen;
    }
    EXPECT_EQ(seen, w.bytes.size());
  }
}

// ---- field relocations -----------------------------------------------------------------------

TEST_F(Core, FieldOffsetsFollowTheTargetLayout) {
  struct want {
    const char* sec;
    int16_t off;
    uint8_t size;
  };
  for (const want& w :
       {want{"core/pid", offsetof(tgt_task, pid), BPF_W},
        want{"core/inner_b", offsetof(tgt_task, in) + offsetof(tgt_inner, b), BPF_DW},
        want{"core/anon_y", offsetof(tgt_task, y), BPF_W},
        want{"core/arr2", offsetof(tgt_task, arr) + 2 * sizeof(int), BPF_W},
        // u32 locally, u16 in the target: the load shrinks.
        want{"core/flags", offsetof(tgt_task, flags), BPF_H}, want{"core/flavor", 0, BPF_W}}) {
    SCOPED_TRACE(w.sec);
    const std::vector<insn> orig = prog_->code(w.sec);
    const std::vector<insn> code = relocate_ok(w.sec, *tgt_);
    ASSERT_EQ(code.size(), orig.size());
    EXPECT_EQ(code[0].code, BPF_LDX | BPF_MEM | w.size);
    EXPECT_EQ(code[0].off, w.off);
    EXPECT_EQ(code[0].dst_reg, orig[0].dst_reg);
    EXPECT_EQ(code[0].src_reg, orig[0].src_reg);
    for (size_t i = 1; i < code.size(); ++i)
      EXPECT_EQ(std::memcmp(&code[i], &orig[i], sizeof(insn)), 0) << "insn " << i;
  }
  // Growing an unsigned field is allowed too (u32 -> u64).
  const std::vector<insn> code = relocate_ok("core/flags", *alt_);
  EXPECT_EQ(code[0].code, BPF_LDX | BPF_MEM | BPF_DW);
  EXPECT_EQ(code[0].off, static_cast<int16_t>(offsetof(alt_task, flags)));
}

TEST_F(Core, RelocatedReadsReturnTheTargetFields) {
  tgt_task t{};
  t.extra0 = 1234;
  t.parent = &t;
  t.flags = 0xbeef;
  t.pid = 4242;
  t.y = -7;
  t.x = 99;
  t.in.b = 0x1122334455667788;
  t.in.a = 5;
  for (int i = 0; i < 8; ++i) t.arr[i] = 100 + i;
  t.bf_pad = 0x55;
  t.bf2 = 21;
  t.bf1 = 6;
  t.sbf = -19;
  EXPECT_EQ(run(relocate_ok("core/pid", *tgt_), &t, sizeof t), 4242u);
  EXPECT_EQ(run(relocate_ok("core/inner_b", *tgt_), &t, sizeof t), 0x1122334455667788u);
  EXPECT_EQ(static_cast<int64_t>(run(relocate_ok("core/anon_y", *tgt_), &t, sizeof t)), -7);
  EXPECT_EQ(run(relocate_ok("core/arr2", *tgt_), &t, sizeof t), 102u);
  EXPECT_EQ(run(relocate_ok("core/flags", *tgt_), &t, sizeof t), 0xbeefu);
  // BPF_CORE_READ(t, parent, in.b): two probe reads at relocated offsets.
  EXPECT_EQ(run(relocate_ok("core/read_chain", *tgt_), &t, sizeof t), 0x1122334455667788u);
  // BPF_CORE_READ_BITFIELD of an unsigned and a signed bitfield: bf2 * 1000 + sbf.
  EXPECT_EQ(static_cast<int64_t>(run(relocate_ok("core/bitfields", *tgt_), &t, sizeof t)),
            21 * 1000 - 19);
  // struct core_flavored___v2 resolves to struct core_flavored: 'renamed' is at 0.
  EXPECT_EQ(run(relocate_ok("core/flavor", *tgt_), &t, sizeof t), 1234u);

  alt_task a{};
  a.parent = &a;
  a.pid = 17;
  a.y = 33;
  a.gone = 77;
  a.flags = 0xfedcba9876543210;
  a.prio = -3;
  a.in.b = -5;
  a.bf1 = 5;
  a.sbf = -8;
  a.bf2 = 31;
  EXPECT_EQ(run(relocate_ok("core/pid", *alt_), &a, sizeof a), 17u);
  EXPECT_EQ(run(relocate_ok("core/anon_y", *alt_), &a, sizeof a), 33u);
  EXPECT_EQ(run(relocate_ok("core/flags", *alt_), &a, sizeof a), 0xfedcba9876543210u);
  EXPECT_EQ(static_cast<int64_t>(run(relocate_ok("core/prio", *alt_), &a, sizeof a)), -3);
  EXPECT_EQ(run(relocate_ok("core/gone", *alt_), &a, sizeof a), 77u);
  EXPECT_EQ(run(relocate_ok("core/gone_guarded", *alt_), &a, sizeof a), 77u);
  EXPECT_EQ(run(relocate_ok("core/gone_guarded_neg", *alt_), &a, sizeof a), 78u);
  EXPECT_EQ(static_cast<int64_t>(run(relocate_ok("core/read_chain", *alt_), &a, sizeof a)), -5);
  EXPECT_EQ(static_cast<int64_t>(run(relocate_ok("core/bitfields", *alt_), &a, sizeof a)),
            31 * 1000 - 8);
  EXPECT_EQ(run(relocate_ok("core/amb", *alt_), &a, sizeof a), 17u);  // both flavors: v at 0
}

TEST_F(Core, SizesAndBitfieldRelocations) {
  // bpf_core_field_size: flags, in, arr.
  std::vector<insn> c = relocate_ok("core/sizes", *tgt_);
  EXPECT_EQ(c[0].imm, 2);   // unsigned short
  EXPECT_EQ(c[2].imm, 24);  // struct core_inner
  EXPECT_EQ(c[5].imm, 32);  // int[8]
  EXPECT_EQ(run(c, nullptr, 0), 2u * 1000000 + 24 * 1000 + 32);
  c = relocate_ok("core/sizes", *alt_);
  EXPECT_EQ(run(c, nullptr, 0), 8u * 1000000 + 16 * 1000 + 8);

  // bf2 (unsigned, 5 bits at bit 7 of the word at 44) and sbf (signed, 6 bits at bit 15).
  c = relocate_ok("core/bitfields", *tgt_);
  std::map<uint32_t, std::vector<int32_t>> by_kind;
  for (const core_relo_rec& r : prog_->ext.core_relos.at("core/bitfields"))
    by_kind[r.kind].push_back(c[r.insn_off / 8].imm);
  const int32_t word = offsetof(tgt_task, in) - 4;  // the bitfields' unsigned int
  EXPECT_THAT(by_kind[BPF_CORE_FIELD_BYTE_OFFSET], ::testing::ElementsAre(word, word));
  EXPECT_THAT(by_kind[BPF_CORE_FIELD_BYTE_SIZE], ::testing::ElementsAre(4, 4));
  EXPECT_THAT(by_kind[BPF_CORE_FIELD_LSHIFT_U64], ::testing::ElementsAre(64 - 12, 64 - 21));
  // One right shift on each of the signed and unsigned paths of BPF_CORE_READ_BITFIELD.
  EXPECT_THAT(by_kind[BPF_CORE_FIELD_RSHIFT_U64],
              ::testing::ElementsAre(64 - 5, 64 - 5, 64 - 6, 64 - 6));
  EXPECT_THAT(by_kind[BPF_CORE_FIELD_SIGNED], ::testing::ElementsAre(0, 1));
}

// ---- failures --------------------------------------------------------------------------------

TEST_F(Core, MissingFieldFailsNamingIt) {
  EXPECT_EQ(relocate_err("core/gone", *tgt_),
            "core/gone: insn 0: CO-RE relocation #0 (field_byte_offset of struct "
            "core_task.gone): field 'gone' not found in target struct core_task");
  // The instruction is poisoned as libbpf does.
  auto r = relocate("core/gone", *tgt_);
  EXPECT_TRUE(is_core_poison(r.code[0]));
  EXPECT_EQ(r.code[0].code, BPF_JMP | BPF_CALL);
  EXPECT_EQ(r.code[0].imm, 0xbad2310);
}

TEST_F(Core, GuardedReadOfMissingFieldLoads) {
  for (const char* sec : {"core/gone_guarded", "core/gone_guarded_neg"}) {
    SCOPED_TRACE(sec);
    const std::vector<insn> c = relocate_ok(sec, *tgt_);
    // r2 = 1 (field_exists) became r2 = 0; the load it guards is poisoned but dead.
    EXPECT_EQ(c[1].code, BPF_ALU64 | BPF_MOV | BPF_K);
    EXPECT_EQ(c[1].imm, 0);
    EXPECT_TRUE(is_core_poison(c[3]));
  }
}

TEST_F(Core, GuardFoldingHandlesBothPolaritiesAndWRegisters) {
  // Hand-written guards around the compiled relocations of core/gone_guarded: r1 = exists(gone),
  // then the read of gone at insn 4 or 5.
  core_relo_rec exists = relo("core/gone_guarded", 0), off = relo("core/gone_guarded", 1);
  exists.insn_off = 0;
  auto guarded = [&](insn mov, insn jmp, bool read_on_taken) {
    insn_buf b;
    b << mov << jmp;
    if (read_on_taken)  // if (exists) goto read
      b << mov64_imm(0, -1) << exit() << ldx(BPF_W, 0, 2, 80) << exit();
    else  // if (!exists) goto out
      b << ldx(BPF_W, 0, 2, 80) << exit() << mov64_imm(0, -1) << exit();
    return std::move(b).insns();
  };
  struct variant {
    const char* what;
    insn mov, jmp;
    bool read_on_taken;
  };
  for (const variant& v :
       {variant{"if r1 != 0", mov64_imm(1, 1), jmp_imm(BPF_JNE, 1, 0, 2), true},
        variant{"if w1 != 0", mov32_imm(1, 1), jmp32_imm(BPF_JNE, 1, 0, 2), true},
        variant{"if r1 == 1", mov64_imm(1, 1), jmp_imm(BPF_JEQ, 1, 1, 2), true},
        variant{"if r1 == 0", mov64_imm(1, 1), jmp_imm(BPF_JEQ, 1, 0, 2), false},
        variant{"if w1 == 0", mov32_imm(1, 1), jmp32_imm(BPF_JEQ, 1, 0, 2), false},
        variant{"if r1 s< 1", mov64_imm(1, 1), jmp_imm(BPF_JSLT, 1, 1, 2), false}}) {
    SCOPED_TRACE(v.what);
    std::vector<insn> code = guarded(v.mov, v.jmp, v.read_on_taken);
    off.insn_off = v.read_on_taken ? 4 * 8 : 2 * 8;
    const core_relo_rec relos[] = {exists, off};
    auto r = core_relocate(code, relos, prog_->btf, tgt_->btf, "guard");
    EXPECT_TRUE(r) << r.err().msg;
    EXPECT_EQ(code[0].imm, 0);
    EXPECT_TRUE(is_core_poison(code[off.insn_off / 8]));
    // Against a target that has the field, the guard stays and the load is patched.
    code = guarded(v.mov, v.jmp, v.read_on_taken);
    r = core_relocate(code, relos, prog_->btf, alt_->btf, "guard");
    EXPECT_TRUE(r) << r.err().msg;
    EXPECT_EQ(code[0].imm, 1);
    EXPECT_EQ(code[off.insn_off / 8].off, static_cast<int16_t>(offsetof(alt_task, gone)));
  }
  // Guards the simplification cannot see through fail: the constant is set in another basic
  // block (insn 1 is a jump target), or the guard tests something else.
  {
    std::vector<insn> code = {
        mov64_imm(1, 1),  ja(0), jmp_imm(BPF_JEQ, 1, 0, 2), ldx(BPF_W, 0, 2, 80), exit(),
        mov64_imm(0, -1), exit()};
    off.insn_off = 3 * 8;
    const core_relo_rec relos[] = {exists, off};
    auto r = core_relocate(code, relos, prog_->btf, tgt_->btf, "guard");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().msg,
              "guard: insn 3: CO-RE relocation #1 (field_byte_offset of struct core_task.gone): "
              "field 'gone' not found in target struct core_task");
  }
  {
    std::vector<insn> code = {mov64_imm(1, 1), jmp_imm(BPF_JEQ, 3, 0, 2), ldx(BPF_W, 0, 2, 80),
                              exit(),          mov64_imm(0, -1),          exit()};
    off.insn_off = 2 * 8;
    const core_relo_rec relos[] = {exists, off};
    EXPECT_FALSE(core_relocate(code, relos, prog_->btf, tgt_->btf, "guard"));
  }
  // A poisoned instruction only reachable from a listed entry point (a second function).
  {
    std::vector<insn> code = {mov64_imm(0, 0), exit(), ldx(BPF_W, 0, 2, 80), exit()};
    off.insn_off = 2 * 8;
    const core_relo_rec relos[] = {off};
    EXPECT_TRUE(core_relocate(code, relos, prog_->btf, tgt_->btf, "two"));
    code = {mov64_imm(0, 0), exit(), ldx(BPF_W, 0, 2, 80), exit()};
    const uint32_t entries[] = {0, 2};
    EXPECT_FALSE(core_relocate(code, relos, prog_->btf, tgt_->btf, "two", entries));
    // ... or reached through a bpf-to-bpf call, or as a callback.
    code = {call_local(1), exit(), ldx(BPF_W, 0, 2, 80), exit()};
    EXPECT_FALSE(core_relocate(code, relos, prog_->btf, tgt_->btf, "two"));
    insn_buf cb;
    cb << ld_imm64(1, 2, BPF_PSEUDO_FUNC) << exit() << ldx(BPF_W, 0, 2, 80) << exit();
    code = std::move(cb).insns();
    off.insn_off = 3 * 8;
    const core_relo_rec cb_relos[] = {off};
    EXPECT_FALSE(core_relocate(code, cb_relos, prog_->btf, tgt_->btf, "cb"));
  }
}

TEST_F(Core, FieldThatCannotBeResizedFails) {
  // int locally, long in the target: a 4-byte load would read half of it.
  EXPECT_EQ(relocate_err("core/prio", *tgt_),
            "core/prio: insn 0: CO-RE relocation #0 (field_byte_offset of struct core_task.prio): "
            "field is 4 bytes (int) locally but 8 bytes (long) in target; only pointers and "
            "unsigned integers can be accessed with a different size");
}

TEST_F(Core, ArrayIndexOutOfTargetRangeFails) {
  EXPECT_EQ(relocate_err("core/arr2", *alt_),
            "core/arr2: insn 0: CO-RE relocation #0 (field_byte_offset of struct "
            "core_task.arr[2]): index 2 is out of range of target array 'arr' (2 elements)");
}

TEST_F(Core, MissingFlavoredTypeFails) {
  EXPECT_EQ(relocate_err("core/flavor", *alt_),
            "core/flavor: insn 0: CO-RE relocation #0 (field_byte_offset of struct "
            "core_flavored___v2.renamed): struct core_flavored___v2 not found in target (no "
            "struct named 'core_flavored')");
}

TEST_F(Core, AmbiguousCandidatesFail) {
  EXPECT_EQ(relocate_err("core/amb", *tgt_),
            "core/amb: insn 0: CO-RE relocation #0 (field_byte_offset of struct core_amb.v): "
            "ambiguous target: struct core_amb___a has it at bit offset 32, struct core_amb___b "
            "at 0");
}

// ---- type and enum relocations ---------------------------------------------------------------

TEST_F(Core, TypeRelocations) {
  // exists(core_flavored___v2) * 100 + exists(core_absent) * 10 + exists(core_task)
  std::vector<insn> c = relocate_ok("core/types", *tgt_);
  EXPECT_EQ(run(c, nullptr, 0), 101u);
  c = relocate_ok("core/types", *alt_);
  EXPECT_EQ(run(c, nullptr, 0), 1u);

  c = relocate_ok("core/type_size", *tgt_);
  EXPECT_EQ(c[0].imm, static_cast<int32_t>(sizeof(tgt_task)));
  c = relocate_ok("core/type_size", *alt_);
  EXPECT_EQ(c[0].imm, static_cast<int32_t>(sizeof(alt_task)));

  // (target id << 32) | local id of struct core_inner, through two ld_imm64.
  c = relocate_ok("core/type_ids", *tgt_);
  const uint32_t tid = tgt_->btf.find("core_inner", BTF_KIND_STRUCT);
  const uint32_t lid = prog_->btf.find("core_inner", BTF_KIND_STRUCT);
  ASSERT_NE(tid, lid);  // so that the test can tell them apart
  EXPECT_EQ(run(c, nullptr, 0), (uint64_t{tid} << 32) | lid);
}

TEST_F(Core, TypeMatches) {
  // clang 14 cannot emit bpf_core_type_matches; the record is written by hand on `r0 = 1`.
  auto matches = [&](const char* local_name, const object& target) {
    std::vector<insn> code = {mov64_imm(0, 1), exit()};
    const core_relo_rec r{0, prog_->btf.find(local_name, BTF_KIND_STRUCT), "0",
                          BPF_CORE_TYPE_MATCHES};
    const core_relo_rec relos[] = {r};
    auto res = core_relocate(code, relos, prog_->btf, target.btf, "m");
    EXPECT_TRUE(res) << res.err().msg;
    return code[0].imm;
  };
  EXPECT_EQ(matches("core_inner", *tgt_), 1);  // same members, any order, extra ones
  EXPECT_EQ(matches("core_task", *tgt_), 0);   // 'gone' missing, prio of another size
  EXPECT_EQ(matches("core_task", *prog_), 1);  // itself
  EXPECT_EQ(matches("core_flavored___v2", *tgt_), 1);
  EXPECT_EQ(matches("core_flavored___v2", *alt_), 0);
}

TEST_F(Core, EnumRelocations) {
  // value(CORE_DEAD) * 100 + exists(CORE_ZOMBIE) * 10 + exists(CORE_SLEEPING)
  EXPECT_EQ(run(relocate_ok("core/enums", *tgt_), nullptr, 0), 701u);
  EXPECT_EQ(run(relocate_ok("core/enums", *alt_), nullptr, 0), 1211u);
  EXPECT_EQ(run(relocate_ok("core/enums", *prog_), nullptr, 0), 211u);
  // enum_value of a missing enumerator poisons both slots of the ld_imm64.
  std::vector<insn> code = prog_->code("core/enums");
  core_relo_rec r = relo("core/enums", 0);
  ASSERT_EQ(r.kind, static_cast<uint32_t>(BPF_CORE_ENUMVAL_VALUE));
  r.access = relo("core/enums", 1).access;  // CORE_ZOMBIE, absent from core_target
  code[0].imm = 3;                          // its local value
  const core_relo_rec relos[] = {r};
  auto res = core_relocate(code, relos, prog_->btf, tgt_->btf, "core/enums");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.err().msg,
            "core/enums: insn 0: CO-RE relocation #0 (enumval_value of enum "
            "core_state::CORE_ZOMBIE): enumerator 'CORE_ZOMBIE' not found in target enum "
            "core_state");
  EXPECT_TRUE(is_core_poison(code[0]));
  EXPECT_TRUE(is_core_poison(code[1]));
}

TEST_F(Core, IdentityTargetLeavesCodeUnchanged) {
  for (const auto& [sec, relos] : prog_->ext.core_relos) {
    SCOPED_TRACE(sec);
    // Bitfield loads are the exception, as in libbpf: clang sizes the load by the bitfields'
    // storage unit (8 bytes here), libbpf by the smallest load of the field's type that holds
    // it (4), so the values are recomputed rather than validated.
    if (sec == "core/bitfields") continue;
    const std::vector<insn> code = relocate_ok(sec, *prog_);
    const std::vector<insn> orig = prog_->code(sec);
    ASSERT_EQ(code.size(), orig.size());
    EXPECT_EQ(std::memcmp(code.data(), orig.data(), code.size() * sizeof(insn)), 0);
  }
  // ... and read the same bits.
  local_task t{};
  t.bf1 = 7;
  t.bf2 = 17;
  t.sbf = -3;
  t.gone = 5;
  EXPECT_EQ(static_cast<int64_t>(run(relocate_ok("core/bitfields", *prog_), &t, sizeof t)),
            17 * 1000 - 3);
  EXPECT_EQ(run(relocate_ok("core/gone_guarded", *prog_), &t, sizeof t), 5u);
}

// ---- malformed relocations -------------------------------------------------------------------

TEST_F(Core, MalformedRelocationsAreErrors) {
  const std::vector<insn> pid = prog_->code("core/pid");
  const core_relo_rec good = relo("core/pid", 0);
  auto err = [&](core_relo_rec r, std::vector<insn> code) {
    const core_relo_rec relos[] = {r};
    auto res = core_relocate(code, relos, prog_->btf, tgt_->btf, "s");
    EXPECT_FALSE(res);
    return res ? std::string() : res.err().msg;
  };
  core_relo_rec r = good;
  r.insn_off = 4 * 8;
  EXPECT_EQ(err(r, pid),
            "s: CO-RE relocation #0: insn_off 32 is past the section's 4 instructions");
  r.insn_off = 3;
  EXPECT_EQ(err(r, pid), "s: CO-RE relocation #0: insn_off 3 is not a multiple of 8");
  r = good;
  r.kind = 42;
  EXPECT_EQ(err(r, pid),
            "s: insn 0: CO-RE relocation #0 (unknown of struct core_task + '0:0'): unknown "
            "relocation kind 42");
  r = good;
  r.access = "0:x";
  EXPECT_EQ(err(r, pid),
            "s: insn 0: CO-RE relocation #0 (field_byte_offset of struct core_task + '0:x'): "
            "malformed access string '0:x'");
  r.access = "0:99";
  EXPECT_EQ(err(r, pid),
            "s: insn 0: CO-RE relocation #0 (field_byte_offset of struct core_task + '0:99'): "
            "access 99 is past the 12 members of struct core_task");
  // The instruction must hold the local value.
  EXPECT_EQ(err(good, with(pid, 0, ldx(BPF_W, 0, 1, 8))),
            "s: insn 0: CO-RE relocation #0 (field_byte_offset of struct core_task.pid): "
            "instruction has offset 8, expected the local value 0");
  EXPECT_EQ(err(good, with(pid, 0, jmp_imm(BPF_JEQ, 1, 0, 0))),
            "s: insn 0: CO-RE relocation #0 (field_byte_offset of struct core_task.pid): "
            "instruction 0x15 cannot be relocated");
  r = good;
  r.kind = BPF_CORE_TYPE_SIZE;
  EXPECT_EQ(err(r, pid),
            "s: insn 0: CO-RE relocation #0 (type_size of struct core_task + '0:0'): type "
            "relocation with access string '0:0', not '0'");
}

// ---- parse_btf_ext on malformed input --------------------------------------------------------

class BtfExt : public ::testing::Test {
 protected:
  void SetUp() override {
    struct btf* b = btf__new_empty();
    ASSERT_NE(b, nullptr);
    int_id_ = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    const int proto = btf__add_func_proto(b, int_id_);
    func_id_ = btf__add_func(b, "f", BTF_FUNC_GLOBAL, proto);
    sec_off_ = btf__add_str(b, "core/x");
    file_off_ = btf__add_str(b, "x.bpf.c");
    zero_off_ = btf__add_str(b, "0");
    uint32_t size = 0;
    const void* raw = btf__raw_data(b, &size);
    raw_btf_.assign(static_cast<const uint8_t*>(raw), static_cast<const uint8_t*>(raw) + size);
    btf__free(b);
    auto h = btf_handle::parse(raw_btf_, "test");
    ASSERT_TRUE(h) << h.err().msg;
    btf_ = std::move(h.value());
  }

  // A valid .BTF.ext: header (32 bytes), then func_info, line_info and core_relo blocks with one
  // section of one record each.
  std::vector<uint32_t> words() const {
    std::vector<uint32_t> w = {// magic 0xeb9f, version 1, flags 0 | hdr_len
                               0x0001eb9f, 32,
                               // func_info off/len, line_info off/len, core_relo off/len
                               0, 20, 20, 28, 48, 28,
                               // func_info: rec size, section, record
                               8, sec_off_, 1, 0, func_id_,
                               // line_info
                               16, sec_off_, 1, 8, file_off_, file_off_, (12u << 10) | 3,
                               // core_relo
                               16, sec_off_, 1, 0, int_id_, zero_off_, BPF_CORE_TYPE_EXISTS};
    return w;
  }
  static std::vector<uint8_t> bytes(const std::vector<uint32_t>& w) {
    std::vector<uint8_t> b(w.size() * 4);
    std::memcpy(b.data(), w.data(), b.size());
    return b;
  }
  std::string err(const std::vector<uint8_t>& raw) const {
    auto r = parse_btf_ext(raw, btf_);
    EXPECT_FALSE(r);
    return r ? std::string() : r.err().msg;
  }
  std::string err(const std::vector<uint32_t>& w) const { return err(bytes(w)); }

  std::vector<uint8_t> raw_btf_;
  btf_handle btf_;
  uint32_t int_id_ = 0, func_id_ = 0, sec_off_ = 0, file_off_ = 0, zero_off_ = 0;
};

TEST_F(BtfExt, ValidInput) {
  auto r = parse_btf_ext(bytes(words()), btf_);
  ASSERT_TRUE(r) << r.err().msg;
  ASSERT_EQ(r->func_info.at("core/x").size(), 1u);
  EXPECT_EQ(r->func_info.at("core/x")[0].type_id, func_id_);
  const line_info_rec& l = r->line_info.at("core/x").at(0);
  EXPECT_EQ(l.insn_off, 8u);
  EXPECT_EQ(l.file, "x.bpf.c");
  EXPECT_EQ(l.line_num, 12u);
  EXPECT_EQ(l.line_col, 3u);
  const core_relo_rec& c = r->core_relos.at("core/x").at(0);
  EXPECT_EQ(c.type_id, int_id_);
  EXPECT_EQ(c.access, "0");
  EXPECT_EQ(c.kind, static_cast<uint32_t>(BPF_CORE_TYPE_EXISTS));

  // A 24-byte header has no CO-RE block.
  std::vector<uint32_t> w = words();
  w[1] = 24;
  w.erase(w.begin() + 6, w.begin() + 8);
  r = parse_btf_ext(bytes(w), btf_);
  ASSERT_TRUE(r) << r.err().msg;
  EXPECT_TRUE(r->core_relos.empty());
  EXPECT_EQ(r->line_info.at("core/x").size(), 1u);
}

TEST_F(BtfExt, TruncatedHeader) {
  std::vector<uint8_t> raw = bytes(words());
  raw.resize(6);
  EXPECT_EQ(err(raw), ".BTF.ext: header is truncated (6 bytes, need at least 8)");
  std::vector<uint32_t> w = words();
  w[1] = 20;
  EXPECT_EQ(err(w), ".BTF.ext: header length 20 is smaller than 24");
  w[1] = 4096;
  EXPECT_EQ(err(w), ".BTF.ext: header length 4096 exceeds the section's 108 bytes");
}

TEST_F(BtfExt, BadMagicVersionFlags) {
  std::vector<uint32_t> w = words();
  w[0] = 0x00011234;
  EXPECT_EQ(err(w), ".BTF.ext: bad magic 0x1234 (expected 0xeb9f)");
  w[0] = 0x00019feb;
  EXPECT_EQ(err(w), ".BTF.ext: byte-swapped magic 0x9feb: non-native byte order is not supported");
  w[0] = 0x0002eb9f;
  EXPECT_EQ(err(w), ".BTF.ext: unsupported version 2");
  w[0] = 0x0101eb9f;
  EXPECT_EQ(err(w), ".BTF.ext: unsupported flags 0x01");
}

TEST_F(BtfExt, RecordSizeTooSmall) {
  std::vector<uint32_t> w = words();
  w[8 + 5] = 12;  // line_info record size
  EXPECT_EQ(err(w), ".BTF.ext: line_info record size 12 is smaller than 16");
  w = words();
  w[8] = 4;
  EXPECT_EQ(err(w), ".BTF.ext: func_info record size 4 is smaller than 8");
  w = words();
  w[8 + 12] = 18;
  EXPECT_EQ(err(w), ".BTF.ext: core_relo record size 18 is not a multiple of 4");
}

TEST_F(BtfExt, CountOverflowingTheSection) {
  std::vector<uint32_t> w = words();
  w[8 + 2] = 0x40000000;  // func_info num_info: 8 GiB of records
  EXPECT_EQ(err(w),
            ".BTF.ext: func_info: section 'core/x' claims 1073741824 records of 8 bytes but 8 "
            "bytes remain");
  w = words();
  w[8 + 14] = 2;  // core_relo: two records, one present
  EXPECT_EQ(err(w),
            ".BTF.ext: core_relo: section 'core/x' claims 2 records of 16 bytes but 16 bytes "
            "remain");
  w = words();
  w[8 + 2] = 0;
  EXPECT_EQ(err(w), ".BTF.ext: func_info: section 'core/x' has no records");
}

TEST_F(BtfExt, SectionNameOffsetOutOfRange) {
  std::vector<uint32_t> w = words();
  w[8 + 1] = 99999;
  EXPECT_EQ(err(w),
            ".BTF.ext: func_info: section name offset 99999 at offset 36 is outside the BTF "
            "strings");
  w = words();
  w[8 + 1] = 0;
  EXPECT_EQ(err(w), ".BTF.ext: func_info: empty section name at offset 36");
}

TEST_F(BtfExt, BlocksAndRecordsOutOfBounds) {
  std::vector<uint32_t> w = words();
  w[5] = 200;  // line_info length
  EXPECT_EQ(err(w),
            ".BTF.ext: line_info (offset 20, length 200) extends past the 76 bytes after the "
            "header");
  w = words();
  w[4] = 18;
  EXPECT_EQ(err(w), ".BTF.ext: line_info offset 18 is not 4-byte aligned");
  w = words();
  w[5] = 4;
  EXPECT_EQ(err(w), ".BTF.ext: line_info has a record size but no records");
  w = words();
  w[5] = 8;  // the record size, then half a section header
  EXPECT_EQ(err(w), ".BTF.ext: line_info: section header at offset 56 is truncated (4 bytes left)");
  w = words();
  w[8 + 3] = 12;  // func_info insn_off
  EXPECT_EQ(err(w),
            ".BTF.ext: func_info record 0 of section 'core/x' (offset 44): insn_off 12 is not a "
            "multiple of 8");
  w = words();
  w[8 + 4] = int_id_;  // not a FUNC
  EXPECT_EQ(err(w),
            ".BTF.ext: func_info record 0 of section 'core/x' (offset 44): type id 1 is not a "
            "FUNC in the object's BTF");
  w = words();
  w[8 + 5 + 4] = 77777;  // line_info file name
  EXPECT_EQ(err(w),
            ".BTF.ext: line_info record 0 of section 'core/x' (offset 64): file name offset "
            "77777 is outside the BTF strings");
  w = words();
  w[8 + 12 + 4] = 500;  // core_relo type id
  EXPECT_EQ(err(w),
            ".BTF.ext: core_relo record 0 of section 'core/x' (offset 92): type id 500 is not in "
            "the object's BTF");
  w = words();
  w[8 + 12 + 5] = 88888;  // core_relo access string
  EXPECT_EQ(err(w),
            ".BTF.ext: core_relo record 0 of section 'core/x' (offset 92): access string offset "
            "88888 is outside the BTF strings");
}

}  // namespace
}  // namespace mmbpf::bpf
