// bench_transform's cases (bench_transform_cases.hpp): the scalar baseline of each op, written as plain loops
// over the batch, the list of ops with their baselines, and the inputs every case runs on.
#include "bench_transform_cases.hpp"

#include <math.h>

#include <algorithm>
#include <random>

#include "core/hash.hpp"

namespace ferry::perf::bench_transform {
namespace {

std::uint64_t sample_key(std::uint64_t id) {
  // The chain's key for op index 0: hash(seed, epoch, id, 0).
  return ferry::hash_combine(ferry::hash_combine(ferry::hash_combine(kSeed, kEpoch), id), 0);
}

void base_cast(const std::byte* in, std::byte* out, const std::uint64_t*) {
  const auto* x = reinterpret_cast<const std::uint8_t*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t i = 0; i < kN * kElems; ++i) y[i] = static_cast<float>(x[i]) * 0.0039f + 0.0f;
}

void base_affine(const std::byte* in, std::byte* out, const std::uint64_t*) {
  const float sub[kC] = {0.485f, 0.456f, 0.406f}, div[kC] = {0.229f, 0.224f, 0.225f};
  const auto* x = reinterpret_cast<const float*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t p = 0; p < kN * kPixels; ++p)
    for (std::size_t c = 0; c < kC; ++c) y[p * kC + c] = (x[p * kC + c] - sub[c]) / div[c];
}

void base_log1p(const std::byte* in, std::byte* out, const std::uint64_t*) {
  const auto* x = reinterpret_cast<const float*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t i = 0; i < kN * kElems; ++i) y[i] = ::log1pf(x[i]);
}

void base_hwc_to_chw(const std::byte* in, std::byte* out, const std::uint64_t*) {
  const auto* x = reinterpret_cast<const float*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t s = 0; s < kN; ++s)
    for (std::size_t p = 0; p < kPixels; ++p)
      for (std::size_t c = 0; c < kC; ++c) y[(s * kC + c) * kPixels + p] = x[(s * kPixels + p) * kC + c];
}

// Window copy shared by the crop/flip baselines: per-sample placement, then rows.
void base_window(const float* x, float* y, std::size_t oh, std::size_t ow, long top, long left, bool flip) {
  for (std::size_t r = 0; r < oh; ++r) {
    for (std::size_t col = 0; col < ow; ++col) {
      const long sy = top + static_cast<long>(r);
      const long sx = left + static_cast<long>(flip ? ow - 1 - col : col);
      const bool inside = sy >= 0 && sx >= 0 && sy < static_cast<long>(kH) && sx < static_cast<long>(kW);
      for (std::size_t c = 0; c < kC; ++c)
        y[(r * ow + col) * kC + c] = inside ? x[(sy * kW + sx) * kC + c] : 0.0f;
    }
  }
}

void base_center_crop(const std::byte* in, std::byte* out, const std::uint64_t*) {
  for (std::size_t s = 0; s < kN; ++s)
    base_window(reinterpret_cast<const float*>(in) + s * kElems,
                reinterpret_cast<float*>(out) + s * 192 * 192 * kC, 192, 192, 16, 16, false);
}

std::uint64_t draw(std::uint64_t id, std::uint64_t k) {
  return ferry::hash_combine(sample_key(id), 0xfedcba9800000000ULL + k);
}

void base_random_crop(const std::byte* in, std::byte* out, const std::uint64_t* ids) {
  for (std::size_t s = 0; s < kN; ++s) {
    const long top = static_cast<long>(((draw(ids[s], 0) >> 32) * 9) >> 32) - 4;
    const long left = static_cast<long>(((draw(ids[s], 1) >> 32) * 9) >> 32) - 4;
    base_window(reinterpret_cast<const float*>(in) + s * kElems, reinterpret_cast<float*>(out) + s * kElems,
                kH, kW, top, left, false);
  }
}

void base_random_flip(const std::byte* in, std::byte* out, const std::uint64_t* ids) {
  for (std::size_t s = 0; s < kN; ++s) {
    const bool flip = ferry::unit_float(draw(ids[s], 2)) < 0.5f;
    base_window(reinterpret_cast<const float*>(in) + s * kElems, reinterpret_cast<float*>(out) + s * kElems,
                kH, kW, 0, 0, flip);
  }
}

void base_resize(const std::byte* in, std::byte* out, const std::uint64_t*) {
  constexpr std::size_t kOh = 160, kOw = 160;
  const float sy = static_cast<float>(kH) / kOh, sx = static_cast<float>(kW) / kOw;
  const auto* x = reinterpret_cast<const float*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t s = 0; s < kN; ++s) {
    const float* src = x + s * kElems;
    for (std::size_t r = 0; r < kOh; ++r) {
      const float fy = std::max((r + 0.5f) * sy - 0.5f, 0.0f);
      const std::size_t y0 = static_cast<std::size_t>(fy), y1 = std::min(y0 + 1, kH - 1);
      const float ly = fy - y0;
      for (std::size_t col = 0; col < kOw; ++col) {
        const float fx = std::max((col + 0.5f) * sx - 0.5f, 0.0f);
        const std::size_t x0 = static_cast<std::size_t>(fx), x1 = std::min(x0 + 1, kW - 1);
        const float lx = fx - x0;
        for (std::size_t c = 0; c < kC; ++c) {
          const auto at = [&](std::size_t yy, std::size_t xx) { return src[(yy * kW + xx) * kC + c]; };
          y[((s * kOh + r) * kOw + col) * kC + c] = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
                                                    ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
        }
      }
    }
  }
}

void base_noise(const std::byte* in, std::byte* out, const std::uint64_t* ids) {
  const auto* x = reinterpret_cast<const float*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t s = 0; s < kN; ++s) {
    const std::uint64_t key = sample_key(ids[s]);
    for (std::size_t e = 0; e < kElems; ++e) {
      const std::uint64_t bits = ferry::hash_combine(key, e);
      const float u1 = (static_cast<float>(bits >> 40) + 1.0f) * (1.0f / 16777216.0f);
      const float u2 = static_cast<float>((bits >> 16) & 0xffffff) * (1.0f / 16777216.0f);
      const float z = ::sqrtf(-2.0f * ::logf(u1)) * ::cosf(6.283185307179586f * u2);
      y[s * kElems + e] = x[s * kElems + e] + 0.0f + 0.1f * z;
    }
  }
}

}  // namespace

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"cast(scale=0.0039)", DType::u8, base_cast},
      {"normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])", DType::f32, base_affine},
      {"minmax(min=[0.485, 0.456, 0.406], max=[0.714, 0.68, 0.631])", DType::f32, base_affine},
      {"log1p", DType::f32, base_log1p},
      {"hwc_to_chw", DType::f32, base_hwc_to_chw},
      {"center_crop(height=192, width=192)", DType::f32, base_center_crop},
      {"random_crop(height=224, width=224, padding=4)", DType::f32, base_random_crop},
      {"random_flip", DType::f32, base_random_flip},
      {"resize(height=160, width=160)", DType::f32, base_resize},
      {"noise(std=0.1)", DType::f32, base_noise},
  };
  return kCases;
}

// Inputs in [0, 1) as f32, or 0..255 as u8; one buffer, viewed as either.
const std::vector<std::byte>& input_bytes(DType dtype) {
  static const auto make = [](DType t) {
    std::mt19937 gen(1);
    std::vector<std::byte> bytes(kN * kElems * ferry::dtype_size(t));
    for (std::size_t i = 0; i < kN * kElems; ++i) {
      if (t == DType::u8) {
        bytes[i] = static_cast<std::byte>(gen() & 0xff);
      } else {
        reinterpret_cast<float*>(bytes.data())[i] = std::uniform_real_distribution<float>(0, 1)(gen);
      }
    }
    return bytes;
  };
  static const std::vector<std::byte> kU8 = make(DType::u8), kF32 = make(DType::f32);
  return dtype == DType::u8 ? kU8 : kF32;
}

}  // namespace ferry::perf::bench_transform
