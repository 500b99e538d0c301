// The part of a chain an accelerator runs: a list of steps, each one of the kernels the CUDA launcher has
// for the same functors the host runs (src/transform/cuda/launch.hpp). An op describes itself as a step
// (Op::device_step()) when it has such a kernel; a chain is a DeviceProgram when every op does. Every
// built-in op has one. Plain C++: building and inspecting programs needs no CUDA, so which chains can be
// offloaded is decided (and tested) the same way on every machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ferry/dtype.hpp"
#include "transform/tensor_desc.hpp"

namespace ferry::transform {

struct DeviceStep {
  enum class Kind : unsigned char { cast, affine, log1p, transpose, window, resize, noise };
  Kind kind = Kind::log1p;
  // What the step reads and writes per sample; Chain::device_program fills them in.
  TensorDesc in, out;
  // Random steps (window with `random`, noise) draw from a per-sample key hashed from (seed, epoch, sample
  // ID, op_index), as Chain::run does on the host; Chain::device_program sets op_index.
  bool random = false;
  std::uint32_t op_index = 0;

  DType from = DType::f32;      // cast: the input dtype
  double scale = 1, shift = 0;  // cast
  std::vector<float> sub, div;  // affine: per channel, y = (x - sub[c]) / div[c]
  std::size_t stride = 1;       // affine: elements between channel changes (1 for HWC)
  bool to_chw = false;          // transpose: hwc -> chw, else chw -> hwc
  // window: a fixed placement (top, left, flip) or, when random, offsets uniform in [-pad, in - out + pad]
  // and a flip with probability flip_p.
  std::int64_t top = 0, left = 0, pad = 0;
  bool flip = false;
  float flip_p = 0;
  float mean = 0, stdev = 0;  // noise
};

struct DeviceProgram {
  TensorDesc input, output;  // per sample
  std::vector<DeviceStep> steps;
  bool random = false;               // some step is random: jobs carry DeviceArgs
  std::size_t max_sample_bytes = 0;  // largest per-sample size of the input, any intermediate and the output
};

// DeviceJob::context of a random program: the job's sample IDs (in job order) and the seed and epoch, so a
// sample's draws are the ones the host chain makes (they do not depend on the batch).
struct DeviceArgs {
  const std::uint64_t* ids = nullptr;
  std::uint64_t seed = 0;
  std::uint64_t epoch = 0;
};

}  // namespace ferry::transform
