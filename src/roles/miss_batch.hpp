// MissPipeline's private state of one miss list (miss_pipeline.cpp, miss_pool_delivery.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <vector>

#include "roles/miss_pipeline.hpp"

namespace ferry::roles {

// One miss list on its way through the rank: read on the reader thread (or the progress thread without
// read-ahead), prepared by a worker, sent by the progress thread.
struct MissPipeline::Batch {
  Misses misses;
  int randomizer = 0;
  PipelineRuntime* pipeline = nullptr;
  std::vector<std::uint64_t> ids;
  BatchFields fields;
  monitor::Target target = monitor::Target::cpu;
  std::uint64_t hdf5_reads = 0, hdf5_bytes = 0, read_ns = 0, prepare_ns = 0;
  std::uint64_t read_ahead_bytes = 0;      // held in the read-ahead's budget until deliver() gives them back
  std::size_t device_field = 0;            // accelerator batches: the field the device prepares
  bool device_out = false;                 // ... which then goes to the consumer device to device
  std::uint64_t kept = 0;                  // ... from this kept device job
  std::optional<std::uint64_t> pool_slot;  // the send pool slot its prepare stage writes into (fields.into)
  std::exception_ptr error;
};

// An entry's batch positions as kSamples and kSamplesAt carry them: [n positions][positions...].
inline void put_positions(Writer& w, const MissEntry& m) {
  w.u(m.positions.size());
  for (const auto pos : m.positions) w.u(pos);
}

inline std::uint64_t nanos_since(std::chrono::steady_clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t).count());
}

}  // namespace ferry::roles
