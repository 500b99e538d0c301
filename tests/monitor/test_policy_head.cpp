// The augment head's placement (Stage::head): which share of a pipeline's batches run the leading
// deterministic ops of its augment stage (decode ...) on the transformation ranks instead of the consumers.
// Scripted windows, asserted decisions (docs/heterogeneous.md, "The movable head").
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "ferry/error.hpp"
#include "helpers.hpp"
#include "monitor/policy.hpp"

namespace ferry::monitor {
namespace {

using testing::make_window;

using testing::Q;

// What the consumers report in one 1 ms window: their augment stage (not device-capable: decode has no
// kernel) ran `augment_batches` batches in `augment_ns` (head included for the batches they got whole);
// the head ran on them for `head_batches` in `head_ns` and on the transformation ranks for `away`.
struct Consumers {
  std::uint64_t augment_batches = 10, augment_ns = 0;
  std::uint64_t head_batches = 10, head_ns = 0, away = 0;
  double queue_mean = 0.6, queue_min = 0.4;
  bool movable = true;
};

// Two consumers as above and one transformation rank busy `busy` of its 2 workers' time, no accelerator.
Window heading(std::uint64_t index, const Consumers& c, double busy) {
  Window w = make_window(index, {{0, c.queue_mean, c.queue_min}}, std::nullopt);
  for (auto& rank : w.ranks) {
    if (!rank.consumer) {
      rank.busy_ns = static_cast<std::uint64_t>(busy * 2 * static_cast<double>(rank.window_ns));
      continue;
    }
    rank.pipelines.at(0).ops = {OpStats{0, "augment image=decode_jpeg | resize(shorter=64) | random_flip",
                                        false, c.augment_batches, 0, c.augment_ns, 0, Stage::augment},
                                OpStats{0, "head image=decode_jpeg | resize(shorter=64)", c.movable,
                                        c.head_batches, c.away, c.head_ns, 0, Stage::head}};
  }
  return w;
}

PolicyState run(const Policy& policy, PolicyState state, const Consumers& c, double busy, int windows,
                Decisions* last = nullptr) {
  History history(4);
  for (int i = 0; i < windows; ++i) {
    Decisions d = policy.decide(heading(static_cast<std::uint64_t>(i), c, busy), history, state);
    state = d.state;
    if (last) *last = d;
  }
  return state;
}

// Consumers spending 30 % of their time in an augment stage that starts with decode, transformation ranks
// busy 20 %: the head moves away one step per two windows (hysteresis 2), and its placement says why.
TEST(PolicyHead, HeavyAugmentMovesTheHeadToIdleTransformers) {
  const auto policy = make_policy({});
  Consumers c;
  c.augment_ns = 300'000;
  c.head_ns = 250'000;
  Decisions d;
  const PolicyState s = run(*policy, {}, c, 0.2, 4, &d);
  EXPECT_EQ(s.head.at(0).units, 2 * Q);
  const OpPlacement* head = d.jobs.find(0, 0, Stage::head);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->accelerator_units, 2 * Q);
  EXPECT_EQ(head->reason, Reason::offload);
  // The augment stage itself has no device here: it stays on the consumers' CPUs.
  EXPECT_EQ(d.jobs.find(0, 0, Stage::augment)->reason, Reason::no_accelerator);
  EXPECT_DOUBLE_EQ(s.head.at(0).cpu_ns_per_batch, 25'000.0);
}

// The transformation ranks' busy fraction gates the move: between head_idle (0.5) and head_busy (0.85)
// nothing moves; at or above head_busy an offloaded head comes back, however heavy it is.
TEST(PolicyHead, BusyTransformersHoldTheHeadOrTakeItBack) {
  const auto policy = make_policy({});
  Consumers c;
  c.augment_ns = 300'000;
  c.head_ns = 250'000;
  EXPECT_EQ(run(*policy, {}, c, 0.6, 4).head.at(0).units, 0u);
  PolicyState away;
  away.head[0].units = 2 * Q;
  away.head[0].ops[0] = true;
  Decisions d;
  EXPECT_EQ(run(*policy, away, c, 0.9, 2, &d).head.at(0).units, Q);
  EXPECT_EQ(d.jobs.find(0, 0, Stage::head)->reason, Reason::accelerator_busy);
  EXPECT_EQ(run(*policy, away, c, 0.6, 4).head.at(0).units, 2 * Q);
}

// With the head away, the consumers' own augment time shrinks, but the head's cost is counted at its last
// measured price for every batch that ran it away: the stage is judged as if every head ran on the
// consumers, so full queues do not take back a head whose removal is what filled them.
TEST(PolicyHead, AHeadAwayIsJudgedWithItsCostSoItDoesNotFlap) {
  const auto policy = make_policy({});
  PolicyState all_away;
  all_away.head[0].units = kShareUnits;
  all_away.head[0].ops[0] = true;
  all_away.head[0].cpu_ns_per_batch = 8'000;  // measured before it moved
  Consumers c;                                // every head away: the consumers run 1 us of augment a batch
  c.augment_ns = 10'000;
  c.head_batches = 0;
  c.away = 10;
  c.queue_mean = 1.0;
  c.queue_min = 0.95;  // full
  // 0.01 on the consumers + 10 x 8 us away = 0.09: inside the dead band [0.05, 0.1), nothing moves.
  EXPECT_EQ(run(*policy, all_away, c, 0.2, 4).head.at(0).units, kShareUnits);
  // A head that costs 2 us a batch: 0.01 + 0.02 = 0.03, light, and full queues take it back step by step.
  all_away.head[0].cpu_ns_per_batch = 2'000;
  EXPECT_EQ(run(*policy, all_away, c, 0.2, 4).head.at(0).units, 2 * Q);
}

// A head the consumers report as not movable, and a pipeline without a head: no move, and no placement
// for the second (its batches come whole, as always).
TEST(PolicyHead, OnlyMovableHeadsMove) {
  const auto policy = make_policy({});
  Consumers c;
  c.augment_ns = 300'000;
  c.movable = false;
  Decisions d;
  run(*policy, {}, c, 0.2, 4, &d);
  EXPECT_EQ(d.jobs.find(0, 0, Stage::head)->reason, Reason::not_capable);
  EXPECT_EQ(d.jobs.find(0, 0, Stage::head)->accelerator_units, 0u);
  History history(4);
  const Decisions none = policy->decide(make_window(0, {{0, 0.1, 0.0}}, std::nullopt), history, {});
  EXPECT_EQ(none.jobs.find(0, 0, Stage::head), nullptr);
}

// The static policy's head share applies whatever the figures, from the first batch (before any job list).
TEST(PolicyHead, StaticHeadShare) {
  PolicyParams p;
  p.name = "static";
  p.static_head_share = 0.5;
  const auto policy = make_policy(p);
  Decisions d;
  run(*policy, {}, Consumers{}, 0.9, 1, &d);
  EXPECT_EQ(d.jobs.find(0, 0, Stage::head)->accelerator_units, kShareUnits / 2);
  EXPECT_EQ(d.jobs.find(0, 0, Stage::head)->reason, Reason::fixed);
  EXPECT_EQ(d.jobs.find(0, 0)->accelerator_units, 0u);  // static_share (prepare) is apart
  const OpPlacement before = placement_before_jobs(p, 0, Stage::head);
  EXPECT_EQ(before.accelerator_units, kShareUnits / 2);
  EXPECT_EQ(before.stage, Stage::head);
  EXPECT_EQ(placement_before_jobs(p, 0, Stage::prepare).accelerator_units, 0u);
  // A window without a transformation rank's report (one idle through it) changes nothing.
  Window no_transformer = heading(0, Consumers{}, 0);
  no_transformer.ranks.pop_back();
  History history(4);
  const Decisions alone = policy->decide(no_transformer, history, {});
  EXPECT_EQ(alone.jobs.find(0, 0, Stage::head)->reason, Reason::fixed);
  EXPECT_EQ(alone.jobs.find(0, 0, Stage::head)->accelerator_units, kShareUnits / 2);
}

// The adaptive policy reads a window in which no transformation rank reported (idle: every sample a hit)
// as no evidence: the share and the streak stay (a reset there undid the head's moves every few windows in
// a run with 100 ms windows).
TEST(PolicyHead, AWindowWithoutTransformersKeepsTheShare) {
  const auto policy = make_policy({});
  PolicyState away;
  away.head[0].units = 2 * Q;
  away.head[0].ops[0] = true;
  away.head[0].streak = 1;
  Window quiet = heading(0, Consumers{}, 0);
  quiet.ranks.pop_back();
  History history(4);
  const Decisions d = policy->decide(quiet, history, away);
  EXPECT_EQ(d.state.head.at(0).units, 2 * Q);
  EXPECT_EQ(d.state.head.at(0).streak, 1);
  EXPECT_EQ(d.jobs.find(0, 0, Stage::head)->reason, Reason::no_data);
}

TEST(PolicyHead, BadKeysAreNamed) {
  PolicyParams p;
  p.head_idle = 0.9;
  EXPECT_THROW(
      {
        try {
          p.validate();
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("monitor.head_idle (0.9) must be below monitor.head_busy"),
                    std::string::npos)
              << e.what();
          throw;
        }
      },
      ConfigError);
  PolicyParams q;
  q.static_head_share = 1.5;
  EXPECT_THROW(q.validate(), ConfigError);
  PolicyParams r;
  r.head_busy = -1;
  EXPECT_THROW(r.validate(), ConfigError);
}

}  // namespace
}  // namespace ferry::monitor
