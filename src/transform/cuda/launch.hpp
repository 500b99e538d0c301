// Host-callable entry points of the CUDA launcher (ferry_cuda). Plain C++: including this header needs no
// CUDA toolkit. Only compiled when FERRY_HAVE_CUDA; nothing here needs a GPU until a launch is made.
#pragma once

#include <cstddef>
#include <string>

#include "ferry/dtype.hpp"

namespace ferry::cuda {

// Visible CUDA devices; 0 when there is no driver or no device (never throws).
int device_count() noexcept;
// PCI bus id of visible device `ordinal` ("0000:65:00.0"), which NVML can look the same GPU up by whatever
// CUDA_VISIBLE_DEVICES says. Throws TransportError naming the CUDA call when it fails.
std::string pci_bus_id(int ordinal);

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

}  // namespace ferry::cuda
