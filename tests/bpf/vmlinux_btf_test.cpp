// The model's BTF (bpf/include/vmlinux.h, embedded by the build): it parses; the types the
// struct_ops families and policies use exist with the kernel's names, kinds, members and member
// prototypes; their BTF offsets are the C++ offsets of the same header; and the layout check
// (tools/btf_layout_gen) states those offsets and turns a mismatch into a compile error.
#include "bpf/vmlinux_btf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../../bpf/include/vmlinux.h"

namespace mmbpf::bpf {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const btf_handle& kbtf() {
  return vmlinux_btf();
}

uint32_t struct_id(std::string_view name) {
  return kbtf().find(name, BTF_KIND_STRUCT);
}

// A member of struct `s` by name, looking through anonymous structs and unions as C does; the
// bit offset is from the start of `s`.
struct member_at {
  uint32_t type = 0;
  uint32_t bit_off = 0;
  bool found = false;
};

member_at find_member(uint32_t sid, std::string_view name, uint32_t base = 0) {
  const struct btf_type* t = kbtf().type(sid);
  const struct btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); ++i, ++m) {
    const uint32_t off = base + btf_member_bit_offset(t, i);
    const std::string_view n = kbtf().str(m->name_off);
    if (n == name) return {m->type, off, true};
    if (n.empty()) {
      const uint32_t inner = kbtf().skip_mods_and_typedefs(m->type);
      const struct btf_type* it = kbtf().type(inner);
      if (btf_is_struct(it) || btf_is_union(it)) {
        member_at r = find_member(inner, name, off);
        if (r.found) return r;
      }
    }
  }
  return {};
}

// A type as C spells it, for comparing prototypes: "struct folio *", "s32", "char[64]".
std::string spell(uint32_t id) {
  if (id == 0) return "void";
  const struct btf_type* t = kbtf().type(id);
  const std::string name(kbtf().name(id));
  switch (btf_kind(t)) {
    case BTF_KIND_PTR: {
      const uint32_t to = t->type;
      const struct btf_type* tt = kbtf().type(to);
      if (to && btf_is_func_proto(tt)) return spell(to);
      return spell(to) + " *";
    }
    case BTF_KIND_CONST:
      return "const " + spell(t->type);
    case BTF_KIND_ARRAY:
      return spell(btf_array(t)->type) + "[" + std::to_string(btf_array(t)->nelems) + "]";
    case BTF_KIND_STRUCT:
      return "struct " + name;
    case BTF_KIND_UNION:
      return "union " + name;
    case BTF_KIND_FWD:
      return (btf_kflag(t) ? "union " : "struct ") + name;
    case BTF_KIND_ENUM:
      return "enum " + name;
    case BTF_KIND_FUNC_PROTO: {
      std::string s = spell(t->type) + " (";
      const struct btf_param* p = btf_params(t);
      for (uint16_t i = 0; i < btf_vlen(t); ++i) s += (i ? ", " : "") + spell(p[i].type);
      return s + ")";
    }
    default:
      return name;  // int, typedef
  }
}

// The type of member `m` of struct `s`, spelled.
std::string member_type(std::string_view s, std::string_view m) {
  const uint32_t sid = struct_id(s);
  if (!sid) return "<no struct " + std::string(s) + ">";
  member_at r = find_member(sid, m);
  if (!r.found) return "<no member " + std::string(m) + ">";
  return spell(r.type);
}

uint32_t member_offset(std::string_view s, std::string_view m) {
  member_at r = find_member(struct_id(s), m);
  EXPECT_TRUE(r.found) << s << "." << m;
  EXPECT_EQ(r.bit_off % 8, 0u) << s << "." << m;
  return r.bit_off / 8;
}

int64_t enum_value(std::string_view e, std::string_view name) {
  const uint32_t id = kbtf().find(e, BTF_KIND_ENUM);
  EXPECT_NE(id, 0u) << "enum " << e;
  if (!id) return -1;
  const struct btf_type* t = kbtf().type(id);
  const struct btf_enum* v = btf_enum(t);
  for (uint16_t i = 0; i < btf_vlen(t); ++i, ++v)
    if (kbtf().str(v->name_off) == name) return v->val;
  ADD_FAILURE() << "enum " << e << " has no " << name;
  return -1;
}

TEST(VmlinuxBtf, EmbeddedBlobParsesOnce) {
  const std::span<const uint8_t> raw = vmlinux_btf_raw();
  ASSERT_GE(raw.size(), sizeof(struct btf_header));
  EXPECT_EQ(raw[0] | raw[1] << 8, BTF_MAGIC);  // little-endian, as the runtime's host
  const btf_handle& h = vmlinux_btf();
  ASSERT_TRUE(h);
  EXPECT_EQ(&h, &vmlinux_btf());
  EXPECT_GT(h.type_cnt(), 100u);
}

TEST(VmlinuxBtf, KeyTypesExistWithTheKernelsNamesAndKinds) {
  for (const char* s : {"list_head",
                        "page",
                        "folio",
                        "address_space",
                        "inode",
                        "file_ra_state",
                        "file",
                        "kernfs_node",
                        "cgroup_subsys_state",
                        "cgroup",
                        "css_set",
                        "page_counter",
                        "mem_cgroup",
                        "percpu_counter",
                        "mm_struct",
                        "signal_struct",
                        "task_struct",
                        "oom_control",
                        "bpf_link",
                        "bpf_struct_ops_link",
                        "bpf_oom_ops",
                        "psi_window",
                        "psi_trigger",
                        "bpf_psi_ops",
                        "cache_ext_eviction_ctx",
                        "cache_ext_admission_ctx",
                        "cache_ext_list_node",
                        "cache_ext_iterate_opts",
                        "sampling_options",
                        "cache_ext_ops",
                        "bpf_dummy_ops",
                        "bpf_dummy_ops_state"})
    EXPECT_NE(struct_id(s), 0u) << "struct " << s;
  for (const char* e : {"pageflags", "lru_list", "node_stat_item", "memcg_stat_item",
                        "memcg_memory_event", "oom_constraint", "psi_res", "psi_states",
                        "psi_aggregators", "cache_ext_iterate_mode", "cache_ext_iterate_list"})
    EXPECT_NE(kbtf().find(e, BTF_KIND_ENUM), 0u) << "enum " << e;
  for (const char* t : {"u8", "u16", "u32", "u64", "s64", "bool", "pid_t", "loff_t", "pgoff_t",
                        "gfp_t", "atomic_t", "atomic_long_t", "refcount_t", "swp_entry_t"})
    EXPECT_NE(kbtf().find(t, BTF_KIND_TYPEDEF), 0u) << "typedef " << t;
  // Opaque in the model, as private kernel types are to BPF; struct bpf_psi is a complete
  // (opaque-bodied) struct so that bpf_psi_ops' argument is a pointer kfuncs can take.
  EXPECT_NE(kbtf().find("bpf_psi", BTF_KIND_STRUCT), 0u);
  EXPECT_NE(kbtf().find("super_block", BTF_KIND_FWD), 0u);
}

TEST(VmlinuxBtf, MembersHaveTheKernelsTypes) {
  EXPECT_EQ(member_type("folio", "flags"), "unsigned long");
  EXPECT_EQ(member_type("folio", "lru"), "struct list_head");
  EXPECT_EQ(member_type("folio", "mapping"), "struct address_space *");
  EXPECT_EQ(member_type("folio", "index"), "pgoff_t");
  EXPECT_EQ(member_type("folio", "memcg_data"), "unsigned long");
  EXPECT_EQ(member_type("folio", "page"), "struct page");
  EXPECT_EQ(member_type("page", "flags"), "unsigned long");
  EXPECT_EQ(member_type("address_space", "host"), "struct inode *");
  EXPECT_EQ(member_type("inode", "i_ino"), "unsigned long");
  EXPECT_EQ(member_type("inode", "i_size"), "loff_t");
  EXPECT_EQ(member_type("inode", "i_mapping"), "struct address_space *");
  EXPECT_EQ(member_type("file", "f_ra"), "struct file_ra_state");
  EXPECT_EQ(member_type("file", "f_mapping"), "struct address_space *");
  for (const char* f : {"size", "async_size", "ra_pages", "mmap_miss"})
    EXPECT_EQ(member_type("file_ra_state", f), "unsigned int") << f;
  EXPECT_EQ(member_type("file_ra_state", "start"), "pgoff_t");
  EXPECT_EQ(member_type("file_ra_state", "prev_pos"), "loff_t");
  EXPECT_EQ(member_type("cgroup", "self"), "struct cgroup_subsys_state");
  EXPECT_EQ(member_type("cgroup", "kn"), "struct kernfs_node *");
  EXPECT_EQ(member_type("kernfs_node", "id"), "u64");
  EXPECT_EQ(member_type("cgroup_subsys_state", "parent"), "struct cgroup_subsys_state *");
  EXPECT_EQ(member_type("mem_cgroup", "css"), "struct cgroup_subsys_state");
  EXPECT_EQ(member_type("mem_cgroup", "memory"), "struct page_counter");
  EXPECT_EQ(member_type("mem_cgroup", "swap"), "struct page_counter");
  for (const char* f : {"min", "low", "high", "max"})
    EXPECT_EQ(member_type("page_counter", f), "unsigned long") << f;
  EXPECT_EQ(member_type("page_counter", "usage"), "atomic_long_t");
  EXPECT_EQ(member_type("task_struct", "comm"), "char[16]");
  EXPECT_EQ(member_type("task_struct", "pid"), "pid_t");
  EXPECT_EQ(member_type("task_struct", "mm"), "struct mm_struct *");
  EXPECT_EQ(member_type("task_struct", "signal"), "struct signal_struct *");
  EXPECT_EQ(member_type("signal_struct", "oom_score_adj"), "short");
  EXPECT_EQ(member_type("mm_struct", "rss_stat"), "struct percpu_counter[4]");
  EXPECT_EQ(member_type("oom_control", "memcg"), "struct mem_cgroup *");
  EXPECT_EQ(member_type("oom_control", "chosen"), "struct task_struct *");
  EXPECT_EQ(member_type("oom_control", "bpf_memory_freed"), "bool");
  EXPECT_EQ(member_type("oom_control", "bpf_handler_name"), "const char *");
  EXPECT_EQ(member_type("bpf_struct_ops_link", "cgroup_id"), "u64");
  EXPECT_EQ(member_type("psi_trigger", "cgroup_id"), "u64");
  EXPECT_EQ(member_type("psi_trigger", "state"), "enum psi_states");
  EXPECT_EQ(member_type("cache_ext_eviction_ctx", "request_nr_folios_to_evict"), "unsigned long");
  EXPECT_EQ(member_type("cache_ext_eviction_ctx", "folios_to_evict"), "struct folio *[32]");
  EXPECT_EQ(member_type("cache_ext_eviction_ctx", "scores"), "s64[32]");
  EXPECT_EQ(member_type("cache_ext_list_node", "folio"), "struct folio *");
  EXPECT_EQ(member_type("sampling_options", "sample_size"), "__u32");
  EXPECT_EQ(member_type("cache_ext_iterate_opts", "nr_folios_evict"), "u64");
}

TEST(VmlinuxBtf, BtfOffsetsAreTheCxxOffsetsOfTheSameHeader) {
  EXPECT_EQ(member_offset("folio", "memcg_data"), offsetof(struct folio, memcg_data));
  EXPECT_EQ(member_offset("folio", "page"), 0u);
  EXPECT_EQ(member_offset("folio", "lru"), offsetof(struct folio, lru));
  EXPECT_EQ(member_offset("inode", "i_data"), offsetof(struct inode, i_data));
  EXPECT_EQ(member_offset("file", "f_ra"), offsetof(struct file, f_ra));
  EXPECT_EQ(member_offset("mem_cgroup", "memory"), offsetof(struct mem_cgroup, memory));
  EXPECT_EQ(member_offset("mem_cgroup", "swap"), offsetof(struct mem_cgroup, swap));
  EXPECT_EQ(member_offset("mem_cgroup", "memsw"), member_offset("mem_cgroup", "swap"));
  EXPECT_EQ(member_offset("task_struct", "comm"), offsetof(struct task_struct, comm));
  EXPECT_EQ(member_offset("oom_control", "bpf_memory_freed"),
            offsetof(struct oom_control, bpf_memory_freed));
  EXPECT_EQ(member_offset("cache_ext_eviction_ctx", "folios_to_evict"), 16u);
  EXPECT_EQ(member_offset("cache_ext_eviction_ctx", "scores"), 16u + 32 * 8);
  EXPECT_EQ(*kbtf().size_of(struct_id("cache_ext_eviction_ctx")),
            sizeof(struct cache_ext_eviction_ctx));
  // The mem_cgroup's css is first, so container_of(css) is a cast, as in the kernel.
  EXPECT_EQ(member_offset("mem_cgroup", "css"), 0u);
  EXPECT_EQ(member_offset("cgroup", "self"), 0u);
}

// The members of a struct_ops type, in order: "name: prototype" for a function pointer,
// "name (data): type" otherwise.
std::vector<std::string> ops_members(std::string_view s) {
  std::vector<std::string> out;
  const uint32_t sid = struct_id(s);
  const struct btf_type* t = kbtf().type(sid);
  const struct btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); ++i, ++m) {
    const struct btf_type* pt = kbtf().type(m->type);
    const bool fptr = btf_is_ptr(pt) && btf_is_func_proto(kbtf().type(pt->type));
    out.push_back(std::string(kbtf().str(m->name_off)) + (fptr ? ": " : " (data): ") +
                  spell(m->type));
  }
  return out;
}

TEST(VmlinuxBtf, CacheExtOpsMembersAreTheReferencePrototypes) {
  EXPECT_THAT(ops_members("cache_ext_ops"),
              ::testing::ElementsAre(
                  "init: s32 (struct mem_cgroup *)",
                  "evict_folios: void (struct cache_ext_eviction_ctx *, struct mem_cgroup *)",
                  "folio_added: void (struct folio *)", "folio_accessed: void (struct folio *)",
                  "folio_evicted: void (struct folio *)",
                  "admit_folio: bool (struct cache_ext_admission_ctx *)"));
}

TEST(VmlinuxBtf, OomAndPsiOpsMembersAreTheReferencePrototypes) {
  EXPECT_THAT(ops_members("bpf_oom_ops"),
              ::testing::ElementsAre(
                  "handle_out_of_memory: int (struct oom_control *, struct bpf_struct_ops_link *)",
                  "name (data): char[64]"));
  EXPECT_THAT(
      ops_members("bpf_psi_ops"),
      ::testing::ElementsAre("init: int (struct bpf_psi *)",
                             "handle_psi_event: void (struct bpf_psi *, struct psi_trigger *)",
                             "handle_cgroup_online: void (struct bpf_psi *, u64)",
                             "handle_cgroup_offline: void (struct bpf_psi *, u64)",
                             "bpf_psi (data): struct bpf_psi *"));
}

TEST(VmlinuxBtf, DummyOpsMatchesTheKernelsTestType) {
  EXPECT_THAT(ops_members("bpf_dummy_ops"),
              ::testing::ElementsAre("test_1: int (struct bpf_dummy_ops_state *)",
                                     "test_2: int (struct bpf_dummy_ops_state *, int, unsigned "
                                     "short, char, unsigned long)",
                                     "test_sleepable: int (struct bpf_dummy_ops_state *)"));
  EXPECT_EQ(member_type("bpf_dummy_ops_state", "val"), "int");
}

TEST(VmlinuxBtf, EnumValuesAreTheKernels) {
  // 6.6 page flags: PG_writeback and PG_head in the bottom byte.
  EXPECT_EQ(enum_value("pageflags", "PG_locked"), 0);
  EXPECT_EQ(enum_value("pageflags", "PG_writeback"), 1);
  EXPECT_EQ(enum_value("pageflags", "PG_uptodate"), 3);
  EXPECT_EQ(enum_value("pageflags", "PG_lru"), 5);
  EXPECT_EQ(enum_value("pageflags", "PG_active"), 8);
  EXPECT_EQ(enum_value("pageflags", "PG_workingset"), 9);
  EXPECT_EQ(enum_value("pageflags", "PG_reclaim"), 18);
  EXPECT_EQ(enum_value("pageflags", "PG_readahead"), 18);
  EXPECT_EQ(enum_value("pageflags", "PG_unevictable"), 20);
  EXPECT_EQ(enum_value("pageflags", "PG_swapcache"), 12);
  EXPECT_EQ(enum_value("lru_list", "LRU_ACTIVE_FILE"), 3);
  EXPECT_EQ(enum_value("node_stat_item", "NR_FILE_PAGES"), 19);
  EXPECT_EQ(enum_value("memcg_stat_item", "MEMCG_SWAP"), 43);
  EXPECT_EQ(enum_value("memcg_memory_event", "MEMCG_OOM_KILL"), 4);
  EXPECT_EQ(enum_value("psi_res", "PSI_MEM"), 1);
  EXPECT_EQ(enum_value("psi_states", "PSI_MEM_FULL"), 3);
  EXPECT_EQ(enum_value("cache_ext_iterate_mode", "CACHE_EXT_ITERATE_TAIL"), 2);
  EXPECT_EQ(enum_value("cache_ext_iterate_list", "CACHE_EXT_ITERATE_SELF"), 0);
  // The C++ side sees the same constants.
  static_assert(PG_lru == 5 && NR_FILE_PAGES == 19 && CACHE_EXT_ITERATE_TAIL == 2);
}

// ---- The layout check (tools/btf_layout_gen) ----

class scratch_dir {
 public:
  scratch_dir() {
    std::string t = ::testing::TempDir() + "vmlinux_btf_test.XXXXXX";
    path_ = mkdtemp(t.data()) ? t : "";
  }
  ~scratch_dir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& f) const { return path_ + "/" + f; }
  bool ok() const { return !path_.empty(); }

 private:
  std::string path_;
};

void write_file(const std::string& path, const void* data, size_t n) {
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Runs the generator on `btf_file`; returns its exit status.
int generate(const std::string& btf_file, const std::string& out) {
  const std::string header = std::string(MMBPF_SOURCE_DIR) + "/bpf/include/vmlinux.h";
  return std::system(
      ("'" MMBPF_BTF_LAYOUT_GEN "' '" + btf_file + "' '" + header + "' '" + out + "' 2>/dev/null")
          .c_str());
}

TEST(VmlinuxBtfLayout, GeneratorStatesEveryStructOfTheEmbeddedBtf) {
  scratch_dir d;
  ASSERT_TRUE(d.ok());
  const std::span<const uint8_t> raw = vmlinux_btf_raw();
  write_file(d / "vmlinux.btf", raw.data(), raw.size());
  ASSERT_EQ(generate(d / "vmlinux.btf", d / "layout.cpp"), 0);
  const std::string text = read_file(d / "layout.cpp");
  EXPECT_THAT(text, HasSubstr("static_assert(sizeof(struct folio) == 64, "));
  EXPECT_THAT(text, HasSubstr("static_assert(offsetof(struct folio, memcg_data) == 56, "
                              "\"vmlinux.h: struct folio member memcg_data: offset 56 in BTF\");"));
  EXPECT_THAT(text, HasSubstr("static_assert(sizeof(static_cast<struct cache_ext_eviction_ctx*>("
                              "nullptr)->folios_to_evict) == 256, "));
  EXPECT_THAT(text, HasSubstr("static_assert(sizeof(atomic_t) == 4, "));  // typedef'd anonymous
  EXPECT_THAT(text, HasSubstr("static_assert(sizeof(enum pageflags) == 4, "));
  // Members of anonymous unions are checked as members of the named struct, as C++ names them.
  EXPECT_THAT(text, HasSubstr("offsetof(struct mem_cgroup, memsw) == "));
  EXPECT_EQ(generate(d / "missing.btf", d / "x.cpp"), 1 << 8);  // exit status 1
}

// A BTF whose struct cache_ext_admission_ctx swapped two members: the check must not compile.
TEST(VmlinuxBtfLayout, WrongLayoutFailsToCompile) {
  struct btf* b = btf__new_empty();
  ASSERT_NE(b, nullptr);
  const int ull = btf__add_int(b, "unsigned long long", 8, 0);
  const int u64_t = btf__add_typedef(b, "u64", ull);
  ASSERT_GT(btf__add_struct(b, "cache_ext_admission_ctx", 24), 0);
  ASSERT_EQ(btf__add_field(b, "ino", u64_t, 0, 0), 0);
  ASSERT_EQ(btf__add_field(b, "offset", u64_t, 128, 0), 0);  // really at 64
  ASSERT_EQ(btf__add_field(b, "size", u64_t, 64, 0), 0);     // really at 128
  uint32_t n = 0;
  const void* raw = btf__raw_data(b, &n);
  scratch_dir d;
  ASSERT_TRUE(d.ok());
  write_file(d / "wrong.btf", raw, n);
  btf__free(b);

  ASSERT_EQ(generate(d / "wrong.btf", d / "wrong.cpp"), 0);
  EXPECT_THAT(read_file(d / "wrong.cpp"),
              HasSubstr("static_assert(offsetof(struct cache_ext_admission_ctx, offset) == 16, "));
  const std::string cc = std::string("'" MMBPF_CXX_COMPILER "' -std=c++20 -fsyntax-only '") +
                         (d / "wrong.cpp") + "' > '" + (d / "cc.log") + "' 2>&1";
  EXPECT_NE(std::system(cc.c_str()), 0);
  const std::string log = read_file(d / "cc.log");
  EXPECT_THAT(log, HasSubstr("struct cache_ext_admission_ctx member offset: offset 16 in BTF"));
  EXPECT_THAT(log, HasSubstr("struct cache_ext_admission_ctx member size: offset 8 in BTF"));
  EXPECT_THAT(log, Not(HasSubstr("member ino")));
}

// Members C++ cannot name are listed as not checked rather than breaking the generated file.
TEST(VmlinuxBtfLayout, GeneratorSkipsWhatCxxCannotName) {
  struct btf* b = btf__new_empty();
  ASSERT_NE(b, nullptr);
  const int ul = btf__add_int(b, "unsigned long", 8, 0);
  ASSERT_GT(btf__add_struct(b, "kw_page", 16), 0);
  ASSERT_EQ(btf__add_field(b, "private", ul, 0, 0), 0);
  ASSERT_EQ(btf__add_field(b, "bits", ul, 64, 3), 0);
  uint32_t n = 0;
  const void* raw = btf__raw_data(b, &n);
  scratch_dir d;
  ASSERT_TRUE(d.ok());
  write_file(d / "kw.btf", raw, n);
  btf__free(b);
  ASSERT_EQ(generate(d / "kw.btf", d / "kw.cpp"), 0);
  const std::string text = read_file(d / "kw.cpp");
  EXPECT_THAT(text, HasSubstr("// struct kw_page::private: a C++ keyword, not checked\n"));
  EXPECT_THAT(text, HasSubstr("// struct kw_page::bits: bitfield, not checked\n"));
  EXPECT_THAT(text, HasSubstr("static_assert(sizeof(struct kw_page) == 16, "));
}

}  // namespace
}  // namespace mmbpf::bpf
