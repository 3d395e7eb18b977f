// `mmbpf prog`: BPF objects on the command line, in bpftool's manner.
//   prog list OBJ                      programs, maps and struct_ops instances of an object
//   prog show OBJ PROG                 one program: section, size, BTF prototype, kfuncs, binding
//   prog dump OBJ PROG                 its instructions with source lines (bpftool's "xlated linum")
//   prog run OBJ PROG [--ctx HEX] [--repeat N] [--json]
//                                      test-run it (BPF_PROG_TEST_RUN): retval and duration
// Programs run in the checked interpreter: until the verifier exists, a bad program gets a
// precise error rather than undefined behaviour.
#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "bpf/btf_print.h"
#include "bpf/disasm.h"
#include "bpf/interpreter.h"
#include "bpf/object.h"
#include "bpf/runtime.h"
#include "cli/commands.h"
#include "cli/hex.h"

namespace mmbpf::cli {
namespace {

struct prog_opts {
  std::string obj, prog, ctx_hex;
  uint64_t repeat = 1;
  bool json = false;
};

std::string_view ltrim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

int fail(const std::string& msg) {
  fmt::print(stderr, "mmbpf prog: {}\n", msg);
  return 1;
}

const char* map_type_name(uint32_t t) {
  switch (t) {
    case BPF_MAP_TYPE_ARRAY: return "array";
    case BPF_MAP_TYPE_PERCPU_ARRAY: return "percpu_array";
    case BPF_MAP_TYPE_HASH: return "hash";
    case BPF_MAP_TYPE_PERCPU_HASH: return "percpu_hash";
    case BPF_MAP_TYPE_LRU_HASH: return "lru_hash";
    case BPF_MAP_TYPE_LRU_PERCPU_HASH: return "lru_percpu_hash";
    case BPF_MAP_TYPE_RINGBUF: return "ringbuf";
    default: return "unknown";
  }
}

// Opens OBJ and loads it into rt; on failure prints the error.
std::unique_ptr<bpf::bpf_object> open_loaded(const std::string& path, bpf::runtime& rt,
                                             bool load, int* rc) {
  auto o = bpf::bpf_object::open_file(path);
  if (!o) {
    *rc = fail(o.err().msg);
    return nullptr;
  }
  if (load) {
    if (auto r = (*o)->load(rt); !r) {
      *rc = fail(r.err().msg);
      return nullptr;
    }
  }
  return std::move(o.value());
}

// An object loaded into its own runtime, and the program the command names.
struct loaded {
  bpf::runtime rt;
  std::unique_ptr<bpf::bpf_object> obj;
  bpf::obj_prog* prog = nullptr;
};

// Loads a.obj and finds a.prog; on failure prints the error and sets *rc.
std::unique_ptr<loaded> load_prog(const prog_opts& a, int* rc) {
  auto l = std::make_unique<loaded>();
  l->obj = open_loaded(a.obj, l->rt, true, rc);
  if (!l->obj) return nullptr;
  l->prog = l->obj->find_program(a.prog);
  if (!l->prog) {
    *rc = fail(fmt::format("{}: no program '{}'", l->obj->name(), a.prog));
    return nullptr;
  }
  return l;
}

int run_list(const prog_opts& a) {
  bpf::runtime rt;
  int rc = 0;
  auto o = open_loaded(a.obj, rt, false, &rc);
  if (!o) return rc;
  for (const auto& p : o->programs())
    fmt::print("prog {}  sec {}{}\n", p.name, p.sec_name, p.sleepable ? "  sleepable" : "");
  for (const auto& m : o->maps())
    fmt::print("map {}  {}  key {}B  value {}B  max_entries {}  flags 0x{:x}\n", m.name,
               map_type_name(m.attr.map_type), m.attr.key_size, m.attr.value_size,
               m.attr.max_entries, m.attr.map_flags);
  for (const auto& s : o->struct_ops()) {
    fmt::print("struct_ops {}  {}{}\n", s.name, s.type_name, s.link ? "  link" : "");
    for (const auto& mp : s.progs) fmt::print("  .{} = {}\n", mp.member, mp.prog);
  }
  return 0;
}

int run_show(const prog_opts& a) {
  int rc = 0;
  auto l = load_prog(a, &rc);
  if (!l) return rc;
  const bpf::bpf_object* o = l->obj.get();
  const bpf::obj_prog* p = l->prog;
  fmt::print("name {}\nsection {}\ninsns {}\n", p->name, p->sec_name, p->insns.size());
  if (p->func_btf_id) fmt::print("btf {}\n", bpf::btf_decl(o->btf(), p->func_btf_id));
  if (!p->kfuncs.empty()) fmt::print("kfuncs {}\n", fmt::join(p->kfuncs, " "));
  if (!p->ops_member.empty())
    fmt::print("struct_ops {}.{} ({} args){}\n", p->ops_type, p->ops_member, p->ops_nargs,
               p->sleepable ? " sleepable" : "");
  return 0;
}

int run_dump(const prog_opts& a) {
  int rc = 0;
  auto l = load_prog(a, &rc);
  if (!l) return rc;
  const bpf::bpf_object* o = l->obj.get();
  const bpf::obj_prog* p = l->prog;
  if (p->func_btf_id) fmt::print("{}:\n", bpf::btf_decl(o->btf(), p->func_btf_id));
  size_t li = 0;
  for (size_t pc = 0; pc < p->insns.size(); pc += bpf::insn_slots(p->insns[pc])) {
    for (; li < p->lines.size() && p->lines[li].insn <= pc; ++li) {
      const auto& l = p->lines[li];
      if (l.insn == pc)
        fmt::print("; {} [file:{} line_num:{} line_col:{}]\n", ltrim(l.src), l.file, l.line, l.col);
    }
    fmt::print("{:4}: {}\n", pc, bpf::disasm_insn(p->insns.data(), p->insns.size(), pc));
  }
  return 0;
}

int run_run(const prog_opts& a) {
  auto ctx = parse_hex_bytes(a.ctx_hex);
  if (!ctx) return fail("--ctx: " + ctx.err().msg);
  if (a.repeat == 0) return fail("--repeat: must be at least 1");
  int rc = 0;
  auto l = load_prog(a, &rc);
  if (!l) return rc;
  const bpf::obj_prog* p = l->prog;
  const bpf::interpreter vm(/*checked=*/true);
  std::vector<uint8_t> buf;
  result<uint64_t> r = uint64_t{0};
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < a.repeat && r; ++i) {
    buf = *ctx;  // each run sees the context as given
    r = vm.run_mem(*p->prog, buf.empty() ? nullptr : buf.data(), buf.size());
  }
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now() - t0).count() / static_cast<int64_t>(a.repeat);
  if (!r) return fail(r.err().msg);
  const auto retval = static_cast<uint32_t>(*r);  // BPF_PROG_TEST_RUN reports a u32
  if (a.json) {
    fmt::print("{}\n", nlohmann::json{{"retval", retval}, {"duration_ns", ns}}.dump());
  } else {
    fmt::print("retval: {}\nduration: {} ns\n", retval, ns);
  }
  return 0;
}

}  // namespace

void add_prog_command(CLI::App& app, int* rc) {
  auto o = std::make_shared<prog_opts>();
  CLI::App* prog = app.add_subcommand("prog", "Inspect and test-run programs of a BPF object");
  prog->require_subcommand(1);
  auto obj_arg = [&](CLI::App* c) {
    c->add_option("OBJ", o->obj, "BPF object file (.bpf.o)")->required()->check(CLI::ExistingFile);
  };
  CLI::App* list = prog->add_subcommand("list", "Programs, maps and struct_ops instances");
  obj_arg(list);
  list->callback([o, rc] { *rc = run_list(*o); });
  CLI::App* show = prog->add_subcommand("show", "One program: section, size, prototype, kfuncs");
  obj_arg(show);
  show->add_option("PROG", o->prog, "Program name")->required();
  show->callback([o, rc] { *rc = run_show(*o); });
  CLI::App* dump = prog->add_subcommand("dump", "Disassembly with source lines");
  obj_arg(dump);
  dump->add_option("PROG", o->prog, "Program name")->required();
  dump->callback([o, rc] { *rc = run_dump(*o); });
  CLI::App* run = prog->add_subcommand("run", "Test-run a program (as bpftool prog run)");
  obj_arg(run);
  run->add_option("PROG", o->prog, "Program name")->required();
  run->add_option("--ctx", o->ctx_hex, "Context as hex bytes (\"01 02 ..\")");
  run->add_option("--repeat", o->repeat, "Runs; the duration is their mean")->capture_default_str();
  run->add_flag("--json", o->json, "One JSON object: retval, duration_ns");
  run->callback([o, rc] { *rc = run_run(*o); });
}

}  // namespace mmbpf::cli
