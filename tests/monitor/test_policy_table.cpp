// Placement policies, table-driven: each case is a run of windows fed to one policy, with the expected
// accelerator share and reason of every pipeline's device-capable op after each window.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "monitor/policy.hpp"
#include "policy_shorthands.hpp"

namespace ferry::monitor {
namespace {

using testing::fed;
using testing::full;
using testing::kNoAccelerator;
using testing::make_window;
using testing::Pipe;
using testing::silent;
using testing::starving;
using testing::with;

using testing::Q;

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

}  // namespace
}  // namespace ferry::monitor
