// What a randomizer holds, shared by the units that work on it: describing and crediting (randomizer.cpp),
// the epoch table (epoch_table.cpp), the clairvoyant oracle (next_use_oracle.cpp) and R3's handover
// (handover.cpp). Only the randomizer's progress thread touches any of it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "cache/directory.hpp"
#include "cache/entry_sizes.hpp"
#include "cache/key.hpp"
#include "roles/context.hpp"
#include "roles/protocol.hpp"
#include "roles/shard_positions.hpp"
#include "sampler/epoch_plan.hpp"

namespace ferry::roles {

struct CacheShare;

// A batch described to a consumer and not credited yet, with the entries it pinned.
struct OutstandingBatch {
  std::uint64_t epoch = 0, batch = 0;
  std::vector<cache::Key> pinned;
  std::vector<std::uint32_t> servers;  // the slab of each pinned key
  std::uint64_t admitted = 0;          // bytes of the entries it admitted (0 for one handed over)
};

struct ConsumerState {
  int rank = 0;
  std::uint32_t index = 0;  // in the pipeline's group
  std::uint64_t next_seq = 0;
  std::deque<OutstandingBatch> outstanding;
  bool finished = false;
  std::uint64_t epochs_reported = 0;   // kEpochDone received from it
  std::uint64_t epochs_announced = 0;  // kEpochDone it sent, as its kFinished says (done waits for them)
  bool held = false;                   // its next batch waits for runtime.inserts_in_flight_bytes
};

// One epoch's line of the epoch table: what consumers and transformers reported of it.
struct EpochTally {
  EpochFigures sum;
  std::uint32_t consumers_reported = 0;
  std::uint64_t miss_lists_sent = 0, miss_lists_done = 0;
  bool printed = false;
  std::string layout;                 // service roles when its first batch was described
  std::uint32_t shards_reported = 0;  // directory shard 0: the other shards' tallies (kShardEpoch) in
};

struct RandomizerPipeline {
  PipelineRuntime* runtime = nullptr;
  const PipelineConfig* config = nullptr;
  sampler::ShareSpec share;
  std::uint64_t batches_per_epoch = 0, total = 0;
  bool cacheable = false;
  std::vector<ConsumerState> consumers;
  std::map<std::uint64_t, EpochTally> epochs;
  std::unique_ptr<sampler::EpochPlan> plan;  // the plan of the epoch last described
  CacheShare* cache = nullptr;               // the cache share its entries live in
  // Samples a transformer skipped (bad_samples = skip) after they were admitted: never admitted again.
  std::unordered_set<std::uint64_t> undecodable;
  // Variable-length entries: each sample's entry size, learned from kMissDone (empty for fixed entries), and
  // the samples of unknown size in miss lists not answered yet: a batch that holds one waits for the answer,
  // as for a pending entry, so that the sample's second read inserts it (docs/cache.md, "Variable entries").
  cache::EntrySizes sizes;
  std::unordered_set<std::uint64_t> first_reads;
  // Its directory shard (runtime.directory_shards; docs/scaling.md): this randomizer holds the directory of
  // the samples in `keys` and describes their positions of every batch. Shard 0 (`lead`, its rank) prints
  // the epoch table: each other shard sends it one tally per epoch (kShardEpoch) and, at its end, a final
  // one with the count it sent.
  std::uint32_t shard = 0, shards = 1;
  KeyRange keys;
  std::unique_ptr<ShardPositions> positions;  // the epoch being described (shards > 1 only)
  int lead = -1;
  std::uint32_t finals = 0;                                   // shard 0: the other shards' finals in
  std::uint64_t tallies_received = 0, tallies_announced = 0;  // shard 0: their epoch tallies
  bool final_sent = false;                                    // the others
  std::uint64_t tallies_sent = 0;
};

// Clairvoyant replacement needs each key's next use: every pipeline's future order is known from its seed.
// Time is the absolute batch step (epoch * batches per epoch + batch) of the consumer that will read the key;
// the soonest use over the pipelines of `share` that read the key's group wins.
class NextUseOracle final : public cache::NextUse {
 public:
  NextUseOracle(const std::vector<RandomizerPipeline>& pipelines, const CacheShare* share)
      : pipelines_(pipelines), share_(share) {}
  std::uint64_t next_use(const cache::Key& key) const override;

 private:
  const std::vector<RandomizerPipeline>& pipelines_;
  const CacheShare* share_;
};

// A randomizer's slice of every slab and the directory over it: its own, and one more per randomizer that
// handed over to it. Per slab holder, the pins and inserts outstanding (a slab that stopped serving may serve
// again only once both are 0) and whether it waits to start serving.
struct CacheShare {
  std::uint32_t index = 0;  // the randomizer index it was planned for
  std::uint64_t base = 0;   // where it starts in every slab
  std::unique_ptr<NextUseOracle> oracle;
  std::unique_ptr<cache::Directory> directory;  // null without a cache
  std::vector<std::uint64_t> pins_on, pending_on;
  std::vector<char> deferred_start;
  std::uint64_t pending_inserts = 0;
  std::uint64_t outstanding_admitted = 0;  // bytes admitted by the batches outstanding (not credited yet)
  std::uint64_t full_reported = 0;         // directory declines + evictions at the last window report
};

}  // namespace ferry::roles
