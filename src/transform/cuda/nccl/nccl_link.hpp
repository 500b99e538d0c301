// NcclLink, the NCCL PeerLink: link_setup.cpp opens and closes it, link.cpp holds its data path.
//
// One NCCL communicator over the link's members, and two streams of Ferry's own on the member's device: one
// for copies (uploads, placing samples), one for transfers. Transfers and caller marks get an event each from
// a pool; done() asks the event and the communicator's asynchronous error, and never blocks.
#pragma once

#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "transform/peer_link.hpp"

namespace ferry::nccl {

// Throws TransportError naming `call` unless `rc` is ncclSuccess or ncclInProgress (link_setup.cpp).
void check(ncclResult_t rc, const char* call);

class NcclLink final : public transform::PeerLink {
 public:
  explicit NcclLink(int ordinal) : ordinal_(ordinal) {}

  // Collective over `members`. Every failure before ncclCommInitRank is agreed on over MPI, so all members
  // throw together; a failure inside NCCL's own initialization is NCCL's to report to every member.
  void open(MPI_Comm members, const transform::LinkPeers& peers);
  ~NcclLink() override;

  std::string name() const override { return name_; }

  std::byte* allocate(std::size_t bytes) override;
  void free(std::byte* device) noexcept override;

  void upload(std::byte* device, const std::byte* host, std::size_t bytes) override;
  void copy(std::byte* to, const std::byte* from, std::size_t bytes) override;
  void synchronize() override;

  Transfer send(int peer, const std::byte* device, std::size_t bytes) override;
  Transfer receive(int peer, std::byte* device, std::size_t bytes) override;

  bool done(Transfer transfer) override;
  void release(Transfer transfer) noexcept override;

  Mark mark_caller() override;
  void copies_after(Mark mark) override;

  void abort() noexcept override;

 private:
  void usable() const;
  void settle(ncclResult_t rc, const char* call, std::chrono::steady_clock::time_point deadline);
  static std::chrono::steady_clock::time_point enqueue_deadline();
  std::uint64_t record(cudaStream_t stream, std::unordered_map<std::uint64_t, cudaEvent_t>& into);

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

}  // namespace ferry::nccl
