// ConsumerEngine's per-pipeline state (private to the consumer's .cpp files): the prefetch ring's slots and
// each pipeline's position, batch pool and figures. consumer.cpp runs the message loop, consumer_assemble.cpp
// turns a complete slot into a Batch.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "roles/batch_assembly.hpp"
#include "roles/consumer.hpp"

namespace ferry::roles {

// One device job of the augment stage: its field, where that field's prepared samples are (the device's
// input, and the CPU's if the job fails) and where the batch's bytes go.
struct ConsumerEngine::DeviceRun {
  std::size_t field;
  transform::Device::Ticket ticket;
  const std::byte* in;
  std::byte* out;
};

struct ConsumerEngine::Slot {
  bool active = false, described = false, assembled = false;
  std::vector<char> shard_seen;  // per directory shard: its descriptor is in (described when all are)
  std::uint64_t epoch = 0, batch = 0;
  std::size_t index = 0;           // in the ring, and in the pipeline's batch pool
  std::size_t n = 0, waiting = 0;  // positions not yet arrived (misses) or counted (hits)
  std::vector<transport::Request> gets;
  // Variable entries, per position: from a message, or read whole by a hit's get (fixed: the batch pool).
  std::vector<std::vector<std::byte>> entries;
  std::uint64_t hits = 0, misses = 0, bytes = 0;
  // Its augment head ran on a transformer (Descriptor::past_head): every position arrives in a kSamples
  // past the head, its hits counted from the descriptor (and not again as misses).
  bool past_head = false;
  // Positions whose sample did not decode (bad_samples = skip): on a transformer (kSamples says) or in this
  // consumer's augment stage. Dropped from `out` once it is assembled; then ascending and distinct.
  std::vector<std::size_t> skipped;
  Batch out;
  std::vector<std::vector<std::byte>> field_out;
  std::vector<std::vector<std::uint64_t>> offsets;
  // The augment stage on the device. `routed`: where this batch augments was decided (as soon as its data
  // were in, or at pop); `runs`: the device jobs launched for it, one per augmented field, collected at pop.
  // `gathered` keeps each such field's prepared samples for variable entries (fixed: in the batch pool).
  bool routed = false;
  std::vector<DeviceRun> runs;
  std::map<std::size_t, std::vector<std::byte>> gathered;
  std::map<std::size_t, std::vector<std::byte>> past_head_bytes;  // per field: its samples after the head
  // ... where its head ends variable: each sample where it lies in `entries`, its shape in shaped_dims; a
  // skipped position's stand-in of one pixel in stand_in (gather_shaped, for one field at a time).
  std::vector<transform::SampleRef> shaped_refs;
  std::vector<std::size_t> shaped_dims;
  std::vector<std::byte> stand_in;
  transform::DeviceArgs args;
  std::uint64_t device_ns = 0;  // this consumer's time on the device jobs (launching and collecting)
  // Device-resident batches: the batch's fixed fields in device memory; `inbox`, device memory that samples
  // sent device to device arrive in (inbox_used bytes so far); `placements`, where each belongs.
  struct Placement {
    std::size_t field;
    std::uint32_t position;
    std::size_t offset;  // in the inbox
  };
  std::vector<transform::LinkBuffer> device_fields;
  // The caller's GPU work queued when it gave the slot's previous batch back (it may still read it): the
  // slot's device fields are written only after it.
  transform::PeerLink::Mark reusable_after = 0;
  transform::LinkBuffer inbox;
  std::size_t inbox_used = 0;
  std::vector<Placement> placements;
};

struct ConsumerEngine::Pipe {
  PipelineRuntime* runtime = nullptr;
  const PipelineConfig* config = nullptr;
  sampler::ShareSpec share;
  std::uint32_t my_index = 0;  // in the pipeline's consumer group
  // Per directory shard (runtime.directory_shards), the randomizer that described its part of the last batch:
  // kCredit and kFinished go to each, kEpochDone to shard 0's.
  std::vector<int> randomizers;
  std::uint64_t epochs_reported = 0;  // kEpochDone sent: kFinished says how many, so none is left behind
  std::uint64_t batches_per_epoch = 0, total = 0, next_seq = 0;
  std::uint64_t first_seq = 0;  // where this run started: every later epoch begins with a dataset check
  bool holding = false, finished = false;
  std::vector<Slot> ring;
  std::unique_ptr<BatchAssembly> assembly;  // fixed-size entries: the ring's batch pool (null otherwise)
  ConsumerCopies epoch_copies;              // of the batches popped this epoch (fixed entries)
  std::unique_ptr<sampler::EpochPlan> plan;
  // A movable augment head (docs/heterogeneous.md, "The movable head"): per field, its head chain (none:
  // the field has no head, or the pipeline's head is not movable).
  std::vector<std::optional<transform::Chain>> heads;
  EntryLayout past_layout;              // entries past the head (roles/entry.hpp), where it may move
  std::uint64_t past_head_batches = 0;  // this epoch's batches that came past their head
  // Augment on the accelerator: per field with an augment chain, its program.
  std::map<std::size_t, std::uint64_t> device_programs;
  LoaderCounters counters;
  EpochFigures epoch_figures;
  std::chrono::steady_clock::time_point epoch_start = std::chrono::steady_clock::now();

  const sampler::EpochPlan& plan_for(std::uint64_t epoch) {
    if (!plan || plan->epoch() != epoch) plan = std::make_unique<sampler::EpochPlan>(share, epoch);
    return *plan;
  }
};

}  // namespace ferry::roles
