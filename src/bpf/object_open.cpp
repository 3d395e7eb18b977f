// bpf_object open: reading an ELF object with libelf into sections, symbols, relocations,
// programs, maps, global data and struct_ops instances (see object.h). Nothing is created in a
// runtime here; malformed input is an error naming the section, symbol or offset.
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "bpf/object.h"
#include "bpf/object_elf.h"

namespace mmbpf::bpf {
namespace {

constexpr size_t obj_name_len = 16;  // BPF_OBJ_NAME_LEN

struct elf_closer {
  void operator()(Elf* e) const { elf_end(e); }
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool is_data_section(const elf_section& s) {
  if (s.exec() || s.data.empty()) return false;
  if (s.type != SHT_PROGBITS && s.type != SHT_NOBITS) return false;
  return s.name == ".data" || s.name == ".rodata" || s.name == ".bss" ||
         starts_with(s.name, ".data.") || starts_with(s.name, ".rodata.") ||
         starts_with(s.name, ".bss.");
}

// libbpf's internal map name: up to 8 characters of the object's name, then the section name,
// within BPF_OBJ_NAME_LEN - 1; sections like .rodata.str1.1 keep their own name alone.
std::string data_map_name(const std::string& obj, const std::string& sec) {
  const bool custom = sec.find('.', 1) != std::string::npos;
  std::string pfx = custom ? "" : obj.substr(0, obj.find('.')).substr(0, 8);
  std::string n = pfx + sec;
  n.resize(std::min(n.size(), obj_name_len - 1));
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') c = '_';
  return n;
}

}  // namespace

bpf_object::~bpf_object() = default;

result<std::unique_ptr<bpf_object>> bpf_object::open_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return error{fmt::format("{}: cannot open", path.string())};
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return open_mem(bytes, path.filename().string());
}

result<std::unique_ptr<bpf_object>> bpf_object::open_mem(std::span<const uint8_t> bytes,
                                                         std::string name) {
  auto fail = [&](std::string msg) { return error{fmt::format("{}: {}", name, msg)}; };
  if (elf_version(EV_CURRENT) == EV_NONE) return fail("libelf is unusable");
  std::vector<uint8_t> buf(bytes.begin(), bytes.end());  // libelf wants a mutable image
  std::unique_ptr<Elf, elf_closer> elf(
      elf_memory(reinterpret_cast<char*>(buf.data()), buf.size()));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return fail("not an ELF file");
  GElf_Ehdr eh;
  if (!gelf_getehdr(elf.get(), &eh)) return fail(fmt::format("bad ELF header ({})", elf_errmsg(-1)));
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return fail("not a 64-bit little-endian ELF file");
  if (eh.e_machine != EM_BPF) return fail(fmt::format("ELF machine {} is not BPF (247)", eh.e_machine));
  if (eh.e_type != ET_REL) return fail("not a relocatable object (ET_REL)");

  auto obj = std::unique_ptr<bpf_object>(new bpf_object());
  obj->name_ = name;
  obj->elf_ = std::make_unique<elf_state>();
  elf_state& st = *obj->elf_;

  size_t shstrndx, nsec;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) || elf_getshdrnum(elf.get(), &nsec))
    return fail(fmt::format("bad section header table ({})", elf_errmsg(-1)));
  st.secs.resize(nsec);
  size_t symtab = 0;
  for (size_t i = 1; i < nsec; ++i) {
    Elf_Scn* scn = elf_getscn(elf.get(), i);
    GElf_Shdr sh;
    if (!scn || !gelf_getshdr(scn, &sh))
      return fail(fmt::format("section {}: bad header ({})", i, elf_errmsg(-1)));
    elf_section& s = st.secs[i];
    const char* sn = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    if (!sn) return fail(fmt::format("section {}: bad name offset {}", i, sh.sh_name));
    s.name = sn;
    s.type = sh.sh_type;
    s.flags = sh.sh_flags;
    if (sh.sh_type == SHT_NOBITS) {
      if (sh.sh_size > (1u << 30)) return fail(fmt::format("section {} '{}': {} bytes is too large", i, s.name, sh.sh_size));
      s.data.assign(sh.sh_size, 0);
    } else if (sh.sh_type != SHT_NULL) {
      Elf_Data* d = elf_getdata(scn, nullptr);
      if (!d && sh.sh_size)
        return fail(fmt::format("section {} '{}': cannot read data ({})", i, s.name, elf_errmsg(-1)));
      if (d && d->d_size) {
        if (!d->d_buf) return fail(fmt::format("section {} '{}': no data", i, s.name));
        const auto* p = static_cast<const uint8_t*>(d->d_buf);
        s.data.assign(p, p + d->d_size);
      }
    }
    if (sh.sh_type == SHT_SYMTAB) {
      if (symtab) return fail("more than one symbol table");
      symtab = i;
      if (sh.sh_link >= nsec) return fail(fmt::format("section {} '{}': bad string table index {}", i, s.name, sh.sh_link));
      Elf_Data* d = elf_getdata(scn, nullptr);
      const size_t n = d && sh.sh_entsize ? d->d_size / sh.sh_entsize : 0;
      for (size_t k = 0; k < n; ++k) {
        GElf_Sym sym;
        if (!gelf_getsym(d, static_cast<int>(k), &sym))
          return fail(fmt::format("symbol {}: unreadable", k));
        const char* nm = elf_strptr(elf.get(), sh.sh_link, sym.st_name);
        if (!nm) return fail(fmt::format("symbol {}: bad name offset {}", k, sym.st_name));
        st.syms.push_back({nm, sym.st_value, sym.st_size, sym.st_shndx,
                           static_cast<uint8_t>(GELF_ST_BIND(sym.st_info)),
                           static_cast<uint8_t>(GELF_ST_TYPE(sym.st_info))});
      }
    }
  }
  if (!symtab) return fail("no symbol table (.symtab)");
  for (size_t k = 0; k < st.syms.size(); ++k) {
    const elf_symbol& s = st.syms[k];
    if (s.shndx != SHN_UNDEF && s.shndx < SHN_LORESERVE && s.shndx >= nsec)
      return fail(fmt::format("symbol '{}': bad section index {}", s.name, s.shndx));
    // Variables lie inside their section (set_global and relocations index by them).
    if (s.type == STT_OBJECT && s.shndx != SHN_UNDEF && s.shndx < nsec) {
      const size_t n = st.secs[s.shndx].data.size();
      if (s.value > n || s.size > n - s.value)
        return fail(fmt::format("symbol '{}': [{}, +{}) lies outside section '{}' of {} bytes",
                                s.name, s.value, s.size, st.secs[s.shndx].name, n));
    }
  }

  // Relocations, by the section they apply to.
  for (size_t i = 1; i < nsec; ++i) {
    Elf_Scn* scn = elf_getscn(elf.get(), i);
    GElf_Shdr sh;
    gelf_getshdr(scn, &sh);
    if (sh.sh_type == SHT_RELA) return fail(fmt::format("section {} '{}': RELA relocations are not used by BPF", i, st.secs[i].name));
    if (sh.sh_type != SHT_REL) continue;
    if (sh.sh_info == 0 || sh.sh_info >= nsec)
      return fail(fmt::format("section {} '{}': relocates bad section index {}", i, st.secs[i].name, sh.sh_info));
    const elf_section& target = st.secs[sh.sh_info];
    // Debug info and BTF carry relocations the loader does not need.
    if (starts_with(target.name, ".debug") || target.name == ".BTF" || target.name == ".BTF.ext") continue;
    Elf_Data* d = elf_getdata(scn, nullptr);
    const size_t n = d && sh.sh_entsize ? d->d_size / sh.sh_entsize : 0;
    auto& out = st.relocs[sh.sh_info];
    for (size_t k = 0; k < n; ++k) {
      GElf_Rel r;
      if (!gelf_getrel(d, static_cast<int>(k), &r)) return fail(fmt::format("section '{}': relocation {} unreadable", st.secs[i].name, k));
      const uint32_t sym = static_cast<uint32_t>(GELF_R_SYM(r.r_info));
      if (sym >= st.syms.size())
        return fail(fmt::format("section '{}': relocation {} at offset {} names missing symbol {}", st.secs[i].name, k, r.r_offset, sym));
      if (r.r_offset >= target.data.size())
        return fail(fmt::format("section '{}': relocation {} at offset {} is outside '{}' ({} bytes)", st.secs[i].name, k, r.r_offset, target.name, target.data.size()));
      out.push_back({r.r_offset, sym, static_cast<uint32_t>(GELF_R_TYPE(r.r_info))});
    }
  }
  elf.reset();

  // License, BTF, BTF.ext.
  const elf_section* btf_sec = nullptr;
  const elf_section* ext_sec = nullptr;
  for (const elf_section& s : st.secs) {
    if (s.name == "license") obj->license_.assign(s.data.begin(), std::find(s.data.begin(), s.data.end(), 0));
    if (s.name == ".BTF") btf_sec = &s;
    if (s.name == ".BTF.ext") ext_sec = &s;
  }
  if (btf_sec) {
    auto b = btf_handle::parse(btf_sec->data, name + ": .BTF");
    if (!b) return b.err();
    obj->btf_ = std::move(b.value());
    if (ext_sec) {
      auto e = parse_btf_ext(ext_sec->data, obj->btf_);
      if (!e) return fail(e.err().msg);
      st.ext = std::move(e.value());
    }
  }

  // Functions of each executable section; those outside .text are programs.
  for (size_t k = 0; k < st.syms.size(); ++k) {
    const elf_symbol& s = st.syms[k];
    if (s.type != STT_FUNC || s.shndx == SHN_UNDEF || s.shndx >= nsec) continue;
    const elf_section& sec = st.secs[s.shndx];
    if (!sec.exec()) return fail(fmt::format("function '{}' is in non-executable section '{}'", s.name, sec.name));
    if (s.value % sizeof(insn) || s.size % sizeof(insn) || s.size == 0 || s.value > sec.data.size() || s.size > sec.data.size() - s.value)
      return fail(fmt::format("function '{}': bad bounds [{}, +{}) in section '{}' of {} bytes", s.name, s.value, s.size, sec.name, sec.data.size()));
    st.funcs[s.shndx].push_back({static_cast<uint32_t>(k), static_cast<uint32_t>(s.value / 8),
                                 static_cast<uint32_t>((s.value + s.size) / 8)});
  }
  for (auto& [idx, fs] : st.funcs) {
    std::sort(fs.begin(), fs.end(), [](const elf_func& a, const elf_func& b) { return a.start < b.start; });
    const elf_section& sec = st.secs[idx];
    if (sec.data.size() % sizeof(insn)) return fail(fmt::format("section '{}': {} bytes is not a whole number of instructions", sec.name, sec.data.size()));
    if (sec.name == ".text") continue;
    for (const elf_func& f : fs) {
      obj_prog p;
      p.name = st.syms[f.sym].name;
      p.sec_name = sec.name;
      p.struct_ops = starts_with(sec.name, "struct_ops/") || starts_with(sec.name, "struct_ops.s/");
      p.sleepable = starts_with(sec.name, "struct_ops.s/") || sec.name == "syscall" ||
                    sec.name.find(".s/") != std::string::npos;
      if (auto it = st.ext.func_info.find(sec.name); it != st.ext.func_info.end())
        for (const func_info_rec& r : it->second)
          if (r.insn_off / 8 == f.start) p.func_btf_id = r.type_id;
      obj->progs_.push_back(std::move(p));
    }
  }
  for (size_t i = 1; i < nsec; ++i) {
    const elf_section& s = st.secs[i];
    if (s.exec() && !s.data.empty() && !st.funcs.count(i))
      return fail(fmt::format("section '{}' has code but no function symbol", s.name));
  }

  // BTF-defined maps (.maps) and struct_ops instances, from the DATASECs naming them.
  const btf_handle& btf = obj->btf_;
  for (size_t i = 1; i < nsec; ++i) {
    const elf_section& s = st.secs[i];
    const bool maps = s.name == ".maps";
    const bool ops = s.name == ".struct_ops" || s.name == ".struct_ops.link";
    if (!maps && !ops) continue;
    if (!btf) return fail(fmt::format("section '{}' needs BTF, and the object has none", s.name));
    const uint32_t ds = btf.find(s.name, BTF_KIND_DATASEC);
    if (!ds) return fail(fmt::format("section '{}': no BTF DATASEC describes it", s.name));
    const struct btf_type* dt = btf.type(ds);
    const struct btf_var_secinfo* vs = btf_var_secinfos(dt);
    for (uint16_t v = 0; v < btf_vlen(dt); ++v) {
      const struct btf_type* var = btf.type(vs[v].type);
      if (!var || !btf_is_var(var)) return fail(fmt::format("section '{}': DATASEC entry {} is not a variable", s.name, v));
      const std::string vname(btf.name(vs[v].type));
      const uint32_t tid = btf.skip_mods_and_typedefs(var->type);
      const struct btf_type* t = btf.type(tid);
      if (!t || !btf_is_struct(t)) return fail(fmt::format("{} '{}': not a struct", maps ? "map" : "struct_ops", vname));
      // 64-bit: a u32 offset plus a u32 size can wrap (found by fuzz_object).
      const uint64_t vend = uint64_t{vs[v].offset} + vs[v].size;
      if (vend > s.data.size()) return fail(fmt::format("{} '{}': outside section '{}'", maps ? "map" : "struct_ops", vname, s.name));
      if (ops) {
        obj_struct_ops o;
        o.name = vname;
        o.local_type = btf.name(tid);
        // libbpf's flavors: "bpf_oom_ops___v2" binds to the kernel's "bpf_oom_ops"
        o.type_name = o.local_type.substr(0, o.local_type.find("___"));
        o.link = s.name == ".struct_ops.link";
        o.data.assign(s.data.begin() + vs[v].offset, s.data.begin() + vend);
        // Function-pointer members are set by relocations against the programs.
        if (auto it = st.relocs.find(i); it != st.relocs.end())
          for (const elf_reloc& r : it->second) {
            if (r.offset < vs[v].offset || r.offset >= vend) continue;
            const elf_symbol& sym = st.syms[r.sym];
            if (r.type != R_BPF_64_ABS64 || sym.type != STT_FUNC)
              return fail(fmt::format("struct_ops '{}': relocation at offset {} is not a program pointer", vname, r.offset));
            const uint32_t moff = static_cast<uint32_t>(r.offset - vs[v].offset) * 8;
            std::string member;
            const struct btf_member* m = btf_members(t);
            for (uint16_t k = 0; k < btf_vlen(t); ++k)
              if (btf_member_bit_offset(t, k) == moff) member = btf.str(m[k].name_off);
            if (member.empty()) return fail(fmt::format("struct_ops '{}': no member at offset {}", vname, moff / 8));
            o.progs.push_back({member, sym.name});
          }
        obj->ops_.push_back(std::move(o));
        continue;
      }
      obj_map m;
      m.name = vname;
      m.sec_name = s.name;
      m.attr.name = vname.substr(0, obj_name_len - 1);
      const struct btf_member* mem = btf_members(t);
      for (uint16_t k = 0; k < btf_vlen(t); ++k) {
        const std::string mn(btf.str(mem[k].name_off));
        const struct btf_type* mt = btf.type(btf.skip_mods_and_typedefs(mem[k].type));
        if (!mt || !btf_is_ptr(mt)) return fail(fmt::format("map '{}': member '{}' is not a __uint/__type", vname, mn));
        const uint32_t pointee = btf.skip_mods_and_typedefs(mt->type);
        const struct btf_type* pt = btf.type(pointee);
        auto uint_val = [&]() -> result<uint32_t> {
          if (!pt || !btf_is_array(pt)) return fail(fmt::format("map '{}': '{}' is not a __uint()", vname, mn));
          return btf_array(pt)->nelems;
        };
        auto type_size = [&]() -> result<uint32_t> {
          auto sz = btf.size_of(pointee);
          if (!sz) return fail(fmt::format("map '{}': '{}' has no size", vname, mn));
          return *sz;
        };
        result<uint32_t> val = uint32_t{0};
        if (mn == "type") { if (!(val = uint_val())) return val.err(); m.attr.map_type = *val; }
        else if (mn == "max_entries") { if (!(val = uint_val())) return val.err(); m.attr.max_entries = *val; }
        else if (mn == "map_flags") { if (!(val = uint_val())) return val.err(); m.attr.map_flags = *val; }
        else if (mn == "key_size") { if (!(val = uint_val())) return val.err(); m.attr.key_size = *val; }
        else if (mn == "value_size") { if (!(val = uint_val())) return val.err(); m.attr.value_size = *val; }
        else if (mn == "key") { if (!(val = type_size())) return val.err(); m.attr.key_size = *val; m.key_type_id = pointee; }
        else if (mn == "value") { if (!(val = type_size())) return val.err(); m.attr.value_size = *val; m.value_type_id = pointee; }
        else if (mn == "numa_node" || mn == "pinning" || mn == "map_extra") { if (!(val = uint_val())) return val.err(); }
        else if (mn == "values") return fail(fmt::format("map '{}': map-in-map is not supported", vname));
        else return fail(fmt::format("map '{}': unknown attribute '{}'", vname, mn));
      }
      obj->maps_.push_back(std::move(m));
    }
  }

  // Global data: one single-element array map per section, contents as initial value.
  for (size_t i = 1; i < nsec; ++i) {
    const elf_section& s = st.secs[i];
    if (!is_data_section(s)) continue;
    obj_map m;
    m.name = data_map_name(name, s.name);
    m.sec_name = s.name;
    m.kind = starts_with(s.name, ".rodata") ? obj_map_kind::rodata
             : starts_with(s.name, ".bss")  ? obj_map_kind::bss
                                            : obj_map_kind::data;
    m.attr = {.map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
              .value_size = static_cast<uint32_t>(s.data.size()), .max_entries = 1,
              .map_flags = m.kind == obj_map_kind::rodata ? uint32_t{BPF_F_RDONLY_PROG} : 0u,
              .name = m.name};
    m.image = s.data;
    st.data_map[i] = obj->maps_.size();
    obj->maps_.push_back(std::move(m));
  }
  return obj;
}

result<void> bpf_object::set_global(std::string_view var, std::span<const uint8_t> value) {
  if (loaded_) return error{fmt::format("{}: global '{}' cannot be set after load", name_, var)};
  for (const elf_symbol& s : elf_->syms) {
    if (s.name != var || s.type != STT_OBJECT || !elf_->data_map.count(s.shndx)) continue;
    if (value.size() != s.size)
      return error{fmt::format("{}: global '{}' is {} bytes, not {}", name_, var, s.size, value.size())};
    obj_map& m = maps_[elf_->data_map.at(s.shndx)];
    std::copy(value.begin(), value.end(), m.image.begin() + s.value);
    return {};
  }
  return error{fmt::format("{}: no global variable '{}' in .data, .rodata or .bss", name_, var)};
}

result<const obj_struct_ops*> bpf_object::struct_ops_instance(std::string_view type,
                                                              std::string_view name) const {
  const obj_struct_ops* inst = nullptr;
  for (const auto& o : ops_) {
    if (o.type_name != type || (!name.empty() && o.name != name)) continue;
    if (inst) return error{fmt::format("the object has several {} instances; name one", type)};
    inst = &o;
  }
  if (!inst) return error{fmt::format("no such {} instance in the object", type)};
  return inst;
}

obj_prog* bpf_object::find_program(std::string_view n) {
  for (auto& p : progs_)
    if (p.name == n) return &p;
  return nullptr;
}

obj_map* bpf_object::find_map(std::string_view n) {
  for (auto& m : maps_)
    if (m.name == n) return &m;
  return nullptr;
}

}  // namespace mmbpf::bpf
