// Role rebalancing rules, table-driven: which service rank moves at a rebalance point, and why (R1, R2), and
// every guard that keeps a move from happening (no evidence, last transformer, last server, dead band).
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

struct Case {
  std::string name;
  RoleView view;
  std::optional<RoleMove> want;  // only rank, from, to and rule are compared
};

RoleView view(std::vector<ServiceView> services, double wait, std::uint64_t full, std::uint64_t misses) {
  return RoleView{4, true, std::move(services), wait, full, misses};
}

RoleMove move(std::uint32_t rank, ServiceRole from, ServiceRole to, RoleRule rule) {
  return RoleMove{rank, from, to, rule, {}};
}

std::vector<Case> cases() {
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
       RoleView{0, true, {{1, C, 0, 0}, {2, T, 0, 0}, {3, T, 0, 0}}, 0.0, 50, 120}, std::nullopt},
      {"R2 waits for a warm cache: in the first epoch no server has served anything yet",
       RoleView{4, false, {{1, C, 0, 0.0}, {2, C, 0, 0.0}, {3, T, 0.95, 0}}, 0.4, 10, 500}, std::nullopt},
      {"R1 needs no warm cache: declines or evictions show it is full",
       RoleView{4, false, {{1, C, 0, 0.2}, {2, T, 0.1, 0}, {3, T, 0.05, 0}}, 0.0, 50, 120},
       move(3, T, C, R::r1_idle_transformers)},
  };
}

TEST(RolePolicy, Table) {
  const RoleParams params;  // idle 0.3, busy 0.7, wait 0.1, min_hits 0.1
  for (const auto& c : cases()) {
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
