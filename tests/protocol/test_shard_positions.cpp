// ShardPositions (runtime.directory_shards): the shards of an epoch together hold every delivered position
// of every consumer's batches exactly once, each with the ID the plan puts there, and each shard only IDs of
// its key range; padded epochs (drop_last off) deliver some IDs twice, dropped tails none.
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "ferry/error.hpp"
#include "roles/shard_positions.hpp"

using ferry::roles::ShardPositions;

namespace {

void expect_shards_cover_the_plan(const ferry::sampler::ShareSpec& spec, std::uint32_t shards) {
  for (std::uint64_t epoch = 0; epoch < 2; ++epoch) {
    const ferry::sampler::EpochPlan plan(spec, epoch);
    // (consumer, batch, position) -> ID, from the shards
    std::map<std::tuple<std::uint32_t, std::uint64_t, std::uint32_t>, std::uint64_t> got;
    for (std::uint32_t j = 0; j < shards; ++j) {
      const auto keys = ferry::roles::shard_range(spec.samples, j, shards);
      const ShardPositions mine(spec, plan, keys);
      EXPECT_EQ(mine.epoch(), epoch);
      for (std::uint32_t c = 0; c < spec.consumers; ++c)
        for (std::uint64_t b = 0; b < plan.batches_per_consumer(); ++b) {
          std::uint32_t previous = 0;
          bool first = true;
          for (const auto& o : mine.batch(c, b)) {
            EXPECT_TRUE(keys.holds(o.id)) << "shard " << j << " got ID " << o.id;
            EXPECT_TRUE(first || o.position > previous) << "positions not ascending";
            first = false;
            previous = o.position;
            EXPECT_TRUE(got.emplace(std::make_tuple(c, b, o.position), o.id).second) << "position twice";
          }
        }
    }
    std::uint64_t positions = 0;
    std::vector<std::uint64_t> ids;
    for (std::uint32_t c = 0; c < spec.consumers; ++c)
      for (std::uint64_t b = 0; b < plan.batches_per_consumer(); ++b) {
        plan.batch_ids(c, b, ids);
        for (std::uint32_t i = 0; i < ids.size(); ++i) {
          ++positions;
          const auto it = got.find(std::make_tuple(c, b, i));
          ASSERT_NE(it, got.end()) << "consumer " << c << " batch " << b << " position " << i << " missing";
          EXPECT_EQ(it->second, ids[i]);
        }
      }
    EXPECT_EQ(got.size(), positions);
  }
}

}  // namespace

TEST(ShardPositions, ShardsTogetherHoldEveryPositionOnce) {
  ferry::sampler::ShareSpec spec{1000, 3, 16, true, true, 7};  // 333 a consumer, 20 batches, tail dropped
  for (std::uint32_t shards : {1u, 2u, 3u, 7u}) expect_shards_cover_the_plan(spec, shards);
}

TEST(ShardPositions, PaddedEpochsDeliverSomeIdsTwice) {
  ferry::sampler::ShareSpec spec{101, 4, 8, false, true, 9};  // 26 a consumer (3 padding), last batch of 2
  for (std::uint32_t shards : {2u, 5u}) expect_shards_cover_the_plan(spec, shards);
  spec.shuffle = false;
  expect_shards_cover_the_plan(spec, 3);
}

// Memory follows the shard's range, not the dataset: a quarter of the IDs, about a quarter of the bytes; the
// quarters together hold every delivered position (4 x 97 x 256 of 100,000: the tails are dropped).
TEST(ShardPositions, MemoryFollowsTheKeyRange) {
  const ferry::sampler::ShareSpec spec{100000, 4, 256, true, true, 3};
  const ferry::sampler::EpochPlan plan(spec, 0);
  const ShardPositions whole(spec, plan, {0, spec.samples});
  std::uint64_t positions = 0;
  for (std::uint32_t j = 0; j < 4; ++j) {
    const ShardPositions quarter(spec, plan, ferry::roles::shard_range(spec.samples, j, 4));
    positions += quarter.positions();
    EXPECT_LE(quarter.positions(), 25000u);
    EXPECT_LT(quarter.memory_bytes() * 3, whole.memory_bytes());
    EXPECT_THROW((void)quarter.batch(0, plan.batches_per_consumer()), ferry::InternalError);
  }
  EXPECT_EQ(positions, 4u * 97u * 256u);
  EXPECT_EQ(whole.positions(), positions);
}
