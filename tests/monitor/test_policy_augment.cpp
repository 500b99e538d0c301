// Placement policies, the augment stage: it runs on the consumers' own accelerators, so its share follows
// their utilization and the cost of augmenting on their CPUs, apart from the prepare stage's.
#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

#include "helpers.hpp"
#include "monitor/policy.hpp"
#include "policy_shorthands.hpp"

namespace ferry::monitor {
namespace {

using testing::full;
using testing::kNoAccelerator;
using testing::make_window;
using testing::starving;
using testing::with;

using testing::Q;

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

}  // namespace
}  // namespace ferry::monitor
