// What one sample of a field looks like to a transform chain: element type, per-sample shape, image layout.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ferry/dtype.hpp"
#include "transform/image_geometry.hpp"

namespace ferry::transform {

// Image layout of a sample. `none` is any other rank (e.g. CosmoFlow's [4, W, W, W]): only elementwise ops
// apply there, with the first dimension as the channel axis.
enum class ImageLayout : unsigned char { none, hwc, chw };

const char* layout_name(ImageLayout layout) noexcept;

struct TensorDesc {
  DType dtype = DType::u8;
  std::vector<std::size_t> shape;  // per sample, without the batch axis; 0 where a variable shape varies
  ImageLayout layout = ImageLayout::none;
  // The shape differs from sample to sample (encoded bytes [?], a decoded image [?, ?, C]): the dimensions
  // that vary are 0 here and known only per sample. Only ops that take variable input (docs/transforms.md)
  // apply until one of them makes the shape fixed.
  bool variable = false;

  // The layout a field read from a file gets: [H, W] and [H, W, C] are HWC images, other ranks are none.
  static TensorDesc of(DType dtype, std::vector<std::size_t> shape);
  // Variable-length bytes (a vlen field): u8[?].
  static TensorDesc bytes_of_variable_length();

  bool fixed() const noexcept { return !variable; }

  std::size_t elements() const noexcept;  // 0 when variable
  std::size_t bytes() const noexcept { return elements() * dtype_size(dtype); }
  bool image() const noexcept { return layout != ImageLayout::none; }
  // Image geometry; valid only when image(). A 2-D [H, W] sample has one channel.
  std::size_t height() const noexcept;
  std::size_t width() const noexcept;
  std::size_t channels() const noexcept;
  // Channel count for per-channel ops: the image's C, else the first dimension (1 for a scalar).
  std::size_t channel_count() const noexcept;
  // Elements between two consecutive channel values of one pixel: 1 for HWC, H*W for CHW, the product of
  // the trailing dimensions for layout none.
  std::size_t channel_stride() const noexcept;

  // "u8[224, 224, 3] hwc", "u8[?, ?, 3] hwc": what error messages and docs print.
  std::string str() const;
  std::string shape_str() const;

  friend bool operator==(const TensorDesc&, const TensorDesc&) = default;
};

// Same element type and rank as `like` (2-D stays 2-D), with a new height and width (0: variable).
TensorDesc resized(const TensorDesc& like, std::size_t height, std::size_t width);

ImageGeometry geometry(const TensorDesc& desc) noexcept;

}  // namespace ferry::transform
