// Host-callable entry points of the CUDA launcher (ferry_cuda). Plain C++: including this header needs no
// CUDA toolkit. Only compiled when FERRY_HAVE_CUDA; nothing here needs a GPU until a launch is made.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "ferry/dtype.hpp"
#include "transform/image_geometry.hpp"

namespace ferry::cuda {

// Visible CUDA devices; 0 when there is no driver or no device (never throws).
int device_count() noexcept;
// The calling thread's current device (what cudaSetDevice / torch.cuda.set_device chose; 0 when nothing
// was chosen); -1 when there is no driver or no device.
int current_device() noexcept;
// PCI bus id of visible device `ordinal` ("0000:65:00.0"), which NVML can look the same GPU up by whatever
// CUDA_VISIBLE_DEVICES says. Throws TransportError naming the CUDA call when it fails.
std::string pci_bus_id(int ordinal);
// Copies `bytes` from device (or any CUDA-addressable) memory to host memory and waits for the copy; the
// runtime's unified addressing finds the device, so the caller's current device does not matter. Throws
// TransportError naming the CUDA call when it fails.
void copy_to_host(void* host, const void* device, std::size_t bytes);

// Elementwise ops on device memory with the same functors the Kokkos path runs (transform/kernels_*.hpp).
// `in`/`out` are device pointers holding `count` elements; `stream` is a cudaStream_t (null: the default
// stream). Each call waits for its kernel and throws TransportError naming the failed CUDA call.
void cast_to_f32(DType from, const void* in, float* out, std::size_t count, double scale, double shift,
                 void* stream = nullptr);
// y = (x - sub[c]) / div[c], c = (i / stride) % channels; sub/div are host arrays of `channels` values.
void channel_affine(const float* in, float* out, std::size_t count, const float* sub, const float* div,
                    std::size_t channels, std::size_t stride, void* stream = nullptr);
void log1p(const float* in, float* out, std::size_t count, void* stream = nullptr);

// The same kernels enqueued on `stream` without waiting (the caller synchronizes, e.g. with an event).
// channel_affine_async takes `sub`/`div` in device memory, which must stay valid until the kernel ran.
void cast_to_f32_async(DType from, const void* in, float* out, std::size_t count, double scale, double shift,
                       void* stream);
void channel_affine_async(const float* in, float* out, std::size_t count, const float* sub, const float* div,
                          std::size_t channels, std::size_t stride, void* stream);
void log1p_async(const float* in, float* out, std::size_t count, void* stream);

// The image and random ops, enqueued without waiting. `samples` samples of geometry `src` (input) and `dst`
// (output); byte-moving kernels take the element size `word` (1, 2, 4 or 8) and move elements of any dtype.
// keys[s] = hash(hash(batch_key, ids[s]), op_index): what transform::Chain::run draws from on the host.
void sample_keys_async(const std::uint64_t* ids, std::uint64_t* keys, std::size_t samples,
                       std::uint64_t batch_key, std::uint64_t op_index, void* stream);
void transpose_async(std::size_t word, bool to_chw, const void* in, void* out, std::size_t samples,
                     std::size_t pixels, std::size_t channels, void* stream);
// Bytes of one sample's placement in the `places` buffers below (device memory, samples * placement_bytes()).
std::size_t placement_bytes() noexcept;
// Per-sample crop offsets uniform in [-pad, range - pad] and a flip with probability flip_p, from `keys`.
void place_random_async(const std::uint64_t* keys, void* places, std::size_t samples, std::int64_t range_y,
                        std::int64_t range_x, std::int64_t pad, float flip_p, void* stream);
// Window copy (crop, pad, flip): `places` from place_random_async, or null for the fixed (top, left, flip).
void window_async(std::size_t word, const void* in, void* out, std::size_t samples,
                  const transform::ImageGeometry& src, const transform::ImageGeometry& dst,
                  const void* places, std::int64_t top, std::int64_t left, bool flip, void* stream);
void resize_async(const float* in, float* out, std::size_t samples, const transform::ImageGeometry& src,
                  const transform::ImageGeometry& dst, void* stream);
void noise_async(const float* in, float* out, const std::uint64_t* keys, std::size_t samples,
                 std::size_t sample_elements, float mean, float stdev, void* stream);

}  // namespace ferry::cuda
