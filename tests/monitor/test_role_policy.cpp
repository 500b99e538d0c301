// Role rebalancing rules, table-driven: which service rank moves at a rebalance point, and why (R1, R2, R3),
// and every guard that keeps a move from happening (no evidence, last transformer, last server, dead band).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "monitor/role_policy.hpp"

namespace ferry::monitor {
namespace {

constexpr auto T = ServiceRole::transformer;
constexpr auto C = ServiceRole::cache_server;

struct RoleCase {
  std::string name;
  RoleView view;
  std::optional<RoleMove> want;  // only rank, from, to and rule are compared
};

RoleView view(std::vector<ServiceView> services, double wait, std::uint64_t full, std::uint64_t misses) {
  return RoleView{4, true, std::move(services), wait, full, misses, {}};
}

RoleMove move(std::uint32_t rank, ServiceRole from, ServiceRole to, RoleRule rule, std::uint32_t heir = 0) {
  return RoleMove{rank, from, to, rule, {}, heir};
}

// A view with randomizers (rank, busy, coordinator).
RoleView with_randomizers(RoleView v, std::vector<RandomizerView> randomizers) {
  v.randomizers = std::move(randomizers);
  return v;
}

constexpr auto Z = ServiceRole::randomizer;

std::vector<RoleCase> role_cases() {
  using R = RoleRule;
  return {
      {"R1: idle transformers, full cache: the least busy one serves",
       view({{1, C, 0, 0.4}, {2, T, 0.10, 0}, {3, T, 0.05, 0}}, 0.0, 50, 120),
       move(3, T, C, R::r1_idle_transformers)},
      {"R1: equal load picks the highest rank",
       view({{1, C, 0, 0.4}, {2, T, 0.1, 0}, {3, T, 0.1, 0}}, 0.0, 5, 5),
       move(3, T, C, R::r1_idle_transformers)},
      {"R1: never the last transformer", view({{1, C, 0, 0.4}, {2, T, 0.0, 0}}, 0.0, 50, 120), std::nullopt},
      {"R1: nothing declined or evicted (the cache has room): no move",
       view({{1, C, 0, 0.4}, {2, T, 0.1, 0}, {3, T, 0.1, 0}}, 0.0, 0, 120), std::nullopt},
      {"R1: no misses (all hits): no move", view({{1, C, 0, 1.0}, {2, T, 0, 0}, {3, T, 0, 0}}, 0.0, 9, 0),
       std::nullopt},
      {"R1: transformers busy enough: no move",
       view({{1, C, 0, 0.4}, {2, T, 0.5, 0}, {3, T, 0.4, 0}}, 0.0, 50, 120), std::nullopt},
      {"R2: starving consumers, saturated transformer: the server with fewest hits transforms",
       view({{1, C, 0, 0.06}, {2, C, 0, 0.02}, {3, T, 0.95, 0}}, 0.4, 10, 500),
       move(2, C, T, R::r2_starving_consumers)},
      {"R2: never the last cache server", view({{1, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.4, 10, 500),
       std::nullopt},
      {"R2: a server that serves many hits stays",
       view({{1, C, 0, 0.3}, {2, C, 0, 0.25}, {3, T, 0.95, 0}}, 0.4, 10, 500), std::nullopt},
      {"R2: consumers fed: no move", view({{1, C, 0, 0.0}, {2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.05, 10, 500),
       std::nullopt},
      {"R2: consumers wait but transformers are not saturated: no move",
       view({{1, C, 0, 0.0}, {2, C, 0, 0.0}, {3, T, 0.5, 0}}, 0.5, 10, 500), std::nullopt},
      {"R2 before R1 when both could fire (mean busy between the marks cannot do both; busy high here)",
       view({{1, C, 0, 0.0}, {2, C, 0, 0.0}, {3, T, 0.9, 0}, {4, T, 0.9, 0}}, 0.5, 10, 500),
       move(2, C, T, R::r2_starving_consumers)},
      {"dead band: busy between role_idle and role_busy moves nothing",
       view({{1, C, 0, 0.0}, {2, C, 0, 0.0}, {3, T, 0.5, 0}, {4, T, 0.5, 0}}, 0.5, 10, 500), std::nullopt},
      {"no windows since the last point: no evidence, no move",
       RoleView{0, true, {{1, C, 0, 0}, {2, T, 0, 0}, {3, T, 0, 0}}, 0.0, 50, 120, {}}, std::nullopt},
      {"R2 waits for a warm cache: in the first epoch no server has served anything yet",
       RoleView{4, false, {{1, C, 0, 0.0}, {2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.4, 10, 500, {}}, std::nullopt},
      {"R3: starving consumers, one cache server: the idle randomizer hands over to the coordinator's",
       with_randomizers(view({{2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.4, 10, 500),
                        {{0, 0.05, true}, {1, 0.02, false}}),
       move(1, Z, T, R::r3_idle_randomizer, 0)},
      {"R3: the least busy of several randomizers moves; ties pick the highest rank",
       with_randomizers(view({{3, C, 0, 0.0}, {4, T, 0.95, 0}}, 0.4, 10, 500),
                        {{0, 0.05, true}, {1, 0.04, false}, {2, 0.01, false}, {5, 0.01, false}}),
       move(5, Z, T, R::r3_idle_randomizer, 0)},
      {"R3: R2 first when a cache server can be spared",
       with_randomizers(view({{1, C, 0, 0.06}, {2, C, 0, 0.02}, {3, T, 0.95, 0}}, 0.4, 10, 500),
                        {{0, 0.05, true}, {4, 0.02, false}}),
       move(2, C, T, R::r2_starving_consumers)},
      {"R3: the server serves too many hits for R2, so the randomizer moves",
       with_randomizers(view({{1, C, 0, 0.3}, {2, C, 0, 0.25}, {3, T, 0.95, 0}}, 0.4, 10, 500),
                        {{0, 0.05, true}, {4, 0.02, false}}),
       move(4, Z, T, R::r3_idle_randomizer, 0)},
      {"R3: needs no warm span (it reads no hit shares)",
       with_randomizers(RoleView{4, false, {{2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.4, 10, 500, {}},
                        {{0, 0.05, true}, {1, 0.02, false}}),
       move(1, Z, T, R::r3_idle_randomizer, 0)},
      {"R3: together the two randomizers would be busy: no move",
       with_randomizers(view({{2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.4, 10, 500),
                        {{0, 0.2, true}, {1, 0.15, false}}),
       std::nullopt},
      {"R3: the coordinator's randomizer never moves",
       with_randomizers(view({{2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.4, 10, 500), {{0, 0.0, true}}),
       std::nullopt},
      {"R3: no heir in the view (the coordinator's randomizer is missing): no move",
       with_randomizers(view({{2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.4, 10, 500), {{1, 0.0, false}}),
       std::nullopt},
      {"R3: consumers fed: no move",
       with_randomizers(view({{2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.05, 10, 500),
                        {{0, 0.0, true}, {1, 0.0, false}}),
       std::nullopt},
      {"R1 passes over a transformer without a slab (a former randomizer)",
       view({{1, C, 0, 0.4}, {2, T, 0.10, 0}, {3, T, 0.01, 0, false}}, 0.0, 50, 120),
       move(2, T, C, R::r1_idle_transformers)},
      {"R1: no transformer that holds a slab: no move",
       view({{1, C, 0, 0.4}, {2, T, 0.10, 0, false}, {3, T, 0.01, 0, false}}, 0.0, 50, 120), std::nullopt},
      {"R1: a transformer that did not report in the span is no evidence of idling",
       view({{1, C, 0, 0.4}, {2, T, 0.10, 0}, {3, T, 0.0, 0, true, false}}, 0.0, 50, 120),
       move(2, T, C, R::r1_idle_transformers)},
      {"R1: the unheard one's 0 does not pull the mean below role_idle",
       view({{1, C, 0, 0.4}, {2, T, 0.9, 0}, {3, T, 0.5, 0}, {4, T, 0.0, 0, true, false}}, 0.0, 50, 120),
       std::nullopt},
      {"no transformer reported in the span: no rule has evidence",
       with_randomizers(view({{1, C, 0, 0.0}, {2, C, 0, 0.0}, {3, T, 0.0, 0, true, false}}, 0.9, 50, 120),
                        {{0, 0.0, true}, {5, 0.0, false}}),
       std::nullopt},
      {"R1 needs no warm cache: declines or evictions show it is full",
       RoleView{4, false, {{1, C, 0, 0.2}, {2, T, 0.1, 0}, {3, T, 0.05, 0}}, 0.0, 50, 120, {}},
       move(3, T, C, R::r1_idle_transformers)},
  };
}

TEST(RolePolicy, Table) {
  const RoleParams params;  // idle 0.3, busy 0.7, wait 0.1, min_hits 0.1
  for (const auto& c : role_cases()) {
    const auto got = decide_roles(c.view, params);
    ASSERT_EQ(got.has_value(), c.want.has_value()) << c.name;
    if (got) {
      EXPECT_EQ(*got, *c.want) << c.name << ": moved rank " << got->rank;
      EXPECT_FALSE(got->why.empty()) << c.name << ": a move must say why";
    }
  }
}

TEST(RolePolicy, WhyNamesTheFigures) {
  const auto got =
      decide_roles(view({{1, C, 0, 0.05}, {2, C, 0, 0.02}, {3, T, 0.95, 0}}, 0.4, 10, 500), RoleParams{});
  ASSERT_TRUE(got);
  EXPECT_NE(got->why.find("waited 0.4"), std::string::npos) << got->why;
  EXPECT_NE(got->why.find("busy 0.95"), std::string::npos) << got->why;
  EXPECT_NE(got->why.find("rank 2 served 0.02"), std::string::npos) << got->why;
}

// monitor.role_randomizers = false: R3 never fires, whatever the figures.
TEST(RolePolicy, RandomizersStayWhenTheirMovesAreOff) {
  RoleParams params;
  const RoleView v = with_randomizers(view({{2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.4, 10, 500),
                                      {{0, 0.0, true}, {1, 0.0, false}});
  ASSERT_TRUE(decide_roles(v, params));
  params.randomizers = false;
  EXPECT_FALSE(decide_roles(v, params));
}

TEST(RolePolicy, R3SaysWhoTakesOverAndWhy) {
  const auto got = decide_roles(with_randomizers(view({{2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.4, 10, 500),
                                                 {{0, 0.05, true}, {1, 0.02, false}}),
                                RoleParams{});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->heir, 0u);
  EXPECT_EQ(to_string(got->from), "randomizer");
  EXPECT_NE(got->why.find("randomizers 1 and 0 busy 0.02 and 0.05"), std::string::npos) << got->why;
  EXPECT_NE(got->why.find("rank 0 takes over"), std::string::npos) << got->why;
}

TEST(RolePolicy, ParamsAreValidatedByKeyName) {
  RoleParams p;
  p.idle = 0.8;  // above busy: no dead band
  try {
    p.validate();
    FAIL() << "role_idle above role_busy accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("monitor.role_idle"), std::string::npos) << e.what();
  }
  p = RoleParams{};
  p.wait = 1.5;
  EXPECT_THROW(p.validate(), ConfigError);
}

}  // namespace
}  // namespace ferry::monitor
