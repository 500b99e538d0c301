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
#include <vector>

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

  // Ordering with the caller's own GPU work: mark_caller() marks what the caller has queued so far on its
  // device's default stream (the legacy default stream, which PyTorch and plain CUDA code use unless told
  // otherwise); copies_after(mark) makes this link's later copies wait for it (the mark is used up).
  using Mark = std::uint64_t;
  virtual Mark mark_caller() = 0;
  virtual void copies_after(Mark mark) = 0;

  // Stops every transfer in flight (a peer that will never post its side: a failure, a timeout), so that
  // device memory can be freed; the link is unusable afterwards. Never blocks on a peer.
  virtual void abort() noexcept = 0;
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

// Which members this one will send to and receive from. NCCL connects a pair on its first transfer, and the
// host calls of that first transfer block until the peer connects too, so every such pair is connected when
// the link opens, while every member is in the call.
struct LinkPeers {
  std::vector<int> sends_to, receives_from;  // members' ranks in the link's communicator
};

// Collective over `members` (every member calls it): opens the link on device `ordinal` (NCCL: rank 0 makes
// the unique id, MPI broadcasts it with rank 0's status, every member makes its streams and all agree they
// could, every member joins the communicator, and the pairs in `peers` connect). Throws TransportError naming
// the call that failed, on every member when the failure is before the communicator.
std::unique_ptr<PeerLink> open_peer_link(MPI_Comm members, int ordinal, const LinkPeers& peers);

// Who this process is, for one device: "host/PCI bus id", so that two ranks that would put one GPU twice in
// the link (NCCL refuses that) can be told apart; empty when unknown (no CUDA, or a test link).
std::string device_identity(int ordinal) noexcept;

// Tests only: where open_peer_link() gets its link from instead of NCCL (a host stand-in that moves bytes
// with MPI), so that the multi-rank tests run the device-batch protocol on machines without a GPU. An empty
// function (the default) means NCCL. Set it before any Runtime is made.
using PeerLinkFactory =
    std::function<std::unique_ptr<PeerLink>(MPI_Comm members, int ordinal, const LinkPeers& peers)>;
void set_peer_link_factory_for_tests(PeerLinkFactory factory);

}  // namespace ferry::transform
