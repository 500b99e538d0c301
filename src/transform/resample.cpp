#include "transform/resample.hpp"

#include <cstring>
#include <limits>

#include "core/check.hpp"

namespace ferry::transform {

namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

// kernels::Bilinear's source coordinate of output index i: (i + 0.5) * scale - 0.5, clamped at 0; the
// lower neighbour, the upper one (clamped at the last index) and the upper one's weight.
struct Tap {
  std::size_t lo, hi;
  float weight;
};

Tap tap(std::size_t i, float scale, std::size_t extent) {
  float f = (static_cast<float>(i) + 0.5f) * scale - 0.5f;
  f = f < 0.0f ? 0.0f : f;
  const auto lo = static_cast<std::size_t>(f);
  return {lo, lo + (lo + 1 < extent ? 1 : 0), f - static_cast<float>(lo)};
}

// Four floats at a time with GCC/Clang vector extensions (SSE2 on any x86-64, NEON on arm64): the compiler
// at -O2 leaves these loops scalar because of the gathers, and one vector add or multiply rounds each lane
// exactly as the scalar one does, so the results stay kernels::Bilinear's.
using Floats = float __attribute__((vector_size(16)));
using Ints = std::int32_t __attribute__((vector_size(16)));
constexpr std::size_t kLanes = 4;

Floats load(const float* p) {
  Floats v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// kernels::Bilinear's u8 rounding: half up, saturated at 255 (v >= 0: a mix of values in [0, 255]).
std::uint8_t round_u8(float v) {
  return static_cast<std::uint8_t>(v >= 255.0f ? 255.0f : v + 0.5f);
}
Ints round_u8(Floats v) {
  const Floats top = {255.0f, 255.0f, 255.0f, 255.0f};
  return __builtin_convertvector(v >= top ? top : v + 0.5f, Ints);
}

// One output row from two interpolated source rows (weight ly of h1), as kernels::Bilinear blends them:
// u8 rounds (then goes through the lut when there is one), f32 is stored as computed.
template <typename T>
void blend_row(const float* h0, const float* h1, float ly, std::size_t count, std::byte* out,
               const float* lut, const std::uint32_t* lut_at) {
  const float wy0 = 1.0f - ly;
  std::size_t j = 0;
  if constexpr (sizeof(T) == 1) {
    if (lut) {
      auto* o = reinterpret_cast<float*>(out);
      for (; j + kLanes <= count; j += kLanes) {
        const Ints u = round_u8(wy0 * load(h0 + j) + ly * load(h1 + j));
        o[j] = lut[lut_at[j] + static_cast<std::uint32_t>(u[0])];
        o[j + 1] = lut[lut_at[j + 1] + static_cast<std::uint32_t>(u[1])];
        o[j + 2] = lut[lut_at[j + 2] + static_cast<std::uint32_t>(u[2])];
        o[j + 3] = lut[lut_at[j + 3] + static_cast<std::uint32_t>(u[3])];
      }
      for (; j < count; ++j) o[j] = lut[lut_at[j] + round_u8(wy0 * h0[j] + ly * h1[j])];
      return;
    }
    auto* o = reinterpret_cast<std::uint8_t*>(out);
    for (; j + kLanes <= count; j += kLanes) {
      const Ints u = round_u8(wy0 * load(h0 + j) + ly * load(h1 + j));
      for (std::size_t k = 0; k < kLanes; ++k) o[j + k] = static_cast<std::uint8_t>(u[k]);
    }
    for (; j < count; ++j) o[j] = round_u8(wy0 * h0[j] + ly * h1[j]);
  } else {
    auto* o = reinterpret_cast<float*>(out);
    for (; j + kLanes <= count; j += kLanes) {
      const Floats v = wy0 * load(h0 + j) + ly * load(h1 + j);
      std::memcpy(o + j, &v, sizeof v);
    }
    for (; j < count; ++j) o[j] = wy0 * h0[j] + ly * h1[j];
  }
}

// Four source values by offset, as floats (exact: u8 and f32 values convert without rounding).
Floats gather(const std::uint8_t* row, const std::uint32_t* at) {
  const Ints v = {row[at[0]], row[at[1]], row[at[2]], row[at[3]]};
  return __builtin_convertvector(v, Floats);
}
Floats gather(const float* row, const std::uint32_t* at) {
  return Floats{row[at[0]], row[at[1]], row[at[2]], row[at[3]]};
}

}  // namespace

void Resampler::columns(const CropBox& box, std::size_t out_width, std::size_t inner, bool flip) {
  const std::size_t count = out_width * inner;
  for (auto* v : {&at0_, &at1_, &lut_at_}) v->resize(count);
  w0_.resize(count);
  w1_.resize(count);
  const float scale = static_cast<float>(box.width) / static_cast<float>(out_width);
  for (std::size_t x = 0; x < out_width; ++x) {
    // A flipped row shows resampled column out_width - 1 - x at x: the flip costs nothing per pixel.
    const Tap t = tap(flip ? out_width - 1 - x : x, scale, box.width);
    for (std::size_t c = 0; c < inner; ++c) {
      const std::size_t j = x * inner + c;
      at0_[j] = static_cast<std::uint32_t>((box.left + t.lo) * inner + c);
      at1_[j] = static_cast<std::uint32_t>((box.left + t.hi) * inner + c);
      w0_[j] = 1.0f - t.weight;
      w1_[j] = t.weight;
      lut_at_[j] = static_cast<std::uint32_t>(c * 256);
    }
  }
  cached_[0] = cached_[1] = kNone;
}

template <typename T>
const float* Resampler::source_row(const T* row, std::size_t row_index) {
  for (int s = 0; s < 2; ++s)
    if (cached_[s] == row_index) return rows_[s].data();
  // Rows come in non-decreasing order: the slot with the lower row is the one no later output row needs.
  const int s = cached_[0] == kNone || (cached_[1] != kNone && cached_[0] < cached_[1]) ? 0 : 1;
  const std::size_t count = at0_.size();
  rows_[s].resize(count);
  float* h = rows_[s].data();
  const std::uint32_t *at0 = at0_.data(), *at1 = at1_.data();
  const float *w0 = w0_.data(), *w1 = w1_.data();
  std::size_t j = 0;
  for (; j + kLanes <= count; j += kLanes) {
    const Floats v = load(w0 + j) * gather(row, at0 + j) + load(w1 + j) * gather(row, at1 + j);
    std::memcpy(h + j, &v, sizeof v);
  }
  for (; j < count; ++j)
    h[j] = w0[j] * static_cast<float>(row[at0[j]]) + w1[j] * static_cast<float>(row[at1[j]]);
  cached_[s] = row_index;
  return h;
}

template <typename T>
void Resampler::run_as(const T* in, const TensorDesc& in_desc, const CropBox& box, std::byte* out,
                       const TensorDesc& out_desc, const ResampleEpilogue& epilogue) {
  const ImageGeometry src = geometry(in_desc), dst = geometry(out_desc);
  FERRY_ENFORCE(src.inner == dst.inner && src.planes == dst.planes, "resample changes the channels");
  FERRY_ENFORCE(src.width * src.inner <= std::numeric_limits<std::uint32_t>::max(), "image row too wide");
  columns(box, dst.width, dst.inner, epilogue.flip);
  const std::size_t in_row = src.width * src.inner, count = dst.width * dst.inner;
  const std::size_t out_row = count * (epilogue.lut ? sizeof(float) : sizeof(T));
  const float scale = static_cast<float>(box.height) / static_cast<float>(dst.height);
  for (std::size_t q = 0; q < dst.planes; ++q) {
    const T* plane = in + q * src.height * in_row;
    // CHW: a plane is a channel; HWC: the channel is the value's place in its pixel (lut_at_).
    const float* lut = epilogue.lut ? epilogue.lut + (dst.planes > 1 ? q * 256 : 0) : nullptr;
    cached_[0] = cached_[1] = kNone;
    for (std::size_t y = 0; y < dst.height; ++y) {
      const Tap t = tap(y, scale, box.height);
      const float* h0 = source_row(plane + (box.top + t.lo) * in_row, t.lo);
      const float* h1 = source_row(plane + (box.top + t.hi) * in_row, t.hi);
      blend_row<T>(h0, h1, t.weight, count, out + (q * dst.height + y) * out_row, lut, lut_at_.data());
    }
  }
}

void Resampler::run(const std::byte* in, const TensorDesc& in_desc, const CropBox& box, std::byte* out,
                    const TensorDesc& out_desc, const ResampleEpilogue& epilogue) {
  FERRY_ENFORCE(box.top + box.height <= in_desc.height() && box.left + box.width <= in_desc.width(),
                "resample window outside the image");
  FERRY_ENFORCE(!epilogue.lut || (in_desc.dtype == DType::u8 && out_desc.dtype == DType::f32),
                "a resample lut maps u8 to f32");
  if (in_desc.dtype == DType::u8)
    run_as(reinterpret_cast<const std::uint8_t*>(in), in_desc, box, out, out_desc, epilogue);
  else
    run_as(reinterpret_cast<const float*>(in), in_desc, box, out, out_desc, epilogue);
}

void resample(const std::byte* in, const TensorDesc& in_desc, const CropBox& box, std::byte* out,
              const TensorDesc& out_desc) {
  Resampler().run(in, in_desc, box, out, out_desc);
}

std::pair<std::size_t, std::size_t> shorter_side_size(std::size_t height, std::size_t width,
                                                      std::size_t shorter) {
  if (width <= height) return {shorter * height / width, shorter};
  return {shorter, shorter * width / height};
}

}  // namespace ferry::transform
