// GrowingBuffer: CUDA memory, on the device or pinned on the host, that grows to the largest size asked for
// and is then reused (CudaDevice's staging slots and program parameters).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "transform/cuda/check_cuda.hpp"

namespace ferry::cuda {

// FERRY_CHECK_CUDA for a call named by the caller (Memory::kAllocate, Memory::kRelease).
inline void check(cudaError_t rc, const char* call) {
  if (rc != cudaSuccess) ::ferry::detail::throw_cuda(call, static_cast<int>(rc), cudaGetErrorString(rc));
}

// Where a GrowingBuffer's memory comes from: the device, or pinned host memory (needed for copies that do
// not block the caller).
struct DeviceMemory {
  static cudaError_t allocate(void** p, std::size_t n) { return cudaMalloc(p, n); }
  static cudaError_t release(void* p) { return cudaFree(p); }
  static constexpr const char* kAllocate = "cudaMalloc";
  static constexpr const char* kRelease = "cudaFree";
};
struct PinnedMemory {
  static cudaError_t allocate(void** p, std::size_t n) { return cudaMallocHost(p, n); }
  static cudaError_t release(void* p) { return cudaFreeHost(p); }
  static constexpr const char* kAllocate = "cudaMallocHost";
  static constexpr const char* kRelease = "cudaFreeHost";
};

// Memory that grows and is reused. Growing frees the old buffer, and freeing waits for the device: that
// happens only while the first, largest jobs arrive.
template <typename Memory>
struct GrowingBuffer {
  void* data = nullptr;
  std::size_t size = 0;
  void reserve(std::size_t bytes) {
    if (bytes <= size) return;
    if (data) check(Memory::release(data), Memory::kRelease);
    data = nullptr;
    size = 0;
    check(Memory::allocate(&data, bytes), Memory::kAllocate);
    size = bytes;
  }
  void free() noexcept {
    if (data) ::ferry::detail::report_cuda(Memory::kRelease, Memory::release(data));
    data = nullptr;
  }
};
using DeviceBuffer = GrowingBuffer<DeviceMemory>;
using PinnedBuffer = GrowingBuffer<PinnedMemory>;

}  // namespace ferry::cuda
