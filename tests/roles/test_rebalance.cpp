// Role rebalancing end to end on CPUs, over both transports, at 6 ranks:
//   R1: the dataset does not fit the cache and the transformers sit idle (consumers train 3 ms per batch):
//       after the first epoch a transformer becomes a cache server, capacity and hit rate rise.
//   R2: the prepare stage is expensive, the one transformer is saturated and consumers wait: a cache server
//       that serves almost nothing becomes a transformer and prepares samples from then on.
// How much the wait falls (R2) is a speed figure: perf/run.sh measures it against the same job without
// rebalancing ("rebalance" benchmark); here it is printed, not asserted.
// Through both: every batch equals LocalLoader's (same seed, same order, same bytes: elastic determinism),
// so each sample arrives exactly once per epoch.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

#include "core/strings.hpp"
#include "ferry/local_loader.hpp"
#include "harness.hpp"

namespace ferry::test {
namespace {

class Rebalance : public ::testing::TestWithParam<std::string> {
 protected:
  Config base(int cache_servers, int transformers) const {
    Config c;
    c.log_level = "warn";
    c.runtime.transport = GetParam();
    c.runtime.cache_servers = cache_servers;
    c.runtime.transformers = transformers;
    c.runtime.prefetch = 3;
    c.monitor.rebalance = true;
    c.monitor.window_ms = 20;
    c.monitor.window_batches = 4;
    return c;
  }
  void SetUp() override {
    if (world_size() != 6) GTEST_SKIP() << "written for 6 ranks (1 randomizer, 3 service ranks, 2 consumers)";
  }
};

// Every batch equals LocalLoader's batch for the same consumer (IDs and every field's bytes), and there are
// as many: the order and the bytes do not depend on the layout or on when it changed.
void expect_local_loader_batches(const PipelineConfig& p, const JobResult& r, std::uint32_t consumers,
                                 std::size_t pipeline = 0) {
  if (!r.consumer) return;
  std::vector<const SeenBatch*> seen;
  for (const auto& b : r.batches)
    if (b.pipeline == pipeline) seen.push_back(&b);
  expect_local_loader_batches(p, seen, static_cast<std::uint32_t>(r.consumer_index), consumers);
}

// Consumers "train" `ms` milliseconds per batch.
std::function<void(Runtime&, const Batch&)> train(int ms) {
  return [ms](Runtime&, const Batch&) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
}

// A prepare stage dominated by compute: log1p over the image resized to big x big, then down to small x small
// (small*small*3 f32 per entry); no augment.
PipelineConfig expensive_pipeline(const std::string& name, std::uint64_t seed, int epochs, int big,
                                  int small) {
  PipelineConfig p = image_pipeline(name, 480, seed);
  p.epochs = epochs;
  p.prepare = {
      {"image", parse_op_chain(str_cat("cast(scale=0.0039215686) | resize(height=", big, ", width=", big,
                                       ") | log1p | resize(height=", small, ", width=", small, ")"),
                               "test")}};
  p.augment = {};
  return p;
}

struct EpochFigures {
  double hit_rate = 0, wait_seconds = 0;
};

// Per epoch, summed over every consumer of the job.
std::vector<EpochFigures> per_epoch(const JobResult& r, int epochs) {
  std::vector<EpochFigures> out(static_cast<std::size_t>(epochs));
  for (int e = 0; e < epochs; ++e) {
    std::uint64_t hits = 0, samples = 0;
    double wait = 0;
    if (r.consumer) {
      const auto& c = r.epoch_counters.at(0).at(static_cast<std::size_t>(e));
      hits = c.hits;
      samples = c.samples;
      wait = c.wait_seconds;
    }
    const std::uint64_t all_hits = sum_all(hits), all_samples = sum_all(samples);
    double total_wait = 0;
    MPI_Allreduce(&wait, &total_wait, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    out[static_cast<std::size_t>(e)] = {all_samples ? static_cast<double>(all_hits) / all_samples : 0.0,
                                        total_wait};
  }
  return out;
}

struct Roles {
  std::uint64_t randomizer_moves = 0, serving = 0, dropped = 0;
  std::uint64_t moved_ranks = 0;     // service ranks that report a role change
  std::uint64_t moved_prepared = 0;  // samples those ranks prepared
  std::string moved_from, moved_to;
};

Roles gather_roles(const JobResult& r) {
  Roles out;
  const bool randomizer = !r.consumer && r.report.role == "randomizer";
  out.randomizer_moves = sum_all(randomizer ? r.report.role_changes : 0);
  out.serving = sum_all(randomizer ? r.report.cache_servers_serving : 0);
  out.dropped = sum_all(randomizer ? r.report.cache_dropped : 0);
  const bool moved = !r.consumer && !randomizer && r.report.role_changes > 0;
  out.moved_ranks = sum_all(moved ? 1 : 0);
  out.moved_prepared = sum_all(moved ? r.report.samples_prepared : 0);
  // The moved rank's before and after, broadcast from it (at most one moved in these scenarios).
  int from_rank = moved ? world_rank() : -1, root = -1;
  MPI_Allreduce(&from_rank, &root, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (root >= 0) {
    char text[64] = {};
    if (world_rank() == root)
      std::snprintf(text, sizeof text, "%s>%s", r.report.initial_role.c_str(), r.report.role.c_str());
    MPI_Bcast(text, sizeof text, MPI_CHAR, root, MPI_COMM_WORLD);
    const std::string both(text);
    out.moved_from = both.substr(0, both.find('>'));
    out.moved_to = both.substr(both.find('>') + 1);
  }
  return out;
}

// The coordinator decided one move, and the one rank that moved went from `from` to `to`.
void expect_one_move(const Roles& roles, const char* from, const char* to) {
  EXPECT_EQ(roles.randomizer_moves, 1u) << "one move: " << from << " -> " << to;
  EXPECT_EQ(roles.moved_ranks, 1u);
  EXPECT_EQ(roles.moved_from, from);
  EXPECT_EQ(roles.moved_to, to);
}

// R1 on one pipeline of 480 samples with a cache slab of 240 entries and 2 transformers (consumers train
// 3 ms per batch): every batch equals LocalLoader's, exactly one move is made and both slabs serve at the
// end. Prints and returns the hit rate per epoch.
std::vector<EpochFigures> run_r1(const PipelineConfig& p, Config config, const char* what) {
  config.runtime.cache_bytes = 240 * 384;
  config.pipelines = {p};
  const JobResult r = run_job(config, train(3));
  expect_local_loader_batches(p, r, 2);
  const Roles roles = gather_roles(r);
  EXPECT_EQ(roles.randomizer_moves, 1u);
  EXPECT_EQ(roles.serving, 2u);
  const auto epochs = per_epoch(r, p.epochs);
  if (world_rank() == 0)
    for (int e = 0; e < p.epochs; ++e)
      std::printf("%s: epoch %d hit rate %.3f\n", what, e, epochs[e].hit_rate);
  return epochs;
}

TEST_P(Rebalance, R1IdleTransformerBecomesCacheServerAndHitRateRises) {
  // 480 samples of 364-byte entries (6x5x3 f32 + i32 label; 384 bytes in a slab): one slab holds 240, half
  // the dataset, two hold all of it.
  PipelineConfig p = image_pipeline("r1", 480, 31);
  p.epochs = 4;
  std::vector<EpochFigures> with, without;
  for (bool rebalance : {false, true}) {
    Config config = base(1, 2);
    config.runtime.cache_bytes = 240 * 384;
    config.monitor.rebalance = rebalance;
    config.pipelines = {p};
    const JobResult r = run_job(config, train(3));
    expect_local_loader_batches(p, r, 2);
    const Roles roles = gather_roles(r);
    (rebalance ? with : without) = per_epoch(r, p.epochs);
    if (!rebalance) {
      EXPECT_EQ(roles.randomizer_moves, 0u);
      continue;
    }
    expect_one_move(roles, "transformer", "cache_server");
    EXPECT_EQ(roles.serving, 2u) << "capacity doubled: two slabs serve at the end";
    EXPECT_EQ(roles.dropped, 0u);
  }
  if (world_rank() == 0)
    for (int e = 0; e < p.epochs; ++e)
      std::printf("R1 epoch %d: hit rate %.3f without rebalancing, %.3f with\n", e, without[e].hit_rate,
                  with[e].hit_rate);
  // Decided at the end of epoch 0; the new slab fills during epoch 1 (same hit rate as without), and from
  // epoch 2 on both slabs serve.
  EXPECT_NEAR(with[1].hit_rate, without[1].hit_rate, 0.05);
  for (int e : {2, 3}) {
    EXPECT_GT(with[e].hit_rate, without[e].hit_rate + 0.3) << "epoch " << e;
    EXPECT_GT(with[e].hit_rate, with[1].hit_rate + 0.3) << "epoch " << e;
  }
}

TEST_P(Rebalance, R2IdleCacheServerBecomesTransformer) {
  // An expensive prepare (log1p at 160x160, then down to 40x40: 19 KB entries) and a cache of 8 entries per
  // slab: the one transformer is the bottleneck and both cache servers serve a few percent of the samples.
  const PipelineConfig p = expensive_pipeline("r2", 37, 3, 160, 40);
  Config config = base(2, 1);
  config.runtime.cache_bytes = 8 * (40 * 40 * 3 * 4 + 128);
  config.pipelines = {p};
  const JobResult r = run_job(config);
  expect_local_loader_batches(p, r, 2);
  const Roles roles = gather_roles(r);
  const auto epochs = per_epoch(r, p.epochs);
  if (world_rank() == 0)
    for (int e = 0; e < p.epochs; ++e)
      std::printf("R2 epoch %d: consumers waited %.3f s, hit rate %.3f\n", e, epochs[e].wait_seconds,
                  epochs[e].hit_rate);
  EXPECT_EQ(roles.randomizer_moves, 1u) << "one move: a cache server becomes a transformer";
  EXPECT_EQ(roles.moved_from, "cache_server");
  EXPECT_EQ(roles.moved_to, "transformer");
  EXPECT_EQ(roles.serving, 1u);
  // Decided at the end of epoch 1 (the first warm one), in force for epoch 2: the former cache server
  // prepares a share of the misses.
  EXPECT_GT(roles.moved_prepared, 0u) << "the new transformer got no miss list";
}

// With LRU a full cache evicts instead of declining: evictions are the same signal, and the added slab
// turns a thrashing cache into one that holds the whole dataset.
TEST_P(Rebalance, R1WithAnEvictingPolicy) {
  PipelineConfig p = image_pipeline("r1lru", 480, 47);
  p.epochs = 4;
  Config config = base(1, 2);
  config.runtime.cache_policy = "lru";
  const auto epochs = run_r1(p, config, "R1 lru");
  EXPECT_GT(epochs[3].hit_rate, 0.95) << "two slabs hold the whole dataset";
}

// Rebalance points every coordinator window (monitor.rebalance_windows = 1), so the move lands in the middle
// of an epoch, with descriptors, misses and inserts in flight: still every batch equals LocalLoader's (the
// same samples exactly once per epoch, the same order, the same bytes) and the added slab serves.
TEST_P(Rebalance, MidEpochMoveKeepsOrderAndBytes) {
  PipelineConfig p = image_pipeline("mid", 480, 41);
  p.epochs = 3;
  Config config = base(1, 2);
  config.monitor.rebalance_windows = 1;
  config.monitor.window_ms = 10;
  const auto epochs = run_r1(p, config, "mid-epoch move");
  EXPECT_GT(epochs[2].hit_rate, 0.8) << "both slabs serve in the last epoch";
}

// A policy set to flap (role_idle just under role_busy, a point every other window): ranks move back and
// forth between transformer and cache server many times, a slab stops while consumers still read it and
// serves again once its pins and inserts drained. Every batch still equals LocalLoader's, and no internal
// check of the directory fires.
TEST_P(Rebalance, FlappingRolesKeepEveryBatchExact) {
  const PipelineConfig p = expensive_pipeline("flap", 43, 3, 96, 24);
  Config config = base(2, 1);
  config.runtime.cache_bytes = 40 * (24 * 24 * 3 * 4 + 128);
  config.monitor.rebalance_windows = 2;
  config.monitor.window_ms = 15;
  config.monitor.role_idle = 0.35;
  config.monitor.role_busy = 0.4;
  config.monitor.role_wait = 0.0;
  config.monitor.role_min_hits = 0.5;
  config.pipelines = {p};
  // Consumers train about as long as one transformer needs per batch: one transformer is saturated (R2
  // fires), two are half idle (R1 fires).
  const JobResult r = run_job(config, train(4));
  expect_local_loader_batches(p, r, 2);
  const Roles roles = gather_roles(r);
  if (world_rank() == 0)
    std::printf("flapping: %llu moves\n", static_cast<unsigned long long>(roles.randomizer_moves));
  EXPECT_GE(roles.randomizer_moves, 2u) << "the rules did not flap: the scenario exercised nothing";
}

// Two randomizers (two cache IDs), each owning half of every slab: the coordinator decides R1 from its own
// pipeline, tells the other randomizer, and both start using the new slab; both pipelines' hit rates rise
// and both keep LocalLoader's batches. Runs at 8 ranks: 2 randomizers, 1 cache server, 2 transformers, 3
// consumers (every consumer in both pipelines).
class RebalanceTwoRandomizers : public Rebalance {
 protected:
  void SetUp() override {
    if (world_size() != 8)
      GTEST_SKIP() << "written for 8 ranks (2 randomizers, 3 service ranks, 3 consumers)";
  }
  // 1 cache server, 2 transformers, 2 randomizers each owning half of the slab (240 entries of 384 bytes);
  // `first` (cache ID 0) belongs to the coordinator's randomizer, `second` (cache ID 1) to the other.
  Config two_randomizers(PipelineConfig first, PipelineConfig second) const {
    Config config = base(1, 2);
    config.runtime.randomizers = 2;
    config.runtime.cache_bytes = 2 * 240 * 384;
    first.cache_id = 0;
    second.cache_id = 1;
    config.pipelines = {first, second};
    return config;
  }
};

// Hit rate of one pipeline's epoch over every consumer of the job (collective).
double hit_rate(const JobResult& r, std::size_t pipeline, std::size_t epoch) {
  std::uint64_t hits = 0, samples = 0;
  if (r.consumer) {
    hits = r.epoch_counters.at(pipeline).at(epoch).hits;
    samples = r.epoch_counters.at(pipeline).at(epoch).samples;
  }
  return static_cast<double>(sum_all(hits)) / static_cast<double>(sum_all(samples));
}

// Runs a two-randomizer job whose second pipeline does not fit its share of the cache (4 epochs, consumers
// train 3 ms per batch): every batch of both pipelines equals LocalLoader's, the coordinator makes exactly
// one move, and the second pipeline's epoch 3 hit rate is above 0.9.
void expect_one_move_for_the_second(const Config& config, const char* what) {
  const JobResult r = run_job(config, train(3));
  for (std::size_t i = 0; i < 2; ++i) expect_local_loader_batches(config.pipelines[i], r, 3, i);
  EXPECT_EQ(gather_roles(r).randomizer_moves, 1u) << what << ": one move";
  const double rate = hit_rate(r, 1, 3);
  if (world_rank() == 0) std::printf("%s: epoch 3 hit rate %.3f\n", what, rate);
  EXPECT_GT(rate, 0.9) << what;
}

TEST_P(RebalanceTwoRandomizers, EveryRandomizerUsesTheNewSlab) {
  // 480 samples per pipeline over 3 consumers in batches of 8: 20 batches each per epoch. Each randomizer's
  // half of the slab holds half of its pipeline's dataset.
  PipelineConfig first = image_pipeline("first", 480, 51), second = image_pipeline("second", 480, 52);
  first.epochs = second.epochs = 4;
  const Config config = two_randomizers(first, second);
  const JobResult r = run_job(config, train(3));
  for (std::size_t i = 0; i < 2; ++i) expect_local_loader_batches(config.pipelines[i], r, 3, i);
  const Roles roles = gather_roles(r);
  EXPECT_EQ(roles.randomizer_moves, 1u) << "the coordinator decides once";
  EXPECT_EQ(roles.serving, 4u) << "both randomizers serve from both slabs";
  for (std::size_t i = 0; i < 2; ++i) {
    const double rate = hit_rate(r, i, 3);
    if (world_rank() == 0) std::printf("two randomizers: pipeline %zu epoch 3 hit rate %.3f\n", i, rate);
    EXPECT_GT(rate, 0.9) << "pipeline " << i;
  }
}

// The coordinator's own pipeline fits its share of the cache; the other randomizer's does not. R1 reads the
// cache-full figures every randomizer reports in its windows, so the other randomizer's declines make the
// move, and its pipeline reaches a hit rate of 1.
TEST_P(RebalanceTwoRandomizers, TheOtherRandomizersFullCacheCounts) {
  PipelineConfig first = image_pipeline("first", 192, 61);    // fits: 192 entries
  first.epochs = 10;                                          // 8 batches per consumer and epoch
  PipelineConfig second = image_pipeline("second", 480, 62);  // does not: half of it stays out
  second.epochs = 4;                                          // 20 batches per consumer and epoch
  expect_one_move_for_the_second(two_randomizers(first, second), "other randomizer's pipeline");
}

// The coordinator's own pipeline is over after one short epoch; the other randomizer's pipeline does not fit
// its cache. The coordinator stays until every randomizer is done and rebalances at the other's epoch
// boundaries, so the move still comes and the other pipeline reaches a hit rate of 1.
TEST_P(RebalanceTwoRandomizers, RebalancingGoesOnAfterTheCoordinatorsPipelinesEnd) {
  PipelineConfig first = image_pipeline("first", 96, 71);  // one epoch of 4 batches per consumer
  first.epochs = 1;
  PipelineConfig second = image_pipeline("second", 480, 72);
  second.epochs = 4;
  expect_one_move_for_the_second(two_randomizers(first, second), "after the coordinator's pipeline");
}

// The R3 tests' marks: R3 fires when consumers wait and the transformers are at least half busy (the MPI
// transport's per-message costs keep one transformer near 0.7 busy on 2 cores, the default mark), and R1
// only below 5 % busy: with two transformers after the move and a full static cache, R1 would otherwise
// give the cache server role to the only transformer that holds a slab.
void r3_only(Config& config) {
  config.monitor.role_busy = 0.5;
  config.monitor.role_idle = 0.05;
}

// R3 end to end: two randomizers (two cache IDs), one cache server and one transformer that an expensive
// prepare stage (R2's) saturates, four consumers in both pipelines. Consumers wait, no cache server can be
// spared (it is the only one), and the second randomizer has little to do: at the end of epoch 0 it drains,
// hands its pipeline and its share of the cache to the coordinator's randomizer, and transforms from then on.
// Against the same job with monitor.role_randomizers off (no move at all):
//   - every batch of both pipelines equals LocalLoader's (same samples once per epoch, same order, bytes);
//   - the second pipeline keeps its hit rate through the handover: its cache entries moved with it;
//   - the former randomizer prepares samples.
TEST_P(RebalanceTwoRandomizers, R3IdleRandomizerHandsOverAndTransforms) {
  const PipelineConfig first = expensive_pipeline("first", 81, 3, 160, 40);
  const PipelineConfig second = expensive_pipeline("second", 82, 3, 160, 40);
  const std::uint64_t entry = 40 * 40 * 3 * 4 + 64;  // 19200 bytes of image + the label, 64-byte aligned
  std::vector<double> hits_with, hits_without, wait_with, wait_without;
  for (const bool move : {false, true}) {
    Config config = base(1, 1);  // 2 randomizers, 1 cache server, 1 transformer: 4 consumers
    config.runtime.randomizers = 2;
    config.runtime.cache_bytes = 2 * 240 * entry;  // each share holds half of a pipeline's 480 samples
    config.monitor.role_randomizers = move;
    r3_only(config);
    PipelineConfig a = first, b = second;
    a.cache_id = 0;
    b.cache_id = 1;
    config.pipelines = {a, b};
    const JobResult r = run_job(config);
    for (std::size_t i = 0; i < 2; ++i) expect_local_loader_batches(config.pipelines[i], r, 4, i);
    const Roles roles = gather_roles(r);
    auto& hits = move ? hits_with : hits_without;
    auto& wait = move ? wait_with : wait_without;
    for (std::size_t e = 0; e < 3; ++e) {
      hits.push_back(hit_rate(r, 1, e));
      double w = r.consumer ? r.epoch_counters.at(1).at(e).wait_seconds : 0.0, all = 0;
      MPI_Allreduce(&w, &all, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      wait.push_back(all);
    }
    if (!move) {
      EXPECT_EQ(roles.randomizer_moves, 0u) << "without R3 nothing moves (the only cache server stays)";
      continue;
    }
    expect_one_move(roles, "randomizer", "transformer");
    EXPECT_GT(roles.moved_prepared, 0u) << "the former randomizer got no miss list";
    EXPECT_EQ(roles.dropped, 0u) << "every cache entry moved with its pipeline";
  }
  if (world_rank() == 0)
    for (std::size_t e = 0; e < 3; ++e)
      std::printf(
          "R3 epoch %zu, pipeline 'second': hit rate %.3f without the move, %.3f with; consumers "
          "waited %.3f s and %.3f s\n",
          e, hits_without[e], hits_with[e], wait_without[e], wait_with[e]);
  // Static fill: epoch 0 fills the share with half of the dataset, later epochs hit it. Had the entries been
  // dropped at the handover (start of epoch 1), epoch 1 would start over from an empty share.
  for (std::size_t e : {1, 2}) {
    EXPECT_GT(hits_without[e], 0.4) << "epoch " << e;
    EXPECT_NEAR(hits_with[e], hits_without[e], 0.02) << "epoch " << e;
  }
}

// R3 in the middle of an epoch (a rebalance point every coordinator window): the randomizer is told to
// retire while its consumers hold batches of both its pipelines ("second" and "third" share cache ID 1 and
// their entries; the consumers take a batch of each in turn, so each holds one of one pipeline while it
// waits for the other), inserts are in flight and its share is partly filled. It waits only for inserts and
// miss lists, hands the uncredited batches over with their pins, and the heir goes on: every batch of the
// three pipelines equals LocalLoader's. Each share holds its pipelines' 480 entries, so the cache is never
// full (R1 cannot fire on the short spans of one window), and epochs 1 and 2 are all hits only if every
// entry admitted before the move moved with it.
TEST_P(RebalanceTwoRandomizers, R3MidEpochHandoverKeepsOrderBytesAndEntries) {
  Config config = base(1, 1);
  config.runtime.randomizers = 2;
  config.runtime.cache_bytes = 2 * 480 * (40 * 40 * 3 * 4 + 64);
  config.monitor.rebalance_windows = 1;
  config.monitor.window_ms = 10;
  r3_only(config);
  PipelineConfig a = expensive_pipeline("first", 91, 3, 160, 40);
  PipelineConfig b = expensive_pipeline("second", 92, 3, 160, 40);
  PipelineConfig c = expensive_pipeline("third", 93, 3, 160, 40);
  a.cache_id = 0;
  b.cache_id = c.cache_id = 1;
  config.pipelines = {a, b, c};
  const JobResult r = run_job(config);
  for (std::size_t i = 0; i < 3; ++i) expect_local_loader_batches(config.pipelines[i], r, 4, i);
  const Roles roles = gather_roles(r);
  EXPECT_EQ(roles.moved_from, "randomizer");
  EXPECT_EQ(roles.moved_to, "transformer");
  EXPECT_EQ(roles.dropped, 0u);
  for (std::size_t p : {1, 2})
    for (std::size_t e : {1, 2}) {
      const double rate = hit_rate(r, p, e);
      if (world_rank() == 0) std::printf("R3 mid-epoch: pipeline %zu epoch %zu hit rate %.3f\n", p, e, rate);
      EXPECT_EQ(rate, 1.0) << "pipeline " << p << " epoch " << e;
    }
}

// Three randomizers (cache IDs 0, 1 and 2), one transformer, one cache server, three consumers: R3 moves one
// randomizer at a rebalance point and the other at a later one (one move at a time), each handing its
// pipeline to the coordinator's randomizer, which then owns three shares. The second retirement's messages
// reach the first retired randomizer, a transformer by then, which ignores them. Every batch of the three
// pipelines equals LocalLoader's, and no entry is dropped.
TEST_P(RebalanceTwoRandomizers, R3TwiceWithThreeRandomizers) {
  Config config = base(1, 1);
  config.runtime.randomizers = 3;
  config.runtime.cache_bytes = 3 * 240 * (40 * 40 * 3 * 4 + 64);
  r3_only(config);
  std::vector<PipelineConfig> pipelines;
  for (std::uint32_t i = 0; i < 3; ++i) {
    PipelineConfig p = expensive_pipeline(str_cat("p", i), 101 + i, 4, 160, 40);
    p.cache_id = static_cast<int>(i);
    pipelines.push_back(p);
  }
  config.pipelines = pipelines;
  const JobResult r = run_job(config);
  for (std::size_t i = 0; i < 3; ++i) expect_local_loader_batches(config.pipelines[i], r, 3, i);
  const bool retired = !r.consumer && r.report.initial_role == "randomizer" && r.report.role == "transformer";
  EXPECT_EQ(sum_all(retired ? 1 : 0), 2u) << "both randomizers but the coordinator's retired";
  EXPECT_EQ(sum_all(retired ? r.report.samples_prepared > 0 : 0), 2u) << "and both prepared samples";
  EXPECT_EQ(gather_roles(r).dropped, 0u);
}

INSTANTIATE_TEST_SUITE_P(Transports, RebalanceTwoRandomizers, ::testing::Values("ucx", "mpi"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Transports, Rebalance, ::testing::Values("ucx", "mpi"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ferry::test
