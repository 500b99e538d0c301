// A host stand-in for the NCCL device link, for tests only: "device memory" is host memory, copies are
// memcpy, and transfers are MPI nonblocking point-to-point messages on the link's communicator (which, like
// NCCL send/recv, match in posting order between two members). A transfer with a member that was not
// connected at open is refused (NCCL would block on it). The runtime's device-batch protocol (the
// rendezvous, one receive at a time, kept device results, placing samples in the device batch) then runs on
// machines without a GPU. Install it with
// transform::set_peer_link_factory_for_tests(HostPeerLink::factory(...)).
#pragma once

#include <mpi.h>

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include "transform/peer_link.hpp"

namespace ferry::transform::test {

struct HostLinkCounters {
  std::atomic<std::uint64_t> sends{0}, receives{0};  // transfers that completed
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<long long> live{0};           // transfers posted and not released
  std::atomic<long long> allocations{0};    // device buffers not freed
  std::atomic<std::uint64_t> misuse{0};     // done/release of an unknown transfer, free of unknown memory
  std::atomic<std::uint64_t> connected{0};  // pairs connected at open (sends_to + receives_from)
  std::atomic<long long> marks{0};          // caller marks not yet used up
  std::atomic<std::uint64_t> marks_used{0};
  std::atomic<std::uint64_t> aborts{0};  // aborts that stopped transfers in flight
};

class HostPeerLink final : public PeerLink {
 public:
  HostPeerLink(MPI_Comm members, const LinkPeers& peers, HostLinkCounters& counters)
      : comm_(members), counters_(counters) {
    MPI_Comm_rank(members, &member_);
    counters_.connected += peers.sends_to.size() + peers.receives_from.size();
    sends_to_.insert(peers.sends_to.begin(), peers.sends_to.end());
    receives_from_.insert(peers.receives_from.begin(), peers.receives_from.end());
  }
  ~HostPeerLink() override { abort(); }

  std::string name() const override { return "host stand-in, member " + std::to_string(member_); }

  std::byte* allocate(std::size_t bytes) override {
    auto* p = new std::byte[bytes];
    ++counters_.allocations;
    return p;
  }
  void free(std::byte* device) noexcept override {
    --counters_.allocations;
    delete[] device;
  }
  void upload(std::byte* device, const std::byte* host, std::size_t bytes) override {
    std::memcpy(device, host, bytes);
  }
  void copy(std::byte* to, const std::byte* from, std::size_t bytes) override {
    std::memcpy(to, from, bytes);
  }
  void synchronize() override {}

  Transfer send(int peer, const std::byte* device, std::size_t bytes) override {
    return post(true, peer, const_cast<std::byte*>(device), bytes);
  }
  Transfer receive(int peer, std::byte* device, std::size_t bytes) override {
    return post(false, peer, device, bytes);
  }
  bool done(Transfer transfer) override {
    const auto it = live_.find(transfer);
    if (it == live_.end()) {
      ++counters_.misuse;
      throw std::runtime_error("host link: unknown transfer");
    }
    int flag = 0;
    MPI_Status status;
    if (MPI_Test(&it->second, &flag, &status) != MPI_SUCCESS) throw std::runtime_error("host link: MPI_Test");
    if (!flag) return false;
    const auto kind = kinds_.at(transfer);
    if (kind.send) {
      ++counters_.sends;
    } else {
      int count = 0;
      MPI_Get_count(&status, MPI_BYTE, &count);
      if (static_cast<std::size_t>(count) != kind.bytes) throw std::runtime_error("host link: short receive");
      ++counters_.receives;
      counters_.bytes_received += kind.bytes;
    }
    kinds_.erase(transfer);
    live_.erase(it);
    finished_[transfer] = true;
    return true;
  }
  void release(Transfer transfer) noexcept override {
    if (finished_.erase(transfer) == 1) {
      --counters_.live;
      return;
    }
    ++counters_.misuse;  // released before done, twice, or never posted
  }

  Mark mark_caller() override {
    ++counters_.marks;
    return next_mark_++;
  }
  void copies_after(Mark mark) override {
    if (mark == 0 || mark >= next_mark_) ++counters_.misuse;
    --counters_.marks;
    ++counters_.marks_used;
  }
  void abort() noexcept override {
    if (live_.empty()) return;
    ++counters_.aborts;
    for (auto& [t, request] : live_) {
      MPI_Cancel(&request);
      MPI_Request_free(&request);
      --counters_.live;
    }
    live_.clear();
    kinds_.clear();
  }

  static PeerLinkFactory factory(HostLinkCounters& counters) {
    return [&counters](MPI_Comm members, int, const LinkPeers& peers) -> std::unique_ptr<PeerLink> {
      return std::make_unique<HostPeerLink>(members, peers, counters);
    };
  }

 private:
  struct Kind {
    bool send;
    std::size_t bytes;
  };
  Transfer post(bool send, int peer, std::byte* data, std::size_t bytes) {
    // NCCL would block this call until the peer connects (a pair's first transfer), which the rendezvous
    // protocol cannot survive: every pair must have been connected at open.
    if (!(send ? sends_to_ : receives_from_).count(peer)) {
      ++counters_.misuse;
      throw std::runtime_error("host link: transfer with member " + std::to_string(peer) +
                               ", which was not connected at open");
    }
    if (bytes > static_cast<std::size_t>(INT32_MAX)) throw std::runtime_error("host link: transfer too big");
    MPI_Request request = MPI_REQUEST_NULL;
    const int count = static_cast<int>(bytes);
    const int rc = send ? MPI_Isend(data, count, MPI_BYTE, peer, kTag, comm_, &request)
                        : MPI_Irecv(data, count, MPI_BYTE, peer, kTag, comm_, &request);
    if (rc != MPI_SUCCESS) throw std::runtime_error("host link: MPI_Isend/MPI_Irecv failed");
    const Transfer t = next_++;
    live_.emplace(t, request);
    kinds_.emplace(t, Kind{send, bytes});
    ++counters_.live;
    return t;
  }

  static constexpr int kTag = 4242;
  MPI_Comm comm_;
  int member_ = 0;
  HostLinkCounters& counters_;
  std::map<Transfer, MPI_Request> live_;
  std::map<Transfer, Kind> kinds_;
  std::map<Transfer, bool> finished_;
  std::set<int> sends_to_, receives_from_;
  Transfer next_ = 1;
  Mark next_mark_ = 1;
};

}  // namespace ferry::transform::test
