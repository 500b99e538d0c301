// The cache directory sharded by key range (runtime.directory_shards, docs/scaling.md), end to end over both
// transports: two randomizers each hold one half of the sample IDs. Needs 5 ranks (skipped at 4).
#include <gtest/gtest.h>

#include <cstring>

#include "ferry/local_loader.hpp"
#include "harness.hpp"

namespace ferry::test {
namespace {

class DirectoryShards : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (world_size() < 5) GTEST_SKIP() << "2 randomizers, a cache server and a transformer leave no consumer";
  }
  Config base() const {
    Config c;
    c.log_level = "warn";
    c.runtime.transport = GetParam();
    c.runtime.randomizers = 2;
    c.runtime.directory_shards = 2;
    c.runtime.prefetch = 3;
    c.runtime.cache_bytes = 1 << 20;
    return c;
  }
  static std::uint32_t consumers(const Config& c) {
    return static_cast<std::uint32_t>(world_size() - c.runtime.randomizers - c.runtime.cache_servers -
                                      c.runtime.transformers);
  }
  // Every batch a consumer saw equals LocalLoader's for the same consumer.
  static void expect_matches_local(const Config& config, const JobResult& r) {
    if (!r.consumer) return;
    std::map<std::size_t, std::vector<const SeenBatch*>> by_pipeline;
    for (const auto& b : r.batches) by_pipeline[b.pipeline].push_back(&b);
    for (const auto& [index, seen] : by_pipeline)
      expect_local_loader_batches(config.pipelines[index], seen, static_cast<std::uint32_t>(r.consumer_index),
                                  consumers(config));
  }
};

// Two pipelines of one cache ID (other seeds, other orders) share entries through the shards: each sample is
// read from HDF5 once while the cache holds the set, and with a cache of about a quarter of the set every
// policy stays within each shard's slice, and the shards' hits are the consumers' hits.
TEST_P(DirectoryShards, TwoPipelinesOfOneCacheIdShareEntriesUnderEveryPolicy) {
  for (const char* policy : {"static", "lru", "clairvoyant"}) {
    for (const bool small : {false, true}) {
      Config config = base();
      config.runtime.cache_policy = policy;
      if (small) config.runtime.cache_bytes = 48 << 10;  // 64 entries of 384 reserved bytes per shard
      PipelineConfig a = image_pipeline("a", 240, 41), b = image_pipeline("b", 240, 42);
      a.epochs = b.epochs = 3;
      config.pipelines = {a, b};
      const JobResult r = run_job(config);
      expect_matches_local(config, r);
      if (r.report.role == "randomizer") {
        EXPECT_EQ(r.report.cache_capacity, (config.runtime.cache_bytes / 2) & ~std::uint64_t{63}) << policy;
        EXPECT_LE(r.report.cache_peak_bytes, r.report.cache_capacity) << policy;
      }
      std::uint64_t mine = 0;
      for (const auto& [pipeline, epochs] : r.epoch_counters)
        for (const auto& e : epochs) mine += e.hits;
      EXPECT_EQ(sum_all(r.report.cache_hits), sum_all(mine))
          << policy << ": the shards and the consumers disagree on hits";
      // Clairvoyant looks two epochs ahead: where drop_last leaves samples out of an epoch (8 ranks: 4
      // consumers, 224 of 240 a pipeline), a sample needed only past that horizon is not admitted.
      const bool every_epoch_whole = 240 % (consumers(config) * 8) == 0;
      if (!small && (every_epoch_whole || std::string(policy) != "clairvoyant")) {
        EXPECT_EQ(sum_all(r.report.hdf5_bytes), 240u * 94u) << policy << ": a sample was read twice";
      } else if (small) {
        EXPECT_GT(sum_all(mine), 0u) << policy;
      }
    }
  }
}

// Consumers that stop mid-epoch end the job on every rank (each shard hears kFinished, the other shard's
// final count reaches shard 0), and a job resumed from their state delivers LocalLoader's batches.
TEST_P(DirectoryShards, StopMidEpochAndResume) {
  Config config = base();
  PipelineConfig p = image_pipeline("images", 240, 71);
  p.epochs = 3;
  config.pipelines.push_back(p);
  expect_resume_matches_local(config, 7);
}

INSTANTIATE_TEST_SUITE_P(Transports, DirectoryShards, ::testing::Values("ucx", "mpi"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ferry::test
