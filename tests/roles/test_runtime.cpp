// The multi-rank system end to end, over both transports: exact delivery, byte-identity with LocalLoader,
// determinism across layouts, cache behaviour, and layouts that must fail fast. (What idle service ranks
// cost is a measurement: perf/README.md, figure 6.)
#include <gtest/gtest.h>

#include <cstring>

#include "ferry/error.hpp"
#include "ferry/local_loader.hpp"
#include "harness.hpp"

namespace ferry::test {
namespace {

class RuntimeRanks : public ::testing::TestWithParam<std::string> {
 protected:
  Config base(int cache_servers = 1, int transformers = 1) const {
    Config c;
    c.log_level = "warn";
    c.runtime.transport = GetParam();
    c.runtime.cache_servers = cache_servers;
    c.runtime.transformers = transformers;
    c.runtime.prefetch = 3;
    c.runtime.cache_bytes = 1 << 20;
    return c;
  }
  static int consumers(const Config& c) {
    return world_size() - c.runtime.randomizers - c.runtime.cache_servers - c.runtime.transformers;
  }
};

// Every batch a consumer saw equals LocalLoader's batch for the same consumer of the same group.
void expect_matches_local_loader(const Config& config, const JobResult& r) {
  if (!r.consumer) return;
  std::map<std::size_t, std::vector<const SeenBatch*>> by_pipeline;
  for (const auto& b : r.batches) by_pipeline[b.pipeline].push_back(&b);
  for (const auto& [index, seen] : by_pipeline) {
    const PipelineConfig& p = config.pipelines[index];
    std::vector<int> group = p.consumers;
    if (group.empty())
      for (int c = 0; c < world_size() - 3; ++c) group.push_back(c);
    const auto me =
        static_cast<std::uint32_t>(std::find(group.begin(), group.end(), r.consumer_index) - group.begin());
    expect_local_loader_batches(p, seen, me, static_cast<std::uint32_t>(group.size()));
  }
}

// 60 variable-length byte samples with labels, batches of 4.
PipelineConfig vlen_pipeline(std::uint64_t seed) {
  return ferry::test::vlen_pipeline("vlen", 60, seed);
}

TEST_P(RuntimeRanks, ExactlyOncePerEpochAndByteIdenticalToLocalLoader) {
  Config config = base();
  config.pipelines.push_back(image_pipeline("dropped", 240, 3));
  PipelineConfig padded = image_pipeline("padded", 101, 4);
  padded.drop_last = false;
  config.pipelines.push_back(padded);
  config.pipelines.push_back(vlen_pipeline(5));
  const JobResult r = run_job(config);
  expect_matches_local_loader(config, r);

  // Exactly once: per pipeline and epoch, how often each ID arrived, summed over all ranks.
  const int c = consumers(config);
  for (std::size_t p = 0; p < config.pipelines.size(); ++p) {
    const std::uint64_t n = p == 0 ? 240 : (p == 1 ? 101 : 60);
    const std::uint64_t b = config.pipelines[p].batch_size;
    for (std::uint64_t epoch = 0; epoch < static_cast<std::uint64_t>(config.pipelines[p].epochs); ++epoch) {
      std::vector<std::uint64_t> counts(n, 0), total(n, 0);
      for (const auto& seen : r.batches)
        if (seen.pipeline == p && seen.epoch == epoch)
          for (auto id : seen.ids) ++counts[id];
      MPI_Allreduce(counts.data(), total.data(), static_cast<int>(n), MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
      std::uint64_t sum = 0;
      for (auto t : total) sum += t;
      if (config.pipelines[p].drop_last) {
        for (auto t : total) ASSERT_LE(t, 1u) << "pipeline " << p << " delivered a sample twice";
        EXPECT_EQ(sum, c * (n / c / b * b));
      } else {
        for (auto t : total) ASSERT_GE(t, 1u) << "pipeline " << p << " missed a sample";
        EXPECT_EQ(sum, c * ((n + c - 1) / c));
      }
    }
  }
}

// Several prepare workers per transformation rank (the worker queue, batches of different consumers
// finishing out of order): still every batch equals LocalLoader's, fixed-size and variable-length alike.
TEST_P(RuntimeRanks, PrepareWorkersKeepEveryBatchExact) {
  Config config = base();
  config.runtime.transform_workers = 3;
  config.pipelines.push_back(image_pipeline("images", 240, 13));
  config.pipelines.push_back(vlen_pipeline(6));
  const JobResult r = run_job(config);
  expect_matches_local_loader(config, r);
  const std::uint64_t prepared =
      sum_all(!r.consumer && r.report.role == "transformer" ? r.report.samples_prepared : 0);
  EXPECT_GT(prepared, 0u);
}

TEST_P(RuntimeRanks, SameSeedSameOrderAcrossLayouts) {
  if (world_size() < 8)
    GTEST_SKIP() << "needs 8 ranks (1 randomizer, 2 cache servers, 3 transformers, 2 consumers)";
  for (auto [servers, transformers] : {std::pair{1, 1}, std::pair{2, 3}}) {
    Config config = base(servers, transformers);
    PipelineConfig p = image_pipeline("images", 240, 11);
    p.consumers = {0, 1};  // the same two consumers whatever the layout
    config.pipelines.push_back(p);
    const JobResult r = run_job(config);
    if (r.consumer && r.consumer_index < 2) {
      std::vector<int> group = {0, 1};
      LocalLoader local(p, static_cast<std::uint32_t>(r.consumer_index), 2);
      std::size_t k = 0;
      while (const Batch* b = local.next_batch()) {
        ASSERT_LT(k, r.batches.size());
        ASSERT_EQ(r.batches[k].ids, b->ids)
            << servers << " server(s), " << transformers << " transformer(s), batch " << k;
        ASSERT_EQ(std::memcmp(r.batches[k].fields[0].data(), b->fields[0].data, b->fields[0].bytes), 0);
        ++k;
      }
      EXPECT_EQ(k, r.batches.size());
    } else if (r.consumer) {
      EXPECT_TRUE(r.batches.empty()) << "a consumer outside the group got batches";
    }
  }
}

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

TEST_P(RuntimeRanks, RangeForWalksOneEpochAtATime) {
  Config config = base();
  config.pipelines.push_back(image_pipeline("images", 240, 61));
  ferry::Runtime rt(MPI_COMM_WORLD, config);
  if (!rt.is_consumer()) {
    rt.serve();
    return;
  }
  Loader& loader = rt.loader();
  for (std::uint64_t epoch = 0; epoch < 2; ++epoch) {
    std::uint64_t batches = 0;
    for (const Batch& b : loader.epoch()) {
      EXPECT_EQ(b.epoch, epoch);
      EXPECT_EQ(b.index, batches);
      ++batches;
    }
    EXPECT_EQ(batches, loader.batches_per_epoch());
  }
  EXPECT_EQ(loader.next_batch(), nullptr);
  const LoaderCounters& c = loader.counters();
  EXPECT_EQ(c.batches, 2 * loader.batches_per_epoch());
  EXPECT_EQ(c.hits + c.misses, c.samples);
  EXPECT_LE(c.queue_min, static_cast<std::uint64_t>(config.runtime.prefetch));
  EXPECT_LE(c.queue_sum, c.batches * static_cast<std::uint64_t>(config.runtime.prefetch));
}

TEST_P(RuntimeRanks, StopMidEpochAndResumeFromTheSavedState) {
  Config config = base();
  PipelineConfig p = image_pipeline("images", 240, 71);
  p.epochs = 3;
  config.pipelines.push_back(p);
  expect_resume_matches_local(config, 13);  // 13 batches before the "checkpoint"
}

// Each rank must throw E containing `expect`; checked on every rank.
template <typename E = ConfigError>
void expect_fails_everywhere(const Config& config, const std::string& expect) {
  int ok = 0;
  try {
    ferry::Runtime rt(MPI_COMM_WORLD, config);
  } catch (const E& e) {
    const std::string msg = e.what();
    ok = msg.find(expect) != std::string::npos;
    EXPECT_TRUE(ok) << "message: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  int all = 0;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  EXPECT_EQ(all, 1) << "some rank did not fail with '" << expect << "'";
}

TEST_P(RuntimeRanks, LayoutsThatCannotWorkFailOnEveryRank) {
  Config config = base(1, world_size());
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  expect_fails_everywhere(config, "cannot hold");
  config = base(world_size() - 2, 1);
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  expect_fails_everywhere(config, "leave no consumer");
  config = base();
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  config.pipelines[0].consumers = {0, 99};
  expect_fails_everywhere(config, "consumers names consumer 99");
  config = base();
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  config.pipelines[0].dataset.files = {shared_dir() + "/missing.h5"};
  expect_fails_everywhere<DatasetError>(config, "missing.h5");
  config = base();
  config.runtime.cache_bytes = 256;  // smaller than one entry
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  expect_fails_everywhere(config, "does not fit a cache server");
  config = base();
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  config.pipelines[0].start_epoch = 9;  // a resume position past the end
  expect_fails_everywhere(config, "start_epoch = 9 lies past");
  config.pipelines[0].start_epoch = 2;  // a state saved after the last batch of its 2 epochs
  expect_fails_everywhere(config,
                          "pipeline 'images': the resume position (start_epoch = 2, start_batch = 0) "
                          "is the end of its 2 epoch(s): nothing is left to deliver");
  // Jobs whose consumers get no batch: under UCX these crashed in uct_rkey_release or ended with exit 0.
  config = base();
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  config.pipelines[0].batch_size = 241;
  expect_fails_everywhere(config, "pipeline 'images': batch_size = 241 is larger than each consumer's share");
  config = base();
  config.pipelines.push_back(image_pipeline("one", 1, 1));  // a 1-sample dataset (shares of 0 or 1)
  expect_fails_everywhere(config, "pipeline 'one': batch_size = 8 is larger than each consumer's share of " +
                                      std::to_string(1 / consumers(config)) + " sample(s)");
}

INSTANTIATE_TEST_SUITE_P(Transports, RuntimeRanks, ::testing::Values("ucx", "mpi"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ferry::test
