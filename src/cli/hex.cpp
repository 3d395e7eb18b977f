// Hex byte text parsing; see hex.h.
#include "cli/hex.h"

#include <fmt/format.h>

#include <cctype>

namespace mmbpf::cli {

result<std::vector<uint8_t>> parse_hex_bytes(std::string_view text) {
  std::vector<uint8_t> out;
  size_t i = 0;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  while (true) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) break;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    const std::string_view tok = text.substr(i, j - i);
    if (tok.size() != 2 || digit(tok[0]) < 0 || digit(tok[1]) < 0)
      return error{
          fmt::format("byte {}: '{}' is not a two-digit hex byte", out.size(), tok.substr(0, 16))};
    out.push_back(static_cast<uint8_t>(digit(tok[0]) * 16 + digit(tok[1])));
    i = j;
  }
  return out;
}

}  // namespace mmbpf::cli
