// The [monitor] config section turned into the monitor layer's parameter structs, validated once.
#pragma once

#include "ferry/config.hpp"
#include "monitor/policy.hpp"
#include "monitor/role_policy.hpp"
#include "monitor/role_script.hpp"
#include "monitor/window.hpp"

namespace ferry::monitor {

struct Settings {
  WindowConfig window;
  PolicyParams policy;
  RoleParams roles;
  bool rebalance = false;
  std::uint32_t rebalance_windows = 0;  // 0: epoch boundaries only
  bool scripted = false;                // monitor.role_policy = "scripted": `script` decides the moves
  std::vector<ScriptStep> script;
  // A randomizer may move (R3's path) among `randomizers` randomizers: rebalancing is on, there is more than
  // one (the coordinator's never moves), and monitor.role_randomizers is on (adaptive) or the script retires
  // one (scripted).
  bool may_move_randomizers(std::size_t randomizers) const noexcept {
    if (!rebalance || randomizers < 2) return false;
    return scripted ? script_retires() : roles.randomizers;
  }
  // The role script has a step that retires a randomizer.
  bool script_retires() const noexcept {
    for (const auto& s : script)
      if (s.retire) return true;
    return false;
  }
};

// Throws ConfigError naming the monitor.* key that is wrong (alone or in relation to another).
Settings settings_from(const MonitorConfig& config);

}  // namespace ferry::monitor
