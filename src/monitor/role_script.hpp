// The scripted role policy (monitor.role_policy = "scripted"): the operator writes the layout changes, and
// the rebalancer takes them through the same kRole / kRetire / handover paths as the adaptive policy's moves.
//
//   monitor.role_script = "epoch 1: rank 3 -> cache_server; epoch 2 batch 5: retire randomizer 1"
//
// Steps are separated by ';' (or new lines) and taken in the order written, one at a time: a step is taken at
// the first rebalance point at which its trigger has come, the step before it was taken and any retirement
// has ended with the rank transforming.
//   epoch E          epoch E batch 0
//   epoch E batch B  before the coordinator's randomizer describes batch B of epoch E of its lead pipeline
//                    (the first that still describes) to any consumer; it holds that pipeline there until
//                    the step is taken, so the move lands exactly there
//   window W         once the coordinator has closed W monitoring windows (a time, not a position)
// Actions:
//   rank R -> cache_server | transformer   a service rank changes role (R1 and R2's paths)
//   retire randomizer R                    it hands its pipelines to the coordinator's randomizer and
//                                          transforms (R3's path)
// parse_role_script() checks the words; check_role_script() checks the steps against the starting layout
// (unknown rank, the coordinator's randomizer, the last transformer or cache server, a role a rank already
// has, a rank that holds no slab). Both throw ConfigError, one line naming monitor.role_script and the step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/role_policy.hpp"

namespace ferry::monitor {

struct ScriptStep {
  enum class Trigger : std::uint8_t { position, window };
  Trigger trigger = Trigger::position;
  std::uint64_t epoch = 0, batch = 0;  // Trigger::position
  std::uint64_t window = 0;            // Trigger::window
  std::uint32_t rank = 0;
  bool retire = false;  // retire randomizer `rank` (to is then transformer)
  ServiceRole to = ServiceRole::transformer;
  std::string text;  // as written, for messages and the log
};

std::vector<ScriptStep> parse_role_script(std::string_view text);

// The starting layout as the check needs it: per rank its service role, or nothing for a consumer.
struct ScriptLayout {
  std::vector<std::optional<ServiceRole>> roles;
  std::vector<bool> holds_slab;  // per rank: it holds a cache slab (may serve)
  std::uint32_t coordinator = 0;
  bool cache = true;  // a cache exists (cache servers and a non-zero runtime.cache_bytes)
};

void check_role_script(const std::vector<ScriptStep>& steps, const ScriptLayout& layout);

// The move a step makes, stated as decide_roles() states its moves: `from` is the rank's role when the step
// is taken, `heir` the coordinator's randomizer (a retirement's).
RoleMove script_move(const ScriptStep& step, ServiceRole from, std::uint32_t heir);

}  // namespace ferry::monitor
