// The NCCL link's data path (NcclLink, nccl_link.hpp): device memory, copies on the copy stream, transfers
// and caller marks recorded with pooled events, polled without blocking; and open_link, which makes one.
#include "transform/cuda/nccl/link.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <unordered_map>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transform/cuda/check_cuda.hpp"
#include "transform/cuda/device_scope.hpp"
#include "transform/cuda/nccl/nccl_link.hpp"

namespace ferry::nccl {

std::byte* NcclLink::allocate(std::size_t bytes) {
  const cuda::DeviceScope scope(ordinal_);
  void* p = nullptr;
  FERRY_CHECK_CUDA(cudaMalloc(&p, bytes));
  return static_cast<std::byte*>(p);
}

void NcclLink::free(std::byte* device) noexcept {
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(ordinal_) != cudaSuccess) return;
  if (cudaFree(device) != cudaSuccess) std::fprintf(stderr, "ferry: cudaFree failed\n");
  cudaSetDevice(previous);
}

void NcclLink::upload(std::byte* device, const std::byte* host, std::size_t bytes) {
  const cuda::DeviceScope scope(ordinal_);
  FERRY_CHECK_CUDA(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, copies_));
}

void NcclLink::copy(std::byte* to, const std::byte* from, std::size_t bytes) {
  const cuda::DeviceScope scope(ordinal_);
  FERRY_CHECK_CUDA(cudaMemcpyAsync(to, from, bytes, cudaMemcpyDeviceToDevice, copies_));
}

void NcclLink::synchronize() {
  const cuda::DeviceScope scope(ordinal_);
  FERRY_CHECK_CUDA(cudaStreamSynchronize(copies_));
}

NcclLink::Transfer NcclLink::send(int peer, const std::byte* device, std::size_t bytes) {
  usable();
  const cuda::DeviceScope scope(ordinal_);
  settle(ncclSend(device, bytes, ncclUint8, peer, comm_, transfers_), "ncclSend", enqueue_deadline());
  return record(transfers_, live_);
}

NcclLink::Transfer NcclLink::receive(int peer, std::byte* device, std::size_t bytes) {
  usable();
  const cuda::DeviceScope scope(ordinal_);
  settle(ncclRecv(device, bytes, ncclUint8, peer, comm_, transfers_), "ncclRecv", enqueue_deadline());
  return record(transfers_, live_);
}

bool NcclLink::done(Transfer transfer) {
  const auto it = live_.find(transfer);
  if (it == live_.end()) throw InternalError(str_cat("NCCL link: unknown transfer ", transfer));
  usable();
  const cuda::DeviceScope scope(ordinal_);
  try {
    ncclResult_t async = ncclSuccess;
    check(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
    check(async, "an NCCL transfer");
    const cudaError_t rc = cudaEventQuery(it->second);
    if (rc == cudaErrorNotReady) return false;
    FERRY_CHECK_CUDA(rc);
  } catch (...) {
    failed_ = true;  // a failed communicator takes no more transfers
    throw;
  }
  return true;
}

void NcclLink::release(Transfer transfer) noexcept {
  const auto it = live_.find(transfer);
  if (it == live_.end()) return;
  spare_.push_back(it->second);
  live_.erase(it);
}

NcclLink::Mark NcclLink::mark_caller() {
  const cuda::DeviceScope scope(ordinal_);
  return record(cudaStreamLegacy, marks_);
}

void NcclLink::copies_after(Mark mark) {
  const auto it = marks_.find(mark);
  if (it == marks_.end()) throw InternalError(str_cat("NCCL link: unknown mark ", mark));
  const cuda::DeviceScope scope(ordinal_);
  // The wait takes the event as recorded now, so the event may be recorded again afterwards.
  const cudaError_t rc = cudaStreamWaitEvent(copies_, it->second, 0);
  spare_.push_back(it->second);
  marks_.erase(it);
  FERRY_CHECK_CUDA(rc);
}

void NcclLink::abort() noexcept {
  if (comm_ && !aborted_) ncclCommAbort(comm_);
  aborted_ = true;
  for (auto& [t, e] : live_) spare_.push_back(e);
  live_.clear();
}

void NcclLink::usable() const {
  if (aborted_) throw TransportError("the NCCL device link was aborted", 0);
  if (failed_) throw TransportError("the NCCL device link failed earlier", 0);
}

// Enqueuing a send or receive between connected members waits for no peer: seconds are a generous bound.
std::chrono::steady_clock::time_point NcclLink::enqueue_deadline() {
  return std::chrono::steady_clock::now() + std::chrono::seconds(30);
}

std::uint64_t NcclLink::record(cudaStream_t stream, std::unordered_map<std::uint64_t, cudaEvent_t>& into) {
  cudaEvent_t event = nullptr;
  if (spare_.empty()) {
    FERRY_CHECK_CUDA(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  } else {
    event = spare_.back();
    spare_.pop_back();
  }
  const cudaError_t rc = cudaEventRecord(event, stream);
  if (rc != cudaSuccess) {
    spare_.push_back(event);
    FERRY_CHECK_CUDA(rc);
  }
  into.emplace(next_, event);
  return next_++;
}

std::unique_ptr<transform::PeerLink> open_link(MPI_Comm members, int ordinal,
                                               const transform::LinkPeers& peers) {
  auto link = std::make_unique<NcclLink>(ordinal);
  link->open(members, peers);  // on a throw, the destructor frees what was made
  return link;
}

}  // namespace ferry::nccl
