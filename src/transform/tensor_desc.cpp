#include "transform/tensor_desc.hpp"

#include "core/strings.hpp"

namespace ferry::transform {

const char* layout_name(ImageLayout layout) noexcept {
  switch (layout) {
    case ImageLayout::none:
      return "none";
    case ImageLayout::hwc:
      return "hwc";
    case ImageLayout::chw:
      return "chw";
  }
  return "?";
}

TensorDesc TensorDesc::of(DType dtype, std::vector<std::size_t> shape) {
  TensorDesc desc;
  desc.dtype = dtype;
  desc.layout = (shape.size() == 2 || shape.size() == 3) ? ImageLayout::hwc : ImageLayout::none;
  desc.shape = std::move(shape);
  return desc;
}

TensorDesc TensorDesc::bytes_of_variable_length() {
  TensorDesc desc;
  desc.shape = {0};
  desc.variable = true;
  return desc;
}

std::size_t TensorDesc::elements() const noexcept {
  if (variable) return 0;
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

std::size_t TensorDesc::height() const noexcept {
  if (layout == ImageLayout::chw) return shape[1];
  return shape[0];
}

std::size_t TensorDesc::width() const noexcept {
  if (layout == ImageLayout::chw) return shape[2];
  return shape[1];
}

std::size_t TensorDesc::channels() const noexcept {
  if (layout == ImageLayout::chw) return shape[0];
  return shape.size() == 3 ? shape[2] : 1;
}

std::size_t TensorDesc::channel_count() const noexcept {
  if (image()) return channels();
  return shape.empty() ? 1 : shape[0];
}

std::size_t TensorDesc::channel_stride() const noexcept {
  if (layout == ImageLayout::hwc) return 1;
  if (layout == ImageLayout::chw) return shape[1] * shape[2];
  std::size_t n = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

std::string TensorDesc::shape_str() const {
  if (!variable) return str_cat("[", join(shape), "]");
  std::vector<std::string> dims;
  for (std::size_t d : shape) dims.push_back(d == 0 ? std::string("?") : std::to_string(d));
  return str_cat("[", join(dims), "]");
}

std::string TensorDesc::str() const {
  std::string text = str_cat(dtype_name(dtype), shape_str());
  if (image()) text += str_cat(" ", layout_name(layout));
  return text;
}

TensorDesc resized(const TensorDesc& like, std::size_t height, std::size_t width) {
  TensorDesc out = like;
  out.variable = height == 0 || width == 0;  // an image's other dimension (channels) is always known
  if (like.layout == ImageLayout::chw) {
    out.shape[1] = height;
    out.shape[2] = width;
  } else {
    out.shape[0] = height;
    out.shape[1] = width;
  }
  return out;
}

ImageGeometry geometry(const TensorDesc& desc) noexcept {
  ImageGeometry g;
  g.height = desc.height();
  g.width = desc.width();
  if (desc.layout == ImageLayout::chw) {
    g.planes = desc.channels();
  } else {
    g.inner = desc.channels();
  }
  return g;
}

}  // namespace ferry::transform
