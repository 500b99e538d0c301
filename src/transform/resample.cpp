#include "transform/resample.hpp"

#include <Kokkos_Core.hpp>  // before the kernels, so FERRY_HD is KOKKOS_INLINE_FUNCTION
#include <cstdint>

#include "core/check.hpp"
#include "transform/dispatch.hpp"
#include "transform/kernels_image.hpp"

namespace ferry::transform {

namespace {

kernels::Planes planes_of(const TensorDesc& desc, std::size_t height, std::size_t width) {
  const ImageGeometry g = geometry(desc);
  return {g.planes, height, width, g.inner};
}

template <typename T>
void resample_as(const std::byte* in, const TensorDesc& in_desc, const CropBox& box, std::byte* out,
                 const TensorDesc& out_desc) {
  const kernels::Planes src = planes_of(in_desc, box.height, box.width);
  const kernels::Planes dst = planes_of(out_desc, out_desc.height(), out_desc.width());
  const kernels::Bilinear<T> f{reinterpret_cast<const T*>(in),
                               reinterpret_cast<T*>(out),
                               src,
                               dst,
                               static_cast<float>(src.height) / static_cast<float>(dst.height),
                               static_cast<float>(src.width) / static_cast<float>(dst.width),
                               box.top,
                               box.left,
                               in_desc.height(),
                               in_desc.width()};
  // One sample on the calling thread (the per-sample ops run on CPUs): plain loops, no launch per sample.
  for (std::size_t q = 0; q < dst.planes; ++q)
    for (std::size_t y = 0; y < dst.height; ++y) f(q, y);
}

}  // namespace

void resample(const std::byte* in, const TensorDesc& in_desc, const CropBox& box, std::byte* out,
              const TensorDesc& out_desc) {
  FERRY_ENFORCE(box.top + box.height <= in_desc.height() && box.left + box.width <= in_desc.width(),
                "resample window outside the image");
  if (in_desc.dtype == DType::u8)
    resample_as<std::uint8_t>(in, in_desc, box, out, out_desc);
  else
    resample_as<float>(in, in_desc, box, out, out_desc);
}

std::pair<std::size_t, std::size_t> shorter_side_size(std::size_t height, std::size_t width,
                                                      std::size_t shorter) {
  if (width <= height) return {shorter * height / width, shorter};
  return {shorter, shorter * width / height};
}

}  // namespace ferry::transform
