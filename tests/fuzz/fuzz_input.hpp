// What every fuzz target shares: the input as bytes or text, a first byte that picks a mode, and the one way
// a target reports a broken property (a message and abort(), which libFuzzer records as a crash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

namespace ferry::fuzz {

struct Input {
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  // The first byte (0 when there is none); the rest of the input follows it.
  std::uint8_t mode() const { return size_ ? data_[0] : 0; }
  std::span<const std::byte> rest() const {
    if (!size_) return {};
    return {reinterpret_cast<const std::byte*>(data_ + 1), size_ - 1};
  }
  std::string rest_text() const {
    const auto r = rest();
    return {reinterpret_cast<const char*>(r.data()), r.size()};
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

// A property the target checks does not hold: print what and stop, so libFuzzer saves the input.
[[noreturn]] inline void broken(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz property broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace ferry::fuzz
