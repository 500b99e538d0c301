// Loader: a consumer's view of one pipeline of the multi-rank system (obtained from Runtime::loader()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ferry/batch.hpp"
#include "ferry/stats.hpp"

namespace ferry {

namespace roles {
class ConsumerEngine;
}

class Loader {
 public:
  // The next batch of this consumer, in the pipeline's seeded order, or nullptr after the last epoch.
  // Valid until the next call on this Loader (its buffer is then handed back and refilled). Blocks while
  // the batch is not there yet; throws Error when a rank of the job failed (the message names it).
  const Batch* next_batch();

  // Range over the rest of the current epoch: for (const ferry::Batch& b : loader.epoch()) { ... }.
  // Each step calls next_batch(); the range ends after the epoch's last batch (or at the end of training).
  class EpochRange;
  EpochRange epoch();

  // Where this consumer stands, as a small string: "ferry-state 1 pipeline=NAME seed=S epoch=E batch=B
  // dataset=HEX", the position after the last batch next_batch() returned, and the fingerprint of the
  // dataset's files (a resume on other data is refused). A job started with apply_state(config, it)
  // delivers exactly the batches an uninterrupted run would have delivered from there (same IDs, bytes).
  // In synchronous training every consumer of a pipeline has the same state.
  std::string state() const;

  const std::string& pipeline() const noexcept;
  std::uint64_t batches_per_epoch() const noexcept;
  std::uint64_t dataset_size() const noexcept;
  const LoaderCounters& counters() const noexcept;

 private:
  friend class roles::ConsumerEngine;
  Loader(roles::ConsumerEngine* engine, std::size_t pipeline) : engine_(engine), index_(pipeline) {}
  roles::ConsumerEngine* engine_;
  std::size_t index_;
};

class Loader::EpochRange {
 public:
  struct End {};
  class Iterator {
   public:
    Iterator(Loader* loader, const Batch* batch) : loader_(loader), batch_(batch) {}
    const Batch& operator*() const { return *batch_; }
    const Batch* operator->() const { return batch_; }
    Iterator& operator++() {
      const bool last = batch_->index + 1 >= loader_->batches_per_epoch();
      batch_ = last ? nullptr : loader_->next_batch();
      return *this;
    }
    bool operator==(End) const noexcept { return batch_ == nullptr; }

   private:
    Loader* loader_;
    const Batch* batch_;
  };
  explicit EpochRange(Loader* loader) : loader_(loader) {}
  Iterator begin() { return Iterator(loader_, loader_->next_batch()); }
  End end() const noexcept { return {}; }

 private:
  Loader* loader_;
};

inline Loader::EpochRange Loader::epoch() {
  return EpochRange(this);
}

}  // namespace ferry
