// Bilinear resampling of one sample's window, for the ops that run per sample: resize on a variable input
// and random_resized_crop. u8 and f32 samples, any image layout. The result is byte for byte the one of
// kernels::Bilinear (the functor the fixed-shape resize and the CUDA launcher run): the same float
// expressions in the same order, computed separably (each source row interpolated horizontally once, then
// two such rows blended per output row) with the column indices and weights precomputed per output size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "transform/crop_box.hpp"
#include "transform/tensor_desc.hpp"

namespace ferry::transform {

// What happens to a resampled value on its way out. `flip` mirrors every output row (random_flip folded in).
// `lut` (u8 input only) maps each rounded u8 result of channel c to lut[c * 256 + value], written as f32:
// cast and normalize folded in, so the floats are written once.
struct ResampleEpilogue {
  bool flip = false;
  const float* lut = nullptr;
};

// Keeps its tables and row buffers between samples, so a steady stream of samples allocates nothing.
// Not thread-safe: one per op (a chain runs on one thread).
class Resampler {
 public:
  // Resamples window `box` of the image `in` (described by `in_desc`, fixed) to `out` (described by
  // `out_desc`, fixed: same layout and channels; same dtype, or f32 with a lut). dtype u8 or f32.
  void run(const std::byte* in, const TensorDesc& in_desc, const CropBox& box, std::byte* out,
           const TensorDesc& out_desc, const ResampleEpilogue& epilogue = {});

 private:
  template <typename T>
  void run_as(const T* in, const TensorDesc& in_desc, const CropBox& box, std::byte* out,
              const TensorDesc& out_desc, const ResampleEpilogue& epilogue);
  void columns(const CropBox& box, std::size_t out_width, std::size_t inner, bool flip);
  template <typename T>
  const float* source_row(const T* row, std::size_t row_index);

  // Per output value j of a row (pixel j / inner, value j % inner): the two source values' offsets in a
  // source row, their weights, and j's channel offset into the lut.
  std::vector<std::uint32_t> at0_, at1_, lut_at_;
  std::vector<float> w0_, w1_;
  std::vector<float> rows_[2];  // horizontally interpolated source rows
  std::size_t cached_[2] = {};  // which source row each holds (kNone: none)
};

// Resamples with a Resampler of its own (allocates): tests and one-off calls.
void resample(const std::byte* in, const TensorDesc& in_desc, const CropBox& box, std::byte* out,
              const TensorDesc& out_desc);

// torchvision's Resize(shorter): the shorter side becomes `shorter`, the longer one floor(shorter * long /
// short). Returns {height, width}.
std::pair<std::size_t, std::size_t> shorter_side_size(std::size_t height, std::size_t width,
                                                      std::size_t shorter);

}  // namespace ferry::transform
