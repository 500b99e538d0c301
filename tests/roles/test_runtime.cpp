// The multi-rank system end to end, over both transports: exact delivery, byte-identity with LocalLoader,
// determinism across layouts, the loader's range-for, and stop and resume. The cache's behaviour is in
// test_runtime_cache.cpp, layouts that must fail fast in test_runtime_layouts.cpp, their shared fixture in
// runtime_ranks.hpp. (What idle service ranks cost is a measurement: perf/README.md, figure 6.)
#include <gtest/gtest.h>

#include <cstring>

#include "ferry/local_loader.hpp"
#include "harness.hpp"
#include "runtime_ranks.hpp"

namespace ferry::test {
namespace {

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

INSTANTIATE_TEST_SUITE_P(Transports, RuntimeRanks, ::testing::Values("ucx", "mpi"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ferry::test
