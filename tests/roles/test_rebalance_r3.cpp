// Role rebalancing with several randomizers, at 8 ranks, over both transports, every move scripted: a kRole
// that every randomizer applies to its own share, and moving a randomizer (R3: it drains, hands its
// pipelines and its share of the cache to the coordinator's randomizer and transforms), at an epoch boundary,
// mid-epoch and twice. Asserted whatever the timing: every batch of every pipeline equals LocalLoader's,
// who moved and who prepared after, entries kept (none dropped), and hit rates the static fill makes exact.
#include "core/strings.hpp"
#include "rebalance_helpers.hpp"

namespace ferry::test {
namespace {

class RebalanceR3 : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (world_size() != 8) GTEST_SKIP() << "written for 8 ranks (randomizers, service ranks, consumers)";
  }
  // `randomizers` randomizers (ranks 0..), then the given cache servers and transformers; pipeline i gets
  // cache ID i, so randomizer i owns it. Each share of the cache holds `entries` entries of 384 bytes.
  Config config(int randomizers, int cache_servers, int transformers, const char* script,
                std::vector<PipelineConfig> pipelines, std::uint64_t entries) const {
    Config c = scripted(GetParam(), cache_servers, transformers, script);
    c.runtime.randomizers = randomizers;
    c.runtime.cache_bytes = static_cast<std::uint64_t>(randomizers) * entries * 384;
    for (std::size_t i = 0; i < pipelines.size(); ++i)
      if (pipelines[i].cache_id == 0) pipelines[i].cache_id = static_cast<int>(i);
    c.pipelines = std::move(pipelines);
    return c;
  }
};

std::uint32_t consumers_of(const Config& c) {
  return static_cast<std::uint32_t>(world_size() - c.runtime.randomizers - c.runtime.cache_servers -
                                    c.runtime.transformers);
}

void expect_every_pipeline_exact(const Config& c, const JobResult& r) {
  for (std::size_t i = 0; i < c.pipelines.size(); ++i)
    expect_local_loader_batches(c.pipelines[i], r, consumers_of(c), i);
}

// Runs the job: every batch of every pipeline equals LocalLoader's, and one rank moved from `from` to `to`.
struct OneMove {
  JobResult result;
  Roles roles;
};
OneMove run_one_move(const Config& c, const char* from, const char* to) {
  OneMove out{run_job(c), {}};
  expect_every_pipeline_exact(c, out.result);
  out.roles = gather_roles(out.result);
  expect_one_move(out.roles, from, to);
  return out;
}

PipelineConfig pipeline(const std::string& name, std::uint64_t samples, std::uint64_t seed, int epochs) {
  PipelineConfig p = image_pipeline(name, samples, seed);
  p.epochs = epochs;
  return p;
}

// A kRole from the coordinator reaches the other randomizer too: both use the new slab. Ranks: 0 and 1
// randomizers, 2 cache server, 3 and 4 transformers, 3 consumers in both pipelines; each share holds half of
// a pipeline's 480 samples until rank 3 serves from epoch 1 on.
TEST_P(RebalanceR3, EveryRandomizerUsesTheNewSlab) {
  const Config c = config(2, 1, 2, "epoch 1: rank 3 -> cache_server",
                          {pipeline("first", 480, 51, 4), pipeline("second", 480, 52, 4)}, 240);
  const auto [r, roles] = run_one_move(c, "transformer", "cache_server");
  EXPECT_EQ(roles.serving, 4u) << "both randomizers serve from both slabs";
  EXPECT_EQ(epoch_hits(r, 0, 1), 240u) << "the coordinator's pipeline, moved exactly at epoch 1";
  for (std::size_t p : {0, 1}) EXPECT_EQ(epoch_hits(r, p, 3), 480u) << "pipeline " << p;
}

// The coordinator's own pipeline is over after one short epoch: scripted steps then follow the other
// randomizers' reported epochs, so the move still comes. How many of the other pipeline's misses its new
// slab takes depends on when the kRole reaches that randomizer; the entries of its first slab stay.
TEST_P(RebalanceR3, StepsGoOnAfterTheCoordinatorsPipelinesEnd) {
  const Config c = config(2, 1, 2, "epoch 1: rank 3 -> cache_server",
                          {pipeline("first", 96, 71, 1), pipeline("second", 480, 72, 4)}, 240);
  EXPECT_GE(epoch_hits(run_one_move(c, "transformer", "cache_server").result, 1, 3), 240u);
}

// R3 at the start of epoch 1: randomizer 1 hands its pipeline and its share (240 entries, the static fill of
// epoch 0) to rank 0 and transforms. The entries moved with the pipeline: epochs 1 and 2 hit exactly them.
// Ranks: 0 and 1 randomizers, 2 cache server, 3 transformer, 4 consumers.
TEST_P(RebalanceR3, RandomizerHandsOverAndTransforms) {
  const Config c = config(2, 1, 1, "epoch 1: retire randomizer 1",
                          {pipeline("first", 480, 81, 3), pipeline("second", 480, 82, 3)}, 240);
  const auto [r, roles] = run_one_move(c, "randomizer", "transformer");
  EXPECT_GT(roles.moved_prepared, 0u) << "the former randomizer got no miss list";
  EXPECT_EQ(roles.dropped, 0u) << "every cache entry moved with its pipeline";
  for (std::size_t e : {1, 2}) EXPECT_EQ(epoch_hits(r, 1, e), 240u) << "epoch " << e;
}

// R3 in the middle of the first epoch: the randomizer retires while its consumers hold batches of both its
// pipelines ("second" and "third" share cache ID 1 and their entries; consumers take a batch of each in
// turn), inserts are in flight and its share is partly filled. It waits only for inserts and miss lists,
// hands the uncredited batches over with their pins, and the heir goes on filling the share. Each share
// holds all 480 entries, so epochs 1 and 2 are all hits only if every entry admitted before the move moved
// with it.
TEST_P(RebalanceR3, MidEpochHandoverKeepsOrderBytesAndEntries) {
  PipelineConfig third = pipeline("third", 480, 93, 3);
  third.cache_id = 1;
  Config c = config(2, 1, 1, "epoch 0 batch 5: retire randomizer 1",
                    {pipeline("first", 480, 91, 3), pipeline("second", 480, 92, 3), third}, 480);
  // Inserts in flight bounded at 1 byte: describing waits for every credited batch's inserts, on a share two
  // pipelines fill and across the handover (the heir checks that every batch's admissions came off).
  c.runtime.inserts_in_flight_bytes = 1;
  const auto [r, roles] = run_one_move(c, "randomizer", "transformer");
  EXPECT_EQ(roles.dropped, 0u);
  for (std::size_t p : {1, 2})
    for (std::size_t e : {1, 2}) EXPECT_EQ(epoch_hits(r, p, e), 480u) << "pipeline " << p << " epoch " << e;
}

// Two retirements, one after the other, to the coordinator's randomizer, which then owns three shares. The
// second retirement's messages reach the first retired randomizer, a transformer by then, which ignores them.
// Ranks: 0, 1 and 2 randomizers, 3 cache server, 4 transformer, 3 consumers.
TEST_P(RebalanceR3, TwiceWithThreeRandomizers) {
  std::vector<PipelineConfig> pipelines;
  for (std::uint32_t i = 0; i < 3; ++i) pipelines.push_back(pipeline(str_cat("p", i), 480, 101 + i, 4));
  const Config c =
      config(3, 1, 1, "epoch 1: retire randomizer 1; epoch 2: retire randomizer 2", pipelines, 240);
  const JobResult r = run_job(c);
  expect_every_pipeline_exact(c, r);
  const bool retired = !r.consumer && r.report.initial_role == "randomizer" && r.report.role == "transformer";
  EXPECT_EQ(sum_all(retired ? 1 : 0), 2u) << "both randomizers but the coordinator's retired";
  EXPECT_EQ(sum_all(retired && r.report.samples_prepared > 0 ? 1 : 0), 2u) << "and both prepared samples";
  EXPECT_EQ(gather_roles(r).randomizer_moves, 2u);
  EXPECT_EQ(gather_roles(r).dropped, 0u);
  for (std::size_t p : {1, 2}) EXPECT_EQ(epoch_hits(r, p, 3), 240u) << "pipeline " << p << " kept its share";
}

// Steps after a retirement wait for its handover: the retiring randomizer transforms only from then on. Here
// the last step leaves the former randomizer (rank 1) the only transformer; taken while the handover was
// under way, it would have left no rank to send misses to. Ranks: 0 and 1 randomizers, 2 cache server, 3 and
// 4 transformers, 3 consumers.
TEST_P(RebalanceR3, StepsAfterARetirementWaitForItsHandover) {
  const Config c =
      config(2, 1, 2,
             "epoch 1: retire randomizer 1; epoch 1: rank 3 -> cache_server; epoch 1 batch 2: rank 4 "
             "-> cache_server",
             {pipeline("first", 480, 111, 3), pipeline("second", 480, 112, 3)}, 120);
  const JobResult r = run_job(c);
  expect_every_pipeline_exact(c, r);
  EXPECT_EQ(gather_roles(r).randomizer_moves, 3u);
  EXPECT_EQ(role_at_end(r, 1), "transformer");
  EXPECT_EQ(role_at_end(r, 3), "cache_server");
  EXPECT_EQ(role_at_end(r, 4), "cache_server");
  const bool former = !r.consumer && r.report.initial_role == "randomizer" && r.report.role == "transformer";
  EXPECT_EQ(sum_all(former && r.report.samples_prepared > 0 ? 1 : 0), 1u) << "rank 1 prepared the misses";
}

// Variable-length entries (docs/cache.md, "Variable entries") across a handover: the directory and the
// learned entry sizes move with the pipelines. Whether the retiring randomizer goes in epoch 1 or 2 (after
// epoch 0 taught it sizes: an heir without them would read the samples of a late retirement a third time),
// epoch 0 taught every size, epoch 1 inserted every entry (misses) and epochs 2 and 3 are all hits. Ranks: 0
// and 1 randomizers, 2 cache server, 3 transformer, 4 consumers; each share holds every entry (4,608 bytes
// for each: a sample is at most 4,096).
TEST_P(RebalanceR3, VariableEntriesAcrossAHandover) {
  for (const int at : {1, 2}) {
    std::vector<PipelineConfig> pipelines{vlen_pipeline("first", 96, 121), vlen_pipeline("second", 96, 122)};
    for (auto& p : pipelines) p.epochs = 4;
    const std::string script = str_cat("epoch ", at, ": retire randomizer 1");
    const Config c = config(2, 1, 1, script.c_str(), pipelines, 96 * 12);
    const auto [r, roles] = run_one_move(c, "randomizer", "transformer");
    EXPECT_EQ(roles.dropped, 0u) << script;
    for (std::size_t p : {0, 1})
      for (std::size_t e : {0, 1, 2, 3})
        EXPECT_EQ(epoch_hits(r, p, e), e < 2 ? 0u : 96u)
            << "pipeline " << p << " epoch " << e << ", " << script;
  }
}

INSTANTIATE_TEST_SUITE_P(T, RebalanceR3, ::testing::Values("ucx", "mpi"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ferry::test
