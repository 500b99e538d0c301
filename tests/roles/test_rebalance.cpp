// Role rebalancing end to end on CPUs, over both transports, at 6 ranks (1 randomizer, 3 service ranks, 2
// consumers). Every move is scripted (monitor.role_policy = "scripted"): the same kRole paths as the adaptive
// policy's R1 and R2, at positions that do not depend on the machine's speed. What each test asserts holds
// whatever the timing: every batch equals LocalLoader's (same samples exactly once per epoch, same order,
// same bytes), the moves made, who serves and who prepares after them, the entries dropped, and hit rates
// where the static fill makes them exact. Whether measured windows trigger a move is the adaptive policy's
// pure table (tests/monitor/test_role_policy.cpp) and a benchmark (perf/run.sh --only rebalance).
// Moving a randomizer (R3) is tested at 8 ranks in test_rebalance_r3.cpp.
#include "rebalance_helpers.hpp"

namespace ferry::test {
namespace {

class Rebalance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (world_size() != 6) GTEST_SKIP() << "written for 6 ranks (1 randomizer, 3 service ranks, 2 consumers)";
  }
};

// 480 samples of 364-byte entries (6x5x3 f32 + i32 label; 384 bytes in a slab): a slab of 240 entries holds
// half of the dataset, two hold all of it. Ranks: 0 randomizer, 1 cache server, 2 and 3 transformers.
Config r1_config(const std::string& transport, const char* script) {
  Config config = scripted(transport, 1, 2, script);
  config.runtime.cache_bytes = 240 * 384;
  return config;
}

// R1's move (a transformer becomes a cache server) at the start of epoch 1: epoch 0 fills the first slab
// (static fill declines the other half), epoch 1 hits it and fills the second, epochs 2 and 3 hit everything.
TEST_P(Rebalance, R1TransformerBecomesCacheServer) {
  PipelineConfig p = image_pipeline("r1", 480, 31);
  p.epochs = 4;
  Config config = r1_config(GetParam(), "epoch 1: rank 2 -> cache_server");
  config.pipelines = {p};
  const JobResult r = run_job(config);
  expect_local_loader_batches(p, r, 2);
  const Roles roles = gather_roles(r);
  expect_one_move(roles, "transformer", "cache_server");
  EXPECT_EQ(roles.serving, 2u) << "capacity doubled: two slabs serve at the end";
  EXPECT_EQ(roles.dropped, 0u);
  const std::vector<std::uint64_t> expected{0, 240, 480, 480};
  for (std::size_t e = 0; e < 4; ++e) EXPECT_EQ(epoch_hits(r, 0, e), expected[e]) << "epoch " << e;
}

// With LRU a full cache evicts instead of declining; the directory fills free room first, so after the move
// nothing is evicted and the hit counts are those of the static fill.
TEST_P(Rebalance, R1WithAnEvictingPolicy) {
  PipelineConfig p = image_pipeline("r1lru", 480, 47);
  p.epochs = 4;
  Config config = r1_config(GetParam(), "epoch 1: rank 2 -> cache_server");
  config.runtime.cache_policy = "lru";
  config.pipelines = {p};
  const JobResult r = run_job(config);
  expect_local_loader_batches(p, r, 2);
  expect_one_move(gather_roles(r), "transformer", "cache_server");
  EXPECT_EQ(epoch_hits(r, 0, 1), 240u) << "the 240 entries epoch 0 left in the first slab";
  for (std::size_t e : {2, 3}) EXPECT_EQ(epoch_hits(r, 0, e), 480u) << "epoch " << e;
}

// R2's move (a cache server becomes a transformer) at the start of epoch 1: two slabs of 8 entries, both
// filled in epoch 0; the one that stops serving drops its 8 entries (counted), the other serves its 8 in
// every later epoch, and the former cache server prepares samples.
TEST_P(Rebalance, R2CacheServerBecomesTransformer) {
  PipelineConfig p = image_pipeline("r2", 480, 37);
  p.epochs = 3;
  Config config = scripted(GetParam(), 2, 1, "epoch 1: rank 1 -> transformer");  // 1, 2 serve; 3 transforms
  config.runtime.cache_bytes = 8 * 384;
  config.pipelines = {p};
  const JobResult r = run_job(config);
  expect_local_loader_batches(p, r, 2);
  const Roles roles = gather_roles(r);
  expect_one_move(roles, "cache_server", "transformer");
  EXPECT_EQ(roles.serving, 1u);
  EXPECT_EQ(roles.dropped, 8u) << "the entries of the slab that stopped serving";
  EXPECT_GT(roles.moved_prepared, 0u) << "the new transformer got no miss list";
  EXPECT_EQ(epoch_hits(r, 0, 0), 0u);
  for (std::size_t e : {1, 2}) EXPECT_EQ(epoch_hits(r, 0, e), 8u) << "epoch " << e;
}

// The move lands in the middle of an epoch (before batch 3 of epoch 1), with descriptors, misses and inserts
// in flight: every batch still equals LocalLoader's, epoch 1 hits the first slab's 240 entries, and epoch 2
// misses at most what batches 0-2 of epoch 1 declined (3 batches of 8 per consumer) before the second slab
// served.
TEST_P(Rebalance, MidEpochMoveKeepsOrderAndBytes) {
  PipelineConfig p = image_pipeline("mid", 480, 41);
  p.epochs = 3;
  Config config = r1_config(GetParam(), "epoch 1 batch 3: rank 2 -> cache_server");
  config.pipelines = {p};
  const JobResult r = run_job(config);
  expect_local_loader_batches(p, r, 2);
  expect_one_move(gather_roles(r), "transformer", "cache_server");
  EXPECT_EQ(epoch_hits(r, 0, 1), 240u);
  EXPECT_GE(epoch_hits(r, 0, 2), 480u - 2 * 3 * 8);
}

// Six moves back and forth, at boundaries and mid-epoch: a slab stops while consumers still read it and
// serves again once its pins and inserts drained. Every batch still equals LocalLoader's, no internal check
// of the directory fires, every step is made, and the roles at the end are the script's.
TEST_P(Rebalance, FlappingRolesKeepEveryBatchExact) {
  PipelineConfig p = image_pipeline("flap", 480, 43);
  p.epochs = 3;
  Config config = scripted(GetParam(), 2, 1,  // 1, 2 serve; 3 transforms
                           "epoch 1: rank 1 -> transformer; epoch 1 batch 3: rank 1 -> cache_server;"
                           "epoch 1 batch 6: rank 2 -> transformer; epoch 2: rank 3 -> cache_server;"
                           "epoch 2 batch 2: rank 1 -> transformer; epoch 2 batch 5: rank 1 -> cache_server");
  config.runtime.cache_bytes = 40 * 384;
  config.pipelines = {p};
  const JobResult r = run_job(config);
  expect_local_loader_batches(p, r, 2);
  EXPECT_EQ(gather_roles(r).randomizer_moves, 6u);
  EXPECT_EQ(gather_roles(r).serving, 2u) << "ranks 1 and 3 serve at the end";
  EXPECT_EQ(role_at_end(r, 1), "cache_server");
  EXPECT_EQ(role_at_end(r, 2), "transformer");
  EXPECT_EQ(role_at_end(r, 3), "cache_server");
  const bool moved = !r.consumer && r.report.role_changes > 0 && r.report.role != "randomizer";
  EXPECT_EQ(sum_all(moved ? r.report.role_changes : 0), 6u) << "every service rank applied every move";
}

// Two pipelines of different lengths on the one randomizer, read in turn by every consumer: a scripted
// position holds only the first pipeline (the lead), so a consumer waiting at the mark of one pipeline never
// waits for another held one (holding both deadlocked: the shorter one's mark came first). Both pipelines
// keep LocalLoader's batches and the move is made.
TEST_P(Rebalance, ScriptedPositionWithTwoPipelinesOfDifferentLengths) {
  PipelineConfig a = image_pipeline("long", 480, 53), b = image_pipeline("short", 240, 54);
  a.epochs = b.epochs = 3;
  for (const char* script : {"epoch 1: rank 2 -> cache_server", "epoch 1 batch 4: rank 2 -> cache_server"}) {
    Config config = r1_config(GetParam(), script);
    config.pipelines = {a, b};
    const JobResult r = run_job(config);
    expect_local_loader_batches(a, r, 2, 0);
    expect_local_loader_batches(b, r, 2, 1);
    expect_one_move(gather_roles(r), "transformer", "cache_server");
  }
}

INSTANTIATE_TEST_SUITE_P(T, Rebalance, ::testing::Values("ucx", "mpi"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ferry::test
