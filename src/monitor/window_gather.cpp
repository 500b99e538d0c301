// Merging reports: a rank's several reports in one window into one (gather), and the pieces the pipeline
// summaries share with it. Without the merge the coordinator kept every report it received: the open window
// grew by about ten reports an epoch until it closed (monitor.window_ms), and the history kept up to
// monitor.history such windows (perf/soak.sh: rank 0 grew about 4 KB an epoch).
#include <algorithm>

#include "monitor/window.hpp"

namespace ferry::monitor {

namespace {

// x (weight a) and y (weight b) averaged by weight; y alone when both weights are 0.
double weighted(double x, double a, double y, double b) noexcept {
  return a + b > 0 ? (x * a + y * b) / (a + b) : y;
}

void merge_pipeline(PipelineStats& into, const PipelineStats& from) {
  into.batches += from.batches;
  merge_queue(into.queue_samples, into.queue_mean, into.queue_min, from);
  into.wait_ns += from.wait_ns;
  into.cache_hits += from.cache_hits;
  into.cache_lookups += from.cache_lookups;
  into.bytes_moved += from.bytes_moved;
  into.hdf5_bytes += from.hdf5_bytes;
  into.sampled_window_ns += from.sampled_window_ns;
  for (const auto& op : from.ops) {
    const auto it = std::find_if(into.ops.begin(), into.ops.end(),
                                 [&](const OpStats& o) { return o.op == op.op && o.stage == op.stage; });
    if (it == into.ops.end())
      into.ops.push_back(op);
    else
      merge_op(*it, op);
  }
}

void merge_rank(RankStats& into, RankStats&& from) {
  // A consumer's time counts for a pipeline only in the reports that sampled its queue (one that finished
  // while another runs on samples no more): summarize_pipelines' consumer_ns.
  for (auto& p : into.pipelines)
    if (p.queue_samples > 0 && p.sampled_window_ns == 0) p.sampled_window_ns = into.window_ns;
  for (auto& p : from.pipelines)
    if (p.queue_samples > 0 && p.sampled_window_ns == 0) p.sampled_window_ns = from.window_ns;
  const auto a = static_cast<double>(into.window_ns), b = static_cast<double>(from.window_ns);
  into.consumer = into.consumer || from.consumer;
  into.window_ns += from.window_ns;
  into.busy_ns += from.busy_ns;
  into.workers = std::max(into.workers, from.workers);
  into.cpu_queue_mean = weighted(into.cpu_queue_mean, a, from.cpu_queue_mean, b);
  into.cpu_queue_max = std::max(into.cpu_queue_max, from.cpu_queue_max);
  if (from.has_accelerator) {
    into.accelerator_util = into.has_accelerator
                                ? weighted(into.accelerator_util, a, from.accelerator_util, b)
                                : from.accelerator_util;
    into.accelerator_own = into.has_accelerator ? weighted(into.accelerator_own, a, from.accelerator_own, b)
                                                : from.accelerator_own;
    into.util_source = from.util_source;
    into.has_accelerator = true;
  }
  for (auto& p : from.pipelines) {
    const auto it = std::find_if(into.pipelines.begin(), into.pipelines.end(),
                                 [&](const PipelineStats& q) { return q.pipeline == p.pipeline; });
    if (it == into.pipelines.end())
      into.pipelines.push_back(std::move(p));
    else
      merge_pipeline(*it, p);
  }
  if (into.slab_hits.size() < from.slab_hits.size()) into.slab_hits.resize(from.slab_hits.size(), 0);
  for (std::size_t s = 0; s < from.slab_hits.size(); ++s) into.slab_hits[s] += from.slab_hits[s];
  into.cache_full += from.cache_full;
  into.describing_epoch = std::max(into.describing_epoch, from.describing_epoch);
  into.randomizer_done = into.randomizer_done || from.randomizer_done;
  into.randomizer = into.randomizer || from.randomizer;
}

}  // namespace

void merge_queue(std::uint64_t& samples, double& mean, double& min, const PipelineStats& from) {
  if (from.queue_samples == 0) return;
  // Running sample-weighted mean; the minimum is the starving-most report's.
  mean =
      weighted(mean, static_cast<double>(samples), from.queue_mean, static_cast<double>(from.queue_samples));
  min = samples == 0 ? from.queue_min : std::min(min, from.queue_min);
  samples += from.queue_samples;
}

void merge_op(OpStats& into, const OpStats& from) {
  into.accelerator_capable = into.accelerator_capable && from.accelerator_capable;
  into.cpu_batches += from.cpu_batches;
  into.accelerator_batches += from.accelerator_batches;
  into.cpu_ns += from.cpu_ns;
  into.accelerator_ns += from.accelerator_ns;
}

void gather(Window& window, RankStats report) {
  const auto it = std::find_if(window.ranks.begin(), window.ranks.end(),
                               [&](const RankStats& r) { return r.rank == report.rank; });
  if (it == window.ranks.end())
    window.ranks.push_back(std::move(report));
  else
    merge_rank(*it, std::move(report));
}

}  // namespace ferry::monitor
