// One NCCL communicator over the link's members, and two streams of Ferry's own on the member's device: one
// for copies (uploads, placing samples), one for transfers. Transfers and caller marks get an event each from
// a pool; done() asks the event and the communicator's asynchronous error, and never blocks.
//
// The communicator is non-blocking (ncclConfig_t::blocking = 0): every NCCL call is settled by polling
// ncclCommGetAsyncError against a deadline, so a member whose peer failed during initialization gives up
// instead of waiting forever, and the members agree over MPI before going on. It always ends with
// ncclCommAbort: Finalize and Destroy are intra-node collectives (they wait for every member on the host),
// so a member that had to abort after a failure would leave the others waiting in them; at a normal end
// nothing is in flight, and aborting only frees.
#include "transform/cuda/nccl/link.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <thread>
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

constexpr auto kInitDeadline = std::chrono::seconds(120);

class NcclLink final : public transform::PeerLink {
 public:
  explicit NcclLink(int ordinal) : ordinal_(ordinal) {}

  // Collective over `members`. Every failure before ncclCommInitRank is agreed on over MPI, so all members
  // throw together; a failure inside NCCL's own initialization is NCCL's to report to every member.
  void open(MPI_Comm members, const transform::LinkPeers& peers) {
    int rank = 0, size = 0;
    FERRY_CHECK_MPI(MPI_Comm_rank(members, &rank));
    FERRY_CHECK_MPI(MPI_Comm_size(members, &size));
    struct {
      int ok = 1;
      ncclUniqueId id{};
    } boot;
    ncclResult_t id_rc = ncclSuccess;
    if (rank == 0) {
      id_rc = ncclGetUniqueId(&boot.id);
      boot.ok = id_rc == ncclSuccess;
    }
    FERRY_CHECK_MPI(MPI_Bcast(&boot, sizeof boot, MPI_BYTE, 0, members));
    if (!boot.ok)
      throw TransportError(rank == 0
                               ? str_cat("ncclGetUniqueId failed: ", ncclGetErrorString(id_rc))
                               : std::string("ncclGetUniqueId failed on the device link's first member"),
                           static_cast<int>(id_rc));
    int ok = 1;
    std::string why;
    try {
      const cuda::DeviceScope scope(ordinal_);
      FERRY_CHECK_CUDA(cudaStreamCreateWithFlags(&copies_, cudaStreamNonBlocking));
      FERRY_CHECK_CUDA(cudaStreamCreateWithFlags(&transfers_, cudaStreamNonBlocking));
      void* warm = nullptr;
      FERRY_CHECK_CUDA(cudaMalloc(&warm, peers.receives_from.size() + 1));
      warm_ = static_cast<std::byte*>(warm);
    } catch (const Error& e) {
      ok = 0;
      why = e.what();
    }
    int all = 0;
    FERRY_CHECK_MPI(MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, members));
    if (!all)
      throw TransportError(ok ? std::string("another member of the device link failed to set up") : why, 0);
    // NCCL's own initialization, then one byte each way every pair will transfer (NCCL connects a pair on
    // its first transfer, and that transfer blocks until the peer connects too), all members at once.
    try {
      const cuda::DeviceScope scope(ordinal_);
      const auto deadline = std::chrono::steady_clock::now() + kInitDeadline;
      ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
      config.blocking = 0;
      settle(ncclCommInitRankConfig(&comm_, size, boot.id, rank, &config), "ncclCommInitRankConfig",
             deadline);
      settle(ncclGroupStart(), "ncclGroupStart", deadline);
      for (int peer : peers.sends_to)
        check(ncclSend(warm_, 1, ncclUint8, peer, comm_, transfers_), "ncclSend");
      std::size_t slot = 1;
      for (int peer : peers.receives_from)
        check(ncclRecv(warm_ + slot++, 1, ncclUint8, peer, comm_, transfers_), "ncclRecv");
      settle(ncclGroupEnd(), "ncclGroupEnd", deadline);
      for (;;) {
        const cudaError_t rc = cudaStreamQuery(transfers_);
        if (rc == cudaSuccess) break;
        if (rc != cudaErrorNotReady) FERRY_CHECK_CUDA(rc);
        if (std::chrono::steady_clock::now() > deadline)
          throw TransportError("connecting the device link's pairs timed out", 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    } catch (const Error& e) {
      ok = 0;
      failed_ = true;
      why = e.what();
    }
    FERRY_CHECK_MPI(MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, members));
    if (!all) {
      failed_ = true;
      throw TransportError(ok ? std::string("another member of the device link failed to connect") : why, 0);
    }
    name_ = str_cat("nccl (cuda:", ordinal_, ", member ", rank, " of ", size, ")");
  }

  ~NcclLink() override {
    int previous = 0;
    if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(ordinal_) != cudaSuccess) return;
    if (comm_ && !aborted_ && ncclCommAbort(comm_) != ncclSuccess)
      std::fprintf(stderr, "ferry: closing the NCCL device link failed\n");
    if (copies_) FERRY_REPORT_CUDA(cudaStreamSynchronize(copies_));
    for (auto& [t, e] : live_) FERRY_REPORT_CUDA(cudaEventDestroy(e));
    for (auto& [m, e] : marks_) FERRY_REPORT_CUDA(cudaEventDestroy(e));
    for (cudaEvent_t e : spare_) FERRY_REPORT_CUDA(cudaEventDestroy(e));
    if (warm_) FERRY_REPORT_CUDA(cudaFree(warm_));
    if (copies_) FERRY_REPORT_CUDA(cudaStreamDestroy(copies_));
    if (transfers_) FERRY_REPORT_CUDA(cudaStreamDestroy(transfers_));
    FERRY_REPORT_CUDA(cudaSetDevice(previous));
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
    usable();
    const cuda::DeviceScope scope(ordinal_);
    settle(ncclSend(device, bytes, ncclUint8, peer, comm_, transfers_), "ncclSend", enqueue_deadline());
    return record(transfers_, live_);
  }
  Transfer receive(int peer, std::byte* device, std::size_t bytes) override {
    usable();
    const cuda::DeviceScope scope(ordinal_);
    settle(ncclRecv(device, bytes, ncclUint8, peer, comm_, transfers_), "ncclRecv", enqueue_deadline());
    return record(transfers_, live_);
  }

  bool done(Transfer transfer) override {
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
  void release(Transfer transfer) noexcept override {
    const auto it = live_.find(transfer);
    if (it == live_.end()) return;
    spare_.push_back(it->second);
    live_.erase(it);
  }

  Mark mark_caller() override {
    const cuda::DeviceScope scope(ordinal_);
    return record(cudaStreamLegacy, marks_);
  }
  void copies_after(Mark mark) override {
    const auto it = marks_.find(mark);
    if (it == marks_.end()) throw InternalError(str_cat("NCCL link: unknown mark ", mark));
    const cuda::DeviceScope scope(ordinal_);
    // The wait takes the event as recorded now, so the event may be recorded again afterwards.
    const cudaError_t rc = cudaStreamWaitEvent(copies_, it->second, 0);
    spare_.push_back(it->second);
    marks_.erase(it);
    FERRY_CHECK_CUDA(rc);
  }

  void abort() noexcept override {
    if (comm_ && !aborted_) ncclCommAbort(comm_);
    aborted_ = true;
    for (auto& [t, e] : live_) spare_.push_back(e);
    live_.clear();
  }

 private:
  void usable() const {
    if (aborted_) throw TransportError("the NCCL device link was aborted", 0);
    if (failed_) throw TransportError("the NCCL device link failed earlier", 0);
  }

  // A non-blocking communicator's call returns ncclInProgress while NCCL finishes it in the background:
  // poll until it is done, failed, or the deadline passed.
  void settle(ncclResult_t rc, const char* call, std::chrono::steady_clock::time_point deadline) {
    check(rc, call);
    ncclResult_t state = rc;
    while (state == ncclInProgress) {
      if (std::chrono::steady_clock::now() > deadline) {
        failed_ = true;
        throw TransportError(str_cat(call, " did not complete in time on the device link"), 0);
      }
      std::this_thread::yield();
      check(ncclCommGetAsyncError(comm_, &state), "ncclCommGetAsyncError");
    }
    if (state != ncclSuccess) {
      failed_ = true;
      throw TransportError(str_cat(call, " failed: ", ncclGetErrorString(state)), static_cast<int>(state));
    }
  }
  // Enqueuing a send or receive between connected members waits for no peer: seconds are a generous bound.
  static std::chrono::steady_clock::time_point enqueue_deadline() {
    return std::chrono::steady_clock::now() + std::chrono::seconds(30);
  }

  std::uint64_t record(cudaStream_t stream, std::unordered_map<std::uint64_t, cudaEvent_t>& into) {
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

  int ordinal_;
  std::string name_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t copies_ = nullptr, transfers_ = nullptr;
  std::byte* warm_ = nullptr;
  bool aborted_ = false, failed_ = false;
  std::unordered_map<std::uint64_t, cudaEvent_t> live_, marks_;
  std::vector<cudaEvent_t> spare_;
  std::uint64_t next_ = 1;
};

}  // namespace

std::unique_ptr<transform::PeerLink> open_link(MPI_Comm members, int ordinal,
                                               const transform::LinkPeers& peers) {
  auto link = std::make_unique<NcclLink>(ordinal);
  link->open(members, peers);  // on a throw, the destructor frees what was made
  return link;
}

}  // namespace ferry::nccl
