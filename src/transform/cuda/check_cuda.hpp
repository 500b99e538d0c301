// FERRY_CHECK_CUDA(call): throws TransportError "cudaMalloc failed: out of memory" carrying the cudaError_t.
#pragma once

#include <cuda_runtime.h>

#include "core/check.hpp"

#define FERRY_CHECK_CUDA(call)                                                                        \
  do {                                                                                                \
    const cudaError_t ferry_ce_ = (call);                                                             \
    if (ferry_ce_ != cudaSuccess)                                                                     \
      ::ferry::detail::throw_cuda(#call, static_cast<int>(ferry_ce_), cudaGetErrorString(ferry_ce_)); \
  } while (0)
