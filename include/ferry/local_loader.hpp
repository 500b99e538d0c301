// LocalLoader: the whole pipeline in one process (HDF5 -> prepare -> augment -> batches in the seeded order).
// It is the oracle the distributed system must match byte for byte, and the simplest way to use Ferry.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ferry/batch.hpp"
#include "ferry/config.hpp"

namespace ferry {

struct LocalCounters {
  std::uint64_t batches = 0;
  std::uint64_t samples = 0;     // delivered
  std::uint64_t skipped = 0;     // dropped from their batches: they did not decode (bad_samples = skip)
  std::uint64_t hdf5_reads = 0;  // H5Dread calls
  std::uint64_t hdf5_bytes = 0;  // payload bytes read from HDF5
  double read_seconds = 0;
  double prepare_seconds = 0;
  double augment_seconds = 0;
};

class LocalLoader {
 public:
  // Consumer `consumer` of `consumers` (DistributedSampler split); opens the dataset and builds the chains.
  explicit LocalLoader(const PipelineConfig& config, std::uint32_t consumer = 0, std::uint32_t consumers = 1);
  ~LocalLoader();
  LocalLoader(LocalLoader&&) noexcept;
  LocalLoader& operator=(LocalLoader&&) noexcept;

  // The next batch, or nullptr after the last epoch. Valid until the next call (buffers are reused).
  const Batch* next_batch();

  std::uint64_t dataset_size() const noexcept;
  std::uint64_t batches_per_epoch() const noexcept;
  // Where the next batch comes from; seek() moves there (for resume).
  std::uint64_t epoch() const noexcept;
  std::uint64_t batch_in_epoch() const noexcept;
  void seek(std::uint64_t epoch, std::uint64_t batch);
  // Same format as Loader::state(); the config's start_epoch / start_batch (apply_state) resume from it.
  std::string state() const;
  const LocalCounters& counters() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry
