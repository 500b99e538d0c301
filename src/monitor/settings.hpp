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
};

// Throws ConfigError naming the monitor.* key that is wrong (alone or in relation to another).
Settings settings_from(const MonitorConfig& config);

}  // namespace ferry::monitor
