#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "cache/entry_sizes.hpp"
#include "ferry/error.hpp"

using ferry::cache::EntrySizes;

TEST(EntrySizes, UnknownUntilLearnedAndTheLatestWins) {
  EntrySizes sizes(0, 1000);
  EXPECT_EQ(sizes.get(7), 0u);
  EXPECT_EQ(sizes.memory_bytes(), 0u);  // nothing allocated before the first size
  sizes.learn(7, 110'000);
  sizes.learn(999, 64);
  EXPECT_EQ(sizes.get(7), 110'000u);
  EXPECT_EQ(sizes.get(999), 64u);
  EXPECT_EQ(sizes.get(8), 0u);
  EXPECT_EQ(sizes.known(), 2u);
  sizes.learn(7, 90'000);
  EXPECT_EQ(sizes.get(7), 90'000u);
  EXPECT_EQ(sizes.known(), 2u);
  // One 32-bit word a sample of the dataset.
  EXPECT_GE(sizes.memory_bytes(), 1000u * 4);
  EXPECT_LT(sizes.memory_bytes(), 1000u * 8);
}

TEST(EntrySizes, FourGiBAndMoreOrZeroForgetTheSample) {
  EntrySizes sizes(0, 10);
  sizes.learn(3, 500);
  sizes.learn(3, std::uint64_t{1} << 32);
  EXPECT_EQ(sizes.get(3), 0u);
  EXPECT_EQ(sizes.known(), 0u);
  sizes.learn(4, (std::uint64_t{1} << 32) - 1);
  EXPECT_EQ(sizes.get(4), (std::uint64_t{1} << 32) - 1);
  sizes.learn(4, 0);
  EXPECT_EQ(sizes.get(4), 0u);
  EXPECT_EQ(sizes.known(), 0u);
  EntrySizes none(0, 10);
  none.learn(2, 0);
  EXPECT_EQ(none.memory_bytes(), 0u);
}

TEST(EntrySizes, AnIdPastTheDatasetIsABug) {
  EntrySizes sizes(0, 10);
  EXPECT_THROW(sizes.learn(10, 5), ferry::InternalError);
  EXPECT_THROW((void)sizes.get(10), ferry::InternalError);
}

// A directory shard's table holds its key range only: memory grows with the range, not the dataset, and an
// ID of another shard is a bug.
TEST(EntrySizes, AShardsTableHoldsItsKeyRangeOnly) {
  const std::uint64_t dataset = 1'000'000, shards = 4, range = dataset / shards;
  EntrySizes shard(2 * range, range);  // the third shard
  shard.learn(2 * range, 7);
  shard.learn(3 * range - 1, 9);
  EXPECT_EQ(shard.get(2 * range), 7u);
  EXPECT_EQ(shard.get(3 * range - 1), 9u);
  EXPECT_EQ(shard.get(2 * range + 1), 0u);
  EXPECT_EQ(shard.memory_bytes(), range * sizeof(std::uint32_t));
  EXPECT_THROW(shard.learn(2 * range - 1, 5), ferry::InternalError);
  EXPECT_THROW((void)shard.get(3 * range), ferry::InternalError);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;
  shard.each([&](std::uint64_t id, std::uint64_t bytes) { seen.emplace_back(id, bytes); });
  EXPECT_EQ(seen, (std::vector<std::pair<std::uint64_t, std::uint64_t>>{{2 * range, 7}, {3 * range - 1, 9}}));
}
