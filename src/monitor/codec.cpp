#include "monitor/codec.hpp"

#include <bit>
#include <limits>

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::monitor {

void Writer::u64(std::uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<std::byte>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<std::byte>(value));
}

void Writer::f64(double value) {
  const auto bits = std::bit_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::byte>((bits >> (8 * i)) & 0xff));
}

void Writer::str(std::string_view text) {
  u64(text.size());
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  out_.insert(out_.end(), data, data + text.size());
}

void Reader::fail(std::string_view why) const {
  throw Error(str_cat("bad ", what_, " message at byte ", pos_, " of ", in_.size(), ": ", why));
}

std::uint64_t Reader::u64() {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ == in_.size()) fail("truncated varint");
    const auto byte = std::to_integer<std::uint64_t>(in_[pos_++]);
    if (shift == 63 && byte > 1) fail("varint overflows 64 bits");
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  fail("varint longer than 10 bytes");
}

std::uint32_t Reader::u32() {
  const std::uint64_t value = u64();
  if (value > std::numeric_limits<std::uint32_t>::max()) fail("value does not fit 32 bits");
  return static_cast<std::uint32_t>(value);
}

double Reader::f64() {
  if (in_.size() - pos_ < 8) fail("truncated double");
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits |= std::to_integer<std::uint64_t>(in_[pos_++]) << (8 * i);
  return std::bit_cast<double>(bits);
}

std::string Reader::str() {
  const std::size_t n = count(1);
  std::string text(reinterpret_cast<const char*>(in_.data() + pos_), n);
  pos_ += n;
  return text;
}

bool Reader::boolean() {
  const std::uint64_t value = u64();
  if (value > 1) fail("boolean is neither 0 nor 1");
  return value == 1;
}

std::size_t Reader::count(std::size_t min_element_bytes) {
  const std::uint64_t n = u64();
  const std::size_t left = in_.size() - pos_;
  if (min_element_bytes == 0) min_element_bytes = 1;
  if (n > left / min_element_bytes) fail(str_cat("count ", n, " exceeds the ", left, " bytes left"));
  return static_cast<std::size_t>(n);
}

void Reader::expect_done() const {
  if (!done()) fail(str_cat(in_.size() - pos_, " trailing bytes"));
}

}  // namespace ferry::monitor
