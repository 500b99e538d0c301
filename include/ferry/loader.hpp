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

}  // namespace ferry
