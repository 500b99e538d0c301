// What every rank reports for one monitoring window, and the window the coordinator gathers from them.
// Plain values: the data path fills them through a Recorder (recorder.hpp) without locks, the runtime ships
// them with encode()/decode(), the policy (policy.hpp) reads them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "monitor/job_list.hpp"

namespace ferry::monitor {

// When a window closes: after `batches` batches delivered on the rank or `ms` milliseconds, whichever comes
// first (0 disables that bound; not both). `history` windows are kept by the coordinator.
struct WindowConfig {
  std::uint32_t batches = 20;
  std::uint32_t ms = 1000;
  std::uint32_t history = 32;

  void validate() const;  // ConfigError naming the monitor.* key
};

// One transform op of a pipeline, as run on one rank in the window: a prepare op on a transformation rank,
// an augment op on a consumer.
struct OpStats {
  std::uint32_t op = 0;              // index in the chain of its stage
  std::string name;                  // canonical op text, for logs
  bool accelerator_capable = false;  // this build has a device kernel for it
  std::uint64_t cpu_batches = 0;
  std::uint64_t accelerator_batches = 0;
  std::uint64_t cpu_ns = 0;  // worker time spent in the op
  // Accelerator batches: on a transformation rank submit to completion, staging included; on a consumer the
  // time it spent launching and collecting them (a job that ran ahead of its pop costs it almost nothing).
  std::uint64_t accelerator_ns = 0;
  Stage stage = Stage::prepare;

  friend bool operator==(const OpStats&, const OpStats&) = default;
};

// One pipeline as seen by one rank. A consumer fills the queue and wait figures, a transformer the ops and
// the HDF5 figures; fields a rank has no view of stay 0.
struct PipelineStats {
  std::uint32_t pipeline = 0;  // index in the config's pipeline list
  std::uint64_t batches = 0;   // delivered (consumer) or transformed (transformer) in the window
  // Prefetch-queue occupancy as a fraction of runtime.prefetch, sampled at every next_batch() call.
  std::uint64_t queue_samples = 0;
  double queue_mean = 0;
  double queue_min = 0;
  std::uint64_t wait_ns = 0;  // time consumers were blocked in next_batch()
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_lookups = 0;
  std::uint64_t bytes_moved = 0;  // payload received (consumer) or sent (transformer)
  std::uint64_t hdf5_bytes = 0;   // payload read with H5Dread
  std::vector<OpStats> ops;
  // Coordinator only (not on the wire): after gather() merged a rank's reports, the window time of those
  // that sampled this queue; 0 for a single report (its rank's window_ns).
  std::uint64_t sampled_window_ns = 0;

  friend bool operator==(const PipelineStats&, const PipelineStats&) = default;
};

// Where an accelerator utilization figure came from. NVML sees every kernel on the device (training too);
// CUDA events see only Ferry's own launches.
enum class UtilSource : std::uint8_t { none = 0, events = 1, nvml = 2 };

struct RankStats {
  std::uint32_t rank = 0;
  // A consumer's accelerator runs the augment stage; a service rank's the prepare stage.
  bool consumer = false;
  std::uint64_t window_ns = 0;  // wall time this rank's window covered
  std::uint64_t busy_ns = 0;  // transformation busy time (read + prepare + send, not queueing), all together
  std::uint32_t workers = 0;  // CPU workers of the rank (busy fraction = busy_ns / (window_ns * workers))
  double cpu_queue_mean = 0;  // CPU worker queue length, sampled at every submit
  std::uint32_t cpu_queue_max = 0;
  bool has_accelerator = false;
  double accelerator_util = 0;  // device busy fraction [0, 1]: NVML when present, else own_util
  double accelerator_own = 0;   // Ferry's own kernels' busy fraction from CUDA events
  UtilSource util_source = UtilSource::none;
  std::vector<PipelineStats> pipelines;
  // Randomizer: samples it described as hits, per slab holder (Layout::slab_holders index), in the window.
  std::vector<std::uint64_t> slab_hits;
  // Randomizer: admissions its cache directory declined for want of room plus entries it evicted for room,
  // in the window (role rebalancing's "the cache is full").
  std::uint64_t cache_full = 0;
  // Randomizer: the epoch it is describing (its slowest consumer's), and whether all its pipelines are done
  // (then it sends one last report), so the coordinator rebalances for pipelines other than its own.
  std::uint64_t describing_epoch = 0;
  bool randomizer_done = false;
  // Sent by a randomizer (its busy_ns is then the CPU time its process used: R3 reads it).
  bool randomizer = false;

  // Transformation busy fraction in [0, 1] (0 when the rank has no workers or the window is empty).
  double busy_fraction() const noexcept;

  friend bool operator==(const RankStats&, const RankStats&) = default;
};

// One window: every rank's report, gathered by the coordinator (gather(): one per rank).
struct Window {
  std::uint64_t index = 0;  // 0, 1, 2 ... per run
  std::vector<RankStats> ranks;

  friend bool operator==(const Window&, const Window&) = default;
};

// Adds a rank's report to the window: merged into the report the rank already has there, so a window holds
// one report per rank however many reports it gathers (the coordinator's open window and its history stay
// bounded by the ranks, whatever the number of epochs or reports; issue 15's soak). Counters and times are
// summed, queue occupancy is sample-weighted (minimum kept), CPU queue and accelerator figures are weighted
// by window time, the epoch is the latest, flags are kept once set. summarize_pipelines() reads the same
// from the merged window as from the reports one by one (where each consumer report sampled its queue).
void gather(Window& window, RankStats report);
// The merges gather() and summarize_pipelines() share (window_gather.cpp): a queue occupancy figure added
// to a running sample-weighted mean and minimum; an op's figures added to those of the same op (capable
// only if both are).
void merge_queue(std::uint64_t& samples, double& mean, double& min, const PipelineStats& from);
void merge_op(OpStats& into, const OpStats& from);

// What the policy reads: a pipeline's figures merged over all ranks.
struct PipelineSummary {
  std::uint32_t pipeline = 0;
  std::uint64_t batches = 0;        // delivered to consumers
  std::uint64_t queue_samples = 0;  // 0: no consumer reported (no evidence about starvation)
  double queue_mean = 0;            // sample-weighted mean over consumers
  double queue_min = 0;             // lowest over consumers
  std::uint64_t wait_ns = 0;
  std::uint64_t consumer_ns = 0;  // window time of the consumer ranks that reported the pipeline, summed
  std::vector<OpStats> ops;       // of one stage, summed over the ranks that ran them, sorted by op index
};

// The accelerators of the window's ranks together.
struct AcceleratorSummary {
  std::uint32_t count = 0;  // ranks with an accelerator
  double util_max = 0;      // busiest one: offloading is judged by it, the share applies on every rank
  double util_mean = 0;
  double own_max = 0;  // Ferry's own share of the busiest
};

// The transformation ranks of the window (service ranks with workers that are not randomizers): where a
// pipeline's augment head may run (Stage::head).
struct TransformerSummary {
  std::uint32_t count = 0;  // ranks that reported
  double busy_max = 0;      // busiest one's busy fraction: the head share applies on every one of them
};

// Sorted by pipeline; `ops` holds the ops of `stage` only (queue and wait figures are the pipeline's).
std::vector<PipelineSummary> summarize_pipelines(const Window& window, Stage stage = Stage::prepare);
// The accelerators that run `stage`: the service ranks' for prepare, the consumers' for augment.
AcceleratorSummary summarize_accelerators(const Window& window, Stage stage = Stage::prepare);
TransformerSummary summarize_transformers(const Window& window);

// Bytes for the transport. decode() throws ferry::Error on a truncated, corrupt or other-version message.
std::vector<std::byte> encode(const RankStats& stats);
RankStats decode_rank_stats(std::span<const std::byte> bytes);
std::vector<std::byte> encode(const Window& window);
Window decode_window(std::span<const std::byte> bytes);

}  // namespace ferry::monitor
