// CO-RE relocation; see core.h. Models libbpf's relo_core.c (spec parsing, candidate matching,
// value calculation, instruction patching) and the candidate search and per-type candidate cache
// of libbpf.c, with the same acceptance rules and results; errors are one line that names the
// relocation instead of libbpf's debug log.
//
// Simplified:
// - The candidate cache (candidates pruned as relocations rule them out) lives for one call, so
//   one section, where libbpf keeps it for the whole object; only targets holding several
//   flavors of one type with different layouts can tell.
// - Candidates come from one target BTF (the model's vmlinux); there are no module BTFs.
// - Whether a poisoned instruction makes the load fail is decided by a reachability walk that
//   only folds conditional jumps on constants known within one basic block (clang's pattern for
//   bpf_core_field_exists & co: `r1 = <0 or 1>; if w1 == 0 goto ...`). The kernel verifier does
//   full path-sensitive dead-code elimination; the project's verifier will subsume this walk.
#include "bpf/core.h"

#include <fmt/format.h>
#include <linux/bpf.h>
#include <linux/btf.h>

#include <array>
#include <climits>
#include <optional>
#include <unordered_map>
#include <vector>

namespace mmbpf::bpf {
namespace {

constexpr size_t spec_max_len = 64;  // BPF_CORE_SPEC_MAX_LEN
constexpr int max_depth = 32;        // libbpf's recursion bound for type comparisons
constexpr int max_mods = 64;         // modifier/typedef chain bound (malformed BTF can loop)

using btf_t = struct btf_type;

bool field_based(uint32_t k) {
  return k <= BPF_CORE_FIELD_RSHIFT_U64;
}
bool type_based(uint32_t k) {
  return (k >= BPF_CORE_TYPE_ID_LOCAL && k <= BPF_CORE_TYPE_SIZE) || k == BPF_CORE_TYPE_MATCHES;
}
bool enumval_based(uint32_t k) {
  return k == BPF_CORE_ENUMVAL_EXISTS || k == BPF_CORE_ENUMVAL_VALUE;
}

// Names of enum bpf_core_relo_kind values, for messages.
const char* kind_name(uint32_t k) {
  static constexpr const char* names[] = {
      "field_byte_offset", "field_byte_size", "field_exists",   "field_signed", "field_lshift_u64",
      "field_rshift_u64",  "type_id_local",   "type_id_target", "type_exists",  "type_size",
      "enumval_exists",    "enumval_value",   "type_matches"};
  static_assert(BPF_CORE_TYPE_MATCHES == 12);
  return k < std::size(names) ? names[k] : "unknown";
}

// The length of a name without its "___flavor" suffix: the last X___Y with X and Y not '_'.
size_t essential_len(std::string_view s) {
  for (ptrdiff_t i = static_cast<ptrdiff_t>(s.size()) - 5; i >= 0; --i) {
    if (s[i] != '_' && s[i + 1] == '_' && s[i + 2] == '_' && s[i + 3] == '_' && s[i + 4] != '_')
      return static_cast<size_t>(i) + 1;
  }
  return s.size();
}
bool essential_eq(std::string_view a, std::string_view b) {
  const size_t la = essential_len(a), lb = essential_len(b);
  return la == lb && a.substr(0, la) == b.substr(0, lb);
}

// BTF access with the null checks libbpf leaves to its own sanity checks.
struct bt {
  const btf_handle& h;
  const btf_t* type(uint32_t id) const { return h.type(id); }
  std::string_view str(uint32_t off) const { return h.str(off); }
  std::string_view name(const btf_t* t) const { return t ? h.str(t->name_off) : ""; }
  // Skips modifiers and typedefs; null if a type is missing or the chain does not end.
  const btf_t* skip(uint32_t id, uint32_t* res = nullptr) const {
    const btf_t* t = type(id);
    for (int n = 0; t && (btf_is_mod(t) || btf_is_typedef(t)); ++n) {
      if (n == max_mods)
        t = nullptr;
      else
        t = type(id = t->type);
    }
    if (res) *res = id;
    return t;
  }
  int64_t size(uint32_t id) const { return btf__resolve_size(h.get(), id); }
  // "struct task_struct", "union <anon>", "int", "pointer" ... for messages.
  std::string describe(uint32_t id) const {
    const btf_t* t = type(id);
    if (!t) return fmt::format("[{}] (missing)", id);
    std::string_view n = name(t);
    const std::string nm = n.empty() ? "<anon>" : std::string(n);
    switch (btf_kind(t)) {
      case BTF_KIND_UNKN:
        return "void";
      case BTF_KIND_INT:
      case BTF_KIND_FLOAT:
        return nm;
      case BTF_KIND_PTR:
        return "pointer";
      case BTF_KIND_ARRAY:
        return "array";
      case BTF_KIND_STRUCT:
        return "struct " + nm;
      case BTF_KIND_UNION:
        return "union " + nm;
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
        return "enum " + nm;
      case BTF_KIND_FWD:
        return (btf_kflag(t) ? "union " : "struct ") + nm;
      case BTF_KIND_TYPEDEF:
        return "typedef " + nm;
      case BTF_KIND_FUNC_PROTO:
        return "function prototype";
      default:
        return fmt::format("kind {} {}", btf_kind(t), nm);
    }
  }
};

// libbpf's bpf_core_accessor/bpf_core_spec: the high-level path (named fields and array
// indices) and the low-level one (every member index, anonymous ones included).
struct accessor {
  uint32_t type_id = 0;  // the composite holding the field, or the array element type
  uint32_t idx = 0;
  std::string_view name;  // named field (or enumerator); empty for array accesses
};

struct spec {
  const btf_handle* btf = nullptr;
  uint32_t root_type_id = 0;
  uint32_t kind = 0;
  std::vector<accessor> acc;
  std::vector<uint32_t> raw;
  uint64_t bit_offset = 0;
};

bool is_flex_arr(const bt& b, const spec& s, const struct btf_array* a) {
  if (s.acc.empty() || s.acc.back().name.empty() || a->nelems > 0) return false;
  const btf_t* t = b.type(s.acc.back().type_id);
  return t && s.acc.back().idx + 1 == btf_vlen(t);
}

// bpf_core_parse_spec: the access string against the local BTF. Errors are hard (libbpf fails
// the load for them).
result<spec> parse_spec(const btf_handle& h, const core_relo_rec& r) {
  const bt b{h};
  spec s;
  s.btf = &h;
  s.root_type_id = r.type_id;
  s.kind = r.kind;
  const std::string_view str = r.access;
  if (str.empty() || str.front() == ':')
    return error{fmt::format("malformed access string '{}'", str)};
  if (type_based(r.kind)) {
    if (str != "0")
      return error{fmt::format("type relocation with access string '{}', not '0'", str)};
    return s;
  }
  for (size_t i = 0; i < str.size();) {
    if (str[i] == ':') ++i;
    uint64_t v = 0;
    const size_t start = i;
    while (i < str.size() && str[i] >= '0' && str[i] <= '9' && v <= INT32_MAX)
      v = v * 10 + (str[i++] - '0');
    if (i == start || v > INT32_MAX || (i < str.size() && str[i] != ':'))
      return error{fmt::format("malformed access string '{}'", str)};
    if (s.raw.size() == spec_max_len)
      return error{fmt::format("access string '{}' is longer than {} accesses", str, spec_max_len)};
    s.raw.push_back(static_cast<uint32_t>(v));
  }
  if (s.raw.empty()) return error{fmt::format("malformed access string '{}'", str)};

  uint32_t id;
  const btf_t* t = b.skip(r.type_id, &id);
  if (!t) return error{fmt::format("type [{}] does not resolve", r.type_id)};
  s.acc.push_back({id, s.raw[0], {}});

  if (enumval_based(r.kind)) {
    if (!btf_is_any_enum(t)) return error{fmt::format("{} is not an enum", b.describe(id))};
    if (s.raw.size() > 1 || s.raw[0] >= btf_vlen(t))
      return error{fmt::format("access string '{}' is not an enumerator of {} ({} values)", str,
                               b.describe(id), btf_vlen(t))};
    const uint32_t noff =
        btf_is_enum(t) ? btf_enum(t)[s.raw[0]].name_off : btf_enum64(t)[s.raw[0]].name_off;
    s.acc[0].name = b.str(noff);
    return s;
  }
  if (!field_based(r.kind)) return error{fmt::format("unknown relocation kind {}", r.kind)};

  int64_t sz = b.size(id);
  if (sz < 0) return error{fmt::format("{} has no size", b.describe(id))};
  s.bit_offset = uint64_t{s.raw[0]} * static_cast<uint64_t>(sz) * 8;
  for (size_t i = 1; i < s.raw.size(); ++i) {
    t = b.skip(id, &id);
    if (!t) return error{fmt::format("type [{}] does not resolve", id)};
    const uint32_t ai = s.raw[i];
    if (btf_is_composite(t)) {
      if (ai >= btf_vlen(t))
        return error{
            fmt::format("access {} is past the {} members of {}", ai, btf_vlen(t), b.describe(id))};
      s.bit_offset += btf_member_bit_offset(t, ai);
      const struct btf_member* m = btf_members(t) + ai;
      if (m->name_off) {
        const std::string_view nm = b.str(m->name_off);
        if (nm.empty())
          return error{fmt::format("member {} of {} has a bad name", ai, b.describe(id))};
        s.acc.push_back({id, ai, nm});
      }
      id = m->type;
    } else if (btf_is_array(t)) {
      const struct btf_array* a = btf_array(t);
      if (!b.skip(a->type, &id)) return error{fmt::format("type [{}] does not resolve", a->type)};
      if (!is_flex_arr(b, s, a) && ai >= a->nelems)
        return error{fmt::format("index {} is past the {} elements of the array", ai, a->nelems)};
      s.acc.push_back({id, ai, {}});
      sz = b.size(id);
      if (sz < 0) return error{fmt::format("{} has no size", b.describe(id))};
      s.bit_offset += uint64_t{ai} * static_cast<uint64_t>(sz) * 8;
    } else {
      return error{
          fmt::format("access string '{}': access {} indexes into {}, not a struct, union "
                      "or array",
                      str, i, b.describe(id))};
    }
    if (s.bit_offset > UINT32_MAX) return error{"field offset overflows"};
  }
  return s;
}

// "struct task_struct.in.b", "struct s[1].arr[3]", "enum state::DEAD", "struct task_struct".
std::string describe_spec(const spec& s) {
  const bt b{*s.btf};
  std::string out = b.describe(s.root_type_id);
  if (enumval_based(s.kind)) return out + "::" + std::string(s.acc.at(0).name);
  if (!field_based(s.kind)) return out;
  for (size_t i = 0; i < s.acc.size(); ++i) {
    if (!s.acc[i].name.empty())
      out += "." + std::string(s.acc[i].name);
    else if (i > 0 || s.acc[i].idx > 0)
      out += fmt::format("[{}]", s.acc[i].idx);
  }
  return out;
}

// bpf_core_fields_are_compat.
result<bool> fields_compat(const bt& lb, uint32_t lid, const bt& tb, uint32_t tid) {
  for (int depth = 0; depth < max_depth; ++depth) {
    const btf_t* l = lb.skip(lid, &lid);
    const btf_t* t = tb.skip(tid, &tid);
    if (!l || !t) return error{"field type does not resolve"};
    if (btf_is_composite(l) && btf_is_composite(t)) return true;
    if (!btf_kind_core_compat(l, t)) return false;
    switch (btf_kind(l)) {
      case BTF_KIND_PTR:
      case BTF_KIND_FLOAT:
        return true;
      case BTF_KIND_FWD:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64: {
        const std::string_view ln = lb.name(l), tn = tb.name(t);
        return essential_len(ln) == 0 || essential_len(tn) == 0 || essential_eq(ln, tn);
      }
      case BTF_KIND_INT:
        return btf_int_offset(l) == 0 && btf_int_offset(t) == 0;
      case BTF_KIND_ARRAY:
        lid = btf_array(l)->type;
        tid = btf_array(t)->type;
        continue;
      default:
        return false;
    }
  }
  return error{"field types nest too deeply"};
}

// bpf_core_types_are_compat (TYPE_ID_TARGET, TYPE_EXISTS, TYPE_SIZE).
result<bool> types_compat(const bt& lb, uint32_t lid, const bt& tb, uint32_t tid, int level) {
  const btf_t* l = lb.type(lid);
  const btf_t* t = tb.type(tid);
  if (!l || !t) return error{"type does not resolve"};
  if (!btf_kind_core_compat(l, t)) return false;
  for (int depth = 0; depth < max_depth; ++depth) {
    l = lb.skip(lid, &lid);
    t = tb.skip(tid, &tid);
    if (!l || !t) return error{"type does not resolve"};
    if (!btf_kind_core_compat(l, t)) return false;
    switch (btf_kind(l)) {
      case BTF_KIND_UNKN:
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
      case BTF_KIND_FWD:
        return true;
      case BTF_KIND_INT:
        return btf_int_offset(l) == 0 && btf_int_offset(t) == 0;
      case BTF_KIND_PTR:
        lid = l->type;
        tid = t->type;
        continue;
      case BTF_KIND_ARRAY:
        lid = btf_array(l)->type;
        tid = btf_array(t)->type;
        continue;
      case BTF_KIND_FUNC_PROTO: {
        const uint16_t n = btf_vlen(l);
        if (n != btf_vlen(t)) return false;
        for (uint16_t i = 0; i < n; ++i) {
          if (level <= 0) return error{"function prototypes nest too deeply"};
          uint32_t lp = 0, tp = 0;
          lb.skip(btf_params(l)[i].type, &lp);
          tb.skip(btf_params(t)[i].type, &tp);
          auto r = types_compat(lb, lp, tb, tp, level - 1);
          if (!r || !*r) return r;
        }
        lb.skip(l->type, &lid);
        tb.skip(t->type, &tid);
        continue;
      }
      default:
        return false;
    }
  }
  return error{"types nest too deeply"};
}

// bpf_core_names_match: equal without flavors; an anonymous target matches only anonymous.
bool names_match(const bt& lb, uint32_t loff, const bt& tb, uint32_t toff) {
  const std::string_view ln = lb.str(loff), tn = tb.str(toff);
  if (tn.empty()) return ln.empty();
  return essential_eq(ln, tn);
}

bool enums_match(const bt& lb, const btf_t* l, const bt& tb, const btf_t* t) {
  if (l->size != t->size || btf_vlen(l) > btf_vlen(t)) return false;
  auto name_off = [](const btf_t* e, int i) {
    return btf_is_enum(e) ? btf_enum(e)[i].name_off : btf_enum64(e)[i].name_off;
  };
  for (int i = 0; i < btf_vlen(l); ++i) {
    bool found = false;
    for (int j = 0; j < btf_vlen(t) && !found; ++j)
      found = names_match(lb, name_off(l, i), tb, name_off(t, j));
    if (!found) return false;
  }
  return true;
}

result<bool> types_match(const bt& lb, uint32_t lid, const bt& tb, uint32_t tid, bool behind_ptr,
                         int level);

bool kflag(const btf_t* t) {
  return btf_kflag(t);
}

result<bool> composites_match(const bt& lb, const btf_t* l, const bt& tb, const btf_t* t,
                              bool behind_ptr, int level) {
  if (btf_vlen(l) > btf_vlen(t)) return false;
  for (int i = 0; i < btf_vlen(l); ++i) {
    const struct btf_member* lm = btf_members(l) + i;
    bool matched = false;
    for (int j = 0; j < btf_vlen(t) && !matched; ++j) {
      const struct btf_member* tm = btf_members(t) + j;
      if (!names_match(lb, lm->name_off, tb, tm->name_off)) continue;
      auto r = types_match(lb, lm->type, tb, tm->type, behind_ptr, level - 1);
      if (!r) return r;
      matched = *r;
    }
    if (!matched) return false;
  }
  return true;
}

// bpf_core_types_match (TYPE_MATCHES): same shape, names and sizes, down through pointers only
// by name and kind.
result<bool> types_match(const bt& lb, uint32_t lid, const bt& tb, uint32_t tid, bool behind_ptr,
                         int level) {
  if (level <= 0) return error{"types nest too deeply"};
  for (int depth = 0; depth < max_depth; ++depth) {
    const btf_t* l = lb.skip(lid, &lid);
    const btf_t* t = tb.skip(tid, &tid);
    if (!l || !t) return error{"type does not resolve"};
    if (!names_match(lb, l->name_off, tb, t->name_off)) return false;
    const uint16_t lk = btf_kind(l), tk = btf_kind(t);
    switch (lk) {
      case BTF_KIND_UNKN:
        return lk == tk;
      case BTF_KIND_FWD:
        if (behind_ptr && lk != tk)
          return (tk == BTF_KIND_STRUCT && !kflag(l)) || (tk == BTF_KIND_UNION && kflag(l));
        return lk == tk && kflag(l) == kflag(t);
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
        return btf_is_any_enum(t) && enums_match(lb, l, tb, t);
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        if (behind_ptr) {
          if (lk == tk) return true;
          return tk == BTF_KIND_FWD && (lk == BTF_KIND_UNION) == kflag(t);
        }
        if (lk != tk) return false;
        return composites_match(lb, l, tb, t, behind_ptr, level);
      case BTF_KIND_INT:
        return lk == tk && l->size == t->size &&
               (btf_int_encoding(l) & BTF_INT_SIGNED) == (btf_int_encoding(t) & BTF_INT_SIGNED);
      case BTF_KIND_PTR:
        if (lk != tk) return false;
        behind_ptr = true;
        lid = l->type;
        tid = t->type;
        continue;
      case BTF_KIND_ARRAY:
        if (lk != tk || btf_array(l)->nelems != btf_array(t)->nelems) return false;
        lid = btf_array(l)->type;
        tid = btf_array(t)->type;
        continue;
      case BTF_KIND_FUNC_PROTO: {
        if (lk != tk || btf_vlen(l) != btf_vlen(t)) return false;
        for (int i = 0; i < btf_vlen(l); ++i) {
          auto r = types_match(lb, btf_params(l)[i].type, tb, btf_params(t)[i].type, behind_ptr,
                               level - 1);
          if (!r || !*r) return r;
        }
        lid = l->type;
        tid = t->type;
        continue;
      }
      default:
        return false;
    }
  }
  return error{"types nest too deeply"};
}

// bpf_core_match_member: finds the local named field in the target composite, searching
// anonymous members recursively, and extends the target spec on the way. `why` says what did not
// match when nothing does.
result<bool> match_member(const bt& lb, const accessor& la, const bt& tb, uint32_t tid, spec& ts,
                          uint32_t& next_tid, std::string& why) {
  const btf_t* t = tb.skip(tid, &tid);
  if (!t) return error{"target type does not resolve"};
  if (!btf_is_composite(t)) return false;
  const btf_t* lt = lb.type(la.type_id);
  const struct btf_member* lm = btf_members(lt) + la.idx;
  for (uint16_t i = 0; i < btf_vlen(t); ++i) {
    const struct btf_member* m = btf_members(t) + i;
    const uint32_t bit_off = btf_member_bit_offset(t, i);
    if (ts.raw.size() == spec_max_len) return error{"target struct/union/array nesting too deep"};
    ts.bit_offset += bit_off;
    ts.raw.push_back(i);
    const std::string_view tn = tb.str(m->name_off);
    if (tn.empty()) {
      auto r = match_member(lb, la, tb, m->type, ts, next_tid, why);
      if (!r || *r) return r;
    } else if (tn == la.name) {
      ts.acc.push_back({tid, i, tn});
      next_tid = m->type;
      auto r = fields_compat(lb, lm->type, tb, m->type);
      if (!r) return r;
      if (!*r) {
        ts.acc.pop_back();
        uint32_t tft = m->type, lft = lm->type;
        tb.skip(tft, &tft);
        lb.skip(lft, &lft);
        why = fmt::format("field '{}' of target {} is {}, incompatible with local {}", la.name,
                          tb.describe(tid), tb.describe(tft), lb.describe(lft));
      }
      return r;
    }
    ts.bit_offset -= bit_off;
    ts.raw.pop_back();
  }
  return false;
}

// bpf_core_spec_match: the local spec against one candidate root type.
result<bool> spec_match(const spec& ls, const btf_handle& th, uint32_t tid, spec& ts,
                        std::string& why) {
  const bt lb{*ls.btf}, tb{th};
  ts = spec{};
  ts.btf = &th;
  ts.root_type_id = tid;
  ts.kind = ls.kind;

  if (type_based(ls.kind)) {
    auto r = ls.kind == BPF_CORE_TYPE_MATCHES
                 ? types_match(lb, ls.root_type_id, tb, tid, false, max_depth)
                 : types_compat(lb, ls.root_type_id, tb, tid, max_depth);
    if (r && !*r)
      why = fmt::format(
          "target {} {} local {}", tb.describe(tid),
          ls.kind == BPF_CORE_TYPE_MATCHES ? "does not match" : "is not compatible with",
          lb.describe(ls.root_type_id));
    return r;
  }

  if (enumval_based(ls.kind)) {
    const btf_t* t = tb.skip(tid, &tid);
    if (!t || !btf_is_any_enum(t)) {
      why = fmt::format("target {} is not an enum", tb.describe(tid));
      return false;
    }
    const std::string_view want = ls.acc[0].name;
    for (uint16_t i = 0; i < btf_vlen(t); ++i) {
      const uint32_t noff = btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;
      const std::string_view tn = tb.str(noff);
      if (essential_eq(want, tn)) {
        ts.acc.push_back({tid, i, tn});
        ts.raw.push_back(i);
        return true;
      }
    }
    why = fmt::format("enumerator '{}' not found in target {}", want, tb.describe(tid));
    return false;
  }

  if (!field_based(ls.kind)) return error{fmt::format("unknown relocation kind {}", ls.kind)};
  for (size_t i = 0; i < ls.acc.size(); ++i) {
    const accessor& la = ls.acc[i];
    const btf_t* t = tb.skip(tid, &tid);
    if (!t) return error{"target type does not resolve"};
    if (!la.name.empty()) {
      const uint32_t container = tid;
      std::string mwhy;
      auto r = match_member(lb, la, tb, tid, ts, tid, mwhy);
      if (!r) return r;
      if (!*r) {
        why = !mwhy.empty() ? mwhy
                            : fmt::format("field '{}' not found in target {}", la.name,
                                          tb.describe(container));
        return false;
      }
      continue;
    }
    if (i > 0) {  // for i == 0 the root type is the element type already
      if (!btf_is_array(t)) {
        why = fmt::format("target {} is not an array",
                          ts.acc.empty() || ts.acc.back().name.empty()
                              ? tb.describe(tid)
                              : "'" + std::string(ts.acc.back().name) + "'");
        return false;
      }
      const struct btf_array* a = btf_array(t);
      if (!is_flex_arr(tb, ts, a) && la.idx >= a->nelems) {
        why = fmt::format("index {} is out of range of target array{} ({} elements)", la.idx,
                          ts.acc.empty() || ts.acc.back().name.empty()
                              ? std::string()
                              : " '" + std::string(ts.acc.back().name) + "'",
                          a->nelems);
        return false;
      }
      if (!tb.skip(a->type, &tid)) return error{"target array element type does not resolve"};
    }
    if (ts.raw.size() == spec_max_len) return error{"target struct/union/array nesting too deep"};
    ts.acc.push_back({tid, la.idx, {}});
    ts.raw.push_back(la.idx);
    const int64_t sz = tb.size(tid);
    if (sz < 0) return error{fmt::format("target {} has no size", tb.describe(tid))};
    ts.bit_offset += uint64_t{la.idx} * static_cast<uint64_t>(sz) * 8;
  }
  return true;
}

// bpf_core_relo_res: what a relocation resolves to.
struct relo_res {
  uint64_t orig_val = 0, new_val = 0;
  bool poison = false;
  bool validate = true;
  bool fail_memsz_adjust = false;
  uint32_t orig_sz = 0, new_sz = 0;
  uint32_t orig_type_id = 0, new_type_id = 0;
};

struct field_val {
  uint64_t val = 0;
  uint32_t field_sz = 0;
  uint32_t type_id = 0;
  bool validate = true;
  bool poison = false;  // libbpf's -EUCLEAN: no target spec
};

// bpf_core_calc_field_relo. s is null when no candidate matched.
result<field_val> calc_field(uint32_t kind, const spec* s) {
  field_val out;
  if (kind == BPF_CORE_FIELD_EXISTS) {
    out.val = s ? 1 : 0;
    return out;
  }
  if (!s) {
    out.poison = true;
    return out;
  }
  const bt b{*s->btf};
  const accessor& acc = s->acc.back();
  if (acc.name.empty()) {  // a[n]
    const int64_t sz = b.size(acc.type_id);
    if (sz < 0) return error{fmt::format("{} has no size", b.describe(acc.type_id))};
    if (kind == BPF_CORE_FIELD_BYTE_OFFSET) {
      out.val = s->bit_offset / 8;
      out.field_sz = static_cast<uint32_t>(sz);
      out.type_id = acc.type_id;
    } else if (kind == BPF_CORE_FIELD_BYTE_SIZE) {
      out.val = static_cast<uint64_t>(sz);
    } else {
      return error{fmt::format("{} cannot be applied to an array element", kind_name(kind))};
    }
    return out;
  }
  const btf_t* t = b.type(acc.type_id);
  const struct btf_member* m = btf_members(t) + acc.idx;
  uint32_t field_type_id;
  const btf_t* mt = b.skip(m->type, &field_type_id);
  if (!mt) return error{fmt::format("field '{}' has a type that does not resolve", acc.name)};
  const uint64_t bit_off = s->bit_offset;
  uint64_t bit_sz = btf_member_bitfield_size(t, acc.idx);
  const bool bitfield = bit_sz > 0;
  uint64_t byte_sz, byte_off;
  if (bitfield) {
    byte_sz = mt->size;
    if (byte_sz == 0) return error{fmt::format("bitfield '{}' has a type of size 0", acc.name)};
    byte_off = bit_off / 8 / byte_sz * byte_sz;
    while (bit_off + bit_sz - byte_off * 8 > byte_sz * 8) {  // smallest load that holds it
      if (byte_sz >= 8)
        return error{fmt::format("bitfield '{}' cannot be read by one 64-bit load", acc.name)};
      byte_sz *= 2;
      byte_off = bit_off / 8 / byte_sz * byte_sz;
    }
  } else {
    const int64_t sz = b.size(field_type_id);
    if (sz < 0) return error{fmt::format("field '{}' has no size", acc.name)};
    byte_sz = static_cast<uint64_t>(sz);
    byte_off = bit_off / 8;
    bit_sz = byte_sz * 8;
  }
  out.validate = !bitfield;  // the compiler's bitfield choices may differ from ours
  switch (kind) {
    case BPF_CORE_FIELD_BYTE_OFFSET:
      out.val = byte_off;
      if (!bitfield) {
        out.field_sz = static_cast<uint32_t>(byte_sz);
        out.type_id = field_type_id;
      }
      break;
    case BPF_CORE_FIELD_BYTE_SIZE:
      out.val = byte_sz;
      break;
    case BPF_CORE_FIELD_SIGNED:
      out.val = (btf_is_any_enum(mt) && btf_kflag(mt)) ||
                (btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_SIGNED));
      out.validate = true;
      break;
    case BPF_CORE_FIELD_LSHIFT_U64:  // little-endian
      out.val = 64 - (bit_off + bit_sz - byte_off * 8);
      break;
    case BPF_CORE_FIELD_RSHIFT_U64:
      out.val = 64 - bit_sz;
      out.validate = true;
      break;
    default:
      return error{fmt::format("unsupported relocation kind {}", kind)};
  }
  return out;
}

// bpf_core_calc_type_relo. Types that are not found give 0.
result<uint64_t> calc_type(uint32_t kind, const spec* s) {
  if (!s) return uint64_t{0};
  switch (kind) {
    case BPF_CORE_TYPE_ID_TARGET:
      return uint64_t{s->root_type_id};
    case BPF_CORE_TYPE_EXISTS:
    case BPF_CORE_TYPE_MATCHES:
      return uint64_t{1};
    case BPF_CORE_TYPE_SIZE: {
      const bt b{*s->btf};
      const int64_t sz = b.size(s->root_type_id);
      if (sz < 0) return error{fmt::format("{} has no size", b.describe(s->root_type_id))};
      return static_cast<uint64_t>(sz);
    }
    default:
      return error{fmt::format("unsupported relocation kind {}", kind)};
  }
}

// bpf_core_calc_enumval_relo. nullopt asks for poisoning.
result<std::optional<uint64_t>> calc_enumval(uint32_t kind, const spec* s) {
  if (kind == BPF_CORE_ENUMVAL_EXISTS) return std::optional<uint64_t>(s ? 1 : 0);
  if (kind != BPF_CORE_ENUMVAL_VALUE)
    return error{fmt::format("unsupported relocation kind {}", kind)};
  if (!s) return std::optional<uint64_t>();
  const btf_t* t = s->btf->type(s->acc[0].type_id);
  const uint32_t i = s->acc[0].idx;
  // Like libbpf: an ENUM's value as its u32 bits zero-extended, an ENUM64's whole.
  return std::optional<uint64_t>(btf_is_enum(t)
                                     ? uint64_t{static_cast<uint32_t>(btf_enum(t)[i].val)}
                                     : btf_enum64_value(btf_enum64(t) + i));
}

// bpf_core_calc_relo: local and target values for one candidate (ts null: no candidate).
result<relo_res> calc_relo(uint32_t kind, const spec& ls, const spec* ts) {
  relo_res res;
  if (field_based(kind)) {
    auto l = calc_field(kind, &ls);
    if (!l) return l.err();
    auto t = calc_field(kind, ts);
    if (!t) return t.err();
    if (t->poison) {
      res.poison = true;
      return res;
    }
    res.orig_val = l->val;
    res.orig_sz = l->field_sz;
    res.orig_type_id = l->type_id;
    res.validate = l->validate;
    res.new_val = t->val;
    res.new_sz = t->field_sz;
    res.new_type_id = t->type_id;
    if (res.orig_sz != res.new_sz) {
      // Resizing a load or store is only safe for pointers (a 32-bit kernel's) and unsigned
      // integers, which zero-extension keeps right.
      const btf_t* o = ls.btf->type(res.orig_type_id);
      const btf_t* n = ts->btf->type(res.new_type_id);
      const bool ok = o && n &&
                      ((btf_is_ptr(o) && btf_is_ptr(n)) ||
                       (btf_is_int(o) && btf_is_int(n) && btf_int_encoding(o) != BTF_INT_SIGNED &&
                        btf_int_encoding(n) != BTF_INT_SIGNED));
      res.fail_memsz_adjust = !ok;
    }
  } else if (type_based(kind)) {
    auto l = calc_type(kind, &ls);
    if (!l) return l.err();
    auto t = calc_type(kind, ts);
    if (!t) return t.err();
    res.orig_val = *l;
    res.new_val = *t;
    res.validate = kind != BPF_CORE_TYPE_ID_TARGET;  // ids change in linking
  } else if (enumval_based(kind)) {
    auto l = calc_enumval(kind, &ls);
    if (!l) return l.err();
    auto t = calc_enumval(kind, ts);
    if (!t) return t.err();
    if (!*t) {
      res.poison = true;
      return res;
    }
    res.orig_val = l->value_or(0);
    res.new_val = **t;
  } else {
    return error{fmt::format("unsupported relocation kind {}", kind)};
  }
  return res;
}

// The target's candidates for a local root type: same kind (enum and enum64 alike) and same
// essential name.
std::vector<uint32_t> find_cands(const bt& lb, uint32_t lid, const bt& tb) {
  std::vector<uint32_t> out;
  const btf_t* l = lb.type(lid);
  const std::string_view ln = lb.name(l);
  const uint32_t n = tb.h.type_cnt();
  for (uint32_t i = 1; i < n; ++i) {
    const btf_t* t = tb.type(i);
    if (!t || !btf_kind_core_compat(t, l)) continue;
    const std::string_view tn = tb.name(t);
    if (!tn.empty() && essential_eq(ln, tn)) out.push_back(i);
  }
  return out;
}

struct resolved {
  relo_res res;
  std::string why;  // for a poisoned result: what is missing
};

// bpf_core_calc_relo_insn: matches every candidate, checks they agree, prunes the cache.
result<resolved> resolve(const core_relo_rec& r, const spec& ls, const btf_handle& local,
                         const btf_handle& target,
                         std::unordered_map<uint32_t, std::vector<uint32_t>>& cache) {
  const bt lb{local}, tb{target};
  resolved out;
  if (r.kind == BPF_CORE_TYPE_ID_LOCAL) {
    out.res.orig_val = out.res.new_val = ls.root_type_id;
    out.res.validate = false;
    return out;
  }
  const std::string_view lname = lb.name(lb.type(r.type_id));
  if (lname.empty()) return error{"relocations against anonymous types are not supported"};
  auto it = cache.find(r.type_id);
  if (it == cache.end()) it = cache.emplace(r.type_id, find_cands(lb, r.type_id, tb)).first;
  std::vector<uint32_t>& cands = it->second;

  std::vector<uint32_t> kept;
  spec cs, ts;
  std::string first_why;
  for (uint32_t cid : cands) {
    std::string why;
    auto m = spec_match(ls, target, cid, cs, why);
    if (!m) return error{fmt::format("matching candidate {}: {}", tb.describe(cid), m.err().msg)};
    if (!*m) {
      if (first_why.empty()) first_why = why;
      continue;
    }
    auto c = calc_relo(r.kind, ls, &cs);
    if (!c) return c.err();
    if (kept.empty()) {
      out.res = *c;
      ts = cs;
    } else if (cs.bit_offset != ts.bit_offset) {
      return error{fmt::format("ambiguous target: {} has it at bit offset {}, {} at {}",
                               tb.describe(ts.root_type_id), ts.bit_offset,
                               tb.describe(cs.root_type_id), cs.bit_offset)};
    } else if (c->poison != out.res.poison || c->new_val != out.res.new_val) {
      return error{fmt::format("ambiguous target: {} gives {}, {} gives {}",
                               tb.describe(ts.root_type_id), out.res.new_val,
                               tb.describe(cs.root_type_id), c->new_val)};
    }
    kept.push_back(cid);
  }
  if (!kept.empty()) {
    cands = std::move(kept);
    return out;
  }
  auto c = calc_relo(r.kind, ls, nullptr);
  if (!c) return c.err();
  out.res = *c;
  if (!first_why.empty()) {
    out.why = first_why;
  } else {
    const std::string local_desc = lb.describe(r.type_id);
    const std::string_view ess = lname.substr(0, essential_len(lname));
    out.why = ess.size() == lname.size()
                  ? fmt::format("{} not found in target", local_desc)
                  : fmt::format("{} not found in target (no {} named '{}')", local_desc,
                                local_desc.substr(0, local_desc.find(' ')), ess);
  }
  return out;
}

void poison_insn(insn& i) {
  i.code = BPF_JMP | BPF_CALL;
  i.dst_reg = 0;
  i.src_reg = 0;
  i.off = 0;
  i.imm = core_poison_imm;
}

int bytes_to_bpf_size(uint32_t n) {
  switch (n) {
    case 1:
      return BPF_B;
    case 2:
      return BPF_H;
    case 4:
      return BPF_W;
    case 8:
      return BPF_DW;
    default:
      return -1;
  }
}

// bpf_core_patch_insn. Returns how many instruction slots it poisoned (0, 1, or 2 for ld_imm64).
result<int> patch_insn(std::span<insn> insns, size_t idx, const relo_res& res) {
  insn& in = insns[idx];
  const bool wide = is_ld_imm64(in) && idx + 1 < insns.size();
  if (res.poison) {
  poison:
    if (wide) poison_insn(insns[idx + 1]);
    poison_insn(in);
    return wide ? 2 : 1;
  }
  const uint64_t orig = res.orig_val, nv = res.new_val;
  switch (cls(in.code)) {
    case BPF_ALU:
    case BPF_ALU64:
      if (in.code & BPF_X)
        return error{fmt::format(
            "instruction {:#04x} is an ALU operation on a register, not an immediate", in.code)};
      if (res.validate && static_cast<uint64_t>(static_cast<int64_t>(in.imm)) != orig)
        return error{
            fmt::format("instruction has immediate {}, expected the local value {}", in.imm, orig)};
      in.imm = static_cast<int32_t>(nv);
      return 0;
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX: {
      if (res.validate && static_cast<uint64_t>(static_cast<int64_t>(in.off)) != orig)
        return error{
            fmt::format("instruction has offset {}, expected the local value {}", in.off, orig)};
      if (nv > SHRT_MAX)
        return error{fmt::format("target offset {} does not fit in an instruction", nv)};
      if (res.fail_memsz_adjust) goto poison;
      in.off = static_cast<int16_t>(nv);
      if (res.new_sz != res.orig_sz) {
        if (static_cast<uint32_t>(size_bytes(in.code)) != res.orig_sz)
          return error{fmt::format("instruction accesses {} bytes, expected the local field's {}",
                                   size_bytes(in.code), res.orig_sz)};
        const int sz = bytes_to_bpf_size(res.new_sz);
        if (sz < 0)
          return error{fmt::format("target field size {} is not a load/store size", res.new_sz)};
        in.code = static_cast<uint8_t>(mode(in.code) | sz | cls(in.code));
      }
      return 0;
    }
    case BPF_LD: {
      if (!is_ld_imm64(in) || idx + 1 >= insns.size() || in.src_reg || in.off ||
          insns[idx + 1].code || insns[idx + 1].dst_reg || insns[idx + 1].src_reg ||
          insns[idx + 1].off)
        return error{"ld_imm64 instruction has an unexpected form"};
      const uint64_t imm = static_cast<uint32_t>(in.imm) |
                           (uint64_t{static_cast<uint32_t>(insns[idx + 1].imm)} << 32);
      if (res.validate && imm != orig)
        return error{fmt::format("instruction loads {}, expected the local value {}", imm, orig)};
      in.imm = static_cast<int32_t>(nv);
      insns[idx + 1].imm = static_cast<int32_t>(nv >> 32);
      return 0;
    }
    default:
      return error{fmt::format("instruction {:#04x} cannot be relocated", in.code)};
  }
}

// The reachability walk of core.h: from each entry, following jumps except those whose outcome is
// known from constants set earlier in the same basic block. Returns the lowest poisoned index
// reached.
std::optional<size_t> reachable_poison(std::span<const insn> insns,
                                       const std::vector<bool>& poisoned,
                                       std::span<const uint32_t> entries) {
  const size_t n = insns.size();
  using regs = std::array<std::optional<uint64_t>, max_reg>;
  std::vector<bool> leader(n), visited(n);
  std::vector<std::pair<size_t, regs>> work;
  auto add_root = [&](size_t pc) {
    if (pc < n) {
      leader[pc] = true;
      work.push_back({pc, regs{}});
    }
  };
  for (size_t pc = 0; pc < n; pc += insn_slots(insns[pc])) {
    const insn& i = insns[pc];
    const uint8_t c = cls(i.code);
    if (is_pseudo_func(i)) add_root(pc + 1 + static_cast<int64_t>(i.imm));  // a callback
    if (c != BPF_JMP && c != BPF_JMP32) continue;
    const uint8_t o = op(i.code);
    if (o == BPF_EXIT) continue;
    if (o == BPF_CALL) {
      if (i.src_reg == BPF_PSEUDO_CALL) add_root(pc + 1 + static_cast<int64_t>(i.imm));
      continue;
    }
    const int64_t t =
        static_cast<int64_t>(pc) + 1 + (c == BPF_JMP32 && o == BPF_JA ? i.imm : i.off);
    if (t >= 0 && static_cast<size_t>(t) < n) leader[t] = true;
  }
  if (entries.empty()) add_root(0);
  for (uint32_t e : entries) add_root(e);

  std::optional<size_t> hit;
  while (!work.empty()) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    size_t pc = work.back().first;
    regs r = work.back().second;
    work.pop_back();
    while (pc < n && !visited[pc]) {
      visited[pc] = true;
      if (leader[pc]) r = regs{};
      if (poisoned[pc]) {
        if (!hit || pc < *hit) hit = pc;
        break;
      }
      const insn& i = insns[pc];
      const uint8_t c = cls(i.code), o = op(i.code);
      const bool is64 = c == BPF_ALU64 || c == BPF_JMP;
      auto src_val = [&]() -> std::optional<uint64_t> {
        if (!(i.code & BPF_X)) return static_cast<uint64_t>(static_cast<int64_t>(i.imm));
        return i.src_reg < max_reg ? r[i.src_reg] : std::nullopt;
      };
      const size_t next = pc + insn_slots(i);
      switch (c) {
        case BPF_ALU:
        case BPF_ALU64: {
          if (i.dst_reg >= max_reg) break;
          std::optional<uint64_t>& d = r[i.dst_reg];
          const std::optional<uint64_t> s = src_val();
          std::optional<uint64_t> v;
          if (o == BPF_MOV && i.off == 0) {
            v = s;
          } else if (d && (s || o == BPF_NEG)) {
            const uint64_t a = *d, b = s.value_or(0), sh = b & (is64 ? 63 : 31);
            switch (o) {
              case BPF_ADD:
                v = a + b;
                break;
              case BPF_SUB:
                v = a - b;
                break;
              case BPF_MUL:
                v = a * b;
                break;
              case BPF_AND:
                v = a & b;
                break;
              case BPF_OR:
                v = a | b;
                break;
              case BPF_XOR:
                v = a ^ b;
                break;
              case BPF_LSH:
                v = a << sh;
                break;
              case BPF_RSH:
                v = (is64 ? a : static_cast<uint32_t>(a)) >> sh;
                break;
              case BPF_NEG:
                v = 0 - a;
                break;
              default:
                break;
            }
          }
          if (v && !is64) v = static_cast<uint32_t>(*v);
          d = v;
          break;
        }
        case BPF_LD:
          if (is_ld_imm64(i) && pc + 1 < n) {
            if (i.dst_reg < max_reg)
              r[i.dst_reg] = i.src_reg
                                 ? std::nullopt
                                 : std::optional<uint64_t>(
                                       static_cast<uint32_t>(i.imm) |
                                       uint64_t{static_cast<uint32_t>(insns[pc + 1].imm)} << 32);
          } else {
            for (int k = 0; k <= 5; ++k) r[k].reset();  // legacy packet loads clobber r0-r5
          }
          break;
        case BPF_LDX:
          if (i.dst_reg < max_reg) r[i.dst_reg].reset();
          break;
        case BPF_STX:
          if (mode(i.code) == BPF_ATOMIC && (i.imm & BPF_FETCH)) {
            if (i.imm == BPF_CMPXCHG)
              r[0].reset();
            else if (i.src_reg < max_reg)
              r[i.src_reg].reset();
          }
          break;
        case BPF_JMP:
        case BPF_JMP32: {
          if (o == BPF_EXIT) goto path_end;
          if (o == BPF_CALL) {
            for (int k = 0; k <= 5; ++k) r[k].reset();
            break;
          }
          const int64_t t =
              static_cast<int64_t>(pc) + 1 + (c == BPF_JMP32 && o == BPF_JA ? i.imm : i.off);
          const bool t_ok = t >= 0 && static_cast<size_t>(t) < n;
          if (o == BPF_JA) {
            if (!t_ok) goto path_end;
            pc = static_cast<size_t>(t);
            continue;
          }
          std::optional<bool> taken;
          const std::optional<uint64_t> a = i.dst_reg < max_reg ? r[i.dst_reg] : std::nullopt;
          const std::optional<uint64_t> b = src_val();
          if (a && b) {
            uint64_t x = *a, y = *b;
            int64_t sx = static_cast<int64_t>(x), sy = static_cast<int64_t>(y);
            if (!is64) {
              x = static_cast<uint32_t>(x);
              y = static_cast<uint32_t>(y);
              sx = static_cast<int32_t>(x);
              sy = static_cast<int32_t>(y);
            }
            switch (o) {
              case BPF_JEQ:
                taken = x == y;
                break;
              case BPF_JNE:
                taken = x != y;
                break;
              case BPF_JGT:
                taken = x > y;
                break;
              case BPF_JGE:
                taken = x >= y;
                break;
              case BPF_JLT:
                taken = x < y;
                break;
              case BPF_JLE:
                taken = x <= y;
                break;
              case BPF_JSET:
                taken = (x & y) != 0;
                break;
              case BPF_JSGT:
                taken = sx > sy;
                break;
              case BPF_JSGE:
                taken = sx >= sy;
                break;
              case BPF_JSLT:
                taken = sx < sy;
                break;
              case BPF_JSLE:
                taken = sx <= sy;
                break;
              default:
                break;
            }
          }
          if (taken.value_or(true) && t_ok) work.push_back({static_cast<size_t>(t), r});
          if (taken.value_or(false)) goto path_end;
          break;
        }
        default:
          break;
      }
      pc = next;
    }
  path_end:;
  }
  return hit;
}

}  // namespace

result<void> core_relocate(std::span<insn> sec_insns, std::span<const core_relo_rec> relos,
                           const btf_handle& local, const btf_handle& target,
                           std::string_view sec_name, std::span<const uint32_t> entries) {
  const bt lb{local};
  std::unordered_map<uint32_t, std::vector<uint32_t>> cands;
  struct poison_info {
    size_t relo = 0;
    std::string desc, why;
  };
  std::vector<bool> poisoned(sec_insns.size());
  std::unordered_map<size_t, poison_info> why_at;

  for (size_t k = 0; k < relos.size(); ++k) {
    const core_relo_rec& r = relos[k];
    if (r.insn_off % sizeof(insn))
      return error{fmt::format("{}: CO-RE relocation #{}: insn_off {} is not a multiple of {}",
                               sec_name, k, r.insn_off, sizeof(insn))};
    const size_t idx = r.insn_off / sizeof(insn);
    if (idx >= sec_insns.size())
      return error{
          fmt::format("{}: CO-RE relocation #{}: insn_off {} is past the section's {} instructions",
                      sec_name, k, r.insn_off, sec_insns.size())};
    std::string desc = fmt::format(
        "{} of {} + '{}'", kind_name(r.kind),
        lb.type(r.type_id) ? lb.describe(r.type_id) : fmt::format("type [{}]", r.type_id),
        r.access);
    auto fail = [&](const std::string& msg) {
      return error{
          fmt::format("{}: insn {}: CO-RE relocation #{} ({}): {}", sec_name, idx, k, desc, msg)};
    };
    if (!lb.type(r.type_id))
      return fail(fmt::format("type id {} is not in the object's BTF", r.type_id));
    if (!field_based(r.kind) && !type_based(r.kind) && !enumval_based(r.kind))
      return fail(fmt::format("unknown relocation kind {}", r.kind));
    auto ls = parse_spec(local, r);
    if (!ls) return fail(ls.err().msg);
    desc = fmt::format("{} of {}", kind_name(r.kind), describe_spec(*ls));
    auto res = resolve(r, *ls, local, target, cands);
    if (!res) return fail(res.err().msg);
    auto p = patch_insn(sec_insns, idx, res->res);
    if (!p) return fail(p.err().msg);
    if (*p > 0) {
      std::string why = res->why;
      if (!res->res.poison) {  // a load or store of a field whose size cannot be adjusted
        const bt tb{target};
        why = fmt::format(
            "field is {} bytes ({}) locally but {} bytes ({}) in target; only pointers and "
            "unsigned integers can be accessed with a different size",
            res->res.orig_sz, lb.describe(res->res.orig_type_id), res->res.new_sz,
            tb.describe(res->res.new_type_id));
      }
      for (int sl = 0; sl < *p; ++sl) {
        poisoned[idx + sl] = true;
        why_at[idx + sl] = {k, desc, why};
      }
    }
  }

  if (auto hit = reachable_poison(sec_insns, poisoned, entries)) {
    const poison_info& pi = why_at.at(*hit);
    return error{fmt::format("{}: insn {}: CO-RE relocation #{} ({}): {}", sec_name, *hit, pi.relo,
                             pi.desc, pi.why)};
  }
  return {};
}

}  // namespace mmbpf::bpf
