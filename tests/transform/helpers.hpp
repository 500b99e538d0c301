// Shared helpers of the transform tests: random inputs, byte views, a one-call chain runner, and the prepare
// chains of the device program and accelerator tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "ferry/transform.hpp"
#include "transform/chain.hpp"

namespace ferry::transform::test {

template <typename T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed, double lo = 0.0, double hi = 255.0) {
  std::mt19937_64 gen(seed);
  std::vector<T> out(n);
  for (T& v : out) {
    const double x = std::uniform_real_distribution<double>(lo, hi)(gen);
    if constexpr (std::is_floating_point_v<T>) {
      v = static_cast<T>(x);
    } else {
      v = static_cast<T>(static_cast<long long>(x));
    }
  }
  return out;
}

template <typename T>
std::vector<std::byte> to_bytes(const std::vector<T>& values) {
  std::vector<std::byte> out(values.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

template <typename T>
std::vector<T> from_bytes(const std::vector<std::byte>& bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

inline std::vector<std::uint64_t> iota_ids(std::size_t n, std::uint64_t first = 0) {
  std::vector<std::uint64_t> ids(n);
  std::iota(ids.begin(), ids.end(), first);
  return ids;
}

// Runs `chain` over n samples held in `input` and returns the output bytes.
inline std::vector<std::byte> run(Chain& chain, const std::vector<std::byte>& input, std::size_t n,
                                  const std::vector<std::uint64_t>& ids, std::uint64_t seed = 7,
                                  std::uint64_t epoch = 0) {
  std::vector<std::byte> out(n * chain.output().bytes());
  chain.run(input.data(), out.data(), n, ids.data(), seed, epoch);
  return out;
}

// Builds a chain from text and runs it once over n samples with IDs 0..n-1.
inline std::vector<std::byte> run_text(const std::string& ops, const TensorDesc& desc,
                                       const std::vector<std::byte>& input, std::size_t n,
                                       Stage stage = Stage::augment, std::uint64_t seed = 7,
                                       std::uint64_t epoch = 0) {
  Chain chain(parse_op_chain(ops, "test"), desc, stage, "x");
  return run(chain, input, n, iota_ids(n), seed, epoch);
}

// The image the device program tests build their chains for: 6 x 5 pixels of 3 u8 channels.
inline const TensorDesc kProgramImage = TensorDesc::of(DType::u8, {6, 5, 3});

// A prepare chain of an "image" field, from text.
inline Chain prepare(const std::string& ops, const TensorDesc& desc = kProgramImage) {
  return Chain(parse_op_chain(ops, "t"), desc, Stage::prepare, "image");
}

}  // namespace ferry::transform::test
