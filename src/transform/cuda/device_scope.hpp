// Makes a device the calling thread's current one for a scope and puts the previous one back: consumers call
// into Ferry on the training thread, whose current device belongs to the training code.
#pragma once

#include <cuda_runtime.h>

#include <cstdio>

#include "transform/cuda/check_cuda.hpp"

namespace ferry::cuda {

class DeviceScope {
 public:
  explicit DeviceScope(int ordinal) {
    FERRY_CHECK_CUDA(cudaGetDevice(&previous_));
    if (previous_ != ordinal) {
      FERRY_CHECK_CUDA(cudaSetDevice(ordinal));
      switched_ = true;
    }
  }
  ~DeviceScope() {
    if (switched_ && cudaSetDevice(previous_) != cudaSuccess)
      std::fprintf(stderr, "ferry: could not make CUDA device %d current again\n", previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
  bool switched_ = false;
};

}  // namespace ferry::cuda
