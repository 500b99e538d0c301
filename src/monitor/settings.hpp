// The [monitor] config section turned into the monitor layer's parameter structs, validated once.
#pragma once

#include "ferry/config.hpp"
#include "monitor/policy.hpp"
#include "monitor/role_policy.hpp"
#include "monitor/window.hpp"

namespace ferry::monitor {

struct Settings {
  WindowConfig window;
  PolicyParams policy;
  RoleParams roles;
  bool rebalance = false;
  std::uint32_t rebalance_windows = 0;  // 0: epoch boundaries only
  // R3 may move one of `randomizers` randomizers: rebalancing and monitor.role_randomizers are on and there
  // is more than one (the coordinator's never moves).
  bool may_move_randomizers(std::size_t randomizers) const noexcept {
    return rebalance && roles.randomizers && randomizers > 1;
  }
};

// Throws ConfigError naming the monitor.* key that is wrong (alone or in relation to another).
Settings settings_from(const MonitorConfig& config);

}  // namespace ferry::monitor
