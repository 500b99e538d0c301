// Device memory and GPU-to-GPU transfers for device-resident batches (runtime.device_batches): consumers
// hold their batches in device memory, and samples a transformation rank prepared on its GPU go straight to
// the consumer's GPU (NCCL send/recv), never through host memory on the way. docs/heterogeneous.md has the
// protocol (a rendezvous over the control transport before every transfer) and why it is needed.
//
// A link joins the ranks of one communicator ("members"): the consumers and the service ranks with a GPU.
// Callers stay free of CUDA and NCCL types and #ifs. One thread uses a link (the consumer's, or the service
// rank's progress thread); it is not thread-safe.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace ferry::transform {

class PeerLink {
 public:
  using Transfer = std::uint64_t;
  virtual ~PeerLink() = default;

  virtual std::string name() const = 0;

  // Memory on this member's device. Throws when there is none left.
  virtual std::byte* allocate(std::size_t bytes) = 0;
  virtual void free(std::byte* device) noexcept = 0;

  // Copies on the link's copy stream (never the default stream, which training may use). They return at
  // once; `host` must stay unchanged until synchronize() returned.
  virtual void upload(std::byte* device, const std::byte* host, std::size_t bytes) = 0;
  virtual void copy(std::byte* to, const std::byte* from, std::size_t bytes) = 0;  // device to device
  // Waits for this link's copies (never for its transfers).
  virtual void synchronize() = 0;

  // Point-to-point transfers between members (`peer`: the member's rank in the link's communicator), on the
  // link's transfer stream. Both sides post, each returns at once; transfers between two members match in
  // the order they were posted. done() never blocks and throws when the transfer failed; release() once
  // done() returned true or threw.
  virtual Transfer send(int peer, const std::byte* device, std::size_t bytes) = 0;
  virtual Transfer receive(int peer, std::byte* device, std::size_t bytes) = 0;
  virtual bool done(Transfer transfer) = 0;
  virtual void release(Transfer transfer) noexcept = 0;
};

// Grow-only device memory of a link (contents are not kept when it grows), freed with the buffer.
class LinkBuffer {
 public:
  LinkBuffer() = default;
  ~LinkBuffer() { reset(); }
  LinkBuffer(LinkBuffer&& other) noexcept { *this = std::move(other); }
  LinkBuffer& operator=(LinkBuffer&& other) noexcept {
    if (this != &other) {
      reset();
      link_ = other.link_;
      data_ = other.data_;
      size_ = other.size_;
      other.data_ = nullptr;
      other.size_ = 0;
    }
    return *this;
  }
  LinkBuffer(const LinkBuffer&) = delete;
  LinkBuffer& operator=(const LinkBuffer&) = delete;

  std::byte* reserve(PeerLink& link, std::size_t bytes) {
    if (bytes > size_ || link_ != &link) {
      reset();
      link_ = &link;
      data_ = link.allocate(bytes);
      size_ = bytes;
    }
    return data_;
  }
  void reset() noexcept {
    if (data_) link_->free(data_);
    forget();
  }
  // Leaks the memory: for a buffer the device may still write into (a transfer that never completed).
  void forget() noexcept {
    data_ = nullptr;
    size_ = 0;
  }
  std::byte* data() const noexcept { return data_; }

 private:
  PeerLink* link_ = nullptr;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

// Whether this process can be a member on device `ordinal`: a build with CUDA and NCCL and the device
// visible (or a test factory installed). Local, cheap, touches no device; `why` says why not.
bool peer_link_possible(int ordinal, std::string* why);

// Collective over `members` (every member calls it): opens the link on device `ordinal` (NCCL: rank 0 makes
// the unique id, MPI broadcasts it, every member joins the communicator). Throws TransportError naming the
// call that failed.
std::unique_ptr<PeerLink> open_peer_link(MPI_Comm members, int ordinal);

// Tests only: where open_peer_link() gets its link from instead of NCCL (a host stand-in that moves bytes
// with MPI), so that the multi-rank tests run the device-batch protocol on machines without a GPU. An empty
// function (the default) means NCCL. Set it before any Runtime is made.
using PeerLinkFactory = std::function<std::unique_ptr<PeerLink>(MPI_Comm members, int ordinal)>;
void set_peer_link_factory_for_tests(PeerLinkFactory factory);

}  // namespace ferry::transform
