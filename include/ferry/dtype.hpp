// Element types of sample fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ferry {

enum class DType : std::uint8_t { u8, i8, u16, i16, u32, i32, u64, i64, f32, f64 };

constexpr std::size_t dtype_size(DType t) noexcept {
  switch (t) {
    case DType::u8:
    case DType::i8:
      return 1;
    case DType::u16:
    case DType::i16:
      return 2;
    case DType::u32:
    case DType::i32:
    case DType::f32:
      return 4;
    case DType::u64:
    case DType::i64:
    case DType::f64:
      return 8;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) noexcept {
  switch (t) {
    case DType::u8:
      return "u8";
    case DType::i8:
      return "i8";
    case DType::u16:
      return "u16";
    case DType::i16:
      return "i16";
    case DType::u32:
      return "u32";
    case DType::i32:
      return "i32";
    case DType::u64:
      return "u64";
    case DType::i64:
      return "i64";
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
  }
  return "?";
}

constexpr bool dtype_is_float(DType t) noexcept {
  return t == DType::f32 || t == DType::f64;
}

// Parses "u8", "int16", "float32", ...; returns false for anything else.
bool parse_dtype(std::string_view text, DType& out) noexcept;

}  // namespace ferry
