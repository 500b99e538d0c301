// The scripted role policy's words (parse_role_script) and its check against a starting layout
// (check_role_script): what an operator may write, and the one line a bad script gets.
#include <gtest/gtest.h>

#include "ferry/error.hpp"
#include "monitor/role_script.hpp"

namespace ferry::monitor {
namespace {

using R = ServiceRole;

// Rank 0 the coordinator's randomizer, 1 another randomizer, 2 a cache server, 3 and 4 transformers, 5 a
// consumer; with rebalancing every transformer holds a slab, randomizers hold none.
ScriptLayout layout() {
  ScriptLayout l;
  l.roles = {R::randomizer, R::randomizer, R::cache_server, R::transformer, R::transformer, std::nullopt};
  l.holds_slab = {false, false, true, true, true, false};
  l.coordinator = 0;
  return l;
}

std::string error_of(const std::string& script) {
  try {
    check_role_script(parse_role_script(script), layout());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(RoleScript, ParsesTriggersAndActionsInOrder) {
  const auto steps = parse_role_script(
      "epoch 1: rank 3 -> cache_server;\n epoch 2 batch 5: retire randomizer 1\nwindow 40:rank "
      "3->transformer");
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].trigger, ScriptStep::Trigger::position);
  EXPECT_EQ(steps[0].epoch, 1u);
  EXPECT_EQ(steps[0].batch, 0u);
  EXPECT_EQ(steps[0].rank, 3u);
  EXPECT_EQ(steps[0].to, R::cache_server);
  EXPECT_FALSE(steps[0].retire);
  EXPECT_EQ(steps[0].text, "epoch 1: rank 3 -> cache_server");
  EXPECT_EQ(steps[1].epoch, 2u);
  EXPECT_EQ(steps[1].batch, 5u);
  EXPECT_TRUE(steps[1].retire);
  EXPECT_EQ(steps[1].rank, 1u);
  EXPECT_EQ(steps[2].trigger, ScriptStep::Trigger::window);
  EXPECT_EQ(steps[2].window, 40u);
  EXPECT_EQ(steps[2].to, R::transformer);
  EXPECT_TRUE(parse_role_script("  ;; \n").empty());
}

TEST(RoleScript, BadWordsNameTheKeyAndTheStep) {
  for (const char* bad :
       {"epoch x: rank 3 -> cache_server", "rank 3 -> cache_server", "epoch 1 rank 3 -> cache_server",
        "epoch 1: rank 3 -> randomizer", "epoch 1: retire 1", "epoch 1: rank 3 cache_server",
        "window: rank 3 -> transformer", "epoch 1: rank -3 -> transformer",
        "epoch 1: rank 4294967298 -> transformer"}) {
    try {
      parse_role_script(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("monitor.role_script: step '"), std::string::npos) << what;
      EXPECT_NE(what.find(bad), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
    }
  }
}

TEST(RoleScript, AcceptsMovesThatFollowEachOther) {
  // A retired randomizer is a transformer, so it counts as one; rank 2 may leave once rank 4 serves.
  EXPECT_EQ(
      error_of("epoch 1: rank 3 -> cache_server; epoch 2: rank 3 -> transformer; epoch 2 batch 4: retire "
               "randomizer 1; epoch 3: rank 4 -> cache_server; epoch 4: rank 2 -> transformer"),
      "accepted");
}

TEST(RoleScript, RefusesWhatCannotBeDone) {
  const std::pair<const char*, const char*> cases[] = {
      {"epoch 1: rank 9 -> cache_server", "rank 9 is not in the job (6 ranks)"},
      {"epoch 1: rank 5 -> transformer", "rank 5 is a consumer"},
      {"epoch 1: retire randomizer 0", "rank 0 is the coordinator's randomizer"},
      {"epoch 1: rank 0 -> transformer", "rank 0 is the coordinator's randomizer"},
      {"epoch 1: retire randomizer 3", "rank 3 is a transformer by then, not a randomizer"},
      {"epoch 1: retire randomizer 1; epoch 2: retire randomizer 1", "rank 1 is a transformer by then"},
      {"epoch 1: rank 1 -> transformer", "rank 1 is a randomizer: write 'retire randomizer 1'"},
      {"epoch 1: rank 3 -> transformer", "rank 3 is a transformer already"},
      {"epoch 1: rank 2 -> cache_server", "rank 2 is a cache_server already"},
      {"epoch 1: rank 3 -> cache_server; epoch 2: rank 4 -> cache_server", "rank 4 is the last transformer"},
      {"epoch 1: rank 2 -> transformer", "rank 2 is the last cache server"},
      {"epoch 1: retire randomizer 1; epoch 2: rank 1 -> cache_server", "rank 1 holds no cache slab"},
  };
  for (const auto& [script, expected] : cases) {
    const std::string what = error_of(script);
    EXPECT_NE(what.find(expected), std::string::npos) << script << " -> " << what;
    EXPECT_NE(what.find("monitor.role_script"), std::string::npos) << what;
  }
}

TEST(RoleScript, StepsBecomeMovesLikeThePolicysOwn) {
  const auto steps = parse_role_script("epoch 1: rank 3 -> cache_server; epoch 2: retire randomizer 1");
  const RoleMove a = script_move(steps[0], R::transformer, 0);
  EXPECT_EQ(a, (RoleMove{3, R::transformer, R::cache_server, RoleRule::scripted, "", 0}));
  const RoleMove b = script_move(steps[1], R::randomizer, 0);
  EXPECT_EQ(b, (RoleMove{1, R::randomizer, R::transformer, RoleRule::scripted, "", 0}));
  EXPECT_EQ(b.why, "monitor.role_script step 'epoch 2: retire randomizer 1'");
}

}  // namespace
}  // namespace ferry::monitor
