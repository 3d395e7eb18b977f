// The assembler; see assembler.h for the syntax. Two passes: the first parses each statement
// into instructions, recording labels and the operands that name one (jump and call targets,
// func[label], calls by bare name); the second resolves those. Parsing is a hand-written
// cursor over one statement; the first error stops it and is returned as the result.
#include "bpf/assembler.h"

#include <fmt/format.h>

#include <cctype>
#include <limits>
#include <map>
#include <optional>
#include <string>

namespace mmbpf::bpf {
namespace {

bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}
bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Register number of "rN"/"wN" (N <= 99), or -1 if `w` does not look like a register.
int reg_number(std::string_view w) {
  if (w.size() < 2 || w.size() > 3 || (w[0] != 'r' && w[0] != 'w')) return -1;
  int n = 0;
  for (char c : w.substr(1)) {
    if (!is_digit(c)) return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

struct reg {
  uint8_t n = 0;
  bool w = false;  // written wN: the 32-bit view
  std::string name() const { return fmt::format("{}{}", w ? 'w' : 'r', n); }
};

// A parsed number: sign and magnitude, plus its source text for messages.
struct number {
  bool neg = false;
  uint64_t mag = 0;
  std::string_view text;
};

// An operand that names a label or function, resolved once all labels are known.
struct fixup {
  enum kind_t { jump16, goto16, jump32, call_target, func_ref, call_name } kind;
  size_t slot;  // instruction to patch
  std::string name;
  int line;
};

struct mem_operand {
  uint8_t size = 0;  // BPF_B/H/W/DW
  bool sx = false;   // sN access
  reg base;
  int16_t off = 0;
};

constexpr std::string_view end_of_line = "end of line";

// Label name -> (slot index, line defined on).
using label_map = std::map<std::string, std::pair<size_t, int>, std::less<>>;

// Parses one statement (labels, index and annotation included) into `out`.
class stmt_parser {
 public:
  stmt_parser(std::string_view s, int line, const asm_opts& opts, std::vector<insn>& out,
              std::vector<fixup>& fixups, label_map& labels)
      : s_(s), line_(line), opts_(opts), out_(out), fixups_(fixups), labels_(labels) {}

  // The first error, if any.
  std::optional<error> run() {
    if (!prefix() || (!at_end() && !statement())) return error{err_};
    if (!at_end()) {
      fail("expected end of instruction, found {}", tok());
      return error{err_};
    }
    return std::nullopt;
  }

 private:
  std::string_view s_;
  size_t p_ = 0;
  int line_;
  const asm_opts& opts_;
  std::vector<insn>& out_;
  std::vector<fixup>& fixups_;
  label_map& labels_;
  std::optional<uint8_t> annotation_;
  std::string err_;

  // ---- cursor ----

  template <class... A>
  bool fail(fmt::format_string<A...> f, A&&... a) {
    if (err_.empty())
      err_ = fmt::format("line {}: {}", line_, fmt::format(f, std::forward<A>(a)...));
    return false;
  }

  void ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\r')) ++p_;
  }
  bool at_end() {
    ws();
    return p_ >= s_.size();
  }
  char peek_char() {
    ws();
    return p_ < s_.size() ? s_[p_] : '\0';
  }
  bool peek(std::string_view t) {
    ws();
    return s_.substr(p_).starts_with(t);
  }
  bool eat(std::string_view t) {
    if (!peek(t)) return false;
    p_ += t.size();
    return true;
  }
  // `w` as a whole word.
  bool eat_word(std::string_view w) {
    if (!peek(w) || (p_ + w.size() < s_.size() && ident_char(s_[p_ + w.size()]))) return false;
    p_ += w.size();
    return true;
  }
  std::string_view word() {
    ws();
    const size_t b = p_;
    while (p_ < s_.size() && ident_char(s_[p_])) ++p_;
    return s_.substr(b, p_ - b);
  }
  std::string_view peek_word() {
    const size_t save = p_;
    const auto w = word();
    p_ = save;
    return w;
  }
  // The token at the cursor, quoted, for messages.
  std::string tok() {
    ws();
    if (p_ >= s_.size()) return std::string(end_of_line);
    size_t e = p_ + 1;
    if (ident_char(s_[p_])) {
      while (e < s_.size() && ident_char(s_[e])) ++e;
    } else {
      constexpr std::string_view ops = "=<>!&|^%*/+-";
      if (ops.find(s_[p_]) != std::string_view::npos)
        while (e < s_.size() && ops.find(s_[e]) != std::string_view::npos) ++e;
    }
    return fmt::format("'{}'", s_.substr(p_, e - p_));
  }
  bool expect(std::string_view t) {
    if (eat(t)) return true;
    return fail("expected '{}', found {}", t, tok());
  }

  // ---- operands ----

  bool parse_reg(reg& r) {
    ws();
    const size_t save = p_;
    const auto w = word();
    const int n = reg_number(w);
    if (n < 0) {
      p_ = save;
      return fail("expected register, found {}", tok());
    }
    if (n >= max_reg) {
      p_ = save;
      return fail("unknown register '{}'", w);
    }
    r = {static_cast<uint8_t>(n), w[0] == 'w'};
    return true;
  }
  bool peek_reg() { return reg_number(peek_word()) >= 0; }
  bool want64(const reg& r) {
    return !r.w || fail("expected a 64-bit register, found '{}'", r.name());
  }
  bool same_width(const reg& a, const reg& b) {
    return a.w == b.w || fail("register '{}' does not match the width of '{}'", b.name(), a.name());
  }

  bool parse_number(number& n, const char* what) {
    ws();
    const size_t b = p_;
    n = {};
    if (eat("-")) {
      n.neg = true;
    } else {
      eat("+");
    }
    ws();
    if (p_ >= s_.size() || !is_digit(s_[p_])) return fail("expected {}, found {}", what, tok());
    const bool hex = s_.substr(p_).starts_with("0x") || s_.substr(p_).starts_with("0X");
    if (hex) p_ += 2;
    const size_t digits = p_;
    bool overflow = false;
    while (p_ < s_.size() && ident_char(s_[p_])) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s_[p_])));
      int d = -1;
      if (is_digit(c))
        d = c - '0';
      else if (hex && c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      if (d < 0) {
        while (p_ < s_.size() && ident_char(s_[p_])) ++p_;
        return fail("malformed number '{}'", s_.substr(b, p_ - b));
      }
      const uint64_t base = hex ? 16 : 10;
      if (n.mag > (std::numeric_limits<uint64_t>::max() - d) / base) overflow = true;
      n.mag = n.mag * base + d;
      ++p_;
    }
    n.text = s_.substr(b, p_ - b);
    if (p_ == digits) return fail("malformed number '{}'", n.text);
    if (overflow || (n.neg && n.mag > (uint64_t{1} << 63)))
      return fail("number '{}' does not fit in 64 bits", n.text);
    return true;
  }

  // Fits in [lo, hi] (hi as magnitude for positives)?
  static bool in_range(const number& n, int64_t lo, uint64_t hi) {
    return n.neg ? n.mag <= static_cast<uint64_t>(-(lo + 1)) + 1 : n.mag <= hi;
  }
  static int64_t value(const number& n) {
    return n.neg ? -static_cast<int64_t>(n.mag - 1) - 1 : static_cast<int64_t>(n.mag);
  }
  // A 32-bit immediate: sign-extended to 64 bits (signed range only) or not (also 0..2^32-1).
  bool imm32(const number& n, bool sext64, int32_t& out) {
    if (!in_range(n, INT32_MIN, sext64 ? INT32_MAX : UINT32_MAX)) {
      if (sext64)
        return fail("immediate '{}' does not fit in a sign-extended 32-bit field", n.text);
      return fail("immediate '{}' does not fit in 32 bits", n.text);
    }
    out = static_cast<int32_t>(static_cast<uint32_t>(value(n)));
    return true;
  }
  bool parse_imm32(bool sext64, int32_t& out) {
    number n;
    return parse_number(n, "immediate") && imm32(n, sext64, out);
  }

  // "(u64 *)(r1 +8)" after the '*' of a load or store, or after "atomic_op(".
  bool parse_mem(mem_operand& m, bool allow_sx) {
    if (!expect("(")) return false;
    ws();
    const size_t save = p_;
    const auto w = word();
    static constexpr std::pair<std::string_view, uint8_t> sizes[] = {
        {"u8", BPF_B}, {"u16", BPF_H}, {"u32", BPF_W}, {"u64", BPF_DW},
        {"s8", BPF_B}, {"s16", BPF_H}, {"s32", BPF_W}};
    bool found = false;
    for (auto [name, sz] : sizes) {
      if (w == name) {
        m.size = sz;
        m.sx = name[0] == 's';
        found = true;
      }
    }
    if (!found) {
      p_ = save;
      return fail("expected access size u8, u16, u32 or u64, found {}", tok());
    }
    if (m.sx && !allow_sx) {
      p_ = save;
      return fail("sign-extending access '{}' is only valid in a load", w);
    }
    if (!expect("*") || !expect(")") || !expect("(") || !parse_reg(m.base) || !want64(m.base))
      return false;
    m.off = 0;
    if (peek("+") || peek("-")) {
      number n;
      if (!parse_number(n, "offset")) return false;
      if (!in_range(n, INT16_MIN, INT16_MAX))
        return fail("offset '{}' does not fit in 16 bits", n.text);
      m.off = static_cast<int16_t>(value(n));
    }
    return expect(")");
  }

  // A jump or call target: "pc+N", "+N", "-N" or a label. `rel` is set for the numeric forms.
  bool parse_target(std::optional<int64_t>& rel, std::string& label) {
    ws();
    const size_t save = p_;
    if (eat_word("pc") && !(peek("+") || peek("-"))) p_ = save;  // a label named "pc"
    if (peek("+") || peek("-")) {
      number n;
      if (!parse_number(n, "offset")) return false;
      if (!in_range(n, INT32_MIN, INT32_MAX))
        return fail("offset '{}' does not fit in 32 bits", n.text);
      rel = value(n);
      return true;
    }
    if (ident_start(peek_char())) {
      label = std::string(word());
      return true;
    }
    return fail("expected jump target (pc+N, +N, -N or a label), found {}", tok());
  }

  // ---- emitting ----

  bool emit(const insn& i) {
    if (annotation_ && *annotation_ != i.code)
      return fail("opcode annotation ({:02x}) does not match the instruction's opcode ({:02x})",
                  *annotation_, i.code);
    out_.push_back(i);
    return true;
  }
  bool emit(const ins::wide& w) {
    if (!emit(w.lo)) return false;
    out_.push_back(w.hi);
    return true;
  }
  // A jump whose offset field is off (16-bit) or imm (32-bit, gotol).
  bool emit_jump(insn i, fixup::kind_t kind, const std::optional<int64_t>& rel,
                 const std::string& label) {
    if (rel) {
      if (kind == fixup::jump16 || kind == fixup::goto16) {
        if (!fits_off16(*rel, kind)) return false;
        i.off = static_cast<int16_t>(*rel);
      } else {
        i.imm = static_cast<int32_t>(*rel);
      }
    } else {
      fixups_.push_back({kind, out_.size(), label, line_});
    }
    return emit(i);
  }
  bool fits_off16(int64_t rel, fixup::kind_t kind) {
    if (rel >= INT16_MIN && rel <= INT16_MAX) return true;
    if (kind == fixup::goto16)
      return fail("jump offset {} does not fit in 16 bits; use gotol", rel);
    return fail("conditional jump offset {} does not fit in 16 bits", rel);
  }

  // ---- statements ----

  // Labels, index and opcode annotation before the instruction.
  bool prefix() {
    for (;;) {
      ws();
      const size_t save = p_;
      if (is_digit(peek_char())) {
        const auto w = word();
        if (!eat(":")) {
          p_ = save;
          return fail("expected ':' after the instruction index, found {}", tok());
        }
        size_t idx = 0;
        for (char c : w) {
          if (!is_digit(c) || idx > 100'000'000) {
            p_ = save;
            return fail("malformed instruction index '{}'", w);
          }
          idx = idx * 10 + (c - '0');
        }
        if (idx != out_.size())
          return fail("index {} does not match the instruction's position {}", idx, out_.size());
        continue;
      }
      if (ident_start(peek_char())) {
        const auto w = word();
        if (!eat(":")) {
          p_ = save;
          break;
        }
        if (reg_number(w) >= 0) {
          p_ = save;
          return fail("label '{}' is a register name", w);
        }
        auto [it, fresh] = labels_.try_emplace(std::string(w), out_.size(), line_);
        if (!fresh)
          return fail("duplicate label '{}' (first defined on line {})", w, it->second.second);
        continue;
      }
      break;
    }
    if (eat("(")) {
      ws();
      const size_t b = p_;
      while (p_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[p_]))) ++p_;
      if (p_ == b || p_ - b > 2 || !eat(")")) {
        p_ = b;
        return fail("expected opcode annotation '(xx)', found {}", tok());
      }
      annotation_ =
          static_cast<uint8_t>(std::stoul(std::string(s_.substr(b, p_ - b)), nullptr, 16));
      if (at_end()) return fail("expected instruction after opcode annotation, found end of line");
    }
    return true;
  }

  bool statement() {
    if (eat_word("exit")) return emit(ins::exit());
    if (eat_word("gotol")) {
      std::optional<int64_t> rel;
      std::string label;
      return parse_target(rel, label) && emit_jump(ins::gotol(0), fixup::jump32, rel, label);
    }
    if (eat_word("goto")) {
      std::optional<int64_t> rel;
      std::string label;
      return parse_target(rel, label) && emit_jump(ins::ja(0), fixup::goto16, rel, label);
    }
    if (eat_word("call")) return call();
    if (eat_word("if")) return cond();
    if (eat_word("lock")) return lock();
    if (eat("*")) return store();
    if (peek_reg()) return assign();
    return fail("expected instruction, found {}", tok());
  }

  bool call() {
    ws();
    const size_t save = p_;
    if (eat_word("pc")) {
      if (!(peek("+") || peek("-"))) {
        p_ = save;
      } else {
        std::optional<int64_t> rel;
        std::string label;
        return parse_target(rel, label) &&
               emit_jump(ins::call_local(0), fixup::call_target, rel, label);
      }
    }
    const char c = peek_char();
    if (is_digit(c) || c == '-' || c == '+') {
      int32_t id = 0;
      return parse_imm32(true, id) && emit(ins::call_helper(id));
    }
    if (!ident_start(c)) return fail("expected function, found {}", tok());
    const size_t b = p_;
    while (p_ < s_.size() && (ident_char(s_[p_]) || s_[p_] == '-')) ++p_;
    const std::string name(s_.substr(b, p_ - b));
    if (p_ < s_.size() && s_[p_] == '#') {
      ++p_;
      int32_t id = 0;
      if (!parse_imm32(true, id)) return false;
      if (name == "unknown") return emit(ins::call_helper(id));
      if (name == "kernel-function") return emit(ins::call_kfunc(id));
      return call_by_name(name, id);
    }
    fixups_.push_back({fixup::call_name, out_.size(), name, line_});
    return emit(ins::call_helper(0));
  }

  // "name#id": the name must be a known helper or kfunc with that id.
  bool call_by_name(const std::string& name, int32_t id) {
    if (const int32_t h = opts_.helper_id ? opts_.helper_id(name) : -1; h >= 0) {
      if (h != id) return fail("helper '{}' has id {}, not {}", name, h, id);
      return emit(ins::call_helper(id));
    }
    if (const int32_t k = opts_.kfunc_id ? opts_.kfunc_id(name) : -1; k >= 0) {
      if (k != id) return fail("kfunc '{}' has BTF id {}, not {}", name, k, id);
      return emit(ins::call_kfunc(id));
    }
    return fail("unknown function '{}'", name);
  }

  bool cond() {
    reg dst, src;
    if (!parse_reg(dst)) return false;
    static constexpr std::pair<std::string_view, uint8_t> ops[] = {
        {"s>=", BPF_JSGE}, {"s<=", BPF_JSLE}, {"s>", BPF_JSGT}, {"s<", BPF_JSLT},
        {"==", BPF_JEQ},   {"!=", BPF_JNE},   {">=", BPF_JGE},  {"<=", BPF_JLE},
        {">", BPF_JGT},    {"<", BPF_JLT},    {"&", BPF_JSET}};
    std::optional<uint8_t> o;
    for (auto [text, code] : ops) {
      if (eat(text)) {
        o = code;
        break;
      }
    }
    if (!o) return fail("expected comparison operator, found {}", tok());
    const uint8_t cls = dst.w ? BPF_JMP32 : BPF_JMP;
    insn i;
    if (peek_reg()) {
      if (!parse_reg(src) || !same_width(dst, src)) return false;
      i = ins::make(cls | *o | BPF_X, dst.n, src.n, 0, 0);
    } else {
      int32_t imm = 0;
      if (!parse_imm32(false, imm)) return false;
      i = ins::make(cls | *o | BPF_K, dst.n, 0, 0, imm);
    }
    if (!eat_word("goto")) return fail("expected 'goto', found {}", tok());
    std::optional<int64_t> rel;
    std::string label;
    return parse_target(rel, label) && emit_jump(i, fixup::jump16, rel, label);
  }

  // Atomic access sizes: u32 or u64 only.
  bool atomic_size(const mem_operand& m) {
    if (m.size == BPF_W || m.size == BPF_DW) return true;
    return fail("atomic operations are 32 or 64 bits wide, not {}",
                m.size == BPF_B ? "'u8'" : "'u16'");
  }
  // A register holding an atomic's value: rN, or wN for a 32-bit atomic.
  bool atomic_reg(const mem_operand& m, reg& r) {
    return parse_reg(r) && (m.size == BPF_W || want64(r));
  }

  bool lock() {
    mem_operand m;
    if (!expect("*") || !parse_mem(m, false) || !atomic_size(m)) return false;
    static constexpr std::pair<std::string_view, int32_t> ops[] = {
        {"+=", BPF_ADD}, {"|=", BPF_OR}, {"&=", BPF_AND}, {"^=", BPF_XOR}};
    std::optional<int32_t> aop;
    for (auto [text, code] : ops) {
      if (eat(text)) {
        aop = code;
        break;
      }
    }
    if (!aop) return fail("expected atomic operator +=, |=, &= or ^=, found {}", tok());
    reg src;
    return atomic_reg(m, src) && emit(ins::atomic(m.size, *aop, m.base.n, src.n, m.off));
  }

  bool store() {
    mem_operand m;
    if (!parse_mem(m, false) || !expect("=")) return false;
    if (peek_reg()) {
      reg src;
      if (!parse_reg(src) || (m.size == BPF_DW && !want64(src))) return false;
      return emit(ins::stx(m.size, m.base.n, src.n, m.off));
    }
    int32_t imm = 0;
    return parse_imm32(m.size == BPF_DW, imm) && emit(ins::st(m.size, m.base.n, m.off, imm));
  }

  // "rD <op> ..." and "rD = ...".
  bool assign() {
    reg dst;
    if (!parse_reg(dst)) return false;
    static constexpr std::pair<std::string_view, uint8_t> ops[] = {
        {"s>>=", BPF_ARSH}, {"s/=", BPF_DIV}, {"s%=", BPF_MOD}, {"<<=", BPF_LSH}, {">>=", BPF_RSH},
        {"+=", BPF_ADD},    {"-=", BPF_SUB},  {"*=", BPF_MUL},  {"/=", BPF_DIV},  {"|=", BPF_OR},
        {"&=", BPF_AND},    {"%=", BPF_MOD},  {"^=", BPF_XOR},  {"=", BPF_MOV}};
    std::optional<uint8_t> o;
    int16_t off = 0;
    for (auto [text, code] : ops) {
      if (eat(text)) {
        o = code;
        off = text[0] == 's' && code != BPF_ARSH;  // sdiv, smod
        break;
      }
    }
    if (!o) return fail("expected ALU operator, found {}", tok());
    if (*o == BPF_MOV) return rhs(dst);
    const uint8_t cls = dst.w ? BPF_ALU : BPF_ALU64;
    if (peek_reg()) {
      reg src;
      return parse_reg(src) && same_width(dst, src) &&
             emit(ins::make(cls | *o | BPF_X, dst.n, src.n, off, 0));
    }
    int32_t imm = 0;
    return parse_imm32(!dst.w, imm) && emit(ins::make(cls | *o | BPF_K, dst.n, 0, off, imm));
  }

  // Right-hand sides of "rD = ...".
  bool rhs(const reg& dst) {
    const uint8_t cls = dst.w ? BPF_ALU : BPF_ALU64;
    const size_t save = p_;
    if (eat("-")) {
      if (peek_reg()) {
        reg src;
        if (!parse_reg(src)) return false;
        if (src.n != dst.n || src.w != dst.w)
          return fail("negation is in place: expected '{} = -{}', found '-{}'", dst.name(),
                      dst.name(), src.name());
        return emit(ins::make(cls | BPF_NEG | BPF_K, dst.n, 0, 0, 0));
      }
      p_ = save;
    }
    if (eat("(")) return movsx(dst);
    if (eat("*")) return load(dst);
    ws();
    const auto w = peek_word();
    if (endian_bits(w)) return endian(dst);
    if (w.starts_with("atomic")) return atomic_fetch(dst);
    if (!w.empty() && s_.substr(p_ + w.size()).starts_with("[")) return pseudo(dst);
    if (peek_reg()) {
      reg src;
      return parse_reg(src) && same_width(dst, src) &&
             emit(ins::make(cls | BPF_MOV | BPF_X, dst.n, src.n, 0, 0));
    }
    number n;
    if (!parse_number(n, "register, immediate or operand")) return false;
    if (eat_word("ll") || (annotation_ == (BPF_LD | BPF_IMM | BPF_DW) && !dst.w)) {
      if (!want64(dst)) return false;
      return emit(ins::ld_imm64(dst.n, static_cast<uint64_t>(value(n))));
    }
    int32_t imm = 0;
    if (!dst.w && !in_range(n, INT32_MIN, INT32_MAX))
      return fail("immediate '{}' does not fit in a sign-extended 32-bit field; use '{} = {} ll'",
                  n.text, dst.name(), n.text);
    return imm32(n, !dst.w, imm) && emit(ins::make(cls | BPF_MOV | BPF_K, dst.n, 0, 0, imm));
  }

  bool movsx(const reg& dst) {
    ws();
    const size_t save = p_;
    const auto w = word();
    const int bits = w == "s8" ? 8 : w == "s16" ? 16 : w == "s32" ? 32 : 0;
    if (!bits) {
      p_ = save;
      return fail("expected cast (s8), (s16) or (s32), found {}", tok());
    }
    if (bits == 32 && dst.w) {
      p_ = save;
      return fail("(s32) sign extension needs 64-bit registers");
    }
    reg src;
    if (!expect(")") || !parse_reg(src) || !same_width(dst, src)) return false;
    return emit(dst.w ? ins::movsx32(dst.n, src.n, bits) : ins::movsx64(dst.n, src.n, bits));
  }

  bool load(const reg& dst) {
    mem_operand m;
    if (!parse_mem(m, true)) return false;
    if ((m.sx || m.size == BPF_DW) && !want64(dst)) return false;
    return emit(m.sx ? ins::ldsx(m.size, dst.n, m.base.n, m.off)
                     : ins::ldx(m.size, dst.n, m.base.n, m.off));
  }

  // Width of "be16".."bswap64", or 0 if `w` is not a byte swap.
  static int endian_bits(std::string_view w) {
    for (std::string_view kind : {"bswap", "be", "le"}) {
      if (!w.starts_with(kind)) continue;
      const auto bits = w.substr(kind.size());
      return bits == "16" ? 16 : bits == "32" ? 32 : bits == "64" ? 64 : 0;
    }
    return 0;
  }

  bool endian(const reg& dst) {
    const auto w = word();
    const int bits = endian_bits(w);
    reg src;
    if (!want64(dst) || !parse_reg(src)) return false;
    if (src.n != dst.n || src.w)
      return fail("'{}' is in place: expected '{} = {} {}', found '{}'", w, dst.name(), w,
                  dst.name(), src.name());
    return emit(w.starts_with("bswap") ? ins::bswap(dst.n, bits)
                : w.starts_with("be")  ? ins::to_be(dst.n, bits)
                                       : ins::to_le(dst.n, bits));
  }

  // "rS = atomic[64]_fetch_<op>((uN *)(rD +off), rS)", "..._xchg(...)" and
  // "r0 = atomic[64]_cmpxchg((uN *)(rD +off), r0, rS)".
  bool atomic_fetch(const reg& dst) {
    ws();
    const size_t save = p_;
    const auto w = word();
    const bool is64 = w.starts_with("atomic64_");
    const auto name = w.substr(is64 ? 9 : w.starts_with("atomic_") ? 7 : w.size());
    static constexpr std::pair<std::string_view, int32_t> ops[] = {
        {"fetch_add", BPF_ADD | BPF_FETCH},
        {"fetch_or", BPF_OR | BPF_FETCH},
        {"fetch_and", BPF_AND | BPF_FETCH},
        {"fetch_xor", BPF_XOR | BPF_FETCH},
        {"xchg", BPF_XCHG},
        {"cmpxchg", BPF_CMPXCHG}};
    std::optional<int32_t> aop;
    for (auto [text, code] : ops)
      if (name == text) aop = code;
    if (!aop) {
      p_ = save;
      return fail("unknown atomic operation '{}'", w);
    }
    mem_operand m;
    if (!expect("(") || !parse_mem(m, false) || !atomic_size(m)) return false;
    if (is64 != (m.size == BPF_DW))
      return fail("'{}' does not match access size '{}'", w, m.size == BPF_DW ? "u64" : "u32");
    reg src, r0;
    if (*aop == BPF_CMPXCHG) {
      if (!expect(",") || !atomic_reg(m, r0)) return false;
      if (r0.n != 0 || dst.n != 0 || r0.w != dst.w || (m.size == BPF_DW && dst.w))
        return fail("cmpxchg compares with and returns in r0: expected 'r0 = {}(..., r0, rN)'", w);
      if (!expect(",") || !atomic_reg(m, src)) return false;
    } else {
      if (!expect(",") || !atomic_reg(m, src)) return false;
      if (src.n != dst.n || src.w != dst.w)
        return fail(
            "'{}' returns the old value in its operand register: expected '{} = {}(..., {})'", w,
            src.name(), w, src.name());
    }
    return expect(")") && emit(ins::atomic(m.size, *aop, m.base.n, src.n, m.off));
  }

  // ld_imm64 with a pseudo source: "map_fd[3]", "map_value[3]+16", "func[+5]", ...
  bool pseudo(const reg& dst) {
    ws();
    const size_t save = p_;
    const auto w = word();
    static constexpr std::pair<std::string_view, uint8_t> kinds[] = {
        {"map_fd", BPF_PSEUDO_MAP_FD},   {"map_value", BPF_PSEUDO_MAP_VALUE},
        {"btf_id", BPF_PSEUDO_BTF_ID},   {"func", BPF_PSEUDO_FUNC},
        {"map_idx", BPF_PSEUDO_MAP_IDX}, {"map_idx_value", BPF_PSEUDO_MAP_IDX_VALUE}};
    std::optional<uint8_t> src;
    for (auto [text, code] : kinds)
      if (w == text) src = code;
    if (!src) {
      p_ = save;
      return fail(
          "unknown ld_imm64 operand '{}' (expected map_fd, map_value, btf_id, func, "
          "map_idx or map_idx_value)",
          w);
    }
    if (!want64(dst) || !expect("[")) return false;
    if (*src == BPF_PSEUDO_FUNC) {
      std::optional<int64_t> rel;
      std::string label;
      if (!parse_target(rel, label) || !expect("]")) return false;
      if (!rel) fixups_.push_back({fixup::func_ref, out_.size(), label, line_});
      return emit(ins::ld_imm64(dst.n, static_cast<uint32_t>(rel.value_or(0)), *src));
    }
    int32_t imm = 0, off = 0;
    if (!parse_imm32(false, imm) || !expect("]")) return false;
    const bool has_off = *src == BPF_PSEUDO_MAP_VALUE || *src == BPF_PSEUDO_MAP_IDX_VALUE;
    if (has_off && eat("+") && !parse_imm32(false, off)) return false;
    const uint64_t v =
        static_cast<uint64_t>(static_cast<uint32_t>(off)) << 32 | static_cast<uint32_t>(imm);
    return emit(ins::ld_imm64(dst.n, v, *src));
  }
};

}  // namespace

result<std::vector<insn>> assemble(std::string_view text, const asm_opts& opts) {
  std::vector<insn> out;
  std::vector<fixup> fixups;
  label_map labels;
  int line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (const size_t c = line.find("//"); c != std::string_view::npos) line = line.substr(0, c);
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        line = line.substr(0, i);
        break;
      }
    }
    while (!line.empty()) {
      const size_t semi = line.find(';');
      const std::string_view stmt = line.substr(0, semi);
      line = semi == std::string_view::npos ? std::string_view{} : line.substr(semi + 1);
      stmt_parser sp(stmt, line_no, opts, out, fixups, labels);
      if (auto e = sp.run()) return *e;
    }
  }

  for (const fixup& f : fixups) {
    insn& i = out[f.slot];
    const auto l = labels.find(f.name);
    const int64_t rel = l == labels.end() ? 0
                                          : static_cast<int64_t>(l->second.first) -
                                                static_cast<int64_t>(f.slot) - 1;
    if (f.kind == fixup::call_name) {  // a label, else a helper, else a kfunc
      int32_t id = -1;
      if (l != labels.end()) {
        i.src_reg = BPF_PSEUDO_CALL;
        i.imm = static_cast<int32_t>(rel);
      } else if (id = opts.helper_id ? opts.helper_id(f.name) : -1; id >= 0) {
        i.imm = id;
      } else if (id = opts.kfunc_id ? opts.kfunc_id(f.name) : -1; id >= 0) {
        i = ins::call_kfunc(id);
      } else {
        return error{fmt::format("line {}: unknown function or label '{}'", f.line, f.name)};
      }
      continue;
    }
    if (l == labels.end())
      return error{fmt::format("line {}: undefined label '{}'", f.line, f.name)};
    switch (f.kind) {
      case fixup::goto16:
      case fixup::jump16:
        if (rel < INT16_MIN || rel > INT16_MAX)
          return error{fmt::format("line {}: jump offset {} to '{}' does not fit in 16 bits{}",
                                   f.line, rel, f.name,
                                   f.kind == fixup::goto16 ? "; use gotol" : "")};
        i.off = static_cast<int16_t>(rel);
        break;
      default:  // jump32, call_target, func_ref: the offset is in imm
        i.imm = static_cast<int32_t>(rel);
        break;
    }
  }
  return out;
}

}  // namespace mmbpf::bpf
