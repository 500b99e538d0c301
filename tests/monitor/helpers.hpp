// Builders for monitoring windows in tests.
#pragma once

#include <optional>
#include <vector>

#include "monitor/job_list.hpp"
#include "monitor/window.hpp"

namespace ferry::monitor::testing {

// One default policy step (0.25) in share units.
inline constexpr std::uint32_t Q = kShareUnits / 4;

// One pipeline as its consumers saw it: mean and minimum prefetch-queue occupancy over the window.
// consumers = false: no consumer reported it this window.
struct Pipe {
  std::uint32_t id = 0;
  double mean = 0.5;
  double min = 0.5;
  bool consumers = true;
};

// A window from two consumer ranks (the pipelines' queue figures split over them) and one transformer rank
// that runs every pipeline's prepare chain "cast | hwc_to_chw" (cast has a device kernel, hwc_to_chw not).
// util: the transformer's accelerator utilization; nullopt: it has no accelerator.
inline Window make_window(std::uint64_t index, const std::vector<Pipe>& pipes, std::optional<double> util) {
  Window w;
  w.index = index;
  for (std::uint32_t r = 0; r < 2; ++r) {
    RankStats consumer;
    consumer.rank = r;
    consumer.consumer = true;
    consumer.window_ns = 1'000'000;
    for (const auto& p : pipes) {
      if (!p.consumers) continue;
      PipelineStats s;
      s.pipeline = p.id;
      s.batches = 10;
      s.queue_samples = 10;
      s.queue_mean = p.mean;
      s.queue_min = r == 0 ? p.min : p.mean;  // rank 0 holds the window's minimum
      s.wait_ns = p.mean < 0.25 ? 500'000 : 0;
      consumer.pipelines.push_back(s);
    }
    w.ranks.push_back(consumer);
  }
  RankStats t;
  t.rank = 2;
  t.window_ns = 1'000'000;
  t.workers = 2;
  t.busy_ns = 1'500'000;
  t.has_accelerator = util.has_value();
  t.accelerator_util = util.value_or(0);
  t.accelerator_own = util ? *util / 4 : 0;
  t.util_source = util ? UtilSource::nvml : UtilSource::none;
  for (const auto& p : pipes) {
    PipelineStats s;
    s.pipeline = p.id;
    s.batches = 20;
    s.hdf5_bytes = 1 << 20;
    s.ops = {OpStats{0, "cast(to=f32, scale=1, shift=0)", true, 20, 0, 400'000, 0},
             OpStats{1, "hwc_to_chw", false, 20, 0, 300'000, 0}};
    t.pipelines.push_back(s);
  }
  w.ranks.push_back(t);
  return w;
}

// Gives the window's consumers an accelerator at utilization `util` and an augment stage (one op, with a
// device program when `capable`) for every pipeline they report.
inline Window with_consumer_accelerators(Window w, double util, bool capable = true) {
  for (auto& rank : w.ranks) {
    if (!rank.consumer) continue;
    rank.has_accelerator = true;
    rank.accelerator_util = util;
    rank.accelerator_own = util / 2;
    rank.util_source = UtilSource::events;
    for (auto& p : rank.pipelines)
      p.ops = {OpStats{0, "augment image=random_crop(height=24, width=24, padding=4)", capable, 10, 0,
                       200'000, 0, Stage::augment}};
  }
  return w;
}

}  // namespace ferry::monitor::testing
