#include "transform/crop_box.hpp"

#include <algorithm>
#include <cmath>

#include "transform/kernels_elementwise.hpp"

namespace ferry::transform {

float KeyDraws::uniform(float lo, float hi) {
  return lo + (hi - lo) * unit_float(kernels::sample_bits(key_, next_++));
}

std::uint64_t KeyDraws::below(std::uint64_t n) {
  return kernels::uniform_below(kernels::sample_bits(key_, next_++), n);
}

namespace {

// Python's round(): half to even (the default floating-point rounding mode).
std::int64_t round_even(double v) {
  return static_cast<std::int64_t>(std::nearbyint(v));
}

}  // namespace

CropBox resized_crop_box(std::size_t height, std::size_t width, const CropRange& range, CropDraws& draws) {
  const auto h_in = static_cast<std::int64_t>(height), w_in = static_cast<std::int64_t>(width);
  const double area = static_cast<double>(height * width);
  // torchvision takes the logs of a float32 tensor, and draws in float32.
  const float log_lo = std::log(static_cast<float>(range.ratio_lo));
  const float log_hi = std::log(static_cast<float>(range.ratio_hi));
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * static_cast<double>(draws.uniform(static_cast<float>(range.scale_lo),
                                                                        static_cast<float>(range.scale_hi)));
    const double aspect = static_cast<double>(std::exp(draws.uniform(log_lo, log_hi)));
    const std::int64_t w = round_even(std::sqrt(target_area * aspect));
    const std::int64_t h = round_even(std::sqrt(target_area / aspect));
    if (0 < w && w <= w_in && 0 < h && h <= h_in) {
      const std::uint64_t top = draws.below(static_cast<std::uint64_t>(h_in - h + 1));
      const std::uint64_t left = draws.below(static_cast<std::uint64_t>(w_in - w + 1));
      return {top, left, static_cast<std::size_t>(h), static_cast<std::size_t>(w)};
    }
  }
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  std::int64_t w = w_in, h = h_in;
  if (in_ratio < range.ratio_lo) {
    h = round_even(static_cast<double>(w) / range.ratio_lo);
  } else if (in_ratio > range.ratio_hi) {
    w = round_even(static_cast<double>(h) * range.ratio_hi);
  }
  h = std::clamp<std::int64_t>(h, 1, h_in);
  w = std::clamp<std::int64_t>(w, 1, w_in);
  return {static_cast<std::size_t>((h_in - h) / 2), static_cast<std::size_t>((w_in - w) / 2),
          static_cast<std::size_t>(h), static_cast<std::size_t>(w)};
}

}  // namespace ferry::transform
