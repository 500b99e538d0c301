// Shorthands for the placement policy tests: policy parameters by name, and pipelines as their consumers saw
// them (starving, fed, full, or not reported).
#pragma once

#include <optional>
#include <string>

#include "helpers.hpp"
#include "monitor/policy.hpp"

namespace ferry::monitor::testing {

inline constexpr std::optional<double> kNoAccelerator = std::nullopt;

inline PolicyParams with(std::string name = "adaptive") {
  PolicyParams p;
  p.name = std::move(name);
  return p;
}

// Shorthands: a starving pipeline (mean occupancy 0.1), a fed one (0.6, inside the dead band), a full one.
inline Pipe starving(std::uint32_t id = 0) {
  return {id, 0.1, 0.0};
}
inline Pipe fed(std::uint32_t id = 0) {
  return {id, 0.6, 0.4};
}
inline Pipe full(std::uint32_t id = 0) {
  return {id, 1.0, 0.95};
}
inline Pipe silent(std::uint32_t id = 0) {
  return {id, 0, 0, false};
}

}  // namespace ferry::monitor::testing
