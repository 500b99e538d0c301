// The [monitor] keys of the config table (keys.hpp): integers, fractions in [0, 1], booleans and choices,
// each bound to a MonitorConfig member.
#include <charconv>

#include "config/key_makers.hpp"

namespace ferry::config::detail {
namespace {

KeyDef monitor_integer(std::string_view key, long long min, long long max, std::string_view help,
                       int MonitorConfig::*member) {
  return config_integer(
      key, min, max, help, [member](Config& c, long long v) { c.monitor.*member = static_cast<int>(v); },
      [member](const Config& c) { return static_cast<long long>(c.monitor.*member); });
}

KeyDef monitor_fraction(std::string_view key, std::string_view help, double MonitorConfig::*member) {
  KeyDef def{key, Scope::global, Kind::number, help, {}, 0, 1, {}, {}, {}};
  auto set = [=](Config& c, double v, const std::string& where) {
    if (!(v >= 0.0 && v <= 1.0)) bad(where, str_cat(key, " = ", v, " is out of range (allowed: 0 to 1)"));
    c.monitor.*member = v;
  };
  def.from_toml = [=](Config& c, PipelineConfig*, const toml::node& n, const std::string& where) {
    auto v = n.value<double>();
    if (!v || !(n.is_floating_point() || n.is_integer())) bad(where, str_cat(key, " must be a number"));
    set(c, *v, where);
  };
  def.from_text = [=](Config& c, PipelineConfig*, const std::vector<std::string>& t,
                      const std::string& where) { set(c, parse_number(t.back(), where), where); };
  // Shortest text that reads back to the same double, and always with a '.' so TOML keeps it a float.
  def.to_toml = [=](const Config& c, const PipelineConfig*) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, c.monitor.*member);
    std::string text(buffer, ec == std::errc{} ? end : buffer);
    if (text.find_first_of(".eE") == std::string::npos) text += ".0";
    return text;
  };
  return def;
}

KeyDef monitor_bool(std::string_view key, std::string_view help, bool MonitorConfig::*member) {
  return section_bool(key, help, &Config::monitor, member);
}

}  // namespace

void add_monitor_keys(std::vector<KeyDef>& k) {
  using M = MonitorConfig;
  k.push_back(monitor_integer("monitor.window_batches", 0, 1 << 20, "a window closes after this many batches",
                              &M::window_batches));
  k.push_back(monitor_integer("monitor.window_ms", 0, 3600000, "... or this many milliseconds (first wins)",
                              &M::window_ms));
  k.push_back(monitor_integer("monitor.history", 1, 1 << 16, "windows the coordinator keeps", &M::history));
  k.push_back(section_text("monitor.policy", {"adaptive", "static"}, "transform placement policy",
                           &Config::monitor, &M::policy));
  k.push_back(
      monitor_fraction("monitor.low_water", "starving below this mean queue occupancy", &M::low_water));
  k.push_back(monitor_fraction("monitor.high_water", "queues full when their minimum is at or above",
                               &M::high_water));
  k.push_back(monitor_fraction("monitor.util_threshold", "accelerator idle below this utilization",
                               &M::util_threshold));
  k.push_back(
      monitor_fraction("monitor.util_busy", "accelerator busy at or above this utilization", &M::util_busy));
  k.push_back(monitor_integer("monitor.hysteresis", 1, 1000, "windows a rule must hold before a move",
                              &M::hysteresis));
  k.push_back(monitor_fraction("monitor.step", "accelerator share moved per move", &M::step));
  k.push_back(monitor_fraction("monitor.max_share", "most the adaptive policy offloads", &M::max_share));
  k.push_back(
      monitor_fraction("monitor.static_share", "the static policy's accelerator share", &M::static_share));
  k.push_back(
      monitor_fraction("monitor.augment_share",
                       "consumers starve on their augment stage when it would take this share of their "
                       "time on their CPUs",
                       &M::augment_share));
  k.push_back(monitor_fraction(
      "monitor.head_idle", "augment heads move to the transformation ranks while the busiest is busy below",
      &M::head_idle));
  k.push_back(
      monitor_fraction("monitor.head_busy", "... and back once one is busy at or above this", &M::head_busy));
  k.push_back(monitor_fraction("monitor.static_head_share",
                               "the static policy's share of batches whose augment head runs on the "
                               "transformation ranks",
                               &M::static_head_share));
  k.push_back(
      monitor_bool("monitor.rebalance", "let service ranks change roles at rebalance points", &M::rebalance));
  k.push_back(monitor_integer("monitor.rebalance_windows", 0, 1 << 20,
                              "0: rebalance at epoch boundaries; K: also every K windows",
                              &M::rebalance_windows));
  k.push_back(monitor_fraction(
      "monitor.role_idle",
      "transformers (R1), and two randomizers together (R3), below this busy fraction are idle",
      &M::role_idle));
  k.push_back(monitor_fraction("monitor.role_busy",
                               "transformers at or above this busy fraction are saturated", &M::role_busy));
  k.push_back(monitor_fraction("monitor.role_wait", "consumers starve waiting this fraction of their time",
                               &M::role_wait));
  k.push_back(monitor_fraction("monitor.role_min_hits",
                               "a cache server serving under this share of samples may become a transformer",
                               &M::role_min_hits));
  k.push_back(
      monitor_bool("monitor.role_randomizers",
                   "let an idle randomizer hand its pipelines to the coordinator's and transform (R3)",
                   &M::role_randomizers));
  k.push_back(section_text("monitor.role_policy", {"adaptive", "scripted"},
                           "who decides role moves: the rules R1-R3 or monitor.role_script", &Config::monitor,
                           &M::role_policy));
  k.push_back(section_text("monitor.role_script", {},
                           "scripted moves, e.g. 'epoch 1: rank 3 -> cache_server; epoch 2 batch 4: retire "
                           "randomizer 1' (docs/heterogeneous.md)",
                           &Config::monitor, &M::role_script));
}

}  // namespace ferry::config::detail
