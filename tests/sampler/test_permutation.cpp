#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <ostream>
#include <set>
#include <vector>

#include "sampler/epoch_plan.hpp"
#include "sampler/permutation.hpp"

using ferry::sampler::EpochPlan;
using ferry::sampler::Permutation;
using ferry::sampler::ShareSpec;

class PermutationSizes : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(PermutationSizes, IsABijectionWithInverse) {
  const std::uint64_t n = GetParam();
  Permutation perm(n, 12345);
  std::vector<char> seen(n, 0);
  for (std::uint64_t p = 0; p < n; ++p) {
    const std::uint64_t id = perm(p);
    ASSERT_LT(id, n);
    ASSERT_EQ(seen[id], 0) << "id " << id << " appears twice";
    seen[id] = 1;
    ASSERT_EQ(perm.position_of(id), p);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, PermutationSizes,
                         ::testing::Values(1, 2, 3, 4, 5, 7, 16, 17, 100, 1000, 4097, 60000),
                         [](const auto& info) { return "n" + std::to_string(info.param); });

TEST(Permutation, KeyChangesTheOrderAndIsReproducible) {
  Permutation a(1000, 1), b(1000, 1), c(1000, 2);
  std::size_t same_as_c = 0, fixed_points = 0;
  for (std::uint64_t p = 0; p < 1000; ++p) {
    EXPECT_EQ(a(p), b(p));
    same_as_c += a(p) == c(p);
    fixed_points += a(p) == p;
  }
  // A random permutation of 1000 has about 1 fixed point and agrees with another at about 1 position.
  EXPECT_LT(same_as_c, 20u);
  EXPECT_LT(fixed_points, 20u);
}

TEST(Permutation, LooksUniform) {
  // Position 0 of many keyed permutations of 10 should hit every ID roughly equally often.
  std::vector<int> counts(10, 0);
  for (std::uint64_t key = 0; key < 10000; ++key) ++counts[Permutation(10, key)(0)];
  for (int c : counts) {
    EXPECT_GT(c, 800);
    EXPECT_LT(c, 1200);
  }
}

struct ShareCase {
  std::uint64_t n;
  std::uint32_t consumers;
  std::uint64_t batch;
  bool drop_last;
};

// Printed in test listings (and so in ctest's names): the fields, never raw bytes with padding.
void PrintTo(const ShareCase& c, std::ostream* out) {
  *out << "n=" << c.n << " consumers=" << c.consumers << " batch=" << c.batch
       << (c.drop_last ? " drop" : " pad");
}

class Shares : public ::testing::TestWithParam<ShareCase> {};

TEST_P(Shares, DistributedSamplerSemantics) {
  const ShareCase sc = GetParam();
  ShareSpec spec{sc.n, sc.consumers, sc.batch, sc.drop_last, true, 77};
  EpochPlan plan(spec, 3);
  const std::uint64_t per = sc.drop_last ? sc.n / sc.consumers : (sc.n + sc.consumers - 1) / sc.consumers;
  EXPECT_EQ(plan.samples_per_consumer(), per);
  std::vector<int> delivered(sc.n, 0);
  std::vector<std::uint64_t> ids;
  for (std::uint32_t c = 0; c < sc.consumers; ++c) {
    std::uint64_t total = 0;
    for (std::uint64_t k = 0; k < plan.batches_per_consumer(); ++k) {
      plan.batch_ids(c, k, ids);
      if (sc.drop_last) {
        EXPECT_EQ(ids.size(), sc.batch);
      }
      for (auto id : ids) ++delivered[id];
      total += ids.size();
    }
    const std::uint64_t expected_total = sc.drop_last ? per / sc.batch * sc.batch : per;
    EXPECT_EQ(total, expected_total) << "consumer " << c;
  }
  const std::uint64_t sum = std::accumulate(delivered.begin(), delivered.end(), std::uint64_t{0});
  if (sc.drop_last) {
    // Exactly once for those delivered, never twice.
    for (int d : delivered) EXPECT_LE(d, 1);
    EXPECT_EQ(sum, sc.consumers * (per / sc.batch * sc.batch));
  } else {
    // Every sample at least once; the pad repeats only the first (C*per - n) positions of the order.
    for (int d : delivered) EXPECT_GE(d, 1);
    EXPECT_EQ(sum, sc.consumers * per);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Shares,
                         ::testing::Values(ShareCase{100, 4, 5, true}, ShareCase{103, 4, 5, true},
                                           ShareCase{103, 4, 5, false}, ShareCase{10, 3, 4, false},
                                           ShareCase{7, 8, 1, false}, ShareCase{1000, 7, 16, true},
                                           ShareCase{1000, 7, 16, false}),
                         [](const auto& info) {
                           const ShareCase& c = info.param;
                           return "n" + std::to_string(c.n) + "_c" + std::to_string(c.consumers) + "_b" +
                                  std::to_string(c.batch) + (c.drop_last ? "_drop" : "_pad");
                         });

TEST(EpochPlan, EpochsDifferAndNoShuffleIsIdentity) {
  ShareSpec spec{50, 2, 5, true, true, 9};
  EpochPlan e0(spec, 0), e1(spec, 1), e0b(spec, 0);
  int differ = 0;
  for (std::uint64_t p = 0; p < 25; ++p) {
    EXPECT_EQ(e0.id(1, p), e0b.id(1, p));
    differ += e0.id(1, p) != e1.id(1, p);
  }
  EXPECT_GT(differ, 15);
  spec.shuffle = false;
  EpochPlan plain(spec, 4);
  for (std::uint64_t p = 0; p < 25; ++p) EXPECT_EQ(plain.id(1, p), p * 2 + 1);
}

TEST(EpochPlan, LocateInvertsBatchIds) {
  for (bool drop : {true, false}) {
    ShareSpec spec{97, 3, 4, drop, true, 21};
    EpochPlan plan(spec, 2);
    std::vector<std::uint64_t> ids;
    std::size_t located = 0;
    for (std::uint32_t c = 0; c < 3; ++c)
      for (std::uint64_t k = 0; k < plan.batches_per_consumer(); ++k) {
        plan.batch_ids(c, k, ids);
        for (std::size_t i = 0; i < ids.size(); ++i) {
          std::uint32_t consumer = 0;
          std::uint64_t position = 0;
          ASSERT_TRUE(plan.locate(ids[i], consumer, position));
          // Padding repeats locate to their first occurrence; every other sample to itself.
          if (consumer == c && position == k * 4 + i) ++located;
        }
      }
    EXPECT_EQ(located, drop ? 3u * 32u : 97u);
  }
}
