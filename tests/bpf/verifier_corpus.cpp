// The verifier corpus: parsing, and the two verifiers it is run through (see verifier_corpus.h).
#include "verifier_corpus.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "bpf/assembler.h"
#include "bpf/prog.h"
#include "bpf/runtime.h"
#include "bpf/verifier/verifier.h"

namespace mmbpf::bpf::corpus {
namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

map_spec parse_map(const std::string& spec, const std::string& where) {
  std::istringstream in(spec);
  std::string type;
  in >> type;
  map_spec m;
  static const std::pair<const char*, uint32_t> types[] = {
      {"array", BPF_MAP_TYPE_ARRAY},       {"hash", BPF_MAP_TYPE_HASH},
      {"lru_hash", BPF_MAP_TYPE_LRU_HASH}, {"percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY},
      {"percpu_hash", BPF_MAP_TYPE_PERCPU_HASH}, {"ringbuf", BPF_MAP_TYPE_RINGBUF}};
  const auto* t = std::find_if(std::begin(types), std::end(types),
                               [&](const auto& p) { return type == p.first; });
  if (t == std::end(types)) throw std::runtime_error(where + ": unknown map type '" + type + "'");
  m.type = t->second;
  std::string kv;
  while (in >> kv) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) throw std::runtime_error(where + ": expected key=value, got '" + kv + "'");
    const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "flags" && v == "rdonly_prog") {
      m.flags |= BPF_F_RDONLY_PROG;
      continue;
    }
    const uint32_t n = static_cast<uint32_t>(std::stoul(v, nullptr, 0));
    if (k == "key") m.key = n;
    else if (k == "value") m.value = n;
    else if (k == "max") m.max = n;
    else throw std::runtime_error(where + ": unknown map attribute '" + k + "'");
  }
  return m;
}

// The program with map_fd[N] / map_value[N] replaced by fds[N].
bool patch_maps(std::vector<insn>& insns, const std::vector<int>& fds, std::string& err) {
  for (size_t i = 0; i < insns.size(); ++i) {
    insn& in = insns[i];
    if (!is_ld_imm64(in)) continue;
    if (in.src_reg == BPF_PSEUDO_MAP_FD || in.src_reg == BPF_PSEUDO_MAP_VALUE) {
      if (in.imm < 0 || static_cast<size_t>(in.imm) >= fds.size()) {
        err = fmt::format("insn {}: map {} is not declared", i, in.imm);
        return false;
      }
      in.imm = fds[in.imm];
    }
    ++i;
  }
  return true;
}

// The BTF func_info the kernel wants for a program that takes a subprogram's address (a
// callback): every subprogram as a static "int f(void)", in one BTF loaded into the kernel.
// Returns the BTF's fd (or -1, and nothing to do, when the program has no callback).
struct func_info_btf {
  struct btf* btf = nullptr;
  std::vector<bpf_func_info> info;
  ~func_info_btf() { btf__free(btf); }
};

int make_func_info(const std::vector<insn>& insns, func_info_btf& out, std::string& err) {
  std::vector<uint32_t> starts{0};
  bool has_callback = false;
  for (size_t i = 0; i < insns.size(); ++i) {
    const insn& x = insns[i];
    const bool pseudo_func = is_ld_imm64(x) && x.src_reg == BPF_PSEUDO_FUNC;
    if (pseudo_func || (is_call(x) && x.src_reg == BPF_PSEUDO_CALL))
      starts.push_back(static_cast<uint32_t>(static_cast<int64_t>(i) + x.imm + 1));
    has_callback |= pseudo_func;
    if (is_ld_imm64(x)) ++i;
  }
  if (!has_callback) return -1;
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  out.btf = btf__new_empty();
  const int int_id = btf__add_int(out.btf, "int", 4, BTF_INT_SIGNED);
  const int proto = btf__add_func_proto(out.btf, int_id);
  for (size_t k = 0; k < starts.size(); ++k) {
    const int fid = btf__add_func(out.btf, fmt::format("f{}", k).c_str(), BTF_FUNC_STATIC, proto);
    out.info.push_back({starts[k], static_cast<uint32_t>(fid)});
  }
  if (btf__load_into_kernel(out.btf)) {
    err = std::string("BTF load: ") + std::strerror(errno);
    return -1;
  }
  return btf__fd(out.btf);
}

}  // namespace

std::vector<corpus_case> load_corpus(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".s") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<corpus_case> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    int ln = 0;
    corpus_case* c = nullptr;
    bool in_header = false;
    const auto finish = [&] {
      if (c && c->expect_accept == false && c->phrase.empty())
        throw std::runtime_error(fmt::format("{}:{}: case '{}' has no '# expect:'", f.string(), c->line, c->name));
    };
    while (std::getline(in, line)) {
      ++ln;
      const std::string where = fmt::format("{}:{}", f.string(), ln);
      const std::string t = trim(line);
      if (t.rfind("# case:", 0) == 0) {
        finish();
        out.push_back({});
        c = &out.back();
        c->file = f.filename().string();
        c->name = f.stem().string() + "." + trim(t.substr(7));
        c->line = ln;
        in_header = true;
        continue;
      }
      if (!c) {
        if (!t.empty() && t[0] != '#') throw std::runtime_error(where + ": code before the first '# case:'");
        continue;
      }
      if (in_header && t.rfind("#", 0) == 0) {
        const std::string h = trim(t.substr(1));
        if (h.rfind("map:", 0) == 0) c->maps.push_back(parse_map(trim(h.substr(4)), where));
        else if (h == "prog: socket_filter") c->sleepable = false;
        else if (h == "expect: accept") c->expect_accept = true;
        else if (h.rfind("expect: reject ", 0) == 0) c->phrase = trim(h.substr(15));
        else if (h.rfind("differs:", 0) == 0) c->differs = trim(h.substr(8));
        else if (!h.empty()) c->text += line + "\n";  // a comment about the case
        continue;
      }
      in_header = false;
      c->text += line + "\n";
    }
    finish();
  }
  for (size_t i = 0; i < out.size(); ++i)
    for (size_t j = i + 1; j < out.size(); ++j)
      if (out[i].name == out[j].name)
        throw std::runtime_error(fmt::format("{}:{}: duplicate case '{}'", out[j].file, out[j].line, out[j].name));
  return out;
}

verdict mmbpf_verdict(const corpus_case& c) {
  runtime rt;
  std::vector<int> fds;
  for (const map_spec& m : c.maps) {
    map_attr a;
    a.map_type = m.type;
    a.key_size = m.key;
    a.value_size = m.value;
    a.max_entries = m.max;
    a.map_flags = m.flags;
    a.name = "m";
    auto fd = rt.create_map(a);
    if (!fd.ok()) return {false, "map: " + fd.err().msg, ""};
    fds.push_back(*fd);
  }
  asm_opts ao;
  ao.kfunc_id = [&rt](std::string_view n) -> int32_t {
    const kfunc_desc* k = rt.kfuncs().by_name(n);
    return k ? static_cast<int32_t>(k->btf_id) : -1;
  };
  auto insns = assemble(c.text, ao);
  if (!insns.ok()) return {false, "asm: " + insns.err().msg, "asm: " + insns.err().msg};
  std::string err;
  if (!patch_maps(*insns, fds, err)) return {false, err, err};
  auto p = bpf_prog::load(rt, *insns);
  if (!p.ok()) return {false, p.err().msg, p.err().msg};  // the load refused it
  verifier::verify_opts o;
  o.ctx.k = verifier::prog_context::kind::syscall;
  o.ctx.sleepable = c.sleepable;
  o.log_level = 1;
  const verifier::verify_result r = verifier::verify(**p, o);
  return {r.ok, r.error, r.log};
}

std::string kernel_unavailable() {
  static const std::string why = [] () -> std::string {
    if (geteuid() != 0) return "not root: the kernel's verifier needs CAP_BPF";
    const bpf_insn prog[] = {{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0}, {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
    LIBBPF_OPTS(bpf_prog_load_opts, po, .prog_flags = BPF_F_SLEEPABLE);
    const int fd = bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "probe", "GPL", prog, 2, &po);
    if (fd < 0) return std::string("bpf(BPF_PROG_LOAD) of a syscall program fails: ") + std::strerror(errno);
    close(fd);
    if (!btf__load_vmlinux_btf()) return "no vmlinux BTF (/sys/kernel/btf/vmlinux)";
    return "";
  }();
  return why;
}

verdict kernel_verdict(const corpus_case& c) {
  static struct btf* vmlinux = btf__load_vmlinux_btf();
  std::vector<int> fds;
  const auto close_all = [&] {
    for (int fd : fds) close(fd);
  };
  for (const map_spec& m : c.maps) {
    LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = m.flags);
    const int fd = bpf_map_create(static_cast<bpf_map_type>(m.type), "m", m.key, m.value, m.max, &mo);
    if (fd < 0) {
      close_all();
      return {false, std::string("map: ") + std::strerror(errno), ""};
    }
    fds.push_back(fd);
  }
  asm_opts ao;
  ao.kfunc_id = [](std::string_view n) -> int32_t {
    return vmlinux ? btf__find_by_name_kind(vmlinux, std::string(n).c_str(), BTF_KIND_FUNC) : -1;
  };
  auto insns = assemble(c.text, ao);
  std::string err;
  if (!insns.ok() || !patch_maps(*insns, fds, err)) {
    close_all();
    return {false, insns.ok() ? err : "asm: " + insns.err().msg, ""};
  }
  func_info_btf fi;
  const int btf_fd = make_func_info(*insns, fi, err);
  if (!err.empty()) {
    close_all();
    return {false, err, ""};
  }
  std::string log(1 << 20, '\0');
  LIBBPF_OPTS(bpf_prog_load_opts, po, .prog_flags = c.sleepable ? BPF_F_SLEEPABLE : 0u,
              .log_level = 1, .log_size = static_cast<uint32_t>(log.size()), .log_buf = log.data());
  if (btf_fd >= 0) {
    po.prog_btf_fd = static_cast<uint32_t>(btf_fd);
    po.func_info = fi.info.data();
    po.func_info_cnt = static_cast<uint32_t>(fi.info.size());
    po.func_info_rec_size = sizeof(bpf_func_info);
  }
  const int fd = bpf_prog_load(c.sleepable ? BPF_PROG_TYPE_SYSCALL : BPF_PROG_TYPE_SOCKET_FILTER,
                               "corpus", "GPL", insns->data(), insns->size(), &po);
  const int load_errno = errno;
  close_all();
  log.resize(std::strlen(log.c_str()));
  if (fd >= 0) {
    close(fd);
    return {true, "", log};
  }
  // The error is the last line before "processed N insns ..." (or the last line).
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  std::string error = fmt::format("bpf(BPF_PROG_LOAD): {}", std::strerror(load_errno));
  for (size_t i = lines.size(); i-- > 0;)
    if (lines[i].rfind("processed ", 0) != 0 && lines[i].rfind("verification time", 0) != 0 &&
        lines[i].rfind("stack depth", 0) != 0) {
      error = lines[i];
      break;
    }
  return {false, error, log};
}

}  // namespace mmbpf::bpf::corpus
