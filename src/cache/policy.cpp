#include "cache/policy.hpp"

namespace ferry::cache {

namespace {

struct PolicyName {
  std::string_view name;
  Policy policy;
};

constexpr PolicyName kPolicies[] = {
    {"static", Policy::static_fill},
    {"lru", Policy::lru},
    {"clairvoyant", Policy::clairvoyant},
};

}  // namespace

bool parse_policy(std::string_view text, Policy& out) noexcept {
  for (const PolicyName& entry : kPolicies) {
    if (entry.name == text) {
      out = entry.policy;
      return true;
    }
  }
  return false;
}

const char* policy_name(Policy policy) noexcept {
  switch (policy) {
    case Policy::static_fill:
      return "static";
    case Policy::lru:
      return "lru";
    case Policy::clairvoyant:
      return "clairvoyant";
  }
  return "unknown";
}

}  // namespace ferry::cache
