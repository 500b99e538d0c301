#include "monitor/policy.hpp"

#include <algorithm>
#include <mutex>

#include "core/check.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "monitor/policy_common.hpp"

namespace ferry::monitor {

namespace {

void check_fraction(double value, std::string_view key) {
  if (!(value >= 0 && value <= 1)) throw ConfigError(str_cat(key, " must be in [0, 1], got ", value));
}

}  // namespace

void PolicyParams::validate() const {
  check_fraction(low_water, "monitor.low_water");
  check_fraction(high_water, "monitor.high_water");
  check_fraction(util_threshold, "monitor.util_threshold");
  check_fraction(util_busy, "monitor.util_busy");
  check_fraction(max_share, "monitor.max_share");
  check_fraction(static_share, "monitor.static_share");
  check_fraction(augment_share, "monitor.augment_share");
  check_fraction(head_idle, "monitor.head_idle");
  check_fraction(head_busy, "monitor.head_busy");
  check_fraction(static_head_share, "monitor.static_head_share");
  // The gaps between the marks are the dead band in which nothing moves: without it the policy would flap.
  if (!(low_water < high_water)) {
    throw ConfigError(
        str_cat("monitor.low_water (", low_water, ") must be below monitor.high_water (", high_water, ")"));
  }
  if (!(util_threshold < util_busy)) {
    throw ConfigError(str_cat("monitor.util_threshold (", util_threshold,
                              ") must be below monitor.util_busy (", util_busy, ")"));
  }
  if (!(head_idle < head_busy)) {
    throw ConfigError(
        str_cat("monitor.head_idle (", head_idle, ") must be below monitor.head_busy (", head_busy, ")"));
  }
  if (hysteresis == 0) throw ConfigError("monitor.hysteresis must be at least 1 window");
  if (!(step > 0 && step <= 1)) throw ConfigError(str_cat("monitor.step must be in (0, 1], got ", step));
  if (share_to_units(step) == 0)
    throw ConfigError(str_cat("monitor.step ", step, " is below 1/", kShareUnits));
}

PolicyRegistry& PolicyRegistry::global() {
  static PolicyRegistry registry;
  static std::once_flag once;
  std::call_once(once, [] {
    registry.add("adaptive", make_adaptive_policy);
    registry.add("static", make_static_policy);
  });
  return registry;
}

void PolicyRegistry::add(std::string name, PolicyFactory factory) {
  std::lock_guard lock(mutex_);
  FERRY_ENFORCE(!factories_.contains(name), "policy '", name, "' registered twice");
  factories_.emplace(std::move(name), std::move(factory));
}

std::unique_ptr<Policy> PolicyRegistry::make(const PolicyParams& params) const {
  params.validate();
  PolicyFactory factory;
  {
    std::lock_guard lock(mutex_);
    const auto it = factories_.find(params.name);
    if (it == factories_.end()) {
      std::string known;
      for (const auto& [name, f] : factories_) known += (known.empty() ? "" : ", ") + name;
      throw ConfigError(str_cat("monitor.policy: unknown policy '", params.name, "' (known: ", known, ")"));
    }
    factory = it->second;
  }
  return factory(params);
}

std::vector<std::string> PolicyRegistry::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, f] : factories_) out.push_back(name);
  return out;
}

std::unique_ptr<Policy> make_policy(const PolicyParams& params) {
  return PolicyRegistry::global().make(params);
}

namespace detail {

std::vector<PipelineInput> gather(const std::vector<PipelineSummary>& summaries,
                                  const std::map<std::uint32_t, PipelineState>& previous, Stage stage) {
  std::map<std::uint32_t, PipelineInput> by_id;
  for (const auto& [id, state] : previous) {
    by_id[id].pipeline = id;
    by_id[id].stage = stage;
    by_id[id].state = state;
  }
  for (const auto& s : summaries) {
    auto& in = by_id[s.pipeline];
    in.pipeline = s.pipeline;
    in.stage = stage;
    in.summary = &s;
    for (const auto& op : s.ops) {
      // Capability can only be lost (a transformer without the kernel joined), never assumed.
      const auto [it, fresh] = in.state.ops.emplace(op.op, op.accelerator_capable);
      if (!fresh) it->second = it->second && op.accelerator_capable;
    }
  }
  std::vector<PipelineInput> out;
  out.reserve(by_id.size());
  for (auto& [id, in] : by_id) out.push_back(std::move(in));
  return out;
}

void place(JobList& jobs, const PipelineInput& in, std::uint32_t units, Reason reason,
           bool accelerator_present) {
  for (const auto& [op, capable] : in.state.ops) {
    OpPlacement p;
    p.pipeline = in.pipeline;
    p.stage = in.stage;
    p.op = op;
    if (!accelerator_present) {
      p.reason = Reason::no_accelerator;
    } else if (!capable) {
      p.reason = Reason::not_capable;
    } else {
      p.accelerator_units = units;
      p.reason = reason;
    }
    jobs.ops.push_back(p);
  }
}

}  // namespace detail

OpPlacement placement_before_jobs(const PolicyParams& params, std::uint32_t pipeline, Stage stage) noexcept {
  OpPlacement placement;
  placement.pipeline = pipeline;
  placement.stage = stage;
  const double share = stage == Stage::head ? params.static_head_share : params.static_share;
  placement.accelerator_units = params.name == "static" ? share_to_units(share) : 0;
  placement.reason = params.name == "static" ? Reason::fixed : Reason::no_data;
  return placement;
}

}  // namespace ferry::monitor
