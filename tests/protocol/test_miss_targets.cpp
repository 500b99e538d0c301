// Which transformation ranks get a consumer's miss lists (roles/miss_targets.hpp): its node's, else all.
#include <gtest/gtest.h>

#include <vector>

#include "roles/miss_targets.hpp"

using ferry::roles::miss_runs;
using ferry::roles::MissTargets;
using Ranks = std::vector<int>;

namespace {

// Three nodes: ranks 0-3 on node 0, 4-7 on node 4, 8-11 on node 8; transformers 2, 3 (node 0) and 5 (node 4);
// node 8 has none.
MissTargets three_nodes() {
  return MissTargets({0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8}, {5, 2, 3});
}

}  // namespace

TEST(MissTargets, AConsumerGetsItsNodesTransformers) {
  MissTargets t = three_nodes();
  EXPECT_EQ(t.all(), (Ranks{2, 3, 5}));
  EXPECT_EQ(t.of(1), (Ranks{2, 3}));
  EXPECT_EQ(t.of(6), (Ranks{5}));
  EXPECT_FALSE(t.off_node(6, 5));
  EXPECT_TRUE(t.off_node(6, 2));
}

TEST(MissTargets, ANodeWithoutTransformersIsServedByAll) {
  MissTargets t = three_nodes();
  EXPECT_EQ(t.of(9), (Ranks{2, 3, 5}));
  EXPECT_TRUE(t.off_node(9, 5));
}

TEST(MissTargets, RoleChangesMoveTheSets) {
  MissTargets t = three_nodes();
  EXPECT_EQ(t.of(9), (Ranks{2, 3, 5}));  // built and cached for node 8
  t.add(10);                             // a rank of node 8 transforms now
  EXPECT_EQ(t.of(9), (Ranks{10}));
  EXPECT_EQ(t.all(), (Ranks{2, 3, 5, 10}));
  t.add(10);  // twice is once
  EXPECT_EQ(t.all(), (Ranks{2, 3, 5, 10}));
  t.remove(5);  // node 4 loses its only one: served by all again
  EXPECT_EQ(t.of(6), (Ranks{2, 3, 10}));
  t.remove(5);
  EXPECT_EQ(t.all(), (Ranks{2, 3, 10}));
}

TEST(MissTargets, OneNodeIsEveryTransformer) {
  MissTargets t({0, 0, 0, 0, 0}, {1, 2});
  EXPECT_EQ(t.of(4), (Ranks{1, 2}));
  EXPECT_FALSE(t.off_node(4, 1));
}

TEST(MissTargets, ARankOutsideTheLayoutIsAnError) {
  MissTargets t = three_nodes();
  EXPECT_ANY_THROW(t.of(12));
}

TEST(MissRuns, OneRunPerListBytesAtMostOnePerTransformer) {
  constexpr std::uint64_t MiB = 1 << 20;
  EXPECT_EQ(miss_runs(16, 16 * 49156, MiB, 8), 1u);       // 768 KiB of small samples: one HDF5 call per field
  EXPECT_EQ(miss_runs(16, 16 * 200 * 1024, MiB, 8), 3u);  // 3.1 MiB: three runs
  EXPECT_EQ(miss_runs(4, 4 * 16 * MiB, MiB, 8), 4u);      // large samples: one per miss
  EXPECT_EQ(miss_runs(64, 64 * 16 * MiB, MiB, 8), 8u);    // never more than the transformers
  EXPECT_EQ(miss_runs(16, 16 * 49156, 0, 8), 8u);         // 0: every transformer (the old split)
  EXPECT_EQ(miss_runs(3, 3 * 100, 0, 8), 3u);             // ... that can get a miss
  EXPECT_EQ(miss_runs(16, 0, MiB, 8), 8u);                // sizes not known yet: every transformer
  EXPECT_EQ(miss_runs(16, 16 * MiB, MiB, 0), 0u);         // nobody transforms
}
