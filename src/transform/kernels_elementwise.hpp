// Elementwise transform kernels, written once as element functors: plain structs of raw pointers and sizes
// whose operator()(i) handles flat element i of a whole batch. No std:: containers and no host-only calls,
// so Kokkos dispatches them on any execution space and cuda/launch.cu runs the same code in a __global__.
// Include Kokkos (or compile with nvcc) before this header so FERRY_HD expands to the device qualifiers.
#pragma once

#include <math.h>

#include <cstddef>
#include <cstdint>

#include "core/hash.hpp"

namespace ferry::transform::kernels {

// Arithmetic type of cast: float keeps 8/16-bit integers and f32 exact; wider inputs need double.
template <typename T>
struct CastMath {
  using type = double;
};
template <>
struct CastMath<float> {
  using type = float;
};
template <>
struct CastMath<std::uint8_t> {
  using type = float;
};
template <>
struct CastMath<std::int8_t> {
  using type = float;
};
template <>
struct CastMath<std::uint16_t> {
  using type = float;
};
template <>
struct CastMath<std::int16_t> {
  using type = float;
};

// y = x * scale + shift, any input type to f32.
template <typename In>
struct Cast {
  const In* in;
  float* out;
  double scale;
  double shift;

  FERRY_HD void operator()(std::size_t i) const {
    using M = typename CastMath<In>::type;
    out[i] = static_cast<float>(static_cast<M>(in[i]) * static_cast<M>(scale) + static_cast<M>(shift));
  }
};

// Work tag: the functor is called once per pixel (all its channels) instead of once per element.
struct PerPixel {};

// y = (x - sub[c]) / div[c] with c = (i / stride) % channels. normalize passes (mean, std), minmax passes
// (min, max - min). `stride` is 1 for HWC, H*W for CHW, the trailing-dimension product for layout none;
// a batch of whole samples keeps the formula valid across sample boundaries.
struct ChannelAffine {
  const float* in;
  float* out;
  const float* sub;  // `channels` values
  const float* div;  // `channels` values, none zero
  std::size_t stride;
  std::size_t channels;

  // Flat element i (the CUDA launcher's index space).
  FERRY_HD void operator()(std::size_t i) const {
    const std::size_t c = (i / stride) % channels;
    out[i] = (in[i] - sub[c]) / div[c];
  }
  // HWC (stride 1): pixel p's `channels` consecutive values; index space [0, count / channels).
  FERRY_HD void operator()(PerPixel, std::size_t p) const {
    const std::size_t base = p * channels;
    for (std::size_t c = 0; c < channels; ++c) out[base + c] = (in[base + c] - sub[c]) / div[c];
  }
  // Element (outer, c, s) of the [count / (channels * stride), channels, stride] index space: no division.
  FERRY_HD void operator()(std::size_t outer, std::size_t c, std::size_t s) const {
    const std::size_t i = (outer * channels + c) * stride + s;
    out[i] = (in[i] - sub[c]) / div[c];
  }
};

struct Log1p {
  const float* in;
  float* out;

  FERRY_HD void operator()(std::size_t i) const { out[i] = ::log1pf(in[i]); }
};

// Per-sample random key of op `op_index` of a chain: hash of (seed, epoch) as `batch_key`, the sample's data
// ID and the op's index, so a sample's draws never depend on its batch or position. Host and device alike.
FERRY_HD std::uint64_t sample_key(std::uint64_t batch_key, std::uint64_t id, std::uint64_t op_index) {
  return hash_combine(hash_combine(batch_key, id), op_index);
}

struct SampleKeys {
  const std::uint64_t* ids;
  std::uint64_t* keys;
  std::uint64_t batch_key;  // hash_combine(seed, epoch)
  std::uint64_t op_index;

  FERRY_HD void operator()(std::size_t s) const { keys[s] = sample_key(batch_key, ids[s], op_index); }
};

// Random bits for a per-sample decision number `k` (crop offset, flip): a stream kept apart from the
// per-element stream, which hashes element indices far below 2^63.
FERRY_HD std::uint64_t sample_bits(std::uint64_t key, std::uint64_t k) {
  return hash_combine(key, 0xfedcba9800000000ULL + k);
}

// Uniform integer in [0, n) for n < 2^32 (multiply-shift: no modulo bias worth speaking of, no division).
FERRY_HD std::uint64_t uniform_below(std::uint64_t bits, std::uint64_t n) {
  return ((bits >> 32) * n) >> 32;
}

// One N(0, 1) draw from 64 random bits: Box-Muller on two 24-bit uniforms, u1 in (0, 1] so log(u1) is finite.
FERRY_HD float standard_normal(std::uint64_t bits) {
  const float u1 = (static_cast<float>(bits >> 40) + 1.0f) * (1.0f / 16777216.0f);
  const float u2 = static_cast<float>((bits >> 16) & 0xffffffULL) * (1.0f / 16777216.0f);
  return ::sqrtf(-2.0f * ::logf(u1)) * ::cosf(6.283185307179586f * u2);
}

// y = x + mean + std * z, z drawn from hash_combine(sample key, element index within the sample): the
// value depends on (seed, epoch, sample id, op index, element) only, never on the batch.
struct GaussianNoise {
  const float* in;
  float* out;
  const std::uint64_t* keys;  // one per sample
  std::size_t sample_elements;
  float mean;
  float std;

  FERRY_HD void operator()(std::size_t i) const {
    const std::size_t s = i / sample_elements;
    (*this)(s, i - s * sample_elements);
  }
  // Element e of sample s, over the [n, sample_elements] index space.
  FERRY_HD void operator()(std::size_t s, std::size_t e) const {
    const std::size_t i = s * sample_elements + e;
    out[i] = in[i] + mean + std * standard_normal(hash_combine(keys[s], e));
  }
};

}  // namespace ferry::transform::kernels
