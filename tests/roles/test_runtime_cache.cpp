// The runtime's cache over both transports (the RuntimeRanks suite, runtime_ranks.hpp): a cache larger than
// the dataset serves every later epoch, two pipelines sharing a prepare stage read each sample once, and a
// small cache is never exceeded under any replacement policy.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "harness.hpp"
#include "runtime_ranks.hpp"

namespace ferry::test {
namespace {

TEST_P(RuntimeRanks, CacheLargerThanDatasetServesEpochTwoFromCache) {
  Config config = base();
  config.pipelines.push_back(image_pipeline("images", 240, 21));
  const int c = consumers(config);
  if (240 % (c * 8) != 0)
    GTEST_SKIP() << "240 samples do not split into full batches for " << c << " consumers";
  const JobResult r = run_job(config);
  std::uint64_t hits1 = 0, samples1 = 0, misses1 = 0;
  if (r.consumer) {
    ASSERT_EQ(r.epoch_counters.at(0).size(), 2u);
    hits1 = r.epoch_counters.at(0)[1].hits;
    misses1 = r.epoch_counters.at(0)[1].misses;
    samples1 = r.epoch_counters.at(0)[1].samples;
  }
  EXPECT_EQ(sum_all(samples1), 240u);
  EXPECT_EQ(sum_all(hits1), 240u) << "epoch 2 is not 100% hits";
  EXPECT_EQ(sum_all(misses1), 0u);
  // Each sample was read from HDF5 exactly once, in epoch 1: 90 image bytes + 4 label bytes.
  EXPECT_EQ(sum_all(r.report.samples_prepared), 240u);
  EXPECT_EQ(sum_all(r.report.hdf5_bytes), 240u * 94u);
}

TEST_P(RuntimeRanks, TwoPipelinesWithOnePrepareStageReadEachSampleOnce) {
  Config config = base();
  PipelineConfig a = image_pipeline("a", 240, 31), b = image_pipeline("b", 240, 32);
  a.epochs = b.epochs = 1;
  b.augment = {{"image", parse_op_chain("random_crop(height=4, width=4)", "test")}};  // augment may differ
  config.pipelines = {a, b};
  const JobResult r = run_job(config);
  expect_matches_local_loader(config, r);
  const int c = consumers(config);
  const std::uint64_t delivered = sum_all(r.consumer ? r.batches.size() * 8 : 0);
  EXPECT_EQ(delivered, 2u * c * (240 / c / 8 * 8));
  EXPECT_EQ(sum_all(r.report.hdf5_bytes), 240u * 94u)
      << "two pipelines sharing a prepare stage read a sample twice";
}

TEST_P(RuntimeRanks, SmallCacheIsNeverExceededUnderEveryPolicy) {
  // Two pipelines over one dataset and prepare stage (other seeds, other orders) share entries; the cache
  // holds about a quarter of the dataset. Clairvoyant replacement knows both future orders.
  std::map<std::string, double> hit_rate;
  for (const char* policy : {"static", "lru", "clairvoyant"}) {
    Config config = base();
    config.runtime.cache_bytes = 24 << 10;  // 64 entries of 364 bytes (384 reserved): about a quarter
    config.runtime.cache_policy = policy;
    PipelineConfig a = image_pipeline("a", 240, 41), b = image_pipeline("b", 240, 42);
    a.epochs = b.epochs = 3;
    config.pipelines = {a, b};
    const JobResult r = run_job(config);
    expect_matches_local_loader(config, r);
    if (r.report.role == "randomizer") {
      EXPECT_GT(r.report.cache_capacity, 0u);
      EXPECT_LE(r.report.cache_peak_bytes, r.report.cache_capacity) << policy;
    }
    std::uint64_t mine = 0;
    for (const auto& [pipeline, epochs] : r.epoch_counters)
      for (const auto& e : epochs) mine += e.hits;
    const std::uint64_t hits = sum_all(r.report.cache_hits), misses = sum_all(r.report.cache_misses);
    EXPECT_EQ(hits, sum_all(mine)) << policy << ": the directory and the consumers disagree on hits";
    hit_rate[policy] = static_cast<double>(hits) / static_cast<double>(hits + misses);
    if (world_rank() == 0)
      std::printf("[ hit rate ] %s %s: %.3f\n", GetParam().c_str(), policy, hit_rate[policy]);
  }
  // Which entries LRU and clairvoyant keep depends on the order the two pipelines' batches were described,
  // which is timing here (0.25-0.41 for clairvoyant against static's 0.222 on 4-8 ranks): their ranking is
  // asserted on scripted orders (test_simulation.cpp: TwoPipelinesSharingEntriesFavourClairvoyant). Static
  // keeps the first entries it admitted, whatever the order. Every policy hits: a quarter of the set stays
  // cached over 3 epochs of 2 pipelines that share their entries (LRU 0.075-0.14 on 4-8 ranks).
  EXPECT_GT(hit_rate["static"], 0.1);
  EXPECT_GT(hit_rate["lru"], 0.0);
  EXPECT_GT(hit_rate["clairvoyant"], 0.0);
}

}  // namespace
}  // namespace ferry::test
