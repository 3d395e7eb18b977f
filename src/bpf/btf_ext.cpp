// .BTF.ext parsing; see btf_ext.h. Models libbpf's reading of the section (btf_ext__new and
// btf_ext_setup_info in tools/lib/bpf/btf.c) with the same acceptance rules: native byte order
// only, version 1, no flags, the CO-RE block only when the header is long enough to describe it,
// record sizes at least the known record and a multiple of 4, no empty blocks or sections.
// Unlike libbpf, every record is also checked against the object's BTF here (strings in range,
// func_info types are FUNCs, CO-RE root types exist) so later stages can trust it.
// Simplified: only the fields of each record that clang 14 writes are read; longer records (a
// newer compiler's) are accepted and their extra bytes ignored, as libbpf does.
#include "bpf/btf_ext.h"

#include <fmt/format.h>
#include <linux/bpf.h>
#include <linux/btf.h>

#include <cstring>
#include <functional>

#include "bpf/insn.h"

namespace mmbpf::bpf {
namespace {

// struct btf_ext_header (libbpf's libbpf_internal.h; not in the uapi headers): magic, version,
// flags, hdr_len, then func_info_off/len and line_info_off/len, then optionally
// core_relo_off/len. Offsets are relative to the end of the header (hdr_len).
constexpr size_t hdr_fixed_len = 8;     // magic .. hdr_len
constexpr size_t hdr_min_len = 24;      // up to line_info_len
constexpr size_t hdr_core_len = 32;     // up to core_relo_len
constexpr size_t info_sec_len = 8;      // struct btf_ext_info_sec: sec_name_off, num_info
constexpr uint32_t func_info_min = 8;   // struct bpf_func_info: insn_off, type_id
constexpr uint32_t line_info_min = 16;  // struct bpf_line_info: insn_off, file, line, line_col
constexpr uint32_t core_relo_min = 16;  // struct bpf_core_relo: insn_off, type_id, access, kind

uint32_t rd32(std::span<const uint8_t> d, size_t off) {
  uint32_t v;
  std::memcpy(&v, d.data() + off, sizeof v);
  return v;
}

// Whether off names a string of the BTF's string section (libbpf returns NULL past the end).
bool str_ok(const btf_handle& btf, uint32_t off) {
  return btf__str_by_offset(btf.get(), off) != nullptr;
}

using record_fn = std::function<result<void>(std::string_view sec, std::span<const uint8_t> rec,
                                             std::string_view where)>;

// One info block: a u32 record size, then sections of {sec_name_off, num_info, records}.
// `data` is the section past the header; `hdr_len` turns offsets in it into section offsets.
result<void> parse_block(std::span<const uint8_t> data, size_t hdr_len, uint32_t off, uint32_t len,
                         const char* what, uint32_t min_rec, const btf_handle& btf,
                         const record_fn& on_record) {
  auto fail = [&](std::string msg) { return error{fmt::format(".BTF.ext: {}", msg)}; };
  if (len == 0) return {};
  if (off % 4) return fail(fmt::format("{} offset {} is not 4-byte aligned", what, off));
  if (uint64_t{off} + len > data.size())
    return fail(fmt::format("{} (offset {}, length {}) extends past the {} bytes after the header",
                            what, off, len, data.size()));
  const std::span<const uint8_t> blk = data.subspan(off, len);
  if (blk.size() < 4) return fail(fmt::format("{} has no record size", what));
  const uint32_t rec_size = rd32(blk, 0);
  if (rec_size < min_rec)
    return fail(fmt::format("{} record size {} is smaller than {}", what, rec_size, min_rec));
  if (rec_size % 4)
    return fail(fmt::format("{} record size {} is not a multiple of 4", what, rec_size));
  if (blk.size() == 4) return fail(fmt::format("{} has a record size but no records", what));

  size_t pos = 4;
  while (pos < blk.size()) {
    const size_t abs = hdr_len + off + pos;  // offset of this part within .BTF.ext
    const size_t left = blk.size() - pos;
    if (left < info_sec_len)
      return fail(fmt::format("{}: section header at offset {} is truncated ({} bytes left)", what,
                              abs, left));
    const uint32_t name_off = rd32(blk, pos);
    const uint32_t num = rd32(blk, pos + 4);
    if (!str_ok(btf, name_off))
      return fail(fmt::format("{}: section name offset {} at offset {} is outside the BTF strings",
                              what, name_off, abs));
    const std::string_view name = btf.str(name_off);
    if (name.empty()) return fail(fmt::format("{}: empty section name at offset {}", what, abs));
    if (num == 0) return fail(fmt::format("{}: section '{}' has no records", what, name));
    const uint64_t need = uint64_t{num} * rec_size;
    if (need > left - info_sec_len)
      return fail(fmt::format("{}: section '{}' claims {} records of {} bytes but {} bytes remain",
                              what, name, num, rec_size, left - info_sec_len));
    pos += info_sec_len;
    for (uint32_t i = 0; i < num; ++i, pos += rec_size) {
      const std::string where = fmt::format("{} record {} of section '{}' (offset {})", what, i,
                                            name, hdr_len + off + pos);
      auto r = on_record(name, blk.subspan(pos, rec_size), where);
      if (!r) return fail(r.err().msg);
    }
  }
  return {};
}

result<void> check_insn_off(uint32_t insn_off, std::string_view where) {
  if (insn_off % sizeof(insn))
    return error{
        fmt::format("{}: insn_off {} is not a multiple of {}", where, insn_off, sizeof(insn))};
  return {};
}

}  // namespace

result<btf_ext_info> parse_btf_ext(std::span<const uint8_t> raw, const btf_handle& btf) {
  auto fail = [](std::string msg) { return error{fmt::format(".BTF.ext: {}", msg)}; };
  if (raw.size() < hdr_fixed_len)
    return fail(
        fmt::format("header is truncated ({} bytes, need at least {})", raw.size(), hdr_fixed_len));
  uint16_t magic;
  std::memcpy(&magic, raw.data(), sizeof magic);
  const uint8_t version = raw[2];
  const uint8_t flags = raw[3];
  const uint32_t hdr_len = rd32(raw, 4);
  if (magic == 0x9feb)
    return fail("byte-swapped magic 0x9feb: non-native byte order is not supported");
  if (magic != BTF_MAGIC)
    return fail(fmt::format("bad magic {:#06x} (expected {:#06x})", magic, BTF_MAGIC));
  if (version != BTF_VERSION) return fail(fmt::format("unsupported version {}", version));
  if (flags != 0) return fail(fmt::format("unsupported flags {:#04x}", flags));
  if (hdr_len < hdr_min_len)
    return fail(fmt::format("header length {} is smaller than {}", hdr_len, hdr_min_len));
  if (hdr_len > raw.size())
    return fail(
        fmt::format("header length {} exceeds the section's {} bytes", hdr_len, raw.size()));

  const uint32_t func_off = rd32(raw, 8), func_len = rd32(raw, 12);
  const uint32_t line_off = rd32(raw, 16), line_len = rd32(raw, 20);
  const bool has_core = hdr_len >= hdr_core_len;
  const uint32_t core_off = has_core ? rd32(raw, 24) : 0, core_len = has_core ? rd32(raw, 28) : 0;
  const std::span<const uint8_t> data = raw.subspan(hdr_len);
  if (data.empty()) return fail("no data after the header");

  btf_ext_info out;
  auto r =
      parse_block(data, hdr_len, func_off, func_len, "func_info", func_info_min, btf,
                  [&](std::string_view sec, std::span<const uint8_t> rec,
                      std::string_view where) -> result<void> {
                    func_info_rec f{rd32(rec, 0), rd32(rec, 4)};
                    if (auto c = check_insn_off(f.insn_off, where); !c) return c;
                    const struct btf_type* t = btf.type(f.type_id);
                    if (!t || !btf_is_func(t))
                      return error{fmt::format("{}: type id {} is not a FUNC in the object's BTF",
                                               where, f.type_id)};
                    out.func_info[std::string(sec)].push_back(f);
                    return {};
                  });
  if (!r) return r.err();

  r = parse_block(data, hdr_len, line_off, line_len, "line_info", line_info_min, btf,
                  [&](std::string_view sec, std::span<const uint8_t> rec,
                      std::string_view where) -> result<void> {
                    const uint32_t insn_off = rd32(rec, 0), file_off = rd32(rec, 4),
                                   line_str = rd32(rec, 8);
                    const uint32_t line_col = rd32(rec, 12);
                    if (auto c = check_insn_off(insn_off, where); !c) return c;
                    if (!str_ok(btf, file_off))
                      return error{fmt::format("{}: file name offset {} is outside the BTF strings",
                                               where, file_off)};
                    if (!str_ok(btf, line_str))
                      return error{fmt::format("{}: line offset {} is outside the BTF strings",
                                               where, line_str)};
                    out.line_info[std::string(sec)].push_back(
                        {insn_off, btf.str(file_off), btf.str(line_str),
                         BPF_LINE_INFO_LINE_NUM(line_col), BPF_LINE_INFO_LINE_COL(line_col)});
                    return {};
                  });
  if (!r) return r.err();

  r = parse_block(
      data, hdr_len, core_off, core_len, "core_relo", core_relo_min, btf,
      [&](std::string_view sec, std::span<const uint8_t> rec,
          std::string_view where) -> result<void> {
        const uint32_t insn_off = rd32(rec, 0), type_id = rd32(rec, 4), access = rd32(rec, 8);
        const uint32_t kind = rd32(rec, 12);
        if (auto c = check_insn_off(insn_off, where); !c) return c;
        if (!btf.type(type_id))
          return error{fmt::format("{}: type id {} is not in the object's BTF", where, type_id)};
        if (!str_ok(btf, access))
          return error{
              fmt::format("{}: access string offset {} is outside the BTF strings", where, access)};
        out.core_relos[std::string(sec)].push_back({insn_off, type_id, btf.str(access), kind});
        return {};
      });
  if (!r) return r.err();
  return out;
}

}  // namespace mmbpf::bpf
