// Placement policies, table-driven: each case is a run of windows fed to one policy, with the expected
// accelerator share and reason of every pipeline's device-capable op after each window.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "ferry/error.hpp"
#include "helpers.hpp"
#include "monitor/policy.hpp"

namespace ferry::monitor {
namespace {

using testing::make_window;
using testing::Pipe;

using testing::Q;
constexpr std::optional<double> kNoAccelerator = std::nullopt;

struct Expect {
  std::uint32_t units;
  Reason reason;
};

struct Step {
  std::vector<Pipe> pipes;
  std::optional<double> util;
  std::map<std::uint32_t, Expect> expect;  // per pipeline, for op 0 (cast)
};

struct Case {
  std::string name;
  PolicyParams params;
  std::vector<Step> steps;
};

// gtest prints a failing case by name instead of as raw bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

PolicyParams with(std::string name = "adaptive") {
  PolicyParams p;
  p.name = std::move(name);
  return p;
}

// Shorthands: a starving pipeline (mean occupancy 0.1), a fed one (0.6, inside the dead band), a full one.
Pipe starving(std::uint32_t id = 0) {
  return {id, 0.1, 0.0};
}
Pipe fed(std::uint32_t id = 0) {
  return {id, 0.6, 0.4};
}
Pipe full(std::uint32_t id = 0) {
  return {id, 1.0, 0.95};
}
Pipe silent(std::uint32_t id = 0) {
  return {id, 0, 0, false};
}

// Two windows of starvation on an idle accelerator: one default step to the accelerator.
std::vector<Step> reach_quarter() {
  return {{{starving()}, 0.1, {{0, {0, Reason::hold}}}}, {{starving()}, 0.1, {{0, {Q, Reason::offload}}}}};
}

std::vector<Step> concat(std::vector<Step> a, const std::vector<Step>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"StarvingOnAnIdleDeviceOffloadsAfterHysteresis", with(),
               concat(reach_quarter(), {{{starving()}, 0.1, {{0, {Q, Reason::hold}}}},
                                        {{starving()}, 0.2, {{0, {2 * Q, Reason::offload}}}}})});
  {
    PolicyParams p = with();
    p.hysteresis = 1;
    c.push_back({"HysteresisOfOneMovesEveryWindow",
                 p,
                 {{{starving()}, 0.0, {{0, {Q, Reason::offload}}}},
                  {{starving()}, 0.0, {{0, {2 * Q, Reason::offload}}}},
                  {{starving()}, 0.0, {{0, {3 * Q, Reason::offload}}}}}});
  }
  c.push_back({"NoAcceleratorKeepsEverythingOnCpu",
               with(),
               {{{starving()}, kNoAccelerator, {{0, {0, Reason::no_accelerator}}}},
                {{starving()}, kNoAccelerator, {{0, {0, Reason::no_accelerator}}}},
                {{starving()}, kNoAccelerator, {{0, {0, Reason::no_accelerator}}}}}});
  c.push_back({"AcceleratorDisappearingResetsTheShare", with(),
               concat(reach_quarter(), {{{starving()}, kNoAccelerator, {{0, {0, Reason::no_accelerator}}}},
                                        {{starving()}, 0.1, {{0, {0, Reason::hold}}}}})});
  c.push_back({"BusyAcceleratorMovesWorkBack", with(),
               concat(reach_quarter(), {{{starving()}, 0.9, {{0, {Q, Reason::hold}}}},
                                        {{starving()}, 0.95, {{0, {0, Reason::accelerator_busy}}}}})});
  c.push_back({"UtilizationSpikeOfOneWindowIsIgnored", with(),
               concat(reach_quarter(), {{{fed()}, 0.99, {{0, {Q, Reason::hold}}}},
                                        {{fed()}, 0.3, {{0, {Q, Reason::hold}}}},
                                        {{fed()}, 0.99, {{0, {Q, Reason::hold}}}},
                                        {{fed()}, 0.3, {{0, {Q, Reason::hold}}}}})});
  c.push_back({"FullQueuesMoveWorkBack", with(),
               concat(reach_quarter(), {{{full()}, 0.2, {{0, {Q, Reason::hold}}}},
                                        {{full()}, 0.2, {{0, {0, Reason::queues_full}}}},
                                        {{full()}, 0.2, {{0, {0, Reason::hold}}}}})});
  c.push_back({"FedPipelineInTheDeadBandHolds",
               with(),
               {{{fed()}, 0.1, {{0, {0, Reason::hold}}}},
                {{fed()}, 0.1, {{0, {0, Reason::hold}}}},
                {{fed()}, 0.1, {{0, {0, Reason::hold}}}}}});
  c.push_back({"StarvingButAcceleratorNotIdleStaysOnCpu",
               with(),
               {{{starving()}, 0.6, {{0, {0, Reason::hold}}}},
                {{starving()}, 0.6, {{0, {0, Reason::hold}}}},
                {{starving()}, 0.99, {{0, {0, Reason::hold}}}},
                {{starving()}, 0.99, {{0, {0, Reason::hold}}}}}});
  c.push_back({"OnePipelineStarvingWhileAnotherIsFed",
               with(),
               {{{starving(0), fed(1)}, 0.1, {{0, {0, Reason::hold}}, {1, {0, Reason::hold}}}},
                {{starving(0), fed(1)}, 0.1, {{0, {Q, Reason::offload}}, {1, {0, Reason::hold}}}},
                {{fed(0), starving(1)}, 0.1, {{0, {Q, Reason::hold}}, {1, {0, Reason::hold}}}},
                {{fed(0), starving(1)}, 0.1, {{0, {Q, Reason::hold}}, {1, {Q, Reason::offload}}}}}});
  c.push_back({"AlternatingSignalsDoNotFlap", with(),
               concat(reach_quarter(), {{{starving()}, 0.1, {{0, {Q, Reason::hold}}}},
                                        {{full()}, 0.1, {{0, {Q, Reason::hold}}}},
                                        {{starving()}, 0.1, {{0, {Q, Reason::hold}}}},
                                        {{full()}, 0.1, {{0, {Q, Reason::hold}}}},
                                        {{starving()}, 0.1, {{0, {Q, Reason::hold}}}}})});
  {
    PolicyParams p = with();
    p.hysteresis = 1;
    p.step = 0.5;
    p.max_share = 0.5;
    c.push_back({"MaxShareCapsTheAccelerator",
                 p,
                 {{{starving()}, 0.0, {{0, {2 * Q, Reason::offload}}}},
                  {{starving()}, 0.0, {{0, {2 * Q, Reason::hold}}}}}});
  }
  c.push_back({"NoConsumerReportKeepsShareAndStreak",
               with(),
               {{{starving()}, 0.1, {{0, {0, Reason::hold}}}},
                {{silent()}, 0.1, {{0, {0, Reason::no_data}}}},
                {{starving()}, 0.1, {{0, {Q, Reason::offload}}}}}});
  c.push_back({"BusyAcceleratorWinsOverStarvation", with(),
               concat(reach_quarter(), {{{starving()}, 0.9, {{0, {Q, Reason::hold}}}},
                                        {{starving()}, 0.9, {{0, {0, Reason::accelerator_busy}}}},
                                        {{starving()}, 0.9, {{0, {0, Reason::hold}}}}})});
  {
    PolicyParams p = with("static");
    p.static_share = 0.5;
    c.push_back({"StaticPolicyKeepsItsFixedShare",
                 p,
                 {{{starving()}, 0.0, {{0, {2 * Q, Reason::fixed}}}},
                  {{full()}, 0.99, {{0, {2 * Q, Reason::fixed}}}},
                  {{starving()}, kNoAccelerator, {{0, {0, Reason::no_accelerator}}}}}});
  }
  c.push_back(
      {"StaticPolicyDefaultIsAllCpu",
       with("static"),
       {{{starving()}, 0.0, {{0, {0, Reason::fixed}}}}, {{starving()}, 0.0, {{0, {0, Reason::fixed}}}}}});
  return c;
}

class PolicyTable : public ::testing::TestWithParam<Case> {};

// Each case is the ctest test Rules/PolicyTable.Shares/CASE: keep CASE names under ~45 characters (ctest
// pads every line of its output to the longest test name).
TEST_P(PolicyTable, Shares) {
  const Case& c = GetParam();
  const auto policy = make_policy(c.params);
  History history(8);
  PolicyState state;
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const Step& s = c.steps[i];
    const Window w = make_window(i, s.pipes, s.util);
    const Decisions d = policy->decide(w, history, state);
    EXPECT_EQ(d.jobs.window, i);
    for (const auto& [pipeline, want] : s.expect) {
      const OpPlacement* cast = d.jobs.find(pipeline, 0);
      ASSERT_NE(cast, nullptr) << "window " << i << " pipeline " << pipeline;
      EXPECT_EQ(cast->accelerator_units, want.units) << "window " << i << " pipeline " << pipeline;
      EXPECT_EQ(cast->reason, want.reason)
          << "window " << i << " pipeline " << pipeline << ": got " << to_string(cast->reason);
      // The op without a device kernel never leaves the CPU.
      const OpPlacement* layout = d.jobs.find(pipeline, 1);
      ASSERT_NE(layout, nullptr);
      EXPECT_EQ(layout->accelerator_units, 0u);
      EXPECT_EQ(layout->target(), Target::cpu);
      EXPECT_EQ(layout->reason, s.util ? Reason::not_capable : Reason::no_accelerator);
    }
    history.push(w);
    state = d.state;
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, PolicyTable, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

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

// The augment stage runs on the consumers' own accelerators: its share follows their utilization, the
// prepare stage's follows the transformers', and the two never mix.
TEST(Policy, AugmentStageOffloadsToTheConsumersAccelerators) {
  const auto policy = make_policy(with());
  History history(4);
  PolicyState state;
  for (std::uint64_t i = 0; i < 2; ++i) {
    const Window w = testing::with_consumer_accelerators(make_window(i, {starving()}, kNoAccelerator), 0.1);
    const Decisions d = policy->decide(w, history, state);
    const OpPlacement* augment = d.jobs.find(0, 0, Stage::augment);
    ASSERT_NE(augment, nullptr);
    EXPECT_EQ(augment->accelerator_units, i == 0 ? 0u : Q);
    EXPECT_EQ(augment->reason, i == 0 ? Reason::hold : Reason::offload) << to_string(augment->reason);
    // No transformer has a device: the prepare stage stays on CPU whatever the consumers have.
    EXPECT_EQ(d.jobs.find(0, 0)->reason, Reason::no_accelerator);
    EXPECT_EQ(d.jobs.find(0, 0)->accelerator_units, 0u);
    state = d.state;
  }
  EXPECT_EQ(state.augment.at(0).units, Q);
  EXPECT_EQ(state.pipelines.at(0).units, 0u);
}

TEST(Policy, TrainingOnTheConsumersDeviceHoldsAugmentBackButNotPrepare) {
  const auto policy = make_policy(with());
  History history(4);
  PolicyState state;
  state.augment[0].units = Q;
  state.augment[0].ops[0] = true;
  for (std::uint64_t i = 0; i < 2; ++i) {
    // The transformer's device idles (0.1); the consumers' is busy with training (0.95).
    const Window w = testing::with_consumer_accelerators(make_window(i, {starving()}, 0.1), 0.95);
    state = policy->decide(w, history, state).state;
  }
  EXPECT_EQ(state.augment.at(0).units, 0u);   // moved back: accelerator busy
  EXPECT_EQ(state.pipelines.at(0).units, Q);  // offloaded to the transformer's idle device
}

TEST(Policy, AugmentWithoutDeviceProgramStaysOnTheConsumersCpu) {
  const auto policy = make_policy(with());
  History history(4);
  PolicyState state;
  Decisions d;
  for (std::uint64_t i = 0; i < 3; ++i) {
    const Window w =
        testing::with_consumer_accelerators(make_window(i, {starving()}, kNoAccelerator), 0.0, false);
    d = policy->decide(w, history, state);
    state = d.state;
  }
  EXPECT_EQ(d.jobs.find(0, 0, Stage::augment)->reason, Reason::not_capable);
  EXPECT_EQ(d.jobs.find(0, 0, Stage::augment)->accelerator_units, 0u);
}

// Consumers whose queues are full but who augment at pop: each consumer's augment op ran `cpu_batches` on
// its CPU in `cpu_ns` and `device_batches` on its (idle, 0.1) device, in a 1 ms window. The transformer's
// device idles too.
Window augmenting(std::uint64_t index, std::uint64_t cpu_batches, std::uint64_t device_batches,
                  std::uint64_t cpu_ns) {
  Window w = testing::with_consumer_accelerators(make_window(index, {full()}, 0.1), 0.1);
  for (auto& rank : w.ranks) {
    if (!rank.consumer) continue;
    OpStats& op = rank.pipelines.at(0).ops.at(0);
    op.cpu_batches = cpu_batches;
    op.accelerator_batches = device_batches;
    op.cpu_ns = cpu_ns;
  }
  return w;
}

// Augment work at pop does not empty the queues: consumers spending 30 % of their time augmenting on their
// CPUs starve on it (monitor.augment_share 0.1), so the augment stage offloads to their idle devices while
// the prepare stage, whose queues are full, stays on the CPU.
TEST(Policy, AugmentHeavyConsumersOffloadAugmentThoughTheirQueuesAreFull) {
  const auto policy = make_policy(with());
  History history(4);
  PolicyState state;
  for (std::uint64_t i = 0; i < 4; ++i) {
    const Decisions d = policy->decide(augmenting(i, 10, 0, 300'000), history, state);
    state = d.state;
    EXPECT_EQ(d.jobs.find(0, 0)->accelerator_units, 0u) << "window " << i;
  }
  EXPECT_EQ(state.augment.at(0).units, 2 * Q);  // two moves: windows 1 and 3 (hysteresis 2)
  // Under the mark (5 % of their time) the same full queues offload nothing.
  PolicyState light;
  for (std::uint64_t i = 0; i < 4; ++i)
    light = policy->decide(augmenting(i, 10, 0, 50'000), history, light).state;
  EXPECT_EQ(light.augment.at(0).units, 0u);
}

// Once offloaded, the CPU part of the augment stage shrinks, but the cost it would have on the CPUs does
// not: full queues move it back only when that cost is under half the mark (a dead band between 0.05 and
// 0.1 where nothing moves), and a window without any CPU batch is judged by the last measured cost per
// batch. So it does not go back and forth.
TEST(Policy, OffloadedAugmentMovesBackOnFullQueuesOnlyWhenItIsLight) {
  const auto policy = make_policy(with());
  History history(4);
  struct Run {
    std::uint64_t cpu_batches, device_batches, cpu_ns;
    std::uint32_t units_after;
  };
  const Run runs[] = {
      {5, 5, 150'000, 4 * Q},  // 30 us per CPU batch x 10 batches in 1 ms: 0.3, heavy: up to all
      {5, 5, 35'000, 2 * Q},   // 0.07: inside the dead band, holds
      {5, 5, 10'000, 0},       // 0.02: light, and the queues are full: back one step per 2 windows
      {0, 10, 0, 2 * Q},       // every batch on the device and no cost measured yet: holds
  };
  for (const Run& run : runs) {
    PolicyState state;
    state.augment[0].units = 2 * Q;
    state.augment[0].ops[0] = true;
    for (std::uint64_t i = 0; i < 4; ++i)
      state = policy->decide(augmenting(i, run.cpu_batches, run.device_batches, run.cpu_ns), history, state)
                  .state;
    EXPECT_EQ(state.augment.at(0).units, run.units_after) << run.cpu_ns << " ns on " << run.cpu_batches;
  }
}

// A stage wholly on the devices is judged by its last measured cost over three windows (hysteresis 2: one
// move): light (0.02) moves back a step on full queues, heavy (0.3) goes on up a step.
TEST(Policy, AugmentWhollyOnTheDevicesIsJudgedByItsLastMeasuredCost) {
  const auto policy = make_policy(with());
  History history(4);
  for (const auto& [cpu_ns, units_after] : {std::pair<std::uint64_t, std::uint32_t>{10'000, Q},
                                            std::pair<std::uint64_t, std::uint32_t>{150'000, 3 * Q}}) {
    PolicyState state;
    state.augment[0].units = 2 * Q;
    state.augment[0].ops[0] = true;
    state = policy->decide(augmenting(0, 5, 5, cpu_ns), history, state).state;  // measures, votes once
    for (std::uint64_t i = 1; i < 3; ++i)
      state = policy->decide(augmenting(i, 0, 10, 0), history, state).state;
    EXPECT_EQ(state.augment.at(0).units, units_after) << cpu_ns;
    EXPECT_DOUBLE_EQ(state.augment.at(0).cpu_ns_per_batch, static_cast<double>(cpu_ns) / 5);
  }
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
