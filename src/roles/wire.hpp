// Byte encoding for control messages: LEB128 varints and raw byte runs. Reader checks every bound, so a
// truncated or corrupt message is an InternalError naming what was being read, never a wild read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "core/check.hpp"

namespace ferry::roles {

class Writer {
 public:
  explicit Writer(std::size_t reserve = 64) { bytes_.reserve(reserve); }
  Writer& u(std::uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(static_cast<std::byte>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    bytes_.push_back(static_cast<std::byte>(v));
    return *this;
  }
  Writer& raw(std::span<const std::byte> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return *this;
  }
  // Reserves n bytes at the end and returns where they start (for writing payloads in place).
  std::byte* grow(std::size_t n) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + n);
    return bytes_.data() + at;
  }
  std::span<const std::byte> view() const noexcept { return bytes_; }
  std::vector<std::byte> take() noexcept { return std::move(bytes_); }
  std::size_t size() const noexcept { return bytes_.size(); }
  void clear() noexcept { bytes_.clear(); }

 private:
  std::vector<std::byte> bytes_;
};

// Counts the bytes a Writer would write for the same calls: the length of a prefix before what it prefixes is
// written, without writing it twice.
class ByteCount {
 public:
  ByteCount& u(std::uint64_t v) {
    for (bytes_ += 1; v >= 0x80; v >>= 7) ++bytes_;
    return *this;
  }
  ByteCount& raw(std::span<const std::byte> data) {
    bytes_ += data.size();
    return *this;
  }
  std::uint64_t size() const noexcept { return bytes_; }

 private:
  std::uint64_t bytes_ = 0;
};

class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  std::uint64_t u() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      FERRY_ENFORCE(pos_ < bytes_.size(), "control message truncated in a varint");
      const auto b = static_cast<std::uint8_t>(bytes_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    FERRY_ENFORCE(false, "control message has an overlong varint");
    return 0;
  }
  // Element count of a list that follows, each element at least `min_bytes` long: a corrupt count is refused
  // before anything is allocated for it.
  std::size_t count(std::size_t min_bytes) {
    const std::uint64_t n = u();
    FERRY_ENFORCE(n <= (bytes_.size() - pos_) / min_bytes, "control message lists ", n, " elements in ",
                  bytes_.size() - pos_, " bytes");
    return static_cast<std::size_t>(n);
  }
  std::span<const std::byte> raw(std::size_t n) {
    FERRY_ENFORCE(n <= bytes_.size() - pos_, "control message truncated: need ", n, " bytes, have ",
                  bytes_.size() - pos_);
    auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  bool done() const noexcept { return pos_ == bytes_.size(); }

 private:
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

}  // namespace ferry::roles
