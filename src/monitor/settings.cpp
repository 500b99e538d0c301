#include "monitor/settings.hpp"

#include "ferry/error.hpp"

namespace ferry::monitor {

Settings settings_from(const MonitorConfig& c) {
  Settings s;
  s.window.batches = static_cast<std::uint32_t>(c.window_batches);
  s.window.ms = static_cast<std::uint32_t>(c.window_ms);
  s.window.history = static_cast<std::uint32_t>(c.history);
  s.window.validate();
  s.policy.name = c.policy;
  s.policy.low_water = c.low_water;
  s.policy.high_water = c.high_water;
  s.policy.util_threshold = c.util_threshold;
  s.policy.util_busy = c.util_busy;
  s.policy.hysteresis = static_cast<std::uint32_t>(c.hysteresis);
  s.policy.step = c.step;
  s.policy.max_share = c.max_share;
  s.policy.static_share = c.static_share;
  s.policy.augment_share = c.augment_share;
  s.policy.head_idle = c.head_idle;
  s.policy.head_busy = c.head_busy;
  s.policy.static_head_share = c.static_head_share;
  s.policy.validate();
  s.roles = {c.role_idle, c.role_busy, c.role_wait, c.role_min_hits, c.role_randomizers};
  s.roles.validate();
  s.rebalance = c.rebalance;
  s.rebalance_windows = static_cast<std::uint32_t>(c.rebalance_windows);
  s.scripted = c.role_policy == "scripted";
  s.script = parse_role_script(c.role_script);  // the words; the ranks are checked against the layout
  if (s.scripted && !s.rebalance)
    throw ConfigError("monitor.role_policy = \"scripted\" needs monitor.rebalance = true");
  if (s.scripted && s.script.empty())
    throw ConfigError("monitor.role_policy = \"scripted\" needs monitor.role_script (its steps)");
  if (!s.scripted && !s.script.empty())
    throw ConfigError(
        "monitor.role_script is set but monitor.role_policy is \"adaptive\": set it to \"scripted\"");
  return s;
}

}  // namespace ferry::monitor
