#include "roles/device_sends.hpp"

#include "core/log.hpp"
#include "core/strings.hpp"
#include "roles/wire.hpp"

namespace ferry::roles {

std::uint64_t DeviceSends::announce(transform::WorkerQueue& queue, std::uint64_t ticket, int consumer,
                                    std::size_t bytes) {
  const std::uint64_t number = next_transfer_++;
  Send& send = sends_[number];
  send.ticket = ticket;
  send.consumer = consumer;
  send.data = queue.kept_result(ticket);
  send.bytes = bytes;
  // Checked once the ticket is in the table, so that drop() releases it whatever happens next.
  FERRY_ENFORCE(send.data != nullptr, "the device kept no result for a batch");
  return number;
}

void DeviceSends::post(const transport::Message& message) {
  Reader r(message.bytes);
  const std::uint64_t number = r.u();
  const auto it = sends_.find(number);
  FERRY_ENFORCE(it != sends_.end() && !it->second.posted && it->second.consumer == message.source, "rank ",
                message.source, " asked for device transfer ", number, ", which rank ", ctx_.rank,
                " does not hold for it");
  Send& send = it->second;
  const int peer = ctx_.link_member.at(static_cast<std::size_t>(send.consumer));
  send.transfer = ctx_.link->send(peer, send.data, send.bytes);
  send.posted = true;
  send.posted_at = std::chrono::steady_clock::now();
  ++posted_;
}

void DeviceSends::progress(transform::WorkerQueue& queue) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = sends_.begin(); posted_ > 0 && it != sends_.end();) {
    Send& send = it->second;
    if (!send.posted || !ctx_.link->done(send.transfer)) {
      // The receive was posted before the consumer asked: only a consumer that gave up on it (its own
      // 60 s limit at shutdown) leaves a send running this long. Fail, and every rank leaves.
      if (send.posted && now - send.posted_at > std::chrono::seconds(90))
        throw TransportError(
            str_cat("device transfer ", it->first, " to rank ", send.consumer, " did not complete in 90 s"),
            0);
      ++it;
      continue;
    }
    ctx_.link->release(send.transfer);
    queue.release_kept(send.ticket);
    --posted_;
    it = sends_.erase(it);
  }
}

void DeviceSends::drop(transform::WorkerQueue& queue) noexcept {
  // Never posted: the device memory is free to go. A posted send still running (a failure elsewhere: its
  // receiver is gone) is stopped first, or the memory it reads would be freed under it, or freeing would
  // wait for it forever.
  if (posted_ > 0) {
    log::warn("rank {}: {} device transfer(s) did not complete; the link is aborted", ctx_.rank, posted_);
    ctx_.link->abort();
    posted_ = 0;
  }
  for (auto& [number, send] : sends_) queue.release_kept(send.ticket);
  sends_.clear();
}

}  // namespace ferry::roles
