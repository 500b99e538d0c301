// Plain geometry of an image batch as the kernels see it (C++17, so the CUDA launcher can include it).
#pragma once

#include <cstddef>

namespace ferry::transform {

// `planes` rows of H*W pixels, each of `inner` interleaved values. HWC is (1, H, W, C); CHW is (C, H, W, 1).
struct ImageGeometry {
  std::size_t planes = 1;
  std::size_t height = 1;
  std::size_t width = 1;
  std::size_t inner = 1;
};

}  // namespace ferry::transform
