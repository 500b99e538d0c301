// Counters the runtime reports: per consumer (Loader) and per service rank (Runtime::serve()).
#pragma once

#include <cstdint>
#include <string>

namespace ferry {

struct LoaderCounters {
  std::uint64_t batches = 0, samples = 0;  // samples: delivered in the batches
  std::uint64_t hits = 0, misses = 0;      // samples read from a cache server / delivered by a transformer
  // Batch positions dropped because their sample did not decode (bad_samples = skip), on the transformer
  // (counted in misses) or in this consumer's augment stage. samples + skipped = hits + misses.
  std::uint64_t skipped = 0;
  std::uint64_t bytes = 0;  // prepared sample bytes received
  double wait_seconds = 0;  // time spent blocked in next_batch()
  // Prefetch queue: batches already complete (assembled or all data arrived) when next_batch() was called,
  // summed over calls, and the smallest such count seen. Mean occupancy = queue_sum / batches.
  std::uint64_t queue_sum = 0;
  std::uint64_t queue_min = ~std::uint64_t{0};
};

struct ServeReport {
  std::string role;                // randomizer, cache_server, transformer: the role it ended in
  std::string initial_role;        // the role it started in (differs after role rebalancing)
  std::uint64_t role_changes = 0;  // randomizer: moves decided; transformer / cache server: times it moved
  double wall_seconds = 0, cpu_seconds = 0;
  double idle_wall_seconds = 0, idle_cpu_seconds = 0;  // inside blocking waits: how idle ranks behave
  // transformer
  std::uint64_t samples_prepared = 0, hdf5_reads = 0, hdf5_bytes = 0, inserts_sent = 0;
  std::uint64_t samples_skipped = 0;  // its prepare stage could not take them (bad_samples = skip)
  // Batches whose augment head it ran (docs/heterogeneous.md, "The movable head"), their samples, and the
  // cache entries it read for them.
  std::uint64_t head_batches = 0, head_samples = 0, head_fetches = 0;
  // cache server
  std::uint64_t entries_stored = 0, bytes_stored = 0;
  // randomizer (its cache directories: its own share, and those it took over from retired randomizers; a
  // randomizer that retired reports its directory up to the handover)
  std::uint64_t cache_hits = 0, cache_misses = 0, cache_admitted = 0, cache_declined = 0, cache_evictions = 0;
  std::uint64_t cache_peak_bytes = 0;       // largest slab use seen on any one server (its share)
  std::uint64_t cache_capacity = 0;         // per server (its shares)
  std::uint64_t cache_servers_serving = 0;  // slabs taking entries at the end (role rebalancing changes it)
  std::uint64_t cache_dropped = 0;          // entries dropped because their server became a transformer
  // Cache inserts in flight (admitted, not acked yet): the most bytes at once in one share; the largest
  // backlog (those in flight less the admissions of the batches outstanding) a batch was described at,
  // which runtime.inserts_in_flight_bytes keeps under it; and how many times a consumer's next batch waited
  // for that bound.
  std::uint64_t inserts_peak_bytes = 0, inserts_backlog_peak_bytes = 0, inserts_held = 0;
  std::uint64_t control_bytes = 0;        // descriptor and miss-list bytes sent
  std::uint64_t miss_lists_sent = 0;      // miss lists sent to transformers
  std::uint64_t miss_lists_off_node = 0;  // ... of them to a transformer on another node than the consumer
  std::uint64_t samples_described = 0;
};

}  // namespace ferry
