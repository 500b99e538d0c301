// StreamLauncher: the launcher transform::run_program drives on the CUDA side (CudaDevice::launch), which
// enqueues each step's kernel on one stream through the launch.hpp entry points.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "ferry/dtype.hpp"
#include "transform/cuda/launch.hpp"
#include "transform/image_geometry.hpp"

namespace ferry::cuda {

// transform::run_program's launcher: every kernel enqueued on one stream, none waited for.
struct StreamLauncher {
  cudaStream_t stream;

  void sample_keys(const std::uint64_t* ids, std::uint64_t* keys, std::size_t n, std::uint64_t batch_key,
                   std::uint64_t op_index) {
    sample_keys_async(ids, keys, n, batch_key, op_index, stream);
  }
  void cast(DType from, const void* in, float* out, std::size_t count, double scale, double shift) {
    cast_to_f32_async(from, in, out, count, scale, shift, stream);
  }
  void affine(const float* in, float* out, std::size_t count, const float* sub, const float* div,
              std::size_t channels, std::size_t stride) {
    channel_affine_async(in, out, count, sub, div, channels, stride, stream);
  }
  void log1p(const float* in, float* out, std::size_t count) { log1p_async(in, out, count, stream); }
  void transpose(std::size_t word, bool to_chw, const void* in, void* out, std::size_t n, std::size_t pixels,
                 std::size_t channels) {
    transpose_async(word, to_chw, in, out, n, pixels, channels, stream);
  }
  void place_random(const std::uint64_t* keys, void* places, std::size_t n, std::int64_t range_y,
                    std::int64_t range_x, std::int64_t pad, float flip_p) {
    place_random_async(keys, places, n, range_y, range_x, pad, flip_p, stream);
  }
  void window(std::size_t word, const void* in, void* out, std::size_t n, const transform::ImageGeometry& src,
              const transform::ImageGeometry& dst, const void* places, std::int64_t top, std::int64_t left,
              bool flip) {
    window_async(word, in, out, n, src, dst, places, top, left, flip, stream);
  }
  void resize(const float* in, float* out, std::size_t n, const transform::ImageGeometry& src,
              const transform::ImageGeometry& dst) {
    resize_async(in, out, n, src, dst, stream);
  }
  void noise(const float* in, float* out, const std::uint64_t* keys, std::size_t n, std::size_t elements,
             float mean, float stdev) {
    noise_async(in, out, keys, n, elements, mean, stdev, stream);
  }
};

}  // namespace ferry::cuda
