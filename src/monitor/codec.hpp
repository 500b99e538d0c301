// A small byte codec for monitoring messages: LEB128 varints, doubles as their IEEE-754 bits, strings as
// length + bytes. No schema, no dependency on roles or transport: the runtime ships the bytes as it likes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::monitor {

class Writer {
 public:
  void u64(std::uint64_t value);  // varint: 1 byte below 128, at most 10
  void f64(double value);         // 8 bytes, little-endian bit pattern: round trips exactly, NaN included
  void str(std::string_view text);
  void boolean(bool value) { u64(value ? 1 : 0); }

  const std::vector<std::byte>& bytes() const noexcept { return out_; }
  std::vector<std::byte> take() noexcept { return std::move(out_); }

 private:
  std::vector<std::byte> out_;
};

// Reads what a Writer wrote. Every read checks the remaining length; a truncated or malformed message throws
// ferry::Error naming `what` (the message kind) and the byte offset, so a bad peer cannot read past the end.
class Reader {
 public:
  Reader(std::span<const std::byte> in, std::string_view what) : in_(in), what_(what) {}

  std::uint64_t u64();
  std::uint32_t u32();  // a varint that must fit 32 bits
  double f64();
  std::string str();
  bool boolean();
  // Element count of a list that follows; refuses counts that the remaining bytes cannot hold (each element
  // takes at least `min_element_bytes`), so a corrupt count cannot make the decoder allocate gigabytes.
  std::size_t count(std::size_t min_element_bytes = 1);

  bool done() const noexcept { return pos_ == in_.size(); }
  void expect_done() const;  // throws when bytes are left over

  [[noreturn]] void fail(std::string_view why) const;

 private:
  std::span<const std::byte> in_;
  std::string_view what_;
  std::size_t pos_ = 0;
};

}  // namespace ferry::monitor
