#include "core/strings.hpp"

#include <cctype>
#include <cstdio>

#include "ferry/dtype.hpp"

namespace ferry {

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      parts.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::string format_bytes(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) {
    bytes /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[unit]);
  return buf;
}

bool parse_dtype(std::string_view text, DType& out) noexcept {
  struct Name {
    std::string_view a, b;
    DType t;
  };
  static constexpr Name kNames[] = {
      {"u8", "uint8", DType::u8},     {"i8", "int8", DType::i8},       {"u16", "uint16", DType::u16},
      {"i16", "int16", DType::i16},   {"u32", "uint32", DType::u32},   {"i32", "int32", DType::i32},
      {"u64", "uint64", DType::u64},  {"i64", "int64", DType::i64},    {"f32", "float32", DType::f32},
      {"f64", "float64", DType::f64},
  };
  for (const auto& n : kNames) {
    if (text == n.a || text == n.b) {
      out = n.t;
      return true;
    }
  }
  return false;
}

}  // namespace ferry
