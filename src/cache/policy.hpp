// Admission and eviction policies by name, and the next-use oracle that the clairvoyant policy consults.
#pragma once

#include <cstdint>
#include <string_view>

#include "cache/key.hpp"

namespace ferry::cache {

// static_fill: admit until a server is full, never evict (the best choice for uniformly shuffled epochs,
//              where any resident set is as good as any other and LRU thrashes).
// lru:         evict the least recently used entries; kept for comparison.
// clairvoyant: Belady's rule with bypass, from the future order every pipeline's seed determines.
enum class Policy { static_fill, lru, clairvoyant };

// The names config files and flags use, for error messages.
inline constexpr std::string_view kPolicyNames = "static, lru, clairvoyant";

// "static", "lru", "clairvoyant" -> out; false (out untouched) for anything else.
bool parse_policy(std::string_view text, Policy& out) noexcept;
const char* policy_name(Policy policy) noexcept;

inline constexpr std::uint64_t kNever = ~std::uint64_t{0};

// When a key is next needed, in a monotone time unit (smaller = sooner), or kNever. The randomizer implements
// it from every pipeline's seeded permutations. Contract: the answer is the key's first access strictly
// after the access being handled now, so a key that was just looked up answers its following use. Between
// two uses of a key its answer may only shrink (a farther horizon turns kNever into a time); it grows only
// through a use, and every use goes through Directory::find.
class NextUse {
 public:
  virtual ~NextUse() = default;
  virtual std::uint64_t next_use(const Key& key) const = 0;
};

}  // namespace ferry::cache
