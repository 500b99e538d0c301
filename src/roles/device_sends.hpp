// Device-resident batches (runtime.device_batches) on a transformation rank: results the accelerator
// prepared for a consumer on the same link, announced in their kSamples message with a transfer number and
// kept on the device until the consumer has posted its receive (kDeviceReady) and the send completed.
//
// Progress thread only. The device memory belongs to the WorkerQueue's kept jobs: this table only says
// which ticket to release when, so every call that may release one is handed the queue.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>

#include "roles/context.hpp"
#include "transform/peer_link.hpp"
#include "transform/worker_queue.hpp"

namespace ferry::roles {

class DeviceSends {
 public:
  explicit DeviceSends(Context& ctx) : ctx_(ctx) {}

  // Takes over the kept device job `ticket` (its result is `bytes` long) for `consumer`; returns the
  // transfer number that goes into the batch's SamplesHeader.
  std::uint64_t announce(transform::WorkerQueue& queue, std::uint64_t ticket, int consumer,
                         std::size_t bytes);
  // A kDeviceReady: the consumer's receive is posted, so the send is posted now.
  void post(const transport::Message& message);
  // Completes posted sends and releases their device memory; throws when one ran past 90 s.
  void progress(transform::WorkerQueue& queue);
  // Releases every kept result (a consumer that stopped early never asked for it); a posted send still
  // running is aborted with the link first.
  void drop(transform::WorkerQueue& queue) noexcept;

  // Posted and not yet complete: they finish without a message, so the rank must not sleep long.
  std::size_t posted() const noexcept { return posted_; }

 private:
  struct Send {
    std::uint64_t ticket = 0;  // the kept device job (WorkerQueue::release_kept)
    int consumer = 0;
    const std::byte* data = nullptr;
    std::size_t bytes = 0;
    bool posted = false;
    transform::PeerLink::Transfer transfer = 0;
    std::chrono::steady_clock::time_point posted_at;
  };

  Context& ctx_;
  std::map<std::uint64_t, Send> sends_;  // by transfer number
  std::uint64_t next_transfer_ = 1;
  std::size_t posted_ = 0;
};

}  // namespace ferry::roles
