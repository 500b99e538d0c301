// Opening and closing the NCCL link (NcclLink, nccl_link.hpp), and settling its NCCL calls.
//
// The communicator is non-blocking (ncclConfig_t::blocking = 0): every NCCL call is settled by polling
// ncclCommGetAsyncError against a deadline, so a member whose peer failed during initialization gives up
// instead of waiting forever, and the members agree over MPI before going on. It always ends with
// ncclCommAbort: Finalize and Destroy are intra-node collectives (they wait for every member on the host),
// so a member that had to abort after a failure would leave the others waiting in them; at a normal end
// nothing is in flight, and aborting only frees.
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "core/check.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transform/cuda/check_cuda.hpp"
#include "transform/cuda/device_scope.hpp"
#include "transform/cuda/nccl/nccl_link.hpp"

namespace ferry::nccl {
namespace {

constexpr auto kInitDeadline = std::chrono::seconds(120);

}  // namespace

void check(ncclResult_t rc, const char* call) {
  if (rc != ncclSuccess && rc != ncclInProgress)
    throw TransportError(str_cat(call, " failed: ", ncclGetErrorString(rc)), static_cast<int>(rc));
}

void NcclLink::open(MPI_Comm members, const transform::LinkPeers& peers) {
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
    throw TransportError(rank == 0 ? str_cat("ncclGetUniqueId failed: ", ncclGetErrorString(id_rc))
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
    settle(ncclCommInitRankConfig(&comm_, size, boot.id, rank, &config), "ncclCommInitRankConfig", deadline);
    settle(ncclGroupStart(), "ncclGroupStart", deadline);
    for (int peer : peers.sends_to) check(ncclSend(warm_, 1, ncclUint8, peer, comm_, transfers_), "ncclSend");
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

NcclLink::~NcclLink() {
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

// A non-blocking communicator's call returns ncclInProgress while NCCL finishes it in the background:
// poll until it is done, failed, or the deadline passed.
void NcclLink::settle(ncclResult_t rc, const char* call, std::chrono::steady_clock::time_point deadline) {
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

}  // namespace ferry::nccl
