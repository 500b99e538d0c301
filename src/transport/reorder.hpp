// Restores per-(source, tag) send order on the receive side. A message's slot is reserved when its sequence
// number becomes known (UCX: from the header, before a rendezvous payload lands; MPI: at probe time) and it
// is released to the ready queue only when it and every earlier message of its stream are complete. UCX
// needs this because an eager message can overtake an earlier rendezvous one; MPI uses it because payloads
// land through non-blocking receives that may complete out of order.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>

#include "transport/buffer_pool.hpp"
#include "transport/fabric.hpp"

namespace ferry::transport {

class ReorderBuffer {
 public:
  // Payload buffers come from `pool` (the owning Fabric's).
  explicit ReorderBuffer(BufferPool& pool) : pool_(&pool) {}
  // Reserves message seq of stream (source, tag) with a payload of bytes bytes. The returned pointer (and its
  // payload buffer) stays valid until complete() for the same seq.
  Message* reserve(int source, Tag tag, std::uint64_t seq, std::size_t bytes);
  // Marks a reserved message as complete and moves every now-in-order message to the ready queue.
  void complete(int source, Tag tag, std::uint64_t seq);

  std::optional<Message> pop();
  bool has_ready() const noexcept { return !ready_.empty(); }
  // Messages reserved but not yet released (in flight or waiting for an earlier one).
  std::size_t pending() const noexcept { return pending_; }
  // Messages that completed before an earlier one of their stream and had to wait (a statistic).
  std::uint64_t held_back() const noexcept { return held_back_; }

 private:
  struct Slot {
    Message message;
    bool complete = false;
  };
  struct Stream {
    std::uint64_t next = 0;               // first sequence number not yet released
    std::map<std::uint64_t, Slot> slots;  // node-based: slot addresses are stable
  };

  BufferPool* pool_;
  std::map<std::pair<int, Tag>, Stream> streams_;
  std::deque<Message> ready_;
  std::size_t pending_ = 0;
  std::uint64_t held_back_ = 0;
};

}  // namespace ferry::transport
