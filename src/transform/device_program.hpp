// The part of a prepare chain an accelerator runs: a list of elementwise steps, each one of the kernels the
// CUDA launcher has for the same functors the host runs (src/transform/cuda/launch.hpp). An op describes
// itself as a step (Op::device_step()) when it has such a kernel; a chain is a DeviceProgram when every op
// does. Plain C++: building and inspecting programs needs no CUDA, so which chains can be offloaded is
// decided (and tested) the same way on every machine.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ferry/dtype.hpp"
#include "transform/tensor_desc.hpp"

namespace ferry::transform {

struct DeviceStep {
  enum class Kind : unsigned char { cast, affine, log1p };
  Kind kind = Kind::log1p;
  DType from = DType::f32;      // cast: the input dtype
  double scale = 1, shift = 0;  // cast
  std::vector<float> sub, div;  // affine: per channel, y = (x - sub[c]) / div[c]
  std::size_t stride = 1;       // affine: elements between channel changes (1 for HWC)
};

struct DeviceProgram {
  TensorDesc input, output;  // per sample
  std::vector<DeviceStep> steps;
};

}  // namespace ferry::transform
