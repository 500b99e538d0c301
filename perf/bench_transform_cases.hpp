// The cases bench_transform measures (bench_transform.cpp): each op's chain text, its input type and the
// scalar loop that computes the same thing (bench_transform_cases.cpp), and the batch they all run on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ferry/dtype.hpp"

namespace ferry::perf::bench_transform {

inline constexpr std::size_t kN = 8, kH = 224, kW = 224, kC = 3;
inline constexpr std::size_t kPixels = kH * kW, kElems = kPixels * kC;
inline constexpr std::uint64_t kSeed = 17, kEpoch = 2;

// Scalar baseline: in, out, sample ids; writes the same values the op does.
using Baseline = std::function<void(const std::byte*, std::byte*, const std::uint64_t*)>;

struct Case {
  std::string op;  // chain text
  DType input;
  Baseline baseline;
};

// Every op measured, with its baseline, in the order they are registered.
const std::vector<Case>& cases();

// Inputs in [0, 1) as f32, or 0..255 as u8; one buffer, viewed as either.
const std::vector<std::byte>& input_bytes(DType dtype);

inline std::string op_name(const std::string& text) {
  return text.substr(0, text.find('('));
}

}  // namespace ferry::perf::bench_transform
