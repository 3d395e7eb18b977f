// The object loader on clang-compiled BPF C (tests/bpf/progs/obj_*.bpf.c): maps of every type,
// global data in every section with rodata set before load, subprogram calls across sections,
// callbacks, kfunc externs (weak too), struct_ops binding; and malformed objects, each with its
// own precise error.
#include "bpf/object.h"

#include <elf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "bpf/interpreter.h"
#include "bpf/runtime.h"

namespace mmbpf::bpf {
namespace {

using ::testing::HasSubstr;

std::string obj_path(const char* name) {
  return std::string(MMBPF_BPF_OBJ_DIR) + "/tests/bpf/progs/" + name + ".bpf.o";
}

std::unique_ptr<bpf_object> open(const char* name) {
  auto o = bpf_object::open_file(obj_path(name));
  EXPECT_TRUE(o) << o.err().msg;
  return o ? std::move(o.value()) : nullptr;
}

uint64_t run(const obj_prog& p, void* ctx = nullptr, size_t len = 0) {
  auto r = interpreter(true).run_mem(*p.prog, ctx, len);
  EXPECT_TRUE(r) << r.err().msg;
  return r ? *r : ~0ULL;
}

TEST(Object, MapsOfEveryType) {
  auto o = open("obj_maps");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->license(), "GPL");
  struct want { const char* name; uint32_t type, ks, vs, n, flags; };
  for (const want& w : {want{"arr", BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0},
                        want{"pcpu", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 2, 0},
                        want{"hash", BPF_MAP_TYPE_HASH, 8, 8, 8, 0},
                        want{"phash", BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 8, 0},
                        want{"lru", BPF_MAP_TYPE_LRU_HASH, 4, 4, 2, 0},
                        want{"events", BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0},
                        want{"sized", BPF_MAP_TYPE_HASH, 4, 12, 16, BPF_F_NO_PREALLOC}}) {
    SCOPED_TRACE(w.name);
    const obj_map* m = o->find_map(w.name);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->kind, obj_map_kind::user);
    EXPECT_EQ(m->attr.map_type, w.type);
    EXPECT_EQ(m->attr.key_size, w.ks);
    EXPECT_EQ(m->attr.value_size, w.vs);
    EXPECT_EQ(m->attr.max_entries, w.n);
    EXPECT_EQ(m->attr.map_flags, w.flags);
  }
  runtime rt;
  auto r = o->load(rt);
  ASSERT_TRUE(r) << r.err().msg;
  obj_prog* p = o->find_program("use_maps");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->sec_name, "syscall");
  EXPECT_EQ(run(*p), 110u);
  const uint32_t one = 1;
  uint64_t v = 0;
  ASSERT_EQ(rt.map(o->find_map("arr")->fd)->lookup_copy(&one, &v), 0);
  EXPECT_EQ(v, 10u);
  auto* rb = static_cast<ringbuf_map*>(rt.map(o->find_map("events")->fd));
  uint64_t rec = 0;
  EXPECT_EQ(rb->consume([](void* c, const void* d, size_t n) {
              std::memcpy(c, d, n);
              return 0;
            }, &rec), 1);
  EXPECT_EQ(rec, 0xfeedu);
}

TEST(Object, GlobalDataInEverySectionAndRodataSetBeforeLoad) {
  auto o = open("obj_globals");
  ASSERT_TRUE(o);
  const obj_map* ro = o->find_map("obj_glob.rodata");
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->kind, obj_map_kind::rodata);
  EXPECT_EQ(ro->attr.map_flags, uint32_t{BPF_F_RDONLY_PROG});
  ASSERT_NE(o->find_map("obj_glob.data"), nullptr);
  ASSERT_NE(o->find_map("obj_glob.bss"), nullptr);

  const uint64_t five = 5;
  ASSERT_TRUE(o->set_global("scale", {reinterpret_cast<const uint8_t*>(&five), 8}));
  const uint32_t small = 1;
  auto bad = o->set_global("scale", {reinterpret_cast<const uint8_t*>(&small), 4});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.err().msg, "obj_globals.bpf.o: global 'scale' is 8 bytes, not 4");
  bad = o->set_global("nope", {reinterpret_cast<const uint8_t*>(&five), 8});
  EXPECT_EQ(bad.err().msg, "obj_globals.bpf.o: no global variable 'nope' in .data, .rodata or .bss");

  runtime rt;
  ASSERT_TRUE(o->load(rt));
  obj_prog* p = o->find_program("globals");
  EXPECT_EQ(run(*p), 5u * 1000 + (5 + 3) * 10 + 1);
  EXPECT_EQ(run(*p), 5u * 1000 + (8 + 3) * 10 + 2);
  EXPECT_EQ(rt.trace_log(), "scale=5 counter=8scale=5 counter=11");
  bad = o->set_global("scale", {reinterpret_cast<const uint8_t*>(&five), 8});
  EXPECT_EQ(bad.err().msg, "obj_globals.bpf.o: global 'scale' cannot be set after load");
}

TEST(Object, SubprogramCallsAcrossSectionsAndCallbacks) {
  auto o = open("obj_calls");
  ASSERT_TRUE(o);
  ASSERT_EQ(o->programs().size(), 2u);  // .text functions are subprograms, not programs
  runtime rt;
  auto r = o->load(rt);
  ASSERT_TRUE(r) << r.err().msg;
  obj_prog* a = o->find_program("calls_a");
  obj_prog* b = o->find_program("calls_b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(b->sec_name, "syscall.alt");
  EXPECT_EQ(run(*a), 34u);
  EXPECT_EQ(run(*b), 1005u);
  EXPECT_GE(a->prog->subprog_starts.size(), 3u);  // calls_a, sum_squares, square
}

uint64_t test_mul(uint64_t a, uint64_t b, uint64_t, uint64_t, uint64_t) { return a * b; }

TEST(Object, KfuncExternsBindByNameAndWeakOnesMayBeMissing) {
  runtime rt;
  auto o = open("obj_kfunc");
  ASSERT_TRUE(o);
  auto r = o->load(rt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().msg,
            "obj_kfunc.bpf.o: prog 'use_kfunc': kfunc 'bpf_test_mul' is not found in the "
            "kernel's registry");

  runtime rt2;
  ASSERT_TRUE(rt2.kfuncs().add({.name = "bpf_test_mul", .fn = test_mul}));
  o = open("obj_kfunc");
  r = o->load(rt2);
  ASSERT_TRUE(r) << r.err().msg;
  obj_prog* p = o->find_program("use_kfunc");
  EXPECT_EQ(p->kfuncs, std::vector<std::string>{"bpf_test_mul"});
  EXPECT_EQ(run(*p), 42u);  // the weak kfunc is absent, so bpf_ksym_exists skipped its call
}

TEST(Object, StructOpsInstanceBindsProgramsByMember) {
  auto o = open("obj_struct_ops");
  ASSERT_TRUE(o);
  ASSERT_EQ(o->struct_ops().size(), 1u);
  const obj_struct_ops& ops = o->struct_ops()[0];
  EXPECT_EQ(ops.name, "dummy");
  EXPECT_EQ(ops.type_name, "bpf_dummy_ops");
  EXPECT_TRUE(ops.link);
  ASSERT_EQ(ops.progs.size(), 3u);
  runtime rt;
  auto r = o->load(rt);
  ASSERT_TRUE(r) << r.err().msg;
  obj_prog* t1 = o->find_program("test_1");
  obj_prog* t2 = o->find_program("test_2");
  obj_prog* ts = o->find_program("test_sleepable");
  EXPECT_EQ(t1->ops_member, "test_1");
  EXPECT_EQ(t1->ops_nargs, 1u);
  EXPECT_EQ(t2->ops_nargs, 5u);
  EXPECT_TRUE(ts->sleepable);
  EXPECT_FALSE(t1->sleepable);
  // struct_ops programs take their arguments as an array of u64; the object an argument points
  // to is memory the host owns and registers.
  int state = 41;
  ASSERT_TRUE(rt.regions().add({.start = reinterpret_cast<uintptr_t>(&state), .size = sizeof state,
                                .name = "bpf_dummy_ops_state"}));
  uint64_t args1[1] = {reinterpret_cast<uint64_t>(&state)};
  EXPECT_EQ(run(*t1, args1, sizeof args1), 42u);
  uint64_t args2[5] = {0, 1, 2, 3, 4};
  EXPECT_EQ(run(*t2, args2, sizeof args2), 10u);
}

// bpf_for() / bpf_repeat() (bpf/include/bpf_iter.bpf.h) as clang compiles them: the load
// verifies each loop by the iterator rules (no bound to unroll), and they run.
TEST(Object, OpenCodedIteratorLoopsVerifyAndRun) {
  auto o = open("obj_iter");
  ASSERT_TRUE(o);
  runtime rt;
  auto r = o->load(rt);
  ASSERT_TRUE(r) << r.err().msg;
  int state = 10;
  ASSERT_TRUE(rt.regions().add({.start = reinterpret_cast<uintptr_t>(&state), .size = sizeof state,
                                .name = "bpf_dummy_ops_state"}));
  uint64_t args1[1] = {reinterpret_cast<uint64_t>(&state)};
  EXPECT_EQ(run(*o->find_program("sum_below"), args1, sizeof args1), 45u);
  state = 0;
  EXPECT_EQ(run(*o->find_program("sum_below"), args1, sizeof args1), 0u);
  uint64_t args2[5] = {0, 7, 10, 0, 30};  // the first multiple of 7 in [10, 30)
  EXPECT_EQ(run(*o->find_program("first_multiple"), args2, sizeof args2), 14u);
  EXPECT_EQ(run(*o->find_program("repeat_in_rcu"), args1, sizeof args1), 5u);
}

TEST(Object, StructOpsProgramReadingTooManyArgumentsIsRefused) {
  auto o = open("obj_struct_ops_bad");
  ASSERT_TRUE(o);
  runtime rt;
  auto r = o->load(rt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().msg,
            "obj_struct_ops_bad.bpf.o: struct_ops 'bad': program 'test_1' reads argument 3 of "
            "member 'test_1', whose prototype has 1");
}

TEST(Object, StructOpsOfAnUnregisteredTypeIsRefused) {
  auto o = open("obj_struct_ops");
  runtime rt;
  // A runtime whose registry lacks the type: rename it in a copy of the registry's view.
  struct_ops_registry empty;
  std::swap(rt.struct_ops(), empty);
  auto r = o->load(rt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().msg, "obj_struct_ops.bpf.o: struct_ops 'dummy': type 'bpf_dummy_ops' is not "
                         "a registered struct_ops type");
}

// ---- malformed objects ----

std::vector<uint8_t> bytes_of(const char* name) {
  std::ifstream f(obj_path(name), std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The section header of the section called `name` in an ELF image.
Elf64_Shdr* section(std::vector<uint8_t>& elf, const char* name) {
  auto* eh = reinterpret_cast<Elf64_Ehdr*>(elf.data());
  auto* sh = reinterpret_cast<Elf64_Shdr*>(elf.data() + eh->e_shoff);
  const char* strs = reinterpret_cast<const char*>(elf.data() + sh[eh->e_shstrndx].sh_offset);
  for (int i = 0; i < eh->e_shnum; ++i)
    if (std::strcmp(strs + sh[i].sh_name, name) == 0) return &sh[i];
  return nullptr;
}

std::string open_err(std::vector<uint8_t> elf) {
  auto o = bpf_object::open_mem(elf, "bad.o");
  return o ? "opened" : o.err().msg;
}

TEST(ObjectMalformed, NotElf) {
  EXPECT_EQ(open_err({'h', 'e', 'l', 'l', 'o'}), "bad.o: not an ELF file");
}

TEST(ObjectMalformed, Truncated) {
  auto e = bytes_of("obj_maps");
  e.resize(200);
  EXPECT_THAT(open_err(e), HasSubstr("bad.o: "));
  EXPECT_NE(open_err(e), "opened");
}

TEST(ObjectMalformed, WrongMachine) {
  auto e = bytes_of("obj_maps");
  reinterpret_cast<Elf64_Ehdr*>(e.data())->e_machine = EM_X86_64;
  EXPECT_EQ(open_err(e), "bad.o: ELF machine 62 is not BPF (247)");
}

TEST(ObjectMalformed, SymbolWithBadSectionIndex) {
  auto e = bytes_of("obj_calls");
  Elf64_Shdr* st = section(e, ".symtab");
  ASSERT_NE(st, nullptr);
  auto* syms = reinterpret_cast<Elf64_Sym*>(e.data() + st->sh_offset);
  const size_t n = st->sh_size / sizeof(Elf64_Sym);
  for (size_t i = 0; i < n; ++i)
    if (ELF64_ST_TYPE(syms[i].st_info) == STT_FUNC) {
      syms[i].st_shndx = 999;
      break;
    }
  EXPECT_THAT(open_err(e), HasSubstr("bad section index 999"));
}

TEST(ObjectMalformed, VariableOutsideItsSection) {
  auto e = bytes_of("obj_globals");
  Elf64_Shdr* st = section(e, ".symtab");
  ASSERT_NE(st, nullptr);
  auto* syms = reinterpret_cast<Elf64_Sym*>(e.data() + st->sh_offset);
  const char* names = reinterpret_cast<const char*>(
      e.data() + reinterpret_cast<Elf64_Shdr*>(e.data() + reinterpret_cast<Elf64_Ehdr*>(e.data())->e_shoff)[st->sh_link].sh_offset);
  bool patched = false;
  for (size_t i = 0; i < st->sh_size / sizeof(Elf64_Sym); ++i)
    if (std::strcmp(names + syms[i].st_name, "scale") == 0) {
      syms[i].st_value = 0x7fffffff;  // found by fuzz_object: set_global wrote through it
      patched = true;
    }
  ASSERT_TRUE(patched);
  EXPECT_THAT(open_err(e), HasSubstr("bad.o: symbol 'scale': [2147483647, +8) lies outside "
                                     "section '.rodata'"));
}

TEST(ObjectMalformed, RelocationAgainstMissingSymbol) {
  auto e = bytes_of("obj_calls");
  Elf64_Shdr* rel = section(e, ".relsyscall");
  ASSERT_NE(rel, nullptr);
  auto* r = reinterpret_cast<Elf64_Rel*>(e.data() + rel->sh_offset);
  r[0].r_info = ELF64_R_INFO(5000, ELF64_R_TYPE(r[0].r_info));
  EXPECT_THAT(open_err(e), HasSubstr("bad.o: section '.relsyscall': relocation 0 at offset"));
  EXPECT_THAT(open_err(e), HasSubstr("names missing symbol 5000"));
}

TEST(ObjectMalformed, BadBtf) {
  auto e = bytes_of("obj_maps");
  Elf64_Shdr* btf = section(e, ".BTF");
  ASSERT_NE(btf, nullptr);
  e[btf->sh_offset] ^= 0xff;  // magic
  EXPECT_THAT(open_err(e), HasSubstr("bad.o: .BTF: invalid BTF"));
}

}  // namespace
}  // namespace mmbpf::bpf

namespace mmbpf::bpf {
namespace {

// Found by fuzz_object: a typedef that names itself looped forever.
TEST(BtfHandle, TypedefCycleResolvesToVoid) {
  struct btf* b = btf__new_empty();
  ASSERT_NE(b, nullptr);
  const int id = btf__add_typedef(b, "loop", 2);  // id 1 -> 2
  ASSERT_EQ(id, 1);
  ASSERT_EQ(btf__add_typedef(b, "back", 1), 2);   // id 2 -> 1
  uint32_t size = 0;
  const void* raw = btf__raw_data(b, &size);
  auto h = btf_handle::parse({static_cast<const uint8_t*>(raw), size}, "cycle");
  btf__free(b);
  ASSERT_TRUE(h) << h.err().msg;
  EXPECT_EQ(h->skip_mods_and_typedefs(1), 0u);
}

}  // namespace
}  // namespace mmbpf::bpf

namespace mmbpf::bpf {
namespace {

// Inputs the loader fuzzer crashed on, kept as regressions: each must fail to open or load
// with an error, never crash.
TEST(ObjectFuzzRegressions, EachFailsCleanly) {
  const std::filesystem::path dir =
      std::filesystem::path(MMBPF_SOURCE_DIR) / "tests" / "bpf" / "fuzz_regressions";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    SCOPED_TRACE(e.path().filename().string());
    auto o = bpf_object::open_file(e.path());
    if (o) {
      runtime rt;
      rt.map_memory_limit = 64 << 20;
      EXPECT_FALSE((*o)->load(rt));
    }
    ++n;
  }
  EXPECT_GE(n, 1);
}

}  // namespace
}  // namespace mmbpf::bpf
