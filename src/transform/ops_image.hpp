// Internal to the image ops (ops_image.cpp, ops_window.cpp): the kernels' view of an image, and the window
// ops' registration, which add_image_ops calls.
#pragma once

#include <Kokkos_Core.hpp>  // before the kernels, so FERRY_HD is KOKKOS_INLINE_FUNCTION

#include "transform/image_geometry.hpp"
#include "transform/kernels_image.hpp"
#include "transform/op.hpp"
#include "transform/tensor_desc.hpp"

namespace ferry::transform {

// An image desc as the kernels see it: planes of height x width pixels, `inner` values each.
inline kernels::Planes planes_of(const TensorDesc& desc) {
  const ImageGeometry g = geometry(desc);
  return {g.planes, g.height, g.width, g.inner};
}

// Registers center_crop, random_crop and random_flip (ops_window.cpp).
void add_window_ops(OpRegistry& registry);

}  // namespace ferry::transform
