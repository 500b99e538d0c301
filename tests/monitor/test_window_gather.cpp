// Gathering reports into a window (monitor::gather, what the coordinator does with every kStats): one report
// per rank however many arrive, so the coordinator's open window and its history hold a bounded state over
// any number of epochs (issue 15's soak), and the merged reports summarize to the same figures the policy
// read from the reports one by one.
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "helpers.hpp"
#include "monitor/history.hpp"
#include "monitor/window.hpp"

namespace ferry::monitor {
namespace {

using testing::make_window;
using testing::with_consumer_accelerators;

// Everything a window holds that grows with the reports kept: reports, pipelines, ops, slab counters.
std::size_t held(const Window& w) {
  std::size_t n = w.ranks.size();
  for (const auto& r : w.ranks) {
    n += r.pipelines.size() + r.slab_hits.size();
    for (const auto& p : r.pipelines) n += p.ops.size();
  }
  return n;
}

// One scripted epoch of reports, as the soak's ranks send them: two consumers (ranks 0, 1) and a transformer
// (rank 2) twice each (make_window), and the randomizer (rank 5) three times, with its hits per slab.
std::vector<RankStats> epoch_reports(std::uint64_t epoch) {
  std::vector<RankStats> out;
  for (int i = 0; i < 2; ++i)
    for (auto& r : make_window(epoch, {{0, 0.5, 0.25}}, std::nullopt).ranks) out.push_back(std::move(r));
  for (int i = 0; i < 3; ++i) {
    RankStats r;
    r.rank = 5;
    r.randomizer = true;
    r.window_ns = 1'000'000;
    r.slab_hits = {1, 2};
    r.describing_epoch = epoch;
    out.push_back(std::move(r));
  }
  return out;
}

TEST(WindowGather, StateStaysTheSameOverAnyNumberOfEpochs) {
  constexpr std::uint64_t kEpochs = 300, kEpochsPerWindow = 20;
  History history(4);
  Window open;
  std::size_t after_first_epoch = 0;
  for (std::uint64_t epoch = 0; epoch < kEpochs; ++epoch) {
    for (auto& r : epoch_reports(epoch)) gather(open, std::move(r));
    if (epoch == 0) after_first_epoch = held(open);
    // Before gather() the open window kept every report: 9 more each epoch.
    ASSERT_EQ(open.ranks.size(), 4u) << "epoch " << epoch;
    ASSERT_EQ(held(open), after_first_epoch) << "epoch " << epoch;
    if (epoch % kEpochsPerWindow == kEpochsPerWindow - 1) {
      const Window& merged = open;
      EXPECT_EQ(merged.ranks[0].pipelines[0].batches, 2 * 10 * kEpochsPerWindow);
      EXPECT_EQ(merged.ranks[3].slab_hits,
                (std::vector<std::uint64_t>{3 * kEpochsPerWindow, 6 * kEpochsPerWindow}));
      EXPECT_EQ(merged.ranks[3].describing_epoch, epoch);
      history.push(std::move(open));
      open = Window{};
    }
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < history.size(); ++i) kept += held(history.at(i));
  EXPECT_EQ(kept, history.capacity() * after_first_epoch);
}

TEST(WindowGather, PolicyReadsTheSameAsFromEveryReport) {
  // Two rounds of reports from the same ranks with different figures (queue, waits, ops, accelerators).
  Window raw = with_consumer_accelerators(make_window(0, {{0, 0.2, 0.05}, {1, 0.8, 0.6}}, 0.3), 0.4);
  Window later = with_consumer_accelerators(make_window(0, {{0, 0.1, 0.1}, {1, 0.9, 0.7}}, 0.9), 0.8);
  later.ranks[1].pipelines[0].queue_samples = 30;  // weighs 3x in the mean
  later.ranks[2].pipelines[0].ops[0].accelerator_capable = false;
  later.ranks[2].window_ns = 3'000'000;  // the transformer's second window is 3x as long
  later.ranks[2].busy_ns = 1'500'000;
  for (auto& r : later.ranks) raw.ranks.push_back(r);
  Window merged;
  for (const auto& r : raw.ranks) gather(merged, r);
  ASSERT_EQ(merged.ranks.size(), 3u);

  for (const Stage stage : {Stage::prepare, Stage::augment}) {
    const auto a = summarize_pipelines(raw, stage), b = summarize_pipelines(merged, stage);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(b[i].pipeline, a[i].pipeline);
      EXPECT_EQ(b[i].batches, a[i].batches);
      EXPECT_EQ(b[i].queue_samples, a[i].queue_samples);
      EXPECT_DOUBLE_EQ(b[i].queue_mean, a[i].queue_mean);
      EXPECT_DOUBLE_EQ(b[i].queue_min, a[i].queue_min);
      EXPECT_EQ(b[i].wait_ns, a[i].wait_ns);
      EXPECT_EQ(b[i].consumer_ns, a[i].consumer_ns);
      EXPECT_EQ(b[i].ops, a[i].ops);
    }
  }
  const RankStats& transformer = merged.ranks[2];
  EXPECT_FALSE(transformer.pipelines[0].ops[0].accelerator_capable);  // capable only if every report was
  EXPECT_DOUBLE_EQ(transformer.busy_fraction(), 3'000'000.0 / (4'000'000.0 * 2));
  EXPECT_DOUBLE_EQ(transformer.accelerator_util, (0.3 * 1 + 0.9 * 3) / 4);  // weighted by window time
  // One accelerator per rank, however many reports: the consumers' two and the transformer's one.
  EXPECT_EQ(summarize_accelerators(merged, Stage::augment).count, 2u);
  EXPECT_EQ(summarize_accelerators(merged, Stage::prepare).count, 1u);
  EXPECT_DOUBLE_EQ(summarize_accelerators(merged, Stage::augment).util_max, 0.6);
}

// A consumer's second report no longer samples pipeline 1 (it finished while pipeline 0 runs on): its
// window time counts for pipeline 0 only, merged or not.
TEST(WindowGather, ConsumerTimeCountsOnlyWhereTheQueueWasSampled) {
  RankStats first;
  first.rank = 0;
  first.consumer = true;
  first.window_ns = 1'000'000;
  PipelineStats a;
  a.queue_samples = 10;
  a.queue_mean = a.queue_min = 0.5;
  a.batches = 4;
  PipelineStats b = a;
  b.pipeline = 1;
  first.pipelines = {a, b};
  RankStats second = first;
  second.window_ns = 3'000'000;
  second.pipelines[1].queue_samples = 0;
  second.pipelines[1].batches = 0;
  Window raw, merged;
  raw.ranks = {first, second};
  gather(merged, first);
  gather(merged, second);
  ASSERT_EQ(merged.ranks.size(), 1u);
  const auto x = summarize_pipelines(raw, Stage::augment), y = summarize_pipelines(merged, Stage::augment);
  ASSERT_EQ(x.size(), 2u);
  ASSERT_EQ(y.size(), 2u);
  EXPECT_EQ(x[0].consumer_ns, 4'000'000u);
  EXPECT_EQ(x[1].consumer_ns, 1'000'000u);
  EXPECT_EQ(y[0].consumer_ns, x[0].consumer_ns);
  EXPECT_EQ(y[1].consumer_ns, x[1].consumer_ns);
}

}  // namespace
}  // namespace ferry::monitor
