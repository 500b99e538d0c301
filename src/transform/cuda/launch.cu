// CUDA launcher for the elementwise transform functors. The functors are the very structs the Kokkos path
// dispatches (kernels_elementwise.hpp); here nvcc compiles their FERRY_HD operator() for the device.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "transform/cuda/check_cuda.hpp"
#include "transform/cuda/launch.hpp"
#include "transform/kernels_elementwise.hpp"
#include "transform/kernels_image.hpp"
#include "transform/word.hpp"

namespace ferry::cuda {

namespace {

// Grid-stride loop: any count fits a bounded grid, and the functor sees flat element indices as on the host.
template <typename Functor>
__global__ void for_each_kernel(Functor functor, std::size_t count) {
  const std::size_t step = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += step) {
    functor(i);
  }
}

template <typename Functor>
void enqueue(const Functor& functor, std::size_t count, void* stream) {
  if (count == 0) return;
  constexpr unsigned kThreads = 256;
  constexpr std::size_t kMaxBlocks = 65535;  // enough to fill any current GPU; the loop strides the rest
  const auto blocks = static_cast<unsigned>(std::min((count + kThreads - 1) / kThreads, kMaxBlocks));
  const auto s = static_cast<cudaStream_t>(stream);
  for_each_kernel<<<blocks, kThreads, 0, s>>>(functor, count);
  FERRY_CHECK_CUDA(cudaGetLastError());
}

template <typename Functor>
void launch(const Functor& functor, std::size_t count, void* stream) {
  enqueue(functor, count, stream);
  FERRY_CHECK_CUDA(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
}

// Device copy of a small host array (per-channel parameters), freed when the launch is done.
class DeviceArray {
 public:
  DeviceArray(const float* host, std::size_t n) {
    FERRY_CHECK_CUDA(cudaMalloc(&data_, n * sizeof(float)));
    const cudaError_t rc = cudaMemcpy(data_, host, n * sizeof(float), cudaMemcpyHostToDevice);
    if (rc != cudaSuccess) {
      cudaFree(std::exchange(data_, nullptr));
      FERRY_CHECK_CUDA(rc);
    }
  }
  ~DeviceArray() {
    // Never throws: a failed free is reported, the launch's own error (if any) is the one propagated.
    if (data_ && cudaFree(data_) != cudaSuccess) std::fprintf(stderr, "ferry: cudaFree failed\n");
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  const float* get() const noexcept { return data_; }

 private:
  float* data_ = nullptr;
};

transform::kernels::Planes planes(const transform::ImageGeometry& g) {
  return {g.planes, g.height, g.width, g.inner};
}

template <typename T>
void cast_typed(const void* in, float* out, std::size_t count, double scale, double shift, void* stream) {
  enqueue(transform::kernels::Cast<T>{static_cast<const T*>(in), out, scale, shift}, count, stream);
}

}  // namespace

int device_count() noexcept {
  int n = 0;
  // No driver or no device is an answer (0), not an error: hosts without GPUs run the host path.
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls are not confused by it
    return 0;
  }
  return n;
}

int current_device() noexcept {
  if (device_count() == 0) return -1;
  int ordinal = 0;
  if (cudaGetDevice(&ordinal) != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  return ordinal;
}

std::string pci_bus_id(int ordinal) {
  char id[32] = {};
  FERRY_CHECK_CUDA(cudaDeviceGetPCIBusId(id, static_cast<int>(sizeof id), ordinal));
  return id;
}

void copy_to_host(void* host, const void* device, std::size_t bytes) {
  FERRY_CHECK_CUDA(cudaMemcpy(host, device, bytes, cudaMemcpyDefault));
}

void cast_to_f32(DType from, const void* in, float* out, std::size_t count, double scale, double shift,
                 void* stream) {
  cast_to_f32_async(from, in, out, count, scale, shift, stream);
  FERRY_CHECK_CUDA(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
}

void cast_to_f32_async(DType from, const void* in, float* out, std::size_t count, double scale, double shift,
                       void* stream) {
  switch (from) {
    case DType::u8:
      return cast_typed<std::uint8_t>(in, out, count, scale, shift, stream);
    case DType::i8:
      return cast_typed<std::int8_t>(in, out, count, scale, shift, stream);
    case DType::u16:
      return cast_typed<std::uint16_t>(in, out, count, scale, shift, stream);
    case DType::i16:
      return cast_typed<std::int16_t>(in, out, count, scale, shift, stream);
    case DType::u32:
      return cast_typed<std::uint32_t>(in, out, count, scale, shift, stream);
    case DType::i32:
      return cast_typed<std::int32_t>(in, out, count, scale, shift, stream);
    case DType::u64:
      return cast_typed<std::uint64_t>(in, out, count, scale, shift, stream);
    case DType::i64:
      return cast_typed<std::int64_t>(in, out, count, scale, shift, stream);
    case DType::f32:
      return cast_typed<float>(in, out, count, scale, shift, stream);
    case DType::f64:
      return cast_typed<double>(in, out, count, scale, shift, stream);
  }
}

void channel_affine(const float* in, float* out, std::size_t count, const float* sub, const float* div,
                    std::size_t channels, std::size_t stride, void* stream) {
  const DeviceArray d_sub(sub, channels);
  const DeviceArray d_div(div, channels);
  launch(transform::kernels::ChannelAffine{in, out, d_sub.get(), d_div.get(), stride, channels}, count,
         stream);
}

void log1p(const float* in, float* out, std::size_t count, void* stream) {
  launch(transform::kernels::Log1p{in, out}, count, stream);
}

void channel_affine_async(const float* in, float* out, std::size_t count, const float* sub, const float* div,
                          std::size_t channels, std::size_t stride, void* stream) {
  enqueue(transform::kernels::ChannelAffine{in, out, sub, div, stride, channels}, count, stream);
}

void log1p_async(const float* in, float* out, std::size_t count, void* stream) {
  enqueue(transform::kernels::Log1p{in, out}, count, stream);
}

void sample_keys_async(const std::uint64_t* ids, std::uint64_t* keys, std::size_t samples,
                       std::uint64_t batch_key, std::uint64_t op_index, void* stream) {
  enqueue(transform::kernels::SampleKeys{ids, keys, batch_key, op_index}, samples, stream);
}

void transpose_async(std::size_t word, bool to_chw, const void* in, void* out, std::size_t samples,
                     std::size_t pixels, std::size_t channels, void* stream) {
  const std::size_t count = samples * pixels * channels;
  transform::visit_word(word, [&](auto tag) {
    using W = decltype(tag);
    const auto* i = static_cast<const W*>(in);
    auto* o = static_cast<W*>(out);
    if (to_chw)
      enqueue(transform::kernels::HwcToChw<W>{i, o, pixels, channels}, count, stream);
    else
      enqueue(transform::kernels::ChwToHwc<W>{i, o, pixels, channels}, count, stream);
  });
}

std::size_t placement_bytes() noexcept {
  return sizeof(transform::kernels::Placement);
}

void place_random_async(const std::uint64_t* keys, void* places, std::size_t samples, std::int64_t range_y,
                        std::int64_t range_x, std::int64_t pad, float flip_p, void* stream) {
  enqueue(transform::kernels::PlaceRandom{keys, static_cast<transform::kernels::Placement*>(places), range_y,
                                          range_x, pad, flip_p},
          samples, stream);
}

void window_async(std::size_t word, const void* in, void* out, std::size_t samples,
                  const transform::ImageGeometry& src, const transform::ImageGeometry& dst,
                  const void* places, std::int64_t top, std::int64_t left, bool flip, void* stream) {
  const std::size_t pixels = samples * dst.planes * dst.height * dst.width;
  const transform::kernels::Placement fixed{top, left, flip ? 1 : 0};
  transform::visit_word(word, [&](auto tag) {
    using W = decltype(tag);
    enqueue(transform::kernels::Window<W>{static_cast<const W*>(in), static_cast<W*>(out), planes(src),
                                          planes(dst),
                                          static_cast<const transform::kernels::Placement*>(places), fixed},
            pixels, stream);
  });
}

void resize_async(const float* in, float* out, std::size_t samples, const transform::ImageGeometry& src,
                  const transform::ImageGeometry& dst, void* stream) {
  const std::size_t pixels = samples * dst.planes * dst.height * dst.width;
  const float sy = static_cast<float>(src.height) / static_cast<float>(dst.height);
  const float sx = static_cast<float>(src.width) / static_cast<float>(dst.width);
  enqueue(transform::kernels::ResizeBilinear{in, out, planes(src), planes(dst), sy, sx}, pixels, stream);
}

void noise_async(const float* in, float* out, const std::uint64_t* keys, std::size_t samples,
                 std::size_t sample_elements, float mean, float stdev, void* stream) {
  enqueue(transform::kernels::GaussianNoise{in, out, keys, sample_elements, mean, stdev},
          samples * sample_elements, stream);
}

}  // namespace ferry::cuda
