// Placement policies: decide() is pure, placements before the first job list and for a pipeline no
// transformer reported, the static share per stage; the policy registry, and bad parameters named by key.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "ferry/error.hpp"
#include "helpers.hpp"
#include "monitor/policy.hpp"
#include "policy_shorthands.hpp"

namespace ferry::monitor {
namespace {

using testing::fed;
using testing::kNoAccelerator;
using testing::make_window;
using testing::starving;
using testing::with;

using testing::Q;

TEST(Policy, DecideIsPure) {
  const auto policy = make_policy(with());
  History history(4);
  PolicyState state;
  state.pipelines[0].units = Q;
  state.pipelines[0].streak = 1;
  const PolicyState before = state;
  const Window w = make_window(7, {starving()}, 0.1);
  const Decisions a = policy->decide(w, history, state);
  const Decisions b = policy->decide(w, history, state);
  EXPECT_EQ(a.jobs, b.jobs);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(state, before);
  EXPECT_EQ(a.jobs.find(0, 0)->accelerator_units, 2 * Q);
}

TEST(Policy, PipelineWithoutTransformerReportStillGetsPlacements) {
  // All hits: no transformer ran the pipeline, yet the ops known from earlier windows keep their placement.
  const auto policy = make_policy(with());
  History history(4);
  PolicyState state;
  const Decisions first = policy->decide(make_window(0, {starving()}, 0.1), history, state);
  Window hits_only = make_window(1, {starving()}, 0.1);
  hits_only.ranks.back().pipelines.clear();
  const Decisions second = policy->decide(hits_only, history, first.state);
  ASSERT_NE(second.jobs.find(0, 0), nullptr);
  ASSERT_NE(second.jobs.find(0, 1), nullptr);
  EXPECT_EQ(second.jobs.find(0, 0)->accelerator_units, Q);
}

// Before the first job list: the static policy's share from the first batch, nothing for the adaptive one.
TEST(Policy, PlacementBeforeTheFirstJobList) {
  PolicyParams p = with("static");
  p.static_share = 0.5;
  const OpPlacement fixed = placement_before_jobs(p, 3, Stage::augment);
  EXPECT_EQ(fixed.pipeline, 3u);
  EXPECT_EQ(fixed.stage, Stage::augment);
  EXPECT_EQ(fixed.accelerator_units, kShareUnits / 2);
  EXPECT_EQ(route(fixed, 0), Target::cpu);
  EXPECT_EQ(route(fixed, 1), Target::accelerator);
  p.name = "adaptive";
  EXPECT_EQ(placement_before_jobs(p, 3, Stage::prepare).accelerator_units, 0u);
}

TEST(Policy, StaticShareAppliesToEachStageWithItsOwnAccelerators) {
  PolicyParams p = with("static");
  p.static_share = 0.5;
  const auto policy = make_policy(p);
  History history(4);
  const Window w = testing::with_consumer_accelerators(make_window(0, {fed()}, kNoAccelerator), 0.3);
  const Decisions d = policy->decide(w, history, PolicyState{});
  EXPECT_EQ(d.jobs.find(0, 0, Stage::augment)->accelerator_units, kShareUnits / 2);
  EXPECT_EQ(d.jobs.find(0, 0, Stage::augment)->reason, Reason::fixed);
  EXPECT_EQ(d.jobs.find(0, 0)->reason, Reason::no_accelerator);
  // The list stays sorted by (pipeline, stage, op), which find() relies on.
  for (std::size_t i = 1; i < d.jobs.ops.size(); ++i) {
    const auto& a = d.jobs.ops[i - 1];
    const auto& b = d.jobs.ops[i];
    EXPECT_LT(std::tuple(a.pipeline, a.stage, a.op), std::tuple(b.pipeline, b.stage, b.op));
  }
}

TEST(PolicyRegistry, KnowsAdaptiveAndStaticAndListsThemOnUnknownName) {
  EXPECT_EQ(PolicyRegistry::global().names(), (std::vector<std::string>{"adaptive", "static"}));
  EXPECT_EQ(make_policy(with())->name(), "adaptive");
  EXPECT_EQ(make_policy(with("static"))->name(), "static");
  try {
    make_policy(with("greedy"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown policy 'greedy' (known: adaptive, static)"),
              std::string::npos)
        << e.what();
  }
}

TEST(PolicyRegistry, TakesPoliciesOfOnesOwn) {
  PolicyRegistry registry;
  registry.add("cpu-only", make_static_policy);
  EXPECT_THROW(registry.add("cpu-only", make_static_policy), InternalError);
  PolicyParams p = with("cpu-only");
  EXPECT_EQ(registry.make(p)->name(), "static");
  EXPECT_THROW(registry.make(with()), ConfigError);  // this registry has no "adaptive"
}

TEST(PolicyParams, BadValuesNameTheirKey) {
  struct Bad {
    void (*edit)(PolicyParams&);
    const char* key;
  };
  const Bad bad[] = {
      {[](PolicyParams& p) { p.low_water = -0.1; }, "monitor.low_water"},
      {[](PolicyParams& p) { p.high_water = 1.5; }, "monitor.high_water"},
      {[](PolicyParams& p) { p.low_water = 0.9; },
       "monitor.low_water (0.9) must be below monitor.high_water"},
      {[](PolicyParams& p) { p.util_threshold = 0.9; }, "must be below monitor.util_busy"},
      {[](PolicyParams& p) { p.hysteresis = 0; }, "monitor.hysteresis"},
      {[](PolicyParams& p) { p.step = 0; }, "monitor.step"},
      {[](PolicyParams& p) { p.max_share = 2; }, "monitor.max_share"},
      {[](PolicyParams& p) { p.static_share = -1; }, "monitor.static_share"},
  };
  for (const auto& b : bad) {
    PolicyParams p;
    b.edit(p);
    try {
      p.validate();
      ADD_FAILURE() << "accepted: " << b.key;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(b.key), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(PolicyParams{}.validate());
}

}  // namespace
}  // namespace ferry::monitor
