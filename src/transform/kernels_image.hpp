// Image transform kernels (layout transposes, crop/flip/pad windows, bilinear resize) as element functors;
// same rules as kernels_elementwise.hpp. Byte-generic ops move `Word`s: the unsigned type of the element's
// size, so one instantiation serves u16, i16 and (for the copy) every 2-byte type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "transform/kernels_elementwise.hpp"

namespace ferry::transform::kernels {

// Each image functor has two call forms: a flat operator()(i) for one-dimensional launchers (CUDA) and a
// multi-dimensional one that Kokkos' MDRangePolicy drives without per-element division.

// hwc -> chw: out[n][c][p] = in[n][p][c], p a pixel index in [0, pixels). Index space [n, channels, pixels].
template <typename Word>
struct HwcToChw {
  const Word* in;
  Word* out;
  std::size_t pixels;
  std::size_t channels;

  FERRY_HD void operator()(std::size_t n, std::size_t c, std::size_t p) const {
    out[(n * channels + c) * pixels + p] = in[(n * pixels + p) * channels + c];
  }
  FERRY_HD void operator()(std::size_t o) const {
    const std::size_t plane = o / pixels;  // n * channels + c
    (*this)(plane / channels, plane % channels, o - plane * pixels);
  }
};

// chw -> hwc: out[n][p][c] = in[n][c][p]. Index space [n, pixels, channels].
template <typename Word>
struct ChwToHwc {
  const Word* in;
  Word* out;
  std::size_t pixels;
  std::size_t channels;

  FERRY_HD void operator()(std::size_t n, std::size_t p, std::size_t c) const {
    out[(n * pixels + p) * channels + c] = in[(n * channels + c) * pixels + p];
  }
  FERRY_HD void operator()(std::size_t o) const {
    const std::size_t q = o / channels;  // n * pixels + p
    (*this)(q / pixels, q % pixels, o - q * channels);
  }
};

// Image batch geometry seen by the window and resize kernels: per sample, `planes` planes of
// height x width pixels of `inner` interleaved values (HWC: 1 plane, inner C; CHW: C planes, inner 1).
struct Planes {
  std::size_t planes;
  std::size_t height;
  std::size_t width;
  std::size_t inner;
};

// Where a sample's output window lies in its input: top/left may be negative or run past the edge
// (padding reads zeros); flip mirrors the window horizontally.
struct Placement {
  std::int64_t top;
  std::int64_t left;
  std::int32_t flip;
};

// Per-sample placements for random_crop / random_flip, one functor call per sample of the batch.
// Crop offsets are uniform in [-pad, in - out + pad]; flip happens with probability flip_p.
struct PlaceRandom {
  const std::uint64_t* keys;
  Placement* out;
  std::int64_t range_y;  // in_h - out_h + 2 * pad, >= 0
  std::int64_t range_x;
  std::int64_t pad;
  float flip_p;

  FERRY_HD void operator()(std::size_t s) const {
    Placement p;
    p.top = static_cast<std::int64_t>(uniform_below(sample_bits(keys[s], 0), range_y + 1)) - pad;
    p.left = static_cast<std::int64_t>(uniform_below(sample_bits(keys[s], 1), range_x + 1)) - pad;
    p.flip = unit_float(sample_bits(keys[s], 2)) < flip_p ? 1 : 0;
    out[s] = p;
  }
};

// Copies each sample's window (out geometry `dst`) out of its input (geometry `src`, same planes/inner).
// `places` holds one placement per sample, or is null for the same `fixed` placement everywhere.
template <typename Word>
struct Window {
  const Word* in;
  Word* out;
  Planes src;
  Planes dst;
  const Placement* places;
  Placement fixed;

  // Output pixel (q, y, x) with q = sample * planes + plane, all `inner` values of it. Index space
  // [n * planes, dst.height, dst.width].
  FERRY_HD void operator()(std::size_t q, std::size_t y, std::size_t x) const {
    const Placement p = places ? places[q / src.planes] : fixed;
    const std::int64_t sy = p.top + static_cast<std::int64_t>(y);
    const std::size_t wx = p.flip ? dst.width - 1 - x : x;
    const std::int64_t sx = p.left + static_cast<std::int64_t>(wx);
    Word* o = out + ((q * dst.height + y) * dst.width + x) * dst.inner;
    if (sy < 0 || sx < 0 || sy >= static_cast<std::int64_t>(src.height) ||
        sx >= static_cast<std::int64_t>(src.width)) {
      for (std::size_t c = 0; c < dst.inner; ++c) o[c] = Word(0);
      return;
    }
    const Word* i =
        in + ((q * src.height + static_cast<std::size_t>(sy)) * src.width + static_cast<std::size_t>(sx)) *
                 src.inner;
    for (std::size_t c = 0; c < dst.inner; ++c) o[c] = i[c];
  }
  // Flat output pixel index over [0, n * planes * dst.height * dst.width).
  FERRY_HD void operator()(std::size_t pixel) const {
    const std::size_t row = pixel / dst.width;
    (*this)(row / dst.height, row % dst.height, pixel - row * dst.width);
  }
  // Output row (q, y) whole; index space [n * planes, dst.height]. A row inside the input is one contiguous
  // run, copied as such or mirrored pixel by pixel, without the per-pixel bounds checks (a mirrored row took
  // 58 % of a consumer's time in cached image epochs with random_flip; issue 14).
  FERRY_HD void operator()(std::size_t q, std::size_t y) const {
    const Placement p = places ? places[q / src.planes] : fixed;
    const std::int64_t sy = p.top + static_cast<std::int64_t>(y);
    const bool inside = sy >= 0 && sy < static_cast<std::int64_t>(src.height) && p.left >= 0 &&
                        p.left + static_cast<std::int64_t>(dst.width) <= static_cast<std::int64_t>(src.width);
    if (!inside) {
      for (std::size_t x = 0; x < dst.width; ++x) (*this)(q, y, x);
      return;
    }
    const std::size_t run = dst.width * dst.inner;
    Word* o = out + (q * dst.height + y) * run;
    const Word* i = in + ((q * src.height + static_cast<std::size_t>(sy)) * src.width +
                          static_cast<std::size_t>(p.left)) *
                             src.inner;
    if (!p.flip) {
      for (std::size_t k = 0; k < run; ++k) o[k] = i[k];
      return;
    }
    // Mirrored: output pixel x is pixel width - 1 - x of the window, all `inner` words of it. One word a
    // pixel (planar images, CHW) is a plain reversed copy, which the compiler vectorizes.
    if (dst.inner == 1) {
      const Word* last = i + dst.width - 1;
      for (std::size_t x = 0; x < dst.width; ++x) o[x] = *(last - x);
      return;
    }
    for (std::size_t x = 0; x < dst.width; ++x) {
      const Word* from = i + (dst.width - 1 - x) * dst.inner;
      for (std::size_t c = 0; c < dst.inner; ++c) o[x * dst.inner + c] = from[c];
    }
  }
};

// Bilinear resize with the align_corners=false convention of torch and OpenCV: output pixel centre
// (y + 0.5) maps to input coordinate (y + 0.5) * in/out - 0.5, clamped at 0; the upper neighbour is
// clamped at the last row/column. The input may be a window of a larger image (random_resized_crop: the
// crop, then the resize, as torchvision does): rows [top, top + src.height) and columns [left, left +
// src.width) of planes `image_height` x `image_width` pixels (0: the window is the whole image). u8 results
// round half up and saturate; f32 results are stored as computed.
template <typename T>
struct Bilinear {
  const T* in;
  T* out;
  Planes src;
  Planes dst;
  float scale_y;  // src.height / dst.height
  float scale_x;
  std::size_t top = 0;
  std::size_t left = 0;
  std::size_t image_height = 0;
  std::size_t image_width = 0;

  // Flat output pixel index over [0, n * planes * dst.height * dst.width).
  FERRY_HD void operator()(std::size_t pixel) const {
    const std::size_t row = pixel / dst.width;
    (*this)(row / dst.height, row % dst.height, pixel - row * dst.width);
  }

  // Output pixel (q, y, x), all `inner` values; index space [n * planes, dst.height, dst.width].
  FERRY_HD void operator()(std::size_t q, std::size_t y, std::size_t x) const {
    float fy = (static_cast<float>(y) + 0.5f) * scale_y - 0.5f;
    fy = fy < 0.0f ? 0.0f : fy;
    const std::size_t y0 = static_cast<std::size_t>(fy);
    const std::size_t rows = image_height ? image_height : src.height;
    const std::size_t stride = (image_width ? image_width : src.width) * src.inner;  // values per input row
    const T* base = in + q * rows * stride + left * src.inner;
    const T* r0 = base + (top + y0) * stride;
    const T* r1 = base + (top + y0 + (y0 + 1 < src.height ? 1 : 0)) * stride;
    blend(r0, r1, fy - static_cast<float>(y0), out + ((q * dst.height + y) * dst.width + x) * dst.inner, x);
  }

  // Output row (q, y) whole, its source rows found once; index space [n * planes, dst.height].
  FERRY_HD void operator()(std::size_t q, std::size_t y) const {
    float fy = (static_cast<float>(y) + 0.5f) * scale_y - 0.5f;
    fy = fy < 0.0f ? 0.0f : fy;
    const std::size_t y0 = static_cast<std::size_t>(fy);
    const std::size_t rows = image_height ? image_height : src.height;
    const std::size_t stride = (image_width ? image_width : src.width) * src.inner;
    const T* base = in + q * rows * stride + left * src.inner;
    const T* r0 = base + (top + y0) * stride;
    const T* r1 = base + (top + y0 + (y0 + 1 < src.height ? 1 : 0)) * stride;
    T* o = out + (q * dst.height + y) * dst.width * dst.inner;
    for (std::size_t x = 0; x < dst.width; ++x)
      blend(r0, r1, fy - static_cast<float>(y0), o + x * dst.inner, x);
  }

  // Output column x between source rows r0 and r1 (weight ly of r1) into o.
  FERRY_HD void blend(const T* r0, const T* r1, float ly, T* o, std::size_t x) const {
    float fx = (static_cast<float>(x) + 0.5f) * scale_x - 0.5f;
    fx = fx < 0.0f ? 0.0f : fx;
    const std::size_t x0 = static_cast<std::size_t>(fx);
    const std::size_t x1 = x0 + (x0 + 1 < src.width ? 1 : 0);
    const float lx = fx - static_cast<float>(x0);
    for (std::size_t c = 0; c < dst.inner; ++c) {
      const float v00 = static_cast<float>(r0[x0 * src.inner + c]);
      const float v01 = static_cast<float>(r0[x1 * src.inner + c]);
      const float v10 = static_cast<float>(r1[x0 * src.inner + c]);
      const float v11 = static_cast<float>(r1[x1 * src.inner + c]);
      const float v = (1.0f - ly) * ((1.0f - lx) * v00 + lx * v01) + ly * ((1.0f - lx) * v10 + lx * v11);
      if constexpr (sizeof(T) == 1) {
        o[c] = static_cast<T>(v >= 255.0f ? 255.0f : v + 0.5f);  // v >= 0: a mix of values in [0, 255]
      } else {
        o[c] = v;
      }
    }
  }
};

using ResizeBilinear = Bilinear<float>;

}  // namespace ferry::transform::kernels
