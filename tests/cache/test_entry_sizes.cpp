#include <gtest/gtest.h>

#include "cache/entry_sizes.hpp"
#include "ferry/error.hpp"

using ferry::cache::EntrySizes;

TEST(EntrySizes, UnknownUntilLearnedAndTheLatestWins) {
  EntrySizes sizes(1000);
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
  EntrySizes sizes(10);
  sizes.learn(3, 500);
  sizes.learn(3, std::uint64_t{1} << 32);
  EXPECT_EQ(sizes.get(3), 0u);
  EXPECT_EQ(sizes.known(), 0u);
  sizes.learn(4, (std::uint64_t{1} << 32) - 1);
  EXPECT_EQ(sizes.get(4), (std::uint64_t{1} << 32) - 1);
  sizes.learn(4, 0);
  EXPECT_EQ(sizes.get(4), 0u);
  EXPECT_EQ(sizes.known(), 0u);
  EntrySizes none(10);
  none.learn(2, 0);
  EXPECT_EQ(none.memory_bytes(), 0u);
}

TEST(EntrySizes, AnIdPastTheDatasetIsABug) {
  EntrySizes sizes(10);
  EXPECT_THROW(sizes.learn(10, 5), ferry::InternalError);
  EXPECT_THROW((void)sizes.get(10), ferry::InternalError);
}
