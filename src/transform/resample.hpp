// Bilinear resampling of one sample's window (kernels::Bilinear), for the ops that run per sample:
// resize on a variable input and random_resized_crop. u8 and f32 samples, any image layout.
#pragma once

#include <cstddef>

#include "transform/crop_box.hpp"
#include "transform/tensor_desc.hpp"

namespace ferry::transform {

// Resamples window `box` of the image `in` (described by `in_desc`, fixed) to `out` (described by
// `out_desc`: same dtype, layout and channels, fixed). dtype must be u8 or f32.
void resample(const std::byte* in, const TensorDesc& in_desc, const CropBox& box, std::byte* out,
              const TensorDesc& out_desc);

// torchvision's Resize(shorter): the shorter side becomes `shorter`, the longer one floor(shorter * long /
// short). Returns {height, width}.
std::pair<std::size_t, std::size_t> shorter_side_size(std::size_t height, std::size_t width,
                                                      std::size_t shorter);

}  // namespace ferry::transform
