// One NCCL communicator over the link's members, and two streams of Ferry's own on the member's device: one
// for copies (uploads, scatters), one for transfers. Transfers get an event each from a pool; done() asks
// the event and the communicator's asynchronous error, and never blocks.
#include "transform/cuda/nccl/link.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdio>
#include <unordered_map>
#include <vector>

#include "core/check.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transform/cuda/check_cuda.hpp"
#include "transform/cuda/device_scope.hpp"

namespace ferry::nccl {
namespace {

void check(ncclResult_t rc, const char* call) {
  if (rc != ncclSuccess && rc != ncclInProgress)
    throw TransportError(str_cat(call, " failed: ", ncclGetErrorString(rc)), static_cast<int>(rc));
}

class NcclLink final : public transform::PeerLink {
 public:
  NcclLink(MPI_Comm members, int ordinal) : ordinal_(ordinal) {
    int rank = 0, size = 0;
    FERRY_CHECK_MPI(MPI_Comm_rank(members, &rank));
    FERRY_CHECK_MPI(MPI_Comm_size(members, &size));
    ncclUniqueId id{};
    if (rank == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    FERRY_CHECK_MPI(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, members));
    const cuda::DeviceScope scope(ordinal_);
    FERRY_CHECK_CUDA(cudaStreamCreateWithFlags(&copies_, cudaStreamNonBlocking));
    FERRY_CHECK_CUDA(cudaStreamCreateWithFlags(&transfers_, cudaStreamNonBlocking));
    check(ncclCommInitRank(&comm_, size, id, rank), "ncclCommInitRank");
    name_ = str_cat("nccl (cuda:", ordinal_, ", member ", rank, " of ", size, ")");
  }

  ~NcclLink() override {
    int previous = 0;
    if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(ordinal_) != cudaSuccess) return;
    cudaStreamSynchronize(copies_);
    if (live_.empty()) {
      cudaStreamSynchronize(transfers_);
      if (ncclCommDestroy(comm_) != ncclSuccess) std::fprintf(stderr, "ferry: ncclCommDestroy failed\n");
    } else {
      // A transfer whose peer never came (a failed rank): waiting would hang, so abandon the communicator.
      if (ncclCommAbort(comm_) != ncclSuccess) std::fprintf(stderr, "ferry: ncclCommAbort failed\n");
    }
    for (auto& [t, e] : live_) cudaEventDestroy(e);
    for (cudaEvent_t e : spare_) cudaEventDestroy(e);
    cudaStreamDestroy(copies_);
    cudaStreamDestroy(transfers_);
    cudaSetDevice(previous);
  }

  std::string name() const override { return name_; }

  std::byte* allocate(std::size_t bytes) override {
    const cuda::DeviceScope scope(ordinal_);
    void* p = nullptr;
    FERRY_CHECK_CUDA(cudaMalloc(&p, bytes));
    return static_cast<std::byte*>(p);
  }
  void free(std::byte* device) noexcept override {
    int previous = 0;
    if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(ordinal_) != cudaSuccess) return;
    if (cudaFree(device) != cudaSuccess) std::fprintf(stderr, "ferry: cudaFree failed\n");
    cudaSetDevice(previous);
  }

  void upload(std::byte* device, const std::byte* host, std::size_t bytes) override {
    const cuda::DeviceScope scope(ordinal_);
    FERRY_CHECK_CUDA(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, copies_));
  }
  void copy(std::byte* to, const std::byte* from, std::size_t bytes) override {
    const cuda::DeviceScope scope(ordinal_);
    FERRY_CHECK_CUDA(cudaMemcpyAsync(to, from, bytes, cudaMemcpyDeviceToDevice, copies_));
  }
  void synchronize() override {
    const cuda::DeviceScope scope(ordinal_);
    FERRY_CHECK_CUDA(cudaStreamSynchronize(copies_));
  }

  Transfer send(int peer, const std::byte* device, std::size_t bytes) override {
    const cuda::DeviceScope scope(ordinal_);
    check(ncclSend(device, bytes, ncclUint8, peer, comm_, transfers_), "ncclSend");
    return record();
  }
  Transfer receive(int peer, std::byte* device, std::size_t bytes) override {
    const cuda::DeviceScope scope(ordinal_);
    check(ncclRecv(device, bytes, ncclUint8, peer, comm_, transfers_), "ncclRecv");
    return record();
  }

  bool done(Transfer transfer) override {
    const auto it = live_.find(transfer);
    if (it == live_.end()) throw InternalError(str_cat("NCCL link: unknown transfer ", transfer));
    const cuda::DeviceScope scope(ordinal_);
    ncclResult_t async = ncclSuccess;
    check(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
    check(async, "an NCCL transfer");
    const cudaError_t rc = cudaEventQuery(it->second);
    if (rc == cudaErrorNotReady) return false;
    FERRY_CHECK_CUDA(rc);
    return true;
  }
  void release(Transfer transfer) noexcept override {
    const auto it = live_.find(transfer);
    if (it == live_.end()) return;
    spare_.push_back(it->second);
    live_.erase(it);
  }

 private:
  Transfer record() {
    cudaEvent_t event = nullptr;
    if (spare_.empty()) {
      FERRY_CHECK_CUDA(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    } else {
      event = spare_.back();
      spare_.pop_back();
    }
    const cudaError_t rc = cudaEventRecord(event, transfers_);
    if (rc != cudaSuccess) {
      spare_.push_back(event);
      FERRY_CHECK_CUDA(rc);
    }
    live_.emplace(next_, event);
    return next_++;
  }

  int ordinal_;
  std::string name_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t copies_ = nullptr, transfers_ = nullptr;
  std::unordered_map<Transfer, cudaEvent_t> live_;
  std::vector<cudaEvent_t> spare_;
  Transfer next_ = 1;
};

}  // namespace

std::unique_ptr<transform::PeerLink> open_link(MPI_Comm members, int ordinal) {
  return std::make_unique<NcclLink>(members, ordinal);
}

}  // namespace ferry::nccl
