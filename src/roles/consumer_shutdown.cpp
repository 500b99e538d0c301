// The consumer's end: device receives, one-sided gets and device jobs still in flight complete (or stop,
// when the job fails) before its buffers go away, send pool slots go back, and every randomizer hears that
// its pipelines are done.
#include <algorithm>
#include <exception>
#include <thread>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/resume.hpp"
#include "roles/consumer.hpp"
#include "roles/consumer_state.hpp"
#include "roles/epoch_rss.hpp"
#include "roles/memory_setup.hpp"
#include "transform/target.hpp"

namespace ferry::roles {

void ConsumerEngine::finish_all(bool failing) noexcept {
  // A posted device receive writes into a slot's inbox: let it complete (its sender was told and posts the
  // send), unless the job is failing (the sender may be gone). Transfers announced but never asked for are
  // left: their senders drop them at shutdown.
  incoming_.clear();
  failing = failing || remote_failure_;
  const auto deadline =
      std::chrono::steady_clock::now() + (failing ? std::chrono::seconds(0) : std::chrono::seconds(60));
  while (receiving_) {
    try {
      if (ctx_.link->done(receiving_->posted)) {
        ctx_.link->release(receiving_->posted);
        receiving_.reset();
      } else if (std::chrono::steady_clock::now() > deadline) {
        // Its sender will not come (failing, or gone): stop the receive, or freeing the inbox would wait on
        // it forever (cudaFree waits for the device).
        if (!failing)
          log::error("a device receive from rank {} did not complete during shutdown; the link is aborted",
                     receiving_->source);
        ctx_.link->abort();
        receiving_.reset();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    } catch (const std::exception& e) {
      log::warn("a device receive from rank {} failed during shutdown: {}", receiving_->source, e.what());
      ctx_.link->abort();  // a failed communicator's kernels may never end
      receiving_.reset();
    }
  }
  for (auto& p : pipes_) {
    // One-sided gets of prefetched batches write into this engine's buffers: complete them before the
    // buffers can go away (an early stop leaves some in flight).
    for (auto& slot : p->ring) {
      for (auto& get : slot.gets) {
        try {
          get.wait();
        } catch (const std::exception& e) {
          log::warn("a prefetch read of pipeline '{}' failed during shutdown: {}", p->config->name, e.what());
        }
      }
      slot.gets.clear();
      // Device jobs started ahead write into this engine's buffers too.
      for (const auto& run : slot.runs) {
        if (const std::exception_ptr error = settle(run.ticket)) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            log::warn("an augment job of pipeline '{}' failed during shutdown: {}", p->config->name,
                      e.what());
          }
        }
      }
      slot.runs.clear();
    }
  }
  // Every get is complete now: hand the send pool slots back before saying the pipelines are done (a consumer
  // that stops early would otherwise hold them until the job ends, and its transformers send the other
  // consumers' batches in messages).
  if (!failing) {
    try {
      answer_fetches();
    } catch (const std::exception& e) {
      log::warn("could not hand send pool slots back during shutdown: {}", e.what());
    }
  }
  for (auto& p : pipes_) {
    if (p->finished) continue;
    send_finished(*p, true);
  }
}

}  // namespace ferry::roles
