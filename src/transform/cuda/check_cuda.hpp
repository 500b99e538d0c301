// FERRY_CHECK_CUDA(call): throws TransportError "cudaMalloc failed: out of memory" carrying the cudaError_t.
// FERRY_REPORT_CUDA(call): for teardown, where nothing may throw: the first failure is printed, one line
// naming the call, and teardown goes on.
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <cstdio>

#include "core/check.hpp"

#define FERRY_CHECK_CUDA(call)                                                                        \
  do {                                                                                                \
    const cudaError_t ferry_ce_ = (call);                                                             \
    if (ferry_ce_ != cudaSuccess)                                                                     \
      ::ferry::detail::throw_cuda(#call, static_cast<int>(ferry_ce_), cudaGetErrorString(ferry_ce_)); \
  } while (0)

namespace ferry::detail {
// After a sticky CUDA error every later call fails too: one line per process, the first failure.
inline void report_cuda(const char* call, cudaError_t rc) noexcept {
  static std::atomic<bool> said{false};
  if (rc == cudaSuccess || said.exchange(true)) return;
  std::fprintf(stderr, "ferry: %s failed during teardown: %s (later teardown failures are not shown)\n", call,
               cudaGetErrorString(rc));
}
}  // namespace ferry::detail

#define FERRY_REPORT_CUDA(call) ::ferry::detail::report_cuda(#call, (call))
