#include <gtest/gtest.h>

#include <set>

#include "ferry/error.hpp"
#include "roles/layout.hpp"

using ferry::roles::Role;

namespace {

ferry::Config config(int randomizers, int servers, int transformers, int per_node = 0) {
  ferry::Config c;
  c.runtime.randomizers = randomizers;
  c.runtime.cache_servers = servers;
  c.runtime.cache_servers_per_node = per_node;
  c.runtime.transformers = transformers;
  for (int i = 0; i < randomizers; ++i) {
    ferry::PipelineConfig p;
    p.name = "p" + std::to_string(i);
    p.cache_id = i;
    c.pipelines.push_back(p);
  }
  return c;
}

std::string error_of(const ferry::Config& c, std::vector<int> nodes, std::vector<char> service = {}) {
  try {
    ferry::roles::plan_layout(c, nodes, service);
  } catch (const ferry::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Layout, CountsFillServiceRolesFirstAndTheRestConsume) {
  const auto l = ferry::roles::plan_layout(config(1, 2, 3), std::vector<int>(8, 0), {});
  EXPECT_EQ(l.randomizers, (std::vector<int>{0}));
  EXPECT_EQ(l.cache_servers, (std::vector<int>{1, 2}));
  EXPECT_EQ(l.transformers, (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(l.consumers, (std::vector<int>{6, 7}));
  EXPECT_EQ(l.index_of(7), 1);
  EXPECT_EQ(l.groups.at(0), (std::vector<int>{6, 7}));
  EXPECT_EQ(l.describe(), "1 randomizer [0], 2 cache server [1,2], 3 transformer [3,4,5], 2 consumer [6,7]");
}

TEST(Layout, OneCacheServerPerNode) {
  // Two nodes of four ranks: node 0 = ranks 0-3, node 4 = ranks 4-7.
  const auto l = ferry::roles::plan_layout(config(1, 0, 1, 1), {0, 0, 0, 0, 4, 4, 4, 4}, {});
  EXPECT_EQ(l.cache_servers, (std::vector<int>{1, 4}));
  EXPECT_EQ(l.transformers, (std::vector<int>{2}));
  EXPECT_EQ(l.consumers, (std::vector<int>{3, 5, 6, 7}));
  EXPECT_NE(error_of(config(1, 0, 1, 2), {0, 0, 0, 1}), "no error");
}

TEST(Layout, MpmdServiceRanksTakeTheRolesAndTheOthersConsume) {
  // ferry-serve on ranks 0-2 (started first), the training program on 3-4.
  const auto l = ferry::roles::plan_layout(config(1, 1, 1), std::vector<int>(5, 0), {1, 1, 1, 0, 0});
  EXPECT_EQ(l.consumers, (std::vector<int>{3, 4}));
  EXPECT_EQ(l.role[2], Role::transformer);
  EXPECT_NE(error_of(config(1, 1, 1), std::vector<int>(5, 0), {1, 1, 1, 1, 0}).find("rank 3 has no role"),
            std::string::npos);
  EXPECT_NE(error_of(config(1, 1, 2), std::vector<int>(5, 0), {1, 1, 1, 0, 0}).find("cannot hold"),
            std::string::npos);
}

TEST(Layout, ImpossibleLayoutsAreRefusedWithTheNumbers) {
  EXPECT_NE(error_of(config(1, 1, 1), std::vector<int>(3, 0)).find("3 rank(s) leave no consumer"),
            std::string::npos);
  EXPECT_NE(error_of(config(1, 1, 5), std::vector<int>(4, 0)).find("runtime.transformers = 5"),
            std::string::npos);
  auto c = config(1, 1, 1);
  c.pipelines[0].consumers = {0, 3};
  EXPECT_NE(
      error_of(c, std::vector<int>(5, 0)).find("pipeline 'p0': consumers names consumer 3 but the job has 2"),
      std::string::npos);
}

TEST(Layout, PipelinesOfOneCacheIdShareARandomizer) {
  auto c = config(2, 1, 1);
  ferry::PipelineConfig extra;
  extra.name = "p2";
  extra.cache_id = 1;
  c.pipelines.push_back(extra);
  const auto l = ferry::roles::plan_layout(c, std::vector<int>(6, 0), {});
  EXPECT_EQ(l.randomizers_of, (std::vector<std::vector<int>>{{0}, {1}, {1}}));
  c.runtime.cache_bytes = 1000;
  EXPECT_EQ(l.slab_share(c.runtime), 448u);  // half of 1000, aligned down to 64
}

// runtime.directory_shards: every cache ID's directory is split over that many randomizers, distinct ranks
// for one cache ID, the same ranks for pipelines that share it; a rank may hold shards of several cache IDs.
TEST(Layout, DirectoryShardsOfACacheIdAreOnDistinctRandomizers) {
  auto c = config(2, 1, 1);
  c.runtime.directory_shards = 2;
  c.runtime.randomizers = 3;  // 2 cache IDs x 2 shards on 3 randomizers
  ferry::PipelineConfig extra;
  extra.name = "p2";
  extra.cache_id = 1;
  c.pipelines.push_back(extra);
  const auto l = ferry::roles::plan_layout(c, std::vector<int>(7, 0), {});
  EXPECT_EQ(l.randomizers, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(l.randomizers_of, (std::vector<std::vector<int>>{{0, 1}, {2, 0}, {2, 0}}));
  EXPECT_EQ(l.shard_of(0, 1), 1);
  EXPECT_EQ(l.shard_of(1, 0), 1);
  EXPECT_EQ(l.shard_of(1, 1), -1);
  EXPECT_TRUE(l.describes(2, 2));
  EXPECT_FALSE(l.describes(0, 2));
}

// monitor.role_script is checked against the layout at start, on every rank alike (before any data moves):
// with rebalancing, transformers hold slabs, so a transformer may serve; the last transformer may not.
TEST(Layout, RoleScriptIsCheckedAgainstTheLayout) {
  ferry::Config c = config(1, 1, 2);  // 0 randomizer, 1 cache server, 2 and 3 transformers, 4 and 5 consumers
  c.runtime.cache_bytes = 1 << 20;
  c.monitor.rebalance = true;
  c.monitor.role_policy = "scripted";
  c.monitor.role_script = "epoch 1: rank 2 -> cache_server; epoch 2: rank 1 -> transformer";
  EXPECT_EQ(error_of(c, std::vector<int>(6, 0)), "no error");
  c.monitor.role_script = "epoch 1: rank 2 -> cache_server; epoch 1 batch 3: rank 3 -> cache_server";
  EXPECT_NE(error_of(c, std::vector<int>(6, 0))
                .find("step 'epoch 1 batch 3: rank 3 -> cache_server': rank 3 is "
                      "the last transformer"),
            std::string::npos);
  c.monitor.role_script = "epoch 1: rank 4 -> cache_server";
  EXPECT_NE(error_of(c, std::vector<int>(6, 0)).find("rank 4 is a consumer"), std::string::npos);
  c.runtime.cache_bytes = 0;
  c.monitor.role_script = "epoch 1: rank 2 -> cache_server";
  EXPECT_NE(error_of(c, std::vector<int>(6, 0)).find("runtime.cache_bytes leaves no cache"),
            std::string::npos);
}

TEST(Layout, StatsLeadersPerNode) {
  // Four nodes of eight ranks, one cache server a node, two randomizers and eight transformers: 32 ranks.
  std::vector<int> nodes;
  for (int r = 0; r < 32; ++r) nodes.push_back(r - r % 8);
  const auto l = ferry::roles::plan_layout(config(2, 0, 8, 1), nodes, {});
  EXPECT_EQ(l.cache_servers, (std::vector<int>{2, 8, 16, 24}));
  // The coordinator hears the randomizers and one leader a node (its lowest cache server or transformer).
  std::set<int> senders;
  std::vector<int> windows_via(32, 0);
  for (int r = 0; r < 32; ++r) {
    if (r == l.coordinator()) continue;
    const int to = l.report_to[static_cast<std::size_t>(r)];
    if (to == l.coordinator()) senders.insert(r);
    ++windows_via[static_cast<std::size_t>(to)];
  }
  EXPECT_EQ(senders, (std::set<int>{1, 2, 8, 16, 24}));
  for (int leader : {2, 8, 16, 24}) {
    EXPECT_TRUE(l.stats_leader(leader));
    EXPECT_EQ(l.relayed[static_cast<std::size_t>(leader)], leader == 2 ? 5 : 7);  // node 0 has 2 randomizers
    EXPECT_EQ(windows_via[static_cast<std::size_t>(leader)], l.relayed[static_cast<std::size_t>(leader)]);
  }
  EXPECT_EQ(l.report_to[1], 0);    // a randomizer reports directly
  EXPECT_EQ(l.report_to[31], 24);  // a consumer of node 24
  // Senders grow with nodes, not ranks: 64 ranks on the same four nodes still give 5 senders.
  std::vector<int> wide;
  for (int r = 0; r < 64; ++r) wide.push_back(r - r % 16);
  const auto w = ferry::roles::plan_layout(config(2, 0, 8, 1), wide, {});
  std::set<int> wide_senders;
  for (int r = 1; r < 64; ++r)
    if (w.report_to[static_cast<std::size_t>(r)] == w.coordinator()) wide_senders.insert(r);
  EXPECT_EQ(wide_senders.size(), 5u);
}

TEST(Layout, OneNodeReportsDirectly) {
  const auto l = ferry::roles::plan_layout(config(1, 2, 3), std::vector<int>(8, 0), {});
  for (int r = 0; r < 8; ++r) {
    EXPECT_EQ(l.report_to[static_cast<std::size_t>(r)], 0);
    EXPECT_FALSE(l.stats_leader(r));
  }
  // A node without a cache server or transformer: its ranks report directly too.
  const auto two = ferry::roles::plan_layout(config(1, 1, 1), {0, 0, 0, 0, 4, 4, 4, 4}, {});
  for (int r = 4; r < 8; ++r) EXPECT_EQ(two.report_to[static_cast<std::size_t>(r)], 0);
  EXPECT_EQ(two.report_to[3], 1);  // node 0's leader is its cache server
}

TEST(Layout, TransformersPerNode) {
  // Two nodes of five ranks: node 0 = ranks 0-4, node 5 = ranks 5-9; a cache server and two transformers on
  // each, the lowest free ranks of the node.
  auto c = config(1, 0, 1, 1);
  c.runtime.transformers_per_node = 2;
  const auto l = ferry::roles::plan_layout(c, {0, 0, 0, 0, 0, 5, 5, 5, 5, 5}, {});
  EXPECT_EQ(l.cache_servers, (std::vector<int>{1, 5}));
  EXPECT_EQ(l.transformers, (std::vector<int>{2, 3, 6, 7}));
  EXPECT_EQ(l.consumers, (std::vector<int>{4, 8, 9}));
  // A node without room names itself and the key.
  c.runtime.transformers_per_node = 4;
  EXPECT_EQ(error_of(c, {0, 0, 0, 0, 0, 5, 5, 5, 5, 5}),
            "runtime: node 0 has room for 3 transformer(s) but runtime.transformers_per_node = 4");
}
