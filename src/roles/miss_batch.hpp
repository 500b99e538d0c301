// MissPipeline's private state of one miss list (miss_pipeline.cpp, miss_pool_delivery.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <vector>

#include "core/log.hpp"
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
  // A batch past its augment head (Misses::head; miss_head.cpp): its hits as read from the cache, back to
  // back (fetch j at fetched[fetched_starts[j]]); then every sample's prepared entry, the misses' first and
  // the fetched ones after them (entry j at entries[starts[j]]); per field with a head, every sample past
  // it (past_head[f] fixed; past_shaped[f] where the head ends in a per-sample shape); the samples (same
  // indices) the head could not take (bad_samples = skip).
  std::vector<std::byte> fetched;
  std::vector<std::uint64_t> fetched_starts;
  std::vector<std::byte> entries;
  std::vector<std::uint64_t> starts;
  std::vector<std::vector<std::byte>> past_head;
  std::vector<transform::ShapedSamples> past_shaped;
  std::vector<std::size_t> head_skipped;
  std::exception_ptr error;
};

// A variable-length entry of `bytes` (docs/cache.md, "Variable entries"): one the randomizer did not ask to
// insert has its size reported (admitted with it at its next miss); one of another size than reserved (the
// sample changed since it was read) gives its reservation back, its range unwritten. True: insert it.
inline bool insert_variable(int rank, const MissEntry& m, std::uint64_t bytes, MissDone& done) {
  if (!m.insert) {
    done.sizes.push_back({m.id, bytes});
    return false;
  }
  if (bytes == m.bytes) return true;
  log::warn("rank {}: sample {} has an entry of {} bytes, {} were reserved in the cache; not cached", rank,
            m.id, bytes, m.bytes);
  done.unfilled.push_back({m.id, m.server, m.offset});
  return false;
}

// An entry's batch positions as kSamples and kSamplesAt carry them: [n positions][positions...].
inline void put_positions(Writer& w, const std::vector<std::uint32_t>& positions) {
  w.u(positions.size());
  for (const auto pos : positions) w.u(pos);
}

inline void put_positions(Writer& w, const MissEntry& m) {
  put_positions(w, m.positions);
}

// A miss that delivers no entry (its prepare stage could not take it): the slab reservation goes back to
// the randomizer, and a variable-length sample's size is reported unknown (0: nothing to admit).
inline void no_entry(MissDone& done, const MissEntry& m, bool fixed) {
  if (m.insert)
    done.unfilled.push_back({m.id, m.server, m.offset});
  else if (!fixed)
    done.sizes.push_back({m.id, 0});
}

inline std::uint64_t nanos_since(std::chrono::steady_clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t).count());
}

}  // namespace ferry::roles
